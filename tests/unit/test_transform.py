"""LambdaTransform and render_processing: every setting rendered (retries 0, sub-MiB buffers), the grant on the
function and its versions, and the rules (the 5-minute cap, the buffer ranges), named as the engine names them."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, Size
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

from decoupling_constructs import LambdaTransform
from decoupling_constructs.streams._transform import (
    buffer_size_mb,
    known_timeout_seconds,
    render_processing,
)
from tests.unit.cdk_helpers import lid, new_stack

ONE_MINUTE = Duration.minutes(1)


def function(stack: cdk.Stack, name: str = "Fn", timeout: Duration | None = ONE_MINUTE) -> lambda_.Function:
    return lambda_.Function(
        stack,
        name,
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context): return event"),
        timeout=timeout,
    )


def role(stack: cdk.Stack) -> iam.Role:
    return iam.Role(stack, "Delivery", assumed_by=iam.ServicePrincipal("firehose.amazonaws.com"))


def parameters(rendered: dict, stack: cdk.Stack, index: int = 0) -> dict:
    processor = stack.resolve(rendered)["Processors"][index]
    return {p["ParameterName"]: p["ParameterValue"] for p in processor["Parameters"]}


def test_every_setting_is_rendered_retries_zero_included() -> None:
    stack = new_stack()
    fn = function(stack)
    rendered = render_processing(stack, LambdaTransform(fn, retries=0), role(stack))
    assert rendered is not None and rendered["Enabled"] is True
    params = parameters(rendered, stack)
    assert params["NumberOfRetries"] == "0"  # aws-cdk-lib's LambdaFunctionProcessor drops 0 (G1)
    assert params["BufferSizeInMBs"] == "1"
    assert params["BufferIntervalInSeconds"] == "60"
    assert params["LambdaArn"] == {"Fn::GetAtt": [lid(stack, fn), "Arn"]}
    assert "RoleArn" in params


@pytest.mark.parametrize(
    ("size", "rendered"),
    [(Size.kibibytes(256), "0.25"), (Size.kibibytes(205), "0.2001953125"), (Size.mebibytes(3), "3")],
)
def test_buffer_size_is_rendered_in_mb_fractions_included(size: Size, rendered: str) -> None:
    assert buffer_size_mb(size) == rendered


def test_the_delivery_role_may_invoke_the_function_and_its_versions_and_the_stream_waits_for_it() -> None:
    stack = new_stack()
    fn, delivery_role = function(stack), role(stack)
    waiting = cdk.CfnResource(stack, "Waiting", type="AWS::CloudFormation::WaitConditionHandle")
    render_processing(stack, LambdaTransform(fn), delivery_role, dependent=waiting)
    template = Template.from_stack(stack).to_json()
    policies = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"]
    assert len(policies) == 1
    (statement,) = policies[0]["Properties"]["PolicyDocument"]["Statement"]
    assert sorted(statement["Action"]) == ["lambda:GetFunctionConfiguration", "lambda:InvokeFunction"]
    arn = {"Fn::GetAtt": [lid(stack, fn), "Arn"]}
    assert statement["Resource"] == [arn, {"Fn::Join": ["", [arn, ":*"]]}]
    policy_id = next(k for k, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Policy")
    assert template["Resources"]["Waiting"]["DependsOn"] == [policy_id]


def test_an_alias_is_granted_exactly_and_its_function_timeout_is_checked() -> None:
    stack = new_stack()
    slow = function(stack, "Slow", Duration.minutes(6))
    alias = lambda_.Alias(stack, "Live", alias_name="live", version=slow.current_version)
    assert known_timeout_seconds(alias) == 360
    with pytest.raises(ValueError, match=r"^Stack 'Test': transform.function must have a timeout of at most 5"):
        render_processing(stack, LambdaTransform(alias), role(stack))


def test_the_default_timeout_is_known_and_an_imported_function_is_not_checked() -> None:
    stack = new_stack()
    assert known_timeout_seconds(function(stack, timeout=None)) == 3
    imported = lambda_.Function.from_function_arn(stack, "Imported", "arn:aws:lambda:eu-west-1:111111111111:function:x")
    assert known_timeout_seconds(imported) is None
    assert render_processing(stack, LambdaTransform(imported), role(stack)) is not None


def test_nothing_to_render_without_a_transform_or_extraction() -> None:
    stack = new_stack()
    assert render_processing(stack, None, role(stack)) is None


def test_partition_by_renders_a_jq_metadata_extraction_after_the_transform() -> None:
    stack = new_stack()
    rendered = render_processing(
        stack, LambdaTransform(function(stack)), role(stack), partition_by={"tenant": ".tenant", "kind": ".a.b"}
    )
    assert rendered is not None
    assert [p["Type"] for p in rendered["Processors"]] == ["Lambda", "MetadataExtraction"]
    assert parameters(rendered, stack, 1) == {
        "MetadataExtractionQuery": "{tenant:.tenant,kind:.a.b}",
        "JsonParsingEngine": "JQ-1.6",
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("retries", -1, "transform.retries must be 0-"),
        ("buffer_size", Size.mebibytes(4), r"transform.buffer_size must be 0.2-3 MiB"),
        ("buffer_size", Size.kibibytes(200), r"transform.buffer_size must be 0.2-3 MiB"),
        ("buffer_interval", Duration.seconds(901), "transform.buffer_interval must be 0-900 seconds"),
        ("partition_keys", ["tenant", "tenant"], "transform.partition_keys must not repeat a key"),
        ("partition_keys", ["a}b"], r"transform.partition_keys\[0\] must be a partition key name"),
    ],
)
def test_wrong_settings_are_refused_naming_the_owner_and_the_field(field: str, value: object, message: str) -> None:
    stack = new_stack()
    transform = LambdaTransform(function(stack), **{field: value})  # type: ignore[arg-type]
    with pytest.raises((ValueError, TypeError), match=f"^Stack 'Test': {message}"):
        render_processing(stack, transform, role(stack))


def test_partition_by_must_be_jq_paths() -> None:
    stack = new_stack()
    with pytest.raises(ValueError, match=r"partition_by\['tenant'\] must be a JQ path"):
        render_processing(stack, None, role(stack), partition_by={"tenant": "tenant}"})
