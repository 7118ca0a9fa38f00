"""The shard planner against hand-worked cases at the boundaries, and its properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from decoupling_constructs import Throughput
from decoupling_constructs.capacity import CapacityPlan, describe, plan, shards_needed


@pytest.mark.parametrize(
    ("kwargs", "shards", "factor"),
    [
        # The rule everyone quotes: 1 shard = 1 MiB/s or 1,000 records/s of writes.
        ({"write_mib_per_s": 0, "records_per_s": 0}, 1, "minimum (1 shard)"),
        ({"write_mib_per_s": 1, "records_per_s": 1000}, 1, "write MiB/s"),  # exactly one shard's worth
        ({"write_mib_per_s": 1.0001, "records_per_s": 10}, 2, "write MiB/s"),
        ({"write_mib_per_s": 0.1, "records_per_s": 1001}, 2, "write records/s"),  # one record/s over
        ({"write_mib_per_s": 0.5, "records_per_s": 3000}, 3, "write records/s"),
        ({"write_mib_per_s": 10, "records_per_s": 500}, 10, "write MiB/s"),
        # Shared reads: 2 MiB/s per shard for all consumers together.
        ({"write_mib_per_s": 1, "records_per_s": 100, "consumers": 2}, 1, "write MiB/s"),  # 2 MiB/s: fits
        ({"write_mib_per_s": 1, "records_per_s": 100, "consumers": 3}, 2, "read MiB/s"),  # 3 MiB/s of reads
        ({"write_mib_per_s": 1, "records_per_s": 100, "consumers": 5}, 3, "read MiB/s"),  # 5 MiB/s
        ({"write_mib_per_s": 1, "records_per_s": 100, "read_mib_per_s": 0.2, "consumers": 5}, 1, "write MiB/s"),
        ({"write_mib_per_s": 0.1, "records_per_s": 100, "read_mib_per_s": 4.5}, 3, "read MiB/s"),
        # Enhanced fan-out: 2 MiB/s per shard for each consumer.
        ({"write_mib_per_s": 1, "records_per_s": 100, "consumers": 20, "enhanced_fan_out": True}, 1, "write MiB/s"),
        (
            {"write_mib_per_s": 0.5, "records_per_s": 100, "read_mib_per_s": 5, "enhanced_fan_out": True},
            3,
            "read MiB/s",
        ),
    ],
)
def test_hand_worked_cases(kwargs: dict, shards: int, factor: str) -> None:
    result = describe(**kwargs)
    assert (result.shards, result.limiting_factor) == (shards, factor)
    assert shards_needed(**kwargs) == shards


def test_describe_reports_every_factor() -> None:
    result = describe(2.5, 1500, consumers=2)
    assert result.shards_by_factor == {"write MiB/s": 3, "write records/s": 2, "read MiB/s": 3}
    assert str(result) == "3 shards, limited by write MiB/s (write MiB/s: 3, write records/s: 2, read MiB/s: 3)"


def test_plan_of_a_throughput_equals_describe() -> None:
    throughput = Throughput(write_mib_per_s=2.4, records_per_s=2500, consumers=2)
    assert plan(throughput) == CapacityPlan(
        3, "write MiB/s", {"write MiB/s": 3, "write records/s": 3, "read MiB/s": 3}, throughput
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"write_mib_per_s": -1, "records_per_s": 0},
            "^Throughput: write_mib_per_s must be a finite number >= 0 MiB/s, got -1$",
        ),
        ({"write_mib_per_s": math.inf, "records_per_s": 0}, "write_mib_per_s must be a finite number"),
        ({"write_mib_per_s": 1, "records_per_s": math.nan}, "records_per_s must be a finite number"),
        ({"write_mib_per_s": 1, "records_per_s": 1, "read_mib_per_s": -0.5}, "read_mib_per_s must be a finite"),
        ({"write_mib_per_s": "1", "records_per_s": 1}, "write_mib_per_s must be a number"),
        ({"write_mib_per_s": 1, "records_per_s": 1, "consumers": 0}, "consumers must be a whole number from 1 to 5"),
        ({"write_mib_per_s": 1, "records_per_s": 1, "consumers": 6}, "use enhanced_fan_out=True for more"),
        (
            {"write_mib_per_s": 1, "records_per_s": 1, "consumers": 21, "enhanced_fan_out": True},
            "from 1 to 20 .*20 enhanced fan-out consumers",
        ),
        ({"write_mib_per_s": 1, "records_per_s": 1, "consumers": 1.5}, "consumers must be a whole number"),
        ({"write_mib_per_s": 1, "records_per_s": 1, "enhanced_fan_out": "yes"}, "enhanced_fan_out must be True"),
    ],
)
def test_bad_input(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        describe(**kwargs)
    with pytest.raises(ValueError, match=message) as caught:
        Throughput(**kwargs)
    assert str(caught.value).startswith("Throughput: "), caught.value


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (  # 5 MiB/s given in bytes/s
            {"write_mib_per_s": 5 * 1024 * 1024, "records_per_s": 100},
            r"^Throughput: write_mib_per_s must be at most 20,000 MiB/s .*in bytes/s\? 5,242,880 bytes/s is 5 MiB/s\), "
            r"got 5242880 \(it needs 5,242,880 shards",
        ),
        (
            {"write_mib_per_s": 1, "records_per_s": 25_000_000},
            r"^Throughput: records_per_s must be at most 20,000,000 records/s .*got 25000000 \(it needs 25,000 shards",
        ),
        (  # 5 shared consumers read 5 x 9,000 MiB/s: 22,500 shards of 2 MiB/s
            {"write_mib_per_s": 9000, "records_per_s": 1, "consumers": 5},
            r"^Throughput: write_mib_per_s must be at most 8,000 MiB/s with 5 shared-throughput consumers .*got 9000",
        ),
        (
            {"write_mib_per_s": 1, "records_per_s": 1, "read_mib_per_s": 50_000, "enhanced_fan_out": True},
            r"^Throughput: read_mib_per_s must be at most 40,000 MiB/s .*got 50000 \(it needs 25,000 shards",
        ),
    ],
)
def test_a_plan_above_the_shard_quota_names_the_field_that_asks_for_it(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Throughput(**kwargs)
    at_the_limit = {"write_mib_per_s": 20_000, "records_per_s": 20_000_000, "read_mib_per_s": 40_000}
    prop = message.split(": ")[1].split(" ")[0]
    if "consumers" in kwargs:
        at_the_limit["write_mib_per_s"] = 8000  # 5 x 8,000 MiB/s = 20,000 shards of 2 MiB/s
    assert Throughput(**{**kwargs, prop: at_the_limit[prop]}).write_mib_per_s >= 1  # the limit itself passes


loads = st.floats(min_value=0, max_value=4_000, allow_nan=False, allow_infinity=False)


@given(write=loads, records=loads, consumers=st.integers(1, 5))
def test_enough_shards_for_every_limit_and_not_one_more(write: float, records: float, consumers: int) -> None:
    n = shards_needed(write, records, consumers=consumers)
    assert n >= 1
    assert write <= n * 1.0 and records <= n * 1000 and write * consumers <= n * 2.0
    if n > 1:  # one shard fewer would break at least one limit
        m = n - 1
        assert write > m * 1.0 or records > m * 1000 or write * consumers > m * 2.0


@given(write=loads, records=loads, extra=st.floats(min_value=0, max_value=100), consumers=st.integers(1, 4))
def test_more_load_or_consumers_never_needs_fewer_shards(write, records, extra, consumers) -> None:
    base = shards_needed(write, records, consumers=consumers)
    assert shards_needed(write + extra, records, consumers=consumers) >= base
    assert shards_needed(write, records + extra, consumers=consumers) >= base
    assert shards_needed(write, records, consumers=consumers + 1) >= base


@given(write=loads, records=loads, consumers=st.integers(1, 5))
def test_enhanced_fan_out_never_needs_more_shards_than_shared_reads(write, records, consumers) -> None:
    assert shards_needed(write, records, consumers=consumers, enhanced_fan_out=True) <= shards_needed(
        write, records, consumers=consumers
    )


def test_capacity_does_not_load_aws_cdk() -> None:
    """The planner is pure: importing it must not start aws-cdk-lib's Node.js process."""
    import subprocess
    import sys

    code = "import sys, decoupling_constructs.capacity; print('aws_cdk' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"
