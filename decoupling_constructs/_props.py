"""Rules of the props several constructs share, declared once (see ``_rules.py`` for the engine).

A construct's table takes them by name: ``"removal_policy": REMOVAL_POLICY``; the three alarm props are
``_alarms.ALARM_PROPS``, added with ``|``.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy

from . import _rules as r

REMOVAL_POLICY = r.Instance(RemovalPolicy, "an aws_cdk.RemovalPolicy (RETAIN, SNAPSHOT or DESTROY)", tokens="synth")
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
