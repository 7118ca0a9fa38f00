"""The README's StreamFunction handler (examples/stream_function_handler.py, the same file the reference stack deploys)
run in-process on Kinesis events in Lambda's shape: AWS's documented example record, and an event built from the
records moto's Kinesis really returned from GetRecords. Lambda reads the partial batch response by sequence number:
it retries the shard from the first failed record (bisecting, then the on-failure queue), which this emulates."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.runtime.examples import load_example

REGION = "us-east-1"


@pytest.fixture(scope="module")
def example() -> ModuleType:
    return load_example("stream_function_handler")


def kinesis_record(record: Mapping[str, Any], shard_id: str, stream_arn: str, region: str = REGION) -> dict[str, Any]:
    """One record of a Kinesis event, from a GetRecords record (the Lambda developer guide's event shape)."""
    sequence = record["SequenceNumber"]
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record["PartitionKey"],
            "sequenceNumber": sequence,
            "data": base64.b64encode(record["Data"]).decode(),
            "approximateArrivalTimestamp": record["ApproximateArrivalTimestamp"].timestamp(),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/lambda-role",
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }


def failed_sequence_numbers(event: Mapping[str, Any], response: Any) -> list[str]:
    """The sequence numbers a partial batch response reports, each one a record of the event (as Lambda needs:
    an unknown identifier fails the whole batch)."""
    assert isinstance(response, dict) and set(response) == {"batchItemFailures"}, response
    known = {r["kinesis"]["sequenceNumber"] for r in event["Records"]}
    failed = [item["itemIdentifier"] for item in response["batchItemFailures"]]
    assert set(failed) <= known, failed
    return failed


# AWS's example Kinesis record (Lambda developer guide, "Using Lambda with Kinesis"): its data is the text
# "Hello, this is a test.", not a click, so the handler must report it.
DOCUMENTED_RECORD = {
    "kinesis": {
        "kinesisSchemaVersion": "1.0",
        "partitionKey": "1",
        "sequenceNumber": "49590338271490256608559692538361571095921575989136588898",
        "data": "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==",
        "approximateArrivalTimestamp": 1545084650.987,
    },
    "eventSource": "aws:kinesis",
    "eventVersion": "1.0",
    "eventID": "shardId-000000000006:49590338271490256608559692538361571095921575989136588898",
    "eventName": "aws:kinesis:record",
    "invokeIdentityArn": "arn:aws:iam::123456789012:role/lambda-role",
    "awsRegion": "us-east-2",
    "eventSourceARN": "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream",
}


def click_like(record: Mapping[str, Any], data: bytes, sequence: str) -> dict[str, Any]:
    """``record`` with other data and sequence number."""
    payload = dict(record["kinesis"], data=base64.b64encode(data).decode(), sequenceNumber=sequence)
    return dict(record, kinesis=payload, eventID=f"shardId-000000000006:{sequence}")


GOOD_RECORD = click_like(
    DOCUMENTED_RECORD, b'{"page": "/"}', "49590338271490256608559692538361571095921575989136588899"
)


def test_documented_record_is_reported_by_its_sequence_number(example: ModuleType) -> None:
    event = {"Records": [GOOD_RECORD, DOCUMENTED_RECORD]}
    response = example.handler(event, None)
    assert failed_sequence_numbers(event, response) == ["49590338271490256608559692538361571095921575989136588898"]


def test_a_batch_that_fails_entirely_fails_the_invocation(example: ModuleType) -> None:
    """Powertools raises when every record failed: the invocation is an error (the function_errors alarm), and
    Lambda bisects and retries the batch as for a crash."""
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    with pytest.raises(BatchProcessingError):
        example.handler({"Records": [DOCUMENTED_RECORD]}, None)


def test_records_kinesis_returned_only_the_bad_one_is_reported(example: ModuleType) -> None:
    with mock_aws():
        client = boto3.client("kinesis", region_name=REGION)
        client.create_stream(StreamName="clicks", ShardCount=1)
        arn = client.describe_stream_summary(StreamName="clicks")["StreamDescriptionSummary"]["StreamARN"]
        clicks = [{"page": "/"}, {"page": ""}, {"page": "/cart"}, {"user": "u-1"}]
        client.put_records(
            StreamName="clicks",
            Records=[{"Data": json.dumps(c).encode(), "PartitionKey": f"u-{n}"} for n, c in enumerate(clicks)],
        )
        shard = client.list_shards(StreamName="clicks")["Shards"][0]["ShardId"]
        iterator = client.get_shard_iterator(StreamName="clicks", ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        records = client.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert len(records) == 4
    event = {"Records": [kinesis_record(r, shard, arn) for r in records]}
    response = example.handler(event, None)
    failed = failed_sequence_numbers(event, response)
    assert failed == [records[1]["SequenceNumber"], records[3]["SequenceNumber"]]
    # Lambda checkpoints before the first failed record: the first record is done, the rest is retried.
    first_failed = min(failed, key=int)
    assert [r["SequenceNumber"] for r in records if int(r["SequenceNumber"]) < int(first_failed)] == [
        records[0]["SequenceNumber"]
    ]


def test_a_clean_batch_reports_nothing(example: ModuleType) -> None:
    assert example.handler({"Records": [GOOD_RECORD]}, None) == {"batchItemFailures": []}
