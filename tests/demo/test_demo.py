"""`make demo` end to end with small counts: the reference app synthesized, deployed into a moto server on
127.0.0.1, every pattern driven, exit 0 only when every check held."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest

from decoupling_constructs import demo


@pytest.fixture(scope="module")
def cdk_out(reference_stacks: dict[str, cdk.Stack]) -> Path:
    """The cloud assembly the session's reference app was synthesized into (no second synthesis)."""
    stack = next(iter(reference_stacks.values()))
    return Path(cdk.Stage.of(stack).synth().directory)


def test_demo_runs_every_pattern_and_passes(cdk_out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = demo.main(
        ["--cdk-out", str(cdk_out), "--jobs", "200", "--per-group", "5", "--events", "100", "--records", "500"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    for pattern in demo.PATTERNS:
        assert f"PASS {pattern}:" in out
    assert "API calls per message" in out
    assert "moto does not consume a Kinesis source" in out


def test_a_failed_check_fails_the_demo(cdk_out: Path, monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    def wrong(deployment, size, progress):  # a scenario whose check does not hold
        result = demo.Result("broker")
        result.check("brokers deployed", 2, 1)
        return result

    monkeypatch.setitem(demo.SCENARIOS, "broker", wrong)
    assert demo.main(["--cdk-out", str(cdk_out), "--pattern", "broker"]) == 1
    out = capsys.readouterr().out
    assert "FAIL broker: 0/1 checks held" in out
    assert "FAILED brokers deployed" in out


def test_help_and_usage(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as done:
        demo.main(["--help"])
    assert done.value.code == 0
    assert "--keep-running" in capsys.readouterr().out
    with pytest.raises(SystemExit) as usage:
        demo.main(["--cdk-out", str(tmp_path)])
    assert usage.value.code == 2
    assert "holds no synthesized app" in capsys.readouterr().err
