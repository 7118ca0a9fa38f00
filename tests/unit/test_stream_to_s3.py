"""Template tests for StreamToS3: capacity, encryption, least-privilege role, bucket hardening, alarms, bad input."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, RemovalPolicy, Size
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from decoupling_constructs import AlarmOptions, AlarmSettings, LambdaTransform, StreamToS3, Throughput
from decoupling_constructs.streams import DEFAULT_DATA_PREFIX, DEFAULT_ERROR_PREFIX
from tests.unit.cdk_helpers import lid, new_stack


def resource(template: Template, logical_id: str) -> dict:
    return template.to_json()["Resources"][logical_id]


def build(variant: str = "flags-agnostic", **props: object) -> tuple[cdk.Stack, StreamToS3, Template]:
    stack = new_stack(variant)
    pipeline = StreamToS3(stack, "Clicks", **props)  # type: ignore[arg-type]
    return stack, pipeline, Template.from_stack(stack)


@pytest.fixture(scope="module")
def default(app_variant: str) -> tuple[cdk.Stack, StreamToS3, Template]:
    return build(app_variant)


def delivery_config(stack: cdk.Stack, pipeline: StreamToS3, template: Template) -> dict:
    return resource(template, lid(stack, pipeline.delivery_stream))["Properties"]


def test_no_capacity_given_is_an_on_demand_stream_with_aws_managed_encryption(default) -> None:
    stack, pipeline, template = default
    props = resource(template, lid(stack, pipeline.stream))["Properties"]
    assert props["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert "ShardCount" not in props
    assert props["StreamEncryption"] == {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}
    assert props["RetentionPeriodHours"] == 24
    assert resource(template, lid(stack, pipeline.stream))["DeletionPolicy"] == "Retain"
    assert pipeline.capacity_plan is None


def test_shard_count_gives_a_provisioned_stream() -> None:
    stack, pipeline, template = build(shard_count=4)
    props = resource(template, lid(stack, pipeline.stream))["Properties"]
    assert props["ShardCount"] == 4
    assert props["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}


def test_expected_throughput_sizes_the_stream_with_the_planner() -> None:
    stack, pipeline, template = build(expected_throughput=Throughput(write_mib_per_s=0.5, records_per_s=4200))
    assert resource(template, lid(stack, pipeline.stream))["Properties"]["ShardCount"] == 5
    assert pipeline.capacity_plan is not None
    assert pipeline.capacity_plan.limiting_factor == "write records/s"


def test_delivery_stream_reads_the_stream_and_writes_gzip_under_partitioned_prefixes(default) -> None:
    stack, pipeline, template = default
    props = delivery_config(stack, pipeline, template)
    assert props["DeliveryStreamType"] == "KinesisStreamAsSource"
    assert props["KinesisStreamSourceConfiguration"] == {
        "KinesisStreamARN": {"Fn::GetAtt": [lid(stack, pipeline.stream), "Arn"]},
        "RoleARN": {"Fn::GetAtt": [lid(stack, pipeline.role), "Arn"]},
    }
    s3_config = props["ExtendedS3DestinationConfiguration"]
    assert s3_config["BucketARN"] == {"Fn::GetAtt": [lid(stack, pipeline.bucket), "Arn"]}
    assert s3_config["Prefix"] == DEFAULT_DATA_PREFIX
    assert s3_config["ErrorOutputPrefix"] == DEFAULT_ERROR_PREFIX
    assert "!{timestamp:yyyy}" in s3_config["Prefix"] and "!{firehose:error-output-type}" in DEFAULT_ERROR_PREFIX
    assert s3_config["CompressionFormat"] == "GZIP"
    assert s3_config["BufferingHints"] == {"IntervalInSeconds": 300, "SizeInMBs": 5}
    assert s3_config["RoleARN"] == {"Fn::GetAtt": [lid(stack, pipeline.role), "Arn"]}
    assert s3_config["CloudWatchLoggingOptions"]["Enabled"] is True
    log_group = resource(template, lid(stack, pipeline.log_group))["Properties"]
    assert log_group["RetentionInDays"] == 30


def test_the_role_is_least_privilege(default) -> None:
    stack, pipeline, template = default
    policies = template.find_resources("AWS::IAM::Policy")
    assert len(policies) == 1, "the L2's own broad grants must not appear"
    (policy,) = policies.values()
    assert policy["Properties"]["Roles"] == [{"Ref": lid(stack, pipeline.role)}]
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert set(statements) == {"ReadTheSourceStream", "FindTheBucket", "WriteUnderThePrefixes", "LogDeliveryErrors"}
    assert statements["ReadTheSourceStream"]["Resource"] == {"Fn::GetAtt": [lid(stack, pipeline.stream), "Arn"]}
    assert "kinesis:PutRecord" not in json.dumps(statements["ReadTheSourceStream"])
    write = statements["WriteUnderThePrefixes"]
    assert sorted(write["Action"]) == ["s3:AbortMultipartUpload", "s3:PutObject"]
    bucket_arn = {"Fn::GetAtt": [lid(stack, pipeline.bucket), "Arn"]}
    assert write["Resource"] == [
        {"Fn::Join": ["", [bucket_arn, "/data/year=*"]]},
        {"Fn::Join": ["", [bucket_arn, "/errors/*"]]},
    ]
    assert statements["FindTheBucket"]["Resource"] == bucket_arn
    everything = json.dumps(policy)
    assert '"Resource": "*"' not in everything
    for broad in ("s3:GetObject", "s3:DeleteObject", "s3:*", "kinesis:*"):
        assert broad not in everything
    trust = resource(template, lid(stack, pipeline.role))["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "firehose.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": stack.resolve(stack.account)}}
    # The delivery stream waits for its permissions.
    assert (
        lid(stack, pipeline.node.find_child("DeliveryPolicy"))
        in resource(template, lid(stack, pipeline.delivery_stream))["DependsOn"]
    )


def test_created_bucket_is_hardened(default) -> None:
    stack, pipeline, template = default
    bucket = resource(template, lid(stack, pipeline.bucket))
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Retain"
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": lid(stack, pipeline.access_log_bucket)},
        "LogFilePrefix": "data-bucket/",
    }
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["Transitions"] == [
        {"StorageClass": "STANDARD_IA", "TransitionInDays": 30},
        {"StorageClass": "GLACIER", "TransitionInDays": 90},
    ]
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 90}
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    for bucket_construct in (pipeline.bucket, pipeline.access_log_bucket):
        policy = next(
            p
            for p in template.find_resources("AWS::S3::BucketPolicy").values()
            if p["Properties"]["Bucket"] == {"Ref": lid(stack, bucket_construct)}
        )
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
        )
    log_bucket = resource(template, lid(stack, pipeline.access_log_bucket))
    assert log_bucket["DeletionPolicy"] == "Retain"
    assert log_bucket["Properties"]["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True


def test_no_custom_resources(default) -> None:
    _, _, template = default
    types = {r["Type"] for r in template.to_json()["Resources"].values()}
    assert not [t for t in types if t.startswith("Custom::") or t == "AWS::Lambda::Function"]
    assert "Mappings" not in template.to_json()


def test_customer_key_encrypts_stream_bucket_and_objects_and_the_role_may_use_it() -> None:
    stack = new_stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    pipeline = StreamToS3(stack, "Clicks", encryption_key=key, shard_count=1)
    template = Template.from_stack(stack)
    key_arn = {"Fn::GetAtt": [lid(stack, key), "Arn"]}
    stream = resource(template, lid(stack, pipeline.stream))["Properties"]
    assert stream["StreamEncryption"] == {"EncryptionType": "KMS", "KeyId": key_arn}
    sse = resource(template, lid(stack, pipeline.bucket))["Properties"]["BucketEncryption"]
    rule = sse["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}
    assert rule["BucketKeyEnabled"] is True
    s3_config = delivery_config(stack, pipeline, template)["ExtendedS3DestinationConfiguration"]
    assert s3_config["EncryptionConfiguration"] == {"KMSEncryptionConfig": {"AWSKMSKeyARN": key_arn}}
    (policy,) = template.find_resources("AWS::IAM::Policy").values()
    (use_key,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Sid"] == "UseTheKey"]
    assert use_key["Resource"] == key_arn
    # The delivery log group too (checkov CKV_AWS_158), with a key policy letting CloudWatch Logs of the
    # region use the key for this account's log groups only.
    assert pipeline.encryption_key is key
    assert resource(template, lid(stack, pipeline.log_group))["Properties"]["KmsKeyId"] == key_arn
    key_statements = resource(template, lid(stack, key))["Properties"]["KeyPolicy"]["Statement"]
    (logs_use,) = [s for s in key_statements if s.get("Sid") == "LetCloudWatchLogsEncryptThisAccountsLogGroups"]
    assert stack.resolve(logs_use["Principal"]) == {
        "Service": {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}
    }
    assert "kms:GenerateDataKey*" in logs_use["Action"]
    (context,) = logs_use["Condition"]["ArnLike"].values()
    assert list(logs_use["Condition"]["ArnLike"]) == ["kms:EncryptionContext:aws:logs:arn"]
    assert context["Fn::Join"][1][-1] == ":log-group:*"


def test_existing_bucket_is_used_as_is() -> None:
    stack = new_stack()
    bucket = s3.Bucket.from_bucket_name(stack, "Existing", "my-archive")
    pipeline = StreamToS3(stack, "Clicks", existing_bucket=bucket, data_prefix="raw/", error_prefix="failed/")
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::S3::Bucket", 0)
    assert pipeline.access_log_bucket is None
    assert pipeline.bucket is bucket
    s3_config = delivery_config(stack, pipeline, template)["ExtendedS3DestinationConfiguration"]
    assert "my-archive" in json.dumps(s3_config["BucketARN"])
    assert (s3_config["Prefix"], s3_config["ErrorOutputPrefix"]) == ("raw/", "failed/")


def test_buffering_compression_and_lifecycle_overrides() -> None:
    stack, pipeline, template = build(
        buffering_interval=Duration.seconds(60),
        buffering_size=Size.mebibytes(64),
        compression=firehose.Compression.SNAPPY,
        lifecycle=[s3.LifecycleRule(expiration=Duration.days(365))],
        removal_policy=RemovalPolicy.DESTROY,
    )
    s3_config = delivery_config(stack, pipeline, template)["ExtendedS3DestinationConfiguration"]
    assert s3_config["BufferingHints"] == {"IntervalInSeconds": 60, "SizeInMBs": 64}
    assert s3_config["CompressionFormat"] == "Snappy"
    (rule,) = resource(template, lid(stack, pipeline.bucket))["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == 365
    assert resource(template, lid(stack, pipeline.stream))["DeletionPolicy"] == "Delete"
    empty_stack, empty, empty_template = build(lifecycle=[])
    assert "LifecycleConfiguration" not in resource(empty_template, lid(empty_stack, empty.bucket))["Properties"]


def alarms_by_metric(template: Template) -> dict[str, dict]:
    return {
        a["Properties"]["MetricName"]: a["Properties"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
    }


def test_alarms_of_a_provisioned_pipeline() -> None:
    stack = new_stack()
    topic = sns.Topic(stack, "Alarms")
    pipeline = StreamToS3(stack, "Clicks", shard_count=2, buffering_interval=Duration.seconds(120), alarm_topic=topic)
    template = Template.from_stack(stack)
    alarms = alarms_by_metric(template)
    stream_dim = [{"Name": "StreamName", "Value": {"Ref": lid(stack, pipeline.stream)}}]
    firehose_dim = [{"Name": "DeliveryStreamName", "Value": {"Ref": lid(stack, pipeline.delivery_stream)}}]
    assert alarms["GetRecords.IteratorAgeMilliseconds"]["Dimensions"] == stream_dim
    assert alarms["GetRecords.IteratorAgeMilliseconds"]["Threshold"] == 10 * 60 * 1000
    assert alarms["WriteProvisionedThroughputExceeded"]["Dimensions"] == stream_dim
    assert alarms["WriteProvisionedThroughputExceeded"]["EvaluationPeriods"] == 5
    assert alarms["DeliveryToS3.DataFreshness"]["Dimensions"] == firehose_dim
    assert alarms["DeliveryToS3.DataFreshness"]["Threshold"] == 2 * 120 + 60
    assert alarms["DeliveryToS3.Success"]["Dimensions"] == firehose_dim
    assert alarms["DeliveryToS3.Success"]["ComparisonOperator"] == "LessThanThreshold"
    assert alarms["DeliveryToS3.Success"]["Threshold"] == 1
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [{"Ref": lid(stack, topic)}]
        assert alarm["OKActions"] == [{"Ref": lid(stack, topic)}]
    without_transform = tuple(k for k in StreamToS3.ALARM_KEYS if not k.startswith("transform_"))
    assert tuple(pipeline.alarms) == without_transform  # the transform's alarms come with a transform
    names = {a["AlarmName"] for a in alarms.values()}
    assert names == {f"Clicks/{key}" for key in without_transform}
    with pytest.raises(TypeError):
        pipeline.alarms["x"] = pipeline.alarms["iterator_age"]  # type: ignore[index]


def test_on_demand_streams_have_no_throttling_alarm(default) -> None:
    _, pipeline, template = default
    assert "WriteProvisionedThroughputExceeded" not in alarms_by_metric(template)
    assert set(pipeline.alarms) == {"iterator_age", "data_freshness", "delivery_success"}


def test_iterator_age_alarm_can_be_removed_or_tuned() -> None:
    _, pipeline, template = build(alarm_settings=AlarmSettings(overrides={"iterator_age": None}))
    assert "GetRecords.IteratorAgeMilliseconds" not in alarms_by_metric(template)
    assert "iterator_age" not in pipeline.alarms
    tuned = AlarmOptions(threshold=Duration.hours(2), evaluation_periods=3, datapoints_to_alarm=2)
    _, _, template = build(
        retention_period=Duration.hours(48), alarm_settings=AlarmSettings(overrides={"iterator_age": tuned})
    )
    alarm = alarms_by_metric(template)["GetRecords.IteratorAgeMilliseconds"]
    assert (alarm["Threshold"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (2 * 3600 * 1000, 3, 2)
    assert "2 hours behind" in alarm["AlarmDescription"]


def test_data_freshness_threshold_is_a_duration_override() -> None:
    freshness = AlarmOptions(threshold=Duration.minutes(30))
    _, _, template = build(alarm_settings=AlarmSettings(overrides={"data_freshness": freshness}))
    assert alarms_by_metric(template)["DeliveryToS3.DataFreshness"]["Threshold"] == 30 * 60


def test_create_alarms_false_creates_none() -> None:
    _, pipeline, template = build(shard_count=1, create_alarms=False)
    template.resource_count_is("AWS::CloudWatch::Alarm", 0)
    assert dict(pipeline.alarms) == {}


def test_grant_read_lets_a_consumer_read_the_stream_and_decrypt() -> None:
    stack = new_stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    pipeline = StreamToS3(stack, "Clicks", encryption_key=key)
    consumer = iam.Role(stack, "Consumer", assumed_by=iam.AccountRootPrincipal())
    pipeline.grant_read(consumer)
    policies = Template.from_stack(stack).find_resources("AWS::IAM::Policy")
    (policy,) = [p for p in policies.values() if p["Properties"]["Roles"] == [{"Ref": lid(stack, consumer)}]]
    by_resource = {json.dumps(s["Resource"]): s["Action"] for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    stream_actions = by_resource[json.dumps({"Fn::GetAtt": [lid(stack, pipeline.stream), "Arn"]})]
    assert {"kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"} <= set(stream_actions)
    assert "kinesis:PutRecords" not in stream_actions
    assert "kms:Decrypt" in by_resource[json.dumps({"Fn::GetAtt": [lid(stack, key), "Arn"]})]


def test_grant_write_lets_a_producer_put_records(default) -> None:
    stack = new_stack()
    pipeline = StreamToS3(stack, "Clicks")
    producer = iam.Role(stack, "Producer", assumed_by=iam.AccountRootPrincipal())
    pipeline.grant_write(producer)
    policies = Template.from_stack(stack).find_resources("AWS::IAM::Policy")
    producer_policy = next(p for p in policies.values() if p["Properties"]["Roles"] == [{"Ref": lid(stack, producer)}])
    assert "kinesis:PutRecords" in json.dumps(producer_policy)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"shard_count": 2, "expected_throughput": Throughput(1, 1)},
            "give only one of shard_count, expected_throughput",
        ),
        ({"shard_count": 0}, "shard_count must be 1-1000000, got 0"),
        (
            {"retention_period": Duration.hours(23)},
            "retention_period must be 24-8760 hours, got Duration\\.hours\\(23\\) \\(82800 seconds\\)",
        ),
        ({"retention_period": Duration.days(366)}, "retention_period must be 24-8760 hours"),
        ({"data_prefix": "d/!{timestamp:yyyy}/", "error_prefix": None}, "error_prefix is required when data_prefix"),
        ({"error_prefix": "e/!{timestamp:yyyy}/"}, "error_prefix with expressions must contain"),
        ({"data_prefix": "d/!{firehose:error-output-type}/"}, "data_prefix may not contain"),
        ({"data_prefix": "/abs/"}, "data_prefix must be a non-empty S3 key prefix"),
        ({"buffering_interval": Duration.seconds(901)}, "buffering_interval must be 0-900 seconds, got 901"),
        ({"buffering_size": Size.mebibytes(129)}, r"buffering_size must be 1-128 MiB, got Size.mebibytes\(129\)"),
        ({"buffering_size": Size.kibibytes(512)}, r"buffering_size must be 1-128 MiB, got Size.kibibytes\(512\)"),
        ({"expected_throughput": {"write_mib_per_s": 1}}, "expected_throughput must be a decoupling_constructs"),
        ({"removal_policy": "retain"}, "removal_policy must be an aws_cdk.RemovalPolicy"),
    ],
)
def test_bad_input_fails_at_synth_time(props: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        StreamToS3(new_stack(), "Clicks", **props)


def test_negative_throughput_and_lifecycle_with_an_existing_bucket_fail() -> None:
    with pytest.raises(ValueError, match=r"^Throughput: write_mib_per_s must be a finite number >= 0 MiB/s, got -2$"):
        Throughput(write_mib_per_s=-2, records_per_s=10)
    stack = new_stack()
    with pytest.raises(ValueError, match="lifecycle applies to the bucket StreamToS3 creates"):
        StreamToS3(stack, "Clicks", existing_bucket=s3.Bucket.from_bucket_name(stack, "B", "my-archive"), lifecycle=[])


# --- transform and dynamic partitioning ---
def transform_function(stack: cdk.Stack) -> lambda_.Function:
    return lambda_.Function(
        stack,
        "Transform",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context): return event"),
        timeout=Duration.minutes(1),
    )


PARTITIONED_PREFIX = "data/tenant=!{partitionKeyFromLambda:tenant}/kind=!{partitionKeyFromQuery:kind}/"


def partitioned(variant: str = "flags-agnostic") -> tuple[cdk.Stack, StreamToS3, Template, lambda_.Function]:
    stack = new_stack(variant)
    fn = transform_function(stack)
    pipeline = StreamToS3(
        stack,
        "Clicks",
        transform=LambdaTransform(fn, retries=0, buffer_size=Size.kibibytes(256), partition_keys=["tenant"]),
        dynamic_partitioning=True,
        partition_by={"kind": ".kind"},
        data_prefix=PARTITIONED_PREFIX,
    )
    return stack, pipeline, Template.from_stack(stack), fn


def test_a_transform_is_rendered_with_every_setting_and_partitions_from_both_sources(app_variant: str) -> None:
    stack, pipeline, template, fn = partitioned(app_variant)
    config = delivery_config(stack, pipeline, template)["ExtendedS3DestinationConfiguration"]
    assert config["Prefix"] == PARTITIONED_PREFIX
    assert config["DynamicPartitioningConfiguration"] == {"Enabled": True}
    assert config["BufferingHints"] == {"IntervalInSeconds": 300, "SizeInMBs": 128}  # the partitioned default
    lambda_processor, extraction = config["ProcessingConfiguration"]["Processors"]
    params = {p["ParameterName"]: p["ParameterValue"] for p in lambda_processor["Parameters"]}
    assert params == {
        "LambdaArn": {"Fn::GetAtt": [lid(stack, fn), "Arn"]},
        "NumberOfRetries": "0",
        "BufferSizeInMBs": "0.25",
        "BufferIntervalInSeconds": "60",
        "RoleArn": {"Fn::GetAtt": [lid(stack, pipeline.role), "Arn"]},
    }
    assert extraction["Type"] == "MetadataExtraction"
    assert {"ParameterName": "MetadataExtractionQuery", "ParameterValue": "{kind:.kind}"} in extraction["Parameters"]


def test_the_delivery_role_may_invoke_the_transform_before_the_stream_starts() -> None:
    stack, pipeline, template, fn = partitioned()
    policies = {k: r for k, r in template.to_json()["Resources"].items() if r["Type"] == "AWS::IAM::Policy"}
    invoke = {
        k: r
        for k, r in policies.items()
        if any("lambda:InvokeFunction" in s["Action"] for s in r["Properties"]["PolicyDocument"]["Statement"])
    }
    ((policy_id, policy),) = invoke.items()
    assert policy["Properties"]["Roles"] == [{"Ref": lid(stack, pipeline.role)}]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    arn = {"Fn::GetAtt": [lid(stack, fn), "Arn"]}
    assert statement["Resource"] == [arn, {"Fn::Join": ["", [arn, ":*"]]}]
    assert policy_id in resource(template, lid(stack, pipeline.delivery_stream))["DependsOn"]


def test_a_transform_adds_its_alarms_and_its_buffer_to_the_freshness_threshold() -> None:
    stack, pipeline, template, fn = partitioned()  # on-demand: no write_throttled
    assert tuple(pipeline.alarms) == tuple(k for k in StreamToS3.ALARM_KEYS if k != "write_throttled")
    alarms = alarms_by_metric(template)
    assert alarms["DeliveryToS3.DataFreshness"]["Threshold"] == 2 * 300 + 60 + 60
    function_dim = [{"Name": "FunctionName", "Value": {"Ref": lid(stack, fn)}}]
    assert alarms["Errors"]["Dimensions"] == function_dim
    assert alarms["Throttles"]["Dimensions"] == function_dim


def test_a_transform_without_partitioning_keeps_the_prefix_and_the_buffering() -> None:
    stack = new_stack()
    pipeline = StreamToS3(stack, "Clicks", transform=LambdaTransform(transform_function(stack)))
    config = delivery_config(stack, pipeline, Template.from_stack(stack))["ExtendedS3DestinationConfiguration"]
    assert config["Prefix"] == DEFAULT_DATA_PREFIX
    assert "DynamicPartitioningConfiguration" not in config
    assert config["BufferingHints"] == {"IntervalInSeconds": 300, "SizeInMBs": 5}
    assert [p["Type"] for p in config["ProcessingConfiguration"]["Processors"]] == ["Lambda"]


def test_an_override_of_a_transform_alarm_without_a_transform_is_refused() -> None:
    with pytest.raises(ValueError, match=r"overrides\['transform_errors'\].threshold tunes an alarm"):
        build(alarm_settings=AlarmSettings(overrides={"transform_errors": AlarmOptions(threshold=5)}))
