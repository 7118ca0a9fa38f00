"""Cross-stack wiring never ends in aws-cdk-lib's DependencyCycle (issue 19 §3).

Every construct that names a resource of another stack either places its wiring so that no cycle can
arise, or refuses at the call with the library's ValueError naming the construct, the prop, both stacks
and the way out. The matrix: the construct's stack ("Wiring") upstream of the resource's ("Resource"), downstream
of it, or unrelated; the dependency declared (``add_stack_dependency``) or made by a KMS key (in the
resource's stack, in the construct's, or in a third stack "Keys" that both use). Each case synthesizes the
whole App (a cycle raises there) and checks where the wiring went, or that the call raised the library's
error. Then imported resources (``from_*_arn``), resources of another App or Stage, a key policy in a
third stack, and the way out for a reference the library cannot see.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from decoupling_constructs import (
    FanOut,
    QueueFunction,
    QueueWorkers,
    ReliableQueue,
    StreamFunction,
    StreamToHttpEndpoint,
    StreamToS3,
)
from tests.unit.test_queue_workers import WORKER, private_vpc

# relation -> (where the resource's stack stands to the construct's, how the dependency is made)
RELATIONS: dict[str, tuple[str, str | None]] = {
    "unrelated": ("unrelated", None),
    "unrelated-key-in-third-stack": ("unrelated", "key3"),
    "upstream-declared": ("upstream", "declared"),
    "upstream-declared-key-in-third-stack": ("upstream", "declared+key3"),
    "upstream-by-key-in-resource-stack": ("upstream", "key"),
    "downstream-declared": ("downstream", "declared"),
    "downstream-declared-key-in-third-stack": ("downstream", "declared+key3"),
    "downstream-by-key-in-construct-stack": ("downstream", "key"),
}


def depend(consumer: cdk.Stack, producer: cdk.Stack) -> None:
    """``consumer.add_stack_dependency`` (aws-cdk-lib 2.270+), ``add_dependency`` on older releases."""
    add = getattr(consumer, "add_stack_dependency", None)
    if add is None:
        consumer.add_dependency(producer)
    else:
        add(producer)


@dataclass
class World:
    app: cdk.App
    wiring: cdk.Stack
    resource: cdk.Stack
    key: kms.Key | None
    direction: str


def world(relation: str) -> World:
    """The two stacks (and "Keys") of ``relation``. Where a key makes the dependency, each stack that does
    not own it names it through a ReliableQueue (``KeyUser``): a library construct, which records it."""
    direction, how = RELATIONS[relation]
    app = cdk.App()
    keys = cdk.Stack(app, "Keys") if how and how.endswith("key3") else None
    wiring = cdk.Stack(app, "Wiring")
    resource = cdk.Stack(app, "Resource")
    if how and how.startswith("declared"):
        if direction == "upstream":
            depend(wiring, resource)
        else:
            depend(resource, wiring)
    key_home = keys if keys is not None else (resource if direction == "upstream" else wiring) if how else None
    key = kms.Key(key_home, "Key") if key_home is not None else None
    if key is not None:
        for side in (wiring, resource):
            if cdk.Stack.of(key) is not side:
                ReliableQueue(side, "KeyUser", encryption_key=key, create_alarms=False)
    return World(app, wiring, resource, key, direction)


def function(scope: Construct, construct_id: str = "Fn") -> lambda_.Function:
    return lambda_.Function(
        scope,
        construct_id,
        runtime=lambda_.Runtime.PYTHON_3_12,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
    )


def delivery_stream(scope: Construct) -> firehose.DeliveryStream:
    return firehose.DeliveryStream(scope, "Archive", destination=firehose.S3Bucket(s3.Bucket(scope, "ArchiveBucket")))


def fan_out(w: World) -> FanOut:
    return FanOut(w.wiring, "Fan", encryption_key=w.key)


def reliable_queue(scope: Construct, key: kms.IKey | None) -> ReliableQueue:
    return ReliableQueue(scope, "Jobs", visibility_timeout=Duration.minutes(1), encryption_key=key)


def stream_to_s3(scope: Construct, key: kms.IKey | None) -> StreamToS3:
    return StreamToS3(scope, "Clicks", shard_count=1, encryption_key=key)


# --- the wirings: each builds the resource in w.resource and the construct in w.wiring ---


def wire_existing_queue(w: World) -> Construct:
    queue = sqs.Queue(w.resource, "Queue", encryption_master_key=w.key)
    return fan_out(w).add_existing_queue(queue)


def wire_existing_reliable_queue(w: World) -> Construct:
    return fan_out(w).add_existing_queue(reliable_queue(w.resource, w.key).queue)


def wire_function(w: World) -> Construct:
    return fan_out(w).add_function("Notify", function(w.resource))


def wire_delivery_stream(w: World) -> Construct:
    return fan_out(w).add_delivery_stream("Archive", delivery_stream(w.resource))


def wire_queue_function(w: World) -> Construct:
    return QueueFunction(w.wiring, "Worker", function=function(w.wiring), queue=reliable_queue(w.resource, w.key))


def wire_stream_function(w: World) -> Construct:
    return StreamFunction(w.wiring, "Reader", function=function(w.wiring), stream=stream_to_s3(w.resource, w.key))


def wire_stream_function_on_failure(w: World) -> Construct:
    return StreamFunction(
        w.wiring,
        "Reader",
        function=function(w.wiring),
        stream=kinesis.Stream(w.wiring, "Own", shard_count=1),
        on_failure_queue=reliable_queue(w.resource, w.key),
    )


def wire_queue_workers(w: World) -> Construct:
    return QueueWorkers(
        w.wiring,
        "Workers",
        queue=reliable_queue(w.resource, w.key),
        vpc=private_vpc(w.wiring),
        average_processing_time=Duration.millis(100),
        latency_target=Duration.seconds(10),
        **WORKER,  # type: ignore[arg-type]
    )


def wire_stream_to_s3_bucket(w: World) -> Construct:
    bucket = s3.Bucket(w.resource, "Landing", encryption_key=w.key, enforce_ssl=True)
    return StreamToS3(w.wiring, "Clicks", shard_count=1, existing_bucket=bucket)


def wire_http_backup_bucket(w: World) -> Construct:
    bucket = s3.Bucket(w.resource, "Backups", encryption_key=w.key, enforce_ssl=True)
    return StreamToHttpEndpoint(w.wiring, "Out", url="https://ingest.example.com/firehose", backup_bucket=bucket)


@dataclass(frozen=True)
class Wiring:
    wire: Callable[[World], Construct]
    #: FanOut's subscriptions are "placed" (beside the resource, or in the construct's stack when that
    #: already depends on the resource's); the consumers build everything in their own stack and refuse
    #: a resource whose stack depends on it.
    placed: bool
    #: the resource type that is the wiring, counted in each template
    resource_type: str
    #: the construct's class and path, and the prop, as the error names them
    construct: str = ""
    prop: str = ""


WIRINGS: dict[str, Wiring] = {
    "FanOut.add_existing_queue(sqs.Queue)": Wiring(wire_existing_queue, True, "AWS::SNS::Subscription"),
    "FanOut.add_existing_queue(ReliableQueue.queue)": Wiring(
        wire_existing_reliable_queue, True, "AWS::SNS::Subscription"
    ),
    "FanOut.add_function": Wiring(wire_function, True, "AWS::SNS::Subscription"),
    "FanOut.add_delivery_stream": Wiring(wire_delivery_stream, True, "AWS::SNS::Subscription"),
    "QueueFunction(queue=)": Wiring(
        wire_queue_function, False, "AWS::Lambda::EventSourceMapping", "QueueFunction 'Wiring/Worker'", "queue"
    ),
    "StreamFunction(stream=)": Wiring(
        wire_stream_function, False, "AWS::Lambda::EventSourceMapping", "StreamFunction 'Wiring/Reader'", "stream"
    ),
    "StreamFunction(on_failure_queue=)": Wiring(
        wire_stream_function_on_failure,
        False,
        "AWS::Lambda::EventSourceMapping",
        "StreamFunction 'Wiring/Reader'",
        "on_failure_queue",
    ),
    "QueueWorkers(queue=)": Wiring(
        wire_queue_workers, False, "AWS::AutoScaling::AutoScalingGroup", "QueueWorkers 'Wiring/Workers'", "queue"
    ),
    "StreamToS3(existing_bucket=)": Wiring(
        wire_stream_to_s3_bucket,
        False,
        "AWS::KinesisFirehose::DeliveryStream",
        "StreamToS3 'Wiring/Clicks'",
        "existing_bucket",
    ),
    "StreamToHttpEndpoint(backup_bucket=)": Wiring(
        wire_http_backup_bucket,
        False,
        "AWS::KinesisFirehose::DeliveryStream",
        "StreamToHttpEndpoint 'Wiring/Out'",
        "backup_bucket",
    ),
}


def templates(app: cdk.App) -> dict[str, dict[str, Any]]:
    """Every stack's template; ``app.synth()`` raises aws-cdk-lib's DependencyCycle on a cycle."""
    assembly = app.synth()
    return {stack.stack_name: stack.template for stack in assembly.stacks}


def count(template: dict[str, Any], resource_type: str) -> int:
    return sum(r["Type"] == resource_type for r in template.get("Resources", {}).values())


def imports_from(template: dict[str, Any], stack_name: str) -> bool:
    """Whether ``template`` names an export of ``stack_name`` (aws-cdk-lib names exports after the stack)."""
    return f'"Fn::ImportValue": "{stack_name}:' in json.dumps(template)


@pytest.mark.parametrize("relation", list(RELATIONS))
@pytest.mark.parametrize("wiring", list(WIRINGS))
def test_every_direction_synthesizes_or_is_refused_clearly(wiring: str, relation: str) -> None:
    case = WIRINGS[wiring]
    w = world(relation)
    if not case.placed and w.direction == "downstream":
        with pytest.raises(ValueError) as raised:
            case.wire(w)
        message = str(raised.value)
        assert message.startswith(f"{case.construct}: {case.prop} ")
        assert "is in stack 'Resource', which depends on this construct's stack 'Wiring'" in message
        assert "a dependency cycle" in message
        assert "Build this construct in a stack that 'Resource' does not depend on" in message
        templates(w.app)  # what was built before the refusal still synthesizes
        return
    holder = case.wire(w)
    expected = w.wiring if not case.placed or w.direction == "upstream" else w.resource
    other = w.resource if expected is w.wiring else w.wiring
    assert cdk.Stack.of(holder) is expected
    synthesized = templates(w.app)  # no DependencyCycle
    assert count(synthesized[expected.stack_name], case.resource_type) == 1
    assert count(synthesized[other.stack_name], case.resource_type) == 0
    # The stack that holds the wiring depends on the other, never the other way round.
    assert not imports_from(synthesized[other.stack_name], expected.stack_name)
    if "Keys" in synthesized:  # a shared key's policy names no stack of the app (no import, no dependency)
        assert not imports_from(synthesized["Keys"], "Wiring")
        assert not imports_from(synthesized["Keys"], "Resource")


def test_an_upstream_queue_gets_a_policy_naming_the_topic_by_its_name() -> None:
    """The issue's case: the queue's stack owns the shared key the FanOut uses. The subscription stays in the
    topic's stack; the queue's policy and the key's policy name the topic by an ARN built from its name, so
    the queue's stack does not depend on the topic's."""
    app = cdk.App()
    shared = cdk.Stack(app, "Shared")
    key = kms.Key(shared, "Key")
    queue = sqs.Queue(shared, "Queue", encryption_master_key=key)
    topics = cdk.Stack(app, "Topics")
    fan = FanOut(topics, "Orders", encryption_key=key, topic_name="orders")
    subscription = fan.add_existing_queue(queue)
    assert cdk.Stack.of(subscription) is topics
    synthesized = templates(app)
    policy = next(r for r in synthesized["Shared"]["Resources"].values() if r["Type"] == "AWS::SQS::QueuePolicy")
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "sqs:SendMessage"
    source = json.dumps(statement["Condition"]["ArnEquals"]["aws:SourceArn"])
    # arn:<partition>:sns:<region>:<account>:<the topic's name>, the name written out
    assert ':sns:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"}, ":orders"' in source
    key_statements = [
        s
        for r in synthesized["Shared"]["Resources"].values()
        if r["Type"] == "AWS::KMS::Key"
        for s in r["Properties"]["KeyPolicy"]["Statement"]
        if s["Principal"] == {"Service": "sns.amazonaws.com"}
    ]
    assert key_statements and all("Fn::ImportValue" not in json.dumps(s) for s in key_statements)
    assert shared.dependencies == []
    assert topics.dependencies == [shared]


# --- imported resources: their stack names nothing, so the wiring stays with the construct ---


QUEUE_ARN = "arn:aws:sqs:eu-west-1:111111111111:jobs"
FUNCTION_ARN = "arn:aws:lambda:eu-west-1:111111111111:function:notify"
DELIVERY_STREAM_ARN = "arn:aws:firehose:eu-west-1:111111111111:deliverystream/archive"
STREAM_ARN = "arn:aws:kinesis:eu-west-1:111111111111:stream/clicks"
BUCKET_ARN = "arn:aws:s3:::landing"

IMPORTS: dict[str, Callable[[FanOut | None, cdk.Stack, cdk.Stack], Construct]] = {
    "sqs.Queue.from_queue_arn": lambda fan, scope, wiring: fan.add_existing_queue(  # type: ignore[union-attr]
        sqs.Queue.from_queue_arn(scope, "Imported", QUEUE_ARN), construct_id="Jobs"
    ),
    "lambda_.Function.from_function_arn": lambda fan, scope, wiring: fan.add_function(  # type: ignore[union-attr]
        "Notify", lambda_.Function.from_function_arn(scope, "Imported", FUNCTION_ARN)
    ),
    "firehose.DeliveryStream.from_delivery_stream_arn": lambda fan, scope, wiring: fan.add_delivery_stream(  # type: ignore[union-attr]
        "Archive", firehose.DeliveryStream.from_delivery_stream_arn(scope, "Imported", DELIVERY_STREAM_ARN)
    ),
    "kinesis.Stream.from_stream_arn": lambda fan, scope, wiring: StreamFunction(
        wiring,
        "Reader",
        function=function(wiring),
        stream=kinesis.Stream.from_stream_arn(scope, "Imported", STREAM_ARN),
    ),
    "s3.Bucket.from_bucket_arn": lambda fan, scope, wiring: StreamToS3(
        wiring, "Clicks", shard_count=1, existing_bucket=s3.Bucket.from_bucket_arn(scope, "Imported", BUCKET_ARN)
    ),
}
IMPORTED_WIRING = {
    "sqs.Queue.from_queue_arn": "AWS::SNS::Subscription",
    "lambda_.Function.from_function_arn": "AWS::SNS::Subscription",
    "firehose.DeliveryStream.from_delivery_stream_arn": "AWS::SNS::Subscription",
    "kinesis.Stream.from_stream_arn": "AWS::Lambda::EventSourceMapping",
    "s3.Bucket.from_bucket_arn": "AWS::KinesisFirehose::DeliveryStream",
}


@pytest.mark.parametrize("imported_in", ["construct-stack", "upstream-stack", "downstream-stack", "unrelated-stack"])
@pytest.mark.parametrize("how", list(IMPORTS))
def test_an_imported_resource_is_wired_from_the_constructs_stack(how: str, imported_in: str) -> None:
    app = cdk.App()
    wiring = cdk.Stack(app, "Wiring")
    other = cdk.Stack(app, "Other")
    cdk.CfnWaitConditionHandle(other, "NotEmpty")  # a stack holding only an import has no template resources
    if imported_in == "upstream-stack":
        depend(wiring, other)
    elif imported_in == "downstream-stack":
        depend(other, wiring)
    scope = wiring if imported_in == "construct-stack" else other
    fan = FanOut(wiring, "Fan") if how.startswith(("sqs", "lambda", "firehose")) else None
    built = IMPORTS[how](fan, scope, wiring)
    assert cdk.Stack.of(built) is wiring
    synthesized = templates(app)
    assert count(synthesized["Wiring"], IMPORTED_WIRING[how]) == 1
    assert count(synthesized["Other"], IMPORTED_WIRING[how]) == 0


@pytest.mark.parametrize("direction", ["upstream", "unrelated", "downstream"])
def test_an_import_whose_arn_names_another_stack_follows_that_stack(direction: str) -> None:
    """``from_queue_arn`` with the ARN of a queue of another stack: the subscription names that stack, so it
    is wired from the topic's stack when it may depend on it, and refused when that stack depends on it."""
    app = cdk.App()
    wiring = cdk.Stack(app, "Wiring")
    resource = cdk.Stack(app, "Resource")
    queue = sqs.Queue(resource, "Queue")
    if direction == "upstream":
        depend(wiring, resource)
    elif direction == "downstream":
        depend(resource, wiring)
    fan = FanOut(wiring, "Fan")
    imported = sqs.Queue.from_queue_arn(wiring, "Imported", queue.queue_arn)
    if direction == "downstream":
        with pytest.raises(
            ValueError,
            match=r"^FanOut 'Wiring/Fan' add_existing_queue\(\): queue 'Wiring/Imported' "
            r"is in stack 'Resource', which depends on this construct's stack 'Wiring'.*cycle",
        ):
            fan.add_existing_queue(imported, construct_id="Jobs")
        return
    assert cdk.Stack.of(fan.add_existing_queue(imported, construct_id="Jobs")) is wiring
    assert count(templates(app)["Wiring"], "AWS::SNS::Subscription") == 1


# --- another App, another Stage: refused, never jsii's raw NoCrossStageDependency nor a silent loss ---

OTHER_APP_CALLS: dict[str, Callable[[cdk.Stack, cdk.Stack], object]] = {
    "FanOut.add_existing_queue": lambda ours, theirs: FanOut(ours, "Fan").add_existing_queue(
        sqs.Queue(theirs, "Queue")
    ),
    "FanOut.add_existing_queue(imported)": lambda ours, theirs: FanOut(ours, "Fan").add_existing_queue(
        sqs.Queue.from_queue_arn(theirs, "Queue", QUEUE_ARN)
    ),
    "FanOut.add_function": lambda ours, theirs: FanOut(ours, "Fan").add_function("Notify", function(theirs)),
    "FanOut.add_delivery_stream": lambda ours, theirs: FanOut(ours, "Fan").add_delivery_stream(
        "Archive", delivery_stream(theirs)
    ),
    "FanOut(encryption_key=)": lambda ours, theirs: FanOut(ours, "Fan", encryption_key=kms.Key(theirs, "Key")),
    "QueueFunction(function=)": lambda ours, theirs: QueueFunction(ours, "Worker", function=function(theirs)),
    "QueueFunction(queue=)": lambda ours, theirs: QueueFunction(
        ours, "Worker", function=function(ours), queue=reliable_queue(theirs, None)
    ),
    "StreamFunction(stream=)": lambda ours, theirs: StreamFunction(
        ours, "Reader", function=function(ours), stream=stream_to_s3(theirs, None)
    ),
    "StreamFunction(on_failure_queue=)": lambda ours, theirs: StreamFunction(
        ours,
        "Reader",
        function=function(ours),
        stream=kinesis.Stream(ours, "Own", shard_count=1),
        on_failure_queue=reliable_queue(theirs, None),
    ),
    "QueueWorkers(queue=)": lambda ours, theirs: QueueWorkers(
        ours,
        "Workers",
        queue=reliable_queue(theirs, None),
        vpc=private_vpc(ours),
        average_processing_time=Duration.millis(100),
        latency_target=Duration.seconds(10),
        **WORKER,  # type: ignore[arg-type]
    ),
    "StreamToS3(existing_bucket=)": lambda ours, theirs: StreamToS3(
        ours, "Clicks", shard_count=1, existing_bucket=s3.Bucket(theirs, "Landing")
    ),
    "StreamFunction(function=)": lambda ours, theirs: StreamFunction(
        ours, "Reader", function=function(theirs), stream=kinesis.Stream(ours, "Own", shard_count=1)
    ),
    "StreamFunction(stream=imported)": lambda ours, theirs: StreamFunction(
        ours, "Reader", function=function(ours), stream=kinesis.Stream.from_stream_arn(theirs, "Clicks", STREAM_ARN)
    ),
    "QueueWorkers(vpc=)": lambda ours, theirs: QueueWorkers(
        ours,
        "Workers",
        queue=reliable_queue(ours, None),
        vpc=private_vpc(theirs),
        average_processing_time=Duration.millis(100),
        latency_target=Duration.seconds(10),
        **WORKER,  # type: ignore[arg-type]
    ),
    "StreamToS3(encryption_key=)": lambda ours, theirs: stream_to_s3(ours, kms.Key(theirs, "Key")),
    "ReliableQueue(encryption_key=)": lambda ours, theirs: reliable_queue(ours, kms.Key(theirs, "Key")),
    "ReliableQueue(alarm_topic=)": lambda ours, theirs: ReliableQueue(
        ours, "Jobs", alarm_topic=sns.Topic(theirs, "Alarms")
    ),
}


@pytest.mark.parametrize("call", list(OTHER_APP_CALLS))
def test_a_resource_of_another_app_is_refused(call: str) -> None:
    """Refused at the call (the rule engine's alarm_topic rule says it in its words), never jsii's raw
    NoCrossStageDependency at synthesis nor wiring silently built into the other App."""
    ours = cdk.Stack(cdk.App(), "Ours")
    theirs = cdk.Stack(cdk.App(), "Theirs")
    with pytest.raises(ValueError, match=r"'Theirs/[^']+'.* another App") as raised:
        OTHER_APP_CALLS[call](ours, theirs)
    message = str(raised.value)
    assert message.startswith(
        ("FanOut 'Ours/Fan'", "QueueFunction", "StreamFunction", "QueueWorkers", "StreamToS3", "ReliableQueue")
    )
    assert "import it" in message and "aws-cdk-lib refused it" not in message


def test_a_resource_of_another_stage_is_refused() -> None:
    app = cdk.App()
    ours = cdk.Stack(app, "Ours")
    theirs = cdk.Stack(cdk.Stage(app, "Prod"), "Theirs")
    with pytest.raises(
        ValueError,
        match=r"queue 'Prod/Theirs/Queue' is in Stage 'Prod', this construct in Stage "
        r"'<the App>'",
    ):
        FanOut(ours, "Fan").add_existing_queue(sqs.Queue(theirs, "Queue"))


# --- keys and alarm topics of other stacks ---


def test_a_key_of_a_downstream_stack_is_refused_where_it_would_be_named() -> None:
    app = cdk.App()
    wiring = cdk.Stack(app, "Wiring")
    keys = cdk.Stack(app, "Keys")
    depend(keys, wiring)
    key = kms.Key(keys, "Key")
    for build, prefix in (
        (lambda: FanOut(wiring, "Fan", encryption_key=key), "FanOut 'Wiring/Fan': encryption_key"),
        (lambda: ReliableQueue(wiring, "Jobs", encryption_key=key), "ReliableQueue 'Wiring/Jobs': encryption_key"),
        (lambda: stream_to_s3(wiring, key), "StreamToS3 'Wiring/Clicks': encryption_key"),
    ):
        with pytest.raises(ValueError, match="which depends on this construct's stack 'Wiring'") as raised:
            build()
        assert str(raised.value).startswith(f"{prefix} 'Keys/Key' is in stack 'Keys'")


def test_a_queue_whose_key_is_downstream_is_refused_with_the_chain() -> None:
    """A queue of another stack, encrypted with a key whose stack depends on the consumer's: the queue's stack
    depends on the consumer's through the key (learned from the L2, not resolved), and the error shows how."""
    app = cdk.App()
    workers = cdk.Stack(app, "Workers")
    queues = cdk.Stack(app, "Queues")
    keys = cdk.Stack(app, "Keys")
    depend(keys, workers)
    queue = sqs.Queue(queues, "Queue", encryption_master_key=kms.Key(keys, "Key"))
    fan = FanOut(workers, "Fan")
    subscription = fan.add_existing_queue(queue)  # placed beside the queue: Queues -> Workers is fine
    assert cdk.Stack.of(subscription) is queues
    templates(app)
    app = cdk.App()
    workers = cdk.Stack(app, "Workers")
    queues = cdk.Stack(app, "Queues")
    keys = cdk.Stack(app, "Keys")
    depend(keys, workers)
    jobs = reliable_queue(queues, kms.Key(keys, "Key"))
    with pytest.raises(
        ValueError,
        match=r"^QueueFunction 'Workers/Worker': queue 'Queues/Jobs/Queue' is in stack 'Queues', which depends on "
        r"this construct's stack 'Workers' \('Queues' -> 'Keys' -> 'Workers'\)",
    ):
        QueueFunction(workers, "Worker", function=function(workers), queue=jobs)


@pytest.mark.parametrize("direction", ["upstream", "downstream"])
def test_an_alarm_topic_of_another_stack(direction: str) -> None:
    app = cdk.App()
    alarms = cdk.Stack(app, "Alarms")
    topic = sns.Topic(alarms, "Topic")
    jobs = cdk.Stack(app, "Jobs")
    if direction == "downstream":
        depend(alarms, jobs)
        with pytest.raises(
            ValueError,
            match=r"^ReliableQueue 'Jobs/Jobs': alarm_topic 'Alarms/Topic' is in stack "
            "'Alarms', which depends on this construct's stack 'Jobs'",
        ):
            ReliableQueue(jobs, "Jobs", alarm_topic=topic)
        return
    ReliableQueue(jobs, "Jobs", alarm_topic=topic)
    templates(app)
    assert jobs.dependencies == [alarms]


def test_a_reference_the_library_cannot_see_is_declared_with_add_dependency() -> None:
    """The library decides with what is known at the call (see _stacks): a reference made by plain L2 code
    elsewhere is found by aws-cdk-lib only at synthesis. Declared first, it is taken into account."""
    app = cdk.App()
    shared = cdk.Stack(app, "Shared")
    key = kms.Key(shared, "Key")
    queue = sqs.Queue(shared, "Queue")
    topics = cdk.Stack(app, "Topics")
    sqs.Queue(topics, "Plain", encryption_master_key=key)  # plain L2: Topics -> Shared, unseen until synthesis
    depend(topics, shared)  # the way out the docs give
    subscription = FanOut(topics, "Orders").add_existing_queue(queue)
    assert cdk.Stack.of(subscription) is topics
    templates(app)


@pytest.mark.parametrize("written_out", [False, True])
def test_a_service_publisher_source_of_a_stack_fed_by_the_topic_key(written_out: bool) -> None:
    """S3 notifications to an encrypted FanOut, the bucket encrypted with the same shared key: the key's
    policy would name the bucket's ARN token (Keys -> Buckets) while the bucket names the key (Buckets ->
    Keys). Refused, naming the way out; the ARN written out from the bucket's name synthesizes."""
    app = cdk.App()
    keys = cdk.Stack(app, "Keys")
    key = kms.Key(keys, "Key")
    buckets = cdk.Stack(app, "Buckets")
    bucket = s3.Bucket(buckets, "Uploads", bucket_name="uploads-111", encryption_key=key, enforce_ssl=True)
    topics = cdk.Stack(app, "Topics")
    fan = FanOut(topics, "Fan", encryption_key=key)
    if written_out:
        fan.allow_service_publisher("s3.amazonaws.com", source_arn="arn:aws:s3:::uploads-111")
        assert not imports_from(templates(app)["Keys"], "Buckets")
        return
    with pytest.raises(
        ValueError,
        match=r"^FanOut 'Topics/Fan' allow_service_publisher\(\): source_arn names a resource of stack 'Buckets', "
        r"which depends on stack 'Keys' \('Buckets' -> 'Keys'\), where source_arn is written.*Write the ARN out",
    ):
        fan.allow_service_publisher("s3.amazonaws.com", source_arn=bucket.bucket_arn)
