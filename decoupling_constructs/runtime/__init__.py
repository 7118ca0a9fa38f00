"""boto3 helpers that use the patterns the way AWS recommends: batches, long polling, heartbeats,
partial-failure retries, redrive. No aws-cdk-lib needed at run time.

* ``QueueConsumer``, ``ConsumerStats`` (``consumer``)
* ``QueueProducer``, ``TopicPublisher``, ``PartialBatchError`` (``producer``)
* ``StreamProducer`` (``stream``)
* ``redrive``, ``peek``, ``RedriveResult`` (``redrive``; CLI: ``python -m decoupling_constructs.runtime``)
"""

from .consumer import ConsumerStats, QueueConsumer
from .producer import PartialBatchError, QueueProducer, TopicPublisher
from .redrive import RedriveResult, peek, redrive
from .stream import StreamProducer

__all__ = [
    "ConsumerStats",
    "PartialBatchError",
    "QueueConsumer",
    "QueueProducer",
    "RedriveResult",
    "StreamProducer",
    "TopicPublisher",
    "peek",
    "redrive",
]
