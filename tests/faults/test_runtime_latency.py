"""The helpers' calls overlap: proved at a proxy that holds every request (``latency``) and counts the requests in
flight at once (``FaultProxy.peak``, ``FaultProxy.overlaps``), never by measuring time.

Each request spends at least ``LATENCY`` seconds at the proxy, so a call that starts while another is held is seen
in flight with it. A consumer that waits for each DeleteMessageBatch before its next ReceiveMessage (the accounting
bug of issue 24: a settling batch counted twice) never shows the pair (DeleteMessageBatch, ReceiveMessage).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from decoupling_constructs.runtime import QueueConsumer, QueueProducer
from tests.faults.conftest import _client
from tests.faults.proxy import FaultProxy
from tests.faults.test_runtime_faults import drain, unique
from tests.sqs_helpers import depth

LATENCY = 0.1  # seconds each request is held: long beside a no-op handler, short for the run
Clients = Callable[[str], Any]


@pytest.fixture(scope="module")
def slow_proxy(moto_endpoint: tuple[str, int]) -> Iterator[FaultProxy]:
    proxy = FaultProxy(moto_endpoint, delay=1.5, latency=LATENCY, one_at_a_time=frozenset({"ReceiveMessage"}))
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.fixture
def slow(slow_proxy: FaultProxy) -> Any:
    from botocore.config import Config

    slow_proxy.arm({})
    return _client("sqs", slow_proxy.endpoint, Config(max_pool_connections=30, retries={"mode": "standard"}))


def fill(sqs: Any, url: str, bodies: list[str], groups: list[str] | None = None) -> None:
    for start in range(0, len(bodies), 10):
        entries = [
            {"Id": str(i), "MessageBody": body, **({"MessageGroupId": groups[start + i]} if groups else {})}
            for i, body in enumerate(bodies[start : start + 10])
        ]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)


def test_the_next_receive_does_not_wait_for_the_previous_delete(
    slow_proxy: FaultProxy, slow: Any, direct: Clients
) -> None:
    """One receiver, max_messages: a ReceiveMessage is in flight while a DeleteMessageBatch is (issue 24's bug
    made them strictly sequential); each message is counted once: 60 handled, 60 deleted, none left."""
    sqs = direct("sqs")
    url = sqs.create_queue(QueueName=unique("overlap"), Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    bodies = [f"m{i}" for i in range(60)]
    fill(sqs, url, bodies)
    handled: Counter[str] = Counter()
    lock = threading.Lock()

    def handler(message: dict[str, Any]) -> None:
        with lock:
            handled[message["Body"]] += 1

    stats = QueueConsumer(url, handler, wait_time_seconds=1, delete_delay=0, client=slow).run(max_messages=60)
    assert ("DeleteMessageBatch", "ReceiveMessage") in slow_proxy.overlaps, slow_proxy.overlaps
    assert handled == Counter(bodies)
    assert (stats.received, stats.succeeded, stats.deleted) == (60, 60, 60)
    assert depth(sqs, url) == 0


def test_receives_in_flight_are_bounded_by_receive_concurrency(
    slow_proxy: FaultProxy, slow: Any, direct: Clients
) -> None:
    """Three receivers: several receives in flight at once, never more than three; max_messages is not passed
    (a receive asks only for the room left), and nothing is lost or handled twice."""
    sqs = direct("sqs")
    url = sqs.create_queue(QueueName=unique("receivers"), Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    bodies = [f"m{i}" for i in range(95)]
    fill(sqs, url, bodies)
    handled: Counter[str] = Counter()
    lock = threading.Lock()

    def handler(message: dict[str, Any]) -> None:
        with lock:
            handled[message["Body"]] += 1

    consumer = QueueConsumer(url, handler, wait_time_seconds=1, receive_concurrency=3, client=slow)
    stats = consumer.run(max_messages=90)
    assert 2 <= slow_proxy.peak["ReceiveMessage"] <= 3, slow_proxy.peak
    assert stats.processed == 90 and stats.deleted == 90
    assert sum(handled.values()) == 90 and max(handled.values()) == 1
    assert (stats.received - stats.processed) == stats.skipped  # received beyond max_messages: released
    assert Counter(drain(sqs, url)) + handled == Counter(bodies)


def test_deletes_of_several_receives_share_a_call(slow_proxy: FaultProxy, slow: Any, direct: Clients) -> None:
    """Receives of 2 messages; with a deadline far beyond the run, the deleter waits for 10 before each call:
    40 messages, 20 receives, 4 DeleteMessageBatch calls of 10."""
    sqs = direct("sqs")
    url = sqs.create_queue(QueueName=unique("combine"), Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    fill(sqs, url, [f"m{i}" for i in range(40)])
    consumer = QueueConsumer(
        url, lambda message: None, batch_size=2, receive_concurrency=4, delete_delay=5, wait_time_seconds=1, client=slow
    )
    stats = consumer.run(max_messages=40)
    assert stats.deleted == 40
    assert stats.api_calls["DeleteMessageBatch"] == 4, stats.api_calls
    assert stats.api_calls["ReceiveMessage"] >= 20
    assert depth(sqs, url) == 0


def test_stop_settles_or_releases_every_message_received(slow_proxy: FaultProxy, slow: Any, direct: Clients) -> None:
    """stop() from a handler while three receives are in flight: what was handled is deleted, what the receives
    return afterwards is released at once; nothing stays in flight (invisible) in the queue."""
    sqs = direct("sqs")
    url = sqs.create_queue(QueueName=unique("stop"), Attributes={"VisibilityTimeout": "300"})["QueueUrl"]
    bodies = [f"m{i}" for i in range(100)]
    fill(sqs, url, bodies)
    consumer: QueueConsumer

    def handler(message: dict[str, Any]) -> None:
        if message["Body"] == "m0" or consumer.stopping:
            consumer.stop()

    consumer = QueueConsumer(url, handler, wait_time_seconds=1, receive_concurrency=3, batch_size=5, client=slow)
    stats = consumer.run()
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert stats.deleted == stats.succeeded
    assert stats.received == stats.succeeded + stats.skipped
    assert int(attributes["ApproximateNumberOfMessages"]) + stats.deleted == len(bodies)


def test_fifo_order_within_each_group_with_three_receivers(slow_proxy: FaultProxy, slow: Any, direct: Clients) -> None:
    """FIFO, 5 groups of 12 sent interleaved, three receivers: each group's messages are handled in the order sent,
    never two of a group at once (SQS returns none of a group while one of it is in flight, and a message stays in
    flight until its delete returns); groups run in parallel. moto takes a FIFO receive's messages without a lock,
    so the proxy forwards receives one at a time (``one_at_a_time``), as SQS applies them; they are still held,
    and in flight, together."""
    sqs = direct("sqs")
    url = sqs.create_queue(
        QueueName=unique("order") + ".fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true", "VisibilityTimeout": "60"},
    )["QueueUrl"]
    groups = [f"g{i % 5}" for i in range(60)]
    bodies = [f"{group}-{i:02d}" for i, group in enumerate(groups)]
    fill(sqs, url, bodies, groups)
    seen: dict[str, list[str]] = {}
    running: Counter[str] = Counter()
    clashes: list[str] = []
    lock = threading.Lock()

    def handler(message: dict[str, Any]) -> None:
        group = message["Attributes"]["MessageGroupId"]
        with lock:
            running[group] += 1
            if running[group] > 1:
                clashes.append(message["Body"])
            seen.setdefault(group, []).append(message["Body"])
        with lock:
            running[group] -= 1

    stats = QueueConsumer(url, handler, wait_time_seconds=1, receive_concurrency=3, client=slow).run(max_messages=60)
    assert not clashes
    for group in {*groups}:
        assert seen[group] == [body for body in bodies if body.startswith(f"{group}-")]
    assert stats.deleted == 60 and depth(sqs, url) == 0


def test_producer_calls_overlap_up_to_send_concurrency(slow_proxy: FaultProxy, slow: Any, direct: Clients) -> None:
    """send_concurrency=4: several SendMessageBatch calls in flight, never more than 4; batches of 10, each message
    delivered once."""
    sqs = direct("sqs")
    url = sqs.create_queue(QueueName=unique("produce"))["QueueUrl"]
    bodies = [f"m{i}" for i in range(120)]
    with QueueProducer(url, client=slow, send_concurrency=4) as producer:
        for body in bodies:
            producer.send(body)
    assert 2 <= slow_proxy.peak["SendMessageBatch"] <= 4, slow_proxy.peak
    assert producer.stats.sent == 120 and producer.stats.api_calls["SendMessageBatch"] == 12
    assert drain(sqs, url) == Counter(bodies)
