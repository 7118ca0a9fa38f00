"""StreamProducer against moto's Kinesis: the 500-record and 5 MiB call limits, per-record retries, and
per-key order with ``ordered=True`` when records fail.

``RecordFaults`` fails chosen records the way PutRecords reports it: they are taken out of the request
before it reaches moto (so they are *not* stored) and put back into the response's ``Records`` at their
positions with an ``ErrorCode``. What the stream finally holds is read back shard by shard.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from decoupling_constructs.runtime.producer import PartialBatchError
from decoupling_constructs.runtime.stream import StreamProducer
from tests.runtime.rejections import reject_calls_holding

MIB = 1_048_576
THROTTLED = "ProvisionedThroughputExceededException"

# plan(call number from 1, records of the call) -> {index in the call: error code}
Plan = Callable[[int, list[dict[str, Any]]], Mapping[int, str]]


def no_faults(call: int, records: list[dict[str, Any]]) -> Mapping[int, str]:
    return {}


class RecordFaults:
    """Records every PutRecords call (the records as sent) and fails the records ``plan`` picks."""

    def __init__(self, client: Any, plan: Plan = no_faults) -> None:
        self.plan = plan
        self.calls: list[list[dict[str, Any]]] = []
        events = client.meta.events
        events.register("provide-client-params.kinesis.PutRecords", self._params)
        # Same node as ApiCallCounter's hook and after it: a short-circuited call is still counted.
        events.register_last("before-call.*.*", self._short_circuit)
        events.register("after-call.kinesis.PutRecords", self._merge)

    def data(self, call: int) -> list[bytes]:
        return [record["Data"] for record in self.calls[call]]

    def _params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> dict[str, Any] | None:
        records = list(params["Records"])
        self.calls.append(records)
        failing = dict(self.plan(len(self.calls), records))
        context["failing"] = failing
        context["size"] = len(records)
        if len(failing) == len(records):
            context["all_failing"] = True
            return None
        return {**params, "Records": [record for i, record in enumerate(records) if i not in failing]}

    def _short_circuit(
        self, model: Any, context: dict[str, Any], **_: Any
    ) -> tuple[AWSResponse, dict[str, Any]] | None:
        if model.name == "PutRecords" and context.get("all_failing"):
            return AWSResponse("https://injected.invalid", 200, {}, None), {"FailedRecordCount": 0, "Records": []}
        return None

    def _merge(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if "failing" not in context:
            return
        stored = iter(parsed.get("Records", []))
        failing: dict[int, str] = context["failing"]
        parsed["Records"] = [
            {"ErrorCode": failing[i], "ErrorMessage": "injected"} if i in failing else next(stored)
            for i in range(context["size"])
        ]
        parsed["FailedRecordCount"] = parsed.get("FailedRecordCount", 0) + len(failing)


def create_stream(kinesis: Any, name: str = "events", shards: int = 3) -> str:
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    return name


def read_back(kinesis: Any, stream: str) -> dict[str, list[tuple[str, bytes]]]:
    """shard id -> [(partition key, data)] in the shard's sequence order."""
    by_shard: dict[str, list[tuple[str, bytes]]] = {}
    for shard in kinesis.describe_stream(StreamName=stream)["StreamDescription"]["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records: list[tuple[str, bytes]] = []
        while True:
            response = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            records.extend((r["PartitionKey"], r["Data"]) for r in response["Records"])
            if not response["Records"]:
                break
            iterator = response["NextShardIterator"]
        by_shard[shard["ShardId"]] = records
    return by_shard


def landed(kinesis: Any, stream: str) -> Counter[bytes]:
    return Counter(data for records in read_back(kinesis, stream).values() for _, data in records)


def per_key(kinesis: Any, stream: str) -> dict[str, list[bytes]]:
    """partition key -> its records' data in stream order (a key lives on one shard)."""
    keys: dict[str, list[bytes]] = defaultdict(list)
    for records in read_back(kinesis, stream).values():
        for key, data in records:
            keys[key].append(data)
    return dict(keys)


@pytest.fixture
def kinesis(aws: None) -> Any:
    return boto3.client("kinesis", region_name="us-east-1")


# ------------------------------------------------------------------------------------------------
# Limits


def test_500_records_per_call(kinesis: Any) -> None:
    stream = create_stream(kinesis)
    faults = RecordFaults(kinesis)
    producer = StreamProducer(stream, client=kinesis)
    for i in range(1201):
        producer.put(f"r{i}", partition_key=f"k{i % 7}")
    assert [len(call) for call in faults.calls] == [500, 500]  # full calls leave during put()
    producer.flush()
    assert [len(call) for call in faults.calls] == [500, 500, 201]
    assert producer.stats.api_calls == {"PutRecords": 3}
    assert producer.stats.sent == 1201
    assert landed(kinesis, stream) == Counter(f"r{i}".encode() for i in range(1201))


def test_5_mib_per_call_counts_data_and_partition_keys(kinesis: Any) -> None:
    stream = create_stream(kinesis, shards=1)
    faults = RecordFaults(kinesis)
    with StreamProducer(stream, client=kinesis) as producer:
        for i in range(5):  # 5 records of exactly 1 MiB (data + 2-byte key): 5 MiB, one call
            producer.put(bytes([i]) * (MIB - 2), partition_key=f"k{i}")
        assert faults.calls == []
        producer.put(b"x", partition_key="k5")  # would pass 5 MiB: the five leave now
        assert [len(call) for call in faults.calls] == [5]
    assert [len(call) for call in faults.calls] == [5, 1]
    assert producer.stats.sent == 6


def test_a_record_over_1_mib_is_a_value_error(kinesis: Any) -> None:
    stream = create_stream(kinesis, shards=1)
    producer = StreamProducer(stream, client=kinesis)
    with pytest.raises(ValueError, match=r"1,048,577 bytes; a Kinesis record may be at most 1,048,576"):
        producer.put(b"x" * (MIB - 1), partition_key="ab")
    producer.put(b"x" * (MIB - 2), partition_key="ab")
    producer.flush()
    assert producer.stats.sent == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((b"x", ""), r"partition_key must be a str of 1 to 256 characters, got ''"),
        ((b"x", "k" * 257), r"partition_key must be a str of 1 to 256 characters"),
        ((123, "k"), r"data must be bytes or str, got int"),
        ((b"x", "k", "-1"), r"explicit_hash_key must be a decimal str from 0 to 2\*\*128 - 1 .* got '-1'"),
        ((b"x", "k", str(2**128)), r"explicit_hash_key must be a decimal str"),
    ],
)
def test_put_validation_names_the_argument(kinesis: Any, args: tuple[Any, ...], message: str) -> None:
    producer = StreamProducer("events", client=kinesis)
    with pytest.raises(ValueError, match=message):
        producer.put(*args)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stream_name": ""}, r"^StreamProducer: stream_name must be the stream's name, 1-128 .*got ''"),
        (
            {"stream_name": "arn:aws:kinesis:us-east-1:1:stream/s"},
            r"stream_name must be the stream's name.*an ARN is not",
        ),
        ({"stream_name": "s", "ordered": "yes"}, r"ordered must be True or False, got 'yes'"),
        ({"stream_name": "s", "max_retries": 1.5}, r"max_retries must be an int >= 0, got 1.5"),
        ({"stream_name": "s", "max_delay": -1}, r"max_delay must be a finite number of seconds >= 0, got -1"),
    ],
)
def test_constructor_validation(kinesis: Any, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        StreamProducer(client=kinesis, **kwargs)


def test_explicit_hash_key_routes_the_record(kinesis: Any) -> None:
    stream = create_stream(kinesis, shards=2)
    with StreamProducer(stream, client=kinesis) as producer:
        producer.put(b"low", partition_key="same", explicit_hash_key="0")
        producer.put(b"high", partition_key="same", explicit_hash_key=str(2**128 - 2))
    shards = read_back(kinesis, stream)
    assert sorted(shards.values()) == [[("same", b"high")], [("same", b"low")]]


# ------------------------------------------------------------------------------------------------
# Partial failures


def test_throttled_records_are_retried_alone(kinesis: Any) -> None:
    stream = create_stream(kinesis)
    failing = {3: THROTTLED, 7: "InternalFailure", 9: THROTTLED}
    faults = RecordFaults(kinesis, lambda call, _: failing if call == 1 else {})
    with StreamProducer(stream, client=kinesis, base_delay=0.001) as producer:
        for i in range(12):
            producer.put(f"r{i}", partition_key=f"k{i}")
    assert faults.data(0) == [f"r{i}".encode() for i in range(12)]
    assert faults.data(1) == [b"r3", b"r7", b"r9"]
    assert len(faults.calls) == 2
    stats = producer.stats
    assert (stats.sent, stats.retried, stats.failed) == (12, 3, 0)
    assert stats.api_calls == {"PutRecords": 2}
    assert landed(kinesis, stream) == Counter(f"r{i}".encode() for i in range(12))


def test_other_error_codes_are_not_retried(kinesis: Any) -> None:
    stream = create_stream(kinesis)
    faults = RecordFaults(kinesis, lambda call, _: {1: "KMSAccessDeniedException"} if call == 1 else {})
    producer = StreamProducer(stream, client=kinesis)
    for i in range(3):
        producer.put(f"r{i}", partition_key="k")
    with pytest.raises(PartialBatchError, match="KMSAccessDeniedException x1") as caught:
        producer.flush()
    assert len(faults.calls) == 1
    assert [(f.entry["Data"], f.attempts) for f in caught.value.failed] == [(b"r1", 1)]
    assert landed(kinesis, stream) == Counter([b"r0", b"r2"])


def test_records_failing_every_retry_raise(kinesis: Any) -> None:
    stream = create_stream(kinesis)
    faults = RecordFaults(
        kinesis, lambda call, records: {i: THROTTLED for i, r in enumerate(records) if r["Data"] == b"r0"}
    )
    producer = StreamProducer(stream, client=kinesis, max_retries=3, base_delay=0.001)
    producer.put("r0", partition_key="a")
    producer.put("r1", partition_key="b")
    with pytest.raises(PartialBatchError) as caught:
        producer.flush()
    assert [(f.entry["Data"], f.code, f.attempts) for f in caught.value.failed] == [(b"r0", THROTTLED, 4)]
    assert [len(call) for call in faults.calls] == [2, 1, 1, 1]
    assert (producer.stats.sent, producer.stats.retried, producer.stats.failed) == (1, 3, 1)
    assert landed(kinesis, stream) == Counter([b"r1"])


def test_call_that_raises_keeps_unacknowledged_records_for_the_next_flush(kinesis: Any) -> None:
    stream = create_stream(kinesis, shards=1)
    calls = [0]

    def second_call_fails(model: Any, **_: Any) -> None:
        if model.name == "PutRecords":
            calls[0] += 1
            if calls[0] == 2:
                raise EndpointConnectionError(endpoint_url="https://kinesis.invalid")

    producer = StreamProducer(stream, client=kinesis, ordered=True)
    kinesis.meta.events.register_last("before-call.*.*", second_call_fails)
    for i in range(3):
        producer.put(f"a-{i}", partition_key="a")
    with pytest.raises(EndpointConnectionError):
        producer.flush()  # a-0 went out in call 1; call 2 (a-1) raised
    assert producer.buffered == 2
    producer.flush()
    assert producer.stats.api_calls == {"PutRecords": 4}  # 1 ok, 1 raised, then a-1 and a-2
    assert per_key(kinesis, stream) == {"a": [b"a-0", b"a-1", b"a-2"]}


@pytest.mark.parametrize("ordered", [False, True])
def test_a_call_rejected_for_one_record_is_bisected(kinesis: Any, ordered: bool) -> None:
    """Kinesis rejects the whole PutRecords (HTTP 400 ValidationException) for one record: the call is split in
    halves down to the culprit, the other records land, the culprit is reported, nothing stays buffered."""
    stream = create_stream(kinesis, shards=1)
    sizes = reject_calls_holding(
        kinesis, "PutRecords", "Records", lambda r: r["Data"].startswith(b"bad"), code="ValidationException"
    )
    producer = StreamProducer(stream, client=kinesis, ordered=ordered)
    for i in range(8):
        producer.put(b"bad-5" if i == 5 else f"r-{i}".encode(), partition_key=f"k{i}")
    with pytest.raises(PartialBatchError) as caught:
        producer.flush()
    [failure] = caught.value.failed
    assert (failure.entry["Data"], failure.code, failure.sender_fault) == (b"bad-5", "ValidationException", True)
    assert sizes == [8, 4, 4, 2, 1, 1, 2]  # 0-7 no; 0-3 ok; 4-7 no; 4-5 no; 4 ok; 5 no; 6-7 ok
    assert landed(kinesis, stream) == Counter(f"r-{i}".encode() for i in range(8) if i != 5)
    assert producer.buffered == 0


# ------------------------------------------------------------------------------------------------
# Per-key order


def fail_every_third_first_attempt(call: int, records: list[dict[str, Any]], seen: set[bytes]) -> Mapping[int, str]:
    """Each record whose number is a multiple of 3 fails on its first attempt."""
    failing = {}
    for index, record in enumerate(records):
        if int(record["Data"].split(b"-")[1]) % 3 == 0 and record["Data"] not in seen:
            failing[index] = THROTTLED
        seen.add(record["Data"])
    return failing


def put_keys(producer: StreamProducer, keys: int, per_key: int) -> dict[str, list[bytes]]:
    expected: dict[str, list[bytes]] = defaultdict(list)
    for i in range(per_key):
        for k in range(keys):
            data = f"k{k}-{i}".encode()
            producer.put(data, partition_key=f"k{k}")
            expected[f"k{k}"].append(data)
    return dict(expected)


def test_ordered_keeps_each_keys_order_when_records_fail(kinesis: Any) -> None:
    stream = create_stream(kinesis)
    seen: set[bytes] = set()
    faults = RecordFaults(kinesis, lambda call, records: fail_every_third_first_attempt(call, records, seen))
    with StreamProducer(stream, client=kinesis, ordered=True, base_delay=0.001) as producer:
        expected = put_keys(producer, keys=5, per_key=12)
    # The rule: never two records of one partition key in one call.
    for call in faults.calls:
        keys = [record["PartitionKey"] for record in call]
        assert len(keys) == len(set(keys))
    assert per_key(kinesis, stream) == expected
    assert producer.stats.sent == 60
    assert producer.stats.retried == 20


def test_unordered_retries_do_reorder_a_key(kinesis: Any) -> None:
    """The same failures without ordered=True: the check above would catch a reordering."""
    stream = create_stream(kinesis)
    seen: set[bytes] = set()
    RecordFaults(kinesis, lambda call, records: fail_every_third_first_attempt(call, records, seen))
    with StreamProducer(stream, client=kinesis, base_delay=0.001) as producer:
        expected = put_keys(producer, keys=5, per_key=12)
    actual = per_key(kinesis, stream)
    assert actual != expected
    assert {key: sorted(data) for key, data in actual.items()} == {key: sorted(data) for key, data in expected.items()}


def test_ordered_stops_a_key_after_its_record_fails_for_good(kinesis: Any) -> None:
    stream = create_stream(kinesis)
    RecordFaults(
        kinesis, lambda call, records: {i: "InternalFailure" for i, r in enumerate(records) if r["Data"] == b"a-1"}
    )
    producer = StreamProducer(stream, client=kinesis, ordered=True, max_retries=1, base_delay=0.001)
    for i in range(4):
        producer.put(f"a-{i}", partition_key="a")
        producer.put(f"b-{i}", partition_key="b")
    with pytest.raises(PartialBatchError) as caught:
        producer.flush()
    assert [(f.entry["Data"], f.code, f.attempts) for f in caught.value.failed] == [
        (b"a-1", "InternalFailure", 2),
        (b"a-2", "NotSent", 0),
        (b"a-3", "NotSent", 0),
    ]
    assert per_key(kinesis, stream) == {"a": [b"a-0"], "b": [b"b-0", b"b-1", b"b-2", b"b-3"]}


def test_ordered_drops_buffered_records_of_a_failed_key(kinesis: Any) -> None:
    """A record that did not fit the failed call waits in the buffer: it must not be sent after the gap."""
    stream = create_stream(kinesis, shards=1)
    RecordFaults(
        kinesis,
        lambda call, records: {i: "KMSAccessDeniedException" for i, r in enumerate(records) if r["Data"][:1] == b"A"},
    )
    producer = StreamProducer(stream, client=kinesis, ordered=True)
    big = MIB - 1  # + a 1-byte key: 1 MiB per record, so five fill a call
    producer.put(b"A" * big, partition_key="a")
    producer.put(b"a" * big, partition_key="a")
    for i in range(3):
        producer.put(bytes([ord("0") + i]) * big, partition_key="b")
    with pytest.raises(PartialBatchError) as caught:
        producer.put(b"a-late", partition_key="a")  # over 5 MiB: the five leave, this one stays buffered
    assert [(f.entry["Data"][:6], f.code) for f in caught.value.failed] == [
        (b"AAAAAA", "KMSAccessDeniedException"),
        (b"aaaaaa", "NotSent"),
        (b"a-late", "NotSent"),
    ]
    assert producer.buffered == 0
    producer.flush()
    assert [key for records in read_back(kinesis, stream).values() for key, _ in records] == ["b", "b", "b"]


def test_ordered_throughput_cost_one_record_per_key_per_call(kinesis: Any) -> None:
    stream = create_stream(kinesis, shards=1)
    faults = RecordFaults(kinesis)
    with StreamProducer(stream, client=kinesis, ordered=True) as producer:
        put_keys(producer, keys=4, per_key=5)
    assert [len(call) for call in faults.calls] == [4] * 5
    with StreamProducer(stream, client=kinesis, ordered=False) as producer:
        put_keys(producer, keys=4, per_key=5)
    assert [len(call) for call in faults.calls[5:]] == [20]


# ------------------------------------------------------------------------------------------------
# Property: whatever fails (transiently), every record lands exactly once, and in key order if ordered.

records_strategy = st.lists(
    st.tuples(st.integers(min_value=0, max_value=3), st.integers(min_value=0, max_value=3)),  # (key, failures)
    min_size=1,
    max_size=40,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=records_strategy, ordered=st.booleans(), codes=st.sampled_from([THROTTLED, "InternalFailure"]))
def test_every_record_lands_exactly_once(records: list[tuple[int, int]], ordered: bool, codes: str) -> None:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        kinesis = boto3.client("kinesis", region_name="us-east-1")
        stream = create_stream(kinesis, shards=2)
        failures_left = {f"{n}".encode(): failures for n, (_, failures) in enumerate(records)}

        def plan(call: int, batch: list[dict[str, Any]]) -> Mapping[int, str]:
            failing = {}
            for index, record in enumerate(batch):
                if failures_left[record["Data"]] > 0:
                    failures_left[record["Data"]] -= 1
                    failing[index] = codes
            return failing

        RecordFaults(kinesis, plan)
        expected: dict[str, list[bytes]] = defaultdict(list)
        with StreamProducer(stream, client=kinesis, ordered=ordered, max_retries=3, base_delay=0) as producer:
            for n, (key, _) in enumerate(records):
                producer.put(f"{n}", partition_key=f"key{key}")
                expected[f"key{key}"].append(f"{n}".encode())

        assert landed(kinesis, stream) == Counter(f"{n}".encode() for n in range(len(records)))
        assert producer.stats.sent == len(records)
        assert producer.stats.retried == sum(failures for _, failures in records)
        if ordered:
            assert per_key(kinesis, stream) == expected
