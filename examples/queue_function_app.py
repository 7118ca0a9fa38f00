"""QueueFunction: Lambdas consuming ReliableQueues, with the Powertools handler of queue_function_handler.py."""

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from decoupling_constructs import AlarmTopic, QueueFunction, ReliableQueue

HANDLER = Path(__file__).parent / "queue_function_handler.py"
# The Powertools layer, from its public SSM parameter (resolved at deploy time).
POWERTOOLS_LAYER = "/aws/service/powertools/python/x86_64/python3.13/3.37.0"


class ShipmentsStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)
        alarms = AlarmTopic(self, "Alarms")
        powertools = lambda_.LayerVersion.from_layer_version_arn(
            self,
            "Powertools",
            cdk.CfnDynamicReference(cdk.CfnDynamicReferenceService.SSM, POWERTOOLS_LAYER).to_string(),
        )

        def handler(construct_id: str) -> lambda_.Function:
            return lambda_.Function(
                self,
                construct_id,
                runtime=lambda_.Runtime.PYTHON_3_13,
                handler="index.handler",
                code=lambda_.Code.from_inline(HANDLER.read_text()),
                timeout=Duration.seconds(20),
                layers=[powertools],
            )

        # A queue created for the function: its visibility timeout is 6x the function's timeout (2 minutes).
        QueueFunction(
            self,
            "Shipments",
            function=handler("ShipmentsHandler"),
            batch_size=50,
            max_batching_window=Duration.seconds(5),
            max_concurrency=5,
            alarm_topic=alarms,
        )
        # A FIFO queue created for the function, consumed in order per message group.
        QueueFunction(
            self,
            "Invoices",
            function=handler("InvoicesHandler"),
            fifo=True,
            queue_props={"content_based_deduplication": True, "max_receive_count": 3},
            alarm_topic=alarms,
        )
        # A queue of your own: its visibility timeout must be at least 6x the function's timeout.
        returns = ReliableQueue(self, "Returns", visibility_timeout=Duration.minutes(2), alarm_topic=alarms)
        QueueFunction(self, "ReturnsConsumer", function=handler("ReturnsHandler"), queue=returns, alarm_topic=alarms)


if __name__ == "__main__":
    app = cdk.App()
    ShipmentsStack(app, "Shipments")
    app.synth()
