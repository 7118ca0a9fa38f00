"""Fan-out across accounts and Regions, in templates: FanOut.grant_subscribe (topic side) and SubscribedQueue
(queue side), in a bare cdk.App, in env-bound stacks of two accounts and two Regions, two subscribers in one
stack, and an opt-in Region."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match, Template

from decoupling_constructs import FanOut, SubscribedQueue

TOPIC_ACCOUNT, QUEUE_ACCOUNT = "111111111111", "222222222222"
TOPIC_ENV = cdk.Environment(account=TOPIC_ACCOUNT, region="us-east-1")
QUEUE_ENV = cdk.Environment(account=QUEUE_ACCOUNT, region="eu-west-1")
ORDERS_ARN = f"arn:aws:sns:us-east-1:{TOPIC_ACCOUNT}:orders"


def resources(stack: cdk.Stack, kind: str) -> list[dict[str, Any]]:
    return [r["Properties"] for r in Template.from_stack(stack).find_resources(kind).values()]


def send_statements(stack: cdk.Stack) -> list[dict[str, Any]]:
    return [
        s
        for policy in resources(stack, "AWS::SQS::QueuePolicy")
        for s in policy["PolicyDocument"]["Statement"]
        if s["Action"] == "sqs:SendMessage"
    ]


def two_accounts(grant: bool = True, topic_name: str | None = "orders") -> tuple[cdk.App, cdk.Stack, cdk.Stack]:
    app = cdk.App()
    topic_stack = cdk.Stack(app, "Topics", env=TOPIC_ENV)
    fan_out = FanOut(topic_stack, "Orders", topic_name=topic_name)
    if grant:
        fan_out.grant_subscribe([QUEUE_ACCOUNT])
    queue_stack = cdk.Stack(app, "Billing", env=QUEUE_ENV)
    SubscribedQueue(queue_stack, "Invoices", topic=fan_out)
    return app, topic_stack, queue_stack


# --- topic side ---


def test_grant_subscribe_lets_the_accounts_subscribe_over_sqs_only() -> None:
    stack = cdk.Stack(cdk.App(), "T")
    fan_out = FanOut(stack, "Orders")
    fan_out.grant_subscribe([QUEUE_ACCOUNT, "333333333333"], endpoints=["arn:aws:sqs:*:222222222222:*"])
    (policy,) = resources(stack, "AWS::SNS::TopicPolicy")
    (statement,) = [s for s in policy["PolicyDocument"]["Statement"] if s["Action"] == "sns:Subscribe"]
    assert statement["Effect"] == "Allow"
    principals = cdk.Stack.of(fan_out).resolve(statement["Principal"]["AWS"])
    assert [p["Fn::Join"][1][2] for p in principals] == [f":iam::{QUEUE_ACCOUNT}:root", ":iam::333333333333:root"]
    assert statement["Condition"] == {
        "StringEquals": {"sns:Protocol": ["sqs"]},
        "StringLike": {"sns:Endpoint": ["arn:aws:sqs:*:222222222222:*"]},
    }
    assert statement["Resource"] == stack.resolve(fan_out.topic.topic_arn)


def test_grant_subscribe_to_an_organization_names_it_in_a_condition() -> None:
    stack = cdk.Stack(cdk.App(), "T")
    FanOut(stack, "Orders").grant_subscribe(organization_ids=["o-a1b2c3d4e5"], protocols=None)
    (policy,) = resources(stack, "AWS::SNS::TopicPolicy")
    (statement,) = [s for s in policy["PolicyDocument"]["Statement"] if s["Action"] == "sns:Subscribe"]
    assert statement["Principal"] == {"AWS": "*"}
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ["o-a1b2c3d4e5"]}}


def test_grant_subscribe_adds_no_key_statement_to_an_encrypted_topic() -> None:
    """SNS decrypts with the topic's key itself: a subscriber's account is never given the key."""
    stack = cdk.Stack(cdk.App(), "T")
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    fan_out = FanOut(stack, "Orders", encryption_key=key)
    fan_out.grant_subscribe([QUEUE_ACCOUNT])
    (key_props,) = resources(stack, "AWS::KMS::Key")
    assert QUEUE_ACCOUNT not in str(key_props["KeyPolicy"])


# --- queue side ---


def test_a_bare_app_queue_subscribes_to_a_topic_arn_of_another_account_and_region() -> None:
    stack = cdk.Stack(cdk.App(), "T")  # env-agnostic: the Region is set, the principal is the global one
    subscriber = SubscribedQueue(stack, "Invoices", topic_arn=ORDERS_ARN, raw_message_delivery=True)
    (subscription,) = resources(stack, "AWS::SNS::Subscription")
    assert subscription["TopicArn"] == ORDERS_ARN
    assert subscription["Region"] == "us-east-1"
    assert subscription["Protocol"] == "sqs"
    assert subscription["RawMessageDelivery"] is True
    assert subscription["Endpoint"] == stack.resolve(subscriber.queue_arn)
    (send,) = send_statements(stack)
    assert send["Principal"] == {"Service": "sns.amazonaws.com"}
    assert send["Condition"] == {"ArnEquals": {"aws:SourceArn": ORDERS_ARN}}
    assert subscriber.topic_region == "us-east-1" and subscriber.topic_account == TOPIC_ACCOUNT


def test_a_fan_out_of_another_account_and_region_is_subscribed_from_the_queues_stack() -> None:
    _, topic_stack, queue_stack = two_accounts()
    assert resources(topic_stack, "AWS::SNS::Subscription") == []
    (subscription,) = resources(queue_stack, "AWS::SNS::Subscription")
    assert subscription["Region"] == "us-east-1"
    arn = queue_stack.resolve(subscription["TopicArn"])
    assert arn == {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":sns:us-east-1:{TOPIC_ACCOUNT}:orders"]]}
    (send,) = send_statements(queue_stack)
    assert send["Condition"] == {"ArnEquals": {"aws:SourceArn": arn}}
    assert topic_stack in queue_stack.dependencies
    assert "Fn::ImportValue" not in str(Template.from_stack(queue_stack).to_json())
    Annotations.from_stack(queue_stack).has_no_warning("*", Match.string_like_regexp("subscribe"))


def test_a_topic_that_does_not_grant_the_subscriber_warns_at_synth() -> None:
    _, _, queue_stack = two_accounts(grant=False)
    Annotations.from_stack(queue_stack).has_warning(
        "/Billing/Invoices",
        Match.string_like_regexp(f"does not let account {QUEUE_ACCOUNT} subscribe over SQS: call grant_subscribe"),
    )


def test_a_grant_made_after_the_subscriber_counts() -> None:
    app = cdk.App()
    fan_out = FanOut(cdk.Stack(app, "Topics", env=TOPIC_ENV), "Orders", topic_name="orders")
    queue_stack = cdk.Stack(app, "Billing", env=QUEUE_ENV)
    SubscribedQueue(queue_stack, "Invoices", topic=fan_out)
    fan_out.grant_subscribe([QUEUE_ACCOUNT])
    Annotations.from_stack(queue_stack).has_no_warning("*", Match.string_like_regexp("subscribe"))


def test_two_subscribers_in_one_stack_each_get_their_own_policy_and_subscription() -> None:
    stack = cdk.Stack(cdk.App(), "T", env=QUEUE_ENV)
    SubscribedQueue(
        stack, "A", topic_arn=ORDERS_ARN, filter_policy={"kind": sns.SubscriptionFilter.string_filter(allowlist=["a"])}
    )
    SubscribedQueue(stack, "B", topic_arn="arn:aws:sns:eu-west-1:222222222222:local")
    subscriptions = resources(stack, "AWS::SNS::Subscription")
    assert sorted(s.get("Region", "-") for s in subscriptions) == ["-", "us-east-1"]  # no Region in its own
    assert [s.get("FilterPolicy") for s in subscriptions if "Region" in s] == [{"kind": ["a"]}]
    assert len(send_statements(stack)) == 2


def test_a_same_environment_fan_out_is_referenced_by_token() -> None:
    app = cdk.App()
    fan_out = FanOut(cdk.Stack(app, "Topics"), "Orders")  # a generated name is fine within one environment
    queue_stack = cdk.Stack(app, "Billing")
    SubscribedQueue(queue_stack, "Invoices", topic=fan_out)
    (subscription,) = resources(queue_stack, "AWS::SNS::Subscription")
    assert "Region" not in subscription
    assert "Fn::ImportValue" in str(subscription["TopicArn"])


@pytest.mark.parametrize(
    ("topic_region", "queue_region", "principal"),
    [
        ("ap-east-1", "us-east-1", "sns.ap-east-1.amazonaws.com"),  # opt-in topic: its Region's principal
        ("us-east-1", "eu-south-1", "sns.eu-south-1.amazonaws.com"),  # opt-in subscriber: its own
        ("ap-east-1", "ap-east-1", "sns.amazonaws.com"),  # one Region
        ("us-east-1", "eu-west-1", "sns.amazonaws.com"),
    ],
)
def test_an_opt_in_region_uses_its_regional_sns_principal(topic_region: str, queue_region: str, principal: str) -> None:
    env = cdk.Environment(account=QUEUE_ACCOUNT, region=queue_region)
    stack = cdk.Stack(cdk.App(), "T", env=env)
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    arn = f"arn:aws:sns:{topic_region}:{TOPIC_ACCOUNT}:orders"
    SubscribedQueue(stack, "Invoices", topic_arn=arn, queue_props={"encryption_key": key})
    (send,) = send_statements(stack)
    assert send["Principal"] == {"Service": principal}
    (key_props,) = resources(stack, "AWS::KMS::Key")
    (sns_key,) = [s for s in key_props["KeyPolicy"]["Statement"] if s["Principal"] == {"Service": principal}]
    assert sns_key["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert sns_key["Condition"] == {
        "StringEquals": {"aws:SourceAccount": TOPIC_ACCOUNT},
        "ArnLike": {"aws:SourceArn": arn},
    }


def test_a_fifo_topic_gets_a_fifo_queue() -> None:
    stack = cdk.Stack(cdk.App(), "T", env=QUEUE_ENV)
    subscriber = SubscribedQueue(stack, "Ledger", topic_arn=f"arn:aws:sns:us-east-1:{TOPIC_ACCOUNT}:orders.fifo")
    assert subscriber.queue.fifo
    queues = resources(stack, "AWS::SQS::Queue")
    assert all(q["FifoQueue"] is True and q["QueueName"].endswith(".fifo") for q in queues)


def test_a_dead_letter_queue_in_the_topics_region_and_account_is_used() -> None:
    stack = cdk.Stack(cdk.App(), "T", env=cdk.Environment(account=QUEUE_ACCOUNT, region="us-east-1"))
    dlq = sqs.Queue(stack, "Undeliverable", encryption=sqs.QueueEncryption.SQS_MANAGED)
    SubscribedQueue(stack, "Invoices", topic_arn=ORDERS_ARN, dead_letter_queue=dlq)
    (subscription,) = resources(stack, "AWS::SNS::Subscription")
    assert subscription["RedrivePolicy"] == {"deadLetterTargetArn": stack.resolve(dlq.queue_arn)}


def test_queue_props_reach_the_reliable_queue() -> None:
    stack = cdk.Stack(cdk.App(), "T", env=QUEUE_ENV)
    subscriber = SubscribedQueue(
        stack, "Invoices", topic_arn=ORDERS_ARN, queue_props={"queue_name": "invoices", "max_receive_count": 3}
    )
    assert subscriber.alarms is subscriber.queue.alarms
    (source,) = [q for q in resources(stack, "AWS::SQS::Queue") if q.get("QueueName") == "invoices"]
    assert source["RedrivePolicy"]["maxReceiveCount"] == 3
