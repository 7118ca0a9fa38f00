"""The docs' emulator sample (examples/test_queues_emulator.py), run as a user runs it: the ReliableQueue sample app
synthesized, `cdk deploy`ed by the real CDK CLI into MiniStack, and every resource verified against its template."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("examples-deploy")]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_emulator_sample_deploys_and_verifies_the_queues(tmp_path: Path) -> None:
    sys.path.insert(0, str(EXAMPLES))
    try:
        sample = runpy.run_path(str(EXAMPLES / "test_queues_emulator.py"), run_name="example")
        sample["test_queues_deploy_and_match_their_template"](tmp_path)
    finally:
        sys.path.remove(str(EXAMPLES))
