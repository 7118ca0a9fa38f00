"""Template tests for FanOut's push subscribers: add_function (SNS -> Lambda) and add_delivery_stream
(SNS -> Firehose): endpoint, undeliverable queue, filters, permissions, cross-stack placement, refusals."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from decoupling_constructs import FanOut, StreamToS3
from tests.unit.cdk_helpers import lid, new_app, new_stack, stack_env

# The actions the SNS developer guide lists for a Firehose subscription role
# ("Prerequisites for subscribing Firehose delivery streams to Amazon SNS topics").
SNS_FIREHOSE_ACTIONS = [
    "firehose:DescribeDeliveryStream",
    "firehose:ListDeliveryStreams",
    "firehose:ListTagsForDeliveryStream",
    "firehose:PutRecord",
    "firehose:PutRecordBatch",
]


def function(scope: cdk.Stack, construct_id: str = "Notifier") -> lambda_.Function:
    return lambda_.Function(
        scope,
        construct_id,
        runtime=lambda_.Runtime.PYTHON_3_12,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
    )


def delivery_stream(scope: cdk.Stack, construct_id: str = "Archive") -> firehose.DeliveryStream:
    bucket = s3.Bucket(scope, f"{construct_id}Bucket")
    return firehose.DeliveryStream(scope, construct_id, destination=firehose.S3Bucket(bucket))


@pytest.fixture(scope="module")
def pushed(app_variant: str) -> tuple[cdk.Stack, FanOut, lambda_.Function, firehose.DeliveryStream, Template]:
    stack = new_stack(app_variant)
    fan_out = FanOut(stack, "Orders")
    fn, stream = function(stack), delivery_stream(stack)
    fan_out.add_function(
        "Notify", fn, filter_policy={"region": sns.SubscriptionFilter.string_filter(allowlist=["eu", "us"])}
    )
    fan_out.add_delivery_stream(
        "Archive",
        stream,
        filter_policy_with_message_body={
            "amount": sns.FilterOrPolicy.filter(sns.SubscriptionFilter.numeric_filter(greater_than=100))
        },
        raw_message_delivery=True,
    )
    return stack, fan_out, fn, stream, Template.from_stack(stack)


def resource(template: Template, logical_id: str) -> dict:
    return template.to_json()["Resources"][logical_id]


def test_function_subscription_redrives_to_the_undeliverable_queue_with_its_filter(pushed) -> None:
    stack, fan_out, fn, _, template = pushed
    subscription = resource(template, lid(stack, fan_out.subscriptions["Notify"]))
    assert subscription["Properties"] == {
        "Protocol": "lambda",
        "Endpoint": {"Fn::GetAtt": [lid(stack, fn), "Arn"]},
        "TopicArn": {"Ref": lid(stack, fan_out.topic)},
        "FilterPolicy": {"region": ["eu", "us"]},
        "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": [lid(stack, fan_out.undeliverable_queue), "Arn"]}},
    }
    # The redrive needs the undeliverable queue's policy (SNS may send to it) in place first.
    assert subscription["DependsOn"] == [lid(stack, fan_out.undeliverable_queue.node.find_child("Policy"))]


def test_only_this_topic_may_invoke_the_function(pushed) -> None:
    stack, fan_out, fn, _, template = pushed
    permissions = template.find_resources("AWS::Lambda::Permission")
    assert [p["Properties"] for p in permissions.values()] == [
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Fn::GetAtt": [lid(stack, fn), "Arn"]},
            "Principal": "sns.amazonaws.com",
            "SourceArn": {"Ref": lid(stack, fan_out.topic)},
        }
    ]


def test_delivery_stream_subscription_has_its_role_raw_delivery_body_filter_and_redrive(pushed) -> None:
    stack, fan_out, _, stream, template = pushed
    subscription = resource(template, lid(stack, fan_out.subscriptions["Archive"]))
    role = fan_out.node.find_child("Archive").node.find_child("Role")
    assert subscription["Properties"] == {
        "Protocol": "firehose",
        "Endpoint": {"Fn::GetAtt": [lid(stack, stream), "Arn"]},
        "TopicArn": {"Ref": lid(stack, fan_out.topic)},
        "SubscriptionRoleArn": {"Fn::GetAtt": [lid(stack, role), "Arn"]},
        "RawMessageDelivery": True,
        "FilterPolicy": {"amount": [{"numeric": [">", 100]}]},
        "FilterPolicyScope": "MessageBody",
        "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": [lid(stack, fan_out.undeliverable_queue), "Arn"]}},
    }
    # SNS checks the role when it subscribes: the role's policy comes first.
    assert lid(stack, role.node.find_child("DefaultPolicy")) in subscription["DependsOn"]


def test_subscription_role_trusts_sns_and_may_only_write_to_this_delivery_stream(pushed) -> None:
    stack, fan_out, _, stream, template = pushed
    role = fan_out.node.find_child("Archive").node.find_child("Role")
    trust = resource(template, lid(stack, role))["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}}]
    policy = resource(template, lid(stack, role.node.find_child("DefaultPolicy")))["Properties"]
    assert policy["PolicyDocument"]["Statement"] == [
        {"Action": SNS_FIREHOSE_ACTIONS, "Effect": "Allow", "Resource": {"Fn::GetAtt": [lid(stack, stream), "Arn"]}}
    ]


def test_push_subscribers_are_in_subscriptions_not_subscribers(pushed) -> None:
    _, fan_out, _, _, template = pushed
    assert set(fan_out.subscriptions) == {"Notify", "Archive"}
    assert fan_out.subscribers == {}
    template.resource_count_is("AWS::SNS::Subscription", 2)


def test_a_function_of_another_stack_is_subscribed_from_its_own_stack(app_variant: str) -> None:
    """As add_existing_queue does for queues: the subscription and the invoke permission live beside the
    function, so only the function's stack depends on the topic's (the other way too would be a cycle)."""
    app = new_app(app_variant)
    topic_stack = cdk.Stack(app, "Topics", env=stack_env(app_variant))
    consumer_stack = cdk.Stack(app, "Consumers", env=stack_env(app_variant))
    fan_out = FanOut(topic_stack, "Orders")
    fn, stream = function(consumer_stack), delivery_stream(consumer_stack)
    fan_out.add_function("Notify", fn)
    fan_out.add_delivery_stream("Archive", stream)
    assert cdk.Stack.of(fan_out.subscriptions["Notify"]) is consumer_stack
    assert (
        fan_out.subscriptions["Notify"].node.path
        == f"Consumers/Notifier/{cdk.Names.node_unique_id(fan_out.node)}Notify/Subscription"
    )
    assert cdk.Stack.of(fan_out.subscriptions["Archive"]) is consumer_stack
    assert consumer_stack.dependencies == [topic_stack]
    assert topic_stack.dependencies == []
    consumers = Template.from_stack(consumer_stack)
    consumers.resource_count_is("AWS::SNS::Subscription", 2)
    consumers.resource_count_is("AWS::Lambda::Permission", 1)
    Template.from_stack(topic_stack).resource_count_is("AWS::SNS::Subscription", 0)


def test_an_imported_function_and_delivery_stream_can_subscribe() -> None:
    stack = new_stack("bare-bound")
    fan_out = FanOut(stack, "Orders")
    fn = lambda_.Function.from_function_arn(stack, "Fn", "arn:aws:lambda:eu-west-1:111111111111:function:notify")
    stream = firehose.DeliveryStream.from_delivery_stream_arn(
        stack, "Ds", "arn:aws:firehose:eu-west-1:111111111111:deliverystream/archive"
    )
    fan_out.add_function("Notify", fn)
    fan_out.add_delivery_stream("Archive", stream)
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::SNS::Subscription",
        {"Protocol": "lambda", "Endpoint": "arn:aws:lambda:eu-west-1:111111111111:function:notify"},
    )
    template.has_resource_properties(
        "AWS::SNS::Subscription",
        {"Protocol": "firehose", "Endpoint": "arn:aws:firehose:eu-west-1:111111111111:deliverystream/archive"},
    )
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": SNS_FIREHOSE_ACTIONS,
                        "Effect": "Allow",
                        "Resource": "arn:aws:firehose:eu-west-1:111111111111:deliverystream/archive",
                    }
                ]
            }
        },
    )


def test_a_stream_to_s3_bucket_is_fed_through_a_direct_put_delivery_stream() -> None:
    """The documented way to land topic messages in a StreamToS3's bucket: StreamToS3's own delivery stream
    reads Kinesis (refused, see test_bad_inputs), a DirectPut one writes beside it."""
    stack = new_stack()
    clicks = StreamToS3(stack, "Clicks")
    fan_out = FanOut(stack, "Orders")
    to_bucket = firehose.DeliveryStream(
        stack, "OrdersToS3", destination=firehose.S3Bucket(clicks.bucket, data_output_prefix="orders/")
    )
    fan_out.add_delivery_stream("Archive", to_bucket, raw_message_delivery=True)
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::KinesisFirehose::DeliveryStream",
        {
            "DeliveryStreamType": "DirectPut",
            "ExtendedS3DestinationConfiguration": {
                "BucketARN": {"Fn::GetAtt": [lid(stack, clicks.bucket), "Arn"]},
                "Prefix": "orders/",
            },
        },
    )
    template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "firehose", "Endpoint": {"Fn::GetAtt": [lid(stack, to_bucket), "Arn"]}}
    )
