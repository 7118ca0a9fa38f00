"""Security policies shared by every construct."""

from __future__ import annotations

from aws_cdk import ArnFormat, CfnResource, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct, IConstruct

# The KMS actions a service needs to encrypt messages it writes to an encrypted
# SNS topic or SQS queue (SNS developer guide, "Configuring AWS KMS permissions").
KMS_PRODUCER_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")


# Reasons shared by the acknowledgments of several constructs (cdk-nag's and checkov's alike).
SELF_LOGGING_REASON = (
    "This is the server-access-log bucket of the data bucket; logging its own accesses into itself would log "
    "every log delivery, without end."
)
LOGS_SERVICE_ENCRYPTION_REASON = (
    "CloudWatch Logs encrypts every log group at rest (server-side, its own keys); the library uses a "
    "customer-managed key for its log groups when one is given as encryption_key, and none was given here."
)

# checkov reads a CloudFormation resource's suppressions from Metadata.checkov.skip, a list of {id, comment}.
CHECKOV_METADATA_KEY = "checkov"


def acknowledge_checkov(construct: IConstruct, check_id: str, reason: str) -> None:
    """checkov's counterpart of ``Validations.of(x).acknowledge``: skip ``check_id`` (e.g. ``CKV_AWS_27``) on
    ``construct``'s CloudFormation resource only, with ``reason`` as the comment checkov reports.

    ``construct`` is an L1 resource or an L2 whose default child is one; an imported resource has none and
    is not in this template, so nothing is added. Acknowledging a check twice keeps the last reason.
    """
    resource = construct if isinstance(construct, CfnResource) else construct.node.default_child
    if not isinstance(resource, CfnResource):
        return
    current = dict(resource.get_metadata(CHECKOV_METADATA_KEY) or {})
    skips = [skip for skip in current.get("skip", []) if skip.get("id") != check_id]
    resource.add_metadata(CHECKOV_METADATA_KEY, {**current, "skip": [*skips, {"id": check_id, "comment": reason}]})


def managed_key(scope: Construct, construct_id: str, description: str) -> kms.Key:
    """A customer-managed KMS key with yearly automatic rotation (cdk-nag KMS5).

    Keys are always retained: destroying one makes everything it encrypted unreadable.
    """
    return kms.Key(
        scope,
        construct_id,
        description=description,
        enable_key_rotation=True,
        removal_policy=RemovalPolicy.RETAIN,
    )


# Services whose requests to KMS carry no aws:SourceAccount / aws:SourceArn keys: a key-policy
# grant conditioned on them would never match (SNS developer guide, "Enable compatibility between
# event sources from AWS services and encrypted topics": EventBridge).
NO_SOURCE_CONTEXT_IN_KMS = frozenset({"events.amazonaws.com"})


def _service_conditions(
    scope: IConstruct, source_arn: str | None, source_account: str | None = None
) -> dict[str, dict[str, str]]:
    account = source_account if source_account is not None else Stack.of(scope).account
    conditions: dict[str, dict[str, str]] = {"StringEquals": {"aws:SourceAccount": account}}
    if source_arn is not None:
        conditions["ArnLike"] = {"aws:SourceArn": source_arn}
    return conditions


def allow_service_to_use_key(
    key: kms.IKey,
    service_principal: str,
    *,
    source_arn: str | None = None,
    source_account: str | None = None,
) -> bool:
    """Let an AWS service encrypt with ``key``, only on behalf of this account (or ``source_account``: the
    account of the resource the service acts for, a topic of another account).

    The statement is scoped with ``aws:SourceAccount`` (and ``aws:SourceArn``
    when given) so the service cannot use the key for another account's
    resources (the confused-deputy guidance in the IAM user guide), except for
    the services in ``NO_SOURCE_CONTEXT_IN_KMS``. Returns False when the key is
    imported: its policy cannot be changed here.
    """
    conditions = (
        None if service_principal in NO_SOURCE_CONTEXT_IN_KMS else _service_conditions(key, source_arn, source_account)
    )
    result = key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal(service_principal)],
            actions=list(KMS_PRODUCER_ACTIONS),
            resources=["*"],  # in a key policy "*" means "this key"
            conditions=conditions,
        )
    )
    return bool(result.statement_added)


def allow_service_publisher(
    topic: sns.ITopic,
    service_principal: str,
    *,
    encryption_key: kms.IKey | None,
    source_arn: str | None = None,
) -> bool:
    """Let an AWS service (e.g. ``cloudwatch.amazonaws.com``) publish to ``topic``.

    Adds a topic-policy statement scoped by ``aws:SourceAccount`` (and
    ``aws:SourceArn``), and the matching key-policy grant when the topic is
    encrypted with a customer-managed key: without it the service's messages are
    dropped silently. For EventBridge, whose KMS requests carry no
    ``aws:Source*`` keys, the key grant is unconditioned (see
    ``NO_SOURCE_CONTEXT_IN_KMS``). Returns False when
    a policy could not be changed (an imported topic or key).
    """
    result = topic.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal(service_principal)],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions=_service_conditions(topic, source_arn),
        )
    )
    added = bool(result.statement_added)
    if encryption_key is not None:
        added = allow_service_to_use_key(encryption_key, service_principal, source_arn=source_arn) and added
    return added


def allow_logs_to_use_key(key: kms.IKey, stack: Stack) -> None:
    """A KMS-encrypted log group needs its key to let CloudWatch Logs of the region use it, for log groups
    of this account and region only (CloudWatch Logs user guide, "Encrypt log data in CloudWatch Logs using
    AWS Key Management Service": principal logs.<region>.amazonaws.com, condition on the encryption context
    kms:EncryptionContext:aws:logs:arn). A key of this app gets the statement; an imported key's policy is
    its owner's to extend the same way. The condition names no log group: the group's ARN would make a
    cycle (the group names the key, the key's policy would name the group)."""
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="LetCloudWatchLogsEncryptThisAccountsLogGroups",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                }
            },
        )
    )
