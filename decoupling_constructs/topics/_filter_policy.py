"""SNS subscription filter policies, checked at synth time against what SNS would refuse or misread.

No construct here: :func:`check_filters` checks the shape of aws-cdk-lib's filter objects, then the
rest works on the policy's rendered JSON: the limits of SNS, empty allowlists, numeric ranges that match
no number, and conditions that OR into "every number". Importing it loads no aws-cdk-lib (the shape
and token checks import it when they run).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import _validate as v
from .._validate import PropTypeError

if TYPE_CHECKING:
    from aws_cdk import aws_sns as sns

# SNS limits (Amazon SNS developer guide, "Filter policy constraints"):
FILTER_POLICY_MAX_KEYS = 5
FILTER_POLICY_MAX_COMBINATIONS = 150  # product of the number of values of every key
FILTER_POLICY_MAX_BYTES = 256 * 1024


def check_filters(
    construct_id: str,
    filter_policy: Mapping[str, sns.SubscriptionFilter] | None,
    filter_policy_with_message_body: Mapping[str, sns.FilterOrPolicy] | None,
) -> None:
    """The filter of one subscription (``construct_id``): one scope, a valid shape, within SNS's limits."""
    if filter_policy is not None and filter_policy_with_message_body is not None:
        raise ValueError(
            "give only one of filter_policy (message attributes) and filter_policy_with_message_body "
            "(message body): a subscription filters on one scope"
        )
    if filter_policy is not None:
        _check_policy_shape("filter_policy", filter_policy, body=False)
        _check_filter_limits(construct_id, "filter_policy", {k: f.conditions for k, f in filter_policy.items()})
    if filter_policy_with_message_body is not None:
        _check_policy_shape("filter_policy_with_message_body", filter_policy_with_message_body, body=True)
        _check_filter_limits(
            construct_id, "filter_policy_with_message_body", _body_policy(filter_policy_with_message_body)
        )


def _check_policy_shape(prop: str, policy: object, *, body: bool) -> None:
    """A mapping of attribute (or body key) to ``sns.SubscriptionFilter`` (body scope: ``sns.FilterOrPolicy``),
    not empty: SNS refuses an empty policy, and None already means "every message"."""
    allowed = (
        "a dict of key -> sns.FilterOrPolicy.filter(...) or sns.FilterOrPolicy.policy({...})"
        if body
        else "a dict of message attribute -> sns.SubscriptionFilter"
    )
    from aws_cdk import aws_sns as sns

    if not isinstance(policy, Mapping):
        raise PropTypeError(f"{prop} must be {allowed}, got {policy!r}")
    if not policy:
        raise ValueError(f"{prop} must not be empty (give None to receive every message), got {{}}")
    for key, item in policy.items():
        if not isinstance(key, str) or not key:
            raise PropTypeError(f"{prop} keys must be non-empty strings, got {key!r}")
        if body:
            if isinstance(item, sns.SubscriptionFilter):
                raise PropTypeError(
                    f"{prop}[{key!r}] is an sns.SubscriptionFilter; wrap it: sns.FilterOrPolicy.filter(...)"
                )
            if not (hasattr(item, "filter_doc") or hasattr(item, "policy_doc")):
                raise PropTypeError(f"{prop}[{key!r}] must be an sns.FilterOrPolicy, got {item!r}")
            if hasattr(item, "policy_doc"):
                _check_policy_shape(f"{prop}[{key!r}]", item.policy_doc, body=True)
        elif not isinstance(item, sns.SubscriptionFilter):
            raise PropTypeError(f"{prop}[{key!r}] must be an sns.SubscriptionFilter, got {item!r}")


_LOWER_BOUNDS = {">", ">="}
_UPPER_BOUNDS = {"<", "<="}


def _matches_every_number(values: list[Any]) -> bool:
    """True when a key's conditions OR a lower bound with an upper bound that overlap: e.g. what
    ``numeric_filter(greater_than_or_equal_to=100, less_than=1000)`` renders, ``[>=100] or [<1000]``."""
    lows, highs = [], []
    for value in values:
        numeric = value.get("numeric") if isinstance(value, dict) else None
        if isinstance(numeric, list) and len(numeric) == 2 and not v.is_token(numeric):
            operator, bound = numeric
            if operator in _LOWER_BOUNDS:
                lows.append((bound, operator))
            elif operator in _UPPER_BOUNDS:
                highs.append((bound, operator))
    return any(
        low < high or (low == high and (low_op == ">=" or high_op == "<="))
        for low, low_op in lows
        for high, high_op in highs
    )


def _matches_no_number(value: Any) -> bool:
    """True for a range condition whose start is above its stop, e.g. what
    ``numeric_filter(between=BetweenCondition(start=10, stop=1))`` renders: ``[">=", 10, "<=", 1]``."""
    numeric = value.get("numeric") if isinstance(value, dict) else None
    if not isinstance(numeric, list) or len(numeric) != 4 or v.is_token(numeric):
        return False
    low_op, low, high_op, high = numeric
    if low_op not in _LOWER_BOUNDS or high_op not in _UPPER_BOUNDS:
        return False
    if not all(isinstance(n, (int, float)) for n in (low, high)):
        return False
    return bool(low > high or (low == high and (low_op == ">" or high_op == "<")))


def _body_policy(policy: Mapping[str, sns.FilterOrPolicy]) -> dict[str, Any]:
    """The JSON document of a body-scope filter policy, rendered from aws-cdk-lib's objects."""
    return {
        key: item.filter_doc.conditions if item.is_filter() else _body_policy(item.policy_doc)  # type: ignore[attr-defined]
        for key, item in policy.items()
    }


def _leaf_arrays(policy: Any, path: str = "") -> list[tuple[str, list[Any]]]:
    """(key path, values) of every leaf of a filter policy; ``$or`` branches are all counted."""
    if isinstance(policy, list):
        return [(path, policy)]
    leaves: list[tuple[str, list[Any]]] = []
    for key, value in policy.items():
        if key == "$or":
            for branch in value:
                leaves += _leaf_arrays(branch, path)
        else:
            leaves += _leaf_arrays(value, f"{path}.{key}" if path else key)
    return leaves


def _check_filter_limits(construct_id: str, prop: str, policy: dict[str, Any]) -> None:
    if v.is_token(policy):
        return
    leaves = _leaf_arrays(policy)
    for path, values in leaves:
        if not values:
            raise ValueError(
                f"{prop} of {construct_id!r}: the conditions on {path!r} are empty and would match no message "
                "(an empty allowlist?); give at least one value, or remove the key"
            )
        empty_range = next((value for value in values if _matches_no_number(value)), None)
        if empty_range is not None:
            raise ValueError(
                f"{prop} of {construct_id!r}: the numeric range on {path!r} matches no number (start above "
                f"stop), got {json.dumps(empty_range, default=str)}"
            )
        if _matches_every_number(values):
            raise ValueError(
                f"{prop} of {construct_id!r}: the conditions on {path!r} match every number (SNS ORs the "
                f"conditions of a key), got {json.dumps(values, default=str)}; for a range put both bounds in "
                "one condition: SubscriptionFilter([{'numeric': ['>=', low, '<', high]}]) or "
                "numeric_filter(between=...)"
            )
    keys = sorted({path for path, _ in leaves})
    if len(keys) > FILTER_POLICY_MAX_KEYS:
        raise ValueError(
            f"{prop} of {construct_id!r} must have at most {FILTER_POLICY_MAX_KEYS} keys, "
            f"got {len(keys)}: {', '.join(keys)}"
        )
    combinations = math.prod(len(values) for _, values in leaves)
    if combinations > FILTER_POLICY_MAX_COMBINATIONS:
        raise ValueError(
            f"{prop} of {construct_id!r} must have at most {FILTER_POLICY_MAX_COMBINATIONS} combinations of "
            f"values (the product of the number of values of every key), got {combinations}"
        )
    size = len(json.dumps(policy, default=str).encode())
    if size > FILTER_POLICY_MAX_BYTES:
        raise ValueError(f"{prop} of {construct_id!r} must be at most 256 KB, got {size} bytes")
