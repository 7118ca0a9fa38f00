"""ReliableQueue: an SQS queue with its dead-letter queue, long polling and alarms."""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any, ClassVar

from aws_cdk import ArnFormat, Duration, Names, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

if TYPE_CHECKING:
    from ..alarm_topic import AlarmTopic

from .. import _rules as r
from .. import _stacks, limits
from .. import _validate as v
from .._alarms import ALARM_PROPS, Alarms, AlarmSettings
from .._cdk import PatternConstruct
from .._props import ENCRYPTION_KEY, GRANT_ACTIONS_RULES, GRANT_RULES, REMOVAL_POLICY
from .._security import acknowledge_checkov

# SQS limits (limits.py names the AWS document of each):
MAX_RECEIVE_COUNT = limits.SQS_MAX_RECEIVE_COUNT
MAX_RETENTION_SECONDS = limits.SQS_MAX_RETENTION_SECONDS
MAX_VISIBILITY_SECONDS = limits.SQS_MAX_VISIBILITY_SECONDS
MAX_WAIT_SECONDS = limits.SQS_MAX_WAIT_SECONDS
MIN_RETENTION_SECONDS = limits.SQS_MIN_RETENTION_SECONDS

# Defaults (Duration is immutable, so module-level singletons are safe defaults).
DEFAULT_VISIBILITY_TIMEOUT = Duration.seconds(30)
DEFAULT_WAIT_TIME = Duration.seconds(MAX_WAIT_SECONDS)  # long polling at the recommended maximum
DEFAULT_RETENTION = Duration.days(4)  # the SQS default
DEFAULT_OLDEST_MESSAGE_AGE_ALARM = Duration.minutes(15)

DLQ_SUFFIX = "-dlq"
FIFO_SUFFIX = ".fifo"

# What a queue's customer-managed key must allow (Amazon SQS developer guide, "Amazon SQS key
# management"): a producer kms:GenerateDataKey and kms:Decrypt, a consumer kms:Decrypt. Other SQS
# actions (purge, attributes, tags) read or write no message body and need no key. (SendMessageBatch
# and ReceiveMessage's batches are authorized by sqs:SendMessage and sqs:ReceiveMessage.)
_ACTIONS_THAT_ENCRYPT = ("sqs:SendMessage",)
_ACTIONS_THAT_DECRYPT = ("sqs:ReceiveMessage",)


def _check_queue_name(prop: str, value: object, ctx: r.Context) -> None:
    v.check_queue_name(prop, value, fifo=ctx.props.get("fifo") is True, reserve=len(DLQ_SUFFIX))  # type: ignore[arg-type]


def _fifo_name_known(values: Mapping[str, Any], ctx: r.Context) -> None:
    """aws-cdk-lib checks a FIFO queue's name for its '.fifo' suffix at synth time, so a token cannot pass there."""
    name = values.get("queue_name")
    if values.get("fifo") is True and name is not None and v.is_token(name):
        raise ValueError(
            "queue_name of a FIFO queue must be known at synth time (aws-cdk-lib checks its '.fifo' suffix), got "
            f"{r.show(name, ctx.scope)}: give the name, or leave it out to derive one"
        )


#: What every ReliableQueue prop accepts (the engine in ``_rules.py`` checks them before the constructor runs).
RULES = (
    r.Rules(
        {
            "fifo": r.Bool(),
            "queue_name": r.Custom(
                _check_queue_name,
                f"an SQS queue name: 1-{v.SQS_QUEUE_NAME_MAX - len(DLQ_SUFFIX)} letters, digits, hyphens and "
                "underscores, ending in '.fifo' exactly when fifo=True",
                optional=True,
                source="SQS CreateQueue QueueName",
            ),
            "visibility_timeout": r.Seconds(
                0,
                MAX_VISIBILITY_SECONDS,
                text=f"0 seconds-12 hours ({MAX_VISIBILITY_SECONDS} seconds)",
                source="SQS CreateQueue VisibilityTimeout",
            ),
            "receive_message_wait_time": r.Seconds(
                0, MAX_WAIT_SECONDS, source="SQS CreateQueue ReceiveMessageWaitTimeSeconds"
            ),
            "retention_period": r.Seconds(
                MIN_RETENTION_SECONDS,
                MAX_RETENTION_SECONDS,
                text=f"60 seconds-14 days ({MAX_RETENTION_SECONDS} seconds)",
                source="SQS CreateQueue MessageRetentionPeriod",
            ),
            "max_receive_count": r.Int(1, MAX_RECEIVE_COUNT, source="SQS RedrivePolicy maxReceiveCount"),
            "content_based_deduplication": r.Bool(),
            "high_throughput": r.Bool(),
            "encryption_key": ENCRYPTION_KEY,
            "removal_policy": REMOVAL_POLICY,
        },
        relations=(
            r.requires("content_based_deduplication", "fifo"),
            r.requires("high_throughput", "fifo"),
            _fifo_name_known,
        ),
    )
    | ALARM_PROPS
)


class ReliableQueue(PatternConstruct):
    """An SQS queue that cannot lose a message silently.

    Builds:

    * ``queue``: the source queue, long polling on (``receive_message_wait_time``
      20 s), encrypted (SSE-SQS, or ``encryption_key``), TLS-only resource policy,
      redrive to the dead-letter queue after ``max_receive_count`` receives.
    * ``dead_letter_queue``: same encryption, TLS policy and long polling, retention 14 days
      (the SQS maximum, so never shorter than the source queue's), and a
      ``RedriveAllowPolicy`` that admits only this source queue.
    * ``alarms``: a read-only mapping of stable keys to alarms:
      ``"dead_letter_queue"`` (any message visible in the DLQ) and
      ``"oldest_message_age"`` (the source queue's oldest message older than
      15 minutes by default; a ``Duration`` threshold shorter than ``retention_period``).
      Both notify ``alarm_topic`` (on ALARM and OK) when it is given.

    ``queue_arn``, ``queue_url``, ``queue_name`` and the ``grant*`` methods delegate to ``queue``;
    each grant covers ``encryption_key`` (an attribute: the key, or None) as its actions need.

    Both queues have names known at synth time: ``queue_name`` (the DLQ is
    ``<name>-dlq``, ``.fifo`` kept last), or names derived from the construct
    path. A known name lets the DLQ's redrive-allow policy name its source queue
    without a dependency cycle, and every FIFO queue must be named anyway.

    :param fifo: make both queues FIFO (default False).
    :param queue_name: the source queue's name; default derived from the construct path.
    :param visibility_timeout: default 30 s; 0 s-12 h.
    :param receive_message_wait_time: long-polling wait, default 20 s; 0-20 s.
    :param retention_period: source queue retention, default 4 days; 60 s-14 days.
    :param max_receive_count: receives before a message moves to the DLQ, default 5; 1-1000.
    :param content_based_deduplication: FIFO only, default False.
    :param high_throughput: FIFO only: DeduplicationScope=messageGroup and
        FifoThroughputLimit=perMessageGroupId, default False.
    :param encryption_key: a customer-managed KMS key for both queues (enable its
        rotation); default SSE-SQS, which SNS and EventBridge can deliver to
        (the AWS-managed ``alias/aws/sqs`` key cannot be granted to them).
    :param alarm_topic: SNS topic (or ``AlarmTopic``) the alarms notify; default none (alarms still exist).
    :param create_alarms: default True; False creates no alarm.
    :param alarm_settings: an ``AlarmSettings``: name prefix, extra ALARM/OK actions, and
        per-key overrides (``AlarmOptions``, or None to drop that alarm).
    :param removal_policy: for both queues, default RETAIN.
    """

    #: The keys of ``alarms`` and of ``alarm_settings.overrides``.
    ALARM_KEYS: ClassVar[tuple[str, ...]] = ("dead_letter_queue", "oldest_message_age")

    @r.guarded(RULES)
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        fifo: bool = False,
        queue_name: str | None = None,
        visibility_timeout: Duration = DEFAULT_VISIBILITY_TIMEOUT,
        receive_message_wait_time: Duration = DEFAULT_WAIT_TIME,
        retention_period: Duration = DEFAULT_RETENTION,
        max_receive_count: int = 5,
        content_based_deduplication: bool = False,
        high_throughput: bool = False,
        alarm_topic: sns.ITopic | AlarmTopic | None = None,
        create_alarms: bool = True,
        alarm_settings: AlarmSettings | None = None,
        encryption_key: kms.IKey | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        alarms = self._checked_alarms(alarm_topic, create_alarms, alarm_settings, retention_period)
        _stacks.use_each(self, {"encryption_key": encryption_key})
        self.fifo = fifo
        self.encryption_key: kms.IKey | None = encryption_key
        name, dlq_name = self._names(queue_name, fifo)
        fifo_props = fifo_queue_props(fifo, content_based_deduplication, high_throughput)
        self.dead_letter_queue = dead_letter_queue(
            self,
            "DeadLetterQueue",
            queue_name=dlq_name,
            encryption_key=encryption_key,
            removal_policy=removal_policy,
            receive_message_wait_time=receive_message_wait_time,
            redrive_allow_policy=self._redrive_from(name),
            fifo_props=fifo_props,
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=name,
            visibility_timeout=visibility_timeout,
            receive_message_wait_time=receive_message_wait_time,
            retention_period=retention_period,
            enforce_ssl=True,
            removal_policy=removal_policy,
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=max_receive_count, queue=self.dead_letter_queue),
            **sqs_encryption(encryption_key),
            **fifo_props,
        )
        acknowledge_sse_sqs(self.queue, encryption_key)
        self._add_alarms(alarms, max_receive_count)
        self.alarms = alarms.mapping

    def _checked_alarms(
        self,
        alarm_topic: sns.ITopic | AlarmTopic | None,
        create_alarms: bool,
        alarm_settings: AlarmSettings | None,
        retention_period: Duration,
    ) -> Alarms:
        alarms = Alarms.of(self, alarm_topic, create_alarms, alarm_settings)
        if alarms.enabled("oldest_message_age"):
            age = alarms.threshold("oldest_message_age", DEFAULT_OLDEST_MESSAGE_AGE_ALARM)
            overridden = alarms.options("oldest_message_age").threshold is not None
            _check_oldest_message_age(age, retention_period, overridden)  # type: ignore[arg-type]
        return alarms

    def _redrive_from(self, name: str) -> sqs.RedriveAllowPolicy:
        """Only the source queue may redrive to the DLQ, named by an ARN built from its synth-time name:
        its ``Arn`` attribute would make a cycle (queue -> DLQ -> queue)."""
        source_arn = Stack.of(self).format_arn(service="sqs", resource=name, arn_format=ArnFormat.NO_RESOURCE_NAME)
        return sqs.RedriveAllowPolicy(
            redrive_permission=sqs.RedrivePermission.BY_QUEUE,
            source_queues=[sqs.Queue.from_queue_arn(self, "SourceQueueRef", source_arn)],
        )

    def _add_alarms(self, alarms: Alarms, max_receive_count: int) -> None:
        alarms.add(
            "dead_letter_queue",
            metric=self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1), statistic="Maximum"
            ),
            threshold=1,
            description="Messages are waiting in the dead-letter queue: consumers failed them "
            f"{max_receive_count} times. Inspect, fix, then redrive.",
        )
        alarms.add(
            "oldest_message_age",
            metric=self.queue.metric_approximate_age_of_oldest_message(period=Duration.minutes(1), statistic="Maximum"),
            threshold=DEFAULT_OLDEST_MESSAGE_AGE_ALARM,
            unit=Duration.to_seconds,
            description="The oldest message has waited longer than {threshold}: consumers are down or too slow.",
        )

    def _names(self, queue_name: str | None, fifo: bool) -> tuple[str, str]:
        suffix = FIFO_SUFFIX if fifo else ""
        if queue_name is not None and not v.is_token(queue_name):
            base = queue_name.removesuffix(FIFO_SUFFIX)
            return queue_name, f"{base}{DLQ_SUFFIX}{suffix}"
        base = Names.unique_resource_name(
            self, max_length=v.SQS_QUEUE_NAME_MAX - len(DLQ_SUFFIX) - len(FIFO_SUFFIX), separator="-"
        )
        if queue_name is not None:  # a token: use it, derive only the DLQ's name
            return queue_name, f"{base}{DLQ_SUFFIX}{suffix}"
        return f"{base}{suffix}", f"{base}{DLQ_SUFFIX}{suffix}"

    @property
    def queue_arn(self) -> str:
        """The source queue's ARN."""
        return self.queue.queue_arn

    @property
    def queue_url(self) -> str:
        """The source queue's URL."""
        return self.queue.queue_url

    @property
    def queue_name(self) -> str:
        """The source queue's name (a token resolving to the physical name)."""
        return self.queue.queue_name

    @r.guarded(GRANT_RULES)
    def grant_send_messages(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` send to the source queue (and encrypt with ``encryption_key``, if any)."""
        return self.queue.grant_send_messages(grantee)

    @r.guarded(GRANT_RULES)
    def grant_consume_messages(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` receive, delete and change visibility on the source queue (and decrypt
        with ``encryption_key``, if any)."""
        return self.queue.grant_consume_messages(grantee)

    @r.guarded(GRANT_RULES)
    def grant_purge(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` purge the source queue (PurgeQueue reads no message: no key is needed)."""
        return self.queue.grant_purge(grantee)

    @r.guarded(GRANT_ACTIONS_RULES)
    def grant(self, grantee: iam.IGrantable, *actions: str) -> iam.Grant:
        """Let ``grantee`` perform ``actions`` (wildcards allowed) on the source queue, and use
        ``encryption_key`` as those actions need: encrypt and decrypt for a send, decrypt for a receive."""
        grant = self.queue.grant(grantee, *actions)
        key = self.encryption_key
        if key is None:
            return grant
        if _any_matches(actions, _ACTIONS_THAT_ENCRYPT):
            return grant.combine(key.grant_encrypt_decrypt(grantee))
        if _any_matches(actions, _ACTIONS_THAT_DECRYPT):
            return grant.combine(key.grant_decrypt(grantee))
        return grant


def sqs_encryption(encryption_key: kms.IKey | None) -> dict[str, Any]:
    """``sqs.Queue`` props encrypting with ``encryption_key``, or SSE-SQS without one: unlike the
    AWS-managed ``alias/aws/sqs`` key, SSE-SQS lets SNS and EventBridge deliver (aws/aws-cdk#19796)."""
    if encryption_key is None:
        return {"encryption": sqs.QueueEncryption.SQS_MANAGED}
    return {"encryption": sqs.QueueEncryption.KMS, "encryption_master_key": encryption_key}


# checkov's CloudFormation check CKV_AWS_27 looks for KmsMasterKeyId only; SqsManagedSseEnabled is encryption too.
SSE_SQS_REASON = (
    "Encrypted at rest with SSE-SQS (SqsManagedSseEnabled), the library's default without an encryption_key: "
    "checkov's CloudFormation check knows only KmsMasterKeyId, and alias/aws/sqs would stop SNS and EventBridge "
    "from delivering."
)


def acknowledge_sse_sqs(queue: sqs.Queue, encryption_key: kms.IKey | None) -> None:
    """Acknowledge checkov's CKV_AWS_27 on ``queue`` when it is SSE-SQS (no ``encryption_key``): it is encrypted."""
    if encryption_key is None:
        acknowledge_checkov(queue, "CKV_AWS_27", SSE_SQS_REASON)


def dead_letter_queue(
    scope: Construct,
    construct_id: str,
    *,
    queue_name: str,
    encryption_key: kms.IKey | None,
    removal_policy: RemovalPolicy,
    receive_message_wait_time: Duration = DEFAULT_WAIT_TIME,
    redrive_allow_policy: sqs.RedriveAllowPolicy | None = None,
    fifo_props: Mapping[str, Any] | None = None,
) -> sqs.Queue:
    """A queue keeping what failed elsewhere (a ReliableQueue's DLQ, FanOut's undeliverable queue):
    retention at the SQS maximum, so never shorter than its sources'; TLS only; long polling; encrypted
    with ``encryption_key`` (SSE-SQS without one). ``fifo_props``: from :func:`fifo_queue_props`."""
    queue = sqs.Queue(
        scope,
        construct_id,
        queue_name=queue_name,
        retention_period=Duration.seconds(MAX_RETENTION_SECONDS),
        receive_message_wait_time=receive_message_wait_time,
        enforce_ssl=True,
        removal_policy=removal_policy,
        redrive_allow_policy=redrive_allow_policy,
        **sqs_encryption(encryption_key),
        **(fifo_props or {}),
    )
    acknowledge_sse_sqs(queue, encryption_key)
    return queue


def fifo_queue_props(
    fifo: bool, content_based_deduplication: bool = False, high_throughput: bool = False
) -> dict[str, Any]:
    """``sqs.Queue`` props of a FIFO queue (none for a standard one)."""
    if not fifo:
        return {}
    props: dict[str, Any] = {"fifo": True, "content_based_deduplication": content_based_deduplication or None}
    if high_throughput:
        props["deduplication_scope"] = sqs.DeduplicationScope.MESSAGE_GROUP
        props["fifo_throughput_limit"] = sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID
    return props


def _any_matches(patterns: tuple[str, ...], actions: tuple[str, ...]) -> bool:
    """Whether an IAM action pattern (``sqs:*``, ``sqs:Send*``; case-insensitive) covers one of ``actions``."""
    return any(fnmatchcase(action.lower(), pattern.lower()) for pattern in patterns for action in actions)


def _check_oldest_message_age(threshold: Duration, retention_period: Duration, overridden: bool) -> None:
    """The oldest-message alarm must fire before the message expires. The error names the prop the user gave: the
    override, or (with the default threshold) ``retention_period``."""
    prop = "alarm_settings.overrides['oldest_message_age'].threshold"
    v.check_duration(prop, threshold, minimum=1, maximum=MAX_RETENTION_SECONDS, allowed="at least 1 second")
    age = v.duration_seconds(prop, threshold)
    retention = v.duration_seconds("retention_period", retention_period)
    if age is None or retention is None or age < retention:
        return
    if overridden:
        raise ValueError(
            f"{prop} must be shorter than retention_period ({v.seconds_text(retention)}) or the alarm can never "
            f"fire, got {v.seconds_text(age)}"
        )
    raise ValueError(
        f"retention_period must be longer than the oldest_message_age alarm's threshold ({v.seconds_text(age)}, "
        f"the default) or the alarm can never fire, got {r.show(retention_period)}: lengthen it, or lower the "
        f"threshold with alarm_settings.overrides['oldest_message_age']"
    )
