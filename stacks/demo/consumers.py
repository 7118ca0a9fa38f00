"""DecouplingConsumers driven through MiniStack's real event source mappings: QueueFunction (Shipments: one
poison message reaches the dead-letter queue after its receives, every other message is processed once;
Invoices: a FIFO queue, each order processed once) and StreamFunction (Clicks: every record processed once).
What the handlers did is read back from their log groups (the README's Powertools handlers log one JSON line
per message), with the helpers of ``decoupling_constructs.testing.observe``."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import TypeVar

from decoupling_constructs.testing import Deployment
from decoupling_constructs.testing.observe import function_log_group, logged_field_counts, queue_depth

from ._model import Progress, Result

STACK = "DecouplingConsumers"
# Why the demo synthesizes its own DecouplingConsumers (printed beside the stack's emulator).
VARIANT = (
    "synthesized here with ConsumerStack(powertools_layer=False): the Powertools layer's ARN comes from a public "
    "SSM parameter (/aws/service/powertools/...) that MiniStack cannot hold, and MiniStack runs the handlers on its "
    "own interpreter, which has Powertools"
)
# The Shipments queue's visibility timeout while the poison is retried: the stack's is 6x the handler's 20 s
# (120 s), so its receives would take max_receive_count x 2 minutes; the demo shortens it for the poison only,
# once the good messages are processed (a shorter one while a cold start runs would redeliver a batch in flight).
DEMO_VISIBILITY_S = 1

# How long a wait polls before the checks say what is missing: generous (a cold start on a loaded machine took more
# than 30 s); a wait ends as soon as what it waits for is there.
WAIT_S = 120.0

T = TypeVar("T")


def wait_until(read: Callable[[], T], done: Callable[[T], bool], *, timeout: float) -> T:
    """``read()`` until ``done`` holds of its value, or ``timeout`` seconds (then the last value: the caller's
    checks say what is missing)."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.5)


def queue_function_scenario(d: Deployment, messages: int, progress: Progress) -> Result:
    """Shipments (standard): ``messages`` good orders, each processed once; then one poison order (quantity 0),
    which reaches the DLQ after max_receive_count receives. Invoices (FIFO, two message groups): each order
    processed once."""
    result = Result("queue-function")
    sqs, logs, lambda_ = d.client("sqs"), d.client("logs"), d.client("lambda")
    url, dlq_url = d.outputs["ShipmentsQueueUrl"], d.outputs["ShipmentsDeadLetterQueueUrl"]
    run = uuid.uuid4().hex[:6]
    good = [f"{run}-s{n}" for n in range(messages)]
    poison = f"{run}-poison"
    for start in range(0, messages, 10):  # SendMessageBatch: at most 10 entries
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(n), "MessageBody": json.dumps({"id": order_id, "quantity": n + 1})}
                for n, order_id in enumerate(good[start : start + 10])
            ],
        )
    invoices = {f"{run}-i{n}": f"customer-{n % 2}" for n in range(6)}
    for order_id, group in invoices.items():
        sqs.send_message(
            QueueUrl=d.outputs["InvoicesQueueUrl"],
            MessageBody=json.dumps({"id": order_id, "quantity": 1}),
            MessageGroupId=group,
        )

    def processed(function: str, wanted: set[str]) -> Counter[str]:
        group = function_log_group(lambda_, d.outputs[function])

        def read() -> Counter[str]:
            counts = logged_field_counts(logs, group, "order_id", message="processed order")
            progress("queue-function", sum(1 for o in wanted if counts[o]), len(wanted))
            return counts

        return wait_until(read, lambda counts: wanted <= set(counts), timeout=WAIT_S)

    # The good orders with the queue's own visibility timeout: a batch in flight never reappears (no duplicate).
    shipments = processed("ShipmentsFunctionName", set(good))
    done = processed("InvoicesFunctionName", set(invoices))
    # Then the poison alone, the function warm, with the visibility timeout shortened (see DEMO_VISIBILITY_S).
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout", "RedrivePolicy"])
    visibility = attributes["Attributes"]["VisibilityTimeout"]
    receives = json.loads(attributes["Attributes"]["RedrivePolicy"])["maxReceiveCount"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": str(DEMO_VISIBILITY_S)})
    result.notes.append(
        f"the demo set the Shipments queue's visibility timeout from {visibility} s to {DEMO_VISIBILITY_S} s for the "
        f"poison, so its {receives} receives take seconds (on AWS: {receives} x {visibility} s)"
    )
    try:
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"id": poison, "quantity": 0}))
        dead: list[str] = []

        def drained() -> tuple[list[str], int]:
            received = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            dead.extend(json.loads(m["Body"])["id"] for m in received.get("Messages", []))
            return list(dead), queue_depth(sqs, url)

        dead_ids, left = wait_until(drained, lambda state: bool(state[0]) and state[1] == 0, timeout=WAIT_S)
    finally:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": visibility})
    shipments = logged_field_counts(
        logs, function_log_group(lambda_, d.outputs["ShipmentsFunctionName"]), "order_id", message="processed order"
    )
    result.injected_failures = receives
    once = sum(1 for o in good if shipments[o] == 1)
    result.check("every good message processed once", len(good), once)
    result.check("the poison alone in the DLQ", [poison], dead_ids)
    result.check("the poison never processed", 0, shipments[poison])
    result.check("Shipments queue empty", 0, left)
    result.check("Invoices (FIFO): each order processed once", len(invoices), sum(1 for o in invoices if done[o] == 1))
    result.rows += [
        ("Shipments (SQS -> Lambda)", f"{once} of {len(good)} good messages processed once"),
        (f"poison, after {receives} receives", f"in the DLQ: {dead_ids == [poison]}, never processed"),
        ("Invoices (FIFO SQS -> Lambda)", f"{sum(done[o] == 1 for o in invoices)} of {len(invoices)} processed once"),
    ]
    return result


def stream_function_scenario(d: Deployment, records: int, progress: Progress) -> Result:
    """Clicks: ``records`` clicks put on the stream; StreamFunction's handler processes each once (read from its
    log group). No poison record is sent: see the note."""
    result = Result("stream-function")
    kinesis, logs = d.client("kinesis"), d.client("logs")
    run = uuid.uuid4().hex[:6]
    pages = [f"/{run}/page-{i}" for i in range(records)]
    for start in range(0, records, 500):  # PutRecords: at most 500 records per call
        kinesis.put_records(
            StreamName=d.outputs["ClickStreamName"],
            Records=[
                {"Data": json.dumps({"page": page}).encode(), "PartitionKey": f"user-{i % 10}"}
                for i, page in enumerate(pages[start : start + 500], start)
            ],
        )
    group = function_log_group(d.client("lambda"), d.outputs["ClicksFunctionName"])

    def processed() -> Counter[str]:
        counts = logged_field_counts(logs, group, "page", message="processed click")
        progress("stream-function", sum(1 for p in pages if counts[p]), records)
        return counts

    counts = wait_until(processed, lambda c: set(pages) <= set(c), timeout=WAIT_S)
    result.check("every record processed once", records, sum(1 for p in pages if counts[p] == 1))
    result.check("on-failure queue empty", 0, queue_depth(d.client("sqs"), d.outputs["ClicksOnFailureQueueUrl"]))
    result.rows.append(
        ("Clicks (Kinesis -> Lambda)", f"{sum(1 for p in pages if counts[p] == 1)} of {records} processed once")
    )
    result.notes.append(
        "MiniStack's Kinesis event source mapping runs the success path only: it accepts and ignores "
        "BisectBatchOnFunctionError, MaximumRetryAttempts and the on-failure queue (a failing record would block "
        "the shard), so no poison record is sent; tests/runtime/test_stream_function_handler.py covers the "
        "handler's batchItemFailures"
    )
    return result
