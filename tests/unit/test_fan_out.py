"""Template tests for FanOut: defaults, subscriptions, filters, FIFO, keys, service publishers, bad input."""

from __future__ import annotations

import dataclasses
import inspect
import json

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match, Template

from decoupling_constructs import AlarmOptions, AlarmSettings, AlarmTopic, FanOut, QueueOptions, ReliableQueue
from tests.unit.cdk_helpers import lid, new_stack


def props_of(template: Template, logical_id: str) -> dict:
    return template.to_json()["Resources"][logical_id]["Properties"]


def statements_of(template: Template, resource_type: str, ref: dict) -> list[dict]:
    for policy in template.find_resources(resource_type).values():
        targets = policy["Properties"].get("Queues") or policy["Properties"].get("Topics")
        if ref in targets:
            return policy["Properties"]["PolicyDocument"]["Statement"]
    raise AssertionError(f"no {resource_type} for {ref}")


@pytest.fixture(scope="module")
def orders(app_variant: str) -> tuple[cdk.Stack, FanOut, Template]:
    stack = new_stack(app_variant)
    fan_out = FanOut(stack, "Orders")
    fan_out.add_queue("Billing")
    fan_out.add_queue(
        "Shipping",
        filter_policy={"region": sns.SubscriptionFilter.string_filter(allowlist=["eu", "us"])},
        raw_message_delivery=True,
    )
    fan_out.add_queue(
        "Analytics",
        filter_policy_with_message_body={
            "amount": sns.FilterOrPolicy.filter(sns.SubscriptionFilter.numeric_filter(greater_than=100))
        },
    )
    return stack, fan_out, Template.from_stack(stack)


def test_topic_encrypted_with_aws_managed_key_and_tls_only(orders) -> None:
    stack, fan_out, template = orders
    topic = props_of(template, lid(stack, fan_out.topic))
    assert "alias/aws/sns" in json.dumps(topic["KmsMasterKeyId"])
    assert topic["TopicName"].startswith("Test-Orders-")
    statements = statements_of(template, "AWS::SNS::TopicPolicy", {"Ref": lid(stack, fan_out.topic)})
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )
    template.resource_count_is("AWS::KMS::Key", 0)


def test_every_subscription_redrives_to_the_undeliverable_queue(orders) -> None:
    stack, fan_out, template = orders
    undeliverable_arn = {"Fn::GetAtt": [lid(stack, fan_out.undeliverable_queue), "Arn"]}
    subscriptions = template.find_resources("AWS::SNS::Subscription")
    assert len(subscriptions) == 3 == len(fan_out.subscriptions)
    for subscription in subscriptions.values():
        assert subscription["Properties"]["RedrivePolicy"] == {"deadLetterTargetArn": undeliverable_arn}
        assert subscription["Properties"]["Protocol"] == "sqs"
        assert subscription["Properties"]["TopicArn"] == {"Ref": lid(stack, fan_out.topic)}


def test_undeliverable_queue_is_kept_encrypted_tls_only_and_open_to_this_topic_only(orders) -> None:
    stack, fan_out, template = orders
    queue_id = lid(stack, fan_out.undeliverable_queue)
    resource = template.to_json()["Resources"][queue_id]
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert resource["Properties"]["SqsManagedSseEnabled"] is True
    statements = statements_of(template, "AWS::SQS::QueuePolicy", {"Ref": queue_id})
    assert statements[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert {
        "Action": "sqs:SendMessage",
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Condition": {"ArnEquals": {"aws:SourceArn": {"Ref": lid(stack, fan_out.topic)}}},
    }.items() <= statements[1].items()


def test_subscriber_queue_policy_allows_this_topic_only_and_subscription_waits_for_it(orders) -> None:
    stack, fan_out, template = orders
    billing = fan_out.subscribers["Billing"]
    queue_id = lid(stack, billing.queue)
    statements = statements_of(template, "AWS::SQS::QueuePolicy", {"Ref": queue_id})
    assert {
        "Action": "sqs:SendMessage",
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Resource": {"Fn::GetAtt": [queue_id, "Arn"]},
        "Condition": {"ArnEquals": {"aws:SourceArn": {"Ref": lid(stack, fan_out.topic)}}},
    }.items() <= statements[1].items()
    subscription = template.to_json()["Resources"][lid(stack, fan_out.subscriptions["Billing"])]
    assert subscription["Properties"]["Endpoint"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert lid(stack, billing.queue).replace("Queue", "QueuePolicy")[:20] in " ".join(subscription["DependsOn"])
    assert len(subscription["DependsOn"]) == 2  # its queue's policy and the undeliverable queue's


def test_subscribers_are_reliable_queues_with_their_own_dlq(orders) -> None:
    _, fan_out, template = orders
    assert set(fan_out.subscribers) == {"Billing", "Shipping", "Analytics"}
    assert all(isinstance(q, ReliableQueue) for q in fan_out.subscribers.values())
    template.resource_count_is("AWS::SQS::Queue", 3 * 2 + 1)
    # 2 alarms per subscriber, 2 for the fan-out itself
    template.resource_count_is("AWS::CloudWatch::Alarm", 3 * 2 + 2)


def test_filters_and_raw_delivery(orders) -> None:
    stack, fan_out, template = orders
    shipping = props_of(template, lid(stack, fan_out.subscriptions["Shipping"]))
    assert shipping["FilterPolicy"] == {"region": ["eu", "us"]}
    assert shipping["RawMessageDelivery"] is True
    assert "FilterPolicyScope" not in shipping
    analytics = props_of(template, lid(stack, fan_out.subscriptions["Analytics"]))
    assert analytics["FilterPolicy"] == {"amount": [{"numeric": [">", 100]}]}
    assert analytics["FilterPolicyScope"] == "MessageBody"
    assert "RawMessageDelivery" not in analytics
    billing = props_of(template, lid(stack, fan_out.subscriptions["Billing"]))
    assert "FilterPolicy" not in billing


def test_alarms_on_failed_notifications_and_undeliverable_messages(orders) -> None:
    stack, fan_out, template = orders
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "AWS/SNS",
            "MetricName": "NumberOfNotificationsFailed",
            "Dimensions": [{"Name": "TopicName", "Value": {"Fn::GetAtt": [lid(stack, fan_out.topic), "TopicName"]}}],
            "Statistic": "Sum",
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        },
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [
                {"Name": "QueueName", "Value": {"Fn::GetAtt": [lid(stack, fan_out.undeliverable_queue), "QueueName"]}}
            ],
        },
    )
    assert len(fan_out.alarms) == 2


def test_alarm_topic_reaches_fan_out_and_subscriber_alarms() -> None:
    stack = new_stack()
    topic = sns.Topic(stack, "Alarms")
    fan_out = FanOut(stack, "Orders", alarm_topic=topic)
    fan_out.add_queue("Billing")
    alarms = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm").values()
    assert len(alarms) == 4
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": lid(stack, topic)}]
        assert alarm["Properties"]["OKActions"] == [{"Ref": lid(stack, topic)}]


def alarm_names(stack: cdk.Stack) -> set[str]:
    alarms = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm").values()
    return {alarm["Properties"]["AlarmName"] for alarm in alarms}


def test_alarms_are_a_read_only_mapping_with_stable_names(orders) -> None:
    stack, fan_out, _ = orders
    assert tuple(fan_out.alarms) == ("notifications_failed", "undeliverable_queue")
    # The others come with the first HTTPS and SMS subscribers (test_fan_out_https.py).
    assert FanOut.ALARM_KEYS == (
        "notifications_failed",
        "undeliverable_queue",
        "http_notifications_failed",
        "sms_month_to_date_spent",
        "sms_success_rate",
    )
    with pytest.raises(TypeError):
        fan_out.alarms["x"] = fan_out.alarms["notifications_failed"]  # type: ignore[index]
    assert alarm_names(stack) == {
        "Orders/notifications_failed",
        "Orders/undeliverable_queue",
        *(f"Orders/{q}/{key}" for q in ("Billing", "Shipping", "Analytics") for key in ReliableQueue.ALARM_KEYS),
    }


def test_name_prefix_and_actions_reach_the_subscribers_but_not_the_overrides() -> None:
    stack = new_stack()
    alarms, pager = AlarmTopic(stack, "Alarms"), sns.Topic(stack, "Pager")
    settings = AlarmSettings(
        name_prefix="prod",
        alarm_actions=[cw_actions.SnsAction(pager)],
        overrides={"undeliverable_queue": AlarmOptions(threshold=10, evaluation_periods=3)},
    )
    fan_out = FanOut(stack, "Orders", alarm_topic=alarms, alarm_settings=settings)
    billing = fan_out.add_queue("Billing")
    assert fan_out.subscriber_alarm_settings == AlarmSettings(name_prefix="prod", alarm_actions=settings.alarm_actions)
    assert alarm_names(stack) == {
        "prod/Orders/notifications_failed",
        "prod/Orders/undeliverable_queue",
        "prod/Orders/Billing/dead_letter_queue",
        "prod/Orders/Billing/oldest_message_age",
    }
    template = Template.from_stack(stack)
    for alarm in [*fan_out.alarms.values(), *billing.alarms.values()]:
        props = props_of(template, lid(stack, alarm))
        assert props["AlarmActions"] == [{"Ref": lid(stack, alarms.topic)}, {"Ref": lid(stack, pager)}]
        assert props["OKActions"] == [{"Ref": lid(stack, alarms.topic)}]
    tuned = props_of(template, lid(stack, fan_out.alarms["undeliverable_queue"]))
    assert (tuned["Threshold"], tuned["EvaluationPeriods"]) == (10, 3)
    dlq = props_of(template, lid(stack, billing.alarms["dead_letter_queue"]))
    assert (dlq["Threshold"], dlq["EvaluationPeriods"]) == (1, 1)


def test_a_subscriber_s_alarms_are_tuned_by_its_own_alarm_settings() -> None:
    stack = new_stack()
    fan_out = FanOut(stack, "Orders", alarm_settings=AlarmSettings(name_prefix="prod"))
    overrides = {"oldest_message_age": AlarmOptions(threshold=Duration.minutes(2)), "dead_letter_queue": None}
    billing = fan_out.add_queue(
        "Billing", alarm_settings=dataclasses.replace(fan_out.subscriber_alarm_settings, overrides=overrides)
    )
    assert list(billing.alarms) == ["oldest_message_age"]
    age = props_of(Template.from_stack(stack), lid(stack, billing.alarms["oldest_message_age"]))
    assert (age["AlarmName"], age["Threshold"]) == ("prod/Orders/Billing/oldest_message_age", 120)
    with pytest.raises(ValueError, match="unknown alarm key 'undeliverable_queue'; the keys are 'dead_letter_queue'"):
        fan_out.add_queue("Shipping", alarm_settings=AlarmSettings(overrides={"undeliverable_queue": None}))


def test_create_alarms_false_reaches_the_subscribers_unless_one_asks_for_them() -> None:
    stack = new_stack()
    fan_out = FanOut(stack, "Orders", create_alarms=False)
    quiet = fan_out.add_queue("Billing")
    watched = fan_out.add_queue("Shipping", create_alarms=True)
    assert dict(fan_out.alarms) == {} == dict(quiet.alarms)
    assert alarm_names(stack) == {"Orders/Shipping/dead_letter_queue", "Orders/Shipping/oldest_message_age"}
    assert set(watched.alarms) == set(ReliableQueue.ALARM_KEYS)


def test_fan_out_alarms_can_be_removed_or_tuned() -> None:
    stack = new_stack()
    options = AlarmOptions(
        threshold=5, datapoints_to_alarm=2, evaluation_periods=4, treat_missing_data=cloudwatch.TreatMissingData.IGNORE
    )
    settings = AlarmSettings(overrides={"undeliverable_queue": None, "notifications_failed": options})
    fan_out = FanOut(stack, "Orders", alarm_settings=settings)
    assert list(fan_out.alarms) == ["notifications_failed"]
    Template.from_stack(stack).has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "NumberOfNotificationsFailed",
            "Threshold": 5,
            "DatapointsToAlarm": 2,
            "EvaluationPeriods": 4,
            "TreatMissingData": "ignore",
        },
    )


def test_fifo_topic_queues_and_undeliverable_queue() -> None:
    stack = new_stack()
    fan_out = FanOut(stack, "Ledger", fifo=True, content_based_deduplication=True)
    fan_out.add_queue("Accounting")
    template = Template.from_stack(stack)
    topic = props_of(template, lid(stack, fan_out.topic))
    assert topic["FifoTopic"] is True
    assert topic["ContentBasedDeduplication"] is True
    assert topic["TopicName"].endswith(".fifo")
    for queue in template.find_resources("AWS::SQS::Queue").values():
        assert queue["Properties"]["FifoQueue"] is True
        assert queue["Properties"]["QueueName"].endswith(".fifo")
    accounting = props_of(template, lid(stack, fan_out.subscribers["Accounting"].queue))
    assert accounting["ContentBasedDeduplication"] is True


def test_customer_key_shared_by_topic_and_queues_makes_no_dependency_cycle() -> None:
    """aws/aws-cdk#35418: a key policy naming the topic by Ref, on the key that encrypts the topic, is a cycle."""
    stack = new_stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    fan_out = FanOut(stack, "Orders", encryption_key=key)
    fan_out.add_queue("Billing", encryption_key=key)
    template = Template.from_stack(stack)
    key_policy = props_of(template, lid(stack, key))["KeyPolicy"]
    topic_id = lid(stack, fan_out.topic)
    assert topic_id not in json.dumps(key_policy)
    sns_grants = [s for s in key_policy["Statement"] if s.get("Principal") == {"Service": "sns.amazonaws.com"}]
    assert len(sns_grants) == 1  # one statement serves the topic, the undeliverable queue and the subscriber
    (grant,) = sns_grants
    assert grant["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    source_arn = stack.resolve(grant["Condition"]["ArnLike"]["aws:SourceArn"])
    assert source_arn["Fn::Join"][1][-1] == f":{props_of(template, topic_id)['TopicName']}"
    assert props_of(template, topic_id)["KmsMasterKeyId"] == {"Fn::GetAtt": [lid(stack, key), "Arn"]}
    assert props_of(template, lid(stack, fan_out.undeliverable_queue))["KmsMasterKeyId"] == {
        "Fn::GetAtt": [lid(stack, key), "Arn"]
    }


def test_subscriber_with_its_own_key_lets_sns_use_it_for_this_topic() -> None:
    stack = new_stack()
    queue_key = kms.Key(stack, "QueueKey", enable_key_rotation=True)
    fan_out = FanOut(stack, "Orders")
    fan_out.add_queue("Billing", encryption_key=queue_key)
    statements = props_of(Template.from_stack(stack), lid(stack, queue_key))["KeyPolicy"]["Statement"]
    (grant,) = [s for s in statements if s.get("Principal") == {"Service": "sns.amazonaws.com"}]
    assert "aws:SourceArn" in grant["Condition"]["ArnLike"]
    assert grant["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}


def test_add_existing_queue_gets_the_policy_and_subscription() -> None:
    stack = new_stack()
    fan_out = FanOut(stack, "Orders")
    own = sqs.Queue(stack, "Own", enforce_ssl=True)
    subscription = fan_out.add_existing_queue(own, raw_message_delivery=True)  # id defaults to the queue's: "Own"
    template = Template.from_stack(stack)
    assert fan_out.subscriptions["Own"] is subscription
    assert "Own" not in fan_out.subscribers
    assert props_of(template, lid(stack, subscription))["Endpoint"] == {"Fn::GetAtt": [lid(stack, own), "Arn"]}
    statements = statements_of(template, "AWS::SQS::QueuePolicy", {"Ref": lid(stack, own)})
    assert any(s.get("Principal") == {"Service": "sns.amazonaws.com"} for s in statements)


def test_add_existing_queue_takes_a_reliable_queue_of_another_stack() -> None:
    # A ReliableQueue stands where an IQueue is expected: add_existing_queue refused one with a PropTypeError
    # ("queue must be an sqs.IQueue, got ReliableQueue") although its .queue was accepted.
    app = cdk.App()
    shared = cdk.Stack(app, "Shared")
    key = kms.Key(shared, "Key", enable_key_rotation=True)
    legacy = cdk.Stack(app, "Legacy")
    orders = ReliableQueue(legacy, "Orders", encryption_key=key)
    events = FanOut(cdk.Stack(app, "Events"), "Events")
    subscription = events.add_existing_queue(orders)
    assert events.subscriptions["OrdersQueue"] is subscription  # the id of ReliableQueue(stack, "Orders").queue
    template = Template.from_stack(legacy)
    assert props_of(template, lid(legacy, subscription))["Endpoint"] == {
        "Fn::GetAtt": [lid(legacy, orders.queue), "Arn"]
    }
    statements = statements_of(template, "AWS::SQS::QueuePolicy", {"Ref": lid(legacy, orders.queue)})
    assert any(s.get("Principal") == {"Service": "sns.amazonaws.com"} for s in statements)
    key_statements = Template.from_stack(shared).to_json()["Resources"][lid(shared, key)]["Properties"]["KeyPolicy"]
    assert any(s.get("Principal") == {"Service": "sns.amazonaws.com"} for s in key_statements["Statement"])


def test_imported_queue_subscribes_with_a_warning_about_its_policy() -> None:
    stack = new_stack()
    fan_out = FanOut(stack, "Orders")
    imported = sqs.Queue.from_queue_arn(stack, "Imported", "arn:aws:sqs:us-east-1:111111111111:elsewhere")
    fan_out.add_existing_queue(imported, construct_id="Elsewhere")
    Annotations.from_stack(stack).has_warning("/Test/Orders", Match.string_like_regexp("imported queue"))


def test_standard_queue_may_subscribe_to_a_fifo_topic_but_not_the_reverse() -> None:
    stack = new_stack()
    fifo_topic = FanOut(stack, "Ledger", fifo=True)
    fifo_topic.add_existing_queue(sqs.Queue(stack, "Standard"), construct_id="Analytics")  # allowed by SNS
    standard_topic = FanOut(stack, "Orders")
    with pytest.raises(ValueError, match="a FIFO queue cannot subscribe to a standard topic"):
        standard_topic.add_existing_queue(sqs.Queue(stack, "Fifo", fifo=True))
    with pytest.raises(
        ValueError,
        match=r"^FanOut 'Test/Ledger' add_queue\(\): fifo must not be given: the queue 'Plain' follows the FanOut's "
        r"topic \(fifo=True\).*, got fifo=False$",
    ):
        fifo_topic.add_queue("Plain", fifo=False)  # type: ignore[call-arg]


def test_service_publishers_get_a_customer_key_topic_policy_and_key_grant() -> None:
    stack = new_stack()
    fan_out = FanOut(stack, "Orders", service_publishers=["s3.amazonaws.com", "events.amazonaws.com"])
    template = Template.from_stack(stack)
    assert fan_out.encryption_key is not None
    key = template.to_json()["Resources"][lid(stack, fan_out.encryption_key)]
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"
    topic = props_of(template, lid(stack, fan_out.topic))
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": [lid(stack, fan_out.encryption_key), "Arn"]}
    statements = statements_of(template, "AWS::SNS::TopicPolicy", {"Ref": lid(stack, fan_out.topic)})
    (publish,) = [s for s in statements if s["Effect"] == "Allow"]  # one statement, both services
    assert sorted(publish["Principal"]["Service"]) == ["events.amazonaws.com", "s3.amazonaws.com"]
    s3 = publish
    assert s3["Action"] == "sns:Publish"
    assert s3["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    grants = {
        s["Principal"]["Service"]: s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if "Service" in s.get("Principal", {})
    }
    assert grants["s3.amazonaws.com"]["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    # EventBridge's KMS requests carry no aws:Source* keys: a conditioned grant would never match.
    assert "Condition" not in grants["events.amazonaws.com"]


def test_allow_service_publisher_refuses_the_aws_managed_key() -> None:
    fan_out = FanOut(new_stack(), "Orders")
    with pytest.raises(ValueError, match="needs a customer-managed key: the topic uses the AWS-managed alias/aws/sns"):
        fan_out.allow_service_publisher("cloudwatch.amazonaws.com")
    with pytest.raises(ValueError, match="service_principal must be an AWS service principal"):
        fan_out.allow_service_publisher("arn:aws:iam::111111111111:root")


def test_allow_service_publisher_with_an_imported_key_warns() -> None:
    stack = new_stack()
    key = kms.Key.from_key_arn(
        stack, "Key", "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    fan_out = FanOut(stack, "Orders", encryption_key=key)
    fan_out.allow_service_publisher("cloudwatch.amazonaws.com")
    Annotations.from_stack(stack).has_warning("/Test/Orders", Match.string_like_regexp("encryption_key is imported"))


def test_grant_publish_includes_the_customer_key() -> None:
    stack = new_stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    fan_out = FanOut(stack, "Orders", encryption_key=key)
    producer = iam.Role(stack, "Producer", assumed_by=iam.AccountRootPrincipal())
    fan_out.grant_publish(producer)
    (policy,) = Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
    actions = json.dumps([s["Action"] for s in policy["Properties"]["PolicyDocument"]["Statement"]])
    assert "sns:Publish" in actions
    assert "kms:GenerateDataKey*" in actions


def test_removal_policy_reaches_topic_undeliverable_queue_and_subscribers() -> None:
    stack = new_stack()
    fan_out = FanOut(stack, "Orders", removal_policy=RemovalPolicy.DESTROY)
    fan_out.add_queue("Billing")
    template = Template.from_stack(stack)
    for resource_type in ("AWS::SNS::Topic", "AWS::SQS::Queue"):
        for resource in template.find_resources(resource_type).values():
            assert resource["DeletionPolicy"] == "Delete"


def test_queue_options_are_reliable_queue_s_props_but_fifo() -> None:
    """QueueOptions is the one list of what add_queue passes on; fifo follows the topic."""
    parameters = inspect.signature(ReliableQueue.__init__).parameters.values()
    props = {p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY}
    assert QueueOptions.__optional_keys__ == props - {"fifo"}
    assert QueueOptions.__required_keys__ == frozenset()


def test_typed_options_reach_the_queue_and_unknown_ones_are_refused() -> None:
    stack = new_stack()
    fan_out = FanOut(stack, "Orders")
    options: QueueOptions = {"max_receive_count": 3, "visibility_timeout": Duration.minutes(2)}
    billing = fan_out.add_queue("Billing", **options)
    queue = props_of(Template.from_stack(stack), lid(stack, billing.queue))
    assert (queue["RedrivePolicy"]["maxReceiveCount"], queue["VisibilityTimeout"]) == (3, 120)
    with pytest.raises(
        TypeError, match=r"unknown option\(s\) max_receives; allowed: filter_policy, .*max_receive_count"
    ):
        fan_out.add_queue("Shipping", max_receives=3)  # type: ignore[call-arg]


def many_keys(n: int) -> dict[str, sns.SubscriptionFilter]:
    return {f"k{i}": sns.SubscriptionFilter.string_filter(allowlist=["x"]) for i in range(n)}


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda f: f.add_queue("A", filter_policy=many_keys(6)),
            "filter_policy of 'A' must have at most 5 keys, got 6",
        ),
        (
            lambda f: f.add_queue(
                "A",
                filter_policy={
                    k: sns.SubscriptionFilter.string_filter(allowlist=[str(i) for i in range(13)]) for k in "ab"
                },
            ),
            "must have at most 150 combinations of values .*got 169",
        ),
        (
            lambda f: f.add_queue(
                "A", filter_policy={"k": sns.SubscriptionFilter.string_filter(allowlist=["x" * 300_000])}
            ),
            "filter_policy of 'A' must be at most 256 KB",
        ),
        (
            lambda f: f.add_queue(
                "A",
                filter_policy_with_message_body={
                    f"k{i}": sns.FilterOrPolicy.filter(sns.SubscriptionFilter.string_filter(allowlist=["x"]))
                    for i in range(6)
                },
            ),
            "filter_policy_with_message_body of 'A' must have at most 5 keys",
        ),
        (
            lambda f: f.add_queue(
                "A",
                filter_policy=many_keys(1),
                filter_policy_with_message_body={
                    "b": sns.FilterOrPolicy.filter(sns.SubscriptionFilter.exists_filter())
                },
            ),
            "give only one of filter_policy .* and filter_policy_with_message_body",
        ),
        (
            lambda f: (f.add_queue("A"), f.add_queue("A")),
            r"add_queue\(\): construct_id must be an id not used in this FanOut \(a subscriber has it\), got 'A'",
        ),
        (
            lambda f: f.add_queue(
                "A",
                filter_policy={
                    "amount": sns.SubscriptionFilter.numeric_filter(greater_than_or_equal_to=100, less_than=1000)
                },
            ),
            "the conditions on 'amount' match every number",
        ),
        (
            lambda f: f.add_queue(
                "A",
                filter_policy_with_message_body={
                    "order": sns.FilterOrPolicy.policy(
                        {
                            "amount": sns.FilterOrPolicy.filter(
                                sns.SubscriptionFilter.numeric_filter(greater_than=5, less_than_or_equal_to=5)
                            )
                        }
                    )
                },
            ),
            "the conditions on 'order.amount' match every number",
        ),
        (
            lambda f: f.add_queue("Topic"),
            r"construct_id must be an id not used in this FanOut \(Topic 'Test/Orders/Topic' has it\), got 'Topic'",
        ),
    ],
)
def test_bad_subscriptions_fail_at_synth_time(build, message: str) -> None:
    fan_out = FanOut(new_stack(), "Orders")
    with pytest.raises(ValueError, match=message):
        build(fan_out)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"topic_name": "t" * 257}, "topic_name must be at most 256 characters, got 257"),
        ({"topic_name": "orders.fifo"}, "topic_name ends in '.fifo' but fifo is False"),
        ({"fifo": True, "topic_name": "orders"}, "topic_name of a FIFO topic must end in '.fifo'"),
        ({"topic_name": "orders events"}, "topic_name may contain only letters, digits, hyphens and underscores"),
        ({"content_based_deduplication": True}, r"content_based_deduplication=True requires fifo=True"),
        ({"fifo": 1}, "fifo must be True or False"),
        ({"service_publishers": "s3.amazonaws.com"}, "service_publishers must be a list"),
        ({"removal_policy": "destroy"}, "removal_policy must be an aws_cdk.RemovalPolicy"),
    ],
)
def test_bad_props_fail_at_synth_time(props: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FanOut(new_stack(), "Orders", **props)


@pytest.mark.parametrize(
    "conditions",
    [
        [{"numeric": [">=", 100, "<", 1000]}],  # one condition, both bounds: a range
        [{"numeric": ["<", 10]}, {"numeric": [">", 1000]}],  # two disjoint ranges
        [{"numeric": [">", 5]}, {"numeric": ["<", 5]}],  # all but 5
    ],
)
def test_numeric_filters_that_do_not_match_everything_are_accepted(conditions: list) -> None:
    fan_out = FanOut(new_stack(), "Orders")
    fan_out.add_queue("A", filter_policy={"amount": sns.SubscriptionFilter(conditions)})


def test_topic_name_of_exactly_256_characters_is_accepted() -> None:
    stack = new_stack()
    fan_out = FanOut(stack, "Orders", fifo=True, topic_name="t" * 251 + ".fifo")
    assert len(props_of(Template.from_stack(stack), lid(stack, fan_out.topic))["TopicName"]) == 256


def test_aws_managed_keys_sns_cannot_use_are_refused_at_the_call() -> None:
    stack = new_stack()
    fan_out = FanOut(stack, "Orders")
    aws_sqs = kms.Alias.from_alias_name(stack, "AwsSqs", "alias/aws/sqs")
    with pytest.raises(
        ValueError,
        match=r"^FanOut 'Test/Orders' add_queue\(\): encryption_key must be a customer-managed key \(or None\): "
        r"alias/aws/sqs is managed by AWS and SNS cannot be granted it",
    ):
        fan_out.add_queue("Billing", encryption_key=aws_sqs)
    managed = sqs.Queue(stack, "Managed", encryption=sqs.QueueEncryption.KMS_MANAGED)
    with pytest.raises(
        ValueError,
        match=r"^FanOut 'Test/Orders' add_existing_queue\(\): queue must be encrypted with SSE-SQS or a "
        r"customer-managed key: its key alias/aws/sqs \(KMS_MANAGED\).*got Queue 'Test/Managed'$",
    ):
        fan_out.add_existing_queue(managed)
    aliased = sqs.Queue(stack, "Aliased", encryption_master_key=aws_sqs)
    with pytest.raises(ValueError, match=r"queue.encryption_master_key must be a customer-managed key"):
        fan_out.add_existing_queue(aliased)
    with pytest.raises(ValueError, match=r"^FanOut 'Test/Other': encryption_key must be a customer-managed key"):
        FanOut(stack, "Other", encryption_key=kms.Alias.from_alias_name(stack, "AwsSns", "alias/aws/sns"))
    assert fan_out.subscriptions == {}


@pytest.mark.parametrize("method", ["add_existing_queue", "add_function", "add_delivery_stream"])
def test_a_subscriber_of_another_app_is_refused_at_the_call(method: str) -> None:
    from aws_cdk import aws_kinesisfirehose as firehose
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_s3 as s3

    other = cdk.Stack(cdk.App(), "Other")
    fan_out = FanOut(new_stack(), "Orders")
    if method == "add_existing_queue":
        target: object = sqs.Queue(other, "Elsewhere")
        call = lambda: fan_out.add_existing_queue(target)  # type: ignore[arg-type]  # noqa: E731
        prop = "queue"
    elif method == "add_function":
        target = lambda_.Function(
            other,
            "Elsewhere",
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="index.handler",
            code=lambda_.Code.from_inline("def handler(event, context): pass"),
        )
        call = lambda: fan_out.add_function("Push", target)  # type: ignore[arg-type]  # noqa: E731
        prop = "function"
    else:
        target = firehose.DeliveryStream(other, "Elsewhere", destination=firehose.S3Bucket(s3.Bucket(other, "B")))
        call = lambda: fan_out.add_delivery_stream("Push", target)  # type: ignore[arg-type]  # noqa: E731
        prop = "delivery_stream"
    with pytest.raises(
        ValueError,
        match=rf"^FanOut 'Test/Orders' {method}\(\): {prop} 'Other/Elsewhere' belongs to another App than this "
        r"construct's: .*import it into a stack of this App by its ARN",
    ):
        call()
    assert fan_out.subscriptions == {}


def test_snapshot_is_refused_for_a_topic_and_queues() -> None:
    with pytest.raises(
        ValueError,
        match=r"^FanOut 'Test/Orders': removal_policy must be DESTROY, RETAIN or RETAIN_ON_UPDATE_OR_DELETE: it "
        r"applies to AWS::SNS::Topic, AWS::SQS::Queue, which CloudFormation cannot snapshot "
        r".*got RemovalPolicy.SNAPSHOT$",
    ):
        FanOut(new_stack(), "Orders", removal_policy=RemovalPolicy.SNAPSHOT)
