"""The testing helpers on a user's own app (tests/behaviour/foreign_app.py, not the reference app), as issue 20's new
user ran them: a preflight that names what MiniStack refuses of the NAT VPC before any deploy; the three other stacks
deployed by the real CDK CLI into MiniStack and then into a moto server, in one process and one home directory;
every resource verified on both; the library's CLI, boto3 and the AWS CLI run in child processes with ``env()``.

moto keeps no Outputs or exports for a stack deployed by change set: the cross-stack imports resolve from the
exporting stacks' templates (decoupling_constructs.testing.deploy), which this test would catch if it broke.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from decoupling_constructs.testing import VerificationReport, verify
from decoupling_constructs.testing.emulators import Emulator, PreflightError, cdk_deploy, ministack, moto_server
from decoupling_constructs.testing.preflight import templates_from
from tests.behaviour.foreign_app import APP_STACKS, LEGACY, NETWORK, synth_foreign_app

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("foreign-app")]


@pytest.fixture(scope="module")
def cdk_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synth_foreign_app(tmp_path_factory.mktemp("foreign") / "cdk.out")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One home directory for both emulators (where the CDK CLI would cache access key -> account)."""
    path = tmp_path_factory.mktemp("home")
    saved = os.environ.get("HOME")
    os.environ["HOME"] = str(path)
    try:
        yield path
    finally:
        if saved is not None:
            os.environ["HOME"] = saved


def deploy_and_verify(cdk_out: Path, emulator: Emulator) -> tuple[dict[str, VerificationReport], str]:
    """Every stack's verification report, and the URL of the orders DLQ (an output of the legacy stack)."""
    cdk_deploy(cdk_out, APP_STACKS, emulator)
    templates = templates_from(cdk_out, APP_STACKS)
    deployments = {name: emulator.deployment(name, templates[name]) for name in APP_STACKS}
    reports = {name: verify(deployment, check=False) for name, deployment in deployments.items()}
    return reports, deployments[LEGACY].outputs["OrdersDlqUrl"]


def child(emulator: Emulator, *command: str) -> subprocess.CompletedProcess[str]:
    """``command`` in a child process whose parent shell has a profile of the user's that does not exist here."""
    env = {**os.environ, "AWS_PROFILE": "users-production-profile", **emulator.env()}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_the_users_app_on_ministack_then_moto_in_one_process(cdk_out: Path, home: Path) -> None:
    reports: dict[str, dict[str, VerificationReport]] = {}
    with ministack() as on_ministack:
        with pytest.raises(PreflightError) as refused:
            cdk_deploy(cdk_out, [NETWORK], on_ministack)
        named = {(f.resource_type, f.subject) for f in refused.value.report.refused}
        assert named == {
            ("AWS::EC2::EIP", "type"),
            ("AWS::EC2::NatGateway", "type"),
            ("AWS::EC2::VPC", "attribute CidrBlock"),
        }
        assert all(f.path.startswith(f"{NETWORK}/Vpc/") for f in refused.value.report.refused)
        assert "AcmeNetwork/Vpc/PublicSubnet1/NATGateway" in str(refused.value)
        cloudformation = on_ministack_client(on_ministack)
        assert NETWORK not in [s["StackName"] for s in cloudformation.list_stacks()["StackSummaries"]]

        reports["ministack"], dlq = deploy_and_verify(cdk_out, on_ministack)
        run_clients(on_ministack, dlq)

    with moto_server() as on_moto:
        reports["moto"], dlq = deploy_and_verify(cdk_out, on_moto)
        run_clients(on_moto, dlq)

    for emulator, by_stack in reports.items():
        for name, report in by_stack.items():
            assert report.mismatches == [], report.details()
            assert report.not_verified == [], report.details()
            assert report.matches, (emulator, name)
    # Each emulator's CDK CLI cache is its own; nothing went to the user's ~/.cdk.
    assert not (home / ".cdk").exists()


def on_ministack_client(emulator: Emulator):  # type: ignore[no-untyped-def]
    import boto3

    return boto3.client(
        "cloudformation",
        endpoint_url=emulator.endpoint_url,
        region_name=emulator.region,
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


def run_clients(emulator: Emulator, dlq: str) -> None:
    """boto3, the library's CLI and the AWS CLI, each in a child process with ``env()`` merged over a shell whose
    AWS_PROFILE names a profile that does not exist here."""
    listed = child(
        emulator, sys.executable, "-c", "import boto3, json; print(json.dumps(boto3.client('sqs').list_queues()))"
    )
    assert listed.returncode == 0, listed.stderr
    names = [url.rsplit("/", 1)[-1] for url in json.loads(listed.stdout)["QueueUrls"]]
    assert dlq.rsplit("/", 1)[-1] in names  # (the host part differs: localhost vs 127.0.0.1)

    peek = child(emulator, sys.executable, "-m", "decoupling_constructs.runtime", "peek", dlq)
    assert peek.returncode == 0, peek.stderr

    identity = child(emulator, "aws", "sts", "get-caller-identity", "--output", "json")
    assert identity.returncode == 0, identity.stderr
    assert json.loads(identity.stdout)["Account"] == emulator.account
    topics = child(emulator, "aws", "sns", "list-topics", "--output", "json")
    assert topics.returncode == 0, topics.stderr
    assert any("Events" in t["TopicArn"] for t in json.loads(topics.stdout)["Topics"])
    # The stack the user deployed, read back by the AWS CLI from the emulator (not from an account).
    stacks = child(emulator, "aws", "cloudformation", "describe-stacks", "--stack-name", LEGACY, "--output", "json")
    assert stacks.returncode == 0, stacks.stderr
    assert [s["StackName"] for s in json.loads(stacks.stdout)["Stacks"]] == [LEGACY]
