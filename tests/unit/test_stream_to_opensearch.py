"""Template tests for StreamToOpenSearch: the L1 destination, its role (AWS's documented policy, GETs narrowed to
the index), backups, VPC delivery, the transform, alarms, every kind of app and stack, bad input.

Delivery into OpenSearch itself is proven only here, statically: no emulator indexes Firehose records (MiniStack
accepts the destination and delivers nothing; moto refuses it; docs/stream-to-opensearch.md)."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, Size
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk.assertions import Template

from decoupling_constructs import IndexRotation, LambdaTransform, OpenSearchBackup, StreamToOpenSearch
from decoupling_constructs._validate import PropTypeError
from tests.unit.cdk_helpers import lid, new_app, new_stack, stack_env


def domain_in(scope: cdk.Stack, construct_id: str = "Search", **options: object) -> opensearch.Domain:
    return opensearch.Domain(scope, construct_id, version=opensearch.EngineVersion.OPENSEARCH_2_11, **options)  # type: ignore[arg-type]


def build(variant: str = "flags-agnostic", **props: object) -> tuple[cdk.Stack, StreamToOpenSearch, dict]:
    stack = new_stack(variant)
    props.setdefault("domain", domain_in(stack))
    props.setdefault("index_name", "clicks")
    pipeline = StreamToOpenSearch(stack, "Clicks", **props)  # type: ignore[arg-type]
    return stack, pipeline, Template.from_stack(stack).to_json()


def destination(stack: cdk.Stack, pipeline: StreamToOpenSearch, template: dict) -> dict:
    props = template["Resources"][lid(stack, pipeline.delivery_stream)]["Properties"]
    return props["AmazonopensearchserviceDestinationConfiguration"]


def policy_statements(stack: cdk.Stack, pipeline: StreamToOpenSearch, template: dict) -> dict[str, dict]:
    policy = pipeline.node.find_child("DeliveryPolicy").node.default_child
    document = template["Resources"][lid(stack, policy)]["Properties"]["PolicyDocument"]
    return {statement["Sid"]: statement for statement in document["Statement"]}


@pytest.fixture(scope="module")
def default(app_variant: str) -> tuple[cdk.Stack, StreamToOpenSearch, dict]:
    return build(app_variant)


def test_defaults_index_daily_with_aws_default_buffers_and_back_up_failed_documents(default) -> None:
    stack, pipeline, template = default
    config = destination(stack, pipeline, template)
    assert config["IndexName"] == "clicks"
    assert config["IndexRotationPeriod"] == "OneDay"
    assert config["BufferingHints"] == {"IntervalInSeconds": 300, "SizeInMBs": 5}
    assert config["RetryOptions"] == {"DurationInSeconds": 300}
    assert config["S3BackupMode"] == "FailedDocumentsOnly"
    assert config["DomainARN"] == {"Fn::GetAtt": [lid(stack, pipeline.domain), "Arn"]}
    backup = config["S3Configuration"]
    assert backup["BucketARN"] == {"Fn::GetAtt": [lid(stack, pipeline.backup_bucket), "Arn"]}
    assert (backup["Prefix"], backup["CompressionFormat"]) == ("backup/", "GZIP")
    assert backup["ErrorOutputPrefix"] == "backup-errors/!{firehose:error-output-type}/"
    assert config["CloudWatchLoggingOptions"]["Enabled"] is True
    assert "VpcConfiguration" not in config and "ProcessingConfiguration" not in config


def test_the_source_is_a_kinesis_stream_it_creates_and_everything_is_retained(default) -> None:
    stack, pipeline, template = default
    props = template["Resources"][lid(stack, pipeline.delivery_stream)]["Properties"]
    assert props["DeliveryStreamType"] == "KinesisStreamAsSource"
    assert props["KinesisStreamSourceConfiguration"]["KinesisStreamARN"] == {
        "Fn::GetAtt": [lid(stack, pipeline.stream), "Arn"]
    }
    for construct in (pipeline.stream, pipeline.backup_bucket, pipeline.access_log_bucket, pipeline.log_group):
        assert template["Resources"][lid(stack, construct)]["DeletionPolicy"] == "Retain"
    bucket = template["Resources"][lid(stack, pipeline.backup_bucket)]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}


def test_the_role_gets_aws_documented_opensearch_policy_with_gets_narrowed_to_the_index(default) -> None:
    stack, pipeline, template = default
    statements = policy_statements(stack, pipeline, template)
    domain_arn = {"Fn::GetAtt": [lid(stack, pipeline.domain), "Arn"]}
    assert sorted(statements["DescribeTheDomain"]["Action"]) == [
        "es:DescribeDomain",
        "es:DescribeDomainConfig",
        "es:DescribeDomains",
    ]
    assert statements["DescribeTheDomain"]["Resource"] == domain_arn
    assert statements["IndexDocuments"]["Action"] == ["es:ESHttpPost", "es:ESHttpPut"]
    assert statements["IndexDocuments"]["Resource"] == [
        domain_arn,
        {"Fn::Join": ["", [domain_arn, "/*"]]},
    ]
    gets = [resource["Fn::Join"][1][1] for resource in statements["ReadClusterAndIndexState"]["Resource"]]
    assert statements["ReadClusterAndIndexState"]["Action"] == "es:ESHttpGet"
    assert "/clicks*/_stats" in gets and "/clicks*/_mapping" in gets
    # every index-level path is this index's (and its rotations'), never another's
    assert all(path.startswith("/_") or path.startswith("/clicks*/") for path in gets)
    assert "ManageDeliveryEnis" not in statements  # public domain: no ec2 actions


def test_the_delivery_stream_waits_for_its_policy(default) -> None:
    stack, pipeline, template = default
    policy = pipeline.node.find_child("DeliveryPolicy").node.default_child
    assert lid(stack, policy) in template["Resources"][lid(stack, pipeline.delivery_stream)]["DependsOn"]


def test_alarms_freshness_above_buffer_plus_retry_success_and_throttled(default) -> None:
    stack, pipeline, template = default
    assert set(pipeline.alarms) == {"iterator_age", "data_freshness", "delivery_success", "throttled_records"}
    freshness = template["Resources"][lid(stack, pipeline.alarms["data_freshness"])]["Properties"]
    assert freshness["MetricName"] == "DeliveryToAmazonOpenSearchService.DataFreshness"
    assert freshness["Threshold"] == 300 + 300 + 60
    success = template["Resources"][lid(stack, pipeline.alarms["delivery_success"])]["Properties"]
    assert success["MetricName"] == "DeliveryToAmazonOpenSearchService.Success"
    assert (success["Threshold"], success["ComparisonOperator"]) == (1, "LessThanThreshold")
    throttled = template["Resources"][lid(stack, pipeline.alarms["throttled_records"])]["Properties"]
    assert throttled["MetricName"] == "ThrottledRecords"
    assert throttled["Dimensions"] == [
        {"Name": "DeliveryStreamName", "Value": {"Ref": lid(stack, pipeline.delivery_stream)}}
    ]


def test_settings_are_rendered() -> None:
    stack, pipeline, template = build(
        index_rotation=IndexRotation.NO_ROTATION,
        buffering_interval=Duration.seconds(60),
        buffering_size=Size.mebibytes(100),
        retry_duration=Duration.seconds(0),
        backup=OpenSearchBackup.ALL_DOCUMENTS,
        shard_count=2,
    )
    config = destination(stack, pipeline, template)
    assert config["IndexRotationPeriod"] == "NoRotation"
    assert config["BufferingHints"] == {"IntervalInSeconds": 60, "SizeInMBs": 100}
    assert config["RetryOptions"] == {"DurationInSeconds": 0}
    assert config["S3BackupMode"] == "AllDocuments"
    assert "write_throttled" in pipeline.alarms
    freshness = template["Resources"][lid(stack, pipeline.alarms["data_freshness"])]["Properties"]
    assert freshness["Threshold"] == 60 + 0 + 60


def test_direct_put_has_no_stream_encrypts_the_delivery_stream_and_grants_puts_on_it() -> None:
    stack = new_stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    pipeline = StreamToOpenSearch(
        stack, "Clicks", domain=domain_in(stack), index_name="clicks", direct_put=True, encryption_key=key
    )
    producer = iam.Role(stack, "Producer", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    pipeline.grant_write(producer)
    template = Template.from_stack(stack).to_json()
    props = template["Resources"][lid(stack, pipeline.delivery_stream)]["Properties"]
    assert props["DeliveryStreamType"] == "DirectPut"
    assert props["DeliveryStreamEncryptionConfigurationInput"] == {
        "KeyType": "CUSTOMER_MANAGED_CMK",
        "KeyARN": {"Fn::GetAtt": [lid(stack, key), "Arn"]},
    }
    assert pipeline.stream is None
    assert "iterator_age" not in pipeline.alarms
    (policy,) = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy" and r["Properties"]["Roles"] == [{"Ref": lid(stack, producer)}]
    ]
    assert policy["PolicyDocument"]["Statement"] == [
        {
            "Action": ["firehose:PutRecord", "firehose:PutRecordBatch"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [lid(stack, pipeline.delivery_stream), "Arn"]},
        }
    ]


def test_a_given_stream_is_read_and_not_alarmed_as_ours() -> None:
    stack = new_stack()
    source = kinesis.Stream(stack, "Source", shard_count=1)
    pipeline = StreamToOpenSearch(stack, "Clicks", domain=domain_in(stack), index_name="clicks", stream=source)
    template = Template.from_stack(stack).to_json()
    props = template["Resources"][lid(stack, pipeline.delivery_stream)]["Properties"]
    assert props["KinesisStreamSourceConfiguration"]["KinesisStreamARN"] == {"Fn::GetAtt": [lid(stack, source), "Arn"]}
    assert "iterator_age" not in pipeline.alarms


def _vpc(stack: cdk.Stack) -> ec2.Vpc:
    return ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        restrict_default_security_group=False,
        subnet_configuration=[ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
    )


def _vpc_domain(stack: cdk.Stack, vpc: ec2.IVpc) -> opensearch.Domain:
    return domain_in(
        stack,
        vpc=vpc,
        vpc_subnets=[ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
        capacity=opensearch.CapacityConfig(multi_az_with_standby_enabled=False),
        zone_awareness=opensearch.ZoneAwarenessConfig(availability_zone_count=2),
    )


def test_vpc_delivery_uses_private_subnets_a_security_group_to_the_domain_and_eni_permissions() -> None:
    stack = new_stack()
    vpc = _vpc(stack)
    domain = _vpc_domain(stack, vpc)
    pipeline = StreamToOpenSearch(stack, "Clicks", domain=domain, index_name="clicks", vpc=vpc)
    template = Template.from_stack(stack).to_json()
    config = destination(stack, pipeline, template)
    assert pipeline.security_group is not None
    assert config["VpcConfiguration"]["SecurityGroupIds"] == [
        {"Fn::GetAtt": [lid(stack, pipeline.security_group), "GroupId"]}
    ]
    assert config["VpcConfiguration"]["SubnetIds"] == [{"Ref": lid(stack, s)} for s in vpc.isolated_subnets]
    assert config["VpcConfiguration"]["RoleARN"] == {"Fn::GetAtt": [lid(stack, pipeline.role), "Arn"]}
    statements = policy_statements(stack, pipeline, template)
    assert sorted(statements["ManageDeliveryEnis"]["Action"]) == sorted(
        [
            "ec2:DescribeVpcs",
            "ec2:DescribeVpcAttribute",
            "ec2:DescribeSubnets",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeNetworkInterfaces",
            "ec2:CreateNetworkInterface",
            "ec2:CreateNetworkInterfacePermission",
            "ec2:DeleteNetworkInterface",
        ]
    )
    ours = {"Fn::GetAtt": [lid(stack, pipeline.security_group), "GroupId"]}
    domain_group = {"Fn::GetAtt": [lid(stack, domain.connections.security_groups[0]), "GroupId"]}
    rules = [r["Properties"] for r in template["Resources"].values() if r["Type"].startswith("AWS::EC2::SecurityGroup")]
    # HTTPS out from the delivery ENIs to the domain's group, and into the domain's group from them; nothing else out
    egress = [e for e in rules if e.get("GroupId") == ours and "DestinationSecurityGroupId" in e]
    assert [(e["DestinationSecurityGroupId"], e["FromPort"], e["ToPort"]) for e in egress] == [(domain_group, 443, 443)]
    ingress = [i for i in rules if i.get("SourceSecurityGroupId") == ours]
    assert [(i["GroupId"], i["FromPort"], i["ToPort"]) for i in ingress] == [(domain_group, 443, 443)]
    group = template["Resources"][lid(stack, pipeline.security_group)]["Properties"]
    assert all(e.get("CidrIp") == "255.255.255.255/32" for e in group.get("SecurityGroupEgress", []))


def test_vpc_delivery_with_a_given_security_group() -> None:
    stack = new_stack()
    vpc = _vpc(stack)
    group = ec2.SecurityGroup(stack, "Mine", vpc=vpc)
    pipeline = StreamToOpenSearch(
        stack, "Clicks", domain=_vpc_domain(stack, vpc), index_name="clicks", vpc=vpc, security_group=group
    )
    template = Template.from_stack(stack).to_json()
    assert destination(stack, pipeline, template)["VpcConfiguration"]["SecurityGroupIds"] == [
        {"Fn::GetAtt": [lid(stack, group), "GroupId"]}
    ]


def test_transform_is_rendered_granted_and_alarmed() -> None:
    stack = new_stack()
    function = lambda_.Function(
        stack,
        "Enrich",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context): pass"),
        timeout=Duration.minutes(1),
    )
    pipeline = StreamToOpenSearch(
        stack, "Clicks", domain=domain_in(stack), index_name="clicks", transform=LambdaTransform(function, retries=0)
    )
    template = Template.from_stack(stack).to_json()
    processing = destination(stack, pipeline, template)["ProcessingConfiguration"]
    parameters = {p["ParameterName"]: p["ParameterValue"] for p in processing["Processors"][0]["Parameters"]}
    assert parameters["NumberOfRetries"] == "0"
    assert parameters["LambdaArn"] == {"Fn::GetAtt": [lid(stack, function), "Arn"]}
    assert {"transform_errors", "transform_throttles"} <= set(pipeline.alarms)
    freshness = template["Resources"][lid(stack, pipeline.alarms["data_freshness"])]["Properties"]
    assert freshness["Threshold"] == 300 + 300 + 60 + 60


def test_two_in_one_stack() -> None:
    stack = new_stack()
    domain = domain_in(stack)
    first = StreamToOpenSearch(stack, "Clicks", domain=domain, index_name="clicks")
    second = StreamToOpenSearch(
        stack, "Orders", domain=domain, index_name="orders", index_rotation=IndexRotation.ONE_MONTH
    )
    template = Template.from_stack(stack).to_json()
    assert destination(stack, first, template)["IndexName"] == "clicks"
    assert destination(stack, second, template)["IndexName"] == "orders"


@pytest.mark.parametrize("variant", ["bare-agnostic", "bare-bound"])
def test_the_domain_in_another_stack(variant: str) -> None:
    app = new_app(variant)
    search = cdk.Stack(app, "Search", env=stack_env(variant))
    domain = domain_in(search)
    ingest = cdk.Stack(app, "Ingest", env=stack_env(variant))
    pipeline = StreamToOpenSearch(ingest, "Clicks", domain=domain, index_name="clicks")
    template = Template.from_stack(ingest).to_json()
    assert "Fn::ImportValue" in str(destination(ingest, pipeline, template)["DomainARN"])
    assert search in ingest.dependencies
    app.synth()


def test_the_domain_in_another_stack_with_vpc_delivery() -> None:
    app = new_app("bare-bound")
    search = cdk.Stack(app, "Search", env=stack_env("bare-bound"))
    vpc = _vpc(search)
    domain = _vpc_domain(search, vpc)
    ingest = cdk.Stack(app, "Ingest", env=stack_env("bare-bound"))
    StreamToOpenSearch(ingest, "Clicks", domain=domain, index_name="clicks", vpc=vpc)
    app.synth()


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"index_name": "Clicks"}, "index_name must be an OpenSearch index name"),
        ({"index_name": "_clicks"}, "not starting with _ - or +"),
        ({"index_name": "a,b"}, "forbidden: ','"),
        ({"index_name": "x" * 81}, "1-80 characters"),
        ({"index_rotation": "Daily"}, "index_rotation must be one of"),
        ({"buffering_size": Size.mebibytes(101)}, "buffering_size must be 1-100 MiB"),
        ({"buffering_interval": Duration.seconds(901)}, "buffering_interval must be 0-900 seconds"),
        ({"retry_duration": Duration.seconds(7201)}, "retry_duration must be 0-7200 seconds"),
        ({"backup": "Failed"}, "backup must be one of"),
        ({"direct_put": True, "shard_count": 2}, "leave out shard_count"),
    ],
)
def test_bad_input_is_refused_naming_the_prop(props: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        build(**props)
    assert "StreamToOpenSearch 'Test/Clicks'" in str(caught.value)


def test_the_index_is_required() -> None:
    stack = new_stack()
    with pytest.raises(TypeError, match="index_name"):
        StreamToOpenSearch(stack, "Clicks", domain=domain_in(stack))  # type: ignore[call-arg]


def test_a_domain_from_another_app_is_refused() -> None:
    other = cdk.Stack(cdk.App(), "Other")
    with pytest.raises((ValueError, PropTypeError), match="domain"):
        build(domain=domain_in(other))
