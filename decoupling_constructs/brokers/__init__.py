"""Amazon MQ constructs: a private broker in active/standby or a cluster."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import exports

if TYPE_CHECKING:
    from .broker import BrokerEngine, DeploymentMode, MaintenanceWindow, MessageBroker, isolated_vpc

_EXPORTS = {
    "BrokerEngine": ".broker",
    "DeploymentMode": ".broker",
    "MaintenanceWindow": ".broker",
    "MessageBroker": ".broker",
    "isolated_vpc": ".broker",
}
__all__ = ["BrokerEngine", "DeploymentMode", "MaintenanceWindow", "MessageBroker", "isolated_vpc"]
__getattr__, __dir__ = exports(__name__, _EXPORTS)
