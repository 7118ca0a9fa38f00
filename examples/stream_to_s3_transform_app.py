"""StreamToS3 with a Lambda transform and dynamic partitioning: clicks partitioned by the page the transform returns
and by the user Firehose extracts with JQ. Dynamic partitioning can only be set when the delivery stream is created."""

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import Duration, Size
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from decoupling_constructs import AlarmTopic, LambdaTransform, StreamToS3
from decoupling_constructs.streams import transform_code

# Written with decoupling_constructs.runtime.firehose_transform (docs/firehose-runtime.md).
HANDLER = Path(__file__).parent / "firehose_transform_handler.py"


class ClickViewsStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)
        alarms = AlarmTopic(self, "Alarms")
        function = lambda_.Function(
            self,
            "Transform",
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="index.handler",
            code=transform_code(HANDLER),  # the handler beside the library's runtime
            timeout=Duration.minutes(1),  # Firehose waits at most 5 minutes
        )
        views = StreamToS3(
            self,
            "Views",
            transform=LambdaTransform(
                function,
                buffer_size=Size.kibibytes(256),  # 0.2-3 MB before each call
                buffer_interval=Duration.seconds(30),
                retries=0,  # a failed batch goes under the error prefix at once
                partition_keys=["page"],  # the keys the handler returns (Transformed(..., partition_keys=...))
            ),
            dynamic_partitioning=True,
            partition_by={"user": ".user"},  # JQ on the transformed record
            data_prefix="views/page=!{partitionKeyFromLambda:page}/user=!{partitionKeyFromQuery:user}/",
            error_prefix="views-errors/!{firehose:error-output-type}/",
            buffering_interval=Duration.seconds(60),
            alarm_topic=alarms,
        )
        assert set(views.alarms) >= {"transform_errors", "transform_throttles"}


if __name__ == "__main__":
    app = cdk.App()
    ClickViewsStack(app, "ClickViews")
    app.synth()
