"""StreamToHttpEndpoint: a Kinesis data stream (or direct puts) delivered by Firehose to an HTTPS endpoint.

Rendered on the L1 ``CfnDeliveryStream``: aws-cdk-lib's ``HttpEndpoint`` destination exists only from 2.265,
above the library's floor (2.258), and accepts ``http://`` URLs, other ports, buffers up to 128 MiB and a bare
backup bucket (STREAMING_NOTES §2.1, gaps G5-G7), all refused or hardened here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import urlsplit

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, SecretValue, Size, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
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
from ._delivery import DEFAULT_ITERATOR_AGE_ALARM, DEFAULT_RETENTION
from ._transform import (
    TRANSFORM,
    TRANSFORM_ALARM_KEYS,
    LambdaTransform,
    add_transform_alarms,
    no_partition_keys,
    render_processing,
    transform_delay_seconds,
)

MAX_BUFFERING_MIB = limits.FIREHOSE_HTTP_MAX_BUFFERING_MIB
MIN_BUFFERING_MIB = limits.FIREHOSE_MIN_BUFFERING_MIB
MAX_BUFFERING_SECONDS = limits.FIREHOSE_MAX_BUFFERING_SECONDS
MAX_RETRY_SECONDS = limits.FIREHOSE_HTTP_MAX_RETRY_SECONDS
MAX_URL_LENGTH = limits.FIREHOSE_HTTP_MAX_URL_LENGTH
MAX_NAME_LENGTH = limits.FIREHOSE_HTTP_MAX_NAME_LENGTH
MAX_COMMON_ATTRIBUTES = limits.FIREHOSE_HTTP_MAX_COMMON_ATTRIBUTES

# The AWS defaults (API_HttpEndpointBufferingHints: 5 MB, 300 s; API_HttpEndpointRetryOptions: 300 s).
DEFAULT_BUFFERING_SIZE = Size.mebibytes(5)
DEFAULT_BUFFERING_INTERVAL = Duration.seconds(300)
DEFAULT_RETRY_DURATION = Duration.seconds(300)
#: Where the backup bucket receives the records Firehose could not deliver (or all of them, ``backup="ALL"``).
BACKUP_PREFIX = "http-endpoint-backup/"
#: Where records a ``transform`` failed on are written (Firehose adds the error type and the time).
BACKUP_ERROR_PREFIX = "http-endpoint-errors/"
ACCESS_LOG_PREFIX = "backup-bucket/"
_BACKUP_MODES = {"FAILED_ONLY": "FailedDataOnly", "ALL": "AllData"}
# "Amazon Data Firehose supports only HTTPS endpoints on port 443" (Firehose developer guide, "Appendix - HTTP
# Endpoint Delivery Request and Response Specifications"; the API's Url pattern is https://.*).
HTTPS_PORT = 443


def _check_url(prop: str, url: object, ctx: r.Context) -> None:
    if not isinstance(url, str):
        raise PropTypeError(f"{prop} must be an https:// URL (a string), got {r.show(url)}")
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"{prop} must be at most {MAX_URL_LENGTH} characters (Firehose Url), got {len(url)}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError(f"{prop} must be an https:// URL on port 443, got {r.show(url)}") from None
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(
            f"{prop} must be an https:// URL with a host (Firehose delivers over HTTPS only), got {r.show(url)}"
        )
    if port not in (None, HTTPS_PORT):
        raise ValueError(f"{prop} must use port 443 (Firehose delivers to no other port), got port {port}")
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise ValueError(f"{prop} may not contain spaces or control characters, got {r.show(url)}")


def _check_access_key(prop: str, key: object, ctx: r.Context) -> None:
    if isinstance(key, str | bytes | SecretValue) or not all(
        hasattr(key, a) for a in ("secret_arn", "grant_read", "secret_value")
    ):
        # Never echo the value: it may be the key itself.
        raise PropTypeError(
            f'{prop} must be a secretsmanager.ISecret holding {{"api_key": "..."}} (Firehose reads it at '
            f"delivery; a key given as text would be written into the template), got a {type(key).__name__}"
        )
    r.Interface("a secretsmanager.ISecret", ("secret_arn",)).check(prop, key, ctx)


@dataclass(frozen=True)
class _Secret(r.Custom):
    """A secret: judged by :func:`_check_access_key` even when it is a token (a ``SecretValue`` is one), so that
    a key given as text is refused as such, whatever form the text takes."""

    def _token_inside(self, value: object) -> bool:
        return False


def _secret_rule(optional: bool) -> r.Rule:
    return _Secret(_check_access_key, "a secretsmanager.ISecret", optional=optional)


_ATTRIBUTE_NAME = r.Text(
    f"an attribute name of 1-{limits.FIREHOSE_HTTP_MAX_ATTRIBUTE_NAME_LENGTH} characters",
    min_length=1,
    max_length=limits.FIREHOSE_HTTP_MAX_ATTRIBUTE_NAME_LENGTH,
    source="Firehose HttpEndpointCommonAttribute AttributeName",
)
_ATTRIBUTE_VALUE = r.Text(
    f"an attribute value of 0-{limits.FIREHOSE_HTTP_MAX_ATTRIBUTE_VALUE_LENGTH} characters",
    min_length=0,
    max_length=limits.FIREHOSE_HTTP_MAX_ATTRIBUTE_VALUE_LENGTH,
    source="Firehose HttpEndpointCommonAttribute AttributeValue",
)


def _source_relations(values: Mapping[str, Any], ctx: r.Context) -> None:
    """The props of the stream this construct creates apply only when it creates one."""
    if values.get("stream") is not None and values.get("direct_put"):
        raise ValueError(
            "give stream or direct_put=True, not both: a delivery stream reads a Kinesis stream or takes puts"
        )
    given = "stream" if values.get("stream") is not None else "direct_put" if values.get("direct_put") else None
    if given is None:
        return
    for prop in ("shard_count", "expected_throughput"):
        if values.get(prop) is not None:
            raise ValueError(f"{prop} sizes the stream StreamToHttpEndpoint creates; with {given} it creates none")
    if values.get("retention_period") is not DEFAULT_RETENTION:
        raise ValueError(
            f"retention_period applies to the stream StreamToHttpEndpoint creates; with {given} it creates none"
        )


#: What every StreamToHttpEndpoint prop accepts.
RULES = (
    r.Rules(
        {
            "url": r.AllOf(
                rules=(
                    r.Text(
                        f"an https:// URL of at most {MAX_URL_LENGTH} characters",
                        max_length=MAX_URL_LENGTH,
                        tokens="synth",
                        why="https:// and port 443 are checked at synth time",
                        source="Firehose HttpEndpointConfiguration Url",
                    ),
                    r.Custom(
                        _check_url,
                        "an https:// URL on port 443",
                        tokens="synth",
                        why="https:// and port 443 are checked at synth time",
                        source="Firehose developer guide, HTTP endpoint delivery request and response specifications",
                    ),
                )
            ),
            "access_key": _secret_rule(optional=True),
            "endpoint_name": r.Text(
                f"a name of 1-{MAX_NAME_LENGTH} characters, not only spaces",
                pattern=r"(?s)(?!\s*$).+",
                max_length=MAX_NAME_LENGTH,
                optional=True,
                source="Firehose HttpEndpointConfiguration Name",
            ),
            "common_attributes": r.MappingOf(
                _ATTRIBUTE_NAME,
                _ATTRIBUTE_VALUE,
                max_length=MAX_COMMON_ATTRIBUTES,
                text=f"a mapping of at most {MAX_COMMON_ATTRIBUTES} attribute names to values",
                optional=True,
                source="HTTP endpoint delivery specification, X-Amz-Firehose-Common-Attributes",
            ),
            "content_encoding": r.OneOf(("GZIP", "NONE"), source="Firehose HttpEndpointRequestConfiguration"),
            "buffering_size": _delivery.buffering_size_rule(
                MAX_BUFFERING_MIB, "Firehose HttpEndpointBufferingHints SizeInMBs"
            ),
            "buffering_interval": _delivery.buffering_interval_rule(
                "Firehose HttpEndpointBufferingHints IntervalInSeconds"
            ),
            "retry_duration": r.Seconds(
                0,
                MAX_RETRY_SECONDS,
                tokens="synth",
                why="the data-freshness alarm's threshold is computed from it",
                source="Firehose HttpEndpointRetryOptions DurationInSeconds",
            ),
            "backup": r.OneOf(
                tuple(_BACKUP_MODES), source="Firehose HttpEndpointDestinationConfiguration S3BackupMode"
            ),
            "backup_bucket": r.Interface(
                "an s3.IBucket", ("bucket_arn", "bucket_name", "arn_for_objects"), optional=True, tokens="synth"
            ),
            "stream": r.Interface(
                "a kinesis.IStream", ("stream_arn", "stream_name", "grant_read"), optional=True, tokens="synth"
            ),
            "direct_put": r.Bool(),
            "transform": TRANSFORM,
            **_delivery.pick(
                "shard_count",
                "expected_throughput",
                "retention_period",
                "encryption_key",
                "lifecycle",
                "removal_policy",
            ),
        },
        relations=(
            *_delivery.SOURCE_RELATIONS,
            _source_relations,
            _delivery.lifecycle_needs_own_bucket("StreamToHttpEndpoint", "backup_bucket"),
            no_partition_keys("an HTTP endpoint"),
        ),
    )
    | ALARM_PROPS
)


class StreamToHttpEndpoint(PatternConstruct):
    """Records of a Kinesis data stream (or put directly) delivered by Firehose to an HTTPS endpoint.

    Builds:

    * ``stream``: the source: ``stream`` when given; else (unless ``direct_put``) a stream created like
      StreamToS3's (``shard_count``, or sized for ``expected_throughput``, else on-demand; KMS; retained).
      ``None`` with ``direct_put``: producers call PutRecord(Batch) on the delivery stream, which is then
      encrypted at rest (``encryption_key``, else an AWS-owned key).
    * ``delivery_stream`` (``CfnDeliveryStream``): POSTs batches to ``url`` (HTTPS, port 443), GZIP by
      default, with ``common_attributes`` and ``endpoint_name``; the access key is read by Firehose from
      ``access_key`` (Secrets Manager: ``{"api_key": "..."}``), never written into the template. Buffered
      by ``buffering_size``/``buffering_interval``; a failed request is retried for ``retry_duration``,
      then the batch goes to ``backup_bucket`` under ``http-endpoint-backup/`` (``backup="ALL"`` backs up
      every record). Delivery errors are logged to ``log_group``.
    * ``backup_bucket``: the given one, or a created bucket hardened like StreamToS3's (public access
      blocked, TLS only, SSE-S3 or SSE-KMS with ``encryption_key``, versioned, ``lifecycle``, access logs
      to ``access_log_bucket``), retained by default.
    * ``role``: Firehose's, assumable only for this account; may read only the stream, write only under
      the backup prefix, log to its two log streams, and read only the access-key secret.
    * ``alarms``: ``iterator_age`` and ``write_throttled`` on a created stream (as StreamToS3's),
      ``data_freshness`` (``DeliveryToHttpEndpoint.DataFreshness`` above buffering interval + retry
      duration + a minute), ``delivery_success`` (``DeliveryToHttpEndpoint.Success`` below 1) and
      ``throttled_records`` (``ThrottledRecords``).

    Presets: :meth:`datadog`, :meth:`new_relic`, :meth:`mongodb`.

    :param url: the endpoint: ``https://`` and port 443 only, at most 1,000 characters.
    :param access_key: a Secrets Manager secret holding ``{"api_key": "..."}``; none for an open endpoint.
    :param endpoint_name: the endpoint's name (1-256 characters).
    :param common_attributes: sent with every request (X-Amz-Firehose-Common-Attributes): at most 50,
        names 1-256 characters, values 0-1,024.
    :param content_encoding: ``"GZIP"`` (default) or ``"NONE"``.
    :param buffering_size: 1-64 MiB, default 5 MiB.
    :param buffering_interval: 0-900 s, default 300 s.
    :param retry_duration: 0-7,200 s, default 300 s.
    :param backup: ``"FAILED_ONLY"`` (default) or ``"ALL"``.
    :param backup_bucket: back up into this bucket instead of creating one (its policies are yours).
    :param stream: read this stream instead of creating one (not with ``direct_put``).
    :param direct_put: no stream: producers put records on the delivery stream.
    :param transform: a ``LambdaTransform`` Firehose calls on each batch before delivery (every setting rendered;
        the role may invoke it; records it fails go to the backup bucket under ``http-endpoint-errors/``; alarms
        ``transform_errors`` and ``transform_throttles``). No ``partition_keys``: an endpoint has no prefix.
    :param shard_count: / :param expected_throughput: / :param retention_period: the created stream's, as
        StreamToS3's.
    :param encryption_key: customer-managed key for the created stream, the created bucket, the log group
        and (``direct_put``) the delivery stream.
    :param lifecycle: rules of the created backup bucket; default StreamToS3's.
    :param alarm_topic: / :param create_alarms: / :param alarm_settings: as every construct's.
    :param removal_policy: stream, buckets, log group; default RETAIN.
    """

    #: The keys of ``alarms`` and of ``alarm_settings.overrides``.
    ALARM_KEYS: ClassVar[tuple[str, ...]] = (
        "iterator_age",
        "write_throttled",
        "data_freshness",
        "delivery_success",
        "throttled_records",
        *TRANSFORM_ALARM_KEYS,
    )

    @r.guarded(RULES)
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        url: str,
        access_key: secretsmanager.ISecret | None = None,
        endpoint_name: str | None = None,
        common_attributes: Mapping[str, str] | None = None,
        content_encoding: Literal["GZIP", "NONE"] = "GZIP",
        buffering_size: Size = DEFAULT_BUFFERING_SIZE,
        buffering_interval: Duration = DEFAULT_BUFFERING_INTERVAL,
        retry_duration: Duration = DEFAULT_RETRY_DURATION,
        backup: Literal["FAILED_ONLY", "ALL"] = "FAILED_ONLY",
        backup_bucket: s3.IBucket | None = None,
        stream: kinesis.IStream | None = None,
        direct_put: bool = False,
        transform: LambdaTransform | None = None,
        shard_count: int | None = None,
        expected_throughput: Throughput | None = None,
        retention_period: Duration = DEFAULT_RETENTION,
        encryption_key: kms.IKey | None = None,
        lifecycle: Sequence[s3.LifecycleRule] | None = None,
        alarm_topic: sns.ITopic | AlarmTopic | None = None,
        create_alarms: bool = True,
        alarm_settings: AlarmSettings | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        alarms = Alarms.of(self, alarm_topic, create_alarms, alarm_settings)
        _stacks.use_each(
            self,
            {
                "encryption_key": encryption_key,
                "backup_bucket": backup_bucket,
                "stream": stream,
                "access_key": access_key,
            },
        )
        creates_stream = stream is None and not direct_put
        if creates_stream and alarms.enabled("iterator_age"):
            _delivery.check_iterator_age(
                alarms.threshold("iterator_age", DEFAULT_ITERATOR_AGE_ALARM),  # type: ignore[arg-type]
                retention_period,
            )
        self.encryption_key = encryption_key
        self.access_key = access_key
        self.capacity_plan: CapacityPlan | None = None
        self.stream: kinesis.IStream | None = stream
        shards: int | None = None
        if creates_stream:
            self.capacity_plan, shards = _delivery.plan_shards(shard_count, expected_throughput)
            self.stream = _delivery.source_stream(
                self,
                shards=shards,
                retention_period=retention_period,
                encryption_key=encryption_key,
                removal_policy=removal_policy,
            )
        self.access_log_bucket: s3.Bucket | None = None
        self.backup_bucket: s3.IBucket
        if backup_bucket is not None:
            self.backup_bucket = backup_bucket
        else:
            self.access_log_bucket, self.backup_bucket = _delivery.hardened_bucket(
                self,
                encryption_key=encryption_key,
                lifecycle=lifecycle,
                removal_policy=removal_policy,
                access_log_prefix=ACCESS_LOG_PREFIX,
            )
        self.log_group = _delivery.delivery_log_group(
            self, encryption_key=encryption_key, removal_policy=removal_policy
        )
        self._endpoint_log = self.log_group.add_stream("HttpEndpointDelivery", log_stream_name="HttpEndpointDelivery")
        self._backup_log = self.log_group.add_stream("BackupDelivery", log_stream_name="BackupDelivery")
        self.role = _delivery.delivery_role(
            self, "Firehose: read one source, POST to one HTTPS endpoint, back up to S3"
        )
        policy = self._grant_delivery()
        self.delivery_stream = self._new_delivery_stream(
            url=url,
            endpoint_name=endpoint_name,
            common_attributes=common_attributes or {},
            content_encoding=content_encoding,
            buffering_size=buffering_size,
            buffering_interval=buffering_interval,
            retry_duration=retry_duration,
            backup=backup,
        )
        # The delivery stream must not start before its role may read, write and fetch the key.
        self.delivery_stream.node.add_dependency(policy)
        self.transform = transform
        processing = render_processing(self, transform, self.role, dependent=self.delivery_stream)
        if processing is not None:
            self.delivery_stream.add_property_override(
                "HttpEndpointDestinationConfiguration.ProcessingConfiguration", processing
            )
        self.alarms = self._add_alarms(
            alarms,
            creates_stream=creates_stream,
            provisioned=shards is not None,
            buffering_interval=buffering_interval,
            retry_duration=retry_duration,
            transform=transform,
        )

    # ------------------------------------------------------------------------------------------ presets
    @classmethod
    def datadog(
        cls,
        scope: Construct,
        construct_id: str,
        *,
        api_key: secretsmanager.ISecret,
        site: str = "US1",
        kind: Literal["logs", "metrics"] = "logs",
        **props: Any,
    ) -> StreamToHttpEndpoint:
        """Deliver to Datadog's Firehose intake of ``site`` for ``kind`` (logs or metrics).

        URLs: the intake URLs of Datadog's Firehose destination per site (Datadog, "Send AWS Services Logs
        with the Datadog Amazon Data Firehose Destination",
        https://docs.datadoghq.com/logs/guide/send-aws-services-logs-with-the-datadog-kinesis-firehose-destination/,
        "choose the Datadog logs HTTP endpoint URL that corresponds to your Datadog site"), as aws-cdk-lib's
        ``DatadogEndpoint`` holds them (2.265+; https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_kinesisfirehose.DatadogEndpoint.html).
        A test compares this table with the installed aws-cdk-lib's. Other sites: use the constructor with
        the URL Datadog gives you. Defaults follow aws-cdk-lib's ``Datadog`` destination: 4 MiB / 60 s
        buffering, 60 s retry, GZIP. ``props``: any other prop of the constructor.
        """
        _check_preset(
            cls, scope, construct_id, "datadog", _DATADOG_RULES, {"api_key": api_key, "site": site, "kind": kind}, props
        )
        defaults: dict[str, Any] = {
            "buffering_size": Size.mebibytes(4),
            "buffering_interval": Duration.seconds(60),
            "retry_duration": Duration.seconds(60),
            "endpoint_name": "Datadog",
        }
        return cls(scope, construct_id, url=DATADOG_URLS[kind][site], access_key=api_key, **{**defaults, **props})

    @classmethod
    def new_relic(
        cls,
        scope: Construct,
        construct_id: str,
        *,
        url: str,
        license_key: secretsmanager.ISecret,
        **props: Any,
    ) -> StreamToHttpEndpoint:
        """Deliver to New Relic: ``url`` is New Relic's Firehose endpoint for your account's region (US or EU)
        and data (logs, or metric streams), as New Relic's "Stream logs using Kinesis Data Firehose" and
        "Manual integration from AWS console" pages give it
        (https://docs.newrelic.com/docs/infrastructure/amazon-integrations/aws-integration-for-metrics/manual).
        The library does not hold these URLs: their text could not be verified from New Relic's
        documentation here, so the URL is yours to pass; it must be HTTPS on a New Relic host (``newrelic.com``
        or ``nr-data.net``). ``license_key``: a secret holding ``{"api_key": "<license key>"}``.
        """
        values = {"url": url, "license_key": license_key}
        _check_preset(cls, scope, construct_id, "new_relic", _NEW_RELIC_RULES, values, props)
        return cls(scope, construct_id, url=url, access_key=license_key, **{"endpoint_name": "New Relic", **props})

    @classmethod
    def mongodb(
        cls,
        scope: Construct,
        construct_id: str,
        *,
        app_id: str,
        route: str,
        api_key: secretsmanager.ISecret,
        deployment_region: str | None = None,
        **props: Any,
    ) -> StreamToHttpEndpoint:
        """Deliver to a MongoDB Atlas App Services custom HTTPS endpoint (the function you write there stores
        the records). URL, from MongoDB's "Custom HTTPS Endpoints" page
        (https://www.mongodb.com/docs/atlas/app-services/data-api/custom-endpoints/): a globally deployed
        app's ``https://data.mongodb-api.com/app/<App ID>/endpoint<route>``; a locally deployed one's
        ``https://<region>.aws.data.mongodb-api.com/app/<App ID>/endpoint<route>`` (``deployment_region``,
        e.g. ``us-east-1``). MongoDB marks App Services endpoints deprecated: check it still serves yours.
        """
        values = {"app_id": app_id, "route": route, "api_key": api_key, "deployment_region": deployment_region}
        _check_preset(cls, scope, construct_id, "mongodb", _MONGODB_RULES, values, props)
        host = f"{deployment_region}.aws.data.mongodb-api.com" if deployment_region else "data.mongodb-api.com"
        url = f"https://{host}/app/{app_id}/endpoint{route}"
        return cls(scope, construct_id, url=url, access_key=api_key, **{"endpoint_name": "MongoDB", **props})

    # --------------------------------------------------------------------------------------- resources
    def _new_delivery_stream(
        self,
        *,
        url: str,
        endpoint_name: str | None,
        common_attributes: Mapping[str, str],
        content_encoding: str,
        buffering_size: Size,
        buffering_interval: Duration,
        retry_duration: Duration,
        backup: str,
    ) -> firehose.CfnDeliveryStream:
        cfn = firehose.CfnDeliveryStream
        role_arn = self.role.role_arn
        key = self.encryption_key
        backup_key = key if self.access_log_bucket is not None else self.backup_bucket.encryption_key
        with r.blame("buffering_size"):
            size_mib = buffering_size.to_mebibytes()
        destination = cfn.HttpEndpointDestinationConfigurationProperty(
            endpoint_configuration=cfn.HttpEndpointConfigurationProperty(url=url, name=endpoint_name),
            secrets_manager_configuration=cfn.SecretsManagerConfigurationProperty(
                enabled=True, secret_arn=self.access_key.secret_arn, role_arn=role_arn
            )
            if self.access_key is not None
            else None,
            request_configuration=cfn.HttpEndpointRequestConfigurationProperty(
                content_encoding=content_encoding,
                common_attributes=[
                    cfn.HttpEndpointCommonAttributeProperty(attribute_name=name, attribute_value=value)
                    for name, value in common_attributes.items()
                ]
                or None,
            ),
            buffering_hints=cfn.BufferingHintsProperty(
                size_in_m_bs=size_mib, interval_in_seconds=buffering_interval.to_seconds()
            ),
            retry_options=cfn.RetryOptionsProperty(duration_in_seconds=retry_duration.to_seconds()),
            role_arn=role_arn,
            s3_backup_mode=_BACKUP_MODES[backup],
            s3_configuration=cfn.S3DestinationConfigurationProperty(
                bucket_arn=self.backup_bucket.bucket_arn,
                role_arn=role_arn,
                prefix=BACKUP_PREFIX,
                error_output_prefix=BACKUP_ERROR_PREFIX,
                compression_format="GZIP",
                encryption_configuration=cfn.EncryptionConfigurationProperty(
                    kms_encryption_config=cfn.KMSEncryptionConfigProperty(awskms_key_arn=backup_key.key_arn)
                )
                if backup_key is not None
                else None,
                cloud_watch_logging_options=self._logging(self._backup_log.log_stream_name),
            ),
            cloud_watch_logging_options=self._logging(self._endpoint_log.log_stream_name),
        )
        stream = self.stream
        delivery_stream = cfn(
            self,
            "DeliveryStream",
            delivery_stream_type="KinesisStreamAsSource" if stream is not None else "DirectPut",
            kinesis_stream_source_configuration=cfn.KinesisStreamSourceConfigurationProperty(
                kinesis_stream_arn=stream.stream_arn, role_arn=role_arn
            )
            if stream is not None
            else None,
            delivery_stream_encryption_configuration_input=None
            if stream is not None
            else cfn.DeliveryStreamEncryptionConfigurationInputProperty(
                key_type="CUSTOMER_MANAGED_CMK" if key is not None else "AWS_OWNED_CMK",
                key_arn=key.key_arn if key is not None else None,
            ),
            http_endpoint_destination_configuration=destination,
        )
        if stream is not None:
            # checkov 3.3 has no CloudFormation check of a delivery stream's encryption: cdk-nag's only.
            Validations.of(delivery_stream).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-KDF1",
                    reason="Firehose server-side encryption applies to Direct PUT sources only; this delivery stream "
                    "reads a Kinesis stream (encrypted there) and keeps nothing at rest but its backups, in an "
                    "encrypted bucket.",
                )
            )
        return delivery_stream

    def _logging(self, log_stream_name: str) -> firehose.CfnDeliveryStream.CloudWatchLoggingOptionsProperty:
        return firehose.CfnDeliveryStream.CloudWatchLoggingOptionsProperty(
            enabled=True, log_group_name=self.log_group.log_group_name, log_stream_name=log_stream_name
        )

    def _grant_delivery(self) -> iam.Policy:
        """The role's one policy: exactly what Firehose calls, on these resources only."""
        bucket = self.backup_bucket
        statements = [
            iam.PolicyStatement(
                sid="FindTheBackupBucket",
                actions=["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                resources=[bucket.bucket_arn],
            ),
            iam.PolicyStatement(
                sid="WriteBackups",
                actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[bucket.arn_for_objects(f"{p}*") for p in (BACKUP_PREFIX, BACKUP_ERROR_PREFIX)],
            ),
            iam.PolicyStatement(
                sid="LogDeliveryErrors",
                actions=["logs:PutLogEvents"],
                resources=[
                    _delivery.log_stream_arn(self, self.log_group, self._endpoint_log),
                    _delivery.log_stream_arn(self, self.log_group, self._backup_log),
                ],
            ),
        ]
        if self.stream is not None:
            statements.append(_delivery.read_stream_statement(self.stream))
        keys = {
            k.key_arn: k
            for k in (
                self.encryption_key,
                getattr(self.stream, "encryption_key", None),
                bucket.encryption_key,
            )
            if k is not None
        }
        if keys:
            statements.append(
                iam.PolicyStatement(
                    sid="UseTheKeys", actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=list(keys)
                )
            )
        secret = self.access_key
        if secret is not None:  # Firehose fetches the key at delivery (SecretsManagerConfiguration)
            statements.append(
                iam.PolicyStatement(
                    sid="ReadTheAccessKey", actions=["secretsmanager:GetSecretValue"], resources=[secret.secret_arn]
                )
            )
            if secret.encryption_key is not None:
                statements.append(
                    iam.PolicyStatement(
                        sid="DecryptTheAccessKey", actions=["kms:Decrypt"], resources=[secret.encryption_key.key_arn]
                    )
                )
        policy = iam.Policy(self, "DeliveryPolicy", statements=statements, roles=[self.role])
        bucket_arn = _internals.nag_arn_token(self, bucket)
        for prefix in (BACKUP_PREFIX, BACKUP_ERROR_PREFIX) if bucket_arn else ():
            Validations.of(policy).acknowledge(
                Acknowledgment(
                    id=_internals.nag_resource_finding_id("AwsSolutions-IAM5", f"{bucket_arn}/{prefix}*"),
                    reason="Firehose names each backup object it writes (time-partitioned keys); the wildcard is "
                    f"confined to PutObject and AbortMultipartUpload under the '{prefix}' prefix of one bucket.",
                )
            )
        return policy

    # ------------------------------------------------------------------------------------------ methods
    @r.guarded(GRANT_RULES)
    def grant_write(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` send records: PutRecord(s) on the stream (and its key), or, with ``direct_put``,
        PutRecord and PutRecordBatch on the delivery stream."""
        return _delivery.grant_put(grantee, self.stream, self.delivery_stream.attr_arn)

    # ------------------------------------------------------------------------------------------- alarms
    def _metric(self, name: str, statistic: str) -> cloudwatch.Metric:
        return _delivery.firehose_metric(self.delivery_stream.ref, name, statistic)

    def _add_alarms(
        self,
        alarms: Alarms,
        *,
        creates_stream: bool,
        provisioned: bool,
        buffering_interval: Duration,
        retry_duration: Duration,
        transform: LambdaTransform | None,
    ) -> Mapping[str, cloudwatch.Alarm]:
        if creates_stream:
            assert self.stream is not None
            _delivery.add_stream_alarms(alarms, self.stream, provisioned=provisioned)
        waited = buffering_interval.to_seconds() + transform_delay_seconds(transform)
        _delivery.add_freshness_alarm(
            alarms,
            self._metric("DeliveryToHttpEndpoint.DataFreshness", "Maximum"),
            # A record may wait one buffer (and the transform's), then be retried for retry_duration; plus a minute
            # for the request.
            threshold=Duration.seconds(waited + retry_duration.to_seconds() + 60),
            floor=(waited, "the buffering_interval (plus the transform's), which a record may wait"),
            description="Records have waited more than {threshold} to reach the HTTP endpoint (buffering and "
            "retries included); after retry_duration they go to the backup bucket.",
        )
        _delivery.add_success_alarm(
            alarms,
            self._metric("DeliveryToHttpEndpoint.Success", "Minimum"),
            description="Firehose failed to deliver to the HTTP endpoint; after retry_duration the batch is backed up "
            f"under {BACKUP_PREFIX} in the backup bucket.",
        )
        _delivery.add_throttled_records_alarm(alarms, self._metric("ThrottledRecords", "Sum"))
        add_transform_alarms(alarms, transform)
        alarms.refuse_unused_overrides(
            "iterator_age and write_throttled exist only for the stream StreamToHttpEndpoint creates (provisioned, "
            "for write_throttled)"
        )
        return alarms.mapping


# --------------------------------------------------------------------------------------------- presets
#: Datadog's Firehose intake URLs by kind and site (sources in StreamToHttpEndpoint.datadog).
DATADOG_URLS: Mapping[str, Mapping[str, str]] = {
    "logs": {
        "US1": "https://aws-kinesis-http-intake.logs.datadoghq.com/v1/input",
        "US3": "https://aws-kinesis-http-intake.logs.us3.datadoghq.com/api/v2/logs?dd-protocol=aws-kinesis-firehose",
        "US5": "https://aws-kinesis-http-intake.logs.us5.datadoghq.com/api/v2/logs?dd-protocol=aws-kinesis-firehose",
        "AP1": "https://aws-kinesis-http-intake.logs.ap1.datadoghq.com/api/v2/logs?dd-protocol=aws-kinesis-firehose",
        "EU": "https://aws-kinesis-http-intake.logs.datadoghq.eu/v1/input",
        "GOV": "https://aws-kinesis-http-intake.logs.ddog-gov.com/v1/input",
    },
    "metrics": {
        "US1": "https://awsmetrics-intake.datadoghq.com/v1/input",
        "US5": "https://event-platform-intake.us5.datadoghq.com/api/v2/awsmetrics?dd-protocol=aws-kinesis-firehose",
        "AP1": "https://event-platform-intake.ap1.datadoghq.com/api/v2/awsmetrics?dd-protocol=aws-kinesis-firehose",
        "EU": "https://awsmetrics-intake.datadoghq.eu/v1/input",
    },
}

_SECRET_RULE = _secret_rule(optional=False)


def _check_datadog_site(values: Mapping[str, Any], ctx: r.Context) -> None:
    sites = DATADOG_URLS[values["kind"]]
    if values["site"] not in sites:
        raise ValueError(
            f"site must be one of {', '.join(sites)} for {values['kind']} (the sites whose Firehose intake URL the "
            f"library holds; for another, pass its url to StreamToHttpEndpoint), got {r.show(values['site'])}"
        )


_DATADOG_RULES = r.Rules(
    {
        "api_key": _SECRET_RULE,
        "kind": r.OneOf(tuple(DATADOG_URLS)),
        "site": r.OneOf(tuple(DATADOG_URLS["logs"])),
    },
    relations=(_check_datadog_site,),
)
_NEW_RELIC_HOST = re.compile(r"(?:[a-z0-9-]+\.)*(?:newrelic\.com|nr-data\.net)")


def _check_new_relic_url(prop: str, url: object, ctx: r.Context) -> None:
    _check_url(prop, url, ctx)
    assert isinstance(url, str)
    host = urlsplit(url).hostname or ""
    if not _NEW_RELIC_HOST.fullmatch(host):
        raise ValueError(f"{prop} must be a New Relic host (newrelic.com or nr-data.net), got host {host!r}")


_NEW_RELIC_RULES = r.Rules(
    {
        "url": r.Custom(_check_new_relic_url, "an https:// URL of a New Relic host", tokens="synth"),
        "license_key": _SECRET_RULE,
    }
)
_MONGODB_RULES = r.Rules(
    {
        "app_id": r.Text(
            "an App Services App ID (letters, digits, '-')", pattern=r"[A-Za-z0-9][A-Za-z0-9-]*", max_length=128
        ),
        "route": r.Text("an endpoint route starting with '/'", pattern=r"/[A-Za-z0-9._~/-]*", max_length=512),
        "api_key": _SECRET_RULE,
        "deployment_region": r.Text("an AWS region such as us-east-1", pattern=r"[a-z]{2}(-[a-z]+)+-\d", optional=True),
    }
)


def _check_preset(
    cls: type,
    scope: Construct,
    construct_id: str,
    method: str,
    rules: r.Rules,
    values: Mapping[str, Any],
    props: Mapping[str, Any],
) -> None:
    """A preset's own arguments, checked like a guarded method's (the constructor checks the other ``props``, but
    not the two the preset sets itself)."""
    try:
        taken = sorted({"url", "access_key"} & set(props))
        if taken:
            raise ValueError(
                f"{', '.join(taken)} are set by the {method}() preset from its own arguments; pass "
                f"{', '.join(sorted(rules.props))} instead, or use the constructor"
            )
        rules.check_values(values, r.Context(scope=scope, owner=cls))
    except Exception as error:
        r.reraise(error, r._where(cls, r._path_of(scope, construct_id), method))
