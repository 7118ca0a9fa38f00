"""boto3 helpers that use the patterns the way AWS recommends: batches, long polling, heartbeats,
partial-failure retries, redrive. No aws-cdk-lib needed at run time.

Modules (each owns its names; this package re-exports them):

* ``consumer``: ``QueueConsumer``, ``ConsumerStats``
* ``producer``: ``QueueProducer``, ``TopicPublisher``
* ``stream``: ``StreamProducer``
* ``redrive``: ``redrive``, ``peek`` (and the CLI in ``__main__``)
"""
