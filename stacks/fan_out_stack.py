"""Reference stack for FanOut: order events to three filtered queues, a function and an S3 archive (through
Firehose), and a FIFO ledger fan-out."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import Duration, Size
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from decoupling_constructs import AlarmTopic, FanOut, HttpDeliveryPolicy, LambdaTransform, ReliableQueue, _internals
from decoupling_constructs._security import LOGS_SERVICE_ENCRYPTION_REASON, acknowledge_checkov
from decoupling_constructs.streams import apply_processing

from .consumer_stack import LAMBDA_LOGS_REASON
from .cross_account_stack import SUBSCRIBER_ACCOUNT, SUBSCRIBER_ENDPOINTS
from .stream_stack import hardened_bucket

# The regions the shipping service serves; the filter and the tests share this list.
SHIPPING_REGIONS = ["eu-west", "eu-central"]
# Analytics wants order events of at least this amount (inclusive) and below the upper bound (exclusive).
ANALYTICS_MIN_AMOUNT = 100
ANALYTICS_MAX_AMOUNT = 10_000
# Orders of these regions page the on-call team through the notifier function.
NOTIFY_REGIONS = ["eu-west"]
NOTIFIER_CODE = """\
import json


def handler(event, context):
    for record in event["Records"]:
        print(json.dumps({"notified": record["Sns"]["MessageId"]}))
"""
# The partner's HTTPS endpoint (example.com: reserved for documentation, RFC 2606) gets the orders of
# PARTNER_REGIONS; SNS retries it 12 times over at most 5 + 10 x 60 = 605 s (below SNS's 3,600 s cap), 10 a second
# at most, and keeps what it still cannot deliver in PartnerDeadLetters.
PARTNER_URL = "https://partner.example.com/sns/orders"
PARTNER_REGIONS = ["ap-southeast"]
PARTNER_DELIVERY_POLICY = HttpDeliveryPolicy(
    num_retries=12,
    num_no_delay_retries=1,
    num_min_delay_retries=1,
    min_delay=cdk.Duration.seconds(5),
    max_delay=cdk.Duration.minutes(1),
    backoff=sns.BackoffFunction.EXPONENTIAL,
    max_receives_per_second=10,
    content_type="application/json",
)
# Operations read failed-order summaries by email (an example.com address: it is never confirmed, so nothing is sent).
OPS_EMAIL = "order-ops@example.com"
# Where the archive delivery stream writes every order event, and its failed records.
ARCHIVE_PREFIX = "orders/"
ARCHIVE_ERROR_PREFIX = "orders-errors/"


class FanOutStack(cdk.Stack):
    """``orders``: billing gets every event, shipping those whose ``region`` attribute is served,
    analytics those whose body ``amount`` is in range, the notifier function (SNS -> Lambda) those of
    ``NOTIFY_REGIONS``; the archive (SNS -> Firehose -> S3) every event, as published; the partner's HTTPS endpoint
    those of ``PARTNER_REGIONS`` (retried by ``PARTNER_DELIVERY_POLICY``, then kept in ``partner_dead_letters``);
    operations, by email, those whose ``status`` is ``failed``; S3 may publish to the topic, and the queues of
    ``SUBSCRIBER_ACCOUNT`` may subscribe to it.
    ``ledger``: a FIFO fan-out to accounting and audit, content-based deduplication."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, description="decoupling-constructs: FanOut reference", **kwargs)
        alarms = AlarmTopic(self, "Alarms")
        self.orders = FanOut(self, "OrderEvents", alarm_topic=alarms.topic, service_publishers=["s3.amazonaws.com"])
        # Another account's queues may subscribe (over SQS, its queues only): see stacks/cross_account_stack.py.
        self.orders.grant_subscribe([SUBSCRIBER_ACCOUNT], endpoints=SUBSCRIBER_ENDPOINTS)
        self.billing = self.orders.add_queue("Billing")
        self.shipping = self.orders.add_queue(
            "Shipping",
            filter_policy={"region": sns.SubscriptionFilter.string_filter(allowlist=SHIPPING_REGIONS)},
            raw_message_delivery=True,
        )
        self.analytics = self.orders.add_queue(
            "Analytics",
            filter_policy_with_message_body={
                # One condition with both bounds: numeric_filter(greater_than_or_equal_to=...,
                # less_than=...) makes two conditions, which SNS ORs: every number would match.
                "amount": sns.FilterOrPolicy.filter(
                    sns.SubscriptionFilter([{"numeric": [">=", ANALYTICS_MIN_AMOUNT, "<", ANALYTICS_MAX_AMOUNT]}])
                )
            },
            raw_message_delivery=True,
        )

        self.notifier = notifier_function(self, alarms)
        self.orders.add_function(
            "Notify",
            self.notifier,
            filter_policy={"region": sns.SubscriptionFilter.string_filter(allowlist=NOTIFY_REGIONS)},
        )

        self.archive_bucket, self.archive = archive_delivery_stream(self)
        # Subscribed by name (its ARN formatted from a Ref): moto's CloudFormation skips delivery streams and refuses
        # a GetAtt of one at CreateStack, and tests/behaviour deploys this stack into moto. Same ARN on AWS.
        mapping_existed = _internals.has_firehose_cidr_mapping(self)  # the import adds it again
        by_name = firehose.DeliveryStream.from_delivery_stream_name(
            self, "ArchiveByName", self.archive.delivery_stream_name
        )
        _internals.remove_firehose_cidr_mapping(self, existed_before=mapping_existed)
        self.orders.add_delivery_stream("Archive", by_name, raw_message_delivery=True)

        self.partner_dead_letters = ReliableQueue(self, "PartnerDeadLetters", alarm_topic=alarms)
        self.orders.add_https_endpoint(
            "Partner",
            PARTNER_URL,
            filter_policy={"region": sns.SubscriptionFilter.string_filter(allowlist=PARTNER_REGIONS)},
            delivery_policy=PARTNER_DELIVERY_POLICY,
            dead_letter_queue=self.partner_dead_letters,
        )
        ops = self.orders.add_email(
            "Ops", OPS_EMAIL, filter_policy={"status": sns.SubscriptionFilter.string_filter(allowlist=["failed"])}
        )
        cdk.Annotations.of(ops).acknowledge_warning(
            "decoupling-constructs:pending-confirmation",
            "The reference address is at example.com (RFC 2606): it is meant to stay pending; a real operations "
            "address is confirmed by its owner from the mail SNS sends.",
        )

        self.ledger = FanOut(self, "Ledger", fifo=True, content_based_deduplication=True, alarm_topic=alarms.topic)
        self.accounting = self.ledger.add_queue("Accounting", raw_message_delivery=True)
        self.audit = self.ledger.add_queue("Audit")

        cdk.CfnOutput(self, "OrderEventsTopicArn", value=self.orders.topic.topic_arn)
        cdk.CfnOutput(self, "LedgerTopicArn", value=self.ledger.topic.topic_arn)
        cdk.CfnOutput(self, "NotifierFunctionName", value=self.notifier.function_name)
        cdk.CfnOutput(self, "ArchiveDeliveryStreamName", value=self.archive.delivery_stream_name)
        cdk.CfnOutput(self, "ArchiveBucketName", value=self.archive_bucket.bucket_name)
        for name, subscriber in (
            ("Billing", self.billing),
            ("Shipping", self.shipping),
            ("Analytics", self.analytics),
            ("Accounting", self.accounting),
            ("Audit", self.audit),
        ):
            cdk.CfnOutput(self, f"{name}QueueUrl", value=subscriber.queue.queue_url)


def notifier_function(scope: Construct, alarms: AlarmTopic) -> lambda_.Function:
    """A small function SNS invokes: its own role (writes to its own log group only), logs kept a month,
    events it fails after Lambda's asynchronous retries kept in a ReliableQueue."""
    log_group = logs.LogGroup(scope, "NotifierLogs", retention=logs.RetentionDays.ONE_MONTH)
    role = iam.Role(scope, "NotifierRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    log_group.grant_write(role)
    failures = ReliableQueue(scope, "NotifierFailures", alarm_topic=alarms)
    function = lambda_.Function(
        scope,
        "Notifier",
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_inline(NOTIFIER_CODE),
        role=role,
        log_group=log_group,
        timeout=cdk.Duration.seconds(10),
        dead_letter_queue=failures.queue,
    )
    # CDK makes the function DependsOn its role, which its GetAtt of the role already enforces (cfn-lint W3005);
    # only the dependency on the role's policy is needed (the function's first run writes logs, its DLQ).
    resource, policy = function.node.default_child, role.node.find_child("DefaultPolicy").node.default_child
    assert isinstance(resource, cdk.CfnResource) and isinstance(policy, cdk.CfnResource)
    resource.add_override("DependsOn", [cdk.Stack.of(scope).get_logical_id(policy)])
    acknowledge_checkov(
        function,
        "CKV_AWS_115",
        "SNS invokes it asynchronously: Lambda holds and retries what it cannot run yet, then keeps it in "
        "NotifierFailures. Reserved concurrency would come out of the account's unreserved pool, of which "
        "Lambda keeps 100: a small quota cannot reserve at all.",
    )
    acknowledge_checkov(
        function,
        "CKV_AWS_117",
        "The notifier reaches nothing private: SNS invokes it, it writes to CloudWatch Logs and its DLQ; a VPC "
        "would add a NAT gateway or interface endpoints and reach nothing more.",
    )
    acknowledge_checkov(log_group, "CKV_AWS_158", LAMBDA_LOGS_REASON)
    return function


def archive_delivery_stream(
    scope: Construct,
    name: str = "Archive",
    *,
    data_prefix: str = ARCHIVE_PREFIX,
    error_prefix: str = ARCHIVE_ERROR_PREFIX,
    transform: LambdaTransform | None = None,
    purpose: str = "the order archive's",
) -> tuple[s3.Bucket, firehose.DeliveryStream]:
    """A Direct PUT delivery stream (SNS puts into it) encrypted at rest with an AWS-owned key, writing GZIP
    objects under ``data_prefix`` of a hardened bucket (private, TLS only, SSE-S3, versioned, kept; server access
    logs to a bucket of their own). Its resources' ids start with ``name``.

    With ``transform``: Firehose calls it before delivery (``render_processing``: every setting, the role's grant);
    when ``transform.partition_keys`` is set, objects are partitioned by them (dynamic partitioning, fixed at
    creation: ``data_prefix`` names each key as ``!{partitionKeyFromLambda:<key>}``) and buffered as Firehose
    requires with it (64 MiB, 60 s)."""
    partitioned = transform is not None and bool(transform.partition_keys)
    static_prefixes = [p.split("!{", 1)[0] for p in (data_prefix, error_prefix)]
    access_logs = hardened_bucket(scope, f"{name}AccessLogs")
    no_self_logging = (
        "This is the order archive's server-access-log bucket; logging its own accesses into itself "
        "would log every log delivery, without end."
    )
    cdk.Validations.of(access_logs).acknowledge(cdk.Acknowledgment(id="AwsSolutions-S1", reason=no_self_logging))
    acknowledge_checkov(access_logs, "CKV_AWS_18", no_self_logging)
    bucket = hardened_bucket(
        scope, name, server_access_logs_bucket=access_logs, server_access_logs_prefix="access-logs/"
    )
    stack = cdk.Stack.of(scope)
    log_group = logs.LogGroup(scope, f"{name}DeliveryLogs", retention=logs.RetentionDays.ONE_MONTH)
    acknowledge_checkov(log_group, "CKV_AWS_158", LOGS_SERVICE_ENCRYPTION_REASON)  # delivery errors, no bodies
    role = iam.Role(
        scope,
        f"{name}DeliveryRole",
        assumed_by=iam.ServicePrincipal(
            "firehose.amazonaws.com", conditions={"StringEquals": {"sts:ExternalId": stack.account}}
        ),
        description=f"Firehose: write {purpose} S3 prefixes",
    )
    # The L2 would grant itself read/write on the whole bucket (s3:GetObject*, s3:DeleteObject*...): it gets the
    # role immutable, and the role exactly the statements below (as StreamToS3's delivery role).
    frozen_role = role.without_policy_updates()
    mapping_existed = _internals.has_firehose_cidr_mapping(stack)
    delivery_stream = firehose.DeliveryStream(
        scope,
        f"{name}DeliveryStream",
        destination=firehose.S3Bucket(
            bucket,
            role=frozen_role,
            # aws-cdk-lib's S3Bucket refuses partition-key expressions without its own dynamic partitioning, which
            # cannot render the transform: it gets the static part, and the prefix is set below.
            data_output_prefix=static_prefixes[0] if partitioned else data_prefix,
            error_output_prefix=error_prefix,
            compression=firehose.Compression.GZIP,
            logging_config=firehose.EnableLogging(log_group),
            # Dynamic partitioning: at least 64 MiB and 60 s (see StreamToS3's MIN_PARTITIONED_BUFFERING_*).
            buffering_size=Size.mebibytes(64) if partitioned else None,
            buffering_interval=Duration.seconds(60) if partitioned else None,
        ),
        encryption=firehose.StreamEncryption.aws_owned_key(),
        role=frozen_role,
    )
    _internals.remove_firehose_cidr_mapping(stack, existed_before=mapping_existed)
    apply_processing(delivery_stream, scope, transform, role, partitioned_prefix=data_prefix if partitioned else None)
    log_stream = _internals.firehose_s3_log_stream(log_group)
    policy = iam.Policy(
        scope,
        f"{name}DeliveryPolicy",
        roles=[role],
        statements=[
            iam.PolicyStatement(
                sid="FindTheBucket",
                actions=["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                resources=[bucket.bucket_arn],
            ),
            iam.PolicyStatement(
                sid="WriteUnderThePrefixes",
                actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[bucket.arn_for_objects(f"{p}*") for p in static_prefixes],
            ),
            iam.PolicyStatement(
                sid="LogDeliveryErrors",
                actions=["logs:PutLogEvents"],
                resources=[
                    stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name=f"{log_group.log_group_name}:log-stream:{log_stream.log_stream_name}",
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            ),
        ],
    )
    delivery_stream.node.add_dependency(policy)  # it must not start before its role may write
    bucket_arn = _internals.nag_arn_token(policy, bucket)
    for prefix in static_prefixes:
        cdk.Validations.of(policy).acknowledge(
            cdk.Acknowledgment(
                id=_internals.nag_resource_finding_id("AwsSolutions-IAM5", f"{bucket_arn}/{prefix}*"),
                reason="Firehose names each object it delivers; the wildcard is confined to PutObject and "
                f"AbortMultipartUpload under the '{prefix}' prefix of one bucket.",
            )
        )
    return bucket, delivery_stream
