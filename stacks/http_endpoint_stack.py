"""Reference stack for StreamToHttpEndpoint: a Kinesis stream delivered to a team's own HTTPS endpoint, its access
key held in Secrets Manager, failed batches backed up into a bucket the application owns."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from decoupling_constructs import AlarmTopic, StreamToHttpEndpoint, Throughput
from decoupling_constructs._security import acknowledge_checkov

from .stream_stack import logged_bucket

# The endpoint the records go to: a team's own receiver (for example decoupling_constructs.runtime's
# FirehoseHttpReceiver behind a Function URL). Firehose POSTs to HTTPS on port 443 only.
ENDPOINT_URL = "https://ingest.example.com/firehose"
# 200 events/s of ~1 KiB, read by Firehose only.
EVENTS = Throughput(write_mib_per_s=0.2, records_per_s=200, consumers=1)
# Sent with every request (X-Amz-Firehose-Common-Attributes).
COMMON_ATTRIBUTES = {"source": "decoupling-reference", "environment": "reference"}
SECRET_ROTATION_REASON = (
    "The secret holds the access key the HTTP endpoint's owner issues; it is rotated when they issue a new one "
    "(the receiver accepts the old and the new key while both are current), not by a Secrets Manager rotation "
    "function, which could not change the key on the endpoint's side."
)

SECRET_KEY_REASON = (
    "The secret is encrypted with Secrets Manager's AWS-managed key (aws/secretsmanager); Firehose reads it "
    "with the delivery role, which needs no key grant for it."
)


class StreamToHttpEndpointStack(cdk.Stack):
    """``events``: a provisioned stream sized from ``EVENTS``, delivered GZIP-compressed to ``ENDPOINT_URL`` with
    the key in ``access_key`` (a Secrets Manager secret); failed batches go to ``backups`` (a bucket the
    application already owns, hardened)."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(
            scope, construct_id, description="decoupling-constructs: StreamToHttpEndpoint reference", **kwargs
        )
        alarms = AlarmTopic(self, "Alarms")
        self.access_key = secretsmanager.Secret(
            self,
            "EndpointAccessKey",
            description='The HTTP endpoint\'s access key, as Firehose reads it: {"api_key": "..."}',
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template="{}", generate_string_key="api_key"
            ),
        )
        acknowledge_checkov(self.access_key, "CKV_AWS_149", SECRET_KEY_REASON)
        cdk.Validations.of(self.access_key).acknowledge(
            cdk.Acknowledgment(id="AwsSolutions-SMG4", reason=SECRET_ROTATION_REASON)
        )
        self.backups = logged_bucket(self, "Backups", "BackupAccessLogs", "backup", "backups/")
        self.events = StreamToHttpEndpoint(
            self,
            "Events",
            url=ENDPOINT_URL,
            access_key=self.access_key,
            endpoint_name="Reference receiver",
            common_attributes=COMMON_ATTRIBUTES,
            buffering_interval=cdk.Duration.seconds(60),
            retry_duration=cdk.Duration.minutes(10),
            backup_bucket=self.backups,
            expected_throughput=EVENTS,
            alarm_topic=alarms.topic,
        )
        assert self.events.stream is not None
        cdk.CfnOutput(self, "StreamName", value=self.events.stream.stream_name)
        cdk.CfnOutput(self, "DeliveryStreamName", value=self.events.delivery_stream.ref)
        cdk.CfnOutput(self, "BackupBucketName", value=self.backups.bucket_name)
        cdk.CfnOutput(self, "AccessKeySecretArn", value=self.access_key.secret_arn)
