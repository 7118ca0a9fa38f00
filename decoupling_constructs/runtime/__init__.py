"""boto3 helpers that use the patterns the way AWS recommends: batches, long polling, heartbeats,
partial-failure retries, redrive. No aws-cdk-lib needed at run time; each name is imported on first use
(PEP 562), so the receivers and the transform decorator run without boto3.

* ``QueueConsumer``, ``ConsumerStats`` (``consumer``)
* ``QueueProducer``, ``TopicPublisher``, ``PartialBatchError`` (``producer``)
* ``StreamProducer`` (``stream``)
* ``redrive``, ``peek``, ``RedriveResult`` (``redrive``; CLI: ``python -m decoupling_constructs.runtime``)
* ``firehose_transform``, ``Transformed``, ``FirehoseRecord``, ``KinesisRecordMetadata`` (``firehose``: a
  Firehose data-transformation Lambda handler) and ``FirehoseHttpReceiver``, ``FirehoseDelivery``,
  ``LruRequestIds``, ``RequestIdStore`` (an endpoint for a Firehose HTTP endpoint destination); no boto3 needed
* ``SnsReceiver``, ``SnsMessage``, ``ANY_TOPIC`` (``sns_receiver``: an endpoint for an SNS HTTP/HTTPS
  subscription; its de-duplication store is a ``RequestIdStore`` too; signature checks need the ``receivers`` extra)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import exports

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
    from .redrive import RedriveResult, peek, redrive
    from .sns_receiver import ANY_TOPIC, SnsMessage, SnsReceiver
    from .stream import StreamProducer

_EXPORTS = {
    "ANY_TOPIC": ".sns_receiver",
    "ConsumerStats": ".consumer",
    "FirehoseDelivery": ".firehose",
    "FirehoseHttpReceiver": ".firehose",
    "FirehoseRecord": ".firehose",
    "KinesisRecordMetadata": ".firehose",
    "LruRequestIds": ".firehose",
    "PartialBatchError": ".producer",
    "QueueConsumer": ".consumer",
    "QueueProducer": ".producer",
    "RedriveResult": ".redrive",
    "RequestIdStore": ".firehose",
    "SnsMessage": ".sns_receiver",
    "SnsReceiver": ".sns_receiver",
    "StreamProducer": ".stream",
    "TopicPublisher": ".producer",
    "Transformed": ".firehose",
    "firehose_transform": ".firehose",
    "peek": ".redrive",
    "redrive": ".redrive",
}
__all__ = [
    "ANY_TOPIC",
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
    "SnsMessage",
    "SnsReceiver",
    "StreamProducer",
    "TopicPublisher",
    "Transformed",
    "firehose_transform",
    "peek",
    "redrive",
]
__getattr__, __dir__ = exports(__name__, _EXPORTS)
