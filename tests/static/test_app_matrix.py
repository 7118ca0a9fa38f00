"""Every construct in every kind of app a user has, two of each in one stack, and resources shared across stacks.

For each app variant (a bare ``cdk.App()`` or cdk.json's recommended flags; env-agnostic or
environment-bound stacks) one app holds:

* ``Shared``: what an application already owns (a KMS key, an alarm topic, a bucket, a VPC and a security
  group);
* ``Events``: two of every construct, using what ``Shared`` owns: the shared key on a queue and a stream,
  the shared ``AlarmTopic`` passed as the construct itself, the shared bucket as a StreamToS3 destination,
  a broker in the shared VPC reachable from the shared group;
* ``Legacy``: a queue owned by another team's stack, subscribed to a FanOut of ``Events``.

Each variant synthesizes once (cdk-nag on); the tests read the result.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import cfnlint.api
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from cdk_nag import AwsSolutionsChecks

from decoupling_constructs import AlarmTopic, BrokerEngine, FanOut, MessageBroker, ReliableQueue, StreamToS3
from decoupling_constructs._security import acknowledge_checkov
from decoupling_constructs.brokers import isolated_vpc
from stacks.stream_stack import hardened_bucket
from tests.static.test_checkov import run_checkov
from tests.static.test_reference_stacks import LINT_REGIONS, synth_with_nag, violations_in
from tests.unit.cdk_helpers import APP_VARIANTS, new_app, stack_env

STACK_IDS = ("Shared", "Events", "Legacy")


def variants(*names: str) -> list[Any]:
    """The variants as params; one xdist worker per environment kind builds both of its apps once."""
    return [pytest.param(name, marks=pytest.mark.xdist_group(f"app-matrix-{name.split('-')[1]}")) for name in names]


VARIANTS = variants(*APP_VARIANTS)


def build(variant: str, outdir: Path) -> tuple[dict[str, cdk.Stack], dict[str, Any]]:
    app = new_app(variant, outdir=str(outdir))
    env = stack_env(variant)
    shared = cdk.Stack(app, "Shared", env=env)
    # The application's own buckets take access logs by bucket policy, as AWS recommends, in every app.
    shared.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
    key = kms.Key(shared, "Key", enable_key_rotation=True, removal_policy=cdk.RemovalPolicy.RETAIN)
    alarms = AlarmTopic(shared, "Alarms")
    logs_bucket = hardened_bucket(shared, "ArchiveLogs")
    no_self_logging = "The access-log bucket of the archive bucket does not log into itself."
    cdk.Validations.of(logs_bucket).acknowledge(cdk.Acknowledgment(id="AwsSolutions-S1", reason=no_self_logging))
    acknowledge_checkov(logs_bucket, "CKV_AWS_18", no_self_logging)
    archive = hardened_bucket(shared, "Archive", server_access_logs_bucket=logs_bucket)
    vpc = isolated_vpc(shared, "Vpc")
    clients = ec2.SecurityGroup(shared, "Clients", vpc=vpc, description="The application instances")

    events = cdk.Stack(app, "Events", env=env)
    local_alarms = AlarmTopic(events, "LocalAlarms")
    jobs = ReliableQueue(events, "Jobs", alarm_topic=alarms)
    orders = ReliableQueue(events, "Orders", fifo=True, encryption_key=key, alarm_topic=alarms.topic)
    notifications = FanOut(events, "Notifications", service_publishers=["s3.amazonaws.com"], alarm_topic=alarms)
    notifications.add_queue("Billing")
    notifications.add_queue(
        "Shipping", filter_policy={"region": sns.SubscriptionFilter.string_filter(allowlist=["eu"])}
    )
    legacy_stack = cdk.Stack(app, "Legacy", env=env)
    notifications.add_existing_queue(ReliableQueue(legacy_stack, "Inbox").queue)  # a queue of another stack
    notifications.add_existing_queue(jobs.queue)  # two ReliableQueue(...).queue, both called "Queue"
    notifications.add_existing_queue(ReliableQueue(events, "Audit", alarm_topic=alarms).queue)
    ledger = FanOut(events, "Ledger", fifo=True, encryption_key=key, alarm_topic=local_alarms.topic)
    ledger.add_queue("Accounting")
    ledger.add_existing_queue(orders.queue)
    StreamToS3(events, "Clicks", shard_count=2, encryption_key=key, alarm_topic=alarms)
    StreamToS3(events, "Audit2", existing_bucket=archive, alarm_topic=local_alarms)
    MessageBroker(events, "Orders2", alarm_topic=alarms)
    MessageBroker(events, "Events", engine=BrokerEngine.RABBITMQ, vpc=vpc, allowed_peers=[clients], alarm_topic=alarms)
    stacks = {"Shared": shared, "Events": events, "Legacy": legacy_stack}
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    report = synth_with_nag(app)
    assembly = app.synth()
    templates = {name: assembly.get_stack_artifact(stack.artifact_id).template for name, stack in stacks.items()}
    return stacks, {"report": report, "templates": templates}


_BUILT: dict[str, tuple[dict[str, cdk.Stack], dict[str, Any]]] = {}


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``matrix(variant)``: that variant's stacks and synthesized result, built once per worker."""

    def get(variant: str) -> tuple[dict[str, cdk.Stack], dict[str, Any]]:
        if variant not in _BUILT:
            _BUILT[variant] = build(variant, tmp_path_factory.mktemp(variant))
        return _BUILT[variant]

    return get


@pytest.mark.parametrize("variant", VARIANTS)
def test_cdk_nag_finds_nothing_unacknowledged(matrix, variant: str) -> None:
    _, result = matrix(variant)
    for stack_id in STACK_IDS:
        found = violations_in(result["report"], stack_id)
        # CDK's advice to the app (not to a construct) when it has cross-stack references and no flag for them.
        assert [v for v in found if "crossStackReferencesDefaultStrong" not in v] == []


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("stack_id", STACK_IDS)
def test_cfn_lint_finds_nothing(matrix, variant: str, stack_id: str) -> None:
    _, result = matrix(variant)
    template = json.dumps(result["templates"][stack_id])
    matches = cfnlint.api.lint(template, config=cfnlint.api.ManualArgs(regions=LINT_REGIONS))
    assert [f"{m.rule.id} {m.message} ({'/'.join(map(str, m.path))})" for m in matches] == []


# checkov on one variant per kind of environment: the flags change nothing the constructs build (the test
# below), and one checkov run costs seconds.
@pytest.mark.parametrize("variant", variants("flags-agnostic", "flags-bound"))
def test_checkov_finds_nothing_unacknowledged(matrix, variant: str, tmp_path: Path) -> None:
    stacks, _ = matrix(variant)
    scans = run_checkov(stacks, tmp_path)
    assert sorted(scans) == sorted(STACK_IDS)
    assert {name: scan.failed for name, scan in scans.items()} == {name: [] for name in STACK_IDS}
    assert scans["Events"].passed > 0


PARTITION = {"Ref": "AWS::Partition"}


def _normalized(value: Any) -> Any:
    """Two flags are read per stack, so no construct can pin them; what they change means the same:

    * ``@aws-cdk/aws-iam:minimizePolicies`` sorts the actions of an IAM statement: compare them sorted;
    * ``@aws-cdk/core:enablePartitionLiterals`` writes "aws" instead of ``{"Ref": "AWS::Partition"}`` in an
      environment-bound stack: compare with the literal, joined.
    """
    if isinstance(value, list):
        return [_normalized(item) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        merged: list[Any] = []
        for part in (_normalized("aws" if part == PARTITION else part) for part in parts):
            if isinstance(part, str) and merged and isinstance(merged[-1], str):
                merged[-1] += separator + part
            else:
                merged.append(part)
        return merged[0] if len(merged) == 1 and isinstance(merged[0], str) else {"Fn::Join": [separator, merged]}
    return {
        key: sorted(item) if key == "Action" and isinstance(item, list) else _normalized(item)
        for key, item in value.items()
    }


def _comparable(template: dict[str, Any]) -> dict[str, Any]:
    """The template without what differs by app and not by construct: CDK's metadata, see :func:`_normalized`."""
    resources = {
        logical_id: _normalized({key: value for key, value in resource.items() if key != "Metadata"})
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] != "AWS::CDK::Metadata"
    }
    return {**{k: v for k, v in template.items() if k not in ("Resources", "Conditions")}, "Resources": resources}


@pytest.mark.parametrize(
    "env", [pytest.param(env, marks=pytest.mark.xdist_group(f"app-matrix-{env}")) for env in ("agnostic", "bound")]
)
def test_feature_flags_do_not_change_what_the_constructs_build(matrix, env: str) -> None:
    """The constructs pin the flags that would change them: a bare App and cdk.json's flags give the same
    templates (the Shared stack's plain L2s may differ; only the constructs' stack is compared)."""
    bare = _comparable(matrix(f"bare-{env}")[1]["templates"]["Events"])
    flags = _comparable(matrix(f"flags-{env}")[1]["templates"]["Events"])
    assert bare == flags


@pytest.mark.parametrize("variant", VARIANTS)
def test_names_never_collide(matrix, variant: str) -> None:
    _, result = matrix(variant)
    names: list[str] = []
    for template in result["templates"].values():
        for resource in template["Resources"].values():
            props = resource.get("Properties", {})
            for key in ("QueueName", "TopicName", "BrokerName", "PolicyName", "AlarmName"):
                if isinstance(props.get(key), str):
                    names.append(f"{resource['Type']}:{props[key]}")
    assert len(names) > 20
    assert sorted(names) == sorted(set(names))


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_queue_of_another_stack_is_subscribed_from_its_own_stack(matrix, variant: str) -> None:
    """No cycle: the other stack's queue gets its subscription and policy in its own stack, which alone
    depends on Events (as with aws-cdk-lib's SqsSubscription)."""
    stacks, result = matrix(variant)
    subscriptions = [
        r for r in result["templates"]["Legacy"]["Resources"].values() if r["Type"] == "AWS::SNS::Subscription"
    ]
    assert len(subscriptions) == 1
    assert stacks["Events"] in stacks["Legacy"].dependencies
    assert stacks["Legacy"] not in stacks["Events"].dependencies
    assert stacks["Shared"] in stacks["Events"].dependencies


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_alarm_notifies_someone(matrix, variant: str) -> None:
    """alarm_topic given as the AlarmTopic construct or as its topic: every alarm has actions."""
    _, result = matrix(variant)
    alarms = [
        r["Properties"]
        for r in result["templates"]["Events"]["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    ]
    assert len(alarms) > 20
    assert all(alarm.get("AlarmActions") and alarm.get("OKActions") for alarm in alarms)
