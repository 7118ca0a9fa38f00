"""A Firehose data-transformation Lambda: clicks in, one JSON line per click out, partitioned by page.

Each record gets exactly one answer: a click is Ok (with its partition keys), a bot's click is Dropped, a record
that is not a click fails (ProcessingFailed: Firehose writes its original under the processing-failed prefix).
"""

import json

from decoupling_constructs.runtime import FirehoseRecord, Transformed, firehose_transform


@firehose_transform
def handler(data: bytes, record: FirehoseRecord) -> Transformed | None:
    click = json.loads(data)  # not JSON: this record fails, the others go on
    if click.get("bot"):
        return None  # Dropped
    row = {
        "page": click["page"],  # no page: this record fails
        "user": click.get("user"),
        "arrived_ms": record.approximate_arrival_timestamp,
        "shard": record.kinesis.shard_id if record.kinesis else None,  # set when a Kinesis stream is the source
    }
    # Fills !{partitionKeyFromLambda:page} in the S3 prefix (dynamic partitioning with Lambda keys).
    return Transformed(row, partition_keys={"page": str(click["page"])})
