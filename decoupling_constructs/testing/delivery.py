"""Read back what a Firehose delivery stream wrote to S3: objects under a prefix, records in them.

Firehose concatenates records in an object (GZIP-compressed when configured); records written with a
trailing newline, as ``StreamProducer`` users usually do, split back one per line.
"""

from __future__ import annotations

import gzip
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

_TIMESTAMP = re.compile(r"!\{timestamp:([^}]+)\}")
# Firehose's prefix timestamps use Java DateTimeFormatter patterns; these are the ones the constructs use.
_JAVA_TO_STRFTIME = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H"}


def expand_prefix(prefix: str, when: datetime) -> str:
    """``prefix`` with its ``!{timestamp:...}`` expressions evaluated at ``when`` (UTC), as Firehose does."""

    def replace(match: re.Match[str]) -> str:
        pattern = match.group(1)
        if pattern not in _JAVA_TO_STRFTIME:
            raise ValueError(f"timestamp pattern {pattern!r} in prefix {prefix!r}: allowed {sorted(_JAVA_TO_STRFTIME)}")
        return when.strftime(_JAVA_TO_STRFTIME[pattern])

    return _TIMESTAMP.sub(replace, prefix)


def expanded_prefixes(prefix: str, start: datetime, end: datetime) -> set[str]:
    """Every expansion of ``prefix`` for an hour between ``start`` and ``end`` (a delivery may cross one)."""
    prefixes, when = set(), start.replace(minute=0, second=0, microsecond=0)
    while when <= end:
        prefixes.add(expand_prefix(prefix, when))
        when += timedelta(hours=1)
    return prefixes


def object_keys(s3: object, bucket: str, prefix: str = "") -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)  # type: ignore[attr-defined]
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def wait_for_records(
    s3: object, bucket: str, prefix: str, count: int, *, timeout: float = 60.0
) -> dict[str, list[bytes]]:
    """Object key -> its records, for the objects under ``prefix`` once they hold ``count`` records (or
    whatever is there at ``timeout``). Firehose delivers asynchronously (on AWS after its buffering
    interval): this polls, and asserts nothing. Each object is read once."""
    deadline = time.monotonic() + timeout
    delivered: dict[str, list[bytes]] = {}
    with ThreadPoolExecutor(max_workers=8) as pool:  # one object per record on some emulators: read in parallel
        while True:
            new = [key for key in object_keys(s3, bucket, prefix) if key not in delivered]
            delivered.update(zip(new, pool.map(lambda key: read_records(s3, bucket, key), new), strict=True))
            if sum(map(len, delivered.values())) >= count or time.monotonic() > deadline:
                return delivered
            time.sleep(0.5)


def read_records(s3: object, bucket: str, key: str) -> list[bytes]:
    """The newline-terminated records of one object, decompressed when GZIP."""
    body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()  # type: ignore[attr-defined]
    if body[:2] == b"\x1f\x8b":  # GZIP magic
        body = gzip.decompress(body)
    return [line for line in body.splitlines() if line]


__all__ = ["expand_prefix", "expanded_prefixes", "object_keys", "read_records", "wait_for_records"]
