"""The demo's http-endpoint pattern: DecouplingStreamToHttpEndpoint, deployed by `cdk deploy` into MiniStack.

What MiniStack can show of it: the stream takes the records, and the delivery stream is ACTIVE on that stream with
the endpoint, buffering and backup mode the construct rendered. What it cannot: MiniStack's Firehose POSTs nothing
to an HTTP endpoint (records for one "buffer in-memory"), so delivery, retries and backups are proven only by the
template tests; the receiving side is proven against spec-built requests (docs/stream-to-http-endpoint.md).
"""

from __future__ import annotations

import json

from decoupling_constructs.runtime.stream import StreamProducer
from decoupling_constructs.testing import Deployment

from ..http_endpoint_stack import ENDPOINT_URL
from ._model import Progress, Result

PATTERN = "http-endpoint"


def http_endpoint_scenario(d: Deployment, records: int, progress: Progress) -> Result:
    result = Result(PATTERN)
    kinesis, firehose = d.client("kinesis"), d.client("firehose")
    stream = d.outputs["StreamName"]
    with StreamProducer(stream, client=kinesis) as producer:
        for i in range(records):
            producer.put(json.dumps({"event": i}).encode(), partition_key=str(i))
    progress(PATTERN, records, records)
    described = firehose.describe_delivery_stream(DeliveryStreamName=d.outputs["DeliveryStreamName"])
    description = described["DeliveryStreamDescription"]
    (destination,) = description["Destinations"]
    http = destination.get("HttpEndpointDestinationDescription", {})
    result.check("delivery stream active", "ACTIVE", description["DeliveryStreamStatus"])
    source = description.get("Source", {}).get("KinesisStreamSourceDescription", {})
    result.check("reads the stream", True, source.get("KinesisStreamARN", "").endswith("/" + stream))
    result.check("endpoint URL", ENDPOINT_URL, http.get("EndpointConfiguration", {}).get("Url"))
    result.check("backup of failed batches", "FailedDataOnly", http.get("S3BackupMode"))
    result.rows += [
        ("records put on the stream", f"{records:,}"),
        ("endpoint", f"{ENDPOINT_URL} (buffer {http.get('BufferingHints')})"),
    ]
    result.notes.append(
        "emulator differs from AWS: MiniStack's Firehose POSTs nothing to an HTTP endpoint, so delivery, retries "
        "and backups are proven by the template tests only"
    )
    return result
