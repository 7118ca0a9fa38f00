"""What both sides of a fan-out across accounts and Regions share: account and organization ids, topic ARNs,
and the SNS service principal a subscribed queue's policy must name."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_cdk import Token
from aws_cdk import aws_iam as iam

from .. import _rules as r

#: An AWS account id: 12 digits (IAM user guide, "Your AWS account ID and its alias").
ACCOUNT_ID = r.Text(
    "a 12-digit AWS account id such as '111122223333'",
    pattern=r"[0-9]{12}",
    tokens="synth",
    why="the topic policy names it",
    source="IAM user guide, Your AWS account ID and its alias",
)
#: An AWS Organizations id: ``o-`` then 10-32 lowercase letters or digits (Organizations API, Organization Id).
ORGANIZATION_ID = r.Text(
    "an AWS Organizations id such as 'o-a1b2c3d4e5' (o- then 10-32 lowercase letters or digits)",
    pattern=r"o-[a-z0-9]{10,32}",
    tokens="synth",
    why="the topic policy names it",
    source="AWS Organizations API reference, Organization Id",
)
#: The protocols a subscription can use (SNS Subscribe API, Protocol).
SNS_PROTOCOLS = (
    "http",
    "https",
    "email",
    "email-json",
    "sms",
    "sqs",
    "application",
    "lambda",
    "firehose",
)
_SNS_ARN = re.compile(
    r"arn:(aws[a-z-]*):sns:([a-z]{2}(?:-[a-z]+)+-[0-9]):([0-9]{12}):([A-Za-z0-9_-]{1,251}(?:\.fifo)?)"
)

# Regions where the SNS cross-Region delivery page asks for the Region's own service principal,
# sns.<region>.amazonaws.com (SNS developer guide, "Sending Amazon SNS messages to an Amazon SQS queue or AWS
# Lambda function in a different Region", Opt-in Regions:
# https://docs.aws.amazon.com/sns/latest/dg/sns-cross-region-delivery.html). aws-cdk-lib's RegionInfo knows
# newer ones; this list is the fallback where it does not answer.
OPT_IN_REGIONS = frozenset(
    {
        "af-south-1",
        "ap-east-1",
        "ap-south-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "eu-south-1",
        "eu-south-2",
        "eu-central-2",
        "il-central-1",
        "me-south-1",
        "me-central-1",
    }
)


@dataclass(frozen=True)
class TopicArn:
    """A topic ARN known at synth time, in parts."""

    arn: str
    partition: str
    region: str
    account: str
    name: str

    @property
    def fifo(self) -> bool:
        return self.name.endswith(".fifo")


def parse_topic_arn(value: str) -> TopicArn | None:
    """The parts of ``value``, or None when it is not a concrete SNS topic ARN."""
    match = _SNS_ARN.fullmatch(value)
    if match is None:
        return None
    return TopicArn(value, *match.groups())


def is_opt_in_region(region: str) -> bool:
    """Whether ``region`` is an opt-in Region (aws-cdk-lib's RegionInfo, else :data:`OPT_IN_REGIONS`)."""
    if region in OPT_IN_REGIONS:
        return True
    try:
        from aws_cdk.region_info import RegionInfo

        return bool(RegionInfo.get(region).is_opt_in_region)
    except Exception:  # an older aws-cdk-lib without the fact
        return False


def sns_principal_name(topic_region: str, subscriber_region: str) -> str:
    """The SNS service principal a subscriber's policy must name (the SNS cross-Region delivery page above):
    ``sns.amazonaws.com`` in one Region, or between Regions enabled by default; ``sns.<region>.amazonaws.com``
    of the opt-in Region when one side is one (the subscriber's when both are; as aws-cdk-lib 2.275's
    ``snsServicePrincipal``). A Region unknown at synth (an env-agnostic stack) gives ``sns.amazonaws.com``."""
    if Token.is_unresolved(topic_region) or Token.is_unresolved(subscriber_region) or topic_region == subscriber_region:
        return "sns.amazonaws.com"
    if is_opt_in_region(subscriber_region):
        return f"sns.{subscriber_region}.amazonaws.com"
    if is_opt_in_region(topic_region):
        return f"sns.{topic_region}.amazonaws.com"
    return "sns.amazonaws.com"


def sns_principal(topic_region: str, subscriber_region: str) -> iam.IPrincipal:
    """:func:`sns_principal_name` as a principal written as is (no Region-info rewriting)."""
    name = sns_principal_name(topic_region, subscriber_region)
    if name == "sns.amazonaws.com":
        return iam.ServicePrincipal(name)
    return iam.ServicePrincipal.from_static_service_principle_name(name)
