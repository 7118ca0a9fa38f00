"""Reference stack for MessageBroker: ActiveMQ active/standby in its own VPC, a RabbitMQ cluster in a given VPC."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from decoupling_constructs import AlarmTopic, BrokerEngine, MessageBroker


class MessageBrokerStack(cdk.Stack):
    """``activemq``: active/standby in a VPC the construct creates. ``rabbitmq``: a cluster in the
    application's VPC, reachable from the application's security group only."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description="decoupling-constructs: MessageBroker reference", **kwargs)
        alarms = AlarmTopic(self, "Alarms")
        self.activemq = MessageBroker(self, "Orders", alarm_topic=alarms.topic)

        flow_logs = logs.LogGroup(self, "AppVpcFlowLogs", retention=logs.RetentionDays.ONE_MONTH)
        self.app_vpc = ec2.Vpc(
            self,
            "AppVpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="App", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24)
            ],
            flow_logs={
                "FlowLogs": ec2.FlowLogOptions(destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs))
            },
            restrict_default_security_group=False,
        )
        self.app_security_group = ec2.SecurityGroup(
            self, "AppSecurityGroup", vpc=self.app_vpc, description="The application that uses the broker"
        )
        self.rabbitmq = MessageBroker(
            self,
            "Events",
            engine=BrokerEngine.RABBITMQ,
            vpc=self.app_vpc,
            allowed_peers=[self.app_security_group],
            alarm_topic=alarms.topic,
        )
        cdk.CfnOutput(self, "ActiveMqFailoverUrl", value=self.activemq.failover_url)
        cdk.CfnOutput(self, "ActiveMqSecretArn", value=self.activemq.secret.secret_arn)
        cdk.CfnOutput(self, "RabbitMqAmqpsUrl", value=self.rabbitmq.failover_url)
        cdk.CfnOutput(self, "RabbitMqSecretArn", value=self.rabbitmq.secret.secret_arn)
