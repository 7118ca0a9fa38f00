"""Synth-time benchmark: the library's reference app against the same template written with plain L2 constructs.

Every measurement runs in a fresh Python subprocess, so jsii/Node startup is included: that is what
``cdk synth`` costs a user. Prints medians and ratios; never asserts on wall-clock time.

    python benchmarks/synth.py [--runs N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.0  # library / plain L2, total time: the guard engine must cost nothing a user can feel (issue 19)


def new_app() -> Any:
    """An App with cdk.json's feature flags, as `cdk synth` and the reference app use."""
    import aws_cdk as cdk

    from stacks import app_context

    return cdk.App(context=app_context())


def floor_app() -> Any:
    import aws_cdk as cdk
    from aws_cdk import aws_sqs as sqs

    app = new_app()
    # An empty Stack synthesizes with a CDK template-validation warning ("Resources section must
    # exist and be non-empty"), so the floor holds one trivial queue.
    sqs.Queue(cdk.Stack(app, "Floor"), "Queue")
    return app


def library_app(nag: bool) -> Any:
    """The ReliableQueue reference stack alone (the plain-L2 twin below rebuilds exactly that stack)."""
    import aws_cdk as cdk

    from stacks.queue_stack import ReliableQueueStack

    app = new_app()
    ReliableQueueStack(app, "DecouplingReliableQueue")
    if nag:
        from cdk_nag import AwsSolutionsChecks

        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return app


def fan_out_app(subscribers: int) -> Any:
    """``subscribers`` filtered ReliableQueue subscribers: how synth time scales.

    Each subscriber adds 7 resources (queue, DLQ, two queue policies, two alarms, subscription), so one
    stack holds at most ~70 under CloudFormation's 500-resource limit: 50 subscribers per stack here.
    """
    import aws_cdk as cdk
    from aws_cdk import aws_sns as sns

    from decoupling_constructs import FanOut

    app = new_app()
    for first in range(0, subscribers, FAN_OUT_PER_STACK):
        fan_out = FanOut(cdk.Stack(app, f"FanOutScaling{first}"), "Events")
        for i in range(first, min(first + FAN_OUT_PER_STACK, subscribers)):
            kind = sns.SubscriptionFilter.string_filter(allowlist=[f"k{i}"])
            fan_out.add_queue(f"Subscriber{i}", filter_policy={"kind": kind})
    return app


def plain_l2_app() -> Any:
    """stacks/queue_stack.py written with aws-cdk-lib L2s only; the template is identical (checked below)."""
    import aws_cdk as cdk
    from aws_cdk import Duration, RemovalPolicy, Stack
    from aws_cdk import aws_cloudwatch as cw
    from aws_cdk import aws_cloudwatch_actions as cw_actions
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_sns as sns
    from aws_cdk import aws_sqs as sqs
    from constructs import Construct

    app = new_app()
    stack = Stack(app, "DecouplingReliableQueue", description="decoupling-constructs: ReliableQueue reference")
    retain = RemovalPolicy.RETAIN
    key_props: dict[str, Any] = {"enable_key_rotation": True, "removal_policy": retain}
    # Plain Construct scopes reproduce the library's construct paths, hence identical logical IDs.
    alarms = Construct(stack, "Alarms")
    alarm_key = kms.Key(alarms, "Key", description="Encrypts alarm notifications", **key_props)
    topic = sns.Topic(alarms, "Topic", master_key=alarm_key, enforce_ssl=True)

    def arn(service: str, resource: str) -> str:
        return f"arn:{stack.partition}:{service}:{stack.region}:{stack.account}:{resource}"

    # The CloudWatch statement of the topic policy and of the key policy, scoped to this account's alarms.
    from_cloudwatch = partial(
        iam.PolicyStatement,
        principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        conditions={
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": arn("cloudwatch", "alarm:*")},
        },
    )
    topic.add_to_resource_policy(from_cloudwatch(actions=["sns:Publish"], resources=[topic.topic_arn]))
    alarm_key.add_to_resource_policy(from_cloudwatch(actions=["kms:Decrypt", "kms:GenerateDataKey*"], resources=["*"]))
    orders_key = kms.Key(stack, "OrdersKey", description="Encrypts the orders queues", **key_props)
    sqs_managed = {"encryption": sqs.QueueEncryption.SQS_MANAGED}
    fifo = {
        "fifo": True,
        "content_based_deduplication": True,
        "deduplication_scope": sqs.DeduplicationScope.MESSAGE_GROUP,
        "fifo_throughput_limit": sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
        "encryption": sqs.QueueEncryption.KMS,
        "encryption_master_key": orders_key,
    }
    action = cw_actions.SnsAction(topic)
    minute_max: dict[str, Any] = {"period": Duration.minutes(1), "statistic": "Maximum"}
    for cid, name, suffix, visibility, receives, props in (
        ("Jobs", "DecouplingReliableQueue-Jobs-01BA25B8", "", 30, 5, sqs_managed),
        ("Orders", "DecouplingReliableQueue-Orders-3B502CE6", ".fifo", 120, 3, fifo),
    ):
        scope = Construct(stack, cid)
        common: dict[str, Any] = {"receive_message_wait_time": Duration.seconds(20), "enforce_ssl": True, **props}
        dlq = sqs.Queue(
            scope,
            "DeadLetterQueue",
            queue_name=f"{name}-dlq{suffix}",
            retention_period=Duration.days(14),
            removal_policy=retain,
            redrive_allow_policy=sqs.RedriveAllowPolicy(
                redrive_permission=sqs.RedrivePermission.BY_QUEUE,
                source_queues=[sqs.Queue.from_queue_arn(scope, "SourceQueueRef", arn("sqs", name + suffix))],
            ),
            **common,
        )
        queue = sqs.Queue(
            scope,
            "Queue",
            queue_name=name + suffix,
            visibility_timeout=Duration.seconds(visibility),
            retention_period=Duration.days(4),
            removal_policy=retain,
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=receives, queue=dlq),
            **common,
        )
        alarm = partial(
            cw.Alarm,
            scope,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        for each in (
            alarm(
                "DeadLetterQueueAlarm",
                metric=dlq.metric_approximate_number_of_messages_visible(**minute_max),
                threshold=1,
                alarm_description="Messages are waiting in the dead-letter queue: consumers failed them "
                f"{receives} times. Inspect, fix, then redrive.",
            ),
            alarm(
                "OldestMessageAgeAlarm",
                metric=queue.metric_approximate_age_of_oldest_message(**minute_max),
                threshold=900,
                alarm_description="The oldest message has waited longer than 15 minutes: "
                "consumers are down or too slow.",
            ),
        ):
            each.add_alarm_action(action)
            each.add_ok_action(action)
        cdk.CfnOutput(stack, f"{cid}QueueUrl", value=queue.queue_url)
        cdk.CfnOutput(stack, f"{cid}DeadLetterQueueUrl", value=dlq.queue_url)
    cdk.CfnOutput(stack, "AlarmTopicArn", value=topic.topic_arn)
    return app


SCENARIOS = {
    "floor": floor_app,
    "library": partial(library_app, False),
    "library+nag": partial(library_app, True),
    "plain L2": plain_l2_app,
}
FAN_OUT_SIZES = (10, 50, 100)
FAN_OUT_PER_STACK = 50
FAN_OUT = {f"fan-out {n}": partial(fan_out_app, n) for n in FAN_OUT_SIZES}


def child(name: str) -> None:
    """Build and synthesize one scenario; print its timings and a template summary as JSON."""
    sys.path.insert(0, str(ROOT))
    if name in FAN_OUT:  # measure the marginal cost per subscriber, not Node's first-synth warm-up (~2 s)
        fan_out_app(FAN_OUT_SIZES[0]).synth()
    start = time.perf_counter()
    app = {**SCENARIOS, **FAN_OUT}[name]()  # imports aws_cdk (starts the jsii kernel) and constructs
    built = time.perf_counter()
    assembly = app.synth()
    synth = time.perf_counter() - built
    templates = [stack.template for stack in assembly.stacks]
    types = Counter(r["Type"] for t in templates for r in t.get("Resources", {}).values())
    digest = hashlib.sha256(json.dumps(templates, sort_keys=True).encode()).hexdigest()
    print(json.dumps({"build": built - start, "synth": synth, "types": types, "digest": digest}))


def measure(name: str) -> dict[str, Any]:
    """One fresh-subprocess run, synthesized into a temporary outdir (CDK_OUTDIR) that is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="bench-cdk-out-") as outdir:
        # The venv's bin first, as under `make bench`, so jsii runs on the venv's pinned Node.
        path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
        env = {**os.environ, "CDK_OUTDIR": outdir, "PATH": path}
        cpu_before, start = _children_cpu(), time.perf_counter()
        proc = subprocess.run(
            [sys.executable, __file__, "--child", name], cwd=ROOT, env=env, capture_output=True, text=True
        )
        total, cpu = time.perf_counter() - start, _children_cpu() - cpu_before
    if proc.returncode != 0:
        sys.exit(f"scenario {name!r} failed (exit {proc.returncode}):\n{proc.stderr}")
    if proc.stderr.strip():
        print(f"  note: {name} wrote to stderr: {proc.stderr.strip().splitlines()[0]}")
    return {**json.loads(proc.stdout.splitlines()[-1]), "total": total, "cpu": cpu}


def _children_cpu() -> float:
    """CPU seconds of reaped descendants: the child Python and its jsii Node process (which jsii waits for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per scenario; medians are reported (default 5)")
    parser.add_argument("--child", choices=[*SCENARIOS, *FAN_OUT], help=argparse.SUPPRESS)
    parser.add_argument("--no-fan-out", action="store_true", help="skip the FanOut scaling runs")
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    print(f"{args.runs} runs per scenario, each in a fresh subprocess (medians)")
    measure("floor")  # warm-up, not reported: the first run pays cold file caches
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in SCENARIOS}
    for _ in range(args.runs):  # round-robin, so drift over time hits every scenario alike
        for name in SCENARIOS:
            results[name].append(measure(name))
    metrics = {"total": "wall s", "cpu": "cpu s", "synth": "synth s"}  # synth: wall time of app.synth() alone
    med = {m: {n: statistics.median(r[m] for r in runs) for n, runs in results.items()} for m in metrics}

    print(f"\n{'scenario':<12}" + "".join(f" {label:>8} {'x floor':>8}" for label in metrics.values()))
    for name in SCENARIOS:
        print(
            f"{name:<12}" + "".join(f" {med[m][name]:>8.2f} {med[m][name] / med[m]['floor']:>7.2f}x" for m in metrics)
        )

    library, plain = results["library"][0], results["plain L2"][0]
    if library["types"] != plain["types"]:
        print(f"\nWARNING: resource counts differ: library {library['types']} vs plain L2 {plain['types']}")
    elif library["digest"] != plain["digest"]:
        print("\nsame resource counts per type; templates differ in detail")
    else:
        print("\nplain L2 template is identical to the library's")
    ratio = {m: med[m]["library"] / med[m]["plain L2"] for m in metrics}
    print(f"library / plain L2 = {ratio['total']:.2f}x (target <= {TARGET}x)")
    print(f"  (cpu {ratio['cpu']:.2f}x, synth alone {ratio['synth']:.2f}x; wall time is noisy on a busy machine)")
    if not args.no_fan_out:
        fan_out_scaling(args.runs)


def fan_out_scaling(runs: int) -> None:
    """Synth time of one FanOut with 10, 50 and 100 subscribers: linear if the per-subscriber cost is flat."""

    def build_and_synth(n: int) -> float:
        result = measure(f"fan-out {n}")
        return float(result["build"] + result["synth"])

    times = {n: statistics.median(build_and_synth(n) for _ in range(runs)) for n in FAN_OUT_SIZES}
    print(f"\nFanOut build + synth time by subscribers ({runs} runs each after a warm-up synth, medians)")
    for n, seconds in times.items():
        print(f"  {n:>4} subscribers: {seconds:6.2f} s")
    low, mid, high = FAN_OUT_SIZES
    first = (times[mid] - times[low]) / (mid - low)
    second = (times[high] - times[mid]) / (high - mid)
    print(
        f"  per subscriber: {first * 1000:.1f} ms ({low}->{mid}), {second * 1000:.1f} ms ({mid}->{high}); "
        f"ratio {second / first:.2f} (1.00 = linear)"
    )


if __name__ == "__main__":
    main()
