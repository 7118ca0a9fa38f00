"""What the README says about output is what a user sees: jsii's end-of-life banner on Node 20, and none on the
Node.js 24 the repository pins (the README's Install section, docs/design.md)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
TINY_APP = """
import aws_cdk as cdk
from aws_cdk import aws_sqs as sqs
app = cdk.App()
sqs.Queue(cdk.Stack(app, "Tiny"), "Queue")
app.synth()
"""


def synth_output(node: str) -> str:
    """stdout and stderr of a one-queue synth with jsii on ``node``."""
    env = {**os.environ, "JSII_NODE": node}
    result = subprocess.run(
        [sys.executable, "-c", TINY_APP], env=env, capture_output=True, text=True, timeout=300, check=True
    )
    return result.stdout + result.stderr


def node_major(node: str) -> int:
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout
    return int(re.match(r"v(\d+)", version).group(1))  # type: ignore[union-attr]


def machine_node_20() -> str | None:
    """A Node 20 on this machine outside the venv (the Debian or NodeSource one), if there is one."""
    candidates = [shutil.which("node", path="/usr/local/bin:/usr/bin:/bin"), "/usr/bin/node"]
    for node in candidates:
        if node and Path(node).exists() and node_major(node) == 20:
            return node
    return None


@pytest.mark.slow
def test_node_20_prints_the_banner_the_readme_quotes() -> None:
    quoted = re.search(r'jsii prints a warning banner \("([^"]+)"\)', README)
    assert quoted, "the README's Node 20 statement moved: update this test with it"
    node = machine_node_20()
    if node is None:
        pytest.skip("no Node 20 on this machine: the README's statement about it cannot be checked here")
    assert " ".join(quoted.group(1).split()) in synth_output(node)


@pytest.mark.slow
def test_the_pinned_node_prints_no_banner(node_bin: Path) -> None:
    node = str(node_bin / "node")
    assert node_major(node) == 24
    assert "end-of-life" not in synth_output(node)
