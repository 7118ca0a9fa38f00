"""A complete QueueFunction handler: Powertools batch processing, one failed message reported at a time."""

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

logger = Logger(service="orders")
# Standard queue: each failed message is reported in batchItemFailures; the others are deleted.
standard = BatchProcessor(event_type=EventType.SQS)
# FIFO queue: a failed message also fails the rest of its message group in the batch (their order is kept);
# the other groups go on.
fifo = SqsFifoPartialProcessor(skip_group_on_error=True)


def record_handler(record: SQSRecord) -> None:
    """Process one message; raising reports it as failed (it is retried, then dead-lettered)."""
    order = json.loads(record.body)
    if not isinstance(order.get("quantity"), int) or order["quantity"] < 1:
        raise ValueError(f"order {order.get('id')!r} has no valid quantity")
    logger.info("processed order", extra={"order_id": order.get("id"), "message_id": record.message_id})


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event.get("Records") or [{}]
    processor = fifo if records[0].get("eventSourceARN", "").endswith(".fifo") else standard
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
