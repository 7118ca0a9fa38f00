"""SNS constructs: a topic fanned out to its subscribers, and a queue subscribed to a topic of any account."""

from .fan_out import FanOut, QueueOptions, SubscribeGrant
from .subscribed_queue import SubscribedQueue

__all__ = ["FanOut", "QueueOptions", "SubscribeGrant", "SubscribedQueue"]
