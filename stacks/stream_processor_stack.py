"""Reference stack for StreamProcessor: a clickstream (StreamToS3) read by the reference Flink job
(``stacks/flink_job``: clicks per user per minute), which writes its counts to a second stream, itself archived to S3
(StreamToS3); checkpoints and snapshots on, logging, alarms, and the application started after each deploy.

The job's property groups (``SourceStream``, ``Sink``) and run options are the names ``stacks/flink_job/properties.py``
declares. The job needs the Kinesis SQL connector in its zip (``lib/...jar``, a Maven artifact this repository does
not ship, see docs/stream-processor-job.md): ``jarfile`` is passed only when the user has put it there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
from constructs import Construct

from decoupling_constructs import AlarmSettings, AlarmTopic, FlinkCode, StreamProcessor, StreamToS3

from .flink_job import properties as job

JOB_DIR = Path(__file__).resolve().parent / "flink_job"


def job_code() -> FlinkCode:
    """The job's directory as a Python application; with its connector jar when the user has put it there."""
    jarfile = job.CONNECTOR_JAR if (JOB_DIR / job.CONNECTOR_JAR).is_file() else None
    return FlinkCode.python(JOB_DIR, main=job.ENTRY_POINT, py_files=job.PY_FILES, jarfile=jarfile)


class StreamProcessorStack(cdk.Stack):
    """``clicks`` (two shards) -> ``processor`` (parallelism 2: one subtask per shard) -> ``counts`` (one shard).

    ``metric_math_alarms=False`` leaves out the two alarms on a running total's increase (``full_restarts``,
    ``failed_checkpoints``: metric math), for an emulator whose CloudWatch has no metric-math alarms (MiniStack).
    """

    def __init__(self, scope: Construct, construct_id: str, *, metric_math_alarms: bool = True, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description="decoupling-constructs: StreamProcessor reference", **kwargs)
        alarms = AlarmTopic(self, "Alarms")
        self.clicks = StreamToS3(self, "PageViews", shard_count=2, alarm_topic=alarms)
        self.counts = StreamToS3(self, "ViewCounts", shard_count=1, alarm_topic=alarms)
        self.processor = StreamProcessor(
            self,
            "CountViews",
            code=job_code(),
            source=self.clicks,
            sinks={job.SINK_GROUP: self.counts.stream},
            checkpoint_interval=cdk.Duration.seconds(30),
            min_pause_between_checkpoints=cdk.Duration.seconds(10),
            snapshots=True,
            start_after_deploy=True,
            alarm_topic=alarms,
            alarm_settings=None
            if metric_math_alarms
            else AlarmSettings(overrides={"full_restarts": None, "failed_checkpoints": None}),
        )
