"""boto3 helpers that use the patterns the way AWS recommends: batches, long polling, heartbeats,
partial-failure retries, redrive. No aws-cdk-lib needed at run time.

* ``QueueConsumer``, ``ConsumerStats`` (``consumer``)
* ``QueueProducer``, ``TopicPublisher``, ``PartialBatchError`` (``producer``)
* ``StreamProducer`` (``stream``)
* ``redrive``, ``peek``, ``RedriveResult`` (``redrive``; CLI: ``python -m decoupling_constructs.runtime``)
* ``firehose_transform``, ``Transformed``, ``FirehoseRecord``, ``KinesisRecordMetadata`` (``firehose``: a
  Firehose data-transformation Lambda handler) and ``FirehoseHttpReceiver``, ``FirehoseDelivery``,
  ``LruRequestIds``, ``RequestIdStore`` (an endpoint for a Firehose HTTP endpoint destination); no boto3 needed
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .consumer import ConsumerStats, QueueConsumer
    from .firehose import (
        FirehoseDelivery,
        FirehoseHttpReceiver,
        FirehoseRecord,
        KinesisRecordMetadata,
        LruRequestIds,
        RequestIdStore,
        Transformed,
        firehose_transform,
    )
    from .producer import PartialBatchError, QueueProducer, TopicPublisher
    from .stream import StreamProducer

# Eager: the standard library only, and the module shares the function's name (a lazy import of the module would
# leave the package's ``redrive`` bound to the module).
from .redrive import RedriveResult, peek, redrive

# Imported on first use (PEP 562), as the package's constructs are: a Firehose transform handler or HTTP receiver
# (``firehose``: standard library only) must not need boto3, which the other helpers import.
_EXPORTS = {
    "ConsumerStats": ".consumer",
    "FirehoseDelivery": ".firehose",
    "FirehoseHttpReceiver": ".firehose",
    "FirehoseRecord": ".firehose",
    "KinesisRecordMetadata": ".firehose",
    "LruRequestIds": ".firehose",
    "PartialBatchError": ".producer",
    "QueueConsumer": ".consumer",
    "QueueProducer": ".producer",
    "RequestIdStore": ".firehose",
    "StreamProducer": ".stream",
    "TopicPublisher": ".producer",
    "Transformed": ".firehose",
    "firehose_transform": ".firehose",
}

__all__ = [
    "ConsumerStats",
    "FirehoseDelivery",
    "FirehoseHttpReceiver",
    "FirehoseRecord",
    "KinesisRecordMetadata",
    "LruRequestIds",
    "PartialBatchError",
    "QueueConsumer",
    "QueueProducer",
    "RedriveResult",
    "RequestIdStore",
    "StreamProducer",
    "TopicPublisher",
    "Transformed",
    "firehose_transform",
    "peek",
    "redrive",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
