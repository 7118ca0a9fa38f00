"""FanOut: one SNS topic delivering to many SQS queues, with filters and no lost messages."""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Acknowledgment, Annotations, ArnFormat, Duration, Names, RemovalPolicy, Stack, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import _internals
from . import _validate as v
from ._alarms import add_alarm, resolve_alarm_topic
from ._cdk import PatternConstruct
from ._security import allow_service_publisher, allow_service_to_use_key, managed_key
from ._validate import PropTypeError
from .queue import DEFAULT_WAIT_TIME, FIFO_SUFFIX, MAX_RETENTION_SECONDS, ReliableQueue

# SNS limits (Amazon SNS developer guide, "Filter policy constraints"):
FILTER_POLICY_MAX_KEYS = 5
FILTER_POLICY_MAX_COMBINATIONS = 150  # product of the number of values of every key
FILTER_POLICY_MAX_BYTES = 256 * 1024
UNDELIVERABLE_SUFFIX = "-undeliverable"
AWS_MANAGED_SNS_KEY = "alias/aws/sns"


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
    * ``alarms``: ``NumberOfNotificationsFailed`` >= 1 on the topic and any
      message visible in ``undeliverable_queue``, plus each subscriber
      ReliableQueue's own alarms (in ``subscribers[id].alarms``).
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
    :param alarm_topic: where every alarm (also the subscribers') notifies; default none.
    :param removal_policy: topic, undeliverable queue and queues made here; default RETAIN.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        fifo: bool = False,
        topic_name: str | None = None,
        content_based_deduplication: bool = False,
        encryption_key: kms.IKey | None = None,
        service_publishers: Sequence[str] = (),
        alarm_topic: sns.ITopic | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        with v.validating(self):
            v.check_bool("fifo", fifo)
            v.check_bool("content_based_deduplication", content_based_deduplication)
            v.check_requires(
                "content_based_deduplication", content_based_deduplication, requires="fifo=True", condition=fifo
            )
            v.check_topic_name("topic_name", topic_name, fifo=fifo)
            v.check_interface("encryption_key", encryption_key, "a kms.IKey", "key_arn", "add_to_resource_policy")
            service_publishers = v.check_sequence("service_publishers", service_publishers, _check_service_principal)
            alarm_topic = resolve_alarm_topic(alarm_topic)
            v.check_removal_policy(removal_policy)

        self.fifo = fifo
        self.content_based_deduplication = content_based_deduplication
        self.alarm_topic = alarm_topic
        self.removal_policy = removal_policy
        if encryption_key is None and service_publishers:
            encryption_key = managed_key(self, "Key", "Encrypts the fan-out topic; AWS services may publish with it")
        self.encryption_key: kms.IKey | None = encryption_key

        suffix = FIFO_SUFFIX if fifo else ""
        base = Names.unique_resource_name(
            self, max_length=v.SQS_QUEUE_NAME_MAX - len(UNDELIVERABLE_SUFFIX) - len(FIFO_SUFFIX), separator="-"
        )
        name = topic_name if topic_name is not None else f"{base}{suffix}"
        # The topic's ARN from its name: key policies can name it without referencing the topic.
        self.topic_arn_from_name = Stack.of(self).format_arn(
            service="sns", resource=name, arn_format=ArnFormat.NO_RESOURCE_NAME
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            topic_name=name,
            fifo=fifo or None,
            content_based_deduplication=content_based_deduplication or None,
            master_key=encryption_key or kms.Alias.from_alias_name(self, "AwsManagedKey", AWS_MANAGED_SNS_KEY),
            enforce_ssl=True,
        )
        self.topic.apply_removal_policy(removal_policy)

        queue_encryption: dict[str, Any] = (
            {"encryption": sqs.QueueEncryption.KMS, "encryption_master_key": encryption_key}
            if encryption_key is not None
            else {"encryption": sqs.QueueEncryption.SQS_MANAGED}
        )
        self.undeliverable_queue = sqs.Queue(
            self,
            "UndeliverableQueue",
            queue_name=f"{base}{UNDELIVERABLE_SUFFIX}{suffix}",
            fifo=fifo or None,
            retention_period=Duration.seconds(MAX_RETENTION_SECONDS),
            receive_message_wait_time=DEFAULT_WAIT_TIME,
            enforce_ssl=True,
            removal_policy=removal_policy,
            **queue_encryption,
        )
        # cdk-nag recognizes DLQs only through SQS redrive policies, not SNS subscription redrive policies.
        Validations.of(self.undeliverable_queue).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SQS3",
                reason="This queue IS a dead-letter queue: the SNS subscription redrive target of every "
                "subscription of the topic, which cdk-nag does not recognize as a DLQ.",
            )
        )
        if encryption_key is not None:
            self._allow_sns_to_use(encryption_key, "encryption_key")

        self.subscribers: dict[str, ReliableQueue] = {}
        self.subscriptions: dict[str, sns.Subscription] = {}
        self.alarms: list[cloudwatch.Alarm] = [
            add_alarm(
                self,
                "NotificationsFailedAlarm",
                metric=self.topic.metric_number_of_notifications_failed(period=Duration.minutes(1), statistic="Sum"),
                threshold=1,
                description="SNS failed to deliver notifications; undelivered ones are kept in the "
                "undeliverable queue. Check the subscriber queues' policies and keys.",
                alarm_topic=alarm_topic,
            ),
            add_alarm(
                self,
                "UndeliverableQueueAlarm",
                metric=self.undeliverable_queue.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic="Maximum"
                ),
                threshold=1,
                description="Messages SNS could not deliver to a subscriber are waiting in the undeliverable queue.",
                alarm_topic=alarm_topic,
            ),
        ]
        for principal in service_publishers:
            self.allow_service_publisher(principal)

    def add_queue(
        self,
        construct_id: str,
        *,
        filter_policy: Mapping[str, sns.SubscriptionFilter] | None = None,
        filter_policy_with_message_body: Mapping[str, sns.FilterOrPolicy] | None = None,
        raw_message_delivery: bool = False,
        **queue_options: Any,
    ) -> ReliableQueue:
        """Create a ReliableQueue (its own DLQ, long polling, alarms) and subscribe it.

        ``queue_options`` are ReliableQueue's props; ``fifo`` follows the topic,
        ``content_based_deduplication``, ``alarm_topic`` and ``removal_policy``
        default to the FanOut's.

        :param filter_policy: attribute-scope filter (``sns.SubscriptionFilter`` per attribute).
        :param filter_policy_with_message_body: body-scope filter (``sns.FilterOrPolicy``); not with ``filter_policy``.
        :param raw_message_delivery: deliver the message as published instead of the SNS JSON envelope.
        """
        with v.validating(self, "add_queue"):
            self._check_new_id(construct_id)
            _check_filters(construct_id, filter_policy, filter_policy_with_message_body)
            v.check_bool("raw_message_delivery", raw_message_delivery)
            unknown = sorted(set(queue_options) - _RELIABLE_QUEUE_PROPS)
            if unknown:
                raise PropTypeError(
                    f"add_queue({construct_id!r}) got unknown option(s) {', '.join(unknown)}; allowed: filter_policy, "
                    f"filter_policy_with_message_body, raw_message_delivery, {', '.join(sorted(_RELIABLE_QUEUE_PROPS))}"
                )
            if "fifo" in queue_options and queue_options["fifo"] != self.fifo:
                raise ValueError(
                    f"fifo={queue_options['fifo']!r} in add_queue({construct_id!r}) contradicts the FanOut "
                    f"(fifo={self.fifo}): queues made by add_queue follow the topic; use add_existing_queue "
                    "to subscribe a standard queue to a FIFO topic"
                )
        options = {
            "content_based_deduplication": self.content_based_deduplication,
            "alarm_topic": self.alarm_topic,
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

    def add_existing_queue(
        self,
        queue: sqs.IQueue,
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
        live beside the queue, so only the queue's stack depends on the topic's
        (both ways would be a cycle).

        :param construct_id: the key in ``subscriptions`` and the subscription's
            scope id; default the queue's path in its stack without separators
            (``"Own"``; ``"JobsQueue"`` for ``ReliableQueue(stack, "Jobs").queue``).
        """
        with v.validating(self, "add_existing_queue"):
            v.check_interface(
                "queue",
                queue,
                "an sqs.IQueue",
                "queue_arn",
                "queue_url",
                "add_to_resource_policy",
                "node",
                optional=False,
            )
            if construct_id is None:  # the queue's path in its stack: "Own", "Jobs/Queue" -> "JobsQueue"
                below_stack = queue.node.scopes[len(Stack.of(queue).node.scopes) :]
                construct_id = "".join(scope.node.id for scope in below_stack)
            self._check_new_id(construct_id)
            _check_filters(construct_id, filter_policy, filter_policy_with_message_body)
            v.check_bool("raw_message_delivery", raw_message_delivery)
            if queue.fifo and not self.fifo:
                raise ValueError(
                    f"add_existing_queue({construct_id!r}): a FIFO queue cannot subscribe to a standard topic; "
                    "create the FanOut with fifo=True"
                )
        if Stack.of(queue) is Stack.of(self):
            holder = Construct(self, construct_id)
        else:
            holder = Construct(queue, f"{Names.node_unique_id(self.node)}{construct_id}")  # type: ignore[arg-type]
        return self._subscribe(
            holder, construct_id, queue, filter_policy, filter_policy_with_message_body, raw_message_delivery
        )

    def grant_publish(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` publish to the topic (and use its customer-managed key, if any)."""
        return self.topic.grant_publish(grantee)

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
        with v.validating(self, "allow_service_publisher"):
            _check_service_principal("service_principal", service_principal)
            if source_arn is not None and not isinstance(source_arn, str):
                raise PropTypeError(f"source_arn must be an ARN string, got {source_arn!r}")
            if self.encryption_key is None:
                raise ValueError(
                    f"allow_service_publisher({service_principal!r}) needs a customer-managed key: the topic uses "
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

    def _check_new_id(self, construct_id: str) -> None:
        if not isinstance(construct_id, str) or not construct_id:
            raise PropTypeError(f"construct_id must be a non-empty string, got {construct_id!r}")
        if construct_id in self.subscriptions or self.node.try_find_child(construct_id) is not None:
            raise ValueError(f"a subscriber with id {construct_id!r} already exists in this FanOut")

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
                conditions={"ArnEquals": {"aws:SourceArn": self.topic.topic_arn}},
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


def _check_service_principal(prop: str, value: object) -> None:
    if not isinstance(value, str) or not value.endswith(".amazonaws.com") or v.is_token(value):
        raise ValueError(f"{prop} must be an AWS service principal such as 's3.amazonaws.com', got {value!r}")


def _check_filters(
    construct_id: str,
    filter_policy: Mapping[str, sns.SubscriptionFilter] | None,
    filter_policy_with_message_body: Mapping[str, sns.FilterOrPolicy] | None,
) -> None:
    if filter_policy is not None and filter_policy_with_message_body is not None:
        raise ValueError(
            "give only one of filter_policy (message attributes) and filter_policy_with_message_body "
            "(message body): a subscription filters on one scope"
        )
    if filter_policy is not None:
        _check_policy_shape("filter_policy", filter_policy, body=False)
        _check_filter_limits(construct_id, "filter_policy", {k: f.conditions for k, f in filter_policy.items()})
    if filter_policy_with_message_body is not None:
        _check_policy_shape("filter_policy_with_message_body", filter_policy_with_message_body, body=True)
        _check_filter_limits(
            construct_id, "filter_policy_with_message_body", _body_policy(filter_policy_with_message_body)
        )


def _check_policy_shape(prop: str, policy: object, *, body: bool) -> None:
    """A mapping of attribute (or body key) to ``sns.SubscriptionFilter`` (body scope: ``sns.FilterOrPolicy``),
    not empty: SNS refuses an empty policy, and None already means "every message"."""
    allowed = (
        "a dict of key -> sns.FilterOrPolicy.filter(...) or sns.FilterOrPolicy.policy({...})"
        if body
        else "a dict of message attribute -> sns.SubscriptionFilter"
    )
    if not isinstance(policy, Mapping):
        raise PropTypeError(f"{prop} must be {allowed}, got {policy!r}")
    if not policy:
        raise ValueError(f"{prop} must not be empty (give None to receive every message), got {{}}")
    for key, item in policy.items():
        if not isinstance(key, str) or not key:
            raise PropTypeError(f"{prop} keys must be non-empty strings, got {key!r}")
        if body:
            if isinstance(item, sns.SubscriptionFilter):
                raise PropTypeError(
                    f"{prop}[{key!r}] is an sns.SubscriptionFilter; wrap it: sns.FilterOrPolicy.filter(...)"
                )
            if not (hasattr(item, "filter_doc") or hasattr(item, "policy_doc")):
                raise PropTypeError(f"{prop}[{key!r}] must be an sns.FilterOrPolicy, got {item!r}")
            if hasattr(item, "policy_doc"):
                _check_policy_shape(f"{prop}[{key!r}]", item.policy_doc, body=True)
        elif not isinstance(item, sns.SubscriptionFilter):
            raise PropTypeError(f"{prop}[{key!r}] must be an sns.SubscriptionFilter, got {item!r}")


# ReliableQueue's props, which add_queue passes on.
_RELIABLE_QUEUE_PROPS = frozenset(inspect.signature(ReliableQueue.__init__).parameters) - {
    "self",
    "scope",
    "construct_id",
}
_LOWER_BOUNDS = {">", ">="}
_UPPER_BOUNDS = {"<", "<="}


def _matches_every_number(values: list[Any]) -> bool:
    """True when a key's conditions OR a lower bound with an upper bound that overlap: e.g. what
    ``numeric_filter(greater_than_or_equal_to=100, less_than=1000)`` renders, ``[>=100] or [<1000]``."""
    lows, highs = [], []
    for value in values:
        numeric = value.get("numeric") if isinstance(value, dict) else None
        if isinstance(numeric, list) and len(numeric) == 2 and not v.is_token(numeric):
            operator, bound = numeric
            if operator in _LOWER_BOUNDS:
                lows.append((bound, operator))
            elif operator in _UPPER_BOUNDS:
                highs.append((bound, operator))
    return any(
        low < high or (low == high and (low_op == ">=" or high_op == "<="))
        for low, low_op in lows
        for high, high_op in highs
    )


def _matches_no_number(value: Any) -> bool:
    """True for a range condition whose start is above its stop, e.g. what
    ``numeric_filter(between=BetweenCondition(start=10, stop=1))`` renders: ``[">=", 10, "<=", 1]``."""
    numeric = value.get("numeric") if isinstance(value, dict) else None
    if not isinstance(numeric, list) or len(numeric) != 4 or v.is_token(numeric):
        return False
    low_op, low, high_op, high = numeric
    if low_op not in _LOWER_BOUNDS or high_op not in _UPPER_BOUNDS:
        return False
    if not all(isinstance(n, (int, float)) for n in (low, high)):
        return False
    return bool(low > high or (low == high and (low_op == ">" or high_op == "<")))


def _body_policy(policy: Mapping[str, sns.FilterOrPolicy]) -> dict[str, Any]:
    """The JSON document of a body-scope filter policy, rendered from aws-cdk-lib's objects."""
    return {
        key: item.filter_doc.conditions if item.is_filter() else _body_policy(item.policy_doc)  # type: ignore[attr-defined]
        for key, item in policy.items()
    }


def _leaf_arrays(policy: Any, path: str = "") -> list[tuple[str, list[Any]]]:
    """(key path, values) of every leaf of a filter policy; ``$or`` branches are all counted."""
    if isinstance(policy, list):
        return [(path, policy)]
    leaves: list[tuple[str, list[Any]]] = []
    for key, value in policy.items():
        if key == "$or":
            for branch in value:
                leaves += _leaf_arrays(branch, path)
        else:
            leaves += _leaf_arrays(value, f"{path}.{key}" if path else key)
    return leaves


def _check_filter_limits(construct_id: str, prop: str, policy: dict[str, Any]) -> None:
    if v.is_token(policy):
        return
    leaves = _leaf_arrays(policy)
    for path, values in leaves:
        if not values:
            raise ValueError(
                f"{prop} of {construct_id!r}: the conditions on {path!r} are empty and would match no message "
                "(an empty allowlist?); give at least one value, or remove the key"
            )
        empty_range = next((value for value in values if _matches_no_number(value)), None)
        if empty_range is not None:
            raise ValueError(
                f"{prop} of {construct_id!r}: the numeric range on {path!r} matches no number (start above "
                f"stop), got {json.dumps(empty_range, default=str)}"
            )
        if _matches_every_number(values):
            raise ValueError(
                f"{prop} of {construct_id!r}: the conditions on {path!r} match every number (SNS ORs the "
                f"conditions of a key), got {json.dumps(values, default=str)}; for a range put both bounds in "
                "one condition: SubscriptionFilter([{'numeric': ['>=', low, '<', high]}]) or "
                "numeric_filter(between=...)"
            )
    keys = sorted({path for path, _ in leaves})
    if len(keys) > FILTER_POLICY_MAX_KEYS:
        raise ValueError(
            f"{prop} of {construct_id!r} must have at most {FILTER_POLICY_MAX_KEYS} keys, "
            f"got {len(keys)}: {', '.join(keys)}"
        )
    combinations = math.prod(len(values) for _, values in leaves)
    if combinations > FILTER_POLICY_MAX_COMBINATIONS:
        raise ValueError(
            f"{prop} of {construct_id!r} must have at most {FILTER_POLICY_MAX_COMBINATIONS} combinations of "
            f"values (the product of the number of values of every key), got {combinations}"
        )
    size = len(json.dumps(policy, default=str).encode())
    if size > FILTER_POLICY_MAX_BYTES:
        raise ValueError(f"{prop} of {construct_id!r} must be at most 256 KB, got {size} bytes")
