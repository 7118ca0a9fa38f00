"""FanOut to Firehose with a Lambda transform: topic messages (raw) into a Direct PUT delivery stream that transforms
them and partitions them by page. ``apply_processing`` renders the transform on any delivery stream (every setting,
retries 0 included) and lets the delivery role invoke it."""

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import Duration, Size
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from decoupling_constructs import AlarmTopic, FanOut, LambdaTransform
from decoupling_constructs.streams import apply_processing, transform_code

HANDLER = Path(__file__).parent / "firehose_transform_handler.py"


class ClickLakeStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)
        clicks = FanOut(self, "Clicks", alarm_topic=AlarmTopic(self, "Alarms"))
        function = lambda_.Function(
            self,
            "Transform",
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="index.handler",
            code=transform_code(HANDLER),
            timeout=Duration.minutes(1),
        )
        bucket = s3.Bucket(
            self,
            "Lake",
            enforce_ssl=True,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        role = iam.Role(self, "DeliveryRole", assumed_by=iam.ServicePrincipal("firehose.amazonaws.com"))
        lake = firehose.DeliveryStream(
            self,
            "LakeStream",
            destination=firehose.S3Bucket(
                bucket,
                role=role,
                data_output_prefix="clicks/",  # the static part: the partitioned prefix is set below
                error_output_prefix="clicks-errors/!{firehose:error-output-type}/",
                buffering_size=Size.mebibytes(64),  # dynamic partitioning: at least 64 MiB and 60 s
                buffering_interval=Duration.seconds(60),
            ),
            encryption=firehose.StreamEncryption.aws_owned_key(),
            role=role,
        )
        # The transform (every setting, retries 0 included, the role's grant) and dynamic partitioning, which can
        # only be set when the delivery stream is created.
        apply_processing(
            lake,
            self,
            LambdaTransform(function, retries=0, partition_keys=["page"]),
            role,
            partitioned_prefix="clicks/page=!{partitionKeyFromLambda:page}/",
        )
        clicks.add_delivery_stream("Lake", lake, raw_message_delivery=True)


if __name__ == "__main__":
    app = cdk.App()
    ClickLakeStack(app, "ClickLake")
    app.synth()
