"""Move messages out of a dead-letter queue, and look at them first.

::

    from decoupling_constructs.runtime.redrive import peek, redrive

    for message in peek(dlq_url, n=5):
        print(message["MessageId"], message["Body"])
    result = redrive(dlq_arn)                      # back to the queue whose RedrivePolicy targets the DLQ
    assert result.ok, result.failure_reason

Two ways to move, chosen with ``method``:

``"api"``
    SQS's own redrive: ``StartMessageMoveTask``, then ``ListMessageMoveTasks`` every ``poll_interval`` seconds
    until the task leaves ``RUNNING``. Without ``destination_arn`` SQS moves each message back to the queue it came
    from. Needs ``sqs:StartMessageMoveTask``/``sqs:ListMessageMoveTasks`` and the DLQ's ``RedriveAllowPolicy``
    allowing it.
``"copy"``
    Receive from the DLQ in batches of 10, ``SendMessageBatch`` to the destination (body, message attributes,
    ``AWSTraceHeader``; for a FIFO destination the ``MessageGroupId`` and a fresh ``MessageDeduplicationId``), then
    ``DeleteMessageBatch`` from the DLQ. Without ``destination_arn`` the destination is the one queue whose
    RedrivePolicy targets this DLQ (``ListDeadLetterSourceQueues``); where the endpoint lacks that call (MiniStack),
    each message goes back to the queue its ``DeadLetterQueueSourceArn`` attribute names (a message without one stays
    in the DLQ, counted in ``failed``). Moves at most about as many messages as the DLQ
    held when it started (so that messages failing again cannot loop forever), stops early when a receive comes back
    empty, and leaves in the DLQ any message it could not send (visible again after
    :data:`COPY_VISIBILITY_TIMEOUT` seconds). Messages in flight in the DLQ (e.g. being peeked) are not moved.
``"auto"`` (default)
    The API, falling back to copy (with a warning) when the endpoint does not implement it, e.g. moto.

The copy path is at least once: a message sent but not deleted (a failed delete, a crash between the two calls) is
still in the DLQ and a later redrive sends it again.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from ..limits import SQS_MAX_MOVE_MESSAGES_PER_SECOND
from ._calls import ApiCallCounter

__all__ = [
    "COPY_VISIBILITY_TIMEOUT",
    "QueueArn",
    "RedriveError",
    "RedrivePolicy",
    "RedriveResult",
    "peek",
    "redrive",
    "redrive_policy",
]

logger = logging.getLogger(__name__)

Method = Literal["auto", "api", "copy"]
METHODS: tuple[Method, ...] = ("auto", "api", "copy")
RUNNING_STATUSES = frozenset({"RUNNING", "CANCELLING"})
MAX_PER_SECOND = SQS_MAX_MOVE_MESSAGES_PER_SECOND  # StartMessageMoveTask's limit, applied to both methods
COPY_VISIBILITY_TIMEOUT = 60
"""Seconds a message received by the copy path stays invisible in the DLQ while it is sent and deleted."""
COPY_WAIT_TIME_SECONDS = 1
"""Long-poll wait of the copy path's receives: an empty receive (the DLQ is drained) costs this long."""

# Error codes meaning "this endpoint does not do StartMessageMoveTask": worth falling back to copying.
_NOT_IMPLEMENTED_CODES = frozenset(
    {
        "NotImplemented",
        "NotImplementedException",
        "UnknownOperationException",
        "UnknownOperation",
        "InvalidAction",
        "UnsupportedOperation",
        "AWS.SimpleQueueService.UnsupportedOperation",
        # An endpoint that is not SQS (moto server, emulators) answers an action it lacks with a bare HTTP error
        # page: botocore then reports the status code as the error code. SQS itself always sends a named code.
        "500",
        "501",
    }
)

_ARN = re.compile(r"^arn:(?P<partition>[\w-]+):sqs:(?P<region>[\w-]+):(?P<account>\d{12}):(?P<name>[\w.-]{1,80})\Z")


class RedriveError(Exception):
    """The redrive cannot be done as asked (no destination to be found, destination is the DLQ, ...)."""


@dataclass(frozen=True)
class QueueArn:
    """The parts of an SQS queue ARN."""

    partition: str
    region: str
    account: str
    name: str

    @classmethod
    def parse(cls, arn: str) -> QueueArn:
        match = _ARN.match(arn) if isinstance(arn, str) else None
        if match is None:
            raise ValueError(f"not an SQS queue ARN (arn:aws:sqs:REGION:ACCOUNT:NAME): {arn!r}")
        return cls(**match.groupdict())

    @property
    def fifo(self) -> bool:
        return self.name.endswith(".fifo")


@dataclass
class RedriveResult:
    """How a redrive went. Passed to ``on_progress`` while it runs (status ``RUNNING``), returned at the end."""

    status: str
    """``COMPLETED``, ``FAILED``, ``CANCELLED``; ``RUNNING`` while running or with ``wait=False``."""
    moved: int
    """Messages moved to the destination (SQS's approximate count with the API)."""
    to_move: int | None
    """Messages to move (approximate; ``None`` until known)."""
    method: Literal["api", "copy"]
    source_arn: str
    destination_arn: str | None = None
    """``None`` with the API and no destination given (SQS moves each message back where it came from)."""
    failure_reason: str | None = None
    failed: int = 0
    """copy: messages that could not be sent (left in the DLQ)."""
    delete_failures: int = 0
    """copy: messages sent but not deleted from the DLQ (a later redrive would send them again)."""
    task_handle: str | None = None
    """api: the task's handle (``CancelMessageMoveTask`` takes it)."""
    api_calls: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0

    @property
    def running(self) -> bool:
        return self.status in RUNNING_STATUSES

    @property
    def ok(self) -> bool:
        """Completed with nothing left behind."""
        return self.status == "COMPLETED" and self.failed == 0 and self.delete_failures == 0


ProgressCallback = Callable[[RedriveResult], None]


def _default_client(region: str | None = None) -> Any:
    import boto3

    return boto3.client("sqs", region_name=region) if region else boto3.client("sqs")


def _check_max_per_second(max_per_second: int | None) -> None:
    if max_per_second is None:
        return
    if isinstance(max_per_second, bool) or not isinstance(max_per_second, int) or not 1 <= max_per_second <= 500:
        raise ValueError(f"max_per_second must be an integer between 1 and {MAX_PER_SECOND}, got {max_per_second!r}")


def is_not_implemented(error: BaseException) -> bool:
    """True when ``error`` says the endpoint lacks the operation (not that the request was wrong)."""
    if isinstance(error, NotImplementedError):  # moto's in-process mock
        return True
    from botocore.exceptions import ClientError

    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return code in _NOT_IMPLEMENTED_CODES or status == 501
    return False


def redrive(
    dead_letter_queue_arn: str,
    *,
    destination_arn: str | None = None,
    max_per_second: int | None = None,
    client: Any = None,
    wait: bool = True,
    poll_interval: float = 1.0,
    on_progress: ProgressCallback | None = None,
    method: Method = "auto",
) -> RedriveResult:
    """Move the messages of a dead-letter queue back to their source queue (or ``destination_arn``).

    :param dead_letter_queue_arn: the DLQ's ARN.
    :param destination_arn: where to; default the queue(s) the messages came from (see the module doc).
    :param max_per_second: rate limit, 1-500 messages a second.
    :param client: a boto3 SQS client; default ``boto3.client("sqs")`` in the ARN's region.
    :param wait: api: wait for the task to finish (else return at once, status ``RUNNING``). copy always waits.
    :param poll_interval: api: seconds between ``ListMessageMoveTasks`` calls.
    :param on_progress: called with the result so far after each poll (api) or batch (copy).
    :param method: ``"auto"``, ``"api"`` or ``"copy"`` (see the module doc).
    :raises ValueError: a malformed ARN or argument.
    :raises RedriveError: no destination can be determined, or it is the DLQ itself.
    :raises botocore.exceptions.ClientError: an AWS error (e.g. the queue does not exist).
    """
    source = QueueArn.parse(dead_letter_queue_arn)
    if destination_arn is not None:
        QueueArn.parse(destination_arn)
        if destination_arn == dead_letter_queue_arn:
            raise RedriveError(f"the destination is the dead-letter queue itself: {destination_arn}")
    _check_max_per_second(max_per_second)
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if isinstance(poll_interval, bool) or not isinstance(poll_interval, int | float) or poll_interval < 0:
        raise ValueError(f"poll_interval must be a number of seconds >= 0, got {poll_interval!r}")
    client = client if client is not None else _default_client(source.region)
    counter = ApiCallCounter(client)
    started = time.monotonic()
    try:
        result: RedriveResult | None = None
        if method in ("auto", "api"):
            try:
                result = _redrive_api(
                    client, dead_letter_queue_arn, destination_arn, max_per_second, wait, poll_interval, on_progress
                )
            except Exception as error:
                if method == "api" or not is_not_implemented(error):
                    raise
                logger.warning(
                    "StartMessageMoveTask is not available at this endpoint (%s): copying the messages instead",
                    str(error).splitlines()[0] if str(error) else type(error).__name__,
                )
        if result is None:
            result = _redrive_copy(client, source, destination_arn, max_per_second, on_progress)
    finally:
        counter.detach()
    result.api_calls = counter.snapshot()
    result.elapsed = time.monotonic() - started
    return result


# -- the API -------------------------------------------------------------------------------------------------


def _redrive_api(
    client: Any,
    source_arn: str,
    destination_arn: str | None,
    max_per_second: int | None,
    wait: bool,
    poll_interval: float,
    on_progress: ProgressCallback | None,
) -> RedriveResult:
    kwargs: dict[str, Any] = {"SourceArn": source_arn}
    if destination_arn is not None:
        kwargs["DestinationArn"] = destination_arn
    if max_per_second is not None:
        kwargs["MaxNumberOfMessagesPerSecond"] = max_per_second
    handle = str(client.start_message_move_task(**kwargs)["TaskHandle"])
    logger.info("started message move task %s from %s", handle, source_arn)
    result = RedriveResult(
        status="RUNNING",
        moved=0,
        to_move=None,
        method="api",
        source_arn=source_arn,
        destination_arn=destination_arn,
        task_handle=handle,
    )
    if not wait:
        return result
    while True:
        tasks = client.list_message_move_tasks(SourceArn=source_arn, MaxResults=10).get("Results", [])
        task = _find_task(tasks, handle)
        if task is None:
            raise RedriveError(f"message move task {handle} is not listed by ListMessageMoveTasks for {source_arn}")
        result.status = str(task.get("Status", "UNKNOWN"))
        result.moved = int(task.get("ApproximateNumberOfMessagesMoved", 0))
        to_move = task.get("ApproximateNumberOfMessagesToMove")
        result.to_move = int(to_move) if to_move is not None else None
        result.failure_reason = task.get("FailureReason")
        result.destination_arn = task.get("DestinationArn", destination_arn)
        if on_progress is not None:
            on_progress(result)
        if not result.running:
            break
        time.sleep(poll_interval)
    log = logger.info if result.status == "COMPLETED" else logger.warning
    log("message move task %s: %s, %d of %s moved", handle, result.status, result.moved, result.to_move)
    return result


def _find_task(tasks: list[dict[str, Any]], handle: str) -> dict[str, Any] | None:
    """Our task: the one with our handle; once finished SQS may list it without one, as the most recent task."""
    for task in tasks:
        if task.get("TaskHandle") == handle:
            return task
    finished = [task for task in tasks if not task.get("TaskHandle")]
    if not finished:
        return None
    return max(finished, key=lambda task: int(task.get("StartedTimestamp", 0)))


# -- copying -------------------------------------------------------------------------------------------------


def queue_url_of(client: Any, arn: QueueArn) -> str:
    return str(client.get_queue_url(QueueName=arn.name, QueueOwnerAWSAccountId=arn.account)["QueueUrl"])


def _find_source_queue(client: Any, dlq_url: str, dlq_arn: str) -> str:
    urls: list[str] = []
    kwargs: dict[str, Any] = {"QueueUrl": dlq_url, "MaxResults": 1000}
    while True:
        response = client.list_dead_letter_source_queues(**kwargs)
        urls.extend(response.get("queueUrls", []))
        token = response.get("NextToken")
        if not token:
            break
        kwargs["NextToken"] = token
    if not urls:
        raise RedriveError(
            f"no queue has a RedrivePolicy targeting {dlq_arn}: give the destination (destination_arn / --destination)"
        )
    if len(urls) > 1:
        raise RedriveError(
            f"{len(urls)} queues send their failures to {dlq_arn} ({', '.join(sorted(urls))}): "
            "give the destination (destination_arn / --destination)"
        )
    return urls[0]


def _source_queue_or_none(client: Any, dlq_url: str, dlq_arn: str) -> str | None:
    """The one queue whose RedrivePolicy targets the DLQ; ``None`` when the endpoint lacks
    ``ListDeadLetterSourceQueues`` (e.g. MiniStack): each message then goes back to the queue its
    ``DeadLetterQueueSourceArn`` attribute names."""
    from botocore.exceptions import ClientError

    try:
        return _find_source_queue(client, dlq_url, dlq_arn)
    except ClientError as error:
        if not is_not_implemented(error):
            raise
    logger.warning(
        "ListDeadLetterSourceQueues is not available at this endpoint: sending each message back to the queue its "
        "DeadLetterQueueSourceArn attribute names"
    )
    return None


class _Destinations:
    """Where the copy path sends: one queue, or (``url`` None) each message's ``DeadLetterQueueSourceArn``."""

    def __init__(self, client: Any, dlq_url: str, url: str | None) -> None:
        self._client = client
        self._dlq_url = dlq_url
        self._url = url
        self._urls: dict[str, str] = {}  # source ARN -> URL, looked up once each

    def arns(self) -> list[str]:
        return sorted(self._urls)

    def send(self, messages: list[dict[str, Any]], run_id: str) -> tuple[list[dict[str, Any]], set[str]]:
        """Messages sent, and the failure codes of the others (left in the DLQ)."""
        if self._url is not None:
            return _send(self._client, self._url, messages, self._url.endswith(".fifo"), run_id)
        by_url: dict[str, list[dict[str, Any]]] = {}
        reasons: set[str] = set()
        for message in messages:
            arn = message.get("Attributes", {}).get("DeadLetterQueueSourceArn")
            if not arn:
                reasons.add("NoDeadLetterQueueSourceArn")
                continue
            if arn not in self._urls:
                self._urls[arn] = queue_url_of(self._client, QueueArn.parse(arn))
            url = self._urls[arn]
            if url == self._dlq_url:
                reasons.add("SourceIsTheDeadLetterQueue")
                continue
            by_url.setdefault(url, []).append(message)
        sent: list[dict[str, Any]] = []
        for url, group in by_url.items():
            done, codes = _send(self._client, url, group, url.endswith(".fifo"), run_id)
            sent.extend(done)
            reasons.update(codes)
        if reasons:
            logger.warning("%d of %d messages not sent: %s", len(messages) - len(sent), len(messages), sorted(reasons))
        return sent, reasons if len(sent) < len(messages) else set()


def message_entry(message: dict[str, Any], index: int, fifo_destination: bool, run_id: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"Id": str(index), "MessageBody": message["Body"]}
    attributes = {
        name: {key: value[key] for key in ("DataType", "StringValue", "BinaryValue") if key in value}
        for name, value in message.get("MessageAttributes", {}).items()
    }
    if attributes:
        entry["MessageAttributes"] = attributes
    system = message.get("Attributes", {})
    if "AWSTraceHeader" in system:
        entry["MessageSystemAttributes"] = {
            "AWSTraceHeader": {"DataType": "String", "StringValue": system["AWSTraceHeader"]}
        }
    if fifo_destination:
        entry["MessageGroupId"] = system.get("MessageGroupId") or "redrive"
        # Not the original id: SQS would drop the message as a duplicate within 5 minutes of the first send, or of a
        # previous redrive of it. Unique to this redrive run, so that resending it in this run stays idempotent.
        entry["MessageDeduplicationId"] = f"{run_id}-{message['MessageId']}"[:128]
    return entry


def _redrive_copy(
    client: Any,
    source: QueueArn,
    destination_arn: str | None,
    max_per_second: int | None,
    on_progress: ProgressCallback | None,
) -> RedriveResult:
    source_arn = f"arn:{source.partition}:sqs:{source.region}:{source.account}:{source.name}"
    dlq_url = queue_url_of(client, source)
    destination_url: str | None
    if destination_arn is not None:
        destination_url = queue_url_of(client, QueueArn.parse(destination_arn))
    else:
        destination_url = _source_queue_or_none(client, dlq_url, source_arn)
        if destination_url is not None:
            destination_arn = str(
                client.get_queue_attributes(QueueUrl=destination_url, AttributeNames=["QueueArn"])["Attributes"][
                    "QueueArn"
                ]
            )
    if destination_url == dlq_url:
        raise RedriveError(f"the destination is the dead-letter queue itself: {destination_arn}")
    to_move = int(
        client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
    )
    result = RedriveResult(
        status="RUNNING",
        moved=0,
        to_move=to_move,
        method="copy",
        source_arn=source_arn,
        destination_arn=destination_arn,
    )
    logger.info("copying about %d messages from %s to %s", to_move, source_arn, destination_arn or "their sources")
    destinations = _Destinations(client, dlq_url, destination_url)
    run_id = uuid.uuid4().hex[:16]
    per_receive = min(10, max_per_second) if max_per_second else 10
    started = time.monotonic()
    reasons: set[str] = set()
    while True:
        messages: list[dict[str, Any]] = client.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=per_receive,
            WaitTimeSeconds=COPY_WAIT_TIME_SECONDS,
            VisibilityTimeout=COPY_VISIBILITY_TIMEOUT,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            break
        sent, failures = destinations.send(messages, run_id)
        reasons.update(failures)
        result.failed += len(messages) - len(sent)
        not_deleted = _delete(client, dlq_url, sent)
        result.delete_failures += not_deleted
        result.moved += len(sent)
        if on_progress is not None:
            on_progress(result)
        if result.moved + result.failed >= to_move:
            break
        if max_per_second:
            delay = started + (result.moved + result.failed) / max_per_second - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    if destination_url is None:
        found = destinations.arns()
        result.destination_arn = found[0] if len(found) == 1 else None
    problems = []
    if result.failed:
        problems.append(
            f"{result.failed} messages could not be sent ({', '.join(sorted(reasons))}) and stay in the DLQ"
        )
    if result.delete_failures:
        problems.append(f"{result.delete_failures} messages were sent but could not be deleted from the DLQ")
    result.status = "FAILED" if problems else "COMPLETED"
    result.failure_reason = "; ".join(problems) or None
    if problems:
        logger.warning(
            "copied %d messages from %s to %s: %s",
            result.moved,
            source_arn,
            result.destination_arn or "their sources",
            result.failure_reason,
        )
    else:
        logger.info(
            "copied %d messages from %s to %s", result.moved, source_arn, result.destination_arn or "their sources"
        )
    return result


def _send(
    client: Any, url: str, messages: list[dict[str, Any]], fifo_destination: bool, run_id: str
) -> tuple[list[dict[str, Any]], set[str]]:
    """SendMessageBatch, the failed entries retried once. Returns the messages sent and the failure codes."""
    pending = list(enumerate(messages))
    codes: set[str] = set()
    for attempt in (1, 2):
        entries = [message_entry(message, index, fifo_destination, run_id) for index, message in pending]
        response = client.send_message_batch(QueueUrl=url, Entries=entries)
        failed_ids = {str(f["Id"]) for f in response.get("Failed", [])}
        if failed_ids:
            codes = {str(f.get("Code")) for f in response["Failed"]}
            logger.warning(
                "SendMessageBatch failed for %d messages%s: %s",
                len(failed_ids),
                ", retrying" if attempt == 1 else "",
                ", ".join(sorted(codes)),
            )
        pending = [(index, message) for index, message in pending if str(index) in failed_ids]
        if not pending:
            break
    failed = {index for index, _ in pending}
    return [message for index, message in enumerate(messages) if index not in failed], codes if failed else set()


def _delete(client: Any, url: str, messages: list[dict[str, Any]]) -> int:
    """DeleteMessageBatch, the failed entries retried once. Returns how many could not be deleted."""
    pending = list(enumerate(messages))
    for attempt in (1, 2):
        if not pending:
            return 0
        entries = [{"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]} for index, message in pending]
        response = client.delete_message_batch(QueueUrl=url, Entries=entries)
        failed_ids = {str(f["Id"]) for f in response.get("Failed", [])}
        if failed_ids:
            logger.warning(
                "DeleteMessageBatch failed for %d messages%s: %s",
                len(failed_ids),
                ", retrying" if attempt == 1 else " (a later redrive would send them again)",
                ", ".join(sorted({str(f.get("Code")) for f in response["Failed"]})),
            )
        pending = [(index, message) for index, message in pending if str(index) in failed_ids]
    return len(pending)


# -- peeking -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RedrivePolicy:
    """A queue's ``RedrivePolicy`` attribute: where its failures go, after how many receives."""

    dead_letter_target_arn: str
    max_receive_count: int


def redrive_policy(client: Any, queue_url: str) -> RedrivePolicy | None:
    """The queue's redrive policy (one ``GetQueueAttributes`` call), ``None`` when it has none."""
    attributes = client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"]).get("Attributes", {})
    text = attributes.get("RedrivePolicy")
    if not text:
        return None
    policy = json.loads(text)
    return RedrivePolicy(str(policy["deadLetterTargetArn"]), int(policy["maxReceiveCount"]))


def peek(
    queue_url: str, n: int = 10, client: Any = None, *, wait_time_seconds: int = 1, force: bool = False
) -> list[dict[str, Any]]:
    """Up to ``n`` messages of a queue (typically a DLQ), leaving them there, and never moving one to a DLQ.

    Peeking is a receive: SQS has no other way to read a message. Each message shown was received once more, so its
    ``ApproximateReceiveCount`` went up by one (the count shown includes this peek). On a queue with a redrive policy
    that count is what sends a message to the dead-letter queue: the receive after the ``maxReceiveCount``-th moves it
    there instead of returning it. So:

    * a queue **without** a redrive policy (a DLQ, usually): receives with ``VisibilityTimeout=0`` (the messages stay
      visible), repeatedly, keeping each ``MessageId`` once, until ``n`` are found, a receive comes back empty, or
      three receives in a row bring nothing new;
    * a queue **with** a redrive policy: refuses (``RedriveError``), because no receive there can be proven harmless.
      With ``force=True`` it makes exactly one receive (at most 10 messages), so a message's count rises by one at
      most: a message whose count had already reached ``maxReceiveCount`` (it failed that often and waits for its
      last, moving receive) is moved by that receive, as the next consumer's receive would have moved it. Peek its
      DLQ instead when you can.

    Standard queues return a sample, so on a large queue which messages you see is not defined. On a FIFO queue a peek
    only ever shows the first messages of the groups at the head of the queue (at most 10), briefly receiving them
    like a consumer would.

    :param wait_time_seconds: long-poll wait of each receive (0-20); waited only when the queue looks empty.
    :param force: peek a queue that has a redrive policy (one receive; see above).
    :raises RedriveError: the queue has a redrive policy and ``force`` is false.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    if (
        isinstance(wait_time_seconds, bool)
        or not isinstance(wait_time_seconds, int)
        or not 0 <= wait_time_seconds <= 20
    ):
        raise ValueError(f"wait_time_seconds must be an integer between 0 and 20, got {wait_time_seconds!r}")
    if not isinstance(force, bool):
        raise ValueError(f"force must be True or False, got {force!r}")
    client = client if client is not None else _default_client(_region_of_url(queue_url))
    policy = redrive_policy(client, queue_url)
    max_rounds = None
    if policy is not None:
        if not force:
            raise RedriveError(
                f"{queue_url} has a redrive policy (maxReceiveCount {policy.max_receive_count}, dead-letter queue "
                f"{policy.dead_letter_target_arn}): peeking is a receive, it raises each message's receive count and "
                "can move a message to the dead-letter queue. Peek the dead-letter queue instead, or pass "
                "force=True (CLI: --force) for one receive that raises each message's count by one"
            )
        max_rounds = 1
    found: dict[str, dict[str, Any]] = {}
    rounds = rounds_without_new = 0
    while len(found) < n and rounds_without_new < 3 and (max_rounds is None or rounds < max_rounds):
        rounds += 1
        messages = client.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(10, max(1, n - len(found))),
            WaitTimeSeconds=wait_time_seconds,
            VisibilityTimeout=0,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            break
        new = [m for m in messages if m["MessageId"] not in found]
        for message in new[: n - len(found)]:
            found[message["MessageId"]] = message
        rounds_without_new = 0 if new else rounds_without_new + 1
    return list(found.values())


_URL_REGION = re.compile(r"^https?://(?:sqs\.)?(?P<region>[a-z]{2}(?:-[a-z]+)+-\d)\.(?:queue\.)?amazonaws\.com")


def _region_of_url(url: str) -> str | None:
    """The region of an AWS queue URL (``https://sqs.eu-west-1.amazonaws.com/...``); None for other hosts."""
    match = _URL_REGION.match(url)
    return match.group("region") if match else None
