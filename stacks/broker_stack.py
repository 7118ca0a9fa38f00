"""Reference stack for MessageBroker: ActiveMQ active/standby in its own VPC, a RabbitMQ cluster in a given VPC."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from decoupling_constructs import AlarmTopic, BrokerEngine, MessageBroker
from decoupling_constructs.brokers import isolated_vpc


class MessageBrokerStack(cdk.Stack):
    """``activemq``: active/standby in a VPC the construct creates. ``rabbitmq``: a cluster in the
    application's VPC, reachable from the application's security group only."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description="decoupling-constructs: MessageBroker reference", **kwargs)
        alarms = AlarmTopic(self, "Alarms")
        self.activemq = MessageBroker(self, "Orders", alarm_topic=alarms.topic)

        self.app_vpc = isolated_vpc(self, "AppVpc")  # stands for the application's existing VPC
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
        cdk.CfnOutput(self, "ActiveMqConnectionUrl", value=self.activemq.connection_url)
        cdk.CfnOutput(self, "ActiveMqSecretArn", value=self.activemq.secret.secret_arn)
        cdk.CfnOutput(self, "RabbitMqConnectionUrl", value=self.rabbitmq.connection_url)
        cdk.CfnOutput(self, "RabbitMqSecretArn", value=self.rabbitmq.secret.secret_arn)
