"""verify() on the types a VPC with public and private subnets and a NAT gateway creates (routes, Elastic IP, NAT and
internet gateways), and on a type it has no reader for: reported as not verified, with the reason, never raised.
In-process moto; one App per module."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
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
