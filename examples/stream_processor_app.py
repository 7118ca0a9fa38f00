"""StreamProcessor: a Managed Flink job counting a StreamToS3's clicks per page into a second stream, started after
each deploy; its Python code is the directory stream_processor_job/ (a stand-in here)."""

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import Duration
from constructs import Construct

from decoupling_constructs import AlarmTopic, FlinkCode, StreamProcessor, StreamToS3, Throughput

JOB = Path(__file__).parent / "stream_processor_job"


class ClickCountsStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)
        alarms = AlarmTopic(self, "Alarms")
        # Planned for two readers: Firehose, and the Flink job.
        clicks = StreamToS3(self, "Clicks", expected_throughput=Throughput(3.0, 3000, consumers=2), alarm_topic=alarms)
        counts = StreamToS3(self, "Counts", shard_count=1, alarm_topic=alarms)
        StreamProcessor(
            self,
            "CountClicks",
            # main.py reads the property groups; the Kinesis connector goes in the zip as lib/connector.jar (then
            # pass jarfile="lib/connector.jar": the construct checks that the file is there).
            code=FlinkCode.python(JOB, main="main.py"),
            source=clicks,  # parallelism: one subtask per shard of the plan
            sinks={"Sink": counts.stream},  # property group "Sink": stream.arn, stream.name, aws.region
            parallelism_per_kpu=2,
            checkpoint_interval=Duration.seconds(30),
            start_after_deploy=True,
            alarm_topic=alarms,
        )


if __name__ == "__main__":
    app = cdk.App()
    ClickCountsStack(app, "ClickCounts")
    app.synth()
