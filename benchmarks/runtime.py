"""Runtime benchmark: the SQS helpers (QueueProducer, QueueConsumer) against a naive boto3 loop.

A moto server in its own process on 127.0.0.1 (a free port, stopped at the end) stands in for SQS. Each path
gets its own long-polling standard queue and moves the same N messages through it:

* naive:   ``send_message`` one by one, then ``receive_message(MaxNumberOfMessages=1)`` + ``delete_message``
  one by one: 3 calls per message.
* helpers: ``QueueProducer`` (SendMessageBatch, 10 per call), then ``QueueConsumer.run`` (ReceiveMessage of
  10, DeleteMessageBatch) with a handler that does nothing.
* serial: the same consumer with ``max_in_flight=10`` (one batch at a time, as before receives overlapped);
  only its receive+delete phase is shown, to measure what the overlap adds.

API calls are counted with ``ApiCallCounter`` on every client of both paths. Prints a table and the ratios
from the same run; never asserts on wall-clock time (the targets are printed next to the results).

moto's SQS does work proportional to the queue depth for every message (each SendMessage recomputes the
queue's attributes, counting the messages; each message received is found by a scan), and batching cannot
remove that. With thousands of messages in the queue it dominates the wall clock of both paths, so the
throughput ratio shrinks as N grows (and a run takes time quadratic in N); the call counts do not depend on
the backend. So both paths move the messages in rounds (``--round``, default 20): send a round, consume it,
repeat. The queue never holds more than a round, so moto's per-message cost stays small and equal for both
and the per-call cost dominates, as it does against SQS. The ratio depends on the round: with rounds of 100,
moto's queue scans take a larger share of both paths and the ratio is about half as large.

The consumer overlaps its receives with the handling and deleting of earlier batches (``max_in_flight``,
default 20): here each round is two batches, so the second receive runs while the first batch is deleted.

    python benchmarks/runtime.py [--messages N] [--round R]
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402

from decoupling_constructs.runtime._calls import ApiCallCounter  # noqa: E402
from decoupling_constructs.runtime.producer import QueueProducer  # noqa: E402

TARGET_CALLS_PER_MESSAGE = 0.35  # helpers; the naive loop makes 3.0
TARGET_SPEEDUP = 5.0  # helpers' messages/s over the naive loop's, end to end
REGION = "us-east-1"
LONG_POLL_SECONDS = 20


@dataclass
class Phase:
    path: str
    phase: str
    messages: int
    seconds: float
    calls: dict[str, int]

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def calls_per_message(self) -> float:
        return self.total_calls / self.messages

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else float("inf")


def client(endpoint: str) -> Any:
    # Dummy credentials: the moto server accepts any.
    return boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def new_queue(endpoint: str, name: str) -> str:
    return str(
        client(endpoint).create_queue(
            QueueName=name, Attributes={"ReceiveMessageWaitTimeSeconds": str(LONG_POLL_SECONDS)}
        )["QueueUrl"]
    )


def body(i: int) -> str:
    return f'{{"order": {i}, "note": "benchmark message {i:06d}"}}'


def rounds(n: int, size: int) -> list[int]:
    """Message counts per round: the queue never holds more than one round (see the module doc)."""
    return [min(size, n - start) for start in range(0, n, size)]


def naive(endpoint: str, n: int, round_size: int) -> list[Phase]:
    url = new_queue(endpoint, "naive")
    sqs = client(endpoint)
    counter = ApiCallCounter(sqs)
    seconds = {"send": 0.0, "receive+delete": 0.0}
    calls: dict[str, Counter[str]] = {"send": Counter(), "receive+delete": Counter()}
    sent = 0
    for count in rounds(n, round_size):
        counter.reset()
        started = time.perf_counter()
        for i in range(sent, sent + count):
            sqs.send_message(QueueUrl=url, MessageBody=body(i))
        seconds["send"] += time.perf_counter() - started
        calls["send"].update(counter.snapshot())
        sent += count

        counter.reset()
        started = time.perf_counter()
        received = 0
        while received < count:  # the queue's long polling applies: an empty receive waits, it does not spin
            for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1).get("Messages", []):
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                received += 1
        seconds["receive+delete"] += time.perf_counter() - started
        calls["receive+delete"].update(counter.snapshot())
    check_empty(sqs, url, "naive")
    return [Phase("naive", phase, n, seconds[phase], dict(calls[phase])) for phase in seconds]


def helpers(
    endpoint: str, n: int, round_size: int, max_in_flight: int | None = None, path: str = "helpers"
) -> list[Phase]:
    from decoupling_constructs.runtime.consumer import QueueConsumer

    url = new_queue(endpoint, path)
    producer_client, consumer_client = client(endpoint), client(endpoint)
    producer_calls, consumer_calls = ApiCallCounter(producer_client), ApiCallCounter(consumer_client)
    consumer = QueueConsumer(url, lambda message: None, max_in_flight=max_in_flight, client=consumer_client)
    seconds = {"send": 0.0, "receive+delete": 0.0}
    deleted = 0
    sent = 0
    with QueueProducer(url, client=producer_client) as producer:
        for count in rounds(n, round_size):
            started = time.perf_counter()
            for i in range(sent, sent + count):
                producer.send(body(i))
            producer.flush()
            seconds["send"] += time.perf_counter() - started
            sent += count

            started = time.perf_counter()
            stats = consumer.run(max_messages=count, idle_timeout=30)
            seconds["receive+delete"] += time.perf_counter() - started
            deleted += stats.deleted
    if producer.stats.sent != n or deleted != n:
        raise SystemExit(f"{path}: sent {producer.stats.sent}, deleted {deleted} of {n} messages")
    check_empty(consumer_client, url, path)
    return [
        Phase(path, "send", n, seconds["send"], producer_calls.snapshot()),
        Phase(path, "receive+delete", n, seconds["receive+delete"], consumer_calls.snapshot()),
    ]


def check_empty(sqs: Any, url: str, path: str) -> None:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    left = int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])
    if left:
        raise SystemExit(f"{path}: {left} messages left in the queue")


def total(path: str, phases: list[Phase]) -> Phase:
    calls: dict[str, int] = {}
    for phase in phases:
        for name, count in phase.calls.items():
            calls[name] = calls.get(name, 0) + count
    return Phase(path, "total", phases[0].messages, sum(p.seconds for p in phases), calls)


def report(n: int, naive_phases: list[Phase], helper_phases: list[Phase], serial_phases: list[Phase]) -> None:
    naive_total, helper_total = total("naive", naive_phases), total("helpers", helper_phases)
    rows = [*naive_phases, naive_total, *helper_phases, helper_total, serial_phases[1]]
    print(f"\n{n:,} messages per path, moto server on 127.0.0.1, long-polling standard queues\n")
    header = f"{'path':<8} {'phase':<15} {'seconds':>8} {'msg/s':>8} {'calls':>7} {'calls/msg':>9}  calls by operation"
    print(header)
    print("-" * len(header))
    for row in rows:
        operations = ", ".join(f"{name} {count}" for name, count in sorted(row.calls.items()))
        print(
            f"{row.path:<8} {row.phase:<15} {row.seconds:>8.2f} {row.rate:>8.0f} {row.total_calls:>7} "
            f"{row.calls_per_message:>9.3f}  {operations}"
        )
    call_ratio = helper_total.calls_per_message / naive_total.calls_per_message
    speedup = helper_total.rate / naive_total.rate
    print("\nRATIOS (helpers / naive, same run)")
    print(
        f"  API calls per message: {helper_total.calls_per_message:.3f} vs {naive_total.calls_per_message:.3f} "
        f"= {call_ratio:.3f}x  (target: helpers <= {TARGET_CALLS_PER_MESSAGE} calls/message: "
        f"{'met' if helper_total.calls_per_message <= TARGET_CALLS_PER_MESSAGE else 'NOT met'})"
    )
    print(
        f"  throughput end to end: {helper_total.rate:,.0f} vs {naive_total.rate:,.0f} msg/s = {speedup:.1f}x  "
        f"(target >= {TARGET_SPEEDUP:.0f}x: {'met' if speedup >= TARGET_SPEEDUP else 'NOT met'})"
    )
    for phase in ("send", "receive+delete"):
        fast = next(p for p in helper_phases if p.phase == phase)
        slow = next(p for p in naive_phases if p.phase == phase)
        print(f"  {phase:<15} {fast.rate / slow.rate:5.1f}x msg/s, {fast.total_calls / slow.total_calls:.3f}x calls")
    overlap = helper_phases[1].rate / serial_phases[1].rate
    print(
        f"  overlapping consumer (max_in_flight 20) vs one batch at a time (max_in_flight 10): "
        f"{overlap:.2f}x receive+delete msg/s"
    )
    print("  (wall-clock figures depend on the machine and on moto's per-message cost; the call counts do not)")


@contextlib.contextmanager
def moto_server_process() -> Iterator[str]:
    """``moto_server`` in its own process on 127.0.0.1 (a free port), so that its work does not share the
    benchmark's interpreter lock; terminated at the end, killed if it does not stop within 10 s."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("moto server did not start") from None
                time.sleep(0.2)
        yield endpoint
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--messages", type=int, default=2_000, metavar="N", help="messages sent and consumed per path (default 2000)"
    )
    parser.add_argument(
        "--round", type=int, default=20, metavar="R", help="messages sent, then consumed, per round (default 20)"
    )
    args = parser.parse_args()
    if args.round < 10:
        parser.error(f"--round must be at least 10 (one full batch), got {args.round}")
    if args.messages < 1:
        parser.error(f"--messages must be at least 1, got {args.messages}")

    with moto_server_process() as endpoint:
        naive_phases = naive(endpoint, args.messages, args.round)
        helper_phases = helpers(endpoint, args.messages, args.round)
        serial_phases = helpers(endpoint, args.messages, args.round, max_in_flight=10, path="serial")
    report(args.messages, naive_phases, helper_phases, serial_phases)


if __name__ == "__main__":
    main()
