"""The reference Flink job's entry point on Amazon Managed Service for Apache Flink (runtime FLINK-1_20, PyFlink
1.20): reads the demo's clickstream from a Kinesis data stream, counts each user's clicks per minute
(``logic.clicks_per_user``) and writes the counts to another Kinesis data stream, partitioned by user.

Configuration: the property groups in ``/etc/flink/application_properties.json``, which Managed Flink writes from
the application's ``EnvironmentProperties`` (a list of ``{"PropertyGroupId", "PropertyMap"}``):

- ``SourceStream``: ``stream.arn``, ``aws.region`` (required), ``source.init.position`` (``LATEST``, the default,
  or ``TRIM_HORIZON``)
- ``Sink``: ``stream.arn``, ``aws.region`` (required)

Their names are constants in ``properties.py`` (no pyflink import), which the StreamProcessor construct renders.

The Kinesis source and sink are the ``kinesis`` table connector of the Maven artifact
``flink-sql-connector-aws-kinesis-streams`` (5.x, the build for Flink 1.20). It is not in the apache-flink wheel and
not in this repository (Maven is not reachable where this project is built and tested): the deployed application
needs it in its zip, at ``properties.CONNECTOR_JAR``, named by the run option ``jarfile``;
docs/stream-processor-job.md says how to add it. Without it the job fails at start with "Could not find any
factory for identifier 'kinesis'". The job's logic is tested locally without it (tests/flink).

Managed Flink runs this file with the run options of ``properties.RUN_OPTIONS``: ``python`` = this file,
``pyFiles`` = the sibling modules it imports.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import logic
import properties as p
from pyflink.table import EnvironmentSettings, Table, TableEnvironment

SOURCE_TABLE = "clicks"
SINK_TABLE = "click_counts"


@dataclass(frozen=True)
class Settings:
    """What the job reads from its property groups."""

    source_stream_arn: str
    source_region: str
    initial_position: str
    sink_stream_arn: str
    sink_region: str


def read_settings(path: str | Path = p.APPLICATION_PROPERTIES_PATH) -> Settings:
    """The job's settings from the application properties file at ``path``; a missing group or key, or an
    initial position the job does not accept, is a ValueError naming the file, the group and the key."""
    groups: dict[str, dict[str, str]] = {}
    for group in json.loads(Path(path).read_text()):
        groups[group["PropertyGroupId"]] = dict(group.get("PropertyMap", {}))
    for group_id, keys in p.REQUIRED_KEYS.items():
        if group_id not in groups:
            raise ValueError(f"{path}: no property group {group_id!r} (the job reads {sorted(p.REQUIRED_KEYS)})")
        for key in keys:
            if not groups[group_id].get(key):
                raise ValueError(f"{path}: property group {group_id!r} has no {key!r} (it needs {list(keys)})")
    source, sink = groups[p.SOURCE_GROUP], groups[p.SINK_GROUP]
    position = source.get(p.INITIAL_POSITION, p.DEFAULT_INITIAL_POSITION)
    if position not in p.INITIAL_POSITIONS:
        raise ValueError(
            f"{path}: property group {p.SOURCE_GROUP!r}: {p.INITIAL_POSITION!r} is {position!r}; "
            f"allowed: {', '.join(p.INITIAL_POSITIONS)}"
        )
    return Settings(
        source_stream_arn=source[p.STREAM_ARN],
        source_region=source[p.REGION],
        initial_position=position,
        sink_stream_arn=sink[p.STREAM_ARN],
        sink_region=sink[p.REGION],
    )


def source_options(settings: Settings) -> dict[str, str]:
    """The Kinesis table connector's options for the source (flink-connector-aws 5.x option names)."""
    return {
        "connector": "kinesis",
        p.STREAM_ARN: settings.source_stream_arn,
        p.REGION: settings.source_region,
        p.INITIAL_POSITION: settings.initial_position,
        **logic.JSON_FORMAT,
    }


def sink_options(settings: Settings) -> dict[str, str]:
    """The Kinesis table connector's options for the sink: JSON records, ISO-8601 timestamps."""
    return {
        "connector": "kinesis",
        p.STREAM_ARN: settings.sink_stream_arn,
        p.REGION: settings.sink_region,
        "format": "json",
        "json.timestamp-format.standard": "ISO-8601",
    }


def define(t_env: TableEnvironment, settings: Settings) -> Table:
    """Registers the source and sink tables and returns the counts to insert into the sink."""
    t_env.execute_sql(logic.create_table_sql(SOURCE_TABLE, logic.CLICK_COLUMNS, source_options(settings)))
    t_env.execute_sql(
        logic.create_table_sql(SINK_TABLE, logic.COUNT_COLUMNS, sink_options(settings), partitioned_by="user")
    )
    return logic.clicks_per_user(t_env.from_path(SOURCE_TABLE))


def main() -> None:
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    logic.configure(t_env)
    # Submits the job and returns: on Managed Flink the entry point must not wait for the (unbounded) job.
    define(t_env, read_settings()).execute_insert(SINK_TABLE)


if __name__ == "__main__":
    main()
