"""Active/standby failover on two real ActiveMQ brokers sharing one KahaDB store, on 127.0.0.1.

Used by ``test_activemq_failover.py`` (one run) and by ``scripts/soak-failover.sh`` (many runs:
``python -m tests.brokers.failover RUNS``). One run: broker ``a`` takes the store's lock and
listens, broker ``b`` waits for the lock; ``FailoverCheck`` sends persistent messages through a
``failover:`` URL and consumes them; when it reports ``SENT <kill_after>`` broker ``a`` is
SIGKILLed; the run ends when the client has handled everything acknowledged to it (or its
deadline passed), drained ``ActiveMQ.DLQ`` and browsed what is left in the queue. Nothing in a
run is random (ports aside), so there is no seed to fix.

Every wait is bounded and every process stops by itself: the brokers and the client run under
``timeout --signal=KILL``, and whatever is still running when a run ends is killed.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ACTIVEMQ = Path("/usr/share/activemq/bin/activemq.jar")
JAVA_LIB = Path("/usr/share/java")
CLIENT_JARS = [
    "activemq-client.jar",
    "geronimo-jms_1.1_spec.jar",
    "geronimo-j2ee-management-1.1-spec.jar",
    "hawtbuf.jar",
    "slf4j-api.jar",
    "slf4j-simple.jar",  # the client's failover warnings go to client.log
]
MESSAGES = 300
KILL_AFTER = 100
QUEUE = "orders"
CLIENT_DEADLINE = 90  # s: the client stops consuming then, whatever is missing
RUN_LIMIT = 240  # s: no broker or client outlives a run by more than this (timeout --signal=KILL)
BROKER_LOG4J = """\
log4j.rootLogger=INFO, out
log4j.logger.org.apache.activemq.spring=WARN
log4j.logger.org.springframework=WARN
log4j.logger.org.apache.xbean=WARN
log4j.appender.out=org.apache.log4j.ConsoleAppender
log4j.appender.out.layout=org.apache.log4j.PatternLayout
log4j.appender.out.layout.ConversionPattern=%d{HH:mm:ss,SSS} %-5p [%t] %c{1} %m%n
"""


def missing_tools() -> list[str]:
    """What scripts/install-system-deps.sh would have installed and is not there."""
    missing = [str(p) for p in (ACTIVEMQ, *(JAVA_LIB / jar for jar in CLIENT_JARS)) if not p.exists()]
    return missing + [tool for tool in ("java", "javac", "timeout") if not shutil.which(tool)]


def compile_client(into: Path) -> str:
    """Compile FailoverCheck.java into ``into``; returns the classpath to run it with."""
    classpath = ":".join(str(JAVA_LIB / jar) for jar in CLIENT_JARS)
    subprocess.run(
        ["javac", "-cp", classpath, "-d", str(into), str(HERE / "FailoverCheck.java")], check=True, timeout=120
    )
    return f"{into}:{classpath}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def kill(process: subprocess.Popen[str]) -> None:
    """SIGKILL a process started with start_new_session, and its children (timeout + java)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


@dataclass
class Broker:
    name: str
    port: int
    home: Path
    process: subprocess.Popen[str]

    @property
    def log(self) -> Path:
        return self.home / "broker.log"

    def alive(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"broker {self.name} exited {self.process.returncode}; see {self.log}")
        return True

    def serving(self) -> bool:
        """It holds the store's lock and listens."""
        return self.alive() and listening(self.port)

    def waiting_for_lock(self) -> bool:
        return self.alive() and "waiting a lock" in self.log.read_text()


@contextlib.contextmanager
def shared_store_brokers(workdir: Path) -> Iterator[dict[str, Broker]]:
    """Brokers ``a`` (active: it took the store's lock and listens) and ``b`` (waiting for the lock)."""
    template = (HERE / "broker.xml.template").read_text()
    store = workdir / "shared-store"
    started: dict[str, Broker] = {}
    try:
        for name in ("a", "b"):
            port = free_port()
            home = workdir / name
            home.mkdir(parents=True)
            config = template.replace("@NAME@", name).replace("@DATA@", str(home)).replace("@STORE@", str(store))
            (home / "activemq.xml").write_text(config.replace("@PORT@", str(port)))
            (home / "log4j.properties").write_text(BROKER_LOG4J)
            with (home / "broker.log").open("w") as log:
                process = subprocess.Popen(
                    [
                        *("timeout", "--signal=KILL", str(RUN_LIMIT)),
                        "java",
                        "-Xmx256m",
                        f"-Dactivemq.home={ACTIVEMQ.parent.parent}",
                        f"-Dactivemq.base={home}",
                        f"-Dactivemq.conf={home}",
                        f"-Dactivemq.data={home}",
                        f"-Dlog4j.configuration=file:{home / 'log4j.properties'}",
                        "-jar",
                        str(ACTIVEMQ),
                        "start",
                        f"xbean:file:{home / 'activemq.xml'}",
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    text=True,
                )
            started[name] = broker = Broker(name, port, home, process)
            if name == "a":
                wait_for(broker.serving, 60, "broker a to take the store's lock and listen")
            else:
                wait_for(broker.waiting_for_lock, 60, "broker b to start and wait for the store's lock")
        yield started
    finally:
        for broker in started.values():
            kill(broker.process)


HANDLED = ("RECV", "INDOUBT")  # the consumer's handler ran and it tried to commit


@dataclass
class Outcome:
    """What FailoverCheck reported (see its header for each kind of line), by message number ``n``."""

    lines: list[str]
    events: dict[int, list[str]] = field(default_factory=dict)  # n -> its kinds, in order
    details: dict[int, list[str]] = field(default_factory=dict)  # n -> its lines, in order
    done: bool = False
    standby_took_over: bool = False
    # Transactions whose commit reached the broker that was killed (its "Committing transaction" lines)
    committed_by_dead_broker: set[str] = field(default_factory=set)

    @classmethod
    def parse(cls, lines: list[str]) -> Outcome:
        outcome = cls(lines)
        for line in lines:
            kind, _, rest = line.partition(" ")
            if kind == "DONE":
                outcome.done = True
            elif rest:
                n = int(rest.split(" ", 1)[0])
                outcome.events.setdefault(n, []).append(kind)
                outcome.details.setdefault(n, []).append(line)
        return outcome

    def having(self, kind: str) -> list[int]:
        return sorted(n for n, kinds in self.events.items() if kind in kinds)

    @property
    def sent(self) -> list[int]:
        """Acknowledged to the sender: its send returned."""
        return self.having("SENT")

    @property
    def not_acknowledged(self) -> list[int]:
        """Its send threw: the sender knows, and must resend. Not a loss."""
        return self.having("UNACKED")

    def handled(self, n: int) -> list[str]:
        """How each delivery of ``n`` to the consumer ended (RECV or INDOUBT), in order."""
        return [kind for kind in self.events.get(n, []) if kind in HANDLED]

    def in_doubt_transaction(self, n: int) -> str:
        """The transaction of ``n``'s last in-doubt commit ("... Forcing rollback of TX:...")."""
        last = [line for line in self.details[n] if line.startswith("INDOUBT ")][-1]
        return last.rsplit(" ", 1)[-1]

    @property
    def consumed_in_doubt(self) -> list[int]:
        """Last handled with a commit in doubt, never seen again, and the dead broker had that commit."""
        elsewhere = set(self.dead_lettered) | set(self.left)
        return [
            n
            for n in self.having("INDOUBT")
            if self.handled(n)[-1] == "INDOUBT"
            and n not in elsewhere
            and self.in_doubt_transaction(n) in self.committed_by_dead_broker
        ]

    @property
    def redelivered_after_doubt(self) -> list[int]:
        """Handled again after an in-doubt commit that had not taken effect: a duplicate ActiveMQ announced."""
        return [n for n in self.having("INDOUBT") if "INDOUBT" in self.handled(n)[:-1]]

    @property
    def lost(self) -> list[int]:
        """Acknowledged to the sender, yet neither committed (RECV, or an in-doubt commit the dead broker
        received) nor in ActiveMQ.DLQ nor left in the queue."""
        accounted = set(self.having("RECV")) | set(self.consumed_in_doubt)
        return sorted(set(self.sent) - accounted - set(self.dead_lettered) - set(self.left))

    @property
    def dead_lettered(self) -> list[int]:
        return self.having("DLQ")

    @property
    def left(self) -> list[int]:
        """Still in the queue at the end: not lost, but never delivered in time."""
        return self.having("LEFT")

    @property
    def duplicates(self) -> list[int]:
        """Handled again after a successful commit: a duplicate nothing explains."""
        return [n for n in sorted(self.events) if "RECV" in self.handled(n)[:-1]]

    def last_seen(self, n: int) -> str:
        """Every client line about message ``n``, in order: where it was last seen."""
        return "; ".join(self.details.get(n, [])) or "never reported by the client"

    def figures(self) -> dict[str, list[int]]:
        """Each outcome and the message numbers it happened to."""
        return {
            "acknowledged": self.sent,
            "not acknowledged": self.not_acknowledged,
            "received": self.having("RECV"),
            "lost": self.lost,
            "duplicates": self.duplicates,
            "consumed by an in-doubt commit": self.consumed_in_doubt,
            "redelivered after an in-doubt commit": self.redelivered_after_doubt,
            "rolled back and redelivered": self.having("ROLLEDBACK"),
            "dead-lettered": self.dead_lettered,
            "left in the queue": self.left,
        }

    def summary(self) -> str:
        """Counts, and the message numbers wherever there are only a few."""
        return ", ".join(
            f"{key} {len(numbers)}" + (f" {numbers}" if 0 < len(numbers) <= 5 else "")
            for key, numbers in self.figures().items()
        )


def run_client(url: str, classpath: str, workdir: Path, on_line: Callable[[str], None]) -> Outcome:
    """Run FailoverCheck to its end; ``on_line`` sees each stdout line as it comes."""
    with (workdir / "client.log").open("w") as log:
        client = subprocess.Popen(
            [
                *("timeout", "--signal=KILL", str(RUN_LIMIT)),
                "java",
                "-Dorg.slf4j.simpleLogger.showDateTime=true",
                "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss,SSS",
                "-cp",
                classpath,
                "FailoverCheck",
                url,
                QUEUE,
                str(MESSAGES),
                str(CLIENT_DEADLINE),
            ],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            start_new_session=True,
        )
        try:
            lines: list[str] = []
            assert client.stdout is not None
            for raw in client.stdout:
                line = raw.strip()
                lines.append(line)
                on_line(line)
            client.wait(timeout=30)
        finally:
            kill(client)
    (workdir / "client.out").write_text("\n".join(lines) + "\n")
    if client.returncode != 0:
        raise AssertionError(f"FailoverCheck exited {client.returncode}; see {workdir / 'client.log'}")
    return Outcome.parse(lines)


def run_once(workdir: Path, classpath: str) -> tuple[Outcome, dict[str, Broker]]:
    """One failover run in ``workdir`` (which keeps the broker and client logs)."""
    with shared_store_brokers(workdir) as brokers:
        active, standby = brokers["a"], brokers["b"]
        assert not listening(standby.port), "the standby must wait for the store's lock, not serve"
        url = f"failover:(tcp://127.0.0.1:{active.port},tcp://127.0.0.1:{standby.port})"

        def kill_active_at(line: str) -> None:
            if line.split(" ")[:2] == ["SENT", str(KILL_AFTER)]:
                kill(active.process)  # the active broker dies mid-stream

        outcome = run_client(url, classpath, workdir, kill_active_at)
        outcome.standby_took_over = listening(standby.port)
        outcome.committed_by_dead_broker = set(re.findall(r"Committing transaction: (\S+)", active.log.read_text()))
    return outcome, brokers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", type=int, help="how many failover runs, one after the other")
    parser.add_argument("--keep", type=Path, help="keep each run's logs under this directory")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that a killed soak still stops its brokers
    if missing := missing_tools():
        print(f"missing: {missing}; run scripts/install-system-deps.sh (make system-deps)", file=sys.stderr)
        return 2
    root = args.keep or Path(tempfile.mkdtemp(prefix="soak-failover-"))
    root.mkdir(parents=True, exist_ok=True)
    classpath = compile_client(root / "classes")
    totals: collections.Counter[str] = collections.Counter()
    for run in range(1, args.runs + 1):
        workdir = root / f"run-{run:03d}"
        started = time.monotonic()
        try:
            outcome, _ = run_once(workdir, classpath)
            assert outcome.done, f"FailoverCheck did not finish; see {workdir / 'client.out'}"
            assert outcome.standby_took_over, f"the standby did not take over; see {workdir / 'b' / 'broker.log'}"
        except AssertionError as error:
            totals["failed"] += 1
            print(f"run {run}: FAILED {error}", flush=True)
            continue
        for key, numbers in outcome.figures().items():
            totals[key] += len(numbers)
        totals["runs with a loss"] += bool(outcome.lost)
        print(f"run {run}: {outcome.summary()} ({time.monotonic() - started:.0f} s) {workdir}", flush=True)
        for n in outcome.lost:
            print(f"  lost {n}: {outcome.last_seen(n)}", flush=True)
    print(f"{args.runs} runs: " + ", ".join(f"{key} {count}" for key, count in totals.items()) + f"; logs in {root}")
    return 1 if any(totals[key] for key in ("lost", "duplicates", "left in the queue", "failed")) else 0


if __name__ == "__main__":
    sys.exit(main())
