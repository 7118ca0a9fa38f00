"""Template tests for ReliableQueue: defaults, overrides, bring-your-own key, every bad input."""

from __future__ import annotations

import re

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from decoupling_constructs import AlarmOptions, AlarmSettings, ReliableQueue
from tests.unit.cdk_helpers import lid, new_stack


def build(variant: str = "bare-agnostic", **props: object) -> tuple[cdk.Stack, ReliableQueue, Template]:
    stack = new_stack(variant)
    queue = ReliableQueue(stack, "Work", **props)  # type: ignore[arg-type]
    return stack, queue, Template.from_stack(stack)


def queue_props(template: Template, logical_prefix: str) -> dict:
    queues = template.find_resources("AWS::SQS::Queue")
    (props,) = [q["Properties"] for lid, q in queues.items() if lid.startswith(logical_prefix)]
    return props


@pytest.fixture(scope="module")
def default(app_variant: str) -> tuple[cdk.Stack, ReliableQueue, Template]:
    return build(app_variant)


def test_builds_two_queues_two_policies_two_alarms(default) -> None:
    _, _, template = default
    template.resource_count_is("AWS::SQS::Queue", 2)
    template.resource_count_is("AWS::SQS::QueuePolicy", 2)
    template.resource_count_is("AWS::CloudWatch::Alarm", 2)
    template.resource_count_is("AWS::KMS::Key", 0)


def test_source_queue_defaults(default) -> None:
    stack, rq, template = default
    props = queue_props(template, "WorkQueue")
    assert props["ReceiveMessageWaitTimeSeconds"] == 20  # long polling
    assert props["VisibilityTimeout"] == 30
    assert props["MessageRetentionPeriod"] == 4 * 24 * 3600
    assert props["SqsManagedSseEnabled"] is True
    assert props["RedrivePolicy"]["maxReceiveCount"] == 5
    assert props["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": [lid(stack, rq.dead_letter_queue), "Arn"]}
    assert "FifoQueue" not in props


def test_dead_letter_queue_defaults(default) -> None:
    _, _, template = default
    props = queue_props(template, "WorkDeadLetterQueue")
    assert props["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert props["ReceiveMessageWaitTimeSeconds"] == 20
    assert props["SqsManagedSseEnabled"] is True
    assert "RedrivePolicy" not in props


def test_both_queues_retained(default) -> None:
    _, _, template = default
    for queue in template.find_resources("AWS::SQS::Queue").values():
        assert queue["DeletionPolicy"] == "Retain"
        assert queue["UpdateReplacePolicy"] == "Retain"


def test_redrive_allow_policy_admits_only_the_source_queue_by_name(default) -> None:
    stack, _, template = default
    source_name = queue_props(template, "WorkQueue")["QueueName"]
    allow = queue_props(template, "WorkDeadLetterQueue")["RedriveAllowPolicy"]
    assert allow["redrivePermission"] == "byQueue"
    (arn,) = allow["sourceQueueArns"]
    # Built from the name, not a GetAtt on the source queue: no dependency cycle.
    assert "Fn::GetAtt" not in str(arn)
    resolved = stack.resolve(arn)  # a literal ARN in an environment-bound stack, else joined with pseudo parameters
    assert (resolved if isinstance(resolved, str) else resolved["Fn::Join"][1][-1]).endswith(f":{source_name}")


def test_generated_names_are_deterministic_and_paired(default) -> None:
    _, _, template = default
    name = queue_props(template, "WorkQueue")["QueueName"]
    assert name.startswith("Test-Work-")
    assert queue_props(template, "WorkDeadLetterQueue")["QueueName"] == f"{name}-dlq"
    _, _, again = build()
    assert queue_props(again, "WorkQueue")["QueueName"] == name


def test_tls_only_policy_on_both_queues(default) -> None:
    _, _, template = default
    policies = template.find_resources("AWS::SQS::QueuePolicy")
    assert len(policies) == 2
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert {
            "Action": "sqs:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
        }.items() <= statements[0].items()


def test_alarms_dimensioned_by_queue_name(default) -> None:
    stack, rq, template = default
    dlq_id = lid(stack, rq.dead_letter_queue)
    queue_id = lid(stack, rq.queue)
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "AWS/SQS",
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}],
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "Statistic": "Maximum",
        },
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateAgeOfOldestMessage",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}],
            "Threshold": 900,
        },
    )
    assert len(rq.alarms) == 2
    # No topic given: no actions.
    for alarm in template.find_resources("AWS::CloudWatch::Alarm").values():
        assert "AlarmActions" not in alarm["Properties"]


def test_alarm_actions_go_to_alarm_topic() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    topic = sns.Topic(stack, "Alarms")
    ReliableQueue(stack, "Work", alarm_topic=topic)
    template = Template.from_stack(stack)
    topic_ref = {"Ref": lid(stack, topic)}
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    assert len(alarms) == 2
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [topic_ref]
        assert alarm["Properties"]["OKActions"] == [topic_ref]


def test_oldest_message_age_alarm_can_be_removed_or_tuned() -> None:
    _, rq, template = build(alarm_settings=AlarmSettings(overrides={"oldest_message_age": None}))
    template.resource_count_is("AWS::CloudWatch::Alarm", 1)
    assert list(rq.alarms) == ["dead_letter_queue"]
    tuned = AlarmOptions(
        threshold=Duration.minutes(2),
        evaluation_periods=5,
        datapoints_to_alarm=3,
        treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
    )
    _, _, template = build(alarm_settings=AlarmSettings(overrides={"oldest_message_age": tuned}))
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateAgeOfOldestMessage",
            "Threshold": 120,
            "EvaluationPeriods": 5,
            "DatapointsToAlarm": 3,
            "TreatMissingData": "breaching",
        },
    )


def test_alarms_are_a_read_only_mapping_with_stable_names() -> None:
    _, rq, template = build()
    assert set(rq.alarms) == {"dead_letter_queue", "oldest_message_age"}
    with pytest.raises(TypeError):
        rq.alarms["x"] = rq.alarms["dead_letter_queue"]  # type: ignore[index]
    names = {a["Properties"]["AlarmName"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()}
    # The path in the stack, not the stack's name: renaming the stack keeps the alarms.
    assert names == {"Work/dead_letter_queue", "Work/oldest_message_age"}
    _, _, template = build(alarm_settings=AlarmSettings(name_prefix="prod"))
    names = {a["Properties"]["AlarmName"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()}
    assert names == {"prod/Work/dead_letter_queue", "prod/Work/oldest_message_age"}


def test_create_alarms_false_creates_none() -> None:
    _, rq, template = build(create_alarms=False, alarm_settings=AlarmSettings(name_prefix="prod"))
    template.resource_count_is("AWS::CloudWatch::Alarm", 0)
    assert dict(rq.alarms) == {}


def test_alarm_and_ok_actions_take_any_alarm_action() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    topic, pager = sns.Topic(stack, "Alarms"), sns.Topic(stack, "Pager")
    settings = AlarmSettings(alarm_actions=[cw_actions.SnsAction(pager)], ok_actions=[])
    ReliableQueue(stack, "Work", alarm_topic=topic, alarm_settings=settings)
    for alarm in Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": lid(stack, topic)}, {"Ref": lid(stack, pager)}]
        assert alarm["Properties"]["OKActions"] == [{"Ref": lid(stack, topic)}]


def test_overrides() -> None:
    _, _, template = build(
        queue_name="jobs",
        visibility_timeout=Duration.minutes(5),
        receive_message_wait_time=Duration.seconds(5),
        retention_period=Duration.days(14),
        max_receive_count=3,
        removal_policy=RemovalPolicy.DESTROY,
    )
    props = queue_props(template, "WorkQueue")
    assert props["QueueName"] == "jobs"
    assert props["VisibilityTimeout"] == 300
    assert props["ReceiveMessageWaitTimeSeconds"] == 5
    assert props["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert props["RedrivePolicy"]["maxReceiveCount"] == 3
    assert queue_props(template, "WorkDeadLetterQueue")["QueueName"] == "jobs-dlq"
    for queue in template.find_resources("AWS::SQS::Queue").values():
        assert queue["DeletionPolicy"] == "Delete"


def test_fifo_makes_both_queues_fifo_with_fifo_names() -> None:
    _, _, template = build(fifo=True, content_based_deduplication=True)
    source = queue_props(template, "WorkQueue")
    dlq = queue_props(template, "WorkDeadLetterQueue")
    for props in (source, dlq):
        assert props["FifoQueue"] is True
        assert props["ContentBasedDeduplication"] is True
        assert props["QueueName"].endswith(".fifo")
        assert "DeduplicationScope" not in props
    assert dlq["QueueName"] == source["QueueName"].removesuffix(".fifo") + "-dlq.fifo"


def test_fifo_with_given_name() -> None:
    _, _, template = build(fifo=True, queue_name="orders.fifo")
    assert queue_props(template, "WorkQueue")["QueueName"] == "orders.fifo"
    assert queue_props(template, "WorkDeadLetterQueue")["QueueName"] == "orders-dlq.fifo"


def test_high_throughput_fifo() -> None:
    _, _, template = build(fifo=True, high_throughput=True)
    for prefix in ("WorkQueue", "WorkDeadLetterQueue"):
        props = queue_props(template, prefix)
        assert props["DeduplicationScope"] == "messageGroup"
        assert props["FifoThroughputLimit"] == "perMessageGroupId"


def test_customer_managed_key_for_both_queues() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    ReliableQueue(stack, "Work", encryption_key=key)
    template = Template.from_stack(stack)
    key_arn = {"Fn::GetAtt": [lid(stack, key), "Arn"]}
    for queue in template.find_resources("AWS::SQS::Queue").values():
        assert queue["Properties"]["KmsMasterKeyId"] == key_arn
        assert "SqsManagedSseEnabled" not in queue["Properties"]


def test_the_source_queue_s_attributes_are_delegated() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    rq = ReliableQueue(stack, "Work")
    for name in ("queue_arn", "queue_url", "queue_name"):
        assert stack.resolve(getattr(rq, name)) == stack.resolve(getattr(rq.queue, name))
    assert rq.encryption_key is None
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    assert ReliableQueue(stack, "Sealed", encryption_key=key).encryption_key is key


# Each grant of ReliableQueue, the SQS actions it gives on the source queue, and the KMS actions it
# needs on encryption_key (SQS developer guide, "Amazon SQS key management").
ENCRYPT_DECRYPT = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]
GRANTS = [
    ("grant_send_messages", lambda rq, role: rq.grant_send_messages(role), "sqs:SendMessage", ENCRYPT_DECRYPT),
    ("grant_consume_messages", lambda rq, role: rq.grant_consume_messages(role), "sqs:ReceiveMessage", ["kms:Decrypt"]),
    ("grant_purge", lambda rq, role: rq.grant_purge(role), "sqs:PurgeQueue", []),
    ("grant-send", lambda rq, role: rq.grant(role, "sqs:SendMessage"), "sqs:SendMessage", ENCRYPT_DECRYPT),
    ("grant-wildcard", lambda rq, role: rq.grant(role, "sqs:*"), "sqs:*", ENCRYPT_DECRYPT),
    ("grant-receive", lambda rq, role: rq.grant(role, "SQS:Receive*"), "SQS:Receive*", ["kms:Decrypt"]),
    ("grant-attributes", lambda rq, role: rq.grant(role, "sqs:GetQueueAttributes"), "sqs:GetQueueAttributes", []),
]


def granted(encrypted: bool, make_grant) -> tuple[cdk.Stack, ReliableQueue, kms.Key | None, list[dict]]:
    stack = cdk.Stack(cdk.App(), "Test")
    key = kms.Key(stack, "Key", enable_key_rotation=True) if encrypted else None
    rq = ReliableQueue(stack, "Work", encryption_key=key)
    role = iam.Role(stack, "Role", assumed_by=iam.AccountRootPrincipal())
    grant = make_grant(rq, role)
    assert isinstance(grant, iam.Grant) and grant.success
    (policy,) = Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
    return stack, rq, key, policy["Properties"]["PolicyDocument"]["Statement"]


def as_list(actions: str | list[str]) -> list[str]:
    return [actions] if isinstance(actions, str) else actions


@pytest.mark.parametrize(("name", "make_grant", "sqs_action", "kms_actions"), GRANTS, ids=[g[0] for g in GRANTS])
def test_every_grant_covers_the_customer_key_as_its_actions_need(name, make_grant, sqs_action, kms_actions) -> None:
    stack, rq, key, statements = granted(True, make_grant)
    queue_arn = {"Fn::GetAtt": [lid(stack, rq.queue), "Arn"]}
    assert any(sqs_action in as_list(s["Action"]) and s["Resource"] == queue_arn for s in statements), statements
    on_key = [s for s in statements if s["Resource"] == {"Fn::GetAtt": [lid(stack, key), "Arn"]}]
    assert sorted(a for s in on_key for a in as_list(s["Action"])) == kms_actions


@pytest.mark.parametrize(("name", "make_grant", "sqs_action", "kms_actions"), GRANTS, ids=[g[0] for g in GRANTS])
def test_without_a_customer_key_no_grant_touches_kms(name, make_grant, sqs_action, kms_actions) -> None:
    _, _, _, statements = granted(False, make_grant)
    assert not any(a.startswith("kms:") for s in statements for a in as_list(s["Action"]))


def test_tokens_pass_through_validation() -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    wait = cdk.CfnParameter(stack, "Wait", type="Number")
    receives = cdk.CfnParameter(stack, "Receives", type="Number")
    name = cdk.CfnParameter(stack, "Name")
    ReliableQueue(
        stack,
        "Work",
        queue_name=name.value_as_string,
        receive_message_wait_time=Duration.seconds(wait.value_as_number),
        max_receive_count=receives.value_as_number,  # type: ignore[arg-type]
    )
    props = queue_props(Template.from_stack(stack), "WorkQueue")
    assert props["QueueName"] == {"Ref": "Name"}
    assert props["ReceiveMessageWaitTimeSeconds"] == {"Ref": "Wait"}
    assert props["RedrivePolicy"]["maxReceiveCount"] == {"Ref": "Receives"}


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"receive_message_wait_time": Duration.seconds(25)}, "receive_message_wait_time must be 0-20 seconds, got 25"),
        ({"visibility_timeout": Duration.hours(13)}, "visibility_timeout must be 0 seconds-12 hours"),
        ({"visibility_timeout": Duration.millis(1500)}, "visibility_timeout must be a whole number of seconds"),
        ({"retention_period": Duration.seconds(59)}, "retention_period must be 60 seconds-14 days"),
        ({"retention_period": Duration.days(15)}, "retention_period must be 60 seconds-14 days"),
        ({"max_receive_count": 0}, "max_receive_count must be 1-1000, got 0"),
        ({"max_receive_count": 1001}, "max_receive_count must be 1-1000, got 1001"),
        ({"max_receive_count": 2.5}, "max_receive_count must be a whole number"),
        ({"max_receive_count": True}, "max_receive_count must be a whole number"),
        ({"content_based_deduplication": True}, "content_based_deduplication=True requires fifo=True"),
        ({"high_throughput": True}, "high_throughput=True requires fifo=True"),
        ({"queue_name": "orders.fifo"}, "queue_name ends in '.fifo' but fifo is False"),
        ({"fifo": True, "queue_name": "orders"}, "queue_name of a FIFO queue must end in '.fifo'"),
        ({"queue_name": "bad name!"}, "queue_name may contain only letters, digits, hyphens and underscores"),
        ({"queue_name": "a" * 77}, "queue_name must be at most 76 characters"),
        ({"fifo": "yes"}, "fifo must be True or False"),
        (
            {
                "alarm_settings": AlarmSettings(
                    overrides={"oldest_message_age": AlarmOptions(threshold=Duration.days(4))}
                )
            },
            "alarm_settings.overrides['oldest_message_age'].threshold must be shorter than retention_period",
        ),
        ({"removal_policy": "retain"}, "removal_policy must be an aws_cdk.RemovalPolicy"),
        ({"visibility_timeout": 30}, "visibility_timeout must be an aws_cdk.Duration, got 30"),
    ],
)
def test_bad_input_fails_at_synth_time(props: dict, message: str) -> None:
    stack = cdk.Stack(cdk.App(), "Test")
    with pytest.raises(ValueError, match=re.escape(message)):
        ReliableQueue(stack, "Work", **props)


def test_longest_allowed_names_fit_sqs_limit() -> None:
    _, _, template = build(queue_name="a" * 76)
    assert len(queue_props(template, "WorkDeadLetterQueue")["QueueName"]) == 80
    _, _, template = build(fifo=True, queue_name="a" * 71 + ".fifo")
    assert len(queue_props(template, "WorkDeadLetterQueue")["QueueName"]) == 80
    # Generated names of deeply nested constructs are cut to fit as well.
    stack = cdk.Stack(cdk.App(), "S" * 60)
    ReliableQueue(stack, "Q" * 60, fifo=True)
    for queue in Template.from_stack(stack).find_resources("AWS::SQS::Queue").values():
        assert len(queue["Properties"]["QueueName"]) <= 80


def test_a_retention_under_the_default_alarm_threshold_names_retention_period_not_an_override() -> None:
    """The user gave retention_period, not an override: the error is about the prop they gave."""
    stack = cdk.Stack(cdk.App(), "T")
    with pytest.raises(ValueError, match=r"^ReliableQueue 'T/X': retention_period must be longer than") as caught:
        ReliableQueue(stack, "X", retention_period=Duration.seconds(60))
    assert "overrides['oldest_message_age'].threshold must" not in str(caught.value)
