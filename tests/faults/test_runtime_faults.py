"""Faults injected into the AWS API for every runtime helper, and killed processes: nothing acknowledged is lost.

A fault-injecting proxy (``proxy.py``) sits between the helpers and a moto server, both on 127.0.0.1. For each
helper, hypothesis draws which of the first requests of each operation fail and how (throttling, HTTP 500/503,
a connection reset before the call is forwarded or after moto applied it, an answer held past the client's read
timeout), with a fixed derandomized search so the examples are the same on every run. Each example checks
conservation against what moto holds, read directly:

* every message the helper accepted is delivered (or processed), or in the DLQ, or reported in PartialBatchError;
* nothing else appears;
* duplicates are counted, and there are none unless a fault could cause them (a call applied but unanswered, or
  a delete that did not go through), and then at most one per entry of each such call.

Faults hit only the first requests of an operation, so every helper gets through in the end; the helpers are
called again after an error that propagates (a producer's ``flush()``, a ``redrive()``), as a caller would.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decoupling_constructs.runtime import (
    PartialBatchError,
    QueueConsumer,
    QueueProducer,
    StreamProducer,
    TopicPublisher,
)
from decoupling_constructs.runtime.redrive import redrive
from tests.faults.proxy import FAULTS, FaultProxy
from tests.sqs_helpers import depth

ROOT = Path(__file__).resolve().parents[2]
Clients = Callable[[str], Any]

# Which requests of an operation fail (request number from 1) and how: at most 3 of the first 6.
plans = st.dictionaries(st.integers(min_value=1, max_value=6), st.sampled_from(FAULTS), max_size=3)
FAULT_SETTINGS = settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
RETRIES = 8  # calls of flush()/redrive() after an error that propagates; faults run out well before


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def queue_with_dlq(sqs: Any, *, visibility: int = 1, max_receive: int = 4) -> tuple[str, str]:
    name = unique("q")
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": str(visibility),
            "RedrivePolicy": f'{{"deadLetterTargetArn": "{dlq_arn}", "maxReceiveCount": {max_receive}}}',
        },
    )["QueueUrl"]
    return url, dlq_url


def drain(sqs: Any, url: str) -> Counter[str]:
    """Bodies of every visible message, received and deleted."""
    found: Counter[str] = Counter()
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages"):
        found.update(m["Body"] for m in messages)
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        )
    return found


def duplicates(counts: Counter[Any]) -> int:
    return sum(count - 1 for count in counts.values() if count > 1)


def settle(producer: Any, accepted: list[str], key: Callable[[Any], str]) -> set[str]:
    """flush() until it goes through; returns the entries reported in PartialBatchError."""
    reported: set[str] = set()
    for _ in range(RETRIES):
        try:
            producer.flush()
            return reported
        except PartialBatchError as error:
            reported |= {key(failure.entry) for failure in error.failed}
        except (ClientError, BotoCoreError):
            pass
    pytest.fail(f"flush() still failing after {RETRIES} calls; buffered: {producer.buffered}")


def check_conservation(
    accepted: list[str], delivered: Counter[str], reported: set[str], proxy: FaultProxy, per_call: int
) -> None:
    lost = [body for body in accepted if not delivered[body] and body not in reported]
    assert not lost, f"lost: {lost} (faults {dict(proxy.injected)})"
    assert set(delivered) <= set(accepted), f"unexpected: {set(delivered) - set(accepted)}"
    assert not reported, f"reported as failed although every fault was transient: {sorted(reported)}"
    # A duplicate needs a call that moto applied but whose answer was lost (then botocore or the caller resent it).
    assert duplicates(delivered) <= per_call * len(proxy.applied_faults), (
        f"{duplicates(delivered)} duplicates, {len(proxy.applied_faults)} applied-but-unanswered calls"
    )


def send_all(producer: Any, send: Callable[[str], None], bodies: list[str]) -> set[str]:
    """send() each body; a batch sent meanwhile may raise (then the body is still buffered or reported)."""
    reported: set[str] = set()
    for body in bodies:
        try:
            send(body)
        except PartialBatchError as error:
            reported |= {failure.entry.get("MessageBody", failure.entry.get("Message", "")) for failure in error.failed}
        except (ClientError, BotoCoreError):
            pass
    return reported


# -- producers -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("send_concurrency", [1, 4], ids=["one-call-at-a-time", "4-calls-in-flight"])
@FAULT_SETTINGS
@given(plan=plans)
def test_queue_producer_under_faults(
    send_concurrency: int, plan: dict[int, str], proxy: FaultProxy, direct: Clients, proxied: Clients
) -> None:
    sqs = direct("sqs")
    url = sqs.create_queue(QueueName=unique("produce"))["QueueUrl"]
    proxy.arm({"SendMessageBatch": plan})
    producer = QueueProducer(
        url, client=proxied("sqs"), base_delay=0.01, max_delay=0.05, send_concurrency=send_concurrency
    )
    bodies = [f"m{i}" for i in range(25)]
    reported = send_all(producer, producer.send, bodies)
    reported |= settle(producer, bodies, lambda entry: entry["MessageBody"])
    check_conservation(bodies, drain(sqs, url), reported, proxy, per_call=10)


@FAULT_SETTINGS
@given(plan=plans)
def test_topic_publisher_under_faults(
    plan: dict[int, str], proxy: FaultProxy, direct: Clients, proxied: Clients
) -> None:
    sqs, sns = direct("sqs"), direct("sns")
    topic = sns.create_topic(Name=unique("events"))["TopicArn"]
    url = sqs.create_queue(QueueName=unique("copy"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    proxy.arm({"PublishBatch": plan})
    publisher = TopicPublisher(topic, client=proxied("sns"), base_delay=0.01, max_delay=0.05)
    bodies = [f"e{i}" for i in range(25)]
    reported = send_all(publisher, publisher.publish, bodies)
    reported |= settle(publisher, bodies, lambda entry: entry["Message"])
    check_conservation(bodies, drain(sqs, url), reported, proxy, per_call=10)


@FAULT_SETTINGS
@given(plan=plans, ordered=st.booleans())
def test_stream_producer_under_faults(
    plan: dict[int, str], ordered: bool, proxy: FaultProxy, direct: Clients, proxied: Clients
) -> None:
    kinesis = direct("kinesis")
    stream = unique("events")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    proxy.arm({"PutRecords": plan})
    producer = StreamProducer(stream, client=proxied("kinesis"), ordered=ordered, base_delay=0.01, max_delay=0.05)
    bodies = [f"r{i}" for i in range(30)]
    for i, body in enumerate(bodies):
        producer.put(body, partition_key=f"k{i % 3}")
    reported = settle(producer, bodies, lambda entry: entry["Data"].decode())
    shard = kinesis.describe_stream(StreamName=stream)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = kinesis.get_records(ShardIterator=iterator["ShardIterator"], Limit=10_000)["Records"]
    delivered = Counter(record["Data"].decode() for record in records)
    check_conservation(bodies, delivered, reported, proxy, per_call=len(bodies))
    if ordered and not proxy.applied_faults:  # without a resent call, each key's records are in put() order
        for key in range(3):
            mine = [r["Data"].decode() for r in records if r["PartitionKey"] == f"k{key}"]
            assert mine == [f"r{i}" for i in range(key, 30, 3)]


# -- consumer ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("receive_concurrency", [1, 3], ids=["one-receiver", "3-receivers"])
@FAULT_SETTINGS
@given(receive=plans, delete=plans, release=plans)
def test_queue_consumer_under_faults(
    receive_concurrency: int,
    receive: dict[int, str],
    delete: dict[int, str],
    release: dict[int, str],
    proxy: FaultProxy,
    direct: Clients,
    proxied: Clients,
) -> None:
    """20 good messages and a poison one (maxReceiveCount 4, visibility 1 s: a receive whose answer was lost makes
    its messages visible again after 1 s). The run stops once every good message was handled and the queue is
    empty; each good message was handled, the poison is in the DLQ, and a message is handled twice only when a
    delete failed."""
    sqs = direct("sqs")
    url, dlq_url = queue_with_dlq(sqs)
    good = [f"m{i}" for i in range(20)]
    for start in range(0, 21, 10):
        chunk = [*good, "poison"][start : start + 10]
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(chunk)])
    proxy.arm({"ReceiveMessage": receive, "DeleteMessageBatch": delete, "ChangeMessageVisibilityBatch": release})
    handled: Counter[str] = Counter()
    lock = threading.Lock()

    def handler(message: dict[str, Any]) -> None:
        if message["Body"] == "poison":
            raise RuntimeError("poison")
        with lock:
            handled[message["Body"]] += 1

    consumer = QueueConsumer(
        url,
        handler,
        wait_time_seconds=0,
        retry_failed_immediately=True,
        receive_concurrency=receive_concurrency,
        client=proxied("sqs"),
    )
    done = threading.Event()

    def watch() -> None:  # stop once everything is accounted for (or after 40 s, and the checks below fail)
        deadline = time.monotonic() + 40
        while not done.wait(0.1) and time.monotonic() < deadline:
            with lock:
                all_handled = set(handled) == set(good)
            if all_handled and depth(sqs, url) == 0:
                break
        consumer.stop()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    stats = consumer.run()
    done.set()
    watcher.join(timeout=5)
    assert set(handled) == set(good), f"never handled: {set(good) - set(handled)} (faults {dict(proxy.injected)})"
    assert depth(sqs, url) == 0
    assert drain(sqs, dlq_url) == Counter(["poison"])
    delete_faults = sum(1 for n in proxy.injected_requests("DeleteMessageBatch"))
    assert duplicates(handled) <= 10 * delete_faults, f"{duplicates(handled)} duplicates, stats {stats}"


# -- redrive -----------------------------------------------------------------------------------------------------


@FAULT_SETTINGS
@given(receive=plans, send=plans, delete=plans)
def test_redrive_copy_under_faults(
    receive: dict[int, str],
    send: dict[int, str],
    delete: dict[int, str],
    proxy: FaultProxy,
    direct: Clients,
    proxied: Clients,
    monkeypatch_module: pytest.MonkeyPatch,
) -> None:
    """15 messages in a DLQ, redriven by copying (receive, send, delete) through the proxy; redrive() is called
    again while the DLQ is not empty. Every message ends in the source queue; a message is there twice only if
    a send or delete call was applied but unanswered, or a delete did not go through."""
    sqs = direct("sqs")
    url, dlq_url = queue_with_dlq(sqs, visibility=30)
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bodies = [f"d{i}" for i in range(15)]
    for start in range(0, 15, 10):
        chunk = bodies[start : start + 10]
        sqs.send_message_batch(
            QueueUrl=dlq_url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(chunk)]
        )
    proxy.arm({"ReceiveMessage": receive, "SendMessageBatch": send, "DeleteMessageBatch": delete})
    client = proxied("sqs")
    for _ in range(RETRIES):
        with contextlib.suppress(ClientError, BotoCoreError):
            redrive(dlq_arn, method="copy", client=client)
        if depth(sqs, dlq_url) == 0:
            break
        time.sleep(1.1)  # messages of a receive whose answer was lost come back after COPY_VISIBILITY_TIMEOUT
    assert depth(sqs, dlq_url) == 0
    delivered = drain(sqs, url)
    assert set(delivered) == set(bodies), f"lost: {set(bodies) - set(delivered)}"
    faults = len(proxy.injected_requests("SendMessageBatch")) + len(proxy.injected_requests("DeleteMessageBatch"))
    assert duplicates(delivered) <= 10 * faults


@pytest.fixture(scope="module")
def monkeypatch_module() -> Any:
    with pytest.MonkeyPatch.context() as patch:
        # the module, not the function the package re-exports under the same name
        patch.setattr(
            importlib.import_module("decoupling_constructs.runtime.redrive"), "COPY_VISIBILITY_TIMEOUT", 1
        )  # a lost receive's messages return in 1 s
        yield patch


# -- killed processes ----------------------------------------------------------------------------------------------


def run_child(script: str, endpoint: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=endpoint,
        PYTHONPATH=str(ROOT),
    )
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_consumer_killed_mid_batch_loses_nothing(
    moto_endpoint: tuple[str, int], direct: Clients, tmp_path: Path
) -> None:
    """A consumer process handles messages (each one recorded in a file when its handler finishes) and SIGKILLs
    itself in the handler of the 7th, in the middle of a batch of 10. A second consumer then takes over: every
    message is handled, and only those the first one handled but could not delete are handled twice."""
    host, port = moto_endpoint
    sqs = direct("sqs")
    url, dlq_url = queue_with_dlq(sqs, visibility=1, max_receive=5)
    bodies = [f"m{i}" for i in range(20)]
    for start in range(0, 20, 10):
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies[start : start + 10])]
        )
    log = tmp_path / "handled.txt"
    child = run_child(
        """
        import os, signal, sys, threading
        from decoupling_constructs.runtime import QueueConsumer
        url, log = sys.argv[1], sys.argv[2]
        lock, count = threading.Lock(), [0]
        def handler(message):
            with lock:
                count[0] += 1
                if count[0] == 7:
                    os.kill(os.getpid(), signal.SIGKILL)
                with open(log, "a") as f:
                    f.write(message["Body"] + "\\n")
        QueueConsumer(url, handler, wait_time_seconds=1, max_workers=1).run(idle_timeout=5)
        """,
        f"http://{host}:{port}",
        url,
        str(log),
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    first = Counter(log.read_text().split())
    assert sum(first.values()) == 6
    second: Counter[str] = Counter()
    QueueConsumer(url, lambda m: second.update([m["Body"]]), wait_time_seconds=1, client=sqs).run(idle_timeout=2.5)
    everything = first + second
    assert set(everything) == set(bodies)  # nothing lost
    assert depth(sqs, url) == 0 and depth(sqs, dlq_url) == 0
    # The killed consumer deleted nothing of its batch: what it handled comes back, and only that is handled twice.
    assert duplicates(everything) == sum(first.values())


def test_producer_killed_before_flush_delivers_everything_it_acknowledged(
    moto_endpoint: tuple[str, int], direct: Clients
) -> None:
    """A producer process send()s 25 messages, printing the producer's acknowledged count (stats.sent) after each,
    and SIGKILLs itself after the 25th send(), before flush(). The 20 messages of the two full batches sent
    automatically were acknowledged and are in the queue, once each. The last 5 were only buffered: send() is not
    an acknowledgement, flush() is (see the README), and they are gone with the process."""
    host, port = moto_endpoint
    sqs = direct("sqs")
    url = sqs.create_queue(QueueName=unique("killed-producer"))["QueueUrl"]
    child = run_child(
        """
        import os, signal, sys
        from decoupling_constructs.runtime import QueueProducer
        producer = QueueProducer(sys.argv[1])
        for i in range(25):
            producer.send(f"m{i}")
            print(producer.stats.sent, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """,
        f"http://{host}:{port}",
        url,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    acknowledged = int(child.stdout.split()[-1])
    assert acknowledged == 20
    assert drain(sqs, url) == Counter(f"m{i}" for i in range(acknowledged))


def test_the_proxy_injects_what_it_is_armed_with(proxy: FaultProxy, proxied: Clients, direct: Clients) -> None:
    """The harness itself: each fault reaches the client as the error the real service would send."""
    sqs = proxied("sqs")
    url = direct("sqs").create_queue(QueueName=unique("harness"))["QueueUrl"]
    no_retry = direct("sqs")  # only to read the queue
    every_attempt = range(1, 6)  # more than botocore's attempts
    proxy.arm({"SendMessage": dict.fromkeys(every_attempt, "throttle")})
    with pytest.raises(ClientError) as raised:
        sqs.send_message(QueueUrl=url, MessageBody="x")
    assert raised.value.response["Error"]["Code"] == "RequestThrottled"
    proxy.arm({"SendMessage": {1: "reset-after"}})
    sqs.send_message(QueueUrl=url, MessageBody="twice")  # applied, answer lost, retried by botocore: applied again
    assert proxy.applied_faults == ["SendMessage"]
    assert drain(no_retry, url) == Counter({"twice": 2})
    for fault in ("500", "503", "reset"):  # never forwarded: the error reaches the caller, nothing is stored
        proxy.arm({"SendMessage": dict.fromkeys(every_attempt, fault)})
        with pytest.raises((ClientError, BotoCoreError)):
            sqs.send_message(QueueUrl=url, MessageBody=fault)
    proxy.arm({"SendMessage": {1: "delay"}})  # applied, answered too late: botocore's retry applies it again
    sqs.send_message(QueueUrl=url, MessageBody="late")
    assert drain(no_retry, url) == Counter({"late": 2})
