"""QueueConsumer against moto's in-process SQS (see /work/shared/MOTO_NOTES.md for what moto does and does not do).

Each test says where its queues come from: the ``DecouplingReliableQueue`` reference stack deployed with
``deploy_to_moto`` (``jobs``: standard, maxReceiveCount 5, visibility 30 s; ``orders``: FIFO, maxReceiveCount 3,
visibility 120 s), or queues created with boto3 when a test needs a short visibility timeout.
"""

from __future__ import annotations

import collections
import itertools
import os
import signal
import threading
import time
import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

from decoupling_constructs.runtime.consumer import ConsumerStats, QueueConsumer
from decoupling_constructs.testing import deploy_to_moto
from tests.sqs_helpers import depth as total

REGION = "us-east-1"


def sqs_client() -> Any:
    return boto3.client("sqs", region_name=REGION)


def make_queues(sqs: Any, *, visibility: int = 30, max_receive: int = 3, fifo: bool = False) -> tuple[str, str]:
    """A queue and its DLQ, created with boto3 (unique names). Returns (queue url, dlq url)."""
    suffix = ".fifo" if fifo else ""
    name = f"q-{uuid.uuid4().hex[:10]}"
    fifo_attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {}
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq{suffix}", Attributes=fifo_attributes)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName=f"{name}{suffix}",
        Attributes={
            **fifo_attributes,
            "VisibilityTimeout": str(visibility),
            "RedrivePolicy": f'{{"deadLetterTargetArn": "{dlq_arn}", "maxReceiveCount": {max_receive}}}',
        },
    )["QueueUrl"]
    return url, dlq_url


def send(sqs: Any, url: str, bodies: list[str], groups: list[str] | None = None) -> dict[str, str]:
    """Send in batches of 10; returns body -> MessageId."""
    ids: dict[str, str] = {}
    for start in range(0, len(bodies), 10):
        entries: list[dict[str, Any]] = []
        for i, body in enumerate(bodies[start : start + 10], start):
            entry: dict[str, Any] = {"Id": str(i), "MessageBody": body}
            if groups is not None:
                entry["MessageGroupId"] = groups[i]
            entries.append(entry)
        response = sqs.send_message_batch(QueueUrl=url, Entries=entries)
        assert not response.get("Failed")
        for ok in response["Successful"]:
            ids[bodies[int(ok["Id"])]] = ok["MessageId"]
    return ids


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every message of a queue (received, not deleted)."""
    found: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageSystemAttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return found
        found.extend(messages)


class Recorder:
    """A thread-safe handler recording calls per MessageId; fails while ``fail(message, attempt)`` says so."""

    def __init__(self, fail: Any = None, delay: float = 0.0) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        self.succeeded: list[str] = []
        self.bodies: dict[str, str] = {}
        self._fail = fail
        self._delay = delay
        self._lock = threading.Lock()

    def __call__(self, message: dict[str, Any]) -> None:
        with self._lock:
            self.calls[message["MessageId"]] += 1
            attempt = self.calls[message["MessageId"]]
            self.bodies[message["MessageId"]] = message["Body"]
        if self._delay:
            time.sleep(self._delay)
        if self._fail is not None and self._fail(message, attempt):
            raise RuntimeError(f"failing {message['Body']} (attempt {attempt})")
        with self._lock:
            self.succeeded.append(message["MessageId"])


@pytest.fixture
def reference(aws: None, reference_stacks: dict[str, Any]) -> tuple[Any, Any]:
    stack = reference_stacks["DecouplingReliableQueue"]
    return stack, deploy_to_moto(stack)


# -- failures, dead-letter queue, deletes ------------------------------------------------------------------------


def test_a_message_failing_every_time_ends_in_the_dlq_after_max_receive_count_others_deleted_once(reference) -> None:
    """Reference stack ``jobs`` queue (maxReceiveCount 5, visibility 30 s): failures are retried at once
    (retry_failed_immediately) so the test does not wait for the 30 s timeout."""
    stack, deployment = reference
    sqs = deployment.client("sqs")
    url, dlq_url = deployment.queue_url(stack.jobs.queue), deployment.queue_url(stack.jobs.dead_letter_queue)
    ids = send(sqs, url, [f"job-{i}" for i in range(12)])
    poison = ids["job-7"]
    handler = Recorder(fail=lambda message, attempt: message["Body"] == "job-7")

    consumer = QueueConsumer(url, handler, wait_time_seconds=1, retry_failed_immediately=True, client=sqs)
    stats = consumer.run(idle_timeout=1)

    assert handler.calls[poison] == 5  # maxReceiveCount receives, then SQS moved it
    assert {mid: n for mid, n in handler.calls.items() if mid != poison} == {
        mid: 1 for mid in ids.values() if mid != poison
    }
    assert sorted(handler.succeeded) == sorted(mid for mid in ids.values() if mid != poison)
    assert [m["MessageId"] for m in drain(sqs, dlq_url)] == [poison]
    assert total(sqs, url) == 0
    assert (stats.received, stats.succeeded, stats.failed, stats.deleted, stats.delete_failures) == (16, 11, 5, 11, 0)
    assert stats.api_calls["DeleteMessageBatch"] >= 2  # 11 successes: at least two batches
    assert stats.api_calls["ChangeMessageVisibilityBatch"] == 5  # each failure released at once
    assert stats.api_calls["GetQueueAttributes"] == 1  # the queue's visibility timeout, read once for the heartbeat
    assert stats.api_calls["ReceiveMessage"] >= 6


def test_without_retry_failed_immediately_a_failure_waits_for_its_visibility_timeout() -> None:
    """boto3 queue, visibility 1 s."""
    with mock_aws():
        sqs = sqs_client()
        url, _ = make_queues(sqs, visibility=1, max_receive=5)
        (poison,) = send(sqs, url, ["poison"]).values()
        handler = Recorder(fail=lambda message, attempt: True)
        started = time.monotonic()
        stats = QueueConsumer(url, handler, wait_time_seconds=2, heartbeat=False, client=sqs).run(max_messages=2)
        assert handler.calls == {poison: 2}
        assert stats.failed == 2 and stats.deleted == 0
        assert "ChangeMessageVisibilityBatch" not in stats.api_calls  # left alone, not released
        assert time.monotonic() - started >= 0.9  # the second receive had to wait for the timeout


def test_delete_failures_are_retried_once_then_reported() -> None:
    """Stubbed client (botocore Stubber): the exact calls and the partial-failure handling of DeleteMessageBatch."""
    client = boto3.client("sqs", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/work"
    messages = [
        {"MessageId": f"m{i}", "ReceiptHandle": f"r{i}", "Body": f"b{i}", "MD5OfBody": "x", "Attributes": {}}
        for i in range(3)
    ]
    stubber = Stubber(client)
    stubber.add_response("receive_message", {"Messages": messages})
    stubber.add_response(
        "delete_message_batch",
        {
            "Successful": [{"Id": "0"}],
            "Failed": [
                {"Id": "1", "SenderFault": False, "Code": "InternalError"},
                {"Id": "2", "SenderFault": False, "Code": "InternalError"},
            ],
        },
        {"QueueUrl": url, "Entries": [{"Id": str(i), "ReceiptHandle": f"r{i}"} for i in range(3)]},
    )
    stubber.add_response(  # the retry: only the two failed entries; one fails again
        "delete_message_batch",
        {"Successful": [{"Id": "0"}], "Failed": [{"Id": "1", "SenderFault": False, "Code": "InternalError"}]},
        {"QueueUrl": url, "Entries": [{"Id": "0", "ReceiptHandle": "r1"}, {"Id": "1", "ReceiptHandle": "r2"}]},
    )
    handler = Recorder()
    with stubber:
        stats = QueueConsumer(url, handler, wait_time_seconds=1, heartbeat=False, client=client).run(max_messages=3)
        stubber.assert_no_pending_responses()
    assert (stats.succeeded, stats.deleted, stats.delete_failures) == (3, 2, 1)
    assert stats.api_calls == {"ReceiveMessage": 1, "DeleteMessageBatch": 2}


def test_transient_receive_errors_are_retried_and_others_propagate() -> None:
    """Stubbed client: a throttled receive and a 503 (as botocore raises them after its own retries) are logged
    and the receive is made again; an access-denied error ends run()."""
    client = boto3.client("sqs", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/work"
    message = {"MessageId": "m0", "ReceiptHandle": "r0", "Body": "b0", "MD5OfBody": "x", "Attributes": {}}
    stubber = Stubber(client)
    stubber.add_client_error("receive_message", "RequestThrottled", http_status_code=403)
    stubber.add_client_error("receive_message", "ServiceUnavailable", http_status_code=503)
    stubber.add_response("receive_message", {"Messages": [message]})
    stubber.add_response("delete_message_batch", {"Successful": [{"Id": "0"}], "Failed": []})
    stubber.add_client_error("receive_message", "AccessDenied", http_status_code=403)
    handler = Recorder()
    consumer = QueueConsumer(  # one message in flight: the delete comes before the next receive
        url, handler, batch_size=1, max_in_flight=1, wait_time_seconds=1, heartbeat=False, client=client
    )
    with stubber, pytest.raises(ClientError, match="AccessDenied"):
        consumer.run()
    stubber.assert_no_pending_responses()
    assert handler.calls == {"m0": 1}


# -- heartbeat ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("heartbeat", [True, False], ids=["heartbeat", "no-heartbeat"])
def test_a_handler_slower_than_the_visibility_timeout(heartbeat: bool) -> None:
    """boto3 queue with a 2 s visibility timeout; the handler takes 2.3 s; two consumers poll it. With the
    heartbeat the message stays invisible until deleted: handled once. Without, the other consumer receives it
    when the timeout expires: handled twice."""
    with mock_aws():
        sqs = sqs_client()
        url, _ = make_queues(sqs, visibility=2, max_receive=5)
        (message_id,) = send(sqs, url, ["slow"]).values()
        handler = Recorder(delay=2.3)
        consumers = [
            QueueConsumer(url, handler, wait_time_seconds=1, heartbeat=heartbeat, client=sqs_client()) for _ in range(2)
        ]
        results: list[ConsumerStats] = []
        threads = [
            # idle_timeout well past the 2 s visibility timeout: without the heartbeat the idle consumer must be
            # polling when the message reappears; with it, the message is deleted (at ~2.3 s) before that.
            threading.Thread(target=lambda c=c: results.append(c.run(max_messages=1, idle_timeout=4)))
            for c in consumers
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        assert len(results) == 2
        heartbeats = sum(s.heartbeats for s in results)
        if heartbeat:
            assert handler.calls == {message_id: 1}
            assert heartbeats >= 2  # extended at about 1 s and 2 s
            assert sum(s.deleted for s in results) == 1
        else:
            assert handler.calls == {message_id: 2}
            assert heartbeats == 0
        assert total(sqs, url) == 0


def test_heartbeat_uses_the_given_visibility_timeout_without_reading_the_queue() -> None:
    """boto3 queue with a 30 s timeout, consumer visibility_timeout=1: received for 1 s, extended by 1 s."""
    with mock_aws():
        sqs = sqs_client()
        url, _ = make_queues(sqs, visibility=30)
        send(sqs, url, ["a", "b"])
        handler = Recorder(delay=1.3)
        stats = QueueConsumer(url, handler, wait_time_seconds=1, visibility_timeout=1, max_workers=2, client=sqs).run(
            max_messages=2
        )
        assert stats.succeeded == 2 and stats.deleted == 2
        assert stats.heartbeats >= 2
        assert "GetQueueAttributes" not in stats.api_calls


# -- stopping and crashing ---------------------------------------------------------------------------------------


class Crash(BaseException):
    """Stands for the process dying in the middle of a batch."""


def test_a_crash_mid_batch_deletes_nothing_and_every_message_is_processed_after_redelivery() -> None:
    """boto3 queue, visibility 1 s: the third message "kills" the consumer; a new consumer gets the whole batch
    again after the timeout."""
    with mock_aws():
        sqs = sqs_client()
        url, _ = make_queues(sqs, visibility=1, max_receive=5)
        ids = set(send(sqs, url, [f"m{i}" for i in range(6)]).values())
        calls = 0

        def crashing(message: dict[str, Any]) -> None:
            nonlocal calls
            calls += 1
            if calls == 3:
                raise Crash()

        first = QueueConsumer(url, crashing, wait_time_seconds=1, max_workers=1, heartbeat=False, client=sqs)
        with pytest.raises(Crash):
            first.run()
        assert calls == 3
        assert total(sqs, url) == 6  # nothing deleted, not even the two handled before the crash

        handler = Recorder()
        stats = QueueConsumer(url, handler, wait_time_seconds=2, client=sqs).run(max_messages=6)
        assert set(handler.calls) == ids and set(handler.calls.values()) == {1}
        assert stats.deleted == 6
        assert total(sqs, url) == 0


def test_stop_finishes_and_deletes_the_batch_in_flight_then_stops_polling() -> None:
    """boto3 queue: the handler calls stop() on the first message; the rest of its batch is still handled."""
    with mock_aws():
        sqs = sqs_client()
        url, _ = make_queues(sqs, visibility=30)
        send(sqs, url, [f"m{i}" for i in range(15)])
        consumer: QueueConsumer

        def handler(message: dict[str, Any]) -> None:
            consumer.stop()
            time.sleep(0.05)

        consumer = QueueConsumer(
            url, handler, batch_size=5, max_in_flight=5, wait_time_seconds=1, max_workers=2, client=sqs
        )  # one batch at a time: no receive overlaps the batch that calls stop()
        stats = consumer.run()
        assert (stats.received, stats.succeeded, stats.deleted) == (5, 5, 5)
        assert stats.api_calls["ReceiveMessage"] == 1
        assert total(sqs, url) == 10
        # stop() only ended that run: the consumer can run again
        assert consumer.run(max_messages=5).succeeded == 5


def test_messages_received_after_stop_are_released_unhandled() -> None:
    """boto3 queue: stop() comes while a long poll waits; the message that poll returns is made visible again."""
    with mock_aws():
        sqs = sqs_client()
        url, _ = make_queues(sqs, visibility=30)
        handler = Recorder()
        consumer = QueueConsumer(url, handler, wait_time_seconds=3, client=sqs)
        timers = [
            threading.Timer(0.3, consumer.stop),
            threading.Timer(0.6, lambda: sqs_client().send_message(QueueUrl=url, MessageBody="late")),
        ]
        for timer in timers:
            timer.start()
        stats = consumer.run()
        for timer in timers:
            timer.join()
        assert (stats.received, stats.skipped, stats.succeeded) == (1, 1, 0)
        assert handler.calls == {}
        assert stats.elapsed < 2.5  # the poll ended with the message, not after 3 s
        assert [m["Body"] for m in drain(sqs, url)] == ["late"]  # visible at once, not in 30 s


def test_sigterm_stops_gracefully_when_run_in_the_main_thread() -> None:
    """boto3 queue: SIGTERM arrives while a batch is being handled; the batch is finished and deleted, the
    previous SIGTERM handler is restored."""
    assert threading.current_thread() is threading.main_thread(), "signals need the main thread"
    before = signal.getsignal(signal.SIGTERM)
    with mock_aws():
        sqs = sqs_client()
        url, _ = make_queues(sqs, visibility=30)
        send(sqs, url, [f"m{i}" for i in range(8)])

        def handler(message: dict[str, Any]) -> None:
            if message["Body"] == "m0":
                os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)

        stats = QueueConsumer(
            url, handler, batch_size=4, max_in_flight=4, wait_time_seconds=1, max_workers=1, client=sqs
        ).run()
        assert (stats.succeeded, stats.deleted) == (4, 4)
        assert total(sqs, url) == 4
    assert signal.getsignal(signal.SIGTERM) == before


def test_max_messages_and_idle_timeout_end_the_run() -> None:
    with mock_aws():
        sqs = sqs_client()
        url, _ = make_queues(sqs)
        send(sqs, url, [f"m{i}" for i in range(7)])
        consumer = QueueConsumer(url, Recorder(), batch_size=3, wait_time_seconds=1, client=sqs)
        assert consumer.run(max_messages=4).succeeded == 4  # receives of 3, then 1
        started = time.monotonic()
        stats = consumer.run(idle_timeout=1)
        assert stats.succeeded == 3
        assert 0.9 <= time.monotonic() - started < 5
        started = time.monotonic()
        assert consumer.run(idle_timeout=0).received == 0  # one short receive, then stop
        assert time.monotonic() - started < 0.5


# -- property: no message lost ----------------------------------------------------------------------------------

MAX_RECEIVE = 3


@settings(max_examples=15, deadline=None)
@given(
    failures=st.lists(st.integers(min_value=0, max_value=MAX_RECEIVE + 1), min_size=1, max_size=12),
    batch_size=st.integers(min_value=1, max_value=10),
    max_workers=st.integers(min_value=1, max_value=4),
)
def test_property_every_message_is_processed_or_dead_lettered(
    failures: list[int], batch_size: int, max_workers: int
) -> None:
    """boto3 queues (maxReceiveCount 3), failures released at once (retry_failed_immediately): message i fails its
    first failures[i] attempts. Conservation: succeeded + dead-lettered == sent, nothing lost or duplicated."""
    with mock_aws():
        sqs = sqs_client()
        url, dlq_url = make_queues(sqs, max_receive=MAX_RECEIVE)
        ids = send(sqs, url, [str(i) for i in range(len(failures))])
        handler = Recorder(fail=lambda message, attempt: attempt <= failures[int(message["Body"])])
        stats = QueueConsumer(
            url,
            handler,
            batch_size=batch_size,
            wait_time_seconds=0,
            max_workers=max_workers,
            heartbeat=False,
            retry_failed_immediately=True,
            client=sqs,
        ).run(idle_timeout=0.2)

        dead = [m["MessageId"] for m in drain(sqs, dlq_url)]
        assert total(sqs, url) == 0
        assert len(handler.succeeded) + len(dead) == len(ids)
        assert set(handler.succeeded) | set(dead) == set(ids.values())
        assert len(set(handler.succeeded)) == len(handler.succeeded)  # each success handled once
        for i, fails in enumerate(failures):
            message_id = ids[str(i)]
            if fails >= MAX_RECEIVE:
                assert message_id in dead and handler.calls[message_id] == MAX_RECEIVE
            else:
                assert message_id in handler.succeeded and handler.calls[message_id] == fails + 1
        assert stats.deleted == len(handler.succeeded)
        assert stats.failed == sum(min(f, MAX_RECEIVE) for f in failures)


# -- FIFO ------------------------------------------------------------------------------------------------------


def test_fifo_keeps_the_order_of_each_group_and_handles_groups_in_parallel(reference) -> None:
    """Reference stack ``orders`` FIFO queue (content-based dedup, visibility 120 s). More workers than groups:
    a consumer ignoring groups would start a group's next message while its previous one still runs."""
    stack, deployment = reference
    sqs = deployment.client("sqs")
    url = deployment.queue_url(stack.orders.queue)
    groups = ["a", "b", "c"]
    bodies, body_groups = [], []
    for seq in range(4):
        for group in groups:
            bodies.append(f"{group}:{seq}")
            body_groups.append(group)
    send(sqs, url, bodies, body_groups)
    spans: list[tuple[str, int, float, float]] = []
    lock = threading.Lock()

    def handler(message: dict[str, Any]) -> None:
        group, seq = message["Body"].split(":")
        assert message["Attributes"]["MessageGroupId"] == group
        start = time.monotonic()
        time.sleep(0.2 if int(seq) % 2 == 0 else 0.05)  # a later message would overtake an earlier one
        with lock:
            spans.append((group, int(seq), start, time.monotonic()))

    stats = QueueConsumer(url, handler, wait_time_seconds=1, max_workers=4, client=sqs).run(max_messages=12)
    assert stats.succeeded == stats.deleted == 12
    for group in groups:
        mine = sorted((s for s in spans if s[0] == group), key=lambda s: s[2])
        assert [s[1] for s in mine] == [0, 1, 2, 3]  # in order
        assert all(a[3] <= b[2] for a, b in itertools.pairwise(mine))  # one at a time
    overlaps = [
        (a, b) for a in spans for b in spans if a[0] < b[0] and a[2] < b[3] and b[2] < a[3]
    ]  # two groups handled at the same time
    assert overlaps


def test_fifo_failure_holds_back_the_rest_of_its_group() -> None:
    """boto3 FIFO queue: "a:1" fails once (released at once); "a:2" and "a:3" must not be handled before "a:1"
    succeeds, while group b goes on."""
    with mock_aws():
        sqs = sqs_client()
        url, _ = make_queues(sqs, fifo=True, max_receive=3)
        bodies = ["a:0", "b:0", "a:1", "b:1", "a:2", "b:2", "a:3"]
        send(sqs, url, bodies, [b[0] for b in bodies])
        attempts: list[str] = []
        lock = threading.Lock()

        def handler(message: dict[str, Any]) -> None:
            with lock:
                attempts.append(message["Body"])
                first_try = attempts.count(message["Body"]) == 1
            if message["Body"] == "a:1" and first_try:
                raise RuntimeError("transient")

        stats = QueueConsumer(
            url, handler, wait_time_seconds=1, max_workers=2, retry_failed_immediately=True, client=sqs
        ).run(max_messages=8)
        group_a = [b for b in attempts if b.startswith("a")]
        assert group_a == ["a:0", "a:1", "a:1", "a:2", "a:3"]
        assert [b for b in attempts if b.startswith("b")] == ["b:0", "b:1", "b:2"]
        assert stats.failed == 1 and stats.skipped == 2 and stats.deleted == 7
        assert total(sqs, url) == 0


# -- overlapping ------------------------------------------------------------------------------------------------


def test_receives_overlap_the_batches_being_handled_up_to_max_in_flight() -> None:
    """boto3 queue, 40 messages, batches of 10, max_in_flight 20, 20 workers. Each handler waits (at most 10 s)
    until more than one batch is being handled, which only an overlapping receive makes possible; the number of
    handlers running at once never passes max_in_flight."""
    with mock_aws():
        sqs = sqs_client()
        url, _ = make_queues(sqs, visibility=60)
        send(sqs, url, [f"m{i}" for i in range(40)])
        running = 0
        most = 0
        lock = threading.Lock()
        overlapped = threading.Event()

        def handler(message: dict[str, Any]) -> None:
            nonlocal running, most
            with lock:
                running += 1
                most = max(most, running)
                if running > 10:
                    overlapped.set()
            overlapped.wait(10)
            with lock:
                running -= 1

        stats = QueueConsumer(url, handler, wait_time_seconds=1, max_in_flight=20, max_workers=20, client=sqs).run(
            max_messages=40
        )
        assert overlapped.is_set()
        assert 10 < most <= 20
        assert stats.succeeded == stats.deleted == 40
        assert total(sqs, url) == 0


@pytest.mark.parametrize("dead_letter_after", [None, 2])
def test_fifo_poison_message_and_its_group_mates(dead_letter_after: int | None) -> None:
    """boto3 FIFO queue, maxReceiveCount 3; group g holds a poison message then two good ones, group h one good one;
    failures are released at once.

    * Without dead_letter_after (SQS's redrive alone): each receive returns the poison message with its group-mates
      behind it, which are skipped, so their receive counts rise with the poison's; the 4th receive moves all three
      to the DLQ. The good messages g:1 and g:2 are never handled (the README's warning).
    * dead_letter_after=2: the poison fails on its 2nd receive, the consumer moves it to the DLQ and handles g:1 and
      g:2 in the same batch: only the poison is dead-lettered."""
    with mock_aws():
        sqs = sqs_client()
        url, dlq_url = make_queues(sqs, fifo=True, max_receive=3)
        ids = send(sqs, url, ["g:poison", "g:1", "g:2", "h:1"], ["g", "g", "g", "h"])
        handler = Recorder(fail=lambda message, attempt: message["Body"] == "g:poison")
        consumer = QueueConsumer(
            url,
            handler,
            wait_time_seconds=1,
            retry_failed_immediately=True,
            dead_letter_after=dead_letter_after,
            max_in_flight=10,  # one batch at a time: no receive races the release of the group's messages
            client=sqs,
        )
        stats = consumer.run(idle_timeout=1)
        dead = sorted(m["Body"] for m in drain(sqs, dlq_url))
        assert total(sqs, url) == 0
        assert handler.calls[ids["h:1"]] == 1
        if dead_letter_after is None:
            assert dead == ["g:1", "g:2", "g:poison"]
            assert handler.calls[ids["g:poison"]] == 3 and ids["g:1"] not in handler.calls
            assert stats.dead_lettered == 0
        else:
            assert dead == ["g:poison"]
            assert handler.calls[ids["g:poison"]] == 2
            assert sorted(handler.succeeded) == sorted([ids["g:1"], ids["g:2"], ids["h:1"]])
            assert (stats.dead_lettered, stats.failed, stats.deleted) == (1, 2, 3)


def test_dead_letter_after_is_checked_against_the_queue() -> None:
    with mock_aws():
        sqs = sqs_client()
        url, _ = make_queues(sqs, fifo=True, max_receive=3)
        with pytest.raises(
            ValueError, match=r"dead_letter_after must be at most the queue's maxReceiveCount \(3\), got 4"
        ):
            QueueConsumer(url, Recorder(), dead_letter_after=4, client=sqs).run(max_messages=1)
        plain = sqs.create_queue(QueueName="plain.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        with pytest.raises(ValueError, match="needs a queue with a redrive policy"):
            QueueConsumer(plain, Recorder(), dead_letter_after=1, client=sqs).run(max_messages=1)
        with pytest.raises(ValueError, match="needs handler, not batch_handler"):
            QueueConsumer(url, batch_handler=lambda messages: None, dead_letter_after=1, client=sqs)


# -- batch handler -----------------------------------------------------------------------------------------------


def test_batch_handler_partial_failures() -> None:
    """boto3 queue (maxReceiveCount 2): the batch handler reports "bad" failed every time; the others are deleted
    once, "bad" ends in the DLQ."""
    with mock_aws():
        sqs = sqs_client()
        url, dlq_url = make_queues(sqs, max_receive=2)
        ids = send(sqs, url, ["ok-1", "bad", "ok-2", "ok-3"])
        seen: collections.Counter[str] = collections.Counter()

        def batch_handler(messages: list[dict[str, Any]]) -> set[str]:
            seen.update(m["MessageId"] for m in messages)
            return {m["MessageId"] for m in messages if m["Body"] == "bad"}

        stats = QueueConsumer(
            url,
            batch_handler=batch_handler,
            wait_time_seconds=1,
            heartbeat=False,
            retry_failed_immediately=True,
            client=sqs,
        ).run(idle_timeout=1)
        assert seen[ids["bad"]] == 2
        assert all(seen[ids[b]] == 1 for b in ("ok-1", "ok-2", "ok-3"))
        assert [m["MessageId"] for m in drain(sqs, dlq_url)] == [ids["bad"]]
        assert (stats.succeeded, stats.failed, stats.deleted) == (3, 2, 3)


def test_batch_handler_raising_fails_the_whole_batch() -> None:
    with mock_aws():
        sqs = sqs_client()
        url, _ = make_queues(sqs, max_receive=5)
        send(sqs, url, ["a", "b", "c"])

        def batch_handler(messages: list[dict[str, Any]]) -> set[str]:
            raise RuntimeError("down")

        stats = QueueConsumer(url, batch_handler=batch_handler, wait_time_seconds=1, client=sqs).run(max_messages=3)
        assert (stats.failed, stats.deleted) == (3, 0)
        assert total(sqs, url) == 3


# -- validation --------------------------------------------------------------------------------------------------

URL = "https://sqs.us-east-1.amazonaws.com/123456789012/q"


def handler_stub(message: dict[str, Any]) -> None:
    pass


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "batch_size must be an integer between 1 and 10, got 0"),
        ({"batch_size": 11}, "batch_size must be an integer between 1 and 10, got 11"),
        ({"batch_size": "5"}, "batch_size must be an integer between 1 and 10, got '5'"),
        ({"wait_time_seconds": 21}, "wait_time_seconds must be an integer between 0 and 20, got 21"),
        ({"visibility_timeout": -1}, "visibility_timeout must be an integer between 0 and 43200, got -1"),
        ({"max_workers": 0}, "max_workers must be an integer >= 1, got 0"),
        ({"batch_size": 10, "max_in_flight": 5}, "max_in_flight must be an integer >= 10, got 5"),
        ({"dead_letter_after": 0}, "dead_letter_after must be an integer >= 1, got 0"),
        ({"dead_letter_after": 2}, "dead_letter_after is for FIFO queues"),
        ({"batch_handler": lambda messages: set()}, "exactly one of handler and batch_handler"),
        ({"handler": None}, "exactly one of handler and batch_handler"),
    ],
)
def test_arguments_are_validated(kwargs: dict[str, Any], message: str) -> None:
    kwargs = {"handler": handler_stub, **kwargs}
    client = boto3.client("sqs", region_name=REGION)
    with pytest.raises(ValueError) as raised:
        QueueConsumer(URL, client=client, **kwargs)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_messages": 0}, "max_messages must be an integer >= 1, got 0"),
        ({"idle_timeout": -1}, "idle_timeout must be a number of seconds >= 0, got -1"),
    ],
)
def test_run_arguments_are_validated(kwargs: dict[str, Any], message: str) -> None:
    consumer = QueueConsumer(URL, handler_stub, client=boto3.client("sqs", region_name=REGION))
    with pytest.raises(ValueError, match=message):
        consumer.run(**kwargs)


def test_fifo_is_detected_from_the_url() -> None:
    client = boto3.client("sqs", region_name=REGION)
    assert QueueConsumer(URL + ".fifo", handler_stub, client=client).fifo
    assert not QueueConsumer(URL, handler_stub, client=client).fifo


# -- pipelining options ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"receive_concurrency": 0}, ValueError, "receive_concurrency must be 1-16, got 0"),
        ({"receive_concurrency": 17}, ValueError, "receive_concurrency must be 1-16, got 17"),
        ({"receive_concurrency": 2.0}, TypeError, "receive_concurrency must be a whole number from 1 to 16, got 2.0"),
        ({"receive_concurrency": True}, TypeError, "receive_concurrency must be a whole number from 1 to 16, got True"),
        ({"delete_delay": -0.1}, ValueError, "delete_delay must be a number from 0 to 5, got -0.1"),
        ({"delete_delay": 5.5}, ValueError, "delete_delay must be a number from 0 to 5, got 5.5"),
        ({"delete_delay": float("inf")}, ValueError, "delete_delay must be a number from 0 to 5, got inf"),
        ({"delete_delay": "0.1"}, TypeError, "delete_delay must be a number (a number from 0 to 5), got '0.1'"),
    ],
)
def test_pipelining_options_are_validated_at_construction(kwargs: dict[str, Any], error: type, message: str) -> None:
    with pytest.raises(error) as raised:
        QueueConsumer(URL, handler_stub, client=boto3.client("sqs", region_name=REGION), **kwargs)
    assert str(raised.value) == f"QueueConsumer: {message}"
    assert isinstance(raised.value, ValueError)  # every bad input of the library is a ValueError


@settings(max_examples=80, deadline=None)
@given(
    receive_concurrency=st.one_of(st.integers(min_value=-3, max_value=30), st.floats(allow_nan=True), st.none()),
    delete_delay=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-2, 8), st.text(max_size=2)),
    batch_size=st.integers(min_value=1, max_value=10),
)
def test_property_pipelining_options_accepted_exactly_in_range(
    receive_concurrency: object, delete_delay: object, batch_size: int
) -> None:
    """Accepted iff receive_concurrency is an int 1-16 and delete_delay a finite number 0-5 (bools refused); then
    max_in_flight defaults to 2 x receive_concurrency x batch_size. Otherwise a ValueError naming the class."""
    client = boto3.client("sqs", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    concurrency_ok = type(receive_concurrency) is int and 1 <= receive_concurrency <= 16
    delay_ok = (
        type(delete_delay) in (int, float)
        and delete_delay == delete_delay  # not NaN
        and 0 <= delete_delay <= 5  # type: ignore[operator]
    )
    kwargs = {"receive_concurrency": receive_concurrency, "delete_delay": delete_delay, "batch_size": batch_size}
    if concurrency_ok and delay_ok:
        consumer = QueueConsumer(URL, handler_stub, client=client, **kwargs)  # type: ignore[arg-type]
        assert consumer.max_in_flight == 2 * receive_concurrency * batch_size  # type: ignore[operator]
        assert consumer.delete_delay == float(delete_delay)  # type: ignore[arg-type]
    else:
        with pytest.raises(ValueError, match=r"^QueueConsumer: (receive_concurrency|delete_delay) must be"):
            QueueConsumer(URL, handler_stub, client=client, **kwargs)  # type: ignore[arg-type]


def test_a_failed_message_logs_one_line_and_its_traceback_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    """Issue 20 §5: one WARNING line per failed message (id, receive count, exception type and first line, no
    traceback); the traceback is logged at DEBUG."""
    with mock_aws():
        sqs = sqs_client()
        url, _ = make_queues(sqs, visibility=30)
        ids = send(sqs, url, ["poison"])

        def handler(message: dict[str, Any]) -> None:
            raise ValueError("bad input\nsecond line")

        with caplog.at_level("DEBUG", logger="decoupling_constructs.runtime.consumer"):
            QueueConsumer(url, handler, wait_time_seconds=0, client=sqs).run(max_messages=1)
    failures = [r for r in caplog.records if "failed" in r.getMessage() and r.levelname == "WARNING"]
    assert [r.getMessage() for r in failures] == [f"message {ids['poison']} failed on receive 1: ValueError: bad input"]
    assert failures[0].exc_info is None
    tracebacks = [r for r in caplog.records if r.levelname == "DEBUG" and r.exc_info]
    assert len(tracebacks) == 1 and isinstance(tracebacks[0].exc_info[1], ValueError)  # type: ignore[index]


def test_without_logging_configured_a_failure_prints_no_traceback() -> None:
    """Python's last-resort handler prints WARNING and above when logging is not configured: three failing
    messages print three lines, and no traceback."""
    script = """
import boto3
from moto import mock_aws
from decoupling_constructs.runtime import QueueConsumer
with mock_aws():
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
    def handler(message):
        raise RuntimeError("poison " + message["Body"])
    QueueConsumer(url, handler, wait_time_seconds=0, heartbeat=False, client=sqs).run(max_messages=3)
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=REGION)
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**env, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "failed" in line]
    assert len(lines) == 3 and all("RuntimeError: poison m" in line for line in lines), done.stderr
    assert "Traceback" not in done.stderr


def test_idle_timeout_ends_a_run_with_several_receivers() -> None:
    """Three receivers on an emptied queue: idle_timeout still ends the run (each receiver's empty poll counts, the
    others' polls do not keep it busy); every message handled once."""
    with mock_aws():
        sqs = sqs_client()
        url, _ = make_queues(sqs)
        send(sqs, url, [f"m{i}" for i in range(25)])
        handler = Recorder()
        stats = QueueConsumer(url, handler, wait_time_seconds=1, receive_concurrency=3, client=sqs).run(idle_timeout=1)
        assert stats.succeeded == stats.deleted == 25
        assert sorted(handler.calls.values()) == [1] * 25
