"""Reference stack for ReliableQueue: one standard and one FIFO queue."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import Duration
from constructs import Construct

from decoupling_constructs import AlarmTopic, ReliableQueue
from decoupling_constructs._security import managed_key


class ReliableQueueStack(cdk.Stack):
    """A work queue (standard) and an order queue (FIFO, customer-managed key), alarms to one topic."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description="decoupling-constructs: ReliableQueue reference", **kwargs)
        alarms = AlarmTopic(self, "Alarms")
        self.jobs = ReliableQueue(self, "Jobs", alarm_topic=alarms.topic)
        key = managed_key(self, "OrdersKey", "Encrypts the orders queues")
        self.orders = ReliableQueue(
            self,
            "Orders",
            fifo=True,
            content_based_deduplication=True,
            high_throughput=True,
            visibility_timeout=Duration.minutes(2),
            max_receive_count=3,
            encryption_key=key,
            alarm_topic=alarms.topic,
        )
        for name, construct in (("Jobs", self.jobs), ("Orders", self.orders)):
            cdk.CfnOutput(self, f"{name}QueueUrl", value=construct.queue.queue_url)
            cdk.CfnOutput(self, f"{name}DeadLetterQueueUrl", value=construct.dead_letter_queue.queue_url)
        cdk.CfnOutput(self, "AlarmTopicArn", value=alarms.topic.topic_arn)
