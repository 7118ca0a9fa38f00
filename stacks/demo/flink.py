"""The demo's stream-processor pattern: DecouplingStreamProcessor deployed into MiniStack (its CloudWatch has no
metric-math alarms: ``VARIANT``), the application started by its start-after-deploy custom resource, clicks put on
its source stream, and a snapshot made and listed.

What it shows is MiniStack's Managed Flink control plane: no Flink job runs here (MiniStack runs jobs only with the
``docker`` package, a Docker daemon and the Flink images), so the counts stream stays empty and the scenario says so.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from decoupling_constructs.runtime.stream import StreamProducer
from decoupling_constructs.testing import Deployment

from ._model import Progress, Result
from .clicks import click

STACK = "DecouplingStreamProcessor"
VARIANT = "the two metric-math alarms (full_restarts, failed_checkpoints) left out: MiniStack's CloudWatch has none"


def build(app: Any, name: str) -> None:
    from stacks.stream_processor_stack import StreamProcessorStack

    StreamProcessorStack(app, name, metric_math_alarms=False)


def _of_type(d: Deployment, resource_type: str) -> str:
    (logical_id,) = [lid for lid, r in d.template["Resources"].items() if r["Type"] == resource_type]
    return d.resources[logical_id]


def stream_processor_scenario(d: Deployment, clicks: int, progress: Progress) -> Result:
    result = Result("stream-processor", said="control plane only: no Flink job runs in MiniStack without Docker")
    flink = d.client("kinesisanalyticsv2")
    name = _of_type(d, "AWS::KinesisAnalyticsV2::Application")
    deadline = time.monotonic() + 30
    detail = flink.describe_application(ApplicationName=name)["ApplicationDetail"]
    while detail["ApplicationStatus"] != "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.5)
        detail = flink.describe_application(ApplicationName=name)["ApplicationDetail"]
    result.check("started after deploy", "RUNNING", detail["ApplicationStatus"])
    flink_config = detail["ApplicationConfigurationDescription"]["FlinkApplicationConfigurationDescription"]
    result.check(
        "parallelism: the source's shards", 2, flink_config["ParallelismConfigurationDescription"]["Parallelism"]
    )
    result.check(
        "checkpoints on",
        True,
        flink_config["CheckpointConfigurationDescription"]["CheckpointingEnabled"],
    )
    source = next(
        g["PropertyMap"]
        for g in detail["ApplicationConfigurationDescription"]["EnvironmentPropertyDescriptions"][
            "PropertyGroupDescriptions"
        ]
        if g["PropertyGroupId"] == "SourceStream"
    )
    stream = source["stream.arn"].rsplit("/", 1)[1]
    run = uuid.uuid4().hex[:8]
    with StreamProducer(stream, client=d.client("kinesis")) as producer:
        for i in range(clicks):
            key, data = click(run, i, at_ms=time.time_ns() // 1_000_000)
            producer.put(data + b"\n", partition_key=key)
    progress("stream-processor", clicks, clicks)
    snapshot = f"demo-{run}"
    flink.create_application_snapshot(ApplicationName=name, SnapshotName=snapshot)
    listed = {s["SnapshotName"] for s in flink.list_application_snapshots(ApplicationName=name)["SnapshotSummaries"]}
    result.check("snapshot made and listed", True, snapshot in listed)
    result.rows.append(("application", f"{name} RUNNING, {clicks} clicks put on {stream}"))
    result.notes.append(
        "stream-processor: MiniStack's Flink control plane (create, start, snapshots); the job itself runs only on AWS "
        "or with Docker, so its counts are not checked here (its logic is tested by make test-flink)"
    )
    return result
