"""StreamFunction: a Lambda function consuming a Kinesis stream; a poison record is bisected out, retried a bounded
number of times, and its place recorded in an on-failure ReliableQueue instead of blocking its shard."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from aws_cdk import Duration, Names, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kinesis as kinesis
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
from ..capacity import MAX_ENHANCED_FAN_OUT_CONSUMERS
from ..queues.reliable_queue import ReliableQueue
from .stream_to_s3 import DEFAULT_ITERATOR_AGE_ALARM, StreamToS3

# Lambda Kinesis event source mapping limits (Lambda developer guide, "Lambda parameters for Amazon Kinesis Data
# Streams event source mappings"; Lambda API reference, CreateEventSourceMapping):
DEFAULT_BATCH_SIZE = 100  # BatchSize: default 100...
MAX_BATCH_SIZE = 10_000  # ...maximum 10,000
MAX_BATCHING_WINDOW_SECONDS = 300  # MaximumBatchingWindowInSeconds: 0-300
MAX_PARALLELIZATION_FACTOR = 10  # ParallelizationFactor: 1-10 batches per shard at once
# MaximumRetryAttempts: -1 (infinite: retried until the record expires) to 10,000; -1 is refused here, it is the
# poison record that blocks its shard.
MAX_RETRY_ATTEMPTS = 10_000
DEFAULT_RETRY_ATTEMPTS = 3
# MaximumRecordAgeInSeconds: -1 (infinite) or 60-604,800 (7 days); -1 is refused here for the same reason.
MIN_RECORD_AGE_SECONDS = 60
MAX_RECORD_AGE_SECONDS = 7 * 24 * 3600
DEFAULT_MAX_RECORD_AGE = Duration.hours(1)
STARTING_POSITIONS = (
    lambda_.StartingPosition.TRIM_HORIZON,
    lambda_.StartingPosition.LATEST,
    lambda_.StartingPosition.AT_TIMESTAMP,
)
# Kinesis RegisterStreamConsumer: a consumer name is 1-128 letters, digits, '_', '.' and '-'.
MAX_CONSUMER_NAME_LENGTH = 128
_AT_TIMESTAMP = lambda_.StartingPosition.AT_TIMESTAMP
_STREAM_TEXT = "a StreamToS3 or a kinesis.IStream"


def _check_stream(prop: str, value: object, ctx: r.Context) -> None:
    """A StreamToS3 or a ``kinesis.IStream``, of this App."""
    attributes: tuple[str, ...] = () if isinstance(value, StreamToS3) else ("stream_arn", "grant_read", "node")
    r.Interface(_STREAM_TEXT, attributes).check(prop, value, ctx)


def _timestamp_with_at_timestamp(values: Mapping[str, Any], ctx: r.Context) -> None:
    """``starting_position_timestamp`` exactly with ``starting_position`` AT_TIMESTAMP."""
    at_timestamp = values.get("starting_position") == _AT_TIMESTAMP
    timestamp = values.get("starting_position_timestamp")
    if at_timestamp and timestamp is None:
        raise ValueError("starting_position AT_TIMESTAMP needs starting_position_timestamp (Unix time in seconds)")
    if timestamp is not None and not at_timestamp:
        raise ValueError(
            f"starting_position_timestamp={r.show(timestamp, ctx.scope)} requires starting_position "
            f"StartingPosition.AT_TIMESTAMP, got {r.show(values.get('starting_position'))}"
        )


_ITERATOR_AGE_NEEDS = "aws-cdk-lib checks its range and the iterator_age alarm is computed from it"

#: What every StreamFunction prop accepts (the engine in ``_rules.py`` checks them before the constructor runs).
RULES = (
    r.Rules(
        {
            "function": consumers.FUNCTION,
            "stream": r.Custom(_check_stream, _STREAM_TEXT, tokens="synth"),
            "on_failure_queue": consumers.reliable_queue_rule("a ReliableQueue or None"),
            "starting_position": r.OneOf(STARTING_POSITIONS, tokens="synth"),
            "starting_position_timestamp": r.EpochSeconds(
                optional=True, source="Lambda CreateEventSourceMapping StartingPositionTimestamp"
            ),
            "batch_size": r.Int(1, MAX_BATCH_SIZE, source="Lambda Kinesis event source mapping, BatchSize"),
            "max_batching_window": r.Seconds(
                0,
                MAX_BATCHING_WINDOW_SECONDS,
                optional=True,
                token_unit="seconds",
                source="Lambda Kinesis event source mapping, MaximumBatchingWindowInSeconds",
            ),
            "parallelization_factor": r.Int(
                1, MAX_PARALLELIZATION_FACTOR, source="Lambda Kinesis event source mapping, ParallelizationFactor"
            ),
            "retry_attempts": r.Int(
                0, MAX_RETRY_ATTEMPTS, source="Lambda Kinesis event source mapping, MaximumRetryAttempts"
            ),
            "max_record_age": r.Seconds(
                MIN_RECORD_AGE_SECONDS,
                MAX_RECORD_AGE_SECONDS,
                text="60 seconds-7 days (a bound: an unbounded age lets a poison record block its shard)",
                tokens="synth",
                why=_ITERATOR_AGE_NEEDS,
                source="Lambda Kinesis event source mapping, MaximumRecordAgeInSeconds",
            ),
            "enhanced_fan_out": r.Bool(),
            "enabled": r.Bool(),
        },
        relations=(_timestamp_with_at_timestamp, consumers.no_queue_overrides("on_failure_queue")),
    )
    | ALARM_PROPS
)


class StreamFunction(PatternConstruct):
    """A Lambda function consuming a Kinesis stream (a :class:`StreamToS3`'s or any ``kinesis.IStream``).

    Builds:

    * ``event_source_mapping``: aws-cdk-lib's ``KinesisEventSource`` (``KinesisConsumerEventSource`` with
      ``enhanced_fan_out``) in the function's stack, with ``BisectBatchOnFunctionError`` and
      ``ReportBatchItemFailures`` on, bounded ``retry_attempts`` and ``max_record_age``: a record that keeps
      failing is split out of its batch, retried, then skipped, and where it was (shard, sequence numbers) is sent
      to the on-failure queue, so it cannot block its shard until it expires. The function's role gets the
      stream's L2 ``grant_read`` (and its KMS key), or the consumer's with enhanced fan-out, and send on the queue.
    * ``on_failure_queue``: the given ``ReliableQueue``, or a new one (child id ``OnFailureQueue``). It receives
      the batch's metadata, not the records: read them from the stream within its retention.
    * ``consumer``: with ``enhanced_fan_out``, a ``kinesis.StreamConsumer`` (its own 2 MiB/s per shard), else None.
    * ``alarms``: ``"iterator_age"`` (the function's ``IteratorAge``: how far behind the newest record it reads),
      ``"function_errors"`` and ``"function_throttles"``; the created queue's ``"dead_letter_queue"`` and
      ``"oldest_message_age"`` are the ReliableQueue's own, as in :class:`QueueFunction`.

    A ``StreamToS3`` planned with ``expected_throughput=Throughput(..., consumers=N)`` has N readers: its Firehose
    delivery stream and N-1 StreamFunctions at most; one more is refused, naming the plan. When the plan gives
    enhanced fan-out, every StreamFunction on it must use it (only Firehose shares the shard's reads).

    :param function: the consumer, any ``lambda_.IFunction``; in the same stack as this construct.
    :param stream: a ``StreamToS3`` or a ``kinesis.IStream`` (a StreamToS3's ``stream`` counts as the StreamToS3).
    :param on_failure_queue: a ``ReliableQueue`` for the failed batches' metadata; default a new one. The stream
        and the queue may be in other stacks, unless such a stack depends on this one (refused, naming both).
    :param starting_position: ``lambda_.StartingPosition``; default TRIM_HORIZON (the oldest record kept).
    :param starting_position_timestamp: Unix time in seconds, only (and required) with AT_TIMESTAMP.
    :param batch_size: records per invocation, default 100; 1-10,000.
    :param max_batching_window: how long to gather a batch, default none; 0-300 s.
    :param parallelization_factor: batches of one shard processed at once, default 1; 1-10 (order is kept per
        partition key).
    :param retry_attempts: retries of a failed batch (after bisecting), default 3; 0-10,000.
    :param max_record_age: older records are skipped (to the on-failure queue), default 1 hour; 60 s-7 days.
    :param enhanced_fan_out: read through a registered consumer of its own, default False.
    :param enabled: whether the mapping polls, default True.
    :param alarm_topic: SNS topic (or ``AlarmTopic``) the alarms notify; default none (alarms still exist).
    :param create_alarms: default True; False creates no alarm (nor the created queue's).
    :param alarm_settings: an ``AlarmSettings``: name prefix, extra ALARM/OK actions, and per-key overrides
        (the queue's keys only for a created queue). ``iterator_age`` defaults to 10 minutes, or half of
        ``max_record_age`` when that is shorter, and must stay below ``max_record_age``.
    """

    #: The keys of ``alarms`` and of ``alarm_settings.overrides``.
    ALARM_KEYS: ClassVar[tuple[str, ...]] = (
        "iterator_age",
        *consumers.FUNCTION_ALARM_KEYS,
        *consumers.QUEUE_ALARM_KEYS,
    )

    @r.guarded(RULES)
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.IFunction,
        stream: StreamToS3 | kinesis.IStream,
        on_failure_queue: ReliableQueue | None = None,
        starting_position: lambda_.StartingPosition = lambda_.StartingPosition.TRIM_HORIZON,
        starting_position_timestamp: float | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_batching_window: Duration | None = None,
        parallelization_factor: int = 1,
        retry_attempts: int = DEFAULT_RETRY_ATTEMPTS,
        max_record_age: Duration = DEFAULT_MAX_RECORD_AGE,
        alarm_topic: sns.ITopic | AlarmTopic | None = None,
        create_alarms: bool = True,
        alarm_settings: AlarmSettings | None = None,
        enhanced_fan_out: bool = False,
        enabled: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        consumers.check_same_stack(self, function)
        self.stream: kinesis.IStream = stream.stream if isinstance(stream, StreamToS3) else stream
        self.stream_to_s3: StreamToS3 | None = _stream_to_s3_of(stream)
        _stacks.use_each(
            self,
            {
                "stream": self.stream,
                "on_failure_queue": on_failure_queue.queue if on_failure_queue is not None else None,
            },
        )
        self.enhanced_fan_out = enhanced_fan_out
        _check_readers(self)
        alarms = Alarms.of(self, alarm_topic, create_alarms, alarm_settings)
        iterator_age = _iterator_age_threshold(alarms, max_record_age)
        self.function = function

        on_failure_queue, own_queue_alarms = consumers.reliable_queue(
            self, on_failure_queue, "OnFailureQueue", alarms, alarm_topic, create_alarms
        )
        self.on_failure_queue = on_failure_queue
        self.queue: sqs.IQueue = on_failure_queue.queue

        options = {
            "starting_position": starting_position,
            "starting_position_timestamp": starting_position_timestamp,
            "batch_size": batch_size,
            "max_batching_window": max_batching_window,
            "parallelization_factor": parallelization_factor,
            "retry_attempts": retry_attempts,
            "max_record_age": max_record_age,
            "bisect_batch_on_error": True,
            "report_batch_item_failures": True,
            "on_failure": event_sources.SqsDlq(on_failure_queue.queue),
            "enabled": enabled,
        }
        source = self._new_event_source(enhanced_fan_out, options)
        function.add_event_source(source)
        self.event_source_mapping_id: str = source.event_source_mapping_id
        consumers.acknowledge_mapped_function(
            function,
            failures="StreamFunction invokes it through a Kinesis event source mapping: a failing batch is bisected, "
            "retried, then recorded in on_failure_queue (the mapping's OnFailure destination).",
            concurrency=f"The Kinesis event source runs at most parallelization_factor ({parallelization_factor}) "
            "batches per shard at once; reserved concurrency below shards x factor would throttle the mapping "
            "and stall its shards.",
        )

        self._add_alarms(alarms, function, iterator_age, max_record_age)
        self.alarms: Mapping[str, cloudwatch.Alarm] = MappingProxyType({**alarms.mapping, **own_queue_alarms})
        self._reads = True  # built: a reader of the stream (one refused half-way stays in the tree, unbuilt)

    def _new_event_source(
        self, enhanced_fan_out: bool, options: Mapping[str, object]
    ) -> event_sources.KinesisEventSource | event_sources.KinesisConsumerEventSource:
        """Shared throughput, or an enhanced fan-out consumer of its own (``consumer``)."""
        self.consumer: kinesis.StreamConsumer | None = None
        if not enhanced_fan_out:
            return event_sources.KinesisEventSource(self.stream, **options)  # type: ignore[arg-type]
        self.consumer = kinesis.StreamConsumer(
            self,
            "Consumer",
            stream=self.stream,
            stream_consumer_name=Names.unique_resource_name(self, max_length=MAX_CONSUMER_NAME_LENGTH, separator="-"),
        )
        return event_sources.KinesisConsumerEventSource(self.consumer, **options)  # type: ignore[arg-type]

    def _add_alarms(
        self, alarms: Alarms, function: lambda_.IFunction, iterator_age: Duration, max_record_age: Duration
    ) -> None:
        alarms.add(
            "iterator_age",
            metric=function.metric("IteratorAge", period=Duration.minutes(1), statistic="Maximum"),
            threshold=iterator_age,
            unit=Duration.to_milliseconds,
            description="The consumer of the stream is {threshold} or more behind its newest record; records older "
            f"than {max_record_age.to_human_string()} are skipped to the on-failure queue, and the stream drops "
            "records past its retention.",
        )
        consumers.add_function_alarms(
            alarms,
            function,
            errors="a crash or a batch that failed entirely. The batch is bisected and retried, then its place "
            "goes to the on-failure queue.",
            throttles="raise its concurrency or lower parallelization_factor; the shard waits meanwhile.",
        )


def _stream_to_s3_of(stream: StreamToS3 | kinesis.IStream) -> StreamToS3 | None:
    """The StreamToS3 given, or whose ``stream`` was given (its capacity plan applies either way)."""
    if isinstance(stream, StreamToS3):
        return stream
    owner = stream.node.scope
    return owner if isinstance(owner, StreamToS3) and owner.stream is stream else None


def _iterator_age_threshold(alarms: Alarms, max_record_age: Duration) -> Duration:
    """10 minutes, or half of ``max_record_age`` when shorter; an override must stay below ``max_record_age``:
    a record that old is skipped, so the iterator age never reaches it and the alarm could never fire."""
    age = v.duration_seconds("max_record_age", max_record_age)
    default = DEFAULT_ITERATOR_AGE_ALARM
    if age is not None and age / 2 < default.to_seconds():
        default = Duration.seconds(int(age // 2))
    if not alarms.enabled("iterator_age"):
        return default
    threshold = alarms.threshold("iterator_age", default)
    assert isinstance(threshold, Duration)
    prop = "alarm_settings.overrides['iterator_age'].threshold"
    v.check_duration(prop, threshold, minimum=1, maximum=MAX_RECORD_AGE_SECONDS, allowed="at least 1 second")
    seconds = v.duration_seconds(prop, threshold)
    if age is not None and seconds is not None and seconds >= age:
        raise ValueError(
            f"{prop} must be shorter than max_record_age ({v.seconds_text(age)}): older records are skipped, so the "
            f"alarm could never fire, got {v.seconds_text(seconds)}"
        )
    return threshold


def _check_readers(new: StreamFunction) -> None:
    """The capacity plan's consumer count, and Kinesis's 20 enhanced fan-out consumers per stream.

    A plan's ``consumers`` counts every reader of the stream; StreamToS3's Firehose delivery is one (it reads with
    shared throughput). Kinesis Data Streams developer guide, "Quotas and limits": shared-throughput consumers
    share 2 MiB/s per shard; each enhanced fan-out consumer has its own 2 MiB/s per shard, 20 per stream.
    """
    others = [
        c
        for c in Stack.of(new).node.root.node.find_all()
        if isinstance(c, StreamFunction) and getattr(c, "_reads", False) and c.stream is new.stream
    ]
    if new.enhanced_fan_out:
        fan_out = [c for c in others if c.enhanced_fan_out]
        if len(fan_out) + 1 > MAX_ENHANCED_FAN_OUT_CONSUMERS:
            raise ValueError(
                f"enhanced_fan_out=True would register consumer {len(fan_out) + 1} of the stream, and Kinesis "
                f"allows {MAX_ENHANCED_FAN_OUT_CONSUMERS} per stream (already: "
                f"{', '.join(c.node.path for c in fan_out[:3])}, ...)"
            )
    source = new.stream_to_s3
    plan = source.capacity_plan if source is not None else None
    if source is None or plan is None or plan.throughput is None:
        return
    planned = plan.throughput
    described = (
        f"StreamToS3 {source.node.path!r} was planned for {planned.consumers} consumer"
        f"{'s' if planned.consumers != 1 else ''} (Throughput(consumers={planned.consumers}"
        f"{', enhanced_fan_out=True' if planned.enhanced_fan_out else ''}): {plan})"
    )
    readers = 1 + len(others)  # its Firehose delivery stream, and the StreamFunctions already on it
    if readers + 1 > planned.consumers:
        names = ", ".join(repr(c.node.path) for c in others) or "none"
        raise ValueError(
            f"{described}; its Firehose delivery is one and StreamFunctions {names} the others, so this one would "
            f"be consumer {readers + 1}: plan for more consumers (a larger Throughput(consumers=...)) or read less"
        )
    if planned.enhanced_fan_out and not new.enhanced_fan_out:
        raise ValueError(
            f"{described}; the plan gives every consumer but Firehose enhanced fan-out (its own 2 MiB/s per shard), "
            "so this one needs enhanced_fan_out=True: a second shared-throughput reader was not planned for"
        )
