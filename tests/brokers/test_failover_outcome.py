"""How the failover check classifies what its JMS client reported (no broker needed).

The lines are of the kinds FailoverCheck.java prints; each case is one the real brokers produced
or one the check must catch.
"""

from __future__ import annotations

from tests.brokers.failover import Outcome

IN_DOUBT = "Transaction completion in doubt due to failover. Forcing rollback of TX:ID:c-1:1:100"


def parse(text: str) -> Outcome:
    return Outcome.parse([line.strip() for line in text.strip().splitlines()])


IN_DOUBT_ONCE = f"""
    SENT 99 ID:1
    RECV 99 ID:1
    SENT 100 ID:2
    INDOUBT 100 {IN_DOUBT}
    SENT 101 ID:3
    RECV 101 ID:3
    DONE
"""


def test_a_commit_in_doubt_that_the_dead_broker_made_is_consumed_not_lost() -> None:
    outcome = parse(IN_DOUBT_ONCE)
    outcome.committed_by_dead_broker = {"TX:ID:c-1:1:99", "TX:ID:c-1:1:100"}
    assert outcome.in_doubt_transaction(100) == "TX:ID:c-1:1:100"
    assert outcome.lost == []
    assert outcome.consumed_in_doubt == [100]
    assert outcome.redelivered_after_doubt == []
    assert outcome.duplicates == []
    assert outcome.done


def test_a_commit_in_doubt_the_dead_broker_never_saw_must_come_back_or_it_is_lost() -> None:
    outcome = parse(IN_DOUBT_ONCE)
    outcome.committed_by_dead_broker = {"TX:ID:c-1:1:99"}
    assert outcome.consumed_in_doubt == []
    assert outcome.lost == [100]


def test_a_commit_in_doubt_that_did_not_happen_is_redelivered_an_announced_duplicate() -> None:
    outcome = parse(f"""
        SENT 100 ID:2
        INDOUBT 100 {IN_DOUBT}
        RECV 100 ID:2
        DONE
    """)
    assert outcome.redelivered_after_doubt == [100]
    assert outcome.consumed_in_doubt == []
    assert outcome.duplicates == [] and outcome.lost == []


def test_handled_again_after_a_successful_commit_is_a_duplicate() -> None:
    outcome = parse(f"""
        SENT 7 ID:7
        RECV 7 ID:7
        RECV 7 ID:7
        SENT 8 ID:8
        RECV 8 ID:8
        INDOUBT 8 {IN_DOUBT}
    """)
    assert outcome.duplicates == [7, 8]


def test_acknowledged_and_never_handled_is_lost_and_says_where_it_was_last_seen() -> None:
    outcome = parse("""
        SENT 1 ID:1
        SENT 2 ID:2
        ROLLEDBACK 2 rolling back transaction post failover recovery
        RECV 1 ID:1
        DONE
    """)
    assert outcome.lost == [2]
    assert outcome.last_seen(2) == "SENT 2 ID:2; ROLLEDBACK 2 rolling back transaction post failover recovery"
    assert outcome.last_seen(3) == "never reported by the client"
    assert "lost 1 [2]" in outcome.summary()


def test_dead_lettered_left_and_unacknowledged_are_counted_apart_from_lost() -> None:
    outcome = parse("""
        SENT 1 ID:1
        DLQ 1 Suppressing duplicate delivery on connection
        SENT 2 ID:2
        LEFT 2 ID:2
        UNACKED 3 javax.jms.JMSException: timed out
        DONE
    """)
    assert outcome.lost == []
    assert outcome.dead_lettered == [1]
    assert outcome.left == [2]
    assert outcome.not_acknowledged == [3]
    assert outcome.sent == [1, 2]
