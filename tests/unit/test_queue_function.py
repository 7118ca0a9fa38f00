"""Template tests for QueueFunction: the event source mapping, the created or given queue, grants, alarms."""

from __future__ import annotations

import json
from collections.abc import Callable

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match, Template

from decoupling_constructs import AlarmOptions, AlarmSettings, QueueFunction, ReliableQueue
from tests.unit.cdk_helpers import lid, new_stack

TWENTY_SECONDS = Duration.seconds(20)


def function(stack: cdk.Stack, construct_id: str = "Fn", timeout: Duration | None = TWENTY_SECONDS) -> lambda_.Function:
    return lambda_.Function(
        stack,
        construct_id,
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {'batchItemFailures': []}\n"),
        timeout=timeout,
    )


def build(variant: str = "bare-agnostic", **props: object) -> tuple[cdk.Stack, QueueFunction, Template]:
    stack = new_stack(variant)
    consumer = QueueFunction(stack, "Orders", function=function(stack), **props)  # type: ignore[arg-type]
    return stack, consumer, Template.from_stack(stack)


def mapping(template: Template) -> dict:
    (props,) = [r["Properties"] for r in template.find_resources("AWS::Lambda::EventSourceMapping").values()]
    return props


@pytest.fixture(scope="module")
def default(app_variant: str) -> tuple[cdk.Stack, QueueFunction, Template]:
    return build(app_variant)


def test_mapping_reports_batch_item_failures_on_the_created_queue(default) -> None:
    stack, consumer, template = default
    props = mapping(template)
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BatchSize"] == 10
    assert props["Enabled"] is True
    assert props["EventSourceArn"] == {"Fn::GetAtt": [lid(stack, consumer.queue), "Arn"]}
    assert "MaximumBatchingWindowInSeconds" not in props
    assert "ScalingConfig" not in props
    assert "FilterCriteria" not in props


def test_created_queue_is_a_reliable_queue_with_6x_the_function_timeout(default) -> None:
    _, consumer, template = default
    assert isinstance(consumer.reliable_queue, ReliableQueue)
    assert consumer.queue is consumer.reliable_queue.queue
    template.resource_count_is("AWS::SQS::Queue", 2)  # the queue and its dead-letter queue
    template.has_resource_properties("AWS::SQS::Queue", {"VisibilityTimeout": 120, "RedrivePolicy": Match.any_value()})


def test_function_gets_exactly_the_l2_consume_grant(default) -> None:
    stack, consumer, template = default
    (policy,) = template.find_resources("AWS::IAM::Policy").values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert sorted(statement["Action"]) == sorted(
        [
            "sqs:ReceiveMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:GetQueueUrl",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
        ]
    )
    assert statement["Resource"] == {"Fn::GetAtt": [lid(stack, consumer.queue), "Arn"]}


def test_alarms_cover_the_function_and_the_created_queue_once(default) -> None:
    stack, consumer, template = default
    assert list(consumer.alarms) == ["function_errors", "function_throttles", "dead_letter_queue", "oldest_message_age"]
    template.resource_count_is("AWS::CloudWatch::Alarm", 4)
    names = sorted(a["Properties"]["AlarmName"] for a in template.find_resources("AWS::CloudWatch::Alarm").values())
    assert names == [
        "Orders/Queue/dead_letter_queue",
        "Orders/Queue/oldest_message_age",
        "Orders/function_errors",
        "Orders/function_throttles",
    ]
    for key, metric in (("function_errors", "Errors"), ("function_throttles", "Throttles")):
        props = template.to_json()["Resources"][lid(stack, consumer.alarms[key])]["Properties"]
        assert (props["Namespace"], props["MetricName"], props["Statistic"]) == ("AWS/Lambda", metric, "Sum")
        assert props["Threshold"] == 1
    with pytest.raises(TypeError):
        consumer.alarms["x"] = consumer.alarms["function_errors"]  # type: ignore[index]


def test_a_given_queue_keeps_its_own_alarms_and_only_function_alarms_are_added() -> None:
    stack = new_stack("bare-agnostic")
    queue = ReliableQueue(stack, "Jobs", visibility_timeout=Duration.minutes(2))
    consumer = QueueFunction(stack, "Worker", function=function(stack), queue=queue)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::SQS::Queue", 2)
    template.resource_count_is("AWS::CloudWatch::Alarm", 4)  # the queue's 2 + the function's 2
    assert list(consumer.alarms) == ["function_errors", "function_throttles"]
    assert consumer.reliable_queue is queue
    assert mapping(template)["EventSourceArn"] == {"Fn::GetAtt": [lid(stack, queue.queue), "Arn"]}


def test_overrides_reach_the_created_queue_and_the_function_alarms() -> None:
    _, consumer, template = build(
        alarm_settings=AlarmSettings(
            name_prefix="prod",
            overrides={
                "function_throttles": None,
                "function_errors": AlarmOptions(threshold=5),
                "oldest_message_age": AlarmOptions(threshold=Duration.minutes(3)),
            },
        )
    )
    assert sorted(consumer.alarms) == ["dead_letter_queue", "function_errors", "oldest_message_age"]
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"AlarmName": "prod/Orders/function_errors", "Threshold": 5}
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"AlarmName": "prod/Orders/Queue/oldest_message_age", "Threshold": 180}
    )


def test_create_alarms_false_creates_none_not_even_the_queue_alarms() -> None:
    _, consumer, template = build(create_alarms=False)
    template.resource_count_is("AWS::CloudWatch::Alarm", 0)
    assert dict(consumer.alarms) == {}


def test_batching_concurrency_filters_and_enabled() -> None:
    pattern = lambda_.FilterCriteria.filter({"body": {"kind": lambda_.FilterRule.is_equal("order")}})
    _, _, template = build(
        batch_size=500,
        max_batching_window=Duration.seconds(30),
        max_concurrency=20,
        filters=[pattern],
        enabled=False,
    )
    props = mapping(template)
    assert props["BatchSize"] == 500
    assert props["MaximumBatchingWindowInSeconds"] == 30
    assert props["ScalingConfig"] == {"MaximumConcurrency": 20}
    assert props["FilterCriteria"] == {"Filters": [{"Pattern": '{"body":{"kind":["order"]}}'}]}
    assert props["Enabled"] is False


def test_fifo_queue_is_created_fifo_and_queue_props_pass_through() -> None:
    stack = new_stack("bare-agnostic")
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    consumer = QueueFunction(
        stack,
        "Orders",
        function=function(stack),
        fifo=True,
        queue_props={"queue_name": "orders.fifo", "max_receive_count": 3, "encryption_key": key},
    )
    template = Template.from_stack(stack)
    assert consumer.reliable_queue.fifo
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {"QueueName": "orders.fifo", "FifoQueue": True, "RedrivePolicy": Match.object_like({"maxReceiveCount": 3})},
    )
    # the consume grant covers the key too (the L2 grant)
    actions = [
        s["Action"]
        for p in template.find_resources("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert ["kms:Decrypt"] in actions or "kms:Decrypt" in actions


def test_a_15_minute_function_gets_a_90_minute_visibility_timeout() -> None:
    stack = new_stack("bare-agnostic")
    QueueFunction(stack, "Slow", function=function(stack, timeout=Duration.minutes(15)))
    Template.from_stack(stack).has_resource_properties("AWS::SQS::Queue", {"VisibilityTimeout": 5400})


def test_a_function_without_a_timeout_uses_lambdas_3_second_default() -> None:
    stack = new_stack("bare-agnostic")
    QueueFunction(stack, "Quick", function=function(stack, timeout=None))
    Template.from_stack(stack).has_resource_properties("AWS::SQS::Queue", {"VisibilityTimeout": 18})


def test_an_imported_function_needs_function_timeout_and_gets_the_mapping() -> None:
    stack = new_stack("bare-agnostic")
    imported = lambda_.Function.from_function_arn(stack, "Imported", "arn:aws:lambda:us-east-1:111111111111:function:f")
    queue = ReliableQueue(stack, "Jobs", visibility_timeout=Duration.minutes(1))
    QueueFunction(stack, "Worker", function=imported, queue=queue, function_timeout=Duration.seconds(10))
    props = mapping(Template.from_stack(stack))
    assert props["FunctionName"] == "f"
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_two_in_one_stack_with_distinct_alarm_names_in_every_app(app_variant: str) -> None:
    stack = new_stack(app_variant)
    QueueFunction(stack, "Shipments", function=function(stack, "ShipmentsFn"))
    QueueFunction(stack, "Invoices", function=function(stack, "InvoicesFn"), fifo=True)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Lambda::EventSourceMapping", 2)
    template.resource_count_is("AWS::SQS::Queue", 4)
    names = [a["Properties"]["AlarmName"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()]
    assert len(names) == len(set(names)) == 8


def test_a_queue_of_another_stack_is_consumed_without_a_cycle() -> None:
    """The function and its QueueFunction in one stack, the ReliableQueue (with a KMS key) in another."""
    app = cdk.App()
    shared = cdk.Stack(app, "Shared")
    queue = ReliableQueue(shared, "Jobs", visibility_timeout=Duration.minutes(2), encryption_key=kms.Key(shared, "Key"))
    workers = cdk.Stack(app, "Workers")
    QueueFunction(workers, "Worker", function=function(workers), queue=queue)
    assembly = app.synth()  # a cycle would raise here
    template = assembly.get_stack_by_name("Workers").template
    (esm,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert "Fn::ImportValue" in json.dumps(esm["Properties"]["EventSourceArn"])
    assert shared in workers.dependencies and workers not in shared.dependencies
    assert len([r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]) == 2


# --- the rules (issue 19): each wrong input refused naming the class, the path and the prop -------------------


def refused(match: str, **props: object) -> str:
    stack = new_stack("bare-agnostic")
    given = props.pop("function", None)
    fn = given(stack) if callable(given) else given or function(stack)
    with pytest.raises(ValueError, match=match) as caught:
        QueueFunction(stack, "Orders", function=fn, **{k: v(stack) if callable(v) else v for k, v in props.items()})  # type: ignore[arg-type]
    message = str(caught.value)
    assert message.startswith("QueueFunction 'Test/Orders': "), message
    return message


def test_a_raw_filter_pattern_is_refused_not_deployed_as_an_empty_filter() -> None:
    message = refused(
        r"filters\[0\] must be a filter made by lambda_.FilterCriteria.filter", filters=[{"body": {"kind": ["order"]}}]
    )
    assert "{'body': {'kind': ['order']}}" in message and "empty filter" in message
    refused(r"filters\[0\]\['pattern'\] must be a JSON object", filters=[{"pattern": "kind=order"}])
    refused(r"filters\[0\]\['pattern'\] must be a JSON string .*4097 characters", filters=[{"pattern": "x" * 4097}])


def test_max_concurrency_stays_within_the_reserved_concurrency() -> None:
    def reserved(n: int) -> Callable[[cdk.Stack], lambda_.Function]:
        return lambda s: lambda_.Function(
            s,
            "Reserved",
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="index.handler",
            code=lambda_.Code.from_inline("def handler(event, context): pass"),
            timeout=TWENTY_SECONDS,
            reserved_concurrent_executions=n,
        )

    stack = new_stack("bare-agnostic")
    QueueFunction(stack, "Orders", function=reserved(10)(stack), max_concurrency=10)
    assert mapping(Template.from_stack(stack))["ScalingConfig"] == {"MaximumConcurrency": 10}
    message = refused(
        "max_concurrency must be at most the reserved concurrency", function=reserved(5), max_concurrency=10
    )
    assert "(5), got 10" in message


def test_a_singleton_functions_timeout_is_read() -> None:
    def singleton(s: cdk.Stack) -> lambda_.SingletonFunction:
        return lambda_.SingletonFunction(
            s,
            "Single",
            uuid="0f6b0ad8-6a4e-4c1d-9d1e-2f4bb7b3f5a1",
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="index.handler",
            code=lambda_.Code.from_inline("def handler(event, context): pass"),
            timeout=Duration.minutes(5),
        )

    stack = new_stack("bare-agnostic")
    QueueFunction(stack, "Orders", function=singleton(stack))
    Template.from_stack(stack).has_resource_properties("AWS::SQS::Queue", {"VisibilityTimeout": 1800})
    refused(
        r"function_timeout is only for .* \(300 seconds\)", function=singleton, function_timeout=Duration.minutes(5)
    )


def test_queue_props_are_checked_by_reliable_queues_rules_under_their_full_path() -> None:
    refused(
        r"queue_props\['retention_period'\] must be 60 seconds-14 days",
        queue_props={"retention_period": Duration.days(15)},
    )
    refused(
        r"queue_props\['queue_name'\] of a FIFO queue must end in '.fifo', got 'orders'",
        queue_props={"queue_name": "orders"},
        fifo=True,
    )
    refused(
        r"queue_props\['content_based_deduplication'\]=True requires fifo=True",
        queue_props={"content_based_deduplication": True},
    )
    refused(
        r"queue_props has an unknown prop 'visibility_timeout'", queue_props={"visibility_timeout": Duration.minutes(5)}
    )


def test_a_short_retention_in_queue_props_must_leave_the_created_queues_age_alarm_room_to_fire() -> None:
    refused(
        r"queue_props\['retention_period'\] must be longer than the created queue's oldest_message_age alarm "
        r"threshold \(900 seconds, its default\).*got Duration.minutes\(10\)",
        queue_props={"retention_period": Duration.minutes(10)},
    )
    refused(
        r"queue_props\['retention_period'\] must be longer .* \(1200 seconds, alarm_settings.overrides",
        queue_props={"retention_period": Duration.minutes(10)},
        alarm_settings=AlarmSettings(overrides={"oldest_message_age": AlarmOptions(threshold=Duration.minutes(20))}),
    )
    build(  # fits: a short retention with a shorter alarm, or without the alarm
        queue_props={"retention_period": Duration.minutes(10)},
        alarm_settings=AlarmSettings(overrides={"oldest_message_age": AlarmOptions(threshold=Duration.minutes(5))}),
    )
    build(
        queue_props={"retention_period": Duration.minutes(10)},
        alarm_settings=AlarmSettings(overrides={"oldest_message_age": None}),
    )
    build(queue_props={"retention_period": Duration.minutes(10)}, create_alarms=False)


def test_resources_of_another_app_are_refused_without_advice_to_move_them() -> None:
    other = cdk.Stack(cdk.App(), "Other")
    message = refused(r"function 'Other/Fn' belongs to another App", function=function(other))
    assert "create the" not in message
    refused(r"queue 'Other/Jobs' belongs to another App", queue=ReliableQueue(other, "Jobs"))
