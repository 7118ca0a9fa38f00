"""SNS constructs: a topic fanned out to its subscribers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import exports

if TYPE_CHECKING:
    from ._push import DeliveryStatusLogging, HttpDeliveryPolicy
    from .fan_out import FanOut, QueueOptions

_EXPORTS = {
    "DeliveryStatusLogging": "._push",
    "FanOut": ".fan_out",
    "HttpDeliveryPolicy": "._push",
    "QueueOptions": ".fan_out",
}
__all__ = ["DeliveryStatusLogging", "FanOut", "HttpDeliveryPolicy", "QueueOptions"]
__getattr__, __dir__ = exports(__name__, _EXPORTS)
