"""StreamToS3 behaviour: the reference stack DecouplingStreamToS3 deployed into moto with
decoupling_constructs.testing, driven with boto3.

The expected values are computed here independently of the construct: the shard count
from ``capacity.plan(CLICKSTREAM)``, a record's shard from MD5(partition key) and the
shards' hash-key ranges, the prefixes from the module defaults and the reference stack's
literals, the ARNs from what moto reports for the deployed resources.

Not emulated by moto, covered by template tests instead (tests/unit/test_stream_to_s3.py):

* on-demand mode and KMS encryption of the streams: moto's CloudFormation ignores
  StreamModeDetails and StreamEncryption (the audit-trail stream is a 1-shard
  provisioned stream here, with EncryptionType NONE);
* Firehose reading the stream: moto never consumes a Kinesis source, so nothing reaches
  S3 by itself. The delivery runs for real in tests/behaviour/test_cdk_deploy.py, where
  the stack is deployed by `cdk deploy` into MiniStack, whose Firehose reads the stream;
* IAM: the delivery role's policy is stored, never enforced;
* alarms: created, never evaluated.

moto limitations found while writing these tests (moto 5.2.5):

* PutRecordBatch is accepted on a KinesisStreamAsSource delivery stream (AWS disables
  PutRecord and PutRecordBatch on such a delivery stream) and writes to S3 at once;
* S3 bucket policies are enforced on object calls, wrongly: moto judges a statement whose
  Condition does not hold as a Deny whatever its Effect, and gives S3 requests no
  condition keys. CDK's TLS-only statement (Deny s3:* when aws:SecureTransport is false)
  therefore makes moto answer 403 to every GetObject, HeadObject and PutObject
  (ListObjectsV2 still works; Firehose's own writes bypass the check);
* DescribeAlarmsForMetric ignores Dimensions: it returns every alarm on the metric name.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from fnmatch import fnmatchcase
from typing import Any

import pytest

from decoupling_constructs import StreamToS3
from decoupling_constructs.capacity import plan
from decoupling_constructs.streams import DEFAULT_DATA_PREFIX, DEFAULT_ERROR_PREFIX
from decoupling_constructs.testing import Deployment, deploy_to_moto
from stacks.stream_stack import CLICKSTREAM, StreamToS3Stack

# The prefixes each reference pipeline was given: the module defaults, and the literals of stacks/stream_stack.py.
PREFIXES = {
    "clickstream": (DEFAULT_DATA_PREFIX, DEFAULT_ERROR_PREFIX),
    "audit_trail": ("audit/!{timestamp:yyyy}/!{timestamp:MM}/", "audit-errors/!{firehose:error-output-type}/"),
}
OUTPUT_NAMES = {"clickstream": "Clickstream", "audit_trail": "AuditTrail"}
KINESIS_READ_ACTIONS = {
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
}
BUCKET_ACTIONS = {"s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"}
OBJECT_ACTIONS = {"s3:PutObject", "s3:AbortMultipartUpload"}
MAX_HASH_KEY = 2**128 - 1

pipelines = pytest.mark.parametrize("name", ["clickstream", "audit_trail"])


@pytest.fixture
def reference(aws, reference_stacks) -> tuple[StreamToS3Stack, Deployment]:
    stack = reference_stacks["DecouplingStreamToS3"]
    return stack, deploy_to_moto(stack)


def static_part(prefix: str) -> str:
    """What Firehose writes literally: the prefix up to its first ``!{...}`` expression."""
    return prefix.split("!{", 1)[0]


def open_shards(kinesis: Any, stream_name: str) -> list[dict]:
    shards = kinesis.list_shards(StreamName=stream_name)["Shards"]
    return [s for s in shards if "EndingSequenceNumber" not in s["SequenceNumberRange"]]


def shard_for(partition_key: str, shards: list[dict]) -> str:
    """The one shard whose hash-key range holds MD5(partition key) read as a 128-bit integer."""
    hash_key = int(hashlib.md5(partition_key.encode()).hexdigest(), 16)
    (shard_id,) = [
        s["ShardId"]
        for s in shards
        if int(s["HashKeyRange"]["StartingHashKey"]) <= hash_key <= int(s["HashKeyRange"]["EndingHashKey"])
    ]
    return str(shard_id)


def read_shard(kinesis: Any, stream_name: str, shard_id: str, limit: int = 25) -> list[dict]:
    """Every record of a shard from TRIM_HORIZON, GetRecords until a call returns none."""
    iterator = kinesis.get_shard_iterator(StreamName=stream_name, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    records: list[dict] = []
    for _ in range(1000):
        response = kinesis.get_records(ShardIterator=iterator, Limit=limit)
        if not response["Records"]:
            return records
        records += response["Records"]
        iterator = response["NextShardIterator"]
    raise AssertionError(f"{shard_id} never ran dry")


def put_records(kinesis: Any, stream_name: str, entries: list[tuple[str, dict]]) -> dict:
    response = kinesis.put_records(
        StreamName=stream_name,
        Records=[{"PartitionKey": key, "Data": json.dumps(data).encode() + b"\n"} for key, data in entries],
    )
    assert response["FailedRecordCount"] == 0
    return response


def test_streams_exist_with_the_planned_shards_and_24_hour_retention(reference) -> None:
    stack, deployment = reference
    kinesis = deployment.client("kinesis")
    expected_shards = plan(CLICKSTREAM).shards
    assert expected_shards > 1  # routing below is only meaningful across several shards

    clickstream = deployment.physical_id(stack.clickstream.stream)
    assert clickstream == deployment.outputs["ClickstreamStreamName"]
    summary = kinesis.describe_stream_summary(StreamName=clickstream)["StreamDescriptionSummary"]
    assert summary["StreamStatus"] == "ACTIVE"
    assert summary["StreamARN"] == deployment.attribute(stack.clickstream.stream, "Arn")
    assert summary["OpenShardCount"] == expected_shards
    assert len(open_shards(kinesis, clickstream)) == expected_shards
    assert summary["RetentionPeriodHours"] == 24

    # The audit trail is on demand, but moto's CloudFormation ignores StreamModeDetails (it makes a
    # 1-shard provisioned stream): only its existence and retention are what moto can show.
    audit_trail = deployment.physical_id(stack.audit_trail.stream)
    assert audit_trail == deployment.outputs["AuditTrailStreamName"]
    assert audit_trail != clickstream
    summary = kinesis.describe_stream_summary(StreamName=audit_trail)["StreamDescriptionSummary"]
    assert summary["StreamStatus"] == "ACTIVE"
    assert summary["StreamARN"] == deployment.attribute(stack.audit_trail.stream, "Arn")
    assert summary["RetentionPeriodHours"] == 24


def test_records_land_on_the_shard_of_their_partition_key_in_put_order(reference) -> None:
    stack, deployment = reference
    kinesis = deployment.client("kinesis")
    stream = deployment.physical_id(stack.clickstream.stream)
    shards = open_shards(kinesis, stream)
    ranges = sorted(
        (int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"])) for s in shards
    )
    assert [start for start, _ in ranges] == [0] + [end + 1 for _, end in ranges[:-1]]  # the shards tile
    assert ranges[-1][1] == MAX_HASH_KEY  # the whole 128-bit hash-key space
    keys = [f"user-{i}" for i in range(20)]
    expected_shard = {key: shard_for(key, shards) for key in keys}
    assert set(expected_shard.values()) == {s["ShardId"] for s in shards}  # the keys reach every shard

    # 200 records, 10 per key, interleaved across keys, in two PutRecords calls.
    entries = [(key, {"key": key, "seq": seq}) for seq in range(10) for key in keys]
    for batch in (entries[:100], entries[100:]):
        response = put_records(kinesis, stream, batch)
        assert [r["ShardId"] for r in response["Records"]] == [expected_shard[key] for key, _ in batch]

    read: dict[str, list[int]] = defaultdict(list)
    total = 0
    for shard in shards:
        records = read_shard(kinesis, stream, shard["ShardId"])
        sequence_numbers = [int(r["SequenceNumber"]) for r in records]
        assert sequence_numbers == sorted(set(sequence_numbers))
        for record in records:
            data = json.loads(record["Data"])
            assert record["PartitionKey"] == data["key"]
            assert expected_shard[data["key"]] == shard["ShardId"], data
            read[data["key"]].append(data["seq"])
        total += len(records)
    assert total == len(entries)
    assert read == {key: list(range(10)) for key in keys}  # per key: all of them, once each, in put order


@pipelines
def test_delivery_stream_reads_the_stream_and_writes_the_bucket_under_the_prefixes(reference, name) -> None:
    stack, deployment = reference
    pipeline: StreamToS3 = getattr(stack, name)
    data_prefix, error_prefix = PREFIXES[name]
    delivery_name = deployment.physical_id(pipeline.delivery_stream)
    assert delivery_name == deployment.outputs[f"{OUTPUT_NAMES[name]}DeliveryStreamName"]
    stream_arn = deployment.client("kinesis").describe_stream_summary(
        StreamName=deployment.physical_id(pipeline.stream)
    )["StreamDescriptionSummary"]["StreamARN"]
    role_arn = deployment.client("iam").get_role(RoleName=deployment.physical_id(pipeline.role))["Role"]["Arn"]
    bucket = deployment.physical_id(pipeline.bucket)
    assert bucket == deployment.outputs[f"{OUTPUT_NAMES[name]}BucketName"]
    deployment.client("s3").head_bucket(Bucket=bucket)
    log_group = deployment.physical_id(pipeline.log_group)

    description = deployment.client("firehose").describe_delivery_stream(DeliveryStreamName=delivery_name)[
        "DeliveryStreamDescription"
    ]
    assert description["DeliveryStreamType"] == "KinesisStreamAsSource"
    assert description["Source"]["KinesisStreamSourceDescription"] == {
        "KinesisStreamARN": stream_arn,
        "RoleARN": role_arn,
    }
    (destination,) = description["Destinations"]
    s3_destination = destination["ExtendedS3DestinationDescription"]
    assert s3_destination["RoleARN"] == role_arn
    assert s3_destination["BucketARN"] == f"arn:aws:s3:::{bucket}"
    assert s3_destination["Prefix"] == data_prefix
    assert s3_destination["ErrorOutputPrefix"] == error_prefix
    assert s3_destination["BufferingHints"] == {"IntervalInSeconds": 300, "SizeInMBs": 5}
    assert s3_destination["CompressionFormat"] == "GZIP"
    logging_options = s3_destination["CloudWatchLoggingOptions"]
    assert logging_options["Enabled"] is True
    assert logging_options["LogGroupName"] == log_group
    log_streams = deployment.client("logs").describe_log_streams(logGroupName=log_group)["logStreams"]
    assert [s["logStreamName"] for s in log_streams] == [logging_options["LogStreamName"]]


@pipelines
def test_delivery_role_may_read_only_its_stream_and_write_only_under_its_prefixes(reference, name) -> None:
    stack, deployment = reference
    pipeline: StreamToS3 = getattr(stack, name)
    iam = deployment.client("iam")
    role = deployment.physical_id(pipeline.role)
    stream_arn = deployment.attribute(pipeline.stream, "Arn")
    bucket_arn = f"arn:aws:s3:::{deployment.physical_id(pipeline.bucket)}"
    log_group = deployment.physical_id(pipeline.log_group)

    trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    (assume,) = trust["Statement"]
    assert assume["Principal"] == {"Service": "firehose.amazonaws.com"}
    assert assume["Condition"] == {"StringEquals": {"sts:ExternalId": deployment.account}}

    # The AWS::IAM::Policy is deployed as the role's one inline policy; nothing is attached.
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []
    (policy_name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
    if isinstance(document, str):
        document = json.loads(document)
    resources_by_action: dict[str, set[str]] = defaultdict(set)
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement and "NotResource" not in statement and "Condition" not in statement
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in actions:
            resources_by_action[action].update(resources)

    object_arns = {f"{bucket_arn}/{static_part(prefix)}*" for prefix in PREFIXES[name]}
    assert set(resources_by_action) == KINESIS_READ_ACTIONS | BUCKET_ACTIONS | OBJECT_ACTIONS | {"logs:PutLogEvents"}
    for action in KINESIS_READ_ACTIONS:
        assert resources_by_action[action] == {stream_arn}, action
    for action in BUCKET_ACTIONS:
        assert resources_by_action[action] == {bucket_arn}, action
    for action in OBJECT_ACTIONS:
        assert resources_by_action[action] == object_arns, action
    (log_stream,) = deployment.client("logs").describe_log_streams(logGroupName=log_group)["logStreams"]
    assert resources_by_action["logs:PutLogEvents"] == {
        f"arn:aws:logs:{deployment.region}:{deployment.account}:log-group:{log_group}"
        f":log-stream:{log_stream['logStreamName']}"
    }

    # Keys Firehose would write under the prefixes are covered; the rest of the bucket is not.
    def writable(key: str) -> bool:
        return any(fnmatchcase(f"{bucket_arn}/{key}", pattern) for pattern in object_arns)

    data_prefix, error_prefix = PREFIXES[name]
    assert writable(data_prefix.replace("!{timestamp:yyyy}", "2026").replace("!{timestamp:MM}", "05") + "part-1.gz")
    assert writable(error_prefix.replace("!{firehose:error-output-type}", "processing-failed") + "part-1")
    assert not writable("other/part-1.gz")
    assert not writable("data-bucket/access-log")


@pipelines
def test_alarms_watch_the_deployed_stream_and_delivery_stream(reference, name) -> None:
    stack, deployment = reference
    pipeline: StreamToS3 = getattr(stack, name)
    cloudwatch = deployment.client("cloudwatch")
    stream = deployment.physical_id(pipeline.stream)
    delivery_name = deployment.physical_id(pipeline.delivery_stream)
    topic_arn = deployment.topic_arn(stack.node.find_child("Alarms").topic)  # type: ignore[attr-defined]

    names = [deployment.physical_id(alarm) for alarm in pipeline.alarms.values()]
    described = cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"]
    assert sorted(a["AlarmName"] for a in described) == sorted(names)
    by_metric = {(a["Namespace"], a["MetricName"]): a for a in described}
    assert len(by_metric) == len(described)

    kinesis_metrics = {"GetRecords.IteratorAgeMilliseconds"}
    if name == "clickstream":  # provisioned: write throttling; the on-demand audit trail has no such alarm
        kinesis_metrics.add("WriteProvisionedThroughputExceeded")
    firehose_metrics = {"DeliveryToS3.DataFreshness", "DeliveryToS3.Success"}
    assert set(by_metric) == {("AWS/Kinesis", m) for m in kinesis_metrics} | {
        ("AWS/Firehose", m) for m in firehose_metrics
    }
    for metric in kinesis_metrics:
        assert by_metric["AWS/Kinesis", metric]["Dimensions"] == [{"Name": "StreamName", "Value": stream}]
    for metric in firehose_metrics:
        assert by_metric["AWS/Firehose", metric]["Dimensions"] == [
            {"Name": "DeliveryStreamName", "Value": delivery_name}
        ]
    for alarm in described:
        assert alarm["AlarmActions"] == [topic_arn]
        assert alarm["OKActions"] == [topic_arn]
    assert by_metric["AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds"]["Threshold"] == 10 * 60 * 1000
    assert by_metric["AWS/Firehose", "DeliveryToS3.DataFreshness"]["Threshold"] == 2 * 300 + 60

    # Across every alarm in moto, the ones on this stream are exactly those above (none on write throttling
    # for the audit trail). moto's DescribeAlarmsForMetric ignores Dimensions: filter describe_alarms instead.
    on_stream = {
        a["MetricName"]
        for a in cloudwatch.describe_alarms()["MetricAlarms"]
        if {"Name": "StreamName", "Value": stream} in a["Dimensions"]
    }
    assert on_stream == kinesis_metrics
