"""An SNS HTTPS subscriber (`pip install "decoupling-constructs[receivers]"`): a Lambda Function URL handler,
and the same receiver in any WSGI app.

The receiver confirms the subscription, checks every message's signature, refuses other topics, delivers each
MessageId once, and answers 500 when `deliver` raises so that SNS retries.
"""

import json
import logging
import os
from collections.abc import Callable, Iterable
from typing import Any

from decoupling_constructs.runtime import SnsMessage, SnsReceiver

logger = logging.getLogger("orders")


def process_order(order: dict[str, Any]) -> None:
    logger.info("order %s received", order["id"])


def deliver(message: SnsMessage) -> None:
    """One verified notification, once per MessageId; raising answers 500 and SNS delivers it again."""
    process_order(json.loads(message.message))


receiver = SnsReceiver(topic_arns=[os.environ["ORDERS_TOPIC_ARN"]], deliver=deliver)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda Function URL (or API Gateway HTTP API) handler."""
    return receiver.lambda_handler(event, context)


def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The same receiver behind any WSGI server (gunicorn, Flask's app.wsgi_app, ...)."""
    headers = {key[5:].replace("_", "-"): value for key, value in environ.items() if key.startswith("HTTP_")}
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    status, answer_headers, answer = receiver.handle(headers, body)
    start_response(f"{status} {'OK' if status == 200 else 'Error'}", list(answer_headers.items()))
    return [answer]
