"""The filter-policy analysis on rendered JSON, without a construct (FanOut's tests cover it through add_queue)."""

from __future__ import annotations

import pytest

from decoupling_constructs.topics._filter_policy import (
    FILTER_POLICY_MAX_COMBINATIONS,
    _check_filter_limits,
    _leaf_arrays,
    _matches_every_number,
    _matches_no_number,
)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([{"numeric": [">=", 100]}, {"numeric": ["<", 1000]}], True),  # ORed: every number
        ([{"numeric": [">", 5]}, {"numeric": ["<=", 5]}], True),
        ([{"numeric": [">", 5]}, {"numeric": ["<", 5]}], False),  # all but 5
        ([{"numeric": ["<", 10]}, {"numeric": [">", 1000]}], False),  # two disjoint ranges
        ([{"numeric": [">=", 100, "<", 1000]}], False),  # one range
    ],
)
def test_matches_every_number(values: list, expected: bool) -> None:
    assert _matches_every_number(values) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"numeric": [">=", 10, "<=", 1]}, True),
        ({"numeric": [">", 5, "<=", 5]}, True),
        ({"numeric": [">=", 5, "<=", 5]}, False),  # exactly 5
        ({"numeric": [">=", 1, "<", 10]}, False),
        ("eu", False),
    ],
)
def test_matches_no_number(value: object, expected: bool) -> None:
    assert _matches_no_number(value) is expected


def test_leaf_arrays_follow_nested_keys_and_every_or_branch() -> None:
    policy = {"order": {"amount": [1]}, "$or": [{"region": ["eu"]}, {"tier": ["gold", "silver"]}]}
    assert _leaf_arrays(policy) == [("order.amount", [1]), ("region", ["eu"]), ("tier", ["gold", "silver"])]


def test_limits_count_combinations_across_keys() -> None:
    thirteen = [str(i) for i in range(13)]
    with pytest.raises(ValueError, match=f"at most {FILTER_POLICY_MAX_COMBINATIONS} combinations .*got 169"):
        _check_filter_limits("A", "filter_policy", {"a": thirteen, "b": thirteen})
    _check_filter_limits("A", "filter_policy", {"a": thirteen, "b": thirteen[:11]})  # 143: allowed
