"""The preflight (what an emulator will refuse or drop, before any deploy), Emulator.env() for child processes, and
the moto versions verify()'s table was checked on against the [testing] extra's range. No emulator is started: the
preflight asks moto's CloudFormation type lookup in this process (MiniStack's answers are in
tests/behaviour/test_foreign_app.py)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import aws_cdk as cdk
import moto
import pytest
from aws_cdk.assertions import Template

from decoupling_constructs.testing import PreflightError, preflight
from decoupling_constructs.testing.emulators import Emulator
from decoupling_constructs.testing.verify import NOT_STORED_CHECKED

ROOT = Path(__file__).resolve().parents[2]
MOTO = Emulator(name="moto", version=moto.__version__, endpoint_url="http://localhost:1", account="123456789012")


def resource(resource_type: str, path: str, **properties: object) -> dict:
    return {"Type": resource_type, "Properties": properties, "Metadata": {"aws:cdk:path": path}}


TEMPLATE = {
    "Resources": {
        "Dlq": resource("AWS::SQS::Queue", "App/Orders/Dlq", RedriveAllowPolicy={"redrivePermission": "denyAll"}),
        "Alarm": resource("AWS::CloudWatch::Alarm", "App/Orders/Alarm"),
        "Mapping": resource("AWS::Pipes::Pipe", "App/Pipe", Source={"Ref": "Dlq"}),
        "Custom": resource("Custom::Thing", "App/Thing"),
        "Queue": resource("AWS::SQS::Queue", "App/Orders/Queue", Tags=[{"Key": "k", "Value": {"Ref": "Custom"}}]),
    },
    "Outputs": {
        "PipeArn": {"Value": {"Fn::GetAtt": ["Mapping", "Arn"]}},
        "QueueUrl": {"Value": {"Fn::GetAtt": ["Queue", "QueueUrl"]}},
    },
}


def test_moto_preflight_names_every_refusal_and_drop_with_its_construct_path() -> None:
    report = preflight({"App": TEMPLATE}, MOTO)
    refused = {(f.path, f.subject) for f in report.refused}
    assert refused == {
        ("App/Pipe", "type"),  # moto skips it, the helper cannot complete it
        ("App/Thing", "type"),  # a custom resource needs Lambda in Docker
        ("App/Pipe", "attribute Arn"),  # GetAtt on a skipped type fails the deploy
        ("App/Orders/Queue", "attribute QueueUrl"),
    }
    dropped = {(f.path, f.subject) for f in report.dropped}
    assert dropped == {
        ("App/Orders/Dlq", "property RedriveAllowPolicy"),
        ("App/Orders/Alarm", "type"),  # skipped, completed by Emulator.deployment()
        ("App/Orders/Queue", "property Tags"),  # a Ref to a skipped resource: moto drops the property
    }
    assert all(f.reason for f in report.refused + report.dropped)
    with pytest.raises(PreflightError, match=r"REFUSED App App/Pipe \(AWS::Pipes::Pipe\) type: moto"):
        report.raise_for_refusals()


def test_moto_preflight_names_the_flink_application_before_any_deploy() -> None:
    """moto's CloudFormation skips AWS::KinesisAnalyticsV2::Application (the stack completes, nothing exists): the
    preflight refuses the reference StreamProcessor stack on moto, naming the construct and why."""
    from stacks import REFERENCE_STACKS, app_context

    app = cdk.App(context=app_context())
    stack = REFERENCE_STACKS["DecouplingStreamProcessor"](app, "DecouplingStreamProcessor")
    template = Template.from_stack(stack).to_json()
    report = preflight({"DecouplingStreamProcessor": template}, MOTO)
    refused = {f.resource_type: f for f in report.refused if f.subject == "type"}
    application = refused["AWS::KinesisAnalyticsV2::Application"]
    assert application.logical_id == stack.resolve(stack.get_logical_id(stack.processor.application))
    assert "CREATE_COMPLETE with no application" in application.reason and "MiniStack" in application.reason
    assert "MiniStack" in refused["AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption"].reason
    with pytest.raises(
        PreflightError, match=r"\(AWS::KinesisAnalyticsV2::Application\) type: moto's CloudFormation has"
    ):
        report.raise_for_refusals()


def test_a_template_moto_fully_creates_passes() -> None:
    report = preflight({"App": {"Resources": {"Q": resource("AWS::SQS::Queue", "App/Q", VisibilityTimeout=30)}}}, MOTO)
    assert report.ok and report.refused == [] and report.dropped == []
    assert report.raise_for_refusals() is report


def test_env_names_a_profile_that_exists_and_overrides_the_users(tmp_path: Path) -> None:
    emulator = Emulator("moto", "5.2.6", "http://localhost:4566", "123456789012", home=tmp_path)
    env = emulator.env()
    assert env["AWS_PROFILE"] == "decoupling-moto"
    assert "[profile decoupling-moto]" in Path(env["AWS_CONFIG_FILE"]).read_text()
    assert "aws_access_key_id = moto-testing" in Path(env["AWS_SHARED_CREDENTIALS_FILE"]).read_text()
    assert env["CDK_HOME"].startswith(str(tmp_path))
    assert all(value for value in env.values())  # no empty variable (AWS_PROFILE="" broke boto3 and the CLIs)
    child = emulator.child_env({"AWS_PROFILE": "prod", "AWS_SESSION_TOKEN": "real", "PATH": "/bin"})
    assert child["AWS_PROFILE"] == "decoupling-moto" and "AWS_SESSION_TOKEN" not in child and child["PATH"] == "/bin"
    other = Emulator("ministack", "1.5.33", "http://127.0.0.1:4567", "000000000000", home=tmp_path / "m")
    assert other.env()["CDK_HOME"] != env["CDK_HOME"]
    assert other.access_key_id != emulator.access_key_id


def test_the_moto_table_was_checked_on_both_ends_of_the_testing_extra() -> None:
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["testing"]
    (spec,) = [r for r in extra if r.startswith("moto")]
    floor, ceiling = re.fullmatch(r"moto\[server\]>=([\d.]+),<([\d.]+)", spec).groups()  # type: ignore[union-attr]
    dev_pin = re.search(r"^moto\[server\]==([\d.]+)$", (ROOT / "requirements-dev.txt").read_text(), re.M)
    top_pin = re.search(r"^moto\[server\]==([\d.]+)$", (ROOT / "requirements-moto-ceiling.txt").read_text(), re.M)
    assert dev_pin and top_pin
    assert dev_pin.group(1) == floor
    assert top_pin.group(1).startswith(ceiling.rsplit(".", 1)[0] + ".")
    assert set(NOT_STORED_CHECKED["moto"]) == {floor, top_pin.group(1)}
    assert moto.__version__ in NOT_STORED_CHECKED["moto"]  # whichever end this run is on


def test_ministack_preflight_refuses_metric_math_alarms(monkeypatch: pytest.MonkeyPatch) -> None:
    """MiniStack's CloudFormation rolls back on an alarm with Metrics (metric math): named before the deploy. (Which
    types MiniStack knows is asked of a running MiniStack: stubbed here, tests/behaviour covers the real answer.)"""
    import importlib

    module = importlib.import_module("decoupling_constructs.testing.preflight")

    monkeypatch.setattr(module, "_ministack_unrecognized", lambda types, emulator: set())
    ministack = Emulator(name="ministack", version="1.5.33", endpoint_url="http://localhost:1", account="000000000000")
    template = {
        "Resources": {
            "Restarts": resource("AWS::CloudWatch::Alarm", "App/Counts/FullRestartsAlarm", Metrics=[{"Id": "m"}]),
            "Downtime": resource("AWS::CloudWatch::Alarm", "App/Counts/DowntimeAlarm", MetricName="downtime"),
        }
    }
    report = preflight({"App": template}, ministack)
    assert [(f.path, f.subject) for f in report.refused] == [("App/Counts/FullRestartsAlarm", "property Metrics")]
    assert "metric-math" in report.refused[0].reason
