"""What the constructs say to checkov: ``acknowledge_checkov`` writes the resource's ``Metadata.checkov.skip``,
and each construct skips a check only where its reason holds (tests/static/test_checkov.py runs checkov)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from decoupling_constructs import QueueFunction, ReliableQueue, StreamFunction
from decoupling_constructs._security import acknowledge_checkov
from tests.unit.cdk_helpers import lid, new_stack


def skips(stack: cdk.Stack, construct: Any) -> dict[str, str]:
    """check id -> reason of ``construct``'s resource in ``stack``'s template."""
    resource = Template.from_stack(stack).to_json()["Resources"][lid(stack, construct)]
    return {skip["id"]: skip["comment"] for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])}


def handler(stack: cdk.Stack, construct_id: str = "Fn", **props: Any) -> lambda_.Function:
    return lambda_.Function(
        stack,
        construct_id,
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {'batchItemFailures': []}\n"),
        timeout=Duration.seconds(20),
        **props,
    )


def test_acknowledge_checkov_adds_one_entry_per_check_and_keeps_the_last_reason() -> None:
    stack = new_stack()
    queue = sqs.Queue(stack, "Q")
    acknowledge_checkov(queue, "CKV_AWS_27", "first reason")
    acknowledge_checkov(queue.node.default_child, "CKV_AWS_27", "second reason")  # type: ignore[arg-type]
    acknowledge_checkov(queue, "CKV_AWS_999", "another check")
    assert skips(stack, queue) == {"CKV_AWS_27": "second reason", "CKV_AWS_999": "another check"}


def test_acknowledge_checkov_leaves_an_imported_resource_alone() -> None:
    stack = new_stack()
    real = sqs.Queue(stack, "Real")
    imported = sqs.Queue.from_queue_arn(stack, "Imported", "arn:aws:sqs:us-east-1:111111111111:q")
    acknowledge_checkov(imported, "CKV_AWS_27", "not in this template")  # no error, nothing to annotate
    assert imported.node.default_child is None
    assert list(Template.from_stack(stack).to_json()["Resources"]) == [lid(stack, real)]
    assert skips(stack, real) == {}


def test_sse_sqs_queues_are_acknowledged_and_kms_queues_are_not() -> None:
    stack = new_stack()
    plain = ReliableQueue(stack, "Plain")
    keyed = ReliableQueue(stack, "Keyed", encryption_key=kms.Key(stack, "Key", enable_key_rotation=True))
    for queue in (plain.queue, plain.dead_letter_queue):
        assert "SqsManagedSseEnabled" in skips(stack, queue)["CKV_AWS_27"]
    for queue in (keyed.queue, keyed.dead_letter_queue):
        assert skips(stack, queue) == {}


def test_queue_function_skips_the_dlq_check_and_reserved_concurrency_only_with_max_concurrency() -> None:
    stack = new_stack()
    capped = handler(stack, "Capped")
    uncapped = handler(stack, "Uncapped")
    QueueFunction(stack, "CappedConsumer", function=capped, max_concurrency=7)
    QueueFunction(stack, "UncappedConsumer", function=uncapped)
    assert set(skips(stack, capped)) == {"CKV_AWS_116", "CKV_AWS_115"}
    assert "max_concurrency (7)" in skips(stack, capped)["CKV_AWS_115"]
    assert "dead-letter queue" in skips(stack, capped)["CKV_AWS_116"]
    assert set(skips(stack, uncapped)) == {"CKV_AWS_116"}  # nothing bounds it: the finding stays


def test_a_function_that_has_the_setting_gets_no_skip_of_it() -> None:
    stack = new_stack()
    function = handler(stack, dead_letter_queue_enabled=True, reserved_concurrent_executions=3)
    QueueFunction(stack, "Consumer", function=function, max_concurrency=2)
    assert skips(stack, function) == {}


def test_stream_function_skips_the_dlq_check_and_reserved_concurrency() -> None:
    stack = new_stack()
    function = handler(stack)
    stream = kinesis.Stream(stack, "Stream", shard_count=1, encryption=kinesis.StreamEncryption.MANAGED)
    StreamFunction(stack, "Reader", function=function, stream=stream, parallelization_factor=3)
    found = skips(stack, function)
    assert set(found) == {"CKV_AWS_116", "CKV_AWS_115"}
    assert "on_failure_queue" in found["CKV_AWS_116"]
    assert "parallelization_factor (3)" in found["CKV_AWS_115"]


def test_an_imported_function_gets_no_metadata() -> None:
    stack = new_stack()
    imported = lambda_.Function.from_function_arn(stack, "Imported", "arn:aws:lambda:us-east-1:111111111111:function:f")
    QueueFunction(stack, "Consumer", function=imported, function_timeout=Duration.seconds(10), max_concurrency=2)
    resources = Template.from_stack(stack).to_json()["Resources"].values()
    assert not [r for r in resources if r["Type"] == "AWS::Lambda::Function"]
