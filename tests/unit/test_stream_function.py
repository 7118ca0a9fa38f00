"""Template tests for StreamFunction: the bounded Kinesis event source mapping, the on-failure queue, enhanced
fan-out, the capacity plan's consumer count, grants and alarms."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

from decoupling_constructs import AlarmOptions, AlarmSettings, ReliableQueue, StreamFunction, StreamToS3, Throughput
from tests.unit.cdk_helpers import lid, new_stack
from tests.unit.test_queue_function import function


def build(variant: str = "bare-agnostic", **props: object) -> tuple[cdk.Stack, StreamFunction, Template]:
    stack = new_stack(variant)
    stream = kinesis.Stream(stack, "Clicks", shard_count=1)
    consumer = StreamFunction(stack, "Clickstream", function=function(stack), stream=stream, **props)  # type: ignore[arg-type]
    return stack, consumer, Template.from_stack(stack)


def mapping(template: Template) -> dict:
    (props,) = [r["Properties"] for r in template.find_resources("AWS::Lambda::EventSourceMapping").values()]
    return props


def alarm_names(template: Template) -> list[str]:
    return sorted(a["Properties"]["AlarmName"] for a in template.find_resources("AWS::CloudWatch::Alarm").values())


@pytest.fixture(scope="module")
def default(app_variant: str) -> tuple[cdk.Stack, StreamFunction, Template]:
    return build(app_variant)


def test_mapping_bisects_reports_failures_and_bounds_retries_and_age(default) -> None:
    stack, consumer, template = default
    props = mapping(template)
    assert props["BisectBatchOnFunctionError"] is True
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["MaximumRetryAttempts"] == 3
    assert props["MaximumRecordAgeInSeconds"] == 3600
    assert props["ParallelizationFactor"] == 1
    assert props["StartingPosition"] == "TRIM_HORIZON"
    assert props["BatchSize"] == 100
    assert props["Enabled"] is True
    assert props["EventSourceArn"] == {"Fn::GetAtt": [lid(stack, consumer.stream), "Arn"]}
    assert props["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": [lid(stack, consumer.queue), "Arn"]}}
    }
    assert "MaximumBatchingWindowInSeconds" not in props
    assert consumer.consumer is None


def test_on_failure_queue_is_a_created_reliable_queue(default) -> None:
    _, consumer, template = default
    assert isinstance(consumer.on_failure_queue, ReliableQueue)
    assert consumer.queue is consumer.on_failure_queue.queue
    template.resource_count_is("AWS::SQS::Queue", 2)  # the on-failure queue and its dead-letter queue


def test_function_reads_the_stream_and_sends_to_the_on_failure_queue_only(default) -> None:
    stack, consumer, template = default
    statements = [
        s
        for p in template.find_resources("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    resources = {json.dumps(s["Resource"], sort_keys=True): s["Action"] for s in statements}
    stream_arn = json.dumps({"Fn::GetAtt": [lid(stack, consumer.stream), "Arn"]}, sort_keys=True)
    queue_arn = json.dumps({"Fn::GetAtt": [lid(stack, consumer.queue), "Arn"]}, sort_keys=True)
    assert set(resources) == {stream_arn, queue_arn}
    assert "kinesis:GetRecords" in resources[stream_arn]
    assert not any("Put" in action for action in resources[stream_arn])
    assert resources[queue_arn] in (["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],) or set(
        resources[queue_arn]
    ) == {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}


def test_alarms_cover_iterator_age_the_function_and_the_created_queue(default) -> None:
    stack, consumer, template = default
    assert list(consumer.alarms) == [
        "iterator_age",
        "function_errors",
        "function_throttles",
        "dead_letter_queue",
        "oldest_message_age",
    ]
    assert alarm_names(template) == [
        "Clickstream/OnFailureQueue/dead_letter_queue",
        "Clickstream/OnFailureQueue/oldest_message_age",
        "Clickstream/function_errors",
        "Clickstream/function_throttles",
        "Clickstream/iterator_age",
    ]
    props = template.to_json()["Resources"][lid(stack, consumer.alarms["iterator_age"])]["Properties"]
    assert (props["Namespace"], props["MetricName"], props["Statistic"]) == ("AWS/Lambda", "IteratorAge", "Maximum")
    assert props["Threshold"] == 600_000  # 10 minutes, in IteratorAge's milliseconds
    assert props["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": lid(stack, consumer.function)}}]
    with pytest.raises(TypeError):
        consumer.alarms["x"] = consumer.alarms["iterator_age"]  # type: ignore[index]


def test_iterator_age_defaults_to_half_a_short_max_record_age_and_takes_overrides() -> None:
    stack, consumer, template = build(max_record_age=Duration.minutes(4))
    assert mapping(template)["MaximumRecordAgeInSeconds"] == 240
    props = template.to_json()["Resources"][lid(stack, consumer.alarms["iterator_age"])]["Properties"]
    assert props["Threshold"] == 120_000
    _, _, template = build(
        alarm_settings=AlarmSettings(
            name_prefix="prod",
            overrides={
                "iterator_age": AlarmOptions(threshold=Duration.minutes(30)),
                "function_throttles": None,
                "oldest_message_age": AlarmOptions(threshold=Duration.minutes(3)),
            },
        )
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"AlarmName": "prod/Clickstream/iterator_age", "Threshold": 1_800_000}
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"AlarmName": "prod/Clickstream/OnFailureQueue/oldest_message_age", "Threshold": 180}
    )
    assert "prod/Clickstream/function_throttles" not in alarm_names(template)


def test_create_alarms_false_creates_none_not_even_the_queue_alarms() -> None:
    _, consumer, template = build(create_alarms=False)
    template.resource_count_is("AWS::CloudWatch::Alarm", 0)
    assert dict(consumer.alarms) == {}


def test_every_mapping_option_reaches_the_template() -> None:
    _, _, template = build(
        starting_position=lambda_.StartingPosition.AT_TIMESTAMP,
        starting_position_timestamp=1_700_000_000,
        batch_size=500,
        max_batching_window=Duration.seconds(30),
        parallelization_factor=10,
        retry_attempts=0,
        max_record_age=Duration.days(7),
        enabled=False,
    )
    props = mapping(template)
    assert props["StartingPosition"] == "AT_TIMESTAMP"
    assert props["StartingPositionTimestamp"] == 1_700_000_000
    assert props["BatchSize"] == 500
    assert props["MaximumBatchingWindowInSeconds"] == 30
    assert props["ParallelizationFactor"] == 10
    assert props["MaximumRetryAttempts"] == 0
    assert props["MaximumRecordAgeInSeconds"] == 604_800
    assert props["Enabled"] is False
    assert build(starting_position=lambda_.StartingPosition.LATEST)[2].to_json()  # LATEST is accepted
    assert mapping(build(starting_position=lambda_.StartingPosition.LATEST)[2])["StartingPosition"] == "LATEST"


def test_a_given_queue_keeps_its_own_alarms() -> None:
    stack = new_stack("bare-agnostic")
    queue = ReliableQueue(stack, "Failures")
    consumer = StreamFunction(
        stack, "Reader", function=function(stack), stream=kinesis.Stream(stack, "S"), on_failure_queue=queue
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::SQS::Queue", 2)
    template.resource_count_is("AWS::CloudWatch::Alarm", 5)  # the queue's 2 + the function's 3
    assert list(consumer.alarms) == ["iterator_age", "function_errors", "function_throttles"]
    assert consumer.on_failure_queue is queue
    assert mapping(template)["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": [lid(stack, queue.queue), "Arn"]
    }


def test_enhanced_fan_out_registers_a_consumer_and_reads_through_it() -> None:
    stack, consumer, template = build(enhanced_fan_out=True)
    assert isinstance(consumer.consumer, kinesis.StreamConsumer)
    (registered,) = template.find_resources("AWS::Kinesis::StreamConsumer").values()
    assert registered["Properties"]["StreamARN"] == {"Fn::GetAtt": [lid(stack, consumer.stream), "Arn"]}
    assert registered["Properties"]["ConsumerName"].startswith("Test-Clickstream-")  # unique in the account
    assert mapping(template)["EventSourceArn"] == {"Fn::GetAtt": [lid(stack, consumer.consumer), "ConsumerARN"]}
    assert mapping(template)["BisectBatchOnFunctionError"] is True


def test_a_stream_to_s3_is_consumed_through_its_stream() -> None:
    stack = new_stack("bare-agnostic")
    archive = StreamToS3(stack, "Archive", shard_count=1)
    consumer = StreamFunction(stack, "Reader", function=function(stack), stream=archive)
    assert consumer.stream is archive.stream and consumer.stream_to_s3 is archive
    props = mapping(Template.from_stack(stack))
    assert props["EventSourceArn"] == {"Fn::GetAtt": [lid(stack, archive.stream), "Arn"]}


def planned(consumers: int, enhanced_fan_out: bool = False) -> tuple[cdk.Stack, StreamToS3]:
    stack = new_stack("bare-agnostic")
    throughput = Throughput(0.5, 100, consumers=consumers, enhanced_fan_out=enhanced_fan_out)
    return stack, StreamToS3(stack, "Archive", expected_throughput=throughput)


def test_the_capacity_plan_admits_its_consumers_but_firehose_and_refuses_one_more() -> None:
    stack, archive = planned(3)
    StreamFunction(stack, "First", function=function(stack, "FirstFn"), stream=archive)
    StreamFunction(stack, "Second", function=function(stack, "SecondFn"), stream=archive, enhanced_fan_out=True)
    with pytest.raises(ValueError) as caught:
        StreamFunction(stack, "Third", function=function(stack, "ThirdFn"), stream=archive)
    message = str(caught.value)
    parts = ("StreamFunction 'Test/Third'", "'Test/Archive'", "Throughput(consumers=3)", "consumer 4", "'Test/First'")
    for part in parts:
        assert part in message, message


def test_the_plan_applies_when_the_stream_to_s3s_stream_is_given() -> None:
    stack, archive = planned(1)
    with pytest.raises(ValueError, match=r"Throughput\(consumers=1\).*consumer 2"):
        StreamFunction(stack, "Reader", function=function(stack), stream=archive.stream)


def test_an_enhanced_fan_out_plan_needs_enhanced_fan_out_consumers() -> None:
    stack, archive = planned(2, enhanced_fan_out=True)
    with pytest.raises(ValueError, match=r"enhanced_fan_out=True\): .*needs enhanced_fan_out=True"):
        StreamFunction(stack, "Shared", function=function(stack, "SharedFn"), stream=archive)
    StreamFunction(stack, "Dedicated", function=function(stack, "DedicatedFn"), stream=archive, enhanced_fan_out=True)
    Template.from_stack(stack).resource_count_is("AWS::Kinesis::StreamConsumer", 1)


def test_kinesis_allows_20_enhanced_fan_out_consumers_per_stream() -> None:
    stack = new_stack("bare-agnostic")
    stream = kinesis.Stream(stack, "S", shard_count=1)
    fn = function(stack)
    for n in range(20):
        StreamFunction(stack, f"R{n}", function=fn, stream=stream, enhanced_fan_out=True, create_alarms=False)
    with pytest.raises(ValueError, match="consumer 21 of the stream, and Kinesis allows 20"):
        StreamFunction(stack, "R20", function=fn, stream=stream, enhanced_fan_out=True, create_alarms=False)


def test_two_in_one_stack_with_distinct_alarm_names_in_every_app(app_variant: str) -> None:
    stack = new_stack(app_variant)
    stream = kinesis.Stream(stack, "S", shard_count=1)
    StreamFunction(stack, "Clicks", function=function(stack, "ClicksFn"), stream=stream)
    StreamFunction(stack, "Views", function=function(stack, "ViewsFn"), stream=stream, enhanced_fan_out=True)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Lambda::EventSourceMapping", 2)
    template.resource_count_is("AWS::SQS::Queue", 4)
    names = alarm_names(template)
    assert len(names) == len(set(names)) == 10


def test_a_stream_of_another_stack_is_consumed_without_a_cycle() -> None:
    """The function and its StreamFunction in one stack, the StreamToS3 in another."""
    app = cdk.App()
    shared = cdk.Stack(app, "Shared")
    archive = StreamToS3(shared, "Archive", shard_count=1)
    readers = cdk.Stack(app, "Readers")
    StreamFunction(readers, "Reader", function=function(readers), stream=archive, enhanced_fan_out=True)
    assembly = app.synth()  # a cycle would raise here
    template = assembly.get_stack_by_name("Readers").template
    (registered,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Kinesis::StreamConsumer"]
    assert "Fn::ImportValue" in json.dumps(registered["Properties"]["StreamARN"])
    assert shared in readers.dependencies and readers not in shared.dependencies


def test_an_imported_function_needs_no_timeout_and_gets_the_mapping() -> None:
    """Unlike QueueFunction (a queue's visibility timeout must cover 6x the function's), no Kinesis mapping
    setting depends on the function's timeout: an imported function is taken as it is."""
    stack = new_stack("bare-agnostic")
    imported = lambda_.Function.from_function_attributes(
        stack,
        "Imported",
        function_arn=stack.format_arn(
            service="lambda", resource="function", resource_name="f", arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME
        ),
        role=iam.Role.from_role_name(stack, "ImportedRole", "f-role"),
        same_environment=True,
    )
    consumer = StreamFunction(stack, "Reader", function=imported, stream=kinesis.Stream(stack, "S"))
    template = Template.from_stack(stack)
    props = mapping(template)
    assert ":function:f" in json.dumps(props["FunctionName"])
    assert props["BisectBatchOnFunctionError"] is True
    assert "iterator_age" in consumer.alarms
    (policy,) = template.find_resources("AWS::IAM::Policy").values()
    assert policy["Properties"]["Roles"] == ["f-role"]  # the read and send grants go on the imported role


# --- the rules (issue 19) ---------------------------------------------------------------------------------------


def refused(match: str, **props: object) -> str:
    stack = new_stack("bare-agnostic")
    stream = props.pop("stream", None) or kinesis.Stream(stack, "Clicks", shard_count=1)
    props = {k: v(stack) if callable(v) else v for k, v in props.items()}
    with pytest.raises(ValueError, match=match) as caught:
        StreamFunction(stack, "Clickstream", function=function(stack), stream=stream, **props)  # type: ignore[arg-type]
    message = str(caught.value)
    assert message.startswith("StreamFunction 'Test/Clickstream': "), message
    return message


AT_TIMESTAMP = lambda_.StartingPosition.AT_TIMESTAMP


def test_a_starting_timestamp_in_milliseconds_or_in_the_future_is_refused() -> None:
    refused(
        r"starting_position_timestamp must be a Unix time in seconds.*looks like milliseconds",
        starting_position=AT_TIMESTAMP,
        starting_position_timestamp=1_700_000_000_000,
    )
    refused(
        r"starting_position_timestamp must be a Unix time in seconds, not in the future.*got 4102444800",
        starting_position=AT_TIMESTAMP,
        starting_position_timestamp=4_102_444_800,
    )
    refused(
        r"starting_position_timestamp=1700000000 requires starting_position StartingPosition.AT_TIMESTAMP",
        starting_position_timestamp=1_700_000_000,
    )


def test_a_starting_timestamp_from_a_parameter_is_passed_on() -> None:
    stack = new_stack("bare-agnostic")
    start = cdk.CfnParameter(stack, "Start", type="Number").value_as_number
    stream = kinesis.Stream(stack, "Clicks", shard_count=1)
    StreamFunction(
        stack,
        "Clickstream",
        function=function(stack),
        stream=stream,
        starting_position=AT_TIMESTAMP,
        starting_position_timestamp=start,
    )
    assert mapping(Template.from_stack(stack))["StartingPositionTimestamp"] == {"Ref": "Start"}


def test_a_max_record_age_from_a_parameter_is_refused_in_words() -> None:
    message = refused(
        r"max_record_age must be known at synth time \(aws-cdk-lib checks its range",
        max_record_age=lambda s: Duration.seconds(cdk.CfnParameter(s, "Age", type="Number").value_as_number),
    )
    assert "a CloudFormation parameter or resource reference (Ref Age)" in message, message


def test_a_stream_or_queue_of_another_app_is_refused() -> None:
    other = cdk.Stack(cdk.App(), "Other")
    refused(r"stream 'Other/Clicks' belongs to another App", stream=kinesis.Stream(other, "Clicks"))
    refused(r"stream 'Other/Archive' belongs to another App", stream=StreamToS3(other, "Archive"))
    refused(
        r"on_failure_queue 'Other/Failures' belongs to another App",
        on_failure_queue=ReliableQueue(other, "Failures"),
    )
