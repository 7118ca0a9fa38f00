"""Static analysis of EVERY stack of the reference app: cfn-lint and cdk-nag AwsSolutions.

Parametrized over ``stacks.REFERENCE_STACKS``, so a new reference stack is covered
without new test code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import aws_cdk as cdk
import cfnlint.api
import pytest
from aws_cdk import aws_sqs as sqs
from cdk_nag import AwsSolutionsChecks

from stacks import REFERENCE_STACKS, app_context, build_reference_app

# cfn-lint checks region-specific resource support; the stacks are region-agnostic.
LINT_REGIONS = ["us-east-1", "eu-west-1"]
MIN_REASON_LENGTH = 40  # an acknowledgment must explain itself, not just name the rule
# The prefix of an acknowledged rule in the construct metadata: 'annotation::' up to aws-cdk-lib 2.261,
# 'Annotation::' from 2.262 (make test-floor runs these tests on the oldest supported release).
ANNOTATION_PREFIX = re.compile(r"^annotation::", re.IGNORECASE)


def synth_with_nag(app: cdk.App) -> dict:
    """Synthesize ``app`` (cdk-nag plugin on) and return its validation report."""
    outdir = Path(app.outdir)
    try:
        app.synth()
    except RuntimeError as error:  # the plugin fails synthesis when it finds a violation
        assert "ValidationFailed" in str(error), error
    return json.loads((outdir / "validation-report.json").read_text())


@pytest.fixture(scope="module")
def nagged(tmp_path_factory: pytest.TempPathFactory) -> tuple[cdk.App, dict[str, cdk.Stack], dict]:
    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stacks = build_reference_app(cdk.App(outdir=str(outdir), context=app_context()), nag=True)
    return app, stacks, synth_with_nag(app)


def violations_in(report: dict, stack_id: str) -> list[str]:
    return [
        f"{violation['ruleName']} at {construct['constructPath']}: {violation['description'][:120]}"
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
        if construct["constructPath"].split("/")[0] == stack_id
    ]


@pytest.mark.parametrize("stack_id", REFERENCE_STACKS)
def test_cdk_nag_finds_nothing_unacknowledged(nagged, stack_id: str) -> None:
    _, _, report = nagged
    assert violations_in(report, stack_id) == []


@pytest.mark.parametrize("stack_id", REFERENCE_STACKS)
def test_cfn_lint_zero_errors_and_warnings(reference_templates: dict[str, dict], stack_id: str) -> None:
    template = json.dumps(reference_templates[stack_id])
    matches = cfnlint.api.lint(template, config=cfnlint.api.ManualArgs(regions=LINT_REGIONS))
    assert [f"{m.rule.id} {m.message} ({'/'.join(map(str, m.path))})" for m in matches] == []


# Every acknowledgment in the reference app, reviewed: (construct path, rule). A new one fails
# the test until it is added here, so none slips in unread.
REVIEWED_ACKNOWLEDGMENTS = {
    # StreamProcessor: the two StreamToS3 of its reference stack (the same reasons as DecouplingStreamToS3's), and
    # the Flink role's logging grants, as the Managed Flink developer guide's logging policy writes them.
    *(
        (f"DecouplingStreamProcessor/{name}/{child}", rule)
        for name, bucket in (("PageViews", "PageViewsBucket7F2F894D"), ("ViewCounts", "ViewCountsBucketDE655BD1"))
        for child, rule in (
            ("AccessLogBucket", "AwsSolutions-S1"),
            ("DeliveryStream", "AwsSolutions-KDF1"),
            ("DeliveryPolicy", f"AwsSolutions-IAM5[Resource::<{bucket}.Arn>/data/year=*]"),
            ("DeliveryPolicy", f"AwsSolutions-IAM5[Resource::<{bucket}.Arn>/errors/*]"),
        )
    ),
    ("DecouplingStreamProcessor/CountViews/Policy", "AwsSolutions-IAM5[Resource::*]"),
    # SNS subscription DLQs: cdk-nag knows DLQs only from SQS redrive policies.
    ("DecouplingFanOut/OrderEvents/UndeliverableQueue", "AwsSolutions-SQS3"),
    ("DecouplingFanOut/Ledger/UndeliverableQueue", "AwsSolutions-SQS3"),
    # Server-access-log buckets do not log into themselves.
    ("DecouplingStreamToS3/Clickstream/AccessLogBucket", "AwsSolutions-S1"),
    ("DecouplingStreamToS3/ArchiveAccessLogs", "AwsSolutions-S1"),
    ("DecouplingFanOut/ArchiveAccessLogs", "AwsSolutions-S1"),
    # Firehose SSE exists for Direct PUT sources only; the source stream and the bucket are encrypted.
    ("DecouplingStreamToS3/Clickstream/DeliveryStream", "AwsSolutions-KDF1"),
    ("DecouplingStreamToS3/AuditTrail/DeliveryStream", "AwsSolutions-KDF1"),
    # Amazon MQ users cannot be rotated by a Secrets Manager rotation function without custom code.
    ("DecouplingMessageBroker/Orders/AdminSecret", "AwsSolutions-SMG4"),
    ("DecouplingMessageBroker/Events/AdminSecret", "AwsSolutions-SMG4"),
    # The handlers' runtime follows the Powertools layer they are tested with (python3.13).
    ("DecouplingConsumers/ShipmentsHandler", "AwsSolutions-L1"),
    ("DecouplingConsumers/InvoicesHandler", "AwsSolutions-L1"),
    ("DecouplingConsumers/ClicksHandler", "AwsSolutions-L1"),
    # QueueWorkers: scaling is routine, the backlog alarm reports what matters; Session Manager's actions
    # take no resource ARN.
    ("DecouplingQueueWorkers/RenderFleet/Group", "AwsSolutions-AS3"),
    ("DecouplingQueueWorkers/RenderFleet/Role/DefaultPolicy", "AwsSolutions-IAM5[Resource::*]"),
    # Firehose names the objects: PutObject on each prefix's objects, nothing wider.
    (
        "DecouplingStreamToS3/Clickstream/DeliveryPolicy",
        "AwsSolutions-IAM5[Resource::<ClickstreamBucket90A67619.Arn>/data/year=*]",
    ),
    (
        "DecouplingStreamToS3/Clickstream/DeliveryPolicy",
        "AwsSolutions-IAM5[Resource::<ClickstreamBucket90A67619.Arn>/errors/*]",
    ),
    ("DecouplingStreamToS3/AuditTrail/DeliveryPolicy", "AwsSolutions-IAM5[Resource::<ArchiveDA4CB258.Arn>/audit/*]"),
    ("DecouplingFanOut/ArchiveDeliveryPolicy", "AwsSolutions-IAM5[Resource::<ArchiveDA4CB258.Arn>/orders/*]"),
    ("DecouplingFanOut/ArchiveDeliveryPolicy", "AwsSolutions-IAM5[Resource::<ArchiveDA4CB258.Arn>/orders-errors/*]"),
    (
        "DecouplingStreamToS3/AuditTrail/DeliveryPolicy",
        "AwsSolutions-IAM5[Resource::<ArchiveDA4CB258.Arn>/audit-errors/*]",
    ),
    # StreamToHttpEndpoint: the key is the endpoint owner's to rotate; the access-log bucket cannot log itself;
    # Firehose SSE is for Direct PUT only (the source stream is encrypted); Firehose names its backup objects.
    ("DecouplingStreamToHttpEndpoint/EndpointAccessKey", "AwsSolutions-SMG4"),
    ("DecouplingStreamToHttpEndpoint/BackupAccessLogs", "AwsSolutions-S1"),
    ("DecouplingStreamToHttpEndpoint/Events/DeliveryStream", "AwsSolutions-KDF1"),
    (
        "DecouplingStreamToHttpEndpoint/Events/DeliveryPolicy",
        "AwsSolutions-IAM5[Resource::<Backups9A29A52D.Arn>/http-endpoint-backup/*]",
    ),
    (
        "DecouplingStreamToHttpEndpoint/Events/DeliveryPolicy",
        "AwsSolutions-IAM5[Resource::<Backups9A29A52D.Arn>/http-endpoint-errors/*]",
    ),
}


def test_acknowledgments_are_reviewed_narrow_and_explained(nagged) -> None:
    _, stacks, _ = nagged
    found = set()
    for stack in stacks.values():
        for construct in stack.node.find_all():
            for entry in construct.node.metadata:
                if entry.type != cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                    continue
                for rule, reason in entry.data.items():
                    rule_id = ANNOTATION_PREFIX.sub("", rule)
                    if not rule_id.startswith("AwsSolutions-"):
                        continue  # aws-cdk-lib's own acknowledgments of its template validation
                    assert construct is not stack, "acknowledge on a resource, not a whole stack"
                    assert len(reason) >= MIN_REASON_LENGTH, f"{construct.node.path}: {rule}: thin reason {reason!r}"
                    found.add((construct.node.path, rule_id))
    assert found == REVIEWED_ACKNOWLEDGMENTS


def test_the_nag_check_is_live(tmp_path: Path) -> None:
    """Guards the two tests above: a known-bad queue must be reported, or they prove nothing."""
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Bad")
    sqs.Queue(stack, "Plain", encryption=sqs.QueueEncryption.UNENCRYPTED)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    found = violations_in(synth_with_nag(app), "Bad")
    assert {v.split(" ")[0] for v in found} >= {"AwsSolutions-SQS2", "AwsSolutions-SQS3", "AwsSolutions-SQS4"}


def test_cfn_lint_is_live() -> None:
    """A template with a wrong property type must be reported."""
    bad = {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": "soon"}}}}
    assert cfnlint.api.lint(json.dumps(bad), config=cfnlint.api.ManualArgs(regions=LINT_REGIONS))


def test_alarm_names_are_unique_across_the_reference_stacks(reference_templates: dict[str, dict]) -> None:
    """Every reference stack deploys into one account and region (the demo, the emulator tests): an alarm
    name (``<path in stack>/<key>``, without the stack's name) used twice would fail the second deploy."""
    names = [
        json.dumps(resource["Properties"]["AlarmName"])
        for template in reference_templates.values()
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    ]
    assert names
    assert len(names) == len(set(names)), sorted(name for name in names if names.count(name) > 1)
