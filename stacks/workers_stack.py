"""Reference stack for QueueWorkers: an EC2 fleet consuming a ReliableQueue, scaled on backlog per instance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from decoupling_constructs import AlarmTopic, QueueWorkers, ReliableQueue
from decoupling_constructs._security import acknowledge_checkov

# The workers' code: the directory holding the `renders` package, shipped to the instances as a CDK asset.
RENDER_WORKER_CODE = Path(__file__).parent / "render_worker"


class QueueWorkersStack(cdk.Stack):
    """A job queue and the fleet that drains it: 200 ms a message, a 30 s latency target (150 per instance)."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description="decoupling-constructs: QueueWorkers reference", **kwargs)
        alarms = AlarmTopic(self, "Alarms")
        # Private subnets with a NAT gateway: the workers reach SQS, S3 (their code) and SSM over HTTPS. The boot
        # fetches nothing from a package index; in isolated subnets, vpc_endpoints=True gives what it needs.
        vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=1,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC),
                ec2.SubnetConfiguration(name="Workers", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            ],
            # True would add a custom resource (a Lambda) to empty the default security group; the workers
            # have a security group of their own.
            restrict_default_security_group=False,
        )
        flow_logs = logs.LogGroup(self, "FlowLogs", retention=logs.RetentionDays.ONE_MONTH)
        acknowledge_checkov(
            flow_logs,
            "CKV_AWS_158",
            "CloudWatch Logs encrypts every log group at rest with its own keys; flow logs hold connection "
            "metadata (addresses, ports, accept or reject), no message content.",
        )
        vpc.add_flow_log("FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs))
        self.jobs = ReliableQueue(self, "Renders", visibility_timeout=Duration.minutes(2), alarm_topic=alarms)
        self.workers = QueueWorkers(
            self,
            "RenderFleet",
            queue=self.jobs,
            vpc=vpc,
            average_processing_time=Duration.millis(200),
            latency_target=Duration.seconds(30),
            handler="renders.worker:handle",
            worker_code=RENDER_WORKER_CODE,
            min_capacity=1,
            max_capacity=4,
            alarm_topic=alarms,
        )
        cdk.CfnOutput(self, "QueueUrl", value=self.jobs.queue.queue_url)
        cdk.CfnOutput(self, "AutoScalingGroupName", value=self.workers.auto_scaling_group.auto_scaling_group_name)
