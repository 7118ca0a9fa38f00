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
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import _rules as r
from . import limits
from ._validate import PropTypeError

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
        r.check_fields(self, THROUGHPUT_RULES)


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


_SOURCE = "Kinesis Data Streams developer guide, Quotas and limits"
# Which field each shard factor comes from, its unit, and what one shard takes of it.
_FACTORS = {
    "write MiB/s": ("write_mib_per_s", "MiB/s", WRITE_MIB_PER_SHARD),
    "write records/s": ("records_per_s", "records/s", WRITE_RECORDS_PER_SHARD),
    "read MiB/s": ("read_mib_per_s", "MiB/s", READ_MIB_PER_SHARD),
}
_MIB = 1024 * 1024


def _check_consumers(prop: str, value: object, ctx: r.Context) -> None:
    enhanced = ctx.props.get("enhanced_fan_out") is True
    limit = MAX_ENHANCED_FAN_OUT_CONSUMERS if enhanced else MAX_SHARED_CONSUMERS
    if isinstance(value, bool) or not isinstance(value, int):
        raise PropTypeError(f"{prop} must be a whole number from 1 to {limit}, got {r.show(value)}")
    if not 1 <= value <= limit:
        why = (
            f"{MAX_ENHANCED_FAN_OUT_CONSUMERS} enhanced fan-out consumers can register per stream"
            if enhanced
            else "each shared-throughput consumer polls every shard, and a shard serves "
            f"{GET_RECORDS_CALLS_PER_SHARD} GetRecords calls/s; use enhanced_fan_out=True for more"
        )
        raise ValueError(f"{prop} must be a whole number from 1 to {limit} ({why}), got {value!r}")


def _within_shard_quota(values: Mapping[str, Any], ctx: r.Context) -> None:
    """A plan above the default shard quota is refused, naming the field that asks for the most shards."""
    by_factor = _shard_counts(
        values["write_mib_per_s"],
        values["records_per_s"],
        values["read_mib_per_s"],
        values["consumers"],
        values["enhanced_fan_out"],
    )
    factor = max(by_factor, key=lambda name: by_factor[name])
    if by_factor[factor] <= MAX_PLANNED_SHARDS:
        return
    prop, unit, per_shard = _FACTORS[factor]
    if factor == "read MiB/s" and values["read_mib_per_s"] is None:
        prop = "write_mib_per_s"  # read_mib_per_s defaults to it
    value = values[prop]
    limit = MAX_PLANNED_SHARDS * per_shard
    shared = factor == "read MiB/s" and not values["enhanced_fan_out"] and values["consumers"] > 1
    if shared:
        limit /= values["consumers"]
    hint = f"; in bytes/s? {value:,} bytes/s is {value / _MIB:g} MiB/s" if unit == "MiB/s" and value >= _MIB else ""
    factors = ", ".join(f"{name}: {count:,}" for name, count in by_factor.items())
    raise ValueError(
        f"{prop} must be at most {_figure(limit)} {unit}"
        + (f" with {values['consumers']} shared-throughput consumers" if shared else "")
        + f" ({MAX_PLANNED_SHARDS:,} shards, the largest default shard quota of an account: raise the quota and give "
        f"shard_count for more{hint}), got {value!r} (it needs {by_factor[factor]:,} shards; {factors})"
    )


def _figure(number: float) -> str:
    return f"{int(number):,}" if float(number).is_integer() else f"{number:,.6g}"


#: What each field of ``Throughput`` accepts (checked by the engine in ``_rules.py`` when one is made).
THROUGHPUT_RULES = r.Rules(
    {
        "write_mib_per_s": r.Number(0, unit="MiB/s", tokens="synth", why="the shard count is computed from it"),
        "records_per_s": r.Number(0, unit="records/s", tokens="synth", why="the shard count is computed from it"),
        "read_mib_per_s": r.Number(
            0, unit="MiB/s", optional=True, tokens="synth", why="the shard count is computed from it"
        ),
        "enhanced_fan_out": r.Bool(),
        "consumers": r.Custom(
            _check_consumers,
            f"a whole number from 1 to {MAX_SHARED_CONSUMERS} (1 to {MAX_ENHANCED_FAN_OUT_CONSUMERS} with "
            "enhanced_fan_out=True)",
            source=_SOURCE,
        ),
    },
    relations=(_within_shard_quota,),
)


def _shard_counts(
    write_mib_per_s: float,
    records_per_s: float,
    read_mib_per_s: float | None,
    consumers: int,
    enhanced_fan_out: bool,
) -> dict[str, int]:
    """Shards each limit asks for, rounded up."""
    per_consumer = write_mib_per_s if read_mib_per_s is None else read_mib_per_s
    read_load = per_consumer if enhanced_fan_out else per_consumer * consumers
    return {
        "write MiB/s": math.ceil(write_mib_per_s / WRITE_MIB_PER_SHARD),
        "write records/s": math.ceil(records_per_s / WRITE_RECORDS_PER_SHARD),
        "read MiB/s": math.ceil(read_load / READ_MIB_PER_SHARD),
    }


def _shards_by_factor(throughput: Throughput) -> dict[str, int]:
    """Shards each limit asks for, rounded up."""
    return _shard_counts(
        throughput.write_mib_per_s,
        throughput.records_per_s,
        throughput.read_mib_per_s,
        throughput.consumers,
        throughput.enhanced_fan_out,
    )


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
