"""QueueWorkers: an EC2 fleet draining a ReliableQueue, scaled on the backlog per instance."""

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from decoupling_constructs import AlarmTopic, QueueWorkers, ReliableQueue

# The handler's package, shipped to the instances as a CDK asset (nothing is installed from a package index).
WORKER_CODE = Path(__file__).parent / "render_worker"


class RenderStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)
        alarms = AlarmTopic(self, "Alarms")
        vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=1,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC),
                ec2.SubnetConfiguration(name="Workers", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            ],
        )
        renders = ReliableQueue(self, "Renders", visibility_timeout=Duration.minutes(2), alarm_topic=alarms)
        # 200 ms a message and 30 s of acceptable latency: 150 messages per instance.
        workers = QueueWorkers(
            self,
            "RenderFleet",
            queue=renders,
            vpc=vpc,
            average_processing_time=Duration.millis(200),
            latency_target=Duration.seconds(30),
            handler="renders.worker:handle",
            worker_code=WORKER_CODE,
            min_capacity=1,
            max_capacity=4,
            alarm_topic=alarms,
        )
        assert workers.acceptable_backlog_per_instance == 150
        cdk.CfnOutput(self, "AutoScalingGroupName", value=workers.auto_scaling_group.auto_scaling_group_name)


if __name__ == "__main__":
    app = cdk.App()
    RenderStack(app, "Render")
    app.synth()
