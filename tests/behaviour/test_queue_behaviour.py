"""ReliableQueue behaviour: templates deployed into moto with decoupling_constructs.testing, driven with boto3.

Not emulated by moto, covered by template tests instead (tests/unit/test_queue.py):
the DLQ's RedriveAllowPolicy (moto drops it), KMS encryption of messages (moto
stores KmsMasterKeyId only), TLS-only policies and alarm state changes
(policies are stored, never enforced; alarms are created but never evaluated).
"""

from __future__ import annotations

import json
import threading
import time

import aws_cdk as cdk
import pytest
from aws_cdk import Duration

from decoupling_constructs import AlarmSettings, ReliableQueue
from decoupling_constructs.testing import Deployment, deploy_to_moto


class FastQueues(cdk.Stack):
    """Short timeouts so visibility and redrive behaviour can be observed in seconds."""

    def __init__(self, scope: cdk.App, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.work = ReliableQueue(
            self,
            "Work",
            visibility_timeout=Duration.seconds(2),
            max_receive_count=2,
            alarm_settings=AlarmSettings(overrides={"oldest_message_age": None}),
        )
        self.ordered = ReliableQueue(self, "Ordered", fifo=True, visibility_timeout=Duration.seconds(2))


@pytest.fixture(scope="module")
def fast_stack() -> FastQueues:
    return FastQueues(cdk.App(), "FastQueues")


@pytest.fixture
def reference(aws, reference_stacks) -> tuple[cdk.Stack, Deployment]:
    stack = reference_stacks["DecouplingReliableQueue"]
    return stack, deploy_to_moto(stack)


@pytest.fixture
def fast(aws, fast_stack) -> tuple[FastQueues, Deployment]:
    return fast_stack, deploy_to_moto(fast_stack)


def receive(sqs, url: str, n: int = 10, wait: int = 0, **kwargs) -> list[dict]:
    return sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=n, WaitTimeSeconds=wait, AttributeNames=["All"], **kwargs
    ).get("Messages", [])


def count(sqs, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def test_deployed_queues_have_the_construct_settings(reference) -> None:
    stack, deployment = reference
    sqs = deployment.client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=deployment.queue_url(stack.jobs.queue), AttributeNames=["All"])[
        "Attributes"
    ]
    assert attributes["ReceiveMessageWaitTimeSeconds"] == "20"
    assert attributes["MessageRetentionPeriod"] == str(4 * 24 * 3600)
    assert attributes["SqsManagedSseEnabled"] == "true"
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": deployment.queue_arn(stack.jobs.dead_letter_queue),
        "maxReceiveCount": 5,
    }
    assert "sqs:*" in attributes["Policy"]  # the TLS-only policy was completed onto the queue


def test_message_failed_max_receive_count_times_lands_in_dlq(reference) -> None:
    stack, deployment = reference
    sqs = deployment.client("sqs")
    url = deployment.queue_url(stack.jobs.queue)
    dlq_url = deployment.queue_url(stack.jobs.dead_letter_queue)
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    for attempt in range(1, 6):  # max_receive_count defaults to 5
        (message,) = receive(sqs, url)
        assert message["Attributes"]["ApproximateReceiveCount"] == str(attempt)
        # A consumer failed: make it visible again at once instead of waiting 30 s.
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    assert receive(sqs, url) == []  # the 6th receive moves it
    (dead,) = receive(sqs, dlq_url)
    assert dead["Body"] == "poison"


def test_fifo_message_moves_to_fifo_dlq_after_its_max_receive_count(reference) -> None:
    stack, deployment = reference
    sqs = deployment.client("sqs")
    url = deployment.queue_url(stack.orders.queue)
    sqs.send_message(QueueUrl=url, MessageBody="order-1", MessageGroupId="customer-1")
    for _ in range(3):  # the reference FIFO queue has max_receive_count=3
        (message,) = receive(sqs, url)
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    assert receive(sqs, url) == []
    (dead,) = receive(sqs, deployment.queue_url(stack.orders.dead_letter_queue))
    assert dead["Body"] == "order-1"
    assert dead["Attributes"]["MessageGroupId"] == "customer-1"


def test_long_polling_waits_on_an_empty_queue(fast) -> None:
    stack, deployment = fast
    sqs = deployment.client("sqs")
    url = deployment.queue_url(stack.work.queue)
    started = time.monotonic()
    assert receive(sqs, url, wait=2) == []
    assert time.monotonic() - started >= 1.9


def test_queue_long_polling_applies_and_returns_early_when_a_message_arrives(reference) -> None:
    """No WaitTimeSeconds in the call: the queue's own 20 s long polling applies, and a
    message sent 1 s later ends the wait at once rather than after 20 s."""
    stack, deployment = reference
    sqs = deployment.client("sqs")
    url = deployment.queue_url(stack.jobs.queue)
    sender = threading.Timer(1.0, lambda: deployment.client("sqs").send_message(QueueUrl=url, MessageBody="late"))
    started = time.monotonic()
    sender.start()
    try:
        messages = sqs.receive_message(QueueUrl=url).get("Messages", [])
    finally:
        sender.join()
    elapsed = time.monotonic() - started
    assert [m["Body"] for m in messages] == ["late"]
    assert 0.9 <= elapsed < 10, elapsed  # waited for the message, not the full 20 s


def test_unacknowledged_message_reappears_after_the_visibility_timeout(fast) -> None:
    stack, deployment = fast
    sqs = deployment.client("sqs")
    url = deployment.queue_url(stack.work.queue)
    sqs.send_message(QueueUrl=url, MessageBody="job")
    assert len(receive(sqs, url)) == 1
    assert receive(sqs, url) == []  # in flight: hidden
    time.sleep(2.2)  # visibility_timeout=2 s
    assert [m["Body"] for m in receive(sqs, url)] == ["job"]


def test_change_message_visibility_extends_the_timeout(fast) -> None:
    stack, deployment = fast
    sqs = deployment.client("sqs")
    url = deployment.queue_url(stack.work.queue)
    sqs.send_message(QueueUrl=url, MessageBody="slow job")
    (message,) = receive(sqs, url)
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=4)
    time.sleep(2.5)  # past the queue's 2 s timeout, inside the extension
    assert receive(sqs, url) == []
    time.sleep(2.0)
    assert [m["Body"] for m in receive(sqs, url)] == ["slow job"]


def test_fifo_delivers_in_order_within_a_group_and_blocks_the_group_in_flight(fast) -> None:
    stack, deployment = fast
    sqs = deployment.client("sqs")
    url = deployment.queue_url(stack.ordered.queue)
    for group, n in [("a", 1), ("b", 1), ("a", 2), ("a", 3), ("b", 2)]:
        sqs.send_message(
            QueueUrl=url, MessageBody=f"{group}{n}", MessageGroupId=group, MessageDeduplicationId=f"{group}{n}"
        )
    (first,) = receive(sqs, url, n=1)
    assert first["Body"] == "a1"
    (second,) = receive(sqs, url, n=1)
    assert second["Body"] == "b1"  # group a is blocked while a1 is in flight
    assert receive(sqs, url, n=1) == []  # both groups blocked
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    assert [m["Body"] for m in receive(sqs, url, n=1)] == ["a2"]


def test_content_based_deduplication_drops_a_duplicate_send(reference) -> None:
    stack, deployment = reference
    sqs = deployment.client("sqs")
    url = deployment.queue_url(stack.orders.queue)  # content_based_deduplication=True
    for _ in range(2):  # the duplicate is accepted, not delivered
        sqs.send_message(QueueUrl=url, MessageBody='{"order": 1}', MessageGroupId="c1")
    sqs.send_message(QueueUrl=url, MessageBody='{"order": 2}', MessageGroupId="c1")
    assert count(sqs, url) == 2
    assert [m["Body"] for m in receive(sqs, url)] == ['{"order": 1}', '{"order": 2}']


def test_fifo_without_content_dedup_requires_a_deduplication_id(fast) -> None:
    stack, deployment = fast
    sqs = deployment.client("sqs")
    with pytest.raises(sqs.exceptions.ClientError, match="MessageDeduplicationId"):
        sqs.send_message(QueueUrl=deployment.queue_url(stack.ordered.queue), MessageBody="x", MessageGroupId="g")


def test_batches_of_ten_for_send_receive_and_delete(reference) -> None:
    stack, deployment = reference
    sqs = deployment.client("sqs")
    url = deployment.queue_url(stack.jobs.queue)
    sent = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"job-{i}"} for i in range(10)])
    assert len(sent["Successful"]) == 10
    with pytest.raises(sqs.exceptions.TooManyEntriesInBatchRequest):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(11)])
    received = receive(sqs, url, n=10)
    assert len(received) == 10
    deleted = sqs.delete_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)]
    )
    assert len(deleted["Successful"]) == 10
    assert count(sqs, url) == 0


def test_alarms_watch_the_deployed_queues(reference) -> None:
    stack, deployment = reference
    cloudwatch = deployment.client("cloudwatch")
    alarms = {
        deployment.physical_id(alarm): alarm for alarm in [*stack.jobs.alarms.values(), *stack.orders.alarms.values()]
    }
    described = {a["AlarmName"]: a for a in cloudwatch.describe_alarms(AlarmNames=list(alarms))["MetricAlarms"]}
    assert set(described) == set(alarms)
    dlq_alarm = described[deployment.physical_id(stack.jobs.alarms["dead_letter_queue"])]
    dlq_name = deployment.attribute(stack.jobs.dead_letter_queue, "QueueName")
    assert dlq_alarm["Dimensions"] == [{"Name": "QueueName", "Value": dlq_name}]
    assert dlq_alarm["AlarmActions"] == [deployment.outputs["AlarmTopicArn"]]
