"""Template tests for StreamProcessor: the Managed Flink application on the L1 (parallelism, checkpoints, snapshots,
restore, rollback, CMK, VPC, logging), its role's exact reads and writes, the start-after-deploy custom resource
and its handler, the alarms, and the app matrix (bare App, env-agnostic and env-bound, two in one stack, the
source in another stack)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from decoupling_constructs import FlinkCode, StreamProcessor, StreamToS3, Throughput
from decoupling_constructs.streams import _start_handler
from decoupling_constructs.streams.stream_processor import PYTHON_RUN_OPTIONS, SOURCE_GROUP
from tests.unit.cdk_helpers import lid, new_stack

CODE_DIR = Path(__file__).parent / "flink_code"
APP = "AWS::KinesisAnalyticsV2::Application"


def python_code() -> FlinkCode:
    return FlinkCode.python(CODE_DIR, main="main.py", py_files=["logic.py"])


def build(variant: str = "bare-agnostic", **props: Any) -> tuple[cdk.Stack, StreamProcessor, Template]:
    stack = new_stack(variant)
    source = props.pop("source", None) or StreamToS3(stack, "Clicks", shard_count=3)
    processor = StreamProcessor(stack, "Counts", code=props.pop("code", python_code()), source=source, **props)
    return stack, processor, Template.from_stack(stack)


def application(template: Template) -> dict[str, Any]:
    (resource,) = template.find_resources(APP).values()
    return resource


def configuration(template: Template) -> dict[str, Any]:
    return application(template)["Properties"]["ApplicationConfiguration"]  # type: ignore[no-any-return]


def groups(template: Template) -> dict[str, dict[str, Any]]:
    listed = configuration(template)["EnvironmentProperties"]["PropertyGroups"]
    return {g["PropertyGroupId"]: g["PropertyMap"] for g in listed}


def role_statements(stack: cdk.Stack, processor: StreamProcessor) -> list[dict[str, Any]]:
    policies = Template.from_stack(stack).find_resources(
        "AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": lid(stack, processor.role)}]}}
    )
    return [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]


def actions(statement: dict[str, Any]) -> list[str]:
    value = statement["Action"]
    return sorted([value] if isinstance(value, str) else value)


@pytest.fixture(scope="module")
def default(app_variant: str) -> tuple[cdk.Stack, StreamProcessor, Template]:
    return build(app_variant)


def test_the_defaults_in_every_app(default: tuple[cdk.Stack, StreamProcessor, Template]) -> None:
    stack, processor, template = default
    resource = application(template)
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"
    props = resource["Properties"]
    assert props["RuntimeEnvironment"] == "FLINK-1_20"
    assert props["RunConfiguration"] == {
        "ApplicationRestoreConfiguration": {"ApplicationRestoreType": "RESTORE_FROM_LATEST_SNAPSHOT"},
        "FlinkRunConfiguration": {"AllowNonRestoredState": False},
    }
    config = props["ApplicationConfiguration"]
    flink = config["FlinkApplicationConfiguration"]
    assert flink["ParallelismConfiguration"] == {
        "ConfigurationType": "CUSTOM",
        "Parallelism": 3,  # the source's three shards
        "ParallelismPerKPU": 1,
        "AutoScalingEnabled": True,
    }
    assert flink["CheckpointConfiguration"] == {
        "ConfigurationType": "CUSTOM",
        "CheckpointingEnabled": True,
        "CheckpointInterval": 60_000,
        "MinPauseBetweenCheckpoints": 5_000,
    }
    assert flink["MonitoringConfiguration"] == {
        "ConfigurationType": "CUSTOM",
        "LogLevel": "INFO",
        "MetricsLevel": "APPLICATION",
    }
    assert config["ApplicationSnapshotConfiguration"] == {"SnapshotsEnabled": True}
    assert config["ApplicationSystemRollbackConfiguration"] == {"RollbackEnabled": True}
    assert "ApplicationEncryptionConfiguration" not in config and "VpcConfigurations" not in config
    assert config["ApplicationCodeConfiguration"]["CodeContentType"] == "ZIPFILE"
    assert sorted(processor.alarms) == sorted(StreamProcessor.ALARM_KEYS)
    names = [a["Properties"]["AlarmName"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()]
    assert sorted(n for n in names if n.startswith("Counts/")) == sorted(f"Counts/{k}" for k in processor.alarms)
    template.resource_count_is("Custom::FlinkApplicationStart", 0)
    log_group = template.find_resources("AWS::Logs::LogGroup")[lid(stack, processor.log_group)]
    assert (log_group["Properties"]["RetentionInDays"], log_group["DeletionPolicy"]) == (30, "Retain")


def test_the_job_finds_its_source_and_entry_point_in_its_property_groups() -> None:
    stack, processor, template = build()
    found = groups(template)
    stream = processor.source_stream
    assert found[SOURCE_GROUP] == {
        "stream.name": stack.resolve(stream.stream_name),
        "stream.arn": stack.resolve(stream.stream_arn),
        "aws.region": {"Ref": "AWS::Region"},
        "efo": "false",
    }
    assert found[PYTHON_RUN_OPTIONS] == {"python": "main.py", "pyFiles": "logic.py"}


def test_the_role_reads_the_source_and_the_code_object_only() -> None:
    stack, processor, _ = build()
    statements = {s.get("Sid"): s for s in role_statements(stack, processor)}
    assert actions(statements["ReadTheSource"]) == [
        "kinesis:DescribeStream",
        "kinesis:DescribeStreamSummary",
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:ListShards",
    ]
    assert statements["ReadTheSource"]["Resource"] == stack.resolve(processor.source_stream.stream_arn)
    assert actions(statements["ReadTheCode"]) == ["s3:GetObject", "s3:GetObjectVersion"]
    assert processor.code_asset is not None
    code_key = processor.code_asset.s3_object_key
    assert json.dumps(statements["ReadTheCode"]["Resource"]).endswith(f'"/{code_key}"]]}}')
    everything = [a for s in statements.values() for a in actions(s)]
    assert not any(a.startswith(("kinesis:Subscribe", "kinesis:Register", "s3:List", "s3:Put")) for a in everything)
    role = Template.from_stack(stack).find_resources("AWS::IAM::Role")[lid(stack, processor.role)]
    principal = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
    assert principal == {"Service": "kinesisanalytics.amazonaws.com"}


def test_enhanced_fan_out_adds_the_consumer_actions_on_that_stream_only() -> None:
    stack, processor, template = build(enhanced_fan_out=True)
    statements = {s.get("Sid"): s for s in role_statements(stack, processor)}
    arn = stack.resolve(processor.source_stream.stream_arn)
    assert actions(statements["RegisterItsConsumer"]) == [
        "kinesis:DeregisterStreamConsumer",
        "kinesis:ListStreamConsumers",
        "kinesis:RegisterStreamConsumer",
    ]
    assert statements["RegisterItsConsumer"]["Resource"] == arn
    assert actions(statements["SubscribeThroughIt"]) == ["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"]
    assert groups(template)[SOURCE_GROUP]["efo"] == "true"


def test_each_sink_gets_its_group_and_its_writes() -> None:
    stack = new_stack("bare-agnostic")
    out = kinesis.Stream(stack, "Out", shard_count=1)
    bucket = s3.Bucket(stack, "Lake")
    delivery = firehose.DeliveryStream(stack, "Archive", destination=firehose.S3Bucket(bucket))
    processor = StreamProcessor(
        stack,
        "Counts",
        code=python_code(),
        source=kinesis.Stream(stack, "Clicks", shard_count=2),
        sinks={"Sink": out, "Archive": delivery, "Files": bucket},
    )
    found = groups(Template.from_stack(stack))
    assert found["Sink"] == {
        "type": "kinesis",
        "stream.name": {"Ref": lid(stack, out)},
        "stream.arn": {"Fn::GetAtt": [lid(stack, out), "Arn"]},
        "aws.region": {"Ref": "AWS::Region"},
    }
    assert found["Archive"]["type"] == "firehose" and "delivery-stream.arn" in found["Archive"]
    assert found["Files"]["type"] == "s3" and "bucket.name" in found["Files"]
    everything = {a for s in role_statements(stack, processor) for a in actions(s)}
    assert {"kinesis:PutRecord", "kinesis:PutRecords", "firehose:PutRecord", "firehose:PutRecordBatch"} <= everything
    assert "s3:PutObject" in everything


def test_parallelism_follows_the_source_or_is_given() -> None:
    stack = new_stack("bare-agnostic")
    planned = StreamToS3(stack, "Planned", expected_throughput=Throughput(5, 1000))
    assert StreamProcessor(stack, "A", code=python_code(), source=planned).parallelism == planned.capacity_plan.shards  # type: ignore[union-attr]
    on_demand = kinesis.Stream(stack, "OnDemand", stream_mode=kinesis.StreamMode.ON_DEMAND)
    assert StreamProcessor(stack, "B", code=python_code(), source=on_demand).parallelism == 1
    given = StreamProcessor(stack, "C", code=python_code(), source=on_demand, parallelism=16, parallelism_per_kpu=4)
    assert given.parallelism == 16
    big = kinesis.Stream(stack, "Big", shard_count=300)
    assert StreamProcessor(stack, "D", code=python_code(), source=big, parallelism_per_kpu=8).parallelism == 256


def test_restore_rollback_snapshots_and_checkpoints_as_given() -> None:
    _, _, template = build(
        restore="CUSTOM",
        restore_snapshot="before-upgrade",
        allow_non_restored_state=True,
        system_rollback=False,
        checkpoint_interval=Duration.seconds(30),
        min_pause_between_checkpoints=Duration.seconds(10),
        log_level="WARN",
        metrics_level="TASK",
    )
    props = application(template)["Properties"]
    assert props["RunConfiguration"] == {
        "ApplicationRestoreConfiguration": {
            "ApplicationRestoreType": "RESTORE_FROM_CUSTOM_SNAPSHOT",
            "SnapshotName": "before-upgrade",
        },
        "FlinkRunConfiguration": {"AllowNonRestoredState": True},
    }
    config = props["ApplicationConfiguration"]
    assert config["ApplicationSystemRollbackConfiguration"] == {"RollbackEnabled": False}
    checkpoints = config["FlinkApplicationConfiguration"]["CheckpointConfiguration"]
    assert (checkpoints["CheckpointInterval"], checkpoints["MinPauseBetweenCheckpoints"]) == (30_000, 10_000)
    _, _, skipped = build(restore="SKIP", snapshots=False)
    assert configuration(skipped)["ApplicationSnapshotConfiguration"] == {"SnapshotsEnabled": False}


def test_a_customer_managed_key_encrypts_the_application_and_its_logs() -> None:
    stack = new_stack("bare-agnostic")
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    processor = StreamProcessor(
        stack, "Counts", code=python_code(), source=kinesis.Stream(stack, "S", shard_count=1), encryption_key=key
    )
    template = Template.from_stack(stack)
    assert configuration(template)["ApplicationEncryptionConfiguration"] == {
        "KeyType": "CUSTOMER_MANAGED_KEY",
        "KeyId": {"Fn::GetAtt": [lid(stack, key), "Arn"]},
    }
    assert Template.from_stack(stack).find_resources("AWS::Logs::LogGroup")[lid(stack, processor.log_group)][
        "Properties"
    ]["KmsKeyId"] == {"Fn::GetAtt": [lid(stack, key), "Arn"]}


def test_vpc_placement_uses_private_subnets_and_a_security_group() -> None:
    stack = new_stack("bare-bound")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1, restrict_default_security_group=False)
    processor = StreamProcessor(
        stack, "Counts", code=python_code(), source=kinesis.Stream(stack, "S", shard_count=1), vpc=vpc
    )
    (placement,) = configuration(Template.from_stack(stack))["VpcConfigurations"]
    private = {stack.resolve(s.subnet_id)["Ref"] for s in vpc.private_subnets}
    assert {s["Ref"] for s in placement["SubnetIds"]} == private
    assert len(placement["SecurityGroupIds"]) == 1
    statements = {s.get("Sid"): s for s in role_statements(stack, processor)}
    assert "ec2:CreateNetworkInterface" in actions(statements["PlaceItInTheVpc"])


def test_code_from_a_jar_or_a_bucket(tmp_path: Path) -> None:
    jar = tmp_path / "job.jar"
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
    _, processor, template = build(code=FlinkCode.jar(jar))
    assert PYTHON_RUN_OPTIONS not in groups(template)
    assert processor.code_asset is not None
    stack = new_stack("bare-agnostic")
    bucket = s3.Bucket(stack, "Code")
    processor = StreamProcessor(
        stack,
        "Counts",
        code=FlinkCode.from_bucket(bucket, "jobs/counts.zip", python_main="main.py"),
        source=kinesis.Stream(stack, "S", shard_count=1),
    )
    location = configuration(Template.from_stack(stack))["ApplicationCodeConfiguration"]["CodeContent"]
    assert location["S3ContentLocation"]["FileKey"] == "jobs/counts.zip"
    statements = {s.get("Sid"): s for s in role_statements(stack, processor)}
    assert json.dumps(statements["ReadTheCode"]["Resource"]).endswith('"/jobs/counts.zip"]]}')
    assert processor.code_asset is None


def test_start_after_deploy_is_a_custom_resource_with_the_run_configuration() -> None:
    stack, processor, template = build(start_after_deploy=True)
    (start,) = template.find_resources("Custom::FlinkApplicationStart").values()
    props = start["Properties"]
    assert props["ApplicationName"] == {"Ref": lid(stack, processor.application)}
    assert json.loads(props["RunConfiguration"]) == {
        "ApplicationRestoreConfiguration": {"ApplicationRestoreType": "RESTORE_FROM_LATEST_SNAPSHOT"},
        "FlinkRunConfiguration": {"AllowNonRestoredState": False},
    }
    assert lid(stack, processor.logging_option) in start["DependsOn"]
    template.has_resource_properties(
        "AWS::Lambda::Function", {"Code": {"ZipFile": Match.string_like_regexp("start_application")}}
    )
    # A change of the application's configuration changes the resource, so the next deploy starts it again.
    _, _, other = build(start_after_deploy=True, parallelism=2)
    (changed,) = other.find_resources("Custom::FlinkApplicationStart").values()
    assert changed["Properties"]["Configuration"] != props["Configuration"]


class _InUse(Exception):
    pass


class _FakeClient:
    class exceptions:  # botocore spells it so
        ResourceInUseException = _InUse

    def __init__(self, running: bool) -> None:
        self.running = running
        self.started: list[dict[str, Any]] = []

    def start_application(self, **kwargs: Any) -> None:
        if self.running:
            raise _InUse("Application is in RUNNING state")
        self.started.append(kwargs)
        self.running = True

    def describe_application(self, **kwargs: Any) -> dict[str, Any]:
        return {"ApplicationDetail": {"ApplicationStatus": "RUNNING" if self.running else "READY"}}


@pytest.mark.parametrize("running", [False, True], ids=["ready", "already-running"])
def test_the_start_handler_is_idempotent(running: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    client = _FakeClient(running)
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(
        _start_handler.botocore.session,
        "get_session",
        lambda: type("S", (), {"create_client": lambda _s, _n: client})(),
    )
    monkeypatch.setattr(
        _start_handler.urllib.request, "urlopen", lambda req, timeout: sent.append(json.loads(req.data))
    )
    run = {"ApplicationRestoreConfiguration": {"ApplicationRestoreType": "SKIP_RESTORE_FROM_SNAPSHOT"}}
    event = {
        "RequestType": "Create",
        "ResourceProperties": {"ApplicationName": "counts", "RunConfiguration": json.dumps(run)},
        "ResponseURL": "https://example.invalid/response",
        "StackId": "stack",
        "RequestId": "request",
        "LogicalResourceId": "Start",
    }
    _start_handler.handler(event, None)
    (response,) = sent
    assert response["Status"] == "SUCCESS"
    assert response["Data"]["Status"] == "RUNNING"
    assert client.started == ([] if running else [{"ApplicationName": "counts", "RunConfiguration": run}])
    _start_handler.handler({**event, "RequestType": "Delete", "PhysicalResourceId": "Start"}, None)
    assert sent[-1]["Status"] == "SUCCESS" and len(client.started) <= 1  # Delete starts nothing


def test_the_alarms_watch_the_application() -> None:
    stack, processor, template = build(checkpoint_interval=Duration.seconds(30))
    duration = template.find_resources("AWS::CloudWatch::Alarm")[lid(stack, processor.alarms["checkpoint_duration"])]
    props = duration["Properties"]
    assert (props["MetricName"], props["Namespace"], props["Threshold"]) == (
        "lastCheckpointDuration",
        "AWS/KinesisAnalytics",
        30_000,
    )
    assert props["Dimensions"] == [{"Name": "Application", "Value": {"Ref": lid(stack, processor.application)}}]
    restarts = template.find_resources("AWS::CloudWatch::Alarm")[lid(stack, processor.alarms["full_restarts"])]
    expression = [m for m in restarts["Properties"]["Metrics"] if "Expression" in m]
    assert expression[0]["Expression"] == "DIFF(total)"
    lag = template.find_resources("AWS::CloudWatch::Alarm")[lid(stack, processor.alarms["source_lag"])]
    assert (lag["Properties"]["MetricName"], lag["Properties"]["Threshold"]) == ("millisBehindLatest", 600_000)
    assert processor.metric_cpu_utilization().metric_name == "cpuUtilization"


def test_two_in_one_stack_and_the_source_in_another_stack() -> None:
    app = cdk.App()
    streams = cdk.Stack(app, "Streams")
    source = StreamToS3(streams, "Clicks", shard_count=2)
    processing = cdk.Stack(app, "Processing")
    first = StreamProcessor(processing, "First", code=python_code(), source=source)
    second = StreamProcessor(
        processing, "Second", code=python_code(), source=source.stream, removal_policy=RemovalPolicy.DESTROY
    )
    template = Template.from_stack(processing)
    template.resource_count_is(APP, 2)
    assert first.parallelism == second.parallelism == 2
    names = [r["Properties"]["AlarmName"] for r in template.find_resources("AWS::CloudWatch::Alarm").values()]
    assert len(names) == len(set(names)) == 2 * len(StreamProcessor.ALARM_KEYS)
    assert streams in processing.dependencies
    arns = [
        g["PropertyMap"]["stream.arn"]
        for a in template.find_resources(APP).values()
        for g in a["Properties"]["ApplicationConfiguration"]["EnvironmentProperties"]["PropertyGroups"]
        if g["PropertyGroupId"] == SOURCE_GROUP
    ]
    assert all("Fn::ImportValue" in arn for arn in arns)
    Template.from_stack(streams)


def test_the_reference_stack_gives_the_reference_job_every_property_it_reads() -> None:
    """stacks/flink_job/properties.py is the job's side of the contract: every group and key it requires is in
    the application's property groups, and its run options (the connector jar only once the user adds it)."""
    from stacks import app_context
    from stacks.flink_job import properties as job
    from stacks.stream_processor_stack import JOB_DIR, StreamProcessorStack

    stack = StreamProcessorStack(cdk.App(context=app_context()), "DecouplingStreamProcessor")
    found = groups(Template.from_stack(stack))
    assert SOURCE_GROUP == job.SOURCE_GROUP
    for group, keys in job.REQUIRED_KEYS.items():
        assert set(keys) <= set(found[group]), group
    expected = dict(job.RUN_OPTIONS)
    if not (JOB_DIR / job.CONNECTOR_JAR).is_file():
        del expected["jarfile"]
    assert found[job.RUN_OPTIONS_GROUP] == expected
