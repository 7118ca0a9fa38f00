"""Reference pair for fan-out across accounts and Regions: a FanOut in one account that lets another subscribe, and
that account's SubscribedQueue in another Region. Env-bound to made-up accounts (111111111111, 222222222222): not
in REFERENCE_STACKS, whose env-agnostic stacks every emulator deploys as its own account; scanned by
tests/static/test_cross_account_stacks.py and deployed into MiniStack as two accounts by
tests/behaviour/test_cross_account_fan_out.py."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_sns as sns
from constructs import Construct

from decoupling_constructs import AlarmTopic, FanOut, SubscribedQueue
from decoupling_constructs._security import managed_key

TOPIC_ENV = cdk.Environment(account="111111111111", region="us-east-1")
SUBSCRIBER_ENV = cdk.Environment(account="222222222222", region="eu-west-1")
SUBSCRIBER_ACCOUNT = "222222222222"
#: The subscriber account's queues only (sns:Endpoint), over SQS only (sns:Protocol, grant_subscribe's default).
SUBSCRIBER_ENDPOINTS = [f"arn:aws:sqs:*:{SUBSCRIBER_ACCOUNT}:*"]


class CrossAccountTopicStack(cdk.Stack):
    """``orders``: a FanOut whose topic policy lets ``SUBSCRIBER_ACCOUNT`` subscribe its queues."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description="decoupling-constructs: cross-account topic", **kwargs)
        alarms = AlarmTopic(self, "Alarms")
        self.orders = FanOut(self, "Orders", topic_name="decoupling-orders", alarm_topic=alarms.topic)
        self.orders.grant_subscribe([SUBSCRIBER_ACCOUNT], endpoints=SUBSCRIBER_ENDPOINTS)


class CrossAccountQueueStack(cdk.Stack):
    """``invoices``: a SubscribedQueue of ``topic`` (a FanOut of another account and Region), encrypted with a key of
    its own, invoices only, raw delivery."""

    def __init__(self, scope: Construct, construct_id: str, *, topic: FanOut, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description="decoupling-constructs: cross-account subscriber", **kwargs)
        alarms = AlarmTopic(self, "Alarms")
        key = managed_key(self, "QueueKey", "Encrypts the invoices queue; SNS of the orders topic may use it")
        self.invoices = SubscribedQueue(
            self,
            "Invoices",
            topic=topic,
            filter_policy={"kind": sns.SubscriptionFilter.string_filter(allowlist=["invoice"])},
            raw_message_delivery=True,
            queue_props={"encryption_key": key, "alarm_topic": alarms},
        )
        cdk.CfnOutput(self, "InvoicesQueueUrl", value=self.invoices.queue_url)


CROSS_ACCOUNT_STACKS = ("DecouplingCrossAccountTopic", "DecouplingCrossAccountQueue")


def build_cross_account_stacks(app: cdk.App) -> dict[str, cdk.Stack]:
    """Both stacks in ``app``, bound to their accounts and Regions."""
    topic_stack = CrossAccountTopicStack(app, CROSS_ACCOUNT_STACKS[0], env=TOPIC_ENV)
    queue_stack = CrossAccountQueueStack(app, CROSS_ACCOUNT_STACKS[1], topic=topic_stack.orders, env=SUBSCRIBER_ENV)
    return {CROSS_ACCOUNT_STACKS[0]: topic_stack, CROSS_ACCOUNT_STACKS[1]: queue_stack}
