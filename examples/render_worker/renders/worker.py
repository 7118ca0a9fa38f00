"""The handler of examples/queue_workers_app.py (``renders.worker:handle``): one render job per message.

``QueueConsumer`` calls it with each SQS message; raising fails the message (SQS delivers it again, then the
dead-letter queue takes it). Only the standard library: a dependency would go in this directory too
(``pip install --target examples/render_worker ...``).
"""

from __future__ import annotations

import json
import logging
from typing import Any

logger = logging.getLogger(__name__)


def handle(message: dict[str, Any]) -> None:
    job = json.loads(message["Body"])
    logger.info("rendering job %s", job["job"])
