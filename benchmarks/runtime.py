"""Runtime benchmark: the SQS helpers (QueueProducer, QueueConsumer) against a naive boto3 loop, at real round trips.

Against SQS every call costs a network round trip, which a loopback emulator hides. So every request goes through a
proxy on 127.0.0.1 (``tests/faults/proxy.py``'s ``FaultProxy``) that holds it a fixed time before forwarding it
(0, 5 and 20 ms), and counts the requests it forwards (botocore's retries included) and how many were in flight at
once. Behind the proxies, two moto servers, each in its own process on 127.0.0.1 (a free port, stopped at the end):

* ``moto``: moto as released;
* ``moto, retention check fixed``: the same with moto's per-message recomputation of every queue attribute removed
  (``benchmarks/moto_sqs_fixed.py``), a cost SQS does not have.

Each (backend, delay) gets its own long-polling standard queue per path, and each path moves the same N messages:

* naive:   ``send_message`` one by one, then ``receive_message(MaxNumberOfMessages=1)`` + ``delete_message`` one by
  one: 3 calls per message, one after the other.
* helpers: ``QueueProducer(send_concurrency=4)`` (SendMessageBatch of 10, up to 4 calls in flight), then
  ``QueueConsumer(receive_concurrency=3).run(max_messages=...)`` with a handler that does nothing (receives of 10
  kept in flight while earlier batches are handled and deleted, DeleteMessageBatch of up to 10).

Messages move in rounds of ``--round`` (default 50): send a round, then consume it, so the queue never holds more
than a round (moto does work proportional to the queue depth for every message, which SQS does not; equal rounds
keep it equal for both paths). The paths take turns a round at a time, the order rotating every turn, so a change
in the machine's load during the run falls on all of them alike. Every path checks at the end that its queue is
empty and, for the helpers, that every message was sent and deleted once (0 lost, 0 duplicated). Prints a table
and the ratios from the same run; never asserts on wall-clock time (the targets are printed next to the results).

    python benchmarks/runtime.py [--messages N] [--round R] [--delays 0,5,20]    (defaults: 200, 50, 0,5,20)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
import moto  # noqa: E402
from botocore.config import Config  # noqa: E402

from decoupling_constructs.runtime.consumer import QueueConsumer  # noqa: E402
from decoupling_constructs.runtime.producer import QueueProducer  # noqa: E402
from tests.faults.proxy import FaultProxy  # noqa: E402

TARGET_CALLS_PER_MESSAGE = 0.3  # helpers; the naive loop makes 3.0
TARGET_SPEEDUP_AT_20MS = 15.0  # helpers' messages/s over the naive loop's at 20 ms per request (issue 24)
REGION = "us-east-1"
LONG_POLL_SECONDS = 20
FIXED_SERVER = Path(__file__).resolve().parent / "moto_sqs_fixed.py"
SEND_CONCURRENCY = 4
RECEIVE_CONCURRENCY = 3
# moto's server takes a receive's messages without a lock: two receives at once can both return one message (and
# leave another in the queue), which SQS does not do. The proxy forwards receives one at a time (each is still held,
# and in flight, together with the others), as SQS applies them.
ATOMIC = frozenset({"ReceiveMessage"})
BACKENDS = {
    "moto": f"moto {moto.__version__} as released",
    "moto, retention check fixed": "moto's per-message recomputation of every queue attribute removed "
    "(benchmarks/moto_sqs_fixed.py)",
}


@dataclass
class Tally:
    """What one path did: messages, seconds, requests counted at the proxy, the most requests in flight at once."""

    messages: int = 0
    seconds: float = 0.0
    requests: Counter[str] = field(default_factory=Counter)
    peak: int = 0

    @property
    def calls_per_message(self) -> float:
        return sum(self.requests.values()) / self.messages if self.messages else float("nan")

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else float("inf")


def client(endpoint: str) -> Any:
    # Dummy credentials: the moto server accepts any. Standard retries, as the helpers' users would have.
    return boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard"}, max_pool_connections=20),
    )


def body(i: int) -> str:
    return f'{{"order": {i}, "note": "benchmark message {i:06d}"}}'


class Lane:
    """One path through one proxy: its own queue; ``move(n)`` sends then consumes ``n`` messages, timed and
    counted at the proxy."""

    name = ""

    def __init__(self, proxy: FaultProxy, queue_name: str) -> None:
        self.proxy = proxy
        self.sqs = client(proxy.endpoint)
        self.url = str(
            self.sqs.create_queue(
                QueueName=queue_name, Attributes={"ReceiveMessageWaitTimeSeconds": str(LONG_POLL_SECONDS)}
            )["QueueUrl"]
        )
        self.tally = Tally()
        self.sent = 0

    def move(self, count: int) -> None:
        self.proxy.arm({})  # resets its counts: this lane alone uses the proxy meanwhile
        started = time.perf_counter()
        self.send(count)
        self.consume(count)
        self.tally.seconds += time.perf_counter() - started
        self.tally.messages += count
        self.tally.requests.update(self.proxy.requests)
        self.tally.peak = max(self.tally.peak, self.proxy.peak["*"])
        self.sent += count

    def send(self, count: int) -> None:
        raise NotImplementedError

    def consume(self, count: int) -> None:
        raise NotImplementedError

    def close(self) -> None:
        check_empty(self.sqs, self.url, self.name)


class Naive(Lane):
    name = "naive"

    def send(self, count: int) -> None:
        for i in range(self.sent, self.sent + count):
            self.sqs.send_message(QueueUrl=self.url, MessageBody=body(i))

    def consume(self, count: int) -> None:
        received = 0
        while received < count:  # the queue's long polling applies: an empty receive waits, it does not spin
            for message in self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=1).get("Messages", []):
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
                received += 1


class Helpers(Lane):
    name = "helpers"

    def __init__(self, proxy: FaultProxy, queue_name: str) -> None:
        super().__init__(proxy, queue_name)
        self.producer = QueueProducer(self.url, client=client(proxy.endpoint), send_concurrency=SEND_CONCURRENCY)
        self.handled: Counter[str] = Counter()
        self.lock = threading.Lock()
        # visibility_timeout given (the queue's default, 30 s): the heartbeat needs it, and the consumer would
        # otherwise read it once with GetQueueAttributes.
        self.consumer = QueueConsumer(
            self.url,
            self.handle,
            receive_concurrency=RECEIVE_CONCURRENCY,
            visibility_timeout=30,
            client=client(proxy.endpoint),
        )
        self.deleted = 0

    def handle(self, message: dict[str, Any]) -> None:
        with self.lock:
            self.handled[message["Body"]] += 1

    def send(self, count: int) -> None:
        for i in range(self.sent, self.sent + count):
            self.producer.send(body(i))
        self.producer.flush()

    def consume(self, count: int) -> None:
        self.deleted += self.consumer.run(max_messages=count, idle_timeout=30).deleted

    def close(self) -> None:
        self.producer.close()
        lost = sum(1 for i in range(self.sent) if not self.handled[body(i)])
        duplicated = sum(n - 1 for n in self.handled.values() if n > 1)
        if self.producer.stats.sent != self.sent or self.deleted != self.sent or lost or duplicated:
            raise SystemExit(
                f"helpers: sent {self.producer.stats.sent}, deleted {self.deleted} of {self.sent}, "
                f"{lost} lost, {duplicated} duplicated"
            )
        super().close()


def check_empty(sqs: Any, url: str, path: str) -> None:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    left = int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])
    if left:
        raise SystemExit(f"{path}: {left} messages left in the queue")


def interleave(lanes: list[Lane], n: int, round_size: int) -> None:
    """Every lane moves ``n`` messages, a round at a time, taking turns (the order rotates every turn)."""
    for turn, start in enumerate(range(0, n, round_size)):
        count = min(round_size, n - start)
        for lane in lanes[turn % len(lanes) :] + lanes[: turn % len(lanes)]:
            lane.move(count)
    for lane in lanes:
        lane.close()


def report(n: int, round_size: int, results: dict[str, dict[int, dict[str, Tally]]]) -> None:
    load = os.getloadavg()
    print(
        f"\n{n:,} messages per path in rounds of {round_size}, through a latency proxy on 127.0.0.1 in front of "
        f"moto servers, one run; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}, {os.cpu_count()} CPUs"
    )
    print(
        f"helpers: QueueProducer(send_concurrency={SEND_CONCURRENCY}), "
        f"QueueConsumer(receive_concurrency={RECEIVE_CONCURRENCY}); calls = requests counted at the proxy"
    )
    header = (
        f"{'backend':<28} {'delay':>6} {'path':<8} {'seconds':>8} {'msg/s':>8} {'calls/msg':>9} {'peak':>5} "
        f"{'speedup':>8}  calls by operation"
    )
    print("\n" + header + "\n" + "-" * len(header))
    verdicts: list[str] = []
    for backend, by_delay in results.items():
        for delay, lanes in by_delay.items():
            naive, helpers = lanes["naive"], lanes["helpers"]
            speedup = helpers.rate / naive.rate
            for name, tally in lanes.items():
                operations = ", ".join(f"{op} {count}" for op, count in sorted(tally.requests.items()))
                print(
                    f"{backend:<28} {delay:>4}ms {name:<8} {tally.seconds:>8.2f} {tally.rate:>8.1f} "
                    f"{tally.calls_per_message:>9.3f} {tally.peak:>5} "
                    f"{(f'{speedup:.1f}x' if name == 'helpers' else ''):>8}  {operations}"
                )
            if delay == 20:
                verdicts.append(
                    f"  {backend} at 20 ms: {speedup:.1f}x naive throughput (target >= {TARGET_SPEEDUP_AT_20MS:.0f}x: "
                    f"{'met' if speedup >= TARGET_SPEEDUP_AT_20MS else 'NOT met'}), "
                    f"{helpers.calls_per_message:.3f} calls/msg (target <= {TARGET_CALLS_PER_MESSAGE}: "
                    f"{'met' if helpers.calls_per_message <= TARGET_CALLS_PER_MESSAGE + 1e-9 else 'NOT met'})"
                )
    print("\nTARGETS (same run; 0 lost and 0 duplicated checked for every helpers path)")
    print("\n".join(verdicts))
    print(
        "\n(peak: the most requests in flight at once at the proxy; wall-clock figures depend on the machine and "
        "on moto's per-message cost, the call counts do not)"
    )


@contextlib.contextmanager
def moto_server_process(fixed: bool = False) -> Iterator[tuple[str, int]]:
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
        yield "127.0.0.1", port
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200, metavar="N", help="messages per path (default 200)")
    parser.add_argument(
        "--round", type=int, default=50, metavar="R", help="messages sent, then consumed, per round (default 50)"
    )
    parser.add_argument(
        "--delays", default="0,5,20", metavar="MS", help="milliseconds held per request, comma-separated (0,5,20)"
    )
    args = parser.parse_args()
    if args.messages < 1 or args.round < 1:
        parser.error(f"--messages and --round must be at least 1, got {args.messages} and {args.round}")
    try:
        delays = [int(text) for text in args.delays.split(",")]
    except ValueError:
        parser.error(f"--delays must be whole milliseconds separated by commas, got {args.delays!r}")
    if any(delay < 0 for delay in delays):
        parser.error(f"--delays must be >= 0, got {args.delays!r}")

    proxies: list[FaultProxy] = []
    try:
        with moto_server_process() as stock, moto_server_process(fixed=True) as fixed:
            lanes: dict[str, dict[int, dict[str, Lane]]] = {}
            for backend, upstream in zip(BACKENDS, (stock, fixed), strict=True):
                lanes[backend] = {}
                for delay in delays:
                    proxy = FaultProxy(upstream, delay=0, latency=delay / 1000, one_at_a_time=ATOMIC)
                    proxies.append(proxy)
                    lanes[backend][delay] = {
                        "naive": Naive(proxy, f"naive-{delay}ms"),
                        "helpers": Helpers(proxy, f"helpers-{delay}ms"),
                    }
            everything = [lane for by_delay in lanes.values() for pair in by_delay.values() for lane in pair.values()]
            interleave(everything, args.messages, args.round)
    finally:
        for proxy in proxies:
            proxy.close()
    report(
        args.messages,
        args.round,
        {
            backend: {delay: {name: lane.tally for name, lane in pair.items()} for delay, pair in by_delay.items()}
            for backend, by_delay in lanes.items()
        },
    )


if __name__ == "__main__":
    main()
