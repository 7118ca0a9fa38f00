"""QueueProducer and TopicPublisher against moto: batching, size limits, partial-failure retries, FIFO.

Failures are injected the way AWS reports them: an ``EntryFaults`` hook takes the chosen entries out of
the request before it reaches moto (so they are *not* stored) and adds them to the response's
``Failed`` list, so "resent only the failed entries" and "each message exactly once" are checked
against what the queue really holds.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import types
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, EndpointConnectionError
from hypothesis import given, settings
from hypothesis import strategies as st

import decoupling_constructs.runtime.producer as producer_module
from decoupling_constructs.runtime._calls import ApiCallCounter
from decoupling_constructs.runtime.producer import (
    PartialBatchError,
    QueueProducer,
    RetryPolicy,
    TopicPublisher,
)
from tests.runtime.rejections import reject_calls_holding

ROOT = Path(__file__).resolve().parents[2]
MIB = 1_048_576
KIB_256 = 262_144

# plan(call number from 1, entries of the call) -> {index in the call: (error code, sender fault)}
Plan = Callable[[int, list[dict[str, Any]]], Mapping[int, tuple[str, bool]]]


def no_faults(call: int, entries: list[dict[str, Any]]) -> Mapping[int, tuple[str, bool]]:
    return {}


class EntryFaults:
    """Records every SendMessageBatch/PublishBatch call and fails the entries ``plan`` picks."""

    def __init__(self, client: Any, operation: str, entries_param: str, plan: Plan = no_faults) -> None:
        self.operation = operation
        self.entries_param = entries_param
        self.plan = plan
        self.calls: list[list[dict[str, Any]]] = []  # entries as the producer sent them, per call
        service = client.meta.service_model.service_id.hyphenize()
        events = client.meta.events
        events.register(f"provide-client-params.{service}.{operation}", self._params)
        # On the same node as ApiCallCounter's hook and after it, so short-circuited calls are counted too.
        events.register_last("before-call.*.*", self._short_circuit)
        events.register(f"after-call.{service}.{operation}", self._add_failures)

    def bodies(self, call: int, key: str) -> list[str]:
        return [entry[key] for entry in self.calls[call]]

    def _params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> dict[str, Any] | None:
        entries = [dict(entry) for entry in params[self.entries_param]]
        self.calls.append(entries)
        failing = self.plan(len(self.calls), entries)
        context["injected"] = [
            {"Id": entries[index]["Id"], "Code": code, "Message": "injected", "SenderFault": sender_fault}
            for index, (code, sender_fault) in sorted(failing.items())
        ]
        if len(failing) == len(entries):  # nothing left to send: answer without calling moto
            context["injected_all"] = True
            return None
        return {**params, self.entries_param: [entry for i, entry in enumerate(entries) if i not in failing]}

    def _short_circuit(
        self, model: Any, context: dict[str, Any], **_: Any
    ) -> tuple[AWSResponse, dict[str, Any]] | None:
        if model.name == self.operation and context.get("injected_all"):
            response = AWSResponse("https://injected.invalid", 200, {}, None)
            return response, {"Successful": [], "Failed": list(context["injected"])}
        return None

    def _add_failures(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if not context.get("injected_all"):
            parsed.setdefault("Failed", []).extend(context.get("injected", []))


@pytest.fixture
def sqs(aws: None) -> Any:
    return boto3.client("sqs", region_name="us-east-1")


@pytest.fixture
def queue_url(sqs: Any) -> str:
    return str(sqs.create_queue(QueueName="work")["QueueUrl"])


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every message in the queue, received in order and deleted."""
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageAttributeNames=["All"]
    ).get("Messages", []):
        messages.extend(batch)
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
        )
    return messages


def bodies(sqs: Any, url: str) -> Counter[str]:
    return Counter(message["Body"] for message in drain(sqs, url))


# ------------------------------------------------------------------------------------------------
# QueueProducer: batching and sizes


def test_sends_one_batch_call_per_ten_messages(sqs: Any, queue_url: str) -> None:
    faults = EntryFaults(sqs, "SendMessageBatch", "Entries")
    producer = QueueProducer(queue_url, client=sqs)
    for i in range(10):
        producer.send(f"m{i}")
    # The 10th message completes a batch: it leaves at once.
    assert producer.stats.api_calls == {"SendMessageBatch": 1}
    assert producer.buffered == 0
    for i in range(10, 25):
        producer.send(f"m{i}")
    assert producer.buffered == 5
    producer.flush()

    assert [len(call) for call in faults.calls] == [10, 10, 5]
    stats = producer.stats
    assert stats.api_calls == {"SendMessageBatch": 3}
    assert (stats.sent, stats.retried, stats.failed) == (25, 0, 0)
    assert bodies(sqs, queue_url) == Counter(f"m{i}" for i in range(25))


def test_context_manager_flushes_on_exit_and_closes(sqs: Any, queue_url: str) -> None:
    with QueueProducer(queue_url, client=sqs) as producer:
        producer.send("only")
        assert producer.stats.api_calls == {}
    assert producer.stats.api_calls == {"SendMessageBatch": 1}
    assert bodies(sqs, queue_url) == Counter(["only"])
    with pytest.raises(RuntimeError, match="closed"):
        producer.send("late")


@pytest.mark.parametrize(("extra", "calls"), [(0, [4]), (1, [3, 1])])
def test_one_mib_counts_bodies_and_attributes(sqs: Any, queue_url: str, extra: int, calls: list[int]) -> None:
    """Four messages of exactly 256 KiB fill 1 MiB: one call. One byte more (an attribute's) splits it."""
    faults = EntryFaults(sqs, "SendMessageBatch", "Entries")
    producer = QueueProducer(queue_url, client=sqs)
    for i in range(3):
        producer.send(f"{i}" * KIB_256)
    # name "k" (1 byte) + type "String" (6) + value: the attribute counts 7 + len(value) bytes.
    value = "v" * (10 + extra)
    producer.send("3" * (KIB_256 - 17), attributes={"k": value})
    producer.flush()
    assert [len(call) for call in faults.calls] == calls
    assert producer.stats.api_calls == {"SendMessageBatch": len(calls)}
    assert sorted(len(body) for body in bodies(sqs, queue_url)) == [KIB_256 - 17] + [KIB_256] * 3


def test_message_that_would_pass_one_mib_starts_the_next_batch(sqs: Any, queue_url: str) -> None:
    faults = EntryFaults(sqs, "SendMessageBatch", "Entries")
    producer = QueueProducer(queue_url, client=sqs)
    producer.send("a" * (MIB // 2))
    producer.send("b" * (MIB // 2))
    assert faults.calls == []  # exactly 1 MiB: not over, not full yet
    producer.send("c")  # would pass 1 MiB: the first two leave now
    assert [len(call) for call in faults.calls] == [2]
    assert producer.buffered == 1
    producer.flush()
    assert [len(call) for call in faults.calls] == [2, 1]


def test_utf8_bytes_not_characters_are_counted(sqs: Any, queue_url: str) -> None:
    faults = EntryFaults(sqs, "SendMessageBatch", "Entries")
    producer = QueueProducer(queue_url, client=sqs)
    for _ in range(5):
        producer.send("é" * (KIB_256 // 2))  # 131,072 characters, 262,144 bytes
    producer.flush()
    assert [len(call) for call in faults.calls] == [4, 1]


def test_single_message_over_one_mib_is_a_value_error(sqs: Any, queue_url: str) -> None:
    producer = QueueProducer(queue_url, client=sqs)
    with pytest.raises(ValueError, match=r"1,048,577 bytes.*at most 1,048,576"):
        producer.send("x" * (MIB + 1))
    with pytest.raises(ValueError, match=r"1,048,577 bytes"):
        producer.send("x" * (MIB - 7), attributes={"k": "v"})  # 1 + 6 + 1 bytes of attribute
    producer.send("x" * MIB)  # exactly 1 MiB is allowed
    producer.flush()
    assert [len(body) for body in bodies(sqs, queue_url)] == [MIB]
    assert producer.buffered == 0


# ------------------------------------------------------------------------------------------------
# QueueProducer: partial failures


def test_partial_failure_resends_only_the_failed_entries(sqs: Any, queue_url: str) -> None:
    failing = {2: ("InternalError", False), 5: ("InternalError", False), 7: ("ServiceUnavailable", False)}
    faults = EntryFaults(sqs, "SendMessageBatch", "Entries", lambda call, _: failing if call == 1 else {})
    producer = QueueProducer(queue_url, client=sqs, base_delay=0.001)
    for i in range(10):
        producer.send(f"m{i}")
    producer.flush()

    assert faults.bodies(0, "MessageBody") == [f"m{i}" for i in range(10)]
    assert faults.bodies(1, "MessageBody") == ["m2", "m5", "m7"]
    assert len(faults.calls) == 2
    stats = producer.stats
    assert (stats.sent, stats.retried, stats.failed) == (10, 3, 0)
    assert stats.api_calls == {"SendMessageBatch": 2}
    # Nothing lost, nothing duplicated.
    assert bodies(sqs, queue_url) == Counter(f"m{i}" for i in range(10))


def test_retries_wait_with_growing_full_jitter_backoff(
    sqs: Any, queue_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(producer_module, "time", types.SimpleNamespace(sleep=sleeps.append))
    EntryFaults(sqs, "SendMessageBatch", "Entries", lambda call, _: {0: ("InternalError", False)} if call <= 3 else {})
    producer = QueueProducer(queue_url, client=sqs, base_delay=1.0, max_delay=3.0)
    producer.send("slow")
    producer.flush()
    assert len(sleeps) == 3
    for retry, seconds in enumerate(sleeps, start=1):
        assert 0 <= seconds <= min(3.0, 2 ** (retry - 1))
    assert bodies(sqs, queue_url) == Counter(["slow"])


def test_full_jitter_spreads_over_the_whole_window() -> None:
    policy = RetryPolicy(max_retries=5, base_delay=0.1, max_delay=1.0)
    for retry, ceiling in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0), (9, 1.0)]:
        delays = [policy.delay(retry) for _ in range(400)]
        assert all(0 <= d <= ceiling for d in delays)
        assert min(delays) < ceiling * 0.1
        assert max(delays) > ceiling * 0.9


def test_entries_failing_every_retry_raise_partial_batch_error(sqs: Any, queue_url: str) -> None:
    faults = EntryFaults(sqs, "SendMessageBatch", "Entries", lambda call, _: {0: ("InternalError", False)})
    producer = QueueProducer(queue_url, client=sqs, max_retries=2, base_delay=0.001)
    for i in range(4):
        producer.send(f"m{i}")
    with pytest.raises(PartialBatchError) as caught:
        producer.flush()

    assert [entry.entry["MessageBody"] for entry in caught.value.failed] == ["m0"]
    failure = caught.value.failed[0]
    assert (failure.code, failure.sender_fault, failure.attempts) == ("InternalError", False, 3)
    assert [faults.bodies(i, "MessageBody") for i in range(3)] == [["m0", "m1", "m2", "m3"], ["m0"], ["m0"]]
    stats = producer.stats
    assert (stats.sent, stats.retried, stats.failed) == (3, 2, 1)
    assert bodies(sqs, queue_url) == Counter(["m1", "m2", "m3"])


def test_sender_fault_is_not_retried(sqs: Any, queue_url: str) -> None:
    faults = EntryFaults(
        sqs, "SendMessageBatch", "Entries", lambda call, _: {4: ("InvalidParameterValue", True)} if call == 1 else {}
    )
    producer = QueueProducer(queue_url, client=sqs, base_delay=0.001)
    for i in range(9):
        producer.send(f"m{i}")
    with pytest.raises(PartialBatchError, match="InvalidParameterValue x1") as caught:
        producer.send("m9")  # completes the batch: this call sends it
    assert len(faults.calls) == 1
    assert [(f.entry["MessageBody"], f.sender_fault, f.attempts) for f in caught.value.failed] == [("m4", True, 1)]
    assert producer.stats.failed == 1
    assert bodies(sqs, queue_url) == Counter(f"m{i}" for i in range(10) if i != 4)


def test_auto_sent_batch_failure_is_raised_by_send(sqs: Any, queue_url: str) -> None:
    EntryFaults(sqs, "SendMessageBatch", "Entries", lambda call, _: {0: ("InvalidParameterValue", True)})
    producer = QueueProducer(queue_url, client=sqs)
    for i in range(9):
        producer.send(f"m{i}")
    with pytest.raises(PartialBatchError) as caught:
        producer.send("m9")  # completes the batch, which is sent by this call
    assert [f.entry["MessageBody"] for f in caught.value.failed] == ["m0"]
    assert bodies(sqs, queue_url) == Counter(f"m{i}" for i in range(1, 10))


def test_call_that_raises_keeps_its_entries_for_the_next_flush(sqs: Any, queue_url: str) -> None:
    outages = [1]

    def fail_once(model: Any, **_: Any) -> None:
        if model.name == "SendMessageBatch" and outages:
            outages.pop()
            raise EndpointConnectionError(endpoint_url="https://sqs.invalid")

    producer = QueueProducer(queue_url, client=sqs)
    sqs.meta.events.register_last("before-call.*.*", fail_once)
    for i in range(5):
        producer.send(f"m{i}")
    with pytest.raises(EndpointConnectionError):
        producer.flush()
    assert producer.buffered == 5
    producer.flush()
    assert producer.stats.api_calls == {"SendMessageBatch": 2}
    assert producer.stats.sent == 5
    assert bodies(sqs, queue_url) == Counter(f"m{i}" for i in range(5))


def test_a_call_rejected_for_one_entry_is_bisected_and_never_wedges_the_buffer(sqs: Any, queue_url: str) -> None:
    """Issue 12: a whole SendMessageBatch rejected for one entry used to put the entry back at the front of
    the buffer, so every later flush failed the same way. Now the call is split in halves down to the culprit:
    the 9 valid messages go out, the culprit is reported in PartialBatchError, the buffer is empty, and the next
    flush sends normally."""
    sizes = reject_calls_holding(sqs, "SendMessageBatch", "Entries", lambda e: e["MessageBody"].startswith("bad"))
    producer = QueueProducer(queue_url, client=sqs)
    for i in range(9):
        producer.send("bad-7" if i == 7 else f"m{i}")
    with pytest.raises(PartialBatchError) as caught:
        producer.send("m9")  # the tenth message fills the batch, which this call sends
    [failure] = caught.value.failed
    assert (failure.entry["MessageBody"], failure.code, failure.sender_fault) == (
        "bad-7",
        "InvalidMessageContents",
        True,
    )
    # m0-m9 rejected; m0-m4 sent; m5-m9 rejected; m5-m6 sent; m7-m9 rejected; m7 alone rejected; m8-m9 sent
    assert sizes == [10, 5, 5, 2, 3, 1, 2]
    assert producer.buffered == 0
    assert bodies(sqs, queue_url) == Counter(f"m{i}" for i in range(10) if i != 7)
    producer.send("after")
    producer.flush()
    assert bodies(sqs, queue_url) == Counter(["after"])
    assert producer.stats.sent == 10 and producer.stats.failed == 1


def test_fifo_without_deduplication_id_is_a_value_error_at_send_issue_12(sqs: Any, fifo_url: str) -> None:
    """The reported case: a FIFO queue without content-based deduplication, a group id, no deduplication_id.
    send() reads the queue's ContentBasedDeduplication once and refuses the message; nothing is buffered."""
    counter = ApiCallCounter(sqs)
    producer = QueueProducer(fifo_url, client=sqs)
    for _ in range(2):
        with pytest.raises(ValueError, match=r"deduplication_id is required: the queue .*orders\.fifo is FIFO without"):
            producer.send("x", message_group_id="g")
    assert counter.counts == {"GetQueueAttributes": 1}
    assert producer.buffered == 0
    producer.send("x", message_group_id="g", deduplication_id="d1")
    producer.flush()
    assert bodies(sqs, fifo_url) == Counter(["x"])


def test_fifo_queue_losing_content_based_deduplication_does_not_wedge(sqs: Any) -> None:
    """A live producer checked ContentBasedDeduplication (true), then the queue's attribute was turned off: moto
    rejects the whole SendMessageBatch (HTTP 400 InvalidParameterValue) for the entries without a deduplication id.
    The entries with one go out; the others are reported."""
    url = sqs.create_queue(QueueName="cbd.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})[
        "QueueUrl"
    ]
    producer = QueueProducer(url, client=sqs)
    producer.send("first", message_group_id="g")
    producer.flush()
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"ContentBasedDeduplication": "false"})
    for i in range(6):
        producer.send(f"m{i}", message_group_id="g", deduplication_id=f"d{i}" if i % 2 else None)
    with pytest.raises(PartialBatchError) as caught:
        producer.flush()
    assert sorted(f.entry["MessageBody"] for f in caught.value.failed) == ["m0", "m2", "m4"]
    assert {f.code for f in caught.value.failed} == {"InvalidParameterValue"}
    assert [m["Body"] for m in drain(sqs, url)] == ["first", "m1", "m3", "m5"]
    assert producer.buffered == 0


def test_failures_before_a_raising_call_are_reported_by_the_next_flush(sqs: Any, queue_url: str) -> None:
    """Call 1: m0 rejected (sender fault, final), m1 failed (retryable); call 2 (m1's retry) raises. The flush
    raises the network error with a note; m1 stays buffered; the next flush sends it and raises m0 in a
    PartialBatchError: nothing acknowledged is lost without a report."""
    EntryFaults(
        sqs,
        "SendMessageBatch",
        "Entries",
        lambda call, _: {0: ("InvalidParameterValue", True), 1: ("InternalError", False)} if call == 1 else {},
    )
    outages = [2]

    def fail_second(model: Any, **_: Any) -> None:
        if model.name == "SendMessageBatch":
            outages[0] -= 1
            if outages[0] == 0:
                raise EndpointConnectionError(endpoint_url="https://sqs.invalid")

    sqs.meta.events.register_last("before-call.*.*", fail_second)
    producer = QueueProducer(queue_url, client=sqs, base_delay=0)
    for i in range(3):
        producer.send(f"m{i}")
    with pytest.raises(EndpointConnectionError) as raised:
        producer.flush()
    assert "the next flush() raises them" in " ".join(raised.value.__notes__)
    assert producer.buffered == 1
    with pytest.raises(PartialBatchError) as caught:
        producer.flush()
    assert [f.entry["MessageBody"] for f in caught.value.failed] == ["m0"]
    assert bodies(sqs, queue_url) == Counter(["m1", "m2"])


@pytest.mark.parametrize(
    ("code", "status", "isolate"),
    [
        ("InvalidParameterValue", 400, True),
        ("InvalidMessageContents", 400, True),
        ("ValidationException", 400, True),
        ("AWS.SimpleQueueService.BatchRequestTooLong", 400, True),
        ("RequestThrottled", 403, False),
        ("ProvisionedThroughputExceededException", 400, False),
        ("Throttled", 429, False),
        ("AWS.SimpleQueueService.NonExistentQueue", 400, False),
        ("ResourceNotFoundException", 400, False),
        ("AccessDeniedException", 400, False),
        ("KmsAccessDenied", 400, False),
        ("InternalError", 500, False),
        ("ServiceUnavailable", 503, False),
    ],
)
def test_which_call_errors_are_bisected(code: str, status: int, isolate: bool) -> None:
    error = ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "SendMessageBatch")
    assert producer_module.rejects_entries(error) is isolate
    assert producer_module.rejects_entries(EndpointConnectionError(endpoint_url="https://x.invalid")) is False


def test_concurrent_senders_lose_and_duplicate_nothing(sqs: Any, queue_url: str) -> None:
    producer = QueueProducer(queue_url, client=sqs)
    counter = ApiCallCounter(sqs)

    def work(thread: int) -> None:
        for i in range(50):
            producer.send(f"t{thread}-{i}")

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    producer.flush()
    assert counter.counts == {"SendMessageBatch": 40}  # 400 messages, every batch full
    assert producer.stats.sent == 400
    assert bodies(sqs, queue_url) == Counter(f"t{t}-{i}" for t in range(8) for i in range(50))


def test_batches_leave_in_buffer_order_across_threads(sqs: Any, fifo_url: str) -> None:
    """While one thread's batch is in flight, a batch completed by another thread waits for it."""
    in_flight = threading.Event()

    def slow_first_call(model: Any, **_: Any) -> None:
        if model.name == "SendMessageBatch" and not in_flight.is_set():
            in_flight.set()
            time.sleep(0.5)

    producer = QueueProducer(fifo_url, client=sqs)
    sqs.meta.events.register_last("before-call.*.*", slow_first_call)
    for i in range(9):
        producer.send(f"m{i:02d}", message_group_id="g", deduplication_id=f"d{i}")
    first = threading.Thread(
        target=producer.send, args=("m09",), kwargs={"message_group_id": "g", "deduplication_id": "d9"}
    )
    first.start()  # completes batch 1 and sends it: that call takes 0.5 s
    assert in_flight.wait(5)
    for i in range(10, 20):  # completes batch 2 meanwhile
        producer.send(f"m{i:02d}", message_group_id="g", deduplication_id=f"d{i}")
    first.join()
    producer.flush()
    assert [message["Body"] for message in drain(sqs, fifo_url)] == [f"m{i:02d}" for i in range(20)]


def test_attributes_are_sent_with_their_types(sqs: Any, queue_url: str) -> None:
    with QueueProducer(queue_url, client=sqs) as producer:
        producer.send(
            "typed",
            attributes={
                "text": "hello",
                "count": 3,
                "ratio": 0.5,
                "blob": b"\x00\x01",
                "custom": {"DataType": "Number.int", "StringValue": "7"},
            },
            delay_seconds=0,
        )
    (message,) = drain(sqs, queue_url)
    attributes = message["MessageAttributes"]
    assert attributes["text"] == {"StringValue": "hello", "DataType": "String"}
    assert attributes["count"] == {"StringValue": "3", "DataType": "Number"}
    assert attributes["ratio"] == {"StringValue": "0.5", "DataType": "Number"}
    assert attributes["blob"] == {"BinaryValue": b"\x00\x01", "DataType": "Binary"}
    assert attributes["custom"] == {"StringValue": "7", "DataType": "Number.int"}


# ------------------------------------------------------------------------------------------------
# QueueProducer: FIFO and validation


@pytest.fixture
def fifo_url(sqs: Any) -> str:
    return str(sqs.create_queue(QueueName="orders.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"])


def test_fifo_requires_a_message_group_id(sqs: Any, fifo_url: str) -> None:
    producer = QueueProducer(fifo_url, client=sqs)
    with pytest.raises(ValueError, match=r"message_group_id is required for the FIFO queue .*orders\.fifo, got None"):
        producer.send("x", deduplication_id="d1")
    with pytest.raises(ValueError, match=r"delay_seconds must be None for the FIFO queue"):
        producer.send("x", message_group_id="g", deduplication_id="d1", delay_seconds=5)
    assert producer.buffered == 0


def test_body_with_characters_sqs_refuses_is_a_value_error(sqs: Any, queue_url: str) -> None:
    producer = QueueProducer(queue_url, client=sqs)
    with pytest.raises(ValueError, match=r"body holds '\\x00' at index 3, which SQS does not allow"):
        producer.send("abc\x00def")
    producer.send("tab\tnewline\nemoji \U0001f600")  # allowed
    producer.flush()
    assert producer.stats.sent == 1


def test_fifo_keeps_order_within_each_group(sqs: Any, fifo_url: str) -> None:
    faults = EntryFaults(sqs, "SendMessageBatch", "Entries")
    with QueueProducer(fifo_url, client=sqs) as producer:
        for i in range(30):
            group = "a" if i % 3 else "b"
            producer.send(f"{group}{i}", message_group_id=group, deduplication_id=f"d{i}")
    assert [len(call) for call in faults.calls] == [10, 10, 10]
    assert {entry["MessageDeduplicationId"] for call in faults.calls for entry in call} == {f"d{i}" for i in range(30)}
    received = [message["Body"] for message in drain(sqs, fifo_url)]
    for group in "ab":
        expected = [f"{group}{i}" for i in range(30) if (group == "a") == bool(i % 3)]
        assert [body for body in received if body[0] == group] == expected


def test_fifo_deduplication_id_makes_a_resend_harmless(sqs: Any, fifo_url: str) -> None:
    with QueueProducer(fifo_url, client=sqs) as producer:
        producer.send("once", message_group_id="g", deduplication_id="same")
        producer.send("once", message_group_id="g", deduplication_id="same")
    assert bodies(sqs, fifo_url) == Counter(["once"])


def test_fifo_resend_after_a_later_accepted_entry_is_logged(
    sqs: Any, fifo_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    EntryFaults(sqs, "SendMessageBatch", "Entries", lambda call, _: {0: ("InternalError", False)} if call == 1 else {})
    with QueueProducer(fifo_url, client=sqs, base_delay=0.001) as producer:
        producer.send("first", message_group_id="g", deduplication_id="1")
        producer.send("second", message_group_id="g", deduplication_id="2")
    assert "FIFO message group 'g'" in caplog.text
    assert [message["Body"] for message in drain(sqs, fifo_url)] == ["second", "first"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"body": ""}, r"body must be a non-empty str, got ''"),
        ({"body": "x", "deduplication_id": "d"}, r"deduplication_id is only for FIFO queues.*got 'd'"),
        ({"body": "x", "delay_seconds": 901}, r"delay_seconds must be an int from 0 to 900, got 901"),
        ({"body": "x", "delay_seconds": True}, r"delay_seconds must be an int from 0 to 900, got True"),
        ({"body": "x", "message_group_id": "a b"}, r"message_group_id must be 1 to 128 .*got 'a b'"),
        ({"body": "x", "attributes": {"k": True}}, r"attributes\['k'\] must be .* got a bool"),
        ({"body": "x", "attributes": {"k": None}}, r"attributes\['k'\] must be .* got NoneType"),
        ({"body": "x", "attributes": {"AWS.x": "v"}}, r"name 'AWS.x' is not allowed"),
        ({"body": "x", "attributes": {f"k{i}": "v" for i in range(11)}}, r"at most 10 attributes, got 11"),
    ],
)
def test_send_validation_names_the_argument(sqs: Any, queue_url: str, kwargs: dict[str, Any], message: str) -> None:
    producer = QueueProducer(queue_url, client=sqs)
    with pytest.raises(ValueError, match=message):
        producer.send(**kwargs)


URL = "https://sqs.us-east-1.amazonaws.com/123456789012/q"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"queue_url": ""}, r"^QueueProducer: queue_url must be the queue's URL .*got ''"),
        ({"queue_url": "jobs"}, r"^QueueProducer: queue_url must be the queue's URL .*a name is not\), got 'jobs'"),
        ({"queue_url": "arn:aws:sqs:us-east-1:1:q"}, r"queue_url must be the queue's URL .*an ARN is not"),
        ({"queue_url": URL, "max_retries": -1}, r"^QueueProducer: max_retries must be an int >= 0, got -1"),
        ({"queue_url": URL, "base_delay": float("nan")}, r"base_delay must be a finite number .* got nan"),
        ({"queue_url": URL, "base_delay": 50}, r"base_delay must be at most max_delay \(5.0 seconds; .* got 50"),
    ],
)
def test_constructor_validation(sqs: Any, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        QueueProducer(client=sqs, **kwargs)


# ------------------------------------------------------------------------------------------------
# QueueProducer(send_concurrency=N): calls in flight at once (their overlap is shown at a delaying proxy in
# tests/faults/test_runtime_latency.py)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"send_concurrency": 0},
            ValueError,
            "QueueProducer: send_concurrency must be 1-16, got 0",
        ),
        ({"send_concurrency": 17}, ValueError, "send_concurrency must be 1-16, got 17"),
        ({"send_concurrency": "4"}, TypeError, "send_concurrency must be a whole number from 1 to 16, got '4'"),
        ({"send_concurrency": True}, TypeError, "send_concurrency must be a whole number from 1 to 16, got True"),
    ],
)
def test_send_concurrency_is_validated(sqs: Any, kwargs: dict[str, Any], error: type, message: str) -> None:
    with pytest.raises(error) as raised:
        QueueProducer("https://sqs.us-east-1.amazonaws.com/123456789012/q", client=sqs, **kwargs)
    assert message in str(raised.value)
    assert isinstance(raised.value, ValueError)  # every bad input of the library is a ValueError


def test_send_concurrency_on_a_fifo_queue_is_refused(sqs: Any) -> None:
    with pytest.raises(ValueError, match=r"QueueProducer: send_concurrency must be 1 for the FIFO queue .*got 2"):
        QueueProducer("https://sqs.us-east-1.amazonaws.com/123456789012/q.fifo", client=sqs, send_concurrency=2)


@settings(max_examples=60, deadline=None)
@given(value=st.one_of(st.integers(min_value=-5, max_value=40), st.floats(allow_nan=True), st.text(max_size=3)))
def test_property_send_concurrency_accepted_exactly_from_1_to_16(value: object) -> None:
    client = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/q"
    valid = type(value) is int and 1 <= value <= 16
    if valid:
        producer = QueueProducer(url, client=client, send_concurrency=value)  # type: ignore[arg-type]
        assert producer._concurrency == value
    else:
        with pytest.raises(
            ValueError, match=r"^QueueProducer: send_concurrency must be (1-16|a whole number from 1 to 16), got "
        ):
            QueueProducer(url, client=client, send_concurrency=value)  # type: ignore[arg-type]


def test_concurrent_batches_fill_by_count_and_by_the_one_mib_limit(sqs: Any, queue_url: str) -> None:
    """send_concurrency=3: batches of 10, and a batch that would pass 1 MiB (SQS_MAX_MESSAGE_BYTES) is cut before;
    every message is delivered once."""
    faults = EntryFaults(sqs, "SendMessageBatch", "Entries")
    with QueueProducer(queue_url, client=sqs, send_concurrency=3) as producer:
        for i in range(25):
            producer.send(f"m{i}")
        for i in range(5):
            producer.send(f"{i}" * (KIB_256 + 1))  # 5 small and 3 of these fit in 1 MiB, a 4th would not
    assert sorted(len(call) for call in faults.calls) == [2, 8, 10, 10]
    assert producer.stats.sent == 30
    assert sum(bodies(sqs, queue_url).values()) == 30


def test_concurrent_call_that_raises_keeps_its_entries_for_the_next_flush(sqs: Any, queue_url: str) -> None:
    """A call raising on a pool thread: the other batches go, its entries stay buffered, flush() raises the error,
    and the next flush() sends them: nothing lost, nothing twice."""
    outages = [1]
    lock = threading.Lock()

    def fail_once(model: Any, **_: Any) -> None:
        with lock:
            if model.name == "SendMessageBatch" and outages:
                outages.pop()
                raise EndpointConnectionError(endpoint_url="https://sqs.invalid")

    producer = QueueProducer(queue_url, client=sqs, send_concurrency=4)
    sqs.meta.events.register_last("before-call.*.*", fail_once)
    for i in range(35):
        producer.send(f"m{i}")
    with pytest.raises(EndpointConnectionError):
        producer.flush()
    assert producer.buffered == 35 - producer.stats.sent
    producer.flush()
    assert producer.stats.sent == 35 and producer.buffered == 0
    assert bodies(sqs, queue_url) == Counter(f"m{i}" for i in range(35))


def test_concurrent_entries_failing_for_good_are_raised_by_flush(sqs: Any, queue_url: str) -> None:
    """An entry failing every retry in a batch sent in the background is raised by the next flush()."""

    def m3_fails(call: int, entries: list[dict[str, Any]]) -> Mapping[int, tuple[str, bool]]:
        return {i: ("InternalError", False) for i, entry in enumerate(entries) if entry["MessageBody"] == "m3"}

    faults = EntryFaults(sqs, "SendMessageBatch", "Entries", m3_fails)
    producer = QueueProducer(queue_url, client=sqs, send_concurrency=2, max_retries=1, base_delay=0)
    for i in range(20):
        producer.send(f"m{i}")  # two full batches leave in the background
    with pytest.raises(PartialBatchError) as caught:
        producer.flush()
    assert [f.entry["MessageBody"] for f in caught.value.failed] == ["m3"]
    assert producer.stats.failed == 1 and producer.stats.sent == 19
    assert bodies(sqs, queue_url) == Counter(f"m{i}" for i in range(20) if i != 3)
    assert faults.calls


def test_default_client_comes_from_boto3(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    url = boto3.client("sqs").create_queue(QueueName="plain")["QueueUrl"]
    with QueueProducer(url) as producer:
        producer.send("hi")
    assert producer.stats.sent == 1


# ------------------------------------------------------------------------------------------------
# TopicPublisher


@pytest.fixture
def sns(aws: None) -> Any:
    return boto3.client("sns", region_name="us-east-1")


def subscribed_queue(sqs: Any, sns: Any, topic_arn: str, name: str) -> str:
    url = sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true"} if name.endswith(".fifo") else {})[
        "QueueUrl"
    ]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    return str(url)


@pytest.fixture
def topic(sqs: Any, sns: Any) -> tuple[str, str]:
    arn = sns.create_topic(Name="events")["TopicArn"]
    return arn, subscribed_queue(sqs, sns, arn, "events-copy")


def test_publisher_sends_one_publish_batch_per_ten_messages(sqs: Any, sns: Any, topic: tuple[str, str]) -> None:
    arn, url = topic
    faults = EntryFaults(sns, "PublishBatch", "PublishBatchRequestEntries")
    with TopicPublisher(arn, client=sns) as publisher:
        for i in range(25):
            publisher.publish(f"e{i}", subject="Event", attributes={"kind": "test"})
    assert [len(call) for call in faults.calls] == [10, 10, 5]
    assert publisher.stats.api_calls == {"PublishBatch": 3}
    assert publisher.stats.sent == 25
    messages = drain(sqs, url)
    assert Counter(m["Body"] for m in messages) == Counter(f"e{i}" for i in range(25))
    assert all(m["MessageAttributes"]["kind"]["StringValue"] == "test" for m in messages)


def test_publisher_batch_limit_is_256_kib(sqs: Any, sns: Any, topic: tuple[str, str]) -> None:
    arn, url = topic
    faults = EntryFaults(sns, "PublishBatch", "PublishBatchRequestEntries")
    publisher = TopicPublisher(arn, client=sns)
    publisher.publish("a" * (KIB_256 // 2))
    publisher.publish("b" * (KIB_256 // 2))
    assert faults.calls == []  # exactly 256 KiB: one batch, not over
    publisher.publish("c")
    assert [len(call) for call in faults.calls] == [2]
    publisher.flush()
    assert [len(call) for call in faults.calls] == [2, 1]
    with pytest.raises(ValueError, match=r"262,145 bytes; this topic takes at most 262,144"):
        publisher.publish("x" * (KIB_256 + 1))
    assert sorted(len(m["Body"]) for m in drain(sqs, url)) == [1, KIB_256 // 2, KIB_256 // 2]


def test_publisher_max_message_bytes_follows_the_topic(sns: Any) -> None:
    arn = sns.create_topic(Name="big")["TopicArn"]
    publisher = TopicPublisher(arn, client=sns, max_message_bytes=MIB)
    publisher.publish("x" * (KIB_256 + 1))  # allowed by a topic with MaximumMessageSize 1 MiB
    assert publisher.buffered == 1
    with pytest.raises(ValueError, match=r"max_message_bytes must be .* from 1,024 to 1,048,576 .* got 2000000"):
        TopicPublisher(arn, client=sns, max_message_bytes=2_000_000)


def test_publisher_partial_failure_resends_only_failed(sqs: Any, sns: Any, topic: tuple[str, str]) -> None:
    arn, url = topic
    failing = {0: ("InternalError", False), 4: ("Throttled", False), 9: ("InternalError", False)}
    faults = EntryFaults(sns, "PublishBatch", "PublishBatchRequestEntries", lambda c, _: failing if c == 1 else {})
    with TopicPublisher(arn, client=sns, base_delay=0.001) as publisher:
        for i in range(10):
            publisher.publish(f"e{i}")
    assert faults.bodies(1, "Message") == ["e0", "e4", "e9"]
    assert (publisher.stats.sent, publisher.stats.retried, publisher.stats.failed) == (10, 3, 0)
    assert Counter(m["Body"] for m in drain(sqs, url)) == Counter(f"e{i}" for i in range(10))


def test_publisher_sender_fault_raises(sns: Any, topic: tuple[str, str]) -> None:
    arn, _ = topic
    faults = EntryFaults(
        sns, "PublishBatch", "PublishBatchRequestEntries", lambda c, _: {1: ("InvalidParameter", True)}
    )
    publisher = TopicPublisher(arn, client=sns)
    publisher.publish("ok")
    publisher.publish("bad")
    with pytest.raises(PartialBatchError) as caught:
        publisher.flush()
    assert len(faults.calls) == 1
    assert [f.entry["Message"] for f in caught.value.failed] == ["bad"]


def test_fifo_topic_requires_group_and_keeps_order(sqs: Any, sns: Any) -> None:
    arn = sns.create_topic(Name="orders.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    url = subscribed_queue(sqs, sns, arn, "orders-copy.fifo")
    publisher = TopicPublisher(arn, client=sns)
    with pytest.raises(ValueError, match=r"message_group_id is required for the FIFO topic"):
        publisher.publish("x", deduplication_id="d")
    with publisher:
        for i in range(15):
            publisher.publish(f"o{i}", message_group_id="g", deduplication_id=f"d{i}")
    assert [m["Body"] for m in drain(sqs, url)] == [f"o{i}" for i in range(15)]


def test_fifo_topic_without_content_based_deduplication_needs_a_deduplication_id(sns: Any) -> None:
    plain = sns.create_topic(Name="plain.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    by_content = sns.create_topic(
        Name="content.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"}
    )["TopicArn"]
    publisher = TopicPublisher(plain, client=sns)
    with pytest.raises(ValueError, match=r"deduplication_id is required: the topic .*plain\.fifo is FIFO without"):
        publisher.publish("x", message_group_id="g")
    assert publisher.buffered == 0
    with TopicPublisher(by_content, client=sns) as publisher:
        publisher.publish("x", message_group_id="g")
    assert publisher.stats.sent == 1
    assert publisher.stats.api_calls == {"GetTopicAttributes": 1, "PublishBatch": 1}


def test_fifo_topic_lookup_denied_falls_back_to_the_per_entry_report(sns: Any) -> None:
    """With a publish-only grant GetTopicAttributes is denied: publish() cannot check, and SNS's per-entry
    rejection (moto: InvalidParameter, sender fault) is raised in PartialBatchError instead."""
    arn = sns.create_topic(Name="denied.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]

    def deny(model: Any, **_: Any) -> None:
        if model.name == "GetTopicAttributes":
            raise ClientError(
                {"Error": {"Code": "AuthorizationError"}, "ResponseMetadata": {"HTTPStatusCode": 403}}, model.name
            )

    sns.meta.events.register_last("before-call.*.*", deny)
    publisher = TopicPublisher(arn, client=sns)
    publisher.publish("x", message_group_id="g")
    with pytest.raises(PartialBatchError) as caught:
        publisher.flush()
    assert [(f.entry["Message"], f.sender_fault) for f in caught.value.failed] == [("x", True)]


def test_publish_batch_rejected_for_one_entry_is_bisected(sns: Any, sqs: Any, topic: tuple[str, str]) -> None:
    arn, url = topic
    sizes = reject_calls_holding(sns, "PublishBatch", "PublishBatchRequestEntries", lambda e: e["Message"] == "bad")
    publisher = TopicPublisher(arn, client=sns)
    for i in range(4):
        publisher.publish("bad" if i == 0 else f"e{i}")
    with pytest.raises(PartialBatchError) as caught:
        publisher.flush()
    assert [f.entry["Message"] for f in caught.value.failed] == ["bad"]
    assert sizes == [4, 2, 1, 1, 2]
    assert bodies(sqs, url) == Counter(["e1", "e2", "e3"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"message": ""}, r"message must be a non-empty str, got ''"),
        ({"message": "m", "subject": "two\nlines"}, r"subject must be 1 to 100 printable ASCII .* got 'two\\nlines'"),
        ({"message": "m", "subject": "s" * 101}, r"subject must be 1 to 100"),
        ({"message": "m", "deduplication_id": "d"}, r"deduplication_id is only for FIFO topics"),
    ],
)
def test_publish_validation(sns: Any, topic: tuple[str, str], kwargs: dict[str, Any], message: str) -> None:
    publisher = TopicPublisher(topic[0], client=sns)
    with pytest.raises(ValueError, match=message):
        publisher.publish(**kwargs)


def test_runtime_helpers_do_not_import_aws_cdk() -> None:
    code = (
        "import sys, decoupling_constructs.runtime.producer, decoupling_constructs.runtime.stream; "
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('aws_cdk', 'constructs', 'jsii')); "
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
