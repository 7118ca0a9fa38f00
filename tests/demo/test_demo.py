"""`make demo` end to end with small counts: the reference app synthesized, deployed by `cdk deploy` into MiniStack
and by the helper into a moto server (both on 127.0.0.1), every resource verified, every pattern driven (the
consumers through MiniStack's event source mappings), one verdict per pattern, exit 0 only when every check held;
a person's output (no tracebacks, no request logs, timings, the log directory on the last line)."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest

from decoupling_constructs.testing.emulators import Emulator
from stacks import REFERENCE_STACKS, demo
from stacks.demo import workers

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
            *("--messages", "8", "--clicks", "20"),
        ]
    )
    captured = capsys.readouterr()
    out, err = captured.out, captured.err
    flat_err = " ".join(err.split())
    assert code == 0, out + err
    # One verdict per pattern, in order, each PASS but the workers' (NOT RUN, and why).
    verdicts = [line for line in out.splitlines() if line.startswith(("PASS ", "FAIL ", "NOT RUN "))]
    assert [v.split(":")[0].split()[-1] for v in verdicts] == list(demo.PATTERNS)
    assert [v for v in verdicts if not v.startswith("PASS ")] == [
        next(v for v in verdicts if v.startswith("NOT RUN workers: "))
    ]
    # Every reference stack: deployed where EMULATOR_FOR says and verified, or not deployed and why.
    assert set(demo.EMULATOR_FOR) == set(REFERENCE_STACKS)
    for stack_name, (emulator, why) in demo.EMULATOR_FOR.items():
        if emulator == "none":
            # Asked of MiniStack at run time: its CloudFormation has no provisioner for the NAT gateway's EIP,
            # the NAT gateway and the flow log (it serves the AL2023 kernel-default AMI parameter QueueWorkers reads).
            refusal = (
                f"{stack_name} -> not deployed: MiniStack refuses it (its CloudFormation has no provisioner for "
                "AWS::EC2::EIP, AWS::EC2::FlowLog, AWS::EC2::NatGateway"
            )
            assert refusal in flat_err
            continue
        assert f"{stack_name} -> {emulator} " in flat_err
        assert " ".join(why.split()) in flat_err
        # DecouplingConsumers: verify has no reader for event source mappings yet (issue 20 §2), and says so.
        assert f"VERIFIED {stack_name} on {emulator} " in out or (
            f"NOT VERIFIED {stack_name}: verify cannot read AWS::Lambda::EventSourceMapping" in out
        )
    assert "MISMATCH" not in out
    assert "every record in S3 exactly once" not in out  # a check that held is not listed as FAILED
    assert "300 records in" in " ".join(out.split())
    assert "\n  emulator differs from AWS: MiniStack's Firehose writes one object per record" in out
    # The consumers: the poison reached the DLQ after its receives, every good message processed once.
    assert "PASS queue-function: 5/5 checks held" in out
    assert "poison, after 5 receives" in out and "in the DLQ: True, never processed" in out
    assert "8 of 8 good messages processed once" in out
    assert "6 of 6 processed once" in out  # Invoices (FIFO)
    assert "PASS stream-function: 2/2 checks held" in out
    assert "20 of 20 processed once" in out
    assert "\n  MiniStack's Kinesis event source mapping runs the success path only" in out
    # SNS -> Lambda and SNS -> Firehose (the latter stood in for: MiniStack's SNS does not deliver to Firehose).
    assert "PASS fanout-lambda: 2/2 checks held" in out
    assert "PASS fanout-firehose: 5/5 checks held" in out
    assert "10 of 10 under orders/" in out
    assert "NOT RUN workers: the workers' local boot run" in out
    # The injected failures: counted in one line, their tracebacks in the log files only.
    assert "\n  10 failures injected on purpose" in out  # jobs 99 and 199 of 200, received 5 times each
    assert "\n  5 failures injected on purpose" in out  # the poison's 5 receives
    assert "Traceback" not in out + err
    assert "cannot be processed" in (tmp_path / "demo.log").read_text()
    assert "has no valid quantity" in (tmp_path / "ministack.log").read_text()  # the poison, in MiniStack's log
    assert out.rstrip().splitlines()[-1] == f"logs (emulators, cdk, tracebacks of injected failures): {tmp_path}"
    assert '"POST / HTTP/1.1"' not in out + err  # no emulator request log on the terminal
    for phase in ("start emulators", "deploy", "verify", "queue", "stream", "queue-function", "stream-function"):
        assert f"{phase} " in out.split("timings:", 1)[1]


def test_the_workers_verdict_comes_from_the_boot_run_once_there_is_one(tmp_path: Path) -> None:
    def boot_run(cdk_out: Path, emulator: Emulator, log_dir: Path) -> demo.Result:
        result = demo.Result("workers")
        result.check("messages consumed", 10, 10)
        return result

    emulator = Emulator("ministack", "1.5.33", "http://127.0.0.1:4599", "000000000000")
    ran = workers.workers_scenario(tmp_path, emulator, tmp_path, "nothing", boot_run=boot_run)
    assert ran.verdict == "PASS workers: 1/1 checks held"
    not_run = workers.workers_scenario(tmp_path, emulator, tmp_path, "its CloudFormation has no provisioner for X")
    assert not_run.ok and not_run.verdict.startswith("NOT RUN workers: ")
    assert "has no provisioner for X" in not_run.verdict


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
