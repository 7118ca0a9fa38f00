"""QueueWorkers' boot script run on this machine against an emulator: it installs, starts the worker, consumes.

::

    from decoupling_constructs.testing.workers import boot_check

    result = boot_check(Path("cdk.out"), "MyWorkersStack", messages=50, work_dir=Path("run"))  # MiniStack, CDK CLI
    assert result["lost"] == 0 and not any(result["left_in_queues"].values())

:func:`boot_check` runs, in a child process in a network namespace of its own (``unshare --net``: loopback only,
no other interface), MiniStack, ``cdk bootstrap`` and ``cdk deploy`` of the stack (the CLI uploads the worker
bundle, a CDK asset, to the emulator's bootstrap bucket), then the launch template's user data exactly as the
emulator's CloudFormation rendered it from the synthesized template (read back with DescribeLaunchTemplateVersions),
then sends ``messages`` messages and waits until the worker has handled them. :func:`booted_worker` is the boot
alone, against an emulator already running.

What the local run stands in for (nothing else differs from an instance):

* **EC2 and cloud-init**: bash runs the user data as this user, with ``QUEUE_WORKER_DIR`` and ``SYSTEMD_UNIT_DIR``
  (which cloud-init never sets) pointing into a work directory instead of ``/opt/queue-worker`` and
  ``/etc/systemd/system``.
* **systemd**: a ``systemctl`` on PATH: ``daemon-reload`` does nothing; ``enable --now UNIT`` starts the unit's
  ``ExecStart`` with its ``Environment=`` lines, in the background, its output to ``worker.log``.
* **EC2 instance metadata** (the instance role's credentials): MiniStack's IMDS emulator, IMDSv2 tokens
  (``AWS_EC2_METADATA_SERVICE_ENDPOINT``); no access key is in the boot's environment.
* **AWS's endpoints** (or the VPC endpoints): ``AWS_ENDPOINT_URL``, the emulator; MiniStack serves AWS's public
  SSM parameter of the latest AL2023 AMI id (a stub image).
* **The AMI** (Amazon Linux 2023): this machine's ``python3.11`` without boto3 (the bundle brings it), its AWS CLI
  (v1 here; AL2023 has v2), bash and coreutils. ``dnf`` and ``pip`` are refusing stand-ins: a boot that needed
  them fails here.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .emulators import Emulator

BOOT_TIMEOUT_S = 180.0
RECORD_FILE = "handled.log"
# The handler :func:`boot_check`'s caller ships (``worker_code``): it appends each body to handled.log beside it.
RECORDING_HANDLER = '''"""Records each message body, one line each, in handled.log beside this module."""

import pathlib
import threading

_LOCK = threading.Lock()
_RECORD = pathlib.Path(__file__).with_name("handled.log")


def handle(message):
    with _LOCK, _RECORD.open("a") as record:
        record.write(message["Body"] + "\\n")
'''

_SYSTEMCTL = r'''#!{python}
"""systemctl stand-in: `enable --now UNIT` starts ExecStart with the unit's Environment= lines."""
import os, shlex, subprocess, sys
args = [a for a in sys.argv[1:] if not a.startswith("-")]
if args[:1] == ["daemon-reload"]:
    sys.exit(0)
if args[:1] != ["enable"] or "--now" not in sys.argv:
    sys.exit(f"systemctl stand-in: unsupported {{sys.argv[1:]}}")
unit = os.path.join(os.environ["SYSTEMD_UNIT_DIR"], args[1])
env = {{k: v for k, v in os.environ.items() if k.startswith(("AWS_ENDPOINT_URL", "AWS_EC2_METADATA", "PATH"))}}
command = None
for line in open(unit):
    key, _, value = line.strip().partition("=")
    if key == "Environment":
        name, _, val = value.partition("=")
        env[name] = val
    elif key == "ExecStart":
        command = shlex.split(value)
work = os.environ["QUEUE_WORKER_DIR"]
with open(os.path.join(work, "worker.log"), "ab") as log:
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=True)
open(os.path.join(work, "worker.pid"), "w").write(str(process.pid))
'''

_REFUSE = '#!/bin/sh\necho "$(basename "$0") stand-in: the boot must not need $(basename "$0") ($*)" >&2\nexit 97\n'


@dataclass
class BootedWorker:
    """A boot that ran: its script, output and directories, and the worker process it started."""

    script: str
    output: str
    seconds: float
    work_dir: Path
    pid: int

    @property
    def site(self) -> Path:
        return self.work_dir / "site"

    def log(self) -> str:
        path = self.work_dir / "worker.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (QueueConsumer finishes and deletes what it handles), then SIGKILL after ``timeout``."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.alive() and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, os.WNOHANG)
            time.sleep(0.1)
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)


def launch_template_user_data(emulator: Emulator, stack_name: str) -> str:
    """The user data of the stack's (one) launch template, as the emulator's CloudFormation rendered it."""
    import boto3

    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=emulator.region
    )
    cloudformation = session.client("cloudformation", endpoint_url=emulator.endpoint_url)
    ec2 = session.client("ec2", endpoint_url=emulator.endpoint_url)
    resources = cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]
    templates = [r["PhysicalResourceId"] for r in resources if r["ResourceType"] == "AWS::EC2::LaunchTemplate"]
    if len(templates) != 1:
        raise ValueError(f"{stack_name} has {len(templates)} launch templates, expected one")
    versions = ec2.describe_launch_template_versions(LaunchTemplateId=templates[0], Versions=["$Latest"])
    encoded = versions["LaunchTemplateVersions"][0]["LaunchTemplateData"]["UserData"]
    return base64.b64decode(encoded).decode()


def _stand_ins(bin_dir: Path, python: str) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    (bin_dir / "systemctl").write_text(_SYSTEMCTL.format(python=sys.executable))
    for name in ("dnf", "yum", "pip", "pip3"):
        (bin_dir / name).write_text(_REFUSE)
    (bin_dir / "python3.11").symlink_to(python)
    aws = shutil.which("aws")
    if aws is None:
        raise FileNotFoundError("the boot fetches its bundle with the AWS CLI (`aws`), which is not on PATH")
    (bin_dir / "aws").symlink_to(aws)
    for path in bin_dir.iterdir():
        path.chmod(0o755)


def bare_python() -> str:
    """A Python 3.11+ without boto3, standing in for the AMI's python3.11: /usr/bin/python3.11 when it has no boto3,
    else this interpreter's base (a venv's site-packages are not the base's)."""
    for candidate in ("/usr/bin/python3.11", "/usr/bin/python3.12", "/usr/bin/python3.13"):
        if (
            Path(candidate).exists()
            and subprocess.run([candidate, "-c", "import boto3"], capture_output=True).returncode
        ):
            return candidate
    return str(Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}")


@contextlib.contextmanager
def booted_worker(
    emulator: Emulator, stack_name: str, work_dir: Path, *, python: str | None = None
) -> Iterator[BootedWorker]:
    """Run the stack's boot script here (see the module doc for what stands in for what); stop the worker after."""
    script = launch_template_user_data(emulator, stack_name)
    work_dir.mkdir(parents=True, exist_ok=True)
    (work_dir / "user-data.sh").write_text(script)
    bin_dir = work_dir / "bin"
    _stand_ins(bin_dir, python or bare_python())
    env = {
        "PATH": os.pathsep.join([str(bin_dir), "/usr/bin", "/bin"]),
        "HOME": str(work_dir),
        "LANG": "C.UTF-8",
        "QUEUE_WORKER_DIR": str(work_dir / "opt"),
        "SYSTEMD_UNIT_DIR": str(work_dir / "systemd"),
        "AWS_ENDPOINT_URL": emulator.endpoint_url,
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": emulator.endpoint_url + "/",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv4",
    }
    started = time.monotonic()
    completed = subprocess.run(
        ["bash", str(work_dir / "user-data.sh")],
        env=env,
        cwd=work_dir,
        capture_output=True,
        text=True,
        timeout=BOOT_TIMEOUT_S,
        check=False,
    )
    seconds = time.monotonic() - started
    output = completed.stdout + completed.stderr
    if completed.returncode != 0:
        raise RuntimeError(f"the boot script failed (exit {completed.returncode}):\n{output[-3000:]}")
    worker = BootedWorker(
        script=script,
        output=output,
        seconds=seconds,
        work_dir=work_dir / "opt",
        pid=int((work_dir / "opt" / "worker.pid").read_text()),
    )
    try:
        yield worker
    finally:
        worker.stop()


def interfaces() -> list[str]:
    """The network interfaces this process sees (its network namespace's)."""
    return sorted(name for _, name in socket.if_nameindex())


def _loopback_up() -> None:
    """Bring ``lo`` up in a fresh network namespace (SIOCSIFFLAGS; what `ip link set lo up` does)."""
    import fcntl
    import struct

    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        request = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH14s", fcntl.ioctl(probe, siocgifflags, request))[1]
        fcntl.ioctl(probe, siocsifflags, struct.pack("16sH14s", b"lo", flags | iff_up, b""))


def _queue_urls(emulator: Emulator, stack_name: str) -> list[str]:
    import boto3

    cloudformation = boto3.client(
        "cloudformation",
        endpoint_url=emulator.endpoint_url,
        region_name=emulator.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    resources = cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]
    return [r["PhysicalResourceId"] for r in resources if r["ResourceType"] == "AWS::SQS::Queue"]


def _check(cdk_out: Path, stack_name: str, queue_output: str, messages: int, work_dir: Path) -> dict[str, Any]:
    """In the namespace: MiniStack, cdk deploy, the boot, N messages; the figures."""
    import boto3

    from ..runtime.producer import QueueProducer
    from .emulators import cdk_deploy, ministack

    with ministack(log_file=work_dir / "ministack.log") as emulator:
        started = time.monotonic()
        cdk_deploy(cdk_out, [stack_name], emulator, log_file=work_dir / "cdk.log")
        deployed = time.monotonic() - started
        sqs = boto3.client(
            "sqs",
            endpoint_url=emulator.endpoint_url,
            region_name=emulator.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        outputs = (
            boto3.client(
                "cloudformation",
                endpoint_url=emulator.endpoint_url,
                region_name=emulator.region,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            .describe_stacks(StackName=stack_name)["Stacks"][0]
            .get("Outputs", [])
        )
        queue_url = next(o["OutputValue"] for o in outputs if o["OutputKey"] == queue_output)
        with booted_worker(emulator, stack_name, work_dir / "instance") as worker:
            sent = [f"job-{i:05d}" for i in range(messages)]
            with QueueProducer(queue_url, client=sqs) as producer:
                for body in sent:
                    producer.send(body)
            record = next(worker.site.rglob(RECORD_FILE), None) if worker.site.exists() else None
            deadline = time.monotonic() + 120
            handled: list[str] = []
            while time.monotonic() < deadline:
                record = record or next(worker.site.rglob(RECORD_FILE), None)
                handled = record.read_text().split() if record is not None else []
                if set(handled) >= set(sent) or not worker.alive():
                    break
                time.sleep(0.2)
            consumed = time.monotonic() - started - deployed - worker.seconds
            worker.stop()
            alive_until_stopped = True
            log = worker.log()
            boot_seconds = worker.seconds
            boot_output = worker.output
        left = {}
        for url in _queue_urls(emulator, stack_name):
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            left[url.rsplit("/", 1)[-1]] = int(attributes["ApproximateNumberOfMessages"]) + int(
                attributes["ApproximateNumberOfMessagesNotVisible"]
            )
    return {
        "interfaces": interfaces(),
        "sent": len(sent),
        "handled_distinct": len(set(handled) & set(sent)),
        "handled_total": len(handled),
        "lost": len(set(sent) - set(handled)),
        "left_in_queues": left,
        "deploy_seconds": round(deployed, 1),
        "boot_seconds": round(boot_seconds, 1),
        "consume_seconds": round(consumed, 1),
        "worker_was_running": alive_until_stopped,
        "boot_output": boot_output[-2000:],
        "worker_log": log[-3000:],
        "emulator": emulator.label,
    }


def boot_check(
    cdk_out: Path,
    stack_name: str,
    *,
    queue_output: str = "QueueUrl",
    messages: int = 20,
    work_dir: Path,
    isolate_network: bool = True,
    timeout: float = 900,
) -> dict[str, Any]:
    """Deploy ``stack_name`` from ``cdk_out`` into MiniStack, run its boot here, send ``messages``: the figures.

    The stack needs one launch template (QueueWorkers' default user data, with ``worker_code`` whose handler writes
    each body to ``handled.log`` beside its module, like :data:`RECORDING_HANDLER`) and an output ``queue_output``
    with the queue's URL. With ``isolate_network`` (the default) everything runs in a network namespace holding
    only a loopback interface (``unshare --net --map-root-user``); the result's ``interfaces`` shows it.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    arguments = [str(cdk_out.resolve()), stack_name, queue_output, str(messages), str(work_dir.resolve())]
    command: Sequence[str] = [sys.executable, "-m", __name__, *arguments]
    if isolate_network:
        unshare = shutil.which("unshare")
        if unshare is None:
            raise FileNotFoundError("isolate_network needs unshare (util-linux)")
        command = [unshare, "--net", "--map-root-user", *command, "--loopback-up"]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the boot check failed (exit {completed.returncode}):\n{completed.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def _main(argv: Sequence[str]) -> int:
    arguments = [a for a in argv if a != "--loopback-up"]
    if "--loopback-up" in argv:
        _loopback_up()
    cdk_out, stack_name, queue_output, messages, work_dir = arguments
    result = _check(Path(cdk_out), stack_name, queue_output, int(messages), Path(work_dir))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))


__all__ = [
    "RECORDING_HANDLER",
    "BootedWorker",
    "bare_python",
    "boot_check",
    "booted_worker",
    "interfaces",
    "launch_template_user_data",
]
