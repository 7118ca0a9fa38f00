"""SQS -> Lambda end to end in MiniStack: `cdk deploy` of a QueueFunction running the README's Powertools handler
(examples/queue_function_handler.py), then a batch with one poison message through the real event source mapping.

MiniStack runs Python Lambdas without Docker (LAMBDA_EXECUTOR=local: a worker on MiniStack's own interpreter,
which has Powertools from requirements-ministack.txt; the declared runtime and layers are not used) and honours
ReportBatchItemFailures on this path (see /work/shared/MOTO_NOTES.md). Where MiniStack differs from AWS, on malformed
partial batch responses, tests/runtime/test_queue_function_handler.py covers Lambda's contract in-process.

The function's timeout is 2 s, so the queue's visibility timeout is 12 s (6x) and a poison message is received
max_receive_count (2) times before the third receive moves it to the dead-letter queue.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_

from decoupling_constructs import QueueFunction
from decoupling_constructs.testing import Deployment
from decoupling_constructs.testing.emulators import Emulator, cdk_deploy, ministack
from decoupling_constructs.testing.observe import function_log_group, logged_field_counts, queue_depth

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("queue-function-e2e")]

HANDLER_FILE = Path(__file__).resolve().parents[2] / "examples" / "queue_function_handler.py"
STACK = "QueueFunctionEndToEnd"
MAX_RECEIVE_COUNT = 2
# How long the whole run may take before the test gives up (a bound on waiting, not a timed assertion):
# two visibility timeouts of 12 s plus polling and cold starts.
DEADLINE_S = 180.0


def build_app(outdir: Path) -> cdk.App:
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, STACK)
    handler = lambda_.Function(
        stack,
        "Handler",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline(HANDLER_FILE.read_text()),
        timeout=Duration.seconds(2),
    )
    consumer = QueueFunction(
        stack,
        "Orders",
        function=handler,
        batch_size=10,
        max_batching_window=Duration.seconds(2),
        queue_props={"max_receive_count": MAX_RECEIVE_COUNT},
    )
    cdk.CfnOutput(stack, "QueueUrl", value=consumer.queue.queue_url)
    cdk.CfnOutput(stack, "DeadLetterQueueUrl", value=consumer.reliable_queue.dead_letter_queue.queue_url)
    cdk.CfnOutput(stack, "FunctionName", value=handler.function_name)
    return app


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Emulator, Deployment]]:
    tmp = tmp_path_factory.mktemp("queue-function-e2e")
    assembly = build_app(tmp / "cdk.out").synth()
    template = assembly.get_stack_by_name(STACK).template
    with ministack(log_file=tmp / "ministack.log") as emulator:
        cdk_deploy(Path(assembly.directory), [STACK], emulator, log_file=tmp / "cdk.log")
        yield emulator, emulator.deployment(STACK, template)


def test_poison_message_ends_in_the_dlq_and_the_rest_of_its_batch_is_processed_once(deployed) -> None:
    _, deployment = deployed
    sqs, logs = deployment.client("sqs"), deployment.client("logs")
    url, dlq_url = deployment.outputs["QueueUrl"], deployment.outputs["DeadLetterQueueUrl"]
    function_name = deployment.outputs["FunctionName"]
    run = uuid.uuid4().hex[:6]
    orders = {f"{run}-{n}": (0 if n == 3 else n + 1) for n in range(10)}  # quantity 0: the poison
    poison = f"{run}-3"
    sent = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": str(n), "MessageBody": json.dumps({"id": order_id, "quantity": quantity})}
            for n, (order_id, quantity) in enumerate(orders.items())
        ],
    )
    assert len(sent["Successful"]) == 10

    deadline = time.monotonic() + DEADLINE_S
    dead: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        dead += sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=2).get("Messages", [])
        if dead and queue_depth(sqs, url) == 0:
            break
    assert [json.loads(m["Body"])["id"] for m in dead] == [poison], "the poison alone reaches the dead-letter queue"
    assert queue_depth(sqs, url) == 0, "nothing is left in the source queue"

    group = function_log_group(deployment.client("lambda"), function_name)
    processed = logged_field_counts(logs, group, "order_id", message="processed order")
    assert {order_id: processed[order_id] for order_id in orders} == {
        order_id: (0 if order_id == poison else 1) for order_id in orders
    }, "each healthy message is processed exactly once, the poison never"
