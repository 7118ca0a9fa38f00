"""What a deployed consumer did, read back through the services: a queue's depth, the JSON lines a function logged.

::

    from decoupling_constructs.testing.observe import function_log_group, logged_field_counts, queue_depth

    group = function_log_group(deployment.client("lambda"), function_name)
    processed = logged_field_counts(deployment.client("logs"), group, "order_id", message="processed order")
    assert queue_depth(sqs, queue_url) == 0

The log reader parses the JSON lines a handler writes (Powertools' ``Logger``, or ``print(json.dumps(...))``) and
counts one field's values; lines that are not JSON objects (Lambda's START/END/REPORT lines) are skipped.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any


def queue_depth(sqs: Any, url: str) -> int:
    """Messages in the queue, visible or in flight (SQS's approximate counts)."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def function_log_group(lambda_client: Any, function_name: str) -> str:
    """The log group the function writes to: its ``LoggingConfig.LogGroup`` (a log group of its own, as the
    reference stacks give), else Lambda's default ``/aws/lambda/<name>``."""
    configuration = lambda_client.get_function_configuration(FunctionName=function_name)
    group = (configuration.get("LoggingConfig") or {}).get("LogGroup")
    return str(group or f"/aws/lambda/{function_name}")


def logged_field_counts(logs: Any, log_group: str, field: str, *, message: str | None = None) -> Counter[str]:
    """How many times each value of ``field`` was logged in ``log_group``'s JSON lines (only the lines whose
    ``message`` is ``message``, when given). An absent log group counts nothing (the function has not run)."""
    counts: Counter[str] = Counter()
    kwargs: dict[str, Any] = {"logGroupName": log_group}
    while True:
        try:
            page = logs.filter_log_events(**kwargs)
        except logs.exceptions.ResourceNotFoundException:
            return counts
        for event in page.get("events", []):
            for line in event["message"].splitlines():
                entry = _json_object(line)
                if entry is None or field not in entry or (message is not None and entry.get("message") != message):
                    continue
                counts[str(entry[field])] += 1
        if not page.get("nextToken"):
            return counts
        kwargs["nextToken"] = page["nextToken"]


def _json_object(line: str) -> dict[str, Any] | None:
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


__all__ = ["function_log_group", "logged_field_counts", "queue_depth"]
