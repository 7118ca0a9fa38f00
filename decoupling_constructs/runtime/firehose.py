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
import hmac
import json
import logging
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeAlias

from .. import limits

logger = logging.getLogger(__name__)

Result: TypeAlias = Literal["Ok", "Dropped", "ProcessingFailed"]

__all__ = [
    "FirehoseDelivery",
    "FirehoseHttpReceiver",
    "FirehoseRecord",
    "KinesisRecordMetadata",
    "LruRequestIds",
    "RequestIdStore",
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


# --- the HTTP endpoint receiver -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FirehoseDelivery:
    """One Firehose HTTP endpoint request, decoded: what ``FirehoseHttpReceiver`` hands to ``deliver``."""

    request_id: str
    timestamp: int  # milliseconds since the epoch, when Firehose generated the request
    records: tuple[bytes, ...]  # each record's data, base64-decoded; empty records are allowed
    source_arn: str = ""  # X-Amz-Firehose-Source-Arn: the delivery stream
    common_attributes: Mapping[str, str] = field(default_factory=dict)  # X-Amz-Firehose-Common-Attributes


class RequestIdStore(Protocol):
    """Where a receiver remembers the request ids it has delivered. The default, ``LruRequestIds``, is in memory
    and per process (one Lambda execution environment); for de-duplication across instances, implement these two
    methods over a shared store (e.g. a DynamoDB conditional put with a TTL)."""

    def __contains__(self, request_id: object) -> bool: ...

    def add(self, request_id: str) -> None: ...


class LruRequestIds:
    """A bounded, thread-safe set of the ``maxsize`` most recently delivered request ids."""

    def __init__(self, maxsize: int = 10_000) -> None:
        if not isinstance(maxsize, int) or isinstance(maxsize, bool) or maxsize < 1:
            raise ValueError(f"LruRequestIds: maxsize must be an int of at least 1, got {maxsize!r}")
        self.maxsize = maxsize
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, request_id: object) -> bool:
        with self._lock:
            if request_id not in self._ids:
                return False
            self._ids.move_to_end(request_id)  # type: ignore[arg-type]  # it is a key, so a str
            return True

    def add(self, request_id: str) -> None:
        with self._lock:
            self._ids[request_id] = None
            self._ids.move_to_end(request_id)
            while len(self._ids) > self.maxsize:
                self._ids.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._ids)


class _Reject(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


Headers: TypeAlias = Mapping[str, str]


class FirehoseHttpReceiver:
    """An endpoint for a Firehose HTTP endpoint destination, per AWS's request/response specification (Firehose
    developer guide, "Understand HTTP endpoint delivery request and response specifications",
    https://docs.aws.amazon.com/firehose/latest/dev/httpdeliveryrequestresponse.html).

    ``handle(headers, body)`` answers one request; ``lambda_handler(event, context)`` adapts it to a Lambda
    Function URL or an API Gateway HTTP API (payload format 2.0, REST proxy events too). For each request it:

    1. checks ``X-Amz-Firehose-Access-Key`` against ``access_key`` (one key, or several while rotating) in
       constant time: 401 when the header is missing, 403 when it does not match;
    2. refuses a body over ``max_body_bytes`` with 413, compressed or (``Content-Encoding: gzip``) once
       decompressed; the spec makes 413 a permanent failure whose batch is *not* sent to the backup bucket, so
       keep ``max_body_bytes`` at or above the stream's buffering size (AWS's maximum, 64 MiB, by default);
    3. answers 400 to a body that is not the spec's JSON (``requestId``, 1-10,000 ``records`` each with base64
       ``data``) or whose ``requestId`` differs from the ``X-Amz-Firehose-Request-Id`` header;
    4. answers 200 without calling ``deliver`` again for a request id already delivered (Firehose keeps the id
       across retries of a request); ids are remembered in ``seen`` only after ``deliver`` returns, so a failed
       delivery is delivered again on Firehose's retry;
    5. calls ``deliver(FirehoseDelivery)``: 200 when it returns, 500 with its exception in ``errorMessage`` when it
       raises, which Firehose retries with back-off (then, after the retry duration, writes to the backup bucket).

    Every answer is ``application/json`` ``{"requestId", "timestamp" (ms)}``, plus ``errorMessage`` when it is not
    a 200. De-duplication is best effort, as Firehose's own id reuse is: two concurrent attempts of one request can
    both be delivered, so ``deliver`` should still be idempotent where duplicates matter.
    """

    def __init__(
        self,
        access_key: str | Sequence[str],
        *,
        deliver: Callable[[FirehoseDelivery], object],
        seen: RequestIdStore | None = None,
        max_body_bytes: int = limits.FIREHOSE_HTTP_MAX_BODY_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        keys = [access_key] if isinstance(access_key, str) else list(access_key)
        if not keys or not all(isinstance(k, str) and k for k in keys):
            raise ValueError("FirehoseHttpReceiver: access_key must be a non-empty str or a list of them")
        for key in keys:
            if len(key.encode()) > limits.FIREHOSE_HTTP_MAX_ACCESS_KEY_BYTES:
                raise ValueError(
                    f"FirehoseHttpReceiver: an access_key of {len(key.encode())} bytes can never match: Firehose sends"
                    f" at most {limits.FIREHOSE_HTTP_MAX_ACCESS_KEY_BYTES} bytes"
                )
        if not callable(deliver):
            raise TypeError(f"FirehoseHttpReceiver: deliver must be callable, got {type(deliver).__name__}")
        if not isinstance(max_body_bytes, int) or isinstance(max_body_bytes, bool) or max_body_bytes < 1:
            raise ValueError(f"FirehoseHttpReceiver: max_body_bytes must be a positive int, got {max_body_bytes!r}")
        self._keys = [k.encode() for k in keys]
        self.deliver = deliver
        self.seen: RequestIdStore = LruRequestIds() if seen is None else seen
        self.max_body_bytes = max_body_bytes
        self._clock = clock

    # -- the protocol --

    def handle(self, headers: Headers, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """Answer one request: (status, response headers, response body). Header names are case-insensitive."""
        lower = {str(name).lower(): str(value) for name, value in headers.items()}
        request_id = lower.get("x-amz-firehose-request-id", "")
        try:
            self._authorize(lower.get("x-amz-firehose-access-key"))
            delivery = self._parse(lower, body)
            request_id = delivery.request_id
            if delivery.request_id in self.seen:
                logger.info("firehose request %s: a retry of a delivered request, not delivered again", request_id)
                return self._answer(200, request_id)
            try:
                self.deliver(delivery)
            except Exception as error:  # the user's delivery failed: Firehose retries on a 5xx
                logger.error("firehose request %s: delivery failed: %s: %s", request_id, type(error).__name__, error)
                return self._answer(500, request_id, f"delivery failed: {type(error).__name__}: {error}")
            self.seen.add(delivery.request_id)
            logger.info("firehose request %s: delivered %d records", request_id, len(delivery.records))
            return self._answer(200, request_id)
        except _Reject as reject:
            logger.warning("firehose request %s: %d %s", request_id or "(no id)", reject.status, reject.message)
            return self._answer(reject.status, request_id, reject.message)

    def _authorize(self, given: str | None) -> None:
        if given is None:
            raise _Reject(401, "missing X-Amz-Firehose-Access-Key")
        candidate = given.encode()
        matched = False
        for key in self._keys:  # every key compared, in constant time each: no early exit to time
            matched |= hmac.compare_digest(candidate, key)
        if not matched:
            raise _Reject(403, "invalid X-Amz-Firehose-Access-Key")

    def _parse(self, headers: Mapping[str, str], body: bytes) -> FirehoseDelivery:
        if len(body) > self.max_body_bytes:
            raise _Reject(413, f"body of {len(body)} bytes is over the {self.max_body_bytes}-byte limit")
        encoding = headers.get("content-encoding", "").strip().lower()
        if encoding == "gzip":
            body = self._gunzip(body)
        elif encoding not in ("", "identity"):
            raise _Reject(400, f"unsupported Content-Encoding {encoding!r} (Firehose sends gzip or none)")
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError) as error:
            raise _Reject(400, f"body is not JSON: {error}") from None
        if not isinstance(document, dict):
            raise _Reject(400, "body is not a JSON object")
        request_id = document.get("requestId")
        if not isinstance(request_id, str) or not request_id:
            raise _Reject(400, "body has no requestId string")
        header_id = headers.get("x-amz-firehose-request-id")
        if header_id is not None and header_id != request_id:
            raise _Reject(400, "requestId in the body differs from X-Amz-Firehose-Request-Id")
        timestamp = document.get("timestamp", 0)
        if not isinstance(timestamp, int) or isinstance(timestamp, bool):
            raise _Reject(400, "timestamp is not an integer (milliseconds since the epoch)")
        raw_records = document.get("records")
        if not isinstance(raw_records, list) or not 1 <= len(raw_records) <= limits.FIREHOSE_HTTP_MAX_RECORDS:
            raise _Reject(400, f"records must be a list of 1-{limits.FIREHOSE_HTTP_MAX_RECORDS} records")
        records = []
        for index, raw in enumerate(raw_records):
            data = raw.get("data") if isinstance(raw, dict) else None
            if not isinstance(data, str):
                raise _Reject(400, f"records[{index}] has no data string")
            try:
                records.append(base64.b64decode(data, validate=True))
            except binascii.Error:
                raise _Reject(400, f"records[{index}].data is not base64") from None
        return FirehoseDelivery(
            request_id=request_id,
            timestamp=timestamp,
            records=tuple(records),
            source_arn=headers.get("x-amz-firehose-source-arn", ""),
            common_attributes=self._common_attributes(headers.get("x-amz-firehose-common-attributes")),
        )

    def _gunzip(self, body: bytes) -> bytes:
        # Bounded: a small gzip body cannot expand past max_body_bytes in memory ("64 MiB, before compression").
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            out = inflater.decompress(body, self.max_body_bytes + 1)
            if len(out) > self.max_body_bytes:
                raise _Reject(413, f"body is over the {self.max_body_bytes}-byte limit once decompressed")
            if not inflater.eof:
                raise _Reject(400, "body is not a complete gzip stream")
        except zlib.error as error:
            raise _Reject(400, f"body is not gzip: {error}") from None
        return out

    @staticmethod
    def _common_attributes(header: str | None) -> dict[str, str]:
        if not header:
            return {}
        try:
            document = json.loads(header)
        except ValueError:
            raise _Reject(400, "X-Amz-Firehose-Common-Attributes is not JSON") from None
        attributes = document.get("commonAttributes", {}) if isinstance(document, dict) else None
        if not isinstance(attributes, dict) or not all(isinstance(v, str) for v in attributes.values()):
            raise _Reject(400, 'X-Amz-Firehose-Common-Attributes is not {"commonAttributes": {name: string}}')
        return {str(k): v for k, v in attributes.items()}

    def _answer(self, status: int, request_id: str, error: str | None = None) -> tuple[int, dict[str, str], bytes]:
        document: dict[str, Any] = {"requestId": request_id, "timestamp": int(self._clock() * 1000)}
        if error is not None:
            document["errorMessage"] = error[: limits.FIREHOSE_HTTP_MAX_ERROR_MESSAGE_CHARS]
        body = json.dumps(document).encode()
        return status, {"Content-Type": "application/json", "Content-Length": str(len(body))}, body

    # -- adapters --

    def lambda_handler(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        """A Lambda Function URL / API Gateway (HTTP API payload 2.0, or REST proxy) handler. The body arrives
        base64-encoded when it is binary (a gzip body always is). Lambda's synchronous payload is at most 6 MB
        (Lambda API reference, Invoke), so with a Lambda behind the endpoint keep the stream's HTTP buffering size
        under that, base64 included."""
        headers = event.get("headers") or {}
        raw = event.get("body") or ""
        try:
            body = base64.b64decode(raw, validate=True) if event.get("isBase64Encoded") else raw.encode("utf-8")
        except (binascii.Error, ValueError):
            status, out_headers, out = self._answer(
                400, str(_header(headers, "x-amz-firehose-request-id") or ""), "body is not base64"
            )
        else:
            status, out_headers, out = self.handle(headers, body)
        return {"statusCode": status, "headers": out_headers, "body": out.decode(), "isBase64Encoded": False}


def _header(headers: Mapping[str, Any], name: str) -> Any:
    return next((value for key, value in headers.items() if str(key).lower() == name), None)
