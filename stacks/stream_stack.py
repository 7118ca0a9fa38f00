"""Reference stack for StreamToS3: a clickstream sized from its expected load, and one into an existing bucket."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from decoupling_constructs import AlarmTopic, StreamToS3, Throughput
from decoupling_constructs._security import acknowledge_checkov

# 2,500 events/s of ~1 KiB: 2.4 MiB/s of writes, read by 2 consumers: Firehose and one analytics consumer
# (``analytics_consumer``, granted with ``grant_read``).
CLICKSTREAM = Throughput(write_mib_per_s=2.4, records_per_s=2500, consumers=2)


def hardened_bucket(scope: Construct, construct_id: str, **options: Any) -> s3.Bucket:
    """A bucket as the application that already owns one would have it: private, TLS-only, versioned, kept."""
    return s3.Bucket(
        scope,
        construct_id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        encryption=s3.BucketEncryption.S3_MANAGED,
        versioned=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
        **options,
    )


def logged_bucket(scope: Construct, construct_id: str, logs_id: str, purpose: str, prefix: str) -> s3.Bucket:
    """A :func:`hardened_bucket` whose server access logs go under ``prefix`` in a hardened bucket ``logs_id`` (which
    does not log into itself, acknowledged for cdk-nag and checkov); ``purpose`` names the bucket in that reason."""
    logs_bucket = hardened_bucket(scope, logs_id)
    no_self_logging = (
        f"This is the server-access-log bucket of the {purpose} bucket; logging its own accesses "
        "into itself would log every log delivery, without end."
    )
    cdk.Validations.of(logs_bucket).acknowledge(cdk.Acknowledgment(id="AwsSolutions-S1", reason=no_self_logging))
    acknowledge_checkov(logs_bucket, "CKV_AWS_18", no_self_logging)
    return hardened_bucket(scope, construct_id, server_access_logs_bucket=logs_bucket, server_access_logs_prefix=prefix)


class StreamToS3Stack(cdk.Stack):
    """``clickstream``: provisioned from ``CLICKSTREAM`` into a bucket it creates, read by Firehose and by
    ``analytics_consumer`` (the role of the plan's second consumer).
    ``audit_trail``: on-demand, delivered into a bucket that exists already (here: made in this stack)."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description="decoupling-constructs: StreamToS3 reference", **kwargs)
        alarms = AlarmTopic(self, "Alarms")
        self.clickstream = StreamToS3(self, "Clickstream", expected_throughput=CLICKSTREAM, alarm_topic=alarms.topic)
        self.analytics_consumer = iam.Role(
            self,
            "AnalyticsConsumer",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="The clickstream's second consumer (CLICKSTREAM plans for 2): reads the stream",
        )
        self.clickstream.grant_read(self.analytics_consumer)

        self.archive = logged_bucket(self, "Archive", "ArchiveAccessLogs", "archive", "archive/")
        self.audit_trail = StreamToS3(
            self,
            "AuditTrail",
            existing_bucket=self.archive,
            data_prefix="audit/!{timestamp:yyyy}/!{timestamp:MM}/",
            error_prefix="audit-errors/!{firehose:error-output-type}/",
            alarm_topic=alarms.topic,
        )
        for name, pipeline in (("Clickstream", self.clickstream), ("AuditTrail", self.audit_trail)):
            cdk.CfnOutput(self, f"{name}StreamName", value=pipeline.stream.stream_name)
            cdk.CfnOutput(self, f"{name}DeliveryStreamName", value=pipeline.delivery_stream.delivery_stream_name)
            cdk.CfnOutput(self, f"{name}BucketName", value=pipeline.bucket.bucket_name)
