"""Testing a QueueFunction handler on the event Lambda would send, built from messages SQS really returned."""

import json

import boto3
from moto import mock_aws
from queue_function_handler import handler

from decoupling_constructs.testing.lambda_events import failed_message_ids, sqs_event


@mock_aws
def test_only_the_bad_order_is_reported_failed() -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for order in ({"id": "a", "quantity": 2}, {"id": "b", "quantity": 0}):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(order))
    messages = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"]
    )["Messages"]

    event = sqs_event(messages, arn)
    failed = failed_message_ids(event, handler(event, None))  # raises where Lambda would retry the whole batch

    bad = next(m["MessageId"] for m in messages if json.loads(m["Body"])["id"] == "b")
    assert failed == [bad]
