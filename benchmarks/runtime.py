"""Runtime benchmark: the SQS helpers (QueueProducer, QueueConsumer) against a naive boto3 loop.

A moto server in its own process on 127.0.0.1 (a free port, stopped at the end) stands in for SQS. Each path
gets its own long-polling standard queue and moves the same N messages through it:

* naive:   ``send_message`` one by one, then ``receive_message(MaxNumberOfMessages=1)`` + ``delete_message``
  one by one: 3 calls per message.
* helpers: ``QueueProducer`` (SendMessageBatch, 10 per call), then ``QueueConsumer.run`` (ReceiveMessage of
  10, DeleteMessageBatch) with a handler that does nothing.
* overlap: the helpers again in rounds of two batches (20), with the consumer's default ``max_in_flight``
  (20: the second receive runs while the first batch is handled and deleted), against
* serial: the same with ``max_in_flight=10`` (one batch at a time, as before receives overlapped);
  only their receive+delete phases are compared, to measure what the overlap adds.

The paths take turns, 20 messages each (the order rotates every turn), so a change in the machine's load
during the run falls on all of them alike. API calls are counted with ``ApiCallCounter`` on every client.
Prints a table and the ratios from the same run; never asserts on wall-clock time (the targets are printed
next to the results).

moto's SQS does work proportional to the queue depth for every message (each SendMessage recomputes the
queue's attributes, counting the messages; each message received is found by a scan), and batching cannot
remove that. With thousands of messages in the queue it dominates the wall clock of both paths, so the
throughput ratio shrinks as N grows (and a run takes time quadratic in N); the call counts do not depend on
the backend. So every path moves the messages in rounds (``--round``, default 10): send a round, consume it,
repeat. The queue never holds more than a round, so moto's per-message cost stays small and equal for both
and the per-call cost dominates, as it does against SQS. The default round is one batch (10), the smallest
that lets the helpers batch fully: moto scans every message in the queue, in flight or not, for each message
it receives, so a batch of 10 received at once pays a deeper scan than 10 messages received one by one. The
ratio depends on the round: with rounds of 20 it is a little lower, with rounds of 100 about half as large.

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
import moto  # noqa: E402

from decoupling_constructs.runtime._calls import ApiCallCounter  # noqa: E402
from decoupling_constructs.runtime.producer import QueueProducer  # noqa: E402

TARGET_CALLS_PER_MESSAGE = 0.35  # helpers; the naive loop makes 3.0
TARGET_SPEEDUP = 5.0  # helpers' messages/s over the naive loop's, end to end
REGION = "us-east-1"
LONG_POLL_SECONDS = 20
FIXED_SERVER = Path(__file__).resolve().parent / "moto_sqs_fixed.py"
OVERLAP_ROUND = 20  # two batches per round: room for a second receive while the first batch is deleted
SLICE = 20  # messages each path moves per turn (a whole number of rounds of every path)


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


class Path:
    """One way of moving messages through its own queue, a round at a time; seconds and calls per phase."""

    def __init__(self, endpoint: str, name: str, round_size: int) -> None:
        self.name, self.round_size = name, round_size
        self.url = new_queue(endpoint, name)
        self.seconds = {"send": 0.0, "receive+delete": 0.0}
        self.calls: dict[str, Counter[str]] = {"send": Counter(), "receive+delete": Counter()}
        self.sent = 0

    def move(self, n: int) -> None:
        """Send, then consume, ``n`` messages in rounds of ``round_size``."""
        for count in rounds(n, self.round_size):
            self.timed("send", lambda count=count: self.send(count))
            self.timed("receive+delete", lambda count=count: self.consume(count))
            self.sent += count

    def timed(self, phase: str, step: Any) -> None:
        started = time.perf_counter()
        step()
        self.seconds[phase] += time.perf_counter() - started

    def send(self, count: int) -> None:
        raise NotImplementedError

    def consume(self, count: int) -> None:
        raise NotImplementedError

    def phases(self) -> list[Phase]:
        return [
            Phase(self.name, phase, self.sent, self.seconds[phase], dict(self.calls[phase])) for phase in self.seconds
        ]


class Naive(Path):
    """``send_message`` one by one, then ``receive_message(MaxNumberOfMessages=1)`` + ``delete_message``."""

    def __init__(self, endpoint: str, round_size: int) -> None:
        super().__init__(endpoint, "naive", round_size)
        self.sqs = client(endpoint)
        self.counter = ApiCallCounter(self.sqs)

    def send(self, count: int) -> None:
        self.counter.reset()
        for i in range(self.sent, self.sent + count):
            self.sqs.send_message(QueueUrl=self.url, MessageBody=body(i))
        self.calls["send"].update(self.counter.snapshot())

    def consume(self, count: int) -> None:
        self.counter.reset()
        received = 0
        while received < count:  # the queue's long polling applies: an empty receive waits, it does not spin
            for message in self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=1).get("Messages", []):
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
                received += 1
        self.calls["receive+delete"].update(self.counter.snapshot())

    def close(self) -> None:
        check_empty(self.sqs, self.url, self.name)


class Helpers(Path):
    """``QueueProducer`` (SendMessageBatch), then ``QueueConsumer.run`` (ReceiveMessage of 10, DeleteMessageBatch)."""

    def __init__(self, endpoint: str, round_size: int, name: str = "helpers", max_in_flight: int | None = None) -> None:
        from decoupling_constructs.runtime.consumer import QueueConsumer

        super().__init__(endpoint, name, round_size)
        producer_client, self.consumer_client = client(endpoint), client(endpoint)
        self.producer_calls, self.consumer_calls = ApiCallCounter(producer_client), ApiCallCounter(self.consumer_client)
        self.producer = QueueProducer(self.url, client=producer_client)
        self.consumer = QueueConsumer(
            self.url, lambda message: None, max_in_flight=max_in_flight, client=self.consumer_client
        )
        self.deleted = 0

    def send(self, count: int) -> None:
        for i in range(self.sent, self.sent + count):
            self.producer.send(body(i))
        self.producer.flush()

    def consume(self, count: int) -> None:
        self.deleted += self.consumer.run(max_messages=count, idle_timeout=30).deleted

    def close(self) -> None:
        self.producer.close()
        if self.producer.stats.sent != self.sent or self.deleted != self.sent:
            raise SystemExit(f"{self.name}: sent {self.producer.stats.sent}, deleted {self.deleted} of {self.sent}")
        check_empty(self.consumer_client, self.url, self.name)
        self.calls["send"].update(self.producer_calls.snapshot())
        self.calls["receive+delete"].update(self.consumer_calls.snapshot())


def interleave(paths: list[Naive | Helpers], n: int) -> None:
    """Every path moves ``n`` messages, a slice of ``SLICE`` at a time, taking turns (the order rotates every
    slice): a change in the machine's load during the run falls on every path alike."""
    for turn, count in enumerate(rounds(n, SLICE)):
        for path in paths[turn % len(paths) :] + paths[: turn % len(paths)]:
            path.move(count)
    for path in paths:
        path.close()


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


BACKENDS = {
    "moto": f"moto {moto.__version__} as released",
    "moto, retention check fixed": "the same, with moto's per-message recomputation of every queue attribute "
    "removed (benchmarks/moto_sqs_fixed.py)",
}


def report(n: int, results: dict[str, list[list[Phase]]]) -> None:
    print(f"\n{n:,} messages per path, moto servers on 127.0.0.1, long-polling standard queues, one run")
    for backend, (naive_phases, helper_phases, overlap_phases, serial_phases) in results.items():
        naive_total, helper_total = total("naive", naive_phases), total("helpers", helper_phases)
        rows = [*naive_phases, naive_total, *helper_phases, helper_total, overlap_phases[1], serial_phases[1]]
        print(f"\n{backend}: {BACKENDS[backend]}\n")
        header = (
            f"{'path':<8} {'phase':<15} {'seconds':>8} {'msg/s':>8} {'calls':>7} {'calls/msg':>9}  calls by operation"
        )
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
        print(f"\nRATIOS on {backend} (helpers / naive, same run)")
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
            print(
                f"  {phase:<15} {fast.rate / slow.rate:5.1f}x msg/s, {fast.total_calls / slow.total_calls:.3f}x calls"
            )
        overlap = overlap_phases[1].rate / serial_phases[1].rate
        print(
            f"  overlapping consumer (max_in_flight 20) vs one batch at a time (max_in_flight 10), rounds of "
            f"{OVERLAP_ROUND}: {overlap:.2f}x receive+delete msg/s"
        )
    print("\n(wall-clock figures depend on the machine and on moto's per-message cost; the call counts do not)")


@contextlib.contextmanager
def moto_server_process(fixed: bool = False) -> Iterator[str]:
    """``moto_server`` in its own process on 127.0.0.1 (a free port), so that its work does not share the
    benchmark's interpreter lock; terminated at the end, killed if it does not stop within 10 s.
    ``fixed``: with benchmarks/moto_sqs_fixed.py's one fix."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable,
            *([str(FIXED_SERVER)] if fixed else ["-m", "moto.server"]),
            "-H",
            "127.0.0.1",
            "-p",
            str(port),
        ],
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
        "--messages", type=int, default=1_000, metavar="N", help="messages sent and consumed per path (default 1000)"
    )
    parser.add_argument(
        "--round", type=int, default=10, metavar="R", help="messages sent, then consumed, per round (default 10)"
    )
    args = parser.parse_args()
    if args.round < 10 or SLICE % args.round:
        parser.error(f"--round must be 10 (one full batch) or 20, got {args.round}")
    if args.messages < 1:
        parser.error(f"--messages must be at least 1, got {args.messages}")

    with moto_server_process() as stock, moto_server_process(fixed=True) as fixed:
        paths = {
            backend: [
                Naive(endpoint, args.round),
                Helpers(endpoint, args.round),
                Helpers(endpoint, OVERLAP_ROUND, name="overlap"),
                Helpers(endpoint, OVERLAP_ROUND, name="serial", max_in_flight=10),
            ]
            for backend, endpoint in zip(BACKENDS, (stock, fixed), strict=True)
        }
        interleave([path for backend_paths in paths.values() for path in backend_paths], args.messages)
    report(
        args.messages, {backend: [path.phases() for path in backend_paths] for backend, backend_paths in paths.items()}
    )


if __name__ == "__main__":
    main()
