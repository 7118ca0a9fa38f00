"""Your own Firehose HTTP endpoint: one receiver, served by a Lambda Function URL (`handler`) or any WSGI server
(`wsgi_app`; behind TLS on port 443, which is all Firehose sends to).

FIREHOSE_ACCESS_KEY is the stream's access key (the `api_key` of its Secrets Manager secret); the records of each
request are appended as lines to FIREHOSE_OUTPUT, standing in for your database.
"""

import os
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from decoupling_constructs.runtime import FirehoseDelivery, FirehoseHttpReceiver


def store(delivery: FirehoseDelivery) -> None:
    """Raising answers 500: Firehose retries with the same request id, which is delivered again (not de-duplicated,
    since this delivery failed)."""
    with open(os.environ["FIREHOSE_OUTPUT"], "ab") as out:
        for data in delivery.records:
            out.write(data.rstrip(b"\n") + b"\n")


receiver = FirehoseHttpReceiver(os.environ["FIREHOSE_ACCESS_KEY"], deliver=store)
handler = receiver.lambda_handler  # Lambda Function URL or API Gateway


def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(min(length, receiver.max_body_bytes + 1))  # never more than the limit + 1
    headers = {name[5:].replace("_", "-"): value for name, value in environ.items() if name.startswith("HTTP_")}
    status, response_headers, response = receiver.handle(headers, body)
    start_response(f"{status} {HTTPStatus(status).phrase}", list(response_headers.items()))
    return [response]
