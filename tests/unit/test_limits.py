"""decoupling_constructs.limits: the one home of the AWS limits, shared by the constructs and the runtime."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

from decoupling_constructs import capacity, limits
from decoupling_constructs.queues import reliable_queue as queue
from decoupling_constructs.runtime import consumer, producer, stream
from decoupling_constructs.streams import stream_to_s3

ROOT = Path(__file__).resolve().parents[2]


def test_limits_does_not_load_aws_cdk() -> None:
    """The runtime helpers read their limits here: importing it must not start aws-cdk-lib's Node.js process."""
    code = (
        "import sys, decoupling_constructs.limits; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('aws_cdk', 'constructs', 'jsii')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout == "[]\n"


def test_every_limit_cites_its_source_in_a_comment() -> None:
    """Each number sits on a commented line or in a block of lines under a comment (AWS facts come from AWS docs)."""
    path = ROOT / "decoupling_constructs" / "limits.py"
    lines = path.read_text().splitlines()
    uncommented = []
    for node in ast.parse(path.read_text()).body:
        if not isinstance(node, ast.AnnAssign | ast.Assign):
            continue
        row = node.lineno - 1
        while row >= 0 and lines[row].strip() and "#" not in lines[row]:
            row -= 1  # up through the block of assignments to its comment
        if row < 0 or "#" not in lines[row]:
            uncommented.append(lines[node.lineno - 1])
    assert uncommented == []


def test_constructs_capacity_and_runtime_share_the_same_numbers() -> None:
    assert queue.MAX_WAIT_SECONDS == consumer.MAX_WAIT_TIME_SECONDS == limits.SQS_MAX_WAIT_SECONDS == 20
    assert queue.MAX_VISIBILITY_SECONDS == consumer.MAX_VISIBILITY_TIMEOUT == limits.SQS_MAX_VISIBILITY_SECONDS
    assert consumer.MAX_BATCH == producer.SQS_MAX_BATCH_ENTRIES == limits.SQS_MAX_BATCH_ENTRIES == 10
    redrive = importlib.import_module("decoupling_constructs.runtime.redrive")  # the package's redrive is the function
    assert redrive.MAX_PER_SECOND == limits.SQS_MAX_MOVE_MESSAGES_PER_SECOND == 500
    assert stream.KINESIS_MAX_RECORDS == limits.KINESIS_MAX_RECORDS == 500
    assert stream_to_s3.MAX_RETENTION_HOURS == limits.KINESIS_MAX_RETENTION_HOURS == 8760
    assert capacity.MAX_PLANNED_SHARDS == limits.KINESIS_DEFAULT_SHARD_QUOTA == 20_000


def test_no_module_of_the_library_redefines_a_limit_as_a_literal() -> None:
    """A limit written as a number outside limits.py would drift from it: every module-level constant whose
    name is a limits.py name (without its service prefix) must get its value from limits.py."""
    suffixes = {name.split("_", 1)[1] for name in vars(limits) if name.isupper()}
    literal = []
    for path in (ROOT / "decoupling_constructs").rglob("*.py"):
        if path.name == "limits.py":
            continue
        for node in ast.parse(path.read_text()).body:
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, ast.AnnAssign)
                else []
            )
            for target in targets:
                if isinstance(target, ast.Name) and target.id in suffixes and isinstance(node.value, ast.Constant):
                    literal.append(f"{path.relative_to(ROOT)}: {target.id}")
    assert literal == []
