"""QueueFunction: a Lambda function consuming a ReliableQueue, failures reported message by message."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

if TYPE_CHECKING:
    from ..alarm_topic import AlarmTopic

from .. import _function as consumers
from .. import _rules as r
from .. import _stacks
from .. import _validate as v
from .._alarms import ALARM_PROPS, Alarms, AlarmSettings
from .._cdk import PatternConstruct
from .._validate import PropTypeError
from .reliable_queue import DEFAULT_OLDEST_MESSAGE_AGE_ALARM, MAX_VISIBILITY_SECONDS, ReliableQueue
from .reliable_queue import RULES as QUEUE_RULES

# Lambda SQS event source mapping limits (Lambda developer guide, "Lambda parameters for Amazon SQS event
# source mappings" and "Creating and configuring an Amazon SQS event source mapping"):
DEFAULT_BATCH_SIZE = 10  # BatchSize default 10
MAX_FIFO_BATCH_SIZE = 10  # FIFO queues: at most 10
MAX_BATCH_SIZE = 10_000  # standard queues: at most 10,000...
MAX_BATCH_SIZE_WITHOUT_WINDOW = 10  # ...and more than 10 needs MaximumBatchingWindowInSeconds >= 1
MAX_BATCHING_WINDOW_SECONDS = 300  # MaximumBatchingWindowInSeconds 0-300; not supported for FIFO queues
# ScalingConfig.MaximumConcurrency: 2-1000 (Lambda API reference, ScalingConfig).
MIN_MAX_CONCURRENCY = 2
MAX_MAX_CONCURRENCY = 1000
# FilterCriteria: "By default, you can define up to five different filters for a single event source mapping"
# (Lambda developer guide, event filtering; 10 on a quota increase, which this construct does not assume).
MAX_FILTERS = 5
# "set the source queue's visibility timeout to at least six times the timeout that you configure on your
# function" (Lambda developer guide, SQS event source mapping): retries of a throttled batch fit in it.
VISIBILITY_TIMEOUT_FACTOR = 6
# Lambda's Timeout default when a function gives none (CreateFunction, Timeout: 3 seconds).
LAMBDA_DEFAULT_TIMEOUT_SECONDS = 3

# The ReliableQueue props a created queue may take (everything but what this construct decides).
QUEUE_PROPS = (
    "queue_name",
    "receive_message_wait_time",
    "retention_period",
    "max_receive_count",
    "content_based_deduplication",
    "high_throughput",
    "encryption_key",
    "removal_policy",
)
# Filter Pattern: 0-4096 characters (Lambda API reference, Filter).
MAX_FILTER_PATTERN_LENGTH = 4096
MAX_FUNCTION_TIMEOUT_SECONDS = 15 * 60  # CreateFunction Timeout: at most 900 seconds


def _check_filter(prop: str, value: object, ctx: r.Context) -> None:
    """A filter as ``lambda_.FilterCriteria.filter({...})`` makes it: ``{"pattern": "<a JSON object>"}``.

    A raw pattern (``{"body": {...}}``) is refused: aws-cdk-lib's mapping keeps only a filter's ``pattern``, so it
    would deploy as an empty filter, ``{"Filters": [{}]}``."""
    if not isinstance(value, Mapping):
        raise PropTypeError(f"{prop} must be {_FILTER_TEXT}, got {r.show(value, ctx.scope)}")
    if set(value) != {"pattern"}:
        raise ValueError(
            f"{prop} must be {_FILTER_TEXT}, got {r.show(dict(value), ctx.scope)}: a raw pattern would deploy as an "
            "empty filter (aws-cdk-lib keeps only a filter's 'pattern'); write lambda_.FilterCriteria.filter(<it>)"
        )
    pattern = value["pattern"]
    if v.is_token(pattern):
        return  # passed on to CloudFormation as it is
    r.Text("a JSON string", max_length=MAX_FILTER_PATTERN_LENGTH, source="Lambda API reference, Filter").check(
        f"{prop}['pattern']", pattern, ctx
    )
    try:
        parsed = json.loads(pattern)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ValueError(f"{prop}['pattern'] must be a JSON object (a filter pattern), got {r.show(pattern)}")


_FILTER_TEXT = "a filter made by lambda_.FilterCriteria.filter({...}) ({'pattern': '<a JSON object>'})"


def _function_timeout(function: object, given: Duration | None) -> float | None:
    """The function's timeout in seconds, from the function (a ``Function`` or a ``SingletonFunction``) or
    ``given``; None when it is a token. The relations have checked that exactly one of them is known."""
    backing = consumers.backing_function(function)  # type: ignore[arg-type]
    if backing is not None:
        raw = backing.node.default_child.timeout  # type: ignore[union-attr]
        return None if v.is_token(raw) else float(raw or LAMBDA_DEFAULT_TIMEOUT_SECONDS)
    return v.duration_seconds("function_timeout", given) if given is not None else None


def _timeout_known_once(values: Mapping[str, Any], ctx: r.Context) -> None:
    """``function_timeout`` exactly when the function's own timeout is not known at synth time."""
    function, given = values["function"], values.get("function_timeout")
    backing = consumers.backing_function(function)
    if backing is not None and given is not None:
        raw = backing.node.default_child.timeout  # type: ignore[union-attr]
        own = "a token" if v.is_token(raw) else v.seconds_text(float(raw or LAMBDA_DEFAULT_TIMEOUT_SECONDS))
        raise ValueError(
            "function_timeout is only for a function whose timeout is not known at synth time (an imported "
            f"function, an alias or a version); the timeout of {function.node.path!r} is read from it ({own}), got "
            f"{r.show(given, ctx.scope)}"
        )
    if backing is None and given is None:
        raise ValueError(
            f"function_timeout is required: the timeout of {function.node.path!r} (an imported function, an alias "
            "or a version) is not known at synth time, and the queue's visibility timeout must be at least "
            f"{VISIBILITY_TIMEOUT_FACTOR}x it"
        )


def _queue_or_queue_props(values: Mapping[str, Any], ctx: r.Context) -> None:
    queue, fifo, queue_props = values.get("queue"), values.get("fifo"), values.get("queue_props")
    if queue is not None and fifo and not queue.fifo:
        raise ValueError(
            f"fifo=True is for the queue this construct creates; the given queue {queue.node.path!r} is not FIFO"
        )
    if queue is not None and queue_props is not None:
        raise ValueError(
            f"queue_props is only for a queue this construct creates; give it without queue, got both "
            f"(queue {queue.node.path!r})"
        )
    for name in ("content_based_deduplication", "high_throughput"):
        if queue_props and queue_props.get(name) and not fifo:
            raise ValueError(f"queue_props[{name!r}]={r.show(queue_props[name])} requires fifo=True")


def _visibility_covers_the_timeout(values: Mapping[str, Any], ctx: r.Context) -> None:
    """A given queue's visibility timeout is at least 6x the function's timeout."""
    queue = values.get("queue")
    if queue is None:
        return
    timeout = _function_timeout(values["function"], values.get("function_timeout"))
    raw = queue.queue.node.default_child.visibility_timeout
    visibility = None if v.is_token(raw) else float(raw if raw is not None else 30)
    if timeout is None or visibility is None:
        return
    if visibility < VISIBILITY_TIMEOUT_FACTOR * timeout:
        raise ValueError(
            f"the queue's visibility_timeout must be at least {VISIBILITY_TIMEOUT_FACTOR}x the function's timeout "
            f"({v.seconds_text(timeout)}), i.e. {v.seconds_text(VISIBILITY_TIMEOUT_FACTOR * timeout)}, got "
            f"{v.seconds_text(visibility)} (queue {queue.node.path!r}): raise the ReliableQueue's visibility_timeout "
            "or shorten the function's timeout, or a message still being processed is received again"
        )


def _batching(values: Mapping[str, Any], ctx: r.Context) -> None:
    """FIFO: no batching window and at most 10 messages; standard: more than 10 needs a window of 1 s or more."""
    queue, batch_size, window = values.get("queue"), values["batch_size"], values.get("max_batching_window")
    fifo = queue.fifo if queue is not None else values.get("fifo")
    if fifo and window is not None:
        raise ValueError(f"max_batching_window is not supported for a FIFO queue, got {r.show(window, ctx.scope)}")
    if v.is_token(batch_size) or batch_size <= MAX_BATCH_SIZE_WITHOUT_WINDOW:
        return
    if fifo:
        raise ValueError(f"batch_size must be 1-{MAX_FIFO_BATCH_SIZE} for a FIFO queue, got {batch_size}")
    window_seconds = v.duration_seconds("max_batching_window", window) if window is not None else 0
    if window_seconds is not None and window_seconds < 1:
        raise ValueError(
            f"batch_size above {MAX_BATCH_SIZE_WITHOUT_WINDOW} needs a max_batching_window of at least 1 second, "
            f"got batch_size {batch_size} and "
            + ("no window" if window is None else f"max_batching_window {r.show(window, ctx.scope)}")
        )


def _within_reserved_concurrency(values: Mapping[str, Any], ctx: r.Context) -> None:
    """The mapping's maximum concurrency within the function's reserved concurrency, when both are known: above
    it, Lambda throttles the invocations the mapping starts (Lambda developer guide, "Configuring maximum
    concurrency for Amazon SQS event sources")."""
    maximum = values.get("max_concurrency")
    backing = consumers.backing_function(values["function"])
    if maximum is None or v.is_token(maximum) or backing is None:
        return
    reserved = backing.node.default_child.reserved_concurrent_executions  # type: ignore[union-attr]
    if reserved is None or v.is_token(reserved) or maximum <= reserved:
        return
    raise ValueError(
        f"max_concurrency must be at most the reserved concurrency of {backing.node.path!r} ({reserved}), got "
        f"{maximum}: the mapping would start invocations Lambda throttles (lower max_concurrency or raise "
        "reserved_concurrent_executions)"
    )


def _created_queue_alarm_can_fire(values: Mapping[str, Any], ctx: r.Context) -> None:
    """The created queue's ``oldest_message_age`` alarm must be below its ``queue_props['retention_period']``: a
    message is gone before it gets that old, so the alarm could never fire (ReliableQueue's own rule, said here
    in this construct's props)."""
    retention = (values.get("queue_props") or {}).get("retention_period")
    settings = values.get("alarm_settings") or AlarmSettings()
    if values.get("queue") is not None or retention is None or not values.get("create_alarms"):
        return
    if "oldest_message_age" in settings.overrides and settings.overrides["oldest_message_age"] is None:
        return
    override = settings.overrides.get("oldest_message_age")
    threshold = override.threshold if override is not None and override.threshold is not None else None
    age = threshold if threshold is not None else DEFAULT_OLDEST_MESSAGE_AGE_ALARM
    if not isinstance(age, Duration):
        return  # a number for an age: the alarm's own rule refuses it
    age_seconds = v.duration_seconds("alarm_settings.overrides['oldest_message_age'].threshold", age)
    kept = v.duration_seconds("queue_props['retention_period']", retention)
    if age_seconds is None or kept is None or age_seconds < kept:
        return
    whence = "alarm_settings.overrides['oldest_message_age'].threshold" if threshold is not None else "its default"
    raise ValueError(
        f"queue_props['retention_period'] must be longer than the created queue's oldest_message_age alarm "
        f"threshold ({v.seconds_text(age_seconds)}, {whence}), or the alarm can never fire, got "
        f"{r.show(retention, ctx.scope)}: lengthen the retention or lower that threshold"
    )


_WINDOW = r.Seconds(
    0,
    MAX_BATCHING_WINDOW_SECONDS,
    optional=True,
    token_unit="seconds",
    source="Lambda SQS event source mapping, MaximumBatchingWindowInSeconds",
)

#: What every QueueFunction prop accepts (the engine in ``_rules.py`` checks them before the constructor runs).
RULES = (
    r.Rules(
        {
            "function": consumers.FUNCTION,
            "queue": consumers.reliable_queue_rule("a ReliableQueue or None"),
            "fifo": r.Bool(),
            "queue_props": r.Props(
                QUEUE_RULES,
                only=QUEUE_PROPS,
                only_why=" (fifo is a prop of its own, the visibility timeout follows the function's timeout)",
                text="a mapping of ReliableQueue props or None",
                inherit=("fifo",),
                optional=True,
            ),
            "function_timeout": r.Seconds(
                1,
                MAX_FUNCTION_TIMEOUT_SECONDS,
                text="1 second-15 minutes",
                optional=True,
                token_unit="seconds",
                source="Lambda CreateFunction Timeout",
            ),
            "batch_size": r.Int(1, MAX_BATCH_SIZE, source="Lambda SQS event source mapping, BatchSize"),
            "max_batching_window": _WINDOW,
            "max_concurrency": r.Int(
                MIN_MAX_CONCURRENCY, MAX_MAX_CONCURRENCY, optional=True, source="Lambda API reference, ScalingConfig"
            ),
            "filters": r.ListOf(
                r.Custom(_check_filter, _FILTER_TEXT, tokens="synth", why="its pattern is checked"),
                min_length=1,
                max_length=MAX_FILTERS,
                optional=True,
                text=f"1-{MAX_FILTERS} filters made by lambda_.FilterCriteria.filter({{...}})",
                source="Lambda's default quota of filters per event source mapping",
            ),
            "enabled": r.Bool(),
        },
        relations=(
            _queue_or_queue_props,
            _timeout_known_once,
            _visibility_covers_the_timeout,
            _batching,
            _within_reserved_concurrency,
            consumers.no_queue_overrides("queue"),
            _created_queue_alarm_can_fire,
        ),
    )
    | ALARM_PROPS
)


class QueueFunction(PatternConstruct):
    """A Lambda function consuming a :class:`ReliableQueue` through an event source mapping.

    Builds:

    * ``reliable_queue``: the given ``queue``, or a new ``ReliableQueue`` (child id ``Queue``) whose
      visibility timeout is 6x the function's timeout (capped at SQS's 12 hours), FIFO when ``fifo``,
      with ``queue_props`` passed on (any ReliableQueue prop but ``fifo`` and ``visibility_timeout``).
    * ``event_source_mapping``: created by aws-cdk-lib's ``SqsEventSource`` in the function's stack, with
      ``ReportBatchItemFailures`` on: a handler that reports failed messages (``batchItemFailures``) leaves
      only those in the queue; they reach the dead-letter queue after ``max_receive_count`` receives.
      The function's role gets the L2 grant ``grant_consume_messages`` on the queue (and its KMS key).
    * ``alarms``: ``"function_errors"`` (an invocation failed as a whole, e.g. every message of a batch
      failed or the handler crashed) and ``"function_throttles"``, on the function's metrics. The queue's
      ``"dead_letter_queue"`` and ``"oldest_message_age"`` alarms are the ReliableQueue's own: created with
      the queue when this construct creates it (with the same alarm props, and in ``alarms`` too), and left
      to the given queue's own props otherwise (no duplicate alarms).

    The queue's visibility timeout must be at least 6x the function's timeout (AWS's recommendation, so
    a batch retried after throttling is not received twice). The timeout is read from a
    ``lambda_.Function`` or a ``lambda_.SingletonFunction``; an imported function (``IFunction``, an alias, a
    version) has none known at synth time, so ``function_timeout`` is then required.

    :param function: the consumer, any ``lambda_.IFunction``; its handler must return a partial batch
        response (see the README's Powertools handler).
    :param queue: an existing ``ReliableQueue``; default a new one (see ``fifo`` and ``queue_props``). It may be in
        another stack, unless that stack depends on this one (the mapping and the grants name it: a cycle), which
        is refused naming both stacks.
    :param fifo: FIFO for the created queue, default False; with ``queue`` it is the queue's.
    :param queue_props: more ReliableQueue props for the created queue; only without ``queue``.
    :param function_timeout: the function's timeout, only for a function whose timeout is not known here.
    :param batch_size: messages per invocation, default 10; 1-10 for FIFO and without a batching window,
        up to 10,000 with one.
    :param max_batching_window: how long to gather a batch, default none; 0-300 s; not for FIFO.
    :param max_concurrency: concurrent invocations this queue may drive, default unlimited; 2-1000, and at
        most the function's reserved concurrency when it has one.
    :param filters: Lambda filter criteria patterns (``lambda_.FilterCriteria.filter({...})``), 1-5; a raw
        pattern dict is refused (aws-cdk-lib would deploy it as an empty filter). A message that matches none
        is deleted without invoking the function.
    :param enabled: whether the mapping polls, default True.
    :param alarm_topic: SNS topic (or ``AlarmTopic``) the alarms notify; default none (alarms still exist).
    :param create_alarms: default True; False creates no alarm (nor the created queue's).
    :param alarm_settings: an ``AlarmSettings``: name prefix, extra ALARM/OK actions, and per-key overrides
        (the queue's keys only for a created queue).
    """

    #: The keys of ``alarms`` and of ``alarm_settings.overrides``.
    ALARM_KEYS: ClassVar[tuple[str, ...]] = consumers.FUNCTION_ALARM_KEYS + consumers.QUEUE_ALARM_KEYS

    @r.guarded(RULES)
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.IFunction,
        queue: ReliableQueue | None = None,
        fifo: bool = False,
        queue_props: Mapping[str, Any] | None = None,
        function_timeout: Duration | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_batching_window: Duration | None = None,
        max_concurrency: int | None = None,
        alarm_topic: sns.ITopic | AlarmTopic | None = None,
        create_alarms: bool = True,
        alarm_settings: AlarmSettings | None = None,
        filters: Sequence[Mapping[str, Any]] | None = None,
        enabled: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        consumers.check_same_stack(self, function)
        _stacks.use_each(self, {"queue": queue.queue if queue is not None else None})
        timeout = _function_timeout(function, function_timeout)
        alarms = Alarms.of(self, alarm_topic, create_alarms, alarm_settings)
        self.function = function

        queue, own_queue_alarms = consumers.reliable_queue(
            self,
            queue,
            "Queue",
            alarms,
            alarm_topic,
            create_alarms,
            fifo=fifo,
            visibility_timeout=_visibility_for(timeout),
            **dict(queue_props or {}),
        )
        self.reliable_queue = queue
        self.queue: sqs.IQueue = queue.queue

        source = event_sources.SqsEventSource(
            queue.queue,
            batch_size=batch_size,
            max_batching_window=max_batching_window,
            max_concurrency=max_concurrency,
            report_batch_item_failures=True,
            filters=[dict(f) for f in filters] if filters is not None else None,
            enabled=enabled,
        )
        function.add_event_source(source)
        self.event_source_mapping_id: str = source.event_source_mapping_id
        # Reserved concurrency: at most the account's unreserved concurrency minus 100 (Lambda developer guide,
        # "Configuring reserved concurrency for a function").
        consumers.acknowledge_mapped_function(
            function,
            failures="QueueFunction invokes it through an SQS event source mapping: a message that keeps failing "
            "goes to the queue's dead-letter queue.",
            concurrency=None
            if max_concurrency is None
            else f"The SQS event source caps the invocations this queue drives at max_concurrency ({max_concurrency}) "
            "without reserving any of the account's concurrency (Lambda keeps 100 unreserved: a small quota "
            "cannot reserve at all).",
        )

        consumers.add_function_alarms(
            alarms,
            function,
            errors="a crash or a batch that failed entirely. Its messages are retried, then dead-lettered.",
            throttles="raise its concurrency or lower max_concurrency; throttled batches return to the queue.",
        )
        self.alarms: Mapping[str, cloudwatch.Alarm] = MappingProxyType({**alarms.mapping, **own_queue_alarms})


def _visibility_for(timeout: float | None) -> Duration:
    """6x the function's timeout, within SQS's 12 hours (a 15-minute function needs 90 minutes)."""
    if timeout is None:
        return Duration.hours(12)  # a token timeout: the only value sure to be enough
    return Duration.seconds(min(VISIBILITY_TIMEOUT_FACTOR * int(timeout), MAX_VISIBILITY_SECONDS))
