"""boto3 helpers that use the patterns the way AWS recommends: batches, long polling, heartbeats,
partial-failure retries, redrive. No aws-cdk-lib needed at run time.

* ``QueueConsumer``, ``ConsumerStats`` (``consumer``)
* ``QueueProducer``, ``TopicPublisher``, ``PartialBatchError`` (``producer``)
* ``StreamProducer`` (``stream``)
* ``SnsReceiver``, ``SnsMessage``, ``ANY_TOPIC``, ``LruSeen`` (``sns_receiver``: an SNS HTTP/HTTPS subscriber;
  signature checks need the ``receivers`` extra)
* ``redrive``, ``peek``, ``RedriveResult`` (``redrive``; CLI: ``python -m decoupling_constructs.runtime``)
"""

from .consumer import ConsumerStats, QueueConsumer
from .producer import PartialBatchError, QueueProducer, TopicPublisher
from .redrive import RedriveResult, peek, redrive
from .sns_receiver import ANY_TOPIC, LruSeen, SnsMessage, SnsReceiver
from .stream import StreamProducer

__all__ = [
    "ANY_TOPIC",
    "ConsumerStats",
    "LruSeen",
    "PartialBatchError",
    "QueueConsumer",
    "QueueProducer",
    "RedriveResult",
    "SnsMessage",
    "SnsReceiver",
    "StreamProducer",
    "TopicPublisher",
    "peek",
    "redrive",
]
