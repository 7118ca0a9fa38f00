"""verify() on the types a VPC with public and private subnets and a NAT gateway creates (routes, Elastic IP, NAT and
internet gateways), and on a type it has no reader for: reported as not verified, with the reason, never raised.
In-process moto; one App per module."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm

from decoupling_constructs.testing import VerificationError, deploy_to_moto, verify


@pytest.fixture(scope="module")
def network() -> dict:
    app = cdk.App()
    stack = cdk.Stack(app, "UsersNetwork")
    ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1)
    ssm.CfnParameter(stack, "Setting", name="/users/setting", type="String", value="on")
    return app.synth().get_stack_by_name("UsersNetwork").template


def test_a_nat_vpc_is_read_back_and_an_unknown_type_is_reported_not_raised(aws: None, network: dict) -> None:
    deployment = deploy_to_moto(network, stack_name="UsersNetwork")
    report = verify(deployment, check=False)

    (unknown,) = report.not_verified
    assert (unknown.logical_id, unknown.resource_type) == ("Setting", "AWS::SSM::Parameter")
    assert unknown.reason == "verify has no reader for AWS::SSM::Parameter"
    assert "1 resources not verified" in report.summary()
    assert report.mismatches == [], report.details()
    read = {f.resource_type for f in report.matches}
    assert {
        "AWS::EC2::Route",
        "AWS::EC2::EIP",
        "AWS::EC2::NatGateway",
        "AWS::EC2::VPCGatewayAttachment",
        "AWS::EC2::RouteTable",
    } <= read
    routes = [f for f in report.matches if f.resource_type == "AWS::EC2::Route" and f.property == "NatGatewayId"]
    assert len(routes) == 2  # each private subnet's default route goes through the NAT gateway


def test_a_deleted_route_is_a_mismatch(aws: None, network: dict) -> None:
    deployment = deploy_to_moto(network, stack_name="UsersNetwork")
    (route_id,) = [
        lid
        for lid, r in network["Resources"].items()
        if r["Type"] == "AWS::EC2::Route" and "NatGatewayId" in r["Properties"] and "Private" in lid
    ][:1]
    table = deployment.physical_id(network["Resources"][route_id]["Properties"]["RouteTableId"]["Ref"])
    deployment.client("ec2").delete_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0")
    with pytest.raises(VerificationError, match=f"MISMATCH {route_id} .*AWS::EC2::Route"):
        verify(deployment)


@pytest.fixture(scope="module")
def function_stack() -> dict:
    """A Lambda function with the role CDK makes for it (a managed policy) and a role with an inline policy."""
    app = cdk.App()
    stack = cdk.Stack(app, "UsersFunction")
    lambda_.Function(
        stack,
        "Handler",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
        layers=[
            lambda_.LayerVersion.from_layer_version_arn(
                stack, "Powertools", "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3:1"
            )
        ],
    )
    iam.Role(
        stack,
        "Inline",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        inline_policies={
            "Read": iam.PolicyDocument(
                statements=[iam.PolicyStatement(actions=["sqs:ReceiveMessage"], resources=["*"])]
            )
        },
    )
    return app.synth().get_stack_by_name("UsersFunction").template


def test_a_roles_policies_on_moto_are_not_stored_and_said_so(aws: None, function_stack: dict) -> None:
    # GetRole returns neither the managed nor the inline policies: verify reads them with their own list calls.
    # moto's CloudFormation attaches no managed policy and stores inline documents as Python text, so on moto both
    # are "not stored", with the reason (preflight names them first); on MiniStack both match
    # (tests/behaviour/test_foreign_app.py). Before, every function's role was a mismatch on both emulators.
    deployment = deploy_to_moto(function_stack, stack_name="UsersFunction")
    report = verify(deployment, check=False)
    assert report.mismatches == [], report.details()
    not_stored = {(f.resource_type, f.property): f for f in report.not_stored}
    assert not_stored[("AWS::IAM::Role", "ManagedPolicyArns")].actual == []
    assert "attaches none" in not_stored[("AWS::IAM::Role", "ManagedPolicyArns")].reason
    assert isinstance(not_stored[("AWS::IAM::Role", "Policies")].actual, list)
    assert not_stored[("AWS::Lambda::Function", "Layers")].actual is None  # moto's CloudFormation ignores Layers


def test_a_roles_attached_policy_is_read_back(aws: None, function_stack: dict) -> None:
    """What the role really has attached is what verify reads: attached through the IAM API, it matches."""
    deployment = deploy_to_moto(function_stack, stack_name="UsersFunction")
    (role_id,) = [
        lid for lid, r in function_stack["Resources"].items() if "ManagedPolicyArns" in r.get("Properties", {})
    ]
    iam_client = deployment.client("iam")
    policy = iam_client.create_policy(
        PolicyName="AWSLambdaBasicExecutionRole",
        Path="/service-role/",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}
        ),
    )["Policy"]
    iam_client.attach_role_policy(RoleName=deployment.physical_id(role_id), PolicyArn=policy["Arn"])
    report = verify(deployment, check=False)
    read = [f for f in report.not_stored + report.matches + report.mismatches if f.property == "ManagedPolicyArns"]
    assert [f.actual for f in read] == [[policy["Arn"]]]
