"""``make demo``: every reference stack deployed by the real CDK CLI into emulators on 127.0.0.1, driven with traffic.

::

    python -m stacks.demo [--cdk-out cdk.out] [--pattern queue] [--jobs 1000] [--keep-running]

It starts MiniStack (a child process) and a moto server on 127.0.0.1 (free ports; both stopped at the end, on
Ctrl-C and on errors), runs ``cdk bootstrap`` and ``cdk deploy`` of the synthesized app in ``--cdk-out`` into
MiniStack for the messaging stacks, deploys the broker stack into moto with ``decoupling_constructs.testing``
(MiniStack's CloudFormation rejects AmazonMQ; see ``EMULATOR_FOR``), verifies every deployed resource against its
template, drives each pattern with the runtime helpers, and prints a table with per-phase timings. Emulator
request logs, the CLI's output and the tracebacks of the failures the scenarios inject go to log files in one
directory, whose path is printed. It exits 0 only if every check held. It needs what requirements-dev.txt pins
(moto[server], rich), MiniStack and the CDK CLI (``make demo`` has them).

It lives with the reference app, not in the library: it depends on moto, rich and the reference stacks' names,
and ``pip install decoupling-constructs`` does not ship it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from decoupling_constructs.runtime.consumer import QueueConsumer
from decoupling_constructs.runtime.producer import QueueProducer, TopicPublisher
from decoupling_constructs.runtime.redrive import redrive
from decoupling_constructs.runtime.stream import StreamProducer
from decoupling_constructs.stream_to_s3 import DEFAULT_DATA_PREFIX, DEFAULT_ERROR_PREFIX
from decoupling_constructs.testing import Deployment, deploy_to_moto
from decoupling_constructs.testing.delivery import expanded_prefixes, object_keys, wait_for_records
from decoupling_constructs.testing.emulators import Emulator, cdk_deploy, ministack, moto_server
from decoupling_constructs.testing.verify import VerificationReport, verify

REGION = "us-east-1"
PATTERNS = ("queue", "fifo", "fanout", "stream", "broker")
STACKS = {
    "queue": "DecouplingReliableQueue",
    "fifo": "DecouplingReliableQueue",
    "fanout": "DecouplingFanOut",
    "stream": "DecouplingStreamToS3",
    "broker": "DecouplingMessageBroker",
}

# Which emulator serves each reference stack, and why (a stack goes wherever every one of its resources is created).
EMULATOR_FOR = {
    "DecouplingReliableQueue": ("ministack", "its CloudFormation creates every resource"),
    "DecouplingFanOut": ("ministack", "its CloudFormation creates every resource"),
    "DecouplingStreamToS3": ("ministack", "it creates every resource and Firehose really reads the stream"),
    "DecouplingMessageBroker": (
        "moto",
        "MiniStack's CloudFormation rejects AmazonMQ::Broker; moto's helper completes what moto skips",
    ),
}


@dataclass
class Check:
    name: str
    expected: Any
    actual: Any

    @property
    def ok(self) -> bool:
        return bool(self.expected == self.actual)


@dataclass
class Result:
    pattern: str
    checks: list[Check] = field(default_factory=list)
    rows: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """One-line remarks printed under the table (e.g. where the emulator differs from AWS)."""
    injected_failures: int = 0
    """Failures the scenario caused on purpose (their tracebacks go to the log file, not the terminal)."""

    def check(self, name: str, expected: Any, actual: Any) -> None:
        self.checks.append(Check(name, expected, actual))

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)


@dataclass
class Phases:
    """Wall-clock time of each phase, printed at the end."""

    timings: list[tuple[str, float]] = field(default_factory=list)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.timings.append((name, time.monotonic() - started))

    def line(self) -> str:
        return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.timings)


@contextmanager
def log_to(path: Path) -> Iterator[None]:
    """Every log record (emulator requests, the consumers' handler tracebacks, boto) to ``path``, none to the
    terminal; the logging set-up as it was afterwards."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    for existing in saved:
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    quiet = {name: logging.getLogger(name).level for name in ("botocore", "boto3", "urllib3")}
    for name in quiet:
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()
        for existing in saved:
            root.addHandler(existing)
        root.setLevel(level)
        for name, previous in quiet.items():
            logging.getLogger(name).setLevel(previous)


def deploy(
    cdk_out: Path, stack_names: list[str], emulators: dict[str, Emulator], log_dir: Path
) -> dict[str, Deployment]:
    """The MiniStack stacks with `cdk bootstrap` + `cdk deploy`, the moto stacks with the helper, concurrently."""
    on = {name: EMULATOR_FOR[name][0] for name in stack_names}
    templates = {name: json.loads((cdk_out / f"{name}.template.json").read_text()) for name in stack_names}

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
        cdk_stacks = [name for name in stack_names if on[name] == "ministack"]
        if cdk_stacks:
            emulator = emulators["ministack"]
            cdk_deploy(cdk_out, cdk_stacks, emulator, log_file=log_dir / "cdk.log")
            deployments.update({name: emulator.deployment(name, templates[name]) for name in cdk_stacks})
        deployments.update(moto_deployments.result())
    return deployments


def count_visible(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def queue_scenario(d: Deployment, jobs: int, progress: Callable[[str, int, int], None]) -> Result:
    """1% of jobs fail permanently: they end in the DLQ; the rest are processed once; a redrive after the fix
    empties the DLQ."""
    result = Result("queue")
    sqs = d.client("sqs")
    url, dlq_url = d.outputs["JobsQueueUrl"], d.outputs["JobsDeadLetterQueueUrl"]
    poison = {i for i in range(jobs) if i % 100 == 99}
    with QueueProducer(url, client=sqs) as producer:
        for i in range(jobs):
            producer.send(json.dumps({"job": i}))
    sent_calls = producer.stats.api_call_total
    done: Counter[int] = Counter()

    def handler(message: dict[str, Any]) -> None:
        job = json.loads(message["Body"])["job"]
        if job in poison:
            result.injected_failures += 1
            raise RuntimeError(f"job {job} cannot be processed (a failure the demo injects)")
        done[job] += 1
        progress("queue", len(done), jobs - len(poison))

    stats = QueueConsumer(url, handler, wait_time_seconds=1, retry_failed_immediately=True, client=sqs).run(
        idle_timeout=2
    )
    in_dlq = count_visible(sqs, dlq_url)
    calls = sent_calls + sum(stats.api_calls.values())
    result.check("processed exactly once", jobs - len(poison), sum(1 for n in done.values() if n == 1))
    result.check("failing jobs in the DLQ", len(poison), in_dlq)
    result.rows += [
        ("jobs sent", f"{jobs:,}"),
        ("processed", f"{len(done):,}"),
        ("in the DLQ after 5 receives each", f"{in_dlq:,}"),
        ("API calls per message (send+receive+delete)", f"{calls / jobs:.2f}"),
    ]
    poison.clear()  # the handler is "fixed"
    # The destination is given: MiniStack implements neither StartMessageMoveTask nor ListDeadLetterSourceQueues,
    # so redrive() copies, and needs to be told where to.
    moved = redrive(_arn(dlq_url), destination_arn=_arn(url), client=sqs)
    again = QueueConsumer(url, handler, wait_time_seconds=1, client=sqs).run(idle_timeout=2)
    result.check("redrive moved the DLQ back", in_dlq, moved.moved)
    result.check("DLQ empty after the fix", 0, count_visible(sqs, dlq_url))
    result.check("every job processed once in the end", jobs, sum(1 for n in done.values() if n == 1))
    result.rows.append((f"redriven ({moved.method}) and processed after the fix", f"{again.succeeded:,}"))
    return result


def _arn(queue_url: str) -> str:
    account, name = queue_url.rstrip("/").split("/")[-2:]
    return f"arn:aws:sqs:{REGION}:{account}:{name}"


def fifo_scenario(d: Deployment, per_group: int, progress: Callable[[str, int, int], None]) -> Result:
    """Three message groups interleaved, consumed by parallel workers: each group's order is kept."""
    result = Result("fifo")
    sqs = d.client("sqs")
    url = d.outputs["OrdersQueueUrl"]
    groups = ["customer-a", "customer-b", "customer-c"]
    with QueueProducer(url, client=sqs) as producer:
        for seq in range(per_group):
            for group in groups:
                producer.send(json.dumps({"group": group, "seq": seq}), message_group_id=group)
    seen: dict[str, list[int]] = defaultdict(list)
    lock = threading.Lock()

    def handler(message: dict[str, Any]) -> None:
        body = json.loads(message["Body"])
        with lock:
            seen[body["group"]].append(body["seq"])
            progress("fifo", sum(len(v) for v in seen.values()), per_group * len(groups))

    QueueConsumer(url, handler, wait_time_seconds=1, max_workers=3, client=sqs).run(idle_timeout=2)
    for group in groups:
        result.check(f"{group} in order", list(range(per_group)), seen[group])
        result.rows.append(
            (f"{group}", f"{len(seen[group])} messages, in order: {seen[group] == list(range(per_group))}")
        )
    return result


def _matches(policy: dict[str, Any], scope: str, attributes: dict[str, str], body: dict[str, Any]) -> bool:
    """The filter policies the reference stack uses: string allowlists and numeric ranges."""
    values = attributes if scope != "MessageBody" else body
    for key, conditions in policy.items():
        value = values.get(key)
        if value is None:
            return False
        if not any(_condition(c, value) for c in conditions):
            return False
    return True


def _condition(condition: Any, value: Any) -> bool:
    if isinstance(condition, dict) and "numeric" in condition:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        terms = condition["numeric"]
        checks = {"<": value.__lt__, "<=": value.__le__, ">": value.__gt__, ">=": value.__ge__, "=": value.__eq__}
        return all(checks[op](bound) for op, bound in zip(terms[::2], terms[1::2], strict=True))
    return bool(condition == value)


def fanout_scenario(d: Deployment, events: int, progress: Callable[[str, int, int], None]) -> Result:
    """Order events with random regions and amounts: each subscriber gets what its filter selects,
    computed here independently from the deployed subscriptions' filter policies."""
    result = Result("fanout")
    sns, sqs = d.client("sns"), d.client("sqs")
    topic = d.outputs["OrderEventsTopicArn"]
    subscriptions = []
    for sub in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]:
        if sub["Protocol"] != "sqs":  # the notifier function: its deliveries are not counted in a queue
            continue
        attributes = sns.get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])["Attributes"]
        name = sub["Endpoint"].rsplit(":", 1)[-1]
        subscriptions.append(
            (
                name,
                sqs.get_queue_url(QueueName=name)["QueueUrl"],
                json.loads(attributes.get("FilterPolicy") or "{}"),
                attributes.get("FilterPolicyScope") or "MessageAttributes",
                attributes.get("RawMessageDelivery") == "true",
            )
        )
    rng = random.Random(7)
    expected: Counter[str] = Counter()
    with TopicPublisher(topic, client=sns) as publisher:
        for i in range(events):
            region = rng.choice(["eu-west", "eu-central", "us-east", "ap-south"])
            body = {"order": i, "amount": rng.choice([5, 99, 100, 250.5, 9_999, 10_000, 50_000])}
            publisher.publish(json.dumps(body), attributes={"region": region})
            for name, _, policy, scope, _ in subscriptions:
                expected[name] += _matches(policy, scope, {"region": region}, body)
            progress("fanout", i + 1, events)
    for name, url, policy, scope, _ in subscriptions:
        got = count_visible(sqs, url)
        label = "-".join(name.split("-")[1:-1]) or name  # <stack>-<path>-<hash>: the path
        result.check(f"{label} received what its filter selects", expected[name], got)
        result.rows.append(
            (label, f"received {got:,}, filter selects {expected[name]:,} ({scope}: {json.dumps(policy)})")
        )
    return result


# The clickstream pipeline's prefixes: StreamToS3's defaults (the reference stack gives none).
STREAM_PREFIXES = (DEFAULT_DATA_PREFIX, DEFAULT_ERROR_PREFIX)


def stream_scenario(d: Deployment, records: int, progress: Callable[[str, int, int], None]) -> Result:
    """Records over 100 partition keys through StreamProducer: each lands on its key's shard, and Firehose,
    reading the stream, writes each one exactly once to S3 under the partitioned data prefix; none under the
    error prefix."""
    import hashlib

    result = Result("stream")
    kinesis, s3 = d.client("kinesis"), d.client("s3")
    stream, bucket = d.outputs["ClickstreamStreamName"], d.outputs["ClickstreamBucketName"]
    shards = kinesis.list_shards(StreamName=stream)["Shards"]
    run = uuid.uuid4().hex[:8]  # this run's records, whatever else the bucket holds
    sent = [json.dumps({"run": run, "click": i}).encode() for i in range(records)]
    start = datetime.now(UTC)
    with StreamProducer(stream, client=kinesis) as producer:
        for i, data in enumerate(sent):
            producer.put(data + b"\n", partition_key=f"user-{i % 100}")
            if i % 500 == 0:
                progress("stream", i, records)
    progress("stream", records, records)
    expected: Counter[str] = Counter()
    for i in range(records):
        point = int(hashlib.md5(f"user-{i % 100}".encode()).hexdigest(), 16)
        shard = next(
            s
            for s in shards
            if int(s["HashKeyRange"]["StartingHashKey"]) <= point <= int(s["HashKeyRange"]["EndingHashKey"])
        )
        expected[shard["ShardId"]] += 1
    for shard in shards:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        got = 0
        while iterator:
            response = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            got += sum(1 for r in response["Records"] if run.encode() in r["Data"])
            iterator = response.get("NextShardIterator") if response["Records"] else None
        result.check(f"{shard['ShardId']} holds its keys' records", expected[shard["ShardId"]], got)
        result.rows.append((shard["ShardId"], f"{got:,} records (capacity 1,000 records/s and 1 MiB/s of writes)"))

    data_prefix, error_prefix = STREAM_PREFIXES
    delivered = wait_for_records(s3, bucket, data_prefix.split("!{", 1)[0], records)
    prefixes = expanded_prefixes(data_prefix, start, datetime.now(UTC))
    counts = Counter(r for rs in delivered.values() for r in rs if run.encode() in r)
    result.check("every record in S3 exactly once", records, sum(1 for data in sent if counts[data] == 1))
    result.check("no record twice or unknown", 0, sum(n for data, n in counts.items() if n != 1 or data not in sent))
    outside = [key for key in delivered if not any(key.startswith(p) for p in prefixes)]
    result.check("objects under the partitioned prefix", [], outside)
    errors = object_keys(s3, bucket, error_prefix.split("!{", 1)[0])
    result.check("error prefix empty", [], errors)
    result.rows += [
        ("delivered to S3", f"{sum(counts.values()):,} records in {len(delivered):,} objects under {min(prefixes)}"),
        ("error prefix", f"{len(errors)} objects under {error_prefix.split('!{', 1)[0]}"),
    ]
    result.notes.append(
        "emulator differs from AWS: MiniStack's Firehose writes one object per record at once, without GZIP "
        "(AWS buffers up to 5 MiB or 300 s and compresses); the exactly-once count holds either way"
    )
    return result


def broker_scenario(d: Deployment, _: int, progress: Callable[[str, int, int], None]) -> Result:
    """The brokers as the emulator describes them (control plane only: moto runs no broker)."""
    result = Result("broker")
    mq = d.client("mq")
    brokers = mq.list_brokers()["BrokerSummaries"]
    for summary in brokers:
        broker = mq.describe_broker(BrokerId=summary["BrokerId"])
        instances = broker["BrokerInstances"]
        want = 2 if broker["DeploymentMode"] == "ACTIVE_STANDBY_MULTI_AZ" else 1
        result.check(f"{broker['EngineType']} instances", want, len(instances))
        result.check(f"{broker['EngineType']} private", False, broker["PubliclyAccessible"])
        result.rows.append(
            (
                f"{broker['EngineType']} {broker['DeploymentMode']}",
                f"{len(instances)} instance(s): {', '.join(e for i in instances for e in i['Endpoints'][:1])}",
            )
        )
    progress("broker", 1, 1)
    result.check("brokers deployed", 2, len(brokers))
    return result


SCENARIOS: dict[str, Callable[[Deployment, int, Callable[[str, int, int], None]], Result]] = {
    "queue": queue_scenario,
    "fifo": fifo_scenario,
    "fanout": fanout_scenario,
    "stream": stream_scenario,
    "broker": broker_scenario,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stacks.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cdk-out", type=Path, default=Path("cdk.out"), help="synthesized app (default cdk.out)")
    parser.add_argument("--pattern", choices=[*PATTERNS, "all"], default="all", help="run one pattern only")
    parser.add_argument("--jobs", type=int, default=1000, help="queue: jobs (default 1000)")
    parser.add_argument("--per-group", type=int, default=20, help="fifo: messages per group (default 20)")
    parser.add_argument("--events", type=int, default=1000, help="fanout: order events (default 1000)")
    parser.add_argument("--records", type=int, default=2000, help="stream: records (default 2000)")
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
    from rich.progress import Progress

    console = Console(stderr=True)
    patterns = list(PATTERNS) if args.pattern == "all" else [args.pattern]
    stack_names = sorted({STACKS[p] for p in patterns})
    needed = {EMULATOR_FOR[name][0] for name in stack_names}
    sizes = {"queue": args.jobs, "fifo": args.per_group, "fanout": args.events, "stream": args.records, "broker": 1}
    results: list[Result] = []
    phases = Phases()
    started = time.monotonic()
    with ExitStack() as running:  # stops every emulator however the block ends (Ctrl-C included)
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
            how = "cdk bootstrap + cdk deploy" if emulator_name == "ministack" else "deploy_to_moto"
            console.print(f"  {name} -> {emulators[emulator_name].label} ({how}): {why}")
        with phases.phase("deploy"), console.status("deploying (cdk deploy into MiniStack, the helper into moto)"):
            deployments = deploy(args.cdk_out, stack_names, emulators, log_dir)
        with phases.phase("verify"), ThreadPoolExecutor(max_workers=len(stack_names)) as pool:
            reports: list[VerificationReport] = list(
                pool.map(lambda name: verify(deployments[name], check=False), stack_names)
            )
        with Progress(console=console, transient=True) as bars:
            tasks: dict[str, Any] = {}

            def progress(pattern: str, done: int, total: int) -> None:
                if pattern not in tasks:
                    tasks[pattern] = bars.add_task(pattern, total=total)
                bars.update(tasks[pattern], completed=done, total=total)

            for pattern in patterns:
                with phases.phase(pattern):
                    try:
                        results.append(SCENARIOS[pattern](deployments[STACKS[pattern]], sizes[pattern], progress))
                    except Exception as error:
                        logging.getLogger(__name__).exception("scenario %s failed", pattern)
                        failed = Result(pattern)
                        failed.check("scenario ran", "no error", f"{type(error).__name__}: {error}")
                        results.append(failed)
        print_results(results, reports, phases, time.monotonic() - started, Console(width=max(Console().width, 120)))
        print(f"logs (emulators, cdk, tracebacks of injected failures): {log_dir}")
        if args.keep_running:
            keep_running(emulators)
    return 0 if results and all(r.ok for r in results) and all(r.ok for r in reports) else 1


def print_results(
    results: list[Result], reports: list[VerificationReport], phases: Phases, seconds: float, console: Any
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
    for report in reports:
        print(("VERIFIED " if report.ok else "MISMATCH ") + report.summary())
        for finding in report.mismatches:
            print(
                f"  mismatch {finding.logical_id} {finding.property}: template {finding.expected}, got {finding.actual}"
            )
    for result in results:
        verdict = "PASS" if result.ok else "FAIL"
        print(f"{verdict} {result.pattern}: {sum(c.ok for c in result.checks)}/{len(result.checks)} checks held")
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


if __name__ == "__main__":
    sys.exit(main())
