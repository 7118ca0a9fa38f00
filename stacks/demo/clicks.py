"""The clickstream records the demo's ``stream`` scenario puts on DecouplingStreamToS3's stream, defined once: the
scenario sends them, and the reference Flink job's tests (tests/flink) run the job's logic on the same bytes. And
the clicks the ``firehose-transform`` scenario and tests/behaviour/test_firehose_transform_behaviour.py send
through DecouplingFirehoseTransform's transform (``sent_clicks``).

Standard library only, and importing nothing of the demo: tests/flink load this file by its path in the PyFlink
venv, which has neither aws-cdk-lib nor the demo's dependencies (importing ``stacks.demo`` would need both).
"""

from __future__ import annotations

import json
from collections import defaultdict

USERS = 100
"""The scenario's partition keys: ``user-0`` ... ``user-99``, each record's ``user`` field as well."""


def click(run: str, index: int, at_ms: int) -> tuple[str, bytes]:
    """The ``index``-th click of a demo run: (partition key, data). The data is one JSON object,
    ``{"run", "user", "click", "at"}``; ``user`` is also the partition key (a Flink SQL source sees only the data,
    not the key), ``at`` the time the click was made, in epoch milliseconds (the Flink job's event time)."""
    user = f"user-{index % USERS}"
    return user, json.dumps({"run": run, "user": user, "click": index, "at": at_ms}).encode()


PAGES = ("home", "cart")
"""The pages of ``sent_clicks``: the transform's partition key ``page``."""


def sent_clicks(run: str, count: int = 12) -> tuple[list[bytes], dict[str, set[str]], set[str]]:
    """Clicks for examples/firehose_transform_handler.py: ``count`` clicks of users ``{run}-{i}`` on ``PAGES`` and
    one record that is not JSON. Returns (records, per page the users whose transformed clicks must arrive, the
    users that must not: every 4th a bot's click, which the transform drops; a click without a page every 6th
    otherwise, which fails like the record that is not JSON)."""
    records: list[bytes] = []
    expected: dict[str, set[str]] = defaultdict(set)
    absent: set[str] = set()
    for i in range(count):
        user = f"{run}-{i}"
        page = PAGES[i % 2]
        if i % 4 == 3:
            records.append(json.dumps({"page": page, "user": user, "bot": True}).encode())
            absent.add(user)
        elif i % 6 == 5:
            records.append(json.dumps({"user": user}).encode())  # no page: KeyError in the handler
            absent.add(user)
        else:
            records.append(json.dumps({"page": page, "user": user, "extra": "not kept"}).encode())
            expected[page].add(user)
    records.append(f"not a click {run}".encode())  # not JSON: fails
    return records, dict(expected), absent
