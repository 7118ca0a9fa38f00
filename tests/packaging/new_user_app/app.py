"""A new user's four-stack app (issue 20): a shared key stack, a network stack with a NAT VPC, a legacy stack with
ReliableQueues and a FanOut, and a consumer stack with a QueueFunction; the key, the alarm topic and a queue cross
stacks. Written from README.md and docs/ only. Run by tests/packaging/new_user_trial.sh with the CDK CLI."""

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from decoupling_constructs import AlarmTopic, FanOut, QueueFunction, ReliableQueue

HANDLER = Path(__file__).parent / "handlers" / "orders.py"
POWERTOOLS_LAYER = "/aws/service/powertools/python/x86_64/python3.13/3.37.0"


class SharedStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.key = kms.Key(self, "SharedKey", enable_key_rotation=True)
        self.alarms = AlarmTopic(self, "Alarms")


class NetworkStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.vpc = ec2.Vpc(self, "Vpc", max_azs=2, nat_gateways=1)


class LegacyStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, shared: SharedStack, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.orders = ReliableQueue(
            self, "Orders", encryption_key=shared.key, visibility_timeout=Duration.minutes(2), alarm_topic=shared.alarms
        )
        self.audit = ReliableQueue(
            self, "Audit", fifo=True, content_based_deduplication=True, alarm_topic=shared.alarms
        )
        self.events = FanOut(self, "Events", alarm_topic=shared.alarms)
        self.events.add_queue("Billing")
        self.events.add_existing_queue(self.orders)  # a ReliableQueue stands where an IQueue is expected
        cdk.CfnOutput(self, "OrdersQueueUrl", value=self.orders.queue_url)
        cdk.CfnOutput(self, "OrdersQueueArn", value=self.orders.queue_arn)
        cdk.CfnOutput(self, "OrdersDlqArn", value=self.orders.dead_letter_queue.queue_arn)
        cdk.CfnOutput(self, "OrdersDlqUrl", value=self.orders.dead_letter_queue.queue_url)
        cdk.CfnOutput(self, "EventsTopicArn", value=self.events.topic.topic_arn)


class ConsumerStack(cdk.Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, shared: SharedStack, legacy: LegacyStack, **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        # The layer from Powertools' public SSM parameter, as docs/queue-function.md does; left out with
        # `-c powertools_layer=false` for MiniStack (docs/testing.md), which serves no public parameter.
        layers = []
        if self.node.try_get_context("powertools_layer") != "false":
            layers.append(
                lambda_.LayerVersion.from_layer_version_arn(
                    self,
                    "Powertools",
                    cdk.CfnDynamicReference(cdk.CfnDynamicReferenceService.SSM, POWERTOOLS_LAYER).to_string(),
                )
            )
        function = lambda_.Function(
            self,
            "OrdersHandler",
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="index.handler",
            code=lambda_.Code.from_inline(HANDLER.read_text()),
            timeout=Duration.seconds(20),
            layers=layers,
        )
        QueueFunction(self, "OrdersConsumer", function=function, queue=legacy.orders, alarm_topic=shared.alarms)


app = cdk.App()
shared = SharedStack(app, "Shared")
NetworkStack(app, "Network")
legacy = LegacyStack(app, "Legacy", shared=shared)
ConsumerStack(app, "Consumer", shared=shared, legacy=legacy)
app.synth()
