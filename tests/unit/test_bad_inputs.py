"""Every bad input a hurried user tries, one row each: a ValueError or TypeError that names the construct
(class and path) and the parameter, raised before any jsii call. Never a raw jsii error, an
AttributeError, or silence.

Rows build in a bare ``cdk.App()`` (no feature flags): nothing here depends on them. Wrong types raise
``PropTypeError``, a TypeError that is also a ValueError.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import boto3
import pytest
from aws_cdk import Duration, RemovalPolicy, Size, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from decoupling_constructs import (
    AlarmOptions,
    AlarmSettings,
    AlarmTopic,
    BrokerEngine,
    DeliveryStatusLogging,
    DeploymentMode,
    FanOut,
    FlinkCode,
    HttpDeliveryPolicy,
    LambdaTransform,
    MaintenanceWindow,
    MessageBroker,
    QueueFunction,
    QueueWorkers,
    ReliableQueue,
    StreamFunction,
    StreamProcessor,
    StreamToHttpEndpoint,
    StreamToOpenSearch,
    StreamToS3,
    Throughput,
)
from decoupling_constructs._validate import PropTypeError
from decoupling_constructs.runtime import (
    FirehoseHttpReceiver,
    QueueConsumer,
    QueueProducer,
    SnsReceiver,
    StreamProducer,
    TopicPublisher,
    Transformed,
)
from tests.unit.test_queue_workers import WORKER

PATH = "'T/X'"  # every construct row builds X in stack T


def stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "T")


def vpc(scope: cdk.Stack) -> ec2.Vpc:
    return ec2.Vpc(
        scope,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC),
            ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        ],
        restrict_default_security_group=False,
    )


@dataclass(frozen=True)
class Row:
    """``build(stack)`` must raise; ``names`` must all appear in the message."""

    id: str
    build: Callable[[cdk.Stack], Any]
    names: tuple[str, ...]


def show(value: Any) -> str:
    """A test id part that is the same in every xdist worker (no memory addresses)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return repr(value)[:40]
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(show(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{key}:{show(item)}" for key, item in value.items()) + "}"
    return type(value).__name__


def construct(cls: type, prop: str, value: Any, **others: Any) -> Row:
    """``cls(stack, "X", prop=value, **others)`` names the class, its path and ``prop``."""
    return Row(
        f"{cls.__name__}-{prop}-{show(value)}",
        lambda s: cls(s, "X", **{prop: value}, **others),
        (cls.__name__, PATH, prop),
    )


def with_scope(cls: type, prop: str, make: Callable[[cdk.Stack], Any], **others: Any) -> Row:
    """Like :func:`construct` for a value that needs the stack (a key, a VPC, a queue...)."""
    return Row(
        f"{cls.__name__}-{prop}-{make.__name__}",
        lambda s: cls(s, "X", **{prop: make(s)}, **others),
        (cls.__name__, PATH, prop),
    )


def override(cls: type, key: str, make: Callable[[cdk.Stack], Any] | None = None, **options: Any) -> Row:
    """``cls`` with ``alarm_settings.overrides[key] = AlarmOptions(**options)`` names the override.

    ``make`` builds a value from the stack for ``options["threshold"]`` (a token, say)."""

    def build(s: cdk.Stack) -> Any:
        given = {**options, "threshold": make(s)} if make else options
        return cls(s, "X", alarm_settings=AlarmSettings(overrides={key: AlarmOptions(**given)}))

    return Row(f"{cls.__name__}-overrides-{key}-{show(options)}", build, (cls.__name__, PATH, f"[{key!r}]"))


def alarm_settings_rows(cls: type, key: str) -> list[Row]:
    """The alarm props every construct shares, refused the same way everywhere."""
    return [
        construct(cls, "create_alarms", "no"),
        construct(cls, "alarm_settings", {"name_prefix": "prod"}),
        call(
            f"{cls.__name__}-unknown-alarm-key",
            lambda s: cls(s, "X", alarm_settings=AlarmSettings(overrides={"no_such_alarm": None})),
            cls.__name__,
            PATH,
            "'no_such_alarm'",
            repr(key),
        ),
        call(
            f"{cls.__name__}-name-prefix",
            lambda s: cls(s, "X", alarm_settings=AlarmSettings(name_prefix="")),
            cls.__name__,
            PATH,
            "name_prefix",
        ),
        call(
            f"{cls.__name__}-alarm-action",
            lambda s: cls(s, "X", alarm_settings=AlarmSettings(alarm_actions=["arn:aws:sns:::x"])),
            cls.__name__,
            PATH,
            "alarm_actions[0]",
        ),
        override(cls, key, evaluation_periods=0),
        override(cls, key, evaluation_periods=2, datapoints_to_alarm=3),
        override(cls, key, treat_missing_data="breaching"),
    ]


def call(name: str, build: Callable[[cdk.Stack], Any], *names: str) -> Row:
    return Row(name, build, names)


def a_key(s: cdk.Stack) -> kms.Key:
    return kms.Key(s, "Key")


def a_queue(s: cdk.Stack) -> sqs.Queue:
    return sqs.Queue(s, "NotATopic")


def a_token(s: cdk.Stack) -> Duration:
    return Duration.seconds(Token.as_number({"Ref": "Seconds"}))


def fan_out(s: cdk.Stack, **props: Any) -> FanOut:
    return FanOut(s, "X", **props)


ROWS: list[Row] = [
    # --- scope and id (every construct checks them the same way) ---
    call("scope-is-a-string", lambda s: ReliableQueue("T", "X"), "ReliableQueue", "scope"),  # type: ignore[arg-type]
    call("scope-is-None", lambda s: FanOut(None, "X"), "FanOut", "scope"),  # type: ignore[arg-type]
    call("id-is-empty", lambda s: StreamToS3(s, ""), "StreamToS3", "construct_id"),
    call("id-is-a-number", lambda s: MessageBroker(s, 5), "MessageBroker", "construct_id"),  # type: ignore[arg-type]
    call("alarm-topic-scope", lambda s: AlarmTopic("stack", "X"), "AlarmTopic", "scope"),  # type: ignore[arg-type]
]

# --- ReliableQueue ---
RQ = ReliableQueue
ROWS += [
    construct(RQ, "fifo", "yes"),
    construct(RQ, "fifo", 1),
    construct(RQ, "queue_name", 123),
    construct(RQ, "queue_name", "bad name!"),
    construct(RQ, "queue_name", ""),
    construct(RQ, "queue_name", "x" * 80),  # the DLQ's name adds 4 characters
    construct(RQ, "queue_name", "orders.fifo"),  # fifo is False
    construct(RQ, "queue_name", "orders", fifo=True),
    construct(RQ, "visibility_timeout", 30),
    construct(RQ, "visibility_timeout", Duration.hours(13)),
    construct(RQ, "visibility_timeout", Duration.millis(1500)),
    construct(RQ, "receive_message_wait_time", Duration.seconds(21)),
    construct(RQ, "receive_message_wait_time", "20s"),
    construct(RQ, "retention_period", Duration.seconds(59)),
    construct(RQ, "retention_period", Duration.days(15)),
    construct(RQ, "retention_period", 345600),
    construct(RQ, "max_receive_count", 0),
    construct(RQ, "max_receive_count", 1001),
    construct(RQ, "max_receive_count", 2.5),
    construct(RQ, "max_receive_count", True),
    construct(RQ, "max_receive_count", "5"),
    construct(RQ, "content_based_deduplication", True),  # not FIFO
    construct(RQ, "content_based_deduplication", "yes", fifo=True),
    construct(RQ, "high_throughput", True),  # not FIFO
    construct(RQ, "high_throughput", 1, fifo=True),
    construct(RQ, "encryption_key", "alias/aws/sqs"),
    construct(RQ, "encryption_key", 42),
    construct(RQ, "alarm_topic", "arn:aws:sns:us-east-1:111111111111:alarms"),
    construct(RQ, "alarm_topic", 42),
    with_scope(RQ, "alarm_topic", a_queue),
    override(RQ, "oldest_message_age", threshold=Duration.millis(1500)),
    override(RQ, "oldest_message_age", threshold=Duration.seconds(0)),
    override(RQ, "oldest_message_age", threshold=Duration.days(4)),  # = retention: never fires
    override(RQ, "oldest_message_age", threshold=900),  # a number: seconds or milliseconds?
    override(RQ, "oldest_message_age", a_token),
    override(RQ, "dead_letter_queue", threshold=Duration.seconds(1)),  # a count, not a duration
    *alarm_settings_rows(RQ, "dead_letter_queue"),
    construct(RQ, "removal_policy", "retain"),
    construct(RQ, "removal_policy", None),
]

# --- FanOut: constructor ---
FO = FanOut
ROWS += [
    construct(FO, "fifo", "no"),
    construct(FO, "topic_name", "bad name!"),
    construct(FO, "topic_name", "orders.fifo"),
    construct(FO, "topic_name", "orders", fifo=True),
    construct(FO, "topic_name", "x" * 257),
    construct(FO, "topic_name", 5),
    construct(FO, "content_based_deduplication", True),
    construct(FO, "content_based_deduplication", "yes", fifo=True),
    construct(FO, "encryption_key", "alias/aws/sns"),
    construct(FO, "service_publishers", "s3.amazonaws.com"),
    construct(FO, "service_publishers", ["s3"]),
    construct(FO, "service_publishers", [5]),
    construct(FO, "service_publishers", None),
    construct(FO, "alarm_topic", "alarms"),
    with_scope(FO, "alarm_topic", a_queue),
    override(FO, "notifications_failed", threshold=Duration.minutes(1)),  # a count, not a duration
    override(FO, "undeliverable_queue", threshold=-1),
    *alarm_settings_rows(FO, "notifications_failed"),
    construct(FO, "removal_policy", "destroy"),
]


def add_queue(prop: str, value: Any, construct_id: str = "Billing", **fan_out_props: Any) -> Row:
    """``FanOut(...).add_queue(construct_id, prop=value)`` names FanOut, its path, add_queue and ``prop``."""
    return Row(
        f"add_queue-{prop}-{show(value)}",
        lambda s: fan_out(s, **fan_out_props).add_queue(construct_id, **{prop: value}),
        ("FanOut", PATH, "add_queue", prop),
    )


string = sns.SubscriptionFilter.string_filter
numeric = sns.SubscriptionFilter.numeric_filter
ROWS += [
    add_queue("filter_policy", {}),
    add_queue("filter_policy", {"region": "eu"}),
    add_queue("filter_policy", {"region": [string(allowlist=["eu"])]}),
    add_queue("filter_policy", ["region"]),
    add_queue("filter_policy", {"region": string(allowlist=[])}),
    add_queue("filter_policy", {"amount": numeric(between=sns.BetweenCondition(start=10, stop=1))}),
    add_queue("filter_policy", {"amount": numeric(greater_than_or_equal_to=10, less_than=100)}),  # ORed: every number
    add_queue("filter_policy", {f"k{i}": string(allowlist=["a"]) for i in range(6)}),
    add_queue(
        "filter_policy",
        {"a": string(allowlist=[str(i) for i in range(13)]), "b": string(allowlist=[str(i) for i in range(13)])},
    ),
    add_queue("filter_policy_with_message_body", {}),
    add_queue("filter_policy_with_message_body", {"amount": numeric(greater_than=1)}),
    add_queue("filter_policy_with_message_body", {"amount": "1"}),
    add_queue("filter_policy_with_message_body", "amount > 1"),
    add_queue("filter_policy_with_message_body", {"a": sns.FilterOrPolicy.policy({})}),
    add_queue("raw_message_delivery", "yes"),
    add_queue("visiblity_timeout", Duration.seconds(30)),  # misspelt option
    add_queue("fifo", True),  # the topic is standard
    # Options passed on to ReliableQueue: the error names the innermost construct, the subscriber.
    call(
        "add_queue-max_receive_count",
        lambda s: fan_out(s).add_queue("Billing", max_receive_count=0),
        "ReliableQueue",
        "'T/X/Billing'",
        "max_receive_count",
    ),
    call(
        "add_queue-alarm_topic",
        lambda s: fan_out(s).add_queue("Billing", alarm_topic="alarms"),
        "ReliableQueue",
        "'T/X/Billing'",
        "alarm_topic",
    ),
    call(
        "add_queue-alarm_settings-fan-out-key",
        lambda s: fan_out(s).add_queue(
            "Billing", alarm_settings=AlarmSettings(overrides={"notifications_failed": None})
        ),
        "ReliableQueue",
        "'T/X/Billing'",
        "'notifications_failed'",
        "'dead_letter_queue'",
    ),
    call(
        "add_queue-create_alarms",
        lambda s: fan_out(s).add_queue("Billing", create_alarms="no"),
        "ReliableQueue",
        "'T/X/Billing'",
        "create_alarms",
    ),
    call("add_queue-id-empty", lambda s: fan_out(s).add_queue(""), "FanOut", PATH, "construct_id"),
    call("add_queue-id-number", lambda s: fan_out(s).add_queue(5), "FanOut", PATH, "construct_id"),  # type: ignore[arg-type]
    call(
        "add_queue-id-twice",
        lambda s: [f := fan_out(s), f.add_queue("Billing"), f.add_queue("Billing")],
        "FanOut",
        PATH,
        "Billing",
    ),
    call(
        "add_queue-both-scopes",
        lambda s: fan_out(s).add_queue(
            "B",
            filter_policy={"r": string(allowlist=["eu"])},
            filter_policy_with_message_body={"a": sns.FilterOrPolicy.filter(numeric(greater_than=1))},
        ),
        "FanOut",
        PATH,
        "filter_policy_with_message_body",
    ),
]


# --- FanOut: add_function and add_delivery_stream ---
def a_subscriber_function(s: cdk.Stack, construct_id: str = "Fn") -> lambda_.Function:
    return lambda_.Function(
        s, construct_id, runtime=lambda_.Runtime.PYTHON_3_12, handler="i.h", code=lambda_.Code.from_inline("h=0")
    )


def a_delivery_stream(s: cdk.Stack) -> firehose.DeliveryStream:
    return firehose.DeliveryStream(s, "Ds", destination=firehose.S3Bucket(s3.Bucket(s, "B")))


def target_for(method: str) -> Callable[[cdk.Stack], Any]:
    return a_subscriber_function if method == "add_function" else a_delivery_stream


def push(method: str, prop: str, value: Any, **fan_out_props: Any) -> Row:
    """``FanOut(...).add_function/add_delivery_stream("Push", <a valid target>, prop=value)``."""
    return Row(
        f"{method}-{prop}-{show(value)}",
        lambda s: getattr(fan_out(s, **fan_out_props), method)("Push", target_for(method)(s), **{prop: value}),
        ("FanOut", PATH, method, prop),
    )


for _method in ("add_function", "add_delivery_stream"):
    ROWS += [
        push(_method, "filter_policy", {}),
        push(_method, "filter_policy", {"region": "eu"}),
        push(_method, "filter_policy", {"amount": numeric(greater_than_or_equal_to=10, less_than=100)}),
        push(_method, "filter_policy_with_message_body", {"amount": numeric(greater_than=1)}),
        call(
            f"{_method}-fifo-topic",
            lambda s, m=_method: getattr(fan_out(s, fifo=True), m)("Push", target_for(m)(s)),
            "FanOut",
            PATH,
            _method,
            "FIFO topic",
            "'Push'",
        ),
        call(
            f"{_method}-id-empty",
            lambda s, m=_method: getattr(fan_out(s), m)("", target_for(m)(s)),
            "FanOut",
            PATH,
            _method,
            "construct_id",
        ),
    ]
ROWS += [
    push("add_delivery_stream", "raw_message_delivery", "yes"),
    call(
        "add_function-arn-string",
        lambda s: fan_out(s).add_function("Push", "arn:aws:lambda:eu-west-1:111111111111:function:f"),  # type: ignore[arg-type]
        "FanOut",
        PATH,
        "add_function",
        "function",
        "lambda_.IFunction",
    ),
    call(
        "add_function-None",
        lambda s: fan_out(s).add_function("Push", None),  # type: ignore[arg-type]
        "FanOut",
        PATH,
        "add_function",
        "function",
    ),
    call(
        "add_delivery_stream-a-bucket",
        lambda s: fan_out(s).add_delivery_stream("Push", s3.Bucket(s, "B")),  # type: ignore[arg-type]
        "FanOut",
        PATH,
        "add_delivery_stream",
        "delivery_stream",
        "firehose.IDeliveryStream",
    ),
    call(
        "add_delivery_stream-kinesis-source",  # StreamToS3's own delivery stream reads Kinesis: no direct puts
        lambda s: fan_out(s).add_delivery_stream("Push", StreamToS3(s, "Clicks").delivery_stream),
        "FanOut",
        PATH,
        "add_delivery_stream",
        "KinesisStreamAsSource",
        "DirectPut",
    ),
    call(
        "add_function-same-function-twice",  # SNS keeps one subscription per endpoint and topic
        lambda s: [f := fan_out(s), fn := a_subscriber_function(s), f.add_function("A", fn), f.add_function("B", fn)],
        "FanOut",
        PATH,
        "add_function",
        "'A'",
        "'B'",
    ),
    call(
        "add_function-id-of-a-queue",
        lambda s: [f := fan_out(s), f.add_queue("Billing"), f.add_function("Billing", a_subscriber_function(s))],
        "FanOut",
        PATH,
        "add_function",
        "Billing",
    ),
]


# --- FanOut: add_https_endpoint, add_email, add_sms ---
HTTPS_URL = "https://partner.example.com/hook"


def https(prop: str, value: Any, *names: str, **fan_out_props: Any) -> Row:
    """``FanOut(...).add_https_endpoint("Partner", HTTPS_URL, prop=value)`` (or the URL itself for ``url``)."""
    args = {"url": HTTPS_URL, prop: value}
    return Row(
        f"add_https_endpoint-{prop}-{show(value)}",
        lambda s: fan_out(s, **fan_out_props).add_https_endpoint("Partner", **args),
        ("FanOut", PATH, "add_https_endpoint", prop, *names),
    )


def bound_fan_out(account: str = "111111111111", region: str = "eu-west-1") -> tuple[cdk.App, FanOut]:
    app = cdk.App()
    return app, FanOut(cdk.Stack(app, "T", env=cdk.Environment(account=account, region=region)), "X")


def dlq_elsewhere(account: str, region: str) -> Any:
    """A FanOut in 111111111111/eu-west-1 given a dead-letter queue of another account or Region."""
    app, fo = bound_fan_out()
    other = cdk.Stack(app, "Other", env=cdk.Environment(account=account, region=region))
    return fo.add_https_endpoint("Partner", HTTPS_URL, dead_letter_queue=sqs.Queue(other, "Dlq"))


ROWS += [
    https("url", "http://partner.example.com/hook", "allow_http=True", "clear text"),
    https("url", "ftp://partner.example.com/hook"),
    https("url", "https:///no-host"),
    https("url", "partner.example.com/hook"),
    https("url", 443),
    https("url", "https://partner.example.com/a b"),
    https(
        "delivery_policy",
        HttpDeliveryPolicy(num_retries=100, min_delay=Duration.minutes(1), max_delay=Duration.minutes(1)),
        "3600 s",
        "6000 s",
    ),
    https("delivery_policy", HttpDeliveryPolicy(num_retries=101), "num_retries"),
    https("delivery_policy", HttpDeliveryPolicy(min_delay=Duration.seconds(0)), "min_delay"),
    https("delivery_policy", HttpDeliveryPolicy(max_delay=Duration.hours(2)), "max_delay"),
    https("delivery_policy", HttpDeliveryPolicy(max_delay=Duration.millis(1500)), "max_delay"),
    https("delivery_policy", HttpDeliveryPolicy(min_delay=Duration.seconds(30)), "min_delay", "max_delay"),
    https("delivery_policy", HttpDeliveryPolicy(num_retries=2, num_max_delay_retries=3), "num_retries"),
    https("delivery_policy", HttpDeliveryPolicy(max_receives_per_second=0), "max_receives_per_second"),
    https("delivery_policy", HttpDeliveryPolicy(content_type="text/html"), "content_type"),
    https("delivery_policy", {"numRetries": 3}, "HttpDeliveryPolicy"),
    https("dead_letter_queue", "arn:aws:sqs:eu-west-1:111111111111:dlq"),
    https("delivery_status_logging", DeliveryStatusLogging(success_sample_rate=101), "success_sample_rate"),
    https("delivery_status_logging", DeliveryStatusLogging(retention=logs.RetentionDays.INFINITE), "INFINITE"),
    https("raw_message_delivery", "yes"),
    https("allow_http", 1),
    call(
        "add_https_endpoint-dlq-in-another-region",
        lambda s: dlq_elsewhere("111111111111", "us-east-1"),
        "FanOut",
        PATH,
        "add_https_endpoint",
        "dead_letter_queue",
        "Region",
        "us-east-1",
    ),
    call(
        "add_https_endpoint-dlq-in-another-account",
        lambda s: dlq_elsewhere("222222222222", "eu-west-1"),
        "FanOut",
        PATH,
        "add_https_endpoint",
        "dead_letter_queue",
        "account",
        "222222222222",
    ),
    call(
        "add_https_endpoint-imported-dlq-in-another-region",
        lambda s: (fo := bound_fan_out()[1]).add_https_endpoint(
            "Partner",
            HTTPS_URL,
            dead_letter_queue=sqs.Queue.from_queue_arn(fo, "Dlq", "arn:aws:sqs:us-west-2:111111111111:dlq"),
        ),
        "FanOut",
        PATH,
        "add_https_endpoint",
        "dead_letter_queue",
        "us-west-2",
    ),
    call(
        "add_https_endpoint-second-logging-differs",
        lambda s: [
            fo := fan_out(s),
            fo.add_https_endpoint("A", HTTPS_URL),
            fo.add_https_endpoint(
                "B", "https://b.example.com/", delivery_status_logging=DeliveryStatusLogging(success_sample_rate=1)
            ),
        ],
        "FanOut",
        PATH,
        "add_https_endpoint",
        "delivery_status_logging",
    ),
    call(
        "add_https_endpoint-url-token",
        lambda s: fan_out(s).add_https_endpoint("Partner", Token.as_string({"Ref": "Url"})),
        "FanOut",
        PATH,
        "add_https_endpoint",
        "url",
        "synth time",
    ),
    call(
        "add_https_endpoint-same-url-twice",
        lambda s: [fo := fan_out(s), fo.add_https_endpoint("A", HTTPS_URL), fo.add_https_endpoint("B", HTTPS_URL)],
        "FanOut",
        PATH,
        "add_https_endpoint",
        "'A'",
        "'B'",
    ),
    call(
        "add_email-bad-address",
        lambda s: fan_out(s).add_email("Ops", "ops.example.com"),
        "FanOut",
        PATH,
        "add_email",
        "address",
    ),
    call(
        "add_email-two-ats",
        lambda s: fan_out(s).add_email("Ops", "ops@@example.com"),
        "FanOut",
        PATH,
        "add_email",
        "address",
    ),
    call(
        "add_email-json-yes",
        lambda s: fan_out(s).add_email("Ops", "ops@example.com", json="yes"),
        "FanOut",
        PATH,
        "add_email",
        "json",
    ),
    call(
        "add_sms-no-plus",
        lambda s: fan_out(s).add_sms("OnCall", "12065550100"),
        "FanOut",
        PATH,
        "add_sms",
        "phone_number",
        "E.164",
    ),
    call(
        "add_sms-spaces",
        lambda s: fan_out(s).add_sms("OnCall", "+1 206 555 0100"),
        "FanOut",
        PATH,
        "add_sms",
        "phone_number",
    ),
    call(
        "add_sms-too-long",
        lambda s: fan_out(s).add_sms("OnCall", "+1234567890123456"),
        "FanOut",
        PATH,
        "add_sms",
        "phone_number",
    ),
    call(
        "add_sms-leading-zero",
        lambda s: fan_out(s).add_sms("OnCall", "+0206555010"),
        "FanOut",
        PATH,
        "add_sms",
        "phone_number",
    ),
    call(
        "add_sms-number", lambda s: fan_out(s).add_sms("OnCall", 12065550100), "FanOut", PATH, "add_sms", "phone_number"
    ),  # type: ignore[arg-type]
    call(
        "add_sms-spend-zero",
        lambda s: fan_out(s).add_sms("OnCall", "+12065550100", spend_alarm_usd=0),
        "FanOut",
        PATH,
        "add_sms",
        "spend_alarm_usd",
    ),
    call(
        "add_sms-spend-differs",
        lambda s: [
            fo := fan_out(s),
            fo.add_sms("A", "+12065550100"),
            fo.add_sms("B", "+12065550101", spend_alarm_usd=3),
        ],
        "FanOut",
        PATH,
        "add_sms",
        "spend_alarm_usd",
    ),
]
for _method, _target in (
    ("add_https_endpoint", HTTPS_URL),
    ("add_email", "ops@example.com"),
    ("add_sms", "+12065550100"),
):
    ROWS.append(
        call(
            f"{_method}-fifo-topic",  # SNS FIFO topics deliver to SQS queues only (fifo-message-delivery)
            lambda s, m=_method, t=_target: getattr(fan_out(s, fifo=True), m)("Push", t),
            "FanOut",
            PATH,
            _method,
            "FIFO topic",
            "'Push'",
        )
    )


def existing(prop: str, value: Any) -> Row:
    return Row(
        f"add_existing_queue-{prop}-{show(value)}",
        lambda s: fan_out(s).add_existing_queue(sqs.Queue(s, "Own"), **{prop: value}),
        ("FanOut", PATH, "add_existing_queue", prop),
    )


ROWS += [
    call(
        "add_existing_queue-url",
        lambda s: fan_out(s).add_existing_queue("https://sqs.us-east-1.amazonaws.com/1/q"),
        "FanOut",
        PATH,
        "queue",
    ),
    call("add_existing_queue-None", lambda s: fan_out(s).add_existing_queue(None), "FanOut", PATH, "queue"),  # type: ignore[arg-type]
    call(
        "add_existing_queue-fifo-ReliableQueue-on-standard",  # a ReliableQueue stands for its .queue, rules and all
        lambda s: fan_out(s).add_existing_queue(ReliableQueue(s, "Jobs", fifo=True)),
        "FanOut",
        PATH,
        "queue",
    ),
    call(
        "add_existing_queue-fifo-on-standard",
        lambda s: fan_out(s).add_existing_queue(sqs.Queue(s, "Q", fifo=True, queue_name="q.fifo")),
        "FanOut",
        PATH,
        "FIFO",
    ),
    call(
        "add_existing_queue-same-id",
        lambda s: [f := fan_out(s), q := sqs.Queue(s, "Q"), f.add_existing_queue(q), f.add_existing_queue(q)],
        "FanOut",
        PATH,
        "'Q'",
    ),
    existing("construct_id", 5),
    existing("raw_message_delivery", 1),
    existing("filter_policy", {"region": "eu"}),
    existing("filter_policy_with_message_body", {"a": numeric(greater_than=1)}),
    call(
        "allow_service_publisher-no-key",
        lambda s: fan_out(s).allow_service_publisher("s3.amazonaws.com"),
        "FanOut",
        PATH,
        "encryption_key",
    ),
    call(
        "allow_service_publisher-not-a-principal",
        lambda s: fan_out(s, service_publishers=["events.amazonaws.com"]).allow_service_publisher("s3"),
        "FanOut",
        PATH,
        "service_principal",
    ),
    call(
        "allow_service_publisher-number",
        lambda s: fan_out(s, service_publishers=["events.amazonaws.com"]).allow_service_publisher(5),  # type: ignore[arg-type]
        "FanOut",
        PATH,
        "service_principal",
    ),
    call(
        "allow_service_publisher-source-arn",
        lambda s: fan_out(s, service_publishers=["events.amazonaws.com"]).allow_service_publisher(
            "s3.amazonaws.com",
            source_arn=5,  # type: ignore[arg-type]
        ),
        "FanOut",
        PATH,
        "source_arn",
    ),
]

# --- StreamToS3 ---
SS = StreamToS3
ONE_MINUTE = Duration.minutes(1)


def a_transform_function(s: cdk.Stack, timeout: Duration = ONE_MINUTE) -> lambda_.Function:
    return lambda_.Function(
        s,
        "Transform",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="i.h",
        code=lambda_.Code.from_inline("h=0"),
        timeout=timeout,
    )


ROWS += [
    construct(SS, "shard_count", 0),
    construct(SS, "shard_count", 2.5),
    construct(SS, "shard_count", "2"),
    construct(SS, "shard_count", True),
    construct(SS, "shard_count", 1_000_001),
    construct(SS, "shard_count", 2, expected_throughput=Throughput(1, 100)),
    construct(SS, "expected_throughput", {"write_mib_per_s": 1}),
    construct(SS, "expected_throughput", "1 MiB/s"),
    construct(SS, "retention_period", Duration.hours(23)),
    construct(SS, "retention_period", Duration.hours(8761)),
    construct(SS, "retention_period", 24),
    construct(SS, "encryption_key", "alias/aws/kinesis"),
    construct(SS, "existing_bucket", "my-bucket"),
    construct(SS, "existing_bucket", s3.BucketAttributes(bucket_name="owned-bucket")),
    construct(SS, "data_prefix", ""),
    construct(SS, "data_prefix", "/data/"),
    construct(SS, "data_prefix", "a" * 1025),
    construct(SS, "data_prefix", "da\nta/"),
    construct(SS, "data_prefix", "data/*/"),
    construct(SS, "data_prefix", 5),
    construct(SS, "data_prefix", "data/!{foo}/"),
    construct(SS, "data_prefix", "data/!{firehose:error-output-type}/"),
    construct(SS, "data_prefix", "data/!{timestamp:yyyy/"),
    construct(SS, "data_prefix", "!{partitionKeyFromQuery:customer}/"),
    construct(SS, "data_prefix", "data/!{timestamp:yyyy}/", error_prefix=None),
    construct(SS, "error_prefix", "/errors/"),
    construct(SS, "error_prefix", "data/", data_prefix="data/"),
    construct(SS, "error_prefix", "errors/!{timestamp:yyyy}/"),
    construct(SS, "error_prefix", 5),
    construct(SS, "error_prefix", "errors/?/"),
    construct(SS, "buffering_interval", Duration.seconds(901)),
    construct(SS, "buffering_interval", Duration.millis(1500)),
    construct(SS, "buffering_interval", 300),
    with_scope(SS, "buffering_interval", a_token),
    construct(SS, "buffering_size", Size.mebibytes(129)),
    construct(SS, "buffering_size", Size.kibibytes(512)),
    construct(SS, "buffering_size", 5),
    construct(SS, "compression", "GZIP"),
    construct(SS, "lifecycle", "expire after 30 days"),
    construct(SS, "lifecycle", [5]),
    Row(
        "StreamToS3-lifecycle-with-existing-bucket",
        lambda s: SS(
            s,
            "X",
            existing_bucket=s3.Bucket.from_bucket_name(s, "Owned", "owned-bucket"),
            lifecycle=[s3.LifecycleRule(expiration=Duration.days(1))],
        ),
        ("StreamToS3", PATH, "lifecycle"),
    ),
    override(SS, "iterator_age", threshold=Duration.days(2)),  # longer than the 24 h retention: never fires
    override(SS, "iterator_age", threshold=Duration.seconds(0)),
    override(SS, "iterator_age", threshold=Duration.millis(500)),
    override(SS, "iterator_age", threshold=600),  # a number: seconds or milliseconds?
    override(SS, "iterator_age", a_token),
    override(SS, "data_freshness", threshold=900),  # a delay: a Duration
    override(SS, "delivery_success", threshold=Duration.seconds(1)),  # a count, not a duration
    *alarm_settings_rows(SS, "iterator_age"),
    construct(SS, "alarm_topic", "alarms"),
    with_scope(SS, "alarm_topic", a_key),
    construct(SS, "removal_policy", "retain"),
    *[
        Row(
            f"StreamToS3-transform-{name}",
            lambda s, build=build: SS(s, "X", **build(s)),
            ("StreamToS3", PATH, *names),
        )
        for name, build, names in (
            (
                "function-6-minute-timeout",
                lambda s: {"transform": LambdaTransform(a_transform_function(s, Duration.minutes(6)))},
                ("transform.function", "5 minutes", "360 seconds"),
            ),
            (
                "retries-minus-1",
                lambda s: {"transform": LambdaTransform(a_transform_function(s), retries=-1)},
                ("transform.retries", "-1"),
            ),
            (
                "buffer-size-4-MiB",
                lambda s: {"transform": LambdaTransform(a_transform_function(s), buffer_size=Size.mebibytes(4))},
                ("transform.buffer_size", "0.2-3 MiB"),
            ),
            (
                "buffer-size-100-KiB",
                lambda s: {"transform": LambdaTransform(a_transform_function(s), buffer_size=Size.kibibytes(100))},
                ("transform.buffer_size", "0.2-3 MiB"),
            ),
            (
                "buffer-interval-16-minutes",
                lambda s: {"transform": LambdaTransform(a_transform_function(s), buffer_interval=Duration.minutes(16))},
                ("transform.buffer_interval", "0-900 seconds"),
            ),
            ("not-a-transform", lambda s: {"transform": a_transform_function(s)}, ("transform", "LambdaTransform")),
            (
                "partition-key-not-used-by-the-prefix",
                lambda s: {
                    "transform": LambdaTransform(a_transform_function(s), partition_keys=["tenant", "kind"]),
                    "dynamic_partitioning": True,
                    "data_prefix": "data/tenant=!{partitionKeyFromLambda:tenant}/",
                },
                ("transform.partition_keys", "'kind'", "not used by data_prefix"),
            ),
            (
                "prefix-key-not-defined",
                lambda s: {
                    "transform": LambdaTransform(a_transform_function(s), partition_keys=["tenant"]),
                    "dynamic_partitioning": True,
                    "data_prefix": "data/!{partitionKeyFromLambda:tenant}/!{partitionKeyFromQuery:kind}/",
                },
                ("data_prefix", "partitionKeyFromQuery:kind", "partition_by does not define 'kind'"),
            ),
            (
                "partition-keys-without-dynamic-partitioning",
                lambda s: {
                    "transform": LambdaTransform(a_transform_function(s), partition_keys=["tenant"]),
                    "data_prefix": "data/!{timestamp:yyyy}/",
                },
                ("transform.partition_keys", "dynamic_partitioning=True", "only be set when"),
            ),
            (
                "error-prefix-without-error-output-type",
                lambda s: {
                    "transform": LambdaTransform(a_transform_function(s)),
                    "data_prefix": "d/",
                    "error_prefix": "e/",
                },
                ("error_prefix", "!{firehose:error-output-type}"),
            ),
            (
                "no-error-prefix",
                lambda s: {
                    "transform": LambdaTransform(a_transform_function(s)),
                    "data_prefix": "d/",
                    "error_prefix": None,
                },
                ("error_prefix", "!{firehose:error-output-type}"),
            ),
        )
    ],
    construct(SS, "dynamic_partitioning", True),  # no partition keys
    construct(SS, "dynamic_partitioning", "yes"),
    construct(SS, "partition_by", {"kind": ".kind"}),  # not used by the prefix, and no dynamic partitioning
    construct(SS, "partition_by", {"kind": "kind"}, dynamic_partitioning=True),  # not a JQ path
    construct(SS, "partition_by", {"bad key": ".kind"}, dynamic_partitioning=True),
    construct(SS, "partition_by", {}, dynamic_partitioning=True),
    construct(SS, "partition_by", [".kind"], dynamic_partitioning=True),
    construct(
        SS,
        "buffering_interval",
        Duration.seconds(30),
        dynamic_partitioning=True,
        partition_by={"kind": ".kind"},
        data_prefix="data/!{partitionKeyFromQuery:kind}/",
    ),
    construct(
        SS,
        "buffering_size",
        Size.mebibytes(32),
        dynamic_partitioning=True,
        partition_by={"kind": ".kind"},
        data_prefix="data/!{partitionKeyFromQuery:kind}/",
    ),
    construct(
        SS,
        "error_prefix",
        "errors/!{firehose:error-output-type}/!{partitionKeyFromQuery:kind}/",
        dynamic_partitioning=True,
        partition_by={"kind": ".kind"},
        data_prefix="data/!{partitionKeyFromQuery:kind}/",
    ),
]


# --- StreamToHttpEndpoint ---
def HE(s: cdk.Stack, construct_id: str, **props: Any) -> StreamToHttpEndpoint:
    """StreamToHttpEndpoint with a valid url, ``props`` on top."""
    return StreamToHttpEndpoint(s, construct_id, **{"url": "https://ingest.example.com/firehose", **props})


HE.__name__ = "StreamToHttpEndpoint"
PLAINTEXT_KEY = "dd-api-key-0123456789abcdef"


def a_secret_value(s: cdk.Stack) -> cdk.SecretValue:
    return cdk.SecretValue.unsafe_plain_text(PLAINTEXT_KEY)


def a_secret(s: cdk.Stack) -> secretsmanager.Secret:
    return secretsmanager.Secret(s, "Key")


def a_stream(s: cdk.Stack) -> kinesis.Stream:
    return kinesis.Stream(s, "Events", shard_count=1)


ROWS += [
    construct(HE, "url", "http://ingest.example.com/firehose"),
    construct(HE, "url", "https://ingest.example.com:8443/firehose"),
    construct(HE, "url", "https://ingest.example.com:80/firehose"),
    construct(HE, "url", "ingest.example.com/firehose"),
    construct(HE, "url", "https://"),
    construct(HE, "url", "https://ingest.example.com/" + "a" * 1000),
    construct(HE, "url", "https://ingest.example.com/fire hose"),
    construct(HE, "url", 443),
    construct(HE, "access_key", PLAINTEXT_KEY),
    with_scope(HE, "access_key", a_secret_value),
    construct(HE, "access_key", {"api_key": PLAINTEXT_KEY}),
    construct(HE, "endpoint_name", ""),
    construct(HE, "endpoint_name", "   "),
    construct(HE, "endpoint_name", "n" * 257),
    construct(HE, "common_attributes", {f"attribute{i}": "v" for i in range(51)}),
    construct(HE, "common_attributes", {"": "v"}),
    construct(HE, "common_attributes", {"k" * 257: "v"}),
    construct(HE, "common_attributes", {"env": "v" * 1025}),
    construct(HE, "common_attributes", {"env": 1}),
    construct(HE, "common_attributes", [("env", "prod")]),
    construct(HE, "content_encoding", "gzip"),
    construct(HE, "content_encoding", True),
    construct(HE, "buffering_size", Size.mebibytes(65)),
    construct(HE, "buffering_size", Size.mebibytes(0)),
    construct(HE, "buffering_size", Size.kibibytes(1536)),
    construct(HE, "buffering_size", 5),
    construct(HE, "buffering_interval", Duration.seconds(901)),
    construct(HE, "buffering_interval", 60),
    with_scope(HE, "buffering_interval", a_token),
    construct(HE, "retry_duration", Duration.seconds(7201)),
    construct(HE, "retry_duration", Duration.millis(1500)),
    construct(HE, "retry_duration", 300),
    construct(HE, "backup", "FailedDataOnly"),
    construct(HE, "backup", "all"),
    construct(HE, "backup_bucket", "my-backups"),
    construct(HE, "stream", "arn:aws:kinesis:eu-west-1:111111111111:stream/events"),
    with_scope(HE, "stream", a_stream, direct_put=True),
    construct(HE, "direct_put", "yes"),
    construct(HE, "shard_count", 2, direct_put=True),
    construct(HE, "expected_throughput", Throughput(1, 100), direct_put=True),
    construct(HE, "retention_period", Duration.hours(48), direct_put=True),
    construct(HE, "shard_count", 0),
    construct(HE, "shard_count", 2, expected_throughput=Throughput(1, 100)),
    construct(HE, "encryption_key", "alias/aws/kinesis"),
    construct(HE, "transform", "arn:aws:lambda:eu-west-1:111111111111:function:t"),
    Row(
        "StreamToHttpEndpoint-lifecycle-with-backup-bucket",
        lambda s: HE(
            s,
            "X",
            backup_bucket=s3.Bucket.from_bucket_name(s, "Owned", "owned-bucket"),
            lifecycle=[s3.LifecycleRule(expiration=Duration.days(1))],
        ),
        ("StreamToHttpEndpoint", PATH, "lifecycle"),
    ),
    override(HE, "data_freshness", threshold=900),
    override(HE, "data_freshness", threshold=Duration.seconds(300)),  # at the buffering interval: always in ALARM
    override(HE, "throttled_records", threshold=Duration.seconds(1)),
    *alarm_settings_rows(HE, "data_freshness"),
    construct(HE, "removal_policy", "retain"),
    Row(
        "StreamToHttpEndpoint.datadog-site",
        lambda s: StreamToHttpEndpoint.datadog(s, "X", api_key=a_secret(s), site="US3", kind="metrics"),
        ("StreamToHttpEndpoint", PATH, "datadog()", "site", "US3"),
    ),
    Row(
        "StreamToHttpEndpoint.datadog-kind",
        lambda s: StreamToHttpEndpoint.datadog(s, "X", api_key=a_secret(s), kind="traces"),  # type: ignore[arg-type]
        ("StreamToHttpEndpoint", PATH, "datadog()", "kind"),
    ),
    Row(
        "StreamToHttpEndpoint.datadog-plaintext-key",
        lambda s: StreamToHttpEndpoint.datadog(s, "X", api_key=PLAINTEXT_KEY),  # type: ignore[arg-type]
        ("StreamToHttpEndpoint", PATH, "datadog()", "api_key"),
    ),
    Row(
        "StreamToHttpEndpoint.datadog-url-given",
        lambda s: StreamToHttpEndpoint.datadog(s, "X", api_key=a_secret(s), url="https://example.com/"),
        ("StreamToHttpEndpoint", PATH, "datadog()", "url"),
    ),
    Row(
        "StreamToHttpEndpoint.new_relic-host",
        lambda s: StreamToHttpEndpoint.new_relic(
            s, "X", url="https://example.com/firehose/v1", license_key=a_secret(s)
        ),
        ("StreamToHttpEndpoint", PATH, "new_relic()", "url", "example.com"),
    ),
    Row(
        "StreamToHttpEndpoint.new_relic-http",
        lambda s: StreamToHttpEndpoint.new_relic(
            s, "X", url="http://aws-api.newrelic.com/firehose/v1", license_key=a_secret(s)
        ),
        ("StreamToHttpEndpoint", PATH, "new_relic()", "url"),
    ),
    Row(
        "StreamToHttpEndpoint.mongodb-route",
        lambda s: StreamToHttpEndpoint.mongodb(s, "X", app_id="orders-abcde", route="firehose", api_key=a_secret(s)),
        ("StreamToHttpEndpoint", PATH, "mongodb()", "route"),
    ),
    Row(
        "StreamToHttpEndpoint.mongodb-region",
        lambda s: StreamToHttpEndpoint.mongodb(
            s, "X", app_id="orders-abcde", route="/f", api_key=a_secret(s), deployment_region="Frankfurt"
        ),
        ("StreamToHttpEndpoint", PATH, "mongodb()", "deployment_region"),
    ),
]


def test_a_plaintext_access_key_is_never_echoed_in_the_error() -> None:
    for value in (PLAINTEXT_KEY, cdk.SecretValue.unsafe_plain_text(PLAINTEXT_KEY), {"api_key": PLAINTEXT_KEY}):
        with pytest.raises(TypeError) as caught:
            HE(stack(), "X", access_key=value)
        assert PLAINTEXT_KEY not in str(caught.value)
        assert "template" in str(caught.value)


# --- StreamToOpenSearch ---
SO = StreamToOpenSearch


def search_domain(s: cdk.Stack, construct_id: str = "Search") -> opensearch.Domain:
    return opensearch.Domain(s, construct_id, version=opensearch.EngineVersion.OPENSEARCH_2_11)


def to_search(prop: str, value: Any, **others: Any) -> Row:
    """``StreamToOpenSearch`` into a domain of the stack, index "clicks", with ``prop=value`` (a callable value is
    built from the stack)."""

    def build(s: cdk.Stack) -> Any:
        given = {"domain": search_domain(s), "index_name": "clicks", **others, prop: value}
        return SO(s, "X", **{k: v(s) if callable(v) else v for k, v in given.items()})

    label = getattr(value, "__name__", None) if callable(value) else None
    return Row(f"StreamToOpenSearch-{prop}-{label or show(value)}", build, ("StreamToOpenSearch", PATH, prop))


def domain_of_another_app(s: cdk.Stack) -> opensearch.Domain:
    return search_domain(cdk.Stack(cdk.App(), "Elsewhere"))


ROWS += [
    to_search("index_name", "Clicks"),  # OpenSearch index names are lowercase
    to_search("index_name", "_clicks"),
    to_search("index_name", "-clicks"),
    to_search("index_name", "+clicks"),
    to_search("index_name", "click stream"),
    to_search("index_name", "clicks,orders"),
    to_search("index_name", "clicks*"),
    to_search("index_name", "logs/app"),
    to_search("index_name", ".."),
    to_search("index_name", ""),
    to_search("index_name", "x" * 81),  # Firehose IndexName: at most 80 characters
    to_search("index_name", "\U0001f600" * 64),  # 64 characters, 256 bytes: OpenSearch allows 255
    to_search("index_name", 5),
    to_search("index_name", lambda s: cdk.Fn.import_value("IndexName")),  # the role's grants name the index
    to_search("index_rotation", "Daily"),
    to_search("index_rotation", "oneday"),
    to_search("buffering_size", Size.mebibytes(101)),
    to_search("buffering_size", Size.kibibytes(512)),
    to_search("buffering_interval", Duration.seconds(901)),
    to_search("retry_duration", Duration.seconds(7201)),
    to_search("retry_duration", Duration.millis(500)),
    to_search("retry_duration", 300),
    to_search("backup", "FailedDataOnly"),  # the HTTP endpoint's word, not OpenSearch's
    to_search("domain", "arn:aws:es:eu-west-1:111111111111:domain/search"),
    to_search("domain", domain_of_another_app),
    to_search("direct_put", True, shard_count=2),
    to_search("shard_count", 2, stream=lambda s: kinesis.Stream(s, "Given")),
    to_search("vpc_subnets", ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)),
    to_search("vpc_subnets", ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC), vpc=vpc),
    to_search("transform", "arn:aws:lambda:eu-west-1:111111111111:function:enrich"),
    # an on-demand stream has no write_throttled alarm to tune
    to_search("alarm_settings", AlarmSettings(overrides={"write_throttled": AlarmOptions(threshold=5)})),
    to_search("alarm_settings", AlarmSettings(overrides={"data_freshness": AlarmOptions(threshold=900)})),
]

# --- MessageBroker ---
MB = MessageBroker
RABBIT = {"engine": BrokerEngine.RABBITMQ}


def private_vpc(s: cdk.Stack) -> ec2.Vpc:
    return vpc(s)


def window(field: str, value: Any) -> Row:
    """``MessageBroker(maintenance_window=MaintenanceWindow(field=value))`` names the broker and the field."""
    return Row(
        f"MaintenanceWindow-{field}-{show(value)}",
        lambda s: MB(s, "X", maintenance_window=MaintenanceWindow(**{field: value})),
        ("MessageBroker", PATH, f"maintenance_window.{field}", repr(value)),
    )


ROWS += [
    construct(MB, "engine", "ACTIVEMQ"),
    construct(MB, "engine", None),
    construct(MB, "deployment_mode", DeploymentMode.CLUSTER_MULTI_AZ),
    construct(MB, "deployment_mode", DeploymentMode.ACTIVE_STANDBY_MULTI_AZ, **RABBIT),
    construct(MB, "deployment_mode", "SINGLE_INSTANCE"),
    construct(MB, "vpc", "vpc-0123456789abcdef0"),
    construct(MB, "vpc_subnets", ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)),  # no vpc
    Row(
        "MessageBroker-vpc_subnets-public",
        lambda s: MB(s, "X", vpc=vpc(s), vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)),
        ("MessageBroker", PATH, "vpc_subnets", "PUBLIC"),
    ),
    Row(
        "MessageBroker-vpc_subnets-public-by-name",
        lambda s: MB(s, "X", vpc=vpc(s), vpc_subnets=ec2.SubnetSelection(subnet_group_name="Public")),
        ("MessageBroker", PATH, "vpc_subnets", "public"),
    ),
    Row(
        "MessageBroker-vpc_subnets-string",
        lambda s: MB(s, "X", vpc=vpc(s), vpc_subnets="private"),  # type: ignore[arg-type]
        ("MessageBroker", PATH, "vpc_subnets"),
    ),
    construct(MB, "instance_type", "mq.m7g.2xl", **RABBIT),  # the documented name is mq.m7g.2xlarge
    construct(MB, "instance_type", "mq.m7g.large"),  # RabbitMQ only
    construct(MB, "instance_type", "mq.t3.micro"),  # single-instance only
    construct(MB, "instance_type", 5),
    construct(MB, "engine_version", "1.0"),
    construct(MB, "engine_version", "3.13"),  # a RabbitMQ version
    construct(MB, "engine_version", 5.18),
    construct(MB, "admin_username", "a"),
    construct(MB, "admin_username", "bad user!"),
    construct(MB, "admin_username", "guest", **RABBIT),
    construct(MB, "admin_username", 5),
    with_scope(MB, "encryption_key", a_key, **RABBIT),
    construct(MB, "encryption_key", "alias/aws/mq"),
    construct(MB, "allowed_peers", [ec2.Peer.any_ipv4()]),
    construct(MB, "allowed_peers", [ec2.Peer.any_ipv6()]),
    construct(MB, "allowed_peers", [ec2.Peer.ipv4("0.0.0.0/0")]),
    construct(MB, "allowed_peers", ec2.Peer.ipv4("10.0.0.0/16")),
    construct(MB, "allowed_peers", ["sg-0123456789abcdef0"]),
    construct(MB, "allowed_peers", "sg-0123456789abcdef0"),
    construct(MB, "maintenance_window", "SUNDAY 03:00"),
    construct(MB, "alarm_topic", "alarms"),
    override(MB, "cpu_utilization", threshold=Duration.minutes(1)),  # a percentage, not a duration
    override(MB, "store_percent_usage", threshold=-1),
    override(MB, "heap_usage", evaluation_periods=0),
    *alarm_settings_rows(MB, "cpu_utilization"),
    call(
        "MessageBroker-rabbitmq-override-activemq-key",
        lambda s: MB(s, "X", **RABBIT, alarm_settings=AlarmSettings(overrides={"heap_usage": None})),  # type: ignore[arg-type]
        "MessageBroker",
        PATH,
        "'heap_usage'",
        "'disk_free'",
    ),
    call("MessageBroker-metric-instance", lambda s: MB(s, "X").metric("CpuUtilization", instance=3), PATH, "instance"),
    call("MessageBroker-metric-name", lambda s: MB(s, "X").metric("", instance=1), PATH, "name"),
    construct(MB, "removal_policy", 1),
    call(
        "MessageBroker-allow_from-anywhere",
        lambda s: MB(s, "X").allow_from(ec2.Peer.any_ipv4()),
        "MessageBroker",
        PATH,
        "allow_from",
        "peer",
    ),
    call("MessageBroker-allow_from-string", lambda s: MB(s, "X").allow_from("10.0.0.0/8"), "MessageBroker", "peer"),  # type: ignore[arg-type]
    window("time_zone", "Mars/Olympus"),
    window("time_zone", ""),
    window("time_zone", 5),
    window("day", "Funday"),
    window("day", "sunday"),
    window("time", "25:00"),
    window("time", "03:00:00"),
]

# --- AlarmTopic ---
ROWS += [
    construct(AlarmTopic, "topic_name", "bad name!"),
    construct(AlarmTopic, "topic_name", "alarms.fifo"),
    construct(AlarmTopic, "topic_name", "x" * 257),
    construct(AlarmTopic, "topic_name", 5),
    construct(AlarmTopic, "removal_policy", "destroy"),
    construct(AlarmTopic, "removal_policy", None),
]

# --- the capacity planner ---
ROWS += [
    call("Throughput-absurd", lambda s: Throughput(1e9, 1e12), "Throughput", "shards"),
    call("Throughput-negative", lambda s: Throughput(-1, 100), "write_mib_per_s"),
    call("Throughput-string", lambda s: Throughput("1", 100), "write_mib_per_s"),  # type: ignore[arg-type]
    call("Throughput-nan", lambda s: Throughput(math.nan, 100), "write_mib_per_s"),
    call("Throughput-inf-records", lambda s: Throughput(1, math.inf), "records_per_s"),
    call("Throughput-read", lambda s: Throughput(1, 100, read_mib_per_s=-2), "read_mib_per_s"),
    call("Throughput-consumers-0", lambda s: Throughput(1, 100, consumers=0), "consumers"),
    call("Throughput-consumers-6", lambda s: Throughput(1, 100, consumers=6), "consumers"),
    call("Throughput-consumers-float", lambda s: Throughput(1, 100, consumers=2.5), "consumers"),  # type: ignore[arg-type]
    call("Throughput-efo-21", lambda s: Throughput(1, 100, consumers=21, enhanced_fan_out=True), "consumers"),
    call("Throughput-efo-string", lambda s: Throughput(1, 100, enhanced_fan_out="yes"), "enhanced_fan_out"),  # type: ignore[arg-type]
]

# --- runtime helpers (no AWS call is made: validation comes first) ---
URL = "https://sqs.us-east-1.amazonaws.com/111111111111/jobs"
FIFO_URL = URL + ".fifo"
NO_CLIENT = boto3.client("sqs", region_name="us-east-1")  # making a client calls nothing


def handler(body: Any) -> None:
    return None


ROWS += [
    call("QueueConsumer-handler-string", lambda s: QueueConsumer(URL, "not callable", client=NO_CLIENT), "handler"),  # type: ignore[arg-type]
    call("QueueConsumer-no-handler", lambda s: QueueConsumer(URL, client=NO_CLIENT), "handler"),
    call(
        "QueueConsumer-two-handlers",
        lambda s: QueueConsumer(URL, handler, batch_handler=handler, client=NO_CLIENT),
        "batch_handler",
    ),
    call(
        "QueueConsumer-batch-handler-int",
        lambda s: QueueConsumer(URL, batch_handler=5, client=NO_CLIENT),
        "batch_handler",
    ),  # type: ignore[arg-type]
    call("QueueConsumer-url-empty", lambda s: QueueConsumer("", handler, client=NO_CLIENT), "queue_url"),
    call("QueueConsumer-url-None", lambda s: QueueConsumer(None, handler, client=NO_CLIENT), "queue_url"),  # type: ignore[arg-type]
    call(
        "QueueConsumer-batch-11", lambda s: QueueConsumer(URL, handler, batch_size=11, client=NO_CLIENT), "batch_size"
    ),
    call("QueueConsumer-batch-0", lambda s: QueueConsumer(URL, handler, batch_size=0, client=NO_CLIENT), "batch_size"),
    call(
        "QueueConsumer-wait-21",
        lambda s: QueueConsumer(URL, handler, wait_time_seconds=21, client=NO_CLIENT),
        "wait_time_seconds",
    ),
    call(
        "QueueConsumer-visibility",
        lambda s: QueueConsumer(URL, handler, visibility_timeout=-1, client=NO_CLIENT),
        "visibility_timeout",
    ),
    call(
        "QueueConsumer-workers-0", lambda s: QueueConsumer(URL, handler, max_workers=0, client=NO_CLIENT), "max_workers"
    ),
    call("QueueProducer-url", lambda s: QueueProducer("", client=NO_CLIENT), "queue_url"),
    call("QueueProducer-retries", lambda s: QueueProducer(URL, max_retries=-1, client=NO_CLIENT), "max_retries"),
    call("QueueProducer-delay", lambda s: QueueProducer(URL, base_delay=-1, client=NO_CLIENT), "base_delay"),
    call("TopicPublisher-arn", lambda s: TopicPublisher(5, client=NO_CLIENT), "topic_arn"),  # type: ignore[arg-type]
    call(
        "TopicPublisher-max-bytes",
        lambda s: TopicPublisher("arn:aws:sns:us-east-1:1:t", max_message_bytes=10, client=NO_CLIENT),
        "max_message_bytes",
    ),
    call("StreamProducer-name", lambda s: StreamProducer("", client=NO_CLIENT), "stream_name"),
    call("StreamProducer-ordered", lambda s: StreamProducer("s", ordered="yes", client=NO_CLIENT), "ordered"),  # type: ignore[arg-type]
    call(
        "QueueProducer-fifo-no-group", lambda s: QueueProducer(FIFO_URL, client=NO_CLIENT).send("x"), "message_group_id"
    ),
    call("QueueProducer-body-int", lambda s: QueueProducer(URL, client=NO_CLIENT).send(5), "body"),  # type: ignore[arg-type]
    call(
        "QueueConsumer-receive-concurrency-0",
        lambda s: QueueConsumer(URL, handler, receive_concurrency=0, client=NO_CLIENT),
        "receive_concurrency",
    ),
    call(
        "QueueConsumer-delete-delay-negative",
        lambda s: QueueConsumer(URL, handler, delete_delay=-1, client=NO_CLIENT),
        "delete_delay",
    ),
    call(
        "QueueProducer-send-concurrency-17",
        lambda s: QueueProducer(URL, send_concurrency=17, client=NO_CLIENT),
        "send_concurrency",
    ),
    call(
        "QueueProducer-send-concurrency-fifo",
        lambda s: QueueProducer(FIFO_URL, send_concurrency=2, client=NO_CLIENT),
        "send_concurrency",
    ),
    # Firehose runtime helpers
    call("FirehoseHttpReceiver-key-empty", lambda s: FirehoseHttpReceiver("", deliver=handler), "access_key"),
    call(
        "FirehoseHttpReceiver-key-4097-bytes",
        lambda s: FirehoseHttpReceiver("k" * 4097, deliver=handler),
        "FirehoseHttpReceiver",
        "access_key",
        "4096",
    ),
    call("FirehoseHttpReceiver-deliver-string", lambda s: FirehoseHttpReceiver("k", deliver="x"), "deliver"),  # type: ignore[arg-type]
    call(
        "FirehoseHttpReceiver-max-body-0",
        lambda s: FirehoseHttpReceiver("k", deliver=handler, max_body_bytes=0),
        "max_body_bytes",
    ),
    call(
        "Transformed-partition-key-int",
        lambda s: Transformed(b"x", partition_keys={"year": 2026}),  # type: ignore[dict-item]
        "Transformed.partition_keys",
        "year",
    ),
    call("Transformed-data-int", lambda s: Transformed(5), "Transformed.data"),  # type: ignore[arg-type]
    # SNS receiver
    call(
        "SnsReceiver-topic-arns-string",
        lambda s: SnsReceiver(topic_arns="arn:aws:sns:us-east-1:111111111111:t", deliver=handler),  # type: ignore[arg-type]
        "SnsReceiver",
        "topic_arns",
        "ANY_TOPIC",
    ),
    call("SnsReceiver-topic-arns-empty", lambda s: SnsReceiver(topic_arns=[], deliver=handler), "topic_arns"),
    call(
        "SnsReceiver-deliver-none",
        lambda s: SnsReceiver(topic_arns=["arn:aws:sns:us-east-1:111111111111:t"], deliver=None),  # type: ignore[arg-type]
        "deliver",
    ),
    call(
        "SnsReceiver-raw-delivery-string",
        lambda s: SnsReceiver(topic_arns=["arn:aws:sns:us-east-1:111111111111:t"], deliver=handler, raw_delivery="1"),  # type: ignore[arg-type]
        "raw_delivery",
    ),
]


# --- QueueFunction ---
QF = QueueFunction
TWENTY_SECONDS = Duration.seconds(20)


def a_function(s: cdk.Stack, timeout: Duration | None = TWENTY_SECONDS) -> lambda_.Function:
    return lambda_.Function(
        s,
        "Fn",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context): pass"),
        timeout=timeout,
    )


def queue_function(prop: str, value: Any, **others: Any) -> Row:
    """``QueueFunction(stack, "X", function=<a 20 s function>, prop=value, **others)``."""
    return Row(
        f"QueueFunction-{prop}-{show(value)}-{show(others)}",
        lambda s: QF(s, "X", function=a_function(s), **{prop: value}, **others),
        ("QueueFunction", PATH, prop),
    )


def short_visibility_queue(s: cdk.Stack) -> ReliableQueue:
    return ReliableQueue(s, "Jobs", visibility_timeout=Duration.seconds(100))  # < 6 x 20 s


def function_in_another_stack(s: cdk.Stack) -> Any:
    other = cdk.Stack(s.node.scope, "Other")  # type: ignore[arg-type]
    return QF(s, "X", function=a_function(other))


def queue_function_of(s: cdk.Stack, construct_id: str, **props: Any) -> QueueFunction:
    """QueueFunction with a function, for :func:`alarm_settings_rows` (which calls ``cls(s, "X", **props)``)."""
    return QF(s, construct_id, function=a_function(s), **props)


queue_function_of.__name__ = "QueueFunction"

ROWS += [
    *alarm_settings_rows(queue_function_of, "function_errors"),  # type: ignore[arg-type]
    call("QueueFunction-no-function", lambda s: QF(s, "X", function=None), "QueueFunction", PATH, "function"),  # type: ignore[arg-type]
    call(
        "QueueFunction-function-a-queue", lambda s: QF(s, "X", function=a_queue(s)), "QueueFunction", PATH, "function"
    ),  # type: ignore[arg-type]
    queue_function("queue", "orders"),
    queue_function("fifo", "yes"),
    queue_function("enabled", 1),
    queue_function("batch_size", 0),
    queue_function("batch_size", 11),  # no batching window
    queue_function("batch_size", 10_001, max_batching_window=Duration.seconds(5)),
    queue_function("batch_size", 11, fifo=True),
    queue_function("batch_size", 100, max_batching_window=Duration.seconds(0)),
    queue_function("batch_size", 2.5),
    queue_function("max_batching_window", Duration.seconds(301)),
    queue_function("max_batching_window", 5),
    queue_function("max_batching_window", Duration.seconds(5), fifo=True),
    queue_function("max_concurrency", 1),
    queue_function("max_concurrency", 1001),
    queue_function("max_concurrency", "10"),
    queue_function("filters", {"body": {"kind": ["order"]}}),
    queue_function("filters", []),
    queue_function("filters", [{"pattern": "x"}] * 6),
    queue_function("filters", ["kind=order"]),
    queue_function("queue_props", {"visibility_timeout": Duration.minutes(5)}),
    queue_function("queue_props", {"fifo": True}),
    queue_function("queue_props", "orders"),
    queue_function("function_timeout", Duration.seconds(20)),  # the function's timeout is known
    call(
        "QueueFunction-queue-and-queue_props",
        lambda s: QF(s, "X", function=a_function(s), queue=ReliableQueue(s, "Q"), queue_props={"max_receive_count": 3}),
        "QueueFunction",
        PATH,
        "queue_props",
    ),
    call(
        "QueueFunction-fifo-with-a-standard-queue",
        lambda s: QF(
            s,
            "X",
            function=a_function(s),
            queue=ReliableQueue(s, "Q", visibility_timeout=Duration.minutes(2)),
            fifo=True,
        ),
        "QueueFunction",
        PATH,
        "fifo",
    ),
    call(
        "QueueFunction-visibility-under-6x",
        lambda s: QF(s, "X", function=a_function(s), queue=short_visibility_queue(s)),
        "QueueFunction",
        PATH,
        "visibility_timeout",
        "6x",
        "20 seconds",
        "120 seconds",
        "100 seconds",
    ),
    call(
        "QueueFunction-imported-without-timeout",
        lambda s: QF(s, "X", function=lambda_.Function.from_function_name(s, "F", "f"), queue=ReliableQueue(s, "Q")),
        "QueueFunction",
        PATH,
        "function_timeout",
    ),
    call(
        "QueueFunction-imported-timeout-too-long",
        lambda s: QF(
            s,
            "X",
            function=lambda_.Function.from_function_name(s, "F", "f"),
            queue=ReliableQueue(s, "Q"),
            function_timeout=Duration.minutes(16),
        ),
        "QueueFunction",
        PATH,
        "function_timeout",
    ),
    call(
        "QueueFunction-queue-alarm-override-on-a-given-queue",
        lambda s: QF(
            s,
            "X",
            function=a_function(s),
            queue=ReliableQueue(s, "Q", visibility_timeout=Duration.minutes(2)),
            alarm_settings=AlarmSettings(overrides={"dead_letter_queue": None}),
        ),
        "QueueFunction",
        PATH,
        "'dead_letter_queue'",
    ),
    call("QueueFunction-function-in-another-stack", function_in_another_stack, "QueueFunction", PATH, "'Other'"),
    call(
        "QueueFunction-bad-queue-prop-value",
        lambda s: QF(s, "X", function=a_function(s), queue_props={"max_receive_count": 0}),
        "QueueFunction",
        PATH,
        "queue_props['max_receive_count'] must be 1-1000, got 0",
    ),
]


# --- StreamFunction ---
SF = StreamFunction


def a_stream(s: cdk.Stack) -> kinesis.Stream:
    return kinesis.Stream(s, "Clicks", shard_count=1)


def stream_function(prop: str, value: Any, **others: Any) -> Row:
    """``StreamFunction(stack, "X", function=<a function>, stream=<a stream>, prop=value, **others)``."""
    return Row(
        f"StreamFunction-{prop}-{show(value)}-{show(others)}",
        lambda s: SF(s, "X", function=a_function(s), stream=a_stream(s), **{prop: value}, **others),
        ("StreamFunction", PATH, prop),
    )


def stream_function_of(s: cdk.Stack, construct_id: str, **props: Any) -> StreamFunction:
    """StreamFunction with a function and a stream, for :func:`alarm_settings_rows`."""
    return SF(s, construct_id, function=a_function(s), stream=a_stream(s), **props)


stream_function_of.__name__ = "StreamFunction"


def stream_function_in_another_stack(s: cdk.Stack) -> Any:
    other = cdk.Stack(s.node.scope, "Other")  # type: ignore[arg-type]
    return SF(s, "X", function=a_function(other), stream=a_stream(s))


def one_reader_too_many(s: cdk.Stack) -> Any:
    archive = StreamToS3(s, "Archive", expected_throughput=Throughput(0.5, 100, consumers=1))
    return SF(s, "X", function=a_function(s), stream=archive)


ROWS += [
    *alarm_settings_rows(stream_function_of, "iterator_age"),  # type: ignore[arg-type]
    call(
        "StreamFunction-no-stream",
        lambda s: SF(s, "X", function=a_function(s), stream=None),  # type: ignore[arg-type]
        "StreamFunction",
        PATH,
        "stream",
    ),
    call(
        "StreamFunction-stream-a-queue",
        lambda s: SF(s, "X", function=a_function(s), stream=a_queue(s)),  # type: ignore[arg-type]
        "StreamFunction",
        PATH,
        "stream",
    ),
    call(
        "StreamFunction-function-a-queue",
        lambda s: SF(s, "X", function=a_queue(s), stream=a_stream(s)),  # type: ignore[arg-type]
        "StreamFunction",
        PATH,
        "function",
    ),
    stream_function("on_failure_queue", "failures"),
    stream_function("enhanced_fan_out", "yes"),
    stream_function("enabled", 1),
    stream_function("starting_position", "TRIM_HORIZON"),
    stream_function("starting_position_timestamp", 1_700_000_000),  # without AT_TIMESTAMP
    stream_function("starting_position_timestamp", None, starting_position=lambda_.StartingPosition.AT_TIMESTAMP),
    stream_function("batch_size", 0),
    stream_function("batch_size", 10_001),
    stream_function("max_batching_window", Duration.seconds(301)),
    stream_function("parallelization_factor", 0),
    stream_function("parallelization_factor", 11),
    stream_function("retry_attempts", -1),  # infinite: a poison record would block its shard
    stream_function("retry_attempts", 10_001),
    stream_function("max_record_age", Duration.seconds(59)),
    stream_function("max_record_age", Duration.days(8)),
    stream_function("max_record_age", -1),
    override(stream_function_of, "iterator_age", threshold=600),  # a number, not a Duration
    call(
        "StreamFunction-iterator-age-alarm-not-below-max-record-age",
        lambda s: stream_function_of(
            s,
            "X",
            max_record_age=Duration.minutes(5),
            alarm_settings=AlarmSettings(overrides={"iterator_age": AlarmOptions(threshold=Duration.minutes(5))}),
        ),
        "StreamFunction",
        PATH,
        "['iterator_age']",
        "max_record_age",
        "300 seconds",
    ),
    call(
        "StreamFunction-queue-alarm-override-on-a-given-queue",
        lambda s: stream_function_of(
            s,
            "X",
            on_failure_queue=ReliableQueue(s, "Q"),
            alarm_settings=AlarmSettings(overrides={"oldest_message_age": None}),
        ),
        "StreamFunction",
        PATH,
        "'oldest_message_age'",
        "on_failure_queue",
    ),
    call(
        "StreamFunction-function-in-another-stack", stream_function_in_another_stack, "StreamFunction", PATH, "'Other'"
    ),
    call(
        "StreamFunction-more-readers-than-planned",
        one_reader_too_many,
        "StreamFunction",
        PATH,
        "'T/Archive'",
        "Throughput(consumers=1)",
        "consumer 2",
    ),
]


# --- StreamProcessor ---
FLINK_CODE = Path(__file__).parent / "flink_code"


def SP(s: cdk.Stack, construct_id: str, **props: Any) -> StreamProcessor:
    """StreamProcessor with valid code and a two-shard source, ``props`` on top."""
    required = {
        "code": FlinkCode.python(FLINK_CODE, main="main.py"),
        "source": kinesis.Stream(s, "Source", shard_count=2),
    }
    return StreamProcessor(s, construct_id, **{**required, **props})


SP.__name__ = "StreamProcessor"
ROWS += [
    *alarm_settings_rows(SP, "downtime"),  # type: ignore[arg-type]
    construct(SP, "parallelism", 0),
    construct(SP, "parallelism", 257),
    construct(SP, "parallelism_per_kpu", 0),
    construct(SP, "parallelism_per_kpu", 9),
    Row(
        "StreamProcessor-kpus-over-quota",
        lambda s: SP(s, "X", parallelism=200, parallelism_per_kpu=2),  # 100 KPUs > the default 64
        ("StreamProcessor", PATH, "parallelism", "100 KPUs", "max_kpus 64"),
    ),
    Row(
        "StreamProcessor-kpus-over-a-raised-quota-by-default",  # the default parallelism (the shards) is checked too
        lambda s: SP(s, "X", source=kinesis.Stream(s, "Wide", shard_count=40), max_kpus=32),
        ("StreamProcessor", PATH, "parallelism", "40 KPUs"),
    ),
    Row(
        "StreamProcessor-custom-restore-without-snapshot",
        lambda s: SP(s, "X", restore="CUSTOM"),
        ("StreamProcessor", PATH, "restore", "restore_snapshot"),
    ),
    Row(
        "StreamProcessor-latest-restore-without-snapshots",
        lambda s: SP(s, "X", snapshots=False),
        ("StreamProcessor", PATH, "restore", "snapshots=False"),
    ),
    Row(
        "StreamProcessor-snapshot-name-without-custom",
        lambda s: SP(s, "X", restore_snapshot="nightly"),
        ("StreamProcessor", PATH, "restore_snapshot"),
    ),
    construct(SP, "runtime", "SQL-1_0"),
    construct(SP, "runtime", "ZEPPELIN-FLINK-3_0"),
    construct(SP, "runtime", "FLINK-1_6"),
    Row(
        "StreamProcessor-python-without-its-main-file",
        lambda s: SP(s, "X", code=FlinkCode.python(FLINK_CODE, main="app.py")),
        ("StreamProcessor", PATH, "code", "'app.py'"),
    ),
    Row(
        "StreamProcessor-python-zip-without-its-jarfile",
        lambda s: SP(s, "X", code=FlinkCode.python(FLINK_CODE, main="main.py", jarfile="lib/connectors.jar")),
        ("StreamProcessor", PATH, "code", "jarfile"),
    ),
    Row(
        "StreamProcessor-jar-that-is-not-a-jar",
        lambda s: SP(s, "X", code=FlinkCode.jar(FLINK_CODE / "main.py")),
        ("StreamProcessor", PATH, "code", ".jar"),
    ),
    Row(
        "StreamProcessor-py-requirements",
        lambda s: SP(s, "X", property_groups={"kinesis.analytics.flink.run.options": {"pyRequirements": "r.txt"}}),
        ("StreamProcessor", PATH, "property_groups", "pyRequirements"),
    ),
    construct(SP, "property_groups", {"bad group!": {"a": "b"}}),
    construct(SP, "property_groups", {"Job": {"a": ""}}),
    construct(SP, "checkpoint_interval", Duration.seconds(0)),
    construct(SP, "min_pause_between_checkpoints", 5),
    construct(SP, "log_level", "TRACE"),
    construct(SP, "metrics_level", "JOB"),
    construct(SP, "log_retention", None),
    Row(
        "StreamProcessor-log_retention-infinite",
        lambda s: SP(s, "X", log_retention=logs.RetentionDays.INFINITE),
        ("StreamProcessor", PATH, "log_retention", "INFINITE"),
    ),
    construct(SP, "source", None),
    with_scope(SP, "source", a_queue),
    with_scope(SP, "sinks", lambda s: {"Sink": a_queue(s)}),
    construct(SP, "application_name", "counts per key"),
    construct(SP, "start_after_deploy", "yes"),
    construct(SP, "removal_policy", RemovalPolicy.SNAPSHOT),
    with_scope(SP, "security_groups", lambda s: [ec2.SecurityGroup(s, "Sg", vpc=vpc(s))]),  # without vpc
]


def test_the_table_is_large() -> None:
    assert len(ROWS) >= 150, len(ROWS)


# --- QueueWorkers ---
def QW(s: cdk.Stack, construct_id: str, **props: Any) -> QueueWorkers:
    """QueueWorkers with valid required props, ``props`` on top (the row helpers take a class-like callable)."""
    required = {
        "queue": ReliableQueue(s, "WorkersJobs"),
        "vpc": vpc(s),
        "average_processing_time": Duration.millis(100),
        "latency_target": Duration.seconds(10),
        **WORKER,
    }
    return QueueWorkers(s, construct_id, **{**required, **props})


QW.__name__ = "QueueWorkers"
ROWS += [
    construct(QW, "average_processing_time", Duration.seconds(0)),
    construct(QW, "average_processing_time", 0.1),
    with_scope(QW, "average_processing_time", a_token),
    Row(
        "QueueWorkers-latency_target-below-processing",
        lambda s: QW(s, "X", average_processing_time=Duration.seconds(2), latency_target=Duration.seconds(1)),
        ("QueueWorkers", PATH, "latency_target", "2 seconds", "1 second"),
    ),
    construct(QW, "min_capacity", 0),
    construct(QW, "min_capacity", "1"),
    construct(QW, "max_capacity", 1001),
    Row(
        "QueueWorkers-max_capacity-below-min",
        lambda s: QW(s, "X", min_capacity=3, max_capacity=2),
        ("QueueWorkers", PATH, "max_capacity", "3", "2"),
    ),
    with_scope(QW, "queue", a_queue),  # an sqs.Queue, not a ReliableQueue
    construct(QW, "vpc", "vpc-0123456789abcdef0"),
    construct(QW, "vpc_subnets", ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)),
    Row(
        "QueueWorkers-vpc_subnets-public-by-name",
        lambda s: QW(s, "X", vpc_subnets=ec2.SubnetSelection(subnet_group_name="Public")),
        ("QueueWorkers", PATH, "vpc_subnets", "public"),
    ),
    construct(QW, "vpc_subnets", "private"),
    construct(QW, "instance_type", "t3.small"),
    construct(QW, "machine_image", "ami-0123456789abcdef0"),
    construct(QW, "root_volume_size", Size.gibibytes(4)),
    construct(QW, "root_volume_size", 8),
    construct(QW, "encryption_key", "alias/aws/ebs"),
    construct(QW, "handler", "worker.handle"),
    construct(QW, "handler", "worker:handle; rm -rf /"),
    construct(QW, "pip_requirements", "decoupling-constructs"),
    construct(QW, "pip_requirements", ["ok==1", "two\nlines"]),
    construct(QW, "user_data", "#!/bin/bash"),
    construct(QW, "alarm_topic", "alarms"),
    *alarm_settings_rows(QW, "backlog_per_instance"),
]


# --- fan-out across accounts: FanOut.grant_subscribe and SubscribedQueue ---
ORDERS_ARN = "arn:aws:sns:us-east-1:111111111111:orders"


def subscribed(s: cdk.Stack, **props: Any) -> Any:
    from decoupling_constructs import SubscribedQueue

    return SubscribedQueue(s, "X", **{"topic_arn": ORDERS_ARN, **props})


subscribed.__name__ = "SubscribedQueue"


def in_region(region: str) -> cdk.Stack:
    return cdk.Stack(cdk.App(), "T", env=cdk.Environment(account="222222222222", region=region))


def unnamed_fan_out_of_another_account(s: cdk.Stack) -> Any:
    from decoupling_constructs import SubscribedQueue

    app = s.node.root
    topics = cdk.Stack(app, "Topics", env=cdk.Environment(account="111111111111", region="us-east-1"))
    queues = cdk.Stack(app, "Q", env=cdk.Environment(account="222222222222", region="us-east-1"))
    return SubscribedQueue(queues, "X", topic=FanOut(topics, "Orders"))


def dlq_in_another_region(s: cdk.Stack) -> Any:
    stack = in_region("eu-west-1")
    return subscribed(stack, dead_letter_queue=sqs.Queue(stack, "Dlq"))


def fifo_mismatch(s: cdk.Stack) -> Any:
    return subscribed(s, queue_props={"fifo": True, "queue_name": "q.fifo"})


ROWS += [
    call(
        "grant_subscribe-11-digits",
        lambda s: fan_out(s).grant_subscribe(["11111111111"]),
        "FanOut",
        PATH,
        "grant_subscribe",
        "accounts[0]",
        "12-digit",
    ),
    call(
        "grant_subscribe-account-int",
        lambda s: fan_out(s).grant_subscribe([111111111111]),
        "FanOut",
        PATH,
        "accounts[0]",
    ),  # type: ignore[list-item]
    call(
        "grant_subscribe-account-str", lambda s: fan_out(s).grant_subscribe("111111111111"), "FanOut", PATH, "accounts"
    ),  # type: ignore[arg-type]
    call(
        "grant_subscribe-nobody",
        lambda s: fan_out(s).grant_subscribe(),
        "FanOut",
        PATH,
        "grant_subscribe",
        "accounts or organization_ids",
    ),
    call(
        "grant_subscribe-org",
        lambda s: fan_out(s).grant_subscribe(organization_ids=["a1b2c3d4e5"]),
        "FanOut",
        PATH,
        "organization_ids[0]",
    ),
    call(
        "grant_subscribe-protocol",
        lambda s: fan_out(s).grant_subscribe(["111111111111"], protocols=["SQS"]),
        "FanOut",
        PATH,
        "protocols[0]",
    ),
    call(
        "grant_subscribe-protocols-empty",
        lambda s: fan_out(s).grant_subscribe(["111111111111"], protocols=[]),
        "FanOut",
        PATH,
        "protocols",
    ),
    call("SubscribedQueue-no-topic", lambda s: subscribed(s, topic_arn=None), "SubscribedQueue", PATH, "topic_arn"),
    call(
        "SubscribedQueue-topic_arn-queue-arn",
        lambda s: subscribed(s, topic_arn="arn:aws:sqs:us-east-1:111111111111:q"),
        "SubscribedQueue",
        PATH,
        "topic_arn",
    ),
    call(
        "SubscribedQueue-topic_arn-11-digit-account",
        lambda s: subscribed(s, topic_arn="arn:aws:sns:us-east-1:11111111111:orders"),
        "SubscribedQueue",
        PATH,
        "topic_arn",
    ),
    call(
        "SubscribedQueue-topic_arn-token",
        lambda s: subscribed(s, topic_arn=cdk.Fn.import_value("TopicArn")),
        "SubscribedQueue",
        PATH,
        "topic_arn",
        "synth time",
    ),
    call(
        "SubscribedQueue-topic-not-a-fan-out",
        lambda s: subscribed(s, topic_arn=None, topic=sns.Topic(s, "Plain")),
        "SubscribedQueue",
        PATH,
        "topic",
        "FanOut",
    ),
    call(
        "SubscribedQueue-dlq-other-region",
        dlq_in_another_region,
        "SubscribedQueue",
        "'T/X'",
        "dead_letter_queue",
        "topic's Region (us-east-1)",
        "eu-west-1",
        "CloudFormation cannot",
    ),
    call(
        "SubscribedQueue-aws-managed-key",
        lambda s: subscribed(s, queue_props={"encryption_key": kms.Alias.from_alias_name(s, "A", "alias/aws/sqs")}),
        "SubscribedQueue",
        PATH,
        "queue_props['encryption_key']",
        "alias/aws/sqs",
    ),
    call(
        "SubscribedQueue-fifo-mismatch", fifo_mismatch, "SubscribedQueue", PATH, "queue_props['fifo']", "standard topic"
    ),
    call(
        "SubscribedQueue-unnamed-topic-across-environments",
        unnamed_fan_out_of_another_account,
        "SubscribedQueue",
        "'Q/X'",
        "topic",
        "explicit topic_name",
    ),
    call(
        "SubscribedQueue-queue_props-unknown",
        lambda s: subscribed(s, queue_props={"queue_nme": "q"}),
        "SubscribedQueue",
        PATH,
        "queue_props",
        "queue_name",
    ),
    call(
        "SubscribedQueue-raw",
        lambda s: subscribed(s, raw_message_delivery="yes"),
        "SubscribedQueue",
        PATH,
        "raw_message_delivery",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_bad_input_is_a_clear_error(row: Row) -> None:
    with pytest.raises((ValueError, TypeError)) as caught:
        row.build(stack())
    error = caught.value
    assert "jsii" not in type(error).__module__ and "Unable to deserialize" not in str(error), repr(error)
    message = str(error)
    for name in row.names:
        assert name in message, f"{name!r} missing from: {message}"


def test_wrong_types_are_type_errors_that_are_also_value_errors() -> None:
    with pytest.raises(PropTypeError) as caught:
        ReliableQueue(stack(), "X", max_receive_count="5")  # type: ignore[arg-type]
    assert isinstance(caught.value, TypeError) and isinstance(caught.value, ValueError)


def test_a_nested_error_names_the_innermost_construct_once() -> None:
    """add_queue's ReliableQueue reports its own path, not wrapped again by the FanOut's."""
    with pytest.raises(ValueError) as caught:
        FanOut(stack(), "X").add_queue("Billing", max_receive_count=0)
    assert str(caught.value).startswith("ReliableQueue 'T/X/Billing': max_receive_count must be 1-1000")


def test_tokens_still_pass_where_the_value_is_only_passed_on() -> None:
    s = stack()
    name = Token.as_string({"Ref": "QueueName"})
    ReliableQueue(s, "X", queue_name=name, visibility_timeout=Duration.seconds(Token.as_number({"Ref": "V"})))
    StreamToS3(s, "Y", shard_count=Token.as_number({"Ref": "Shards"}), removal_policy=RemovalPolicy.DESTROY)
    MessageBroker(s, "Z", instance_type=Token.as_string({"Ref": "Type"}))
