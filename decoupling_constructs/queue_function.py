"""QueueFunction: a Lambda function consuming a ReliableQueue, failures reported message by message."""

from __future__ import annotations

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
    from .alarm_topic import AlarmTopic

from . import _function as consumers
from . import _stacks
from . import _validate as v
from ._alarms import Alarms, AlarmSettings
from ._cdk import PatternConstruct
from .queue import MAX_VISIBILITY_SECONDS, ReliableQueue

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
    ``lambda_.Function``; an imported function (``IFunction``, an alias, a version) has none known at synth
    time, so ``function_timeout`` is then required.

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
    :param max_concurrency: concurrent invocations this queue may drive, default unlimited; 2-1000.
    :param filters: Lambda filter criteria patterns (``lambda_.FilterCriteria.filter({...})``), at most 5;
        a message that matches none is deleted without invoking the function.
    :param enabled: whether the mapping polls, default True.
    :param alarm_topic: SNS topic (or ``AlarmTopic``) the alarms notify; default none (alarms still exist).
    :param create_alarms: default True; False creates no alarm (nor the created queue's).
    :param alarm_settings: an ``AlarmSettings``: name prefix, extra ALARM/OK actions, and per-key overrides
        (the queue's keys only for a created queue).
    """

    #: The keys of ``alarms`` and of ``alarm_settings.overrides``.
    ALARM_KEYS: ClassVar[tuple[str, ...]] = consumers.FUNCTION_ALARM_KEYS + consumers.QUEUE_ALARM_KEYS

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
        with v.validating(self):
            consumers.check_function(function)
            v.check_type("queue", queue, ReliableQueue, "a ReliableQueue or None", optional=True)
            v.check_bool("fifo", fifo)
            v.check_bool("enabled", enabled)
            _check_queue_props(queue, fifo, queue_props)
            consumers.check_same_stack(self, function)
            _stacks.use_each(self, {"queue": queue.queue if queue is not None else None})
            timeout = _function_timeout(function, function_timeout)
            is_fifo = queue.fifo if queue is not None else fifo
            _check_batching(is_fifo, batch_size, max_batching_window)
            if max_concurrency is not None:
                v.check_int(
                    "max_concurrency", max_concurrency, minimum=MIN_MAX_CONCURRENCY, maximum=MAX_MAX_CONCURRENCY
                )
            checked_filters = _check_filters(filters)
            alarms = Alarms.of(self, alarm_topic, create_alarms, alarm_settings)
            if queue is not None:
                consumers.check_no_queue_overrides(alarms, "queue")
                _check_visibility_timeout(queue, timeout)
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
            filters=checked_filters,
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


def _check_queue_props(queue: ReliableQueue | None, fifo: bool, queue_props: Mapping[str, Any] | None) -> None:
    if queue is not None and fifo and not queue.fifo:
        raise ValueError("fifo=True is for the queue this construct creates; the given queue is not FIFO")
    if queue_props is None:
        return
    v.check_type("queue_props", queue_props, Mapping, "a mapping of ReliableQueue props or None")
    if queue is not None:
        raise ValueError("queue_props is only for a queue this construct creates; give it without queue, got both")
    unknown = sorted(set(queue_props) - set(QUEUE_PROPS))
    if unknown:
        raise ValueError(
            f"queue_props has {', '.join(map(repr, unknown))}; it takes {', '.join(QUEUE_PROPS)} "
            "(fifo is a prop of its own, the visibility timeout follows the function's timeout)"
        )


def _function_timeout(function: lambda_.IFunction, given: Duration | None) -> float | None:
    """The function's timeout in seconds (None when it is a token), from the function or ``given``."""
    known: float | None = None
    has_known = False
    child = function.node.default_child if isinstance(function, lambda_.Function) else None
    if isinstance(child, lambda_.CfnFunction):
        has_known = True
        raw = child.timeout
        known = None if v.is_token(raw) else float(raw or LAMBDA_DEFAULT_TIMEOUT_SECONDS)
    if has_known:
        if given is not None:
            raise ValueError(
                "function_timeout is only for a function whose timeout is not known at synth time (an imported "
                "function, an alias or a version); this function's timeout is read from it, got "
                f"{v.seconds_text(v.duration_seconds('function_timeout', given) or 0)}"
            )
        return known
    if given is None:
        raise ValueError(
            f"function_timeout is required: the timeout of {function.node.path!r} (an imported function, an alias "
            "or a version) is not known at synth time, and the queue's visibility timeout must be at least "
            f"{VISIBILITY_TIMEOUT_FACTOR}x it"
        )
    v.check_duration("function_timeout", given, minimum=1, maximum=15 * 60, allowed="1 second-15 minutes")
    return v.duration_seconds("function_timeout", given)


def _visibility_for(timeout: float | None) -> Duration:
    """6x the function's timeout, within SQS's 12 hours (a 15-minute function needs 90 minutes)."""
    if timeout is None:
        return Duration.hours(12)  # a token timeout: the only value sure to be enough
    return Duration.seconds(min(VISIBILITY_TIMEOUT_FACTOR * int(timeout), MAX_VISIBILITY_SECONDS))


def _check_visibility_timeout(queue: ReliableQueue, timeout: float | None) -> None:
    raw = queue.queue.node.default_child.visibility_timeout  # type: ignore[union-attr]
    visibility = None if v.is_token(raw) else float(raw if raw is not None else 30)
    if timeout is None or visibility is None:
        return
    if visibility < VISIBILITY_TIMEOUT_FACTOR * timeout:
        raise ValueError(
            f"the queue's visibility_timeout must be at least {VISIBILITY_TIMEOUT_FACTOR}x the function's timeout "
            f"({v.seconds_text(timeout)}), i.e. {v.seconds_text(VISIBILITY_TIMEOUT_FACTOR * timeout)}, got "
            f"{v.seconds_text(visibility)}: raise the ReliableQueue's visibility_timeout or shorten the function's "
            "timeout, or a message still being processed is received again"
        )


def _check_batching(fifo: bool, batch_size: int, window: Duration | None) -> None:
    if window is not None:
        if fifo:
            raise ValueError(
                f"max_batching_window is not supported for a FIFO queue, got "
                f"{v.seconds_text(v.duration_seconds('max_batching_window', window) or 0)}"
            )
        v.check_duration(
            "max_batching_window",
            window,
            minimum=0,
            maximum=MAX_BATCHING_WINDOW_SECONDS,
            allowed=f"0-{MAX_BATCHING_WINDOW_SECONDS} seconds",
        )
    if fifo:
        v.check_int("batch_size", batch_size, minimum=1, maximum=MAX_FIFO_BATCH_SIZE)
        return
    window_seconds = v.duration_seconds("max_batching_window", window) if window is not None else 0
    if window_seconds is None or window_seconds >= 1:
        v.check_int("batch_size", batch_size, minimum=1, maximum=MAX_BATCH_SIZE)
        return
    v.check_int("batch_size", batch_size, minimum=1, maximum=MAX_BATCH_SIZE)
    if not v.is_token(batch_size) and batch_size > MAX_BATCH_SIZE_WITHOUT_WINDOW:
        raise ValueError(
            f"batch_size above {MAX_BATCH_SIZE_WITHOUT_WINDOW} needs a max_batching_window of at least 1 second, "
            f"got batch_size {batch_size} and no window (or 0 seconds)"
        )


def _check_filters(filters: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]] | None:
    if filters is None:
        return None

    def check(prop: str, item: object) -> None:
        v.check_type(prop, item, Mapping, "a filter pattern (lambda_.FilterCriteria.filter({...}))")

    checked = v.check_sequence("filters", filters, check)
    if not 1 <= len(checked) <= MAX_FILTERS:
        raise ValueError(
            f"filters must hold 1-{MAX_FILTERS} patterns (Lambda's default quota per event source mapping), "
            f"got {len(checked)}"
        )
    return [dict(item) for item in checked]
