"""Kinesis Data Streams capacity planning from expected throughput: pure functions, no CDK.

The per-shard limits (Amazon Kinesis Data Streams developer guide, "Quotas and limits"):

* writes: 1 MiB/s **and** 1,000 records/s per shard;
* shared-throughput reads: 2 MiB/s per shard, and 5 GetRecords calls/s per shard,
  both shared by every consumer of the stream;
* enhanced fan-out reads: 2 MiB/s per shard **per consumer**, at most 20 registered consumers.

"1 shard = 1 MiB/s or 1,000 records/s of writes" is therefore the whole answer for a
stream with one shared-throughput consumer that reads what is written: the read limit
(2 MiB/s) is twice the write limit. More consumers share the read limits; with
enhanced fan-out each gets its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from . import limits
from ._validate import PropTypeError, check_bool, check_number

# Kinesis Data Streams limits (limits.py names the AWS document of each):
GET_RECORDS_CALLS_PER_SHARD = limits.KINESIS_GET_RECORDS_CALLS_PER_SHARD
MAX_ENHANCED_FAN_OUT_CONSUMERS = limits.KINESIS_MAX_ENHANCED_FAN_OUT_CONSUMERS
READ_MIB_PER_SHARD = limits.KINESIS_READ_MIB_PER_SHARD
WRITE_MIB_PER_SHARD = limits.KINESIS_WRITE_MIB_PER_SHARD
WRITE_RECORDS_PER_SHARD = limits.KINESIS_WRITE_RECORDS_PER_SHARD

# A shared-throughput consumer polls every shard at least once a second (the KCL's default interval),
# so at most 5 consumers fit whatever the shard count: more shards do not help.
MAX_SHARED_CONSUMERS = GET_RECORDS_CALLS_PER_SHARD
# A plan above the default shard quota of an account in the largest regions cannot deploy without a quota
# increase: it is refused, and an account with a raised quota passes shard_count itself.
MAX_PLANNED_SHARDS = limits.KINESIS_DEFAULT_SHARD_QUOTA


@dataclass(frozen=True)
class Throughput:
    """Expected load of a stream, for :func:`shards_needed` and ``StreamToS3(expected_throughput=...)``.

    :param write_mib_per_s: data written, MiB/s (1 MiB = 1,048,576 bytes, partition keys included).
    :param records_per_s: records written per second.
    :param read_mib_per_s: data each consumer reads, MiB/s; default: the whole stream (``write_mib_per_s``).
    :param consumers: applications reading the whole stream (Firehose counts as one).
    :param enhanced_fan_out: consumers use enhanced fan-out (dedicated 2 MiB/s per shard each).
    """

    write_mib_per_s: float
    records_per_s: float
    read_mib_per_s: float | None = None
    consumers: int = 1
    enhanced_fan_out: bool = False

    def __post_init__(self) -> None:
        _validate(self.write_mib_per_s, self.records_per_s, self.read_mib_per_s, self.consumers, self.enhanced_fan_out)
        by_factor = _shards_by_factor(self)
        if max(by_factor.values()) > MAX_PLANNED_SHARDS:
            factors = ", ".join(f"{name}: {count}" for name, count in by_factor.items())
            raise ValueError(
                f"Throughput({self.write_mib_per_s:g} MiB/s, {self.records_per_s:g} records/s) needs more than "
                f"{MAX_PLANNED_SHARDS:,} shards ({factors}), the largest default shard quota of an account; "
                "check the units (MiB/s, records/s), or raise the quota and give shard_count"
            )


@dataclass(frozen=True)
class CapacityPlan:
    """What :func:`describe` found: the shard count and which limit sets it."""

    shards: int
    limiting_factor: str
    """One of ``"write MiB/s"``, ``"write records/s"``, ``"read MiB/s"``, or ``"minimum (1 shard)"``."""
    shards_by_factor: dict[str, int] = field(default_factory=dict)
    throughput: Throughput | None = None

    def __str__(self) -> str:
        factors = ", ".join(f"{name}: {count}" for name, count in self.shards_by_factor.items())
        return f"{self.shards} shard{'s' if self.shards != 1 else ''}, limited by {self.limiting_factor} ({factors})"


def _validate(
    write_mib_per_s: float,
    records_per_s: float,
    read_mib_per_s: float | None,
    consumers: int,
    enhanced_fan_out: bool,
) -> None:
    check_number("write_mib_per_s", write_mib_per_s)
    check_number("records_per_s", records_per_s)
    if read_mib_per_s is not None:
        check_number("read_mib_per_s", read_mib_per_s)
    check_bool("enhanced_fan_out", enhanced_fan_out)
    limit = MAX_ENHANCED_FAN_OUT_CONSUMERS if enhanced_fan_out else MAX_SHARED_CONSUMERS
    if isinstance(consumers, bool) or not isinstance(consumers, int):
        raise PropTypeError(f"consumers must be a whole number from 1 to {limit}, got {consumers!r}")
    if not 1 <= consumers <= limit:
        why = (
            "20 enhanced fan-out consumers can register per stream"
            if enhanced_fan_out
            else "each shared-throughput consumer polls every shard, and a shard serves 5 GetRecords calls/s; "
            "use enhanced_fan_out=True for more"
        )
        raise ValueError(f"consumers must be a whole number from 1 to {limit} ({why}), got {consumers!r}")


def _shards_by_factor(throughput: Throughput) -> dict[str, int]:
    """Shards each limit asks for, rounded up."""
    per_consumer = throughput.write_mib_per_s if throughput.read_mib_per_s is None else throughput.read_mib_per_s
    read_load = per_consumer if throughput.enhanced_fan_out else per_consumer * throughput.consumers
    return {
        "write MiB/s": math.ceil(throughput.write_mib_per_s / WRITE_MIB_PER_SHARD),
        "write records/s": math.ceil(throughput.records_per_s / WRITE_RECORDS_PER_SHARD),
        "read MiB/s": math.ceil(read_load / READ_MIB_PER_SHARD),
    }


def describe(
    write_mib_per_s: float,
    records_per_s: float,
    *,
    read_mib_per_s: float | None = None,
    consumers: int = 1,
    enhanced_fan_out: bool = False,
) -> CapacityPlan:
    """The shards a provisioned stream needs for this load, and the limit that decides it.

    Every factor is rounded up to whole shards; the plan takes the largest, and at least 1.
    Ties are reported in the order writes (MiB/s), writes (records/s), reads.
    """
    throughput = Throughput(write_mib_per_s, records_per_s, read_mib_per_s, consumers, enhanced_fan_out)
    by_factor = _shards_by_factor(throughput)
    factor = max(by_factor, key=lambda name: by_factor[name])  # first of the largest
    shards = by_factor[factor]
    if shards < 1:
        return CapacityPlan(1, "minimum (1 shard)", by_factor, throughput)
    return CapacityPlan(shards, factor, by_factor, throughput)


def shards_needed(
    write_mib_per_s: float,
    records_per_s: float,
    *,
    read_mib_per_s: float | None = None,
    consumers: int = 1,
    enhanced_fan_out: bool = False,
) -> int:
    """How many shards a provisioned stream needs for this load (at least 1); see :func:`describe`.

    >>> shards_needed(1, 1000)      # exactly one shard's write limits
    1
    >>> shards_needed(1, 1001)      # one record/s more
    2
    >>> shards_needed(0.5, 100, consumers=3)   # 3 consumers share 2 MiB/s per shard: 1.5 MiB/s
    1
    >>> shards_needed(1.5, 100, consumers=3)   # 4.5 MiB/s of reads
    3
    """
    return describe(
        write_mib_per_s,
        records_per_s,
        read_mib_per_s=read_mib_per_s,
        consumers=consumers,
        enhanced_fan_out=enhanced_fan_out,
    ).shards


def plan(throughput: Throughput) -> CapacityPlan:
    """:func:`describe` for a :class:`Throughput`."""
    return describe(
        throughput.write_mib_per_s,
        throughput.records_per_s,
        read_mib_per_s=throughput.read_mib_per_s,
        consumers=throughput.consumers,
        enhanced_fan_out=throughput.enhanced_fan_out,
    )
