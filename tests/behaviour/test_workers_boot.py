"""QueueWorkers' default boot, run on this machine against MiniStack with no network but loopback: it installs the
bundle, starts the worker and consumes N messages, none lost.

The stack (a ReliableQueue, an isolated VPC, QueueWorkers with the default user data) is synthesized here and
deployed by the real ``cdk deploy`` into MiniStack, which uploads the worker bundle (a CDK asset) to the emulator's
bootstrap bucket and creates the queue, the launch template and the Auto Scaling group (MiniStack records the group;
it runs no instance). The boot script is the launch template's user data as MiniStack's CloudFormation rendered it
from the synthesized template. Everything (MiniStack, the CLI, the boot, the worker) runs in a network namespace
whose only interface is loopback.

What the local run stands in for (``decoupling_constructs.testing.workers``): **EC2 and cloud-init** (bash runs the
user data as this user, into a work directory instead of /opt/queue-worker and /etc/systemd/system), **systemd** (a
``systemctl`` stand-in starts the unit's ExecStart with its Environment= lines), **the EC2 instance metadata
service** (MiniStack's IMDS emulator gives the role credentials, IMDSv2; no access key is in the boot's environment),
**AWS's endpoints and the VPC endpoints** (AWS_ENDPOINT_URL), **AWS's public SSM parameter of the AMI id** (MiniStack
serves it, a stub image) and **the AMI** (this machine's python3.11 without boto3, its AWS CLI v1 where AL2023
has v2; ``dnf`` and ``pip`` are stand-ins that fail, so a boot that needed them fails here).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2

from decoupling_constructs import QueueWorkers, ReliableQueue
from decoupling_constructs.testing.workers import RECORDING_HANDLER, boot_check

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("workers-boot")]

MESSAGES = 50
STACK = "WorkersBootProof"


def synthesized(tmp_path: Path) -> Path:
    code = tmp_path / "code" / "proof"
    code.mkdir(parents=True)
    (code / "__init__.py").write_text("")
    (code / "recorder.py").write_text(RECORDING_HANDLER)
    app = cdk.App(outdir=str(tmp_path / "cdk.out"))
    stack = cdk.Stack(app, STACK, env=cdk.Environment(account="000000000000", region="us-east-1"))
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[ec2.SubnetConfiguration(name="Workers", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
        restrict_default_security_group=False,
    )
    jobs = ReliableQueue(stack, "Jobs", visibility_timeout=Duration.seconds(30))
    QueueWorkers(
        stack,
        "Workers",
        queue=jobs,
        vpc=vpc,
        average_processing_time=Duration.millis(100),
        latency_target=Duration.seconds(10),
        handler="proof.recorder:handle",
        worker_code=tmp_path / "code",
        create_alarms=False,  # MiniStack refuses metric-math alarms (AWS::CloudWatch::Alarm Metrics); not the boot
    )
    cdk.CfnOutput(stack, "QueueUrl", value=jobs.queue.queue_url)
    return Path(app.synth().directory)


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare (util-linux) for the loopback-only run")
def test_the_default_boot_installs_and_consumes_every_message_with_loopback_only(tmp_path) -> None:
    result = boot_check(synthesized(tmp_path), STACK, messages=MESSAGES, work_dir=tmp_path / "run")
    assert result["interfaces"] == ["lo"], result  # no network but loopback
    assert result["sent"] == MESSAGES
    assert result["handled_distinct"] == MESSAGES and result["lost"] == 0, result["worker_log"]
    assert set(result["left_in_queues"].values()) == {0}, result["left_in_queues"]  # queue and DLQ empty
    assert result["worker_was_running"]
    print({k: result[k] for k in ("deploy_seconds", "boot_seconds", "consume_seconds", "handled_total", "emulator")})
