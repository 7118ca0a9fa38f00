"""StreamToS3: a Kinesis data stream delivered to S3 by Firehose, sized from expected throughput."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar

from aws_cdk import (
    Acknowledgment,
    Duration,
    RemovalPolicy,
    Size,
    Stack,
    Validations,
)
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

if TYPE_CHECKING:
    from ..alarm_topic import AlarmTopic

from .. import _internals, _stacks, limits
from .. import _rules as r
from .._alarms import ALARM_PROPS, Alarms, AlarmSettings
from .._cdk import PatternConstruct
from .._props import GRANT_RULES
from .._validate import PropTypeError
from ..capacity import CapacityPlan, Throughput
from . import _delivery
from ._delivery import DEFAULT_ITERATOR_AGE_ALARM, DEFAULT_RETENTION, default_lifecycle
from ._transform import (
    PARTITION_BY,
    TRANSFORM,
    TRANSFORM_ALARM_KEYS,
    LambdaTransform,
    add_transform_alarms,
    apply_processing,
    lambda_partition_keys,
    query_partition_keys,
    transform_delay_seconds,
)

# Kinesis Data Streams and Firehose limits (limits.py names the AWS document of each):
MAX_BUFFERING_MIB = limits.FIREHOSE_MAX_BUFFERING_MIB
MAX_BUFFERING_SECONDS = limits.FIREHOSE_MAX_BUFFERING_SECONDS
MAX_PREFIX_LENGTH = limits.FIREHOSE_MAX_PREFIX_LENGTH
MIN_BUFFERING_MIB = limits.FIREHOSE_MIN_BUFFERING_MIB
MAX_RETENTION_HOURS = limits.KINESIS_MAX_RETENTION_HOURS
MAX_SHARD_COUNT = limits.KINESIS_MAX_SHARD_COUNT
MIN_RETENTION_HOURS = limits.KINESIS_MIN_RETENTION_HOURS

__all__ = ["DEFAULT_ITERATOR_AGE_ALARM", "DEFAULT_RETENTION", "StreamToS3", "default_lifecycle"]

DEFAULT_BUFFERING_INTERVAL = Duration.seconds(300)
DEFAULT_BUFFERING_SIZE = Size.mebibytes(5)
# With dynamic partitioning: aws-cdk-lib's S3Bucket refuses less than 64 MiB (DataFormatConversionBufferingSizeTooSmall)
# and defaults to 128 MiB; Firehose "cannot use zero buffering" with it and aws-cdk-lib refuses an interval under
# 60 s (DynamicPartitioningBufferingIntervalTooSmall). Firehose developer guide, "Buffer data for dynamic
# partitioning": end-to-end delay may reach 1.5 times the buffering interval.
MIN_PARTITIONED_BUFFERING_MIB = 64
DEFAULT_PARTITIONED_BUFFERING_SIZE = Size.mebibytes(128)
MIN_PARTITIONED_BUFFERING_SECONDS = 60
DEFAULT_DATA_PREFIX = "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
DEFAULT_ERROR_PREFIX = (
    "errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
)
ERROR_OUTPUT_TYPE = "!{firehose:error-output-type}"
ACCESS_LOG_PREFIX = "data-bucket/"
_EXPRESSION = re.compile(r"!\{[^}]*\}")
# Firehose prefix expressions without dynamic partitioning (Firehose developer guide, "Custom prefixes
# for Amazon S3 objects"): timestamps, a random string, and the error type (error prefix only).
_VALID_EXPRESSION = re.compile(r"^!\{(timestamp:[^}]+|firehose:random-string|firehose:error-output-type)\}\Z")
# With dynamic partitioning, data_prefix may also name partition keys (Firehose developer guide, "Use Amazon S3
# bucket prefix to deliver data"): from the transform's metadata.partitionKeys, or from the JQ extraction.
_PARTITION_EXPRESSION = re.compile(r"^!\{(partitionKeyFromLambda|partitionKeyFromQuery):([^}]*)\}\Z")


def _prefix_relations(values: Mapping[str, object], ctx: r.Context) -> None:
    """Firehose's rules across the two prefixes (Firehose developer guide, "Custom prefixes for Amazon S3
    objects")."""
    data_prefix, error_prefix = values["data_prefix"], values["error_prefix"]
    assert isinstance(data_prefix, str) and (error_prefix is None or isinstance(error_prefix, str))
    if error_prefix is not None and error_prefix == data_prefix:
        raise ValueError(
            f"error_prefix must differ from data_prefix, or failed records mix with delivered ones, got "
            f"{error_prefix!r} for both"
        )
    if _EXPRESSION.search(data_prefix) and not error_prefix:
        raise ValueError(
            f"error_prefix is required when data_prefix has expressions (Firehose rule), got data_prefix="
            f"{data_prefix!r} and error_prefix={error_prefix!r}"
        )
    if error_prefix and _EXPRESSION.search(error_prefix) and ERROR_OUTPUT_TYPE not in error_prefix:
        raise ValueError(
            f"error_prefix with expressions must contain {ERROR_OUTPUT_TYPE} (Firehose rule), got {error_prefix!r}"
        )


def _partitioning_relations(values: Mapping[str, object], ctx: r.Context) -> None:
    """Dynamic partitioning and the transform against the prefixes: every key used in data_prefix, every key
    data_prefix names defined, and failed records somewhere tests and alarms can find them."""
    transform, partition_by = values.get("transform"), values.get("partition_by")
    assert transform is None or isinstance(transform, LambdaTransform)
    assert partition_by is None or isinstance(partition_by, Mapping)
    data_prefix, error_prefix = values["data_prefix"], values["error_prefix"]
    assert isinstance(data_prefix, str)
    enabled = values.get("dynamic_partitioning") is True
    defined = {
        "partitionKeyFromLambda": (lambda_partition_keys(transform), "transform.partition_keys"),
        "partitionKeyFromQuery": (query_partition_keys(partition_by), "partition_by"),
    }
    if transform is not None and (not isinstance(error_prefix, str) or ERROR_OUTPUT_TYPE not in error_prefix):
        raise ValueError(
            f"error_prefix must contain {ERROR_OUTPUT_TYPE} when a transform is given (the records the transform fails "
            f"land there, with processing-failed in place of the expression), got {error_prefix!r}"
        )
    given = [where for keys, where in defined.values() if keys]
    if given and not enabled:
        raise ValueError(
            f"{' and '.join(given)} given without dynamic partitioning: set dynamic_partitioning=True (it can only "
            "be set when the delivery stream is created), got dynamic_partitioning=False"
        )
    if enabled and not given:
        raise ValueError(
            "dynamic_partitioning=True needs partition keys: transform.partition_keys (from the function) or "
            "partition_by (JQ extraction); got neither"
        )
    used: dict[str, set[str]] = {namespace: set() for namespace in defined}
    for expression in _EXPRESSION.findall(data_prefix):
        match = _PARTITION_EXPRESSION.match(expression)
        if match is None:
            continue
        namespace, key = match.groups()
        keys, where = defined[namespace]
        if not enabled:
            raise ValueError(
                f"data_prefix uses {expression}, which needs dynamic_partitioning=True and the key in {where}, "
                f"got {data_prefix!r}"
            )
        if key not in keys:
            raise ValueError(
                f"data_prefix uses {expression}, but {where} does not define {key!r} (it defines "
                f"{', '.join(map(repr, keys)) or 'no key'}), got {data_prefix!r}"
            )
        used[namespace].add(key)
    for namespace, (keys, where) in defined.items():
        unused = [k for k in keys if k not in used[namespace]]
        if unused:
            raise ValueError(
                f"{where} key {unused[0]!r} is not used by data_prefix: add !{{{namespace}:{unused[0]}}} to it, got "
                f"{data_prefix!r}"
            )
    if enabled:
        interval = values["buffering_interval"]
        assert isinstance(interval, Duration)
        if interval.to_seconds() < MIN_PARTITIONED_BUFFERING_SECONDS:
            raise ValueError(
                f"buffering_interval must be at least {MIN_PARTITIONED_BUFFERING_SECONDS} seconds with dynamic "
                f"partitioning (Firehose has no zero buffering with it), got {r.show(interval)}"
            )
        size = values.get("buffering_size")
        if size is not None and not size.is_unresolved() and size.to_mebibytes() < MIN_PARTITIONED_BUFFERING_MIB:  # type: ignore[attr-defined]
            raise ValueError(
                f"buffering_size must be at least {MIN_PARTITIONED_BUFFERING_MIB} MiB with dynamic partitioning "
                f"(aws-cdk-lib's rule; default {DEFAULT_PARTITIONED_BUFFERING_SIZE.to_mebibytes()} MiB), got "
                f"{r.show(size)}"
            )


_PREFIX_WHY = "the delivery role may write only under its static part"
#: What every StreamToS3 prop accepts.
RULES = (
    r.Rules(
        {
            **_delivery.pick("shard_count", "expected_throughput", "retention_period", "encryption_key"),
            "existing_bucket": r.Interface(
                "an s3.IBucket", ("bucket_arn", "bucket_name", "arn_for_objects"), optional=True, tokens="synth"
            ),
            "data_prefix": r.Custom(
                lambda prop, value, ctx: _check_prefix(prop, value, error=False),
                f"an S3 key prefix of at most {MAX_PREFIX_LENGTH} characters with Firehose expressions",
                tokens="synth",
                why=_PREFIX_WHY,
                source="Firehose S3DestinationConfiguration Prefix",
            ),
            "error_prefix": r.Custom(
                lambda prop, value, ctx: _check_prefix(prop, value, error=True),
                f"an S3 key prefix of at most {MAX_PREFIX_LENGTH} characters with Firehose expressions",
                optional=True,
                tokens="synth",
                why=_PREFIX_WHY,
                source="Firehose S3DestinationConfiguration ErrorOutputPrefix",
            ),
            "buffering_interval": _delivery.buffering_interval_rule("Firehose BufferingHints IntervalInSeconds"),
            "buffering_size": _delivery.buffering_size_rule(
                MAX_BUFFERING_MIB, "Firehose BufferingHints SizeInMBs", optional=True
            ),
            "compression": r.Instance(
                firehose.Compression, "an aws_kinesisfirehose.Compression (e.g. GZIP)", tokens="synth"
            ),
            **_delivery.pick("lifecycle", "removal_policy"),
            "transform": TRANSFORM,
            "dynamic_partitioning": r.Bool(source="Firehose DynamicPartitioningConfiguration (set at creation only)"),
            "partition_by": PARTITION_BY,
        },
        relations=(
            *_delivery.SOURCE_RELATIONS,
            _delivery.lifecycle_needs_own_bucket("StreamToS3", "existing_bucket"),
            _prefix_relations,
            _partitioning_relations,
        ),
    )
    | ALARM_PROPS
)


class StreamToS3(PatternConstruct):
    """A Kinesis data stream whose records Firehose delivers to S3, partitioned by time.

    Builds:

    * ``stream``: provisioned with ``shard_count`` shards, or with the shards
      ``capacity.plan(expected_throughput)`` computes (``capacity_plan`` says
      why); on-demand when neither is given. KMS-encrypted (``alias/aws/kinesis``
      or ``encryption_key``), ``retention_period`` 24 hours by default.
    * ``delivery_stream`` (aws-cdk-lib's Firehose L2): reads the stream and writes
      GZIP objects under ``data_prefix``, failed records under ``error_prefix``,
      buffered by ``buffering_interval``/``buffering_size``; delivery errors are
      logged to ``log_group`` (one month; encrypted with ``encryption_key`` when
      given). Its ``role`` may read only this stream (DescribeStream,
      DescribeStreamSummary, GetRecords, GetShardIterator, ListShards) and write
      only objects under the two prefixes (PutObject, AbortMultipartUpload), plus
      the bucket-level calls Firehose makes (GetBucketLocation, ListBucket,
      ListBucketMultipartUploads).
    * ``bucket`` (unless ``existing_bucket``): public access blocked, TLS-only,
      SSE-S3 (or SSE-KMS with ``encryption_key``), versioned, ``lifecycle``
      rules, server access logs to ``access_log_bucket`` (hardened the same way,
      SSE-S3 as log delivery requires). Both retained by default; no custom
      resources (no auto-delete).
    * ``alarms``: a read-only mapping of stable keys to alarms: ``iterator_age``
      (a consumer 10 minutes behind; a ``Duration`` override, at most
      ``retention_period``), ``write_throttled`` (five minutes of throttled writes;
      provisioned streams only), ``data_freshness`` (``DeliveryToS3.DataFreshness``
      above twice the buffering interval, plus the transform's ``buffer_interval``, plus a minute; a ``Duration``
      override), ``delivery_success`` (``DeliveryToS3.Success`` below 1); with a ``transform``,
      ``transform_errors`` and ``transform_throttles`` (the function's Errors and Throttles, >= 1 a minute).
    * with ``transform``: the delivery stream calls the function on each buffered batch before delivery (every
      setting rendered, ``retries=0`` included), the role may invoke it and its versions, and records it fails
      land under ``error_prefix`` with ``processing-failed`` for ``!{firehose:error-output-type}``.
    * with ``dynamic_partitioning=True``: objects go under ``data_prefix`` with each
      ``!{partitionKeyFromLambda:<key>}`` (a key of ``transform.partition_keys``, returned by the function in
      ``metadata.partitionKeys``) and ``!{partitionKeyFromQuery:<key>}`` (a key of ``partition_by``, extracted by
      Firehose with JQ 1.6) filled in. Every key must be used by ``data_prefix`` and every key it uses defined.
      **Dynamic partitioning can only be set when the delivery stream is created**: turning it on or off later
      replaces the delivery stream (a new, empty one; records buffered in the old one are delivered first).

    :param shard_count: a provisioned stream of this many shards.
    :param expected_throughput: a provisioned stream sized for this load (not with ``shard_count``).
    :param retention_period: 24 hours to 365 days; default 24 hours.
    :param encryption_key: customer-managed KMS key for the stream, the bucket, the objects and the
        delivery log group (a key of this app gets a key-policy statement letting CloudWatch Logs use it).
    :param existing_bucket: deliver to this bucket instead of creating one (its policies are yours). The key
        and the bucket may be in other stacks, unless such a stack depends on this one (refused, naming both).
    :param data_prefix: S3 prefix of delivered objects; Firehose expressions allowed.
    :param error_prefix: S3 prefix of failed records; required when ``data_prefix`` has
        expressions, and must then contain ``!{firehose:error-output-type}``.
    :param buffering_interval: 0-900 s, default 300 s.
    :param buffering_size: 1-128 MiB, default 5 MiB; with dynamic partitioning at least 64 MiB, default 128 MiB.
    :param compression: default GZIP.
    :param lifecycle: rules for the created bucket; default :func:`default_lifecycle`; ``[]`` for none.
    :param alarm_topic: an SNS topic (or ``AlarmTopic``) the alarms notify; default none.
    :param create_alarms: default True; False creates no alarm.
    :param alarm_settings: an ``AlarmSettings``: name prefix, extra ALARM/OK actions, and
        per-key overrides (``AlarmOptions``, or None to drop that alarm).
    :param removal_policy: stream, buckets and log group; default RETAIN.
    :param transform: a :class:`LambdaTransform` Firehose calls before delivery; needs an ``error_prefix`` with
        ``!{firehose:error-output-type}``.
    :param dynamic_partitioning: partition objects by ``transform.partition_keys`` and ``partition_by``; at least
        one key; buffering_interval at least 60 s. Set at creation only.
    :param partition_by: ``{"<key>": "<JQ path>"}`` (e.g. ``{"tenant": ".customer.tenant"}``), each key used in
        ``data_prefix`` as ``!{partitionKeyFromQuery:<key>}``; runs after the transform, on its output.
    """

    #: The keys of ``alarms`` and of ``alarm_settings.overrides``.
    ALARM_KEYS: ClassVar[tuple[str, ...]] = (
        "iterator_age",
        "write_throttled",
        "data_freshness",
        "delivery_success",
        *TRANSFORM_ALARM_KEYS,
    )

    @r.guarded(RULES)
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shard_count: int | None = None,
        expected_throughput: Throughput | None = None,
        retention_period: Duration = DEFAULT_RETENTION,
        alarm_topic: sns.ITopic | AlarmTopic | None = None,
        create_alarms: bool = True,
        alarm_settings: AlarmSettings | None = None,
        encryption_key: kms.IKey | None = None,
        existing_bucket: s3.IBucket | None = None,
        data_prefix: str = DEFAULT_DATA_PREFIX,
        error_prefix: str | None = DEFAULT_ERROR_PREFIX,
        buffering_interval: Duration = DEFAULT_BUFFERING_INTERVAL,
        buffering_size: Size | None = None,
        compression: firehose.Compression = firehose.Compression.GZIP,
        lifecycle: Sequence[s3.LifecycleRule] | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        transform: LambdaTransform | None = None,
        dynamic_partitioning: bool = False,
        partition_by: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        alarms = Alarms.of(self, alarm_topic, create_alarms, alarm_settings)
        _stacks.use_each(self, {"encryption_key": encryption_key, "existing_bucket": existing_bucket})
        if alarms.enabled("iterator_age"):
            _delivery.check_iterator_age(
                alarms.threshold("iterator_age", DEFAULT_ITERATOR_AGE_ALARM),  # type: ignore[arg-type]
                retention_period,
            )
        self.encryption_key = encryption_key
        self.capacity_plan: CapacityPlan | None
        self.capacity_plan, shards = _delivery.plan_shards(shard_count, expected_throughput)
        self.stream = _delivery.source_stream(
            self,
            shards=shards,
            retention_period=retention_period,
            encryption_key=encryption_key,
            removal_policy=removal_policy,
        )
        self.access_log_bucket: s3.Bucket | None
        self.bucket: s3.IBucket
        if existing_bucket is not None:
            self.access_log_bucket, self.bucket = None, existing_bucket
        else:
            self.access_log_bucket, self.bucket = _delivery.hardened_bucket(
                self,
                encryption_key=encryption_key,
                lifecycle=lifecycle,
                removal_policy=removal_policy,
                access_log_prefix=ACCESS_LOG_PREFIX,
            )
        self.delivery_stream = self._new_delivery_stream(
            data_prefix=data_prefix,
            error_prefix=error_prefix,
            buffering_interval=buffering_interval,
            buffering_size=buffering_size
            or (DEFAULT_PARTITIONED_BUFFERING_SIZE if dynamic_partitioning else DEFAULT_BUFFERING_SIZE),
            compression=compression,
            removal_policy=removal_policy,
            dynamic_partitioning=dynamic_partitioning,
        )
        self.transform = transform
        # aws-cdk-lib's S3Bucket got only the prefix's static part with dynamic partitioning (see apply_processing).
        apply_processing(
            self.delivery_stream,
            self,
            transform,
            self.role,
            partition_by=partition_by,
            partitioned_prefix=data_prefix if dynamic_partitioning else None,
        )
        self._grant_delivery(data_prefix, error_prefix, encryption_key)
        self.alarms = self._add_alarms(
            alarms, provisioned=shards is not None, buffering_interval=buffering_interval, transform=transform
        )

    def _new_delivery_stream(
        self,
        *,
        data_prefix: str,
        error_prefix: str | None,
        buffering_interval: Duration,
        buffering_size: Size,
        compression: firehose.Compression,
        removal_policy: RemovalPolicy,
        dynamic_partitioning: bool,
    ) -> firehose.DeliveryStream:
        """The delivery stream, with its ``log_group`` and its ``role`` (granted by :meth:`_grant_delivery`)."""
        stack = Stack.of(self)
        encryption_key = self.encryption_key
        self.log_group = _delivery.delivery_log_group(
            self, encryption_key=encryption_key, removal_policy=removal_policy
        )
        self.role = _delivery.delivery_role(self, "Firehose: read one Kinesis stream, write its S3 prefixes")
        # The L2 would grant itself read/write on the whole bucket; it gets the role immutable,
        # and the role gets exactly the statements below.
        frozen_role = self.role.without_policy_updates()
        mapping_existed = _internals.has_firehose_cidr_mapping(stack)
        delivery_stream = firehose.DeliveryStream(
            self,
            "DeliveryStream",
            source=firehose.KinesisStreamSource(self.stream),
            destination=firehose.S3Bucket(
                self.bucket,
                role=frozen_role,
                data_output_prefix=_static_prefixes(data_prefix, None)[0] or None
                if dynamic_partitioning
                else data_prefix,
                error_output_prefix=error_prefix,
                buffering_interval=buffering_interval,
                buffering_size=buffering_size,
                compression=compression,
                encryption_key=encryption_key,
                logging_config=firehose.EnableLogging(self.log_group),
            ),
            role=frozen_role,
        )
        _internals.remove_firehose_cidr_mapping(stack, existed_before=mapping_existed)
        # Firehose encrypts at rest only what producers put directly; with a Kinesis source the records
        # are encrypted in the stream (KMS) and in S3, and Firehose rejects SSE on such a stream.
        Validations.of(delivery_stream).acknowledge(
            Acknowledgment(
                id="AwsSolutions-KDF1",
                reason="Firehose server-side encryption applies to Direct PUT sources only; this delivery stream "
                "reads a KMS-encrypted Kinesis stream and writes to an encrypted bucket.",
            )
        )
        return delivery_stream

    @r.guarded(GRANT_RULES)
    def grant_write(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` put records on the stream (and use its customer-managed key)."""
        return self.stream.grant_write(grantee)

    @r.guarded(GRANT_RULES)
    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` consume the stream as one more consumer beside Firehose (list shards, get
        records, and decrypt with its customer-managed key). Count it in ``expected_throughput.consumers``."""
        return self.stream.grant_read(grantee)

    def _add_alarms(
        self, alarms: Alarms, *, provisioned: bool, buffering_interval: Duration, transform: LambdaTransform | None
    ) -> Mapping[str, cloudwatch.Alarm]:
        _delivery.add_stream_alarms(alarms, self.stream, provisioned=provisioned)
        transform_wait = transform_delay_seconds(transform)
        _delivery.add_freshness_alarm(
            alarms,
            self.delivery_stream.metric("DeliveryToS3.DataFreshness", period=Duration.minutes(5), statistic="Maximum"),
            # Twice the buffering interval plus a minute: a record may wait one full buffer, then its delivery
            # (1.5 buffers with dynamic partitioning); plus the transform's own buffer before the function runs.
            threshold=Duration.seconds(buffering_interval.to_seconds() * 2 + transform_wait + 60),
            # A record waits up to one buffering interval (and the transform's) before its delivery starts:
            # freshness is never lower for long, so a threshold at or under it is always in ALARM.
            floor=(
                buffering_interval.to_seconds() + transform_wait,
                "the buffering_interval (and the transform's buffer_interval), which a record may wait",
            ),
            description="Records have waited more than {threshold} to reach S3.",
        )
        _delivery.add_success_alarm(
            alarms,
            self.delivery_stream.metric("DeliveryToS3.Success", period=Duration.minutes(5), statistic="Minimum"),
            description="Firehose failed to put objects into S3; failed records go under the error prefix.",
        )
        add_transform_alarms(alarms, transform)
        alarms.refuse_unused_overrides(
            "write_throttled needs a provisioned stream, transform_errors and transform_throttles a transform"
        )
        return alarms.mapping

    def _grant_delivery(self, data_prefix: str, error_prefix: str | None, key: kms.IKey | None) -> None:
        statements = [
            _delivery.read_stream_statement(self.stream),
            iam.PolicyStatement(
                sid="FindTheBucket",
                actions=["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                resources=[self.bucket.bucket_arn],
            ),
            iam.PolicyStatement(
                sid="WriteUnderThePrefixes",
                actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[self.bucket.arn_for_objects(f"{p}*") for p in _static_prefixes(data_prefix, error_prefix)],
            ),
            iam.PolicyStatement(
                sid="LogDeliveryErrors",
                actions=["logs:PutLogEvents"],
                resources=[self._log_stream_arn()],
            ),
        ]
        if key is not None:  # the stream's key (to read) and the objects' key (to write)
            statements.append(_delivery.key_statement(key))
        elif self.bucket.encryption_key is not None:  # an existing bucket with its own key
            statements.append(
                iam.PolicyStatement(
                    sid="UseTheBucketKey",
                    actions=["kms:GenerateDataKey", "kms:Decrypt"],
                    resources=[self.bucket.encryption_key.key_arn],
                )
            )
        policy = iam.Policy(self, "DeliveryPolicy", statements=statements, roles=[self.role])
        # The delivery stream must not start before its role may read and write.
        self.delivery_stream.node.add_dependency(policy)
        bucket_arn = _internals.nag_arn_token(self, self.bucket)
        for prefix in _static_prefixes(data_prefix, error_prefix) if bucket_arn else ():
            Validations.of(policy).acknowledge(
                Acknowledgment(
                    id=_internals.nag_resource_finding_id("AwsSolutions-IAM5", f"{bucket_arn}/{prefix}*"),
                    reason="Firehose names each object it delivers (time-partitioned keys); the wildcard is "
                    f"confined to PutObject and AbortMultipartUpload under the '{prefix}' prefix of one bucket.",
                )
            )

    def _log_stream_arn(self) -> str:
        return _delivery.log_stream_arn(self, self.log_group, _internals.firehose_s3_log_stream(self.log_group))


def _static_prefixes(data_prefix: str, error_prefix: str | None) -> list[str]:
    """The fixed start of each prefix, before its first expression: what IAM can name."""
    prefixes = [data_prefix] + ([error_prefix] if error_prefix else [])
    return list(dict.fromkeys(_EXPRESSION.split(p, maxsplit=1)[0] for p in prefixes))


def _check_prefix(prop: str, prefix: str, *, error: bool) -> None:
    if not isinstance(prefix, str):
        raise PropTypeError(f"{prop} must be a string (an S3 key prefix), got {prefix!r}")
    if not prefix or prefix.startswith("/"):
        raise ValueError(f"{prop} must be a non-empty S3 key prefix not starting with '/', got {prefix!r}")
    if len(prefix) > MAX_PREFIX_LENGTH:
        raise ValueError(f"{prop} must be at most {MAX_PREFIX_LENGTH} characters (Firehose), got {len(prefix)}")
    bad = sorted({c for c in prefix if ord(c) < 32 or ord(c) == 127 or c in "*?"})
    if bad:
        raise ValueError(
            f"{prop} may not contain control characters or the IAM wildcards * and ? (the delivery role's "
            f"grant is built from the prefix), got {prefix!r}"
        )
    for expression in _EXPRESSION.findall(prefix):
        partition = _PARTITION_EXPRESSION.match(expression)
        if partition is not None and error:
            raise ValueError(
                f"error_prefix may not use partition keys ({expression}): failed records have none (Firehose "
                f"rule), got {prefix!r}"
            )
        if partition is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", partition.group(2)):
            raise ValueError(f"{prop} has a partition key expression without a valid key name, got {expression}")
        if partition is None and not _VALID_EXPRESSION.match(expression):
            raise ValueError(
                f"{prop} has an unknown expression {expression}; allowed: !{{timestamp:<format>}}, "
                "!{firehose:random-string}"
                + (
                    ", !{firehose:error-output-type}"
                    if error
                    else ", !{partitionKeyFromLambda:<key>}, !{partitionKeyFromQuery:<key>} (dynamic partitioning)"
                )
            )
        if not error and expression == ERROR_OUTPUT_TYPE:
            raise ValueError(f"data_prefix may not contain {ERROR_OUTPUT_TYPE} (only error_prefix may), got {prefix!r}")
    if "!{" in _EXPRESSION.sub("", prefix):
        raise ValueError(f"{prop} has an unterminated expression ('!{{' without '}}'), got {prefix!r}")
