"""Reference stack for the consumer constructs: QueueFunction on a standard and on a FIFO queue, StreamFunction on a
Kinesis stream."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from decoupling_constructs import AlarmTopic, QueueFunction, StreamFunction
from decoupling_constructs._security import acknowledge_checkov

# The README's handlers, deployed as they are (inline code: no asset bucket, and Lambda's ZipFile takes up to 4 KB).
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
HANDLER_FILE = EXAMPLES / "queue_function_handler.py"
STREAM_HANDLER_FILE = EXAMPLES / "stream_function_handler.py"
HANDLER_TIMEOUT = Duration.seconds(20)
# Powertools for AWS Lambda (Python) publishes its layer's ARN per version and Python in public SSM parameters
# ("Install: Lambda Layer" in the Powertools docs); the version pinned in requirements-dev.txt, so the handler
# deployed is the handler tested.
POWERTOOLS_VERSION = "3.37.0"
POWERTOOLS_LAYER_PARAMETER = f"/aws/service/powertools/python/x86_64/python3.13/{POWERTOOLS_VERSION}"


# The handlers' log groups (checkov CKV_AWS_158), here and in the FanOut stack's notifier.
LAMBDA_LOGS_REASON = (
    "CloudWatch Logs encrypts every log group at rest with its own keys; this one holds a handler's log lines, "
    "no message bodies; the library's log groups use a customer-managed key only when given one."
)


class ConsumerStack(cdk.Stack):
    """``Shipments``: a standard queue consumed by a Lambda, batches of up to 10 in a 5-second window, at most
    5 concurrent invocations. ``Invoices``: a FIFO queue consumed in order, per message group, also at most 5 at
    once. Both functions run the README's Powertools handler and report failed messages one by one. ``Clicks``: a
    one-shard Kinesis stream (encrypted with the AWS-managed key) read by a Lambda with the README's Powertools
    Kinesis handler, two batches per shard at once, failed records bisected, retried 3 times, then recorded in its
    on-failure queue. All alarms go to one topic.

    ``powertools_layer=False`` leaves the Powertools layer out, for an emulator whose Lambda runs on its own
    interpreter with Powertools installed (MiniStack); on AWS the layer is needed."""

    def __init__(self, scope: Construct, construct_id: str, *, powertools_layer: bool = True, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description="decoupling-constructs: consumer reference", **kwargs)
        alarms = AlarmTopic(self, "Alarms")
        layers = (
            [
                lambda_.LayerVersion.from_layer_version_arn(
                    self,
                    "PowertoolsLayer",
                    cdk.CfnDynamicReference(cdk.CfnDynamicReferenceService.SSM, POWERTOOLS_LAYER_PARAMETER).to_string(),
                )
            ]
            if powertools_layer
            else []
        )
        self.shipments = QueueFunction(
            self,
            "Shipments",
            function=self._handler("ShipmentsHandler", layers),
            batch_size=10,
            max_batching_window=Duration.seconds(5),
            max_concurrency=5,
            alarm_topic=alarms.topic,
        )
        self.invoices = QueueFunction(
            self,
            "Invoices",
            function=self._handler("InvoicesHandler", layers),
            fifo=True,
            queue_props={"content_based_deduplication": True, "max_receive_count": 3},
            max_concurrency=5,
            alarm_topic=alarms.topic,
        )
        clicks = kinesis.Stream(self, "ClickStream", shard_count=1, encryption=kinesis.StreamEncryption.MANAGED)
        self.clicks = StreamFunction(
            self,
            "Clicks",
            function=self._handler("ClicksHandler", layers, STREAM_HANDLER_FILE),
            stream=clicks,
            parallelization_factor=2,
            alarm_topic=alarms.topic,
        )
        cdk.CfnOutput(self, "ClickStreamName", value=clicks.stream_name)
        cdk.CfnOutput(self, "ClicksOnFailureQueueUrl", value=self.clicks.queue.queue_url)
        cdk.CfnOutput(self, "ClicksFunctionName", value=self.clicks.function.function_name)
        for name, consumer in (("Shipments", self.shipments), ("Invoices", self.invoices)):
            cdk.CfnOutput(self, f"{name}QueueUrl", value=consumer.queue.queue_url)
            cdk.CfnOutput(self, f"{name}DeadLetterQueueUrl", value=consumer.reliable_queue.dead_letter_queue.queue_url)
            cdk.CfnOutput(self, f"{name}FunctionName", value=consumer.function.function_name)
        cdk.CfnOutput(self, "AlarmTopicArn", value=alarms.topic.topic_arn)

    def _handler(
        self, construct_id: str, layers: list[lambda_.ILayerVersion], handler_file: Path = HANDLER_FILE
    ) -> lambda_.Function:
        """The handler with a role of its own (see :func:`handler_function`), the source's read grant from
        QueueFunction or StreamFunction."""
        function = handler_function(
            self,
            construct_id,
            lambda_.Code.from_inline(handler_file.read_text()),
            layers=layers,
            reaches="Lambda's event source mapping polls its queue or stream",
        )
        cdk.Validations.of(function).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-L1",
                reason=f"python3.13 on purpose: the Powertools layer is resolved from {POWERTOOLS_LAYER_PARAMETER}, "
                "built for python3.13 and the version the handler is tested with; move runtime and layer together.",
            )
        )
        return function


def handler_function(
    scope: Construct,
    construct_id: str,
    code: lambda_.Code,
    *,
    reaches: str,
    layers: list[lambda_.ILayerVersion] | None = None,
    timeout: Duration = HANDLER_TIMEOUT,
) -> lambda_.Function:
    """A reference handler (python3.13, ``index.handler``) with a role of its own: its log group's write grant
    instead of the broad AWSLambdaBasicExecutionRole managed policy; ``reaches`` says for checkov what calls it."""
    log_group = logs.LogGroup(scope, f"{construct_id}Logs", retention=logs.RetentionDays.ONE_MONTH)
    role = iam.Role(scope, f"{construct_id}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    log_group.grant_write(role)
    function = lambda_.Function(
        scope,
        construct_id,
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=code,
        timeout=timeout,
        memory_size=256,
        role=role,
        log_group=log_group,
        layers=layers,
    )
    # aws-cdk-lib makes the function depend on the whole role; the Role itself is already a GetAtt
    # dependency (cfn-lint W3005), the policy granting the log group is not.
    policy = role.node.find_child("DefaultPolicy").node.default_child
    assert isinstance(policy, cdk.CfnResource)
    function_resource = function.node.default_child
    assert isinstance(function_resource, cdk.CfnResource)
    function_resource.add_override("DependsOn", [cdk.Stack.of(scope).get_logical_id(policy)])
    acknowledge_checkov(
        function,
        "CKV_AWS_117",
        f"The handler reaches nothing private: {reaches}, its logs go to CloudWatch Logs; a VPC would add a NAT "
        "gateway or interface endpoints and reach nothing more.",
    )
    acknowledge_checkov(log_group, "CKV_AWS_158", LAMBDA_LOGS_REASON)
    return function
