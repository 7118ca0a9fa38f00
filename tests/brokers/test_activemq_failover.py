"""What MessageBroker's ActiveMQ active/standby promises, checked on real brokers.

Amazon MQ's active/standby runs two ActiveMQ brokers on one shared store: whoever holds
the store's lock is active and listens; the other waits for the lock. Here two brokers
from Debian's ``activemq`` package share one KahaDB directory on 127.0.0.1, and a JMS
client connects with a ``failover:`` URL of exactly the shape ``MessageBroker.failover_url``
produces (read from the reference stack deployed in moto), with the endpoints swapped for
the local ones and ``ssl://`` for ``tcp://`` (TLS is Amazon MQ's, not under test here).
The active broker is killed (SIGKILL) mid-stream; every persistent message sent must be
received exactly once, from the standby that took over.

``scripts/install-system-deps.sh`` (run by ``make test``) installs ActiveMQ and a JDK.
"""

from __future__ import annotations

import collections
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from decoupling_constructs.testing import deploy_to_moto

HERE = Path(__file__).resolve().parent
ACTIVEMQ = Path("/usr/share/activemq/bin/activemq.jar")
JARS = [
    "activemq-client.jar",
    "geronimo-jms_1.1_spec.jar",
    "geronimo-j2ee-management-1.1-spec.jar",
    "hawtbuf.jar",
    "slf4j-api.jar",
    "slf4j-nop.jar",
]
MESSAGES = 300
KILL_AFTER = 100
# Every process started here stops by itself even if the test run dies.
SELF_STOP = ["timeout", "--signal=KILL", "300"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def tools() -> None:
    missing = [p for p in (ACTIVEMQ, *(Path("/usr/share/java") / j for j in JARS)) if not p.exists()]
    assert not missing and shutil.which("javac"), (
        f"ActiveMQ or a JDK is missing ({missing}); run scripts/install-system-deps.sh (make test does)"
    )


@pytest.fixture
def brokers(tools, tmp_path: Path) -> Iterator[dict]:
    """Two brokers on one shared store; the first started is active."""
    template = (HERE / "broker.xml.template").read_text()
    store = tmp_path / "shared-store"
    started: dict[str, dict] = {}
    try:
        for name in ("a", "b"):
            port = free_port()
            home = tmp_path / name
            home.mkdir()
            config = template.replace("@NAME@", name).replace("@DATA@", str(home)).replace("@STORE@", str(store))
            (home / "activemq.xml").write_text(config.replace("@PORT@", str(port)))
            process = subprocess.Popen(
                [
                    *SELF_STOP,
                    "java",
                    "-Xmx256m",
                    f"-Dactivemq.home={ACTIVEMQ.parent.parent}",
                    f"-Dactivemq.base={home}",
                    f"-Dactivemq.conf={home}",
                    f"-Dactivemq.data={home}",
                    "-jar",
                    str(ACTIVEMQ),
                    "start",
                    f"xbean:file:{home / 'activemq.xml'}",
                ],
                stdout=(home / "broker.log").open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            started[name] = {"port": port, "process": process}
            if name == "a":
                wait_for(lambda port=port: listening(port), 60, "the first broker to take the store's lock and listen")
        time.sleep(3)  # the second broker is up and waiting for the lock
        yield started
    finally:
        for broker in started.values():
            if broker["process"].poll() is None:
                os.killpg(broker["process"].pid, signal.SIGKILL)
                broker["process"].wait()


@pytest.fixture(scope="module")
def client_classes(tools, tmp_path_factory: pytest.TempPathFactory) -> str:
    classes = tmp_path_factory.mktemp("classes")
    classpath = ":".join(str(Path("/usr/share/java") / jar) for jar in JARS)
    subprocess.run(
        ["javac", "-cp", classpath, "-d", str(classes), str(HERE / "FailoverCheck.java")], check=True, timeout=120
    )
    return f"{classes}:{classpath}"


@pytest.fixture(scope="module")
def failover_url_shape(reference_stacks) -> list[str]:
    """The endpoints of the URL MessageBroker builds for the reference active/standby broker."""
    from moto import mock_aws

    with mock_aws():
        url = deploy_to_moto(reference_stacks["DecouplingMessageBroker"]).outputs["ActiveMqFailoverUrl"]
    match = re.fullmatch(r"failover:\((.+)\)", url)
    assert match, url
    return match.group(1).split(",")


def test_active_standby_failover_loses_and_duplicates_nothing(brokers, client_classes, failover_url_shape) -> None:
    active, standby = brokers["a"], brokers["b"]
    assert not listening(standby["port"]), "the standby must wait for the store's lock, not serve"
    assert len(failover_url_shape) == 2 and all(e.startswith("ssl://") for e in failover_url_shape)
    local = [f"tcp://127.0.0.1:{broker['port']}" for broker in (active, standby)]
    url = f"failover:({','.join(local)})"

    client = subprocess.Popen(
        [*SELF_STOP, "java", "-cp", client_classes, "FailoverCheck", url, "orders", str(MESSAGES)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=HERE,
    )
    lines: list[str] = []
    assert client.stdout is not None
    for line in client.stdout:
        lines.append(line.strip())
        if line.strip() == f"SENT {KILL_AFTER}":
            os.killpg(active["process"].pid, signal.SIGKILL)  # the active broker dies mid-stream
            active["process"].wait()
    client.wait(timeout=120)
    assert client.returncode == 0, client.stderr.read() if client.stderr else ""

    sent = [int(line.split()[1]) for line in lines if line.startswith("SENT ")]
    received = collections.Counter(int(line.split()[1]) for line in lines if line.startswith("RECV "))
    assert sent == list(range(1, MESSAGES + 1)), "every send was acknowledged, across the failover"
    assert set(received) == set(sent), f"lost: {sorted(set(sent) - set(received))[:10]}"
    assert [n for n, times in received.items() if times > 1] == [], "duplicates"
    assert listening(standby["port"]), "the standby took over the store and listens"
    assert lines[-1] == "DONE"
