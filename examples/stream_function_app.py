"""StreamFunction: Lambdas reading a StreamToS3's stream beside Firehose, with stream_function_handler.py."""

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from decoupling_constructs import AlarmTopic, StreamFunction, StreamToS3, Throughput

HANDLER = Path(__file__).parent / "stream_function_handler.py"
POWERTOOLS_LAYER = "/aws/service/powertools/python/x86_64/python3.13/3.37.0"


class ClicksStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)
        alarms = AlarmTopic(self, "Alarms")
        powertools = lambda_.LayerVersion.from_layer_version_arn(
            self,
            "Powertools",
            cdk.CfnDynamicReference(cdk.CfnDynamicReferenceService.SSM, POWERTOOLS_LAYER).to_string(),
        )

        def handler(construct_id: str) -> lambda_.Function:
            return lambda_.Function(
                self,
                construct_id,
                runtime=lambda_.Runtime.PYTHON_3_13,
                handler="index.handler",
                code=lambda_.Code.from_inline(HANDLER.read_text()),
                timeout=Duration.seconds(30),
                layers=[powertools],
            )

        # Planned for 3 readers: Firehose and the two StreamFunctions below (a fourth would be refused).
        clicks = StreamToS3(
            self,
            "Clicks",
            expected_throughput=Throughput(write_mib_per_s=1.0, records_per_s=1000, consumers=3),
            alarm_topic=alarms,
        )
        StreamFunction(
            self,
            "Sessions",
            function=handler("SessionsHandler"),
            stream=clicks,
            parallelization_factor=2,
            alarm_topic=alarms,
        )
        StreamFunction(
            self,
            "Fraud",
            function=handler("FraudHandler"),
            stream=clicks,
            starting_position=lambda_.StartingPosition.LATEST,
            batch_size=500,
            max_batching_window=Duration.seconds(1),
            retry_attempts=2,
            max_record_age=Duration.minutes(10),
            alarm_topic=alarms,
        )


if __name__ == "__main__":
    app = cdk.App()
    ClicksStack(app, "Clicks")
    app.synth()
