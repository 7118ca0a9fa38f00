"""``make demo``: every reference stack the emulators can host, deployed by the real CDK CLI into emulators on
127.0.0.1, verified, and each pattern driven with traffic, its consumers and the workers' boot included.

::

    python -m stacks.demo [--pattern queue] [--jobs 500] [--log-dir DIR] [--keep-running]

It synthesizes the stacks it deploys once, in this process (into ``--cdk-out``, default ``cdk.out`` in the log
directory; no cdk-nag: ``make synth`` and the static tests check the reference app), while it starts MiniStack (a
child process) and a moto server on 127.0.0.1 (free ports; both stopped at the end, on Ctrl-C and on errors) and
runs ``cdk bootstrap`` into MiniStack. Then one ``cdk deploy`` puts every MiniStack stack in at once (their
CloudFormation deployments concurrent), while ``decoupling_constructs.testing`` deploys the broker stack into moto
(MiniStack's CloudFormation rejects AmazonMQ; see ``EMULATOR_FOR``). It verifies every deployed resource against
its template and drives the patterns in concurrent lanes (``LANES``: one stack's patterns, and those that invoke
MiniStack's Lambda functions, in sequence): the messaging patterns with the runtime helpers, the consumers through
their real event source mappings, the workers by running QueueWorkers' rendered boot script here against MiniStack
(``stacks/demo/workers.py``; DecouplingQueueWorkers itself is not deployed: MiniStack refuses its NAT gateway and
flow log, asked of MiniStack at run time). It prints one verdict per pattern and per-phase timings. Emulator request
logs, the CLI's output, the worker's log and the tracebacks of the failures the scenarios inject go to log files in
one directory, whose path is the last line. It exits 0 only if every check held. It needs what requirements-dev.txt
pins (moto[server], rich), MiniStack, the CDK CLI (``make demo`` has them) and, for the workers' boot, an AWS CLI.

It lives with the reference app, not in the library: it depends on moto, rich and the reference stacks' names,
and ``pip install decoupling-constructs`` does not ship it.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from decoupling_constructs.testing import Deployment, deploy_to_moto
from decoupling_constructs.testing.emulators import Emulator, cdk_bootstrap, cdk_deploy, ministack, moto_server
from decoupling_constructs.testing.verify import VerificationReport, verify

from . import consumers, flink, workers
from ._model import REGION, Check, Phases, Progress, Result, log_to
from .firehose_transform import firehose_transform_scenario
from .http_endpoint import http_endpoint_scenario
from .messaging import (
    broker_scenario,
    fanout_firehose_scenario,
    fanout_lambda_scenario,
    fanout_scenario,
    fifo_scenario,
    queue_scenario,
    stream_scenario,
)

# One verdict each, in this order.
PATTERNS = (
    "queue",
    "fifo",
    "fanout-lambda",
    "fanout-firehose",
    "fanout",
    "stream",
    "http-endpoint",
    "firehose-transform",
    "broker",
    "queue-function",
    "stream-function",
    "stream-processor",
    "workers",
)
# The patterns run in these lanes, the lanes concurrently, each lane's patterns in sequence: one stack's patterns
# share its queues and topic, and the patterns that invoke MiniStack's Lambda functions run one at a time (a
# consumer's event source mapping stalled for two minutes while SNS cold-started the notifier concurrently);
# the consumers first, then the Firehose transform (its Firehose invokes the transform function, one record at a
# time), before the fan-out's notifier invocations crowd MiniStack.
LANES = (
    ("queue-function", "stream-function", "firehose-transform", "fanout-lambda", "fanout-firehose", "fanout"),
    ("queue", "fifo"),
    ("stream", "stream-processor", "http-endpoint"),
    ("broker",),
    ("workers",),
)
STACKS = {
    "queue": "DecouplingReliableQueue",
    "fifo": "DecouplingReliableQueue",
    "fanout": "DecouplingFanOut",
    "fanout-lambda": "DecouplingFanOut",
    "fanout-firehose": "DecouplingFanOut",
    "stream": "DecouplingStreamToS3",
    "http-endpoint": "DecouplingStreamToHttpEndpoint",
    "firehose-transform": "DecouplingFirehoseTransform",
    "broker": "DecouplingMessageBroker",
    "queue-function": consumers.STACK,
    "stream-function": consumers.STACK,
    "stream-processor": flink.STACK,
    "workers": workers.DEMO_STACK,
}

# Which emulator serves each reference stack, and why (a stack goes wherever every one of its resources is created);
# "none": not deployed, why asked of MiniStack at run time.
EMULATOR_FOR = {
    "DecouplingReliableQueue": ("ministack", "its CloudFormation creates every resource"),
    "DecouplingFanOut": ("ministack", "its CloudFormation creates every resource, its Lambda runs the notifier"),
    "DecouplingStreamToS3": ("ministack", "it creates every resource and Firehose really reads the stream"),
    "DecouplingStreamToHttpEndpoint": (
        "ministack",
        "it creates every resource; its Firehose POSTs to no HTTP endpoint, so only the configuration is proven",
    ),
    "DecouplingMessageBroker": (
        "moto",
        "MiniStack's CloudFormation rejects AmazonMQ::Broker; moto's helper completes what moto skips",
    ),
    consumers.STACK: ("ministack", f"its Lambda runs SQS and Kinesis event source mappings; {consumers.VARIANT}"),
    workers.STACK: ("none", "not deployed"),
    "DecouplingFirehoseTransform": (
        "ministack",
        "its Firehose runs the Lambda transform and Lambda/JQ partitioning (one record per invocation)",
    ),
    # Its VPC variant needs security-group rules and flow logs MiniStack's CloudFormation lacks, and verify has no
    # OpenSearch reader: tests/behaviour/test_opensearch_deploy.py deploys the public variant with `cdk deploy`.
    "DecouplingStreamToOpenSearch": ("none", "not deployed here: its own deploy test"),
}
# The demo's own stacks (not reference stacks: the behaviour tests iterate EMULATOR_FOR), and where they go.
# DecouplingStreamProcessor is a reference stack deployed by the demo only (tests/behaviour deploys it on its own:
# test_stream_processor_behaviour.py), in its MiniStack variant.
DEMO_STACKS = {workers.DEMO_STACK: ("ministack", workers.VARIANT), flink.STACK: ("ministack", flink.VARIANT)}


def synth(outdir: Path, stack_names: list[str]) -> tuple[Path, dict[str, dict[str, Any]]]:
    """One in-process synthesis of the stacks the demo needs, with cdk.json's context and without cdk-nag (the
    reference app's synthesis checks the stacks as deployed to AWS): the reference stacks, DecouplingConsumers'
    variant (``consumers.VARIANT``) and ``workers.DEMO_STACK``. The assembly's directory and each template."""
    import aws_cdk as cdk

    from stacks import REFERENCE_STACKS, app_context
    from stacks.consumer_stack import ConsumerStack

    app = cdk.App(outdir=str(outdir), context=app_context())
    for name in stack_names:
        if name == consumers.STACK:
            ConsumerStack(app, name, powertools_layer=False)
        elif name == workers.DEMO_STACK:
            workers.DemoWorkersStack(app, name)
        elif name == flink.STACK:
            flink.build(app, name)
        else:
            REFERENCE_STACKS[name](app, name)
    assembly = app.synth()
    return Path(assembly.directory), {name: dict(assembly.get_stack_by_name(name).template) for name in stack_names}


def deploy(
    assembly: Path,
    templates: dict[str, dict[str, Any]],
    emulators: dict[str, Emulator],
    log_dir: Path,
) -> dict[str, Deployment]:
    """One ``cdk deploy`` of every MiniStack stack from ``assembly`` (bootstrapped already; the stacks'
    deployments concurrent), and the moto stacks with the helper meanwhile."""
    on = {name: {**EMULATOR_FOR, **DEMO_STACKS}[name][0] for name in templates}

    def to_moto() -> dict[str, Deployment]:
        names = [name for name in templates if on[name] == "moto"]
        if not names:  # e.g. `--pattern stream`: no moto server was started
            return {}
        endpoint = emulators["moto"].endpoint_url
        return {name: deploy_to_moto(templates[name], stack_name=name, endpoint_url=endpoint) for name in names}

    with ThreadPoolExecutor(max_workers=1) as pool:
        moto_deployments = pool.submit(to_moto)
        deployments: dict[str, Deployment] = {}
        cdk_stacks = [name for name in templates if on[name] == "ministack"]
        emulator = emulators.get("ministack")
        if cdk_stacks and emulator is not None:
            cdk_deploy(
                assembly,
                cdk_stacks,
                emulator,
                log_file=log_dir / "cdk.log",
                concurrency=len(cdk_stacks),
                bootstrap=False,
            )
            deployments.update({name: emulator.deployment(name, templates[name]) for name in cdk_stacks})
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
# Every pattern but the workers' (workers.workers_scenario also needs the emulator and the log directory).
SCENARIOS: dict[str, Scenario] = {
    "queue": queue_scenario,
    "fifo": fifo_scenario,
    "fanout": fanout_scenario,
    "fanout-lambda": fanout_lambda_scenario,
    "fanout-firehose": fanout_firehose_scenario,
    "stream": stream_scenario,
    "http-endpoint": http_endpoint_scenario,
    "firehose-transform": firehose_transform_scenario,
    "broker": broker_scenario,
    "queue-function": consumers.queue_function_scenario,
    "stream-function": consumers.stream_function_scenario,
    "stream-processor": flink.stream_processor_scenario,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stacks.demo", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--pattern", choices=[*PATTERNS, "all"], default="all", help="run one pattern only")
    parser.add_argument("--jobs", type=int, default=500, help="queue: jobs (default 500)")
    parser.add_argument("--per-group", type=int, default=20, help="fifo: messages per group (default 20)")
    parser.add_argument("--events", type=int, default=200, help="fanout: order events (default 200)")
    parser.add_argument("--records", type=int, default=1000, help="stream: records (default 1000)")
    parser.add_argument("--messages", type=int, default=20, help="queue-function: Shipments messages (default 20)")
    parser.add_argument("--clicks", type=int, default=100, help="stream-function: records (default 100)")
    parser.add_argument("--renders", type=int, default=50, help="workers: render jobs (default 50)")
    parser.add_argument("--log-dir", type=Path, help="where the logs go (default: a new temporary directory)")
    parser.add_argument(
        "--cdk-out", type=Path, help="where the demo synthesizes its app (default: cdk.out in the log dir)"
    )
    parser.add_argument("--keep-running", action="store_true", help="keep the emulators up afterwards; Ctrl-C stops")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("rich") is None:  # pragma: no cover - requirements-dev.txt pins it
        parser.error("the demo needs rich: pip install rich (make demo installs it)")
    small = [f"--{name.replace('_', '-')}" for name in SIZES if getattr(args, name) < 1]
    if small:
        parser.error(f"{', '.join(small)} must be at least 1")

    log_dir = args.log_dir or Path(tempfile.mkdtemp(prefix="decoupling-demo-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    with log_to(log_dir / "demo.log"):
        return run(args, log_dir)


# The command-line option that sizes each pattern's traffic (broker: none).
SIZES = {
    "jobs": "queue",
    "per_group": "fifo",
    "events": "fanout",
    "records": "stream",
    "messages": "queue-function",
    "clicks": "stream-function",
    "renders": "workers",
}


def run(args: argparse.Namespace, log_dir: Path) -> int:
    from rich.console import Console
    from rich.progress import Progress as Bars

    console = Console(stderr=True)
    patterns = list(PATTERNS) if args.pattern == "all" else [args.pattern]
    deployed = sorted({STACKS[p] for p in patterns})
    # DecouplingQueueWorkers is synthesized for what MiniStack refuses in it, not deployed.
    stack_names = deployed + ([workers.STACK] if "workers" in patterns else [])
    where = {**EMULATOR_FOR, **DEMO_STACKS}
    needed = {where[name][0] for name in stack_names} - {"none"}
    sizes = {
        "queue": args.jobs,
        "fifo": args.per_group,
        "fanout": args.events,
        "fanout-lambda": max(args.events // 10, 4),
        "fanout-firehose": max(args.events // 10, 1),
        "stream": args.records,
        "http-endpoint": 20,
        "firehose-transform": 12,
        "broker": 1,
        "queue-function": max(args.messages, 4),
        "stream-function": args.clicks,
        "stream-processor": args.clicks,
        "workers": args.renders,
    }
    results: dict[str, Result] = {}
    reports: dict[str, VerificationReport | str] = {}
    phases = Phases()
    started = time.monotonic()
    emulators: dict[str, Emulator] = {}
    with ExitStack() as running, ThreadPoolExecutor(max_workers=2) as background:
        # The emulators start, and MiniStack is bootstrapped, while this thread synthesizes the app.
        def start_ministack() -> None:
            with phases.phase("start MiniStack"):
                emulators["ministack"] = running.enter_context(ministack(log_file=log_dir / "ministack.log"))
            with phases.phase("cdk bootstrap"):
                cdk_bootstrap(emulators["ministack"], log_file=log_dir / "cdk.log")

        def start_moto() -> None:
            with phases.phase("start moto"):
                emulators["moto"] = running.enter_context(moto_server())

        starting = [
            background.submit(start)
            for name, start in (("ministack", start_ministack), ("moto", start_moto))
            if name in needed
        ]
        with phases.phase("synth"):
            assembly, templates = synth(args.cdk_out or log_dir / "cdk.out", stack_names)
        refused = (
            background.submit(workers.ministack_refusals, templates.pop(workers.STACK))
            if workers.STACK in templates
            else None
        )
        for future in starting:
            future.result()
        for emulator in emulators.values():
            console.print(f"{emulator.label} on {emulator.endpoint_url} (127.0.0.1 only)")
        for name in stack_names:
            emulator_name, why = where[name]
            if emulator_name == "none":
                assert refused is not None
                console.print(f"  {name} -> not deployed: MiniStack refuses it ({refused.result()})")
                continue
            how = "cdk deploy" if emulator_name == "ministack" else "deploy_to_moto"
            console.print(f"  {name} -> {emulators[emulator_name].label} ({how}): {why}")
        with phases.phase("deploy"), console.status("deploying (one cdk deploy into MiniStack, the helper into moto)"):
            deployments = deploy(assembly, templates, emulators, log_dir)
        with phases.phase("verify"), ThreadPoolExecutor(max_workers=max(len(deployments), 1)) as pool:
            reports = dict(zip(deployments, pool.map(verify_or_say_why, deployments.values()), strict=True))
        with Bars(console=console, transient=True) as bars, phases.phase("drive"):
            tasks: dict[str, Any] = {}

            def progress(pattern: str, done: int, total: int) -> None:
                if pattern not in tasks:
                    tasks[pattern] = bars.add_task(pattern, total=total)
                bars.update(tasks[pattern], completed=done, total=total)

            def drive(pattern: str) -> Result:
                deployment = deployments[STACKS[pattern]]
                with phases.phase(pattern):
                    try:
                        if pattern == "workers":
                            assert refused is not None
                            return workers.workers_scenario(
                                deployment, emulators["ministack"], sizes[pattern], progress, log_dir, refused.result()
                            )
                        return SCENARIOS[pattern](deployment, sizes[pattern], progress)
                    except Exception as error:
                        logging.getLogger(__name__).exception("scenario %s failed", pattern)
                        result = Result(pattern)
                        result.check("scenario ran", "no error", f"{type(error).__name__}: {error}")
                        return result

            def drive_lane(lane: list[str]) -> None:
                for pattern in lane:
                    results[pattern] = drive(pattern)

            lanes = [[p for p in lane if p in patterns] for lane in LANES]
            lanes = [lane for lane in lanes if lane]
            with ThreadPoolExecutor(max_workers=len(lanes)) as drivers:
                list(drivers.map(drive_lane, lanes))
        ordered = [results[p] for p in patterns]
        print_results(ordered, reports, phases, time.monotonic() - started, Console(width=max(Console().width, 130)))
        print(f"logs (emulators, cdk, the worker, tracebacks of injected failures): {log_dir}")
        if args.keep_running:
            keep_running(emulators)
    verified = all(isinstance(r, str) or r.ok for r in reports.values())
    return 0 if ordered and all(r.ok for r in ordered) and verified else 1


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
    print(
        f"timings: {phases.line()} (synth ran while the emulators started and cdk bootstrap ran; drive is the "
        "patterns' wall-clock time, in concurrent lanes)"
    )


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


__all__ = ["DEMO_STACKS", "EMULATOR_FOR", "LANES", "PATTERNS", "SCENARIOS", "STACKS", "Check", "Result", "main", "run"]
