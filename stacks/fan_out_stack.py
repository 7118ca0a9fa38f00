"""Reference stack for FanOut: order events to three filtered subscribers, and a FIFO ledger fan-out."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from decoupling_constructs import AlarmTopic, FanOut, ReliableQueue
from decoupling_constructs._security import acknowledge_checkov

from .consumer_stack import LAMBDA_LOGS_REASON

# The regions the shipping service serves; the filter and the tests share this list.
SHIPPING_REGIONS = ["eu-west", "eu-central"]
# Analytics wants order events of at least this amount (inclusive) and below the upper bound (exclusive).
ANALYTICS_MIN_AMOUNT = 100
ANALYTICS_MAX_AMOUNT = 10_000
# Orders of these regions page the on-call team through the notifier function.
NOTIFY_REGIONS = ["eu-west"]
NOTIFIER_CODE = """\
import json


def handler(event, context):
    for record in event["Records"]:
        print(json.dumps({"notified": record["Sns"]["MessageId"]}))
"""


class FanOutStack(cdk.Stack):
    """``orders``: billing gets every event, shipping those whose ``region`` attribute is served,
    analytics those whose body ``amount`` is in range, the notifier function (SNS -> Lambda) those of
    ``NOTIFY_REGIONS``; S3 may publish to the topic.
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

        self.notifier = notifier_function(self, alarms)
        self.orders.add_function(
            "Notify",
            self.notifier,
            filter_policy={"region": sns.SubscriptionFilter.string_filter(allowlist=NOTIFY_REGIONS)},
        )

        self.ledger = FanOut(self, "Ledger", fifo=True, content_based_deduplication=True, alarm_topic=alarms.topic)
        self.accounting = self.ledger.add_queue("Accounting", raw_message_delivery=True)
        self.audit = self.ledger.add_queue("Audit")

        cdk.CfnOutput(self, "OrderEventsTopicArn", value=self.orders.topic.topic_arn)
        cdk.CfnOutput(self, "LedgerTopicArn", value=self.ledger.topic.topic_arn)
        cdk.CfnOutput(self, "NotifierFunctionName", value=self.notifier.function_name)
        for name, subscriber in (
            ("Billing", self.billing),
            ("Shipping", self.shipping),
            ("Analytics", self.analytics),
            ("Accounting", self.accounting),
            ("Audit", self.audit),
        ):
            cdk.CfnOutput(self, f"{name}QueueUrl", value=subscriber.queue.queue_url)


def notifier_function(scope: Construct, alarms: AlarmTopic) -> lambda_.Function:
    """A small function SNS invokes: its own role (writes to its own log group only), logs kept a month,
    events it fails after Lambda's asynchronous retries kept in a ReliableQueue."""
    log_group = logs.LogGroup(scope, "NotifierLogs", retention=logs.RetentionDays.ONE_MONTH)
    role = iam.Role(scope, "NotifierRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    log_group.grant_write(role)
    failures = ReliableQueue(scope, "NotifierFailures", alarm_topic=alarms)
    function = lambda_.Function(
        scope,
        "Notifier",
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_inline(NOTIFIER_CODE),
        role=role,
        log_group=log_group,
        timeout=cdk.Duration.seconds(10),
        dead_letter_queue=failures.queue,
    )
    # CDK makes the function DependsOn its role, which its GetAtt of the role already enforces (cfn-lint W3005);
    # only the dependency on the role's policy is needed (the function's first run writes logs, its DLQ).
    resource, policy = function.node.default_child, role.node.find_child("DefaultPolicy").node.default_child
    assert isinstance(resource, cdk.CfnResource) and isinstance(policy, cdk.CfnResource)
    resource.add_override("DependsOn", [cdk.Stack.of(scope).get_logical_id(policy)])
    acknowledge_checkov(
        function,
        "CKV_AWS_115",
        "SNS invokes it asynchronously: Lambda holds and retries what it cannot run yet, then keeps it in "
        "NotifierFailures. Reserved concurrency would come out of the account's unreserved pool, of which "
        "Lambda keeps 100: a small quota cannot reserve at all.",
    )
    acknowledge_checkov(
        function,
        "CKV_AWS_117",
        "The notifier reaches nothing private: SNS invokes it, it writes to CloudWatch Logs and its DLQ; a VPC "
        "would add a NAT gateway or interface endpoints and reach nothing more.",
    )
    acknowledge_checkov(log_group, "CKV_AWS_158", LAMBDA_LOGS_REASON)
    return function
