"""The README's per-pattern tables describe the code as it is: one row per constructor prop, no stale rows."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from decoupling_constructs import (
    FanOut,
    MessageBroker,
    QueueFunction,
    QueueWorkers,
    ReliableQueue,
    StreamFunction,
    StreamToS3,
)
from decoupling_constructs.capacity import describe
from decoupling_constructs.queue import DEFAULT_OLDEST_MESSAGE_AGE_ALARM

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def table_rows(section: str, header: str) -> list[str]:
    """The first column of the table headed ``| <header> |`` in the README's ``## <section>``."""
    body = README.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    table = body.split(f"| {header} |", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^\| `(\w+)` \|", table, flags=re.MULTILINE)


def table_props(section: str) -> set[str]:
    return set(table_rows(section, "prop"))


def constructor_props(construct: type) -> set[str]:
    parameters = inspect.signature(construct.__init__).parameters.values()
    return {p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY}


@pytest.mark.parametrize(
    ("section", "construct"),
    [
        ("ReliableQueue", ReliableQueue),
        ("FanOut", FanOut),
        ("StreamToS3", StreamToS3),
        ("MessageBroker", MessageBroker),
        ("QueueFunction", QueueFunction),
        ("QueueWorkers", QueueWorkers),
        ("StreamFunction", StreamFunction),
    ],
)
def test_readme_table_lists_exactly_the_props(section: str, construct: type) -> None:
    assert table_props(section) == constructor_props(construct)


def test_readme_defaults_match_the_signature() -> None:
    signature = inspect.signature(ReliableQueue.__init__).parameters
    assert signature["receive_message_wait_time"].default.to_seconds() == 20
    assert "| `receive_message_wait_time` | 20 s |" in README
    assert signature["visibility_timeout"].default.to_seconds() == 30
    assert "| `visibility_timeout` | 30 s |" in README
    assert signature["retention_period"].default.to_days() == 4
    assert "| `retention_period` | 4 days |" in README
    assert signature["max_receive_count"].default == 5
    assert "| `max_receive_count` | 5 |" in README
    assert DEFAULT_OLDEST_MESSAGE_AGE_ALARM.to_minutes() == 15
    assert "| `oldest_message_age` | `ApproximateAgeOfOldestMessage` (max, 1 min) | >= 15 minutes" in README


@pytest.mark.parametrize(
    "construct",
    [ReliableQueue, FanOut, StreamToS3, MessageBroker, QueueFunction, QueueWorkers, StreamFunction],
    ids=lambda c: c.__name__,
)
def test_readme_alarm_table_lists_exactly_the_alarm_keys(construct: type) -> None:
    assert tuple(table_rows(construct.__name__, "alarm key")) == construct.ALARM_KEYS


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((0.95, 5000), {}), ((3.0, 2000), {"consumers": 4}), ((3.0, 2000), {"consumers": 4, "enhanced_fan_out": True})],
)
def test_readme_sizing_examples_are_what_the_planner_says(args: tuple, kwargs: dict) -> None:
    assert f"# {describe(*args, **kwargs)}\n" in README


@pytest.mark.parametrize("example", ["queue_function_handler.py", "stream_function_handler.py"])
def test_readme_shows_the_function_handlers_that_are_tested_and_deployed(example: str) -> None:
    handler = (Path(__file__).resolve().parents[2] / "examples" / example).read_text()
    assert f"```python\n{handler}```\n" in README


def test_readme_consumer_table_has_a_row_per_consumer_kind() -> None:
    body = README.split("## Which consumer\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([\w.]+)` \|", body, flags=re.MULTILINE)
    assert rows == [
        "QueueFunction",
        "StreamFunction",
        "FanOut.add_function",
        "FanOut.add_delivery_stream",
        "QueueWorkers",
    ]


def test_readme_counts_the_bad_input_rows() -> None:
    from tests.unit.test_bad_inputs import ROWS

    assert f"holds one row per bad input ({len(ROWS)} rows)" in README
