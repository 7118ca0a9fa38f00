"""Template tests for AlarmTopic: a customer key CloudWatch may use, and removal_policy on what it owns."""

from __future__ import annotations

import pytest
from aws_cdk import RemovalPolicy
from aws_cdk.assertions import Template

from decoupling_constructs import AlarmTopic
from tests.unit.cdk_helpers import lid, new_stack


def deletion_policies(removal_policy: RemovalPolicy | None = None) -> tuple[AlarmTopic, dict[str, str]]:
    stack = new_stack()
    props = {} if removal_policy is None else {"removal_policy": removal_policy}
    topic = AlarmTopic(stack, "Alarms", **props)  # type: ignore[arg-type]
    resources = Template.from_stack(stack).to_json()["Resources"]
    policies = {
        kind: resources[lid(stack, construct)]["DeletionPolicy"]
        for kind, construct in (("key", topic.encryption_key), ("topic", topic.topic))
    }
    return topic, policies


def test_key_and_topic_are_retained_by_default() -> None:
    _, policies = deletion_policies()
    assert policies == {"key": "Retain", "topic": "Retain"}


@pytest.mark.parametrize(("policy", "expected"), [(RemovalPolicy.DESTROY, "Delete"), (RemovalPolicy.RETAIN, "Retain")])
def test_removal_policy_reaches_the_key_and_the_topic(policy: RemovalPolicy, expected: str) -> None:
    _, policies = deletion_policies(policy)
    assert policies == {"key": expected, "topic": expected}


def test_cloudwatch_may_publish_and_use_the_key_for_this_account_s_alarms_only() -> None:
    stack = new_stack()
    topic = AlarmTopic(stack, "Alarms")
    key = Template.from_stack(stack).to_json()["Resources"][lid(stack, topic.encryption_key)]["Properties"]
    (grant,) = [
        s for s in key["KeyPolicy"]["Statement"] if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert grant["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert "aws:SourceArn" in grant["Condition"]["ArnLike"]
    assert key["EnableKeyRotation"] is True
