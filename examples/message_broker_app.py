"""MessageBroker: ActiveMQ active/standby in a VPC it creates, and a RabbitMQ cluster in the application's VPC."""

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from decoupling_constructs import AlarmTopic, BrokerEngine, MessageBroker
from decoupling_constructs.brokers import isolated_vpc


class BrokersStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)
        alarms = AlarmTopic(self, "Alarms")
        # ActiveMQ 5.18, active/standby in two AZs, in a new VPC of isolated subnets.
        orders = MessageBroker(self, "Orders", alarm_topic=alarms)

        # RabbitMQ, a three-node cluster in the application's VPC, reachable from its security group only.
        app_vpc = isolated_vpc(self, "AppVpc")  # stands for the application's existing VPC
        app_sg = ec2.SecurityGroup(self, "App", vpc=app_vpc, description="The application that uses the broker")
        events = MessageBroker(
            self,
            "Events",
            engine=BrokerEngine.RABBITMQ,
            vpc=app_vpc,
            allowed_peers=[app_sg],
            alarm_topic=alarms,
        )
        # The broker is an ec2.IConnectable: this opens its AMQPS port to the group (and the group's egress).
        app_sg.connections.allow_to(events, ec2.Port.tcp(events.ports["amqps"]))

        for name, broker in (("Orders", orders), ("Events", events)):
            cdk.CfnOutput(self, f"{name}ConnectionUrl", value=broker.connection_url)
            cdk.CfnOutput(self, f"{name}SecretArn", value=broker.secret.secret_arn)


if __name__ == "__main__":
    app = cdk.App()
    BrokersStack(app, "Brokers")
    app.synth()
