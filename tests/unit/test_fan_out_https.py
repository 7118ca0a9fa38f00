"""Template tests for FanOut's subscribers outside AWS: add_https_endpoint (delivery policy, DLQ, signature
version 2, delivery-status logging and its alarm), add_email (pending-confirmation warning) and add_sms (E.164,
spend and success-rate alarms), in every kind of app, with a DLQ of another stack."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match, Template

from decoupling_constructs import DeliveryStatusLogging, FanOut, HttpDeliveryPolicy, ReliableQueue
from decoupling_constructs.topics._push import HTTP_DELIVERY_POLICY_RULES, check_delivery_policy_totals
from tests.unit.cdk_helpers import lid, new_app, new_stack, stack_env

URL = "https://partner.example.com/orders"
POLICY = HttpDeliveryPolicy(
    num_retries=12,
    min_delay=cdk.Duration.seconds(5),
    max_delay=cdk.Duration.minutes(2),
    backoff=sns.BackoffFunction.EXPONENTIAL,
    num_min_delay_retries=2,
    max_receives_per_second=10,
    content_type="application/json",
)


@pytest.fixture(scope="module")
def pushed(app_variant: str) -> tuple[cdk.Stack, FanOut, Template]:
    stack = new_stack(app_variant)
    fan_out = FanOut(stack, "Orders")
    fan_out.add_https_endpoint(
        "Partner",
        URL,
        delivery_policy=POLICY,
        raw_message_delivery=True,
        filter_policy={"region": sns.SubscriptionFilter.string_filter(allowlist=["eu"])},
    )
    fan_out.add_email("Ops", "ops@example.com", json=True)
    fan_out.add_sms("OnCall", "+12065550100", spend_alarm_usd=5)
    return stack, fan_out, Template.from_stack(stack)


def _subscription(stack: cdk.Stack, fan_out: FanOut, construct_id: str) -> dict:
    template = Template.from_stack(stack).to_json()
    return template["Resources"][lid(stack, fan_out.subscriptions[construct_id])]["Properties"]


def test_https_subscription_has_its_delivery_policy_filter_raw_delivery_and_redrive(pushed) -> None:
    stack, fan_out, _ = pushed
    props = _subscription(stack, fan_out, "Partner")
    assert props["Protocol"] == "https" and props["Endpoint"] == URL
    assert props["RawMessageDelivery"] is True
    assert props["FilterPolicy"] == {"region": ["eu"]}
    assert props["DeliveryPolicy"] == {
        "healthyRetryPolicy": {
            "numRetries": 12,
            "minDelayTarget": 5,
            "maxDelayTarget": 120,
            "numNoDelayRetries": 0,
            "numMinDelayRetries": 2,
            "numMaxDelayRetries": 0,
            "backoffFunction": "EXPONENTIAL",
        },
        "throttlePolicy": {"maxReceivesPerSecond": 10},
        "requestPolicy": {"headerContentType": "application/json"},
    }
    assert props["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [lid(stack, fan_out.undeliverable_queue), "Arn"]}
    }


def test_the_undeliverable_queue_lets_this_topic_redrive(pushed) -> None:
    stack, fan_out, template = pushed
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "Queues": [{"Ref": lid(stack, fan_out.undeliverable_queue)}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": "sqs:SendMessage",
                                "Principal": {"Service": "sns.amazonaws.com"},
                                "Condition": {"ArnEquals": {"aws:SourceArn": {"Ref": lid(stack, fan_out.topic)}}},
                            }
                        )
                    ]
                )
            },
        },
    )


def test_an_https_subscriber_makes_the_topic_sign_with_sha256_and_log_http_delivery_status(pushed) -> None:
    stack, fan_out, template = pushed
    topic = template.to_json()["Resources"][lid(stack, fan_out.topic)]["Properties"]
    assert topic["SignatureVersion"] == "2"
    role = lid(stack, fan_out.delivery_status_role)
    assert topic["DeliveryStatusLogging"] == [
        {
            "Protocol": "http/s",
            "SuccessFeedbackRoleArn": {"Fn::GetAtt": [role, "Arn"]},
            "FailureFeedbackRoleArn": {"Fn::GetAtt": [role, "Arn"]},
            "SuccessFeedbackSampleRate": "10",
        }
    ]
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [Match.object_like({"Principal": {"Service": "sns.amazonaws.com"}})]
            }
        },
    )
    groups = template.find_resources("AWS::Logs::LogGroup")
    names = [stack.resolve(g["Properties"]["LogGroupName"]) for g in groups.values()]
    topic_name = {"Fn::GetAtt": [lid(stack, fan_out.topic), "TopicName"]}
    region = "eu-west-1" if stack.region == "eu-west-1" else {"Ref": "AWS::Region"}
    account = "111111111111" if stack.account == "111111111111" else {"Ref": "AWS::AccountId"}

    rendered = [n["Fn::Join"][1] for n in names]
    for suffix in ([], ["/Failure"]):
        expected = ["sns/", region, "/", account, "/", topic_name, *suffix]
        # A concrete region or account joins its neighbours into one string.
        assert _flatten(expected) in [_flatten(r) for r in rendered], (expected, rendered)
    assert all(g["Properties"]["RetentionInDays"] == 30 for g in groups.values())
    assert all(g["DeletionPolicy"] == "Retain" for g in groups.values())
    # The role may write to those two log groups only.
    policy = next(iter(template.find_resources("AWS::IAM::Policy").values()))
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    resources = [r for s in statements for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])]
    assert sorted(r["Fn::GetAtt"][0] for r in resources) == sorted(groups)
    assert all(s["Action"] == ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"] for s in statements)


def _flatten(parts: list) -> list:
    out: list = []
    for part in parts:
        if isinstance(part, str) and out and isinstance(out[-1], str):
            out[-1] += part
        else:
            out.append(part)
    return out


def test_http_failures_have_an_alarm_of_their_own_from_the_failure_log(pushed) -> None:
    stack, fan_out, template = pushed
    failure_group = lid(stack, fan_out.delivery_failure_log_group)
    filters = template.find_resources("AWS::Logs::MetricFilter")
    (metric_filter,) = filters.values()
    assert metric_filter["Properties"]["LogGroupName"] == {"Ref": failure_group}
    assert metric_filter["Properties"]["FilterPattern"] == '{ $.status = "FAILURE" }'
    (transformation,) = metric_filter["Properties"]["MetricTransformations"]
    alarm = stack.resolve(fan_out.alarms["http_notifications_failed"].node.default_child.metric_name)  # type: ignore[union-attr]
    assert alarm == transformation["MetricName"]
    assert fan_out.alarms["http_notifications_failed"].node.default_child.namespace == transformation["MetricNamespace"]  # type: ignore[union-attr]


def test_email_is_email_json_and_warns_that_it_stays_pending(pushed) -> None:
    stack, fan_out, _ = pushed
    props = _subscription(stack, fan_out, "Ops")
    assert props["Protocol"] == "email-json" and props["Endpoint"] == "ops@example.com"
    assert "RedrivePolicy" in props and "DeliveryPolicy" not in props
    Annotations.from_stack(stack).has_warning(
        "/Test/Orders/Ops/Subscription", Match.string_like_regexp("email subscriber 'Ops' .* stays pending until")
    )


def test_sms_alarms_watch_the_account_spend_and_success_rate(pushed) -> None:
    stack, fan_out, template = pushed
    props = _subscription(stack, fan_out, "OnCall")
    assert props["Protocol"] == "sms" and props["Endpoint"] == "+12065550100"
    spend = template.to_json()["Resources"][lid(stack, fan_out.alarms["sms_month_to_date_spent"])]["Properties"]
    assert spend["MetricName"] == "SMSMonthToDateSpentUSD" and spend["Threshold"] == 5
    assert "Dimensions" not in spend  # SNS publishes the spend for the account, without dimensions
    rate = template.to_json()["Resources"][lid(stack, fan_out.alarms["sms_success_rate"])]["Properties"]
    assert rate["MetricName"] == "SMSSuccessRate" and rate["ComparisonOperator"] == "LessThanThreshold"


def test_a_bare_fan_out_has_no_push_resources() -> None:
    stack = cdk.Stack(cdk.App(), "Bare")
    FanOut(stack, "Orders")
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Logs::LogGroup", 0)
    template.has_resource_properties("AWS::SNS::Topic", {"SignatureVersion": Match.absent()})


def test_a_dead_letter_queue_of_another_stack_gets_its_statement_in_its_own_stack(app_variant: str) -> None:
    app = new_app(app_variant)
    env = stack_env(app_variant)
    queues = cdk.Stack(app, "Queues", env=env)
    topics = cdk.Stack(app, "Topics", env=env)
    dead_letters = ReliableQueue(queues, "PartnerDeadLetters")
    fan_out = FanOut(topics, "Orders")
    fan_out.add_https_endpoint("Partner", URL, dead_letter_queue=dead_letters)
    queue_template = Template.from_stack(queues)
    # The queue's policy names the topic by the ARN built from its name: no reference back to the topic's stack.
    statement = Match.object_like(
        {"Action": "sqs:SendMessage", "Principal": {"Service": "sns.amazonaws.com"}, "Condition": Match.any_value()}
    )
    queue_template.has_resource_properties(
        "AWS::SQS::QueuePolicy", {"PolicyDocument": {"Statement": Match.array_with([statement])}}
    )
    assert "Fn::ImportValue" not in str(queue_template.to_json())
    props = Template.from_stack(topics).to_json()["Resources"][lid(topics, fan_out.subscriptions["Partner"])][
        "Properties"
    ]
    assert "Fn::ImportValue" in str(props["RedrivePolicy"])
    assert topics.dependencies == [queues]
    app.synth()  # no cycle


def test_two_fan_outs_with_https_subscribers_in_one_stack() -> None:
    stack = new_stack()
    for name in ("Orders", "Payments"):
        FanOut(stack, name).add_https_endpoint("Partner", URL)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Logs::LogGroup", 4)
    template.resource_count_is("AWS::Logs::MetricFilter", 2)
    names = {
        f["Properties"]["MetricTransformations"][0]["MetricName"]
        for f in template.find_resources("AWS::Logs::MetricFilter").values()
    }
    assert len(names) == 2


def test_later_https_subscribers_share_the_logging_and_an_http_url_with_the_opt_in() -> None:
    stack = new_stack()
    fan_out = FanOut(stack, "Orders")
    settings = DeliveryStatusLogging(success_sample_rate=50)
    fan_out.add_https_endpoint("A", URL, delivery_status_logging=settings)
    fan_out.add_https_endpoint("B", "http://127.0.0.1:8080/sns", allow_http=True)
    fan_out.add_https_endpoint("C", "https://c.example.com/", delivery_status_logging=settings)
    props = _subscription(stack, fan_out, "B")
    assert props["Protocol"] == "http"
    Template.from_stack(stack).resource_count_is("AWS::Logs::LogGroup", 2)


def test_the_retry_bound_accepts_aws_sample_policy_and_the_default() -> None:
    """AWS's sample policy (sns-message-delivery-retries): 50 retries 1-60 s, 3/2/35 in the other phases."""
    sample = HttpDeliveryPolicy(
        num_retries=50,
        min_delay=cdk.Duration.seconds(1),
        max_delay=cdk.Duration.seconds(60),
        num_no_delay_retries=3,
        num_min_delay_retries=2,
        num_max_delay_retries=35,
        backoff=sns.BackoffFunction.EXPONENTIAL,
    )
    assert sample.total_retry_seconds() == 2 * 1 + (10 + 35) * 60 == 2702
    assert HttpDeliveryPolicy().total_retry_seconds() == 60
    for policy in (sample, HttpDeliveryPolicy()):
        HTTP_DELIVERY_POLICY_RULES.check_values(vars(policy), __import__("decoupling_constructs")._rules.Context())
        check_delivery_policy_totals("delivery_policy", policy, __import__("decoupling_constructs")._rules.Context())


@pytest.mark.parametrize(
    ("policy", "words"),
    [
        (
            HttpDeliveryPolicy(num_retries=100, min_delay=cdk.Duration.minutes(1), max_delay=cdk.Duration.minutes(1)),
            "6000 s",
        ),
        (
            HttpDeliveryPolicy(num_retries=61, max_delay=cdk.Duration.minutes(1), min_delay=cdk.Duration.minutes(1)),
            "3660 s",
        ),
        (HttpDeliveryPolicy(min_delay=cdk.Duration.seconds(30), max_delay=cdk.Duration.seconds(20)), "min_delay"),
        (HttpDeliveryPolicy(num_retries=3, num_no_delay_retries=2, num_max_delay_retries=2), "num_retries"),
    ],
)
def test_the_retry_bound_refuses(policy: HttpDeliveryPolicy, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        FanOut(new_stack(), "Orders").add_https_endpoint("Partner", URL, delivery_policy=policy)


def test_exactly_3600_seconds_is_allowed() -> None:
    policy = HttpDeliveryPolicy(num_retries=60, min_delay=cdk.Duration.minutes(1), max_delay=cdk.Duration.minutes(1))
    assert policy.total_retry_seconds() == 3600
    FanOut(new_stack(), "Orders").add_https_endpoint("Partner", URL, delivery_policy=policy)


def test_an_imported_dead_letter_queue_warns_that_its_policy_is_its_owners() -> None:
    stack = new_stack("flags-bound")
    fan_out = FanOut(stack, "Orders")
    imported = sqs.Queue.from_queue_arn(stack, "Imported", "arn:aws:sqs:eu-west-1:111111111111:partner-dlq")
    fan_out.add_https_endpoint("Partner", URL, dead_letter_queue=imported)
    Annotations.from_stack(stack).has_warning(
        "/Test/Orders", Match.string_like_regexp("dead-letter queue of 'Partner' is imported")
    )
