"""FirehoseHttpReceiver against requests built from AWS's published format (Firehose developer guide, "Understand
HTTP endpoint delivery request and response specifications"): its headers, its example body, gzip when the stream
compresses, and the response the spec requires (application/json {requestId, timestamp in ms}, errorMessage on
failure, 200 / 413 / retriable codes).

No emulator POSTs to an HTTP endpoint per this spec (MiniStack sends nothing, moto omits every X-Amz-Firehose-*
header and sends the timestamp in seconds: shared/STREAMING_NOTES.md §2.5), so the requests here are what stands in
for the service.
"""

from __future__ import annotations

import base64
import gzip
import json
import time
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decoupling_constructs import limits
from decoupling_constructs.runtime import FirehoseDelivery, FirehoseHttpReceiver, LruRequestIds

KEY = "my-endpoint-access-key"
REQUEST_ID = "ed4acda5-034f-9f42-bba1-f29aea6d7d8f"  # the spec's example request
SOURCE_ARN = "arn:aws:firehose:us-east-1:123456789:deliverystream/testStream"
NOW = 1578090903.599
# The spec's example body, verbatim.
SPEC_BODY = (
    b'{\n  "requestId": "ed4acda5-034f-9f42-bba1-f29aea6d7d8f",\n  "timestamp": 1578090901599,\n  "records": [\n'
    b'    {\n      "data": "aGVsbG8="\n    },\n    {\n      "data": "aGVsbG8gd29ybGQ="\n    }\n  ]\n}'
)


def spec_headers(request_id: str = REQUEST_ID, key: str | None = KEY, gzipped: bool = False) -> dict[str, str]:
    headers = {
        "X-Amz-Firehose-Protocol-Version": "1.0",
        "X-Amz-Firehose-Request-Id": request_id,
        "Content-Type": "application/json",
        "X-Amz-Firehose-Source-Arn": SOURCE_ARN,
        "X-Amz-Firehose-Common-Attributes": json.dumps(
            {"commonAttributes": {"deployment -context": "pre-prod-gamma", "device-types": ""}}
        ),
    }
    if key is not None:
        headers["X-Amz-Firehose-Access-Key"] = key
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    return headers


def spec_body(records: Sequence[bytes], request_id: str = REQUEST_ID) -> bytes:
    return json.dumps(
        {
            "requestId": request_id,
            "timestamp": 1578090901599,
            "records": [{"data": base64.b64encode(r).decode()} for r in records],
        }
    ).encode()


class Sink:
    def __init__(self, fail: int = 0) -> None:
        self.deliveries: list[FirehoseDelivery] = []
        self.fail = fail

    def __call__(self, delivery: FirehoseDelivery) -> None:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("warehouse unavailable")
        self.deliveries.append(delivery)


def receiver(sink: Sink, **kwargs: Any) -> FirehoseHttpReceiver:
    return FirehoseHttpReceiver(kwargs.pop("access_key", KEY), deliver=sink, clock=lambda: NOW, **kwargs)


def answer(result: tuple[int, dict[str, str], bytes]) -> tuple[int, dict[str, Any]]:
    """The status and JSON body, after checking what the spec requires of every response."""
    status, headers, body = result
    assert status in (200, 400, 401, 403, 413, 500)
    assert headers["Content-Type"] == "application/json"
    assert headers["Content-Length"] == str(len(body))
    assert "Content-Encoding" not in headers
    assert len(body) <= 1024 * 1024  # "The response body must be 1 MiB or less in size"
    document = json.loads(body)
    assert isinstance(document["requestId"], str) and isinstance(document["timestamp"], int)
    if status == 200:
        assert set(document) == {"requestId", "timestamp"}
    else:
        assert set(document) == {"requestId", "timestamp", "errorMessage"}
        assert len(document["errorMessage"]) <= limits.FIREHOSE_HTTP_MAX_ERROR_MESSAGE_CHARS
    return status, document


def test_the_spec_example_request_is_delivered_and_acknowledged() -> None:
    sink = Sink()
    status, document = answer(receiver(sink).handle(spec_headers(), SPEC_BODY))
    assert status == 200
    assert document == {"requestId": REQUEST_ID, "timestamp": 1578090903599}  # milliseconds
    assert sink.deliveries == [
        FirehoseDelivery(
            request_id=REQUEST_ID,
            timestamp=1578090901599,
            records=(b"hello", b"hello world"),
            source_arn=SOURCE_ARN,
            common_attributes={"deployment -context": "pre-prod-gamma", "device-types": ""},
        )
    ]


def test_the_default_clock_answers_in_milliseconds() -> None:
    before = int(time.time() * 1000)
    _, document = answer(FirehoseHttpReceiver(KEY, deliver=Sink()).handle(spec_headers(), SPEC_BODY))
    assert before <= document["timestamp"] <= int(time.time() * 1000)


def test_a_gzip_body_is_decompressed() -> None:
    sink = Sink()
    status, _ = answer(receiver(sink).handle(spec_headers(gzipped=True), gzip.compress(SPEC_BODY)))
    assert status == 200
    assert sink.deliveries[0].records == (b"hello", b"hello world")


def test_a_retried_request_id_is_acknowledged_without_delivering_twice() -> None:
    sink = Sink()
    endpoint = receiver(sink)
    assert answer(endpoint.handle(spec_headers(), SPEC_BODY))[0] == 200
    assert answer(endpoint.handle(spec_headers(), SPEC_BODY))[0] == 200
    assert len(sink.deliveries) == 1
    other = "00000000-0000-0000-0000-000000000001"
    assert answer(endpoint.handle(spec_headers(other), spec_body([b"x"], other)))[0] == 200
    assert [d.request_id for d in sink.deliveries] == [REQUEST_ID, other]


def test_a_failed_delivery_answers_500_and_the_retry_delivers() -> None:
    sink = Sink(fail=1)
    endpoint = receiver(sink)
    status, document = answer(endpoint.handle(spec_headers(), SPEC_BODY))
    assert status == 500
    assert document["requestId"] == REQUEST_ID
    assert "ConnectionError" in document["errorMessage"] and "warehouse unavailable" in document["errorMessage"]
    assert REQUEST_ID not in endpoint.seen  # not remembered: Firehose's retry must be delivered
    assert answer(endpoint.handle(spec_headers(), SPEC_BODY))[0] == 200
    assert len(sink.deliveries) == 1


def test_a_long_error_message_is_cut_to_the_specs_8192_characters() -> None:
    def deliver(delivery: FirehoseDelivery) -> None:
        raise RuntimeError("x" * 100_000)

    status, document = answer(FirehoseHttpReceiver(KEY, deliver=deliver).handle(spec_headers(), SPEC_BODY))
    assert status == 500 and len(document["errorMessage"]) == 8192


@pytest.mark.parametrize(("key", "status"), [(None, 401), ("wrong", 403), ("", 403), (KEY + "x", 403)])
def test_a_missing_or_wrong_access_key_is_refused(key: str | None, status: int) -> None:
    sink = Sink()
    got, document = answer(receiver(sink).handle(spec_headers(key=key), SPEC_BODY))
    assert got == status and document["requestId"] == REQUEST_ID
    assert KEY not in document["errorMessage"]
    assert sink.deliveries == []


def test_every_key_of_a_rotation_is_accepted() -> None:
    sink = Sink()
    endpoint = receiver(sink, access_key=["old-key", "new-key"])
    other = "00000000-0000-0000-0000-000000000002"
    assert answer(endpoint.handle(spec_headers(key="old-key"), SPEC_BODY))[0] == 200
    assert answer(endpoint.handle(spec_headers(other, key="new-key"), spec_body([b"y"], other)))[0] == 200
    assert answer(endpoint.handle(spec_headers(key="older-key"), SPEC_BODY))[0] == 403
    assert len(sink.deliveries) == 2


def test_header_names_are_case_insensitive() -> None:
    sink = Sink()
    headers = {name.lower(): value for name, value in spec_headers(gzipped=True).items()}
    assert answer(receiver(sink).handle(headers, gzip.compress(SPEC_BODY)))[0] == 200


def test_a_body_over_the_limit_is_refused_with_413() -> None:
    sink = Sink()
    body = spec_body([b"z" * 2000])
    status, document = answer(receiver(sink, max_body_bytes=len(body) - 1).handle(spec_headers(), body))
    assert status == 413 and "limit" in document["errorMessage"]
    assert answer(receiver(sink, max_body_bytes=len(body)).handle(spec_headers(), body))[0] == 200


def test_the_key_is_checked_before_the_size() -> None:
    # An unauthenticated caller learns nothing about the limit, and cannot make the endpoint inflate a body.
    status, _ = answer(receiver(Sink(), max_body_bytes=10).handle(spec_headers(key="nope"), SPEC_BODY))
    assert status == 403


def test_a_gzip_body_that_inflates_over_the_limit_is_refused_with_413() -> None:
    body = spec_body([b"\0" * 1_000_000])
    compressed = gzip.compress(body)
    assert len(compressed) < 10_000
    sink = Sink()
    status, _ = answer(receiver(sink, max_body_bytes=100_000).handle(spec_headers(gzipped=True), compressed))
    assert status == 413 and sink.deliveries == []


def test_the_default_limit_is_the_specs_64_mib() -> None:
    assert FirehoseHttpReceiver(KEY, deliver=Sink()).max_body_bytes == 64 * 1024 * 1024


MALFORMED = {
    "not JSON": (b'{"requestId": "ed4acda5', {}),
    "not an object": (b"[]", {}),
    "no requestId": (b'{"records": [{"data": "aGVsbG8="}]}', {}),
    "no records": (json.dumps({"requestId": REQUEST_ID}).encode(), {}),
    "zero records": (json.dumps({"requestId": REQUEST_ID, "records": []}).encode(), {}),
    "10,001 records": (json.dumps({"requestId": REQUEST_ID, "records": [{"data": ""}] * 10_001}).encode(), {}),
    "record without data": (json.dumps({"requestId": REQUEST_ID, "records": [{}]}).encode(), {}),
    "data not base64": (json.dumps({"requestId": REQUEST_ID, "records": [{"data": "!!"}]}).encode(), {}),
    "timestamp not ms": (
        json.dumps({"requestId": REQUEST_ID, "timestamp": "1", "records": [{"data": "aGVsbG8="}]}).encode(),
        {},
    ),
    "ids differ": (spec_body([b"a"], "another-id"), {}),
    "not gzip": (SPEC_BODY, {"Content-Encoding": "gzip"}),
    "truncated gzip": (gzip.compress(SPEC_BODY)[:-12], {"Content-Encoding": "gzip"}),
    "unknown encoding": (SPEC_BODY, {"Content-Encoding": "br"}),
    "bad common attributes": (SPEC_BODY, {"X-Amz-Firehose-Common-Attributes": "{not json"}),
    "common attribute not a string": (
        SPEC_BODY,
        {"X-Amz-Firehose-Common-Attributes": '{"commonAttributes": {"a": 1}}'},
    ),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_request_is_refused_with_400(case: str) -> None:
    body, extra = MALFORMED[case]
    sink = Sink()
    status, document = answer(receiver(sink).handle({**spec_headers(), **extra}, body))
    assert status == 400, document
    assert document["requestId"] == REQUEST_ID  # the header's id, when the body has none
    assert sink.deliveries == []


def test_an_empty_record_is_allowed() -> None:
    sink = Sink()
    assert answer(receiver(sink).handle(spec_headers(), spec_body([b""])))[0] == 200
    assert sink.deliveries[0].records == (b"",)


@settings(max_examples=100, deadline=None)
@given(records=st.lists(st.binary(max_size=200), min_size=1, max_size=30), gzipped=st.booleans())
def test_any_records_are_delivered_exactly(records: list[bytes], gzipped: bool) -> None:
    sink = Sink()
    body = spec_body(records)
    body = gzip.compress(body) if gzipped else body
    assert answer(receiver(sink).handle(spec_headers(gzipped=gzipped), body))[0] == 200
    assert [d.records for d in sink.deliveries] == [tuple(records)]


# --- the Lambda adapter: Function URL / API Gateway events -------------------------------------------------------


def function_url_event(headers: dict[str, str], body: bytes, binary: bool) -> dict[str, Any]:
    """A Lambda Function URL request (payload format 2.0, Lambda developer guide, "Invoking Lambda function URLs"):
    lower-case header names; a binary body arrives base64-encoded."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": {name.lower(): value for name, value in headers.items()},
        "requestContext": {"http": {"method": "POST", "path": "/", "protocol": "HTTP/1.1"}},
        "body": base64.b64encode(body).decode() if binary else body.decode(),
        "isBase64Encoded": binary,
    }


def test_the_lambda_adapter_takes_a_function_url_gzip_request() -> None:
    sink = Sink()
    event = function_url_event(spec_headers(gzipped=True), gzip.compress(SPEC_BODY), binary=True)
    response = receiver(sink).lambda_handler(event, None)
    assert response["statusCode"] == 200 and response["isBase64Encoded"] is False
    assert response["headers"]["Content-Type"] == "application/json"
    assert json.loads(response["body"]) == {"requestId": REQUEST_ID, "timestamp": 1578090903599}
    assert sink.deliveries[0].records == (b"hello", b"hello world")


def test_the_lambda_adapter_takes_a_plain_text_body_and_refuses_a_wrong_key() -> None:
    sink = Sink()
    endpoint = receiver(sink)
    ok = endpoint.lambda_handler(function_url_event(spec_headers(), SPEC_BODY, binary=False), None)
    assert ok["statusCode"] == 200
    refused = endpoint.lambda_handler(function_url_event(spec_headers(key="nope"), SPEC_BODY, binary=False), None)
    assert refused["statusCode"] == 403 and len(sink.deliveries) == 1


def test_the_lambda_adapter_refuses_a_body_flagged_base64_that_is_not() -> None:
    event = function_url_event(spec_headers(), SPEC_BODY, binary=False)
    event["isBase64Encoded"] = True
    response = receiver(Sink()).lambda_handler(event, None)
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["requestId"] == REQUEST_ID


# --- the request id store ----------------------------------------------------------------------------------------


def test_the_lru_store_forgets_the_least_recently_used() -> None:
    ids = LruRequestIds(maxsize=2)
    ids.add("a")
    ids.add("b")
    assert "a" in ids  # a is now the most recent
    ids.add("c")
    assert "a" in ids and "c" in ids and "b" not in ids
    assert len(ids) == 2


def test_a_custom_store_is_used() -> None:
    class Shared:
        def __init__(self) -> None:
            self.ids: set[str] = {REQUEST_ID}

        def __contains__(self, request_id: object) -> bool:
            return request_id in self.ids

        def add(self, request_id: str) -> None:
            self.ids.add(request_id)

    sink = Sink()
    store = Shared()
    endpoint = receiver(sink, seen=store)
    assert answer(endpoint.handle(spec_headers(), SPEC_BODY))[0] == 200  # delivered by another instance
    assert sink.deliveries == []
    other = "00000000-0000-0000-0000-000000000003"
    assert answer(endpoint.handle(spec_headers(other), spec_body([b"q"], other)))[0] == 200
    assert other in store.ids and len(sink.deliveries) == 1


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"access_key": ""}, ValueError),
        ({"access_key": []}, ValueError),
        ({"access_key": "k" * 4097}, ValueError),
        ({"max_body_bytes": 0}, ValueError),
        ({"max_body_bytes": True}, ValueError),
        ({"deliver": "not callable"}, TypeError),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, Any], error: type[Exception]) -> None:
    arguments: dict[str, Any] = {"access_key": KEY, "deliver": Sink(), **kwargs}
    with pytest.raises(error, match="FirehoseHttpReceiver"):
        FirehoseHttpReceiver(arguments.pop("access_key"), **arguments)
    with pytest.raises(ValueError, match="maxsize"):
        LruRequestIds(0)


# --- the docs' sample (examples/firehose_receiver.py): over real HTTP through its WSGI app, and as a Lambda -------


@pytest.fixture
def sample(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from tests.runtime.examples import load_example

    monkeypatch.setenv("FIREHOSE_ACCESS_KEY", KEY)
    monkeypatch.setenv("FIREHOSE_OUTPUT", str(tmp_path / "records.jsonl"))
    return load_example("firehose_receiver")


def post(url: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.headers["Content-Type"] == "application/json"
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_sample_wsgi_app_answers_firehose_over_http(sample: Any, tmp_path: Any) -> None:
    import threading
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = make_server("127.0.0.1", 0, sample.wsgi_app, handler_class=Quiet)  # loopback only, any free port
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/"
    try:
        records = [b'{"page": "home"}', b'{"page": "cart"}\n']
        status, document = post(url, spec_headers(gzipped=True), gzip.compress(spec_body(records)))
        assert status == 200 and set(document) == {"requestId", "timestamp"}
        assert post(url, spec_headers(gzipped=True), gzip.compress(spec_body(records)))[0] == 200  # a retry
        status, document = post(url, spec_headers(key="wrong"), spec_body([b"x"]))
        assert status == 403 and "errorMessage" in document
        status, _ = post(url, spec_headers(), b"{malformed")
        assert status == 400
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    # Delivered once, one line per record, despite the retry.
    assert (tmp_path / "records.jsonl").read_bytes() == b'{"page": "home"}\n{"page": "cart"}\n'


def test_the_sample_wsgi_app_reads_no_more_than_the_limit(sample: Any) -> None:
    import io

    class Unbounded(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            assert size is not None and 0 <= size <= sample.receiver.max_body_bytes + 1
            return b"x" * size

    sample.receiver.max_body_bytes = 1000
    started: list[str] = []
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_LENGTH": str(10**12),
        "wsgi.input": Unbounded(),
        **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in spec_headers().items()},
    }
    body = b"".join(sample.wsgi_app(environ, lambda status, headers: started.append(status)))
    assert len(started) == 1 and started[0].startswith("413 ")  # the phrase differs between Python versions
    assert json.loads(body)["requestId"] == REQUEST_ID


def test_the_sample_lambda_handler_takes_a_function_url_request(sample: Any, tmp_path: Any) -> None:
    event = function_url_event(spec_headers(gzipped=True), gzip.compress(SPEC_BODY), binary=True)
    response = sample.handler(event, None)
    assert response["statusCode"] == 200
    assert (tmp_path / "records.jsonl").read_bytes() == b"hello\nhello world\n"
