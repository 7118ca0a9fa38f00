"""Every sample of the docs is a file under examples/, and each one runs here.

CDK apps (``*_app.py``) run as their own ``__main__`` (a bare ``cdk.App()``, as a user's ``cdk synth`` runs them);
each of their stacks is then read with ``Template.from_stack``. The runtime samples run against moto, the test samples
are called as pytest would call them. The MiniStack deploy sample runs in tests/behaviour/test_examples_deploy.py.
"""

from __future__ import annotations

import contextlib
import io
import json
import runpy
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import boto3
import pytest
from aws_cdk.assertions import Template
from moto import mock_aws

from decoupling_constructs.capacity import describe

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
APPS = sorted(path.name for path in EXAMPLES.glob("*_app.py"))
# Lambda handlers (run by tests/runtime), the deploy sample (tests/behaviour): run elsewhere, named here.
RUN_ELSEWHERE = {
    "firehose_receiver.py": "tests/runtime/test_firehose_receiver.py",
    "firehose_transform_handler.py": "tests/runtime/test_firehose_transform.py",
    "queue_function_handler.py": "tests/runtime/test_queue_function_handler.py",
    "stream_function_handler.py": "tests/runtime/test_stream_function_handler.py",
    "sns_receiver_function.py": "tests/runtime/test_sns_receiver.py",
    "test_queues_emulator.py": "tests/behaviour/test_examples_deploy.py",
}
RUN_HERE = {
    "capacity_sizing.py",
    "message_broker_connect.py",
    "runtime_helpers.py",
    "test_billing_moto.py",
    "test_handler_events.py",
}


@contextlib.contextmanager
def examples_importable() -> Iterator[None]:
    """examples/ on sys.path, as it is for a user running a file from there (samples import each other)."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        yield
    finally:
        sys.path.remove(str(EXAMPLES))


def run_example(name: str, run_name: str = "example") -> dict[str, Any]:
    with examples_importable():
        return runpy.run_path(str(EXAMPLES / name), run_name=run_name)


def test_every_example_is_run_by_a_test() -> None:
    on_disk = {path.name for path in EXAMPLES.glob("*.py")}
    assert on_disk == set(APPS) | RUN_HERE | set(RUN_ELSEWHERE)
    for test_file in RUN_ELSEWHERE.values():
        assert (EXAMPLES.parent / test_file).is_file(), test_file


@pytest.mark.parametrize("name", APPS)
def test_example_app_synthesizes_in_a_bare_app(name: str) -> None:
    namespace = run_example(name, run_name="__main__")
    app = namespace["app"]
    assert isinstance(app, cdk.App)
    stacks = [child for child in app.node.children if isinstance(child, cdk.Stack)]
    assert stacks, f"{name} adds no stack"
    for stack in stacks:
        resources = Template.from_stack(stack).to_json()["Resources"]
        assert resources, f"{name}: {stack.stack_name} has no resource"


def test_capacity_sample_prints_what_its_comments_say() -> None:
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        run_example("capacity_sizing.py")
    comments = [line[2:] for line in (EXAMPLES / "capacity_sizing.py").read_text().splitlines() if line[:2] == "# "]
    assert output.getvalue().splitlines() == comments
    assert comments[0] == str(describe(0.95, 5000))


@pytest.fixture
def moto_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


def test_runtime_sample_sends_consumes_streams_and_redrives(moto_env: None) -> None:
    sample = run_example("runtime_helpers.py")
    sqs = boto3.client("sqs")
    dlq_url = sqs.create_queue(QueueName="jobs-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive_policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
    url = sqs.create_queue(QueueName="jobs", Attributes={"RedrivePolicy": redrive_policy, "VisibilityTimeout": "1"})[
        "QueueUrl"
    ]
    jobs = [{"id": i, "kind": "broken" if i == 7 else "render"} for i in range(25)]

    assert sample["send_jobs"](url, jobs) == 25
    stats = sample["work"](url)
    assert (stats.succeeded, stats.failed) == (24, 1)
    assert sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"] == {
        "ApproximateNumberOfMessages": "1"
    }
    assert sample["redrive_dead_letters"](dlq_arn) == 1

    kinesis = boto3.client("kinesis")
    kinesis.create_stream(StreamName="clicks", ShardCount=2)
    clicks = [{"user": f"u{i % 5}", "page": "/"} for i in range(40)]
    assert sample["put_clicks"]("clicks", clicks) == 40


def test_broker_credentials_sample_reads_the_secret(moto_env: None) -> None:
    sample = run_example("message_broker_connect.py")
    secret = boto3.client("secretsmanager").create_secret(
        Name="broker", SecretString=json.dumps({"username": "admin", "password": "p4ss"})
    )
    assert sample["broker_credentials"](secret["ARN"]) == ("admin", "p4ss")


@pytest.mark.parametrize(
    ("name", "test"),
    [
        ("test_billing_moto.py", "test_an_invoice_that_keeps_failing_reaches_the_dlq"),
        ("test_handler_events.py", "test_only_the_bad_order_is_reported_failed"),
    ],
)
def test_testing_samples_pass(name: str, test: str, moto_env: None) -> None:
    with examples_importable():
        run_example(name)[test]()
