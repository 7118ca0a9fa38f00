"""The consumer stack's handler, as docs/queue-function.md recommends: Powertools batch processing."""

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    order = json.loads(record.body)
    if not isinstance(order.get("quantity"), int) or order["quantity"] < 1:
        raise ValueError(f"order {order.get('id')!r} has no valid quantity")
    print("processed order", order["id"])


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
