"""StreamToOpenSearch: a Kinesis data stream (or Direct PUT) delivered by Firehose into one OpenSearch index.

aws-cdk-lib has no L2 for this destination (only ``CfnDeliveryStream``'s
``AmazonopensearchserviceDestinationConfiguration``); the source stream, the backup bucket, the role, the log
group and the alarms are the ones every delivery stream of the library builds (``_delivery``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Size, Stack, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchservice as opensearch
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

if TYPE_CHECKING:
    from ..alarm_topic import AlarmTopic

from .. import _internals, _stacks, limits
from .. import _rules as r
from .._alarms import ALARM_PROPS, Alarms, AlarmSettings
from .._cdk import PatternConstruct
from .._network import private_subnets
from .._props import GRANT_RULES
from .._security import acknowledge_checkov
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
)

__all__ = ["IndexRotation", "OpenSearchBackup", "StreamToOpenSearch"]

# Firehose API reference, AmazonopensearchserviceBufferingHints: IntervalInSeconds 0-900 (default 300),
# SizeInMBs 1-100 (default 5); AmazonopensearchserviceRetryOptions: DurationInSeconds 0-7200 (default 300).
MAX_BUFFERING_SECONDS = limits.FIREHOSE_MAX_BUFFERING_SECONDS
MIN_BUFFERING_MIB = limits.FIREHOSE_OPENSEARCH_MIN_BUFFERING_MIB
MAX_BUFFERING_MIB = limits.FIREHOSE_OPENSEARCH_MAX_BUFFERING_MIB
MAX_RETRY_SECONDS = limits.FIREHOSE_OPENSEARCH_MAX_RETRY_SECONDS
MAX_INDEX_NAME_LENGTH = limits.FIREHOSE_OPENSEARCH_MAX_INDEX_NAME_LENGTH
MAX_INDEX_NAME_BYTES = limits.OPENSEARCH_MAX_INDEX_NAME_BYTES
DEFAULT_BUFFERING_INTERVAL = Duration.seconds(300)
DEFAULT_BUFFERING_SIZE = Size.mebibytes(5)
DEFAULT_RETRY_DURATION = Duration.seconds(300)
BACKUP_PREFIX = "backup/"
BACKUP_ERROR_PREFIX = "backup-errors/!{firehose:error-output-type}/"
ACCESS_LOG_PREFIX = "backup-bucket/"
HTTPS = 443


class IndexRotation:
    """How often Firehose starts a new index (it appends a timestamp to ``index_name``; Firehose API
    reference, AmazonopensearchserviceDestinationConfiguration IndexRotationPeriod)."""

    NO_ROTATION = "NoRotation"
    ONE_HOUR = "OneHour"
    ONE_DAY = "OneDay"
    ONE_WEEK = "OneWeek"
    ONE_MONTH = "OneMonth"
    ALL = (NO_ROTATION, ONE_HOUR, ONE_DAY, ONE_WEEK, ONE_MONTH)


class OpenSearchBackup:
    """What Firehose writes to the backup bucket (S3BackupMode): only the documents OpenSearch refused, or all."""

    FAILED_DOCUMENTS_ONLY = "FailedDocumentsOnly"
    ALL_DOCUMENTS = "AllDocuments"
    ALL = (FAILED_DOCUMENTS_ONLY, ALL_DOCUMENTS)


# OpenSearch Service developer guide, "Indexing data in Amazon OpenSearch Service", naming restrictions: all
# letters lowercase; not starting with _ or -; no spaces, commas, :, ", *, +, /, \, |, ?, # , > or <. The
# OpenSearch create-index API adds: not starting with +, not "." or "..", at most 255 bytes. Firehose's own
# IndexName is 1-80 characters (API reference, AmazonopensearchserviceDestinationConfiguration).
_INDEX_FORBIDDEN = set(' ,:"*+/\\|?#<>')
_INDEX_PATTERN = r'(?![_\-+])(?!\.\.?\Z)[^\s,:"*+/\\|?#<>]+'


def _check_index_name(prop: str, value: object, ctx: r.Context) -> None:
    if not isinstance(value, str):
        raise PropTypeError(f"{prop} must be an OpenSearch index name (a string), got {r.show(value, ctx.scope)}")
    allowed = (
        f"an OpenSearch index name: 1-{MAX_INDEX_NAME_LENGTH} characters and at most {MAX_INDEX_NAME_BYTES} "
        'bytes, lowercase, not starting with _ - or +, not "." or "..", without spaces, control characters or '
        ', : " * + / \\ | ? # < >'
    )
    bad = sorted({c for c in value if c in _INDEX_FORBIDDEN or ord(c) < 32 or c.isspace()})
    if (
        not 1 <= len(value) <= MAX_INDEX_NAME_LENGTH
        or len(value.encode("utf-8")) > MAX_INDEX_NAME_BYTES
        or value != value.lower()
        or bad
        or not re.fullmatch(_INDEX_PATTERN, value)
    ):
        why = f" (forbidden: {' '.join(repr(c) for c in bad)})" if bad else ""
        raise ValueError(f"{prop} must be {allowed}{why}, got {r.show(value, ctx.scope)}")


def _direct_put_has_no_stream(values: Mapping[str, object], ctx: r.Context) -> None:
    if not values.get("direct_put"):
        return
    given = [n for n in ("stream", "shard_count", "expected_throughput", "retention_period") if values.get(n)]
    if given:
        raise ValueError(
            f"direct_put=True takes records by PutRecord/PutRecordBatch, without a Kinesis stream: leave out "
            f"{', '.join(given)}"
        )


def _given_stream_is_not_sized(values: Mapping[str, object], ctx: r.Context) -> None:
    if values.get("stream") is None:
        return
    given = [n for n in ("shard_count", "expected_throughput", "retention_period", "encryption_key") if values.get(n)]
    if given:
        raise ValueError(
            f"{', '.join(given)} size and encrypt a stream StreamToOpenSearch creates; with stream "
            "(a stream you own), leave them out"
        )


def _vpc_props_need_vpc(values: Mapping[str, object], ctx: r.Context) -> None:
    if values.get("vpc") is None:
        given = [n for n in ("vpc_subnets", "security_group") if values.get(n) is not None]
        if given:
            raise ValueError(f"{', '.join(given)} configure VPC delivery: give vpc too, got vpc=None")


#: What every StreamToOpenSearch prop accepts.
RULES = (
    r.Rules(
        {
            "domain": r.Interface(
                "an opensearch.IDomain (aws_cdk.aws_opensearchservice)",
                ("domain_arn", "domain_name", "domain_endpoint"),
                tokens="pass",
            ),
            "index_name": r.Custom(
                function=_check_index_name,
                text=f"an OpenSearch index name of 1-{MAX_INDEX_NAME_LENGTH} characters",
                tokens="synth",
                why="the delivery role's grants name the index",
                source="OpenSearch Service developer guide, Indexing data: naming restrictions; Firehose "
                "AmazonopensearchserviceDestinationConfiguration IndexName",
            ),
            "index_rotation": r.OneOf(IndexRotation.ALL, source="Firehose IndexRotationPeriod"),
            "stream": r.Interface(
                "a kinesis.IStream", ("stream_arn", "stream_name", "grant_write"), optional=True, tokens="synth"
            ),
            "direct_put": r.Bool(),
            **_delivery.pick("shard_count", "expected_throughput"),
            # Optional here: None means 24 hours, so that it can be told apart from a given stream's.
            "retention_period": dataclasses.replace(_delivery.RULE_LINES["retention_period"], optional=True),
            "encryption_key": _delivery.RULE_LINES["encryption_key"],
            "buffering_interval": r.Seconds(
                0,
                MAX_BUFFERING_SECONDS,
                tokens="synth",
                why="the data-freshness alarm's threshold is computed from it",
                source="Firehose AmazonopensearchserviceBufferingHints IntervalInSeconds",
            ),
            "buffering_size": r.Bytes(
                MIN_BUFFERING_MIB * 2**20,
                MAX_BUFFERING_MIB * 2**20,
                whole="mebibytes",
                token_unit="mebibytes",
                text=f"{MIN_BUFFERING_MIB}-{MAX_BUFFERING_MIB} MiB",
                source="Firehose AmazonopensearchserviceBufferingHints SizeInMBs",
            ),
            "retry_duration": r.Seconds(
                0,
                MAX_RETRY_SECONDS,
                tokens="synth",
                why="the data-freshness alarm's threshold is computed from it",
                source="Firehose AmazonopensearchserviceRetryOptions DurationInSeconds",
            ),
            "backup": r.OneOf(OpenSearchBackup.ALL, source="Firehose AmazonopensearchserviceS3BackupMode"),
            "backup_bucket": r.Interface(
                "an s3.IBucket", ("bucket_arn", "bucket_name", "arn_for_objects"), optional=True, tokens="synth"
            ),
            "vpc": r.Interface("an ec2.IVpc", ("vpc_id", "select_subnets"), optional=True, tokens="synth"),
            "vpc_subnets": r.Instance(ec2.SubnetSelection, "an ec2.SubnetSelection", optional=True, tokens="synth"),
            "security_group": r.Interface(
                "an ec2.ISecurityGroup", ("security_group_id", "connections"), optional=True, tokens="synth"
            ),
            "transform": TRANSFORM,
            **_delivery.pick("lifecycle", "removal_policy"),
        },
        relations=(
            *_delivery.SOURCE_RELATIONS,
            _direct_put_has_no_stream,
            _given_stream_is_not_sized,
            _vpc_props_need_vpc,
            _delivery.lifecycle_needs_own_bucket("StreamToOpenSearch", "backup_bucket"),
            no_partition_keys("an OpenSearch destination"),
        ),
    )
    | ALARM_PROPS
)


class StreamToOpenSearch(PatternConstruct):
    """Records of a Kinesis data stream (or put directly) indexed by Firehose into one OpenSearch index.

    Builds:

    * ``stream``: the source. Created like StreamToS3's (provisioned from ``shard_count`` or
      ``expected_throughput``, on-demand otherwise; KMS; ``retention_period`` 24 h by default), or
      ``stream``; None with ``direct_put=True`` (producers call PutRecord/PutRecordBatch, and the
      delivery stream encrypts at rest with ``encryption_key`` or an AWS-owned key).
    * ``delivery_stream`` (``CfnDeliveryStream``, aws-cdk-lib has no L2 for OpenSearch): indexes into
      ``index_name`` on ``domain``, rotated by ``index_rotation`` (a timestamp appended; default daily),
      buffered by ``buffering_interval``/``buffering_size``, retried for ``retry_duration``; the documents
      it could not index (or all of them, ``backup``) go GZIP-compressed to ``backup_bucket`` under
      ``backup/``. With ``vpc``, Firehose reaches the domain through ENIs in ``vpc_subnets`` (private)
      with ``security_group`` (default: a new one allowing HTTPS out to the domain). ``transform`` runs a
      Lambda function on each batch first. Delivery errors are logged to ``log_group``.
    * ``role``: the delivery role (only ``firehose.amazonaws.com`` of this account). It may read the stream,
      write the backup bucket, log, use the key, call the transform and, per AWS's "Grant Firehose access to
      a public OpenSearch Service destination": DescribeDomain(s)/DescribeDomainConfig on the domain,
      ESHttpPost/ESHttpPut on the domain and its paths (``_bulk`` names the index in the body, so IAM cannot
      confine writes to one index), ESHttpGet only on the documented paths with the index's own narrowed to
      ``index_name*``. The domain must let the role in: its access policy (or, with fine-grained access
      control, a role mapping whose index permissions can be limited to ``index_name*``).
    * ``backup_bucket`` (unless given): hardened like StreamToS3's bucket, with ``access_log_bucket``.
      Everything is retained by default.
    * ``alarms``: ``iterator_age`` / ``write_throttled`` (a stream it creates), ``data_freshness``
      (``DeliveryToAmazonOpenSearchService.DataFreshness`` above buffering interval + retry duration +
      the transform's buffer + one minute), ``delivery_success`` (``...Success`` below 1),
      ``throttled_records``, and with ``transform`` ``transform_errors`` / ``transform_throttles``.

    :param domain: the OpenSearch Service domain (aws_cdk.aws_opensearchservice), of this app.
    :param index_name: the index (required): lowercase, 1-80 characters, no \\ / * ? " < > | , # : + or space,
        not starting with _ - +.
    :param index_rotation: an :class:`IndexRotation` value; default ``OneDay``.
    :param stream: read this stream instead of creating one.
    :param direct_put: no stream: producers put records into the delivery stream.
    :param shard_count: / :param expected_throughput: / :param retention_period: the created stream.
    :param encryption_key: customer-managed key for the stream (or the delivery stream with direct_put),
        the backup bucket and the log group.
    :param buffering_interval: 0-900 s, default 300 s. :param buffering_size: 1-100 MiB, default 5 MiB.
    :param retry_duration: 0-7200 s, default 300 s.
    :param backup: an :class:`OpenSearchBackup` value; default ``FailedDocumentsOnly``.
    :param backup_bucket: write backups here instead of a created bucket (its policies are yours).
    :param vpc: / :param vpc_subnets: / :param security_group: deliver into a domain in this VPC.
    :param transform: a :class:`LambdaTransform` (without ``partition_keys``: no S3 prefix to partition).
    :param lifecycle: rules of the created backup bucket. :param removal_policy: default RETAIN.
    :param alarm_topic: / :param create_alarms: / :param alarm_settings: as on every construct.
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
        domain: opensearch.IDomain,
        index_name: str,
        index_rotation: str = IndexRotation.ONE_DAY,
        stream: kinesis.IStream | None = None,
        direct_put: bool = False,
        shard_count: int | None = None,
        expected_throughput: Throughput | None = None,
        retention_period: Duration | None = None,
        encryption_key: kms.IKey | None = None,
        buffering_interval: Duration = DEFAULT_BUFFERING_INTERVAL,
        buffering_size: Size = DEFAULT_BUFFERING_SIZE,
        retry_duration: Duration = DEFAULT_RETRY_DURATION,
        backup: str = OpenSearchBackup.FAILED_DOCUMENTS_ONLY,
        backup_bucket: s3.IBucket | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_group: ec2.ISecurityGroup | None = None,
        transform: LambdaTransform | None = None,
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
                "domain": domain,
                "stream": stream,
                "encryption_key": encryption_key,
                "backup_bucket": backup_bucket,
                "vpc": vpc,
                "security_group": security_group,
            },
        )
        retention = retention_period or DEFAULT_RETENTION
        owns_stream = stream is None and not direct_put
        if owns_stream and alarms.enabled("iterator_age"):
            _delivery.check_iterator_age(
                alarms.threshold("iterator_age", DEFAULT_ITERATOR_AGE_ALARM),  # type: ignore[arg-type]
                retention,
            )
        self.domain = domain
        self.index_name = index_name
        self.encryption_key = encryption_key
        self.capacity_plan: CapacityPlan | None = None
        self.stream: kinesis.IStream | None
        shards: int | None = None
        if owns_stream:
            self.capacity_plan, shards = _delivery.plan_shards(shard_count, expected_throughput)
            self.stream = _delivery.source_stream(
                self,
                shards=shards,
                retention_period=retention,
                encryption_key=encryption_key,
                removal_policy=removal_policy,
            )
        else:
            self.stream = stream
        self.access_log_bucket: s3.Bucket | None
        self.backup_bucket: s3.IBucket
        if backup_bucket is not None:
            self.access_log_bucket, self.backup_bucket = None, backup_bucket
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
        self.destination_log_stream = logs.LogStream(
            self, "DestinationDeliveryLogs", log_group=self.log_group, removal_policy=removal_policy
        )
        self.backup_log_stream = logs.LogStream(
            self, "BackupDeliveryLogs", log_group=self.log_group, removal_policy=removal_policy
        )
        self.role = _delivery.delivery_role(self, "Firehose: index into one OpenSearch index, back up to S3")
        self.security_group: ec2.ISecurityGroup | None = None
        vpc_configuration = None
        if vpc is not None:
            with r.blame("vpc_subnets"):
                subnets = private_subnets(
                    vpc, vpc_subnets, what="a Firehose delivery into an OpenSearch domain in a VPC"
                )
            self.security_group = security_group or self._new_security_group(vpc)
            vpc_configuration = firehose.CfnDeliveryStream.VpcConfigurationProperty(
                role_arn=self.role.role_arn,
                security_group_ids=[self.security_group.security_group_id],
                subnet_ids=[subnet.subnet_id for subnet in subnets],
            )
        self.delivery_stream = self._new_delivery_stream(
            index_rotation=index_rotation,
            buffering_interval=buffering_interval,
            buffering_size=buffering_size,
            retry_duration=retry_duration,
            backup=backup,
            vpc_configuration=vpc_configuration,
            direct_put=direct_put,
        )
        self.delivery_stream_name: str = self.delivery_stream.ref
        self.delivery_stream_arn: str = self.delivery_stream.attr_arn
        self._grant_delivery(vpc is not None)
        with r.blame("transform"):
            processing = render_processing(self, transform, self.role, dependent=self.delivery_stream)
        if processing is not None:
            self.delivery_stream.add_property_override(
                "AmazonopensearchserviceDestinationConfiguration.ProcessingConfiguration", processing
            )
        self.alarms = self._add_alarms(
            alarms,
            owns_stream=owns_stream,
            provisioned=shards is not None,
            freshness=buffering_interval.to_seconds()
            + retry_duration.to_seconds()
            + (transform.buffer_interval.to_seconds() if transform else 0),
            buffering_interval=buffering_interval,
            transform=transform,
        )

    def _new_security_group(self, vpc: ec2.IVpc) -> ec2.SecurityGroup:
        """Firehose's ENIs: HTTPS out to the domain only (no inbound: Firehose opens every connection)."""
        group = ec2.SecurityGroup(
            self,
            "DeliverySecurityGroup",
            vpc=vpc,
            allow_all_outbound=False,
            description="Firehose delivery ENIs: HTTPS to the OpenSearch domain",
        )
        connections = getattr(self.domain, "connections", None)
        if isinstance(connections, ec2.Connections) and connections.security_groups:
            # The doc ("Grant Firehose access to an OpenSearch Service destination in a VPC"): the domain's
            # security group must allow HTTPS from this one, this one HTTPS out to it.
            with r.blame("domain"):
                group.connections.allow_to(self.domain, ec2.Port.tcp(HTTPS), "Firehose delivery to OpenSearch")  # type: ignore[arg-type]
        else:
            group.add_egress_rule(ec2.Peer.ipv4(vpc.vpc_cidr_block), ec2.Port.tcp(HTTPS), "HTTPS inside the VPC")
        return group

    def _new_delivery_stream(
        self,
        *,
        index_rotation: str,
        buffering_interval: Duration,
        buffering_size: Size,
        retry_duration: Duration,
        backup: str,
        vpc_configuration: firehose.CfnDeliveryStream.VpcConfigurationProperty | None,
        direct_put: bool,
    ) -> firehose.CfnDeliveryStream:
        key = self.encryption_key
        Cfn = firehose.CfnDeliveryStream
        logging = Cfn.CloudWatchLoggingOptionsProperty(
            enabled=True,
            log_group_name=self.log_group.log_group_name,
            log_stream_name=self.destination_log_stream.log_stream_name,
        )
        s3_configuration = Cfn.S3DestinationConfigurationProperty(
            bucket_arn=self.backup_bucket.bucket_arn,
            role_arn=self.role.role_arn,
            prefix=BACKUP_PREFIX,
            error_output_prefix=BACKUP_ERROR_PREFIX,
            compression_format="GZIP",
            encryption_configuration=Cfn.EncryptionConfigurationProperty(
                kms_encryption_config=Cfn.KMSEncryptionConfigProperty(awskms_key_arn=key.key_arn)
            )
            if key is not None
            else None,
            cloud_watch_logging_options=Cfn.CloudWatchLoggingOptionsProperty(
                enabled=True,
                log_group_name=self.log_group.log_group_name,
                log_stream_name=self.backup_log_stream.log_stream_name,
            ),
        )
        with r.blame("buffering_size"):
            size_mib = int(buffering_size.to_mebibytes())
        destination = Cfn.AmazonopensearchserviceDestinationConfigurationProperty(
            domain_arn=self.domain.domain_arn,
            index_name=self.index_name,
            index_rotation_period=index_rotation,
            role_arn=self.role.role_arn,
            buffering_hints=Cfn.AmazonopensearchserviceBufferingHintsProperty(
                interval_in_seconds=int(buffering_interval.to_seconds()), size_in_m_bs=size_mib
            ),
            retry_options=Cfn.AmazonopensearchserviceRetryOptionsProperty(
                duration_in_seconds=int(retry_duration.to_seconds())
            ),
            s3_backup_mode=backup,
            s3_configuration=s3_configuration,
            cloud_watch_logging_options=logging,
            vpc_configuration=vpc_configuration,
        )
        source: dict[str, Any] = {}
        if self.stream is not None:
            source["delivery_stream_type"] = "KinesisStreamAsSource"
            source["kinesis_stream_source_configuration"] = Cfn.KinesisStreamSourceConfigurationProperty(
                kinesis_stream_arn=self.stream.stream_arn, role_arn=self.role.role_arn
            )
        else:
            source["delivery_stream_type"] = "DirectPut"
            source["delivery_stream_encryption_configuration_input"] = (
                Cfn.DeliveryStreamEncryptionConfigurationInputProperty(
                    key_type="CUSTOMER_MANAGED_CMK" if key is not None else "AWS_OWNED_CMK",
                    key_arn=key.key_arn if key is not None else None,
                )
            )
        delivery_stream = Cfn(
            self, "DeliveryStream", amazonopensearchservice_destination_configuration=destination, **source
        )
        if self.stream is not None:
            # Firehose encrypts at rest only what producers put directly; a Kinesis source is encrypted in the
            # stream, the backups in the bucket, and Firehose rejects SSE on such a delivery stream.
            Validations.of(delivery_stream).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-KDF1",
                    reason="Firehose server-side encryption applies to Direct PUT sources only; this delivery "
                    "stream reads a KMS-encrypted Kinesis stream and backs up to an encrypted bucket.",
                )
            )
        return delivery_stream

    def _grant_delivery(self, in_vpc: bool) -> None:
        domain_arn = self.domain.domain_arn
        index = self.index_name
        statements = [
            iam.PolicyStatement(
                sid="FindTheBucket",
                actions=["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                resources=[self.backup_bucket.bucket_arn],
            ),
            iam.PolicyStatement(
                sid="WriteBackups",
                actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[self.backup_bucket.arn_for_objects(f"{p}*") for p in _static_prefixes()],
            ),
            iam.PolicyStatement(
                sid="LogDeliveryErrors",
                actions=["logs:PutLogEvents"],
                resources=[
                    _delivery.log_stream_arn(self, self.log_group, stream)
                    for stream in (self.destination_log_stream, self.backup_log_stream)
                ],
            ),
            # Firehose developer guide, "Grant Firehose access to a public OpenSearch Service destination"
            # (controlling-access.html#using-iam-es; the archived guide's policy, with the API reference's
            # DescribeDomain/DescribeDomains/DescribeDomainConfig for an OpenSearch Service DomainARN):
            iam.PolicyStatement(
                sid="DescribeTheDomain",
                actions=["es:DescribeDomain", "es:DescribeDomains", "es:DescribeDomainConfig"],
                resources=[domain_arn],
            ),
            # The doc grants ESHttpPost/ESHttpPut on the domain and every path under it. Firehose indexes with
            # the _bulk API, whose request names the index in its body (POST <domain>/_bulk), so an IAM
            # resource path cannot confine writes to one index: narrowing this to <domain>/<index>* would stop
            # delivery. The index is confined on the domain's side: fine-grained access control maps this role
            # to an OpenSearch role whose index permissions are `<index_name>*` (see docs/stream-to-opensearch.md).
            iam.PolicyStatement(
                sid="IndexDocuments",
                actions=["es:ESHttpPost", "es:ESHttpPut"],
                resources=[domain_arn, f"{domain_arn}/*"],
            ),
            # The doc's ESHttpGet paths: cluster and node statistics, and the index's own mapping and stats,
            # which we narrow to this index and its rotations (`<index>*`); the doc's `/_mapping/type-name` is
            # for Elasticsearch 6 types, OpenSearch has none (`<index>*/_mapping`).
            iam.PolicyStatement(
                sid="ReadClusterAndIndexState",
                actions=["es:ESHttpGet"],
                resources=[
                    f"{domain_arn}/_all/_settings",
                    f"{domain_arn}/_cluster/stats",
                    f"{domain_arn}/{index}*/_mapping",
                    f"{domain_arn}/{index}*/_mapping/*",
                    f"{domain_arn}/_nodes",
                    f"{domain_arn}/_nodes/stats",
                    f"{domain_arn}/_nodes/*/stats",
                    f"{domain_arn}/_stats",
                    f"{domain_arn}/{index}*/_stats",
                ],
            ),
        ]
        if self.stream is not None:
            statements.append(_delivery.read_stream_statement(self.stream))
        if self.encryption_key is not None:
            statements.append(_delivery.key_statement(self.encryption_key))
        elif self.backup_bucket.encryption_key is not None:
            statements.append(_delivery.key_statement(self.backup_bucket.encryption_key, "UseTheBucketKey"))
        if in_vpc:
            # "Grant Firehose access to an OpenSearch Service destination in a VPC": these eight actions, which
            # Firehose calls to find the subnets and manage its ENIs; the Describe actions take no resource, and
            # the ENIs do not exist yet when the policy is written.
            statements.append(
                iam.PolicyStatement(
                    sid="ManageDeliveryEnis",
                    actions=[
                        "ec2:DescribeVpcs",
                        "ec2:DescribeVpcAttribute",
                        "ec2:DescribeSubnets",
                        "ec2:DescribeSecurityGroups",
                        "ec2:DescribeNetworkInterfaces",
                        "ec2:CreateNetworkInterface",
                        "ec2:CreateNetworkInterfacePermission",
                        "ec2:DeleteNetworkInterface",
                    ],
                    resources=["*"],
                )
            )
        policy = iam.Policy(self, "DeliveryPolicy", statements=statements, roles=[self.role])
        self.delivery_stream.node.add_dependency(policy)
        self._acknowledge_wildcards(policy, in_vpc)

    def _acknowledge_wildcards(self, policy: iam.Policy, in_vpc: bool) -> None:
        findings: dict[str, str] = {}
        bucket_arn = _internals.nag_arn_token(self, self.backup_bucket)
        for prefix in _static_prefixes() if bucket_arn else ():
            findings[f"{bucket_arn}/{prefix}*"] = (
                f"Firehose names each backup object it writes; PutObject and AbortMultipartUpload under the "
                f"'{prefix}' prefix of one bucket only."
            )
        domain_element = self.domain.node.default_child
        if isinstance(domain_element, opensearch.CfnDomain) and Stack.of(domain_element) is Stack.of(self):
            domain = f"<{Stack.of(self).get_logical_id(domain_element)}.Arn>"
            findings[f"{domain}/*"] = (
                "Firehose indexes with the _bulk API (the index is named in the request body): AWS's policy for an "
                "OpenSearch destination grants ESHttpPost/ESHttpPut on the domain's paths; the index is confined by "
                "the domain's access control."
            )
            for path in (
                f"{self.index_name}*/_mapping",
                f"{self.index_name}*/_mapping/*",
                "_nodes/*/stats",
                f"{self.index_name}*/_stats",
            ):
                findings[f"{domain}/{path}"] = (
                    "ESHttpGet on a path of AWS's documented policy for an OpenSearch destination: the index's "
                    "rotations (index_name followed by a timestamp) and each node's statistics."
                )
        if in_vpc:
            eni_reason = (
                "AWS's policy for an OpenSearch destination in a VPC ('Grant Firehose access to an OpenSearch "
                "Service destination in a VPC'): Firehose creates, shares and deletes its delivery ENIs at run time, "
                "whose ids no policy can name beforehand; the ec2 Describe actions take no resource."
            )
            for check in ("CKV_AWS_111", "CKV_AWS_109"):
                acknowledge_checkov(policy, check, eni_reason)
            findings["*"] = (
                "AWS's policy for an OpenSearch destination in a VPC: the ec2 Describe actions take no resource, "
                "and Firehose creates and deletes its delivery ENIs at run time."
            )
        for resource, reason in findings.items():
            Validations.of(policy).acknowledge(
                Acknowledgment(id=_internals.nag_resource_finding_id("AwsSolutions-IAM5", resource), reason=reason)
            )

    def _metric(self, name: str, statistic: str) -> cloudwatch.Metric:
        return _delivery.firehose_metric(self.delivery_stream_name, name, statistic)

    def _add_alarms(
        self,
        alarms: Alarms,
        *,
        owns_stream: bool,
        provisioned: bool,
        freshness: float,
        buffering_interval: Duration,
        transform: LambdaTransform | None,
    ) -> Mapping[str, cloudwatch.Alarm]:
        if owns_stream and self.stream is not None:
            _delivery.add_stream_alarms(alarms, self.stream, provisioned=provisioned)
        _delivery.add_freshness_alarm(
            alarms,
            self._metric("DeliveryToAmazonOpenSearchService.DataFreshness", "Maximum"),
            # A record may wait one buffer (and the transform's), then be retried for retry_duration; a minute
            # more for the indexing itself.
            threshold=Duration.seconds(freshness + 60),
            floor=(buffering_interval.to_seconds(), "the buffering_interval, which a record may wait"),
            description="Records have waited more than {threshold} to be indexed into OpenSearch.",
        )
        _delivery.add_success_alarm(
            alarms,
            self._metric("DeliveryToAmazonOpenSearchService.Success", "Minimum"),
            description="Firehose failed to index documents into OpenSearch; they go to the backup bucket.",
        )
        _delivery.add_throttled_records_alarm(alarms, self._metric("ThrottledRecords", "Sum"))
        if transform is not None:
            add_transform_alarms(alarms, transform)
        alarms.refuse_unused_overrides(
            "the stream alarms exist only on a stream StreamToOpenSearch creates (write_throttled: provisioned "
            "only), the transform alarms only with transform"
        )
        return alarms.mapping

    @r.guarded(GRANT_RULES)
    def grant_write(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` put records: on the source stream (and use its key), or with ``direct_put`` into the
        delivery stream (``firehose:PutRecord``, ``firehose:PutRecordBatch``)."""
        return _delivery.grant_put(grantee, self.stream, self.delivery_stream_arn)


def _static_prefixes() -> list[str]:
    """The fixed start of each backup prefix, before its first expression: what IAM can name."""
    return [BACKUP_PREFIX, BACKUP_ERROR_PREFIX.split("!{", 1)[0]]
