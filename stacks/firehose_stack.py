"""Reference stack for Firehose transforms: SNS -> Firehose (transformed, partitioned) -> S3, and a StreamToS3 whose
delivery runs the same transform and also partitions by a JQ extraction.

The transform is the docs' handler (examples/firehose_transform_handler.py: the runtime's ``firehose_transform``),
deployed as it is, beside the library's runtime (``decoupling_constructs.streams.transform_code``, a CDK asset).

Its own stack, not FanOut's or StreamToS3's: those two are also deployed into moto, whose CloudFormation cannot fetch
a Lambda's code from a CDK asset (nothing uploads it there); this one goes to MiniStack by `cdk deploy` only.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import Duration
from constructs import Construct

from decoupling_constructs import AlarmTopic, FanOut, LambdaTransform, StreamToS3
from decoupling_constructs._security import acknowledge_checkov
from decoupling_constructs.streams import transform_code

from .consumer_stack import EXAMPLES, handler_function
from .fan_out_stack import archive_delivery_stream

TRANSFORM_HANDLER_FILE = EXAMPLES / "firehose_transform_handler.py"
# SNS -> Firehose: clicks partitioned by the page the transform returns as a Lambda partition key.
CLICKS_PREFIX = "clicks/page=!{partitionKeyFromLambda:page}/"
CLICKS_ERROR_PREFIX = "clicks-errors/!{firehose:error-output-type}/"
# Kinesis -> Firehose (StreamToS3): the same transform, and a JQ extraction of its output's ``user``.
VIEWS_PREFIX = "views/page=!{partitionKeyFromLambda:page}/user=!{partitionKeyFromQuery:user}/"
VIEWS_ERROR_PREFIX = "views-errors/!{firehose:error-output-type}/"
VIEWS_PARTITION_BY = {"user": ".user"}
TRANSFORM_TIMEOUT = Duration.minutes(1)  # Firehose allows at most 5


class FirehoseTransformStack(cdk.Stack):
    """``clicks``: a FanOut topic whose subscriber is a Direct PUT delivery stream (raw delivery) that runs
    ``transform`` on each batch and writes under ``CLICKS_PREFIX`` (dynamic partitioning by the Lambda key
    ``page``); bot clicks are dropped, records that are not clicks fail (``CLICKS_ERROR_PREFIX``).
    ``views``: a StreamToS3 whose delivery runs the same transform, partitioned by ``page`` and by ``user``
    extracted with JQ. One function serves both, granted to each delivery role."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(
            scope, construct_id, description="decoupling-constructs: Firehose transform reference", **kwargs
        )
        alarms = AlarmTopic(self, "Alarms")
        self.transform_function = handler_function(
            self,
            "ClickTransform",
            transform_code(TRANSFORM_HANDLER_FILE),
            reaches="Firehose invokes it synchronously with each buffered batch",
            timeout=TRANSFORM_TIMEOUT,
        )
        cdk.Validations.of(self.transform_function).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-L1",
                reason="python3.13, the newest Python the handler and the library's runtime are tested on; the "
                "code is bundled with the runtime it imports, so runtime and bundle move together.",
            )
        )
        acknowledge_checkov(
            self.transform_function,
            "CKV_AWS_116",
            "Firehose invokes the transform synchronously and retries a failed batch itself, then writes its records "
            "under the error prefix (processing-failed); a function DLQ receives asynchronous invocations only.",
        )
        acknowledge_checkov(
            self.transform_function,
            "CKV_AWS_115",
            "Firehose bounds its own invocations (one per buffered batch and shard or partition); reserved "
            "concurrency would come out of the account's unreserved pool, of which Lambda keeps 100.",
        )
        self.click_transform = LambdaTransform(self.transform_function, partition_keys=["page"])

        self.clicks = FanOut(self, "Clicks", alarm_topic=alarms.topic)
        self.clicks_bucket, self.clicks_delivery = archive_delivery_stream(
            self,
            "ClickLake",
            data_prefix=CLICKS_PREFIX,
            error_prefix=CLICKS_ERROR_PREFIX,
            transform=self.click_transform,
            purpose="the click lake's",
        )
        self.clicks.add_delivery_stream("Lake", self.clicks_delivery, raw_message_delivery=True)

        self.views = StreamToS3(
            self,
            "Views",
            transform=self.click_transform,
            dynamic_partitioning=True,
            partition_by=VIEWS_PARTITION_BY,
            data_prefix=VIEWS_PREFIX,
            error_prefix=VIEWS_ERROR_PREFIX,
            buffering_interval=Duration.seconds(60),
            alarm_topic=alarms.topic,
        )

        cdk.CfnOutput(self, "ClicksTopicArn", value=self.clicks.topic.topic_arn)
        cdk.CfnOutput(self, "ClicksDeliveryStreamName", value=self.clicks_delivery.delivery_stream_name)
        cdk.CfnOutput(self, "ClicksBucketName", value=self.clicks_bucket.bucket_name)
        cdk.CfnOutput(self, "ViewsStreamName", value=self.views.stream.stream_name)
        cdk.CfnOutput(self, "ViewsBucketName", value=self.views.bucket.bucket_name)
        cdk.CfnOutput(self, "TransformFunctionName", value=self.transform_function.function_name)
