"""Fan-out across accounts and Regions: a FanOut in account A that lets account B subscribe, and B's queue."""

import aws_cdk as cdk
from aws_cdk import aws_sns as sns

from decoupling_constructs import FanOut, SubscribedQueue

TOPIC_ACCOUNT, QUEUE_ACCOUNT = "111111111111", "222222222222"

app = cdk.App()

# Account A, us-east-1: the topic, with an explicit name (the other account names it by ARN).
orders_stack = cdk.Stack(app, "Orders", env=cdk.Environment(account=TOPIC_ACCOUNT, region="us-east-1"))
orders = FanOut(orders_stack, "Orders", topic_name="orders")
orders.grant_subscribe([QUEUE_ACCOUNT], endpoints=[f"arn:aws:sqs:*:{QUEUE_ACCOUNT}:*"])  # SQS, B's queues only

# Account B, eu-west-1: the subscription is made here, in us-east-1 (the topic's Region), from B's account.
billing_stack = cdk.Stack(app, "Billing", env=cdk.Environment(account=QUEUE_ACCOUNT, region="eu-west-1"))
SubscribedQueue(
    billing_stack,
    "Invoices",
    topic=orders,  # a FanOut of this app; or topic_arn="arn:aws:sns:us-east-1:111111111111:orders"
    filter_policy={"kind": sns.SubscriptionFilter.string_filter(allowlist=["invoice"])},
    raw_message_delivery=True,
    queue_props={"max_receive_count": 3},
)

app.synth()
