"""``python -m moto.server`` with one fix to moto's SQS, for ``benchmarks/runtime.py``'s second backend.

For every message a ReceiveMessage returns, moto (5.2.5, the newest release) checks the message against
the queue's retention period by recomputing *every* queue attribute:
``SQSBackend.is_message_valid_based_on_retention_period`` calls ``get_queue_attributes``, which converts
each attribute's name and counts the queue's messages, in flight or not. SQS has no such cost. It is paid
per message whether the message comes alone or in a batch of 10 (and a batch, received while its
messages are all still in the queue, pays a deeper count), so it dilutes what batching saves. The fix
reads the retention period directly: the same check, the same result. Nothing else changes.
Usage: ``python benchmarks/moto_sqs_fixed.py -H 127.0.0.1 -p PORT``.
"""

from __future__ import annotations

import sys

from moto.core.utils import unix_time
from moto.sqs.models import Message, SQSBackend


def is_message_valid_based_on_retention_period(self: SQSBackend, queue_name: str, message: Message) -> bool:
    retention_period = int(self.get_queue(queue_name).message_retention_period)
    return bool(retention_period + message.sent_timestamp / 1000 > unix_time())  # type: ignore[operator]


if __name__ == "__main__":
    from moto.server import main

    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period  # type: ignore[method-assign]
    sys.exit(main())
