"""The boto3 runtime helpers (`pip install "decoupling-constructs[runtime]"`): send, consume, stream, redrive.

Each function takes the URL, name or ARN from your stack's outputs; boto3 finds credentials, region and any
AWS_ENDPOINT_URL as usual (or pass client=).
"""

import json
from typing import Any

from decoupling_constructs.runtime import ConsumerStats, QueueConsumer, QueueProducer, StreamProducer, redrive


def send_jobs(queue_url: str, jobs: list[dict[str, Any]]) -> int:
    """SendMessageBatch of up to 10; only the entries SQS reports failed are resent. Acknowledged on leaving `with`."""
    with QueueProducer(queue_url) as producer:
        for job in jobs:
            producer.send(json.dumps(job), attributes={"kind": job["kind"]})
    return producer.stats.sent


def handle(message: dict[str, Any]) -> None:
    """One message; raising leaves it for redelivery (and the DLQ after max_receive_count receives)."""
    job = json.loads(message["Body"])
    if job["kind"] == "broken":
        raise ValueError(f"cannot process job {job['id']}")


def work(queue_url: str) -> ConsumerStats:
    """Long-poll, handle, delete in batches; returns once the queue has been idle for 2 seconds."""
    return QueueConsumer(queue_url, handle, max_in_flight=20).run(idle_timeout=2)


def put_clicks(stream_name: str, clicks: list[dict[str, Any]]) -> int:
    """PutRecords of up to 500; `ordered=True` keeps each partition key's order through retries."""
    with StreamProducer(stream_name, ordered=True) as producer:
        for click in clicks:
            producer.put(json.dumps(click), partition_key=click["user"])
    return producer.stats.sent


def redrive_dead_letters(dead_letter_queue_arn: str) -> int:
    """Moves the DLQ's messages back to their source queue (StartMessageMoveTask, or a copy where it is missing)."""
    result = redrive(dead_letter_queue_arn, max_per_second=50)
    if not result.ok:
        raise RuntimeError(f"redrive {result.status}: {result.failure_reason}")
    return result.moved
