"""Completing what moto's CloudFormation skips or stores wrongly, with public boto3 calls made from the
template's own properties: :data:`COMPLETED_TYPES` (created after ``create_stack``), :data:`CREATED_FIXUPS`
(fixed after it), and the deleters that undo a failed completion.

Labelled completions (:data:`LABELLED_COMPLETIONS`) redo, for one emulator, what its CloudFormation made in a way
that can never work, the way CloudFormation does it on AWS: a test applies one by name, and :func:`~.verify.verify`
reports it by name (``Deployment.completions``).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._intrinsics import resolve
from .lookup import Deployment, Json, _client, using_access_key


@dataclass
class _Completion:
    logical_id: str
    properties: dict[str, Json]
    stack_name: str
    region: str
    account: str
    endpoint_url: str | None

    def client(self, service: str) -> Any:
        return _client(service, self.region, self.endpoint_url)


def _json(value: Json) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _queue_policy(c: _Completion) -> str:
    sqs = c.client("sqs")
    for url in c.properties["Queues"]:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": _json(c.properties["PolicyDocument"])})
    return f"{c.stack_name}-{c.logical_id}"


def _topic_policy(c: _Completion) -> str:
    sns = c.client("sns")
    for arn in c.properties["Topics"]:
        sns.set_topic_attributes(
            TopicArn=arn, AttributeName="Policy", AttributeValue=_json(c.properties["PolicyDocument"])
        )
    return f"{c.stack_name}-{c.logical_id}"


def _bucket_policy(c: _Completion) -> str:
    c.client("s3").put_bucket_policy(Bucket=c.properties["Bucket"], Policy=_json(c.properties["PolicyDocument"]))
    return f"{c.stack_name}-{c.logical_id}"


_SUBSCRIPTION_ATTRIBUTES = (
    "RawMessageDelivery",
    "FilterPolicy",
    "FilterPolicyScope",
    "RedrivePolicy",
    "DeliveryPolicy",
    "SubscriptionRoleArn",
)


def _subscription(c: _Completion) -> str:
    props = c.properties
    attributes = {}
    for name in _SUBSCRIPTION_ATTRIBUTES:
        if name in props:
            value = props[name]
            attributes[name] = str(value).lower() if isinstance(value, bool) else _json(value)
    response = c.client("sns").subscribe(
        TopicArn=props["TopicArn"],
        Protocol=props["Protocol"],
        Endpoint=props["Endpoint"],
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )
    return str(response["SubscriptionArn"])


_ALARM_KEYS = (
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "Metrics",
    "ThresholdMetricId",
)


def _alarm(c: _Completion) -> str:
    name = c.properties.get("AlarmName") or f"{c.stack_name}-{c.logical_id}"
    c.client("cloudwatch").put_metric_alarm(
        AlarmName=name, **{k: c.properties[k] for k in _ALARM_KEYS if k in c.properties}
    )
    return str(name)


def _delivery_stream(c: _Completion) -> str:
    """Created as the template says; moto never consumes a Kinesis source (nothing reaches S3 that way)."""
    props = dict(c.properties)
    name = props.pop("DeliveryStreamName", None) or f"{c.stack_name}-{c.logical_id}"[:64]
    props.pop("Tags", None)
    c.client("firehose").create_delivery_stream(DeliveryStreamName=name, **props)
    return str(name)


def _log_stream(c: _Completion) -> str:
    name = c.properties.get("LogStreamName") or f"{c.stack_name}-{c.logical_id}"
    c.client("logs").create_log_stream(logGroupName=c.properties["LogGroupName"], logStreamName=name)
    return str(name)


def _metric_filter(c: _Completion) -> str:
    """A log group's metric filter, as the template says (the API's keys are the template's, camelCased)."""
    props = c.properties
    name = props.get("FilterName") or f"{c.stack_name}-{c.logical_id}"
    transformations = [
        {key[:1].lower() + key[1:]: value for key, value in transformation.items()}
        for transformation in props["MetricTransformations"]
    ]
    c.client("logs").put_metric_filter(
        logGroupName=props["LogGroupName"],
        filterName=name,
        filterPattern=props["FilterPattern"],
        metricTransformations=transformations,
    )
    return str(name)


_SECRET_REFERENCE = re.compile(r"\{\{resolve:secretsmanager:(.+?):SecretString:([^:}]*)(?::[^:}]*)?(?::[^:}]*)?\}\}")


def _resolve_secret_references(value: Json, c: _Completion) -> Json:
    """Replace ``{{resolve:secretsmanager:...}}`` dynamic references with the secret's value, as CloudFormation
    does when it passes a property to a service."""
    if isinstance(value, list):
        return [_resolve_secret_references(item, c) for item in value]
    if isinstance(value, dict):
        return {key: _resolve_secret_references(item, c) for key, item in value.items()}
    if not isinstance(value, str) or "{{resolve:secretsmanager:" not in value:
        return value
    secrets = c.client("secretsmanager")

    def replace(match: re.Match[str]) -> str:
        secret = secrets.get_secret_value(SecretId=match.group(1))["SecretString"]
        return str(json.loads(secret)[match.group(2)]) if match.group(2) else str(secret)

    return _SECRET_REFERENCE.sub(replace, value)


def _secret(c: _Completion) -> str:
    props = c.properties
    name = props.get("Name") or f"{c.stack_name}-{c.logical_id}"
    secret_string = props.get("SecretString")
    if secret_string is None:
        generate = dict(props.get("GenerateSecretString", {}))
        key, template = generate.pop("GenerateStringKey", None), generate.pop("SecretStringTemplate", None)
        options = {k: v for k, v in generate.items() if k in _PASSWORD_OPTIONS}
        password = c.client("secretsmanager").get_random_password(**options)["RandomPassword"]
        secret_string = json.dumps({**json.loads(template), key: password}) if key and template else password
    created = c.client("secretsmanager").create_secret(
        Name=name,
        SecretString=secret_string,
        **{k: props[k] for k in ("Description", "KmsKeyId") if k in props},
    )
    return str(created["ARN"])


_PASSWORD_OPTIONS = (
    "PasswordLength",
    "ExcludeCharacters",
    "ExcludeNumbers",
    "ExcludePunctuation",
    "ExcludeUppercase",
    "ExcludeLowercase",
    "IncludeSpace",
    "RequireEachIncludedType",
)


def _broker(c: _Completion) -> str:
    """Created as the template says (control plane only: moto runs no broker); secret references resolved."""
    props = _resolve_secret_references(dict(c.properties), c)
    tags = props.pop("Tags", None)
    if tags:
        props["Tags"] = {tag["Key"]: tag["Value"] for tag in tags}
    return str(c.client("mq").create_broker(**props)["BrokerId"])


# Types moto's CloudFormation skips that the helper completes with public API calls.
COMPLETED_TYPES: dict[str, Callable[[_Completion], str]] = {
    "AWS::SQS::QueuePolicy": _queue_policy,
    "AWS::SNS::TopicPolicy": _topic_policy,
    "AWS::S3::BucketPolicy": _bucket_policy,
    "AWS::SNS::Subscription": _subscription,
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::KinesisFirehose::DeliveryStream": _delivery_stream,
    "AWS::Logs::LogStream": _log_stream,
    "AWS::Logs::MetricFilter": _metric_filter,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::AmazonMQ::Broker": _broker,
}


def _fix_key_policy(c: _Completion, key_id: str) -> None:
    """moto stores a template's KeyPolicy as a dict and describe_key then fails; store it as JSON."""
    if "KeyPolicy" in c.properties:
        c.client("kms").put_key_policy(KeyId=key_id, PolicyName="default", Policy=_json(c.properties["KeyPolicy"]))


def _fix_iam_policy(c: _Completion, _physical_id: str) -> None:
    """moto created the policy before the helper completed what it names (a skipped resource's Ref is None
    in moto): put it again, resolved, on each of its roles, users and groups."""
    iam = c.client("iam")
    name, document = c.properties["PolicyName"], _json(c.properties["PolicyDocument"])
    for role in c.properties.get("Roles", []):
        iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=document)
    for user in c.properties.get("Users", []):
        iam.put_user_policy(UserName=user, PolicyName=name, PolicyDocument=document)
    for group in c.properties.get("Groups", []):
        iam.put_group_policy(GroupName=group, PolicyName=name, PolicyDocument=document)


# Types moto creates with a property lost or stored wrongly, and the fix applied after create_stack.
CREATED_FIXUPS: dict[str, Callable[[_Completion, str], None]] = {
    "AWS::KMS::Key": _fix_key_policy,
    "AWS::IAM::Policy": _fix_iam_policy,
}


def _undo(completed: Mapping[str, str], types: Mapping[str, str], region: str, endpoint_url: str | None) -> None:
    """Delete what the helper completed (newest first), so that a failed deploy leaves nothing behind."""
    for logical_id, physical_id in reversed(list(completed.items())):
        if types[logical_id] in _DELETERS:
            service, delete = _DELETERS[types[logical_id]]
            with contextlib.suppress(Exception):
                delete(_client(service, region, endpoint_url), physical_id)


# Completed types whose leftovers would make the next attempt fail (policies and log streams are overwritten).
_DELETERS: dict[str, tuple[str, Callable[[Any, str], Any]]] = {
    "AWS::SNS::Subscription": ("sns", lambda sns, arn: sns.unsubscribe(SubscriptionArn=arn)),
    "AWS::CloudWatch::Alarm": ("cloudwatch", lambda cw, name: cw.delete_alarms(AlarmNames=[name])),
    "AWS::KinesisFirehose::DeliveryStream": (
        "firehose",
        lambda firehose, name: firehose.delete_delivery_stream(DeliveryStreamName=name),
    ),
    "AWS::SecretsManager::Secret": (
        "secretsmanager",
        lambda secrets, arn: secrets.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True),
    ),
    "AWS::AmazonMQ::Broker": ("mq", lambda mq, broker_id: mq.delete_broker(BrokerId=broker_id)),
}


# --- labelled completions ------------------------------------------------------------------------------------

HTTP_SUBSCRIPTION_BY_API = "sns-http-subscription-by-api"
#: Name -> what the completion does and why. Each is applied by a test, never silently.
LABELLED_COMPLETIONS: dict[str, str] = {
    HTTP_SUBSCRIPTION_BY_API: "MiniStack's CloudFormation creates an http/https AWS::SNS::Subscription without a "
    "confirmation token and sends no SubscriptionConfirmation, so it can never be confirmed and nothing is "
    "delivered (MiniStack 1.5.33, services/cloudformation/provisioners.py _sns_sub_create). The completion "
    "unsubscribes it and subscribes the same endpoint through the SNS API with the template's attributes "
    "(TopicArn, Protocol, Endpoint, RawMessageDelivery, FilterPolicy, FilterPolicyScope, RedrivePolicy, "
    "DeliveryPolicy), as CloudFormation does on AWS; SNS then POSTs a real SubscriptionConfirmation.",
}


#: What :func:`complete_http_subscriptions` says of each subscription it remakes (``Deployment.completions``).
HTTP_SUBSCRIPTION_LABEL = (
    "completion: unsubscribed MiniStack's CloudFormation subscription (no confirmation token, never confirmable) "
    "and subscribed the endpoint through the SNS API with the template's attributes, as CloudFormation does on AWS"
)


def complete_http_subscriptions(deployment: Deployment) -> dict[str, str]:
    """Apply :data:`HTTP_SUBSCRIPTION_BY_API` to every http/https ``AWS::SNS::Subscription`` of ``deployment``
    (a stack ``cdk deploy`` put into MiniStack): logical id -> the new subscription's ARN (or ``"pending
    confirmation"`` when SNS does not say it yet). Recorded in ``deployment.completed``, ``.resources`` and
    ``.completions``. Only for MiniStack: on AWS, CloudFormation's subscription is the real one."""
    if not deployment.emulator.startswith("ministack"):
        raise ValueError(
            f"{HTTP_SUBSCRIPTION_BY_API} completes MiniStack's CloudFormation, not {deployment.emulator}'s"
        )
    assert deployment._context is not None
    sns = deployment.client("sns")
    done: dict[str, str] = {}
    for logical_id, resource in deployment.template.get("Resources", {}).items():
        if resource["Type"] != "AWS::SNS::Subscription":
            continue
        properties = resolve(resource.get("Properties", {}), deployment._context)
        if properties.get("Protocol") not in ("http", "https"):
            continue
        sns.unsubscribe(SubscriptionArn=deployment.resources[logical_id])
        completion = _Completion(
            logical_id,
            properties,
            deployment.stack_name,
            deployment.region,
            deployment.account,
            deployment.endpoint_url,
        )
        arn = _subscription(completion)
        if arn == "pending confirmation":  # what SNS answers for an unconfirmed http/https endpoint
            arn = _subscription_arn(sns, properties["TopicArn"], properties["Protocol"], properties["Endpoint"], arn)
        deployment.resources[logical_id] = deployment.completed[logical_id] = done[logical_id] = arn
        deployment.completions[logical_id] = f"{HTTP_SUBSCRIPTION_BY_API}: {HTTP_SUBSCRIPTION_LABEL}"
    return done


def _subscription_arn(sns: Any, topic_arn: str, protocol: str, endpoint: str, default: str) -> str:
    pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
    for page in pages:
        for entry in page["Subscriptions"]:
            if (
                entry["Protocol"] == protocol
                and entry["Endpoint"] == endpoint
                and entry["SubscriptionArn"].count(":") > 5
            ):
                return str(entry["SubscriptionArn"])
    return default


#: What :func:`complete_cross_environment_subscriptions` says of each subscription it makes.
CROSS_ENVIRONMENT_SUBSCRIPTION_LABEL = (
    "completion: subscribed with the stack account's credentials in the topic's Region {region}, with the "
    "template's attributes, as CloudFormation does on AWS; MiniStack's CloudFormation reported it created but "
    "made no subscription (a topic of another account or Region)"
)


def complete_cross_environment_subscriptions(
    deployment: Deployment, *, only: Sequence[str] | None = None
) -> dict[str, str]:
    """A LABELLED completion for MiniStack: make each ``AWS::SNS::Subscription`` of ``deployment`` whose topic is
    in another account or Region the way CloudFormation makes it on AWS: ``Subscribe`` called with the stack
    account's credentials (``deployment.access_key``), in the topic's Region (the template's ``Region``, else the
    topic ARN's), with the template's attributes (raw delivery, filter policy and scope, redrive policy...).

    MiniStack 1.5.33's CloudFormation looks such a topic up in the stack's own account and Region, does not find
    it, returns a made-up ARN and subscribes nothing (``CREATE_COMPLETE``, nothing delivered: STREAMING_NOTES 5.4).
    The call is the real SNS API of the emulator, so its policies apply: with ``ministack(auth=True)`` a topic
    whose policy does not grant the account refuses it (``AuthorizationError``, raised here).

    ``only``: these logical ids (default every such subscription). Each one made is recorded in
    ``deployment.resources`` (the real ARN), ``deployment.completed`` and ``deployment.completions`` (the label
    :func:`~decoupling_constructs.testing.verify` reports). Returns logical id -> subscription ARN.
    """
    assert deployment._context is not None
    made: dict[str, str] = {}
    for logical_id, resource in deployment.template.get("Resources", {}).items():
        if resource["Type"] != "AWS::SNS::Subscription" or (only is not None and logical_id not in only):
            continue
        properties = resolve(resource.get("Properties", {}), deployment._context)
        topic_arn = str(properties["TopicArn"])
        topic_region, topic_account = topic_arn.split(":")[3], topic_arn.split(":")[4]
        region = str(properties.get("Region") or topic_region)
        if region == deployment.region and topic_account == deployment.account:
            continue  # MiniStack's CloudFormation makes these itself
        with using_access_key(deployment.access_key):
            arn = _subscription(
                _Completion(
                    logical_id, properties, deployment.stack_name, region, deployment.account, deployment.endpoint_url
                )
            )
        made[logical_id] = deployment.resources[logical_id] = deployment.completed[logical_id] = arn
        deployment.completions[logical_id] = CROSS_ENVIRONMENT_SUBSCRIPTION_LABEL.format(region=region)
    return made
