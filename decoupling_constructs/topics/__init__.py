"""SNS constructs: a topic fanned out to its subscribers, and a queue subscribed to a topic of any account."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import exports

if TYPE_CHECKING:
    from ._push import DeliveryStatusLogging, HttpDeliveryPolicy
    from .fan_out import FanOut, QueueOptions, SubscribeGrant
    from .subscribed_queue import SubscribedQueue

_EXPORTS = {
    "DeliveryStatusLogging": "._push",
    "FanOut": ".fan_out",
    "HttpDeliveryPolicy": "._push",
    "QueueOptions": ".fan_out",
    "SubscribeGrant": ".fan_out",
    "SubscribedQueue": ".subscribed_queue",
}
__all__ = ["DeliveryStatusLogging", "FanOut", "HttpDeliveryPolicy", "QueueOptions", "SubscribeGrant", "SubscribedQueue"]
__getattr__, __dir__ = exports(__name__, _EXPORTS)
