"""The reference Flink job's application properties, as constants: the property groups ``main.py`` reads from
``/etc/flink/application_properties.json`` and the run options Managed Service for Apache Flink needs to start it.
The StreamProcessor construct renders these into ``ApplicationConfiguration.EnvironmentProperties.PropertyGroups``;
this module imports nothing (no pyflink), so the construct side can import the names.

Property groups the job reads (each ``PropertyGroupId`` -> keys of its ``PropertyMap``):

- ``SourceStream``: the Kinesis data stream the job reads (a StreamToS3's stream in the reference stack)

  - ``stream.arn`` (required): the stream's ARN
  - ``aws.region`` (required): its Region
  - ``source.init.position`` (optional, default ``LATEST``): where a first start begins reading, ``LATEST`` or
    ``TRIM_HORIZON`` (a restart from a snapshot resumes where the snapshot was taken)

- ``Sink``: the Kinesis data stream the per-window counts go to

  - ``stream.arn`` (required), ``aws.region`` (required)

The keys are the Kinesis SQL connector's own option names (``stream.arn``, ``aws.region``,
``source.init.position``: flink-connector-aws 5.x, "Amazon Kinesis Data Streams SQL Connector"), passed to it as
they are.

Run options (``kinesis.analytics.flink.run.options``; AWS, "Create your Managed Service for Apache Flink Python
application": ``python``, ``jarfile``, ``pyFiles`` and ``pyArchives`` are the file types it accepts; ``pyModule``,
``pyExecutable`` and ``pyRequirements`` are not supported):

- ``python``: ``main.py``, the entry point, at the root of the application's zip
- ``pyFiles``: ``logic.py,properties.py``, the modules ``main.py`` imports (Flink puts them on the Python path)
- ``jarfile``: ``lib/flink-sql-connector-aws-kinesis-streams.jar``, the Kinesis SQL connector, which the user
  adds to the zip (a Maven artifact: see docs/stream-processor-job.md)
"""

from __future__ import annotations

from typing import Final

APPLICATION_PROPERTIES_PATH: Final = "/etc/flink/application_properties.json"
"""Where Managed Service for Apache Flink writes the application's property groups for the job to read."""

SOURCE_GROUP: Final = "SourceStream"
SINK_GROUP: Final = "Sink"

STREAM_ARN: Final = "stream.arn"
REGION: Final = "aws.region"
INITIAL_POSITION: Final = "source.init.position"

INITIAL_POSITIONS: Final = ("LATEST", "TRIM_HORIZON")
"""The initial positions the job accepts (the connector's ``AT_TIMESTAMP`` needs a timestamp option: not offered)."""
DEFAULT_INITIAL_POSITION: Final = "LATEST"

REQUIRED_KEYS: Final = {SOURCE_GROUP: (STREAM_ARN, REGION), SINK_GROUP: (STREAM_ARN, REGION)}
"""Every group the job reads, with the keys it must find there."""

RUN_OPTIONS_GROUP: Final = "kinesis.analytics.flink.run.options"
ENTRY_POINT: Final = "main.py"
PY_FILES: Final = ("logic.py", "properties.py")
CONNECTOR_JAR: Final = "lib/flink-sql-connector-aws-kinesis-streams.jar"
"""Where the job expects the Kinesis SQL connector in its zip (the user puts it there; it is not in this repository)."""
CONNECTOR_ARTIFACT: Final = "org.apache.flink:flink-sql-connector-aws-kinesis-streams"
"""The connector's Maven coordinates (without the version: take the one built for Flink 1.20, ``5.x-1.20``)."""

RUN_OPTIONS: Final = {"python": ENTRY_POINT, "pyFiles": ",".join(PY_FILES), "jarfile": CONNECTOR_JAR}
"""The ``kinesis.analytics.flink.run.options`` property map for this job's zip."""
