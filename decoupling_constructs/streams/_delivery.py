"""What every Firehose delivery stream of the library shares: its source, bucket, role, logs, alarms and rules.

StreamToS3, StreamToHttpEndpoint and the L1-backed destinations (OpenSearch, Redshift) build the same
pieces; each lives here once, so that a fix reaches every destination.

API (``owner`` is the construct that owns the pieces; the construct ids are fixed, so that templates of
existing constructs stay unchanged):

* :data:`RULE_LINES`: the rule of each prop the constructs share (``shard_count``, ``expected_throughput``,
  ``retention_period``, ``encryption_key``, ``lifecycle``, ``removal_policy``), to be put in each
  construct's own ``RULES`` table (``{**pick(...), ...}``), and :data:`SOURCE_RELATIONS` (``shard_count``
  excludes ``expected_throughput``). :func:`pick` takes some of the lines.
* :func:`buffering_interval_rule`, :func:`buffering_size_rule`: the buffering props' rules, with the destination's
  own maximum and API source.
* :func:`plan_shards`: ``(capacity_plan, shards)`` from ``shard_count`` or ``expected_throughput``
  (``capacity.plan``); ``shards`` None means on-demand.
* :func:`source_stream`: the Kinesis stream ``Stream``: provisioned with ``shards`` (on-demand without),
  KMS with ``encryption_key`` (acknowledging AwsSolutions-KDS3) or ``alias/aws/kinesis``.
* :func:`hardened_bucket`: ``(access_log_bucket, bucket)``, ``AccessLogBucket`` and ``Bucket``: both block
  public access, enforce TLS, are versioned and owner-enforced; the access-log bucket is SSE-S3 (log
  delivery needs it), the bucket SSE-KMS with ``encryption_key`` (bucket key on) or SSE-S3, with
  ``lifecycle`` rules (default :func:`default_lifecycle`) and server access logs under ``access_log_prefix``.
* :func:`delivery_log_group`: ``DeliveryLogs``, one month, encrypted with ``encryption_key`` (the key
  policy lets CloudWatch Logs use it) or with the service key (acknowledged for checkov).
* :func:`delivery_role`: ``DeliveryRole``, assumable by ``firehose.amazonaws.com`` only with
  ``sts:ExternalId`` equal to the stack's account (the confused-deputy guard).
* :func:`read_stream_statement`, :func:`log_stream_arn`, :func:`key_statement`: IAM statements and ARNs the
  delivery role's policy is built from.
* :func:`add_stream_alarms`: ``iterator_age`` (a consumer behind the stream) and ``write_throttled``
  (provisioned streams only) on a stream the construct owns.
* :func:`add_freshness_alarm`, :func:`add_success_alarm`, :func:`add_throttled_records_alarm`: the
  delivery stream's ``DeliveryTo<Destination>.DataFreshness`` / ``.Success`` and ``ThrottledRecords``.
* :func:`firehose_metric`: an ``AWS/Firehose`` metric of a delivery stream by name (for L1 streams).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from aws_cdk import Acknowledgment, ArnFormat, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .. import _rules as r
from .. import _validate as v
from .. import limits
from .._alarms import Alarms
from .._props import ENCRYPTION_KEY, REMOVAL_POLICY
from .._security import (
    LOGS_SERVICE_ENCRYPTION_REASON,
    SELF_LOGGING_REASON,
    acknowledge_checkov,
    allow_logs_to_use_key,
)
from ..capacity import CapacityPlan, Throughput, plan

MAX_RETENTION_HOURS = limits.KINESIS_MAX_RETENTION_HOURS
MIN_RETENTION_HOURS = limits.KINESIS_MIN_RETENTION_HOURS
DEFAULT_RETENTION = Duration.hours(MIN_RETENTION_HOURS)
DEFAULT_ITERATOR_AGE_ALARM = Duration.minutes(10)

#: The rule of each prop every delivery construct shares; each construct's RULES table takes its lines.
RULE_LINES: Mapping[str, r.Rule] = {
    "shard_count": r.Int(1, limits.KINESIS_MAX_SHARD_COUNT, optional=True, source="Kinesis CreateStream ShardCount"),
    "expected_throughput": r.Instance(Throughput, "a decoupling_constructs.Throughput", optional=True, tokens="synth"),
    "retention_period": r.Seconds(
        MIN_RETENTION_HOURS * 3600,
        MAX_RETENTION_HOURS * 3600,
        text=f"{MIN_RETENTION_HOURS}-{MAX_RETENTION_HOURS} hours",
        token_unit="hours",
        step=(3600, "hours"),  # RetentionPeriodHours is an integer
        source="Kinesis Data Streams quotas: retention",
    ),
    "encryption_key": ENCRYPTION_KEY,
    "lifecycle": r.ListOf(
        r.Instance(s3.LifecycleRule, "an s3.LifecycleRule", tokens="synth"),
        optional=True,
        text="a list of s3.LifecycleRule",
    ),
    "removal_policy": REMOVAL_POLICY,
}


def buffering_interval_rule(source: str) -> r.Rule:
    """``buffering_interval``: 0-900 s (every destination's BufferingHints IntervalInSeconds), known at synth time
    (the data-freshness alarm's threshold is computed from it); ``source`` names the destination's API type."""
    return r.Seconds(
        0,
        limits.FIREHOSE_MAX_BUFFERING_SECONDS,
        tokens="synth",
        why="the data-freshness alarm's threshold is computed from it",
        source=source,
    )


def buffering_size_rule(max_mib: int, source: str, *, optional: bool = False) -> r.Rule:
    """``buffering_size``: 1 MiB to ``max_mib`` (the destination's SizeInMBs), in whole MiB (``optional``: None
    means the construct's default)."""
    return r.Bytes(
        limits.FIREHOSE_MIN_BUFFERING_MIB * 2**20,
        max_mib * 2**20,
        whole="mebibytes",
        token_unit="mebibytes",  # aws-cdk-lib reads a token buffering size in MiB only
        text=f"{limits.FIREHOSE_MIN_BUFFERING_MIB}-{max_mib} MiB",
        optional=optional,
        source=source,
    )


#: Relations between the shared props.
SOURCE_RELATIONS = (r.exclusive("shard_count", "expected_throughput"),)


def lifecycle_needs_own_bucket(construct: str, bucket_prop: str) -> Callable[[Mapping[str, object], r.Context], None]:
    """A relation: ``lifecycle`` applies to the bucket ``construct`` creates, not to a given ``bucket_prop``."""

    def relation(values: Mapping[str, object], ctx: r.Context) -> None:
        if values.get(bucket_prop) is not None and values.get("lifecycle") is not None:
            raise ValueError(
                f"lifecycle applies to the bucket {construct} creates; with {bucket_prop}, manage its rules"
            )

    return relation


def grant_put(grantee: iam.IGrantable, stream: kinesis.IStream | None, delivery_stream_arn: str) -> iam.Grant:
    """``grant_write`` of a delivery construct: PutRecord(s) on its source stream (and its key), or, without one
    (Direct PUT), PutRecord and PutRecordBatch on the delivery stream. Firehose encrypts Direct PUT records with its
    own grant on the key, so producers need no key permission (Firehose developer guide, "Data protection in Amazon
    Data Firehose", server-side encryption)."""
    if stream is not None:
        return stream.grant_write(grantee)
    return iam.Grant.add_to_principal(
        grantee=grantee, actions=["firehose:PutRecord", "firehose:PutRecordBatch"], resource_arns=[delivery_stream_arn]
    )


def pick(*names: str) -> dict[str, r.Rule]:
    """The shared rule lines of ``names``, to spread into a RULES table."""
    return {name: RULE_LINES[name] for name in names}


def default_lifecycle() -> list[s3.LifecycleRule]:
    """Infrequent Access after 30 days, Glacier Flexible Retrieval after 90, noncurrent versions
    expire after 90 days, incomplete multipart uploads are aborted after 7 days."""
    return [
        s3.LifecycleRule(
            id="TierDownAndExpireOldVersions",
            transitions=[
                s3.Transition(storage_class=s3.StorageClass.INFREQUENT_ACCESS, transition_after=Duration.days(30)),
                s3.Transition(storage_class=s3.StorageClass.GLACIER, transition_after=Duration.days(90)),
            ],
            noncurrent_version_expiration=Duration.days(90),
            abort_incomplete_multipart_upload_after=Duration.days(7),
        )
    ]


def plan_shards(
    shard_count: int | None, expected_throughput: Throughput | None
) -> tuple[CapacityPlan | None, int | None]:
    """``(capacity_plan, shards)``: the plan for ``expected_throughput``, or none and ``shard_count``."""
    capacity_plan = plan(expected_throughput) if expected_throughput else None
    return capacity_plan, capacity_plan.shards if capacity_plan else shard_count


def source_stream(
    owner: Construct,
    *,
    shards: int | None,
    retention_period: Duration,
    encryption_key: kms.IKey | None,
    removal_policy: RemovalPolicy,
) -> kinesis.Stream:
    """The stream ``Stream``: provisioned with ``shards``, on-demand without; KMS with the given key or AWS's."""
    key = encryption_key
    stream = kinesis.Stream(
        owner,
        "Stream",
        shard_count=shards,
        stream_mode=kinesis.StreamMode.PROVISIONED if shards is not None else kinesis.StreamMode.ON_DEMAND,
        encryption=kinesis.StreamEncryption.KMS if key else kinesis.StreamEncryption.MANAGED,
        encryption_key=key,
        retention_period=retention_period,
        removal_policy=removal_policy,
    )
    if key is not None:
        Validations.of(stream).acknowledge(
            Acknowledgment(
                id="AwsSolutions-KDS3",
                reason="The stream is encrypted with the customer-managed key given as encryption_key, by the "
                "owner's choice (its policy and rotation are theirs), instead of alias/aws/kinesis.",
            )
        )
    return stream


def hardened_bucket(
    owner: Construct,
    *,
    encryption_key: kms.IKey | None,
    lifecycle: Sequence[s3.LifecycleRule] | None,
    removal_policy: RemovalPolicy,
    access_log_prefix: str,
) -> tuple[s3.Bucket, s3.Bucket]:
    """``(access_log_bucket, bucket)``: ``Bucket`` hardened, its server access logs in ``AccessLogBucket``."""
    key = encryption_key
    access_log_bucket = s3.Bucket(
        owner,
        "AccessLogBucket",
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        encryption=s3.BucketEncryption.S3_MANAGED,  # S3 log delivery supports SSE-S3 only
        versioned=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        removal_policy=removal_policy,
    )
    Validations.of(access_log_bucket).acknowledge(Acknowledgment(id="AwsSolutions-S1", reason=SELF_LOGGING_REASON))
    acknowledge_checkov(access_log_bucket, "CKV_AWS_18", SELF_LOGGING_REASON)
    bucket = s3.Bucket(
        owner,
        "Bucket",
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        encryption=s3.BucketEncryption.KMS if key else s3.BucketEncryption.S3_MANAGED,
        encryption_key=key,
        bucket_key_enabled=True if key else None,
        versioned=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        server_access_logs_bucket=access_log_bucket,
        server_access_logs_prefix=access_log_prefix,
        lifecycle_rules=list(default_lifecycle() if lifecycle is None else lifecycle),
        removal_policy=removal_policy,
    )
    return access_log_bucket, bucket


def delivery_log_group(
    owner: Construct, *, encryption_key: kms.IKey | None, removal_policy: RemovalPolicy
) -> logs.LogGroup:
    """``DeliveryLogs``: the delivery stream's error log, kept one month."""
    log_group = logs.LogGroup(
        owner,
        "DeliveryLogs",
        retention=logs.RetentionDays.ONE_MONTH,
        encryption_key=encryption_key,
        removal_policy=removal_policy,
    )
    if encryption_key is not None:
        allow_logs_to_use_key(encryption_key, Stack.of(owner))
    else:
        acknowledge_checkov(log_group, "CKV_AWS_158", LOGS_SERVICE_ENCRYPTION_REASON)
    return log_group


def delivery_role(owner: Construct, description: str) -> iam.Role:
    """``DeliveryRole``: Firehose may assume it only for this account (``sts:ExternalId``)."""
    return iam.Role(
        owner,
        "DeliveryRole",
        assumed_by=iam.ServicePrincipal(
            "firehose.amazonaws.com", conditions={"StringEquals": {"sts:ExternalId": Stack.of(owner).account}}
        ),
        description=description,
    )


#: What a shared-throughput consumer of one stream needs (Firehose, a Flink source): its shards and their records.
READ_STREAM_ACTIONS = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
)


def read_stream_statement(stream: kinesis.IStream) -> iam.PolicyStatement:
    """What Firehose calls to read a Kinesis source, on that stream only."""
    return iam.PolicyStatement(
        sid="ReadTheSourceStream", actions=list(READ_STREAM_ACTIONS), resources=[stream.stream_arn]
    )


def key_statement(key: kms.IKey, sid: str = "UseTheKey") -> iam.PolicyStatement:
    """Decrypt (a source stream) and generate data keys (objects written) with ``key``."""
    return iam.PolicyStatement(sid=sid, actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn])


def log_stream_arn(owner: Construct, log_group: logs.ILogGroup, log_stream: logs.ILogStream) -> str:
    """The ARN of ``log_stream`` in ``log_group`` (what ``logs:PutLogEvents`` is granted on)."""
    return Stack.of(owner).format_arn(
        service="logs",
        resource="log-group",
        resource_name=f"{log_group.log_group_name}:log-stream:{log_stream.log_stream_name}",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


def firehose_metric(delivery_stream_name: str, metric_name: str, statistic: str) -> cloudwatch.Metric:
    """An ``AWS/Firehose`` metric of one delivery stream, over five minutes."""
    return cloudwatch.Metric(
        namespace="AWS/Firehose",
        metric_name=metric_name,
        dimensions_map={"DeliveryStreamName": delivery_stream_name},
        period=Duration.minutes(5),
        statistic=statistic,
    )


def add_stream_alarms(alarms: Alarms, stream: kinesis.IStream, *, provisioned: bool) -> None:
    """``iterator_age`` (10 minutes by default) and, on a provisioned stream, ``write_throttled``."""
    alarms.add(
        "iterator_age",
        metric=stream.metric_get_records_iterator_age_milliseconds(period=Duration.minutes(1), statistic="Maximum"),
        threshold=DEFAULT_ITERATOR_AGE_ALARM,
        unit=Duration.to_milliseconds,
        description="Firehose (or another consumer) is more than {threshold} behind the stream: records near "
        "the end of the retention period will be lost.",
    )
    if provisioned:  # an on-demand stream scales its own write capacity
        alarms.add(
            "write_throttled",
            metric=stream.metric_write_provisioned_throughput_exceeded(period=Duration.minutes(1), statistic="Sum"),
            threshold=1,
            evaluation_periods=5,
            description="Writes to the stream were throttled for five minutes: it has too few shards.",
        )


def add_freshness_alarm(
    alarms: Alarms, metric: cloudwatch.IMetric, *, threshold: Duration, floor: tuple[float, str], description: str
) -> None:
    """``data_freshness``: the oldest record's age in the delivery stream above ``threshold``; ``floor`` is
    what freshness never stays under (a threshold at or below it would always be in ALARM)."""
    alarms.add(
        "data_freshness",
        metric=metric,
        threshold=threshold,
        unit=Duration.to_seconds,
        metric_floor=floor,
        description=description,
    )


def add_success_alarm(alarms: Alarms, metric: cloudwatch.IMetric, *, description: str) -> None:
    """``delivery_success``: the share of successful deliveries (``DeliveryTo<X>.Success``, 0-1) below 1."""
    alarms.add(
        "delivery_success",
        metric=metric,
        threshold=1,
        comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        kind="ratio",  # DeliveryTo<X>.Success: the share of put requests that succeeded, 0-1
        description=description,
    )


def add_throttled_records_alarm(alarms: Alarms, metric: cloudwatch.IMetric) -> None:
    """``throttled_records``: Firehose throttled records (``ThrottledRecords``, AWS's "Amazon CloudWatch
    metrics best practices" for Firehose recommends an alarm on it)."""
    alarms.add(
        "throttled_records",
        metric=metric,
        threshold=1,
        description="Firehose throttled records: the delivery stream is over its records, requests or bytes "
        "per second quota.",
    )


def check_iterator_age(threshold: Duration, retention_period: Duration) -> None:
    """The iterator-age alarm's threshold must be at most the retention (an older record has expired)."""
    prop = "alarm_settings.overrides['iterator_age'].threshold"
    retention = v.duration_seconds("retention_period", retention_period)
    v.check_duration(
        prop,
        threshold,
        minimum=1,
        maximum=retention if retention is not None else MAX_RETENTION_HOURS * 3600,
        allowed="at least 1 second and at most retention_period (an older record has expired: the alarm "
        "could never fire)",
    )
