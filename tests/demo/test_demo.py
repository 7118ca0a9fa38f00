"""`make demo` end to end with small counts: the reference app synthesized, deployed by `cdk deploy` into MiniStack
and by the helper into a moto server (both on 127.0.0.1), every resource verified, every pattern driven, exit 0
only when every check held; a person's output (no tracebacks, no request logs, timings, the log directory)."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest

from decoupling_constructs.testing.emulators import Emulator
from stacks import demo

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cdk_out(reference_stacks: dict[str, cdk.Stack]) -> Path:
    """The cloud assembly the session's reference app was synthesized into (no second synthesis)."""
    stack = next(iter(reference_stacks.values()))
    return Path(cdk.Stage.of(stack).synth().directory)


def test_demo_deploys_verifies_and_runs_every_pattern(
    cdk_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = demo.main(
        [
            *("--cdk-out", str(cdk_out), "--log-dir", str(tmp_path)),
            *("--jobs", "200", "--per-group", "5", "--events", "100", "--records", "300"),
        ]
    )
    captured = capsys.readouterr()
    out, err = captured.out, captured.err
    assert code == 0, out + err
    for pattern in demo.PATTERNS:
        assert f"PASS {pattern}:" in out
    for stack_name, (emulator, why) in demo.EMULATOR_FOR.items():
        assert f"VERIFIED {stack_name} on {emulator} " in out
        assert f"{stack_name} -> {emulator} " in " ".join(err.split())
        assert " ".join(why.split()) in " ".join(err.split())
    assert "0 mismatches" in out
    assert "every record in S3 exactly once" not in out  # a check that held is not listed as FAILED
    assert "300 records in" in " ".join(out.split())
    assert "\n  emulator differs from AWS: MiniStack's Firehose writes one object per record" in out
    # The injected failures: counted in one line, their tracebacks in the log file only.
    assert "\n  10 failures injected on purpose" in out  # jobs 99 and 199 of 200, received 5 times each
    assert "Traceback" not in out + err
    assert "cannot be processed" in (tmp_path / "demo.log").read_text()
    assert f"logs (emulators, cdk, tracebacks of injected failures): {tmp_path}" in out
    assert '"POST / HTTP/1.1"' not in out + err  # no emulator request log on the terminal
    for phase in ("start emulators", "deploy", "verify", "queue", "stream"):
        assert f"{phase} " in out.split("timings:", 1)[1]


def test_a_failed_check_fails_the_demo(
    cdk_out: Path, tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def wrong(deployment, size, progress):  # a scenario whose check does not hold
        result = demo.Result("broker")
        result.check("brokers deployed", 2, 1)
        return result

    monkeypatch.setitem(demo.SCENARIOS, "broker", wrong)
    assert demo.main(["--cdk-out", str(cdk_out), "--pattern", "broker", "--log-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "FAIL broker: 0/1 checks held" in out
    assert "FAILED brokers deployed" in out


def test_keep_running_prints_an_endpoint_url_form_for_the_aws_cli_v1(monkeypatch, capsys) -> None:
    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(demo.time, "sleep", interrupted)
    emulator = Emulator("ministack", "1.5.33", "http://127.0.0.1:4599", "000000000000")
    demo.keep_running({"ministack": emulator})
    out = capsys.readouterr().out
    assert "AWS_ENDPOINT_URL=http://127.0.0.1:4599 " in out
    assert "aws --endpoint-url http://127.0.0.1:4599 --region us-east-1 sqs list-queues" in out


def test_help_and_usage(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as done:
        demo.main(["--help"])
    assert done.value.code == 0
    assert "--keep-running" in capsys.readouterr().out
    with pytest.raises(SystemExit) as usage:
        demo.main(["--cdk-out", str(tmp_path)])
    assert usage.value.code == 2
    assert "holds no synthesized app" in capsys.readouterr().err
