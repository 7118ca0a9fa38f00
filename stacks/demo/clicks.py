"""The clickstream records the demo's ``stream`` scenario puts on DecouplingStreamToS3's stream, defined once: the
scenario sends them, and the reference Flink job's tests (tests/flink) run the job's logic on the same bytes.

Standard library only, and importing nothing of the demo: tests/flink load this file by its path in the PyFlink
venv, which has neither aws-cdk-lib nor the demo's dependencies (importing ``stacks.demo`` would need both).
"""

from __future__ import annotations

import json

USERS = 100
"""The scenario's partition keys: ``user-0`` ... ``user-99``, each record's ``user`` field as well."""


def click(run: str, index: int, at_ms: int) -> tuple[str, bytes]:
    """The ``index``-th click of a demo run: (partition key, data). The data is one JSON object,
    ``{"run", "user", "click", "at"}``; ``user`` is also the partition key (a Flink SQL source sees only the data,
    not the key), ``at`` the time the click was made, in epoch milliseconds (the Flink job's event time)."""
    user = f"user-{index % USERS}"
    return user, json.dumps({"run": run, "user": user, "click": index, "at": at_ms}).encode()
