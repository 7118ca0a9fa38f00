"""The README's QueueFunction handler (examples/queue_function_handler.py, the same file the reference stack deploys)
run in-process on SQS events in Lambda's exact shape: AWS's documented example event, and events built from what
moto's SQS really returned for standard and FIFO queues. The partial batch response is read as Lambda reads it."""

from __future__ import annotations

import json
import uuid
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from decoupling_constructs.testing.lambda_events import failed_message_ids, sqs_event
from tests.runtime.examples import load_example

REGION = "us-east-1"


@pytest.fixture(scope="module")
def example() -> ModuleType:
    return load_example("queue_function_handler")


def order(order_id: str, quantity: Any = 1) -> str:
    return json.dumps({"id": order_id, "quantity": quantity})


# AWS's example standard-queue event (Lambda developer guide, "Using Lambda with Amazon SQS"), second body made bad.
DOCUMENTED_EVENT = {
    "Records": [
        {
            "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
            "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
            "body": order("o-1"),
            "attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": "1545082649183",
                "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                "ApproximateFirstReceiveTimestamp": "1545082649185",
            },
            "messageAttributes": {},
            "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:my-queue",
            "awsRegion": "us-east-2",
        },
        {
            "messageId": "2e1424d4-f796-459a-8184-9c92662be6da",
            "receiptHandle": "AQEBzWwaftRI0KuVm4tP+/7q1rGgNqicHq...",
            "body": "not json",
            "attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": "1545082650636",
                "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                "ApproximateFirstReceiveTimestamp": "1545082650649",
            },
            "messageAttributes": {},
            "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:my-queue",
            "awsRegion": "us-east-2",
        },
    ]
}


def test_documented_event_reports_only_the_bad_message(example: ModuleType) -> None:
    response = example.handler(DOCUMENTED_EVENT, None)
    assert response == {"batchItemFailures": [{"itemIdentifier": "2e1424d4-f796-459a-8184-9c92662be6da"}]}


def test_a_batch_that_all_succeeds_reports_nothing(example: ModuleType) -> None:
    event = {"Records": [DOCUMENTED_EVENT["Records"][0]]}
    assert failed_message_ids(event, example.handler(event, None)) == []


def receive_batch(sqs: Any, url: str, count: int) -> list[dict[str, Any]]:
    """``count`` messages as Lambda's poller receives them (every attribute), across receives if SQS splits them."""
    messages: list[dict[str, Any]] = []
    while len(messages) < count:
        got = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        assert got, f"SQS returned {len(messages)} of {count} messages"
        messages += got
    return messages


@mock_aws
def test_standard_batch_from_real_sqs_messages_fails_only_the_poison(example: ModuleType) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName=f"orders-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    ids = {}
    for n in range(10):
        body = order(f"o-{n}", quantity=0 if n == 4 else n + 1)  # o-4 is the poison
        ids[f"o-{n}"] = sqs.send_message(
            QueueUrl=url, MessageBody=body, MessageAttributes={"kind": {"DataType": "String", "StringValue": "order"}}
        )["MessageId"]
    event = sqs_event(receive_batch(sqs, url, 10), arn)
    assert event["Records"][0]["messageAttributes"]["kind"]["stringValue"] == "order"
    assert event["Records"][0]["attributes"]["ApproximateReceiveCount"] == "1"

    failed = failed_message_ids(event, example.handler(event, None))

    assert failed == [ids["o-4"]]


@mock_aws
def test_fifo_failure_fails_the_rest_of_its_group_and_only_that_group(example: ModuleType) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(
        QueueName=f"orders-{uuid.uuid4().hex[:8]}.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sent = {}
    # Interleaved groups: a-2 is the poison; a-3 comes after it in group "a"; group "b" is healthy.
    for name, group, quantity in (("a-1", "a", 1), ("b-1", "b", 1), ("a-2", "a", 0), ("b-2", "b", 2), ("a-3", "a", 3)):
        sent[name] = sqs.send_message(QueueUrl=url, MessageBody=order(name, quantity), MessageGroupId=group)[
            "MessageId"
        ]
    event = sqs_event(receive_batch(sqs, url, 5), arn)
    assert {r["attributes"]["MessageGroupId"] for r in event["Records"]} == {"a", "b"}
    assert [r["messageId"] for r in event["Records"] if r["attributes"]["MessageGroupId"] == "a"] == [
        sent["a-1"],
        sent["a-2"],
        sent["a-3"],
    ]

    failed = failed_message_ids(event, example.handler(event, None))

    # a-3 is fine but must not be processed before a-2 succeeds: it fails with it and keeps its place.
    assert sorted(failed) == sorted([sent["a-2"], sent["a-3"]])


@pytest.mark.parametrize(
    "response",
    [
        "ok",
        {"batchItemFailures": "m-1"},
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"itemIdentifier": "not-in-the-batch"}]},
    ],
)
def test_a_malformed_partial_batch_response_fails_the_whole_batch(response: Any) -> None:
    with pytest.raises(ValueError, match="whole batch"):
        failed_message_ids(DOCUMENTED_EVENT, response)
