"""Hypothesis strategies derived from the rules themselves: every prop's declared rule says what is valid,
so the strategy for it draws valid values, boundary values, values just outside, wrong types, every unit of
``Duration``/``Size``, fractions, and tokens of each kind.

A strategy draws a :class:`Maker`: a label (for the failure report) and a function that builds the value in
the test's stack, since tokens, keys and imported resources belong to a stack.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import MISSING, dataclass
from enum import Enum
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import Duration, Size
from hypothesis import strategies as st

from decoupling_constructs import _rules as r


@dataclass(frozen=True)
class Maker:
    label: str
    make: Callable[[cdk.Stack], Any]

    def __repr__(self) -> str:
        return self.label


def const(value: Any, label: str | None = None) -> Maker:
    return Maker(label or repr(value)[:60], lambda _stack: value)


@jsii.implements(cdk.IStableNumberProducer)
class _Three:
    def produce(self) -> float:
        return 3


@jsii.implements(cdk.IStableStringProducer)
class _Text:
    def produce(self) -> str:
        return "lazy"


def _parameter(stack: cdk.Stack, kind: str) -> cdk.CfnParameter:
    name = f"Param{kind}{len(stack.node.children)}"
    return cdk.CfnParameter(stack, name, type=kind)


NUMBER_TOKENS = [
    Maker("CfnParameter(Number).value_as_number", lambda s: _parameter(s, "Number").value_as_number),
    Maker("Lazy.number", lambda s: cdk.Lazy.number(_Three())),
    Maker("Token.as_number(Fn.import_value)", lambda s: cdk.Token.as_number(cdk.Fn.import_value("Exported"))),
]
STRING_TOKENS = [
    Maker("CfnParameter(String).value_as_string", lambda s: _parameter(s, "String").value_as_string),
    Maker("Lazy.string", lambda s: cdk.Lazy.string(_Text())),
    Maker("Fn.import_value", lambda s: cdk.Fn.import_value("Exported")),
    Maker("Aws.ACCOUNT_ID", lambda s: cdk.Aws.ACCOUNT_ID),
]
JUNK = [
    const(None),
    const("text"),
    const(3),
    const(2.5),
    const(True),
    const({"a": 1}),
    const([1, 2]),
    Maker("object()", lambda s: object()),
    Maker("a Construct", lambda s: cdk.Stack(cdk.App(), "Elsewhere")),
]
_DURATION_UNITS: dict[str, Callable[[float], Duration]] = {
    "millis": Duration.millis,
    "seconds": Duration.seconds,
    "minutes": Duration.minutes,
    "hours": Duration.hours,
    "days": Duration.days,
}
_SIZE_UNITS: dict[str, Callable[[float], Size]] = {
    "kibibytes": Size.kibibytes,
    "mebibytes": Size.mebibytes,
    "gibibytes": Size.gibibytes,
}
_SECONDS_PER = {"millis": 0.001, "seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
_BYTES_PER = {"kibibytes": 1024, "mebibytes": 1024**2, "gibibytes": 1024**3}


def _numbers_around(low: float, high: float, integers: bool) -> st.SearchStrategy[float]:
    edges = [low, high, low - 1, high + 1]
    if not integers:
        edges += [low - 0.5, high + 0.5, (low + high) / 2 if high != math.inf else low + 1.5]
    inside = (
        st.integers(int(max(low, -(10**9))), int(min(high, 10**9)))
        if integers
        else st.floats(low, high if math.isfinite(high) else max(1e9, 2 * low), allow_nan=False)
    )
    outside = st.sampled_from([math.nan, math.inf, -math.inf, -(10**9), 10**12]) if not integers else st.just(-1)
    return st.one_of(
        st.sampled_from([e for e in edges if not (isinstance(e, float) and math.isinf(e))]), inside, outside
    )


def _duration(seconds: float, unit: str) -> Maker:
    amount = seconds / _SECONDS_PER[unit]
    if amount < 0 or (unit != "millis" and amount > 10**9):
        return const(Duration.seconds(0), "Duration.seconds(0)")
    return Maker(f"Duration.{unit}({amount:g})", lambda s: _DURATION_UNITS[unit](amount))


def _size(number: float, unit: str) -> Maker:
    amount = number / _BYTES_PER[unit]
    return Maker(f"Size.{unit}({amount:g})", lambda s: _SIZE_UNITS[unit](max(amount, 0)))


def strategy_for(rule: r.Rule) -> st.SearchStrategy[Maker]:
    """Makers for ``rule``: valid and invalid values of its domain, tokens and junk."""
    base: list[st.SearchStrategy[Maker]] = [st.sampled_from(JUNK)]
    if isinstance(rule, r.Bool):
        base.append(st.sampled_from([const(True), const(False), const(0), const("true")]))
    elif isinstance(rule, r.Int):
        base.append(_numbers_around(rule.minimum, rule.maximum, True).map(const))
        base.append(st.sampled_from([const(float(rule.minimum)), *NUMBER_TOKENS]))
    elif isinstance(rule, r.Number):  # Percent included
        base.append(_numbers_around(rule.minimum, rule.maximum, False).map(const))
        base.append(st.sampled_from([const(0.5), const(0.8), *NUMBER_TOKENS]))
    elif isinstance(rule, r.Seconds):
        high = rule.maximum if rule.maximum != math.inf else 10**7
        seconds = _numbers_around(rule.minimum, high, False).filter(lambda x: math.isfinite(x) and 0 <= x <= 1e10)
        base.append(st.builds(_duration, seconds, st.sampled_from(list(_DURATION_UNITS))))
        base.append(
            st.sampled_from(
                [
                    Maker(f"Duration.seconds({t.label})", lambda s, t=t: Duration.seconds(t.make(s)))
                    for t in NUMBER_TOKENS[:2]
                ]
            )
        )
    elif isinstance(rule, r.Bytes):
        number = _numbers_around(rule.minimum, rule.maximum, False).filter(
            lambda x: math.isfinite(x) and 0 <= x <= 1e15
        )
        base.append(st.builds(_size, number, st.sampled_from(list(_SIZE_UNITS))))
        base.append(
            st.sampled_from(
                [
                    Maker(f"Size.{unit}({t.label})", lambda s, t=t, unit=unit: _SIZE_UNITS[unit](t.make(s)))
                    for t in NUMBER_TOKENS[:2]
                    for unit in ("mebibytes", "gibibytes")
                ]
            )
        )
    elif isinstance(rule, r.EpochSeconds):
        base.append(st.sampled_from([const(1_700_000_000), const(1_700_000_000_000), const(4_000_000_000), const(-1)]))
    elif isinstance(rule, r.OneOf):
        base.append(st.sampled_from([const(v) for v in rule.values] + [const("nope")]))
    elif isinstance(rule, r.Text):
        base.append(st.text(max_size=min(rule.max_length + 5, 300)).map(const))
        base.append(st.sampled_from(STRING_TOKENS))
    elif isinstance(rule, r.ListOf):
        base.append(st.lists(strategy_for(rule.item), max_size=min(rule.max_length + 1, 6)).map(_list))
    elif isinstance(rule, r.MappingOf):
        base.append(st.dictionaries(st.text(max_size=12), strategy_for(rule.values), max_size=3).map(_dict))
    elif isinstance(rule, r.Props):
        keys = rule.only or tuple(rule.rules.props)
        base.append(
            st.lists(st.sampled_from(keys), max_size=2, unique=True).flatmap(
                lambda names: st.tuples(*(strategy_for(rule.rules.props[n]) for n in names)).map(
                    lambda makers, names=names: _dict(dict(zip(names, makers, strict=True)))
                )
            )
        )
    elif isinstance(rule, r.AllOf):
        base.extend(strategy_for(inner) for inner in rule.rules)
    elif isinstance(rule, r.Instance) and isinstance(rule.cls, type) and issubclass(rule.cls, Enum):
        base.append(st.sampled_from([const(member) for member in rule.cls]))  # every member of an enum
    elif isinstance(rule, r.Fields):
        base.append(_fields(rule))
    if rule.optional:
        base.append(st.just(const(None)))
    return st.one_of(base)


def _fields(rule: r.Fields) -> st.SearchStrategy[Maker]:
    """A dataclass of ``rule.cls`` with its required fields and up to two others drawn from their own rules (the
    others default): a value without its required fields is not a dataclass at all."""
    names = tuple(rule.rules.props)
    required = tuple(
        f.name for f in dataclasses.fields(rule.cls) if f.default is MISSING and f.default_factory is MISSING
    )

    def build(makers: dict[str, Maker]) -> Maker:
        label = f"{rule.cls.__name__}(" + ", ".join(f"{k}={m.label}" for k, m in makers.items()) + ")"
        return Maker(label, lambda s: rule.cls(**{k: m.make(s) for k, m in makers.items()}))

    return (
        st.lists(st.sampled_from(names), max_size=2, unique=True)
        .map(lambda drawn: (*required, *(n for n in drawn if n not in required)))
        .flatmap(
            lambda chosen: st.tuples(*(strategy_for(rule.rules.props[n]) for n in chosen)).map(
                lambda makers, chosen=chosen: build(dict(zip(chosen, makers, strict=True)))
            )
        )
    )


def _list(makers: list[Maker]) -> Maker:
    return Maker("[" + ", ".join(m.label for m in makers) + "]", lambda s: [m.make(s) for m in makers])


def _dict(makers: dict[str, Maker]) -> Maker:
    return Maker(
        "{" + ", ".join(f"{k!r}: {m.label}" for k, m in makers.items()) + "}",
        lambda s: {k: m.make(s) for k, m in makers.items()},
    )
