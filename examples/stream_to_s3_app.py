"""StreamToS3: a clickstream sized from its expected load, with a second reader; a stream into an existing bucket."""

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from decoupling_constructs import AlarmTopic, StreamToS3, Throughput


class ClickstreamStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)
        alarms = AlarmTopic(self, "Alarms")
        # 2.4 MiB/s in 2,500 records/s, read by Firehose and one more application: 3 shards.
        clicks = StreamToS3(
            self,
            "Clicks",
            expected_throughput=Throughput(write_mib_per_s=2.4, records_per_s=2500, consumers=2),
            alarm_topic=alarms,
        )
        assert clicks.capacity_plan is not None and clicks.capacity_plan.shards == 3
        analytics = iam.Role(self, "Analytics", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        clicks.grant_read(analytics)  # the plan's second consumer

        # On demand, into a bucket the application already has (its policies stay the application's).
        archive = s3.Bucket(
            self,
            "Archive",
            enforce_ssl=True,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        StreamToS3(
            self,
            "AuditTrail",
            existing_bucket=archive,
            data_prefix="audit/!{timestamp:yyyy}/!{timestamp:MM}/",
            error_prefix="audit-errors/!{firehose:error-output-type}/",
            alarm_topic=alarms,
        )
        cdk.CfnOutput(self, "ClicksStreamName", value=clicks.stream.stream_name)
        cdk.CfnOutput(self, "ClicksBucketName", value=clicks.bucket.bucket_name)


if __name__ == "__main__":
    app = cdk.App()
    ClickstreamStack(app, "Clickstream")
    app.synth()
