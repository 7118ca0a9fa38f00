"""Behaviour of the moto test helper ``deploy_to_moto`` and its ``Deployment``: in-process moto and moto server.

Each small App is synthesized once per module (a Node round trip per App); every test deploys into a fresh moto.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import boto3
import pytest
from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs
from moto.server import ThreadedMotoServer

from decoupling_constructs.testing import (
    BOOTSTRAP_VERSION_PARAMETER,
    Deployment,
    UnsupportedResourceError,
    deploy_to_moto,
)


@dataclass
class Messaging:
    """A topic delivering to a queue (raw, filtered), an alarm on the queue, a KMS key, two outputs."""

    stack: cdk.Stack
    template: dict[str, Any]
    topic: sns.Topic
    queue: sqs.Queue
    alarm: cloudwatch.Alarm
    key: kms.Key

    def logical_id(self, construct: Any) -> str:
        return str(self.stack.resolve(self.stack.get_logical_id(construct.node.default_child)))

    def only(self, resource_type: str) -> tuple[str, dict[str, Any]]:
        (found,) = [(lid, r) for lid, r in self.template["Resources"].items() if r["Type"] == resource_type]
        return found


@dataclass
class Apps:
    messaging: Messaging
    unsupported: cdk.Stack
    secret_logical_id: str


@pytest.fixture(scope="module")
def apps() -> Apps:
    """One App (one synthesis) holding every stack of this module, default synthesizer, with CDK metadata."""
    app = cdk.App(analytics_reporting=True)

    stack = cdk.Stack(app, "HelperMessaging")
    topic = sns.Topic(stack, "Topic")
    queue = sqs.Queue(stack, "Queue")
    topic.add_subscription(
        subs.SqsSubscription(
            queue,
            raw_message_delivery=True,
            filter_policy={"color": sns.SubscriptionFilter.string_filter(allowlist=["red"])},
        )
    )
    alarm = cloudwatch.Alarm(
        stack,
        "Depth",
        metric=queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),
        threshold=5,
        evaluation_periods=2,
    )
    alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
    key = kms.Key(stack, "Key")
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowSnsToDecrypt",
            principals=[iam.ServicePrincipal("sns.amazonaws.com")],
            actions=["kms:Decrypt"],
            resources=["*"],
        )
    )
    cdk.CfnOutput(stack, "QueueUrl", value=queue.queue_url)
    cdk.CfnOutput(stack, "QueueArn", value=queue.queue_arn)

    unsupported = cdk.Stack(app, "HelperUnsupported")
    sqs.Queue(unsupported, "Fine")
    # A type moto's CloudFormation does not know and the helper does not complete.
    secret = cdk.CfnResource(unsupported, "Secret", type="AWS::Example::Unsupported", properties={"Name": "x"})

    assembly = app.synth()
    template = assembly.get_stack_artifact(stack.artifact_id).template
    return Apps(
        messaging=Messaging(stack, template, topic, queue, alarm, key),
        unsupported=unsupported,
        secret_logical_id=str(unsupported.resolve(secret.logical_id)),
    )


@pytest.fixture
def messaging(apps: Apps) -> Messaging:
    return apps.messaging


@pytest.fixture
def deployed(aws: None, messaging: Messaging) -> Deployment:
    return deploy_to_moto(messaging.stack)


# --- Safety ----------------------------------------------------------------------------------------------------------


def test_refuses_without_moto_and_never_calls_aws(monkeypatch: pytest.MonkeyPatch, messaging: Messaging) -> None:
    def no_aws(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"deploy_to_moto created a boto3 client without moto: {args}")

    monkeypatch.setattr(boto3, "client", no_aws)
    monkeypatch.setattr(boto3.session.Session, "client", no_aws)
    for target in (messaging.template, messaging.stack):
        with pytest.raises(RuntimeError, match="needs moto"):
            deploy_to_moto(target)


# --- Completing what moto skips --------------------------------------------------------------------------------------


def test_subscription_is_completed_and_delivers_raw_filtered_messages(
    deployed: Deployment, messaging: Messaging
) -> None:
    subscription_id, _ = messaging.only("AWS::SNS::Subscription")
    topic_arn = deployed.topic_arn(messaging.topic)
    assert subscription_id in deployed.completed
    assert deployed.completed[subscription_id].startswith(f"{topic_arn}:")
    assert deployed.physical_id(subscription_id) == deployed.completed[subscription_id]

    sns_client, sqs_client = deployed.client("sns"), deployed.client("sqs")
    (subscription,) = sns_client.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert subscription["Endpoint"] == deployed.queue_arn(messaging.queue)

    def publish(message: str, color: str) -> None:
        sns_client.publish(
            TopicArn=topic_arn,
            Message=message,
            MessageAttributes={"color": {"DataType": "String", "StringValue": color}},
        )

    publish("blue message", "blue")
    publish("red message", "red")
    received = sqs_client.receive_message(
        QueueUrl=deployed.queue_url(messaging.queue), MaxNumberOfMessages=10, WaitTimeSeconds=0
    ).get("Messages", [])
    assert [m["Body"] for m in received] == ["red message"]  # raw: the body is the message, not an SNS envelope


def test_queue_policy_is_set_on_the_queue(deployed: Deployment, messaging: Messaging) -> None:
    policy_id, _ = messaging.only("AWS::SQS::QueuePolicy")
    assert policy_id in deployed.completed
    attributes = deployed.client("sqs").get_queue_attributes(
        QueueUrl=deployed.queue_url(messaging.queue), AttributeNames=["Policy"]
    )["Attributes"]
    (statement,) = json.loads(attributes["Policy"])["Statement"]
    assert statement == {
        "Action": "sqs:SendMessage",
        "Condition": {"ArnEquals": {"aws:SourceArn": deployed.topic_arn(messaging.topic)}},
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Resource": deployed.queue_arn(messaging.queue),
    }


def test_alarm_is_completed_with_the_template_dimensions_and_topic_action(
    deployed: Deployment, messaging: Messaging
) -> None:
    alarm_id = messaging.logical_id(messaging.alarm)
    properties = messaging.template["Resources"][alarm_id]["Properties"]
    assert alarm_id in deployed.completed
    (alarm,) = deployed.client("cloudwatch").describe_alarms(AlarmNames=[deployed.physical_id(messaging.alarm)])[
        "MetricAlarms"
    ]
    assert [d["Name"] for d in properties["Dimensions"]] == ["QueueName"]
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": deployed.attribute(messaging.queue, "QueueName")}]
    assert alarm["Dimensions"][0]["Value"] == deployed.queue_url(messaging.queue).rsplit("/", 1)[-1]
    assert alarm["AlarmActions"] == [deployed.topic_arn(messaging.topic)]
    assert alarm["MetricName"] == properties["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["Threshold"] == properties["Threshold"] == 5
    assert alarm["EvaluationPeriods"] == properties["EvaluationPeriods"] == 2
    assert alarm["ComparisonOperator"] == properties["ComparisonOperator"]


def test_kms_key_policy_is_fixed_so_describe_key_works(deployed: Deployment, messaging: Messaging) -> None:
    kms_client = deployed.client("kms")
    key_id = deployed.physical_id(messaging.key)
    metadata = kms_client.describe_key(KeyId=key_id)["KeyMetadata"]
    assert metadata["KeyId"] == key_id
    assert metadata["Arn"] == deployed.attribute(messaging.key, "Arn")

    expected = copy.deepcopy(messaging.template["Resources"][messaging.logical_id(messaging.key)]["Properties"])
    expected = expected["KeyPolicy"]
    expected["Statement"][0]["Principal"]["AWS"] = f"arn:aws:iam::{deployed.account}:root"  # the resolved Fn::Join
    policy = kms_client.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]
    assert json.loads(policy) == expected
    assert [s.get("Sid") for s in expected["Statement"]] == [None, "AllowSnsToDecrypt"]


def test_unsupported_resource_is_named_in_the_error(aws: None, apps: Apps) -> None:
    with pytest.raises(UnsupportedResourceError) as raised:
        deploy_to_moto(apps.unsupported)
    unsupported_part = str(raised.value).split("Completed types")[0]
    assert f"{apps.secret_logical_id} (AWS::Example::Unsupported)" in unsupported_part
    assert "CDKMetadata" not in unsupported_part and "AWS::SQS::Queue" not in unsupported_part


def test_cdk_metadata_is_tolerated(deployed: Deployment, messaging: Messaging) -> None:
    assert messaging.template["Resources"]["CDKMetadata"]["Type"] == "AWS::CDK::Metadata"
    assert "CDKMetadata" not in deployed.resources
    assert "CDKMetadata" not in deployed.completed
    with pytest.raises(KeyError, match=r"AWS::CDK::Metadata"):
        deployed.physical_id("CDKMetadata")


# --- Deployment lookups ----------------------------------------------------------------------------------------------


def test_lookups_accept_an_l2_its_l1_and_a_logical_id(deployed: Deployment, messaging: Messaging) -> None:
    sqs_client, sns_client = deployed.client("sqs"), deployed.client("sns")
    queue_id, topic_id = messaging.logical_id(messaging.queue), messaging.logical_id(messaging.topic)
    queue_url = sqs_client.get_queue_url(QueueName=deployed.attribute(queue_id, "QueueName"))["QueueUrl"]
    queue_arn = sqs_client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    (topic_arn,) = [t["TopicArn"] for t in sns_client.list_topics()["Topics"]]

    for queue in (messaging.queue, messaging.queue.node.default_child, queue_id):
        assert deployed.logical_id(queue) == queue_id
        assert deployed.physical_id(queue) == queue_url
        assert deployed.queue_url(queue) == queue_url
        assert deployed.queue_arn(queue) == queue_arn
        assert deployed.attribute(queue, "Arn") == queue_arn
    for topic in (messaging.topic, messaging.topic.node.default_child, topic_id):
        assert deployed.logical_id(topic) == topic_id
        assert deployed.topic_arn(topic) == topic_arn
        assert deployed.physical_id(topic) == topic_arn
    assert deployed.resources[queue_id] == queue_url


def test_wrong_logical_id_raises_key_error(deployed: Deployment) -> None:
    for lookup in (deployed.logical_id, deployed.physical_id, deployed.queue_url, deployed.topic_arn):
        with pytest.raises(KeyError, match="NoSuchQueue"):
            lookup("NoSuchQueue")
    with pytest.raises(KeyError, match="NoSuchQueue"):
        deployed.attribute("NoSuchQueue", "Arn")


def test_template_deployment_works_by_logical_id_only(aws: None, messaging: Messaging) -> None:
    deployment = deploy_to_moto(messaging.template, stack_name="FromTemplate")
    assert deployment.stack_name == "FromTemplate"
    queue_id = messaging.logical_id(messaging.queue)
    url = deployment.queue_url(queue_id)
    assert url.endswith("/" + deployment.attribute(queue_id, "QueueName"))
    deployment.client("sqs").send_message(QueueUrl=url, MessageBody="x")
    assert deployment.topic_arn(messaging.logical_id(messaging.topic)).startswith("arn:aws:sns:us-east-1:")
    for construct in (messaging.queue, messaging.queue.node.default_child):
        with pytest.raises(TypeError, match="logical id"):
            deployment.queue_url(construct)


# --- Outputs and parameters ------------------------------------------------------------------------------------------


def test_outputs_are_resolved(deployed: Deployment, messaging: Messaging) -> None:
    assert messaging.template["Outputs"]["QueueArn"]["Value"] == {
        "Fn::GetAtt": [messaging.logical_id(messaging.queue), "Arn"]
    }
    assert deployed.outputs == {
        "QueueUrl": deployed.queue_url(messaging.queue),
        "QueueArn": deployed.queue_arn(messaging.queue),
    }
    assert deployed.outputs["QueueArn"] == f"arn:aws:sqs:us-east-1:{deployed.account}:" + deployed.attribute(
        messaging.queue, "QueueName"
    )


def test_default_synthesizer_bootstrap_version_parameter_is_provided(aws: None, messaging: Messaging) -> None:
    parameter = messaging.template["Parameters"]["BootstrapVersion"]
    assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
    assert parameter["Default"] == BOOTSTRAP_VERSION_PARAMETER

    deployment = deploy_to_moto(messaging.stack)

    stored = deployment.client("ssm").get_parameter(Name=BOOTSTRAP_VERSION_PARAMETER)["Parameter"]["Value"]
    assert int(stored) >= 6  # CDK's rules reject bootstrap versions below 6
    assert deployment.queue_url(messaging.queue)


def test_existing_bootstrap_version_parameter_is_kept(aws: None, messaging: Messaging) -> None:
    boto3.client("ssm").put_parameter(Name=BOOTSTRAP_VERSION_PARAMETER, Value="21", Type="String")
    deployment = deploy_to_moto(messaging.stack)
    assert deployment.client("ssm").get_parameter(Name=BOOTSTRAP_VERSION_PARAMETER)["Parameter"]["Value"] == "21"


# --- moto server -----------------------------------------------------------------------------------------------------


@pytest.fixture
def moto_server() -> Iterator[str]:
    """A moto server on 127.0.0.1 (never a public interface) and a free port; always stopped."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        assert host == "127.0.0.1"
        # localhost, not 127.0.0.1: moto's CloudFormation reads path-style S3 URLs only for that host name.
        yield f"http://localhost:{port}"
    finally:
        server.stop()


def test_reference_queue_stack_deploys_to_a_moto_server(
    moto_server: str, reference_stacks: dict[str, cdk.Stack]
) -> None:
    stack = reference_stacks["DecouplingReliableQueue"]
    deployment = deploy_to_moto(stack, endpoint_url=moto_server)
    assert deployment.endpoint_url == moto_server

    sqs_client = deployment.client("sqs")
    assert sqs_client.meta.endpoint_url == moto_server
    url = deployment.queue_url(stack.jobs.queue)  # type: ignore[attr-defined]
    assert deployment.outputs["JobsQueueUrl"] == url
    sqs_client.send_message(QueueUrl=url, MessageBody="through the server")
    messages = sqs_client.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert [m["Body"] for m in messages] == ["through the server"]
