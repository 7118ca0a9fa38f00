"""SNS constructs: a topic fanned out to its subscribers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import exports

if TYPE_CHECKING:
    from .fan_out import FanOut, QueueOptions

_EXPORTS = {
    "FanOut": ".fan_out",
    "QueueOptions": ".fan_out",
}
__all__ = ["FanOut", "QueueOptions"]
__getattr__, __dir__ = exports(__name__, _EXPORTS)
