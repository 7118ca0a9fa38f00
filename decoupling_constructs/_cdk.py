"""What every construct sets up in aws-cdk-lib: pinned feature flags and the checked base class.

(What the constructs rely on in the internals of aws-cdk-lib and cdk-nag is in ``_internals.py``.)

Verified against aws-cdk-lib 2.258.0 to 2.275.0 (the supported range's floor and the pinned version).
"""

from __future__ import annotations

from constructs import Construct

# Feature flags that change what a construct synthesizes. Each construct pins them for its own
# subtree (construct context is read by every child, and the app's value applies everywhere else),
# so its template is the same in a bare ``cdk.App()``, an App with cdk.json's recommended flags, or
# an older cdk.json.
PINNED_FEATURE_FLAGS: dict[str, bool] = {
    # Server access logs are granted by a bucket policy for logging.s3.amazonaws.com (what AWS
    # recommends) instead of the LogDeliveryWrite ACL, which needs ObjectWriter ownership and fails
    # synthesis next to BucketOwnerEnforced: "objectOwnership must be set to ObjectWriter".
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
}
# Not pinned: "@aws-cdk/aws-iam:minimizePolicies" is read at the stack, not the construct. It only sorts
# the actions of an IAM statement (on) or keeps their order (off); the permissions are the same.


def pin_feature_flags(construct: Construct) -> None:
    """Set :data:`PINNED_FEATURE_FLAGS` on ``construct``; call it before the construct adds a child."""
    for flag, value in PINNED_FEATURE_FLAGS.items():
        construct.node.set_context(flag, value)


class PatternConstruct(Construct):
    """The base of every construct of the library: its scope and id are checked before any jsii call,
    and :data:`PINNED_FEATURE_FLAGS` are set for its subtree before it adds a child."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        from ._validate import check_scope

        check_scope(type(self).__name__, scope, construct_id)
        super().__init__(scope, construct_id)
        pin_feature_flags(self)
