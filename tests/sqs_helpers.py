"""Small SQS helpers shared by the runtime and fault tests."""

from __future__ import annotations

from typing import Any


def depth(sqs: Any, url: str) -> int:
    """Messages in a queue: visible plus in flight."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])
