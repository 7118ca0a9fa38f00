"""AWS CDK constructs for the decoupling patterns of AWS messaging.

The constructs are imported on first use (PEP 562), so ``decoupling_constructs.capacity``
and the boto3 runtime helpers do not load aws-cdk-lib and its Node.js process.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
import warnings
from typing import TYPE_CHECKING

from ._lazy import exports

if TYPE_CHECKING:
    from ._alarms import AlarmOptions, AlarmSettings
    from .alarm_topic import AlarmTopic
    from .brokers.broker import BrokerEngine, DeploymentMode, MaintenanceWindow, MessageBroker
    from .capacity import Throughput
    from .queues.queue_function import QueueFunction
    from .queues.queue_workers import QueueWorkers
    from .queues.reliable_queue import ReliableQueue
    from .streams._transform import LambdaTransform
    from .streams.stream_function import StreamFunction
    from .streams.stream_processor import FlinkCode, StreamProcessor
    from .streams.stream_to_http import StreamToHttpEndpoint
    from .streams.stream_to_opensearch import IndexRotation, OpenSearchBackup, StreamToOpenSearch
    from .streams.stream_to_s3 import StreamToS3
    from .topics._push import DeliveryStatusLogging, HttpDeliveryPolicy
    from .topics.fan_out import FanOut, QueueOptions
    from .topics.subscribed_queue import SubscribedQueue

_EXPORTS = {
    "AlarmOptions": "._alarms",
    "AlarmSettings": "._alarms",
    "AlarmTopic": ".alarm_topic",
    "BrokerEngine": ".brokers.broker",
    "DeploymentMode": ".brokers.broker",
    "MaintenanceWindow": ".brokers.broker",
    "MessageBroker": ".brokers.broker",
    "FanOut": ".topics.fan_out",
    "IndexRotation": ".streams.stream_to_opensearch",
    "OpenSearchBackup": ".streams.stream_to_opensearch",
    "DeliveryStatusLogging": ".topics._push",
    "HttpDeliveryPolicy": ".topics._push",
    "LambdaTransform": ".streams._transform",
    "QueueOptions": ".topics.fan_out",
    "QueueFunction": ".queues.queue_function",
    "ReliableQueue": ".queues.reliable_queue",
    "QueueWorkers": ".queues.queue_workers",
    "StreamFunction": ".streams.stream_function",
    "StreamProcessor": ".streams.stream_processor",
    "FlinkCode": ".streams.stream_processor",
    "StreamToHttpEndpoint": ".streams.stream_to_http",
    "StreamToOpenSearch": ".streams.stream_to_opensearch",
    "StreamToS3": ".streams.stream_to_s3",
    "SubscribedQueue": ".topics.subscribed_queue",
    "Throughput": ".capacity",
}

__all__ = [
    "AlarmOptions",
    "AlarmSettings",
    "AlarmTopic",
    "BrokerEngine",
    "DeliveryStatusLogging",
    "DeploymentMode",
    "FanOut",
    "FlinkCode",
    "HttpDeliveryPolicy",
    "IndexRotation",
    "LambdaTransform",
    "MaintenanceWindow",
    "MessageBroker",
    "OpenSearchBackup",
    "QueueFunction",
    "QueueOptions",
    "QueueWorkers",
    "ReliableQueue",
    "StreamFunction",
    "StreamProcessor",
    "StreamToHttpEndpoint",
    "StreamToOpenSearch",
    "StreamToS3",
    "SubscribedQueue",
    "Throughput",
]
__version__ = "0.1.0"


# Modules that moved when the package was grouped by AWS service (0.2.0). Importing an old path still works,
# with a DeprecationWarning naming the new one; the public API is this package's names.
_MOVED = {
    "broker": "brokers.broker",
    "fan_out": "topics.fan_out",
    "queue": "queues.reliable_queue",
    "queue_function": "queues.queue_function",
    "queue_workers": "queues.queue_workers",
    "stream_function": "streams.stream_function",
    "stream_to_s3": "streams.stream_to_s3",
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname: str, path: object, target: object = None) -> importlib.machinery.ModuleSpec | None:
        parent, _, name = fullname.rpartition(".")
        if parent != __name__ or name not in _MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        new = f"{__name__}.{_MOVED[spec.name.rpartition('.')[2]]}"
        warnings.warn(f"{spec.name} is now {new}; import from {__name__} instead", DeprecationWarning, stacklevel=2)
        return importlib.import_module(new)

    def exec_module(self, module: types.ModuleType) -> None:
        return None


sys.meta_path.append(_MovedModules())


__getattr__, __dir__ = exports(__name__, _EXPORTS)
