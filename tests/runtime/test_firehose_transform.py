"""firehose_transform: the Firehose data-transformation record contract (Firehose developer guide, "Required
parameters for data transformation"): one answer per recordId, in order, Ok/Dropped/ProcessingFailed, base64 data,
metadata.partitionKeys, and a response within Lambda's 6 MB synchronous payload limit. Events are built in the shape
of AWS's documented Direct PUT and Kinesis-source examples (Lambda developer guide, "Using AWS Lambda with Amazon
Data Firehose"). Run with Powertools installed (the dev venv) and with it hidden, which must give the same answers.
"""

from __future__ import annotations

import base64
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decoupling_constructs import limits
from decoupling_constructs.runtime import FirehoseRecord, KinesisRecordMetadata, Transformed, firehose_transform
from decoupling_constructs.runtime import firehose as firehose_module

POWERTOOLS_MODULE = "aws_lambda_powertools.utilities.data_classes.kinesis_firehose_event"
STREAM_ARN = "arn:aws:firehose:us-west-2:123456789012:deliverystream/clicks"
KINESIS_ARN = "arn:aws:kinesis:us-west-2:123456789012:stream/clicks"


@pytest.fixture(params=["powertools", "plain"])
def powertools(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Each test runs with Powertools' response classes and with Powertools absent (import fails)."""
    firehose_module._powertools.cache_clear()
    if request.param == "plain":
        monkeypatch.setitem(sys.modules, POWERTOOLS_MODULE, None)  # makes `from ... import` raise ImportError
    yield request.param
    firehose_module._powertools.cache_clear()


def direct_put_event(payloads: Sequence[bytes], ids: Sequence[str] | None = None) -> dict[str, Any]:
    ids = ids or [f"49546986683135544286507457936321625675700192471156785154{i:04d}" for i in range(len(payloads))]
    return {
        "invocationId": "invocationIdExample",
        "deliveryStreamArn": STREAM_ARN,
        "region": "us-west-2",
        "records": [
            {"recordId": rid, "approximateArrivalTimestamp": 1495072949453, "data": base64.b64encode(p).decode()}
            for rid, p in zip(ids, payloads, strict=True)
        ],
    }


def kinesis_source_event(payloads: Sequence[bytes]) -> dict[str, Any]:
    event = direct_put_event(payloads)
    event["sourceKinesisStreamArn"] = KINESIS_ARN
    for i, record in enumerate(event["records"]):
        record["kinesisRecordMetadata"] = {
            "shardId": "shardId-000000000000",
            "partitionKey": f"pk-{i}",
            "approximateArrivalTimestamp": 1495072949000 + i,
            "sequenceNumber": f"4954698668313554428650745793632162567570019247115678515{i}",
            "subsequenceNumber": "",
        }
        if i % 2:
            record["kinesisRecordMetadata"]["subsequenceNumber"] = i
        else:
            del record["kinesisRecordMetadata"]["subsequenceNumber"]
    return event


def decoded(entry: dict[str, Any]) -> bytes:
    return base64.b64decode(entry["data"], validate=True)


def test_each_record_gets_its_result_in_order(powertools: str) -> None:
    @firehose_transform
    def handler(data: bytes, record: FirehoseRecord) -> Any:
        text = data.decode(errors="replace")
        if text == "drop":
            return None
        if text == "fail":
            raise ValueError("bad record")
        if text == "keys":
            return Transformed(b"keyed", partition_keys={"tenant": "a", "year": "2026"})
        if text == "json":
            return {"x": 1}
        if text == "text":
            return "héllo"
        return data.upper()

    payloads = [b"abc", b"drop", b"fail", b"keys", b"json", b"text", b"\x00\xffbin"]
    event = direct_put_event(payloads)
    response = handler(event, None)
    assert set(response) == {"records"}
    out = response["records"]
    assert [e["recordId"] for e in out] == [r["recordId"] for r in event["records"]]
    assert [e["result"] for e in out] == ["Ok", "Dropped", "ProcessingFailed", "Ok", "Ok", "Ok", "Ok"]
    assert decoded(out[0]) == b"ABC"
    assert out[1]["data"] == "" and out[2]["data"] == ""
    assert decoded(out[3]) == b"keyed" and out[3]["metadata"] == {"partitionKeys": {"tenant": "a", "year": "2026"}}
    assert decoded(out[4]) == b'{"x":1}\n' and json.loads(decoded(out[4])) == {"x": 1}
    assert decoded(out[5]) == "héllo".encode()
    assert decoded(out[6]) == b"\x00\xffBIN"
    assert all("metadata" not in e for i, e in enumerate(out) if i != 3)
    json.dumps(response)  # what Lambda returns to Firehose must serialize


def test_base64_round_trip_of_arbitrary_bytes(powertools: str) -> None:
    seen: list[bytes] = []

    @firehose_transform
    def handler(data: bytes, record: FirehoseRecord) -> bytes:
        seen.append(data)
        return data

    payloads = [bytes(range(256)), b"", b"x" * 1000]
    out = handler(direct_put_event(payloads), None)["records"]
    assert seen == payloads
    assert [decoded(e) for e in out] == payloads
    assert [e["result"] for e in out] == ["Ok"] * 3


def test_the_record_exposes_id_timestamp_and_kinesis_metadata(powertools: str) -> None:
    seen: list[FirehoseRecord] = []

    @firehose_transform
    def handler(data: bytes, record: FirehoseRecord) -> bytes:
        seen.append(record)
        return data

    handler(kinesis_source_event([b"a", b"b"]), None)
    first, second = seen
    assert first.record_id.endswith("0000") and first.approximate_arrival_timestamp == 1495072949453
    assert first.data == b"a" and first.delivery_stream_arn == STREAM_ARN and first.invocation_id
    assert first.source_stream_arn == KINESIS_ARN
    assert first.kinesis == KinesisRecordMetadata(
        shard_id="shardId-000000000000",
        partition_key="pk-0",
        sequence_number="49546986683135544286507457936321625675700192471156785150",
        approximate_arrival_timestamp=1495072949000,
        subsequence_number=None,
    )
    assert second.kinesis is not None and second.kinesis.subsequence_number == 1

    seen.clear()
    handler(direct_put_event([b"a"]), None)
    assert seen[0].kinesis is None and seen[0].source_stream_arn is None


def test_a_failure_logs_the_record_id_and_the_exception_not_the_payload(
    powertools: str, caplog: pytest.LogCaptureFixture
) -> None:
    @firehose_transform
    def handler(data: bytes, record: FirehoseRecord) -> bytes:
        raise KeyError("page")

    with caplog.at_level(logging.ERROR, logger="decoupling_constructs.runtime.firehose"):
        out = handler(direct_put_event([b"secret-payload"], ids=["rec-1"]), None)["records"]
    assert out == [{"recordId": "rec-1", "result": "ProcessingFailed", "data": ""}]
    assert len(caplog.records) == 1
    line = caplog.records[0].getMessage()
    assert "rec-1" in line and "KeyError" in line and "page" in line
    assert "secret-payload" not in line and base64.b64encode(b"secret-payload").decode() not in line


@pytest.mark.parametrize(
    "returned",
    [
        pytest.param(lambda: Transformed(b"x", partition_keys={"year": 2026}), id="int value"),  # type: ignore[dict-item]
        pytest.param(lambda: Transformed(b"x", partition_keys={"": "a"}), id="empty key"),
        pytest.param(lambda: Transformed(b"x", partition_keys=[("a", "b")]), id="not a mapping"),  # type: ignore[arg-type]
        pytest.param(lambda: Transformed(123), id="int data"),  # type: ignore[arg-type]
        pytest.param(lambda: 123, id="int returned"),
        pytest.param(lambda: ["a"], id="list returned"),
    ],
)
def test_a_wrong_result_fails_only_its_record(powertools: str, returned: Any) -> None:
    @firehose_transform
    def handler(data: bytes, record: FirehoseRecord) -> Any:
        return returned() if data == b"bad" else data

    out = handler(direct_put_event([b"ok", b"bad", b"ok2"]), None)["records"]
    assert [e["result"] for e in out] == ["Ok", "ProcessingFailed", "Ok"]


def test_transformed_validates_its_partition_keys_when_built() -> None:
    with pytest.raises(TypeError, match=r"partition_keys\['year'\] must be a str"):
        Transformed(b"x", partition_keys={"year": 2026})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="non-empty str"):
        Transformed(b"x", partition_keys={"": "v"})
    keys = {"a": "1"}
    made = Transformed("x", partition_keys=keys)
    keys["a"] = "2"
    assert made.partition_keys == {"a": "1"}  # copied: a later change of the caller's dict does not leak in


def test_a_payload_that_is_not_base64_fails_without_calling_the_function(powertools: str) -> None:
    called: list[bytes] = []

    @firehose_transform
    def handler(data: bytes, record: FirehoseRecord) -> bytes:
        called.append(data)
        return data

    event = direct_put_event([b"a", b"b"])
    event["records"][0]["data"] = "not base64!!"
    out = handler(event, None)["records"]
    assert [e["result"] for e in out] == ["ProcessingFailed", "Ok"]
    assert called == [b"b"]


def test_a_record_without_record_id_fails_the_invocation() -> None:
    # It cannot be answered; Firehose retries the invocation and then fails the batch (its documented handling).
    handler = firehose_transform(lambda data, record: data)
    with pytest.raises(KeyError):
        handler({"records": [{"data": "YQ=="}]}, None)


def test_an_empty_event_gets_an_empty_answer() -> None:
    assert firehose_transform(lambda data, record: data)({"records": []}, None) == {"records": []}


def response_bytes(response: dict[str, Any]) -> int:
    return len(json.dumps(response).encode())


def test_the_response_stays_within_lambdas_6_mb(powertools: str, caplog: pytest.LogCaptureFixture) -> None:
    """Real sizes: each record grows to 1,000,000 bytes (1,333,336 base64 chars); 4 fit in 6,000,000 bytes, the
    5th and 6th do not and are answered ProcessingFailed (Firehose writes their originals under processing-failed),
    the small 7th still fits and stays Ok."""

    @firehose_transform
    def handler(data: bytes, record: FirehoseRecord) -> bytes:
        return data if data == b"small" else b"x" * 1_000_000

    event = direct_put_event([b"1", b"2", b"3", b"4", b"5", b"6", b"small"])
    with caplog.at_level(logging.ERROR, logger="decoupling_constructs.runtime.firehose"):
        response = handler(event, None)
    out = response["records"]
    assert [e["result"] for e in out] == ["Ok"] * 4 + ["ProcessingFailed"] * 2 + ["Ok"]
    assert [e["recordId"] for e in out] == [r["recordId"] for r in event["records"]]
    assert decoded(out[6]) == b"small"
    assert response_bytes(response) <= limits.FIREHOSE_TRANSFORM_MAX_RESPONSE_BYTES
    assert limits.FIREHOSE_TRANSFORM_MAX_RESPONSE_BYTES == 6_000_000
    assert sum("response limit" in r.getMessage() for r in caplog.records) == 2


def test_room_is_kept_for_the_answers_still_to_come(powertools: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The first record's 1,000-byte result would fit alone, but not with the ProcessingFailed answers of the
    # 10 records after it: it is failed so that every record can still be answered within the limit.
    event = direct_put_event([b"big"] + [b"s"] * 10, ids=[f"r{i:02d}" for i in range(11)])
    failed = len(json.dumps({"recordId": "r00", "result": "ProcessingFailed", "data": ""})) + 2
    monkeypatch.setattr(limits, "FIREHOSE_TRANSFORM_MAX_RESPONSE_BYTES", 15 + 11 * failed + 200)
    handler = firehose_transform(lambda data, record: b"y" * 1000 if data == b"big" else None)
    response = handler(event, None)
    assert [e["result"] for e in response["records"]] == ["ProcessingFailed"] + ["Dropped"] * 10
    assert response_bytes(response) <= limits.FIREHOSE_TRANSFORM_MAX_RESPONSE_BYTES


def test_too_many_records_to_answer_at_all_fail_the_invocation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "FIREHOSE_TRANSFORM_MAX_RESPONSE_BYTES", 100)
    with pytest.raises(ValueError, match="over the 100-byte Lambda response limit"):
        firehose_transform(lambda data, record: data)(direct_put_event([b"a"] * 5), None)


def test_powertools_and_plain_dicts_give_the_same_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    def transform(data: bytes, record: FirehoseRecord) -> Any:
        return {b"d": None, b"k": Transformed("k", {"a": "b"})}.get(data, data)

    event = direct_put_event([b"x", b"d", b"k"])
    firehose_module._powertools.cache_clear()
    assert firehose_module._powertools() is not None  # the dev venv has Powertools: this path is exercised
    with_powertools = firehose_transform(transform)(event, None)
    firehose_module._powertools.cache_clear()
    monkeypatch.setitem(sys.modules, POWERTOOLS_MODULE, None)
    assert firehose_module._powertools() is None
    plain = firehose_transform(transform)(event, None)
    firehose_module._powertools.cache_clear()
    assert with_powertools == plain


# --- property: any records, any mix of outcomes -----------------------------------------------------------------

OUTCOMES = st.sampled_from(["ok", "text", "json", "keys", "drop", "raise", "grow"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    payloads=st.lists(st.binary(max_size=64), max_size=40),
    outcomes=st.lists(OUTCOMES, min_size=40, max_size=40),
    budget_slack=st.integers(min_value=0, max_value=4000),
)
def test_one_answer_per_record_id_in_order_for_any_mix(
    powertools: str,
    monkeypatch: pytest.MonkeyPatch,
    payloads: list[bytes],
    outcomes: list[str],
    budget_slack: int,
) -> None:
    ids = [f"id-{i}" for i in range(len(payloads))]
    event = direct_put_event(payloads, ids=ids)
    plan = dict(zip(ids, outcomes, strict=False))
    failed_size = sum(len(json.dumps({"recordId": i, "result": "ProcessingFailed", "data": ""})) + 2 for i in ids)
    budget = 15 + failed_size + budget_slack  # just enough to fail everything, plus a drawn slack
    monkeypatch.setattr(limits, "FIREHOSE_TRANSFORM_MAX_RESPONSE_BYTES", budget)

    def transform(data: bytes, record: FirehoseRecord) -> Any:
        kind = plan[record.record_id]
        if kind == "text":
            return data.hex()
        if kind == "json":
            return {"hex": data.hex()}
        if kind == "keys":
            return Transformed(data, partition_keys={"len": str(len(data))})
        if kind == "drop":
            return None
        if kind == "raise":
            raise RuntimeError("planned")
        if kind == "grow":
            return data * 50
        return data

    response = firehose_transform(transform)({**event}, None)
    out = response["records"]
    assert [e["recordId"] for e in out] == ids
    assert response_bytes(response) <= budget
    for entry, payload in zip(out, payloads, strict=True):
        kind = plan[entry["recordId"]]
        if kind == "drop":
            assert entry == {"recordId": entry["recordId"], "result": "Dropped", "data": ""}
        elif kind == "raise":
            assert entry == {"recordId": entry["recordId"], "result": "ProcessingFailed", "data": ""}
        elif entry["result"] == "ProcessingFailed":  # only when its answer did not fit the budget
            assert entry["data"] == ""
        else:
            assert entry["result"] == "Ok"
            expected = {
                "ok": payload,
                "text": payload.hex().encode(),
                "json": (json.dumps({"hex": payload.hex()}, separators=(",", ":")) + "\n").encode(),
                "keys": payload,
                "grow": payload * 50,
            }[kind]
            assert decoded(entry) == expected
            assert entry.get("metadata") == ({"partitionKeys": {"len": str(len(payload))}} if kind == "keys" else None)
    if budget_slack >= sum(len(p) * 50 * 2 + 200 for p in payloads):  # room for everything: nothing failed
        assert all(e["result"] != "ProcessingFailed" for e, i in zip(out, ids, strict=True) if plan[i] != "raise")


# --- the docs' sample handler (examples/firehose_transform_handler.py) --------------------------------------------


def test_the_sample_handler_transforms_drops_and_fails(powertools: str) -> None:
    from tests.runtime.examples import load_example

    example = load_example("firehose_transform_handler")
    clicks = [
        {"page": "home", "user": "u1"},
        {"page": "cart", "bot": True},
        "not a click",
        {"user": "u2"},
        {"page": 7, "user": "u3"},
    ]
    payloads = [json.dumps(c).encode() for c in clicks] + [b"{not json"]
    event = kinesis_source_event(payloads)
    out = example.handler(event, None)["records"]
    assert [e["recordId"] for e in out] == [r["recordId"] for r in event["records"]]
    assert [e["result"] for e in out] == [
        "Ok",
        "Dropped",
        "ProcessingFailed",
        "ProcessingFailed",
        "Ok",
        "ProcessingFailed",
    ]
    assert json.loads(decoded(out[0])) == {
        "page": "home",
        "user": "u1",
        "arrived_ms": 1495072949453,
        "shard": "shardId-000000000000",
    }
    assert decoded(out[0]).endswith(b"}\n")  # one JSON line per record in the delivered objects
    assert out[0]["metadata"] == {"partitionKeys": {"page": "home"}}
    assert out[4]["metadata"] == {"partitionKeys": {"page": "7"}}
    # Direct PUT: no Kinesis metadata, shard is null.
    direct = example.handler(direct_put_event([payloads[0]]), None)["records"]
    assert json.loads(decoded(direct[0]))["shard"] is None


def test_the_firehose_module_imports_neither_aws_cdk_nor_boto3() -> None:
    """It runs in a transform Lambda or a WSGI app: only the standard library (and Powertools, lazily)."""
    import ast
    from pathlib import Path

    source = Path(firehose_module.__file__).read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= set(sys.stdlib_module_names) | {"aws_lambda_powertools"}, imported
