"""SQS constructs: a queue with its dead-letter queue, and its consumers (Lambda, EC2 workers)."""

from .queue_function import QueueFunction
from .queue_workers import QueueWorkers
from .reliable_queue import ReliableQueue

__all__ = ["QueueFunction", "QueueWorkers", "ReliableQueue"]
