"""Reference stack for FanOut: order events to three filtered subscribers, and a FIFO ledger fan-out."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_sns as sns
from constructs import Construct

from decoupling_constructs import AlarmTopic, FanOut

# The regions the shipping service serves; the filter and the tests share this list.
SHIPPING_REGIONS = ["eu-west", "eu-central"]
# Analytics wants order events of at least this amount (inclusive) and below the upper bound (exclusive).
ANALYTICS_MIN_AMOUNT = 100
ANALYTICS_MAX_AMOUNT = 10_000


class FanOutStack(cdk.Stack):
    """``orders``: billing gets every event, shipping those whose ``region`` attribute is served,
    analytics those whose body ``amount`` is in range; S3 may publish to the topic.
    ``ledger``: a FIFO fan-out to accounting and audit, content-based deduplication."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description="decoupling-constructs: FanOut reference", **kwargs)
        alarms = AlarmTopic(self, "Alarms")
        self.orders = FanOut(self, "OrderEvents", alarm_topic=alarms.topic, service_publishers=["s3.amazonaws.com"])
        self.billing = self.orders.add_queue("Billing")
        self.shipping = self.orders.add_queue(
            "Shipping",
            filter_policy={"region": sns.SubscriptionFilter.string_filter(allowlist=SHIPPING_REGIONS)},
            raw_message_delivery=True,
        )
        self.analytics = self.orders.add_queue(
            "Analytics",
            filter_policy_with_message_body={
                # One condition with both bounds: numeric_filter(greater_than_or_equal_to=...,
                # less_than=...) makes two conditions, which SNS ORs: every number would match.
                "amount": sns.FilterOrPolicy.filter(
                    sns.SubscriptionFilter([{"numeric": [">=", ANALYTICS_MIN_AMOUNT, "<", ANALYTICS_MAX_AMOUNT]}])
                )
            },
            raw_message_delivery=True,
        )

        self.ledger = FanOut(self, "Ledger", fifo=True, content_based_deduplication=True, alarm_topic=alarms.topic)
        self.accounting = self.ledger.add_queue("Accounting", raw_message_delivery=True)
        self.audit = self.ledger.add_queue("Audit")

        cdk.CfnOutput(self, "OrderEventsTopicArn", value=self.orders.topic.topic_arn)
        cdk.CfnOutput(self, "LedgerTopicArn", value=self.ledger.topic.topic_arn)
        for name, subscriber in (
            ("Billing", self.billing),
            ("Shipping", self.shipping),
            ("Analytics", self.analytics),
            ("Accounting", self.accounting),
            ("Audit", self.audit),
        ):
            cdk.CfnOutput(self, f"{name}QueueUrl", value=subscriber.queue.queue_url)
