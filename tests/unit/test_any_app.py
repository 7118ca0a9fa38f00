"""The two failures a new user met outside the reference app, as they wrote them (issue 10)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from decoupling_constructs import FanOut, StreamToS3


def test_stream_to_s3_synthesizes_in_a_bare_app() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    StreamToS3(stack, "Clicks")
    app.synth()  # raised "objectOwnership must be set to ObjectWriter when accessControl is LogDeliveryWrite"
    template = Template.from_stack(stack).to_json()
    buckets = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::S3::Bucket"]
    assert all("AccessControl" not in bucket for bucket in buckets)
    assert any(
        s["Principal"] == {"Service": "logging.s3.amazonaws.com"}
        for r in template["Resources"].values()
        if r["Type"] == "AWS::S3::BucketPolicy"
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    )


def test_a_queue_of_another_stack_joins_a_fan_out_without_a_cycle() -> None:
    app = cdk.App()
    shared = cdk.Stack(app, "Shared")
    queue = sqs.Queue(shared, "LegacyQueue")
    events = cdk.Stack(app, "Events")
    FanOut(events, "Notifications").add_existing_queue(queue)
    assembly = app.synth()  # raised DependencyCycle: 'Events' depends on 'Shared'
    shared_template = assembly.get_stack_by_name("Shared").template
    assert any(r["Type"] == "AWS::SNS::Subscription" for r in shared_template["Resources"].values())
    assert events in shared.dependencies and shared not in events.dependencies
