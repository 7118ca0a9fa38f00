"""`make demo` end to end with small counts: the stacks synthesized in-process, deployed by one `cdk deploy` into
MiniStack and by the helper into a moto server (both on 127.0.0.1), every resource verified, every pattern driven
(the consumers through MiniStack's event source mappings, the workers by their boot script run here), one verdict
per pattern, exit 0 only when every check held; a person's output (no tracebacks, no request logs, timings, the
log directory on the last line)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from decoupling_constructs.testing.emulators import Emulator
from stacks import REFERENCE_STACKS, demo
from stacks.demo import flink, workers

pytestmark = pytest.mark.slow

# What MiniStack's CloudFormation has no provisioner for in DecouplingQueueWorkers, asked of MiniStack at run time
# (it serves the AL2023 kernel-default AMI parameter QueueWorkers reads).
WORKERS_REFUSED = (
    "MiniStack refuses it (its CloudFormation has no provisioner for AWS::EC2::EIP, AWS::EC2::FlowLog, "
    "AWS::EC2::NatGateway)"
)


def test_demo_deploys_verifies_and_runs_every_pattern(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = demo.main(
        [
            *("--log-dir", str(tmp_path)),
            *("--jobs", "200", "--per-group", "5", "--events", "100", "--records", "300"),
            *("--messages", "8", "--clicks", "20", "--renders", "12"),
        ]
    )
    captured = capsys.readouterr()
    out, err = captured.out, captured.err
    print(next((line for line in out.splitlines() if line.startswith("timings:")), "no timings"))  # with -s / -rP
    flat_out, flat_err = " ".join(out.split()), " ".join(err.split())
    assert code == 0, out + err
    # One verdict per pattern, in order, every one PASS (the workers' included).
    verdicts = [line for line in out.splitlines() if line.startswith(("PASS ", "FAIL ", "NOT RUN "))]
    assert [v.split(":")[0].split()[-1] for v in verdicts] == list(demo.PATTERNS)
    assert [v for v in verdicts if not v.startswith("PASS ")] == []
    # Every reference stack: deployed where EMULATOR_FOR says and verified, or not deployed and why; and the
    # demo's own workers stack.
    # DecouplingStreamProcessor: a reference stack the demo deploys in its MiniStack variant (no metric-math alarms).
    assert set(demo.EMULATOR_FOR) == set(REFERENCE_STACKS) - {flink.STACK}
    assert set(demo.DEMO_STACKS) == {workers.DEMO_STACK, flink.STACK}
    for stack_name, (emulator, why) in {**demo.EMULATOR_FOR, **demo.DEMO_STACKS}.items():
        if emulator == "none":
            if stack_name == workers.STACK:  # the others are deployed by tests of their own, not by the demo
                assert f"{stack_name} -> not deployed: {WORKERS_REFUSED}" in flat_err
            continue
        assert f"{stack_name} -> {emulator} " in flat_err
        assert " ".join(why.split()) in flat_err
        # verify has no reader for event source mappings (DecouplingConsumers) and resolves no Fn::Base64 (the
        # workers' user data) yet (issue 20 §2), and says so.
        assert f"VERIFIED {stack_name} on {emulator} " in out or any(
            f"NOT VERIFIED {stack_name}: {reason}" in out
            for reason in (
                "verify cannot read AWS::Lambda::EventSourceMapping",
                "intrinsic Fn::Base64 is not supported",
            )
        )
    # One cdk deploy of every MiniStack stack.
    assert flat_err.count("] cdk deploy ") == 1
    everywhere = {**demo.EMULATOR_FOR, **demo.DEMO_STACKS}
    ministack_stacks = sorted(name for name, (emulator, _) in everywhere.items() if emulator == "ministack")
    assert f"] cdk deploy {' '.join(ministack_stacks)} into ministack" in flat_err
    assert "MISMATCH" not in out
    assert "every record in S3 exactly once" not in out  # a check that held is not listed as FAILED
    assert "300 records in" in flat_out
    assert "\n  emulator differs from AWS: MiniStack's Firehose writes one object per record" in out
    # The consumers: the poison reached the DLQ after its receives, every good message processed once.
    assert "PASS queue-function: 5/5 checks held" in out
    assert "poison, after 5 receives" in out and "in the DLQ: True, never processed" in out
    assert "8 of 8 good messages processed once" in out
    assert "6 of 6 processed once" in out  # Invoices (FIFO)
    assert "PASS stream-function: 2/2 checks held" in out
    # StreamToHttpEndpoint: the configuration MiniStack reports, and the one line on what it cannot show.
    assert "PASS http-endpoint: 4/4 checks held" in out
    assert "MiniStack's Firehose POSTs nothing to an HTTP endpoint" in flat_out
    # DecouplingFirehoseTransform: the transformed clicks under each page's prefix, the dropped and failed records
    # absent, and the one line on what MiniStack cannot show (processing-failed output, batching).
    assert "PASS firehose-transform: 7/7 checks held" in out
    assert "13: 8 clicks, 3 Dropped, 2 ProcessingFailed" in flat_out
    assert "clicks/page=home/ │ 6 transformed rows" in flat_out and "clicks/page=cart/ │ 2 transformed rows" in flat_out
    assert "\n  emulator differs from AWS: MiniStack's SNS does not deliver to Firehose (the demo puts" in out
    assert "nothing lands under clicks-errors/processing-failed/" in flat_out
    assert "20 of 20 processed once" in out
    assert "\n  MiniStack's Kinesis event source mapping runs the success path only" in out
    # SNS -> Lambda and SNS -> Firehose (the latter stood in for: MiniStack's SNS does not deliver to Firehose).
    assert "PASS fanout-lambda: 2/2 checks held" in out
    assert "PASS fanout-firehose: 5/5 checks held" in out
    assert "10 of 10 under orders/" in out
    # The workers: the boot ran here against MiniStack, every job rendered once, none left; the verdict line says
    # what the local run stands in for and why DecouplingQueueWorkers itself is not deployed.
    workers_verdict = next(v for v in verdicts if v.startswith("PASS workers: "))
    assert workers_verdict.startswith("PASS workers: 4/4 checks held (the boot ran on this machine, not an instance")
    for stand_in in ("systemd", "instance metadata", "AMI", f"{workers.STACK} itself (NAT VPC) not deployed"):
        assert stand_in in workers_verdict
    assert WORKERS_REFUSED in workers_verdict
    assert "12 of 12 rendered once by the booted worker, 0 left" in flat_out
    assert "rendered job" in (tmp_path / "workers" / "opt" / "worker.log").read_text()  # the worker's log: a file
    assert "rendered job" not in out + err
    # The injected failures: counted in one line, their tracebacks in the log files only.
    assert "\n  10 failures injected on purpose" in out  # jobs 99 and 199 of 200, received 5 times each
    assert "\n  5 failures injected on purpose" in out  # the poison's 5 receives
    assert "Traceback" not in out + err
    assert "cannot be processed" in (tmp_path / "demo.log").read_text()
    assert "has no valid quantity" in (tmp_path / "ministack.log").read_text()  # the poison, in MiniStack's log
    last = f"logs (emulators, cdk, the worker, tracebacks of injected failures): {tmp_path}"
    assert out.rstrip().splitlines()[-1] == last
    assert '"POST / HTTP/1.1"' not in out + err  # no emulator request log on the terminal
    timings = out.split("timings:", 1)[1]
    for phase in ("synth", "start MiniStack", "cdk bootstrap", "deploy", "verify", "drive", *demo.PATTERNS):
        assert f"{phase} " in timings


def test_the_workers_verdict_is_not_run_and_says_why_without_an_aws_cli(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(workers.shutil, "which", lambda name: None)
    emulator = Emulator("ministack", "1.5.33", "http://127.0.0.1:4599", "000000000000")
    deployment = SimpleNamespace(client=lambda service: pytest.fail("no call without an AWS CLI"), outputs={})
    result = workers.workers_scenario(deployment, emulator, 5, lambda *a: None, tmp_path, "its X")  # type: ignore[arg-type]
    assert result.ok and result.verdict.startswith("NOT RUN workers: the boot fetches its bundle with the AWS CLI")
    assert "DecouplingQueueWorkers itself (NAT VPC) not deployed: MiniStack refuses it (its X)" in result.verdict


def test_a_verdict_line_says_what_it_stands_for() -> None:
    result = demo.Result("workers")
    result.check("jobs", 3, 3)
    assert result.verdict == "PASS workers: 1/1 checks held"
    result.said = "run here"
    assert result.verdict == "PASS workers: 1/1 checks held (run here)"


def test_a_failed_check_fails_the_demo(tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    def wrong(deployment, size, progress):  # a scenario whose check does not hold
        result = demo.Result("broker")
        result.check("brokers deployed", 2, 1)
        return result

    monkeypatch.setitem(demo.SCENARIOS, "broker", wrong)
    assert demo.main(["--pattern", "broker", "--log-dir", str(tmp_path)]) == 1
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
        demo.main(["--renders", "0", "--jobs", "0", "--log-dir", str(tmp_path)])
    assert usage.value.code == 2
    assert "--jobs, --renders must be at least 1" in capsys.readouterr().err


def test_a_pattern_without_moto_stacks_deploys_without_a_moto_server(tmp_path: Path) -> None:
    """`--pattern stream` starts no moto server: the moto lane must not look one up (it raised KeyError: 'moto')."""
    # No emulator at all: the MiniStack lane is skipped (no emulator), the moto lane has nothing to deploy.
    assert demo.deploy(tmp_path, {"DecouplingStreamToS3": {}}, {}, tmp_path) == {}
