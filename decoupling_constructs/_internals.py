"""Every reliance of the library on the internals of aws-cdk-lib or cdk-nag, one named function each.

Construct ids that an L2 gives its children, a mapping it adds to the stack, the way cdk-nag names a
finding: none of them is a documented API, so a release may change them without notice. Each function
says what it relies on and the versions it was verified against: aws-cdk-lib 2.258.0 (the floor of
the supported range, requirements-floor.txt, which ``make test-floor`` runs) and 2.275.0 (the pin in
requirements.txt); cdk-nag 3.0.2 (the pin). When a version bump breaks one, the tests that fail name
the function to fix here, and no construct changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Stack

if TYPE_CHECKING:
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_logs as logs
    from aws_cdk import aws_s3 as s3
    from aws_cdk import aws_sqs as sqs
    from constructs import Construct, IConstruct


def queue_policy(queue: sqs.IQueue) -> IConstruct | None:
    """The ``sqs.QueuePolicy`` the L2 queue made for its ``add_to_resource_policy`` statements, or None.

    Relies on: ``QueueBase.addToResourcePolicy`` creates it as the queue's child ``"Policy"``
    (aws-sqs/lib/queue-base.ts; aws-cdk-lib 2.258.0-2.275.0).
    """
    return queue.node.try_find_child("Policy")


def role_default_policy(role: iam.IRole) -> IConstruct | None:
    """The ``iam.Policy`` the L2 role made for its ``add_to_principal_policy`` statements, or None.

    Relies on: ``Role.addToPrincipalPolicy`` creates it as the role's child ``"DefaultPolicy"``
    (aws-iam/lib/role.ts; aws-cdk-lib 2.258.0-2.275.0).
    """
    return role.node.try_find_child("DefaultPolicy")


def firehose_s3_log_stream(log_group: logs.ILogGroup) -> logs.ILogStream:
    """The log stream a ``firehose.S3Bucket`` destination logs its delivery errors to, in ``log_group``.

    Relies on: the destination calls ``logGroup.addStream("S3Destination")`` (aws-kinesisfirehose/lib/
    s3-bucket.ts, private/helpers.ts ``createLoggingOptions``; aws-cdk-lib 2.258.0-2.275.0).
    """
    stream: logs.ILogStream = log_group.node.find_child("S3Destination")  # type: ignore[assignment]
    return stream


# The stack-wide CfnMapping of Firehose's CIDR blocks per region. aws-kinesisfirehose/lib/delivery-stream.ts
# adds it as "@aws-cdk/aws-kinesisfirehose.CidrBlocks"; the construct tree turns "/" into "--" in an id.
_FIREHOSE_CIDR_MAPPING = "@aws-cdk--aws-kinesisfirehose.CidrBlocks"


def has_firehose_cidr_mapping(stack: Stack) -> bool:
    """Whether ``stack`` already holds Firehose's CIDR mapping (another construct needs it): ask before
    adding a ``firehose.DeliveryStream``, and pass the answer to :func:`remove_firehose_cidr_mapping`.
    Relies on the mapping's id (above; aws-cdk-lib 2.258.0-2.275.0)."""
    return stack.node.try_find_child(_FIREHOSE_CIDR_MAPPING) is not None


def remove_firehose_cidr_mapping(stack: Stack, *, existed_before: bool) -> None:
    """Remove the CIDR mapping a ``firehose.DeliveryStream`` just added to ``stack``, unless it was there before.

    The L2 adds the mapping for every delivery stream, though only Redshift and HTTP-endpoint destinations
    read it; unused, cfn-lint and the CDK's template validation warn about it (W7001). Relies on its id
    (above) and on it being a direct child of the stack (aws-cdk-lib 2.258.0-2.275.0).
    """
    if not existed_before:
        stack.node.try_remove_child(_FIREHOSE_CIDR_MAPPING)


def nag_arn_token(scope: Construct, bucket: s3.IBucket) -> str | None:
    """How cdk-nag writes the bucket's ARN in a finding of ``scope``'s stack: ``<LogicalId.Arn>`` for a
    bucket of the same stack, the export's name for a bucket of another stack of the app (its ARN reaches
    this stack through Fn::ImportValue); None for an imported bucket (its findings are the owner's).

    Relies on: cdk-nag's ``flattenCfnReference`` (lib/utils/flatten-cfn-reference.ts; cdk-nag 3.0.2) writing
    ``Fn::GetAtt`` as ``<Resource.Attribute>`` and ``Fn::ImportValue`` as the export's name.
    """
    from aws_cdk import aws_s3 as s3

    element = bucket.node.default_child
    if not isinstance(element, s3.CfnBucket):
        return None
    owner = Stack.of(element)
    if owner is Stack.of(scope):
        return f"<{owner.resolve(owner.get_logical_id(element))}.Arn>"
    # export_value without a name makes (once) the export that the automatic cross-stack reference uses.
    imported = Stack.of(scope).resolve(owner.export_value(bucket.bucket_arn))
    return str(imported["Fn::ImportValue"])


def nag_function_arn_token(scope: Construct, function: object) -> str | None:
    """How cdk-nag writes a Lambda function's ARN in a finding of ``scope``'s stack (as :func:`nag_arn_token`
    for a bucket): ``<LogicalId.Arn>`` in the same stack, the export's name from another; None for an imported
    function. Relies on the same cdk-nag ``flattenCfnReference`` (cdk-nag 3.0.2) and on ``lambda_.Function``'s
    ``node.default_child`` being its ``CfnFunction`` (aws-cdk-lib 2.258.0 and 2.275.0)."""
    from aws_cdk import aws_lambda as lambda_

    element = getattr(function, "node", None) and function.node.default_child  # type: ignore[attr-defined]
    if not isinstance(element, lambda_.CfnFunction):
        return None
    owner = Stack.of(element)
    if owner is Stack.of(scope):
        return f"<{owner.resolve(owner.get_logical_id(element))}.Arn>"
    imported = Stack.of(scope).resolve(owner.export_value(function.function_arn))  # type: ignore[attr-defined]
    return str(imported["Fn::ImportValue"])


def nag_resource_finding_id(rule: str, resource: str) -> str:
    """The id cdk-nag gives a finding of ``rule`` about one resource of a policy statement, e.g.
    ``AwsSolutions-IAM5[Resource::<Bucket.Arn>/data/*]``: what an acknowledgment must name to cover exactly
    that resource. Relies on cdk-nag's ``<rule>[<finding>]`` ids and the IAM rules' ``Resource::`` findings
    (lib/nag-pack.ts, lib/rules/iam; cdk-nag 3.0.2)."""
    return f"{rule}[Resource::{resource}]"


def nag_flat(scope: Construct, value: str) -> str:
    """``value`` (a string that may hold tokens) as cdk-nag writes it in a finding of ``scope``'s stack: ``Ref X``
    as ``<X>``, ``Fn::GetAtt [X, A]`` as ``<X.A>``, ``Fn::ImportValue N`` as ``N``, ``Fn::Join`` joined. Relies on
    cdk-nag's ``flattenCfnReference`` (lib/utils/flatten-cfn-reference.ts; cdk-nag 3.0.2)."""

    def flat(resolved: object) -> str:
        if isinstance(resolved, str):
            return resolved
        if isinstance(resolved, dict) and len(resolved) == 1:
            ((function, argument),) = resolved.items()
            if function == "Ref":
                return f"<{argument}>"
            if function == "Fn::GetAtt":
                return f"<{'.'.join(argument)}>"
            if function == "Fn::ImportValue":
                return flat(argument)
            if function == "Fn::Join":
                separator, parts = argument
                return str(separator).join(flat(p) for p in parts)
        return str(resolved)

    return flat(Stack.of(scope).resolve(value))
