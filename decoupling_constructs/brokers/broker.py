"""MessageBroker: Amazon MQ (ActiveMQ active/standby, RabbitMQ cluster), private and hardened."""

from __future__ import annotations

import enum
import json
import re
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import jsii
from aws_cdk import Acknowledgment, ArnFormat, Duration, Fn, Names, RemovalPolicy, Stack, Validations
from aws_cdk import aws_amazonmq as mq
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from constructs import Construct

if TYPE_CHECKING:
    from ..alarm_topic import AlarmTopic

from .. import _rules as r
from .. import _validate as v
from .._alarms import ALARM_PROPS, Alarms, AlarmSettings
from .._cdk import PatternConstruct
from .._network import private_subnets
from .._props import ENCRYPTION_KEY, GRANT_RULES, removal_policy
from .._security import LOGS_SERVICE_ENCRYPTION_REASON, acknowledge_checkov, allow_logs_to_use_key


class BrokerEngine(enum.Enum):
    ACTIVEMQ = "ACTIVEMQ"
    RABBITMQ = "RABBITMQ"


class DeploymentMode(enum.Enum):
    SINGLE_INSTANCE = "SINGLE_INSTANCE"
    ACTIVE_STANDBY_MULTI_AZ = "ACTIVE_STANDBY_MULTI_AZ"  # ActiveMQ only
    CLUSTER_MULTI_AZ = "CLUSTER_MULTI_AZ"  # RabbitMQ only


_DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
_TIME = r"([01]\d|2[0-3]):[0-5]\d"  # HH:MM, 24-hour


@dataclass(frozen=True)
class MaintenanceWindow:
    """When Amazon MQ may apply minor version upgrades and patches (weekly, 2 hours). Its fields are checked
    by ``MessageBroker`` (``MAINTENANCE_WINDOW_RULES``), whose errors name the broker and ``maintenance_window.day``.

    :param day: MONDAY-SUNDAY, upper case.
    :param time: HH:MM, 24-hour.
    :param time_zone: ``UTC``, a Country/City time zone (``Europe/Paris``) or a UTC offset (``UTC+05:30``).
    """

    day: str = "SUNDAY"
    time: str = "03:00"
    time_zone: str = "UTC"


_UTC_OFFSET = re.compile(r"^UTC[+-](0\d|1[0-4]):[0-5]\d\Z")


def _check_time_zone(prop: str, value: object, ctx: r.Context) -> None:
    if not _is_time_zone(value):
        raise ValueError(
            f"{prop} must be 'UTC', a Country/City time zone such as 'Europe/Paris', or a UTC offset such as "
            f"'UTC+05:30', got {r.show(value)}"
        )


#: Every MaintenanceWindow field (Amazon MQ CreateBroker, MaintenanceWindowStartTime).
MAINTENANCE_WINDOW_RULES = r.Rules(
    {
        "day": r.OneOf(_DAYS, source="Amazon MQ MaintenanceWindowStartTime.DayOfWeek"),
        "time": r.Text("HH:MM (24-hour)", pattern=_TIME),
        "time_zone": r.Custom(
            _check_time_zone,
            "'UTC', a Country/City time zone such as 'Europe/Paris', or a UTC offset such as 'UTC+05:30'",
            source="Amazon MQ MaintenanceWindowStartTime.TimeZone",
        ),
    }
)


def _is_time_zone(value: object) -> bool:
    """Amazon MQ's MaintenanceWindowStartTime.TimeZone: a Country/City (IANA) name or a UTC offset."""
    if not isinstance(value, str) or not value:
        return False
    if value == "UTC" or _UTC_OFFSET.match(value):
        return True
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return "/" in value


# Amazon MQ developer guide: broker instance types per engine ("Broker instance types"; mq.m7g is
# RabbitMQ only), current engine versions ("Supported engine versions"), ports ("Connecting to brokers").
INSTANCE_TYPES = {
    BrokerEngine.ACTIVEMQ: ("mq.t3.micro", "mq.m5.large", "mq.m5.xlarge", "mq.m5.2xlarge", "mq.m5.4xlarge"),
    BrokerEngine.RABBITMQ: (
        "mq.t3.micro",
        "mq.m5.large",
        "mq.m5.xlarge",
        "mq.m5.2xlarge",
        "mq.m5.4xlarge",
        "mq.m7g.medium",
        "mq.m7g.large",
        "mq.m7g.xlarge",
        "mq.m7g.2xlarge",
        "mq.m7g.4xlarge",
        "mq.m7g.8xlarge",
        "mq.m7g.12xlarge",
        "mq.m7g.16xlarge",
    ),
}
# Engine versions Amazon MQ supports for new brokers ("Managing Amazon MQ for ActiveMQ engine versions",
# "... for RabbitMQ engine versions"): minor versions, upgraded to the latest patch automatically.
SUPPORTED_ENGINE_VERSIONS = {BrokerEngine.ACTIVEMQ: ("5.19", "5.18"), BrokerEngine.RABBITMQ: ("4.2", "3.13")}
DEFAULT_ENGINE_VERSIONS = {BrokerEngine.ACTIVEMQ: "5.18", BrokerEngine.RABBITMQ: "3.13"}
DEFAULT_MODES = {
    BrokerEngine.ACTIVEMQ: DeploymentMode.ACTIVE_STANDBY_MULTI_AZ,
    BrokerEngine.RABBITMQ: DeploymentMode.CLUSTER_MULTI_AZ,
}
ALLOWED_MODES = {
    BrokerEngine.ACTIVEMQ: (DeploymentMode.SINGLE_INSTANCE, DeploymentMode.ACTIVE_STANDBY_MULTI_AZ),
    BrokerEngine.RABBITMQ: (DeploymentMode.SINGLE_INSTANCE, DeploymentMode.CLUSTER_MULTI_AZ),
}
# TLS ports only. ActiveMQ: OpenWire, AMQP, STOMP, MQTT, WSS, web console. RabbitMQ: AMQPS, web console.
# The keys are the keys of ``MessageBroker.endpoints`` too: one spelling for both.
PORTS = {
    BrokerEngine.ACTIVEMQ: {
        "openwire": 61617,
        "amqp": 5671,
        "stomp": 61614,
        "mqtt": 8883,
        "wss": 61619,
        "console": 8162,
    },
    BrokerEngine.RABBITMQ: {"amqps": 5671, "console": 443},
}
DEFAULT_PORT = {BrokerEngine.ACTIVEMQ: "openwire", BrokerEngine.RABBITMQ: "amqps"}
# One CloudWatch Logs resource policy per stack lets Amazon MQ publish the logs of all its brokers: an
# account has at most 10 resource policies per region (CloudWatch Logs API reference, PutResourcePolicy;
# AWS::Logs::ResourcePolicy), so one per broker would soon exhaust them.
LOG_POLICY_ID = "AmazonMqLogPublishingPolicy"
# Subnets a private broker takes: one, two in different AZs (active/standby), one for a RabbitMQ
# cluster (Amazon MQ CreateBroker, SubnetIds: "at least one" for a private cluster).
SUBNETS_NEEDED = {
    DeploymentMode.SINGLE_INSTANCE: 1,
    DeploymentMode.ACTIVE_STANDBY_MULTI_AZ: 2,
    DeploymentMode.CLUSTER_MULTI_AZ: 1,
}
_USERNAME = r"[A-Za-z0-9\-._~]{2,100}"  # Amazon MQ users: 2-100 of letters, digits, -._~
BROKER_NAME_MAX = 50  # Amazon MQ broker names: 1-50 characters
ALARM_PERCENT = 80
# Alarm keys per engine. ActiveMQ's are families: one alarm per broker instance, keyed "<key>_<n>" in
# ``alarms`` (n = 1, 2), tuned together by "<key>" in ``alarm_settings.overrides``.
ACTIVEMQ_ALARMS = {  # key: (CloudWatch metric, what it measures)
    "cpu_utilization": ("CpuUtilization", "CPU"),
    "heap_usage": ("HeapUsage", "JVM heap"),
    "store_percent_usage": ("StorePercentUsage", "message store (producers are blocked at 100 %)"),
}
RABBITMQ_ALARM_KEYS = ("system_cpu_utilization", "memory_used", "disk_free")
ALARM_KEYS_BY_ENGINE = {BrokerEngine.ACTIVEMQ: tuple(ACTIVEMQ_ALARMS), BrokerEngine.RABBITMQ: RABBITMQ_ALARM_KEYS}
DEFAULT_METRIC_PERIOD = Duration.minutes(5)
DEFAULT_MAINTENANCE_WINDOW = MaintenanceWindow()
# CloudWatch: Amazon MQ publishes its metrics every minute; PutMetricAlarm's Period is 10, 20, 30 or a multiple of
# 60 seconds, and period x evaluation periods at most 7 days (604,800 seconds).
MAX_METRIC_PERIOD_SECONDS = 604_800


# --- the rules of every argument (the engine in _rules.py checks them before each body runs) ---


def _engine(ctx: r.Context) -> BrokerEngine | None:
    engine = ctx.props.get("engine")
    return engine if isinstance(engine, BrokerEngine) else None


def _check_instance_type(prop: str, value: object, ctx: r.Context) -> None:
    engine = _engine(ctx)
    types = INSTANCE_TYPES[engine] if engine else tuple(dict.fromkeys(t for ts in INSTANCE_TYPES.values() for t in ts))
    r.OneOf(types).check(prop, value, ctx)


def _check_engine_version(prop: str, value: object, ctx: r.Context) -> None:
    engine = _engine(ctx)
    versions = (
        SUPPORTED_ENGINE_VERSIONS[engine]
        if engine
        else tuple(v for vs in SUPPORTED_ENGINE_VERSIONS.values() for v in vs)
    )
    r.OneOf(versions).check(prop, value, ctx)


def _check_peer(prop: str, peer: object, ctx: r.Context | None = None) -> None:
    """An ec2.IPeer that is not the whole internet (0.0.0.0/0, ::/0)."""
    r.Interface("an ec2.IPeer (e.g. a security group)", ("to_ingress_rule_config", "unique_id")).check(prop, peer, ctx)
    config = peer.to_ingress_rule_config()  # type: ignore[attr-defined]
    cidrs = [getattr(config, "cidr_ip", None), getattr(config, "cidr_ipv6", None)]
    if any(isinstance(cidr, str) and not v.is_token(cidr) and cidr.endswith("/0") for cidr in cidrs):
        raise ValueError(
            f"{prop} opens the broker to every address ({peer.unique_id}); a MessageBroker is private: "  # type: ignore[attr-defined]
            "give the security group of the clients, or the CIDR of the networks that connect"
        )


_PEER = r.Custom(_check_peer, "an ec2.IPeer that is not the whole internet", tokens="synth")


def _check_allowed_peers(prop: str, value: object, ctx: r.Context) -> None:
    if hasattr(value, "to_ingress_rule_config"):
        raise v.PropTypeError(f"{prop} must be a list of ec2.IPeer (e.g. [security_group]), got {r.show(value)}")
    r.ListOf(_PEER, text="a list of ec2.IPeer").check(prop, value, ctx)


def _engine_relations(values: Mapping[str, object], ctx: r.Context) -> None:
    """What one prop allows depends on the engine (deployment modes, mq.t3.micro, the guest user, keys) or on
    another prop (vpc_subnets selects subnets of vpc)."""
    engine = values["engine"]
    assert isinstance(engine, BrokerEngine)
    mode = values.get("deployment_mode") or DEFAULT_MODES[engine]
    assert isinstance(mode, DeploymentMode)
    if mode not in ALLOWED_MODES[engine]:
        allowed = ", ".join(m.value for m in ALLOWED_MODES[engine])
        raise ValueError(
            f"deployment_mode {mode.value} is not available for {engine.value}; allowed: {allowed}, "
            f"got DeploymentMode.{mode.name}"
        )
    if values.get("instance_type") == "mq.t3.micro" and mode is not DeploymentMode.SINGLE_INSTANCE:
        raise ValueError(f"instance_type mq.t3.micro is for SINGLE_INSTANCE brokers only, got {mode.value}")
    if engine is BrokerEngine.RABBITMQ and values.get("admin_username") == "guest":
        raise ValueError("admin_username 'guest' is reserved by RabbitMQ; choose another name")
    if values.get("encryption_key") is not None and engine is BrokerEngine.RABBITMQ:
        raise ValueError("encryption_key: Amazon MQ for RabbitMQ supports only AWS-owned keys; give no key")
    selection = values.get("vpc_subnets")
    if selection is not None and values.get("vpc") is None:
        raise ValueError("vpc_subnets selects subnets of vpc; give vpc too")
    if isinstance(selection, ec2.SubnetSelection) and selection.subnet_type == ec2.SubnetType.PUBLIC:
        raise ValueError(
            "vpc_subnets selects PUBLIC subnets; a MessageBroker is private: select PRIVATE_ISOLATED or "
            "PRIVATE_WITH_EGRESS subnets"
        )


#: What every MessageBroker prop accepts.
RULES = (
    r.Rules(
        {
            "engine": r.Instance(BrokerEngine, "a BrokerEngine (ACTIVEMQ or RABBITMQ)", tokens="synth"),
            "deployment_mode": r.Instance(
                DeploymentMode,
                "a DeploymentMode (SINGLE_INSTANCE, ACTIVE_STANDBY_MULTI_AZ or CLUSTER_MULTI_AZ)",
                optional=True,
                tokens="synth",
            ),
            "vpc": r.Interface("an ec2.IVpc", ("vpc_id", "select_subnets", "public_subnets"), optional=True),
            "vpc_subnets": r.Instance(ec2.SubnetSelection, "an ec2.SubnetSelection", optional=True, tokens="synth"),
            "instance_type": r.Custom(
                _check_instance_type,
                "an Amazon MQ broker instance type of the engine",
                source="Amazon MQ developer guide, Broker instance types",
            ),
            "engine_version": r.Custom(
                _check_engine_version,
                "an engine version Amazon MQ supports for new brokers",
                optional=True,
                source="Amazon MQ developer guide, engine versions",
            ),
            "admin_username": r.Text(
                "2-100 characters of letters, digits and - . _ ~",
                pattern=_USERNAME,
                min_length=2,
                max_length=100,
                source="Amazon MQ User Username",
            ),
            "encryption_key": ENCRYPTION_KEY,
            "allowed_peers": r.Custom(_check_allowed_peers, "a list of ec2.IPeer", tokens="synth"),
            "maintenance_window": r.Fields(
                MaintenanceWindow, MAINTENANCE_WINDOW_RULES, "a MaintenanceWindow", tokens="synth"
            ),
            "removal_policy": removal_policy(
                "AWS::AmazonMQ::Broker", "AWS::SecretsManager::Secret", "AWS::EC2::VPC", "AWS::Logs::LogGroup"
            ),
        },
        relations=(_engine_relations,),
    )
    | ALARM_PROPS
)


def _check_metric_instance(prop: str, value: object, ctx: r.Context) -> None:
    """ActiveMQ: 1, or 2 for active/standby (None is refused by :func:`_metric_instance_given`); RabbitMQ: None."""
    broker = ctx.scope
    assert isinstance(broker, MessageBroker)
    if broker.engine is BrokerEngine.RABBITMQ:
        raise ValueError(f"{prop} must be None for RabbitMQ (its metrics are per broker), got {r.show(value)}")
    count = len(broker.instance_names)
    if value is None or isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= count:
        raise ValueError(
            f"{prop} must be the ActiveMQ broker instance, 1-{count} for {broker.deployment_mode.value} "
            f"(its metrics are per instance), got {r.show(value)}"
        )


def _check_metric_period(prop: str, value: object, ctx: r.Context) -> None:
    r.Seconds(60, MAX_METRIC_PERIOD_SECONDS, text="1 minute-7 days, whole minutes", tokens="synth").check(
        prop, value, ctx
    )
    seconds = value.to_seconds(integral=False)  # type: ignore[attr-defined]
    if seconds % 60:
        raise ValueError(f"{prop} must be a whole number of minutes (1 minute-7 days), got {r.show(value)}")


def _metric_instance_given(values: Mapping[str, object], ctx: r.Context) -> None:
    broker = ctx.scope
    if isinstance(broker, MessageBroker) and broker.engine is BrokerEngine.ACTIVEMQ and values.get("instance") is None:
        _check_metric_instance("instance", None, ctx)


# CloudWatch statistics ("Statistics definitions"): the five basic ones (aws-cdk-lib also takes avg, max, min, sum, n,
# any case), IQM, and the extended ones: pNN, tmNN, wmNN, tcNN, tsNN, or with a range, and PR(low:high).
_STATISTIC = (
    r"(?i:SampleCount|Average|Sum|Minimum|Maximum|avg|max|min|sum|n|IQM)"
    r"|(?i:p|tm|wm|tc|ts)(\d{1,2}(\.\d+)?|100)"
    r"|(?i:tm|wm|tc|ts)\(\d*(\.\d+)?%?:\d*(\.\d+)?%?\)"
    r"|(?i:PR)\(\d*(\.\d+)?:\d*(\.\d+)?\)"
)


METRIC_RULES = r.Rules(
    {
        "name": r.Text("an Amazon MQ metric name such as 'CpuUtilization'", pattern=r"[A-Za-z0-9_.-]+"),
        "instance": r.Custom(
            _check_metric_instance, "the broker instance (ActiveMQ), or None", optional=True, tokens="synth"
        ),
        "statistic": r.Text(
            "a CloudWatch statistic: Average, Maximum, Minimum, Sum, SampleCount (or avg, max, min, sum, n), IQM, "
            "or a percentile or trimmed statistic such as p99, tm90, wm(10%:90%), PR(:300)",
            pattern=_STATISTIC,
            tokens="synth",
            why="aws-cdk-lib renders it as a statistic or an extended statistic",
            source="CloudWatch User Guide, Statistics definitions",
        ),
        "period": r.Custom(
            _check_metric_period,
            "1 minute-7 days, whole minutes",
            tokens="synth",
            source="CloudWatch PutMetricAlarm Period",
        ),
    },
    relations=(_metric_instance_given,),
)


@jsii.implements(ec2.IConnectable)
class MessageBroker(PatternConstruct):
    """An Amazon MQ broker that is never public: private subnets, TLS ports only, generated credentials.

    Builds:

    * ``vpc`` (when none is given): isolated private subnets in 2 AZs, no NAT
      gateway, flow logs to CloudWatch Logs (encrypted with ``encryption_key`` when given).
    * ``security_group``: no ingress but the engine's TLS ports (``ports``) from
      ``allowed_peers``; no egress. The broker is an ``ec2.IConnectable``:
      ``broker.connections.allow_default_port_from(peer)`` and
      ``other.connections.allow_to(broker, ec2.Port.tcp(broker.ports["openwire"]))`` work.
    * ``secret``: the admin credentials, generated by Secrets Manager (32 letters
      and digits: Amazon MQ forbids commas, colons and equal signs) and passed to
      the broker as a dynamic reference, never as template text. Not rotated:
      Amazon MQ users cannot be rotated by a Secrets Manager rotation function
      without custom code; rotate by updating the secret and the broker user.
      Encrypted with ``encryption_key`` when one is given.
    * ``broker`` (``CfnBroker``): ``deployment_mode`` (ActiveMQ: active/standby,
      RabbitMQ: cluster), not publicly accessible, automatic minor version
      upgrades in ``maintenance_window``, a current ``engine_version`` pinned,
      general (and, for ActiveMQ, audit) logs to CloudWatch Logs, encrypted with
      ``encryption_key`` (ActiveMQ) or an AWS-owned key. ActiveMQ publishes its logs
      through ``log_policy``, one CloudWatch Logs resource policy shared by every
      broker of the stack.
    * ``alarms``: a read-only mapping of stable keys to alarms. ActiveMQ, one per
      instance (``<key>_1``, ``<key>_2``; overridden together by ``<key>``):
      ``cpu_utilization``, ``heap_usage``, ``store_percent_usage`` at 80 %;
      RabbitMQ: ``system_cpu_utilization`` at 80 %, ``memory_used`` at 80 % of its
      limit, ``disk_free`` under twice its limit.
    * ``endpoints`` (tokens, keyed like ``ports``) and ``connection_url``, the URL
      clients use: ActiveMQ ``failover:(ssl://…-1…:61617,ssl://…-2…:61617)`` (one
      endpoint for a single instance), RabbitMQ the amqps endpoint.

    :param alarm_topic: an SNS topic (or ``AlarmTopic``) the alarms notify; default none.
    :param create_alarms: default True; False creates no alarm.
    :param alarm_settings: an ``AlarmSettings``: name prefix, extra ALARM/OK actions, and
        per-key overrides (``AlarmOptions``, or None to drop that alarm or family).
    """

    #: The keys of ``alarm_settings.overrides``: ActiveMQ's three, then RabbitMQ's three.
    ALARM_KEYS: ClassVar[tuple[str, ...]] = (*ACTIVEMQ_ALARMS, *RABBITMQ_ALARM_KEYS)

    @r.guarded(RULES)
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        engine: BrokerEngine = BrokerEngine.ACTIVEMQ,
        deployment_mode: DeploymentMode | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        instance_type: str = "mq.m5.large",
        engine_version: str | None = None,
        admin_username: str = "admin",
        alarm_topic: sns.ITopic | AlarmTopic | None = None,
        create_alarms: bool = True,
        alarm_settings: AlarmSettings | None = None,
        encryption_key: kms.IKey | None = None,
        allowed_peers: Sequence[ec2.IPeer] = (),
        maintenance_window: MaintenanceWindow = DEFAULT_MAINTENANCE_WINDOW,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        alarms = Alarms.of(self, alarm_topic, create_alarms, alarm_settings, keys=ALARM_KEYS_BY_ENGINE[engine])
        self.engine = engine
        self.encryption_key = encryption_key
        self.deployment_mode = deployment_mode or DEFAULT_MODES[engine]
        self.engine_version = engine_version or DEFAULT_ENGINE_VERSIONS[engine]
        self.ports = dict(PORTS[engine])
        self.broker_name = Names.unique_resource_name(self, max_length=BROKER_NAME_MAX, separator="-")

        self.vpc: ec2.IVpc = vpc or self._new_vpc(removal_policy)
        subnets = self._pick_subnets(vpc_subnets)
        self._build_security_group(allowed_peers)
        self.secret = self._new_secret(admin_username, removal_policy)
        self.broker = self._new_broker(
            subnets,
            instance_type=instance_type,
            admin_username=admin_username,
            maintenance_window=maintenance_window,
            removal_policy=removal_policy,
        )
        self.endpoints, self.connection_url = self._endpoints()
        self.alarms = self._add_alarms(alarms)

    def _build_security_group(self, allowed_peers: Sequence[ec2.IPeer]) -> None:
        """``security_group`` and ``connections``: no egress, no ingress but the engine's TLS ports from
        ``allowed_peers``."""
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=self.vpc,
            description=f"Amazon MQ {self.engine.value} broker: TLS ports from allowed peers only",
            allow_all_outbound=False,
        )
        default_port = ec2.Port.tcp(self.ports[DEFAULT_PORT[self.engine]])
        self._connections = ec2.Connections(security_groups=[self.security_group], default_port=default_port)
        for peer in allowed_peers:
            self.allow_from(peer)

    def _new_secret(self, admin_username: str, removal_policy: RemovalPolicy) -> secretsmanager.Secret:
        """The admin credentials: a generated password, encrypted with ``encryption_key`` when given."""
        secret = secretsmanager.Secret(
            self,
            "AdminSecret",
            description=f"Admin user of the Amazon MQ broker {self.broker_name}",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"username": admin_username}),
                generate_string_key="password",
                exclude_punctuation=True,  # Amazon MQ passwords: no commas, colons or equal signs
                password_length=32,
            ),
            encryption_key=self.encryption_key,
            removal_policy=removal_policy,
        )
        Validations.of(secret).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SMG4",
                reason="Amazon MQ broker users cannot be rotated by a Secrets Manager rotation function without "
                "custom code that also updates the broker user; rotation is the owner's documented follow-up.",
            )
        )
        if self.encryption_key is None:
            acknowledge_checkov(
                secret,
                "CKV_AWS_149",
                "Without an encryption_key the secret is encrypted with Secrets Manager's AWS-managed key "
                "(aws/secretsmanager), as the broker uses an AWS-owned key; given encryption_key, both use it.",
            )
        return secret

    def _new_broker(
        self,
        subnets: list[ec2.ISubnet],
        *,
        instance_type: str,
        admin_username: str,
        maintenance_window: MaintenanceWindow,
        removal_policy: RemovalPolicy,
    ) -> mq.CfnBroker:
        """The broker, after the stack's log resource policy (ActiveMQ; sets ``log_policy``)."""
        activemq = self.engine is BrokerEngine.ACTIVEMQ
        key = self.encryption_key
        # Amazon MQ for RabbitMQ publishes its general logs without a resource policy of the account's.
        self.log_policy: logs.ResourcePolicy | None = _mq_log_policy(Stack.of(self)) if activemq else None
        broker = mq.CfnBroker(
            self,
            "Broker",
            broker_name=self.broker_name,
            engine_type=self.engine.value,
            engine_version=self.engine_version,
            deployment_mode=self.deployment_mode.value,
            host_instance_type=instance_type,
            publicly_accessible=False,
            auto_minor_version_upgrade=True,
            subnet_ids=[subnet.subnet_id for subnet in subnets],
            security_groups=[self.security_group.security_group_id],
            users=[
                mq.CfnBroker.UserProperty(
                    username=admin_username,
                    password=self.secret.secret_value_from_json("password").unsafe_unwrap(),
                    console_access=True if activemq else None,
                )
            ],
            logs=mq.CfnBroker.LogListProperty(general=True, audit=True if activemq else None),
            encryption_options=mq.CfnBroker.EncryptionOptionsProperty(
                use_aws_owned_key=key is None, kms_key_id=key.key_arn if key else None
            ),
            maintenance_window_start_time=mq.CfnBroker.MaintenanceWindowProperty(
                day_of_week=maintenance_window.day,
                time_of_day=maintenance_window.time,
                time_zone=maintenance_window.time_zone,
            ),
        )
        broker.apply_removal_policy(removal_policy)
        if self.log_policy is not None:
            broker.node.add_dependency(self.log_policy)
        return broker

    def _endpoints(self) -> tuple[dict[str, list[str]], str]:
        """``endpoints`` keyed like ``ports``, and ``connection_url``. ActiveMQ: the failover transport, also
        for one instance (it reconnects after a maintenance reboot); RabbitMQ: the AMQPS endpoint."""
        broker = self.broker
        if self.engine is BrokerEngine.RABBITMQ:
            endpoints = {"amqps": broker.attr_amqp_endpoints, "console": broker.attr_console_ur_ls}
            return endpoints, Fn.select(0, broker.attr_amqp_endpoints)
        endpoints = {
            "openwire": broker.attr_open_wire_endpoints,
            "amqp": broker.attr_amqp_endpoints,
            "stomp": broker.attr_stomp_endpoints,
            "mqtt": broker.attr_mqtt_endpoints,
            "wss": broker.attr_wss_endpoints,
            "console": broker.attr_console_ur_ls,
        }
        return endpoints, Fn.join("", ["failover:(", Fn.join(",", broker.attr_open_wire_endpoints), ")"])

    @property
    def instance_names(self) -> list[str]:
        """The ``Broker`` dimension values of the broker's instances in CloudWatch."""
        if self.engine is BrokerEngine.RABBITMQ:
            return [self.broker_name]
        count = 2 if self.deployment_mode is DeploymentMode.ACTIVE_STANDBY_MULTI_AZ else 1
        return [f"{self.broker_name}-{i}" for i in range(1, count + 1)]

    @property
    @jsii.member(jsii_name="connections")
    def connections(self) -> ec2.Connections:
        """The broker's security group and default port (OpenWire or AMQPS): ``ec2.IConnectable``."""
        return self._connections

    @r.guarded(GRANT_RULES)
    def grant_read_credentials(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read the admin credentials (the secret, and ``encryption_key`` to decrypt it)."""
        return self.secret.grant_read(grantee)

    @r.guarded(r.Rules({"peer": _PEER}))
    def allow_from(self, peer: ec2.IPeer) -> None:
        """Open every TLS port of the engine to ``peer`` (never to the whole internet: 0.0.0.0/0 and ::/0
        are refused; name a security group, or the CIDR of the networks that connect)."""
        for protocol, port in self.ports.items():
            self.security_group.add_ingress_rule(peer, ec2.Port.tcp(port), f"{protocol} over TLS")

    def _new_vpc(self, removal_policy: RemovalPolicy) -> ec2.Vpc:
        return isolated_vpc(self, "Vpc", removal_policy=removal_policy, encryption_key=self.encryption_key)

    def _pick_subnets(self, selection: ec2.SubnetSelection | None) -> list[ec2.ISubnet]:
        # aws-cdk-lib refuses a subnet group the VPC does not have (ThereSubnetGroupsName, with the names it has)
        with r.blame("vpc_subnets"):
            candidates = private_subnets(self.vpc, selection, what="a MessageBroker")
        needed = SUBNETS_NEEDED[self.deployment_mode]
        chosen: dict[str, ec2.ISubnet] = {}
        for subnet in candidates:
            chosen.setdefault(subnet.availability_zone, subnet)
        if len(chosen) < needed:
            raise ValueError(
                f"vpc_subnets must give {needed} private subnet(s) in distinct availability zones for "
                f"{self.deployment_mode.value}, got {len(candidates)} subnet(s) in {len(chosen)} zone(s)"
            )
        return list(chosen.values())[:needed]

    @r.guarded(METRIC_RULES)
    def metric(
        self,
        name: str,
        *,
        instance: int | None = None,
        statistic: str = "Average",
        period: Duration = DEFAULT_METRIC_PERIOD,
    ) -> cloudwatch.Metric:
        """The ``AWS/AmazonMQ`` metric ``name`` (e.g. ``"CpuUtilization"``, ``"RabbitMQMemUsed"``).

        :param instance: ActiveMQ: the broker instance, 1 or (active/standby) 2; its metrics are per
            instance (``Broker`` dimension ``<broker_name>-<instance>``). RabbitMQ: none (per broker).
        """
        broker = self.broker_name if instance is None else self.instance_names[instance - 1]
        with r.blame("statistic"):  # aws-cdk-lib parses the statistic ("Average", "p99", "TM(10%:90%)"...)
            return cloudwatch.Metric(
                namespace="AWS/AmazonMQ",
                metric_name=name,
                dimensions_map={"Broker": broker},
                statistic=statistic,
                period=period,
            )

    def _add_alarms(self, alarms: Alarms) -> Mapping[str, cloudwatch.Alarm]:
        if self.engine is BrokerEngine.ACTIVEMQ:
            for number, instance in enumerate(self.instance_names, start=1):
                for key, (metric, what) in ACTIVEMQ_ALARMS.items():
                    alarms.add(
                        f"{key}_{number}",
                        option_key=key,
                        metric=self.metric(metric, instance=number, statistic="Maximum"),
                        threshold=ALARM_PERCENT,
                        evaluation_periods=3,
                        kind="percent",
                        description=f"Broker instance {instance}: {what} above {{threshold}} %.",
                    )
            return alarms.mapping
        name = self.broker_name
        memory = cloudwatch.MathExpression(
            expression="100 * used / limit",
            using_metrics={
                "used": self.metric("RabbitMQMemUsed", statistic="Maximum"),
                "limit": self.metric("RabbitMQMemLimit", statistic="Minimum"),
            },
            label="memory used, % of the high-memory-alarm limit",
            period=DEFAULT_METRIC_PERIOD,
        )
        disk = cloudwatch.MathExpression(
            expression="free / limit",
            using_metrics={
                "free": self.metric("RabbitMQDiskFree", statistic="Minimum"),
                "limit": self.metric("RabbitMQDiskFreeLimit", statistic="Maximum"),
            },
            label="disk free, multiples of the disk alarm limit",
            period=DEFAULT_METRIC_PERIOD,
        )
        alarms.add(
            "system_cpu_utilization",
            metric=self.metric("SystemCpuUtilization", statistic="Maximum"),
            threshold=ALARM_PERCENT,
            evaluation_periods=3,
            kind="percent",
            description=f"Broker {name}: CPU above {{threshold}} %.",
        )
        alarms.add(
            "memory_used",
            metric=memory,
            threshold=ALARM_PERCENT,
            kind="percent",
            description=f"Broker {name}: memory above {{threshold}} % of the limit at which RabbitMQ "
            "blocks every publisher.",
        )
        alarms.add(
            "disk_free",
            metric=disk,
            threshold=2,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            # free / limit: 0 and up, unbounded (1 is the limit, at which RabbitMQ blocks publishers), so no
            # "ratio" (0-1): a threshold must be above 0, or the alarm could never fire
            kind="multiple",
            description=f"Broker {name}: free disk below {{threshold}} times the limit at which RabbitMQ blocks "
            "publishers.",
        )
        return alarms.mapping


def _mq_log_policy(stack: Stack) -> logs.ResourcePolicy:
    """The stack's one resource policy letting Amazon MQ for ActiveMQ publish logs (developer guide,
    "Configuring Amazon MQ for ActiveMQ logs"), made by the first broker that needs it: it covers the
    ``/aws/amazonmq/*`` log groups of this account, which every broker's groups are."""
    existing = stack.node.try_find_child(LOG_POLICY_ID)
    if existing is not None:
        return existing  # type: ignore[return-value]
    policy = logs.ResourcePolicy(
        stack,
        LOG_POLICY_ID,
        resource_policy_name=Names.unique_resource_name(stack, max_length=200, separator="-") + "-mq-logs",
        policy_statements=[
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("mq.amazonaws.com")],
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[
                    stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="/aws/amazonmq/*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        ],
    )
    return policy


def isolated_vpc(
    scope: Construct,
    construct_id: str,
    *,
    max_azs: int = 2,
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    encryption_key: kms.IKey | None = None,
) -> ec2.Vpc:
    """A VPC of isolated private subnets (one per AZ), no NAT gateway, no internet gateway, flow logs
    to CloudWatch Logs (one month; encrypted with ``encryption_key`` when given, which then lets CloudWatch
    Logs use it): what ``MessageBroker`` creates when given no ``vpc`` (with its ``encryption_key``)."""
    with v.validating(scope, "isolated_vpc"):
        v.check_interface("encryption_key", encryption_key, "a kms.IKey", "key_arn", "add_to_resource_policy")
    flow_logs = logs.LogGroup(
        scope,
        f"{construct_id}FlowLogs",
        retention=logs.RetentionDays.ONE_MONTH,
        encryption_key=encryption_key,
        removal_policy=removal_policy,
    )
    if encryption_key is not None:
        allow_logs_to_use_key(encryption_key, Stack.of(scope))
    else:
        acknowledge_checkov(flow_logs, "CKV_AWS_158", LOGS_SERVICE_ENCRYPTION_REASON)
    return ec2.Vpc(
        scope,
        construct_id,
        # The region's first zones at deploy time, in env-agnostic and environment-bound stacks alike:
        # an environment-bound stack would otherwise hard-code the names looked up (cfn-lint W3010).
        availability_zones=[Fn.select(index, Fn.get_azs()) for index in range(max_azs)],
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24)
        ],
        flow_logs={"FlowLogs": ec2.FlowLogOptions(destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs))},
        # True would add a custom resource (a Lambda) to empty the default security group; nothing here uses it.
        restrict_default_security_group=False,
    )
