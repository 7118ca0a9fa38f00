"""redrive() and peek() against moto (copy path), botocore's Stubber (API path: moto 5.2.5 does not implement
StartMessageMoveTask/ListMessageMoveTasks), and the CLI against a moto server in a subprocess.

Queues: the ``DecouplingReliableQueue`` reference stack deployed with ``deploy_to_moto`` where the test is about the
deployed redrive policy, otherwise queues created with boto3 (each test says which).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto.server import ThreadedMotoServer

from decoupling_constructs.runtime import __main__ as cli
from decoupling_constructs.runtime.redrive import (
    QueueArn,
    RedriveError,
    RedriveResult,
    is_not_implemented,
    peek,
    redrive,
)
from decoupling_constructs.testing import deploy_to_moto
from tests.sqs_helpers import depth

REGION = "us-east-1"
ROOT = Path(__file__).resolve().parents[2]
DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:work-dlq"
DEST_ARN = "arn:aws:sqs:us-east-1:123456789012:work"


def arn_of(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def make_pair(sqs: Any, *, fifo: bool = False, max_receive: int = 3) -> tuple[str, str]:
    """A source queue and its DLQ (boto3, unique names). Returns (source url, dlq url)."""
    suffix = ".fifo" if fifo else ""
    fifo_attributes = {"FifoQueue": "true"} if fifo else {}
    name = f"q-{uuid.uuid4().hex[:10]}"
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq{suffix}", Attributes=fifo_attributes)["QueueUrl"]
    policy = json.dumps({"deadLetterTargetArn": arn_of(sqs, dlq_url), "maxReceiveCount": max_receive})
    url = sqs.create_queue(QueueName=f"{name}{suffix}", Attributes={**fifo_attributes, "RedrivePolicy": policy})[
        "QueueUrl"
    ]
    return url, dlq_url


def fill(sqs: Any, url: str, n: int, groups: list[str] | None = None) -> list[str]:
    """n messages with a message attribute; returns their bodies in order."""
    bodies = [f"body-{i}" for i in range(n)]
    for start in range(0, n, 10):
        entries = []
        for i in range(start, min(n, start + 10)):
            entry: dict[str, Any] = {
                "Id": str(i),
                "MessageBody": bodies[i],
                "MessageAttributes": {"index": {"DataType": "Number", "StringValue": str(i)}},
            }
            if groups is not None:
                entry["MessageGroupId"] = groups[i]
                entry["MessageDeduplicationId"] = f"dedup-{i}"
            entries.append(entry)
        assert not sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed")
    return bodies


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,  # the reference queues long-poll 20 s by default
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return found
        found.extend(messages)
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        )


def visible(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


@pytest.fixture
def sqs(aws: None) -> Any:
    return boto3.client("sqs", region_name=REGION)


# -- copy path (moto) -----------------------------------------------------------------------------------------


def test_auto_falls_back_to_copy_and_moves_the_dlq_back_to_its_source(aws, reference_stacks, caplog) -> None:
    """Reference stack ``jobs``: the destination is found from the deployed RedrivePolicy
    (ListDeadLetterSourceQueues); moto lacks StartMessageMoveTask, so ``auto`` copies (with a warning)."""
    stack = reference_stacks["DecouplingReliableQueue"]
    deployment = deploy_to_moto(stack)
    sqs = deployment.client("sqs")
    url, dlq_url = deployment.queue_url(stack.jobs.queue), deployment.queue_url(stack.jobs.dead_letter_queue)
    bodies = fill(sqs, dlq_url, 23)
    progress: list[tuple[str, int, int | None]] = []

    with caplog.at_level(logging.WARNING, logger="decoupling_constructs.runtime.redrive"):
        result = redrive(
            deployment.queue_arn(stack.jobs.dead_letter_queue),
            client=sqs,
            on_progress=lambda r: progress.append((r.status, r.moved, r.to_move)),
        )

    assert "StartMessageMoveTask is not available" in caplog.text
    assert (result.status, result.method, result.moved, result.to_move, result.failed) == (
        "COMPLETED",
        "copy",
        23,
        23,
        0,
    )
    assert result.ok and result.failure_reason is None
    assert result.destination_arn == deployment.queue_arn(stack.jobs.queue)
    assert progress == [("RUNNING", 10, 23), ("RUNNING", 20, 23), ("RUNNING", 23, 23)]
    assert result.api_calls["StartMessageMoveTask"] == 1  # tried first
    assert result.api_calls["SendMessageBatch"] == 3 and result.api_calls["DeleteMessageBatch"] == 3
    moved = drain(sqs, url)
    assert sorted(m["Body"] for m in moved) == sorted(bodies)
    assert all(m["MessageAttributes"]["index"]["StringValue"] == m["Body"].split("-")[1] for m in moved)
    assert visible(sqs, dlq_url) == 0


def test_copy_keeps_fifo_groups_and_order(sqs) -> None:
    """boto3 FIFO queues without content-based dedup: the copy must set MessageGroupId and a dedup id itself."""
    url, dlq_url = make_pair(sqs, fifo=True)
    groups = ["g1", "g2", "g1", "g2", "g1", "g3", "g1"]
    bodies = fill(sqs, dlq_url, len(groups), groups)
    result = redrive(arn_of(sqs, dlq_url), client=sqs, method="copy")
    assert result.ok and result.moved == len(groups)
    assert "StartMessageMoveTask" not in result.api_calls  # method="copy": the API is not tried
    moved = drain(sqs, url)
    for group in set(groups):
        expected = [b for b, g in zip(bodies, groups, strict=True) if g == group]
        assert [m["Body"] for m in moved if m["Attributes"]["MessageGroupId"] == group] == expected
    assert visible(sqs, dlq_url) == 0


def test_copy_to_an_explicit_destination_with_a_rate_limit(sqs) -> None:
    """boto3 queues: 6 messages at 3 per second take two receives of 3 and at least a second."""
    _, dlq_url = make_pair(sqs)
    other = sqs.create_queue(QueueName=f"other-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    fill(sqs, dlq_url, 6)
    result = redrive(
        arn_of(sqs, dlq_url), destination_arn=arn_of(sqs, other), max_per_second=3, client=sqs, method="copy"
    )
    assert result.ok and result.moved == 6 and result.destination_arn == arn_of(sqs, other)
    assert result.api_calls["ReceiveMessage"] == 2
    assert result.elapsed >= 0.9
    assert visible(sqs, other) == 6


def test_copy_needs_exactly_one_source_queue_or_a_destination(sqs) -> None:
    """boto3 queues: a DLQ nobody uses, and a DLQ shared by two queues."""
    lonely = sqs.create_queue(QueueName=f"lonely-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    with pytest.raises(RedriveError, match="no queue has a RedrivePolicy targeting"):
        redrive(arn_of(sqs, lonely), client=sqs, method="copy")

    first, shared = make_pair(sqs)
    policy = sqs.get_queue_attributes(QueueUrl=first, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"]
    second = sqs.create_queue(QueueName=f"second-{uuid.uuid4().hex[:8]}", Attributes={"RedrivePolicy": policy})[
        "QueueUrl"
    ]
    with pytest.raises(RedriveError, match="2 queues send their failures") as raised:
        redrive(arn_of(sqs, shared), client=sqs, method="copy")
    assert first in str(raised.value) and second in str(raised.value)


def test_unknown_queue_is_an_aws_error(sqs) -> None:
    with pytest.raises(ClientError, match="does not exist"):
        redrive("arn:aws:sqs:us-east-1:123456789012:nope", client=sqs, method="copy")


def test_moto_does_not_implement_the_move_task_api(sqs) -> None:
    """What makes ``auto`` fall back: checked so that a moto upgrade implementing it is noticed."""
    _, dlq_url = make_pair(sqs)
    with pytest.raises(NotImplementedError):
        redrive(arn_of(sqs, dlq_url), client=sqs, method="api")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dead_letter_queue_arn": "work-dlq"}, "not an SQS queue ARN"),
        ({"destination_arn": "https://sqs.us-east-1.amazonaws.com/1/q"}, "not an SQS queue ARN"),
        ({"max_per_second": 0}, "max_per_second must be an integer between 1 and 500, got 0"),
        ({"max_per_second": 501}, "max_per_second must be an integer between 1 and 500, got 501"),
        ({"method": "move"}, "method must be one of auto, api, copy, got 'move'"),
        ({"poll_interval": -1}, "poll_interval must be a number of seconds >= 0, got -1"),
    ],
)
def test_redrive_arguments_are_validated(kwargs: dict[str, Any], message: str) -> None:
    kwargs = {"dead_letter_queue_arn": DLQ_ARN, **kwargs}
    with pytest.raises(ValueError, match=message):
        redrive(client=boto3.client("sqs", region_name=REGION), **kwargs)


def test_destination_cannot_be_the_dlq() -> None:
    with pytest.raises(RedriveError, match="the dead-letter queue itself"):
        redrive(DLQ_ARN, destination_arn=DLQ_ARN, client=boto3.client("sqs", region_name=REGION))


def test_queue_arn_parsing() -> None:
    arn = QueueArn.parse("arn:aws-cn:sqs:cn-north-1:123456789012:orders.fifo")
    assert (arn.partition, arn.region, arn.account, arn.name, arn.fifo) == (
        "aws-cn",
        "cn-north-1",
        "123456789012",
        "orders.fifo",
        True,
    )


# -- API path (Stubber) ---------------------------------------------------------------------------------------


def stubbed_client() -> tuple[Any, Stubber]:
    client = boto3.client("sqs", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


def test_api_path_starts_a_task_and_polls_until_it_completes() -> None:
    client, stubber = stubbed_client()
    stubber.add_response(
        "start_message_move_task",
        {"TaskHandle": "task-1"},
        {"SourceArn": DLQ_ARN, "DestinationArn": DEST_ARN, "MaxNumberOfMessagesPerSecond": 50},
    )
    listed = {"SourceArn": DLQ_ARN, "MaxResults": 10}
    running = {
        "TaskHandle": "task-1",
        "Status": "RUNNING",
        "SourceArn": DLQ_ARN,
        "DestinationArn": DEST_ARN,
        "ApproximateNumberOfMessagesMoved": 40,
        "ApproximateNumberOfMessagesToMove": 100,
        "StartedTimestamp": 1_700_000_000_000,
    }
    stubber.add_response("list_message_move_tasks", {"Results": [running]}, listed)
    stubber.add_response(
        "list_message_move_tasks",
        {"Results": [{**running, "ApproximateNumberOfMessagesMoved": 90}]},
        listed,
    )
    done = {k: v for k, v in running.items() if k != "TaskHandle"}  # finished tasks are listed without a handle
    older = {**done, "StartedTimestamp": 1_600_000_000_000, "ApproximateNumberOfMessagesMoved": 7}
    stubber.add_response(
        "list_message_move_tasks",
        {"Results": [{**done, "Status": "COMPLETED", "ApproximateNumberOfMessagesMoved": 100}, older]},
        listed,
    )
    progress: list[tuple[str, int]] = []
    with stubber:
        result = redrive(
            DLQ_ARN,
            destination_arn=DEST_ARN,
            max_per_second=50,
            client=client,
            poll_interval=0,
            method="api",
            on_progress=lambda r: progress.append((r.status, r.moved)),
        )
        stubber.assert_no_pending_responses()
    assert (result.status, result.moved, result.to_move, result.method, result.task_handle) == (
        "COMPLETED",
        100,
        100,
        "api",
        "task-1",
    )
    assert result.ok and result.destination_arn == DEST_ARN
    assert progress == [("RUNNING", 40), ("RUNNING", 90), ("COMPLETED", 100)]
    assert result.api_calls == {"StartMessageMoveTask": 1, "ListMessageMoveTasks": 3}


def test_api_path_reports_a_failed_task() -> None:
    client, stubber = stubbed_client()
    stubber.add_response("start_message_move_task", {"TaskHandle": "t"}, {"SourceArn": DLQ_ARN})
    stubber.add_response(
        "list_message_move_tasks",
        {
            "Results": [
                {
                    "Status": "FAILED",
                    "ApproximateNumberOfMessagesMoved": 3,
                    "ApproximateNumberOfMessagesToMove": 10,
                    "FailureReason": "AWS.SimpleQueueService.NonExistentQueue",
                }
            ]
        },
    )
    with stubber:
        result = redrive(DLQ_ARN, client=client, poll_interval=0)  # auto: the API works, no fallback
    assert (result.status, result.moved, result.to_move, result.method) == ("FAILED", 3, 10, "api")
    assert result.failure_reason == "AWS.SimpleQueueService.NonExistentQueue"
    assert not result.ok


def test_api_path_without_waiting_returns_the_running_task() -> None:
    client, stubber = stubbed_client()
    stubber.add_response("start_message_move_task", {"TaskHandle": "t"}, {"SourceArn": DLQ_ARN})
    with stubber:
        result = redrive(DLQ_ARN, client=client, wait=False, method="api")
        stubber.assert_no_pending_responses()
    assert (result.status, result.task_handle, result.running) == ("RUNNING", "t", True)


def test_auto_does_not_fall_back_on_a_real_error() -> None:
    client, stubber = stubbed_client()
    stubber.add_client_error("start_message_move_task", service_error_code="AccessDenied", http_status_code=403)
    with stubber, pytest.raises(ClientError, match="AccessDenied"):
        redrive(DLQ_ARN, client=client)


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("UnknownOperationException", 400, True),
        ("InvalidAction", 400, True),
        ("500", 500, True),  # moto server: a bare HTML error page
        ("NotImplemented", 501, True),
        ("AccessDenied", 403, False),
        ("InvalidParameterValue", 400, False),
        ("InternalError", 500, False),  # SQS itself: transient, not "missing"
    ],
)
def test_not_implemented_detection(code: str, status: int, expected: bool) -> None:
    error = ClientError(
        {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "StartMessageMoveTask"
    )
    assert is_not_implemented(error) is expected
    assert is_not_implemented(NotImplementedError("moto"))


# -- peek -------------------------------------------------------------------------------------------------------


def test_peek_does_not_consume(sqs) -> None:
    """boto3 queue."""
    _, dlq_url = make_pair(sqs)
    bodies = fill(sqs, dlq_url, 5)
    first = peek(dlq_url, client=sqs)
    assert sorted(m["Body"] for m in first) == sorted(bodies)
    assert len({m["MessageId"] for m in first}) == 5
    assert visible(sqs, dlq_url) == 5  # still there, visible
    again = peek(dlq_url, n=2, client=sqs)
    assert len(again) == 2
    # documented: peeking is a receive
    assert all(int(m["Attributes"]["ApproximateReceiveCount"]) >= 2 for m in again)
    assert visible(sqs, dlq_url) == 5
    assert sorted(m["Body"] for m in drain(sqs, dlq_url)) == sorted(bodies)


def test_peek_an_empty_queue_and_validation(sqs) -> None:
    _, dlq_url = make_pair(sqs)
    assert peek(dlq_url, client=sqs, wait_time_seconds=0) == []
    with pytest.raises(ValueError, match="n must be an integer >= 1, got 0"):
        peek(dlq_url, n=0, client=sqs)


def receive_counts(sqs: Any, url: str) -> dict[str, int]:
    """Body -> ApproximateReceiveCount, read with one more receive (VisibilityTimeout=0), so each count is +1."""
    messages = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, MessageSystemAttributeNames=["All"]
    ).get("Messages", [])
    return {m["Body"]: int(m["Attributes"]["ApproximateReceiveCount"]) for m in messages}


def test_peek_never_moves_a_message_to_the_dlq_issue_12(sqs) -> None:
    """The reported case: a source queue with maxReceiveCount 3 holds 2 messages; peek(url) with the default n=10
    used to receive them round after round (VisibilityTimeout=0) until both went to the DLQ. Now it refuses, having
    received nothing: no receive count moved, nothing in the DLQ."""
    url, dlq_url = make_pair(sqs, max_receive=3)
    fill(sqs, url, 2)
    with pytest.raises(RedriveError, match=r"has a redrive policy \(maxReceiveCount 3.*force=True \(CLI: --force\)"):
        peek(url, client=sqs)
    assert depth(sqs, dlq_url) == 0
    assert receive_counts(sqs, url) == {"body-0": 1, "body-1": 1}  # the first receive ever: peek made none


def test_peek_force_makes_one_receive_on_a_queue_with_a_redrive_policy(sqs) -> None:
    """force=True: one ReceiveMessage (counted by botocore's before-call hook), each message's count +1, nothing
    moved, even when called as often as maxReceiveCount - 1 times."""
    url, dlq_url = make_pair(sqs, max_receive=3)
    fill(sqs, url, 2)
    receives: list[str] = []
    sqs.meta.events.register("before-call.sqs.ReceiveMessage", lambda **_: receives.append("r"))
    for peeked in (1, 2):
        shown = peek(url, client=sqs, force=True, wait_time_seconds=0)
        assert sorted(m["Body"] for m in shown) == ["body-0", "body-1"]
        assert {int(m["Attributes"]["ApproximateReceiveCount"]) for m in shown} == {peeked}
        assert len(receives) == peeked
    assert depth(sqs, dlq_url) == 0
    assert receive_counts(sqs, url) == {"body-0": 3, "body-1": 3}  # two peeks, then this read: still in the queue


def test_peek_a_dlq_without_redrive_policy_receives_until_n(sqs) -> None:
    """A DLQ has no redrive policy: more than one receive when the first does not bring n distinct messages (moto
    returns the same 10 visible messages again, so peek stops after three rounds without a new one)."""
    _, dlq_url = make_pair(sqs)
    fill(sqs, dlq_url, 12)
    receives: list[str] = []
    sqs.meta.events.register("before-call.sqs.ReceiveMessage", lambda **_: receives.append("r"))
    shown = peek(dlq_url, n=12, client=sqs)
    assert len(receives) > 1
    assert len(shown) >= 10 and len({m["MessageId"] for m in shown}) == len(shown)
    with pytest.raises(ValueError, match="force must be True or False, got 'yes'"):
        peek(dlq_url, client=sqs, force="yes")  # type: ignore[arg-type]


def test_cli_peek_refuses_a_source_queue_unless_forced(sqs, capsys) -> None:
    url, dlq_url = make_pair(sqs, max_receive=3)
    fill(sqs, url, 2)
    assert cli.main(["peek", url]) == 2
    assert "has a redrive policy" in capsys.readouterr().err
    assert cli.main(["peek", url, "--force"]) == 0
    captured = capsys.readouterr()
    assert captured.out.count("  receives 1") == 2
    assert "the receive count of each message shown went up by 1" in captured.err
    assert depth(sqs, dlq_url) == 0


# -- CLI --------------------------------------------------------------------------------------------------------


def run_cli(*args: str, endpoint: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_RETRY_MODE="standard",
        AWS_MAX_ATTEMPTS="2",  # moto server answers StartMessageMoveTask with a 500: do not retry it for long
        PYTHONPATH=str(ROOT),
    )
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    return subprocess.run(
        [sys.executable, "-m", "decoupling_constructs.runtime", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def server_sqs(moto_server: str) -> Any:
    return boto3.client(
        "sqs",
        region_name=REGION,
        endpoint_url=moto_server,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_cli_help_documents_the_exit_codes() -> None:
    for args in (["--help"], ["redrive", "--help"], ["peek", "--help"]):
        done = run_cli(*args)
        assert done.returncode == 0, done.stderr
        assert "exit codes:" in done.stdout and "3  AWS error" in done.stdout
    assert "--max-per-second" in run_cli("redrive", "--help").stdout
    peek_help = run_cli("peek", "--help").stdout
    assert "ApproximateReceiveCount" in peek_help and "--force" in peek_help and "redrive policy" in peek_help


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["move", DLQ_ARN],
        ["redrive"],
        ["redrive", DLQ_ARN, "--method", "teleport"],
        ["redrive", DLQ_ARN, "--max-per-second", "0"],
        ["peek", "https://sqs.us-east-1.amazonaws.com/123456789012/q", "-n", "x"],
    ],
)
def test_cli_usage_errors_exit_2(args: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as raised:
        cli.main(args)
    assert raised.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_cli_malformed_arn_and_missing_destination_exit_2(sqs, capsys) -> None:
    assert cli.main(["redrive", "not-an-arn"]) == 2
    assert "not an SQS queue ARN" in capsys.readouterr().err
    lonely = sqs.create_queue(QueueName="lonely")["QueueUrl"]
    assert cli.main(["redrive", arn_of(sqs, lonely), "--method", "copy"]) == 2
    assert "give the destination" in capsys.readouterr().err


def test_cli_failed_redrive_exits_1(monkeypatch, capsys) -> None:
    def failed(*args: Any, **kwargs: Any) -> RedriveResult:
        return RedriveResult(
            status="FAILED", moved=2, to_move=5, method="api", source_arn=DLQ_ARN, failure_reason="queue deleted"
        )

    monkeypatch.setattr(cli, "redrive", failed)
    assert cli.main(["redrive", DLQ_ARN]) == 1
    captured = capsys.readouterr()
    assert "FAILED: moved 2 of 5" in captured.out and "queue deleted" in captured.err


def test_cli_redrive_and_peek_against_a_moto_server(server_sqs, moto_server) -> None:
    """A real process talking HTTP to moto server (AWS_ENDPOINT_URL): peek shows and keeps the messages, redrive
    (auto: moto server answers StartMessageMoveTask with a 500, so it copies) moves them back."""
    url, dlq_url = make_pair(server_sqs)
    bodies = fill(server_sqs, dlq_url, 4)

    peeked = run_cli("peek", dlq_url, "-n", "10", "--json", endpoint=moto_server)
    assert peeked.returncode == 0, peeked.stderr
    shown = json.loads(peeked.stdout)
    assert sorted(m["Body"] for m in shown) == sorted(bodies)
    assert all("ReceiptHandle" not in m for m in shown)
    text = run_cli("peek", dlq_url, "-n", "2", endpoint=moto_server)
    assert text.returncode == 0 and text.stdout.count("  body-") == 2 and "index (Number)" in text.stdout
    assert visible(server_sqs, dlq_url) == 4

    moved = run_cli("redrive", arn_of(server_sqs, dlq_url), endpoint=moto_server)
    assert moved.returncode == 0, moved.stderr
    assert f"COMPLETED: moved 4 of 4 messages from {arn_of(server_sqs, dlq_url)} to {arn_of(server_sqs, url)}" in (
        moved.stdout
    )
    assert "copying the messages instead" in moved.stderr
    assert visible(server_sqs, dlq_url) == 0
    assert sorted(m["Body"] for m in drain(server_sqs, url)) == sorted(bodies)


def test_cli_unknown_queue_exits_3(moto_server) -> None:
    redriven = run_cli(
        "redrive", "arn:aws:sqs:us-east-1:123456789012:no-such-queue", "--method", "copy", endpoint=moto_server
    )
    assert redriven.returncode == 3
    assert "AWS error" in redriven.stderr and "does not exist" in redriven.stderr
    peeked = run_cli("peek", f"{moto_server}/123456789012/no-such-queue", endpoint=moto_server)
    assert peeked.returncode == 3


def test_progress_bar_only_on_a_terminal_for_long_moves(monkeypatch) -> None:
    class Stream:
        def __init__(self, tty: bool) -> None:
            self.tty = tty

        def isatty(self) -> bool:
            return self.tty

    def result(moved: int, to_move: int) -> RedriveResult:
        return RedriveResult(status="RUNNING", moved=moved, to_move=to_move, method="copy", source_arn=DLQ_ARN)

    with cli._ProgressBar(Stream(tty=False)) as bar:  # type: ignore[arg-type]
        bar.update(result(10, 100))
        assert bar._progress is None
    with cli._ProgressBar(Stream(tty=True)) as bar:  # type: ignore[arg-type]
        bar.update(result(1, 5))  # short: no bar
        assert bar._progress is None
        bar.update(result(10, 100))
        assert bar._progress is not None
        assert bar._progress.tasks[0].completed == 10 and bar._progress.tasks[0].total == 100


# -- where ListDeadLetterSourceQueues is missing (issue 20 §5) ---------------------------------------------------


def test_cli_redrive_on_ministack_finds_each_source_from_dead_letter_queue_source_arn() -> None:
    """MiniStack implements neither StartMessageMoveTask nor ListDeadLetterSourceQueues (``InvalidAction``), but
    gives each message it dead-letters a ``DeadLetterQueueSourceArn``: ``redrive <dlq>`` sends every message back
    there and exits 0 (it exited 3 before)."""
    from decoupling_constructs.testing import ministack

    with ministack() as emulator:
        sqs = boto3.client(
            "sqs",
            endpoint_url=emulator.endpoint_url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        url, dlq_url = make_pair(sqs, max_receive=1)
        with pytest.raises(ClientError, match="InvalidAction"):
            sqs.list_dead_letter_source_queues(QueueUrl=dlq_url)
        bodies = fill(sqs, url, 3)
        for _ in range(2):  # receive 1 takes them; receive 2 (visibility 0 ended) moves them to the DLQ
            sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0)
        assert visible(sqs, dlq_url) == 3
        moved = run_cli("redrive", arn_of(sqs, dlq_url), endpoint=emulator.endpoint_url)
        assert moved.returncode == 0, moved.stderr
        assert f"COMPLETED: moved 3 of 3 messages from {arn_of(sqs, dlq_url)} to {arn_of(sqs, url)}" in moved.stdout
        assert "DeadLetterQueueSourceArn" in moved.stderr
        assert visible(sqs, dlq_url) == 0
        assert sorted(m["Body"] for m in drain(sqs, url)) == sorted(bodies)


def test_copy_without_list_dead_letter_source_queues_leaves_messages_without_a_source(sqs, monkeypatch, capsys) -> None:
    """moto, with ListDeadLetterSourceQueues answering InvalidAction as MiniStack does: a message that names no
    source (moto sets no DeadLetterQueueSourceArn) cannot be sent back; it stays in the DLQ, the redrive FAILED,
    and the CLI exits 1."""
    _, dlq_url = make_pair(sqs)
    fill(sqs, dlq_url, 2)

    def invalid_action(**kwargs: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "InvalidAction", "Message": "not valid"}, "ResponseMetadata": {"HTTPStatusCode": 400}},
            "ListDeadLetterSourceQueues",
        )

    monkeypatch.setattr(sqs, "list_dead_letter_source_queues", invalid_action)
    monkeypatch.setattr(boto3, "client", lambda *args, **kwargs: sqs)  # the CLI's client
    assert cli.main(["redrive", arn_of(sqs, dlq_url), "--method", "copy"]) == 1
    assert depth(sqs, dlq_url) == 2
    captured = capsys.readouterr()
    assert "FAILED: moved 0 of 2" in captured.out
    assert "NoDeadLetterQueueSourceArn" in captured.err
