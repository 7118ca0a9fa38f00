"""``make demo``: every reference stack the emulators can host, deployed by the real CDK CLI into emulators on
127.0.0.1, verified, and each pattern driven with traffic, its consumers included.

::

    python -m stacks.demo [--cdk-out cdk.out] [--pattern queue] [--jobs 1000] [--keep-running]

It starts MiniStack (a child process) and a moto server on 127.0.0.1 (free ports; both stopped at the end, on
Ctrl-C and on errors), runs ``cdk bootstrap`` and ``cdk deploy`` of the synthesized app in ``--cdk-out`` into
MiniStack for the messaging and consumer stacks, deploys the broker stack into moto with
``decoupling_constructs.testing`` (MiniStack's CloudFormation rejects AmazonMQ; see ``EMULATOR_FOR``), verifies every
deployed resource against its template, drives each pattern with the runtime helpers and through the consumers'
real event source mappings, and prints one verdict per pattern and per-phase timings. The workers stack is not
deployed (MiniStack refuses its NAT gateway, flow log and AMI parameter: asked of MiniStack at run time), and
the workers' boot has a slot (``stacks/demo/workers.py``). Emulator request logs, the CLI's output and the
tracebacks of the failures the scenarios inject go to log files in one directory, whose path is the last line.
It exits 0 only if every check held. It needs what requirements-dev.txt pins (moto[server], rich), MiniStack and
the CDK CLI (``make demo`` has them).

It lives with the reference app, not in the library: it depends on moto, rich and the reference stacks' names,
and ``pip install decoupling-constructs`` does not ship it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from decoupling_constructs.testing import Deployment, deploy_to_moto
from decoupling_constructs.testing.emulators import Emulator, cdk_deploy, ministack, moto_server
from decoupling_constructs.testing.verify import VerificationReport, verify

from . import consumers, workers
from ._model import REGION, Check, Phases, Progress, Result, log_to
from .messaging import (
    broker_scenario,
    fanout_firehose_scenario,
    fanout_lambda_scenario,
    fanout_scenario,
    fifo_scenario,
    queue_scenario,
    stream_scenario,
)

# One verdict each, in this order (SNS -> Lambda before the fanout pattern's notifier invocations crowd MiniStack).
PATTERNS = (
    "queue",
    "fifo",
    "fanout-lambda",
    "fanout-firehose",
    "fanout",
    "stream",
    "broker",
    "queue-function",
    "stream-function",
    "workers",
)
STACKS = {
    "queue": "DecouplingReliableQueue",
    "fifo": "DecouplingReliableQueue",
    "fanout": "DecouplingFanOut",
    "fanout-lambda": "DecouplingFanOut",
    "fanout-firehose": "DecouplingFanOut",
    "stream": "DecouplingStreamToS3",
    "broker": "DecouplingMessageBroker",
    "queue-function": consumers.STACK,
    "stream-function": consumers.STACK,
    "workers": workers.STACK,
}

# Which emulator serves each reference stack, and why (a stack goes wherever every one of its resources is created);
# "none": not deployed, why asked of MiniStack at run time.
EMULATOR_FOR = {
    "DecouplingReliableQueue": ("ministack", "its CloudFormation creates every resource"),
    "DecouplingFanOut": ("ministack", "its CloudFormation creates every resource, its Lambda runs the notifier"),
    "DecouplingStreamToS3": ("ministack", "it creates every resource and Firehose really reads the stream"),
    "DecouplingMessageBroker": (
        "moto",
        "MiniStack's CloudFormation rejects AmazonMQ::Broker; moto's helper completes what moto skips",
    ),
    consumers.STACK: ("ministack", f"its Lambda runs SQS and Kinesis event source mappings; {consumers.VARIANT}"),
    workers.STACK: ("none", "not deployed"),
}


def deploy(
    cdk_out: Path,
    stack_names: list[str],
    emulators: dict[str, Emulator],
    log_dir: Path,
    variants: dict[str, Future[tuple[Path, dict[str, Any]]]],
) -> dict[str, Deployment]:
    """The MiniStack stacks with `cdk bootstrap` + `cdk deploy` (those in ``variants`` from the assembly the
    demo synthesized for them), the moto stacks with the helper, concurrently."""
    on = {name: EMULATOR_FOR[name][0] for name in stack_names}
    templates = {
        name: json.loads((cdk_out / f"{name}.template.json").read_text())
        for name in stack_names
        if on[name] != "none" and name not in variants
    }

    def to_moto() -> dict[str, Deployment]:
        endpoint = emulators["moto"].endpoint_url
        return {
            name: deploy_to_moto(templates[name], stack_name=name, endpoint_url=endpoint)
            for name in stack_names
            if on[name] == "moto"
        }

    with ThreadPoolExecutor(max_workers=1) as pool:
        moto_deployments = pool.submit(to_moto)
        deployments: dict[str, Deployment] = {}
        cdk_stacks = [name for name in stack_names if on[name] == "ministack" and name not in variants]
        emulator = emulators.get("ministack")
        if cdk_stacks and emulator is not None:
            cdk_deploy(cdk_out, cdk_stacks, emulator, log_file=log_dir / "cdk.log")
            deployments.update({name: emulator.deployment(name, templates[name]) for name in cdk_stacks})
        for name, variant in variants.items():
            if name in stack_names and emulator is not None:
                assembly, template = variant.result()
                cdk_deploy(assembly, [name], emulator, log_file=log_dir / "cdk.log")
                deployments[name] = emulator.deployment(name, template)
        deployments.update(moto_deployments.result())
    return deployments


def verify_or_say_why(deployment: Deployment) -> VerificationReport | str:
    """The stack's verification report, or why it could not be verified (a resource type ``verify`` has no
    reader for yet: issue 20 §2 adds them)."""
    try:
        return verify(deployment, check=False)
    except NotImplementedError as error:
        return str(error)


Scenario = Callable[[Deployment, int, Progress], Result]
SCENARIOS: dict[str, Scenario] = {
    "queue": queue_scenario,
    "fifo": fifo_scenario,
    "fanout": fanout_scenario,
    "fanout-lambda": fanout_lambda_scenario,
    "fanout-firehose": fanout_firehose_scenario,
    "stream": stream_scenario,
    "broker": broker_scenario,
    "queue-function": consumers.queue_function_scenario,
    "stream-function": consumers.stream_function_scenario,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stacks.demo", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--cdk-out", type=Path, default=Path("cdk.out"), help="synthesized app (default cdk.out)")
    parser.add_argument("--pattern", choices=[*PATTERNS, "all"], default="all", help="run one pattern only")
    parser.add_argument("--jobs", type=int, default=500, help="queue: jobs (default 500)")
    parser.add_argument("--per-group", type=int, default=20, help="fifo: messages per group (default 20)")
    parser.add_argument("--events", type=int, default=200, help="fanout: order events (default 200)")
    parser.add_argument("--records", type=int, default=1000, help="stream: records (default 1000)")
    parser.add_argument("--messages", type=int, default=20, help="queue-function: Shipments messages (default 20)")
    parser.add_argument("--clicks", type=int, default=100, help="stream-function: records (default 100)")
    parser.add_argument("--log-dir", type=Path, help="where the logs go (default: a new temporary directory)")
    parser.add_argument("--keep-running", action="store_true", help="keep the emulators up afterwards; Ctrl-C stops")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("rich") is None:  # pragma: no cover - requirements-dev.txt pins it
        parser.error("the demo needs rich: pip install rich (make demo installs it)")
    if not (args.cdk_out / "manifest.json").exists():
        parser.error(f"--cdk-out {args.cdk_out} holds no synthesized app: run `cdk synth` (make demo does)")

    log_dir = args.log_dir or Path(tempfile.mkdtemp(prefix="decoupling-demo-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    with log_to(log_dir / "demo.log"):
        return run(args, log_dir)


def run(args: argparse.Namespace, log_dir: Path) -> int:
    from rich.console import Console
    from rich.progress import Progress as Bars

    console = Console(stderr=True)
    patterns = list(PATTERNS) if args.pattern == "all" else [args.pattern]
    stack_names = sorted({STACKS[p] for p in patterns})
    needed = {EMULATOR_FOR[name][0] for name in stack_names} - {"none"}
    sizes = {
        "queue": args.jobs,
        "fifo": args.per_group,
        "fanout": args.events,
        "fanout-lambda": max(args.events // 10, 4),
        "fanout-firehose": max(args.events // 10, 1),
        "stream": args.records,
        "broker": 1,
        "queue-function": max(args.messages, 4),
        "stream-function": args.clicks,
    }
    results: list[Result] = []
    reports: dict[str, VerificationReport | str] = {}
    phases = Phases()
    started = time.monotonic()
    with ExitStack() as running, ThreadPoolExecutor(max_workers=2) as background:
        # The consumers' variant is synthesized, and MiniStack asked what it refuses, while the emulators start.
        variants = {
            name: background.submit(consumers.synth_consumers, log_dir / "cdk.out.consumers")
            for name in stack_names
            if name == consumers.STACK
        }
        refused = (
            background.submit(
                workers.ministack_refusals, json.loads((args.cdk_out / f"{workers.STACK}.template.json").read_text())
            )
            if workers.STACK in stack_names
            else None
        )
        with phases.phase("start emulators"):
            emulators: dict[str, Emulator] = {}
            if "ministack" in needed:
                emulators["ministack"] = running.enter_context(ministack(log_file=log_dir / "ministack.log"))
            if "moto" in needed:
                emulators["moto"] = running.enter_context(moto_server())
        for emulator in emulators.values():
            console.print(f"{emulator.label} on {emulator.endpoint_url} (127.0.0.1 only)")
        for name in stack_names:
            emulator_name, why = EMULATOR_FOR[name]
            if emulator_name == "none":
                assert refused is not None
                console.print(f"  {name} -> not deployed: MiniStack refuses it ({refused.result()})")
                continue
            how = "cdk bootstrap + cdk deploy" if emulator_name == "ministack" else "deploy_to_moto"
            console.print(f"  {name} -> {emulators[emulator_name].label} ({how}): {why}")
        with phases.phase("deploy"), console.status("deploying (cdk deploy into MiniStack, the helper into moto)"):
            deployments = deploy(args.cdk_out, stack_names, emulators, log_dir, variants)
        with phases.phase("verify"), ThreadPoolExecutor(max_workers=max(len(deployments), 1)) as pool:
            reports = dict(zip(deployments, pool.map(verify_or_say_why, deployments.values()), strict=True))
        with Bars(console=console, transient=True) as bars:
            tasks: dict[str, Any] = {}

            def progress(pattern: str, done: int, total: int) -> None:
                if pattern not in tasks:
                    tasks[pattern] = bars.add_task(pattern, total=total)
                bars.update(tasks[pattern], completed=done, total=total)

            for pattern in patterns:
                with phases.phase(pattern):
                    try:
                        if pattern == "workers":
                            assert refused is not None
                            result = workers.workers_scenario(
                                args.cdk_out, emulators.get("ministack"), log_dir, refused.result()
                            )
                        else:
                            result = SCENARIOS[pattern](deployments[STACKS[pattern]], sizes[pattern], progress)
                    except Exception as error:
                        logging.getLogger(__name__).exception("scenario %s failed", pattern)
                        result = Result(pattern)
                        result.check("scenario ran", "no error", f"{type(error).__name__}: {error}")
                    results.append(result)
        print_results(results, reports, phases, time.monotonic() - started, Console(width=max(Console().width, 120)))
        print(f"logs (emulators, cdk, tracebacks of injected failures): {log_dir}")
        if args.keep_running:
            keep_running(emulators)
    verified = all(isinstance(r, str) or r.ok for r in reports.values())
    return 0 if results and all(r.ok for r in results) and verified else 1


def print_results(
    results: list[Result],
    reports: dict[str, VerificationReport | str],
    phases: Phases,
    seconds: float,
    console: Any,
) -> None:
    from rich.table import Table

    table = Table(title=f"decoupling-constructs demo ({seconds:.0f} s)")
    for column in ("pattern", "what", "result"):
        table.add_column(column)
    for result in results:
        for what, value in result.rows:
            table.add_row(result.pattern, what, value)
        for check in result.checks:
            if not check.ok:
                table.add_row(result.pattern, f"FAILED {check.name}", f"expected {check.expected}, got {check.actual}")
    console.print(table)
    for name, report in reports.items():
        if isinstance(report, str):
            print(f"NOT VERIFIED {name}: {report}")
            continue
        print(("VERIFIED " if report.ok else "MISMATCH ") + report.summary())
        for finding in report.mismatches:
            print(
                f"  mismatch {finding.logical_id} {finding.property}: template {finding.expected}, got {finding.actual}"
            )
    for result in results:
        print(result.verdict)
        for note in result.notes:
            print(f"  {note}")
        if result.injected_failures:
            print(f"  {result.injected_failures} failures injected on purpose (handler errors; tracebacks in the log)")
    print(f"timings: {phases.line()}")


def keep_running(emulators: dict[str, Emulator]) -> None:
    for emulator in emulators.values():
        url = emulator.endpoint_url
        print(
            f"{emulator.label} running at {url}:\n"
            f"  AWS_ENDPOINT_URL={url} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
            f"AWS_DEFAULT_REGION={REGION} aws sqs list-queues\n"
            f"  aws --endpoint-url {url} --region {REGION} sqs list-queues   "
            "(the AWS CLI v1 ignores AWS_ENDPOINT_URL for SQS)"
        )
    print("Ctrl-C stops them.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


__all__ = ["EMULATOR_FOR", "PATTERNS", "SCENARIOS", "STACKS", "Check", "Result", "main", "run"]
