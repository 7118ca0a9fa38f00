"""SQS constructs: a queue with its dead-letter queue, and its consumers (Lambda, EC2 workers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import exports

if TYPE_CHECKING:
    from .queue_function import QueueFunction
    from .queue_workers import QueueWorkers
    from .reliable_queue import ReliableQueue

_EXPORTS = {
    "QueueFunction": ".queue_function",
    "QueueWorkers": ".queue_workers",
    "ReliableQueue": ".reliable_queue",
}
__all__ = ["QueueFunction", "QueueWorkers", "ReliableQueue"]
__getattr__, __dir__ = exports(__name__, _EXPORTS)
