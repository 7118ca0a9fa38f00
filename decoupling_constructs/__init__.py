"""AWS CDK constructs for the decoupling patterns of AWS messaging.

The constructs are imported on first use (PEP 562), so ``decoupling_constructs.capacity``
and the boto3 runtime helpers do not load aws-cdk-lib and its Node.js process.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._alarms import AlarmOptions, AlarmSettings
    from .alarm_topic import AlarmTopic
    from .broker import BrokerEngine, DeploymentMode, MaintenanceWindow, MessageBroker
    from .capacity import Throughput
    from .fan_out import FanOut, QueueOptions
    from .queue import ReliableQueue
    from .queue_function import QueueFunction
    from .queue_workers import QueueWorkers
    from .stream_function import StreamFunction
    from .stream_to_s3 import StreamToS3

_EXPORTS = {
    "AlarmOptions": "._alarms",
    "AlarmSettings": "._alarms",
    "AlarmTopic": ".alarm_topic",
    "BrokerEngine": ".broker",
    "DeploymentMode": ".broker",
    "MaintenanceWindow": ".broker",
    "MessageBroker": ".broker",
    "FanOut": ".fan_out",
    "QueueOptions": ".fan_out",
    "QueueFunction": ".queue_function",
    "ReliableQueue": ".queue",
    "QueueWorkers": ".queue_workers",
    "StreamFunction": ".stream_function",
    "StreamToS3": ".stream_to_s3",
    "Throughput": ".capacity",
}

__all__ = [
    "AlarmOptions",
    "AlarmSettings",
    "AlarmTopic",
    "BrokerEngine",
    "DeploymentMode",
    "FanOut",
    "MaintenanceWindow",
    "MessageBroker",
    "QueueFunction",
    "QueueOptions",
    "QueueWorkers",
    "ReliableQueue",
    "StreamFunction",
    "StreamToS3",
    "Throughput",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
