"""QueueWorkers in the demo: the workers' boot, run on this machine against the demo's MiniStack, and what stops the
DecouplingQueueWorkers stack itself from deploying there (asked of MiniStack, so a MiniStack that learns a type
stops being named).

DecouplingQueueWorkers puts its fleet in private subnets behind a NAT gateway, with a VPC flow log; MiniStack's
CloudFormation has no provisioner for the NAT gateway, its Elastic IP or the flow log. The demo deploys
``DecouplingDemoWorkers`` instead (:class:`DemoWorkersStack`): the same QueueWorkers (the reference fleet's
handler ``renders.worker:handle`` and code, the default boot and bundle) in isolated subnets, without alarms
(MiniStack refuses the backlog alarm's metric math). Then :func:`workers_scenario` runs the launch template's
user data, as MiniStack's CloudFormation rendered it, here (``decoupling_constructs.testing.workers.booted_worker``:
bash for cloud-init, a systemctl stand-in for systemd, MiniStack's instance metadata for the instance role's
credentials, this machine's python3.11 and AWS CLI for the AMI), sends N render jobs and reads the worker's log.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from decoupling_constructs import QueueWorkers, ReliableQueue
from decoupling_constructs.testing import Deployment
from decoupling_constructs.testing.emulators import Emulator, ministack_python
from decoupling_constructs.testing.observe import queue_depth
from decoupling_constructs.testing.workers import booted_worker

from ._model import Progress, Result

STACK = "DecouplingQueueWorkers"
DEMO_STACK = "DecouplingDemoWorkers"
# Why the demo deploys DEMO_STACK (printed beside the stack's emulator).
VARIANT = (
    f"{STACK}'s QueueWorkers (its handler, code and default boot) in isolated subnets without NAT gateway and flow "
    "log, no alarms (MiniStack refuses their metric math): the stack the workers' boot runs against"
)
# Generous: a boot fetches and extracts the bundle (boto3 inside), then the worker starts; under load this takes
# tens of seconds. Polled, never slept.
CONSUME_TIMEOUT_S = 180.0
_RENDERED = re.compile(r"rendered job (\S+): ")

# What the local run stands in for, said on the verdict line.
STANDS_IN = (
    "the boot ran on this machine, not an instance: bash for cloud-init, a systemctl stand-in for systemd, "
    "MiniStack's instance metadata for the role's credentials, this machine's python3.11 and AWS CLI for the AMI"
)


class DemoWorkersStack(cdk.Stack):
    """What the demo deploys for the workers (see ``VARIANT``): a job queue and a QueueWorkers fleet running the
    reference stack's render handler, in a VPC MiniStack creates (isolated subnets, one AZ)."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        from stacks.workers_stack import RENDER_WORKER_CODE

        super().__init__(scope, construct_id, description="decoupling-constructs: the demo's QueueWorkers", **kwargs)
        vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=1,
            nat_gateways=0,
            subnet_configuration=[ec2.SubnetConfiguration(name="Workers", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
            restrict_default_security_group=False,
        )
        jobs = ReliableQueue(self, "DemoRenders", visibility_timeout=Duration.seconds(30))
        QueueWorkers(
            self,
            "DemoRenderFleet",
            queue=jobs,
            vpc=vpc,
            average_processing_time=Duration.millis(200),
            latency_target=Duration.seconds(30),
            handler="renders.worker:handle",
            worker_code=RENDER_WORKER_CODE,
            min_capacity=1,
            max_capacity=1,
            create_alarms=False,
        )
        cdk.CfnOutput(self, "QueueUrl", value=jobs.queue.queue_url)
        cdk.CfnOutput(self, "DeadLetterQueueUrl", value=jobs.dead_letter_queue.queue_url)


# Asked on MiniStack's own interpreter: the resource types its CloudFormation has no provisioner for, and the
# public SSM parameters it serves. Private names of MiniStack 1.5.x; if they move, the answer says "unknown".
_PROBE = """
import json, sys
try:
    from ministack.services.cloudformation.provisioners import _RESOURCE_HANDLERS
    from ministack.services.ssm import _PUBLIC_AMI_PARAMETERS
except ImportError as error:
    print(json.dumps({"error": str(error)})); sys.exit(0)
types, parameters = json.loads(sys.stdin.read())
print(json.dumps({
    "types": sorted(t for t in types if t not in _RESOURCE_HANDLERS and not t.startswith("Custom::")),
    "parameters": sorted(p for p in parameters if p not in _PUBLIC_AMI_PARAMETERS),
}))
"""


def ministack_refusals(template: dict[str, Any]) -> str:
    """What MiniStack refuses in ``template``, as one phrase: the resource types its CloudFormation cannot create
    and the SSM parameters (template parameters of type AWS::SSM::Parameter::Value) it does not serve."""
    types = sorted({r["Type"] for r in template.get("Resources", {}).values()})
    parameters = sorted(
        str(p.get("Default"))
        for p in template.get("Parameters", {}).values()
        if str(p.get("Type", "")).startswith("AWS::SSM::Parameter::Value")
        and p.get("Default")
        and not str(p.get("Default")).startswith("/cdk-bootstrap/")
    )
    try:
        completed = subprocess.run(
            [ministack_python(), "-c", _PROBE],
            input=json.dumps([types, parameters]),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        answer = json.loads(completed.stdout.strip().splitlines()[-1])
    except (OSError, ValueError, IndexError, subprocess.SubprocessError) as error:
        return f"unknown (asking MiniStack failed: {type(error).__name__})"
    if "error" in answer:
        return f"unknown (MiniStack's tables moved: {answer['error']})"
    parts = []
    if answer["types"]:
        parts.append(f"its CloudFormation has no provisioner for {', '.join(answer['types'])}")
    if answer["parameters"]:
        parts.append(f"it does not serve the public SSM parameter(s) {', '.join(answer['parameters'])} (the AMI)")
    return "; ".join(parts) or "nothing"


def workers_scenario(
    d: Deployment, emulator: Emulator, jobs: int, progress: Progress, log_dir: Path, refused: str
) -> Result:
    """The boot of ``DEMO_STACK`` run here against ``emulator``; ``jobs`` render jobs sent; every one rendered once
    by the booted worker (its log), none lost (queue and DLQ empty once the worker stopped)."""
    result = Result("workers")
    result.said = f"{STANDS_IN}; {STACK} itself (NAT VPC) not deployed: MiniStack refuses it ({refused})"
    if shutil.which("aws") is None:  # nothing the pattern did wrong: this machine lacks the AMI's AWS CLI
        result.not_run = f"the boot fetches its bundle with the AWS CLI, and no `aws` is on PATH; {result.said}"
        return result
    sqs = d.client("sqs")
    url, dlq_url = d.outputs["QueueUrl"], d.outputs["DeadLetterQueueUrl"]
    run = uuid.uuid4().hex[:6]
    sent = [f"{run}-{n}" for n in range(jobs)]
    work = log_dir / "workers"
    with booted_worker(emulator, DEMO_STACK, work) as worker:
        (work / "boot.log").write_text(worker.output)
        for start in range(0, jobs, 10):  # SendMessageBatch: at most 10 entries
            sqs.send_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(n), "MessageBody": json.dumps({"job": job, "frames": 1 + n % 5})}
                    for n, job in enumerate(sent[start : start + 10])
                ],
            )

        def state() -> tuple[Counter[str], int]:
            counts = Counter(_RENDERED.findall(worker.log()))
            progress("workers", sum(1 for job in sent if counts[job]), jobs)
            return counts, queue_depth(sqs, url) + queue_depth(sqs, dlq_url)

        # Until every job is rendered and deleted (queue and DLQ empty), the worker dies, or the deadline.
        deadline = time.monotonic() + CONSUME_TIMEOUT_S
        counts, left = state()
        while (left or not set(sent) <= set(counts)) and worker.alive() and time.monotonic() < deadline:
            time.sleep(0.2)
            counts, left = state()
        running = worker.alive()
        # Nothing is in flight now: SIGTERM, and SIGKILL after 2 s rather than waiting out its long poll (20 s).
        worker.stop(timeout=2)
    counts = Counter(_RENDERED.findall(worker.log()))
    once = sum(1 for job in sent if counts[job] == 1)
    result.check("the boot started the worker, which kept running", True, running)
    result.check("every job rendered once", jobs, once)
    result.check("no job lost", 0, sum(1 for job in sent if not counts[job]))
    result.check("queue and DLQ empty", 0, left)
    result.rows += [
        ("boot (the launch template's user data)", f"ran here in {worker.seconds:.1f} s, worker started"),
        (f"{DEMO_STACK} render jobs", f"{once} of {jobs} rendered once by the booted worker, {left} left"),
    ]
    result.notes.append(
        f"the boot fetched the worker bundle (a CDK asset cdk deploy uploaded) from the bootstrap bucket with the "
        "instance role's credentials; it ran against the demo's MiniStack on this machine's network "
        "(tests/behaviour/test_workers_boot.py runs it with loopback only); its output and the worker's log: "
        f"{work}"
    )
    return result
