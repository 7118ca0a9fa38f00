"""FanOut: one SNS topic delivering to many SQS queues, with filters and no lost messages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypedDict, Unpack

from aws_cdk import Acknowledgment, Annotations, ArnFormat, Duration, Names, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as sns_subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

if TYPE_CHECKING:
    from aws_cdk import aws_kinesisfirehose as firehose
    from aws_cdk import aws_lambda as lambda_

from .. import _internals, _stacks
from .. import _rules as r
from .. import _validate as v
from .._alarms import ALARM_PROPS, Alarms, AlarmSettings
from .._cdk import PatternConstruct
from .._props import CHILD_ID, ENCRYPTION_KEY, GRANT_RULES, removal_policy
from .._security import allow_service_publisher, allow_service_to_use_key, managed_key
from ..queues.reliable_queue import FIFO_SUFFIX, ReliableQueue, dead_letter_queue, fifo_queue_props
from . import _cross_account, _push
from ._filter_policy import check_filters
from ._push import DeliveryStatusLogging, HttpDeliveryPolicy

if TYPE_CHECKING:
    from ..alarm_topic import AlarmTopic

UNDELIVERABLE_SUFFIX = "-undeliverable"
AWS_MANAGED_SNS_KEY = "alias/aws/sns"
# What SNS needs to write to a delivery stream (SNS developer guide, "Prerequisites for subscribing Firehose
# delivery streams to Amazon SNS topics").
SNS_FIREHOSE_ACTIONS = (
    "firehose:DescribeDeliveryStream",
    "firehose:ListDeliveryStreams",
    "firehose:ListTagsForDeliveryStream",
    "firehose:PutRecord",
    "firehose:PutRecordBatch",
)


class QueueOptions(TypedDict, total=False):
    """The ReliableQueue props :meth:`FanOut.add_queue` passes on: all of them but ``fifo``, which
    follows the topic. Left out, ``content_based_deduplication``, ``alarm_topic``, ``create_alarms``,
    ``alarm_settings`` and ``removal_policy`` come from the FanOut, the others are ReliableQueue's defaults."""

    queue_name: str | None
    visibility_timeout: Duration
    receive_message_wait_time: Duration
    retention_period: Duration
    max_receive_count: int
    content_based_deduplication: bool
    high_throughput: bool
    encryption_key: kms.IKey | None
    alarm_topic: sns.ITopic | AlarmTopic | None
    create_alarms: bool
    alarm_settings: AlarmSettings | None
    removal_policy: RemovalPolicy


# --- the rules of every argument (the engine in _rules.py checks them before each body runs) ---


def _aws_managed_alias(key: object) -> str | None:
    """The name of an AWS-managed key's alias (``alias/aws/sqs``...) ``key`` is, or None. Amazon SNS cannot be
    granted such a key: its policy belongs to AWS (SNS developer guide, "Encryption at rest": a subscribed
    queue must use a customer-managed key, or SSE-SQS)."""
    name = getattr(key, "alias_name", None)
    if isinstance(name, str) and not v.is_token(name) and name.startswith("alias/aws/"):
        return name
    return None


def _check_no_aws_managed_key(prop: str, value: object, ctx: r.Context) -> None:
    alias = _aws_managed_alias(value)
    if alias is not None:
        raise ValueError(
            f"{prop} must be a customer-managed key (or None): {alias} is managed by AWS and SNS cannot be granted "
            f"it, so every delivery would fail, got {r.show(value)}"
        )


def _check_topic_name(prop: str, value: object, ctx: r.Context) -> None:
    v.check_topic_name(prop, value, fifo=ctx.props.get("fifo") is True)  # type: ignore[arg-type]


def _check_subscriber_id(prop: str, value: object, ctx: r.Context) -> None:
    """A construct id of a new subscriber: not one used in this FanOut (``subscriptions``, or a child such as
    ``Topic``)."""
    CHILD_ID.check(prop, value, ctx)
    fan_out: Any = ctx.scope
    if not isinstance(fan_out, FanOut):
        return
    if value in fan_out.subscriptions:
        raise ValueError(f"{prop} must be an id not used in this FanOut (a subscriber has it), got {value!r}")
    child = fan_out.node.try_find_child(value)  # type: ignore[arg-type]
    if child is not None:
        raise ValueError(f"{prop} must be an id not used in this FanOut ({r.show(child)} has it), got {value!r}")


def _check_filter_policy(prop: str, value: object, ctx: r.Context) -> None:
    check_filters(ctx.props.get("construct_id") or "this subscription", value, None)  # type: ignore[arg-type]


def _check_filter_policy_with_message_body(prop: str, value: object, ctx: r.Context) -> None:
    check_filters(ctx.props.get("construct_id") or "this subscription", None, value)  # type: ignore[arg-type]


def _one_filter_scope(values: Mapping[str, Any], ctx: r.Context) -> None:
    if values.get("filter_policy") is not None and values.get("filter_policy_with_message_body") is not None:
        raise ValueError(
            "give only one of filter_policy (message attributes) and filter_policy_with_message_body "
            "(message body): a subscription filters on one scope"
        )


def _check_queue_options(prop: str, value: object, ctx: r.Context) -> None:
    """Only :class:`QueueOptions` keys (a misspelt prop must not be dropped silently), never ``fifo`` (the queue
    follows the topic), and no AWS-managed key SNS cannot use. The values are ReliableQueue's props, checked by
    ReliableQueue's own rules (its errors name the queue, ``'<fan out>/<id>'``)."""
    options: Mapping[str, object] = value  # type: ignore[assignment]
    fan_out: Any = ctx.scope
    if "fifo" in options:
        raise ValueError(
            f"fifo must not be given: the queue {ctx.props.get('construct_id')!r} follows the FanOut's topic "
            f"(fifo={getattr(fan_out, 'fifo', False)}); use add_existing_queue to subscribe a queue of your own, "
            f"got fifo={options['fifo']!r}"
        )
    unknown = sorted(set(options) - QueueOptions.__optional_keys__)
    if unknown:
        allowed = ["filter_policy", "filter_policy_with_message_body", "raw_message_delivery"]
        allowed += sorted(QueueOptions.__optional_keys__)
        raise v.PropTypeError(f"unknown option(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    _check_no_aws_managed_key("encryption_key", options.get("encryption_key"), ctx)


def _some_subscriber(values: Mapping[str, Any], ctx: r.Context) -> None:
    if not values.get("accounts") and not values.get("organization_ids"):
        raise ValueError(
            "accounts or organization_ids must name who may subscribe: give at least one 12-digit account id or "
            "one AWS Organizations id, got neither"
        )
    if values.get("accounts") and values.get("organization_ids"):
        raise ValueError(
            "give accounts or organization_ids in one call, not both: one statement's conditions apply to all its "
            f"principals (call grant_subscribe once for each), got accounts={r.show(values['accounts'])} and "
            f"organization_ids={r.show(values['organization_ids'])}"
        )


_QUEUE = r.Interface("an sqs.IQueue", ("queue_arn", "queue_url", "add_to_resource_policy", "node"), tokens="synth")


def _check_subscriber_queue(prop: str, value: object, ctx: r.Context) -> None:
    """An sqs.IQueue of this App that this topic can deliver to: not FIFO under a standard topic, not encrypted
    with the AWS-managed ``alias/aws/sqs`` key (SNS cannot use it). A ReliableQueue stands for its ``queue``."""
    if isinstance(value, ReliableQueue):
        value = value.queue
    _QUEUE.check(prop, value, ctx)
    queue: Any = value
    if queue.fifo and not getattr(ctx.scope, "fifo", False):
        raise ValueError(
            f"{prop} must be a standard queue: a FIFO queue cannot subscribe to a standard topic (create the FanOut "
            f"with fifo=True), got {r.show(value)}{_named(queue.queue_name)}"
        )
    _check_no_aws_managed_key(prop + ".encryption_master_key", queue.encryption_master_key, ctx)
    child = queue.node.default_child
    if isinstance(child, sqs.CfnQueue) and child.kms_master_key_id is not None:
        key_id = Stack.of(child).resolve(child.kms_master_key_id)
        if isinstance(key_id, str) and key_id.startswith("alias/aws/"):
            raise ValueError(
                f"{prop} must be encrypted with SSE-SQS or a customer-managed key: its key {key_id} (KMS_MANAGED) is "
                f"managed by AWS and SNS cannot be granted it, so every delivery would fail, got {r.show(value)}"
            )


def _named(name: object) -> str:
    return f" named {name!r}" if isinstance(name, str) and not v.is_token(name) else ""


def _check_delivery_stream(prop: str, value: object, ctx: r.Context) -> None:
    r.Interface("a firehose.IDeliveryStream", ("delivery_stream_arn", "grant", "node"), tokens="synth").check(
        prop, value, ctx
    )
    source = getattr(value.node.default_child, "delivery_stream_type", None)  # type: ignore[attr-defined]
    if source not in (None, "DirectPut"):
        raise ValueError(
            f"{prop} must take direct puts: it reads a {source} source, and Firehose refuses the PutRecordBatch "
            "calls SNS makes to such a stream; give a DirectPut delivery stream (e.g. "
            f"firehose.DeliveryStream(destination=firehose.S3Bucket(stream_to_s3.bucket, ...))), got {r.show(value)}"
        )


_SERVICE_PRINCIPAL = r.Text(
    "an AWS service principal such as 's3.amazonaws.com'",
    pattern=r"[a-z0-9][a-z0-9.-]*\.amazonaws\.com",
    tokens="synth",
    why="the topic and key policies grant that service, which is checked to be one",
)
_FILTERS = {
    "filter_policy": r.Custom(
        _check_filter_policy, "a dict of message attribute -> sns.SubscriptionFilter", optional=True
    ),
    "filter_policy_with_message_body": r.Custom(
        _check_filter_policy_with_message_body,
        "a dict of key -> sns.FilterOrPolicy.filter(...) or sns.FilterOrPolicy.policy({...})",
        optional=True,
    ),
}
_NEW_ID = r.Custom(
    _check_subscriber_id, "a construct id not used in this FanOut", tokens="synth", why="it names a construct"
)

#: What every FanOut prop accepts.
RULES = (
    r.Rules(
        {
            "fifo": r.Bool(),
            "topic_name": r.Custom(
                _check_topic_name,
                "an SNS topic name: 1-256 letters, digits, hyphens and underscores, ending in '.fifo' exactly when "
                "fifo=True",
                optional=True,
                source="SNS CreateTopic Name",
            ),
            "content_based_deduplication": r.Bool(),
            "encryption_key": r.AllOf(
                rules=(
                    ENCRYPTION_KEY,
                    r.Custom(_check_no_aws_managed_key, "not an AWS-managed key", optional=True),
                ),
                tokens="synth",
            ),
            "service_publishers": r.ListOf(_SERVICE_PRINCIPAL, text="a list of AWS service principals"),
            "removal_policy": removal_policy("AWS::SNS::Topic", "AWS::SQS::Queue"),
        },
        relations=(r.requires("content_based_deduplication", "fifo"),),
    )
    | ALARM_PROPS
)
ADD_QUEUE_RULES = r.Rules(
    {
        "construct_id": _NEW_ID,
        **_FILTERS,
        "raw_message_delivery": r.Bool(),
        "queue_options": r.Custom(_check_queue_options, "ReliableQueue props but fifo (QueueOptions)", tokens="synth"),
    },
    relations=(_one_filter_scope,),
)
ADD_EXISTING_QUEUE_RULES = r.Rules(
    {
        "queue": r.Custom(
            _check_subscriber_queue, "an sqs.IQueue (or a ReliableQueue) this topic can deliver to", tokens="synth"
        ),
        "construct_id": r.Custom(
            _check_subscriber_id, "a construct id not used in this FanOut", optional=True, tokens="synth"
        ),
        **_FILTERS,
        "raw_message_delivery": r.Bool(),
    },
    relations=(_one_filter_scope,),
)
GRANT_SUBSCRIBE_RULES = r.Rules(
    {
        "accounts": r.ListOf(_cross_account.ACCOUNT_ID, text="a list of 12-digit AWS account ids"),
        "organization_ids": r.ListOf(_cross_account.ORGANIZATION_ID, text="a list of AWS Organizations ids"),
        "protocols": r.ListOf(
            r.OneOf(_cross_account.SNS_PROTOCOLS, source="SNS Subscribe API, Protocol"),
            min_length=1,
            optional=True,
            text=f"None (any protocol) or a list of SNS protocols ({', '.join(_cross_account.SNS_PROTOCOLS)})",
        ),
        "endpoints": r.ListOf(
            r.Text(
                "an endpoint pattern for sns:Endpoint (StringLike: '*' and '?' allowed), such as "
                "'arn:aws:sqs:*:222222222222:*'",
                max_length=2048,
                tokens="synth",
                why="the topic policy's condition names it",
            ),
            text="a list of endpoint patterns",
        ),
    },
    relations=(_some_subscriber,),
)
ADD_FUNCTION_RULES = r.Rules(
    {
        "construct_id": _NEW_ID,
        "function": r.Interface("a lambda_.IFunction", ("function_arn", "add_permission", "node"), tokens="synth"),
        **_FILTERS,
    },
    relations=(_one_filter_scope,),
)
ADD_DELIVERY_STREAM_RULES = r.Rules(
    {
        "construct_id": _NEW_ID,
        "delivery_stream": r.Custom(_check_delivery_stream, "a DirectPut firehose.IDeliveryStream", tokens="synth"),
        **_FILTERS,
        "raw_message_delivery": r.Bool(),
    },
    relations=(_one_filter_scope,),
)
ALLOW_SERVICE_PUBLISHER_RULES = r.Rules(
    {
        "service_principal": _SERVICE_PRINCIPAL,
        "source_arn": r.Text("an ARN such as 'arn:aws:s3:::my-bucket'", pattern=r"arn:[^:]+:[^:]+:.*", optional=True),
    }
)
# --- HTTP/S, email and SMS subscribers (their rules and what they build beyond the subscription: _push.py) ---
ADD_HTTPS_ENDPOINT_RULES = r.Rules(
    {
        "construct_id": _NEW_ID,
        "url": r.Custom(
            _push.check_url,
            "an https:// URL (http:// with allow_http=True)",
            tokens="synth",
            why="its scheme decides the protocol, https or http",
        ),
        **_FILTERS,
        "raw_message_delivery": r.Bool(),
        "delivery_policy": r.AllOf(
            rules=(
                r.Fields(HttpDeliveryPolicy, _push.HTTP_DELIVERY_POLICY_RULES, "an HttpDeliveryPolicy", optional=True),
                r.Custom(_push.check_delivery_policy_totals, "a total retry time of at most 3600 s", optional=True),
            ),
            optional=True,
        ),
        "dead_letter_queue": r.AllOf(
            rules=(
                r.Custom(_check_subscriber_queue, "an sqs.IQueue (or a ReliableQueue) SNS can write to", optional=True),
                r.Custom(_push.check_same_environment, "a queue in the FanOut's account and Region", optional=True),
            ),
            optional=True,
            tokens="synth",
        ),
        "delivery_status_logging": r.Fields(
            DeliveryStatusLogging, _push.DELIVERY_STATUS_LOGGING_RULES, "a DeliveryStatusLogging", optional=True
        ),
        "allow_http": r.Bool(),
    },
    relations=(_one_filter_scope,),
)
ADD_EMAIL_RULES = r.Rules(
    {
        "construct_id": _NEW_ID,
        "address": r.Custom(_push.check_email, "an email address such as 'ops@example.com'"),
        "json": r.Bool(),
        **_FILTERS,
    },
    relations=(_one_filter_scope,),
)
ADD_SMS_RULES = r.Rules(
    {
        "construct_id": _NEW_ID,
        "phone_number": _push.PHONE_NUMBER,
        **_FILTERS,
        "spend_alarm_usd": r.Number(0.01, 1_000_000, source="SNS SMSMonthToDateSpentUSD (USD)", tokens="synth"),
    },
    relations=(_one_filter_scope,),
)


@dataclass(frozen=True)
class SubscribeGrant:
    """One :meth:`FanOut.grant_subscribe` call: who may subscribe, with which protocols (None: any) and endpoint
    patterns (empty: any)."""

    accounts: tuple[str, ...]
    organization_ids: tuple[str, ...]
    protocols: tuple[str, ...] | None
    endpoints: tuple[str, ...]

    def allows(self, account: str, protocol: str) -> bool:
        """Whether ``account`` is named (not only through an organization) for ``protocol``."""
        return account in self.accounts and (self.protocols is None or protocol in self.protocols)


def _tuple(values: Sequence[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(values)


class FanOut(PatternConstruct):
    """One SNS topic fanned out to SQS queues, every subscription with a redrive policy.

    Builds:

    * ``topic``: encrypted (the AWS-managed ``alias/aws/sns`` key, or
      ``encryption_key``; a customer-managed key with rotation is created when
      ``service_publishers`` is given without one), TLS-only topic policy,
      ``.fifo`` when ``fifo``. Its name is known at synth time (``topic_name``,
      or derived from the construct path), so key policies can name it by ARN
      without the dependency cycle of aws/aws-cdk#35418.
    * ``undeliverable_queue``: the dead-letter queue of every subscription, so a
      message SNS cannot deliver (deleted queue, denied key) is kept, not
      dropped. TLS-only, encrypted like the topic's subscribers (SSE-SQS or
      ``encryption_key``), retained 14 days, long polling, FIFO with a FIFO topic.
    * ``alarms``: a read-only mapping of stable keys to alarms:
      ``"notifications_failed"`` (``NumberOfNotificationsFailed`` >= 1 on the topic) and
      ``"undeliverable_queue"`` (any message visible in ``undeliverable_queue``). Each subscriber
      ReliableQueue made by :meth:`add_queue` has its own (``subscribers[id].alarms``).
    * ``subscribers``: id -> ReliableQueue made by :meth:`add_queue`;
      ``subscriptions``: id -> ``sns.Subscription`` for every subscribed queue.

    Subscriber queues get a queue-policy statement allowing ``sqs:SendMessage``
    from this topic only (``aws:SourceArn``); a queue encrypted with a customer
    key gets a key-policy statement letting ``sns.amazonaws.com`` use the key
    for this topic only.

    :param fifo: a FIFO topic; queues made by ``add_queue`` are FIFO too. Default False.
    :param topic_name: default derived from the construct path (``.fifo`` added for FIFO).
    :param content_based_deduplication: FIFO only; passed to the topic and to the queues it makes.
    :param encryption_key: customer-managed KMS key for the topic and the undeliverable queue.
    :param service_publishers: AWS service principals allowed to publish, see
        :meth:`allow_service_publisher`. Default none.
    :param alarm_topic: SNS topic (or ``AlarmTopic``) the alarms notify, also the subscribers'
        by default; default none (alarms still exist).
    :param create_alarms: default True; False creates no alarm, here nor (by default) in the subscribers.
    :param alarm_settings: an ``AlarmSettings`` for this construct's alarm keys. Its name prefix and
        ALARM/OK actions are passed on to the subscribers (``subscriber_alarm_settings``); its
        overrides are not, being keyed by FanOut's keys: give ``add_queue`` an ``alarm_settings``
        of its own to tune a subscriber's alarms.
    :param removal_policy: topic, undeliverable queue and queues made here; default RETAIN.
    """

    #: The keys of ``alarms`` and of ``alarm_settings.overrides``.
    ALARM_KEYS: ClassVar[tuple[str, ...]] = (
        "notifications_failed",
        "undeliverable_queue",
        # made with the first HTTP/S subscriber (add_https_endpoint), the first SMS subscriber (add_sms)
        "http_notifications_failed",
        "sms_month_to_date_spent",
        "sms_success_rate",
    )

    @r.guarded(RULES)
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        fifo: bool = False,
        topic_name: str | None = None,
        content_based_deduplication: bool = False,
        alarm_topic: sns.ITopic | AlarmTopic | None = None,
        create_alarms: bool = True,
        alarm_settings: AlarmSettings | None = None,
        encryption_key: kms.IKey | None = None,
        service_publishers: Sequence[str] = (),
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        alarms = Alarms.of(self, alarm_topic, create_alarms, alarm_settings)
        _stacks.use_each(self, {"encryption_key": encryption_key})
        self.fifo = fifo
        self.content_based_deduplication = content_based_deduplication
        self.removal_policy = removal_policy
        self.alarm_topic = alarms.topic
        self.create_alarms = create_alarms
        #: What the queues made by add_queue get by default: the prefix and actions, not the overrides.
        self.subscriber_alarm_settings = AlarmSettings(
            name_prefix=alarms.settings.name_prefix,
            alarm_actions=alarms.settings.alarm_actions,
            ok_actions=alarms.settings.ok_actions,
        )
        if encryption_key is None and service_publishers:
            encryption_key = managed_key(self, "Key", "Encrypts the fan-out topic; AWS services may publish with it")
        self.encryption_key: kms.IKey | None = encryption_key

        suffix = FIFO_SUFFIX if fifo else ""
        base = Names.unique_resource_name(
            self, max_length=v.SQS_QUEUE_NAME_MAX - len(UNDELIVERABLE_SUFFIX) - len(FIFO_SUFFIX), separator="-"
        )
        self.topic = self._build_topic(topic_name if topic_name is not None else f"{base}{suffix}")
        self.undeliverable_queue = self._build_undeliverable_queue(f"{base}{UNDELIVERABLE_SUFFIX}{suffix}")
        if encryption_key is not None:
            self._allow_sns_to_use(encryption_key, "encryption_key")
        self.subscribers: dict[str, ReliableQueue] = {}
        self.subscriptions: dict[str, sns.Subscription] = {}
        self._add_alarms(alarms)
        self._push_alarms = alarms  # add_https_endpoint and add_sms add theirs
        self.alarms = alarms.mapping
        for principal in service_publishers:
            self.allow_service_publisher(principal)

    def _build_topic(self, name: str) -> sns.Topic:
        # The topic's ARN from its name: key policies can name it without referencing the topic.
        self.topic_arn_from_name = Stack.of(self).format_arn(
            service="sns", resource=name, arn_format=ArnFormat.NO_RESOURCE_NAME
        )
        topic = sns.Topic(
            self,
            "Topic",
            topic_name=name,
            fifo=self.fifo or None,
            content_based_deduplication=self.content_based_deduplication or None,
            master_key=self.encryption_key or kms.Alias.from_alias_name(self, "AwsManagedKey", AWS_MANAGED_SNS_KEY),
            enforce_ssl=True,
        )
        topic.apply_removal_policy(self.removal_policy)
        return topic

    def _build_undeliverable_queue(self, name: str) -> sqs.Queue:
        queue = dead_letter_queue(
            self,
            "UndeliverableQueue",
            queue_name=name,
            encryption_key=self.encryption_key,
            removal_policy=self.removal_policy,
            fifo_props=fifo_queue_props(self.fifo),
        )
        # cdk-nag recognizes DLQs only through SQS redrive policies, not SNS subscription redrive policies.
        Validations.of(queue).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SQS3",
                reason="This queue IS a dead-letter queue: the SNS subscription redrive target of every "
                "subscription of the topic, which cdk-nag does not recognize as a DLQ.",
            )
        )
        return queue

    def _add_alarms(self, alarms: Alarms) -> None:
        alarms.add(
            "notifications_failed",
            metric=self.topic.metric_number_of_notifications_failed(period=Duration.minutes(1), statistic="Sum"),
            threshold=1,
            description="SNS failed to deliver notifications; undelivered ones are kept in the "
            "undeliverable queue. Check the subscriber queues' policies and keys.",
        )
        alarms.add(
            "undeliverable_queue",
            metric=self.undeliverable_queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1), statistic="Maximum"
            ),
            threshold=1,
            description="Messages SNS could not deliver to a subscriber are waiting in the undeliverable queue.",
        )

    @r.guarded(ADD_QUEUE_RULES)
    def add_queue(
        self,
        construct_id: str,
        *,
        filter_policy: Mapping[str, sns.SubscriptionFilter] | None = None,
        filter_policy_with_message_body: Mapping[str, sns.FilterOrPolicy] | None = None,
        raw_message_delivery: bool = False,
        **queue_options: Unpack[QueueOptions],
    ) -> ReliableQueue:
        """Create a ReliableQueue (its own DLQ, long polling, alarms) and subscribe it.

        ``queue_options`` (:class:`QueueOptions`) are ReliableQueue's props but ``fifo``, which follows the topic;
        ``content_based_deduplication``, ``alarm_topic``, ``create_alarms`` and ``removal_policy``
        default to the FanOut's, and ``alarm_settings`` to ``subscriber_alarm_settings`` (the FanOut's
        name prefix and actions). An ``alarm_settings`` given here replaces that default: its
        overrides use ReliableQueue's alarm keys (``"dead_letter_queue"``, ``"oldest_message_age"``);
        ``dataclasses.replace(fan_out.subscriber_alarm_settings, overrides={...})`` keeps the rest.

        :param filter_policy: attribute-scope filter (``sns.SubscriptionFilter`` per attribute).
        :param filter_policy_with_message_body: body-scope filter (``sns.FilterOrPolicy``); not with ``filter_policy``.
        :param raw_message_delivery: deliver the message as published instead of the SNS JSON envelope.
        """
        options: dict[str, Any] = {
            "content_based_deduplication": self.content_based_deduplication,
            "alarm_topic": self.alarm_topic,
            "create_alarms": self.create_alarms,
            "alarm_settings": self.subscriber_alarm_settings,
            "removal_policy": self.removal_policy,
            **queue_options,
            "fifo": self.fifo,
        }
        subscriber = ReliableQueue(self, construct_id, **options)
        self.subscribers[construct_id] = subscriber
        self._subscribe(
            subscriber,
            construct_id,
            subscriber.queue,
            filter_policy,
            filter_policy_with_message_body,
            raw_message_delivery,
        )
        return subscriber

    @r.guarded(ADD_EXISTING_QUEUE_RULES)
    def add_existing_queue(
        self,
        queue: sqs.IQueue | ReliableQueue,
        *,
        construct_id: str | None = None,
        filter_policy: Mapping[str, sns.SubscriptionFilter] | None = None,
        filter_policy_with_message_body: Mapping[str, sns.FilterOrPolicy] | None = None,
        raw_message_delivery: bool = False,
    ) -> sns.Subscription:
        """Subscribe a queue the caller owns (same options as :meth:`add_queue`).

        A FIFO queue needs a FIFO topic (SNS standard topics cannot deliver to
        FIFO queues). A standard queue on a FIFO topic is allowed, as SNS allows
        it; it then gets neither the ordering nor the deduplication of the topic.
        The queue's policy (and its customer-managed key's policy) get the
        statements letting this topic deliver; an imported queue or key cannot be
        changed here, and a synth-time warning says so.

        A queue of another stack is subscribed from its own stack, as aws-cdk-lib's
        ``SqsSubscription`` does: the subscription and the queue-policy statement
        live beside the queue, so only the queue's stack depends on the topic's.
        When the topic's stack already depends on the queue's (the queue's stack
        owns the topic's key, or ``add_dependency`` says so), the subscription
        stays in the FanOut and the queue's policy names the topic by the ARN
        built from its name, so no dependency cycle arises. An imported queue is
        subscribed from the FanOut; a queue of another App or Stage is refused.

        :param queue: an ``sqs.IQueue``, or a ``ReliableQueue`` (its ``queue`` subscribes, as
            ``reliable_queue.queue`` would).
        :param construct_id: the key in ``subscriptions`` and the subscription's
            scope id; default the queue's path in its stack without separators
            (``"Own"``; ``"JobsQueue"`` for ``ReliableQueue(stack, "Jobs")`` or its ``.queue``).
        """
        if isinstance(queue, ReliableQueue):  # it stands where an IQueue is expected, as its docs say
            queue = queue.queue
        _stacks.check_same_app(self, queue, "queue")  # another Stage too (the rule refuses another App)
        if construct_id is None:  # the queue's path in its stack: "Own", "Jobs/Queue" -> "JobsQueue"
            below_stack = queue.node.scopes[len(Stack.of(queue).node.scopes) :]
            construct_id = "".join(scope.node.id for scope in below_stack)
            _check_subscriber_id("construct_id (derived from the queue's path)", construct_id, r.Context(scope=self))
        holder = self._subscriber_holder(queue, queue.queue_arn, "queue", construct_id)
        return self._subscribe(
            holder, construct_id, queue, filter_policy, filter_policy_with_message_body, raw_message_delivery
        )

    @r.guarded(GRANT_RULES)
    def grant_publish(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` publish to the topic (and use its customer-managed key, if any)."""
        return self.topic.grant_publish(grantee)

    @r.guarded(GRANT_SUBSCRIBE_RULES)
    def grant_subscribe(
        self,
        accounts: Sequence[str] = (),
        *,
        organization_ids: Sequence[str] = (),
        protocols: Sequence[str] | None = ("sqs",),
        endpoints: Sequence[str] = (),
    ) -> iam.PolicyStatement:
        """Let other accounts (``accounts``, 12-digit ids) or the accounts of AWS Organizations
        (``organization_ids``) subscribe to the topic: an ``sns:Subscribe`` statement in the topic policy, the one
        AWS asks for before a queue of another account can subscribe from its own account (SNS developer guide,
        "Sending Amazon SNS messages to an Amazon SQS queue in a different account"). aws-cdk-lib puts such a
        subscription in the queue's stack but never adds this statement (STREAMING_NOTES 5.1).

        :param protocols: the ``sns:Protocol`` values allowed (StringEquals); default SQS only; None for any.
        :param endpoints: ``sns:Endpoint`` patterns (StringLike), e.g. ``"arn:aws:sqs:*:222222222222:*"`` for
            that account's queues only; default any endpoint.

        No key-policy statement is added, for a customer-managed key or the AWS-managed one: SNS decrypts a
        message with the topic's key itself before it delivers it, and a subscriber never calls KMS with it (the
        SNS developer guide's "Key management" counts a topic's KMS requests per publishing principal only,
        ``R = B / D * (2 * P)``); the key a cross-account delivery needs is the subscriber queue's
        (:class:`SubscribedQueue` grants it). Returns
        the statement (a :class:`SubscribedQueue` of this App checks its account is granted).
        """
        principals: list[iam.IPrincipal] = [iam.AccountPrincipal(account) for account in accounts]
        conditions: dict[str, dict[str, Any]] = {}
        if organization_ids:
            principals.append(iam.AnyPrincipal())
            conditions.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = list(organization_ids)
        if protocols is not None:
            conditions.setdefault("StringEquals", {})["sns:Protocol"] = list(protocols)
        if endpoints:
            conditions["StringLike"] = {"sns:Endpoint": list(endpoints)}
        statement = iam.PolicyStatement(
            principals=principals,
            actions=["sns:Subscribe"],
            resources=[self.topic.topic_arn],
            conditions=conditions or None,
        )
        self.topic.add_to_resource_policy(statement)
        grants: list[SubscribeGrant] = self.__dict__.setdefault("subscribe_grants", [])
        grants.append(SubscribeGrant(tuple(accounts), tuple(organization_ids), _tuple(protocols), tuple(endpoints)))
        return statement

    @r.guarded(ALLOW_SERVICE_PUBLISHER_RULES)
    def allow_service_publisher(self, service_principal: str, *, source_arn: str | None = None) -> None:
        """Let an AWS service (``cloudwatch.amazonaws.com``, ``s3.amazonaws.com``,
        ``events.amazonaws.com``, ...) publish to the topic.

        Adds a topic-policy statement scoped by ``aws:SourceAccount`` (and
        ``aws:SourceArn`` when given) and the matching grant in the policy of the
        topic's customer-managed key. AWS services cannot use the AWS-managed
        ``alias/aws/sns`` key, so without a customer key this raises: pass
        ``encryption_key``, or ``service_publishers`` to the constructor, which
        creates a key.
        """
        # The topic's policy and its key's policy name source_arn: their stacks must not feed its stack.
        key_stacks = _stacks.stacks_named_by(getattr(self.encryption_key, "key_arn", None))
        for stack in [Stack.of(self), *key_stacks]:
            _stacks.name_value(
                self,
                stack,
                source_arn,
                "source_arn",
                way_out="Write the ARN out from a name known at synth time (e.g. "
                "f'arn:aws:s3:::{bucket_name}' for a bucket with a bucket_name) instead of the resource's token.",
            )
        if self.encryption_key is None:
            raise ValueError(
                f"service_principal {service_principal!r} needs a customer-managed key: the topic uses "
                f"the AWS-managed {AWS_MANAGED_SNS_KEY} key, which AWS services cannot use, so their messages "
                "would be dropped. Pass encryption_key= or service_publishers=[...] to FanOut."
            )
        if not allow_service_publisher(
            self.topic, service_principal, encryption_key=self.encryption_key, source_arn=source_arn
        ):
            Annotations.of(self).add_warning_v2(
                "decoupling-constructs:imported-key",
                f"encryption_key is imported: grant {service_principal} kms:Decrypt and kms:GenerateDataKey* "
                "in its key policy yourself, or its messages to the topic are dropped.",
            )

    def _allow_sns_to_use(self, key: kms.IKey, what: str) -> None:
        if not allow_service_to_use_key(key, "sns.amazonaws.com", source_arn=self.topic_arn_from_name):
            Annotations.of(self).add_warning_v2(
                "decoupling-constructs:imported-key",
                f"{what} is imported: grant sns.amazonaws.com kms:Decrypt and kms:GenerateDataKey* in its key "
                f"policy for {self.topic_arn_from_name}, or SNS cannot deliver to the queue.",
            )

    def _subscribe(
        self,
        scope: Construct,
        construct_id: str,
        queue: sqs.IQueue,
        filter_policy: Mapping[str, sns.SubscriptionFilter] | None,
        filter_policy_with_message_body: Mapping[str, sns.FilterOrPolicy] | None,
        raw_message_delivery: bool,
    ) -> sns.Subscription:
        added = queue.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("sns.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[queue.queue_arn],
                conditions={"ArnEquals": {"aws:SourceArn": self._topic_arn_seen_from(Stack.of(queue))}},
            )
        )
        if not added.statement_added:
            Annotations.of(self).add_warning_v2(
                "decoupling-constructs:imported-queue",
                f"subscriber {construct_id!r} is an imported queue: its policy must allow sqs:SendMessage "
                f"from {self.topic_arn_from_name}, or SNS cannot deliver to it.",
            )
        if queue.encryption_master_key is not None:
            self._allow_sns_to_use(queue.encryption_master_key, f"the key of subscriber {construct_id!r}")
        subscription = sns.Subscription(
            scope,
            "Subscription",
            topic=self.topic,
            endpoint=queue.queue_arn,
            protocol=sns.SubscriptionProtocol.SQS,
            raw_message_delivery=raw_message_delivery or None,
            filter_policy=filter_policy,
            filter_policy_with_message_body=filter_policy_with_message_body,
            dead_letter_queue=self.undeliverable_queue,
        )
        # Deliveries (and redrives to the undeliverable queue) need the queue policies in place first.
        for policy in (added.policy_dependable, _internals.queue_policy(self.undeliverable_queue)):
            if policy is not None:
                subscription.node.add_dependency(policy)
        self.subscriptions[construct_id] = subscription
        return subscription

    # --- Lambda and Firehose subscribers ---

    @r.guarded(ADD_FUNCTION_RULES)
    def add_function(
        self,
        construct_id: str,
        function: lambda_.IFunction,
        *,
        filter_policy: Mapping[str, sns.SubscriptionFilter] | None = None,
        filter_policy_with_message_body: Mapping[str, sns.FilterOrPolicy] | None = None,
    ) -> sns.Subscription:
        """Subscribe a Lambda function (SNS invokes it asynchronously), with the filters of :meth:`add_queue`.

        The function gets a resource-policy statement letting this topic only invoke it
        (aws-cdk-lib's ``LambdaSubscription``). A message SNS cannot hand to Lambda (function
        deleted, permission removed, throttled past SNS's retries) goes to ``undeliverable_queue``;
        an error raised by the function itself is Lambda's asynchronous-invocation business
        (its retries and on-failure destination). Standard topics only: SNS FIFO topics deliver
        to SQS queues alone. A function of another stack is subscribed from its own stack, or from
        the FanOut's when that stack depends on the function's, as :meth:`add_existing_queue` does.

        :param construct_id: the key in ``subscriptions``.
        """
        self._check_push_subscriber("Lambda function", construct_id, function.function_arn)
        holder = self._subscriber_holder(function, function.function_arn, "function", construct_id)
        # aws-cdk-lib's LambdaSubscription adds the invoke permission for this topic (and the stack dependency);
        # a function whose stack may not depend on the topic's gets it for the topic's ARN built from its name.
        topic_arn = self._topic_arn_seen_from(Stack.of(function))
        topic = (
            self.topic if topic_arn == self.topic.topic_arn else sns.Topic.from_topic_arn(holder, "Topic", topic_arn)
        )
        config = sns_subscriptions.LambdaSubscription(function).bind(topic)
        return self._subscribe_endpoint(
            holder,
            construct_id,
            endpoint=config.endpoint,
            protocol=config.protocol,
            filter_policy=filter_policy,
            filter_policy_with_message_body=filter_policy_with_message_body,
            region=config.region if topic is self.topic else None,  # the alias is our own topic: no region
        )

    @r.guarded(ADD_DELIVERY_STREAM_RULES)
    def add_delivery_stream(
        self,
        construct_id: str,
        delivery_stream: firehose.IDeliveryStream,
        *,
        filter_policy: Mapping[str, sns.SubscriptionFilter] | None = None,
        filter_policy_with_message_body: Mapping[str, sns.FilterOrPolicy] | None = None,
        raw_message_delivery: bool = False,
    ) -> sns.Subscription:
        """Subscribe an Amazon Data Firehose delivery stream (S3, Redshift...), with the filters of :meth:`add_queue`.

        SNS writes with a subscription role of its own (``Role``, beside the subscription), trusted by
        ``sns.amazonaws.com`` and allowed, on this delivery stream only, the actions the SNS developer
        guide lists: DescribeDeliveryStream, ListDeliveryStreams, ListTagsForDeliveryStream, PutRecord,
        PutRecordBatch. Records SNS cannot put go to
        ``undeliverable_queue``. The delivery stream must take direct puts: a ``StreamToS3``'s own
        ``delivery_stream`` reads its Kinesis stream and is refused; to land topic messages in a
        ``StreamToS3``'s bucket, give a ``firehose.DeliveryStream`` whose destination is
        ``firehose.S3Bucket(stream_to_s3.bucket, data_output_prefix=...)``. Standard topics only.

        :param raw_message_delivery: write the message as published instead of the SNS JSON envelope.
        """
        self._check_push_subscriber("delivery stream", construct_id, delivery_stream.delivery_stream_arn)
        holder = self._subscriber_holder(
            delivery_stream, delivery_stream.delivery_stream_arn, "delivery_stream", construct_id
        )
        # aws-cdk-lib's FirehoseSubscription builds the same role, but its bind() cannot take an imported
        # delivery stream (no construct to put the role in): the role is built here, beside the subscription.
        role = iam.Role(holder, "Role", assumed_by=iam.ServicePrincipal("sns.amazonaws.com"))
        delivery_stream.grant(role, *SNS_FIREHOSE_ACTIONS)
        return self._subscribe_endpoint(
            holder,
            construct_id,
            endpoint=delivery_stream.delivery_stream_arn,
            protocol=sns.SubscriptionProtocol.FIREHOSE,
            filter_policy=filter_policy,
            filter_policy_with_message_body=filter_policy_with_message_body,
            raw_message_delivery=raw_message_delivery,
            subscription_role=role,
        )

    # --- HTTP/S, email and SMS subscribers (built in _push.py) ---

    @r.guarded(ADD_HTTPS_ENDPOINT_RULES)
    def add_https_endpoint(
        self,
        construct_id: str,
        url: str,
        *,
        filter_policy: Mapping[str, sns.SubscriptionFilter] | None = None,
        filter_policy_with_message_body: Mapping[str, sns.FilterOrPolicy] | None = None,
        raw_message_delivery: bool = False,
        delivery_policy: HttpDeliveryPolicy | None = None,
        dead_letter_queue: sqs.IQueue | ReliableQueue | None = None,
        delivery_status_logging: DeliveryStatusLogging | None = None,
        allow_http: bool = False,
    ) -> sns.Subscription:
        """Subscribe an HTTPS endpoint (aws-cdk-lib's ``UrlSubscription``), with the filters of :meth:`add_queue`.

        SNS POSTs a ``SubscriptionConfirmation`` first: the endpoint must GET its ``SubscribeURL`` (the
        library's ``runtime.sns_receiver`` does, for SNS hosts only) before anything else is delivered. Every
        HTTPS subscriber makes the topic sign with SHA256 (``SignatureVersion`` 2) and turns on the topic's
        HTTP/S delivery-status logging (:class:`DeliveryStatusLogging`: a role SNS assumes, two log groups with
        bounded retention, and the ``http_notifications_failed`` alarm on the failures they log). A message SNS
        still cannot deliver once ``delivery_policy`` is exhausted goes to ``dead_letter_queue``. Standard topics
        only: SNS FIFO topics deliver to SQS queues alone (|fifo|).

        .. |fifo| replace:: https://docs.aws.amazon.com/sns/latest/dg/fifo-message-delivery.html

        :param url: ``https://host[:port]/path``; userinfo (basic auth) is passed on as SNS supports it.
        :param raw_message_delivery: POST the message as published instead of the SNS JSON envelope.
        :param delivery_policy: an :class:`HttpDeliveryPolicy` (retries, backoff, throttle, content type); its
            total retry time is checked against SNS's 3,600 s cap. Default SNS's: 3 retries, 20 s apart.
        :param dead_letter_queue: where undeliverable messages go; default ``undeliverable_queue``. It must be in
            the FanOut's account and Region (SNS redrives only there); one of another stack of that environment is
            given the policy statement in its own stack.
        :param delivery_status_logging: the FanOut's HTTP/S logging settings; default
            ``DeliveryStatusLogging()``; a later subscriber may only repeat the first one's.
        :param allow_http: accept an ``http://`` URL (clear text: for a local test endpoint). Default False.
        """
        self._check_push_subscriber("HTTP/S endpoint", construct_id, url)
        if isinstance(dead_letter_queue, ReliableQueue):
            dead_letter_queue = dead_letter_queue.queue
        with r.blame("delivery_status_logging"):
            _push.log_http_delivery_status(self, delivery_status_logging)
        _push.use_signature_version_2(self)
        protocol = sns.SubscriptionProtocol.HTTPS if url.startswith("https://") else sns.SubscriptionProtocol.HTTP
        return _push.subscribe(
            self,
            construct_id,
            endpoint=url,
            protocol=protocol,
            dead_letter_queue=dead_letter_queue or self.undeliverable_queue,
            filter_policy=filter_policy,
            filter_policy_with_message_body=filter_policy_with_message_body,
            raw_message_delivery=raw_message_delivery,
            delivery_policy=delivery_policy,
        )

    @r.guarded(ADD_EMAIL_RULES)
    def add_email(
        self,
        construct_id: str,
        address: str,
        *,
        json: bool = False,
        filter_policy: Mapping[str, sns.SubscriptionFilter] | None = None,
        filter_policy_with_message_body: Mapping[str, sns.FilterOrPolicy] | None = None,
    ) -> sns.Subscription:
        """Subscribe an email address (aws-cdk-lib's ``EmailSubscription``), with the filters of :meth:`add_queue`.

        The subscription stays pending until someone follows the link SNS mails to the address (valid for 2
        days): synth warns so on the subscription (``decoupling-constructs:pending-confirmation``; acknowledge it
        there with ``Annotations.of(subscription).acknowledge_warning(id, reason)`` once someone will confirm).
        SNS's email delivery policy is its own (not configurable); what it cannot deliver goes to
        ``undeliverable_queue``. Standard topics only.

        :param json: send the SNS JSON envelope (``email-json``) instead of the message text.
        """
        self._check_push_subscriber("email address", construct_id, address)
        subscription = _push.subscribe(
            self,
            construct_id,
            endpoint=address,
            protocol=sns.SubscriptionProtocol.EMAIL_JSON if json else sns.SubscriptionProtocol.EMAIL,
            dead_letter_queue=self.undeliverable_queue,
            filter_policy=filter_policy,
            filter_policy_with_message_body=filter_policy_with_message_body,
        )
        _push.warn_pending_confirmation(subscription, construct_id, address)
        return subscription

    @r.guarded(ADD_SMS_RULES)
    def add_sms(
        self,
        construct_id: str,
        phone_number: str,
        *,
        filter_policy: Mapping[str, sns.SubscriptionFilter] | None = None,
        filter_policy_with_message_body: Mapping[str, sns.FilterOrPolicy] | None = None,
        spend_alarm_usd: float = 0.8,
    ) -> sns.Subscription:
        """Subscribe a phone number by SMS (aws-cdk-lib's ``SmsSubscription``), with the filters of :meth:`add_queue`.

        A new account sends SMS from the sandbox: only to verified numbers (up to 10), with a 1 USD monthly
        spend limit (see docs/push-subscriptions.md). The first SMS subscriber adds the alarms
        ``sms_month_to_date_spent`` (the account's ``SMSMonthToDateSpentUSD`` reaching ``spend_alarm_usd``) and
        ``sms_success_rate`` (``SMSSuccessRate`` under 0.9). Standard topics only.

        :param phone_number: E.164: ``+``, country code and number, at most 15 digits (``"+12065550100"``).
        :param spend_alarm_usd: the spend alarm's threshold in USD; default 0.8 (80% of the sandbox limit). Every
            SMS subscriber of a FanOut must give the same (one alarm watches the account's spend).
        """
        self._check_push_subscriber("phone number", construct_id, phone_number)
        with r.blame("spend_alarm_usd"):
            _push.add_sms_alarms(self, spend_alarm_usd)
        return _push.subscribe(
            self,
            construct_id,
            endpoint=phone_number,
            protocol=sns.SubscriptionProtocol.SMS,
            dead_letter_queue=self.undeliverable_queue,
            filter_policy=filter_policy,
            filter_policy_with_message_body=filter_policy_with_message_body,
        )

    def _check_push_subscriber(self, what: str, construct_id: str, endpoint: str) -> None:
        """What :meth:`add_function` and :meth:`add_delivery_stream` check beyond their tables: the topic, and
        the subscriptions already made."""
        if self.fifo:
            raise ValueError(
                f"cannot subscribe a {what} ({construct_id!r}) to a FIFO topic: SNS FIFO topics deliver only to "
                "SQS queues; subscribe it to a standard FanOut (fifo=False), or consume a queue of this one"
            )
        for existing_id, existing in self.subscriptions.items():
            if existing.node.default_child.endpoint == endpoint:  # type: ignore[union-attr]
                raise ValueError(
                    f"this {what} is already subscribed as {existing_id!r}; SNS keeps one subscription per "
                    f"endpoint and topic, so {construct_id!r} cannot add another (combine the filters instead)"
                )

    def _subscriber_holder(self, target: IConstruct, arn: str, prop: str, construct_id: str) -> Construct:
        """Where a subscription to ``target`` lives (:func:`_stacks.place`): beside a ``target`` of another
        stack, under the id :meth:`add_existing_queue` gives (so that stack depends on the topic's), or in
        this FanOut when the topic's stack already depends on the target's (or the target is imported)."""
        stack = _stacks.place(
            self,
            target,
            arn,
            prop,
            way_out=f"Subscribe an import of it by ARN instead (made in {Stack.of(self).node.path!r}) and give "
            "its policy the statement yourself.",
        )
        if stack is Stack.of(self):
            return Construct(self, construct_id)
        return Construct(target, f"{Names.node_unique_id(self.node)}{construct_id}")  # type: ignore[arg-type]

    def _topic_arn_seen_from(self, stack: Stack) -> str:
        """The topic's ARN for a policy in ``stack``: its token where ``stack`` may depend on the topic's, else
        the ARN built from the topic's name (no token, so ``stack`` does not depend on the topic's)."""
        ours = Stack.of(self)
        if stack is ours or _stacks.dependency_path(stack, ours) is not None:
            return self.topic.topic_arn
        return self.topic_arn_from_name

    def _subscribe_endpoint(
        self,
        holder: Construct,
        construct_id: str,
        *,
        endpoint: str,
        protocol: sns.SubscriptionProtocol,
        filter_policy: Mapping[str, sns.SubscriptionFilter] | None,
        filter_policy_with_message_body: Mapping[str, sns.FilterOrPolicy] | None,
        raw_message_delivery: bool = False,
        subscription_role: iam.Role | None = None,
        region: str | None = None,
    ) -> sns.Subscription:
        """Subscribe ``endpoint`` in ``holder`` (:meth:`_subscriber_holder`), redriving to the undeliverable queue."""
        subscription = sns.Subscription(
            holder,
            "Subscription",
            topic=self.topic,
            endpoint=endpoint,
            protocol=protocol,
            region=region,
            subscription_role_arn=subscription_role.role_arn if subscription_role is not None else None,
            raw_message_delivery=raw_message_delivery or None,
            filter_policy=filter_policy,
            filter_policy_with_message_body=filter_policy_with_message_body,
            dead_letter_queue=self.undeliverable_queue,
        )
        # Redrives to the undeliverable queue need its policy in place first, SNS's writes its role's policy.
        for policy in (
            _internals.queue_policy(self.undeliverable_queue),
            _internals.role_default_policy(subscription_role) if subscription_role is not None else None,
        ):
            if policy is not None:
                subscription.node.add_dependency(policy)
        self.subscriptions[construct_id] = subscription
        return subscription
