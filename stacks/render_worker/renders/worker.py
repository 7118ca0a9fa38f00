"""The handler the reference QueueWorkers fleet runs: one render job per message (``renders.worker:handle``).

A job is JSON: ``{"job": "<id>", "frames": N}``. The "render" is a checksum per frame, standing in for real work;
a job that is not valid JSON, or has no frames, fails (SQS delivers it again, then the DLQ takes it).
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

logger = logging.getLogger(__name__)


def handle(message: dict[str, Any]) -> str:
    job = json.loads(message["Body"])
    frames = int(job["frames"])
    if frames < 1:
        raise ValueError(f"job {job.get('job')!r} has no frames")
    digest = hashlib.sha256()
    for frame in range(frames):
        digest.update(f"{job['job']}:{frame}".encode())
    logger.info("rendered job %s: %d frames, %s", job["job"], frames, digest.hexdigest()[:12])
    return digest.hexdigest()
