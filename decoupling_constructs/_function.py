"""What the Lambda consumers (QueueFunction, StreamFunction) share: the rules of ``function`` and of a given
ReliableQueue, the same-stack rule, the function's two alarms, the alarm props of the ReliableQueue they create
or are given, and what they say to checkov about the function they invoke."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

if TYPE_CHECKING:
    from .alarm_topic import AlarmTopic

from . import _rules as r
from . import _stacks
from ._alarms import Alarms, AlarmSettings
from ._security import acknowledge_checkov
from .queues.reliable_queue import ReliableQueue

# A created queue's alarms are ReliableQueue's own (same keys), passed to it.
QUEUE_ALARM_KEYS = ReliableQueue.ALARM_KEYS
FUNCTION_ALARM_KEYS = ("function_errors", "function_throttles")

#: The consumer: any lambda_.IFunction of this App (the mapping and the grants name it).
FUNCTION = r.Interface("a lambda_.IFunction", ("function_arn", "add_event_source"), tokens="synth")


def reliable_queue_rule(text: str) -> r.Rule:
    """A ReliableQueue of this App, or None."""
    return r.AllOf(
        rules=(
            r.Instance(ReliableQueue, text, optional=True, tokens="synth"),
            r.Interface(text, optional=True, tokens="synth"),  # of this App
        ),
        optional=True,
        tokens="synth",
    )


def no_queue_overrides(prop: str) -> r.Relation:
    """A given ReliableQueue (``prop``) keeps its own alarms: overriding them here would do nothing, so it is
    refused."""

    def relation(values: Mapping[str, Any], ctx: r.Context) -> None:
        settings = values.get("alarm_settings")
        if values.get(prop) is None or settings is None:
            return
        given = sorted(set(settings.overrides) & set(QUEUE_ALARM_KEYS))
        if given:
            raise ValueError(
                f"alarm_settings.overrides has {', '.join(map(repr, given))}, the given {prop}'s own "
                "alarms; set them on that ReliableQueue's alarm_settings"
            )

    return relation


def backing_function(function: lambda_.IFunction) -> lambda_.Function | None:
    """The ``lambda_.Function`` behind ``function``: itself, or a ``SingletonFunction``'s (a Function at its
    stack's top level with the same ARN); None for an imported function, an alias or a version."""
    if isinstance(function, lambda_.Function):
        return function
    if isinstance(function, lambda_.SingletonFunction):
        for child in Stack.of(function).node.children:
            if isinstance(child, lambda_.Function) and child.function_arn == function.function_arn:
                return child
    return None


def check_same_stack(owner: Construct, function: lambda_.IFunction) -> None:
    """The event source mapping goes in the function's stack, the alarms on the function in ours: in two stacks
    they would import from each other (a dependency cycle). The source (queue, stream) may be in any stack
    that does not depend on this one (``_stacks.use``)."""
    _stacks.check_same_app(owner, function, "function")
    if Stack.of(function) is not Stack.of(owner):
        raise ValueError(
            f"function {function.node.path!r} is in stack {Stack.of(function).node.path!r}: create the "
            f"{type(owner).__name__} in that stack (its source may stay in another), not in "
            f"{Stack.of(owner).node.path!r}"
        )


def reliable_queue(
    owner: Construct,
    given: ReliableQueue | None,
    construct_id: str,
    alarms: Alarms,
    alarm_topic: sns.ITopic | AlarmTopic | None,
    create_alarms: bool,
    **props: Any,
) -> tuple[ReliableQueue, Mapping[str, cloudwatch.Alarm]]:
    """The ``given`` queue (its alarms are its own), or a new ReliableQueue ``construct_id`` with ``props``, the
    same alarm topic, prefix and actions, and the overrides of the queue's keys; and the alarms it created."""
    if given is not None:
        return given, {}
    settings = alarms.settings
    queue = ReliableQueue(
        owner,
        construct_id,
        alarm_topic=alarm_topic,
        create_alarms=create_alarms,
        alarm_settings=AlarmSettings(
            name_prefix=settings.name_prefix,
            alarm_actions=settings.alarm_actions,
            ok_actions=settings.ok_actions,
            overrides={k: o for k, o in settings.overrides.items() if k in QUEUE_ALARM_KEYS},
        ),
        **props,
    )
    return queue, queue.alarms


def add_function_alarms(
    alarms: Alarms,
    function: lambda_.IFunction,
    *,
    errors: str,
    throttles: str,
    keys: tuple[str, str] = FUNCTION_ALARM_KEYS,
    subject: str = "The consumer",
) -> None:
    """``keys`` (default ``function_errors`` and ``function_throttles``): the function's Errors and Throttles,
    >= 1 a minute; ``errors`` and ``throttles`` end their descriptions (what happens to the failed or throttled
    batch), ``subject`` starts them."""
    for key, metric, description in (
        (
            keys[0],
            function.metric_errors(period=Duration.minutes(1), statistic="Sum"),
            f"{subject} failed whole invocations (at least {{threshold}} a minute): {errors}",
        ),
        (
            keys[1],
            function.metric_throttles(period=Duration.minutes(1), statistic="Sum"),
            f"{subject} was throttled (at least {{threshold}} a minute): {throttles}",
        ),
    ):
        alarms.add(key, metric=metric, threshold=1, description=description)


def acknowledge_mapped_function(function: lambda_.IFunction, *, failures: str, concurrency: str | None) -> None:
    """What an event source mapping makes of checkov's function checks, said on ``function`` when it is a
    function of this app: CKV_AWS_116 (a DLQ) with ``failures``, where the mapping's failed batches go; and
    CKV_AWS_115 (reserved concurrency) with ``concurrency``, how the mapping bounds its invocations (None:
    it does not, and the finding stays for the function's owner). A setting the function has is not skipped."""
    resource = function.node.default_child
    if not isinstance(resource, lambda_.CfnFunction):
        return  # imported, or an alias or version: the function resource is not this construct's to annotate
    if resource.dead_letter_config is None:
        acknowledge_checkov(
            resource,
            "CKV_AWS_116",
            f"{failures} A function DLQ receives failed asynchronous invocations only; the mapping's are synchronous.",
        )
    if concurrency is not None and resource.reserved_concurrent_executions is None:
        acknowledge_checkov(resource, "CKV_AWS_115", concurrency)
