"""A user's own four-stack app, outside the reference app (tests of the testing helpers deploy it): a shared KMS key
stack, a network stack with a NAT VPC, a legacy stack with a ReliableQueue and a FanOut, and a consumer stack whose
role uses the legacy stack's queue and topic (every cross-stack reference is an export and an Fn::ImportValue)."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from decoupling_constructs import FanOut, ReliableQueue

SHARED, NETWORK, LEGACY, CONSUMERS = "AcmeSharedKey", "AcmeNetwork", "AcmeLegacy", "AcmeConsumers"
# The stacks a user deploys into an emulator: all but the network (no emulator here hosts a NAT gateway).
APP_STACKS = [SHARED, LEGACY, CONSUMERS]


def synth_foreign_app(outdir: Path) -> Path:
    """Synthesize the app into ``outdir`` (a cloud assembly, as `cdk synth` writes it) and return it."""
    # Construct paths in the templates, as `cdk synth` writes them (the preflight names resources by path).
    app = cdk.App(outdir=str(outdir), context={"aws:cdk:enable-path-metadata": True})
    shared = cdk.Stack(app, SHARED)
    key = kms.Key(shared, "DataKey", enable_key_rotation=True, removal_policy=cdk.RemovalPolicy.DESTROY)

    network = cdk.Stack(app, NETWORK)
    vpc = ec2.Vpc(network, "Vpc", max_azs=2, nat_gateways=1)
    cdk.CfnOutput(network, "VpcCidr", value=vpc.vpc_cidr_block)  # Fn::GetAtt Vpc.CidrBlock

    legacy = cdk.Stack(app, LEGACY)
    orders = ReliableQueue(legacy, "Orders", encryption_key=key)  # the key: an import from the shared stack
    events = FanOut(legacy, "Events")
    events.add_queue("Billing")
    events.add_queue("Audit")
    cdk.CfnOutput(legacy, "OrdersDlqUrl", value=orders.dead_letter_queue.queue_url)

    consumers = cdk.Stack(app, CONSUMERS)
    worker = iam.Role(consumers, "Worker", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    orders.grant_consume_messages(worker)  # the queue ARN and the key ARN: imports from the legacy and shared stacks
    events.grant_publish(worker)
    return Path(app.synth().directory)
