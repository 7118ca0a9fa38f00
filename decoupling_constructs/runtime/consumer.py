"""Consume an SQS queue the way AWS recommends: long polling, batches, heartbeats, partial-batch failures.

::

    from decoupling_constructs.runtime.consumer import QueueConsumer

    def handle(message: dict) -> None:          # raise to fail the message
        process(json.loads(message["Body"]))

    stats = QueueConsumer(queue_url, handle).run()   # until stop(), SIGINT or SIGTERM

How a batch goes:

1. ``ReceiveMessage`` long-polls for up to ``batch_size`` messages (all message and system attributes).
2. Each message goes to ``handler(message)`` on a thread pool (or the whole list to ``batch_handler``, which
   returns the ids of the messages that failed). A handler that raises an ``Exception`` fails its message.
3. While messages are being handled, and until their delete returns, a heartbeat thread extends their visibility
   timeout (at about half of it, by the whole of it) so that no other consumer receives them meanwhile.
4. The successes are deleted with ``DeleteMessageBatch`` by a deleter that combines the successes of several
   receives, up to 10 per call: a call is made as soon as 10 are waiting, or when the oldest has waited
   ``delete_delay`` seconds (default 0.02), at most ``receive_concurrency`` calls at once. Entries the response
   reports failed are retried once, then counted in ``ConsumerStats.delete_failures`` (they will be delivered again).
5. Failures are left in the queue: SQS delivers them again once their visibility timeout expires, and the queue's
   redrive policy moves them to the dead-letter queue after ``maxReceiveCount`` receives. With
   ``retry_failed_immediately=True`` they are made visible at once (``ChangeMessageVisibilityBatch`` to 0). Each
   failure logs one WARNING line (message id, receive count, exception type and first line); its traceback is
   logged at DEBUG.
6. Pipelining: ``receive_concurrency`` receivers (default 1) keep ``ReceiveMessage`` calls in flight while earlier
   batches are handled and deleted, as long as there is room under ``max_in_flight`` (default
   ``2 * receive_concurrency * batch_size``). A message counts once against it, from the receive that reserves its
   room until it is deleted or released; each receive asks only for the room left, so memory stays bounded by
   ``max_in_flight`` messages. ``run(max_messages=N)`` counts each message once too: a receive asks for at most
   ``N`` minus the messages handled, being handled and asked for by receives in flight, so it never receives more
   than ``N`` (except after ``stop()``/``idle_timeout``, when what a long poll returns late is released).

FIFO queues (URL ending in ``.fifo``): the messages of one ``MessageGroupId`` are handled in order, one at a
time; different groups are handled in parallel. When a message fails, the later messages of its group in the batch
are not handled (``ConsumerStats.skipped``) and not deleted: they come back after it, in order. With a
``batch_handler`` the consumer enforces the same: a message after a failed one in its group is not deleted, even if
the handler did not report it (return the failed message *and* the rest of its group, as Lambda expects).
What is ordered, and what is not, with any ``receive_concurrency`` and ``delete_delay``:

* ordered: within one ``MessageGroupId``, handlers are called one at a time, in the order SQS delivers, which is
  the order the messages were sent. Overlapping receives keep this: SQS returns none of a group's messages while
  another of the group is in flight, and a message stays in flight (kept so by the heartbeat) until its delete has
  returned, so the next message of its group cannot be received before it is deleted (or released, or expired);
* not ordered: different groups (handled in parallel, in any order); the deletes (several receives share a call);
  a message handled but whose delete failed comes back after its visibility timeout and is handled again, before
  the later messages of its group (they stay held behind it), so a group can see ``a, a, b``, never ``a, b, a``
  (unless a handler outlives a heartbeat that could not be sent: SQS then may deliver the next message meanwhile).

A FIFO poison message drags its group-mates to the DLQ: each receive that returns it returns the messages behind
it too (they are skipped), so their ``ApproximateReceiveCount`` rises with its own, and the receive that moves it
to the dead-letter queue moves them as well, unhandled. ``dead_letter_after=N`` (at most the queue's
``maxReceiveCount``) prevents that: a message that fails on its Nth receive or later is moved to the DLQ by the
consumer (``SendMessage`` there, with the same body, attributes and group, then ``DeleteMessage`` here), and the
later messages of its group in the batch are handled at once. A message is then never moved because of a
group-mate; it gets at least one attempt of its own, and the first message of a group gets N. The moved copy has a
new ``MessageId`` in the DLQ.

A receive that fails with a network error, a timeout, throttling or a 5xx (after botocore's own retries) is
logged and made again after a jittered, growing pause (at most 5 s); other errors propagate out of ``run()``.

Delivery is at least once: a message whose delete fails, or whose handler outlives a heartbeat that could not be
sent, is delivered again. Handlers should be idempotent.

Stopping: :meth:`QueueConsumer.stop` (from any thread or a handler), or SIGINT/SIGTERM when :meth:`~QueueConsumer.run`
runs in the main thread (a second signal gets the previous behaviour, e.g. ``KeyboardInterrupt``). The messages
being handled are finished and deleted (the deleter stops waiting for company and deletes at once); no new receive
is made. Receives already waiting (long polls, up to ``wait_time_seconds``) complete first, and the messages they
return are made visible again at once, unhandled. ``run()`` returns when every message it received is deleted,
released or (failed) left to its visibility timeout.

A handler raising a ``BaseException`` that is not an ``Exception`` (``KeyboardInterrupt``, ``SystemExit``, ...) is
treated as a crash: no handler starts any more and no receive is made, the handlers still running are finished,
nothing of the crashed batch is deleted or released (other batches in flight are settled as usual), and the
exception propagates out of ``run()``. SQS delivers the crashed batch again after the visibility timeout.
"""

from __future__ import annotations

import concurrent.futures
import enum
import functools
import logging
import math
import os
import random
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from .._validate import check_bool, check_count, check_number, check_queue_url, validating_helper
from ..limits import SQS_MAX_BATCH_ENTRIES, SQS_MAX_VISIBILITY_SECONDS, SQS_MAX_WAIT_SECONDS
from ._calls import ApiCallCounter
from .producer import THROTTLING_CODES
from .redrive import QueueArn, message_entry, queue_url_of, redrive_policy

__all__ = ["BatchHandler", "ConsumerStats", "Handler", "Message", "QueueConsumer"]

logger = logging.getLogger(__name__)

Message = dict[str, Any]
"""A message as boto3's ``receive_message`` returns it (``MessageId``, ``ReceiptHandle``, ``Body``, ``Attributes``,
``MessageAttributes``...)."""
Handler = Callable[[Message], object]
"""Handles one message; raising an ``Exception`` fails it. The return value is ignored."""
BatchHandler = Callable[[list[Message]], Iterable[str] | None]
"""Handles a batch; returns the ``MessageId`` of each message that failed (``None`` or empty: all succeeded).
Raising an ``Exception`` fails the whole batch."""

# SQS: ReceiveMessage, DeleteMessageBatch and ChangeMessageVisibilityBatch take at most 10 (limits.py).
MAX_BATCH = SQS_MAX_BATCH_ENTRIES
MAX_WAIT_TIME_SECONDS = SQS_MAX_WAIT_SECONDS
MAX_VISIBILITY_TIMEOUT = SQS_MAX_VISIBILITY_SECONDS
MAX_RECEIVE_BACKOFF = 5.0  # seconds between receives that keep failing (throttling, 5xx, network)
# The library's own bounds (no AWS limit): receives in flight at once, and how long a handled message may wait for
# others to share its DeleteMessageBatch (it stays invisible meanwhile, kept so by the heartbeat).
MAX_RECEIVE_CONCURRENCY = 16
MAX_DELETE_DELAY = 5.0
DEFAULT_DELETE_DELAY = 0.02


@dataclass
class ConsumerStats:
    """What a :meth:`QueueConsumer.run` did."""

    received: int = 0
    """Messages received (including those skipped or released unhandled)."""
    succeeded: int = 0
    """Messages the handler completed."""
    failed: int = 0
    """Messages the handler failed (left for redelivery or the dead-letter queue)."""
    deleted: int = 0
    """Messages deleted from the queue."""
    delete_failures: int = 0
    """Succeeded messages whose delete failed twice (they will be delivered again)."""
    heartbeats: int = 0
    """Visibility-timeout extensions made (one per message per extension)."""
    dead_lettered: int = 0
    """Failed messages the consumer moved to the dead-letter queue itself (``dead_letter_after``); also counted in
    ``failed``."""
    skipped: int = 0
    """Messages received but not handled: FIFO messages behind a failure in their group, or messages a receive
    returned after ``stop()``. They go back to the queue."""
    api_calls: dict[str, int] = field(default_factory=dict)
    """SQS calls made by this run, by action (e.g. ``{"ReceiveMessage": 3, "DeleteMessageBatch": 2}``)."""
    elapsed: float = 0.0
    """Seconds the run took."""

    @property
    def processed(self) -> int:
        """Messages handled, successfully or not (what ``run(max_messages=...)`` counts)."""
        return self.succeeded + self.failed


class _Outcome(enum.Enum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    DEAD_LETTERED = "dead-lettered"  # failed, and moved to the DLQ by the consumer (dead_letter_after)


class _Batch:
    """One receive's messages while they are handled: each one's outcome, and the tasks still running."""

    def __init__(self, messages: list[Message]) -> None:
        self.messages = messages
        self.outcomes: list[_Outcome] = [_Outcome.SKIPPED] * len(messages)
        self.remaining = 0
        self.crashed = False
        self.lock = threading.Lock()


def _transient(error: BaseException) -> bool:
    """A receive error worth retrying: a network error or timeout (after botocore's retries), throttling, a 5xx."""
    from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

    if isinstance(error, ParamValidationError):
        return False
    if isinstance(error, BotoCoreError):
        return True
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return int(status) >= 500 or str(error.response.get("Error", {}).get("Code")) in THROTTLING_CODES
    return False


def _log_failure(what: str, message: Message | None, error: BaseException) -> None:
    """One WARNING line per failure (what, receive count, exception type and first line); the traceback at DEBUG,
    so that an unconfigured logger (Python's last-resort handler prints WARNING) shows no traceback per message."""
    summary = str(error).strip().splitlines()[0] if str(error).strip() else ""
    receives = message.get("Attributes", {}).get("ApproximateReceiveCount", "?") if message is not None else None
    logger.warning(
        "%s failed%s: %s%s",
        what,
        f" on receive {receives}" if receives is not None else "",
        type(error).__name__,
        f": {summary[:200]}" if summary else "",
    )
    logger.debug("%s failed: traceback", what, exc_info=error)


def _group(message: Message) -> str:
    return str(message.get("Attributes", {}).get("MessageGroupId", ""))


class _InFlight:
    """Receipt handles of the messages being handled, with the time of their last visibility extension."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._extended_at: dict[str, float] = {}

    def add(self, handles: Iterable[str]) -> None:
        now = time.monotonic()
        with self._lock:
            for handle in handles:
                self._extended_at[handle] = now

    def remove(self, handles: Iterable[str]) -> None:
        with self._lock:
            for handle in handles:
                self._extended_at.pop(handle, None)

    def clear(self) -> None:
        with self._lock:
            self._extended_at.clear()

    def due(self, older_than: float) -> list[str]:
        """Handles last extended more than ``older_than`` seconds ago."""
        limit = time.monotonic() - older_than
        with self._lock:
            return [handle for handle, extended_at in self._extended_at.items() if extended_at <= limit]

    def touch(self, handles: Iterable[str]) -> None:
        """Mark as extended now; handles removed meanwhile stay removed."""
        now = time.monotonic()
        with self._lock:
            for handle in handles:
                if handle in self._extended_at:
                    self._extended_at[handle] = now


def _chunks(items: Sequence[Any], size: int = MAX_BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _RunState:
    """What the receivers of one run share (guarded by the consumer's condition)."""

    def __init__(self, max_messages: int | None, idle_timeout: float | None, started: float) -> None:
        self.max_messages = max_messages
        self.idle_timeout = idle_timeout
        self.reserved = 0  # room reserved by receives in progress (what they may return, at most)
        self.handling = 0  # received, handler not done yet
        self.last_activity = started  # last message received, or last batch handled
        self.finished = False  # max_messages, idle_timeout or an error: no new receive
        self.receivers_done = 0
        self.error: BaseException | None = None


class _Deleter:
    """Deletes handled messages in DeleteMessageBatch calls of up to 10, combining several receives' successes.

    A call is made as soon as 10 are waiting, or when the oldest has waited ``delete_delay`` seconds; ``close()``
    deletes what is left. Up to ``receive_concurrency`` calls at once (a slot is taken before the next chunk, so
    that messages gather while every slot is busy), on threads of their own, while receivers and handlers go on.
    """

    def __init__(self, consumer: QueueConsumer, stats: ConsumerStats) -> None:
        self._consumer = consumer
        self._stats = stats
        self._delay = consumer.delete_delay
        self._cond = threading.Condition()
        self._pending: list[Message] = []
        self._due = 0.0  # when the oldest pending message must be deleted
        self._closed = False
        self._hurry = False  # no more receives: delete what comes at once
        self._slots = threading.BoundedSemaphore(consumer.receive_concurrency)
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=consumer.receive_concurrency, thread_name_prefix="sqs-delete"
        )
        self._thread = threading.Thread(target=self._loop, name="sqs-deleter", daemon=True)
        self._thread.start()

    def add(self, messages: list[Message]) -> None:
        with self._cond:
            if not self._pending:
                self._due = time.monotonic() + self._delay
            self._pending.extend(messages)
            self._cond.notify_all()

    def hurry(self) -> None:
        """No receive will come any more: stop waiting for company, delete at once."""
        with self._cond:
            self._hurry = True
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join()

    def _take(self) -> list[Message] | None:
        with self._cond:
            while True:
                now = time.monotonic()
                if self._pending and (
                    len(self._pending) >= MAX_BATCH or self._closed or self._hurry or now >= self._due
                ):
                    chunk, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                    return chunk  # the rest keeps its deadline: it is at least as old
                if self._closed:
                    return None
                self._cond.wait(max(self._due - time.monotonic(), 0.001) if self._pending else None)

    def _loop(self) -> None:
        try:
            while True:
                self._slots.acquire()
                chunk = self._take()
                if chunk is None:
                    self._slots.release()
                    return
                self._pool.submit(self._delete, chunk)
        finally:
            self._pool.shutdown(wait=True)

    def _delete(self, chunk: list[Message]) -> None:
        try:
            self._consumer._delete_and_count(chunk, self._stats)
        except Exception:  # never let a delete thread die silently: the messages are counted as not deleted
            logger.exception("deleting %d messages failed (they will be delivered again)", len(chunk))
        finally:
            self._slots.release()


def _check_int(prop: str, value: object, low: int, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        allowed = f"an integer between {low} and {high}" if high is not None else f"an integer >= {low}"
        raise ValueError(f"{prop} must be {allowed}, got {value!r}")


class QueueConsumer:
    """Long-polls an SQS queue and hands its messages to ``handler`` (or ``batch_handler``); see the module doc.

    :param queue_url: the queue's URL; a URL ending in ``.fifo`` is consumed with FIFO group semantics.
    :param handler: called with each message dict; an ``Exception`` fails the message.
    :param batch_size: messages per ``ReceiveMessage`` (1-10).
    :param wait_time_seconds: long-poll wait (0-20).
    :param visibility_timeout: seconds; passed to ``ReceiveMessage``. ``None``: the queue's own, read once with
        ``GetQueueAttributes`` when the heartbeat needs it.
    :param heartbeat: extend the visibility timeout of messages still being handled.
    :param max_workers: handler threads; default ``min(10, 2 * os.cpu_count())``.
    :param batch_handler: instead of ``handler``: called with the batch, returns the ids of the failed messages.
    :param retry_failed_immediately: make failed messages visible again at once instead of after the timeout.
    :param max_in_flight: messages received and not yet finished (handled and deleted, or released), at most; the
        next receive is made while earlier batches are handled and deleted as long as there is room. Default
        ``2 * receive_concurrency * batch_size``; ``batch_size`` gives one batch at a time.
    :param dead_letter_after: FIFO queues with a ``handler``: a message that fails on its ``dead_letter_after``-th
        receive or later (``ApproximateReceiveCount``) is moved to the queue's dead-letter queue by the consumer,
        and the later messages of its group in the batch are handled at once (see the module doc). At most the
        queue's ``maxReceiveCount``. Default ``None``: SQS's redrive alone.
    :param receive_concurrency: ``ReceiveMessage`` calls in flight at once (1-16), and ``DeleteMessageBatch`` calls.
        More than 1 pays off when a round trip is long beside the handlers (SQS across a network).
    :param delete_delay: seconds (0-5) a handled message may wait for others to fill its ``DeleteMessageBatch``
        (it stays invisible meanwhile); 0 deletes at once what is there.
    :param client: a boto3 SQS client; default ``boto3.client("sqs")`` (honours ``AWS_ENDPOINT_URL``).
    """

    def __init__(
        self,
        queue_url: str,
        handler: Handler | None = None,
        *,
        batch_size: int = MAX_BATCH,
        wait_time_seconds: int = MAX_WAIT_TIME_SECONDS,
        visibility_timeout: int | None = None,
        heartbeat: bool = True,
        max_workers: int | None = None,
        batch_handler: BatchHandler | None = None,
        retry_failed_immediately: bool = False,
        max_in_flight: int | None = None,
        dead_letter_after: int | None = None,
        receive_concurrency: int = 1,
        delete_delay: float = DEFAULT_DELETE_DELAY,
        client: Any = None,
    ) -> None:
        with validating_helper(type(self).__name__):
            self._check_options(
                queue_url, handler, batch_handler, batch_size, wait_time_seconds, visibility_timeout, max_workers
            )
            check_bool("heartbeat", heartbeat)
            check_bool("retry_failed_immediately", retry_failed_immediately)
            check_count("receive_concurrency", receive_concurrency, minimum=1, maximum=MAX_RECEIVE_CONCURRENCY)
            check_number("delete_delay", delete_delay, minimum=0, maximum=MAX_DELETE_DELAY)
            if max_in_flight is not None:
                _check_int("max_in_flight", max_in_flight, batch_size)
            self._check_dead_letter_after(queue_url, batch_handler, dead_letter_after)
        if client is None:
            import boto3

            client = boto3.client("sqs")
        self.queue_url = queue_url
        self.fifo = queue_url.endswith(".fifo")
        self.batch_size = batch_size
        self.wait_time_seconds = wait_time_seconds
        self.visibility_timeout = visibility_timeout
        self.heartbeat = heartbeat
        self.max_workers = max_workers if max_workers is not None else min(10, 2 * (os.cpu_count() or 1))
        self.retry_failed_immediately = retry_failed_immediately
        self.receive_concurrency = receive_concurrency
        self.delete_delay = float(delete_delay)
        self.max_in_flight = max_in_flight if max_in_flight is not None else 2 * receive_concurrency * batch_size
        self.dead_letter_after = dead_letter_after
        self._init_state(client, handler, batch_handler)

    @staticmethod
    def _check_options(
        queue_url: object,
        handler: object,
        batch_handler: object,
        batch_size: object,
        wait_time_seconds: object,
        visibility_timeout: object,
        max_workers: object,
    ) -> None:
        if (handler is None) == (batch_handler is None):
            raise ValueError(
                f"exactly one of handler and batch_handler must be given, got handler={handler!r}, "
                f"batch_handler={batch_handler!r}"
            )
        for name, function in (("handler", handler), ("batch_handler", batch_handler)):
            if function is not None and not callable(function):
                raise TypeError(f"{name} must be a callable (a function of one message), got {function!r}")
        check_queue_url("queue_url", queue_url)
        _check_int("batch_size", batch_size, 1, MAX_BATCH)
        _check_int("wait_time_seconds", wait_time_seconds, 0, MAX_WAIT_TIME_SECONDS)
        if visibility_timeout is not None:
            _check_int("visibility_timeout", visibility_timeout, 0, MAX_VISIBILITY_TIMEOUT)
        if max_workers is not None:
            _check_int("max_workers", max_workers, 1)

    @staticmethod
    def _check_dead_letter_after(queue_url: str, batch_handler: object, dead_letter_after: object) -> None:
        if dead_letter_after is not None:
            _check_int("dead_letter_after", dead_letter_after, 1)
            if not queue_url.endswith(".fifo"):
                raise ValueError(
                    f"dead_letter_after is for FIFO queues (standard queues do not hold a group back behind a "
                    f"failure); {queue_url} is a standard queue, got {dead_letter_after!r}"
                )
            if batch_handler is not None:
                raise ValueError(
                    f"dead_letter_after needs handler, not batch_handler (a batch handler reports a group's later "
                    f"messages failed too), got dead_letter_after={dead_letter_after!r}"
                )

    def _init_state(self, client: Any, handler: Handler | None, batch_handler: BatchHandler | None) -> None:
        self.client: Any = client
        self._handler = handler
        self._batch_handler = batch_handler
        self._stop = threading.Event()
        self._crashed = threading.Event()
        self._running = threading.Lock()
        self._in_flight = _InFlight()
        # Serialises heartbeat extensions with releases, so that an extension never lands after a release.
        self._visibility_lock = threading.Lock()
        self._heartbeats = 0
        self._heartbeats_lock = threading.Lock()
        self._queue_visibility_timeout: int | None = None
        # Guards the in-flight count, the stats of a run and the first crash; notified when a batch settles.
        self._cond = threading.Condition()
        self._in_flight_count = 0
        self._state = _RunState(None, None, 0.0)
        self._crash: BaseException | None = None
        self._dead_letter_queue: tuple[str, bool] | None = None  # (url, fifo)

    # -- public ---------------------------------------------------------------------------------------------

    def stop(self) -> None:
        """Finish the messages being handled, delete them, and stop polling. Safe from any thread or a handler."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self, max_messages: int | None = None, idle_timeout: float | None = None) -> ConsumerStats:
        """Consume until :meth:`stop`, a signal, ``max_messages`` handled, or ``idle_timeout`` seconds without a
        message (each checked between receives). Returns what was done."""
        if max_messages is not None:
            _check_int("max_messages", max_messages, 1)
        if idle_timeout is not None and (
            isinstance(idle_timeout, bool) or not isinstance(idle_timeout, int | float) or idle_timeout < 0
        ):
            raise ValueError(f"idle_timeout must be a number of seconds >= 0, got {idle_timeout!r}")
        if not self._running.acquire(blocking=False):
            raise RuntimeError("this QueueConsumer is already running")
        try:
            self._prepare_dead_letter()
        except BaseException:
            self._running.release()
            raise
        started = time.monotonic()
        stats = ConsumerStats()
        counter = ApiCallCounter(self.client)
        heartbeat_done = threading.Event()
        heartbeat_thread: threading.Thread | None = None
        restore_signals = self._install_signal_handlers()
        pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=min(self.max_workers, self.max_in_flight), thread_name_prefix="sqs-consumer"
        )
        self._state = _RunState(max_messages, idle_timeout, started)
        self._deleter = _Deleter(self, stats)
        with self._heartbeats_lock:
            self._heartbeats = 0
        try:
            timeout = self._heartbeat_timeout()
            if timeout:
                heartbeat_thread = threading.Thread(
                    target=self._heartbeat_loop, args=(timeout, heartbeat_done), name="sqs-heartbeat", daemon=True
                )
                heartbeat_thread.start()
            self._poll(stats, pool)
        finally:
            self._stop.set()  # receivers still running (an interrupted run) make no new receive
            pool.shutdown(wait=True)
            self._deleter.close()  # deletes what is left, then stops
            heartbeat_done.set()
            if heartbeat_thread is not None:
                heartbeat_thread.join()
            self._in_flight.clear()
            self._crashed.clear()
            restore_signals()
            counter.detach()
            with self._heartbeats_lock:
                stats.heartbeats = self._heartbeats
            stats.api_calls = counter.snapshot()
            stats.elapsed = time.monotonic() - started
            self._stop.clear()
            self._running.release()
        logger.info(
            "consumer stopped: %d received, %d succeeded, %d failed, %d skipped, %d deleted in %.1f s",
            stats.received,
            stats.succeeded,
            stats.failed,
            stats.skipped,
            stats.deleted,
            stats.elapsed,
        )
        return stats

    # -- polling --------------------------------------------------------------------------------------------

    def _poll(self, stats: ConsumerStats, pool: concurrent.futures.ThreadPoolExecutor) -> None:
        """Run ``receive_concurrency`` receivers, and return once they stopped and nothing is in flight any more
        (every batch handled, its successes deleted). Re-raises a handler's crash or a receive's lasting error."""
        receivers = [
            threading.Thread(target=self._receive_loop, args=(stats, pool), name=f"sqs-receiver-{number}", daemon=True)
            for number in range(self.receive_concurrency)
        ]
        for receiver in receivers:
            receiver.start()
        state = self._state
        try:
            with self._cond:
                # Short waits: a signal handler (stop()) runs in this thread between them.
                while state.receivers_done < len(receivers):
                    self._cond.wait(0.2)
            self._deleter.hurry()
            with self._cond:
                while self._in_flight_count:
                    self._cond.wait(0.2)
        finally:
            self._stop.set()
            for receiver in receivers:
                receiver.join()
        with self._cond:
            crash, self._crash = self._crash, None
        if crash is not None:
            raise crash
        if state.error is not None:
            raise state.error

    def _receive_loop(self, stats: ConsumerStats, pool: concurrent.futures.ThreadPoolExecutor) -> None:
        try:
            self._receive_until_done(stats, pool)
        except BaseException as error:  # not expected: end the run, and let run() raise it
            with self._cond:
                if self._state.error is None:
                    self._state.error = error
                self._state.finished = True
        finally:
            with self._cond:
                self._state.receivers_done += 1
                self._cond.notify_all()

    def _reserve(self, stats: ConsumerStats) -> tuple[int, bool] | None:
        """Wait for room, then reserve up to a batch of it for one receive: (count, busy). ``None``: stop receiving.

        A message counts once against ``max_in_flight`` and ``max_messages``: from the receive that reserves its room
        until it is deleted or released (``max_in_flight``), or until its handler is done (``max_messages``).
        """
        state = self._state
        with self._cond:
            while True:
                if self._stop.is_set() or state.finished:
                    return None
                if state.max_messages is not None and stats.processed >= state.max_messages:
                    if not state.finished:
                        logger.info("handled %d messages (max_messages): stopping", stats.processed)
                    state.finished = True
                    self._cond.notify_all()
                    return None
                room = self.max_in_flight - self._in_flight_count - state.reserved
                if state.max_messages is not None:
                    room = min(room, state.max_messages - stats.processed - state.handling - state.reserved)
                if room > 0:
                    break
                self._cond.wait(0.2)
            count = min(self.batch_size, room)
            busy = self._in_flight_count > 0  # messages in flight when this poll begins
            state.reserved += count
            return count, busy

    def _receive_until_done(self, stats: ConsumerStats, pool: concurrent.futures.ThreadPoolExecutor) -> None:
        state = self._state
        receive_failures = 0
        while True:
            reservation = self._reserve(stats)
            if reservation is None:
                return
            count, busy = reservation
            wait = self.wait_time_seconds
            if state.idle_timeout is not None:  # do not long-poll much past the idle timeout
                with self._cond:
                    last_activity = state.last_activity
                idle_left = state.idle_timeout if busy else state.idle_timeout - (time.monotonic() - last_activity)
                wait = min(wait, max(1 if busy else 0, math.ceil(idle_left)))
            polled_at = time.monotonic()
            try:
                messages = self._receive(count, wait)
            except Exception as error:
                with self._cond:
                    state.reserved -= count
                    self._cond.notify_all()
                if not _transient(error):
                    raise
                receive_failures += 1
                pause = random.uniform(0, min(MAX_RECEIVE_BACKOFF, 0.1 * 2**receive_failures))
                logger.warning("ReceiveMessage failed (%s): receiving again in %.2f s", error, pause)
                self._stop.wait(pause)
                continue
            receive_failures = 0
            with self._cond:
                state.reserved -= count
                if messages:
                    stats.received += len(messages)
                    self._in_flight_count += len(messages)
                    state.handling += len(messages)
                    state.last_activity = time.monotonic()
                    self._in_flight.add(m["ReceiptHandle"] for m in messages)
                # Idle only if no message was in flight and none was received or finished by any receiver
                # since this poll began: a batch settling meanwhile may have released messages it did not see.
                quiet = not busy and not self._in_flight_count and state.last_activity < polled_at
                idle_for = time.monotonic() - state.last_activity
                self._cond.notify_all()
            if not messages:
                if state.idle_timeout is not None and quiet and idle_for >= state.idle_timeout:
                    logger.info("no message for %.1f s (idle_timeout): stopping", state.idle_timeout)
                    with self._cond:
                        state.finished = True
                        self._cond.notify_all()
                    return
                continue
            if self._stop.is_set() or state.finished:
                logger.info("stopping: releasing %d messages received meanwhile", len(messages))
                self._release(messages)
                with self._cond:
                    stats.skipped += len(messages)
                    state.handling -= len(messages)
                    self._in_flight_count -= len(messages)
                    self._cond.notify_all()
                return
            self._dispatch(messages, pool, stats)

    def _receive(self, count: int, wait: int) -> list[Message]:
        kwargs: dict[str, Any] = {
            "QueueUrl": self.queue_url,
            "MaxNumberOfMessages": count,
            "WaitTimeSeconds": wait,
            "MessageSystemAttributeNames": ["All"],
            "MessageAttributeNames": ["All"],
        }
        if self.visibility_timeout is not None:
            kwargs["VisibilityTimeout"] = self.visibility_timeout
        if self.fifo:  # makes botocore's retries of this receive return the same messages
            kwargs["ReceiveRequestAttemptId"] = uuid.uuid4().hex
        messages: list[Message] = self.client.receive_message(**kwargs).get("Messages", [])
        if messages:
            logger.debug("received %d messages", len(messages))
        return messages

    # -- handling -------------------------------------------------------------------------------------------

    def _dispatch(
        self, messages: list[Message], pool: concurrent.futures.ThreadPoolExecutor, stats: ConsumerStats
    ) -> None:
        """Start handling one receive's messages on the pool; the last task to finish settles the batch."""
        batch = _Batch(messages)
        tasks: list[Callable[[], None]]
        if self._batch_handler is not None:
            tasks = [lambda: self._run_batch_handler(batch)]
        elif self.fifo:
            groups: dict[str, list[int]] = {}
            for index, message in enumerate(messages):
                groups.setdefault(_group(message), []).append(index)
            tasks = [functools.partial(self._run_group, batch, indexes) for indexes in groups.values()]
        else:
            tasks = [functools.partial(self._run_one_into, batch, index) for index in range(len(messages))]
        batch.remaining = len(tasks)
        for task in tasks:
            pool.submit(self._task, batch, task, stats)

    def _task(self, batch: _Batch, task: Callable[[], None], stats: ConsumerStats) -> None:
        try:
            task()
        except BaseException as error:  # a crash: stop the consumer, abandon this batch (run() re-raises)
            batch.crashed = True
            self._crashed.set()
            self._stop.set()
            with self._cond:
                if self._crash is None:
                    self._crash = error
        finally:
            with batch.lock:
                batch.remaining -= 1
                last = batch.remaining == 0
            if last:
                self._settle(batch, stats)

    def _settle(self, batch: _Batch, stats: ConsumerStats) -> None:
        """Every handler of the batch is done: count, release or leave the failures, hand the successes to the
        deleter. A message stops counting against ``max_messages`` here (it is handled), and against
        ``max_in_flight`` once it is deleted (by the deleter) or released or left here."""
        messages, outcomes = batch.messages, batch.outcomes
        state = self._state
        to_delete: list[Message] = []
        counted = False  # handling decremented (below, or in finally whatever happens)
        try:
            if batch.crashed:
                logger.error("a handler crashed: abandoning its batch of %d without deleting it", len(messages))
                self._in_flight.remove(m["ReceiptHandle"] for m in messages)
                return
            succeeded = [m for m, o in zip(messages, outcomes, strict=True) if o is _Outcome.SUCCEEDED]
            not_done = [m for m, o in zip(messages, outcomes, strict=True) if o in (_Outcome.FAILED, _Outcome.SKIPPED)]
            with self._cond:
                stats.succeeded += len(succeeded)
                stats.failed += outcomes.count(_Outcome.FAILED) + outcomes.count(_Outcome.DEAD_LETTERED)
                stats.dead_lettered += outcomes.count(_Outcome.DEAD_LETTERED)
                stats.skipped += outcomes.count(_Outcome.SKIPPED)
                state.handling -= len(messages)
                counted = True
                state.last_activity = time.monotonic()
                self._cond.notify_all()
            if not_done:
                if self.retry_failed_immediately:
                    self._release(not_done)
                else:  # they become visible when their current timeout expires
                    self._in_flight.remove(m["ReceiptHandle"] for m in not_done)
            to_delete = succeeded
        finally:
            with self._cond:
                state.last_activity = time.monotonic()  # after the releases: a poll begun before missed them
                if not counted:
                    state.handling -= len(messages)
                self._in_flight_count -= len(messages) - len(to_delete)
                self._cond.notify_all()
            if to_delete:
                self._deleter.add(to_delete)

    def _delete_and_count(self, messages: list[Message], stats: ConsumerStats) -> None:
        """The deleter's call: delete (up to 10), count, and stop counting them in flight."""
        deleted = 0
        try:
            deleted, _failures = self._delete(messages)
        finally:
            with self._cond:
                stats.deleted += deleted
                stats.delete_failures += len(messages) - deleted  # _delete's failures, or all if it raised
                self._in_flight_count -= len(messages)
                self._cond.notify_all()

    def _run_group(self, batch: _Batch, indexes: list[int]) -> None:
        """One FIFO group, in order; after a failure the rest of the group stays SKIPPED."""
        for index in indexes:
            self._run_one_into(batch, index)
            outcome = batch.outcomes[index]
            if outcome is _Outcome.SKIPPED:  # not started: a crash
                return
            if outcome is _Outcome.FAILED:
                rest = indexes[indexes.index(index) + 1 :]
                if rest:
                    logger.info(
                        "message %s failed: not handling the %d later messages of its group in this batch",
                        batch.messages[index]["MessageId"],
                        len(rest),
                    )
                return

    def _run_one_into(self, batch: _Batch, index: int) -> None:
        message = batch.messages[index]
        assert self._handler is not None
        if self._crashed.is_set():  # a handler crashed: start nothing more
            return
        try:
            self._handler(message)
        except Exception as error:
            _log_failure(f"message {message['MessageId']}", message, error)
            if self._dead_letter_due(message) and self._move_to_dead_letter_queue(message):
                batch.outcomes[index] = _Outcome.DEAD_LETTERED
                self._in_flight.remove([message["ReceiptHandle"]])
                return
            batch.outcomes[index] = _Outcome.FAILED
            if not self.retry_failed_immediately:
                self._in_flight.remove([message["ReceiptHandle"]])  # stop extending it: let it come back
        else:
            batch.outcomes[index] = _Outcome.SUCCEEDED

    def _run_batch_handler(self, batch: _Batch) -> None:
        assert self._batch_handler is not None
        messages = batch.messages
        try:
            reported = self._batch_handler(list(messages))
        except Exception as error:
            _log_failure(f"a batch of {len(messages)} messages (batch handler)", None, error)
            batch.outcomes[:] = [_Outcome.FAILED] * len(messages)
            return
        failed_ids = set(reported or ())
        known = {m["MessageId"] for m in messages}
        unknown = failed_ids - known
        if unknown:
            logger.warning("batch handler reported unknown message ids as failed (ignored): %s", sorted(unknown))
        outcomes = [_Outcome.FAILED if m["MessageId"] in failed_ids else _Outcome.SUCCEEDED for m in messages]
        if self.fifo:  # never delete a message that comes after a failed one in its group
            failed_groups: set[str] = set()
            for index, message in enumerate(messages):
                group = _group(message)
                if outcomes[index] is _Outcome.FAILED:
                    failed_groups.add(group)
                elif group in failed_groups:
                    outcomes[index] = _Outcome.SKIPPED
        batch.outcomes[:] = outcomes

    # -- FIFO: dead-lettering a failing message early ---------------------------------------------------------

    def _prepare_dead_letter(self) -> None:
        """dead_letter_after: read the queue's redrive policy (maxReceiveCount, the DLQ's URL) once per run."""
        if self.dead_letter_after is None:
            return
        policy = redrive_policy(self.client, self.queue_url)
        if policy is None:
            raise ValueError(
                f"dead_letter_after needs a queue with a redrive policy (it moves failing messages to its "
                f"dead-letter queue); {self.queue_url} has none, got dead_letter_after={self.dead_letter_after}"
            )
        if self.dead_letter_after > policy.max_receive_count:
            raise ValueError(
                f"dead_letter_after must be at most the queue's maxReceiveCount ({policy.max_receive_count}), "
                f"got {self.dead_letter_after}"
            )
        target = QueueArn.parse(policy.dead_letter_target_arn)
        self._dead_letter_queue = (queue_url_of(self.client, target), target.fifo)

    def _dead_letter_due(self, message: Message) -> bool:
        if self.dead_letter_after is None or self._dead_letter_queue is None:
            return False
        count = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "0"))
        return count >= self.dead_letter_after

    def _move_to_dead_letter_queue(self, message: Message) -> bool:
        """SendMessage to the DLQ, then DeleteMessage here; False (the message stays, FAILED) if either fails."""
        from botocore.exceptions import BotoCoreError, ClientError

        assert self._dead_letter_queue is not None
        url, fifo = self._dead_letter_queue
        # The deduplication id is the MessageId: a move retried after a failed delete is dropped by the FIFO DLQ.
        entry = message_entry(message, 0, fifo, "dead-letter")
        del entry["Id"]
        try:
            self.client.send_message(QueueUrl=url, **entry)
        except (BotoCoreError, ClientError) as error:
            logger.error("could not move message %s to the dead-letter queue: %s", message["MessageId"], error)
            return False
        try:
            self.client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        except (BotoCoreError, ClientError) as error:
            logger.error(
                "message %s was copied to the dead-letter queue but not deleted here (it comes back; moving it "
                "again is deduplicated by a FIFO DLQ within 5 minutes): %s",
                message["MessageId"],
                error,
            )
            return False
        logger.warning(
            "message %s failed on receive %s (dead_letter_after=%d): moved to the dead-letter queue, releasing the "
            "rest of its group",
            message["MessageId"],
            message.get("Attributes", {}).get("ApproximateReceiveCount"),
            self.dead_letter_after,
        )
        return True

    # -- deleting and releasing ------------------------------------------------------------------------------

    def _delete(self, messages: list[Message]) -> tuple[int, int]:
        """Delete in batches of 10, retrying the failed entries once. Returns (deleted, failures)."""
        deleted = failures = 0
        for chunk in _chunks(messages):
            remaining = list(chunk)
            for attempt in (1, 2):
                remaining = self._delete_batch(remaining, final=attempt == 2)
                if not remaining:
                    break
            deleted += len(chunk) - len(remaining)
            failures += len(remaining)
        self._in_flight.remove(m["ReceiptHandle"] for m in messages)
        return deleted, failures

    def _delete_batch(self, messages: list[Message], *, final: bool) -> list[Message]:
        """One DeleteMessageBatch; returns the messages not deleted."""
        from botocore.exceptions import BotoCoreError, ClientError

        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        try:
            response = self.client.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
        except (BotoCoreError, ClientError) as error:
            log = logger.error if final else logger.warning
            log("DeleteMessageBatch of %d messages failed%s: %s", len(messages), "" if final else ", retrying", error)
            return messages
        failed = response.get("Failed", [])
        if failed:
            log = logger.error if final else logger.warning
            log(
                "DeleteMessageBatch failed for %d of %d messages%s: %s",
                len(failed),
                len(messages),
                " (they will be delivered again)" if final else ", retrying them",
                ", ".join(f"{messages[int(f['Id'])]['MessageId']}: {f.get('Code')}" for f in failed),
            )
        return [messages[int(f["Id"])] for f in failed]

    def _release(self, messages: list[Message]) -> None:
        """Make messages visible again at once (ChangeMessageVisibilityBatch to 0)."""
        from botocore.exceptions import BotoCoreError, ClientError

        with self._visibility_lock:
            self._in_flight.remove(m["ReceiptHandle"] for m in messages)
            for chunk in _chunks(messages):
                entries = [
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(chunk)
                ]
                try:
                    response = self.client.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=entries)
                except (BotoCoreError, ClientError) as error:
                    logger.warning(
                        "could not release %d messages (they come back after the timeout): %s", len(chunk), error
                    )
                    continue
                for failure in response.get("Failed", []):
                    logger.warning(
                        "could not release message %s: %s", chunk[int(failure["Id"])]["MessageId"], failure.get("Code")
                    )

    # -- heartbeat ------------------------------------------------------------------------------------------

    def _heartbeat_timeout(self) -> int:
        """The visibility timeout the heartbeat keeps renewing; 0 when there is no heartbeat."""
        if not self.heartbeat:
            return 0
        if self.visibility_timeout is not None:
            timeout = self.visibility_timeout
        else:
            if self._queue_visibility_timeout is None:
                attributes = self.client.get_queue_attributes(
                    QueueUrl=self.queue_url, AttributeNames=["VisibilityTimeout"]
                )["Attributes"]
                self._queue_visibility_timeout = int(attributes["VisibilityTimeout"])
            timeout = self._queue_visibility_timeout
        if timeout <= 0:
            logger.info("visibility timeout is 0: no heartbeat")
        return timeout

    def _heartbeat_loop(self, timeout: int, done: threading.Event) -> None:
        tick = min(max(timeout / 8, 0.05), 1.0)
        extend_after = max(timeout / 2 - tick, tick)  # so that an extension is sent at about half the timeout
        while not done.wait(tick):
            try:
                with self._visibility_lock:
                    due = self._in_flight.due(extend_after)
                    for chunk in _chunks(due):
                        self._extend(list(chunk), timeout)
            except Exception:  # never let the heartbeat die: the handlers would lose their messages
                logger.exception("heartbeat failed; retrying")

    def _extend(self, handles: list[str], timeout: int) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        entries = [{"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": timeout} for i, h in enumerate(handles)]
        try:
            response = self.client.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=entries)
        except (BotoCoreError, ClientError) as error:
            logger.warning("heartbeat for %d messages failed (retrying next tick): %s", len(handles), error)
            return
        extended = [handles[int(s["Id"])] for s in response.get("Successful", [])]
        self._in_flight.touch(extended)
        with self._heartbeats_lock:
            self._heartbeats += len(extended)
        failed = response.get("Failed", [])
        if failed:
            # e.g. deleted meanwhile, or the 12-hour limit reached: nothing more can be done for these.
            logger.warning(
                "could not extend the visibility of %d messages: %s",
                len(failed),
                ", ".join(str(f.get("Code")) for f in failed),
            )
            self._in_flight.remove(handles[int(f["Id"])] for f in failed)
        logger.debug("extended the visibility of %d messages by %d s", len(extended), timeout)

    # -- signals --------------------------------------------------------------------------------------------

    def _install_signal_handlers(self) -> Callable[[], None]:
        """SIGINT/SIGTERM stop the consumer gracefully (main thread only); returns the function restoring them."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

        def restore() -> None:
            for sig, handler in previous.items():
                signal.signal(sig, handler if handler is not None else signal.SIG_DFL)

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            logger.warning(
                "%s: finishing the messages in flight, then stopping (send it again to force)",
                signal.Signals(signum).name,
            )
            self.stop()
            restore()

        for sig in previous:
            signal.signal(sig, on_signal)
        return restore
