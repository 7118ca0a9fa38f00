"""A complete StreamFunction handler: Powertools batch processing of Kinesis records, failures by sequence number."""

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord

logger = Logger(service="clicks")
# Each failed record is reported by its sequence number in batchItemFailures: Lambda retries the shard from the
# first one reported (the records before it are done), then bisects, then sends its place to the on-failure queue.
processor = BatchProcessor(event_type=EventType.KinesisDataStreams)


def record_handler(record: KinesisStreamRecord) -> None:
    """Process one record; raising reports it as failed."""
    click = json.loads(record.kinesis.data_as_text())
    if not isinstance(click, dict) or not click.get("page"):
        raise ValueError(f"record {record.kinesis.sequence_number} has no page")
    logger.info("processed click", extra={"page": click["page"], "partition_key": record.kinesis.partition_key})


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
