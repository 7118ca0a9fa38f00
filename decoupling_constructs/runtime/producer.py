"""Batching producers for SQS queues (``QueueProducer``) and SNS topics (``TopicPublisher``).

Both buffer what you give them and send it with the batch API (SendMessageBatch, PublishBatch): up to
10 entries per call instead of one call per message. A batch call can succeed for some entries and fail
for others while the HTTP status is 200; the producers read the per-entry result and resend **only**
the entries reported failed, with exponential backoff and full jitter, up to ``max_retries`` times.
Entries the service rejects as the sender's fault (``SenderFault: true``, e.g. an invalid attribute)
are not retried: resending would fail the same way. Entries that are still failed at the end are
raised in a ``PartialBatchError`` that lists them.

A call the service rejects as a whole for what is in it (HTTP 400 naming no throttling, no missing
queue and no credentials problem, e.g. ``InvalidParameterValue`` or ``InvalidMessageContents``;
or botocore's own parameter validation) is an entry's fault that the checks in ``send()`` did not
catch: the producer splits the call in halves and sends each (bisecting down to single entries), so
the valid entries go out and only the culprits are raised in a ``PartialBatchError``. A bad entry
never stays in the buffer to block the ones behind it.

Delivery is at least once: an entry whose call raised otherwise (a network error or throttling after
botocore's own retries, an access-denied error) goes back to the front of the buffer, and the next
``flush()`` sends it again, so a call that reached AWS but whose answer was lost can deliver it twice.
Entries reported successful are never resent. Entries that had failed for good in a ``flush()`` that
then raised are raised in a ``PartialBatchError`` by the next ``flush()`` (or ``close()``).

Thread safety: ``send``/``publish`` may be called from several threads. Batches leave in the order
their entries were buffered: one thread at a time sends (the others keep buffering meanwhile).

Overlapping calls (``QueueProducer(send_concurrency=N)``, standard queues): full batches are handed to a pool
of N threads, so up to N SendMessageBatch calls are in flight at once (each with its own retries), and
``send()`` returns without waiting for the call; it waits only when N calls are in flight already (memory
stays bounded: N batches plus the buffer). Batches are still filled by count (10) and by the 1 MiB payload
limit, in buffer order, but may land in any order. What a batch sent in the background left (entries failed
for good, or the exception of a call, whose entries went back to the buffer) is raised by the next
``flush()`` or ``close()``, which waits for every call in flight: every entry is acknowledged, raised in a
``PartialBatchError``, or still buffered. FIFO queues refuse N > 1 (a group's order would not hold).

``stats.api_calls`` counts the calls made through the producer's client, by operation, with the
shared ``ApiCallCounter`` (pass a client of your own and its other calls are counted as well).
"""

from __future__ import annotations

import concurrent.futures
import itertools
import logging
import math
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ClassVar, Final, Self

import boto3
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from .._validate import check_count, check_queue_url, check_topic_arn, validating_helper
from ..limits import (
    SNS_DEFAULT_MAX_BYTES,
    SNS_MAX_BATCH_ENTRIES,
    SNS_MAX_BYTES,
    SNS_MAX_SUBJECT_CHARS,
    SQS_MAX_BATCH_ENTRIES,
    SQS_MAX_DELAY_SECONDS,
    SQS_MAX_MESSAGE_ATTRIBUTES,
    SQS_MAX_MESSAGE_BYTES,
)
from ._calls import ApiCallCounter

__all__ = [
    "AttributeValue",
    "FailedEntry",
    "PartialBatchError",
    "ProducerStats",
    "QueueProducer",
    "TopicPublisher",
]

logger = logging.getLogger(__name__)

# SendMessageBatch: the batch as a whole (bodies and message attributes) at most 1 MiB, the same as the
# largest single message. PublishBatch: 256 KiB per message and per batch, unless the topic's
# MaximumMessageSize was raised: pass it as ``max_message_bytes``. The numbers and their sources: limits.py.
SQS_MAX_BYTES: Final = SQS_MAX_MESSAGE_BYTES
# QueueProducer(send_concurrency=...): the library's own bound on SendMessageBatch calls in flight (no AWS limit).
MAX_SEND_CONCURRENCY: Final = 16
# Both services: at most 10 message attributes per message.
MAX_ATTRIBUTES: Final = SQS_MAX_MESSAGE_ATTRIBUTES

# A message attribute, as given to send()/publish(): str -> String, int/float -> Number,
# bytes -> Binary, or a boto3 MessageAttributeValue mapping ({"DataType": ..., "StringValue": ...}).
AttributeValue = str | bytes | int | float | Mapping[str, Any]

# MessageGroupId and MessageDeduplicationId: 1-128 characters, letters, digits and punctuation.
_ID_PATTERN: Final = re.compile(r"[\x21-\x7e]{1,128}")
_ATTRIBUTE_NAME_PATTERN: Final = re.compile(r"[A-Za-z0-9_.\-]{1,256}")

# The characters an SQS message body may hold (SendMessage: "#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to
# #xFFFD | #x10000 to #x10FFFF"); anything else fails the whole call with InvalidMessageContents.
_SQS_INVALID_CHARACTER: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# Error codes that say "slow down" (botocore retries them; they concern the rate, not the entries).
THROTTLING_CODES: Final = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "Throttled",  # SNS
        "RequestThrottled",  # SQS
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",  # Kinesis
        "LimitExceededException",
        "RequestLimitExceeded",
        "SlowDown",
    }
)
# HTTP 400 error codes about the call's target or its caller, not about its entries: bisecting would
# fail every entry the same way, so the entries stay buffered and the error propagates.
CALL_LEVEL_CODES: Final = frozenset(
    {
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
        "NonExistentQueue",
        "NotFound",
        "NotFoundException",
        "ResourceNotFoundException",
        "ResourceInUseException",
        "AccessDenied",
        "AccessDeniedException",
        "AuthorizationError",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "InvalidSecurity",
        "MissingAuthenticationToken",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "OptInRequired",
        "EndpointDisabled",
    }
)


def rejects_entries(error: BaseException) -> bool:
    """True when ``error`` is the service (or botocore's parameter validation) refusing a batch call for
    what its entries hold, so that sending the entries apart isolates the culprit.

    An HTTP 400 whose code is neither throttling (:data:`THROTTLING_CODES`), nor about the target or the
    caller (:data:`CALL_LEVEL_CODES`, KMS errors), counts. 5xx, 403, 429 and network errors do not.
    """
    if isinstance(error, ParamValidationError):
        return True
    if not isinstance(error, ClientError):
        return False
    code = str(error.response.get("Error", {}).get("Code", ""))
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in THROTTLING_CODES or code in CALL_LEVEL_CODES or code.lower().startswith("kms"):
        return False
    return bool(status == 400)


@dataclass(frozen=True)
class FailedEntry:
    """One entry that was not delivered.

    ``entry`` is the request entry as sent (without its batch ``Id``): for SQS ``MessageBody`` and the
    rest, for SNS ``Message``..., for Kinesis ``Data``/``PartitionKey``/``ExplicitHashKey``. ``attempts``
    counts the calls that carried it (0: never sent, see ``StreamProducer(ordered=True)``).
    """

    entry: Mapping[str, Any]
    code: str
    message: str
    sender_fault: bool
    attempts: int


class PartialBatchError(Exception):
    """Some entries could not be delivered (after retries, or at once when the sender was at fault).

    Every other entry of the same ``flush()`` (or automatic send) was delivered.
    """

    def __init__(self, operation: str, failed: Sequence[FailedEntry]) -> None:
        self.operation = operation
        self.failed: list[FailedEntry] = list(failed)
        codes: dict[str, int] = {}
        for entry in self.failed:
            codes[entry.code] = codes.get(entry.code, 0) + 1
        summary = ", ".join(f"{code} x{count}" for code, count in sorted(codes.items()))
        super().__init__(f"{operation}: {len(self.failed)} not delivered ({summary}); see .failed")


@dataclass(frozen=True)
class ProducerStats:
    """A point-in-time copy of a producer's counters.

    ``sent``: entries (records) the service acknowledged. ``retried``: entry resends, so an entry sent
    three times counts 2. ``failed``: entries given up on (raised in a ``PartialBatchError``).
    ``api_calls``: calls by operation name, e.g. ``{"SendMessageBatch": 3}``.
    """

    sent: int = 0
    retried: int = 0
    failed: int = 0
    api_calls: Mapping[str, int] = field(default_factory=dict)

    @property
    def api_call_total(self) -> int:
        return sum(self.api_calls.values())


# --------------------------------------------------------------------------------------------------
# Validation (ValueError naming the argument, the value given and what is allowed)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}...{text[-10:]} ({len(text)} characters)"


def _check_text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty str, got {_short(value)}")
    return value


def _check_id(name: str, value: object) -> str:
    if not isinstance(value, str) or not _ID_PATTERN.fullmatch(value):
        raise ValueError(
            f"{name} must be 1 to 128 letters, digits or punctuation characters (ASCII 33-126), got {_short(value)}"
        )
    return value


def check_retry_settings(max_retries: object, base_delay: object, max_delay: object) -> None:
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ValueError(f"max_retries must be an int >= 0, got {max_retries!r}")
    for name, value in (("base_delay", base_delay), ("max_delay", max_delay)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number of seconds >= 0, got {value!r}")
    assert isinstance(base_delay, int | float) and isinstance(max_delay, int | float)
    if base_delay > max_delay:
        raise ValueError(
            f"base_delay must be at most max_delay ({max_delay!r} seconds; both are seconds, not milliseconds), "
            f"got {base_delay!r}"
        )


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _attribute_entry(name: object, value: object) -> tuple[dict[str, Any], int]:
    """boto3's MessageAttributeValue for one attribute, and its size as AWS counts it (name, type, value)."""
    if not isinstance(name, str) or not _ATTRIBUTE_NAME_PATTERN.fullmatch(name):
        raise ValueError(f"attributes: name must be 1 to 256 of A-Z a-z 0-9 _ - . characters, got {_short(name)}")
    if name.lower().startswith(("aws.", "amazon.")) or name.startswith(".") or name.endswith(".") or ".." in name:
        raise ValueError(
            f"attributes: name {name!r} is not allowed (reserved AWS./Amazon. prefix, or a period at the start, "
            "at the end or twice in a row)"
        )
    entry: dict[str, Any]
    if isinstance(value, bool):
        raise ValueError(f"attributes[{name!r}] must be str, bytes, int, float or a MessageAttributeValue, got a bool")
    if isinstance(value, str):
        entry = {"DataType": "String", "StringValue": value}
    elif isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"attributes[{name!r}] must be a finite number, got {value!r}")
        entry = {"DataType": "Number", "StringValue": str(value)}
    elif isinstance(value, bytes | bytearray):
        entry = {"DataType": "Binary", "BinaryValue": bytes(value)}
    elif isinstance(value, Mapping):
        entry = dict(value)
        data_type = entry.get("DataType")
        if not isinstance(data_type, str) or not data_type:
            raise ValueError(f"attributes[{name!r}] must have a DataType (String, Number, Binary...), got {value!r}")
        if not isinstance(entry.get("StringValue"), str) and not isinstance(entry.get("BinaryValue"), bytes):
            raise ValueError(f"attributes[{name!r}] must have a str StringValue or a bytes BinaryValue, got {value!r}")
    else:
        raise ValueError(
            f"attributes[{name!r}] must be str, bytes, int, float or a MessageAttributeValue mapping, "
            f"got {type(value).__name__}"
        )
    if not entry.get("StringValue") and not entry.get("BinaryValue"):
        raise ValueError(f"attributes[{name!r}] must not be empty, got {value!r}")
    size = _utf8_len(name) + _utf8_len(entry["DataType"])
    if isinstance(entry.get("StringValue"), str):
        size += _utf8_len(entry["StringValue"])
    if isinstance(entry.get("BinaryValue"), bytes):
        size += len(entry["BinaryValue"])
    return entry, size


def _attributes(attributes: Mapping[str, AttributeValue] | None) -> tuple[dict[str, Any], int]:
    if attributes is None:
        return {}, 0
    if not isinstance(attributes, Mapping):
        raise ValueError(f"attributes must be a mapping of name to value, got {_short(attributes)}")
    if len(attributes) > MAX_ATTRIBUTES:
        raise ValueError(f"attributes may hold at most {MAX_ATTRIBUTES} attributes, got {len(attributes)}")
    converted: dict[str, Any] = {}
    total = 0
    for name, value in attributes.items():
        converted[name], size = _attribute_entry(name, value)
        total += size
    return converted, total


# --------------------------------------------------------------------------------------------------
# Shared machinery


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter: retry n waits uniformly in [0, min(max_delay, base_delay * 2**(n-1))]."""

    max_retries: int
    base_delay: float
    max_delay: float

    def delay(self, retry: int) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2 ** (retry - 1))
        return random.uniform(0.0, ceiling)

    def wait(self, retry: int) -> float:
        seconds = self.delay(retry)
        if seconds > 0:
            time.sleep(seconds)
        return seconds


@dataclass(eq=False)
class Pending:
    """A buffered entry: the request entry (no batch Id), its size as the service counts it, how many
    calls carried it so far, and its position in the buffer (``seq``)."""

    entry: dict[str, Any]
    size: int
    attempts: int = 0
    seq: int = 0


@dataclass(frozen=True)
class Outcome:
    """What one call said about one entry: accepted (``ok``), or failed with a code, a message, whether
    the sender was at fault, and whether resending it may succeed."""

    ok: bool
    code: str = ""
    message: str = ""
    sender_fault: bool = False
    retryable: bool = False


ACCEPTED: Final = Outcome(ok=True)


class BufferedProducer:
    """Buffer, locks, stats and context manager shared by the producers (not public).

    A subclass sets ``_operation``, the per-call limits, and implements ``_call_outcomes(items)`` (one
    call, each item's ``Outcome``) and ``_send(batch, failures)``, which sends one batch taken from the
    front of the buffer (with its retries, through :meth:`_attempt`) and appends what failed for good.
    """

    _operation: ClassVar[str]
    _noun: ClassVar[str] = "entries"

    def __init__(
        self, client: Any, *, max_items: int, max_bytes: int, policy: RetryPolicy, concurrency: int = 1
    ) -> None:
        self._client: Any = client
        # concurrency > 1: batches are sent by a pool of that many threads, at most that many calls in flight
        # (a semaphore: send() waits for a free slot, which bounds memory); see _drain_concurrently.
        self._concurrency = concurrency
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._slots = threading.BoundedSemaphore(concurrency)
        self._futures: set[concurrent.futures.Future[None]] = set()
        self._background_lock = threading.Lock()
        self._background_error: BaseException | None = None
        self._calls = ApiCallCounter(client)
        self._max_items = max_items
        self._max_bytes = max_bytes
        self._policy = policy
        self._buffer: deque[Pending] = deque()
        self._buffered_bytes = 0
        self._seq = itertools.count()
        # _buffer_lock guards the buffer and the counters; _send_lock makes one thread at a time take
        # batches from the front and send them, so batches leave in buffer order.
        self._buffer_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._sent = 0
        self._retried = 0
        self._failed = 0
        self._closed = False
        # Failed for good in a flush that then raised: the next flush raises them (under _send_lock).
        self._carried: list[FailedEntry] = []
        self._lookups: dict[str, bool | None] = {}

    # -- public -----------------------------------------------------------------------------------

    @property
    def stats(self) -> ProducerStats:
        with self._buffer_lock:
            return ProducerStats(self._sent, self._retried, self._failed, self._calls.snapshot())

    @property
    def buffered(self) -> int:
        """Entries waiting in the buffer."""
        with self._buffer_lock:
            return len(self._buffer)

    def flush(self) -> None:
        """Send everything buffered; raise ``PartialBatchError`` if some entries could not be delivered.

        Every batch is attempted before the error is raised. If a call itself raises (other than a
        rejection of its entries, which is bisected), its entries and the ones after them stay buffered
        (a later ``flush()`` sends them) and the exception propagates; entries that had failed for good
        before it are raised by the next ``flush()``.
        """
        self._drain(everything=True)

    def close(self) -> None:
        """``flush()``, then stop counting this client's calls. Sending afterwards is a RuntimeError."""
        try:
            self.flush()
        except PartialBatchError:
            self._shut()
            raise
        self._shut()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    # -- for subclasses ---------------------------------------------------------------------------

    def _add(self, entry: dict[str, Any], size: int) -> None:
        with self._buffer_lock:
            if self._closed:
                raise RuntimeError(f"{type(self).__name__} is closed")
            self._buffer.append(Pending(entry, size, seq=next(self._seq)))
            self._buffered_bytes += size
            full = self._full_locked()
        if full:
            self._drain(everything=False)

    def _send(self, batch: list[Pending], failures: list[FailedEntry]) -> None:
        raise NotImplementedError

    def _call_outcomes(self, items: list[Pending]) -> list[Outcome]:
        """One call carrying ``items``; the outcome of each, in order."""
        raise NotImplementedError

    def _attempt(self, items: list[Pending], outcomes: dict[int, Outcome]) -> None:
        """Send ``items`` in one call and put each one's outcome in ``outcomes`` (by ``seq``).

        If the service rejects the whole call for its entries (:func:`rejects_entries`), the items are
        sent again in two halves, and so on down to single entries: a single entry rejected that way is
        failed with the error's code (sender's fault, not retried). Any other exception propagates; the
        outcomes known by then (from earlier halves) are already in ``outcomes``.
        """
        for item in items:
            item.attempts += 1
        try:
            results = self._call_outcomes(items)
        except Exception as error:
            if not rejects_entries(error):
                raise
            if isinstance(error, ClientError):
                code = str(error.response.get("Error", {}).get("Code", "")) or "ClientError"
                message = str(error.response.get("Error", {}).get("Message", ""))
            else:
                code, message = type(error).__name__, str(error)
            if len(items) == 1:
                logger.warning("%s rejected an entry: %s %s", self._operation, code, message)
                outcomes[items[0].seq] = Outcome(ok=False, code=code, message=message, sender_fault=True)
                return
            logger.warning(
                "%s rejected a call of %d %s (%s: %s): sending them in halves to isolate the culprit",
                self._operation,
                len(items),
                self._noun,
                code,
                message,
            )
            middle = len(items) // 2
            self._attempt(items[:middle], outcomes)
            self._attempt(items[middle:], outcomes)
            return
        for item, outcome in zip(items, results, strict=True):
            outcomes[item.seq] = outcome

    def _attempt_or_requeue(
        self, items: list[Pending], unsettled: Callable[[set[int]], Sequence[Pending]] | None = None
    ) -> dict[int, Outcome]:
        """:meth:`_attempt`; if it raises, count the entries accepted so far as sent, put the rest of
        ``items`` (or ``unsettled(accepted seqs)``) back at the front of the buffer and re-raise."""
        outcomes: dict[int, Outcome] = {}
        try:
            self._attempt(items, outcomes)
        except BaseException:
            accepted = {seq for seq, outcome in outcomes.items() if outcome.ok}
            self._count(sent=len(accepted))
            rest = unsettled(accepted) if unsettled else [item for item in items if item.seq not in accepted]
            self._requeue(rest)
            raise
        return outcomes

    def _count(self, *, sent: int = 0, retried: int = 0) -> None:
        with self._buffer_lock:
            self._sent += sent
            self._retried += retried

    def _requeue(self, items: Sequence[Pending]) -> None:
        """Put entries whose call raised back at the front of the buffer, in their original order."""
        with self._buffer_lock:
            self._buffer.extendleft(sorted(items, key=lambda item: item.seq, reverse=True))
            self._buffered_bytes += sum(item.size for item in items)

    def _failure(self, item: Pending, code: str, message: str, *, sender_fault: bool) -> FailedEntry:
        return FailedEntry(item.entry, code, message, sender_fault, item.attempts)

    def _lookup_once(self, name: str, lookup: Callable[[], bool]) -> bool | None:
        """``lookup()`` the first time (cached, under ``name``); ``None`` if it raised an AWS error (logged)."""
        if name not in self._lookups:
            try:
                self._lookups[name] = lookup()
            except (BotoCoreError, ClientError) as error:
                logger.info("could not read %s (%s): not checked before sending", name, error)
                self._lookups[name] = None
        return self._lookups[name]

    # -- internals --------------------------------------------------------------------------------

    def _full_locked(self) -> bool:
        # "Adding one would pass the byte limit" shows as buffered bytes above it: _take_batch then
        # takes the entries before the one that did not fit.
        return len(self._buffer) >= self._max_items or self._buffered_bytes > self._max_bytes

    def _take_batch(self, everything: bool) -> list[Pending]:
        with self._buffer_lock:
            if not self._buffer or not (everything or self._full_locked()):
                return []
            batch: list[Pending] = []
            size = 0
            while self._buffer and len(batch) < self._max_items and size + self._buffer[0].size <= self._max_bytes:
                item = self._buffer.popleft()
                batch.append(item)
                size += item.size
            self._buffered_bytes -= size
            return batch

    def _drain(self, *, everything: bool) -> None:
        if self._concurrency > 1:
            self._drain_concurrently(everything=everything)
            return
        failures: list[FailedEntry] = []
        with self._send_lock:
            failures.extend(self._carried)
            self._carried.clear()
            try:
                while batch := self._take_batch(everything):
                    self._send(batch, failures)
            except BaseException as exc:
                if failures:
                    self._carried.extend(failures)
                    exc.add_note(
                        f"{len(failures)} {self._noun} had failed for good before this error: the next flush() "
                        "raises them in a PartialBatchError"
                    )
                raise
        if failures:
            self._give_up(failures)
            raise PartialBatchError(self._operation, failures)

    def _drain_concurrently(self, *, everything: bool) -> None:
        """Hand full batches (every batch when ``everything``) to the pool, each sent with its retries by
        :meth:`_send` on a pool thread, at most ``concurrency`` calls in flight. ``everything`` (flush) then waits
        for every call in flight and raises what they left: a call's exception first (its entries went back to the
        buffer: the next flush sends them), else the entries failed for good, in a ``PartialBatchError``."""
        with self._send_lock:
            while self._background_error is None and (batch := self._take_batch(everything)):
                self._slots.acquire()
                if self._pool is None:
                    self._pool = concurrent.futures.ThreadPoolExecutor(
                        max_workers=self._concurrency, thread_name_prefix=f"{type(self).__name__}-send"
                    )
                future = self._pool.submit(self._send_in_background, batch)
                with self._background_lock:
                    self._futures.add(future)
                future.add_done_callback(self._forget)
            if not everything:
                return
            with self._background_lock:
                running = list(self._futures)
            concurrent.futures.wait(running)
            with self._background_lock:
                error, self._background_error = self._background_error, None
                failures, self._carried = self._carried, []
            if error is not None:
                if failures:
                    self._carried.extend(failures)
                    error.add_note(
                        f"{len(failures)} {self._noun} had failed for good before this error: the next flush() "
                        "raises them in a PartialBatchError"
                    )
                raise error
        if failures:
            self._give_up(failures)
            raise PartialBatchError(self._operation, failures)

    def _send_in_background(self, batch: list[Pending]) -> None:
        failures: list[FailedEntry] = []
        try:
            self._send(batch, failures)
        except BaseException as error:  # the entries not accepted went back to the buffer (_attempt_or_requeue)
            logger.warning(
                "%s: a call of %d %s raised (%s): they stay buffered", self._operation, len(batch), self._noun, error
            )
            with self._background_lock:
                if self._background_error is None:
                    self._background_error = error
        finally:
            with self._background_lock:
                self._carried.extend(failures)
            self._slots.release()

    def _forget(self, future: concurrent.futures.Future[None]) -> None:
        with self._background_lock:
            self._futures.discard(future)

    def _give_up(self, failures: Sequence[FailedEntry]) -> None:
        with self._buffer_lock:
            self._failed += len(failures)
        codes: dict[str, int] = {}
        for failure in failures:
            codes[failure.code] = codes.get(failure.code, 0) + 1
            logger.debug(
                "%s: gave up after %d attempt(s): %s %s",
                self._operation,
                failure.attempts,
                failure.code,
                failure.message,
            )
        logger.error(
            "%s: %d %s not delivered (%s)",
            self._operation,
            len(failures),
            self._noun,
            ", ".join(f"{code} x{count}" for code, count in sorted(codes.items())),
        )

    def _shut(self) -> None:
        with self._buffer_lock:
            if self._closed:
                return
            self._closed = True
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self._calls.detach()


class _EntryBatchProducer(BufferedProducer):
    """SendMessageBatch and PublishBatch: the response lists ``Successful`` and ``Failed`` entries by Id."""

    def __init__(
        self, client: Any, *, fifo: bool, max_items: int, max_bytes: int, policy: RetryPolicy, concurrency: int = 1
    ) -> None:
        super().__init__(client, max_items=max_items, max_bytes=max_bytes, policy=policy, concurrency=concurrency)
        self.fifo = fifo

    def _call(self, entries: list[dict[str, Any]]) -> Mapping[str, Any]:
        raise NotImplementedError

    def _call_outcomes(self, items: list[Pending]) -> list[Outcome]:
        response = self._call([{"Id": str(index), **item.entry} for index, item in enumerate(items)])
        succeeded = {str(result["Id"]) for result in response.get("Successful", [])}
        failed = {str(result["Id"]): result for result in response.get("Failed", [])}
        outcomes: list[Outcome] = []
        for index in range(len(items)):
            result = failed.get(str(index))
            if result is not None:
                sender_fault = bool(result.get("SenderFault", False))
                code, message = str(result.get("Code", "")), str(result.get("Message", ""))
                outcomes.append(Outcome(False, code, message, sender_fault, retryable=not sender_fault))
            elif str(index) in succeeded:
                outcomes.append(ACCEPTED)
            else:
                outcomes.append(Outcome(False, "MissingFromResponse", "neither Successful nor Failed"))
        return outcomes

    def _send(self, batch: list[Pending], failures: list[FailedEntry]) -> None:
        pending = batch
        retry = 0
        while pending:
            outcomes = self._attempt_or_requeue(pending)
            again: list[Pending] = []
            codes: set[str] = set()
            for item in pending:
                outcome = outcomes[item.seq]
                if outcome.ok:
                    continue
                if outcome.retryable and retry < self._policy.max_retries:
                    again.append(item)
                    codes.add(outcome.code)
                else:
                    failures.append(
                        self._failure(item, outcome.code, outcome.message, sender_fault=outcome.sender_fault)
                    )
            self._count(sent=sum(outcomes[item.seq].ok for item in pending))
            if not again:
                break
            retry += 1
            if self.fifo:
                self._warn_if_reordered(pending, again, {item.seq for item in pending if outcomes[item.seq].ok})
            delay = self._policy.wait(retry)
            logger.info(
                "%s: %d of %d entries failed (%s); retry %d/%d of only those after %.3f s",
                self._operation,
                len(again),
                len(pending),
                ", ".join(sorted(codes)),
                retry,
                self._policy.max_retries,
                delay,
            )
            self._count(retried=len(again))
            pending = again

    @staticmethod
    def _warn_if_reordered(pending: list[Pending], again: list[Pending], accepted: set[int]) -> None:
        """FIFO: an entry resent after a later entry of its group was accepted lands after that entry."""
        resent = {id(item) for item in again}
        accepted_after: set[object] = set()  # groups with an accepted entry later in the call
        for item in reversed(pending):
            group = item.entry.get("MessageGroupId")
            if item.seq in accepted:
                accepted_after.add(group)
            elif id(item) in resent and group in accepted_after:
                logger.warning(
                    "FIFO message group %r: an entry failed after a later entry of the group was accepted; "
                    "its resend lands after that entry",
                    group,
                )
                accepted_after.discard(group)

    def _check_deduplication(self, target: str, deduplication_id: str | None) -> None:
        """FIFO without ``deduplication_id``: the queue or topic must deduplicate by content (read once)."""
        if not self.fifo or deduplication_id is not None:
            return
        if self._lookup_once("ContentBasedDeduplication", self._content_based_deduplication) is False:
            raise ValueError(
                f"deduplication_id is required: {target} is FIFO without content-based deduplication, got None "
                "(give 1 to 128 letters, digits or punctuation characters, the same for a resend of the same message)"
            )

    def _content_based_deduplication(self) -> bool:
        raise NotImplementedError


class QueueProducer(_EntryBatchProducer):
    """Send messages to an SQS queue in batches of up to 10 (SendMessageBatch), retrying failed entries.

    A batch leaves when it holds 10 entries, or when the next message would take it past 1 MiB
    (1,048,576 bytes of bodies and message attributes: the name, type and value of each attribute
    count, as AWS counts them); ``flush()`` (or leaving the ``with`` block) sends the rest.

    FIFO queues (URL ending in ``.fifo``) need ``message_group_id`` on every message;
    ``deduplication_id`` is passed through, and required unless the queue has content-based
    deduplication: ``send()`` reads the queue's ContentBasedDeduplication once (GetQueueAttributes,
    which CDK's ``grant_send_messages`` allows) and raises ``ValueError`` when it is missing. FIFO
    order within a group holds when no entry fails;
    a resent entry lands after the entries of its group that were accepted in the same call (logged
    at WARNING when it happens).

    ``send_concurrency`` (1-16, default 1; standard queues only): SendMessageBatch calls in flight at once
    (see the module doc); more than 1 pays off when a round trip is long beside the time to fill a batch.
    """

    _operation = "SendMessageBatch"
    _noun = "messages"

    def __init__(
        self,
        queue_url: str,
        *,
        client: Any = None,
        max_retries: int = 5,
        base_delay: float = 0.05,
        max_delay: float = 5.0,
        send_concurrency: int = 1,
    ) -> None:
        with validating_helper(type(self).__name__):
            check_queue_url("queue_url", queue_url)
            check_retry_settings(max_retries, base_delay, max_delay)
            check_count("send_concurrency", send_concurrency, minimum=1, maximum=MAX_SEND_CONCURRENCY)
            if send_concurrency > 1 and queue_url.endswith(".fifo"):
                raise ValueError(
                    f"send_concurrency must be 1 for the FIFO queue {queue_url} (batches sent at once could land "
                    f"in any order, and a message group's order with them), got {send_concurrency!r}"
                )
        self.queue_url = queue_url
        super().__init__(
            client if client is not None else boto3.client("sqs"),
            fifo=queue_url.endswith(".fifo"),
            max_items=SQS_MAX_BATCH_ENTRIES,
            max_bytes=SQS_MAX_BYTES,
            policy=RetryPolicy(max_retries, float(base_delay), float(max_delay)),
            concurrency=send_concurrency,
        )

    def send(
        self,
        body: str,
        *,
        message_group_id: str | None = None,
        deduplication_id: str | None = None,
        delay_seconds: int | None = None,
        attributes: Mapping[str, AttributeValue] | None = None,
    ) -> None:
        """Buffer one message; sends a batch when one is full (and may then raise ``PartialBatchError``).

        Raises ``ValueError`` for what SQS would reject: a FIFO message without ``message_group_id``, or
        without ``deduplication_id`` on a queue without content-based deduplication (read once with
        GetQueueAttributes; not checked if that call is denied), a body with characters SQS does not
        allow, more than 1 MiB...
        """
        _check_text("body", body)
        bad = _SQS_INVALID_CHARACTER.search(body)
        if bad is not None:
            raise ValueError(
                f"body holds {bad.group()!r} at index {bad.start()}, which SQS does not allow: a message may "
                "hold only tab, line feed, carriage return and Unicode characters from U+0020 (surrogates, "
                "U+FFFE and U+FFFF excluded)"
            )
        entry: dict[str, Any] = {"MessageBody": body}
        if self.fifo:
            if message_group_id is None:
                raise ValueError(
                    f"message_group_id is required for the FIFO queue {self.queue_url}, got None: "
                    "give 1 to 128 letters, digits or punctuation characters"
                )
            if delay_seconds is not None:
                raise ValueError(
                    f"delay_seconds must be None for the FIFO queue {self.queue_url} (FIFO queues take a delay "
                    f"only on the queue), got {delay_seconds!r}"
                )
            self._check_deduplication(f"the queue {self.queue_url}", deduplication_id)
        elif deduplication_id is not None:
            raise ValueError(
                f"deduplication_id is only for FIFO queues; {self.queue_url} is a standard queue, "
                f"got {deduplication_id!r}"
            )
        if message_group_id is not None:  # standard queues accept it too (fair queues)
            entry["MessageGroupId"] = _check_id("message_group_id", message_group_id)
        if deduplication_id is not None:
            entry["MessageDeduplicationId"] = _check_id("deduplication_id", deduplication_id)
        if delay_seconds is not None:
            if (
                isinstance(delay_seconds, bool)
                or not isinstance(delay_seconds, int)
                or not 0 <= delay_seconds <= SQS_MAX_DELAY_SECONDS
            ):
                raise ValueError(
                    f"delay_seconds must be an int from 0 to {SQS_MAX_DELAY_SECONDS}, got {delay_seconds!r}"
                )
            entry["DelaySeconds"] = delay_seconds
        converted, attributes_size = _attributes(attributes)
        if converted:
            entry["MessageAttributes"] = converted
        size = _utf8_len(body) + attributes_size
        if size > SQS_MAX_BYTES:
            raise ValueError(
                f"body and attributes are {size:,} bytes; an SQS message may be at most {SQS_MAX_BYTES:,} bytes "
                "(1 MiB, attribute names, types and values included)"
            )
        self._add(entry, size)

    def _content_based_deduplication(self) -> bool:
        attributes = self._client.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["ContentBasedDeduplication"]
        )["Attributes"]
        return str(attributes.get("ContentBasedDeduplication", "false")).lower() == "true"

    def _call(self, entries: list[dict[str, Any]]) -> Mapping[str, Any]:
        logger.debug("SendMessageBatch %s: %d entries", self.queue_url, len(entries))
        response: Mapping[str, Any] = self._client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
        return response


class TopicPublisher(_EntryBatchProducer):
    """Publish messages to an SNS topic in batches of up to 10 (PublishBatch), retrying failed entries.

    A batch leaves when it holds 10 entries or when the next message would take it past
    ``max_message_bytes`` (default 262,144 bytes, 256 KiB: SNS's limit for one message *and* for a whole
    PublishBatch call, bodies and message attributes counted). If the topic's MaximumMessageSize was
    raised, pass it (up to 1,048,576).

    FIFO topics (ARN ending in ``.fifo``) need ``message_group_id``; ``deduplication_id`` is passed through,
    and required unless the topic has content-based deduplication (read once with GetTopicAttributes; if
    that call is denied, as with a publish-only grant, SNS's own per-entry rejection reports it).
    """

    _operation = "PublishBatch"
    _noun = "messages"

    def __init__(
        self,
        topic_arn: str,
        *,
        client: Any = None,
        max_retries: int = 5,
        base_delay: float = 0.05,
        max_delay: float = 5.0,
        max_message_bytes: int = SNS_DEFAULT_MAX_BYTES,
    ) -> None:
        with validating_helper(type(self).__name__):
            check_topic_arn("topic_arn", topic_arn)
            check_retry_settings(max_retries, base_delay, max_delay)
            if (
                isinstance(max_message_bytes, bool)
                or not isinstance(max_message_bytes, int)
                or not 1_024 <= max_message_bytes <= SNS_MAX_BYTES
            ):
                raise ValueError(
                    f"max_message_bytes must be the topic's MaximumMessageSize, an int from 1,024 to "
                    f"{SNS_MAX_BYTES:,} (default {SNS_DEFAULT_MAX_BYTES:,}), got {max_message_bytes!r}"
                )
        self.topic_arn = topic_arn
        self.max_message_bytes = max_message_bytes
        super().__init__(
            client if client is not None else boto3.client("sns"),
            fifo=topic_arn.endswith(".fifo"),
            max_items=SNS_MAX_BATCH_ENTRIES,
            max_bytes=max_message_bytes,
            policy=RetryPolicy(max_retries, float(base_delay), float(max_delay)),
        )

    def publish(
        self,
        message: str,
        *,
        subject: str | None = None,
        message_group_id: str | None = None,
        deduplication_id: str | None = None,
        attributes: Mapping[str, AttributeValue] | None = None,
    ) -> None:
        """Buffer one message; publishes a batch when one is full (and may then raise ``PartialBatchError``)."""
        _check_text("message", message)
        entry: dict[str, Any] = {"Message": message}
        if subject is not None:
            if (
                not isinstance(subject, str)
                or not 1 <= len(subject) <= SNS_MAX_SUBJECT_CHARS
                or not subject.isascii()
                or not subject.isprintable()
            ):
                raise ValueError(
                    f"subject must be 1 to {SNS_MAX_SUBJECT_CHARS} printable ASCII characters without line breaks, "
                    f"got {_short(subject)}"
                )
            entry["Subject"] = subject
        if self.fifo and message_group_id is None:
            raise ValueError(
                f"message_group_id is required for the FIFO topic {self.topic_arn}, got None: "
                "give 1 to 128 letters, digits or punctuation characters"
            )
        if not self.fifo and deduplication_id is not None:
            raise ValueError(
                f"deduplication_id is only for FIFO topics; {self.topic_arn} is a standard topic, "
                f"got {deduplication_id!r}"
            )
        if message_group_id is not None:
            entry["MessageGroupId"] = _check_id("message_group_id", message_group_id)
        if deduplication_id is not None:
            entry["MessageDeduplicationId"] = _check_id("deduplication_id", deduplication_id)
        self._check_deduplication(f"the topic {self.topic_arn}", deduplication_id)
        converted, attributes_size = _attributes(attributes)
        if converted:
            entry["MessageAttributes"] = converted
        size = _utf8_len(message) + attributes_size
        if size > self.max_message_bytes:
            raise ValueError(
                f"message and attributes are {size:,} bytes; this topic takes at most {self.max_message_bytes:,} "
                "bytes per message (max_message_bytes, the topic's MaximumMessageSize)"
            )
        self._add(entry, size)

    def _content_based_deduplication(self) -> bool:
        attributes = self._client.get_topic_attributes(TopicArn=self.topic_arn)["Attributes"]
        return str(attributes.get("ContentBasedDeduplication", "false")).lower() == "true"

    def _call(self, entries: list[dict[str, Any]]) -> Mapping[str, Any]:
        logger.debug("PublishBatch %s: %d entries", self.topic_arn, len(entries))
        response: Mapping[str, Any] = self._client.publish_batch(
            TopicArn=self.topic_arn, PublishBatchRequestEntries=entries
        )
        return response
