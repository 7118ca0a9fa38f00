"""FanOut behaviour: the reference stack DecouplingFanOut deployed into moto with
decoupling_constructs.testing, driven with boto3.

moto delivers SNS to SQS synchronously inside Publish, so every receive below uses
WaitTimeSeconds=0: a message that is not in a queue right after Publish never will be.
The routing expected in these tests is computed from the reference stack's constants
(SHIPPING_REGIONS, ANALYTICS_MIN_AMOUNT, ANALYTICS_MAX_AMOUNT), never from the construct.

Not emulated by moto, covered by template tests instead (tests/unit/test_fan_out.py,
tests/static/test_reference_stacks.py):

* topic and queue policies (TLS-only, the SNS-to-SQS ``sqs:SendMessage`` statement
  scoped by ``aws:SourceArn``, service publishers): stored, never enforced, so a
  delivery AWS would deny still succeeds here;
* KMS: the topic's and queues' keys are stored only; nothing is encrypted and no key
  policy is checked (in AWS, SNS unable to use a queue's key fails the delivery);
* the subscriptions' redrive to the undeliverable queue: the RedrivePolicy is stored
  (checked below) but moto never fails a delivery, so nothing ever reaches that queue;
* alarms: created, never evaluated.

moto limitations found while writing these tests (moto 5.2.5):

* a FIFO topic does no deduplication of its own and passes no deduplication id to its
  queues: a queue's content-based deduplication then hashes what it receives, which for
  a non-raw subscriber is the SNS envelope (a new MessageId each publish), so a
  duplicate publish reaches ``audit`` twice (AWS: once). Only ``accounting`` is checked;
* a body filter (FilterPolicyScope MessageBody) with a numeric condition raises
  TypeError inside Publish when the key holds a string, null, object or array, or the
  body is a top-level JSON array (AWS: no match, or element-wise for arrays); the
  property test therefore generates numbers, a missing key and non-JSON bodies only;
* a Binary message attribute on a raw-delivery subscription raises TypeError inside
  Publish; only String, Number and String.Array attributes are used here.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from decoupling_constructs.testing import Deployment, deploy_to_moto
from stacks.fan_out_stack import (
    ANALYTICS_MAX_AMOUNT,
    ANALYTICS_MIN_AMOUNT,
    NOTIFY_REGIONS,
    OPS_EMAIL,
    PARTNER_DELIVERY_POLICY,
    PARTNER_URL,
    SHIPPING_REGIONS,
    FanOutStack,
)

ORDER_QUEUES = ("billing", "shipping", "analytics")
LEDGER_QUEUES = ("accounting", "audit")
# Which subscribers get the message as published; the others get the SNS JSON envelope.
RAW = {"billing": False, "shipping": True, "analytics": True, "accounting": True, "audit": False}


@pytest.fixture
def fan_out(aws, reference_stacks) -> tuple[FanOutStack, Deployment]:
    stack = reference_stacks["DecouplingFanOut"]
    return stack, deploy_to_moto(stack)


def url(stack: FanOutStack, deployment: Deployment, name: str) -> str:
    return deployment.queue_url(getattr(stack, name).queue)


def drain(sqs: Any, queue_url: str, batch: int = 10) -> list[dict]:
    """Receive and delete until the queue is empty, in receive order."""
    received: list[dict] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=batch,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return received
        received += messages
        deleted = sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
        assert not deleted.get("Failed"), deleted


def payload(name: str, message: dict) -> str:
    """The message as published: the body of a raw delivery, the envelope's Message otherwise."""
    return message["Body"] if RAW[name] else json.loads(message["Body"])["Message"]


def string_attributes(**values: str) -> dict[str, dict[str, str]]:
    return {key: {"DataType": "String", "StringValue": value} for key, value in values.items()}


def test_subscriptions_are_deployed_with_their_filters_delivery_mode_and_redrive(fan_out) -> None:
    stack, deployment = fan_out
    sns = deployment.client("sns")
    resources = deployment.template["Resources"]
    analytics_policy = resources[deployment.logical_id(stack.orders.subscriptions["Analytics"])]["Properties"][
        "FilterPolicy"
    ]
    expected = {  # subscription id -> (queue, RawMessageDelivery, FilterPolicy, FilterPolicyScope)
        stack.orders: {
            "Billing": (stack.billing, "false", None, None),
            "Shipping": (stack.shipping, "true", {"region": SHIPPING_REGIONS}, "MessageAttributes"),
            "Analytics": (stack.analytics, "true", analytics_policy, "MessageBody"),  # semantics: routing tests
        },
        stack.ledger: {
            "Accounting": (stack.accounting, "true", None, None),
            "Audit": (stack.audit, "false", None, None),
        },
    }
    for fan, subscriptions in expected.items():
        topic_arn = deployment.topic_arn(fan.topic)
        listed = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
        by_endpoint = {s["Endpoint"]: s for s in listed}
        # the notifier (add_function), the archive, the partner's HTTPS endpoint, operations' email: checked below
        pushes = 4 if fan is stack.orders else 0
        assert len(listed) == len(by_endpoint) == len(subscriptions) + pushes
        dead_letter_arn = deployment.queue_arn(fan.undeliverable_queue)
        for subscription_id, (subscriber, raw, policy, scope) in subscriptions.items():
            queue_arn = deployment.queue_arn(subscriber.queue)
            assert queue_arn in by_endpoint, f"{subscription_id}: no subscription for {queue_arn}"
            listed_subscription = by_endpoint[queue_arn]
            assert listed_subscription["Protocol"] == "sqs"
            arn = listed_subscription["SubscriptionArn"]
            assert deployment.completed[deployment.logical_id(fan.subscriptions[subscription_id])] == arn
            attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
            assert attributes["TopicArn"] == topic_arn
            assert attributes["RawMessageDelivery"] == raw, subscription_id
            assert json.loads(attributes["RedrivePolicy"]) == {"deadLetterTargetArn": dead_letter_arn}
            if policy is None:
                assert "FilterPolicy" not in attributes, subscription_id
            else:
                assert json.loads(attributes["FilterPolicy"]) == policy, subscription_id
                assert attributes["FilterPolicyScope"] == scope, subscription_id

    # SNS -> Lambda: the notifier function's subscription, with its filter and the same redrive.
    listed = sns.list_subscriptions_by_topic(TopicArn=deployment.topic_arn(stack.orders.topic))["Subscriptions"]
    (notify,) = [s for s in listed if s["Protocol"] == "lambda"]
    assert (
        deployment.completed[deployment.logical_id(stack.orders.subscriptions["Notify"])] == notify["SubscriptionArn"]
    )
    assert notify["Endpoint"].endswith(f":function:{deployment.resources[deployment.logical_id(stack.notifier)]}")
    attributes = sns.get_subscription_attributes(SubscriptionArn=notify["SubscriptionArn"])["Attributes"]
    assert json.loads(attributes["FilterPolicy"]) == {"region": NOTIFY_REGIONS}
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": deployment.queue_arn(stack.orders.undeliverable_queue)
    }

    # SNS -> HTTPS: the partner's endpoint, with its delivery policy and its own dead-letter queue (moto makes no
    # confirmation handshake and delivers once: the retries and the redrive are template tests only; no test here
    # publishes to PARTNER_REGIONS, as moto's publish would raise on the unreachable example.com endpoint).
    (partner,) = [s for s in listed if s["Protocol"] == "https"]
    assert partner["Endpoint"] == PARTNER_URL
    attributes = sns.get_subscription_attributes(SubscriptionArn=partner["SubscriptionArn"])["Attributes"]
    assert json.loads(attributes["DeliveryPolicy"])["healthyRetryPolicy"]["numRetries"] == (
        PARTNER_DELIVERY_POLICY.num_retries
    )
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": deployment.queue_arn(stack.partner_dead_letters.queue)
    }
    (ops,) = [s for s in listed if s["Protocol"] == "email"]
    assert ops["Endpoint"] == OPS_EMAIL

    # SNS -> Firehose: the archive delivery stream's subscription, raw, written with a role of its own.
    (archive,) = [s for s in listed if s["Protocol"] == "firehose"]
    stream_name = deployment.resources[deployment.logical_id(stack.archive)]
    assert archive["Endpoint"].endswith(f":deliverystream/{stream_name}")
    attributes = sns.get_subscription_attributes(SubscriptionArn=archive["SubscriptionArn"])["Attributes"]
    assert attributes["RawMessageDelivery"] == "true"
    assert attributes["SubscriptionRoleArn"].endswith(
        deployment.resources[deployment.logical_id(stack.orders.node.find_child("Archive").node.find_child("Role"))]
    )


@pytest.mark.parametrize(
    ("region", "amount", "expected"),
    [
        ("eu-west", 500, {"billing", "shipping", "analytics"}),
        ("us-east", 5, {"billing"}),
        ("eu-central", 50, {"billing", "shipping"}),
        (None, ANALYTICS_MIN_AMOUNT, {"billing", "analytics"}),
        ("us-east", ANALYTICS_MAX_AMOUNT, {"billing"}),  # the upper bound is exclusive
        ("eu-west", 50_000, {"billing", "shipping"}),
    ],
)
def test_one_publish_reaches_every_matching_queue_and_no_other(fan_out, region, amount, expected) -> None:
    stack, deployment = fan_out
    sqs = deployment.client("sqs")
    body = json.dumps({"order": "o-1", "amount": amount})
    deployment.client("sns").publish(
        TopicArn=deployment.topic_arn(stack.orders.topic),
        Message=body,
        MessageAttributes=string_attributes(region=region) if region else {},
    )
    received = {name: [payload(name, m) for m in drain(sqs, url(stack, deployment, name))] for name in ORDER_QUEUES}
    assert received == {name: [body] if name in expected else [] for name in ORDER_QUEUES}


@pytest.mark.parametrize(
    ("topic", "raw", "enveloped", "extra"),
    [
        ("orders", "shipping", "billing", {}),
        ("ledger", "accounting", "audit", {"MessageGroupId": "customer-1"}),
    ],
)
def test_raw_delivery_gives_the_body_as_published_and_otherwise_the_sns_envelope(
    fan_out, topic, raw, enveloped, extra
) -> None:
    stack, deployment = fan_out
    sqs = deployment.client("sqs")
    topic_arn = deployment.topic_arn(getattr(stack, topic).topic)
    # Odd spacing, escapes and non-ASCII: a re-serialized body would differ.
    body = '{ "amount":500,\n  "note": "na\\u00efve \\"quoted\\" ✓",  "region" : "eu-west" }'
    deployment.client("sns").publish(
        TopicArn=topic_arn, Message=body, MessageAttributes=string_attributes(region="eu-west"), **extra
    )
    (raw_message,) = drain(sqs, url(stack, deployment, raw))
    assert raw_message["Body"] == body
    (enveloped_message,) = drain(sqs, url(stack, deployment, enveloped))
    envelope = json.loads(enveloped_message["Body"])
    assert envelope["Type"] == "Notification"
    assert envelope["Message"] == body
    assert envelope["TopicArn"] == topic_arn
    assert envelope["MessageAttributes"] == {"region": {"Type": "String", "Value": "eu-west"}}
    assert envelope["MessageId"]
    assert "MessageAttributes" not in enveloped_message  # carried in the envelope, not as SQS attributes


def test_message_attributes_reach_a_raw_delivery_queue_as_sqs_message_attributes(fan_out) -> None:
    stack, deployment = fan_out
    attributes = {
        "region": {"DataType": "String", "StringValue": "eu-central"},
        "priority": {"DataType": "Number", "StringValue": "7.5"},
        "tags": {"DataType": "String.Array", "StringValue": '["fragile", "express"]'},
    }
    deployment.client("sns").publish(
        TopicArn=deployment.topic_arn(stack.orders.topic), Message='{"amount": 1}', MessageAttributes=attributes
    )
    (message,) = drain(deployment.client("sqs"), url(stack, deployment, "shipping"))
    assert message["MessageAttributes"] == attributes


def test_fifo_subscribers_receive_each_group_in_publish_order(fan_out) -> None:
    stack, deployment = fan_out
    sns = deployment.client("sns")
    topic_arn = deployment.topic_arn(stack.ledger.topic)
    published: dict[str, list[str]] = {"account-a": [], "account-b": []}
    for seq in range(10):  # group a: 10 entries, group b: 5, interleaved
        for group in ("account-a", "account-b") if seq % 2 else ("account-a",):
            body = json.dumps({"account": group, "seq": seq})
            sns.publish(TopicArn=topic_arn, Message=body, MessageGroupId=group)
            published[group].append(body)
    sqs = deployment.client("sqs")
    for name in LEDGER_QUEUES:
        # Small batches: many receives, each after the previous batch was deleted (a group is
        # blocked while any of its messages is in flight).
        received = drain(sqs, url(stack, deployment, name), batch=3)
        by_group: dict[str, list[str]] = {group: [] for group in published}
        for message in received:
            body = payload(name, message)
            group = message["Attributes"]["MessageGroupId"]
            assert json.loads(body)["account"] == group, f"{name}: {body} arrived in group {group}"
            by_group[group].append(body)
        assert by_group == published, name


def test_content_based_deduplication_delivers_a_duplicate_publish_once(fan_out) -> None:
    """Observed on the raw subscriber only: for ``audit`` moto hashes the SNS envelope (see the module
    docstring); the topic's and queues' ContentBasedDeduplication is asserted by tests/unit/test_fan_out.py."""
    stack, deployment = fan_out
    name = "accounting"
    sns = deployment.client("sns")
    topic_arn = deployment.topic_arn(stack.ledger.topic)
    for body in ('{"entry": 1}', '{"entry": 1}', '{"entry": 2}'):  # no MessageDeduplicationId
        sns.publish(TopicArn=topic_arn, Message=body, MessageGroupId="account-a")
    received = drain(deployment.client("sqs"), url(stack, deployment, name))
    assert [payload(name, m) for m in received] == ['{"entry": 1}', '{"entry": 2}']


# --- property: routing of many messages ---------------------------------------------------------

NO_AMOUNT = "no amount key"
NOT_JSON = "body is not JSON"
OTHER_REGIONS = ["us-east", "ap-south", "EU-WEST", "eu-west-1", "eu"]  # near misses: matching is exact

BOUNDARY_AMOUNTS = [
    ANALYTICS_MIN_AMOUNT,
    ANALYTICS_MAX_AMOUNT,
    ANALYTICS_MIN_AMOUNT - 1,
    ANALYTICS_MAX_AMOUNT - 1,
    ANALYTICS_MIN_AMOUNT - 0.01,
    ANALYTICS_MAX_AMOUNT - 0.01,
    ANALYTICS_MIN_AMOUNT + 0.5,
    0,
    -ANALYTICS_MIN_AMOUNT,
]
# Always tried first: every boundary and special body, each with a different region.
EDGE_CASES = list(
    zip(itertools.cycle([*SHIPPING_REGIONS, None, *OTHER_REGIONS]), [*BOUNDARY_AMOUNTS, NO_AMOUNT, NOT_JSON])
)

regions = st.one_of(st.none(), st.sampled_from(SHIPPING_REGIONS + OTHER_REGIONS))
amounts = st.one_of(
    st.sampled_from(BOUNDARY_AMOUNTS),
    st.integers(-10 * ANALYTICS_MAX_AMOUNT, 10 * ANALYTICS_MAX_AMOUNT),
    # Two decimals: well inside SNS's numeric precision (5 decimals, +-1e9).
    st.integers(-(10**8), 10**8).map(lambda cents: cents / 100),
    st.sampled_from([NO_AMOUNT, NOT_JSON]),
)


def expected_queues(region: str | None, amount: float | str) -> set[str]:
    """The queues a message belongs in, from the reference stack's documented routing."""
    queues = {"billing"}
    if region in SHIPPING_REGIONS:
        queues.add("shipping")
    if isinstance(amount, int | float) and ANALYTICS_MIN_AMOUNT <= amount < ANALYTICS_MAX_AMOUNT:
        queues.add("analytics")
    return queues


def test_every_message_reaches_exactly_the_queues_its_attributes_and_body_select(fan_out) -> None:
    """Deployed once; each example first empties the queues (PurgeQueue allows one call a minute)."""
    stack, deployment = fan_out
    sns = deployment.client("sns")
    sqs = deployment.client("sqs")
    topic_arn = deployment.topic_arn(stack.orders.topic)
    urls = {name: url(stack, deployment, name) for name in ORDER_QUEUES}
    example_ids = itertools.count()

    @settings(max_examples=25, deadline=None)
    @given(orders=st.lists(st.tuples(regions, amounts), max_size=30))
    @example(orders=EDGE_CASES)
    def check(orders: list[tuple[str | None, float | str]]) -> None:
        for queue_url in urls.values():
            drain(sqs, queue_url)  # left over by a failed example
        example = next(example_ids)
        sent: dict[str, str] = {}  # body -> order id
        expected: dict[str, list[str]] = {name: [] for name in ORDER_QUEUES}
        for i, (region, amount) in enumerate(orders):
            order_id = f"{example}-{i}"
            if amount == NOT_JSON:
                body = f"order {order_id}: not JSON"
            elif amount == NO_AMOUNT:
                body = json.dumps({"order": order_id})
            else:
                body = json.dumps({"order": order_id, "amount": amount})
            sns.publish(
                TopicArn=topic_arn,
                Message=body,
                MessageAttributes=string_attributes(region=region) if region else {},
            )
            sent[body] = order_id
            for name in expected_queues(region, amount):
                expected[name].append(order_id)
        received = {
            name: [sent.get(payload(name, m), payload(name, m)) for m in drain(sqs, queue_url)]
            for name, queue_url in urls.items()
        }
        routes = {f"{example}-{i}": order for i, order in enumerate(orders)}  # id -> (region, amount)
        for name in ORDER_QUEUES:
            got, want = Counter(received[name]), Counter(expected[name])
            assert got == want, (
                f"{name}: missing {[(o, routes[o]) for o in want - got]}, "
                f"extra or duplicated {[(o, routes.get(o, 'not published')) for o in got - want]}"
            )

    check()


def test_alarms_are_deployed_under_their_stable_names_and_watch_the_topic_and_undeliverable_queue(fan_out) -> None:
    """The FanOut's own alarms (its subscribers' are ReliableQueue's, covered in test_queue_behaviour)."""
    stack, deployment = fan_out
    alarms = {
        f"{path}/{key}": alarm
        for path, construct in (("OrderEvents", stack.orders), ("Ledger", stack.ledger))
        for key, alarm in construct.alarms.items()
    }
    assert {deployment.physical_id(alarm) for alarm in alarms.values()} == set(alarms)
    described = {
        a["AlarmName"]: a
        for a in deployment.client("cloudwatch").describe_alarms(AlarmNames=list(alarms))["MetricAlarms"]
    }
    assert set(described) == set(alarms)
    failed, undeliverable = described["OrderEvents/notifications_failed"], described["OrderEvents/undeliverable_queue"]
    topic_name = deployment.topic_arn(stack.orders.topic).rsplit(":", 1)[1]
    assert (failed["MetricName"], failed["Dimensions"]) == (
        "NumberOfNotificationsFailed",
        [{"Name": "TopicName", "Value": topic_name}],
    )
    queue_name = deployment.queue_url(stack.orders.undeliverable_queue).rsplit("/", 1)[1]
    assert undeliverable["Dimensions"] == [{"Name": "QueueName", "Value": queue_name}]
    for alarm in described.values():
        assert alarm["AlarmActions"] and alarm["AlarmActions"] == alarm["OKActions"]
