"""One contract over every construct of the library.

* ``alarm_topic`` and ``alarm_settings``' actions reach every alarm the construct creates, on ALARM and OK;
* every alarm in the template is in the construct's ``alarms`` (or a sub-construct's, such as a FanOut's
  subscriber queues), keyed by one of its ``ALARM_KEYS``, and named ``<path in stack>/<key>``;
* ``create_alarms=False`` leaves no alarm;
* ``removal_policy`` reaches every stateful resource (default RETAIN);
* every ``grant*`` method covers the construct's KMS key when it has one.

A construct added to the library is added to ``CASES``; ``test_every_public_construct_is_covered`` fails
until it is.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template
from constructs import Construct

import decoupling_constructs
from decoupling_constructs import (
    AlarmSettings,
    AlarmTopic,
    FanOut,
    MessageBroker,
    QueueFunction,
    QueueWorkers,
    ReliableQueue,
    StreamFunction,
    StreamToHttpEndpoint,
    StreamToS3,
    SubscribedQueue,
)
from tests.unit.cdk_helpers import lid
from tests.unit.test_queue_workers import WORKER, private_vpc

# Resource types that hold data or keys: what removal_policy must reach.
STATEFUL = {
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::KMS::Key",
    "AWS::S3::Bucket",
    "AWS::Kinesis::Stream",
    "AWS::Logs::LogGroup",
    "AWS::SecretsManager::Secret",
    "AWS::AmazonMQ::Broker",
}


@dataclass(frozen=True)
class Case:
    """``build(stack, **props)`` makes the construct under test (id ``Subject``) from the contract props."""

    name: str
    build: Callable[..., Any]
    covers: tuple[type, ...]
    alarms: bool = True
    removal_policy: bool = True
    grants: tuple[str, ...] = ()


def _queue_workers(stack: cdk.Stack, **props: Any) -> QueueWorkers:
    vpc = private_vpc(stack)
    # The queue is not the subject: its own alarms are left out.
    queue = ReliableQueue(stack, "Jobs", encryption_key=props.pop("encryption_key", None), create_alarms=False)
    options = {"average_processing_time": Duration.millis(100), "latency_target": Duration.seconds(10)}
    return QueueWorkers(stack, "Subject", queue=queue, vpc=vpc, **options, **WORKER, **props)


def _function(stack: cdk.Stack) -> lambda_.Function:
    return lambda_.Function(
        stack,
        "Fn",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {'batchItemFailures': []}\n"),
        timeout=Duration.seconds(20),
    )


def _queue_function(stack: cdk.Stack, **props: Any) -> QueueFunction:
    function = _function(stack)
    if "removal_policy" in props:  # the queue it creates is the stateful part
        props["queue_props"] = {"removal_policy": props.pop("removal_policy")}
    return QueueFunction(stack, "Subject", function=function, **props)


def _stream_function(stack: cdk.Stack, **props: Any) -> StreamFunction:
    stream = kinesis.Stream(stack, "Clicks", shard_count=1)
    return StreamFunction(stack, "Subject", function=_function(stack), stream=stream, **props)


def _fan_out(stack: cdk.Stack, **props: Any) -> FanOut:
    fan_out = FanOut(stack, "Subject", **props)
    fan_out.add_queue("Billing")  # its subscriber queues inherit alarms and removal_policy
    return fan_out


def _subscribed_queue(stack: cdk.Stack, **props: Any) -> SubscribedQueue:
    """Its ReliableQueue takes the contract props (alarms, removal_policy) through ``queue_props``."""
    return SubscribedQueue(stack, "Subject", topic_arn="arn:aws:sns:us-east-1:111111111111:orders", queue_props=props)


CASES = [
    Case(
        "ReliableQueue",
        lambda stack, **props: ReliableQueue(stack, "Subject", **props),
        (ReliableQueue,),
        # grant_purge is left out: PurgeQueue reads no message, so it needs no key (aws-cdk-lib's too).
        grants=("grant_send_messages", "grant_consume_messages"),
    ),
    Case("FanOut", _fan_out, (FanOut,), grants=("grant_publish",)),
    Case(
        "StreamToS3",
        lambda stack, **props: StreamToS3(stack, "Subject", **props),
        (StreamToS3,),
        grants=("grant_read", "grant_write"),
    ),
    Case(
        "StreamToHttpEndpoint",
        lambda stack, **props: StreamToHttpEndpoint(stack, "Subject", url="https://ingest.example.com/in", **props),
        (StreamToHttpEndpoint,),
        grants=("grant_write",),
    ),
    Case(
        "MessageBroker",
        lambda stack, **props: MessageBroker(stack, "Subject", **props),
        (MessageBroker,),
        grants=("grant_read_credentials",),
    ),
    Case("QueueFunction", _queue_function, (QueueFunction,)),
    Case("SubscribedQueue", _subscribed_queue, (SubscribedQueue,)),
    # The on-failure queue it creates keeps ReliableQueue's RETAIN; it takes no removal_policy of its own.
    Case("StreamFunction", _stream_function, (StreamFunction,), removal_policy=False),
    Case("QueueWorkers", _queue_workers, (QueueWorkers,), removal_policy=False),  # no stateful resource
    Case(
        "AlarmTopic",
        lambda stack, **props: AlarmTopic(stack, "Subject", **props),
        (AlarmTopic,),
        alarms=False,
    ),
]


def _stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Contract")


def _subject_alarms(construct: Any) -> dict[str, Any]:
    """Every alarm reachable from ``construct.alarms`` and its sub-constructs' ``alarms``, by logical id."""
    stack = cdk.Stack.of(construct)
    found: dict[str, Any] = {}
    for child in construct.node.find_all():
        for alarm in dict(getattr(child, "alarms", None) or {}).values():
            found[lid(stack, alarm)] = alarm
    return found


@pytest.mark.parametrize("case", [c for c in CASES if c.alarms], ids=lambda c: c.name)
def test_alarm_topic_and_actions_reach_every_alarm_and_every_alarm_is_in_alarms(case: Case) -> None:
    stack = _stack()
    topic, pager = sns.Topic(stack, "Alarms"), sns.Topic(stack, "Pager")
    settings = AlarmSettings(alarm_actions=[cw_actions.SnsAction(pager)], ok_actions=[cw_actions.SnsAction(pager)])
    subject = case.build(stack, alarm_topic=topic, alarm_settings=settings)
    alarms = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm")
    assert alarms, f"{case.name} creates no alarm"
    expected = [{"Ref": lid(stack, topic)}, {"Ref": lid(stack, pager)}]
    for logical_id, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == expected, logical_id
        assert alarm["Properties"]["OKActions"] == expected, logical_id
    assert set(alarms) == set(_subject_alarms(subject))
    for key, alarm in subject.alarms.items():
        # A key, or a family member such as a broker instance's "cpu_utilization_1".
        family, _, number = key.rpartition("_")
        assert key in subject.ALARM_KEYS or (family in subject.ALARM_KEYS and number.isdigit()), key
        # Named by its owner's path in the stack (the subject or a part of it, like a created queue).
        owner = alarm.node.scope.node.path.removeprefix(stack.node.path + "/")
        assert owner.startswith("Subject")
        assert stack.resolve(alarm.node.default_child.alarm_name) == f"{owner}/{key}"


@pytest.mark.parametrize("case", [c for c in CASES if c.alarms], ids=lambda c: c.name)
def test_create_alarms_false_leaves_none(case: Case) -> None:
    stack = _stack()
    subject = case.build(stack, alarm_topic=sns.Topic(stack, "Alarms"), create_alarms=False)
    Template.from_stack(stack).resource_count_is("AWS::CloudWatch::Alarm", 0)
    assert not _subject_alarms(subject)


@pytest.mark.parametrize("policy", [None, RemovalPolicy.DESTROY], ids=["default", "DESTROY"])
@pytest.mark.parametrize("case", [c for c in CASES if c.removal_policy], ids=lambda c: c.name)
def test_removal_policy_reaches_every_stateful_resource(case: Case, policy: RemovalPolicy | None) -> None:
    stack = _stack()
    case.build(stack, **({"removal_policy": policy} if policy else {}))
    expected = "Delete" if policy is RemovalPolicy.DESTROY else "Retain"
    resources = Template.from_stack(stack).to_json()["Resources"]
    stateful = {k: r for k, r in resources.items() if r["Type"] in STATEFUL}
    assert stateful, f"{case.name} has no stateful resource"
    for logical_id, resource in stateful.items():
        assert resource.get("DeletionPolicy") == expected, (logical_id, resource["Type"])


def _statements(policies: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]


def _kms(statement: dict[str, Any]) -> bool:
    return any(str(action).startswith("kms:") for action in _list(statement["Action"]))


def _principals(statement: dict[str, Any]) -> list[Any]:
    return _list(statement.get("Principal", {}).get("AWS", []))


@pytest.mark.parametrize(
    ("case", "grant"), [(c, g) for c in CASES for g in c.grants], ids=lambda x: getattr(x, "name", x)
)
def test_every_grant_covers_the_key(case: Case, grant: str) -> None:
    stack = _stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    subject = case.build(stack, encryption_key=key)
    role = iam.Role(stack, "Grantee", assumed_by=iam.AccountRootPrincipal())
    getattr(subject, grant)(role)
    template = Template.from_stack(stack)
    key_arn, role_arn = stack.resolve(key.key_arn), stack.resolve(role.role_arn)
    # In the grantee's IAM policy, on the key ...
    policies = template.find_resources("AWS::IAM::Policy")
    in_role = any(key_arn in _list(s["Resource"]) and _kms(s) for s in _statements(policies))
    # ... or in the key's policy, for the grantee (aws-cdk-lib does this for a key in the same stack, e.g.
    # a secret's key through Secrets Manager).
    key_policy = template.find_resources("AWS::KMS::Key")[lid(stack, key)]["Properties"]["KeyPolicy"]
    in_key = any(_kms(s) and role_arn in _principals(s) for s in key_policy["Statement"])
    assert in_role or in_key, f"{case.name}.{grant} does not cover the key"


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_every_public_construct_is_covered() -> None:
    covered = {cls for case in CASES for cls in case.covers}
    exported = [getattr(decoupling_constructs, name) for name in decoupling_constructs.__all__]
    public = {cls for cls in exported if inspect.isclass(cls) and issubclass(cls, Construct)}
    assert public <= covered, f"not in CASES: {sorted(c.__name__ for c in public - covered)}"
