"""FanOut's subscribers outside AWS: HTTP/S endpoints, email addresses and phone numbers (SMS).

The rules of their arguments (:data:`HTTP_DELIVERY_POLICY_RULES`, the URL, address and number checks) and what
:meth:`FanOut.add_https_endpoint`, :meth:`FanOut.add_email` and :meth:`FanOut.add_sms` build beyond the
subscription: the topic's signature version, HTTP/S delivery-status logging, the redrive to a dead-letter queue
and the alarms. ``fan_out`` below is the :class:`~decoupling_constructs.topics.fan_out.FanOut` (not imported:
fan_out.py imports this module).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aws_cdk import Annotations, Duration, Names, RemovalPolicy, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from .. import _rules as r
from .. import _validate as v
from .. import limits
from .._security import LOGS_SERVICE_ENCRYPTION_REASON, acknowledge_checkov, allow_logs_to_use_key

DELIVERY_RETRIES_PAGE = "https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html"
DLQ_PAGE = "https://docs.aws.amazon.com/sns/latest/dg/sns-dead-letter-queues.html"
# Where CloudWatch metric filters of this library publish (one metric name per FanOut).
METRIC_NAMESPACE = "DecouplingConstructs/SNS"


# --------------------------------------------------------------------------------------------- values


@dataclass(frozen=True, kw_only=True)
class HttpDeliveryPolicy:
    """How SNS retries an HTTP/S endpoint, and how fast it delivers (a subscription's ``DeliveryPolicy``).

    SNS retries in four phases after the first attempt fails (SNS developer guide, "Amazon SNS message
    delivery retries", |retries|): ``num_no_delay_retries`` at once, ``num_min_delay_retries`` ``min_delay``
    apart, then the backoff phase, ``num_retries`` minus the three other phases' retries, from ``min_delay``
    to ``max_delay`` along ``backoff``, then ``num_max_delay_retries`` ``max_delay`` apart. The defaults are
    SNS's own: 3 retries, 20 seconds apart.

    "The total policy retry time for an HTTP/S endpoint cannot be greater than 3,600 seconds" (hard limit).
    SNS does not publish its exact timing (it adds jitter), so the library bounds the total from above, every
    backoff delay counted at ``max_delay``::

        total = num_min_delay_retries x min_delay
              + (num_retries - num_no_delay_retries - num_min_delay_retries - num_max_delay_retries) x max_delay
              + num_max_delay_retries x max_delay

    and refuses a policy whose total exceeds 3,600 s at synth. (AWS's own sample policy, 50 retries from 1 to
    60 s, exponential, 3/2/35 retries in the other phases, totals 2,702 s.)

    .. |retries| replace:: https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html

    :param num_retries: retries in all phases, 0-100.
    :param min_delay: 1-3,600 s, whole seconds, at most ``max_delay``.
    :param max_delay: 1-3,600 s, whole seconds.
    :param backoff: ``sns.BackoffFunction`` of the backoff phase; default LINEAR.
    :param max_receives_per_second: the throttle: at most this many deliveries a second to this
        subscription (1 or more); default none (SNS's own pace).
    :param content_type: the ``Content-Type`` header SNS sends: ``text/plain`` (SNS's default),
        ``application/json`` or ``application/xml``; default SNS's.
    """

    num_retries: int = 3
    min_delay: Duration = field(default_factory=lambda: Duration.seconds(20))
    max_delay: Duration = field(default_factory=lambda: Duration.seconds(20))
    backoff: sns.BackoffFunction = sns.BackoffFunction.LINEAR
    num_no_delay_retries: int = 0
    num_min_delay_retries: int = 0
    num_max_delay_retries: int = 0
    max_receives_per_second: int | None = None
    content_type: str | None = None

    @property
    def backoff_retries(self) -> int:
        """The retries of the backoff phase: ``num_retries`` less the three other phases'."""
        return self.num_retries - self.num_no_delay_retries - self.num_min_delay_retries - self.num_max_delay_retries

    def total_retry_seconds(self) -> int:
        """The upper bound of the time SNS spends retrying (the formula in the class docstring)."""
        low, high = int(self.min_delay.to_seconds()), int(self.max_delay.to_seconds())
        return self.num_min_delay_retries * low + (self.backoff_retries + self.num_max_delay_retries) * high

    def render(self) -> sns.DeliveryPolicy:
        """aws-cdk-lib's ``sns.DeliveryPolicy`` of this policy."""
        return sns.DeliveryPolicy(
            healthy_retry_policy=sns.HealthyRetryPolicy(
                num_retries=self.num_retries,
                min_delay_target=self.min_delay,
                max_delay_target=self.max_delay,
                backoff_function=self.backoff,
                num_no_delay_retries=self.num_no_delay_retries,
                num_min_delay_retries=self.num_min_delay_retries,
                num_max_delay_retries=self.num_max_delay_retries,
            ),
            throttle_policy=(
                sns.ThrottlePolicy(max_receives_per_second=self.max_receives_per_second)
                if self.max_receives_per_second is not None
                else None
            ),
            request_policy=(
                sns.RequestPolicy(header_content_type=self.content_type) if self.content_type is not None else None
            ),
        )


_RETRIES_SOURCE = f"SNS HTTP/S delivery policy ({DELIVERY_RETRIES_PAGE})"
_SYNTH_WHY = "the total retry time is checked against SNS's 3,600 s cap"
_PHASE = r.Int(0, limits.SNS_HTTP_MAX_RETRIES, source=_RETRIES_SOURCE, tokens="synth", why=_SYNTH_WHY)
_DELAY = r.Seconds(1, limits.SNS_HTTP_MAX_DELAY_SECONDS, source=_RETRIES_SOURCE, tokens="synth", why=_SYNTH_WHY)
#: The fields of an :class:`HttpDeliveryPolicy`.
HTTP_DELIVERY_POLICY_RULES = r.Rules(
    {
        "num_retries": _PHASE,
        "min_delay": _DELAY,
        "max_delay": _DELAY,
        "backoff": r.Instance(sns.BackoffFunction, "an sns.BackoffFunction"),
        "num_no_delay_retries": _PHASE,
        "num_min_delay_retries": _PHASE,
        "num_max_delay_retries": _PHASE,
        "max_receives_per_second": r.Int(1, 2**31 - 1, optional=True, source=_RETRIES_SOURCE),
        "content_type": r.OneOf(("text/plain", "application/json", "application/xml"), optional=True),
    }
)


def check_delivery_policy_totals(prop: str, value: Any, ctx: r.Context) -> None:
    """Across an :class:`HttpDeliveryPolicy`'s fields (each checked by its own rule first): min_delay <=
    max_delay, the phases' retries within ``num_retries``, the total retry time within 3,600 s."""
    policy: HttpDeliveryPolicy = value
    low, high = policy.min_delay.to_seconds(), policy.max_delay.to_seconds()
    if low > high:
        raise ValueError(
            f"{prop}.min_delay must be at most max_delay ({v.seconds_text(high)}), got {r.show(policy.min_delay)}"
        )
    if policy.backoff_retries < 0:
        raise ValueError(
            f"{prop}.num_retries must be at least num_no_delay_retries + num_min_delay_retries + "
            f"num_max_delay_retries ({policy.num_retries - policy.backoff_retries}): it counts the retries of "
            f"every phase, got {policy.num_retries}"
        )
    total = policy.total_retry_seconds()
    if total > limits.SNS_HTTP_MAX_TOTAL_RETRY_SECONDS:
        raise ValueError(
            f"{prop} must retry for at most {limits.SNS_HTTP_MAX_TOTAL_RETRY_SECONDS} s in all (SNS's hard limit, "
            f"{DELIVERY_RETRIES_PAGE}): num_min_delay_retries x min_delay + (num_retries - num_no_delay_retries - "
            f"num_min_delay_retries) x max_delay = {policy.num_min_delay_retries} x {int(low)} s + "
            f"{policy.backoff_retries + policy.num_max_delay_retries} x {int(high)} s = {total} s; lower num_retries "
            f"or the delays, got {r.show(policy)}"
        )


def _check_retention(prop: str, value: object, ctx: r.Context) -> None:
    if not isinstance(value, logs.RetentionDays):
        raise v.PropTypeError(f"{prop} must be a logs.RetentionDays, got {r.show(value)}")
    if value is logs.RetentionDays.INFINITE:
        raise ValueError(
            f"{prop} must be a bounded retention (the delivery logs name every endpoint and grow without end), "
            f"got {r.show(value)}"
        )


@dataclass(frozen=True, kw_only=True)
class DeliveryStatusLogging:
    """SNS's HTTP/S delivery-status logs of a FanOut (the topic's ``DeliveryStatusLogging``, protocol http/s):
    every failed delivery, and ``success_sample_rate`` percent of the successful ones, written by SNS with a role
    of its own into two log groups the FanOut owns, ``sns/<region>/<account>/<topic>`` and
    ``sns/<region>/<account>/<topic>/Failure``, kept ``retention``.

    :param success_sample_rate: percent of successful deliveries logged, 0-100; default 10.
    :param retention: a ``logs.RetentionDays`` but INFINITE; default ONE_MONTH.
    """

    success_sample_rate: int = 10
    retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH


#: The fields of a :class:`DeliveryStatusLogging`.
DELIVERY_STATUS_LOGGING_RULES = r.Rules(
    {
        "success_sample_rate": r.Int(0, 100, source="SNS Topic LoggingConfig SuccessFeedbackSampleRate"),
        "retention": r.Custom(_check_retention, "a logs.RetentionDays but INFINITE"),
    }
)


# --------------------------------------------------------------------------------------------- endpoints


def check_url(prop: str, value: object, ctx: r.Context) -> None:
    """An ``https://`` URL with a host (``http://`` only when the call says ``allow_http=True``)."""
    if not isinstance(value, str):
        raise v.PropTypeError(f"{prop} must be an https:// URL, got {r.show(value)}")
    parts = urlsplit(value)
    allow_http = ctx.props.get("allow_http") is True
    if parts.scheme == "http" and not allow_http:
        raise ValueError(
            f"{prop} must be an https:// URL: SNS would POST every message (and its subscription confirmation) "
            "in clear text; pass allow_http=True to accept that (a local test endpoint), "
            f"got {value!r}"
        )
    if parts.scheme not in ("https", "http") or not parts.hostname or any(c.isspace() for c in value):
        wanted = "an http:// or https:// URL" if allow_http else "an https:// URL"
        raise ValueError(f"{prop} must be {wanted} with a host and no spaces, got {r.show(value)}")


def check_email(prop: str, value: object, ctx: r.Context) -> None:
    r.Text(
        "an email address such as 'ops@example.com'",
        pattern=r"[^@\s\"(),:;<>\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+",
        max_length=254,  # RFC 5321 path limit
    ).check(prop, value, ctx)


#: An E.164 phone number.
PHONE_NUMBER = r.Text(
    "an E.164 phone number: '+', the country code, the number, at most 15 digits, no spaces (e.g. '+12065550100')",
    pattern=rf"\+[1-9][0-9]{{1,{limits.E164_MAX_DIGITS - 1}}}",
    source="ITU-T E.164; SNS developer guide, Mobile text messaging (SMS)",
)


def check_same_environment(prop: str, value: object, ctx: r.Context) -> None:
    """A subscription's dead-letter queue in the subscription's account and Region (the FanOut's stack): "The
    Amazon SNS subscription and Amazon SQS queue must be under the same AWS account and Region" (SNS developer
    guide, "Amazon SNS dead-letter queues"). Compared where both are known at synth time."""
    queue: Any = getattr(value, "queue", value)  # a ReliableQueue stands for its queue
    scope = ctx.scope
    if scope is None or not hasattr(queue, "env"):
        return
    ours = Stack.of(scope)  # type: ignore[arg-type]
    for what, theirs, mine in (("account", queue.env.account, ours.account), ("Region", queue.env.region, ours.region)):
        if Token.is_unresolved(theirs) or Token.is_unresolved(mine):
            continue
        if theirs != mine:
            raise ValueError(
                f"{prop} must be in the subscription's {what} ({mine}, the FanOut's stack): SNS redrives only to a "
                f"queue of the subscription's account and Region ({DLQ_PAGE}), got {r.show(value)} in {theirs}"
            )


# --------------------------------------------------------------------------------------------- building


def subscribe(
    fan_out: Any,
    construct_id: str,
    *,
    endpoint: str,
    protocol: sns.SubscriptionProtocol,
    dead_letter_queue: sqs.IQueue,
    filter_policy: Any = None,
    filter_policy_with_message_body: Any = None,
    raw_message_delivery: bool = False,
    delivery_policy: HttpDeliveryPolicy | None = None,
) -> sns.Subscription:
    """A subscription in the FanOut redriving to ``dead_letter_queue``. The redrive policy and the queue-policy
    statement are written here, not by aws-cdk-lib: its statement names the topic by token, so a queue of another
    stack would make that stack depend on the topic's while the subscription depends on the queue's (a cycle);
    here the queue's policy names the topic by the ARN built from its name where needed."""
    queue_stack = Stack.of(dead_letter_queue)
    added = dead_letter_queue.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal("sns.amazonaws.com")],
            actions=["sqs:SendMessage"],
            resources=[dead_letter_queue.queue_arn],
            conditions={"ArnEquals": {"aws:SourceArn": fan_out._topic_arn_seen_from(queue_stack)}},
        )
    )
    if not added.statement_added:
        Annotations.of(fan_out).add_warning_v2(
            "decoupling-constructs:imported-queue",
            f"the dead-letter queue of {construct_id!r} is imported: its policy must allow sqs:SendMessage from "
            f"{fan_out.topic_arn_from_name}, or SNS drops what it cannot deliver.",
        )
    if dead_letter_queue.encryption_master_key is not None:
        fan_out._allow_sns_to_use(dead_letter_queue.encryption_master_key, f"the dead-letter queue of {construct_id!r}")
    holder = fan_out.node.try_find_child(construct_id) or _new_holder(fan_out, construct_id)
    subscription = sns.Subscription(
        holder,
        "Subscription",
        topic=fan_out.topic,
        endpoint=endpoint,
        protocol=protocol,
        raw_message_delivery=raw_message_delivery or None,
        filter_policy=filter_policy,
        filter_policy_with_message_body=filter_policy_with_message_body,
        delivery_policy=delivery_policy.render() if delivery_policy is not None else None,
    )
    resource: Any = subscription.node.default_child
    resource.redrive_policy = {"deadLetterTargetArn": dead_letter_queue.queue_arn}
    if added.policy_dependable is not None:
        subscription.node.add_dependency(added.policy_dependable)
    fan_out.subscriptions[construct_id] = subscription
    return subscription


def _new_holder(fan_out: Any, construct_id: str) -> Any:
    from constructs import Construct

    return Construct(fan_out, construct_id)


def use_signature_version_2(fan_out: Any) -> None:
    """SNS signs what it POSTs to HTTP/S endpoints with SHA256withRSA (SignatureVersion 2) rather than SHA1."""
    topic: Any = fan_out.topic.node.default_child
    topic.signature_version = "2"


def log_http_delivery_status(fan_out: Any, settings: DeliveryStatusLogging | None) -> None:
    """The topic's HTTP/S delivery-status logging (once per FanOut; later calls must ask for the same settings),
    and the ``http_notifications_failed`` alarm on the failures it logs."""
    existing: DeliveryStatusLogging | None = getattr(fan_out, "delivery_status_logging", None)
    if existing is not None:
        if settings is not None and settings != existing:
            raise ValueError(
                "delivery_status_logging must be the one the FanOut's first HTTP/S subscriber set (the topic has one "
                f"HTTP/S logging configuration), {existing!r}, got {settings!r}"
            )
        return
    settings = settings or DeliveryStatusLogging()
    fan_out.delivery_status_logging = settings
    stack = Stack.of(fan_out)
    base = f"sns/{stack.region}/{stack.account}/{fan_out.topic.topic_name}"
    removal: RemovalPolicy = fan_out.removal_policy
    groups = []
    for construct_id, name in (("DeliveryStatusLogs", base), ("DeliveryFailureLogs", f"{base}/Failure")):
        group = logs.LogGroup(
            fan_out,
            construct_id,
            log_group_name=name,
            retention=settings.retention,
            encryption_key=fan_out.encryption_key,
            removal_policy=removal,
        )
        if fan_out.encryption_key is None:
            acknowledge_checkov(group, "CKV_AWS_158", LOGS_SERVICE_ENCRYPTION_REASON)
        groups.append(group)
    if fan_out.encryption_key is not None:
        allow_logs_to_use_key(fan_out.encryption_key, stack)
    role = iam.Role(
        fan_out,
        "DeliveryStatusRole",
        assumed_by=iam.ServicePrincipal("sns.amazonaws.com"),
        description="SNS: write the topic's HTTP/S delivery-status logs",
    )
    for group in groups:
        group.grant(role, "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
    fan_out.topic.add_logging_config(
        protocol=sns.LoggingProtocol.HTTP,
        success_feedback_role=role,
        failure_feedback_role=role,
        success_feedback_sample_rate=settings.success_sample_rate,
    )
    fan_out.delivery_status_role = role
    fan_out.delivery_failure_log_group = groups[1]
    # NumberOfNotificationsFailed has no protocol dimension (TopicName only): HTTP/S failures are counted from
    # the failure log, where SNS writes one entry per failed delivery attempt with status FAILURE.
    metric_filter = logs.MetricFilter(
        fan_out,
        "HttpFailuresMetricFilter",
        log_group=groups[1],
        filter_pattern=logs.FilterPattern.string_value("$.status", "=", "FAILURE"),
        metric_namespace=METRIC_NAMESPACE,
        metric_name="HttpNotificationsFailed-" + Names.unique_resource_name(fan_out, max_length=200, separator="-"),
        metric_value="1",
    )
    fan_out._push_alarms.add(
        "http_notifications_failed",
        metric=metric_filter.metric(period=Duration.minutes(1), statistic="Sum"),
        threshold=1,
        description="SNS failed to deliver to an HTTP/S subscriber (the topic's delivery-status failure log); "
        "after its retries, the message is kept in the subscription's dead-letter queue.",
    )


def _account_sms_metric(name: str, statistic: str) -> cloudwatch.Metric:
    """An account-wide SMS metric of SNS. aws-cdk-lib's ``topic.metric_sms_*`` add a TopicName dimension, which
    SNS does not publish these with (its metric specification gives SMSMonthToDateSpentUSD no dimension): such an
    alarm would never see data."""
    return cloudwatch.Metric(namespace="AWS/SNS", metric_name=name, statistic=statistic, period=Duration.hours(1))


def add_sms_alarms(fan_out: Any, spend_alarm_usd: float) -> None:
    """The account's month-to-date SMS spend and the SMS success rate, once per FanOut."""
    existing = getattr(fan_out, "sms_spend_alarm_usd", None)
    if existing is not None:
        if existing != spend_alarm_usd:
            raise ValueError(
                f"spend_alarm_usd must be the one the FanOut's first SMS subscriber set ({existing}): the spend is "
                f"the account's, one alarm watches it, got {spend_alarm_usd}"
            )
        return
    fan_out.sms_spend_alarm_usd = spend_alarm_usd
    alarms = fan_out._push_alarms
    alarms.add(
        "sms_month_to_date_spent",
        metric=_account_sms_metric("SMSMonthToDateSpentUSD", "Maximum"),
        threshold=spend_alarm_usd,
        description="The account's SMS spend this month reached {threshold} USD; SNS stops sending SMS at the "
        "account's spend limit (1 USD in the SMS sandbox).",
    )
    alarms.add(
        "sms_success_rate",
        metric=_account_sms_metric("SMSSuccessRate", "Average"),
        threshold=0.9,
        comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        kind="ratio",
        description="Fewer than {threshold} of the SMS messages SNS sent were delivered (carrier failures, "
        "opted-out or unverified numbers in the sandbox).",
    )


#: The id of the warning :meth:`FanOut.add_email` adds on its subscription (acknowledge it there, with a reason).
PENDING_CONFIRMATION_WARNING = "decoupling-constructs:pending-confirmation"


def warn_pending_confirmation(subscription: sns.Subscription, construct_id: str, address: object) -> None:
    Annotations.of(subscription).add_warning_v2(
        PENDING_CONFIRMATION_WARNING,
        f"email subscriber {construct_id!r} ({address if not Token.is_unresolved(address) else 'a token'}) stays "
        "pending until someone follows the link SNS mails it (valid for 2 days); until then it receives nothing.",
    )
