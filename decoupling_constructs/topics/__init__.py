"""SNS constructs: a topic fanned out to its subscribers."""

from .fan_out import FanOut, QueueOptions

__all__ = ["FanOut", "QueueOptions"]
