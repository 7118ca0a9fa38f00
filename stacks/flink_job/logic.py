"""The reference Flink job's transformation, apart from its connectors: clicks per user per minute.

The input is the demo's clickstream (``stacks/demo/clicks.py``): one JSON object per Kinesis record,
``{"run", "user", "click", "at"}``, ``at`` in epoch milliseconds. The job counts each user's clicks in tumbling
one-minute windows of event time (``at``), with watermarks that allow records up to 5 s out of order; a window's
count is emitted once, when the watermark passes its end (a record later than that is dropped, as Flink does).
Records without ``user`` or ``at``, and records that are not JSON, are skipped, not fatal.
The output is one row per (user, window): ``user``, ``window_start``, ``window_end`` (UTC), ``clicks``.

``clicks_per_user`` takes the source table and returns the result table; ``main.py`` (the deployed entry point)
gives it a table on the Kinesis source and inserts the result into a Kinesis sink, and tests/flink give it a table
on a file of the demo's records and collect the result in PyFlink's local mini-cluster. ``CLICK_COLUMNS`` (the
schema, event time and watermark) is shared the same way, so both run the same SQL apart from the ``WITH`` options.
"""

from __future__ import annotations

from collections.abc import Mapping

from pyflink.table import Table, TableEnvironment
from pyflink.table.expressions import col, lit
from pyflink.table.window import Tumble

WINDOW_SECONDS = 60
OUT_OF_ORDERNESS_SECONDS = 5
TIME_ZONE = "UTC"
"""The session time zone: window_start and window_end are UTC wall-clock times whatever the machine's zone."""

CLICK_COLUMNS = f"""
    `run` STRING,
    `user` STRING,
    `click` BIGINT,
    `at` BIGINT,
    `event_time` AS TO_TIMESTAMP_LTZ(COALESCE(`at`, 0), 3),
    WATERMARK FOR `event_time` AS `event_time` - INTERVAL '{OUT_OF_ORDERNESS_SECONDS}' SECOND
"""
"""The source table's columns: the record's fields, its event time and the watermark. A record without ``at`` gets
event time 0 instead of none: Flink stops the job on a null event time ("RowTime field should not be null"), which
on Managed Flink would be a restart loop on one bad record; ``clicks_per_user`` drops such records."""

JSON_FORMAT = {"format": "json", "json.ignore-parse-errors": "true"}
"""The source's format options: a record that is not JSON becomes a row of nulls (dropped), not a failed job."""

COUNT_COLUMNS = """
    `user` STRING,
    `window_start` TIMESTAMP(3),
    `window_end` TIMESTAMP(3),
    `clicks` BIGINT
"""
"""The result's columns (what ``clicks_per_user`` returns, and the sink table's schema)."""


def configure(t_env: TableEnvironment) -> None:
    """The session settings the job's results depend on."""
    t_env.get_config().set("table.local-time-zone", TIME_ZONE)


def create_table_sql(name: str, columns: str, options: Mapping[str, str], partitioned_by: str | None = None) -> str:
    """``CREATE TABLE`` for ``name`` with ``columns`` and the connector ``options`` (each value quoted as a SQL
    string literal)."""
    quoted = ",\n    ".join(f"'{key}' = '{value.replace(chr(39), chr(39) * 2)}'" for key, value in options.items())
    partition = f"PARTITIONED BY (`{partitioned_by}`)\n" if partitioned_by else ""
    return f"CREATE TABLE `{name}` ({columns})\n{partition}WITH (\n    {quoted}\n)"


def clicks_per_user(clicks: Table) -> Table:
    """Each user's clicks per tumbling window of event time: the job's whole transformation. Records without a
    ``user`` or an ``at`` (or not JSON) are not counted."""
    window = Tumble.over(lit(WINDOW_SECONDS).seconds).on(col("event_time")).alias("w")
    return (
        clicks.where(col("user").is_not_null & col("at").is_not_null)
        .window(window)
        .group_by(col("user"), col("w"))
        .select(
            col("user"),
            col("w").start.alias("window_start"),
            col("w").end.alias("window_end"),
            col("click").count.alias("clicks"),
        )
    )
