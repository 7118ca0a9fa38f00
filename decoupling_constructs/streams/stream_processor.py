"""StreamProcessor: an Amazon Managed Service for Apache Flink application reading a Kinesis stream, on the L1
``aws_kinesisanalyticsv2.CfnApplication`` (the alpha L2 builds a deprecated L1, forces aws-cdk-lib >= 2.275 and has
no restore, rollback, CMK, start on deploy or alarms)."""

from __future__ import annotations

import hashlib
import json
import math
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from aws_cdk import (
    Acknowledgment,
    ArnFormat,
    CfnResource,
    CustomResource,
    Duration,
    RemovalPolicy,
    Stack,
    Token,
    Validations,
)
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisanalyticsv2 as flink
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sns as sns
from constructs import Construct

if TYPE_CHECKING:
    from ..alarm_topic import AlarmTopic

from .. import _internals, _stacks, limits
from .. import _rules as r
from .._alarms import ALARM_PROPS, Alarms, AlarmSettings
from .._cdk import PatternConstruct
from .._network import private_subnets
from .._props import ENCRYPTION_KEY, REMOVAL_POLICY
from .._security import LOGS_SERVICE_ENCRYPTION_REASON, acknowledge_checkov, allow_logs_to_use_key
from .._validate import PropTypeError
from ._delivery import READ_STREAM_ACTIONS
from .stream_to_s3 import StreamToS3

# Managed Service for Apache Flink limits (limits.py names the AWS document of each):
MAX_PARALLELISM = limits.FLINK_MAX_PARALLELISM
MAX_PARALLELISM_PER_KPU = limits.FLINK_MAX_PARALLELISM_PER_KPU
DEFAULT_MAX_KPUS = limits.FLINK_DEFAULT_MAX_KPUS
#: The runtimes accepted: Apache Flink only. SQL-1_0 (Kinesis Data Analytics for SQL, no new applications since
#: 2025-10-15) and ZEPPELIN-FLINK-* (Studio notebooks, INTERACTIVE mode) are not stream-processing applications
#: of this kind. API reference, ApplicationSummary RuntimeEnvironment (FLINK-1_15 ... FLINK-1_20); developer
#: guide, "Amazon Managed Service for Apache Flink 2.2" (FLINK-2_2). Older FLINK-1_6 ... 1_13 are out of support.
RUNTIMES = ("FLINK-1_15", "FLINK-1_18", "FLINK-1_19", "FLINK-1_20", "FLINK-2_2")
DEFAULT_RUNTIME = "FLINK-1_20"
LOG_LEVELS = ("INFO", "WARN", "ERROR", "DEBUG")  # API MonitoringConfiguration LogLevel
METRICS_LEVELS = ("APPLICATION", "TASK", "OPERATOR", "PARALLELISM")  # API MonitoringConfiguration MetricsLevel
RESTORE_TYPES = ("LATEST", "SKIP", "CUSTOM")  # API ApplicationRestoreConfiguration ApplicationRestoreType
_RESTORE = {
    "LATEST": "RESTORE_FROM_LATEST_SNAPSHOT",
    "SKIP": "SKIP_RESTORE_FROM_SNAPSHOT",
    "CUSTOM": "RESTORE_FROM_CUSTOM_SNAPSHOT",
}
DEFAULT_CHECKPOINT_INTERVAL = Duration.minutes(1)  # API CheckpointConfiguration: the DEFAULT configuration's values
DEFAULT_MIN_PAUSE = Duration.seconds(5)
DEFAULT_SOURCE_LAG_ALARM = Duration.minutes(10)
ONE_MINUTE = Duration.minutes(1)
FIVE_MINUTES = Duration.minutes(5)
#: The property group a Python application's entry point is read from ("Create a Python application": python,
#: jarfile, pyFiles, pyArchives; pyModule, pyExecutable and pyRequirements are not supported).
PYTHON_RUN_OPTIONS = "kinesis.analytics.flink.run.options"
#: The property group the source stream's name, ARN and Region reach the job in.
SOURCE_GROUP = "SourceStream"
METRICS_NAMESPACE = "AWS/KinesisAnalytics"
# API PropertyGroup: PropertyGroupId 1-50 of [a-zA-Z0-9_.-]; PropertyMap at most 50 entries, keys and values
# 1-2,048 characters; EnvironmentProperties at most 50 groups.
_GROUP_ID = r.Text("a property group id: 1-50 of letters, digits, '_', '.', '-'", pattern=r"[a-zA-Z0-9_.-]{1,50}")
_PROPERTY = r.Text("1-2048 characters", max_length=limits.FLINK_MAX_PROPERTY_CHARS)
_MAX_GROUPS = limits.FLINK_MAX_PROPERTY_GROUPS
_MAX_PROPERTIES = limits.FLINK_MAX_PROPERTIES_PER_GROUP


@dataclass(frozen=True)
class FlinkCode:
    """Where the application's code is: :meth:`jar`, :meth:`python` (a local zip or directory, uploaded as an
    asset), or :meth:`from_bucket`."""

    path: Path | None = None
    bucket: s3.IBucket | None = None
    key: str | None = None
    python_main: str | None = None
    jarfile: str | None = None
    py_files: tuple[str, ...] = ()

    @staticmethod
    def jar(path: str | Path) -> FlinkCode:
        """A local ``.jar`` (Java or Scala), uploaded as an asset."""
        return FlinkCode(path=Path(path))

    @staticmethod
    def python(path: str | Path, *, main: str, jarfile: str | None = None, py_files: Sequence[str] = ()) -> FlinkCode:
        """A local ``.zip`` or directory of a PyFlink application: ``main`` is its entry point, ``jarfile`` the
        connectors' uber-jar and ``py_files`` the modules ``main`` imports, all relative to the zip's root; every
        dependency must be inside (AWS installs none: ``pyRequirements`` is not supported)."""
        return FlinkCode(path=Path(path), python_main=main, jarfile=jarfile, py_files=tuple(py_files))

    @staticmethod
    def from_bucket(
        bucket: s3.IBucket, key: str, *, python_main: str | None = None, jarfile: str | None = None
    ) -> FlinkCode:
        """An object already in S3: a jar, or a Python zip when ``python_main`` names its entry point."""
        return FlinkCode(bucket=bucket, key=key, python_main=python_main, jarfile=jarfile)

    def run_options(self) -> dict[str, str] | None:
        """The ``kinesis.analytics.flink.run.options`` group of a Python application."""
        if self.python_main is None:
            return None
        options = {"python": self.python_main}
        if self.py_files:
            options["pyFiles"] = ",".join(self.py_files)
        if self.jarfile:
            options["jarfile"] = self.jarfile
        return options


def _entries(path: Path) -> set[str]:
    if path.is_dir():
        return {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()}
    with zipfile.ZipFile(path) as archive:
        return set(archive.namelist())


def _check_code(prop: str, value: object, ctx: r.Context) -> None:
    """A FlinkCode whose local file exists, a jar that is a .jar, and a Python zip or directory holding its main
    file (and its jarfile): what the service would only find out when the job fails to start."""
    r.Instance(FlinkCode, "a FlinkCode (FlinkCode.jar, .python or .from_bucket)").check(prop, value, ctx)
    assert isinstance(value, FlinkCode)
    if value.bucket is not None:
        r.Interface("an s3.IBucket", ("bucket_arn", "arn_for_objects")).check(f"{prop}.bucket", value.bucket, ctx)
        r.Text("an S3 object key", max_length=1024).check(f"{prop}.key", value.key, ctx)
        if value.python_main is not None:
            r.Text("the Python entry point's path in the zip").check(f"{prop}.python_main", value.python_main, ctx)
        return
    path = value.path
    assert path is not None
    if not path.exists():
        raise ValueError(f"{prop} must name an existing file or directory, got {str(path)!r} (not found)")
    if value.python_main is None:
        if path.suffix != ".jar" or not path.is_file():
            raise ValueError(f"{prop} must be a .jar file (FlinkCode.jar) or FlinkCode.python(...), got {str(path)!r}")
        return
    if path.is_file() and not zipfile.is_zipfile(path):
        raise ValueError(f"{prop} must be a .zip file or a directory of a Python application, got {str(path)!r}")
    entries = _entries(path)
    wanted_files = [("main", value.python_main), ("jarfile", value.jarfile), *(("py_files", f) for f in value.py_files)]
    for name, wanted in wanted_files:
        if wanted is not None and wanted.removeprefix("./") not in entries:
            raise ValueError(
                f"{prop} must hold its {name} file {wanted!r} (a path from the zip's root): it is not in "
                f"{str(path)!r}, so the application would fail to start"
            )


def _check_source(prop: str, value: object, ctx: r.Context) -> None:
    attributes: tuple[str, ...] = () if isinstance(value, StreamToS3) else ("stream_arn", "stream_name", "node")
    r.Interface("a StreamToS3 or a kinesis.IStream", attributes).check(prop, value, ctx)


_SINK_TEXT = "a kinesis.IStream, a firehose.IDeliveryStream or an s3.IBucket"


def _sink_kind(value: object) -> str | None:
    if hasattr(value, "stream_arn") and hasattr(value, "grant_write"):
        return "kinesis"
    if hasattr(value, "delivery_stream_arn") and hasattr(value, "grant_put_records"):
        return "firehose"
    if hasattr(value, "bucket_arn") and hasattr(value, "arn_for_objects"):
        return "s3"
    return None


def _check_sink(prop: str, value: object, ctx: r.Context) -> None:
    if _sink_kind(value) is None:
        raise PropTypeError(f"{prop} must be {_SINK_TEXT}, got {r.show(value)}")
    r.Interface(_SINK_TEXT).check(prop, value, ctx)  # of this App


def _check_groups(prop: str, value: object, ctx: r.Context) -> None:
    r.MappingOf(
        _GROUP_ID,
        r.MappingOf(_PROPERTY, _PROPERTY, max_length=_MAX_PROPERTIES, text="a mapping of str to str"),
        max_length=_MAX_GROUPS,
        text="a mapping of property group id to a mapping of str to str",
    ).check(prop, value, ctx)
    assert isinstance(value, Mapping)
    for reserved, why in (
        (
            PYTHON_RUN_OPTIONS,
            "it is built from code=FlinkCode.python(main=..., jarfile=...); pyRequirements, "
            "pyModule and pyExecutable are not supported by the service",
        ),
        (SOURCE_GROUP, "the construct puts the source stream's name, ARN and Region there"),
    ):
        if reserved in value:
            raise ValueError(f"{prop} must not set the group {reserved!r}: {why}")


def _check_retention(prop: str, value: object, ctx: r.Context) -> None:
    r.Instance(logs.RetentionDays, "a logs.RetentionDays", tokens="synth").check(prop, value, ctx)
    if value is logs.RetentionDays.INFINITE:
        raise ValueError(f"{prop} must be a bounded logs.RetentionDays (the log group is retained), got INFINITE")


def _restore_relations(values: Mapping[str, Any], ctx: r.Context) -> None:
    restore, snapshot, snapshots = values["restore"], values["restore_snapshot"], values["snapshots"]
    if restore == "CUSTOM" and snapshot is None:
        raise ValueError("restore 'CUSTOM' needs restore_snapshot (the snapshot's name), got restore_snapshot=None")
    if snapshot is not None and restore != "CUSTOM":
        raise ValueError(f"restore_snapshot={snapshot!r} is read only with restore 'CUSTOM', got restore={restore!r}")
    if restore in ("LATEST", "CUSTOM") and snapshots is False:
        raise ValueError(
            f"restore {restore!r} restores from a snapshot, but snapshots=False takes none: set snapshots=True, or "
            "restore='SKIP', got snapshots=False"
        )


def _kpu_relation(values: Mapping[str, Any], ctx: r.Context) -> None:
    parallelism, per_kpu, max_kpus = values["parallelism"], values["parallelism_per_kpu"], values["max_kpus"]
    if parallelism is None or any(Token.is_unresolved(v) for v in (parallelism, per_kpu, max_kpus)):
        return
    _check_kpus(parallelism, per_kpu, max_kpus)


def _check_kpus(parallelism: int, per_kpu: int, max_kpus: int) -> None:
    kpus = math.ceil(parallelism / per_kpu)
    if kpus > max_kpus:
        raise ValueError(
            f"parallelism {parallelism} at parallelism_per_kpu {per_kpu} needs {kpus} KPUs, over max_kpus "
            f"{max_kpus} (the application's KPU quota, 64 by default: raise it with Service Quotas, then max_kpus), "
            f"got parallelism={parallelism}"
        )


def _vpc_relations(values: Mapping[str, Any], ctx: r.Context) -> None:
    if values["vpc"] is None:
        for prop in ("vpc_subnets", "security_groups"):
            if values[prop] is not None:
                raise ValueError(f"{prop} needs vpc, got {prop}={r.show(values[prop])} without vpc")


_SYNTH = "the construct computes the KPUs and the default parallelism from it"

#: What every StreamProcessor prop accepts.
RULES = (
    r.Rules(
        {
            "code": r.Custom(_check_code, "a FlinkCode", tokens="synth", why="the code's files are checked"),
            "source": r.Custom(_check_source, "a StreamToS3 or a kinesis.IStream", tokens="synth"),
            "sinks": r.MappingOf(
                _GROUP_ID,
                r.Custom(_check_sink, _SINK_TEXT, tokens="synth"),
                max_length=_MAX_GROUPS - 2,
                text=f"a mapping of property group id to {_SINK_TEXT}",
                optional=True,
                tokens="synth",
            ),
            "runtime": r.OneOf(RUNTIMES, tokens="synth", source="API ApplicationSummary RuntimeEnvironment"),
            "property_groups": r.Custom(
                _check_groups,
                "a mapping of property group id to a mapping of str to str",
                optional=True,
                source="API PropertyGroup",
            ),
            "application_name": r.Text(
                "1-128 of letters, digits, '_', '.', '-'",
                pattern=r"[a-zA-Z0-9_.-]{1,128}",
                optional=True,
                source="API CreateApplication ApplicationName",
            ),
            "enhanced_fan_out": r.Bool(),
            "parallelism": r.Int(
                1, MAX_PARALLELISM, optional=True, tokens="synth", why=_SYNTH, source="how-scaling: Parallelism"
            ),
            "parallelism_per_kpu": r.Int(
                1, MAX_PARALLELISM_PER_KPU, tokens="synth", why=_SYNTH, source="how-scaling: ParallelismPerKPU"
            ),
            "auto_scaling": r.Bool(),
            "max_kpus": r.Int(1, 1_000_000, tokens="synth", why=_SYNTH, source="how-scaling: KPU quota"),
            "checkpoint_interval": r.Seconds(
                1,
                math.inf,
                tokens="synth",
                why="the checkpoint-duration alarm is computed from it",
                source="API CheckpointConfiguration CheckpointInterval",
            ),
            "min_pause_between_checkpoints": r.Seconds(
                0, math.inf, source="API CheckpointConfiguration MinPauseBetweenCheckpoints"
            ),
            "snapshots": r.Bool(),
            "restore": r.OneOf(RESTORE_TYPES, tokens="synth"),
            "restore_snapshot": r.Text(
                "a snapshot name: 1-256 of letters, digits, '_', '.', '-'",
                pattern=r"[a-zA-Z0-9_.-]{1,256}",
                optional=True,
                source="API ApplicationRestoreConfiguration SnapshotName",
            ),
            "allow_non_restored_state": r.Bool(),
            "system_rollback": r.Bool(),
            "log_level": r.OneOf(LOG_LEVELS),
            "metrics_level": r.OneOf(METRICS_LEVELS),
            "log_retention": r.Custom(_check_retention, "a bounded logs.RetentionDays", tokens="synth"),
            "encryption_key": ENCRYPTION_KEY,
            "vpc": r.Interface("an ec2.IVpc", ("vpc_id", "select_subnets"), optional=True, tokens="synth"),
            "vpc_subnets": r.Instance(ec2.SubnetSelection, "an ec2.SubnetSelection", optional=True, tokens="synth"),
            "security_groups": r.ListOf(
                r.Interface("an ec2.ISecurityGroup", ("security_group_id",), tokens="synth"),
                optional=True,
                min_length=1,
                max_length=5,  # API VpcConfiguration SecurityGroupIds: 1-5
                text="a list of 1-5 ec2.ISecurityGroup",
            ),
            "start_after_deploy": r.Bool(),
            "removal_policy": REMOVAL_POLICY,
        },
        relations=(_restore_relations, _kpu_relation, _vpc_relations),
    )
    | ALARM_PROPS
)

_METRIC_RULES = r.Rules(
    {
        "period": r.Seconds(60, 86_400, step=(60, "minutes"), tokens="synth", source="CloudWatch metric periods"),
        "statistic": r.Text("a CloudWatch statistic such as 'Maximum', 'Average' or 'p99'", tokens="synth"),
    }
)
_METRIC_NAME_RULES = r.Rules({"metric_name": r.Text("a Managed Flink metric name", tokens="synth")}) | _METRIC_RULES


class StreamProcessor(PatternConstruct):
    """An Amazon Managed Service for Apache Flink application reading a Kinesis stream and writing to its sinks.

    Builds:

    * ``application`` (``CfnApplication``): ``runtime`` (FLINK only), the code (an S3 asset, or the given object),
      property groups: ``SourceStream`` (``stream.name``, ``stream.arn``, ``aws.region``, ``efo``), one per sink
      named by its key in ``sinks`` (``type`` kinesis/firehose/s3, ``stream.``/``delivery-stream.``/``bucket.``
      ``name`` and ``arn``, ``aws.region``), ``kinesis.analytics.flink.run.options``
      for Python code, and ``property_groups``; CUSTOM parallelism (``parallelism``, default the source's shard
      count when known, else 1; ``parallelism_per_kpu``; ``auto_scaling``), checkpoints on (``checkpoint_interval``,
      ``min_pause_between_checkpoints``), snapshots (on), system rollback (on), ``restore`` (LATEST by default)
      when it starts, CMK encryption of its state with ``encryption_key``, VPC placement, and its monitoring
      levels. RETAIN by default: deleting it deletes its snapshots.
    * ``role``: assumed by kinesisanalytics.amazonaws.com; it may read the source (DescribeStream,
      DescribeStreamSummary, GetRecords, GetShardIterator, ListShards; with ``enhanced_fan_out`` the consumer
      actions too, and the stream's key), read the code, write to each sink (the sink's own L2 grant), write its
      log stream, and, in a VPC, manage its network interfaces.
    * ``log_group`` (``log_retention``) with a log stream, and the application's CloudWatch logging option.
    * ``start``: with ``start_after_deploy``, a custom resource whose function calls StartApplication with the
      restore configuration after every deploy that changes the application, and treats "already running" as
      done (idempotent). CloudFormation itself never starts an application.
    * ``alarms``: ``downtime`` (any downtime), ``full_restarts`` and ``failed_checkpoints`` (any new one),
      ``checkpoint_duration`` (a checkpoint longer than ``checkpoint_interval``), ``heap`` (heap over 90 %),
      ``cpu`` (CPU over 80 % for 15 minutes), ``source_lag`` (``millisBehindLatest`` over 10 minutes).

    The KPUs (``ceil(parallelism / parallelism_per_kpu)``) must fit ``max_kpus``, the application's KPU quota
    (64 by default).
    """

    #: The keys of ``alarms`` and of ``alarm_settings.overrides``.
    ALARM_KEYS: ClassVar[tuple[str, ...]] = (
        "downtime",
        "full_restarts",
        "failed_checkpoints",
        "checkpoint_duration",
        "heap",
        "cpu",
        "source_lag",
    )

    @r.guarded(RULES)
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: FlinkCode,
        source: StreamToS3 | kinesis.IStream,
        sinks: Mapping[str, kinesis.IStream | firehose.IDeliveryStream | s3.IBucket] | None = None,
        runtime: str = DEFAULT_RUNTIME,
        property_groups: Mapping[str, Mapping[str, str]] | None = None,
        application_name: str | None = None,
        enhanced_fan_out: bool = False,
        parallelism: int | None = None,
        parallelism_per_kpu: int = 1,
        auto_scaling: bool = True,
        max_kpus: int = DEFAULT_MAX_KPUS,
        checkpoint_interval: Duration = DEFAULT_CHECKPOINT_INTERVAL,
        min_pause_between_checkpoints: Duration = DEFAULT_MIN_PAUSE,
        snapshots: bool = True,
        restore: str = "LATEST",
        restore_snapshot: str | None = None,
        allow_non_restored_state: bool = False,
        system_rollback: bool = True,
        log_level: str = "INFO",
        metrics_level: str = "APPLICATION",
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        encryption_key: kms.IKey | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        start_after_deploy: bool = False,
        alarm_topic: sns.ITopic | AlarmTopic | None = None,
        create_alarms: bool = True,
        alarm_settings: AlarmSettings | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        alarms = Alarms.of(self, alarm_topic, create_alarms, alarm_settings)
        stream = source.stream if isinstance(source, StreamToS3) else source
        sinks = dict(sinks or {})
        _stacks.use_each(self, {"source": stream, "encryption_key": encryption_key, "vpc": vpc})
        _stacks.use_each(self, {f"sinks[{k!r}]": v for k, v in sinks.items()})
        self.source_stream = stream
        self.parallelism = parallelism if parallelism is not None else _default_parallelism(source)
        with r.blame("parallelism"):
            _check_kpus(self.parallelism, parallelism_per_kpu, max_kpus)
        self.checkpoint_interval = checkpoint_interval
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "kinesisanalytics.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            ),
            description="Managed Flink: read one Kinesis stream, write its sinks",
        )
        self.log_group = logs.LogGroup(
            self, "Logs", retention=log_retention, encryption_key=encryption_key, removal_policy=removal_policy
        )
        if encryption_key is not None:
            allow_logs_to_use_key(encryption_key, Stack.of(self))
        else:
            acknowledge_checkov(self.log_group, "CKV_AWS_158", LOGS_SERVICE_ENCRYPTION_REASON)
        self.log_stream = logs.LogStream(self, "LogStream", log_group=self.log_group, removal_policy=removal_policy)
        # The construct's own statements (the sinks' L2 grants go to the role's default policy).
        self.policy = iam.Policy(self, "Policy", roles=[self.role])
        self._wildcard_reasons: dict[str, list[str]] = {}
        code_location = self._code_location(code)
        self._grant_source(stream, enhanced_fan_out)
        with r.blame("sinks"):
            groups = self._sink_groups(sinks)
        self._grant_logging()
        network = self._network(vpc, vpc_subnets, security_groups)
        run_options = code.run_options()
        groups_by_id: dict[str, Mapping[str, str]] = {
            SOURCE_GROUP: {
                "stream.name": stream.stream_name,
                "stream.arn": stream.stream_arn,
                "aws.region": Stack.of(stream).region,
                "efo": "true" if enhanced_fan_out else "false",
            },
            **groups,
            **({PYTHON_RUN_OPTIONS: run_options} if run_options else {}),
            **dict(property_groups or {}),
        }
        environment = [
            flink.CfnApplication.PropertyGroupProperty(property_group_id=group, property_map=dict(values))
            for group, values in groups_by_id.items()
        ]
        run = flink.CfnApplication.RunConfigurationProperty(
            application_restore_configuration=flink.CfnApplication.ApplicationRestoreConfigurationProperty(
                application_restore_type=_RESTORE[restore], snapshot_name=restore_snapshot
            ),
            flink_run_configuration=flink.CfnApplication.FlinkRunConfigurationProperty(
                allow_non_restored_state=allow_non_restored_state
            ),
        )
        self.application = flink.CfnApplication(
            self,
            "Application",
            application_name=application_name,
            runtime_environment=runtime,
            service_execution_role=self.role.role_arn,
            run_configuration=run,
            application_configuration=flink.CfnApplication.ApplicationConfigurationProperty(
                application_code_configuration=flink.CfnApplication.ApplicationCodeConfigurationProperty(
                    code_content_type="ZIPFILE",
                    code_content=flink.CfnApplication.CodeContentProperty(s3_content_location=code_location),
                ),
                environment_properties=flink.CfnApplication.EnvironmentPropertiesProperty(property_groups=environment),
                flink_application_configuration=flink.CfnApplication.FlinkApplicationConfigurationProperty(
                    checkpoint_configuration=flink.CfnApplication.CheckpointConfigurationProperty(
                        configuration_type="CUSTOM",
                        checkpointing_enabled=True,
                        checkpoint_interval=checkpoint_interval.to_milliseconds(),
                        min_pause_between_checkpoints=min_pause_between_checkpoints.to_milliseconds(),
                    ),
                    monitoring_configuration=flink.CfnApplication.MonitoringConfigurationProperty(
                        configuration_type="CUSTOM", log_level=log_level, metrics_level=metrics_level
                    ),
                    parallelism_configuration=flink.CfnApplication.ParallelismConfigurationProperty(
                        configuration_type="CUSTOM",
                        parallelism=self.parallelism,
                        parallelism_per_kpu=parallelism_per_kpu,
                        auto_scaling_enabled=auto_scaling,
                    ),
                ),
                application_snapshot_configuration=flink.CfnApplication.ApplicationSnapshotConfigurationProperty(
                    snapshots_enabled=snapshots
                ),
                application_system_rollback_configuration=(
                    flink.CfnApplication.ApplicationSystemRollbackConfigurationProperty(
                        rollback_enabled=system_rollback
                    )
                ),
                application_encryption_configuration=(
                    flink.CfnApplication.ApplicationEncryptionConfigurationProperty(
                        key_type="CUSTOMER_MANAGED_KEY", key_id=encryption_key.key_arn
                    )
                    if encryption_key is not None
                    else None
                ),
                vpc_configurations=network,
            ),
        )
        self.application.apply_removal_policy(removal_policy)
        # The application must not be created before its role may read the code and write its logs.
        self.application.node.add_dependency(self.policy)
        default_policy = _internals.role_default_policy(self.role)
        if default_policy is not None:
            self.application.node.add_dependency(default_policy)
        self.application_name: str = self.application.ref
        self.application_arn: str = Stack.of(self).format_arn(
            service="kinesisanalytics", resource="application", resource_name=self.application.ref
        )
        self.logging_option = flink.CfnApplicationCloudWatchLoggingOption(
            self,
            "LoggingOption",
            application_name=self.application.ref,
            cloud_watch_logging_option=flink.CfnApplicationCloudWatchLoggingOption.CloudWatchLoggingOptionProperty(
                log_stream_arn=self._log_stream_arn()
            ),
        )
        self.start: CustomResource | None = (
            self._start_after_deploy(run, removal_policy) if start_after_deploy else None
        )
        self.alarms = self._add_alarms(alarms)

    # ------------------------------------------------------------------------------------------------ build

    def _code_location(self, code: FlinkCode) -> flink.CfnApplication.S3ContentLocationProperty:
        bucket, key = code.bucket, code.key
        self.code_asset: s3_assets.Asset | None = None
        if bucket is None:
            assert code.path is not None
            self.code_asset = s3_assets.Asset(
                self, "Code", path=str(code.path), exclude=["__pycache__", "*.pyc", ".DS_Store"]
            )
            bucket, key = self.code_asset.bucket, self.code_asset.s3_object_key
        else:
            _stacks.use_each(self, {"code.bucket": bucket})
        assert key is not None
        # The one object (not the asset bucket's other objects, which aws-cdk-lib's Asset.grant_read would give).
        self.policy.add_statements(
            iam.PolicyStatement(
                sid="ReadTheCode",
                actions=["s3:GetObject", "s3:GetObjectVersion"],
                resources=[bucket.arn_for_objects(key)],
            )
        )
        if bucket.encryption_key is not None:
            bucket.encryption_key.grant_decrypt(self.role)
        return flink.CfnApplication.S3ContentLocationProperty(bucket_arn=bucket.bucket_arn, file_key=key)

    def _grant_source(self, stream: kinesis.IStream, enhanced_fan_out: bool) -> None:
        statements = [
            iam.PolicyStatement(
                sid="ReadTheSource",
                actions=list(READ_STREAM_ACTIONS),
                resources=[stream.stream_arn],
            )
        ]
        if enhanced_fan_out:  # the connector registers its own consumer, then subscribes to each shard through it
            statements += [
                iam.PolicyStatement(
                    sid="RegisterItsConsumer",
                    actions=[
                        "kinesis:RegisterStreamConsumer",
                        "kinesis:DeregisterStreamConsumer",
                        "kinesis:ListStreamConsumers",
                    ],
                    resources=[stream.stream_arn],
                ),
                iam.PolicyStatement(
                    sid="SubscribeThroughIt",
                    actions=["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"],
                    resources=[f"{stream.stream_arn}/consumer/*"],
                ),
            ]
        self.policy.add_statements(*statements)
        if stream.encryption_key is not None:
            stream.encryption_key.grant_decrypt(self.role)
        if enhanced_fan_out:
            self._acknowledge_wildcard(
                f"{stream.stream_arn}/consumer/*",
                "The connector names its enhanced fan-out consumer at run time; the wildcard is confined to the "
                "consumers of the one source stream (DescribeStreamConsumer, SubscribeToShard).",
            )

    def _sink_groups(self, sinks: Mapping[str, Any]) -> dict[str, dict[str, str]]:
        groups: dict[str, dict[str, str]] = {}
        for group, sink in sinks.items():
            if group in (SOURCE_GROUP, PYTHON_RUN_OPTIONS):
                raise ValueError(f"sinks must not use the group id {group!r}: the construct builds that group")
            kind = _sink_kind(sink)
            if kind == "kinesis":
                sink.grant_write(self.role)
                prefix, name, arn = "stream", sink.stream_name, sink.stream_arn
            elif kind == "firehose":
                sink.grant_put_records(self.role)
                prefix, name, arn = "delivery-stream", sink.delivery_stream_name, sink.delivery_stream_arn
            else:  # Flink's file sink writes parts, lists and reads them back when it recovers
                sink.grant_read_write(self.role)
                prefix, name, arn = "bucket", sink.bucket_name, sink.bucket_arn
            groups[group] = {
                "type": str(kind),
                f"{prefix}.name": name,
                f"{prefix}.arn": arn,
                "aws.region": Stack.of(sink).region,
            }
        return groups

    def _log_stream_arn(self) -> str:
        return Stack.of(self).format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"{self.log_group.log_group_name}:log-stream:{self.log_stream.log_stream_name}",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )

    def _grant_logging(self) -> None:
        """What the developer guide's "Set up application logging" policy grants: list the log groups, list the
        streams of this group, write this stream."""
        self.policy.add_statements(
            # A list action: the guide grants it on log-group:*; "*" is the same within the account, and an
            # acknowledgment id aws-cdk-lib 2.258 accepts (it refuses one holding the ARN's pseudo parameters).
            iam.PolicyStatement(sid="FindTheLogGroup", actions=["logs:DescribeLogGroups"], resources=["*"]),
            # The group's ARN attribute ends in ":*": every stream of this group.
            iam.PolicyStatement(
                sid="FindTheLogStream", actions=["logs:DescribeLogStreams"], resources=[self.log_group.log_group_arn]
            ),
            iam.PolicyStatement(
                sid="WriteTheLogStream", actions=["logs:PutLogEvents"], resources=[self._log_stream_arn()]
            ),
        )
        self._acknowledge_wildcard(
            "*",
            "DescribeLogGroups lists log groups and names none (the developer guide's logging policy grants it on "
            "log-group:*); it reads no log data.",
        )

    def _acknowledge_wildcard(self, resource: str, reason: str) -> None:
        finding = _internals.nag_resource_finding_id("AwsSolutions-IAM5", _internals.nag_flat(self, resource))
        reasons = self._wildcard_reasons.setdefault(finding, [])
        reasons.append(reason)
        Validations.of(self.policy).acknowledge(Acknowledgment(id=finding, reason=" ".join(reasons)))

    def _network(
        self,
        vpc: ec2.IVpc | None,
        selection: ec2.SubnetSelection | None,
        security_groups: Sequence[ec2.ISecurityGroup] | None,
    ) -> list[flink.CfnApplication.VpcConfigurationProperty] | None:
        if vpc is None:
            return None
        with r.blame("vpc_subnets"):
            subnets = private_subnets(vpc, selection, what="a StreamProcessor")
        groups = list(security_groups or [ec2.SecurityGroup(self, "SecurityGroup", vpc=vpc, allow_all_outbound=True)])
        self.security_groups = groups
        # Developer guide, "Configure MSF to access resources in an Amazon VPC": the role creates and describes
        # the application's network interfaces (these EC2 actions support no resource-level permissions).
        self.policy.add_statements(
            iam.PolicyStatement(
                sid="PlaceItInTheVpc",
                actions=[
                    "ec2:DescribeVpcs",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeDhcpOptions",
                    "ec2:CreateNetworkInterface",
                    "ec2:CreateNetworkInterfacePermission",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DeleteNetworkInterface",
                ],
                resources=["*"],
            )
        )
        self._acknowledge_wildcard(
            "*",
            "Managed Flink creates its network interfaces in the VPC; the EC2 Describe and NetworkInterface actions "
            "it needs support no resource-level permissions.",
        )
        return [
            flink.CfnApplication.VpcConfigurationProperty(
                subnet_ids=[s.subnet_id for s in subnets], security_group_ids=[g.security_group_id for g in groups]
            )
        ]

    def _start_after_deploy(
        self, run: flink.CfnApplication.RunConfigurationProperty, removal_policy: RemovalPolicy
    ) -> CustomResource:
        handler = (Path(__file__).parent / "_start_handler.py").read_text()
        log_group = logs.LogGroup(
            self, "StartLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY
        )
        acknowledge_checkov(log_group, "CKV_AWS_158", LOGS_SERVICE_ENCRYPTION_REASON)
        role = iam.Role(
            self,
            "StartRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Start one Flink application after a deploy",
        )
        log_group.grant_write(role)
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="StartTheApplication",
                actions=["kinesisanalytics:StartApplication", "kinesisanalytics:DescribeApplication"],
                resources=[self.application_arn],
            )
        )
        function = lambda_.Function(
            self,
            "StartFunction",
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="index.handler",
            code=lambda_.Code.from_inline(handler),
            timeout=Duration.minutes(1),
            role=role,
            log_group=log_group,
        )
        # aws-cdk-lib makes the function depend on its whole role, which its GetAtt of the role already enforces
        # (cfn-lint W3005); only the role's policy is a dependency it needs.
        default_policy = _internals.role_default_policy(role)
        assert default_policy is not None  # the function's grants above made it
        resource_l1, policy_l1 = function.node.default_child, default_policy.node.default_child
        assert isinstance(resource_l1, CfnResource) and isinstance(policy_l1, CfnResource)
        resource_l1.add_override("DependsOn", [Stack.of(self).get_logical_id(policy_l1)])
        reason = (
            "CloudFormation invokes it synchronously once per deploy and waits for its answer: no queue to fail "
            "into, no concurrency to reserve, nothing private to reach."
        )
        for check in ("CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117"):
            acknowledge_checkov(function, check, reason)
        stack = Stack.of(self)
        resource = CustomResource(
            self,
            "Start",
            service_token=function.function_arn,
            resource_type="Custom::FlinkApplicationStart",
            properties={
                "ApplicationName": self.application.ref,
                "RunConfiguration": stack.to_json_string(_run_configuration_api(run)),
                # A new value on every change of the application starts it again (StartApplication is idempotent).
                "Configuration": hashlib.sha256(
                    json.dumps(stack.resolve(self.application.application_configuration), sort_keys=True).encode()
                ).hexdigest(),
            },
        )
        resource.node.add_dependency(self.logging_option)  # the application: by its Ref
        return resource

    # ---------------------------------------------------------------------------------------------- metrics

    @r.guarded(_METRIC_NAME_RULES)
    def metric(
        self, metric_name: str, *, period: Duration = ONE_MINUTE, statistic: str = "Maximum"
    ) -> cloudwatch.Metric:
        """The application's metric ``metric_name`` (namespace AWS/KinesisAnalytics, dimension Application)."""
        return cloudwatch.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name=metric_name,
            dimensions_map={"Application": self.application.ref},
            period=period,
            statistic=statistic,
        )

    @r.guarded(_METRIC_RULES)
    def metric_downtime(self, *, period: Duration = ONE_MINUTE, statistic: str = "Maximum") -> cloudwatch.Metric:
        """Milliseconds the job has been failing or restarting (0 while it runs)."""
        return self.metric("downtime", period=period, statistic=statistic)

    @r.guarded(_METRIC_RULES)
    def metric_full_restarts(self, *, period: Duration = ONE_MINUTE, statistic: str = "Maximum") -> cloudwatch.Metric:
        """Restarts since the job was submitted (a running total)."""
        return self.metric("fullRestarts", period=period, statistic=statistic)

    @r.guarded(_METRIC_RULES)
    def metric_failed_checkpoints(
        self, *, period: Duration = ONE_MINUTE, statistic: str = "Maximum"
    ) -> cloudwatch.Metric:
        """Checkpoints that failed (a running total)."""
        return self.metric("numberOfFailedCheckpoints", period=period, statistic=statistic)

    @r.guarded(_METRIC_RULES)
    def metric_last_checkpoint_duration(
        self, *, period: Duration = ONE_MINUTE, statistic: str = "Maximum"
    ) -> cloudwatch.Metric:
        """Milliseconds the last checkpoint took."""
        return self.metric("lastCheckpointDuration", period=period, statistic=statistic)

    @r.guarded(_METRIC_RULES)
    def metric_heap_memory_utilization(
        self, *, period: Duration = ONE_MINUTE, statistic: str = "Maximum"
    ) -> cloudwatch.Metric:
        """Heap used across the task managers, in percent."""
        return self.metric("heapMemoryUtilization", period=period, statistic=statistic)

    @r.guarded(_METRIC_RULES)
    def metric_cpu_utilization(
        self, *, period: Duration = FIVE_MINUTES, statistic: str = "Average"
    ) -> cloudwatch.Metric:
        """CPU used across the task managers, in percent."""
        return self.metric("cpuUtilization", period=period, statistic=statistic)

    @r.guarded(_METRIC_RULES)
    def metric_millis_behind_latest(
        self, *, period: Duration = ONE_MINUTE, statistic: str = "Maximum"
    ) -> cloudwatch.Metric:
        """How far the Kinesis source reads behind the newest record, in milliseconds (the connector's metric)."""
        return self.metric("millisBehindLatest", period=period, statistic=statistic)

    def _add_alarms(self, alarms: Alarms) -> Mapping[str, cloudwatch.Alarm]:
        def increase(metric: cloudwatch.Metric, label: str) -> cloudwatch.MathExpression:
            # A running total: the alarm is on its increase from one minute to the next (metric math DIFF).
            return cloudwatch.MathExpression(
                expression="DIFF(total)", using_metrics={"total": metric}, label=label, period=Duration.minutes(1)
            )

        alarms.add(
            "downtime",
            metric=self.metric_downtime(),
            threshold=Duration.seconds(1),
            unit=Duration.to_milliseconds,
            description="The Flink job has been down (failing or restarting) for {threshold} or more.",
        )
        alarms.add(
            "full_restarts",
            metric=increase(self.metric_full_restarts(), "new full restarts"),
            threshold=1,
            description="The Flink job restarted: read the application's log for the failure.",
        )
        alarms.add(
            "failed_checkpoints",
            metric=increase(self.metric_failed_checkpoints(), "new failed checkpoints"),
            threshold=1,
            description="A checkpoint failed: on a restart the job would reprocess from an older one.",
        )
        alarms.add(
            "checkpoint_duration",
            metric=self.metric_last_checkpoint_duration(),
            threshold=self.checkpoint_interval,
            unit=Duration.to_milliseconds,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            description="A checkpoint took longer than {threshold} (the checkpoint interval): checkpoints queue up.",
        )
        alarms.add(
            "heap",
            metric=self.metric_heap_memory_utilization(),
            threshold=90,
            kind="percent",
            evaluation_periods=5,
            description="Heap use has stayed at or above {threshold} % for five minutes.",
        )
        alarms.add(
            "cpu",
            metric=self.metric_cpu_utilization(),
            threshold=80,
            kind="percent",
            evaluation_periods=3,
            description="CPU use has stayed at or above {threshold} % for 15 minutes: raise parallelism.",
        )
        alarms.add(
            "source_lag",
            metric=self.metric_millis_behind_latest(),
            threshold=DEFAULT_SOURCE_LAG_ALARM,
            unit=Duration.to_milliseconds,
            description="The job reads the source stream {threshold} or more behind its newest record.",
        )
        return MappingProxyType(dict(alarms.mapping))


def _default_parallelism(source: object) -> int:
    """The source's shard count where it is known at synth time (a planned or provisioned stream), else 1 (the
    service's default), at most :data:`MAX_PARALLELISM`: one source subtask per shard reads the stream fully."""
    shards: object = None
    if isinstance(source, StreamToS3):
        shards = source.capacity_plan.shards if source.capacity_plan else None
        source = source.stream
    if shards is None:
        child = getattr(getattr(source, "node", None), "default_child", None)
        shards = getattr(child, "shard_count", None) if isinstance(child, kinesis.CfnStream) else None
    if not isinstance(shards, int) or Token.is_unresolved(shards) or shards < 1:
        return 1
    return min(shards, MAX_PARALLELISM)


def _run_configuration_api(run: flink.CfnApplication.RunConfigurationProperty) -> dict[str, Any]:
    """The RunConfiguration of StartApplication (the API's names), from the template's."""
    restore = run.application_restore_configuration
    flink_run = run.flink_run_configuration
    assert isinstance(restore, flink.CfnApplication.ApplicationRestoreConfigurationProperty)
    assert isinstance(flink_run, flink.CfnApplication.FlinkRunConfigurationProperty)
    restore_api: dict[str, Any] = {"ApplicationRestoreType": restore.application_restore_type}
    if restore.snapshot_name is not None:
        restore_api["SnapshotName"] = restore.snapshot_name
    return {
        "ApplicationRestoreConfiguration": restore_api,
        "FlinkRunConfiguration": {"AllowNonRestoredState": bool(flink_run.allow_non_restored_state)},
    }
