"""SubscribedQueue: a ReliableQueue subscribed to a topic of any account and Region."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import jsii
from aws_cdk import Annotations, ArnFormat, Aspects, IAspect, Names, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from .. import _internals, _stacks
from .. import _rules as r
from .. import _validate as v
from .._cdk import PatternConstruct
from .._security import allow_service_to_use_key
from ..queues import reliable_queue
from ..queues.reliable_queue import FIFO_SUFFIX, ReliableQueue
from . import _cross_account
from .fan_out import _FILTERS, UNDELIVERABLE_SUFFIX, FanOut, _check_no_aws_managed_key, _one_filter_scope

# The subscription's DLQ must be in the subscription's account and Region (SNS developer guide, "Amazon SNS
# dead-letter queues (DLQs)"); CloudFormation creates a stack's resources in the stack's Region only, so a
# subscription made in the topic's Region from a stack of another Region cannot get one from that stack
# (aws-cloudformation/cloudformation-coverage-roadmap#2238).
_DLQ_REASON = (
    "SNS needs a subscription's dead-letter queue in the subscription's account and Region (the topic's "
    "Region), and CloudFormation cannot create one there from a stack of another Region"
)


@dataclass(frozen=True)
class _Topic:
    """The topic a SubscribedQueue subscribes to, as its stack sees it."""

    arn: str
    region: str
    account: str
    fifo: bool
    fan_out: FanOut | None
    same_environment: bool


def _environment_of(scope: object) -> tuple[str, str]:
    stack = Stack.of(scope)  # type: ignore[arg-type]
    return stack.account, stack.region


def _generated_name(fan_out: FanOut) -> bool:
    """Whether the FanOut's topic name is the one it derives from its path (no ``topic_name`` was given)."""
    base = Names.unique_resource_name(
        fan_out,
        max_length=v.SQS_QUEUE_NAME_MAX - len(UNDELIVERABLE_SUFFIX) - len(FIFO_SUFFIX),
        separator="-",
    )
    name = fan_out.topic.node.default_child.topic_name  # type: ignore[union-attr]
    return bool(name == f"{base}{FIFO_SUFFIX if fan_out.fifo else ''}")


def _topic(values: Mapping[str, Any], scope: object) -> _Topic | None:
    """The topic of ``values`` (``topic_arn`` or ``topic``), or None when neither is usable (their rules say why)."""
    account, region = _environment_of(scope)
    arn = values.get("topic_arn")
    if isinstance(arn, str):
        parsed = _cross_account.parse_topic_arn(arn)
        if parsed is None:
            return None
        same = parsed.account == account and parsed.region == region
        return _Topic(arn, parsed.region, parsed.account, parsed.fifo, None, same)
    fan_out = values.get("topic")
    if not isinstance(fan_out, FanOut):
        return None
    topic_stack = Stack.of(fan_out)
    same = topic_stack.account == account and topic_stack.region == region
    return _Topic(
        fan_out.topic.topic_arn if same else fan_out.topic_arn_from_name,
        topic_stack.region,
        topic_stack.account,
        fan_out.fifo,
        fan_out,
        same,
    )


def _one_topic(values: Mapping[str, Any], ctx: r.Context) -> None:
    if (values.get("topic_arn") is None) == (values.get("topic") is None):
        raise ValueError(
            "give exactly one of topic_arn (a topic of any account and Region, by its ARN) and topic (a FanOut "
            f"of this App), got {'both' if values.get('topic') is not None else 'neither'}"
        )


def _fan_out_across_environments(values: Mapping[str, Any], ctx: r.Context) -> None:
    """A FanOut of another environment must be bound to one, and its topic explicitly named."""
    topic = _topic(values, ctx.scope)
    if topic is None or topic.fan_out is None or topic.same_environment:
        return
    if Token.is_unresolved(topic.account) or Token.is_unresolved(topic.region):
        raise ValueError(
            f"topic must be in a stack bound to an account and Region when this stack is in another environment: "
            f"{r.show(topic.fan_out)} is in an env-agnostic stack, so its ARN cannot be known here; pass "
            "env=cdk.Environment(account=..., region=...) to its stack"
        )
    if _generated_name(topic.fan_out):
        raise ValueError(
            f"topic must have an explicit topic_name when it is in another environment: {r.show(topic.fan_out)} "
            f"derives its name ({topic.fan_out.topic.node.default_child.topic_name!r}) from its construct path, "  # type: ignore[union-attr]
            "and the subscription in this environment names the topic by its ARN: moving or renaming the construct "
            "would replace the topic and strand every subscription made from other accounts; give "
            "FanOut(..., topic_name=...)"
        )


def _fifo_matches(values: Mapping[str, Any], ctx: r.Context) -> None:
    topic = _topic(values, ctx.scope)
    props = values.get("queue_props") or {}
    if topic is None or "fifo" not in props or props["fifo"] is topic.fifo:
        return
    kind = "a FIFO" if topic.fifo else "a standard"
    raise ValueError(
        f"queue_props['fifo'] must match the topic ({kind} topic, {'.fifo' if topic.fifo else 'no .fifo'} suffix): "
        "SNS delivers a FIFO topic's messages in order only to FIFO queues and a standard topic cannot deliver to "
        f"a FIFO queue; leave fifo out (it follows the topic), got fifo={props['fifo']!r}"
    )


def _no_aws_managed_queue_key(values: Mapping[str, Any], ctx: r.Context) -> None:
    key = (values.get("queue_props") or {}).get("encryption_key")
    _check_no_aws_managed_key("queue_props['encryption_key']", key, ctx)


def _dlq_in_topic_region(values: Mapping[str, Any], ctx: r.Context) -> None:
    dlq = values.get("dead_letter_queue")
    topic = _topic(values, ctx.scope)
    if dlq is None or topic is None:
        return
    account, region = _environment_of(ctx.scope)
    arn_parts = Stack.of(ctx.scope).split_arn(dlq.queue_arn, ArnFormat.NO_RESOURCE_NAME)  # type: ignore[arg-type]
    dlq_region = arn_parts.region if arn_parts.region is not None else region
    dlq_account = arn_parts.account if arn_parts.account is not None else account
    if Token.is_unresolved(dlq_region):  # a queue of a stack: in that stack's Region
        dlq_region = Stack.of(dlq).region
    if Token.is_unresolved(dlq_account):
        dlq_account = Stack.of(dlq).account
    if Token.is_unresolved(dlq_region) or Token.is_unresolved(topic.region):
        if topic.same_environment:
            return
        raise ValueError(
            f"dead_letter_queue must be in the topic's Region ({topic.region}), and its Region is not known at "
            f"synth time (an env-agnostic stack): {_DLQ_REASON}; bind the stack to the topic's Region or leave "
            f"dead_letter_queue out, got {r.show(dlq)}"
        )
    if dlq_region != topic.region:
        raise ValueError(
            f"dead_letter_queue must be in the topic's Region ({topic.region}): {_DLQ_REASON}; leave it out (the "
            f"queue's own dead-letter queue still keeps what consumers fail) or give a queue of this account made "
            f"in {topic.region}, got {r.show(dlq)} in {dlq_region}"
        )
    if not Token.is_unresolved(dlq_account) and not Token.is_unresolved(account) and dlq_account != account:
        raise ValueError(
            f"dead_letter_queue must be in this stack's account ({account}), the subscription's owner (SNS "
            f"dead-letter queues), got {r.show(dlq)} in account {dlq_account}"
        )


_TOPIC_ARN_TEXT = "an SNS topic ARN such as 'arn:aws:sns:us-east-1:111122223333:orders' (or orders.fifo)"

#: What every SubscribedQueue prop accepts.
RULES = r.Rules(
    {
        "topic_arn": r.Text(
            _TOPIC_ARN_TEXT,
            pattern=_cross_account._SNS_ARN.pattern,
            optional=True,
            tokens="synth",
            why="the subscription's Region, the topic's account and FIFO are read from it",
            source="SNS CreateTopic Name; ARN format",
        ),
        "topic": r.Instance(FanOut, "a FanOut of this App (or None)", optional=True, tokens="synth"),
        **_FILTERS,
        "raw_message_delivery": r.Bool(),
        "dead_letter_queue": r.Interface(
            "an sqs.IQueue in the topic's Region and this stack's account (or None)",
            ("queue_arn", "node"),
            optional=True,
            tokens="synth",
        ),
        "queue_props": r.Props(
            reliable_queue.RULES,
            text="a mapping of ReliableQueue props (fifo follows the topic) or None",
            optional=True,
        ),
    },
    relations=(
        _one_topic,
        _one_filter_scope,
        _fifo_matches,
        _no_aws_managed_queue_key,
        _fan_out_across_environments,
        _dlq_in_topic_region,
    ),
)


class SubscribedQueue(PatternConstruct):
    """A :class:`ReliableQueue` subscribed to an SNS topic of any account and Region.

    The topic is ``topic_arn`` (any topic, by its ARN) or ``topic`` (a :class:`FanOut` of this App, in this
    environment or another). Builds, in this queue's stack:

    * ``queue``: a ReliableQueue (its dead-letter queue and alarms), FIFO when the topic is (``.fifo``), with
      ``queue_props`` (any ReliableQueue prop; ``fifo`` follows the topic).
    * ``subscription``: the ``AWS::SNS::Subscription``, with ``Region`` set to the topic's Region when it is not
      this stack's: CloudFormation then subscribes from this account in the topic's Region, as AWS requires for
      a queue of another account or Region (SNS developer guide, "Sending Amazon SNS messages to an Amazon SQS
      queue in a different account" and "... in a different Region").
    * a queue-policy statement letting the SNS service principal send, for this topic only (``aws:SourceArn``):
      ``sns.amazonaws.com``, or ``sns.<region>.amazonaws.com`` when an opt-in Region is involved
      (https://docs.aws.amazon.com/sns/latest/dg/sns-cross-region-delivery.html).
    * with a customer-managed ``queue_props['encryption_key']``, a key-policy statement letting that principal
      encrypt for this topic only (``aws:SourceArn``, ``aws:SourceAccount`` of the topic's account).

    The topic's account must let this account subscribe: :meth:`FanOut.grant_subscribe` on that side. When
    ``topic`` is a FanOut of another account that grants no subscription to this one, synth warns.

    :param topic_arn: the topic's ARN, known at synth time (its Region and account are read from it).
    :param topic: a FanOut of this App; in another environment it must be in an env-bound stack and have an
        explicit ``topic_name`` (the ARN is built from it).
    :param filter_policy: attribute-scope filter (``sns.SubscriptionFilter`` per attribute).
    :param filter_policy_with_message_body: body-scope filter; not with ``filter_policy``.
    :param raw_message_delivery: deliver the message as published instead of the SNS JSON envelope.
    :param dead_letter_queue: the subscription's dead-letter queue (what SNS cannot deliver), which must be in
        this account and the topic's Region; default none (the queue's own DLQ keeps what consumers fail).
    :param queue_props: ReliableQueue props of the queue; never the AWS-managed ``alias/aws/sqs`` key.
    """

    #: The keys of ``alarms`` (its ReliableQueue's; set them through ``queue_props``).
    ALARM_KEYS: ClassVar[tuple[str, ...]] = ReliableQueue.ALARM_KEYS

    @r.guarded(RULES)
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic_arn: str | None = None,
        topic: FanOut | None = None,
        filter_policy: Mapping[str, sns.SubscriptionFilter] | None = None,
        filter_policy_with_message_body: Mapping[str, sns.FilterOrPolicy] | None = None,
        raw_message_delivery: bool = False,
        dead_letter_queue: sqs.IQueue | None = None,
        queue_props: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        found = _topic({"topic_arn": topic_arn, "topic": topic}, scope)
        assert found is not None  # the rules refused anything else
        self.topic_arn = found.arn
        self.topic_region = found.region
        self.topic_account = found.account
        stack = Stack.of(self)
        self.queue = ReliableQueue(self, "Queue", **{**dict(queue_props or {}), "fifo": found.fifo})
        self.alarms = self.queue.alarms
        principal = _cross_account.sns_principal(found.region, stack.region)
        added = self.queue.queue.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[principal],
                actions=["sqs:SendMessage"],
                resources=[self.queue.queue_arn],
                conditions={"ArnEquals": {"aws:SourceArn": found.arn}},
            )
        )
        key = self.queue.encryption_key
        if key is not None and not allow_service_to_use_key(
            key,
            _cross_account.sns_principal_name(found.region, stack.region),
            source_arn=found.arn,
            source_account=found.account,
        ):
            Annotations.of(self).add_warning_v2(
                "decoupling-constructs:imported-key",
                "queue_props['encryption_key'] is imported: grant the SNS service principal kms:Decrypt and "
                f"kms:GenerateDataKey* in its key policy for {found.arn}, or SNS cannot deliver to the queue.",
            )
        if found.same_environment and found.fan_out is not None:
            topic_construct: sns.ITopic = found.fan_out.topic
        else:
            topic_construct = sns.Topic.from_topic_arn(self, "Topic", found.arn)
        if found.fan_out is not None and not found.same_environment:
            _stacks.record(stack, Stack.of(found.fan_out), "SubscribedQueue subscribes to its topic")
        region = None
        if not Token.is_unresolved(found.region) and (
            Token.is_unresolved(stack.region) or found.region != stack.region
        ):
            region = found.region
        self.subscription = sns.Subscription(
            self,
            "Subscription",
            topic=topic_construct,
            endpoint=self.queue.queue_arn,
            protocol=sns.SubscriptionProtocol.SQS,
            region=region,
            raw_message_delivery=raw_message_delivery or None,
            filter_policy=filter_policy,
            filter_policy_with_message_body=filter_policy_with_message_body,
            dead_letter_queue=dead_letter_queue,
        )
        # Deliveries (and redrives) need the queue policies in place first.
        policies = [added.policy_dependable]
        if dead_letter_queue is not None:
            policies.append(_internals.queue_policy(dead_letter_queue))
        for policy in policies:
            if policy is not None:
                self.subscription.node.add_dependency(policy)
        if found.fan_out is not None and not Token.is_unresolved(found.account):
            Aspects.of(self).add(_GrantCheck(self, found.fan_out, found.account))

    @property
    def queue_arn(self) -> str:
        """The queue's ARN."""
        return self.queue.queue_arn

    @property
    def queue_url(self) -> str:
        """The queue's URL."""
        return self.queue.queue_url

    @property
    def queue_name(self) -> str:
        """The queue's name."""
        return self.queue.queue_name


@jsii.implements(IAspect)
class _GrantCheck:
    """At synth (after every ``grant_subscribe`` call of the App), warn when the FanOut of another account does not
    let this queue's account subscribe over SQS."""

    def __init__(self, owner: SubscribedQueue, fan_out: FanOut, topic_account: str) -> None:
        self.owner, self.fan_out, self.topic_account = owner, fan_out, topic_account

    def visit(self, node: IConstruct) -> None:
        if node is not self.owner:
            return
        account = Stack.of(self.owner).account
        if Token.is_unresolved(account) or account == self.topic_account:
            return
        grants = getattr(self.fan_out, "subscribe_grants", [])
        if any(grant.allows(account, "sqs") for grant in grants):
            return
        if any(grant.organization_ids for grant in grants):
            return  # organization membership is not known at synth
        Annotations.of(self.owner).add_warning_v2(
            "decoupling-constructs:subscribe-not-granted",
            f"the topic {self.fan_out.node.path!r} (account {self.topic_account}) does not let account {account} "
            f"subscribe over SQS: call grant_subscribe([{account!r}]) on it, or the deploy of this stack fails "
            "with AuthorizationError.",
        )
