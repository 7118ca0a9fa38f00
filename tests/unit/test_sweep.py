"""Issue 19's fresh sweep: wrong inputs across every public entry point, written before the fixes.

Each row is one wrong input (or one token that is only passed on, which must synthesize). A wrong input
must end in a *clear* error:

* a ``ValueError`` or ``TypeError`` (``PropTypeError`` is both) raised by the library, not by aws-cdk-lib,
  jsii or Python on the library's behalf;
* its message names the construct class, the construct path (``'T/X'``), the prop with its full path
  (``alarm_settings.overrides['cpu_utilization'].threshold``, ``queue_props['queue_name']``) and the value
  as the user wrote it (its repr, or a readable form such as ``1.5 seconds`` or ``17408 GiB``); a token the
  library needs at synth time is refused in words (``must be known at synth time``);
* no internal encoding or jsii in it (``${Token[``, ``-1.888e+289``, ``jsii``);
* an error of aws-cdk-lib that led to it is kept as ``__cause__``.

The runtime helpers and ``Throughput`` have no path: their errors name the class, the option and the value.
A pass row builds the construct and synthesizes its stack: no error, and no token encoding in the template.

After issue 19's fixes every row is clear and ``FAILING_TODAY`` is empty; a new row that fails goes there with
its cause until it is fixed. Outcome on main (09bc90a), before the fixes (rows of ``FAILING_TODAY`` are strict
xfails; each fix turns its rows into XPASS failures, and the fixer deletes their entries):

    wrong inputs: 289
      clear    158
      unclear   53  (an error of the library, but the class, path, prop or value is missing, the token is not
                     refused in words, an encoding is printed, or the aws-cdk-lib error is not kept as __cause__)
      silent    61  (no error at all)
      raw       17  (an error of aws-cdk-lib, jsii or Python, not the library's)
    pass rows (tokens only passed on): 37
      passes    32
      refused    5  (refused, or synthesized with a token's numeric encoding in the template)

Run time (one pytest process; 2 cores shared with other sessions): 31 s of rows at a light load (26 s of it the
first synthesis starting up), 66-127 s at load averages of 18-21.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import aws_cdk as cdk
import boto3
import jsii
import pytest
from aws_cdk import Duration, RemovalPolicy, Size, SizeRoundingBehavior, Token, cx_api
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from decoupling_constructs import (
    AlarmOptions,
    AlarmSettings,
    AlarmTopic,
    BrokerEngine,
    DeploymentMode,
    FanOut,
    MessageBroker,
    QueueFunction,
    QueueWorkers,
    ReliableQueue,
    StreamFunction,
    StreamToS3,
    Throughput,
)
from decoupling_constructs.runtime import QueueConsumer, QueueProducer, StreamProducer, TopicPublisher
from tests.unit.test_queue_workers import WORKER, WORKER_CODE

PATH = "'T/X'"  # every construct row builds X in stack T
SYNTH = "known at synth time"
FORBIDDEN = ("${Token[", "e+289", "-1.888", "jsii", "JSII")
LIBRARY = os.sep + "decoupling_constructs" + os.sep


# --- the rows ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """``build(stack)`` must raise a clear error naming ``cls``, ``path``, ``prop``, one of ``shows`` and every
    one of ``words``; with ``passes``, it must build and synthesize instead."""

    id: str
    build: Callable[[cdk.Stack], object]
    cls: str
    prop: str = ""
    shows: tuple[str, ...] = ()
    path: str | None = PATH
    words: tuple[str, ...] = ()
    passes: bool = False
    synth: bool = False  # synthesize after building (cross-App references and name clashes show only then)
    warning_ok: bool = False  # a synth-time warning saying the same is as good as an error (alarm-name clashes)


def maker(*shows: str, words: tuple[str, ...] = ()) -> Callable[[Callable[[cdk.Stack], Any]], Any]:
    """Mark ``f(stack)`` as a value built in the row's stack (a token, a construct...); ``shows`` are the
    forms a message may name it by, ``words`` what it must say besides (``known at synth time``)."""

    def wrap(f: Callable[[cdk.Stack], Any]) -> Any:
        f.shows = shows  # type: ignore[attr-defined]
        f.words = words  # type: ignore[attr-defined]
        return f

    return wrap


def is_maker(value: object) -> bool:
    return callable(value) and hasattr(value, "shows")


def resolve(value: Any, s: cdk.Stack) -> Any:
    if is_maker(value):
        return value(s)
    if isinstance(value, dict):
        return {k: resolve(v, s) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, s) for v in value]
    return value


def words_of(value: Any) -> tuple[str, ...]:
    """What a message about ``value`` must say besides its name (a maker's ``words``, in a list too)."""
    if isinstance(value, list):
        return tuple(word for item in value for word in words_of(item))
    return tuple(getattr(value, "words", ()))


def ident(value: Any) -> str:
    """A test id part that is the same in every run (no memory addresses)."""
    if is_maker(value):
        return str(value.__name__)
    if value is None or isinstance(value, (str, int, float, bool)):
        return repr(value)[:40].replace(" ", "_")
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(ident(item) for item in value) + "]"
    if isinstance(value, dict):
        return ("{" + ",".join(f"{key}:{ident(item)}" for key, item in value.items()) + "}")[:40]
    if isinstance(value, Duration):
        return f"Duration.{value.to_iso_string()}"
    if isinstance(value, Size):
        return f"Size({_n(value.to_kibibytes(rounding=SizeRoundingBehavior.NONE))}KiB)"
    return type(value).__name__ + (f".{value.name}" if hasattr(value, "name") and isinstance(value.name, str) else "")


def _n(x: float) -> str:
    return str(int(x)) if x == int(x) else f"{x:g}"


def forms(value: Any) -> tuple[str, ...]:
    """How a message may show ``value`` as the user wrote it: its repr, or a readable form."""
    if is_maker(value):
        return tuple(value.shows)
    if isinstance(value, bool) or value is None:
        return (repr(value),)
    if isinstance(value, int):
        return (str(value), f"{value:,}")
    if isinstance(value, float):
        return (repr(value), f"{value:g}") + (
            (str(int(value)),) if math.isfinite(value) and value == int(value) else ()
        )
    if isinstance(value, str):
        return (repr(value[:30]).rstrip("'"),) if value else ("''",)
    if isinstance(value, Duration):
        seconds = value.to_seconds(integral=False)
        ms = value.to_milliseconds(integral=False)
        return (
            value.to_human_string(),
            f"{_n(seconds)} second",
            f"{seconds:,g} second",
            f"{_n(ms)} ms",
            f"{_n(ms)} milli",
            value.to_iso_string(),
        )
    if isinstance(value, Size):
        kib = value.to_kibibytes(rounding=SizeRoundingBehavior.NONE)
        return tuple(f"{_n(kib / 1024**p)} {unit}" for p, unit in enumerate(("KiB", "MiB", "GiB", "TiB")))
    if isinstance(value, (list, tuple)):
        return (repr(value)[:30], *(form for item in value for form in forms(item)))
    if isinstance(value, dict):
        return (repr(value)[:30], *(form for item in value.values() for form in forms(item)))
    if hasattr(value, "node"):
        return (repr(value.node.path), type(value).__name__)
    if hasattr(value, "name") and isinstance(value.name, str):
        return (value.name,)
    return (type(value).__name__,)


def bad(
    cls: Callable[..., Any],
    prop: str,
    value: Any,
    *,
    shows: tuple[str, ...] | None = None,
    words: tuple[str, ...] | None = None,
    **others: Any,
) -> Row:
    """``cls(stack, "X", prop=value, **others)`` must be refused, naming ``cls``, its path, ``prop`` and the value."""
    name = cls.__name__
    return Row(
        f"{name}-{prop}-{ident(value)}" + (f"-with-{'+'.join(others)}" if others else ""),
        lambda s: cls(s, "X", **{prop: resolve(value, s)}, **resolve(others, s)),
        name,
        prop,
        shows if shows is not None else forms(value),
        words=words_of(value) if words is None else words,
    )


def ok(cls: Callable[..., Any], prop: str, value: Any, **others: Any) -> Row:
    """``cls(stack, "X", prop=value, **others)`` with a token only passed on: it builds and synthesizes."""
    name = cls.__name__
    return Row(
        f"{name}-{prop}-{ident(value)}-passes",
        lambda s: cls(s, "X", **{prop: resolve(value, s)}, **resolve(others, s)),
        name,
        prop,
        passes=True,
    )


def option(cls: Callable[..., Any], key: str, field: str, value: Any, **others: Any) -> Row:
    """``alarm_settings.overrides[key] = AlarmOptions(field=value)`` must be refused, naming its full path."""
    name = cls.__name__

    def build(s: cdk.Stack) -> object:
        options = AlarmOptions(**{field: resolve(value, s)})
        return cls(s, "X", alarm_settings=AlarmSettings(overrides={key: options}), **resolve(others, s))

    suffix = f"-{ident(others)}" if others else ""
    return Row(
        f"{name}-overrides-{key}-{field}-{ident(value)}{suffix}",
        build,
        name,
        f"alarm_settings.overrides[{key!r}].{field}",
        forms(value),
        words=words_of(value),
    )


def setting(cls: Callable[..., Any], field: str, value: Any) -> Row:
    """``alarm_settings=AlarmSettings(field=value)`` must be refused, naming ``alarm_settings.<field>``."""
    name = cls.__name__
    return Row(
        f"{name}-alarm_settings.{field}-{ident(value)}",
        lambda s: cls(s, "X", alarm_settings=AlarmSettings(**{field: resolve(value, s)})),
        name,
        f"alarm_settings.{field}",
        forms(value),
        words=words_of(value),
    )


def call(
    name: str,
    build: Callable[[cdk.Stack], object],
    cls: str,
    prop: str,
    *shows: str,
    path: str | None = PATH,
    words: tuple[str, ...] = (),
    synth: bool = False,
) -> Row:
    return Row(name, build, cls, prop, shows, path=path, words=words, synth=synth)


# --- values built in the row's stack ---------------------------------------------------------------------


@jsii.implements(cdk.IStableNumberProducer)
class _Five:
    def produce(self) -> int:
        return 5


@jsii.implements(cdk.IStableStringProducer)
class _Name:
    def produce(self) -> str:
        return "lazy-name"


@maker("parameter", words=(SYNTH,))
def param_number(s: cdk.Stack) -> float:
    return cdk.CfnParameter(s, "P", type="Number").value_as_number


@maker("parameter", words=(SYNTH,))
def param_string(s: cdk.Stack) -> str:
    return cdk.CfnParameter(s, "P").value_as_string


@maker("parameter", words=(SYNTH,))
def param_seconds(s: cdk.Stack) -> Duration:
    return Duration.seconds(cdk.CfnParameter(s, "P", type="Number").value_as_number)


@maker("parameter", words=(SYNTH,))
def param_minutes(s: cdk.Stack) -> Duration:
    return Duration.minutes(cdk.CfnParameter(s, "P", type="Number").value_as_number)


@maker("parameter", words=(SYNTH,))
def param_hours(s: cdk.Stack) -> Duration:
    return Duration.hours(cdk.CfnParameter(s, "P", type="Number").value_as_number)


@maker("parameter", words=(SYNTH,))
def param_gib(s: cdk.Stack) -> Size:
    return Size.gibibytes(cdk.CfnParameter(s, "P", type="Number").value_as_number)


@maker("parameter", words=(SYNTH,))
def param_mib(s: cdk.Stack) -> Size:
    return Size.mebibytes(cdk.CfnParameter(s, "P", type="Number").value_as_number)


@maker("Lazy", "lazy", "token", words=(SYNTH,))
def lazy_number(s: cdk.Stack) -> float:
    return cdk.Lazy.number(_Five())


@maker("Lazy", "lazy", "token", words=(SYNTH,))
def lazy_seconds(s: cdk.Stack) -> Duration:
    return Duration.seconds(cdk.Lazy.number(_Five()))


@maker("Lazy", "lazy", "token", words=(SYNTH,))
def lazy_string(s: cdk.Stack) -> str:
    return cdk.Lazy.string(_Name())


@maker("import", "Fn::ImportValue", "token", words=(SYNTH,))
def imported_string(s: cdk.Stack) -> str:
    return cdk.Fn.import_value("SharedName")


@maker("import", "Fn::ImportValue", "token", words=(SYNTH,))
def imported_number(s: cdk.Stack) -> float:
    return Token.as_number(cdk.Fn.import_value("SharedNumber"))


@maker("import", "Fn::ImportValue", "token", words=(SYNTH,))
def imported_seconds(s: cdk.Stack) -> Duration:
    return Duration.seconds(Token.as_number(cdk.Fn.import_value("SharedSeconds")))


def another_app_stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Other")


@maker("'Other/Key'", "another App", "another app")
def key_of_another_app(s: cdk.Stack) -> kms.Key:
    return kms.Key(another_app_stack(), "Key")


@maker("'Other/Topic'", "another App", "another app")
def topic_of_another_app(s: cdk.Stack) -> sns.Topic:
    return sns.Topic(another_app_stack(), "Topic")


@maker("'Other/Alarms'", "another App", "another app")
def alarm_topic_of_another_app(s: cdk.Stack) -> AlarmTopic:
    return AlarmTopic(another_app_stack(), "Alarms")


@maker("'Other/Jobs'", "another App", "another app")
def queue_of_another_app(s: cdk.Stack) -> ReliableQueue:
    return ReliableQueue(another_app_stack(), "Jobs", visibility_timeout=Duration.minutes(5))


@maker("'Other/Queue'", "another App", "another app")
def sqs_queue_of_another_app(s: cdk.Stack) -> sqs.Queue:
    return sqs.Queue(another_app_stack(), "Queue")


@maker("'Other/Fn'", "another App", "another app")
def function_of_another_app(s: cdk.Stack) -> lambda_.Function:
    return a_function(another_app_stack())


@maker("'Other/Ds'", "another App", "another app")
def delivery_stream_of_another_app(s: cdk.Stack) -> firehose.DeliveryStream:
    other = another_app_stack()
    return firehose.DeliveryStream(other, "Ds", destination=firehose.S3Bucket(s3.Bucket(other, "B")))


@maker("'Other/Clicks'", "another App", "another app")
def stream_of_another_app(s: cdk.Stack) -> kinesis.Stream:
    return kinesis.Stream(another_app_stack(), "Clicks", shard_count=1)


@maker("'Other/Bucket'", "another App", "another app")
def bucket_of_another_app(s: cdk.Stack) -> s3.Bucket:
    return s3.Bucket(another_app_stack(), "Bucket")


@maker("'Other/Vpc'", "another App", "another app")
def vpc_of_another_app(s: cdk.Stack) -> ec2.Vpc:
    return vpc(another_app_stack())


@maker("FIFO", "fifo", "'T/AlarmsFifo'")
def fifo_alarm_topic(s: cdk.Stack) -> sns.Topic:
    return sns.Topic(s, "AlarmsFifo", fifo=True, topic_name="alarms.fifo")


@maker("alias/aws/sns")
def aws_managed_alarm_topic(s: cdk.Stack) -> sns.Topic:
    return sns.Topic(s, "AlarmsAwsKey", master_key=kms.Alias.from_alias_name(s, "AwsSns", "alias/aws/sns"))


@maker("alias/aws/sqs")
def aws_managed_sqs_key(s: cdk.Stack) -> kms.IAlias:
    return kms.Alias.from_alias_name(s, "AwsSqs", "alias/aws/sqs")


@maker("'T/SomeQueue'", "Queue")
def an_sqs_queue(s: cdk.Stack) -> sqs.Queue:
    return sqs.Queue(s, "SomeQueue")


@maker("'T/SomeTopic'", "Topic")
def an_sns_topic(s: cdk.Stack) -> sns.Topic:
    return sns.Topic(s, "SomeTopic")


@maker("'T/SomeStream'", "Stream")
def a_kinesis_stream(s: cdk.Stack) -> kinesis.Stream:
    return kinesis.Stream(s, "SomeStream", shard_count=1)


@maker("'T/Other'", "FanOut")
def a_fan_out(s: cdk.Stack) -> FanOut:
    return FanOut(s, "Other")


@maker("LifecycleRule")
def one_lifecycle_rule(s: cdk.Stack) -> s3.LifecycleRule:
    return s3.LifecycleRule(expiration=Duration.days(30))


@maker("SnsAction", "'T/SomeTopic'")
def a_single_action(s: cdk.Stack) -> cw_actions.SnsAction:
    return cw_actions.SnsAction(sns.Topic(s, "SomeTopic"))


@maker("Topic", "'T/SomeTopic'")
def topics_not_actions(s: cdk.Stack) -> list[sns.Topic]:
    return [sns.Topic(s, "SomeTopic")]


@maker()
def bucket_named_by_param(s: cdk.Stack) -> s3.IBucket:
    return s3.Bucket.from_bucket_name(s, "Own", param_string(s))


@maker()
def stream_by_param_arn(s: cdk.Stack) -> kinesis.IStream:
    return kinesis.Stream.from_stream_arn(s, "S", param_string(s))


# --- the constructs, with valid required props -------------------------------------------------------------


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


def a_function(s: cdk.Stack, construct_id: str = "Fn", **props: Any) -> lambda_.Function:
    return lambda_.Function(
        s,
        construct_id,
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context): pass"),
        timeout=props.pop("timeout", Duration.seconds(20)),
        **props,
    )


def QF(s: cdk.Stack, construct_id: str, **props: Any) -> QueueFunction:
    return QueueFunction(s, construct_id, **{"function": props.pop("function", None) or a_function(s), **props})


QF.__name__ = "QueueFunction"


def SF(s: cdk.Stack, construct_id: str, **props: Any) -> StreamFunction:
    function = props.pop("function", None) or a_function(s)
    stream = props.pop("stream", None) or kinesis.Stream(s, "Clicks", shard_count=1)
    return StreamFunction(s, construct_id, function=function, stream=stream, **props)


SF.__name__ = "StreamFunction"


def QW(s: cdk.Stack, construct_id: str, **props: Any) -> QueueWorkers:
    required = {
        "queue": props.pop("queue", None) or ReliableQueue(s, "WorkersJobs"),
        "vpc": props.pop("vpc", None) or vpc(s),
        "average_processing_time": Duration.millis(100),
        "latency_target": Duration.seconds(10),
        **WORKER,  # the handler and its code (tests/unit/worker_code), required since issue 20
    }
    return QueueWorkers(s, construct_id, **{**required, **props})


QW.__name__ = "QueueWorkers"


def RABBIT(s: cdk.Stack, construct_id: str, **props: Any) -> MessageBroker:
    return MessageBroker(s, construct_id, engine=BrokerEngine.RABBITMQ, **props)


RABBIT.__name__ = "MessageBroker"

RQ, FO, SS, MB = ReliableQueue, FanOut, StreamToS3, MessageBroker
ALARM_KEY = {
    RQ: "dead_letter_queue",
    FO: "notifications_failed",
    SS: "iterator_age",
    MB: "cpu_utilization",
    QF: "function_errors",
    SF: "function_throttles",
    QW: "backlog_per_instance",
}

ROWS: list[Row] = []

# --- every field of AlarmSettings/AlarmOptions, and alarm_topic, as given to each construct ---
for _cls, _key in ALARM_KEY.items():
    ROWS += [
        setting(_cls, "name_prefix", param_string),
        setting(_cls, "name_prefix", "p" * 65),
        setting(_cls, "name_prefix", 5),
        setting(_cls, "ok_actions", a_single_action),
        setting(_cls, "alarm_actions", topics_not_actions),
        setting(_cls, "overrides", [(_key, None)]),
        Row(
            f"{_cls.__name__}-overrides-{_key}-a-dict",
            lambda s, c=_cls, k=_key: c(s, "X", alarm_settings=AlarmSettings(overrides={k: {"threshold": 5}})),
            _cls.__name__,
            f"alarm_settings.overrides[{_key!r}]",
            ("{'threshold': 5}",),
        ),
        option(_cls, _key, "evaluation_periods", 1441),
        option(_cls, _key, "evaluation_periods", 2.0),
        option(_cls, _key, "datapoints_to_alarm", 0),
        option(_cls, _key, "treat_missing_data", cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD),
        bad(_cls, "alarm_topic", fifo_alarm_topic),
        bad(_cls, "alarm_topic", aws_managed_alarm_topic),
    ]

# --- ReliableQueue ---
ROWS += [
    bad(RQ, "visibility_timeout", Duration.seconds(43201)),
    bad(RQ, "visibility_timeout", Duration.minutes(720.5)),
    bad(RQ, "visibility_timeout", "30"),
    bad(RQ, "visibility_timeout", 30.0),
    bad(RQ, "visibility_timeout", {"seconds": 30}),
    ok(RQ, "visibility_timeout", param_seconds),
    bad(RQ, "receive_message_wait_time", Duration.millis(20500)),
    bad(RQ, "receive_message_wait_time", Duration.minutes(1)),
    ok(RQ, "receive_message_wait_time", lazy_seconds),
    bad(RQ, "retention_period", Duration.seconds(1209601)),
    bad(RQ, "retention_period", Duration.days(14.5)),
    bad(RQ, "retention_period", Duration.millis(59999)),
    ok(RQ, "retention_period", imported_seconds),
    bad(RQ, "max_receive_count", 5.0),
    bad(RQ, "max_receive_count", -1),
    bad(RQ, "max_receive_count", [5]),
    ok(RQ, "max_receive_count", param_number),
    ok(RQ, "queue_name", param_string),
    bad(RQ, "queue_name", imported_string, fifo=True),  # aws-cdk-lib checks a FIFO queue's name: needed at synth
    bad(RQ, "queue_name", "orders.FIFO", fifo=True),
    bad(RQ, "queue_name", " orders"),
    bad(RQ, "queue_name", "x" * 72 + ".fifo", fifo=True),
    bad(RQ, "fifo", None),
    bad(RQ, "fifo", "False"),
    bad(RQ, "encryption_key", an_sqs_queue),
    Row(
        "ReliableQueue-encryption_key-of-another-app",
        lambda s: RQ(s, "X", encryption_key=key_of_another_app(s)),
        "ReliableQueue",
        "encryption_key",
        key_of_another_app.shows,  # type: ignore[attr-defined]
        synth=True,
    ),
    bad(RQ, "removal_policy", RemovalPolicy.SNAPSHOT),
    bad(RQ, "removal_policy", sqs.QueueEncryption.KMS),
    bad(RQ, "alarm_topic", a_fan_out),
    Row(
        "ReliableQueue-alarm_topic-of-another-app",
        lambda s: RQ(s, "X", alarm_topic=alarm_topic_of_another_app(s)),
        "ReliableQueue",
        "alarm_topic",
        alarm_topic_of_another_app.shows,  # type: ignore[attr-defined]
        synth=True,
    ),
    option(RQ, "dead_letter_queue", "threshold", 0),  # >= 0: always in ALARM
    option(RQ, "dead_letter_queue", "threshold", True),
    option(RQ, "dead_letter_queue", "threshold", "1"),
    ok(RQ, "max_receive_count", lazy_number),
    option(RQ, "oldest_message_age", "threshold", Duration.days(5)),  # past the 4-day retention
    option(RQ, "oldest_message_age", "threshold", param_seconds),
]

# --- FanOut: constructor ---
ROWS += [
    ok(FO, "topic_name", param_string),
    ok(FO, "topic_name", imported_string),
    bad(FO, "topic_name", "x" * 252 + ".fifo", fifo=True),
    bad(FO, "topic_name", ""),
    bad(FO, "service_publishers", [param_string]),
    bad(FO, "service_publishers", ["sqs.amazonaws.com "]),
    bad(FO, "encryption_key", an_sns_topic),
    Row(
        "FanOut-encryption_key-of-another-app",
        lambda s: FO(s, "X", encryption_key=key_of_another_app(s)),
        "FanOut",
        "encryption_key",
        key_of_another_app.shows,  # type: ignore[attr-defined]
        synth=True,
    ),
    bad(FO, "removal_policy", RemovalPolicy.SNAPSHOT),
    bad(FO, "content_based_deduplication", None, fifo=True),
    option(FO, "notifications_failed", "threshold", 0),  # >= 0: always in ALARM
    option(FO, "undeliverable_queue", "threshold", Duration.seconds(0)),
]


def fan_out_call(method: str, prop: str, value: Any, target: Callable[[cdk.Stack], Any] | None = None) -> Row:
    """``FanOut(...).<method>(...)`` with ``prop=value``: names FanOut, its path, the method and the prop."""

    def build(s: cdk.Stack) -> object:
        fan_out = FO(s, "X")
        given = resolve(value, s)
        if method == "add_queue":
            return fan_out.add_queue("Billing", **{prop: given})
        if method == "add_existing_queue":
            return fan_out.add_existing_queue(target(s) if target else sqs.Queue(s, "Own"), **{prop: given})
        assert target is not None
        return getattr(fan_out, method)("Push", target(s), **{prop: given})

    return Row(
        f"{method}-{prop}-{ident(value)}",
        build,
        "FanOut",
        f"{method}",
        forms(value),
        words=(prop, *words_of(value)),
    )


def push_target(method: str) -> Callable[[cdk.Stack], Any]:
    def target(s: cdk.Stack) -> Any:
        if method == "add_function":
            return a_function(s, "PushFn")
        return firehose.DeliveryStream(s, "Ds", destination=firehose.S3Bucket(s3.Bucket(s, "B")))

    return target


def fan_out_target(method: str, make: Any) -> Row:
    """``FanOut(...).<method>(<make(stack)>)``: a wrong target."""

    def build(s: cdk.Stack) -> object:
        fan_out = FO(s, "X")
        if method == "add_existing_queue":
            return fan_out.add_existing_queue(make(s))
        return getattr(fan_out, method)("Push", make(s))

    prop = {"add_existing_queue": "queue", "add_function": "function", "add_delivery_stream": "delivery_stream"}[method]
    return Row(f"{method}-{prop}-{make.__name__}", build, "FanOut", method, make.shows, words=(prop,), synth=True)


def fan_out_passes(name: str, build: Callable[[cdk.Stack], object]) -> Row:
    return Row(f"FanOut-{name}-passes", build, "FanOut", passes=True)


string = sns.SubscriptionFilter.string_filter
numeric = sns.SubscriptionFilter.numeric_filter

# --- FanOut: add_queue (options passed on to ReliableQueue name the innermost construct, as the table does) ---
ROWS += [
    Row(
        "add_queue-encryption_key-alias-aws-sqs",
        lambda s: FO(s, "X").add_queue("Billing", encryption_key=aws_managed_sqs_key(s)),
        "FanOut",
        "encryption_key",
        ("alias/aws/sqs",),
        words=("add_queue",),
    ),
    Row(
        "add_queue-visibility_timeout-13h",
        lambda s: FO(s, "X").add_queue("Billing", visibility_timeout=Duration.hours(13)),
        "ReliableQueue",
        "visibility_timeout",
        forms(Duration.hours(13)),
        path="'T/X/Billing'",
    ),
    Row(
        "add_queue-retention_period-15d",
        lambda s: FO(s, "X").add_queue("Billing", retention_period=Duration.days(15)),
        "ReliableQueue",
        "retention_period",
        forms(Duration.days(15)),
        path="'T/X/Billing'",
    ),
    Row(
        "add_queue-oldest-age-past-retention",
        lambda s: FO(s, "X").add_queue(
            "Billing",
            alarm_settings=AlarmSettings(overrides={"oldest_message_age": AlarmOptions(threshold=Duration.days(5))}),
        ),
        "ReliableQueue",
        "alarm_settings.overrides['oldest_message_age'].threshold",
        forms(Duration.days(5)),
        path="'T/X/Billing'",
    ),
    fan_out_passes("add_queue-queue_name-param", lambda s: FO(s, "X").add_queue("B", queue_name=param_string(s))),
    fan_out_passes(
        "add_queue-max_receive_count-param", lambda s: FO(s, "X").add_queue("B", max_receive_count=param_number(s))
    ),
    fan_out_passes(
        "add_queue-filter-param-string",
        lambda s: FO(s, "X").add_queue("B", filter_policy={"region": string(allowlist=[param_string(s)])}),
    ),
    fan_out_call("add_queue", "raw_message_delivery", None),
    fan_out_call("add_queue", "filter_policy", {"region": ["eu", "us"]}),
    Row(
        "add_queue-id-Topic",  # the FanOut's own topic's id
        lambda s: FO(s, "X").add_queue("Topic"),
        "FanOut",
        "construct_id",
        ("'Topic'",),
        words=("add_queue",),
    ),
]

# --- FanOut: add_existing_queue ---
ROWS += [
    fan_out_target("add_existing_queue", sqs_queue_of_another_app),
    Row(
        "add_existing_queue-kms-managed-queue",  # alias/aws/sqs: SNS cannot use it, deliveries fail
        lambda s: FO(s, "X").add_existing_queue(sqs.Queue(s, "Own", encryption=sqs.QueueEncryption.KMS_MANAGED)),
        "FanOut",
        "queue",
        ("alias/aws/sqs", "KMS_MANAGED", "'T/Own'"),
        words=("add_existing_queue",),
    ),
    Row(
        "add_existing_queue-imported-fifo-on-standard",  # the ARN says FIFO: a standard topic cannot deliver to it
        lambda s: FO(s, "X").add_existing_queue(
            sqs.Queue.from_queue_arn(s, "Imported", "arn:aws:sqs:eu-west-1:111111111111:jobs.fifo")
        ),
        "FanOut",
        "queue",
        ("jobs.fifo", "'Imported'"),
        words=("add_existing_queue",),
    ),
    fan_out_call("add_existing_queue", "raw_message_delivery", "true"),
    fan_out_call("add_existing_queue", "construct_id", ""),
    fan_out_passes(
        "add_existing_queue-imported-by-param-arn",
        lambda s: FO(s, "X").add_existing_queue(sqs.Queue.from_queue_arn(s, "Q", param_string(s))),
    ),
]

# --- FanOut: add_function and add_delivery_stream ---
for _method in ("add_function", "add_delivery_stream"):
    ROWS += [
        fan_out_call(_method, "filter_policy", {"region": ["eu"]}, push_target(_method)),
        fan_out_call(_method, "filter_policy_with_message_body", {"amount": 1}, push_target(_method)),
    ]
ROWS += [
    fan_out_target("add_function", function_of_another_app),
    fan_out_target("add_function", an_sqs_queue),
    fan_out_passes(
        "add_function-imported-by-param-arn",
        lambda s: FO(s, "X").add_function("P", lambda_.Function.from_function_arn(s, "F", param_string(s))),
    ),
    fan_out_target("add_delivery_stream", delivery_stream_of_another_app),
    fan_out_target("add_delivery_stream", a_kinesis_stream),
    fan_out_call("add_delivery_stream", "raw_message_delivery", 0, push_target("add_delivery_stream")),
    fan_out_passes(
        "add_delivery_stream-imported",
        lambda s: FO(s, "X").add_delivery_stream(
            "P", firehose.DeliveryStream.from_delivery_stream_name(s, "D", param_string(s))
        ),
    ),
]

# --- StreamToS3 ---
ROWS += [
    ok(SS, "shard_count", param_number),
    bad(SS, "shard_count", 1.0),
    bad(SS, "shard_count", -1),
    bad(SS, "retention_period", Duration.hours(23.5)),
    bad(SS, "retention_period", Duration.days(366)),
    bad(SS, "retention_period", Duration.minutes(1439)),
    ok(SS, "retention_period", param_hours),
    bad(SS, "retention_period", param_seconds, shows=("hours",), words=()),  # aws-cdk-lib takes a token in hours only
    bad(SS, "buffering_interval", param_seconds),
    bad(SS, "buffering_interval", lazy_seconds),
    bad(SS, "buffering_interval", Duration.minutes(15.5)),
    bad(SS, "buffering_interval", Duration.minutes(16)),
    bad(SS, "buffering_size", Size.gibibytes(1)),
    bad(SS, "buffering_size", Size.mebibytes(0.5)),
    bad(SS, "buffering_size", Size.mebibytes(128.5)),
    bad(SS, "buffering_size", "5 MiB"),
    ok(SS, "buffering_size", param_mib),
    bad(SS, "compression", s3.StorageClass.GLACIER),
    ok(SS, "existing_bucket", bucket_named_by_param),
    Row(
        "StreamToS3-existing_bucket-of-another-app",
        lambda s: SS(s, "X", existing_bucket=bucket_of_another_app(s)),
        "StreamToS3",
        "existing_bucket",
        bucket_of_another_app.shows,  # type: ignore[attr-defined]
        synth=True,
    ),
    # The delivery role's S3 permissions and its cdk-nag acknowledgment are scoped to the prefix: needed at synth.
    bad(SS, "error_prefix", param_string, data_prefix="data/"),
    bad(SS, "lifecycle", one_lifecycle_rule),
    bad(SS, "expected_throughput", Throughput(0.5, 100, consumers=1).__dict__),  # a dict for the dataclass
    option(SS, "data_freshness", "threshold", Duration.seconds(30)),  # under the 300 s buffer: always in ALARM
    option(SS, "delivery_success", "threshold", 0),  # Success < 0: never in ALARM
    option(SS, "delivery_success", "threshold", 100),  # a percent for a 0-1 ratio: always in ALARM
    option(SS, "data_freshness", "evaluation_periods", 300),  # 300 x 5 min > 1 day
    option(SS, "write_throttled", "threshold", 5),  # on-demand stream: the alarm does not exist
    bad(SS, "removal_policy", RemovalPolicy.SNAPSHOT),
]

# --- MessageBroker ---
ROWS += [
    ok(MB, "engine_version", param_string),
    ok(MB, "admin_username", param_string),
    bad(MB, "engine", DeploymentMode.SINGLE_INSTANCE),
    bad(MB, "deployment_mode", BrokerEngine.RABBITMQ),
    bad(MB, "maintenance_window", {"day": "SUNDAY", "time": "03:00"}),
    Row(
        "MessageBroker-vpc_subnets-unknown-group",
        lambda s: MB(s, "X", vpc=vpc(s), vpc_subnets=ec2.SubnetSelection(subnet_group_name="Nope")),
        "MessageBroker",
        "vpc_subnets",
        ("'Nope'",),
    ),
    Row(
        "MessageBroker-vpc-imported-public-only",
        lambda s: MB(
            s,
            "X",
            vpc=ec2.Vpc.from_vpc_attributes(
                s, "V", vpc_id="vpc-1", availability_zones=["a", "b"], public_subnet_ids=["s-1", "s-2"]
            ),
        ),
        "MessageBroker",
        "vpc",
        ("'T/V'", "private"),
    ),
    Row(
        "MessageBroker-vpc-of-another-app",
        lambda s: MB(s, "X", vpc=vpc_of_another_app(s)),
        "MessageBroker",
        "vpc",
        vpc_of_another_app.shows,  # type: ignore[attr-defined]
        synth=True,
    ),
    bad(MB, "removal_policy", RemovalPolicy.SNAPSHOT),
    option(MB, "cpu_utilization", "threshold", 150),  # never in ALARM
    option(MB, "cpu_utilization", "threshold", 0.8),  # a fraction for a percent
    option(MB, "cpu_utilization", "threshold", 0),  # >= 0: always in ALARM
    option(MB, "heap_usage", "threshold", 100.5),
    option(MB, "store_percent_usage", "threshold", 101),
    option(MB, "cpu_utilization", "evaluation_periods", 289),  # 289 x 5 min > 1 day
    option(RABBIT, "system_cpu_utilization", "threshold", 120),
    option(RABBIT, "memory_used", "threshold", 0.5),  # a fraction for a percent
    option(RABBIT, "disk_free", "evaluation_periods", 300),
    option(RABBIT, "disk_free", "threshold", 0),  # free / limit < 0: never in ALARM
]

# --- AlarmTopic ---
AT = AlarmTopic
ROWS += [
    ok(AT, "topic_name", param_string),
    ok(AT, "topic_name", lazy_string),
    bad(AT, "topic_name", ""),
    bad(AT, "topic_name", "a b"),
    bad(AT, "topic_name", b"alarms"),
    bad(AT, "removal_policy", RemovalPolicy.SNAPSHOT),
    bad(AT, "removal_policy", sqs.QueueEncryption.KMS),
]


# --- QueueFunction ---
@maker("'T/Single'", "SingletonFunction")
def a_singleton(s: cdk.Stack) -> lambda_.SingletonFunction:
    return lambda_.SingletonFunction(
        s,
        "Single",
        uuid="0f6b0ad8-6a4e-4c1d-9d1e-2f4bb7b3f5a1",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context): pass"),
        timeout=Duration.minutes(5),
    )


ROWS += [
    Row(
        "QueueFunction-filters-raw-dict",
        lambda s: QF(s, "X", filters=[{"body": {"kind": ["order"]}}]),
        "QueueFunction",
        "filters[0]",
        ("{'body': {'kind': ['order']}}",),
    ),
    Row(
        "QueueFunction-max_concurrency-above-reserved",
        lambda s: QF(s, "X", function=a_function(s, reserved_concurrent_executions=5), max_concurrency=10),
        "QueueFunction",
        "max_concurrency",
        ("10",),
        words=("reserved",),
    ),
    Row(
        "QueueFunction-singleton-timeout-ignored",
        lambda s: QF(
            s,
            "X",
            function=a_singleton(s),
            queue=ReliableQueue(s, "Q", visibility_timeout=Duration.minutes(2)),
        ),
        "QueueFunction",
        "visibility_timeout",
        ("120 seconds", "2 minutes"),
        words=("300 seconds",),
    ),
    Row(
        "QueueFunction-function-of-another-app",
        lambda s: QF(s, "X", function=function_of_another_app(s)),
        "QueueFunction",
        "function",
        function_of_another_app.shows,  # type: ignore[attr-defined]
    ),
    Row(
        "QueueFunction-queue-of-another-app",
        lambda s: QF(s, "X", queue=queue_of_another_app(s)),
        "QueueFunction",
        "queue",
        queue_of_another_app.shows,  # type: ignore[attr-defined]
        synth=True,
    ),
    ok(QF, "batch_size", param_number),
    ok(QF, "max_batching_window", param_seconds),
    ok(QF, "max_concurrency", param_number),
    bad(QF, "batch_size", 10.0),
    bad(QF, "max_batching_window", Duration.millis(500)),
    bad(QF, "max_batching_window", Duration.minutes(5.5)),
    bad(QF, "max_concurrency", 2.0),
    bad(QF, "queue", an_sqs_queue),
    Row(
        "QueueFunction-function_timeout-fractional",
        lambda s: QF(
            s, "X", function=lambda_.Function.from_function_name(s, "F", "f"), function_timeout=Duration.millis(900)
        ),
        "QueueFunction",
        "function_timeout",
        forms(Duration.millis(900)),
    ),
    Row(
        "QueueFunction-function_timeout-int",
        lambda s: QF(s, "X", function=lambda_.Function.from_function_name(s, "F", "f"), function_timeout=30),
        "QueueFunction",
        "function_timeout",
        ("30",),
    ),
    Row(
        "QueueFunction-function_timeout-param-passes",
        lambda s: QF(
            s, "X", function=lambda_.Function.from_function_name(s, "F", "f"), function_timeout=param_seconds(s)
        ),
        "QueueFunction",
        passes=True,
    ),
    Row(
        "QueueFunction-queue_props-queue_name-int",
        lambda s: QF(s, "X", queue_props={"queue_name": 123}),
        "QueueFunction",
        "queue_props['queue_name']",
        ("123",),
    ),
    Row(
        "QueueFunction-queue_props-retention-15d",
        lambda s: QF(s, "X", queue_props={"retention_period": Duration.days(15)}),
        "QueueFunction",
        "queue_props['retention_period']",
        forms(Duration.days(15)),
    ),
    Row(
        "QueueFunction-queue_props-max_receive_count-param-passes",
        lambda s: QF(s, "X", queue_props={"max_receive_count": param_number(s)}),
        "QueueFunction",
        passes=True,
    ),
    option(QF, "function_errors", "threshold", 0),  # >= 0: always in ALARM
    option(QF, "function_throttles", "threshold", Duration.minutes(1)),
]

# --- StreamFunction ---
AT_TIMESTAMP = lambda_.StartingPosition.AT_TIMESTAMP
ROWS += [
    bad(SF, "starting_position_timestamp", 1_700_000_000_000, starting_position=AT_TIMESTAMP),  # milliseconds
    bad(SF, "starting_position_timestamp", 4_102_444_800, starting_position=AT_TIMESTAMP),  # 2100: the future
    bad(SF, "starting_position_timestamp", "2024-01-01", starting_position=AT_TIMESTAMP),
    ok(SF, "starting_position_timestamp", param_number, starting_position=AT_TIMESTAMP),
    bad(SF, "starting_position", lambda_.Tracing.ACTIVE),
    ok(SF, "batch_size", param_number),
    bad(SF, "batch_size", 100.0),
    ok(SF, "parallelization_factor", param_number),
    ok(SF, "retry_attempts", param_number),
    bad(SF, "max_record_age", Duration.seconds(604801)),
    bad(SF, "max_record_age", Duration.millis(60500)),
    bad(SF, "max_record_age", param_seconds),  # aws-cdk-lib range-checks it: needed at synth time
    bad(SF, "max_batching_window", Duration.millis(250)),
    ok(SF, "stream", stream_by_param_arn),
    Row(
        "StreamFunction-stream-of-another-app",
        lambda s: SF(s, "X", stream=stream_of_another_app(s)),
        "StreamFunction",
        "stream",
        stream_of_another_app.shows,  # type: ignore[attr-defined]
        synth=True,
    ),
    Row(
        "StreamFunction-function-of-another-app",
        lambda s: SF(s, "X", function=function_of_another_app(s)),
        "StreamFunction",
        "function",
        function_of_another_app.shows,  # type: ignore[attr-defined]
    ),
    bad(SF, "on_failure_queue", an_sqs_queue),
    bad(SF, "enhanced_fan_out", None),
    option(SF, "iterator_age", "evaluation_periods", 1441),
    option(SF, "function_errors", "threshold", 0),  # >= 0: always in ALARM
]


# --- QueueWorkers ---
def _graviton_fleet(s: cdk.Stack) -> QueueWorkers:
    fleet = QW(s, "X", instance_type=ec2.InstanceType("m7g.large"))
    parameters = Template.from_stack(s).to_json().get("Parameters", {})
    images = [p.get("Default", "") for p in parameters.values() if "ami-amazon-linux" in str(p.get("Default", ""))]
    assert images and all(image.endswith("arm64") for image in images), images
    return fleet


ROWS += [
    Row(  # a Graviton type with the default image: it gets the arm64 image (issue 19 allows that or an error)
        "QueueWorkers-instance_type-graviton-gets-arm64-passes",
        _graviton_fleet,
        "QueueWorkers",
        "instance_type",
        passes=True,
    ),
    bad(QW, "instance_type", ec2.InstanceType("t4g.small"), machine_image=ec2.MachineImage.latest_amazon_linux2023()),
    bad(QW, "root_volume_size", Size.gibibytes(8.5)),
    bad(QW, "root_volume_size", Size.mebibytes(8500)),
    bad(QW, "root_volume_size", Size.tebibytes(17)),
    ok(QW, "root_volume_size", param_gib),
    ok(QW, "min_capacity", param_number),
    ok(QW, "max_capacity", param_number),
    bad(QW, "average_processing_time", param_seconds),
    bad(QW, "latency_target", lazy_seconds),
    bad(QW, "latency_target", 10),
    Row(
        "QueueWorkers-vpc_subnets-unknown-group",
        lambda s: QW(s, "X", vpc_subnets=ec2.SubnetSelection(subnet_group_name="Nope")),
        "QueueWorkers",
        "vpc_subnets",
        ("'Nope'",),
    ),
    Row(
        "QueueWorkers-vpc-imported-public-only",
        lambda s: QW(
            s,
            "X",
            vpc=ec2.Vpc.from_vpc_attributes(
                s, "V", vpc_id="vpc-1", availability_zones=["a", "b"], public_subnet_ids=["s-1", "s-2"]
            ),
        ),
        "QueueWorkers",
        "vpc",
        ("'T/V'", "private"),
    ),
    Row(
        "QueueWorkers-vpc-of-another-app",
        lambda s: QW(s, "X", vpc=vpc_of_another_app(s)),
        "QueueWorkers",
        "vpc",
        vpc_of_another_app.shows,  # type: ignore[attr-defined]
        synth=True,
    ),
    Row(
        "QueueWorkers-queue-of-another-app",
        lambda s: QW(s, "X", queue=queue_of_another_app(s)),
        "QueueWorkers",
        "queue",
        queue_of_another_app.shows,  # type: ignore[attr-defined]
        synth=True,
    ),
    bad(QW, "handler", ":handle"),
    Row(  # worker_packages=[] (nothing to install) before issue 20: now code that lacks the handler's module
        "QueueWorkers-worker_code-without-the-handler",
        lambda s: QW(s, "X", worker_code=WORKER_CODE / "jobs"),
        "QueueWorkers",
        "worker_code",
        ("'jobs.worker'",),
    ),
    bad(QW, "min_capacity", 1.0),
    option(QW, "backlog_per_instance", "threshold", Duration.minutes(1)),
]


# --- alarm names that clash: two stacks of one app in one account and Region ---
BOUND = cdk.Environment(account="111111111111", region="eu-west-1")


def clash(cls: Callable[..., Any], name: str, prefix: str | None = None, other_region: str | None = None) -> Row:
    """``cls`` "X" in stack T and in stack U of the same app: same alarm names in one account and Region. Refused,
    or warned at synth (issue 19 allows either), naming both stacks and ``alarm_settings.name_prefix``."""

    def build(_: cdk.Stack) -> object:
        app = cdk.App()
        settings = AlarmSettings(name_prefix=prefix) if prefix else None
        first = cdk.Stack(app, "T", env=BOUND)
        second = cdk.Stack(app, "U", env=cdk.Environment(account="111111111111", region=other_region or "eu-west-1"))
        cls(first, "X", alarm_settings=settings)
        cls(second, "X", alarm_settings=settings)
        return app.synth()

    passes = other_region is not None
    return Row(
        f"clash-{name}" + ("-passes" if passes else ""),
        build,
        cls.__name__,
        "alarm_settings.name_prefix",
        ("'T/X'", "'U/X'", "'T'", "'U'"),
        path=None,
        words=("'U'",),
        passes=passes,
        warning_ok=True,
    )


ROWS += [
    clash(RQ, "ReliableQueue"),
    clash(FO, "FanOut"),
    clash(RQ, "same-prefix", prefix="prod"),
    clash(RQ, "other-region", other_region="us-east-1"),
]

# --- Throughput and the runtime helpers: class name, option and value ---
URL = "https://sqs.us-east-1.amazonaws.com/111111111111/jobs"
FIFO_URL = URL + ".fifo"
ARN = "arn:aws:sns:us-east-1:111111111111:orders"
SQS = boto3.client("sqs", region_name="us-east-1")  # making a client calls nothing
SNS = boto3.client("sns", region_name="us-east-1")
KINESIS = boto3.client("kinesis", region_name="us-east-1")


def handler(message: Any) -> None:
    return None


def helper(cls: Callable[..., Any], option_name: str, value: Any, *args: Any, **others: Any) -> Row:
    """``cls(*args, option=value, **others)`` names the class, the option and the value (no path)."""
    return Row(
        f"{cls.__name__}-{option_name}-{ident(value)}",
        lambda s: cls(*args, **{option_name: value}, **others),
        cls.__name__,
        option_name,
        forms(value),
        path=None,
    )


def consumer(option_name: str, value: Any, url: str = URL, **others: Any) -> Row:
    return helper(QueueConsumer, option_name, value, url, handler, client=SQS, **others)


def producer(option_name: str, value: Any, **others: Any) -> Row:
    return helper(QueueProducer, option_name, value, URL, client=SQS, **others)


def publisher(option_name: str, value: Any, **others: Any) -> Row:
    return helper(TopicPublisher, option_name, value, ARN, client=SNS, **others)


def stream_producer(option_name: str, value: Any, **others: Any) -> Row:
    return helper(StreamProducer, option_name, value, "clicks", client=KINESIS, **others)


def throughput(option_name: str, value: Any, **others: Any) -> Row:
    base: dict[str, Any] = {"write_mib_per_s": 1, "records_per_s": 100, **others, option_name: value}
    return Row(
        f"Throughput-{option_name}-{ident(value)}",
        lambda s: Throughput(**base),
        "Throughput",
        option_name,
        forms(value),
        path=None,
    )


ROWS += [
    throughput("write_mib_per_s", True),
    throughput("write_mib_per_s", 5 * 1024 * 1024),  # bytes/s given as MiB/s
    throughput("records_per_s", "100"),
    throughput("records_per_s", -5),
    throughput("read_mib_per_s", "2"),
    throughput("read_mib_per_s", math.inf),
    throughput("consumers", None),
    throughput("consumers", True),
    throughput("enhanced_fan_out", 1),
    consumer("batch_size", 10.0),
    consumer("batch_size", "10"),
    consumer("wait_time_seconds", 20.5),
    consumer("wait_time_seconds", 20_000),  # milliseconds
    consumer("visibility_timeout", 43_201),
    consumer("visibility_timeout", 30.5),
    consumer("max_workers", 1.5),
    consumer("max_in_flight", 5),  # below batch_size 10
    consumer("dead_letter_after", 0, url=FIFO_URL),
    consumer("heartbeat", "yes"),
    consumer("retry_failed_immediately", "no"),
    helper(QueueConsumer, "queue_url", "jobs", handler=handler, client=SQS),  # a name, not a URL
    Row(
        "QueueConsumer-handler-int",
        lambda s: QueueConsumer(URL, 5, client=SQS),  # type: ignore[arg-type]
        "QueueConsumer",
        "handler",
        ("5",),
        path=None,
    ),
    helper(QueueProducer, "queue_url", "arn:aws:sqs:us-east-1:111111111111:jobs", client=SQS),
    producer("max_retries", 2.5),
    producer("base_delay", "0.1"),
    producer("max_delay", -1),
    producer("base_delay", 50),  # milliseconds: above max_delay's 5 seconds
    producer("max_delay", math.inf),
    helper(TopicPublisher, "topic_arn", URL, client=SNS),  # a queue URL, not a topic ARN
    helper(TopicPublisher, "topic_arn", "orders", client=SNS),
    publisher("max_message_bytes", 262_144.5),
    publisher("max_message_bytes", 1_048_577),
    publisher("max_message_bytes", "256KB"),
    publisher("max_message_bytes", 1_023),
    publisher("max_retries", True),
    helper(StreamProducer, "stream_name", "x" * 129, client=KINESIS),
    helper(StreamProducer, "stream_name", "arn:aws:kinesis:us-east-1:111111111111:stream/clicks", client=KINESIS),
    stream_producer("ordered", 1),
    stream_producer("max_retries", -1),
    stream_producer("base_delay", math.nan),
    stream_producer("max_delay", "5"),
]


# --- the judge ---------------------------------------------------------------------------------------------


def _raised_in_library(error: BaseException) -> bool:
    """Whether ``error`` was raised by the library's code (its innermost frame), not by aws-cdk-lib, jsii or Python
    on the library's behalf."""
    tb = error.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return LIBRARY in tb.tb_frame.f_code.co_filename


def _hidden_originals(error: BaseException) -> list[BaseException]:
    """Errors of aws-cdk-lib/jsii that led to ``error`` but are not kept in its ``__cause__`` chain."""
    seen: set[int] = set()
    todo, foreign = [error], []
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        for linked in (current.__cause__, current.__context__):
            if linked is None:
                continue
            (todo if _raised_in_library(linked) else foreign).append(linked)
    causes, current_or_none = set(), cast(BaseException | None, error)
    while current_or_none is not None:
        causes.add(id(current_or_none))
        current_or_none = current_or_none.__cause__
    return [f for f in foreign if id(f) not in causes]


def judge(row: Row, error: BaseException, *, raised: bool = True) -> tuple[str, str]:
    """``clear``, ``unclear`` (what is missing) or ``raw`` for the error a wrong input raised (``raised``: it was
    raised, not a warning's text)."""
    message = str(error)
    short = f"{type(error).__name__}: {message[:300]}"
    if raised and (not isinstance(error, (ValueError, TypeError)) or not _raised_in_library(error)):
        return "raw", short
    missing = [repr(name) for name in (row.cls, row.path, row.prop, *row.words) if name and name not in message]
    if row.shows and not any(form in message for form in row.shows):
        missing.append(f"the value (one of {', '.join(map(repr, row.shows))})")
    leaked = [text for text in FORBIDDEN if text in message]
    problems = []
    if missing:
        problems.append("missing " + ", ".join(missing))
    if leaked:
        problems.append("prints " + ", ".join(map(repr, leaked)))
    hidden = _hidden_originals(error)
    if hidden:
        problems.append(f"hides the original {type(hidden[0]).__name__} (not kept as __cause__)")
    return ("unclear", "; ".join(problems) + f" -- {short}") if problems else ("clear", "")


def outcome(row: Row) -> tuple[str, str]:
    """What ``row`` does today: ``clear``/``unclear``/``raw``/``silent`` for a wrong input, ``passes``/``refused``
    for a pass row; and why."""
    s = cdk.Stack(cdk.App(), "T")
    try:
        built = row.build(s)
        if row.passes:
            text = json.dumps(Template.from_stack(s).to_json())
            leaked = [t for t in FORBIDDEN[:3] if t in text]
            if leaked:
                return "refused", f"the template holds a token's encoding: {', '.join(leaked)}"
            return "passes", ""
        if row.synth:
            cast(cdk.App, s.node.root).synth()
        if row.warning_ok and isinstance(built, cx_api.CloudAssembly):
            warnings = [
                str(message.entry.data)
                for artifact in built.stacks
                for message in artifact.messages
                if message.level == cx_api.SynthesisMessageLevel.WARNING
            ]
            for warning in warnings:
                if judge(row, ValueError(warning), raised=False)[0] == "clear":
                    return "clear", f"warned: {warning}"
        del built
    except Exception as error:  # every error is judged
        if row.passes:
            return "refused", f"{type(error).__name__}: {str(error)[:300]}"
        return judge(row, error)
    return "silent", "no error"


# Rows that are not clear (or do not pass) on main before the fixes: id -> what they do. A fix deletes its rows.
def _raise_value_error(message: str) -> None:
    raise ValueError(message)


FAILING_TODAY: dict[str, str] = {}


def _params() -> list[Any]:
    return [
        pytest.param(
            row,
            id=row.id,
            marks=[pytest.mark.xfail(strict=True, reason=f"issue 19: {FAILING_TODAY[row.id]}")]
            if row.id in FAILING_TODAY
            else [],
        )
        for row in ROWS
    ]


@pytest.mark.parametrize("row", _params())
def test_sweep_row(row: Row) -> None:
    category, why = outcome(row)
    assert category == ("passes" if row.passes else "clear"), f"{category}: {why}"


def test_the_sweep_is_large_and_its_ids_unique() -> None:
    wrong = [row for row in ROWS if not row.passes]
    assert len(wrong) >= 230, len(wrong)
    ids = [row.id for row in ROWS]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    assert set(FAILING_TODAY) <= set(ids), sorted(set(FAILING_TODAY) - set(ids))


# --- the judge is honest: each way of failing is caught -------------------------------------------------------


def _in_x(s: cdk.Stack, check: Callable[[], object]) -> None:
    """``check()`` inside ``validating`` of a plain construct T/X (its errors read ``Construct 'T/X': ...``)."""
    from constructs import Construct

    from decoupling_constructs._validate import validating

    with validating(Construct(s, "X")):
        check()


def _unknown_group(s: cdk.Stack) -> object:
    return vpc(s).select_subnets(subnet_group_name="Nope")


def _hides_the_original(s: cdk.Stack) -> None:
    from decoupling_constructs._validate import check_int

    def check() -> None:
        try:
            _unknown_group(s)
        except RuntimeError:
            check_int("x", 0, minimum=1, maximum=2)

    _in_x(s, check)


def v_check_int(prop: str, value: int) -> None:
    from decoupling_constructs._validate import check_int

    check_int(prop, value, minimum=1, maximum=2)


def _warns(s: cdk.Stack) -> cx_api.CloudAssembly:
    sqs.Queue(s, "Q")
    cdk.Annotations.of(s).add_warning_v2("sweep:x", "Construct 'T/X': x must be 1-2, got 0")
    return cast(cdk.App, s.node.root).synth()


JUDGED = [
    (Row("silent", lambda s: None, "Construct", "x", ("0",)), "silent"),
    (Row("raw", _unknown_group, "Construct", "x", ("0",)), "raw"),
    (Row("no-path", lambda s: v_check_int("x", 0), "Construct", "x", ("0",)), "unclear"),
    (Row("clear", lambda s: _in_x(s, lambda: v_check_int("x", 0)), "Construct", "x", ("0",)), "clear"),
    (Row("no-value", lambda s: _in_x(s, lambda: v_check_int("x", 0)), "Construct", "x", ("7",)), "unclear"),
    (
        Row("no-words", lambda s: _in_x(s, lambda: v_check_int("x", 0)), "Construct", "x", ("0",), words=(SYNTH,)),
        "unclear",
    ),
    (
        Row(
            "prints-a-token",
            lambda s: _in_x(s, lambda: _raise_value_error(f"x must be 'a', got {Token.as_string({'Ref': 'P'})}")),
            "Construct",
            "x",
            ("x",),
        ),
        "unclear",
    ),
    (Row("hides-the-original", _hides_the_original, "Construct", "x", ("0",)), "unclear"),
    (Row("warned", _warns, "Construct", "x", ("0",), warning_ok=True), "clear"),
    (Row("warned-unclearly", _warns, "Construct", "x", ("7",), warning_ok=True), "silent"),
    (Row("passes", lambda s: sqs.Queue(s, "Q"), "Queue", passes=True), "passes"),
    (
        Row(
            "encoding-in-template",
            lambda s: cdk.CfnOutput(s, "O", value=f"{Token.as_number({'Ref': 'AWS::AccountId'}):.3e}"),
            "CfnOutput",
            passes=True,
        ),
        "refused",
    ),
]


@pytest.mark.parametrize(("row", "expected"), JUDGED, ids=[row.id for row, _ in JUDGED])
def test_the_judge(row: Row, expected: str) -> None:
    assert outcome(row)[0] == expected, outcome(row)
