"""``make demo``: every reference stack deployed into moto on 127.0.0.1, with real traffic through it.

::

    python -m decoupling_constructs.demo [--cdk-out cdk.out] [--pattern queue] [--jobs 1000] [--keep-running]

It starts a moto server on 127.0.0.1 (a free port; stopped at the end, on Ctrl-C and on errors),
deploys the synthesized stacks in ``--cdk-out`` with CloudFormation's CreateStack, completes what moto
skips with ``decoupling_constructs.testing``, drives each pattern with the runtime helpers, and prints
a table. It exits 0 only if every check held. It needs moto[server] and rich (``make demo`` has them).

``--deploy-with cdk`` takes the real path instead, ``cdk bootstrap`` and ``cdk deploy`` pointed at the
emulator. It is not the default: moto 5.2.5 executes a change set only in part (for the FanOut stack,
17 of its 52 resources, still reporting CREATE_COMPLETE), and the completion step then refuses the
stack, naming what is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .runtime.consumer import QueueConsumer
from .runtime.producer import QueueProducer, TopicPublisher
from .runtime.redrive import redrive
from .runtime.stream import StreamProducer
from .testing import Deployment, complete_deployment, deploy_to_moto

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
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

    def check(self, name: str, expected: Any, actual: Any) -> None:
        self.checks.append(Check(name, expected, actual))

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on 127.0.0.1 (never another address), stopped however the block ends."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    # A moto server in this process shares moto's state with any earlier one: start from nothing.
    urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/moto-api/reset", method="POST"))
    try:
        # moto reads a CloudFormation TemplateURL path-style only when the host is "localhost".
        yield f"http://localhost:{port}"
    finally:
        server.stop()


def aws_env(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "demo",
        "AWS_SECRET_ACCESS_KEY": "demo",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "CDK_DISABLE_VERSION_CHECK": "true",
    }


def deploy(
    cdk_out: Path, stack_names: list[str], endpoint: str, method: str, say: Callable[[str], None]
) -> dict[str, Deployment]:
    templates = {name: json.loads((cdk_out / f"{name}.template.json").read_text()) for name in stack_names}
    if method == "cdk":
        cdk = shutil.which("cdk")
        if cdk is None:
            raise SystemExit("the CDK CLI is not on PATH: run `make demo`, or pass --deploy-with api")
        env = {**os.environ, **aws_env(endpoint)}
        say("cdk bootstrap (into moto)")
        subprocess.run(
            [cdk, "bootstrap", f"aws://{ACCOUNT}/{REGION}", "--app", str(cdk_out)],
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
        say(f"cdk deploy {' '.join(stack_names)}")
        subprocess.run(
            [cdk, "deploy", *stack_names, "--app", str(cdk_out), "--require-approval", "never", "--concurrency", "4"],
            env=env,
            check=True,
            capture_output=True,
            timeout=600,
        )
        return {
            name: complete_deployment(name, t, region=REGION, endpoint_url=endpoint) for name, t in templates.items()
        }
    return {
        name: deploy_to_moto(t, stack_name=name, region=REGION, endpoint_url=endpoint) for name, t in templates.items()
    }


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
            raise RuntimeError(f"job {job} cannot be processed")
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
    moved = redrive(_arn(dlq_url), client=sqs)
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
        attributes = sns.get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])["Attributes"]
        name = sub["Endpoint"].rsplit(":", 1)[-1]
        subscriptions.append(
            (
                name,
                sqs.get_queue_url(QueueName=name)["QueueUrl"],
                json.loads(attributes.get("FilterPolicy", "{}")),
                attributes.get("FilterPolicyScope", "MessageAttributes"),
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


def stream_scenario(d: Deployment, records: int, progress: Callable[[str, int, int], None]) -> Result:
    """Records over 100 partition keys: where they land, against the shards' write capacity."""
    import hashlib

    result = Result("stream")
    kinesis, firehose = d.client("kinesis"), d.client("firehose")
    stream = d.outputs["ClickstreamStreamName"]
    shards = kinesis.list_shards(StreamName=stream)["Shards"]
    with StreamProducer(stream, client=kinesis) as producer:
        for i in range(records):
            producer.put(json.dumps({"click": i}), partition_key=f"user-{i % 100}")
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
            got += len(response["Records"])
            iterator = response.get("NextShardIterator") if response["Records"] else None
        result.check(f"{shard['ShardId']} holds its keys' records", expected[shard["ShardId"]], got)
        result.rows.append((shard["ShardId"], f"{got:,} records (capacity 1,000 records/s and 1 MiB/s of writes)"))
    description = firehose.describe_delivery_stream(DeliveryStreamName=d.outputs["ClickstreamDeliveryStreamName"])
    s3 = description["DeliveryStreamDescription"]["Destinations"][0]["ExtendedS3DestinationDescription"]
    result.check(
        "delivery stream reads the stream",
        "KinesisStreamAsSource",
        description["DeliveryStreamDescription"]["DeliveryStreamType"],
    )
    result.rows += [
        ("delivery stream", f"{s3['BucketARN']} prefix {s3['Prefix']}"),
        ("buffering / compression", f"{s3['BufferingHints']} {s3['CompressionFormat']}"),
        ("not emulated", "moto does not consume a Kinesis source: delivery to S3 is configured, not run"),
    ]
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
    parser = argparse.ArgumentParser(prog="python -m decoupling_constructs.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cdk-out", type=Path, default=Path("cdk.out"), help="synthesized app (default cdk.out)")
    parser.add_argument("--pattern", choices=[*PATTERNS, "all"], default="all", help="run one pattern only")
    parser.add_argument("--jobs", type=int, default=1000, help="queue: jobs (default 1000)")
    parser.add_argument("--per-group", type=int, default=20, help="fifo: messages per group (default 20)")
    parser.add_argument("--events", type=int, default=1000, help="fanout: order events (default 1000)")
    parser.add_argument("--records", type=int, default=10_000, help="stream: records (default 10000)")
    parser.add_argument(
        "--deploy-with",
        choices=["api", "cdk"],
        default="api",
        help="CreateStack (default), or cdk deploy, which moto 5.2.5 runs only in part (see the module doc)",
    )
    parser.add_argument("--keep-running", action="store_true", help="keep the emulator up afterwards; Ctrl-C stops it")
    args = parser.parse_args(argv)
    try:
        from rich.console import Console
        from rich.progress import Progress
        from rich.table import Table
    except ImportError:  # pragma: no cover - the demo extra
        parser.error("the demo needs rich: pip install rich (make demo installs it)")
    if not (args.cdk_out / "manifest.json").exists():
        parser.error(f"--cdk-out {args.cdk_out} holds no synthesized app: run `cdk synth` (make demo does)")

    console = Console(stderr=True)
    patterns = list(PATTERNS) if args.pattern == "all" else [args.pattern]
    sizes = {"queue": args.jobs, "fifo": args.per_group, "fanout": args.events, "stream": args.records, "broker": 1}
    results: list[Result] = []
    started = time.monotonic()
    with moto_server() as endpoint:
        console.print(f"moto server on {endpoint} (127.0.0.1)")
        deployments = deploy(
            args.cdk_out, sorted({STACKS[p] for p in patterns}), endpoint, args.deploy_with, console.print
        )
        with Progress(console=console, transient=True) as bars:
            tasks: dict[str, Any] = {}

            def progress(pattern: str, done: int, total: int) -> None:
                if pattern not in tasks:
                    tasks[pattern] = bars.add_task(pattern, total=total)
                bars.update(tasks[pattern], completed=done, total=total)

            for pattern in patterns:
                try:
                    results.append(SCENARIOS[pattern](deployments[STACKS[pattern]], sizes[pattern], progress))
                except Exception as error:
                    failed = Result(pattern)
                    failed.check("scenario ran", "no error", f"{type(error).__name__}: {error}")
                    results.append(failed)
        table = Table(
            title=f"decoupling-constructs demo ({time.monotonic() - started:.0f} s, deployed with {args.deploy_with})"
        )
        for column in ("pattern", "what", "result"):
            table.add_column(column)
        for result in results:
            for what, value in result.rows:
                table.add_row(result.pattern, what, value)
            for check in result.checks:
                if not check.ok:
                    table.add_row(
                        result.pattern, f"FAILED {check.name}", f"expected {check.expected}, got {check.actual}"
                    )
        Console(width=max(Console().width, 120)).print(table)
        for result in results:
            verdict = "PASS" if result.ok else "FAIL"
            print(f"{verdict} {result.pattern}: {sum(c.ok for c in result.checks)}/{len(result.checks)} checks held")
        if args.keep_running:
            print(f"emulator running at {endpoint}: AWS_ENDPOINT_URL={endpoint} aws sqs list-queues ... (Ctrl-C stops)")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    return 0 if results and all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
