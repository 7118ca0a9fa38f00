"""Batching producer for Kinesis Data Streams (``StreamProducer``), with per-record retries.

``put()`` buffers records; a PutRecords call leaves when the buffer holds 500 records or the next record
would take it past 5 MiB (5,242,880 bytes of data and partition keys, AWS's per-call limit);
``flush()`` (or leaving the ``with`` block) sends the rest. One record may be at most 1 MiB (data plus
partition key).

PutRecords is not atomic: the response marks each record that failed with an ``ErrorCode``.
``ProvisionedThroughputExceededException`` and ``InternalFailure`` are retried, only those records,
with exponential backoff and full jitter, up to ``max_retries`` times; any other code, or a record
still failing after the last retry, is raised in a ``PartialBatchError``. A call Kinesis rejects as a
whole for its records (an HTTP 400 such as ``ValidationException``) is bisected so that only the
culprits are reported (see ``producer``). A call that raises otherwise (after botocore's own
retries) puts its records back in the buffer for the next ``flush()`` and the exception propagates,
so delivery is at least once.

Ordering (``ordered=True``)
---------------------------
Kinesis orders records per shard by arrival. Within one PutRecords call, a failed record resent in a
later call lands *after* the records of the same partition key that succeeded beside it, so plain
retries reorder a key. With ``ordered=True`` the producer follows one rule:

    **a PutRecords call carries at most one record per partition key, and a key's next record is sent
    only after the call that carried the previous one acknowledged it.**

A failed record is retried before anything later of its key is sent, so every key's records land in
``put()`` order. If a record fails for good, the later records of its key (in this flush and still
buffered) are not sent: they are reported in the same ``PartialBatchError`` with code ``NotSent``.

The cost: a call holds at most as many records as there are distinct keys waiting, so a batch of n
records over K keys needs at least ``max(records per key)`` calls instead of ``ceil(n / 500)``: with
500 records evenly over 50 keys, 10 calls instead of 1; with one hot key, one record per call, the
round-trip-bound rate of PutRecord. Records of different keys still share calls. Use ``ordered=False``
(the default) when consumers do not depend on per-key order.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Hashable, Iterable
from typing import Any, Final

import boto3

from .._validate import check_stream_name, validating_helper
from ..limits import (
    KINESIS_MAX_CALL_BYTES,
    KINESIS_MAX_PARTITION_KEY_CHARS,
    KINESIS_MAX_RECORD_BYTES,
    KINESIS_MAX_RECORDS,
)
from .producer import (
    ACCEPTED,
    BufferedProducer,
    FailedEntry,
    Outcome,
    Pending,
    RetryPolicy,
    check_retry_settings,
)

__all__ = ["RETRYABLE_ERROR_CODES", "StreamProducer"]

logger = logging.getLogger(__name__)

# PutRecords limits (500 records per call, 1 MiB per record and 5 MiB per call, "including partition
# keys"): KINESIS_MAX_* in limits.py.
_MAX_HASH_KEY: Final = 2**128 - 1

# The per-record error codes PutRecords reports; both are transient.
RETRYABLE_ERROR_CODES: Final = frozenset({"ProvisionedThroughputExceededException", "InternalFailure"})
NOT_SENT: Final = "NotSent"


class StreamProducer(BufferedProducer):
    """Put records to a Kinesis data stream with PutRecords (up to 500 records / 5 MiB per call).

    ``ordered=True`` keeps each partition key's records in ``put()`` order even when records fail and
    are retried, at a throughput cost: see the module documentation for the rule and its cost.
    """

    _operation = "PutRecords"
    _noun = "records"

    def __init__(
        self,
        stream_name: str,
        *,
        client: Any = None,
        ordered: bool = False,
        max_retries: int = 5,
        base_delay: float = 0.1,
        max_delay: float = 5.0,
    ) -> None:
        with validating_helper(type(self).__name__):
            check_stream_name("stream_name", stream_name)
            if not isinstance(ordered, bool):
                raise ValueError(f"ordered must be True or False, got {ordered!r}")
            check_retry_settings(max_retries, base_delay, max_delay)
        self.stream_name = stream_name
        self.ordered = ordered
        super().__init__(
            client if client is not None else boto3.client("kinesis"),
            max_items=KINESIS_MAX_RECORDS,
            max_bytes=KINESIS_MAX_CALL_BYTES,
            policy=RetryPolicy(max_retries, float(base_delay), float(max_delay)),
        )

    def put(self, data: bytes | str, partition_key: str, explicit_hash_key: str | None = None) -> None:
        """Buffer one record (a str is sent as UTF-8); sends a call when the buffer is full (and may then
        raise ``PartialBatchError``)."""
        if isinstance(data, str):
            payload = data.encode("utf-8")
        elif isinstance(data, bytes | bytearray | memoryview):
            payload = bytes(data)
        else:
            raise ValueError(f"data must be bytes or str, got {type(data).__name__}")
        if not isinstance(partition_key, str) or not 1 <= len(partition_key) <= KINESIS_MAX_PARTITION_KEY_CHARS:
            raise ValueError(
                f"partition_key must be a str of 1 to {KINESIS_MAX_PARTITION_KEY_CHARS} characters, "
                f"got {partition_key!r:.100}"
            )
        entry: dict[str, Any] = {"Data": payload, "PartitionKey": partition_key}
        if explicit_hash_key is not None:
            if (
                not isinstance(explicit_hash_key, str)
                or not explicit_hash_key.isascii()
                or not explicit_hash_key.isdigit()
                or int(explicit_hash_key) > _MAX_HASH_KEY
            ):
                raise ValueError(
                    "explicit_hash_key must be a decimal str from 0 to 2**128 - 1 "
                    f"(340282366920938463463374607431768211455), got {explicit_hash_key!r:.100}"
                )
            entry["ExplicitHashKey"] = explicit_hash_key
        size = len(payload) + len(partition_key.encode("utf-8"))
        if size > KINESIS_MAX_RECORD_BYTES:
            raise ValueError(
                f"data and partition_key are {size:,} bytes; a Kinesis record may be at most "
                f"{KINESIS_MAX_RECORD_BYTES:,} bytes (1 MiB, partition key included)"
            )
        self._add(entry, size)

    def _call_outcomes(self, items: list[Pending]) -> list[Outcome]:
        logger.debug("PutRecords %s: %d records", self.stream_name, len(items))
        response = self._client.put_records(StreamName=self.stream_name, Records=[item.entry for item in items])
        outcomes: list[Outcome] = []
        for result in response["Records"]:
            code = result.get("ErrorCode")
            if not code:
                outcomes.append(ACCEPTED)
            else:
                message = str(result.get("ErrorMessage", ""))
                outcomes.append(Outcome(False, str(code), message, retryable=code in RETRYABLE_ERROR_CODES))
        return outcomes

    def _send(self, batch: list[Pending], failures: list[FailedEntry]) -> None:
        """Send one batch (<= 500 records, <= 5 MiB) until every record is acknowledged or given up on.

        Each round sends the head of every lane in one call. A lane is a partition key when ordered
        (so a key has at most one record in flight), else a single record (so a round is the whole
        batch and later rounds only the records that failed).
        """
        lanes: dict[Hashable, deque[Pending]] = {}
        for item in batch:
            lanes.setdefault(self._lane(item), deque()).append(item)
        dead_keys: set[str] = set()
        while lanes:
            heads = [lane[0] for lane in lanes.values()]
            outcomes = self._attempt_or_requeue(
                heads,
                lambda accepted: [
                    item
                    for lane in lanes.values()
                    for index, item in enumerate(lane)
                    if index or item.seq not in accepted
                ],
            )
            sent = 0
            again: list[Pending] = []
            codes: set[str] = set()
            for item in heads:
                lane_id = self._lane(item)
                lane = lanes[lane_id]
                outcome = outcomes[item.seq]
                if outcome.ok:
                    lane.popleft()
                    sent += 1
                elif outcome.retryable and item.attempts <= self._policy.max_retries:
                    again.append(item)
                    codes.add(outcome.code)
                    continue
                else:
                    lane.popleft()
                    failures.append(
                        self._failure(item, outcome.code, outcome.message, sender_fault=outcome.sender_fault)
                    )
                    if self.ordered:
                        dead_keys.add(item.entry["PartitionKey"])
                        failures.extend(self._not_sent(lane))
                        lane.clear()
                if not lane:
                    del lanes[lane_id]
            self._count(sent=sent)
            if again:
                retry = max(item.attempts for item in again)
                delay = self._policy.wait(retry)
                logger.info(
                    "PutRecords %s: %d of %d records failed (%s); retry %d/%d of only those after %.3f s",
                    self.stream_name,
                    len(again),
                    len(heads),
                    ", ".join(sorted(codes)),
                    retry,
                    self._policy.max_retries,
                    delay,
                )
                self._count(retried=len(again))
        if dead_keys:
            failures.extend(self._drop_buffered(dead_keys))

    def _lane(self, item: Pending) -> Hashable:
        return item.entry["PartitionKey"] if self.ordered else item.seq

    def _not_sent(self, items: Iterable[Pending]) -> list[FailedEntry]:
        return [
            self._failure(
                item,
                NOT_SENT,
                f"not sent: an earlier record of partition key {item.entry['PartitionKey']!r} failed",
                sender_fault=False,
            )
            for item in items
        ]

    def _drop_buffered(self, dead_keys: set[str]) -> list[FailedEntry]:
        """ordered: records of a key that failed for good, still in the buffer, are not sent either."""
        with self._buffer_lock:
            dropped = [item for item in self._buffer if item.entry["PartitionKey"] in dead_keys]
            if not dropped:
                return []
            kept = [item for item in self._buffer if item.entry["PartitionKey"] not in dead_keys]
            self._buffer.clear()
            self._buffer.extend(kept)
            self._buffered_bytes = sum(item.size for item in kept)
        return self._not_sent(dropped)
