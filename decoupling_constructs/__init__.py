"""AWS CDK constructs for the decoupling patterns of AWS messaging."""

from .alarm_topic import AlarmTopic
from .fan_out import FanOut
from .queue import ReliableQueue

__all__ = ["AlarmTopic", "FanOut", "ReliableQueue"]
__version__ = "0.1.0"
