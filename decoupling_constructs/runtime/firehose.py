"""Amazon Data Firehose at run time: a decorator for data-transformation Lambda handlers, and a receiver for teams
that run their own Firehose HTTP endpoint. Neither needs aws-cdk-lib nor boto3.

``firehose_transform`` (the Lambda record contract, Firehose developer guide, "Required parameters for data
transformation", https://docs.aws.amazon.com/firehose/latest/dev/data-transformation-status-model.html):
a plain function of one record's bytes becomes a handler that answers every ``recordId`` exactly once, in order,
``Ok`` / ``Dropped`` / ``ProcessingFailed``, base64-encoded, with ``metadata.partitionKeys`` for dynamic
partitioning with Lambda keys, and keeps the response within Lambda's 6 MB synchronous payload limit.

``FirehoseHttpReceiver`` (the request/response format of the Firehose developer guide, "Understand HTTP endpoint
delivery request and response specifications",
https://docs.aws.amazon.com/firehose/latest/dev/httpdeliveryrequestresponse.html) is defined further down.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from .. import limits

logger = logging.getLogger(__name__)

Result: TypeAlias = Literal["Ok", "Dropped", "ProcessingFailed"]

__all__ = [
    "FirehoseRecord",
    "KinesisRecordMetadata",
    "Transformed",
    "firehose_transform",
]


# --- the transform decorator ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KinesisRecordMetadata:
    """``kinesisRecordMetadata`` of a record that a Kinesis-source delivery stream read from its stream."""

    shard_id: str
    partition_key: str
    sequence_number: str
    approximate_arrival_timestamp: int  # milliseconds since the epoch, when the stream received the record
    subsequence_number: int | None = None  # only for records de-aggregated from a KPL aggregate


@dataclass(frozen=True)
class FirehoseRecord:
    """One record of a Firehose data-transformation event, as the decorated function receives it.

    ``data`` is the decoded payload (also the function's first argument); ``kinesis`` is set when the delivery
    stream reads a Kinesis data stream (``source_stream_arn`` is then that stream), ``None`` for Direct PUT.
    """

    record_id: str
    approximate_arrival_timestamp: int  # milliseconds since the epoch, when Firehose received the record
    data: bytes
    delivery_stream_arn: str = ""
    source_stream_arn: str | None = None
    kinesis: KinesisRecordMetadata | None = None
    invocation_id: str = ""


@dataclass(frozen=True)
class Transformed:
    """A transformed payload with the partition keys Firehose fills ``!{partitionKeyFromLambda:<key>}`` with.

    ``data`` is bytes, a str (encoded as UTF-8) or a dict (JSON with a trailing newline, so records delivered
    together stay one per line). ``partition_keys`` maps each key to a str value. AWS documents no count or length
    limit for Lambda partition keys (the 50-key limit is the jq extraction's); what is checked here is what the
    ``metadata.partitionKeys`` contract needs: non-empty str keys and str values. A wrong value raises
    TypeError/ValueError, which inside the decorated function fails that one record.
    """

    data: bytes | str | dict[str, Any]
    partition_keys: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.data, bytes | bytearray | str | dict):
            raise TypeError(f"Transformed.data must be bytes, str or dict, got {type(self.data).__name__}")
        if not isinstance(self.partition_keys, Mapping):
            raise TypeError(
                f"Transformed.partition_keys must be a mapping of str to str, got {type(self.partition_keys).__name__}"
            )
        for key, value in self.partition_keys.items():
            if not isinstance(key, str) or not key:
                raise ValueError(f"Transformed.partition_keys: a key must be a non-empty str, got {key!r}")
            if not isinstance(value, str):
                raise TypeError(
                    f"Transformed.partition_keys[{key!r}] must be a str (Firehose partition key values are strings),"
                    f" got {type(value).__name__}"
                )
        object.__setattr__(self, "partition_keys", dict(self.partition_keys))


TransformResult: TypeAlias = bytes | str | dict[str, Any] | Transformed | None
TransformFunction: TypeAlias = Callable[[bytes, FirehoseRecord], TransformResult]


def _encode(data: bytes | bytearray | str | dict[str, Any]) -> bytes:
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, dict):
        return (json.dumps(data, separators=(",", ":")) + "\n").encode("utf-8")
    raise TypeError(f"a Firehose transform returns bytes, str, dict, Transformed or None, got {type(data).__name__}")


def _record(raw: Mapping[str, Any], event: Mapping[str, Any]) -> FirehoseRecord:
    meta = raw.get("kinesisRecordMetadata")
    kinesis = None
    if meta:
        subsequence = meta.get("subsequenceNumber")
        kinesis = KinesisRecordMetadata(
            shard_id=str(meta.get("shardId", "")),
            partition_key=str(meta.get("partitionKey", "")),
            sequence_number=str(meta.get("sequenceNumber", "")),
            approximate_arrival_timestamp=int(meta.get("approximateArrivalTimestamp", 0)),
            subsequence_number=None if subsequence is None else int(subsequence),
        )
    return FirehoseRecord(
        record_id=raw["recordId"],
        approximate_arrival_timestamp=int(raw.get("approximateArrivalTimestamp", 0)),
        data=base64.b64decode(raw.get("data", ""), validate=True),
        delivery_stream_arn=str(event.get("deliveryStreamArn", "")),
        source_stream_arn=event.get("sourceKinesisStreamArn"),
        kinesis=kinesis,
        invocation_id=str(event.get("invocationId", "")),
    )


@functools.cache
def _powertools() -> tuple[Any, Any] | None:
    """Powertools' response classes when the ``lambda`` extra (or its layer) is installed, else None: looked up
    once, on the first record, so importing this module never needs Powertools."""
    try:
        from aws_lambda_powertools.utilities.data_classes.kinesis_firehose_event import (
            KinesisFirehoseDataTransformationRecord,
            KinesisFirehoseDataTransformationRecordMetadata,
        )
    except ImportError:
        return None
    return KinesisFirehoseDataTransformationRecord, KinesisFirehoseDataTransformationRecordMetadata


def _entry(
    record_id: str, result: Result, data: str = "", partition_keys: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """One response record, built by Powertools' KinesisFirehoseDataTransformationRecord when it is installed, as
    the same plain dict otherwise."""
    classes = _powertools()
    if classes is None:
        entry: dict[str, Any] = {"recordId": record_id, "result": result, "data": data}
        if partition_keys:
            entry["metadata"] = {"partitionKeys": dict(partition_keys)}
        return entry
    record_class, metadata_class = classes
    metadata = metadata_class(partition_keys=dict(partition_keys)) if partition_keys else None
    built: dict[str, Any] = record_class(record_id=record_id, result=result, data=data, metadata=metadata).asdict()
    return built


def _size(entry: Mapping[str, Any]) -> int:
    # As Lambda's Python runtime serializes the response (json.dumps, default separators), plus the ", " between
    # list items: an upper bound of the entry's share of the response.
    return len(json.dumps(entry).encode("utf-8")) + 2


_ENVELOPE_BYTES = len(json.dumps({"records": []}).encode("utf-8"))


def _outcome(func: TransformFunction, record: FirehoseRecord) -> dict[str, Any]:
    try:
        returned = func(record.data, record)
        if returned is None:
            return _entry(record.record_id, "Dropped")
        if isinstance(returned, Transformed):
            payload = base64.b64encode(_encode(returned.data)).decode("ascii")
            return _entry(record.record_id, "Ok", payload, returned.partition_keys)
        return _entry(record.record_id, "Ok", base64.b64encode(_encode(returned)).decode("ascii"))
    except Exception as error:  # any failure of the user's function fails this one record, and only it
        logger.error("firehose record %s failed: %s: %s", record.record_id, type(error).__name__, error)
        return _entry(record.record_id, "ProcessingFailed")


def transform_records(func: TransformFunction, event: Mapping[str, Any]) -> dict[str, Any]:
    """The response to one Firehose data-transformation event: what a ``@firehose_transform`` handler returns.

    * one entry per incoming record, in the order of the event, with that record's ``recordId``;
    * ``func`` returning bytes/str/dict gives ``Ok`` with the data base64-encoded; ``None`` gives ``Dropped``;
      ``Transformed`` gives ``Ok`` plus ``metadata.partitionKeys``; an exception (or a payload that is not
      valid base64, or a value of another type) gives ``ProcessingFailed`` and one log line naming the recordId
      and the exception, never the payload;
    * the response stays within ``limits.FIREHOSE_TRANSFORM_MAX_RESPONSE_BYTES`` (Lambda's 6 MB synchronous
      response limit). Firehose needs every record answered, and a response over the limit fails the whole
      invocation, which Firehose retries (3 times by default) and then counts the whole batch as failed. So when a
      transformed record would push the response over the limit, that record and any later one that does not fit
      either are answered ``ProcessingFailed`` instead (an entry without data, which always fits, since room is
      kept for it): Firehose writes their original data under the ``processing-failed`` error prefix of the S3
      destination, where they can be re-driven; each is logged. Lower the processor's buffer size hint
      (0.2-3 MB) if this happens: transforms that grow records are what trigger it.
    """
    raw_records = list(event.get("records") or [])
    records: list[FirehoseRecord | None] = []
    entries: list[dict[str, Any] | None] = []
    for raw in raw_records:
        try:
            records.append(_record(raw, event))
            entries.append(None)
        except (binascii.Error, ValueError, TypeError) as error:  # a recordId with an unreadable payload
            logger.error("firehose record %s failed: cannot decode: %s", raw.get("recordId"), error)
            records.append(None)
            entries.append(_entry(raw["recordId"], "ProcessingFailed"))
    # Room kept for a ProcessingFailed answer to every record still to come, so the last ones always fit.
    failed_sizes = [_size(_entry(raw["recordId"], "ProcessingFailed")) for raw in raw_records]
    reserve = sum(failed_sizes)
    used = _ENVELOPE_BYTES
    budget = limits.FIREHOSE_TRANSFORM_MAX_RESPONSE_BYTES
    if used + reserve > budget:  # not reachable from a Firehose event within Lambda's 6 MB request limit
        raise ValueError(
            f"{len(raw_records)} records need {used + reserve} bytes even answered as ProcessingFailed, over the"
            f" {budget}-byte Lambda response limit"
        )
    response: list[dict[str, Any]] = []
    for index, record in enumerate(records):
        reserve -= failed_sizes[index]
        entry = entries[index]
        if entry is None:
            assert record is not None
            entry = _outcome(func, record)
            if used + _size(entry) + reserve > budget:
                logger.error(
                    "firehose record %s failed: its result would take the response over the %d-byte Lambda"
                    " response limit",
                    record.record_id,
                    budget,
                )
                entry = _entry(record.record_id, "ProcessingFailed")
        used += _size(entry)
        response.append(entry)
    return {"records": response}


def firehose_transform(func: TransformFunction) -> Callable[[Mapping[str, Any], Any], dict[str, Any]]:
    """Turn ``func(data: bytes, record: FirehoseRecord) -> bytes | str | dict | Transformed | None`` into a Firehose
    data-transformation Lambda handler ``handler(event, context) -> dict``; see ``transform_records`` for what it
    answers. Works for Direct PUT and Kinesis-source delivery streams (``record.kinesis``)::

        @firehose_transform
        def handler(data: bytes, record: FirehoseRecord) -> Transformed | None:
            click = json.loads(data)
            if click.get("bot"):
                return None  # Dropped
            return Transformed(click, partition_keys={"page": click["page"]})
    """

    @functools.wraps(func)
    def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        return transform_records(func, event)

    return handler
