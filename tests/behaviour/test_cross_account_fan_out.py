"""Fan-out across accounts and Regions, deployed with the real `cdk deploy` into MiniStack as two accounts.

MiniStack 1.5.33 runs with ``AUTH=true``: a 12-digit access key is that account's root, and its SNS and SQS
enforce the topic policy (a cross-account Subscribe needs an Allow) and the queue policy (SNS delivers only where
the queue lets it). The topic's stack is deployed as account 111111111111 in us-east-1, the queue's as
222222222222 in eu-west-1.

What is completed, and labelled as such: MiniStack's CloudFormation turns a subscription to a topic of another
account or Region into a silent no-op (CREATE_COMPLETE, a made-up ARN, nothing subscribed: STREAMING_NOTES 5.4).
``complete_cross_environment_subscriptions`` makes it the way CloudFormation does on AWS (Subscribe from the
queue's account, in the topic's Region, with the template's attributes), through the emulator's real SNS API, so
the topic policy still decides; the verification report names the completion.

What MiniStack cannot show, proven by the template tests (tests/unit/test_subscribed_queue.py) instead: the
``sns:Protocol`` / ``sns:Endpoint`` conditions (MiniStack 1.5.33 puts neither key in a Subscribe's request
context, so a statement conditioned on them never matches there: the grant here is ``protocols=None``), KMS key
policies between accounts, and opt-in Region principals.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import pytest
from botocore.exceptions import ClientError

from decoupling_constructs import FanOut, SubscribedQueue
from decoupling_constructs.testing import Deployment, verify
from decoupling_constructs.testing.completion import complete_cross_environment_subscriptions
from decoupling_constructs.testing.emulators import Emulator, cdk_deploy, ministack

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("cross-account")]

TOPIC_ACCOUNT, QUEUE_ACCOUNT = "111111111111", "222222222222"
TOPIC_REGION, QUEUE_REGION = "us-east-1", "eu-west-1"


@dataclass
class World:
    topics: Emulator
    queues: Emulator
    deployment: Deployment
    orders_arn: str
    invoices_url: str
    invoices_subscription: str
    refused_subscription: str


def logical_id(stack: cdk.Stack, construct: object) -> str:
    return str(stack.resolve(construct.node.default_child.logical_id))  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    out = tmp_path_factory.mktemp("xacct-cdk.out")
    app = cdk.App(outdir=str(out))
    # The legacy synthesizer passes the (small) templates inline: under AUTH=true MiniStack applies the bootstrap
    # bucket's TLS-only policy to its plain-HTTP endpoint, so the default synthesizer's asset upload is denied.
    topics = cdk.Stack(
        app,
        "XacctTopics",
        env=cdk.Environment(account=TOPIC_ACCOUNT, region=TOPIC_REGION),
        synthesizer=cdk.LegacyStackSynthesizer(),
    )
    orders = FanOut(topics, "Orders", topic_name="orders")
    orders.grant_subscribe([QUEUE_ACCOUNT], protocols=None)  # see the module docstring: no sns:Protocol here
    closed = FanOut(topics, "Closed", topic_name="closed")  # grants nobody
    queues = cdk.Stack(
        app,
        "XacctQueues",
        env=cdk.Environment(account=QUEUE_ACCOUNT, region=QUEUE_REGION),
        synthesizer=cdk.LegacyStackSynthesizer(),
    )
    invoices = SubscribedQueue(queues, "Invoices", topic=orders, raw_message_delivery=True)
    refused = SubscribedQueue(queues, "Refused", topic=closed)
    assembly = app.synth()
    logs = tmp_path_factory.mktemp("xacct-ministack")
    with ministack(log_file=logs / "ministack.log", auth=True) as root:
        as_topics = root.for_account(TOPIC_ACCOUNT, TOPIC_REGION)
        as_queues = root.for_account(QUEUE_ACCOUNT, QUEUE_REGION)
        cdk_deploy(
            Path(assembly.directory),
            ["XacctTopics"],
            as_topics,
            log_file=logs / "cdk.log",
            exclusively=True,
            bootstrap=False,
        )
        cdk_deploy(
            Path(assembly.directory),
            ["XacctQueues"],
            as_queues,
            log_file=logs / "cdk.log",
            exclusively=True,
            bootstrap=False,
        )
        deployment = as_queues.deployment("XacctQueues", assembly.get_stack_by_name("XacctQueues").template)
        yield World(
            topics=as_topics,
            queues=as_queues,
            deployment=deployment,
            orders_arn=f"arn:aws:sns:{TOPIC_REGION}:{TOPIC_ACCOUNT}:orders",
            invoices_url=deployment.queue_url(logical_id(queues, invoices.queue.queue)),
            invoices_subscription=logical_id(queues, invoices.subscription),
            refused_subscription=logical_id(queues, refused.subscription),
        )


def _as_if_over_tls(request: object, **_: object) -> None:
    request.headers["X-Forwarded-Proto"] = "https"  # type: ignore[attr-defined]


def client(emulator: Emulator, service: str, region: str) -> object:
    """A client of ``emulator``'s account. MiniStack listens on plain HTTP; under AUTH=true it evaluates
    ``aws:SecureTransport`` from ``X-Forwarded-Proto`` (what a TLS-terminating proxy sets), so the library's
    TLS-only statements (Deny when ``aws:SecureTransport`` is false) would refuse every call: the header says the
    call came over TLS, as it does on AWS."""
    import boto3

    made = boto3.client(
        service,
        region_name=region,
        endpoint_url=emulator.endpoint_url,
        aws_access_key_id=emulator.access_key_id,
        aws_secret_access_key="testing",
    )
    made.meta.events.register("before-sign.*.*", _as_if_over_tls)
    return made


def receive_all(world: World, wait_s: float) -> list[str]:
    sqs = client(world.queues, "sqs", QUEUE_REGION)
    bodies: list[str] = []
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=world.invoices_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)  # type: ignore[attr-defined]
        for message in messages.get("Messages", []):
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=world.invoices_url, ReceiptHandle=message["ReceiptHandle"])  # type: ignore[attr-defined]
    return bodies


def publish(world: World, count: int, tag: str) -> list[str]:
    sns = client(world.topics, "sns", TOPIC_REGION)
    sent = [json.dumps({"order": i, "tag": tag}) for i in range(count)]
    for body in sent:
        sns.publish(TopicArn=world.orders_arn, Message=body)  # type: ignore[attr-defined]
    return sent


def test_1_cloudformation_in_ministack_subscribes_nothing_across_accounts(world: World) -> None:
    """Why the completion exists: the stack is CREATE_COMPLETE and the topic has no subscriber."""
    sns = client(world.topics, "sns", TOPIC_REGION)
    assert sns.list_subscriptions_by_topic(TopicArn=world.orders_arn)["Subscriptions"] == []  # type: ignore[attr-defined]


def test_2_without_the_topic_policy_the_subscribe_is_denied(world: World) -> None:
    with pytest.raises(ClientError) as denied:
        complete_cross_environment_subscriptions(world.deployment, only=[world.refused_subscription])
    assert denied.value.response["Error"]["Code"] == "AuthorizationError"
    assert world.refused_subscription not in world.deployment.completions


def subscribed(world: World) -> str:
    """The invoices subscription, made once per world by the labelled completion. Tests 3-5 need it whichever
    worker runs them: xdist may split this module across workers (each with a world of its own)."""
    if world.invoices_subscription not in world.deployment.completions:
        made = complete_cross_environment_subscriptions(world.deployment, only=[world.invoices_subscription])
        assert list(made) == [world.invoices_subscription]
    return world.deployment.completed[world.invoices_subscription]


def test_3_with_both_policies_every_message_arrives(world: World) -> None:
    arn = subscribed(world)
    assert arn.startswith(f"arn:aws:sns:{TOPIC_REGION}:{TOPIC_ACCOUNT}:orders:")  # made in the topic's Region
    sns = client(world.queues, "sns", TOPIC_REGION)
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]  # type: ignore[attr-defined]
    assert attributes["Owner"] == QUEUE_ACCOUNT
    assert attributes["RawMessageDelivery"] == "true"  # the template's attribute
    sent = publish(world, 5, "both-policies")
    received = receive_all(world, wait_s=10)
    assert sorted(received) == sorted(sent)  # raw delivery: the bodies as published, every one


def test_4_the_verification_report_names_the_completion(world: World) -> None:
    subscribed(world)
    report = verify(world.deployment, check=False)
    (line,) = report.completions
    assert line.startswith(f"{world.invoices_subscription} (AWS::SNS::Subscription): completion: subscribed")
    assert "completed by the test helper" in report.summary()
    assert any(f.logical_id == world.invoices_subscription and f.property == "Endpoint" for f in report.matches), (
        report.details()
    )


def test_5_without_the_queue_policy_nothing_is_delivered(world: World) -> None:
    arn = subscribed(
        world
    )  # subscribed: so that nothing arriving is the queue policy's doing, not a missing subscription
    sns = client(world.queues, "sns", TOPIC_REGION)
    assert sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]["Owner"] == QUEUE_ACCOUNT  # type: ignore[attr-defined]
    sqs = client(world.queues, "sqs", QUEUE_REGION)
    policy = json.loads(
        sqs.get_queue_attributes(QueueUrl=world.invoices_url, AttributeNames=["Policy"])["Attributes"]["Policy"]  # type: ignore[attr-defined]
    )
    kept = [s for s in policy["Statement"] if s.get("Action") != "sqs:SendMessage"]
    assert len(kept) == len(policy["Statement"]) - 1  # the SNS statement SubscribedQueue added, and only it
    sqs.set_queue_attributes(
        QueueUrl=world.invoices_url, Attributes={"Policy": json.dumps({**policy, "Statement": kept})}
    )  # type: ignore[attr-defined]
    publish(world, 3, "no-queue-policy")
    assert receive_all(world, wait_s=6) == []
