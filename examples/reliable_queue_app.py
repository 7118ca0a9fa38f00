"""ReliableQueue: a standard work queue and a FIFO order queue with a customer-managed key, alarms to one topic."""

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from decoupling_constructs import AlarmTopic, ReliableQueue


class QueuesStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)
        alarms = AlarmTopic(self, "Alarms")
        # Defaults: long polling 20 s, 4 days' retention, a DLQ after 5 receives, SSE-SQS, two alarms.
        jobs = ReliableQueue(self, "Jobs", alarm_topic=alarms)

        key = kms.Key(self, "OrdersKey", enable_key_rotation=True)
        orders = ReliableQueue(
            self,
            "Orders",
            fifo=True,
            content_based_deduplication=True,
            high_throughput=True,
            visibility_timeout=Duration.minutes(2),
            max_receive_count=3,
            encryption_key=key,
            alarm_topic=alarms,
        )

        # A ReliableQueue stands where an IQueue is expected: grants cover its key.
        producer = iam.Role(self, "Producer", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        orders.grant_send_messages(producer)
        jobs.grant_send_messages(producer)

        for name, queue in (("Jobs", jobs), ("Orders", orders)):
            cdk.CfnOutput(self, f"{name}QueueUrl", value=queue.queue_url)
            cdk.CfnOutput(self, f"{name}DeadLetterQueueUrl", value=queue.dead_letter_queue.queue_url)


if __name__ == "__main__":
    app = cdk.App()
    QueuesStack(app, "Queues")
    app.synth()
