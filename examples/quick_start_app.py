"""Quick start: a FIFO work queue with its dead-letter queue, alarms to a topic, and a function allowed to consume it.

Run it with the CDK CLI (`cdk synth --app "python quick_start_app.py"`) or as a plain script.
"""

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from decoupling_constructs import AlarmTopic, ReliableQueue

WORKER_CODE = """
def handler(event, context):
    for record in event["Records"]:
        print("invoice", record["messageId"])
"""


class BillingStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)
        alarms = AlarmTopic(self, "Alarms")
        self.invoices = ReliableQueue(
            self,
            "Invoices",
            fifo=True,
            visibility_timeout=Duration.minutes(2),
            alarm_topic=alarms,
        )
        worker = lambda_.Function(
            self,
            "Worker",
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="index.handler",
            code=lambda_.Code.from_inline(WORKER_CODE),
            timeout=Duration.seconds(20),
        )
        self.invoices.grant_consume_messages(worker)
        # invoices.queue and invoices.dead_letter_queue are plain aws_sqs.Queue objects.
        cdk.CfnOutput(self, "InvoicesQueueUrl", value=self.invoices.queue.queue_url)


if __name__ == "__main__":
    app = cdk.App()
    BillingStack(app, "Billing")
    app.synth()
