"""SNS constructs: a topic fanned out to its subscribers."""

from ._push import DeliveryStatusLogging, HttpDeliveryPolicy
from .fan_out import FanOut, QueueOptions

__all__ = ["DeliveryStatusLogging", "FanOut", "HttpDeliveryPolicy", "QueueOptions"]
