"""The cross-account reference pair (stacks/cross_account_stack.py) under the three scanners of the reference app:
cfn-lint, cdk-nag AwsSolutions and checkov, each finding nothing unacknowledged."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import cfnlint.api
import pytest
from cdk_nag import AwsSolutionsChecks

from stacks import app_context
from stacks.cross_account_stack import CROSS_ACCOUNT_STACKS, build_cross_account_stacks

from .test_checkov import run_checkov
from .test_reference_stacks import LINT_REGIONS, synth_with_nag, violations_in


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, cdk.Stack], dict]:
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("cdk.out")), context=app_context())
    stacks = build_cross_account_stacks(app)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return stacks, synth_with_nag(app)


@pytest.mark.parametrize("stack_id", CROSS_ACCOUNT_STACKS)
def test_cdk_nag_finds_nothing(pair, stack_id: str) -> None:
    _, report = pair
    assert violations_in(report, stack_id) == []


@pytest.mark.parametrize("stack_id", CROSS_ACCOUNT_STACKS)
def test_cfn_lint_zero_errors_and_warnings(pair, stack_id: str) -> None:
    stacks, _ = pair
    stack = stacks[stack_id]
    template = cdk.Stage.of(stack).synth().get_stack_artifact(stack.artifact_id).template
    matches = cfnlint.api.lint(json.dumps(template), config=cfnlint.api.ManualArgs(regions=LINT_REGIONS))
    assert [f"{m.rule.id} {m.message} ({'/'.join(map(str, m.path))})" for m in matches] == []


def test_checkov_finds_nothing(pair, tmp_path: Path) -> None:
    stacks, _ = pair
    scans = run_checkov(stacks, tmp_path)
    assert {stack_id: scans[stack_id].failed for stack_id in CROSS_ACCOUNT_STACKS} == {
        stack_id: [] for stack_id in CROSS_ACCOUNT_STACKS
    }
    assert all(scans[stack_id].passed > 0 for stack_id in CROSS_ACCOUNT_STACKS)
    # The only skips are the library's own, reviewed in test_checkov.py (SSE-SQS queues: CKV_AWS_27).
    assert {check for scan in scans.values() for (_, check) in scan.skipped} <= {"CKV_AWS_27"}
