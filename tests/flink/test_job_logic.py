"""The reference Flink job's logic, run for real: ``logic.clicks_per_user`` in PyFlink's local mini-cluster
(apache-flink 1.20, the Flink of the Managed Flink runtime FLINK-1_20) on the bytes the demo puts on the
clickstream, and the entry point's configuration from an application properties file.

What runs here: the job's SQL (schema, event time, watermark, tumbling window, count) on a bounded source, a file of
the demo's records, one JSON object per line as each Kinesis record holds one. What does not: the Kinesis source and
sink (the Maven connector is not reachable here and not in the apache-flink wheel); the last test shows that
planning the deployed pipeline fails for exactly that reason, after the entry point has wired the properties in.

Determinism: event time comes from each record's ``at``, and a bounded source ends with the final watermark, which
fires every window; records out of order by less than the 5 s allowance are never late, whenever Flink emits its
periodic watermarks. No sleeps, no timing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import logic
import main
import properties as p
import pytest
from py4j.protocol import Py4JJavaError
from pyflink.table import EnvironmentSettings, TableEnvironment

from .conftest import JOB_DIR, load_demo_clicks

clicks = load_demo_clicks()

RUN = "flink-test"
START = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)  # on a minute boundary: the first window starts here
START_MS = int(START.timestamp() * 1000)
DEMO_RECORDS = 1000  # the demo's stream scenario sends 1000 by default (--records)


def minute(n: int) -> datetime:
    """The start of the n-th one-minute window after START, as the job reports it (UTC, naive)."""
    return (START + timedelta(minutes=n)).replace(tzinfo=None)


def demo_records(count: int, step_ms: int) -> list[bytes]:
    """The demo's clicks 0 .. count-1, the i-th made at START + i * step_ms."""
    return [clicks.click(RUN, i, at_ms=START_MS + i * step_ms)[1] for i in range(count)]


def local_env() -> TableEnvironment:
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    logic.configure(t_env)
    t_env.get_config().set("parallelism.default", "1")  # 2 shared cores; the results do not depend on it
    return t_env


def run_logic(records: list[bytes], tmp_path: Path) -> list[tuple[str, datetime, datetime, int]]:
    """``logic.clicks_per_user`` on ``records`` (a file of them, one per line, in this order), its rows sorted."""
    source = tmp_path / "clicks.json"
    source.write_bytes(b"".join(record + b"\n" for record in records))
    t_env = local_env()
    options = {"connector": "filesystem", "path": str(source), **logic.JSON_FORMAT}
    t_env.execute_sql(logic.create_table_sql("clicks", logic.CLICK_COLUMNS, options))
    with logic.clicks_per_user(t_env.from_path("clicks")).execute().collect() as rows:
        return sorted((row[0], row[1], row[2], row[3]) for row in rows)


# The demo's 1000 clicks 100 ms apart span 100 s: clicks 0-599 fall in the first minute (6 per user, 100 users),
# 600-999 in the second (4 per user).
USERS = [f"user-{u}" for u in range(clicks.USERS)]
DEMO_COUNTS = sorted(
    [(user, minute(0), minute(1), 6) for user in USERS] + [(user, minute(1), minute(2), 4) for user in USERS]
)


def test_the_demo_records_are_counted_per_user_per_minute(tmp_path: Path) -> None:
    assert run_logic(demo_records(DEMO_RECORDS, step_ms=100), tmp_path) == DEMO_COUNTS


def test_records_out_of_order_within_the_allowance_count_where_their_time_says(tmp_path: Path) -> None:
    # The same clicks, each block of 40 (4 s) reversed: never more than the 5 s allowance behind the newest seen.
    records = demo_records(DEMO_RECORDS, step_ms=100)
    shuffled = [record for start in range(0, len(records), 40) for record in reversed(records[start : start + 40])]
    assert shuffled != records
    assert run_logic(shuffled, tmp_path) == DEMO_COUNTS


def test_records_it_cannot_count_are_skipped_and_do_not_stop_the_job(tmp_path: Path) -> None:
    # Without event time, without user, not JSON: one of each first (before any watermark) and among the clicks.
    bad = [
        b"not json",
        b'{"run": "x", "user": "user-0", "click": -1}',
        b'{"run": "x", "click": -2, "at": %d}' % START_MS,
    ]
    records = demo_records(DEMO_RECORDS, step_ms=100)
    assert run_logic([*bad, *records[:500], *bad, *records[500:], *bad], tmp_path) == DEMO_COUNTS


def test_a_window_holds_its_start_and_not_its_end(tmp_path: Path) -> None:
    # user-0's clicks at 08:00:59.999 and 08:01:00.000, user-1's at 08:00:00.000 and 08:01:59.999.
    records = [
        clicks.click(RUN, 0, at_ms=START_MS + 59_999)[1],
        clicks.click(RUN, 1, at_ms=START_MS)[1],
        clicks.click(RUN, 100, at_ms=START_MS + 60_000)[1],
        clicks.click(RUN, 101, at_ms=START_MS + 119_999)[1],
    ]
    assert run_logic(records, tmp_path) == [
        ("user-0", minute(0), minute(1), 1),
        ("user-0", minute(1), minute(2), 1),
        ("user-1", minute(0), minute(1), 1),
        ("user-1", minute(1), minute(2), 1),
    ]


# --- the entry point's configuration (no job runs) -----------------------------------------------------------

SOURCE_ARN = "arn:aws:kinesis:eu-west-1:111111111111:stream/clickstream"
SINK_ARN = "arn:aws:kinesis:eu-west-1:111111111111:stream/click-counts"


def application_properties(tmp_path: Path, groups: dict[str, dict[str, str]]) -> Path:
    """A file as Managed Flink writes /etc/flink/application_properties.json: a list of property groups."""
    path = tmp_path / "application_properties.json"
    path.write_text(json.dumps([{"PropertyGroupId": g, "PropertyMap": m} for g, m in groups.items()]))
    return path


def valid_groups() -> dict[str, dict[str, str]]:
    return {
        p.RUN_OPTIONS_GROUP: dict(p.RUN_OPTIONS),
        p.SOURCE_GROUP: {p.STREAM_ARN: SOURCE_ARN, p.REGION: "eu-west-1", p.INITIAL_POSITION: "TRIM_HORIZON"},
        p.SINK_GROUP: {p.STREAM_ARN: SINK_ARN, p.REGION: "eu-west-1"},
    }


def test_the_entry_point_reads_its_property_groups(tmp_path: Path) -> None:
    settings = main.read_settings(application_properties(tmp_path, valid_groups()))
    assert settings == main.Settings(
        source_stream_arn=SOURCE_ARN,
        source_region="eu-west-1",
        initial_position="TRIM_HORIZON",
        sink_stream_arn=SINK_ARN,
        sink_region="eu-west-1",
    )


def test_the_initial_position_defaults_to_latest(tmp_path: Path) -> None:
    groups = valid_groups()
    del groups[p.SOURCE_GROUP][p.INITIAL_POSITION]
    assert main.read_settings(application_properties(tmp_path, groups)).initial_position == "LATEST"


def test_the_entry_point_reads_the_file_managed_flink_writes_by_default() -> None:
    assert main.read_settings.__defaults__ == ("/etc/flink/application_properties.json",)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda g: g.pop(p.SINK_GROUP), "no property group 'Sink'"),
        (lambda g: g[p.SOURCE_GROUP].pop(p.STREAM_ARN), "property group 'SourceStream' has no 'stream.arn'"),
        (lambda g: g[p.SINK_GROUP].update({p.REGION: ""}), "property group 'Sink' has no 'aws.region'"),
        (
            lambda g: g[p.SOURCE_GROUP].update({p.INITIAL_POSITION: "AT_TIMESTAMP"}),
            "'source.init.position' is 'AT_TIMESTAMP'; allowed: LATEST, TRIM_HORIZON",
        ),
    ],
    ids=["no-sink-group", "no-source-arn", "empty-sink-region", "unsupported-position"],
)
def test_a_missing_or_wrong_property_is_an_error_naming_it(
    tmp_path: Path, change: Callable[[dict[str, dict[str, str]]], object], message: str
) -> None:
    groups = valid_groups()
    change(groups)
    path = application_properties(tmp_path, groups)
    with pytest.raises(ValueError, match="^" + str(path).replace(".", r"\.")) as raised:
        main.read_settings(path)
    assert message in str(raised.value)


def test_the_docs_sample_is_a_complete_configuration_with_the_job_s_run_options() -> None:
    path = JOB_DIR.parents[1] / "examples" / "flink_application_properties.json"
    settings = main.read_settings(path)
    assert (settings.source_stream_arn, settings.sink_stream_arn) == (SOURCE_ARN, SINK_ARN)
    groups = {group["PropertyGroupId"]: group["PropertyMap"] for group in json.loads(path.read_text())}
    assert groups[p.RUN_OPTIONS_GROUP] == p.RUN_OPTIONS


def test_the_run_options_name_files_of_the_job_directory() -> None:
    assert (JOB_DIR / p.ENTRY_POINT).is_file()
    assert all((JOB_DIR / name).is_file() for name in p.PY_FILES)
    # The connector jar is the user's to add (docs/stream-processor-job.md): it is not in the repository.
    assert not (JOB_DIR / p.CONNECTOR_JAR).exists()


def test_the_entry_point_wires_the_properties_into_the_kinesis_tables_which_only_the_connector_jar_can_plan(
    tmp_path: Path,
) -> None:
    t_env = local_env()
    counts = main.define(t_env, main.read_settings(application_properties(tmp_path, valid_groups())))
    source = t_env.execute_sql(f"SHOW CREATE TABLE {main.SOURCE_TABLE}").collect()
    with source as rows:
        source_ddl = next(iter(rows))[0]
    with t_env.execute_sql(f"SHOW CREATE TABLE {main.SINK_TABLE}").collect() as rows:
        sink_ddl = next(iter(rows))[0]
    for option in (
        "'connector' = 'kinesis'",
        f"'stream.arn' = '{SOURCE_ARN}'",
        "'source.init.position' = 'TRIM_HORIZON'",
    ):
        assert option in source_ddl
    for option in ("'connector' = 'kinesis'", f"'stream.arn' = '{SINK_ARN}'", "PARTITIONED BY (`user`)"):
        assert option in sink_ddl
    assert "WATERMARK FOR `event_time`" in source_ddl
    assert "'json.ignore-parse-errors' = 'true'" in source_ddl
    # Planning the deployed pipeline needs the Kinesis table connector, which is not in the apache-flink wheel.
    with pytest.raises(Py4JJavaError, match="Could not find any factory for identifier 'kinesis'"):
        counts.explain()
