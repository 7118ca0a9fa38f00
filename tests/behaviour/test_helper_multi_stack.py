"""The test helper on users' own multi-stack apps: Fn::ImportValue across stacks, a failed deploy that leaves
nothing behind, and a stack bound to another account. In-process moto; one App (one synthesis) per module."""

from __future__ import annotations

import json
from dataclasses import dataclass

import aws_cdk as cdk
import boto3
import pytest
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from botocore.exceptions import ClientError

from decoupling_constructs.testing import (
    BOOTSTRAP_VERSION,
    BOOTSTRAP_VERSION_PARAMETER,
    UnsupportedResourceError,
    VerificationError,
    deploy_to_moto,
    verify,
)

OTHER_ACCOUNT = "111111111111"
MOTO_ACCOUNT = "123456789012"


@dataclass
class Apps:
    producer: cdk.Stack
    queue: sqs.Queue
    consumer: cdk.Stack
    queue_arn_export: str
    bound: cdk.Stack
    broken: dict
    fixed: dict


@pytest.fixture(scope="module")
def apps() -> Apps:
    app = cdk.App()
    producer = cdk.Stack(app, "Producer")
    queue = sqs.Queue(producer, "Queue", visibility_timeout=cdk.Duration.seconds(45))
    cdk.CfnOutput(producer, "QueueArn", value=queue.queue_arn, export_name="producer-queue-arn")

    consumer = cdk.Stack(app, "Consumer")
    topic = sns.Topic(consumer, "Topic")
    # A subscription (moto skips it; the helper completes it) whose endpoint is another stack's export.
    sns.CfnSubscription(
        consumer,
        "Subscription",
        topic_arn=topic.topic_arn,
        protocol="sqs",
        endpoint=cdk.Fn.import_value("producer-queue-arn"),
    )
    cdk.CfnOutput(consumer, "Imported", value=cdk.Fn.import_value("producer-queue-arn"))

    bound = cdk.Stack(app, "Bound", env=cdk.Environment(account=OTHER_ACCOUNT, region="us-east-1"))
    bound_queue = sqs.Queue(bound, "Queue")
    cdk.CfnOutput(bound, "QueueArn", value=bound_queue.queue_arn)

    # An alarm (completed first) and then a subscription to a topic that does not exist: completion fails halfway.
    alarm = {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": "half-deployed",
            "MetricName": "M",
            "Namespace": "N",
            "Statistic": "Sum",
            "Period": 60,
            "EvaluationPeriods": 1,
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanThreshold",
        },
    }
    broken = {
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "users-queue"}},
            "Alarm": alarm,
            "Subscription": {
                "Type": "AWS::SNS::Subscription",
                "Properties": {
                    "TopicArn": "arn:aws:sns:us-east-1:123456789012:no-such-topic",
                    "Protocol": "sqs",
                    "Endpoint": {"Fn::GetAtt": ["Queue", "Arn"]},
                },
            },
        }
    }
    fixed = {"Resources": {"Queue": broken["Resources"]["Queue"], "Alarm": alarm}}
    return Apps(
        producer=producer,
        queue=queue,
        consumer=consumer,
        queue_arn_export="producer-queue-arn",
        bound=bound,
        broken=broken,
        fixed=fixed,
    )


def test_import_value_resolves_another_stacks_export(aws: None, apps: Apps) -> None:
    producer = deploy_to_moto(apps.producer)
    consumer = deploy_to_moto(apps.consumer)
    queue_arn = producer.outputs["QueueArn"]
    assert consumer.outputs["Imported"] == queue_arn
    subscription_arn = consumer.physical_id("Subscription")
    attributes = consumer.client("sns").get_subscription_attributes(SubscriptionArn=subscription_arn)["Attributes"]
    assert attributes["Endpoint"] == queue_arn


def test_import_value_of_a_missing_export_names_it(aws: None, apps: Apps) -> None:
    with pytest.raises(UnsupportedResourceError, match="Fn::ImportValue 'producer-queue-arn' in Consumer: no stack"):
        deploy_to_moto(apps.consumer)


def test_a_failed_deploy_leaves_nothing_behind_and_the_next_one_succeeds(aws: None, apps: Apps) -> None:
    with pytest.raises(ClientError, match=r"NotFound"):
        deploy_to_moto(apps.broken, stack_name="UsersStack")
    cloudformation = boto3.client("cloudformation")
    live = [s for s in cloudformation.list_stacks()["StackSummaries"] if s["StackStatus"] != "DELETE_COMPLETE"]
    assert [s["StackName"] for s in live] == []
    assert boto3.client("cloudwatch").describe_alarms(AlarmNames=["half-deployed"])["MetricAlarms"] == []

    deployment = deploy_to_moto(apps.fixed, stack_name="UsersStack")  # no AlreadyExists
    assert deployment.physical_id("Alarm") == "half-deployed"


def test_a_stack_bound_to_another_account_is_refused(aws: None, apps: Apps) -> None:
    with pytest.raises(
        ValueError, match=f"bound to account {OTHER_ACCOUNT}, but the emulator is account {MOTO_ACCOUNT}"
    ):
        deploy_to_moto(apps.bound)


def test_a_stack_bound_to_another_account_can_be_mapped_explicitly(aws: None, apps: Apps) -> None:
    deployment = deploy_to_moto(apps.bound, map_account=True)
    assert deployment.outputs["QueueArn"].split(":")[4] == MOTO_ACCOUNT
    assert OTHER_ACCOUNT not in str(deployment.template)


def test_verify_reports_a_changed_queue_attribute_as_a_mismatch(aws: None, apps: Apps) -> None:
    deployment = deploy_to_moto(apps.producer)
    assert verify(deployment).mismatches == []
    url = deployment.queue_url(apps.queue)
    deployment.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "7"})
    with pytest.raises(VerificationError, match="VisibilityTimeout") as raised:
        verify(deployment)
    (mismatch,) = raised.value.report.mismatches
    assert (mismatch.property, mismatch.expected, mismatch.actual) == ("VisibilityTimeout", 45, "7")


def test_a_stack_that_exists_already_is_left_alone(aws: None, apps: Apps) -> None:
    first = deploy_to_moto(apps.fixed, stack_name="UsersStack")
    with pytest.raises(ClientError, match="AlreadyExists"):
        deploy_to_moto(apps.fixed, stack_name="UsersStack")
    stacks = boto3.client("cloudformation").describe_stacks(StackName="UsersStack")["Stacks"]
    assert [s["StackStatus"] for s in stacks] == ["CREATE_COMPLETE"]
    assert first.client("sqs").get_queue_url(QueueName="users-queue")["QueueUrl"]


def test_an_export_of_a_stack_deployed_by_change_set_is_read_from_its_template(aws: None, apps: Apps) -> None:
    """moto keeps no Outputs (so no exports) for a stack created through a change set, as `cdk deploy` does: the
    importing stack's Fn::ImportValue resolves from the exporting stack's template instead of failing with a
    message that blames the user ("deploy the exporting stack first")."""
    cloudformation = boto3.client("cloudformation")
    template = cdk.Stage.of(apps.producer).synth().get_stack_artifact(apps.producer.artifact_id).template
    boto3.client("ssm").put_parameter(Name=BOOTSTRAP_VERSION_PARAMETER, Value=BOOTSTRAP_VERSION, Type="String")
    cloudformation.create_change_set(
        StackName="Producer", ChangeSetName="cdk", ChangeSetType="CREATE", TemplateBody=json.dumps(template)
    )
    cloudformation.execute_change_set(StackName="Producer", ChangeSetName="cdk")
    exports = [e["Name"] for e in cloudformation.list_exports()["Exports"]]
    assert apps.queue_arn_export not in exports  # what moto does, and why the helper reads templates

    consumer = deploy_to_moto(apps.consumer)
    queue_url = cloudformation.describe_stack_resources(StackName="Producer")["StackResources"]
    (queue,) = [r for r in queue_url if r["ResourceType"] == "AWS::SQS::Queue"]
    queue_arn = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue["PhysicalResourceId"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    assert consumer.outputs["Imported"] == queue_arn
