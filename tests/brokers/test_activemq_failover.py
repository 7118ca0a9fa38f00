"""What MessageBroker's ActiveMQ active/standby promises, checked on real brokers.

Amazon MQ's active/standby runs two ActiveMQ brokers on one shared store: whoever holds
the store's lock is active and listens; the other waits for the lock. Here two brokers
from Debian's ``activemq`` package share one KahaDB directory on 127.0.0.1, and a JMS
client connects with a ``failover:`` URL of exactly the shape ``MessageBroker.connection_url``
produces (read from the reference stack deployed in moto), with the endpoints swapped for
the local ones and ``ssl://`` for ``tcp://`` (TLS is Amazon MQ's, not under test here).
The active broker is killed (SIGKILL) right after the 100th of 300 persistent messages was
acknowledged to the sender; every acknowledged message must then be handled by the consumer
and none handled again after a successful commit.

A commit on the wire when the broker dies is in doubt: ActiveMQ's client throws
``TransactionRolledBackException`` ("Transaction completion in doubt due to failover")
although the dead broker may already have committed it. Then the message was consumed by
that handling and never comes back (the check once called this "lost: [100]"); otherwise
it comes back and is handled again, a duplicate ActiveMQ announced. Both are counted
(``tests/brokers/failover.py``); the first only when the dead broker's log shows it
received that commit. What ``ActiveMQ.DLQ`` holds is drained and counted, and what is left
in the queue is reported. ``scripts/soak-failover.sh N`` repeats the run.

``scripts/install-system-deps.sh`` (run by ``make test``) installs ActiveMQ and a JDK.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from decoupling_constructs.testing import deploy_to_moto
from tests.brokers.failover import KILL_AFTER, MESSAGES, Outcome, compile_client, missing_tools, run_once


@pytest.fixture(scope="module")
def client_classpath(tmp_path_factory: pytest.TempPathFactory) -> str:
    missing = missing_tools()
    assert not missing, f"ActiveMQ or a JDK is missing ({missing}); run scripts/install-system-deps.sh (make test does)"
    return compile_client(tmp_path_factory.mktemp("classes"))


@pytest.fixture(scope="module")
def failover_url_shape(reference_stacks) -> list[str]:
    """The endpoints of the URL MessageBroker builds for the reference active/standby broker."""
    from moto import mock_aws

    with mock_aws():
        url = deploy_to_moto(reference_stacks["DecouplingMessageBroker"]).outputs["ActiveMqConnectionUrl"]
    match = re.fullmatch(r"failover:\((.+)\)", url)
    assert match, url
    return match.group(1).split(",")


def explain(outcome: Outcome, numbers: list[int], workdir: Path) -> str:
    where = "\n".join(f"  {n}: {outcome.last_seen(n)}" for n in numbers)
    return f"{outcome.summary()}\nwhere each was last seen:\n{where}\nbroker and client logs: {workdir}"


def test_active_standby_failover_loses_and_duplicates_nothing(
    client_classpath: str, failover_url_shape: list[str], tmp_path: Path
) -> None:
    assert len(failover_url_shape) == 2 and all(e.startswith("ssl://") for e in failover_url_shape)

    outcome, brokers = run_once(tmp_path, client_classpath)

    assert outcome.done, explain(outcome, [], tmp_path)
    assert outcome.standby_took_over, f"the standby did not take over the store and listen; see {brokers['b'].log}"
    assert outcome.sent[:KILL_AFTER] == list(range(1, KILL_AFTER + 1)), "sends before the failover were acknowledged"
    assert set(outcome.sent) | set(outcome.not_acknowledged) == set(range(1, MESSAGES + 1)), "every send ended"
    assert outcome.lost == [], "lost:\n" + explain(outcome, outcome.lost, tmp_path)
    assert outcome.left == [], "never delivered, still in the queue:\n" + explain(outcome, outcome.left, tmp_path)
    assert outcome.duplicates == [], "handled again after a commit:\n" + explain(outcome, outcome.duplicates, tmp_path)
    assert len(outcome.redelivered_after_doubt) + len(outcome.consumed_in_doubt) <= 1, (
        "at most the one commit on the wire when the broker died is in doubt:\n"
        + explain(outcome, outcome.redelivered_after_doubt + outcome.consumed_in_doubt, tmp_path)
    )
