"""The QueueWorkers sample's handler (``renders.worker:handle``): one render job per message; raising fails it."""

import json
from typing import Any


def handle(message: dict[str, Any]) -> None:
    job = json.loads(message["Body"])
    if int(job["frames"]) < 1:
        raise ValueError(f"job {job.get('job')!r} has no frames")
