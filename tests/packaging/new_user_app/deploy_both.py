"""Issue 20's new-user trial, in one process: the non-network stacks of app.py (synthesized into cdk.out by the CDK
CLI) deployed into MiniStack and then into moto with the real `cdk deploy`, each verified; the library's CLI and the
AWS CLI run in child processes with `emulator.env()`. Every failure is printed; the exit status is the number of
failures. The criterion: no failure that the preflight did not name first (docs/testing.md).

Run by tests/packaging/new_user_trial.sh from the app's directory, in the user's venv (not the project's)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from decoupling_constructs.testing import (
    PreflightError,
    cdk_deploy,
    ministack,
    moto_server,
    preflight,
    templates_from,
    verify,
)

NETWORK = "Network"
CDK_OUT = Path("cdk.out")  # `npx cdk synth -c powertools_layer=false`: what is deployed
CDK_OUT_AWS = Path("cdk.out.aws")  # `npx cdk synth -o cdk.out.aws`: the app as for AWS, for the preflight only
REFUSED_ON_MINISTACK = {NETWORK: "the NAT VPC", "Consumer": "the Powertools layer's public SSM parameter"}
STACKS = ["Shared", "Legacy", "Consumer"]
FAILURES: list[str] = []


def fail(what: str) -> None:
    FAILURES.append(what)
    print(f"FAIL {what}", flush=True)


def timed(label: str, call: Callable[[], Any]) -> Any:
    start = time.monotonic()
    try:
        return call()
    finally:
        print(f"[trial] {label}: {time.monotonic() - start:.1f} s", flush=True)


def run(label: str, command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    start = time.monotonic()
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180, check=False)
    print(f"[trial] {label}: rc={proc.returncode} in {time.monotonic() - start:.1f} s: {' '.join(command)}", flush=True)
    if proc.returncode != 0:
        fail(f"{label}: rc={proc.returncode}: {(proc.stderr or proc.stdout).strip()[-800:]}")
    return proc


def trial(factory: Callable[..., Any]) -> None:
    with factory() as emulator:
        label = emulator.label
        as_for_aws = templates_from(CDK_OUT_AWS)
        refusals = timed(f"{label}: preflight of the app as for AWS", lambda: preflight(as_for_aws, emulator))
        print(refusals.details())
        refused_stacks = {f.stack for f in refusals.refused}
        expected = set(REFUSED_ON_MINISTACK) if emulator.name == "ministack" else set()
        if refused_stacks != expected:
            fail(f"{label}: preflight refuses in {sorted(refused_stacks)}, expected {sorted(expected)}")
        report = timed(
            f"{label}: preflight of the emulator's copy", lambda: preflight(templates_from(CDK_OUT), emulator)
        )
        print(report.details())
        if {f.stack for f in report.refused} - {NETWORK}:
            fail(f"{label}: the emulator's copy is refused beyond the network stack: {report.details()}")
        if NETWORK in refused_stacks:
            try:
                cdk_deploy(CDK_OUT, [NETWORK], emulator)
                fail(f"{label}: cdk_deploy of {NETWORK} started despite the preflight's refusals")
            except PreflightError:
                print(f"[trial] {label}: cdk_deploy({NETWORK}) refused before the CLI started, as documented")

        try:
            timed(f"{label}: cdk_deploy {' '.join(STACKS)}", lambda: cdk_deploy(CDK_OUT, STACKS, emulator))
        except Exception as error:
            fail(f"{label}: cdk_deploy: {type(error).__name__}: {error}")
            return
        named = {(f.stack, f.logical_id, f.subject.removeprefix("property ")) for f in report.dropped}
        templates = templates_from(CDK_OUT, STACKS)
        deployments = {}
        for name in STACKS:
            deployment = deployments[name] = emulator.deployment(name, templates[name])
            verified = timed(f"{label}: verify {name}", lambda d=deployment: verify(d, check=False))
            print(verified.details())
            for finding in verified.mismatches:
                fail(f"{label}: verify {name}: MISMATCH {finding.logical_id} {finding.property}")
            for finding in verified.not_verified:
                fail(f"{label}: verify {name}: not verified {finding.logical_id}: {finding.reason}")
            for finding in verified.not_stored:
                if (name, finding.logical_id, finding.property) not in named:
                    fail(f"{label}: {name} {finding.logical_id} {finding.property} not stored, not named by preflight")

        outputs = deployments["Legacy"].outputs
        env = {**os.environ, **emulator.env()}
        # The AWS CLI v1 (pip's awscli) ignores AWS_ENDPOINT_URL for sqs (aws/aws-cli#8737): docs/testing.md says
        # to pass --endpoint-url; services without that override take env() alone.
        aws = ["aws", "--endpoint-url", emulator.endpoint_url]
        run(f"{label}: aws sts get-caller-identity", ["aws", "sts", "get-caller-identity"], env)
        run(f"{label}: aws sns list-topics", ["aws", "sns", "list-topics"], env)
        good = json.dumps({"id": "a", "quantity": 1})
        run(
            f"{label}: aws sqs send-message",
            [*aws, "sqs", "send-message", "--queue-url", outputs["OrdersQueueUrl"], "--message-body", good],
            env,
        )
        if emulator.name == "ministack":  # its Lambda runs the handler (moto's needs Docker)
            consumed(label, outputs["OrdersQueueUrl"], env, aws)
        # A message in the DLQ, then the library's CLI: peek it, redrive it to its source queue.
        run(
            f"{label}: aws sqs send-message (DLQ)",
            [*aws, "sqs", "send-message", "--queue-url", outputs["OrdersDlqUrl"], "--message-body", "stuck"],
            env,
        )
        cli = [sys.executable, "-m", "decoupling_constructs.runtime"]
        peeked = run(f"{label}: peek the DLQ", [*cli, "peek", outputs["OrdersDlqUrl"], "-n", "1", "--json"], env)
        if peeked.returncode == 0 and "stuck" not in peeked.stdout:
            fail(f"{label}: peek did not show the DLQ's message: {peeked.stdout!r}")
        run(
            f"{label}: redrive the DLQ",
            [*cli, "redrive", outputs["OrdersDlqArn"], "--destination", outputs["OrdersQueueArn"]],
            env,
        )


def consumed(label: str, queue_url: str, env: dict[str, str], aws: list[str]) -> None:
    """The QueueFunction's Lambda takes the message: the queue holds nothing, visible or in flight, within 60 s."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        proc = subprocess.run(
            [*aws, "sqs", "get-queue-attributes", "--queue-url", queue_url, "--attribute-names", "All"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if proc.returncode == 0:
            attributes = json.loads(proc.stdout)["Attributes"]
            if (
                attributes["ApproximateNumberOfMessages"] == "0"
                and attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
            ):
                print(f"[trial] {label}: the QueueFunction consumed the message")
                return
        time.sleep(2)
    fail(f"{label}: the QueueFunction did not consume the message within 60 s (its Lambda failed?)")


if __name__ == "__main__":
    start = time.monotonic()
    for factory in (ministack, moto_server):
        timed(f"{factory.__name__}: the whole trial", lambda f=factory: trial(f))
    print(f"[trial] {len(FAILURES)} failures in {time.monotonic() - start:.0f} s")
    for failure in FAILURES:
        print(f"  - {failure}")
    sys.exit(min(len(FAILURES), 100))
