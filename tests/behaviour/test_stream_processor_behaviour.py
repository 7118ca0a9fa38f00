"""The StreamProcessor reference stack deployed by the real CLI (`cdk bootstrap`, `cdk deploy`, change sets) into
MiniStack: what its control plane holds is what the template says, the start-after-deploy custom resource takes the
application from READY to RUNNING, a snapshot can be made and listed, and a deploy that changes the application
while it runs leaves it RUNNING with the new configuration.

What is proven here is MiniStack's Managed Flink control plane (CloudFormation, DescribeApplication, StartApplication,
snapshots). No Flink job runs: MiniStack runs jobs only with the ``docker`` package, a Docker daemon and the Flink
images, which this machine lacks. Autoscaling, the KPU quota, managed snapshots on update and system rollback are
AWS behaviours MiniStack does not model: docs/stream-processor.md says so.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from decoupling_constructs.testing.emulators import Emulator, cdk_deploy, ministack

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("stream-processor-deploy")]

STACK = "DecouplingStreamProcessor"


def _synth(outdir: Path, *, checkpoint_seconds: int = 30) -> tuple[Path, dict[str, Any]]:
    import aws_cdk as cdk

    from stacks import app_context
    from stacks import stream_processor_stack as module

    app = cdk.App(context=app_context(), outdir=str(outdir))
    # MiniStack's CloudWatch has no metric-math alarms (the preflight names them): the two on a running total's
    # increase are left out here; the template tests and the static checks cover them.
    stack = module.StreamProcessorStack(app, STACK, metric_math_alarms=False)
    if checkpoint_seconds != 30:  # the update: the same stack with another checkpoint interval
        stack.processor.application.add_property_override(
            "ApplicationConfiguration.FlinkApplicationConfiguration.CheckpointConfiguration.CheckpointInterval",
            checkpoint_seconds * 1000,
        )
    assembly = app.synth()
    return Path(assembly.directory), assembly.get_stack_by_name(STACK).template


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Emulator, dict[str, Any], Any]]:
    logs = tmp_path_factory.mktemp("ministack-flink")
    assembly, template = _synth(tmp_path_factory.mktemp("flink-cdk.out"))
    with ministack(log_file=logs / "ministack.log") as emulator:
        cdk_deploy(assembly, [STACK], emulator, log_file=logs / "cdk.log")
        session = boto3.Session(
            aws_access_key_id=emulator.access_key_id, aws_secret_access_key="testing", region_name=emulator.region
        )
        client = session.client("kinesisanalyticsv2", endpoint_url=emulator.endpoint_url)
        yield emulator, template, client


def _application(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    (logical_id,) = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::KinesisAnalyticsV2::Application"]
    return logical_id, template["Resources"][logical_id]["Properties"]


def _name(emulator: Emulator, logical_id: str) -> str:
    session = boto3.Session(
        aws_access_key_id=emulator.access_key_id, aws_secret_access_key="testing", region_name=emulator.region
    )
    cloudformation = session.client("cloudformation", endpoint_url=emulator.endpoint_url)
    resource = cloudformation.describe_stack_resource(StackName=STACK, LogicalResourceId=logical_id)
    return str(resource["StackResourceDetail"]["PhysicalResourceId"])


def _status(client: Any, name: str, wanted: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        detail: dict[str, Any] = client.describe_application(ApplicationName=name)["ApplicationDetail"]
        if detail["ApplicationStatus"] == wanted or time.monotonic() > deadline:
            return detail
        time.sleep(0.5)


def test_describe_application_echoes_the_template(deployed: tuple[Emulator, dict[str, Any], Any]) -> None:
    emulator, template, client = deployed
    logical_id, props = _application(template)
    detail = client.describe_application(ApplicationName=_name(emulator, logical_id))["ApplicationDetail"]
    assert detail["RuntimeEnvironment"] == props["RuntimeEnvironment"] == "FLINK-1_20"
    flink = detail["ApplicationConfigurationDescription"]["FlinkApplicationConfigurationDescription"]
    wanted = props["ApplicationConfiguration"]["FlinkApplicationConfiguration"]
    parallelism = flink["ParallelismConfigurationDescription"]
    assert (parallelism["ConfigurationType"], parallelism["Parallelism"], parallelism["ParallelismPerKPU"]) == (
        "CUSTOM",
        wanted["ParallelismConfiguration"]["Parallelism"],
        wanted["ParallelismConfiguration"]["ParallelismPerKPU"],
    )
    assert parallelism["Parallelism"] == 2  # the source's two shards
    assert parallelism["AutoScalingEnabled"] is True
    checkpoints = flink["CheckpointConfigurationDescription"]
    assert (checkpoints["CheckpointingEnabled"], checkpoints["CheckpointInterval"]) == (True, 30_000)
    assert checkpoints["MinPauseBetweenCheckpoints"] == 10_000
    snapshots = detail["ApplicationConfigurationDescription"]["ApplicationSnapshotConfigurationDescription"]
    assert snapshots["SnapshotsEnabled"] is True
    (logging,) = detail["CloudWatchLoggingOptionDescriptions"]
    assert ":log-stream:" in logging["LogStreamARN"]
    groups = {
        g["PropertyGroupId"]: g["PropertyMap"]
        for g in detail["ApplicationConfigurationDescription"]["EnvironmentPropertyDescriptions"][
            "PropertyGroupDescriptions"
        ]
    }
    assert groups["SourceStream"]["stream.arn"].startswith("arn:aws:kinesis:")
    assert groups["Sink"]["type"] == "kinesis"
    assert groups["kinesis.analytics.flink.run.options"]["python"] == "main.py"


def test_verify_reads_the_application_back_as_its_template(deployed: tuple[Emulator, dict[str, Any], Any]) -> None:
    """The library's verify() (the demo's VERIFIED line) reads the application and its logging option back through
    DescribeApplication: every property of the template, no mismatch."""
    from decoupling_constructs.testing import verify

    emulator, template, _ = deployed
    report = verify(emulator.deployment(STACK, template), check=False)
    flink_types = {
        "AWS::KinesisAnalyticsV2::Application",
        "AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption",
    }
    assert [f for f in report.mismatches if f.resource_type in flink_types] == []
    matched = {(f.resource_type, f.property) for f in report.matches if f.resource_type in flink_types}
    assert {
        ("AWS::KinesisAnalyticsV2::Application", "ApplicationConfiguration"),
        ("AWS::KinesisAnalyticsV2::Application", "RuntimeEnvironment"),
        ("AWS::KinesisAnalyticsV2::Application", "ServiceExecutionRole"),
        ("AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption", "CloudWatchLoggingOption"),
    } <= matched
    assert not [f for f in report.not_verified if f.resource_type in flink_types]


def test_start_after_deploy_took_it_from_ready_to_running(deployed: tuple[Emulator, dict[str, Any], Any]) -> None:
    emulator, template, client = deployed
    name = _name(emulator, _application(template)[0])
    assert _status(client, name, "RUNNING")["ApplicationStatus"] == "RUNNING"
    # Idempotent: a second start is refused as "in use", which the custom resource treats as done.
    with pytest.raises(client.exceptions.ResourceInUseException):
        client.start_application(ApplicationName=name)


def test_a_snapshot_can_be_made_and_listed(deployed: tuple[Emulator, dict[str, Any], Any]) -> None:
    emulator, template, client = deployed
    name = _name(emulator, _application(template)[0])
    _status(client, name, "RUNNING")
    client.create_application_snapshot(ApplicationName=name, SnapshotName="before-update")
    listed = client.list_application_snapshots(ApplicationName=name)["SnapshotSummaries"]
    assert "before-update" in {s["SnapshotName"] for s in listed}


def test_a_deploy_that_changes_it_while_running_keeps_it_running(
    deployed: tuple[Emulator, dict[str, Any], Any], tmp_path: Path
) -> None:
    """AWS (UpdateApplication on a RUNNING application) restarts the job with the new configuration from a snapshot
    it takes; MiniStack stores the new configuration and the application stays RUNNING. The start custom resource
    runs again (its Configuration digest changed) and treats "already running" as done."""
    emulator, template, client = deployed
    name = _name(emulator, _application(template)[0])
    before = _status(client, name, "RUNNING")
    assembly, _ = _synth(tmp_path / "cdk.out", checkpoint_seconds=45)
    cdk_deploy(assembly, [STACK], emulator, log_file=tmp_path / "cdk-update.log", bootstrap=False)
    after = _status(client, name, "RUNNING")
    checkpoints = after["ApplicationConfigurationDescription"]["FlinkApplicationConfigurationDescription"][
        "CheckpointConfigurationDescription"
    ]
    assert checkpoints["CheckpointInterval"] == 45_000
    assert after["ApplicationStatus"] == "RUNNING"
    assert after["ApplicationVersionId"] > before["ApplicationVersionId"]
