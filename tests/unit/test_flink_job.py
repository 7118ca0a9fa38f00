"""The reference Flink job's contract with the rest of the repository, checked in .venv (no PyFlink needed; its logic
runs in tests/flink, make test-flink): its property names import without pyflink, as the construct that deploys it
imports them, and docs/stream-processor-job.md states them, its sample and the pinned PyFlink as they are."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from stacks.flink_job import properties as p

ROOT = Path(__file__).resolve().parents[2]
PAGE = (ROOT / "docs" / "stream-processor-job.md").read_text()
SAMPLE = ROOT / "examples" / "flink_application_properties.json"


def test_the_property_names_import_without_pyflink() -> None:
    assert "pyflink" not in sys.modules
    assert p.RUN_OPTIONS == {
        "python": "main.py",
        "pyFiles": "logic.py,properties.py",
        "jarfile": "lib/flink-sql-connector-aws-kinesis-streams.jar",
    }


def test_the_page_s_configuration_table_lists_exactly_the_job_s_groups_and_keys() -> None:
    table = PAGE.split("| group | key | required | value |", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^\| `([\w.]+)` \| `([\w.]+)` \| (yes|no) \|", table, flags=re.MULTILINE)
    required = {(group, key) for group, keys in p.REQUIRED_KEYS.items() for key in keys}
    assert {(group, key) for group, key, need in rows if need == "yes"} == required
    assert {(group, key) for group, key, need in rows if need == "no"} == {(p.SOURCE_GROUP, p.INITIAL_POSITION)}
    assert f"| `{p.RUN_OPTIONS_GROUP}` | `python`, `pyFiles`, `jarfile` | yes |" in table


def test_the_page_shows_the_sample_file_as_it_is() -> None:
    link = f"[`examples/{SAMPLE.name}`](../examples/{SAMPLE.name}):\n\n```json\n"
    assert link in PAGE
    assert PAGE.split(link, 1)[1].split("```", 1)[0] == SAMPLE.read_text()


def test_the_page_states_the_pinned_pyflink() -> None:
    pins = dict(re.findall(r"^([\w-]+)==(\S+)$", (ROOT / "requirements-flink.txt").read_text(), flags=re.MULTILINE))
    assert set(re.findall(r"apache-flink (\d+\.\d+\.\d+)", PAGE)) == {pins["apache-flink"]}
