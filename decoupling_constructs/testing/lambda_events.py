"""The event Lambda's SQS event source mapping gives a function, built from messages SQS really returned.

::

    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"],
                                   MessageAttributeNames=["All"])["Messages"]
    event = sqs_event(messages, queue_arn)
    response = handler(event, None)              # {"batchItemFailures": [{"itemIdentifier": <messageId>}, ...]}
    failed = failed_message_ids(event, response)

The shape is Lambda's (developer guide, "Using Lambda with Amazon SQS", example standard and FIFO events):
one record per message with ``messageId``, ``receiptHandle``, ``body``, ``attributes`` (system attributes as
strings), ``messageAttributes`` (camelCase keys), ``md5OfBody``, ``eventSource``, ``eventSourceARN`` and
``awsRegion``. :func:`failed_message_ids` reads the partial batch response as Lambda does with
``ReportBatchItemFailures``, and raises where Lambda would fail the whole batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Json = Any

# ReceiveMessage's attribute keys -> the record's (Lambda lowercases the first letter, drops nothing else).
_MESSAGE_ATTRIBUTE_KEYS = {
    "StringValue": "stringValue",
    "BinaryValue": "binaryValue",
    "StringListValues": "stringListValues",
    "BinaryListValues": "binaryListValues",
    "DataType": "dataType",
}


def sqs_record(message: Mapping[str, Json], queue_arn: str) -> dict[str, Json]:
    """One record of the event, from one message of a ReceiveMessage response (asked with all attributes)."""
    region = queue_arn.split(":")[3]
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {key: str(value) for key, value in message.get("Attributes", {}).items()},
        "messageAttributes": {
            name: {
                "stringListValues": [],
                "binaryListValues": [],
                **{_MESSAGE_ATTRIBUTE_KEYS[k]: v for k, v in value.items() if k in _MESSAGE_ATTRIBUTE_KEYS},
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def sqs_event(messages: Sequence[Mapping[str, Json]], queue_arn: str) -> dict[str, Json]:
    """The event for one batch: ``{"Records": [...]}`` in the order SQS returned the messages."""
    return {"Records": [sqs_record(message, queue_arn) for message in messages]}


def failed_message_ids(event: Mapping[str, Json], response: Json) -> list[str]:
    """The message ids a partial batch response reports as failed, read as Lambda reads it.

    An empty or absent ``batchItemFailures`` means every message succeeded. A response that is not a dict
    with a list, or an ``itemIdentifier`` that is empty or not in the batch, makes Lambda fail the whole
    batch: this raises ``ValueError`` (Lambda developer guide, "Implementing partial batch responses").
    """
    if response is None:
        return []
    if not isinstance(response, Mapping):
        raise ValueError(f"a partial batch response must be a dict, got {response!r}: Lambda retries the whole batch")
    failures = response.get("batchItemFailures") or []
    if not isinstance(failures, list):
        raise ValueError(f"batchItemFailures must be a list, got {failures!r}: Lambda retries the whole batch")
    in_batch = {record["messageId"] for record in event["Records"]}
    failed: list[str] = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, Mapping) else None
        if not identifier or identifier not in in_batch:
            raise ValueError(
                f"itemIdentifier {identifier!r} is empty or not a message of the batch: Lambda retries the whole batch"
            )
        failed.append(identifier)
    return failed
