"""Rules of the props several constructs share, declared once (see ``_rules.py`` for the engine).

A construct's table takes them by name: ``"removal_policy": REMOVAL_POLICY``; the three alarm props are
``_alarms.ALARM_PROPS``, added with ``|``.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy

from . import _rules as r

#: The resource types CloudFormation can snapshot before deleting them (the DeletionPolicy attribute's Snapshot
#: option, CloudFormation template reference; aws-cdk-lib's CfnDeletionPolicy.SNAPSHOT). No other type has a
#: snapshot: SQS, SNS, Kinesis, Firehose, S3, Amazon MQ, Secrets Manager, KMS, CloudWatch Logs...
SNAPSHOT_RESOURCE_TYPES = frozenset(
    {
        "AWS::DocDB::DBCluster",
        "AWS::EC2::Volume",
        "AWS::ElastiCache::CacheCluster",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::Neptune::DBCluster",
        "AWS::RDS::DBCluster",
        "AWS::RDS::DBInstance",
        "AWS::Redshift::Cluster",
    }
)


def removal_policy(*resource_types: str) -> r.Rule:
    """The rule of a ``removal_policy`` applied to ``resource_types`` (default: resources CloudFormation cannot
    snapshot): an ``aws_cdk.RemovalPolicy``, and SNAPSHOT only when one of them can be snapshotted; otherwise
    CloudFormation has no snapshot to take and the user would believe their data is kept."""
    snapshot = any(kind in SNAPSHOT_RESOURCE_TYPES for kind in resource_types)
    allowed = [p for p in RemovalPolicy if snapshot or p is not RemovalPolicy.SNAPSHOT]
    names = [p.name for p in allowed]
    choice = ", ".join(names[:-1]) + " or " + names[-1]
    text = f"an aws_cdk.RemovalPolicy ({choice})"
    what = ", ".join(resource_types) if resource_types else "its resources"

    def no_snapshot(prop: str, value: object, ctx: r.Context) -> None:
        if value is RemovalPolicy.SNAPSHOT and not snapshot:
            raise ValueError(
                f"{prop} must be {choice}: it applies to {what}, which "
                "CloudFormation cannot snapshot (its Snapshot deletion policy covers only "
                f"{', '.join(sorted(t.split('::', 1)[1] for t in SNAPSHOT_RESOURCE_TYPES))}); RETAIN keeps the "
                "data, got RemovalPolicy.SNAPSHOT"
            )

    source = "CloudFormation DeletionPolicy attribute"
    return r.AllOf(
        rules=(
            r.Instance(RemovalPolicy, text, tokens="synth", source=source),
            r.Custom(no_snapshot, "not SNAPSHOT" if not snapshot else "any", tokens="synth", source=source),
        ),
        tokens="synth",
    )


#: A ``removal_policy`` of resources without snapshots (every construct of this library).
REMOVAL_POLICY = removal_policy()
#: A customer-managed KMS key (the members the constructs use: its ARN and its key policy).
ENCRYPTION_KEY = r.Interface("a kms.IKey", ("key_arn", "add_to_resource_policy"), optional=True, tokens="synth")
#: ``scope`` and ``construct_id`` of a method that creates a child (``add_queue``...).
CHILD_ID = r.Text("a non-empty construct id without '/'", pattern=r"[^/]+", tokens="synth", why="it names a construct")
#: Who a ``grant_*`` method grants to.
GRANTEE = r.Interface("an iam.IGrantable (a role, a user, a function...)", ("grant_principal",), tokens="synth")
#: IAM actions given to a ``grant(grantee, *actions)`` method: ``service:Action``, wildcards allowed.
IAM_ACTIONS = r.ListOf(
    r.Text("an IAM action such as 'sqs:SendMessage' (wildcards allowed)", pattern=r"[A-Za-z0-9-]+:[A-Za-z0-9*?]+"),
    min_length=1,
    text="one or more IAM actions",
)
GRANT_RULES = r.Rules({"grantee": GRANTEE})
GRANT_ACTIONS_RULES = r.Rules({"grantee": GRANTEE, "actions": IAM_ACTIONS})
