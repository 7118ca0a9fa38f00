"""Amazon MQ constructs: a private broker in active/standby or a cluster."""

from .broker import BrokerEngine, DeploymentMode, MaintenanceWindow, MessageBroker, isolated_vpc

__all__ = ["BrokerEngine", "DeploymentMode", "MaintenanceWindow", "MessageBroker", "isolated_vpc"]
