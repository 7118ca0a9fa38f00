"""The guard engine: every public argument of the library declares its rule once, and one engine checks them.

A construct (or a public method) is decorated with :func:`guarded` and a :class:`Rules` table::

    RULES = Rules(
        {
            "max_receive_count": Int(1, limits.SQS_MAX_RECEIVE_COUNT, source="SQS RedrivePolicy maxReceiveCount"),
            "visibility_timeout": Seconds(0, limits.SQS_MAX_VISIBILITY_SECONDS, source="SQS CreateQueue"),
            "encryption_key": Interface("a kms.IKey", "key_arn", optional=True),
        },
        relations=(requires("high_throughput", "fifo"),),
    )

    class ReliableQueue(PatternConstruct):
        @guarded(RULES)
        def __init__(self, scope, construct_id, *, ...): ...

Before the body runs, the engine binds the call's arguments (an unknown keyword is refused with the props
that exist), checks each one against its rule, then the table's relations. Every error has one shape::

    ReliableQueue 'App/Stack/Jobs': max_receive_count must be 1-1000, got 0

the construct's class and path, the prop with its full path (``queue_props['queue_name']``,
``alarm_settings.overrides['cpu_utilization'].threshold``), the value as written and what is allowed. An
error aws-cdk-lib (jsii) raises inside the body is re-raised the same way, naming the prop the body
was working on (:func:`blame`), with the original kept as ``__cause__``.

Tokens (values known only at deploy time) are never range-checked through their numeric encoding: a
rule whose value is only passed on lets them through (``tokens="pass"``, the default); a rule whose value
the library needs at synth time (``tokens="synth"``) refuses them in words: ``must be known at synth time,
got a CloudFormation parameter (Ref MaxReceives)``.

The engine imports no aws-cdk-lib at import time: the boto3 runtime helpers use it too.
"""

from __future__ import annotations

import contextvars
import difflib
import functools
import inspect
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, is_dataclass
from enum import Enum
from typing import Any, Literal, TypeVar

from ._validate import PropTypeError, _number, is_token, seconds_text

TokenPolicy = Literal["pass", "synth"]
F = TypeVar("F", bound=Callable[..., Any])

# Text of a value in an error: never a token's internal encoding, never a page of repr.
_MAX_SHOWN = 80


# --------------------------------------------------------------------------------------------- tokens


def describe_token(value: object, scope: object = None) -> str:
    """A token in words: ``a CloudFormation parameter (Ref Size)``, ``an imported value (Fn::ImportValue X)``..."""
    resolved: object = None
    if scope is not None:
        try:
            from aws_cdk import Stack

            resolved = Stack.of(scope).resolve(value)  # type: ignore[arg-type]
        except Exception:
            resolved = None
    if isinstance(resolved, Mapping) and len(resolved) == 1:
        ((function, argument),) = resolved.items()
        if function == "Ref" and isinstance(argument, str):
            if argument.startswith("AWS::"):
                return f"a pseudo parameter ({argument})"
            return f"a CloudFormation parameter or resource reference (Ref {argument})"
        if function == "Fn::ImportValue":
            return f"an imported value (Fn::ImportValue {argument if isinstance(argument, str) else '...'})"
        if function == "Fn::GetAtt":
            return (
                "a resource attribute (Fn::GetAtt "
                + (".".join(map(str, argument)) if isinstance(argument, list) else "...")
                + ")"
            )
        return f"a CloudFormation expression ({function})"
    if resolved is not None and not is_token(resolved):
        return "a Lazy value"
    return "a value known only at deploy time (a token)"


# ---------------------------------------------------------------------------------------------- values


def show(value: object, scope: object = None) -> str:
    """``value`` as the user wrote it, for an error message."""
    if is_token(value) and not _is_duration(value) and not _is_size(value):
        return describe_token(value, scope)
    if (_is_duration(value) or _is_size(value)) and value.is_unresolved():  # type: ignore[attr-defined]
        return _unit_token(value, scope)
    if _is_duration(value):
        seconds = value.to_seconds(integral=False)  # type: ignore[attr-defined]
        written = str(value.to_string())  # type: ignore[attr-defined]
        if written.startswith("Duration.seconds("):
            return seconds_text(seconds)
        return f"{written} ({seconds_text(seconds)})"
    if _is_size(value):
        return _size_text(value)
    if isinstance(value, Enum):
        return f"{type(value).__name__}.{value.name}"
    if isinstance(value, str | int | float | bool | type(None)):
        text = repr(value)
    elif _is_construct(value):
        return f"{type(value).__name__} {value.node.path!r}"  # type: ignore[attr-defined]
    elif isinstance(value, Mapping | list | tuple):
        text = repr(value)
    else:
        text = f"a {type(value).__name__}"
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


_TOKEN_UNITS = {
    "Duration": ("millis", "seconds", "minutes", "hours", "days"),
    "Size": ("bytes", "kibibytes", "mebibytes", "gibibytes", "tebibytes", "pebibytes"),
}


def _token_unit_of(value: Any) -> str | None:
    """The unit a Duration or Size of a token was written in: aws-cdk-lib converts a token only to its own unit
    and raises for any other, on every version (2.258's Size has no ``to_string`` to read it from)."""
    for unit in _TOKEN_UNITS[type(value).__name__]:
        try:
            getattr(value, "to_milliseconds" if unit == "millis" else f"to_{unit}")()
        except Exception:
            continue
        return unit
    return None


def _unit_token(value: Any, scope: object) -> str:
    """A Duration or Size of a token, as written: ``Duration.minutes(a CloudFormation parameter ... (Ref P))``."""
    kind, unit = type(value).__name__, _token_unit_of(value)
    if unit is None:
        return f"{kind}(a value known only at deploy time)"
    amount = getattr(value, "to_milliseconds" if unit == "millis" else f"to_{unit}")()
    return f"{kind}.{unit}({describe_token(amount, scope)})"


_SIZE_UNITS: tuple[tuple[str, str, int], ...] = (
    ("pebibytes", "PiB", 2**50),
    ("tebibytes", "TiB", 2**40),
    ("gibibytes", "GiB", 2**30),
    ("mebibytes", "MiB", 2**20),
    ("kibibytes", "KiB", 2**10),
    ("bytes", "bytes", 1),
)


def _written(value: Any) -> str | None:
    """``Duration.minutes(5)``, ``Size.gibibytes(2)``: aws-cdk-lib's ``to_string``, where it has one (2.258's Size
    has none)."""
    method = getattr(value, "to_string", None)
    return str(method()) if method is not None else None


def _size_as_written(size: Any) -> str:
    """A concrete Size as written, or (without ``to_string``) in the largest unit that holds it whole."""
    written = _written(size)
    if written is not None:
        return written
    number = float(size.to_bytes(rounding=_no_rounding()))
    method, _, per = next(u for u in _SIZE_UNITS if (number / u[2]).is_integer() or u[2] == 1)
    return f"Size.{method}({_number(number / per)})"


def _size_text(size: Any) -> str:
    """``Size.mebibytes(1536) (1.5 GiB)``: as written (aws-cdk-lib's ``to_string`` where it has one; 2.258 has
    not, so the largest whole unit), then in the largest unit of at least one."""
    number = float(size.to_bytes(rounding=_no_rounding()))
    text = _size_as_written(size)
    try:
        human = str(size.to_human_string())
    except Exception:  # 2.258 has none; it refuses a fractional number of bytes
        _, label, per = next((u for u in _SIZE_UNITS if number >= u[2]), _SIZE_UNITS[-1])
        human = f"{number / per:.10g} {label}"
    return f"{text} ({human})"


def _no_rounding() -> Any:
    from aws_cdk import SizeRoundingBehavior

    return SizeRoundingBehavior.NONE


def _cdk_class(name: str) -> type | None:
    import sys

    module = sys.modules.get("aws_cdk")
    return getattr(module, name, None) if module is not None else None


def _is_duration(value: object) -> bool:
    cls = _cdk_class("Duration")
    return cls is not None and isinstance(value, cls)


def _is_size(value: object) -> bool:
    cls = _cdk_class("Size")
    return cls is not None and isinstance(value, cls)


def _is_construct(value: object) -> bool:
    import sys

    module = sys.modules.get("constructs")
    return module is not None and isinstance(value, module.Construct)


# ----------------------------------------------------------------------------------------------- rules


@dataclass(frozen=True, kw_only=True)
class Context:
    """Where a value is checked: the construct (or its scope, before it exists) and the other props."""

    scope: object = None
    owner: type | None = None
    props: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One prop's rule. Subclasses implement :meth:`_check`; the base handles None and tokens.

    :param optional: None is allowed (and means the default behaviour).
    :param tokens: ``"pass"`` lets a token through (the value is only passed on); ``"synth"`` refuses it
        (the library needs the value at synth time).
    :param source: the AWS document the limit comes from (shown by :func:`describe`, kept next to the number).
    :param why: why a token is refused (``"the alarm threshold is computed from it"``).
    """

    optional: bool = False
    tokens: TokenPolicy = "pass"
    source: str | None = None
    why: str | None = None

    #: What the rule allows, in words (``"a whole number from 1 to 1000"``); subclasses set it.
    def allowed(self) -> str:
        raise NotImplementedError

    def check(self, prop: str, value: object, ctx: Context | None = None) -> None:
        ctx = ctx or Context()
        if value is None:
            if self.optional:
                return
            raise PropTypeError(f"{prop} must be {self.allowed()}, got None")
        if self._token_inside(value):
            if self.tokens == "pass":
                return
            why = f" ({self.why})" if self.why else ""
            raise ValueError(f"{prop} must be known at synth time{why}, got {show(value, ctx.scope)}")
        self._check(prop, value, ctx)

    def _token_inside(self, value: object) -> bool:
        return is_token(value)

    def _check(self, prop: str, value: object, ctx: Context) -> None:
        raise NotImplementedError

    def fail(
        self, prop: str, value: object, ctx: Context, *, kind: type[Exception] = ValueError, why: str = ""
    ) -> None:
        raise kind(f"{prop} must be {self.allowed()}{why}, got {show(value, ctx.scope)}")


@dataclass(frozen=True, kw_only=True)
class Anything(Rule):
    """No check, with the reason (``scope`` is checked by the base class, a dict passed to aws-cdk-lib...)."""

    reason: str

    def allowed(self) -> str:
        return "anything"

    def check(self, prop: str, value: object, ctx: Context | None = None) -> None:
        return


@dataclass(frozen=True, kw_only=True)
class Bool(Rule):
    def allowed(self) -> str:
        return "True or False"

    def _check(self, prop: str, value: object, ctx: Context) -> None:
        if not isinstance(value, bool):
            self.fail(prop, value, ctx, kind=PropTypeError)


@dataclass(frozen=True)
class Int(Rule):
    """A whole number (not a bool, not a float) in ``minimum..maximum``."""

    minimum: int
    maximum: int

    def allowed(self) -> str:
        return f"a whole number from {self.minimum} to {self.maximum}"

    def _check(self, prop: str, value: object, ctx: Context) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(prop, value, ctx, kind=PropTypeError)
        assert isinstance(value, int)
        if not self.minimum <= value <= self.maximum:
            raise ValueError(f"{prop} must be {self.minimum}-{self.maximum}, got {value}")


@dataclass(frozen=True)
class Number(Rule):
    """A finite number in ``minimum..maximum`` (ints and floats; not a bool)."""

    minimum: float = 0.0
    maximum: float = math.inf
    unit: str = ""

    def allowed(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        if self.maximum == math.inf:
            return f"a finite number >= {_number(self.minimum)}{unit}"
        return f"a number from {_number(self.minimum)} to {_number(self.maximum)}{unit}"

    def _check(self, prop: str, value: object, ctx: Context) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PropTypeError(f"{prop} must be a number ({self.allowed()}), got {show(value, ctx.scope)}")
        if not math.isfinite(value) or not self.minimum <= value <= self.maximum:
            self.fail(prop, value, ctx)


@dataclass(frozen=True)
class Percent(Number):
    """A percent, 0-100, refusing what reads as a fraction (0.8 for 80 %) unless ``fractions`` allows it."""

    minimum: float = 0.0
    maximum: float = 100.0
    unit: str = "percent"
    fractions: bool = False

    def _check(self, prop: str, value: object, ctx: Context) -> None:
        super()._check(prop, value, ctx)
        assert isinstance(value, int | float)
        if not self.fractions and 0 < value < 1:
            self.fail(prop, value, ctx, why=f" (a percent, not a fraction: write {_number(value * 100)} for that)")


@dataclass(frozen=True)
class Seconds(Rule):
    """An ``aws_cdk.Duration`` in any unit, ``minimum..maximum`` seconds, whole seconds unless ``whole=False``.

    ``text`` words the range when seconds are not the natural unit (``"24-8760 hours"``); ``token_unit``
    is the unit aws-cdk-lib reads a token Duration in (a token written in another unit cannot be converted)."""

    minimum: float
    maximum: float
    text: str | None = None
    whole: bool = True
    token_unit: str | None = None
    step: tuple[int, str] | None = None  # (seconds, unit name): the value must be a whole number of that unit
    _prop: str = field(default="", repr=False, compare=False)

    def allowed(self) -> str:
        return self.text or f"{_number(self.minimum)}-{_number(self.maximum)} seconds"

    def _token_inside(self, value: object) -> bool:
        if _is_duration(value):
            if (
                value.is_unresolved()  # type: ignore[attr-defined]
                and self.token_unit is not None
                and self.tokens == "pass"
                and _token_unit_of(value) != self.token_unit
            ):
                raise ValueError(
                    f"{self._prop} must be written Duration.{self.token_unit}(...) when its value is a token "
                    f"(aws-cdk-lib cannot convert a deploy-time value to {self.token_unit}), got {show(value)}"
                )
            return bool(value.is_unresolved())  # type: ignore[attr-defined]
        return is_token(value)

    def check(self, prop: str, value: object, ctx: Context | None = None) -> None:
        object.__setattr__(self, "_prop", prop)  # for the token-unit message of _token_inside
        super().check(prop, value, ctx)

    def _check(self, prop: str, value: object, ctx: Context) -> None:
        if not _is_duration(value):
            hint = ""
            if isinstance(value, int | float) and not isinstance(value, bool):
                hint = f" (a bare number is ambiguous: write Duration.seconds({value}) or Duration.millis({value}))"
            raise PropTypeError(
                f"{prop} must be an aws_cdk.Duration, got {show(value, ctx.scope)}{hint}; allowed: {self.allowed()}"
            )
        seconds = float(value.to_seconds(integral=False))  # type: ignore[attr-defined]
        if self.whole and not seconds.is_integer():
            raise ValueError(f"{prop} must be a whole number of seconds, got {show(value, ctx.scope)}")
        if self.step is not None and not (seconds / self.step[0]).is_integer():
            raise ValueError(f"{prop} must be a whole number of {self.step[1]}, got {show(value, ctx.scope)}")
        if not self.minimum <= seconds <= self.maximum:
            self.fail(prop, value, ctx)


@dataclass(frozen=True)
class Bytes(Rule):
    """An ``aws_cdk.Size`` within ``minimum..maximum`` bytes, a whole number of ``whole`` units
    (``"gibibytes"``, ``"mebibytes"``...) when set, never truncated. ``token_unit`` is the unit aws-cdk-lib
    reads a token Size in (a token written in another unit cannot be converted)."""

    minimum: int
    maximum: int
    whole: str | None = None
    text: str | None = None
    token_unit: str | None = None
    _prop: str = field(default="", repr=False, compare=False)

    def allowed(self) -> str:
        return self.text or f"{self.minimum}-{self.maximum} bytes"

    def check(self, prop: str, value: object, ctx: Context | None = None) -> None:
        object.__setattr__(self, "_prop", prop)  # for the token-unit message of _token_inside
        super().check(prop, value, ctx)

    def _token_inside(self, value: object) -> bool:
        if not _is_size(value):
            return is_token(value)
        unresolved = bool(value.is_unresolved())  # type: ignore[attr-defined]
        if (
            unresolved
            and self.token_unit is not None
            and self.tokens == "pass"
            and _token_unit_of(value) != self.token_unit
        ):
            raise ValueError(
                f"{self._prop} must be written Size.{self.token_unit}(...) when its value is a token "
                f"(aws-cdk-lib cannot convert a deploy-time value to {self.token_unit}), got {show(value)}"
            )
        return unresolved

    def _check(self, prop: str, value: object, ctx: Context) -> None:
        if not _is_size(value):
            self.fail(prop, value, ctx, kind=PropTypeError, why=" (an aws_cdk.Size)")
        size: Any = value
        number = float(size.to_bytes(rounding=_no_rounding()))
        shown, converted = show(value, ctx.scope), number
        if self.whole is not None:  # the value in the unit that must be whole: Size.mebibytes(8500) (8.30078 GiB)
            converted = float(getattr(size, f"to_{self.whole}")(rounding=_no_rounding()))
            amount = _number(converted) if converted.is_integer() else f"{converted:.6g}"
            shown = f"{_size_as_written(size)} ({amount} {_SIZE_ABBREVIATIONS.get(self.whole, self.whole)})"
        if not self.minimum <= number <= self.maximum:
            raise ValueError(f"{prop} must be {self.allowed()}, got {shown}")
        if self.whole is not None and not converted.is_integer():
            unit = _SIZE_ABBREVIATIONS.get(self.whole, self.whole)
            raise ValueError(f"{prop} must be a whole number of {unit} ({self.whole}; nothing is rounded), got {shown}")


_SIZE_ABBREVIATIONS = {
    "kibibytes": "KiB",
    "mebibytes": "MiB",
    "gibibytes": "GiB",
    "tebibytes": "TiB",
    "pebibytes": "PiB",
}


@dataclass(frozen=True)
class EpochSeconds(Rule):
    """A Unix time in seconds (not milliseconds), not in the future unless ``future`` allows it."""

    future: bool = False

    def allowed(self) -> str:
        return "a Unix time in seconds" + ("" if self.future else ", not in the future")

    def _check(self, prop: str, value: object, ctx: Context) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            self.fail(prop, value, ctx, kind=PropTypeError)
        assert isinstance(value, int | float)
        now = time.time()
        if value > 10 * now:  # ~1.7e12 today: milliseconds
            self.fail(prop, value, ctx, why=f" (this looks like milliseconds: {_number(value / 1000)} seconds?)")
        if value < 0 or (not self.future and value > now + 60):
            self.fail(prop, value, ctx)


@dataclass(frozen=True)
class OneOf(Rule):
    """One of ``values`` (strings, or the members of a jsii enum)."""

    values: tuple[Any, ...]

    def allowed(self) -> str:
        return "one of " + ", ".join(show(v) for v in self.values)

    def _check(self, prop: str, value: object, ctx: Context) -> None:
        if value not in self.values:
            self.fail(
                prop,
                value,
                ctx,
                kind=PropTypeError if type(value) not in {type(v) for v in self.values} else ValueError,
            )


@dataclass(frozen=True)
class Instance(Rule):
    """An instance of ``cls`` (a Python class, a jsii class, a jsii enum); ``text`` names it for the user."""

    cls: type | tuple[type, ...]
    text: str

    def allowed(self) -> str:
        return self.text

    def _check(self, prop: str, value: object, ctx: Context) -> None:
        if not isinstance(value, self.cls):
            self.fail(prop, value, ctx, kind=PropTypeError)


@dataclass(frozen=True)
class Interface(Rule):
    """A jsii interface (``kms.IKey``...), which Python cannot isinstance-check: the members the construct
    uses must be there. From another App (``same_app``) it is refused: CDK cannot reference across Apps."""

    text: str
    attributes: tuple[str, ...] = ()
    same_app: bool = True

    def allowed(self) -> str:
        return self.text

    def _check(self, prop: str, value: object, ctx: Context) -> None:
        if isinstance(value, str | bytes | int | float | Mapping) or not all(
            hasattr(value, a) for a in self.attributes
        ):
            self.fail(prop, value, ctx, kind=PropTypeError)
        if self.same_app and _is_construct(value) and _is_construct(ctx.scope):
            from ._stacks import check_same_app  # one rule for every entry point: another App or Stage

            check_same_app(ctx.scope, value, prop)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Text(Rule):
    """A string of ``min_length..max_length`` characters fully matching ``pattern`` (if given)."""

    text: str
    pattern: str | None = None
    min_length: int = 1
    max_length: int = 2**31

    def allowed(self) -> str:
        return self.text

    def _check(self, prop: str, value: object, ctx: Context) -> None:
        if not isinstance(value, str):
            self.fail(prop, value, ctx, kind=PropTypeError)
        assert isinstance(value, str)
        if not self.min_length <= len(value) <= self.max_length:
            self.fail(prop, value, ctx, why=f" ({len(value)} characters)")
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            self.fail(prop, value, ctx)


@dataclass(frozen=True, kw_only=True)
class _Composite(Rule):
    """A rule over items (a list, a mapping, a dataclass): a token inside is judged by the item's own rule."""

    def _token_inside(self, value: object) -> bool:
        return False

    def _mapping(self, prop: str, value: object, ctx: Context) -> Mapping[Any, Any]:
        if not isinstance(value, Mapping):
            self.fail(prop, value, ctx, kind=PropTypeError)
        assert isinstance(value, Mapping)
        return value


@dataclass(frozen=True)
class ListOf(_Composite):
    """A list or tuple (not a string) of ``min_length..max_length`` items, each checked by ``item``."""

    item: Rule
    min_length: int = 0
    max_length: int = 2**31
    text: str | None = None

    def allowed(self) -> str:
        return self.text or f"a list of {self.item.allowed()}"

    def _check(self, prop: str, value: object, ctx: Context) -> None:
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, list | tuple):
            self.fail(prop, value, ctx, kind=PropTypeError)
        assert isinstance(value, list | tuple)
        if not self.min_length <= len(value) <= self.max_length:
            raise ValueError(
                f"{prop} must hold {self.min_length}-{self.max_length} items"
                + (f" ({self.source})" if self.source else "")
                + f", got {len(value)}"
            )
        for index, item in enumerate(value):
            self.item.check(f"{prop}[{index}]", item, ctx)


@dataclass(frozen=True)
class MappingOf(_Composite):
    """A mapping whose keys match ``keys`` and whose values match ``values``."""

    keys: Rule
    values: Rule
    max_length: int = 2**31
    text: str | None = None

    def allowed(self) -> str:
        return self.text or f"a mapping of {self.keys.allowed()} to {self.values.allowed()}"

    def _check(self, prop: str, value: object, ctx: Context) -> None:
        value = self._mapping(prop, value, ctx)
        if len(value) > self.max_length:
            raise ValueError(f"{prop} must hold at most {self.max_length} entries, got {len(value)}")
        for key, item in value.items():
            self.keys.check(f"{prop} key {key!r}", key, ctx)
            self.values.check(f"{prop}[{key!r}]", item, ctx)


@dataclass(frozen=True)
class Props(_Composite):
    """A mapping of another construct's props (``queue_props``), each checked by that construct's rule;
    ``only`` restricts the keys (and ``only_why`` says why). ``inherit`` names props of the outer table
    that the inner rules see as their own (QueueFunction's ``fifo`` decides what a ``queue_props['queue_name']``
    must end in): they are not checked again, only read."""

    rules: Rules
    only: tuple[str, ...] | None = None
    only_why: str = ""
    text: str = "a mapping of props"
    inherit: tuple[str, ...] = ()

    def allowed(self) -> str:
        return self.text

    def _check(self, prop: str, value: object, ctx: Context) -> None:
        value = self._mapping(prop, value, ctx)
        known = self.only if self.only is not None else tuple(self.rules.props)
        for key in value:
            if key not in known:
                raise ValueError(
                    f"{prop} has an unknown prop {key!r}{_did_you_mean(key, known)}; "
                    f"it takes {', '.join(known)}{self.only_why}"
                )
        outer = {name: ctx.props.get(name) for name in self.inherit if name not in value}
        self.rules.check_values(value, ctx, prefix=prop, only_given=True, outer=outer)


@dataclass(frozen=True)
class Fields(_Composite):
    """A dataclass (``AlarmSettings``...): each field checked by its rule, under ``prop.field``."""

    cls: type
    rules: Rules
    text: str

    def allowed(self) -> str:
        return self.text

    def _check(self, prop: str, value: object, ctx: Context) -> None:
        if not isinstance(value, self.cls):
            self.fail(prop, value, ctx, kind=PropTypeError)
        values = {f.name: getattr(value, f.name) for f in fields(self.cls)}
        self.rules.check_values(values, ctx, prefix=prop, attribute=True)


@dataclass(frozen=True)
class Custom(Rule):
    """A check the other rules cannot say: ``function(prop, value, ctx)`` raises the error itself."""

    function: Callable[[str, Any, Context], None]
    text: str

    def allowed(self) -> str:
        return self.text

    def _check(self, prop: str, value: object, ctx: Context) -> None:
        self.function(prop, value, ctx)


@dataclass(frozen=True, kw_only=True)
class AllOf(Rule):
    """Every one of ``rules`` (a type rule, then a domain rule...)."""

    rules: tuple[Rule, ...]

    def allowed(self) -> str:
        return " and ".join(rule.allowed() for rule in self.rules)

    def check(self, prop: str, value: object, ctx: Context | None = None) -> None:
        for rule in self.rules:
            rule.check(prop, value, ctx)


Relation = Callable[[Mapping[str, Any], Context], None]


@dataclass(frozen=True)
class Rules:
    """The rules of one constructor or method: ``props`` by argument name, then ``relations`` across them."""

    props: Mapping[str, Rule]
    relations: Sequence[Relation] = ()

    def check_values(
        self,
        values: Mapping[str, Any],
        ctx: Context,
        *,
        prefix: str = "",
        only_given: bool = False,
        attribute: bool = False,
        outer: Mapping[str, Any] | None = None,
    ) -> None:
        """Check ``values``; ``outer`` are props the rules may read (``ctx.props``) but that are not checked here."""
        inner = Context(scope=ctx.scope, owner=ctx.owner, props={**(outer or {}), **values})
        for name, rule in self.props.items():
            if only_given and name not in values:
                continue
            label = name if not prefix else (f"{prefix}.{name}" if attribute else f"{prefix}[{name!r}]")
            rule.check(label, values.get(name), inner)
        for relation in self.relations:
            if not prefix:
                relation(values, inner)

    def __or__(self, other: Rules) -> Rules:
        return Rules({**self.props, **other.props}, (*self.relations, *other.relations))


def check_fields(instance: object, rules: Rules) -> None:
    """Check a dataclass's fields against ``rules`` where it is made (its ``__post_init__``), for a value object
    that is not a construct (``Throughput``): errors read ``Throughput: write_mib_per_s must be ..., got ...``."""
    values = {f.name: getattr(instance, f.name) for f in fields(instance)}  # type: ignore[arg-type]
    try:
        rules.check_values(values, Context(owner=type(instance)))
    except Exception as error:
        reraise(error, type(instance).__name__)


def requires(prop: str, condition: str, *, text: str | None = None) -> Relation:
    """``prop`` may only be set (truthy) when ``condition`` is truthy, e.g. FIFO-only props."""

    def relation(values: Mapping[str, Any], ctx: Context) -> None:
        if values.get(prop) and not values.get(condition):
            raise ValueError(f"{prop}={show(values[prop], ctx.scope)} requires {text or condition + '=True'}")

    return relation


def exclusive(*props: str) -> Relation:
    """At most one of ``props`` may be given (not None)."""

    def relation(values: Mapping[str, Any], ctx: Context) -> None:
        given = [name for name in props if values.get(name) is not None]
        if len(given) > 1:
            raise ValueError(f"give only one of {', '.join(props)}; got {', '.join(given)}")

    return relation


# ------------------------------------------------------------------------------------------ the guard

_blamed: contextvars.ContextVar[str | None] = contextvars.ContextVar("decoupling_blamed", default=None)
_MARK = "_decoupling_path"
_BLAMED = "_decoupling_blamed"


@contextmanager
def blame(prop: str) -> Iterator[None]:
    """An aws-cdk-lib error raised in this block is about ``prop``: the guard names it."""
    token = _blamed.set(prop)
    try:
        yield
    except Exception as error:
        if not hasattr(error, _BLAMED):
            setattr(error, _BLAMED, prop)
        raise
    finally:
        _blamed.reset(token)


def _did_you_mean(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _where(cls: type, node_path: str, method: str | None) -> str:
    return f"{cls.__name__} {node_path!r}" + (f" {method}()" if method else "")


def _path_of(scope: object, construct_id: object) -> str:
    try:
        parent = scope.node.path  # type: ignore[attr-defined]
    except Exception:
        parent = ""
    return f"{parent}/{construct_id}" if parent else str(construct_id)


def ours(error: BaseException) -> bool:
    """Whether ``error`` is already a library error with its construct in front."""
    return bool(getattr(error, _MARK, False))


def reraise(error: BaseException, where: str) -> None:
    """Raise ``error`` as the library's ValueError/TypeError with ``where`` in front (never returns)."""
    if ours(error):
        raise error
    prop = getattr(error, _BLAMED, None) or _blamed.get()
    if isinstance(error, PropTypeError) or (isinstance(error, TypeError) and type(error).__module__ == "builtins"):
        cls: type[Exception] = PropTypeError
    else:
        cls = ValueError
    own = type(error).__module__ in ("builtins", PropTypeError.__module__) and isinstance(error, ValueError | TypeError)
    message = str(error).strip()
    if not own or isinstance(error, AttributeError):
        # aws-cdk-lib's (jsii's) own error: keep its text (without jsii's stack), name what it was about.
        first = message.splitlines()[0] if message else type(error).__name__
        about = f"{prop}: " if prop else ""
        message = f"{about}aws-cdk-lib refused it: {first}"
    elif prop and not message.startswith(prop):
        message = f"{prop}: {message}"
    wrapped = cls(f"{where}: {message}")
    setattr(wrapped, _MARK, True)
    raise wrapped from (error if not own else None)


def guarded(rules: Rules) -> Callable[[F], F]:
    """Check a constructor's or public method's arguments against ``rules`` before its body runs, and
    re-raise any error of the body (ours, Python's or aws-cdk-lib's) with the construct's class and path."""

    def decorate(function: F) -> F:
        signature = inspect.signature(function)
        parameters = [p for p in signature.parameters.values() if p.name != "self"]
        is_init = function.__name__ == "__init__"
        method = None if is_init else function.__name__
        names = [p.name for p in parameters if p.kind is not inspect.Parameter.VAR_KEYWORD]
        missing = [n for n in names if n not in rules.props and not (is_init and n in ("scope", "construct_id"))]
        if missing and not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
            raise AssertionError(f"{function.__qualname__}: no rule for {', '.join(missing)}")

        @functools.wraps(function)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            cls = type(self)
            if is_init:
                scope = args[0] if args else kwargs.get("scope")
                construct_id = args[1] if len(args) > 1 else kwargs.get("construct_id")
                from ._validate import check_scope

                check_scope(cls.__name__, scope, construct_id)
                where = _where(cls, _path_of(scope, construct_id), None)
                ctx_scope = scope
            else:
                where = _where(cls, self.node.path, method)
                ctx_scope = self
            try:
                try:
                    bound = signature.bind(self, *args, **kwargs)
                except TypeError as error:
                    raise PropTypeError(_binding_error(error, names)) from None
                bound.apply_defaults()
                values = dict(bound.arguments)
                values.pop("self", None)
                for parameter in parameters:
                    # **options: checked as one mapping by its own rule, else each option by the table's rules
                    if parameter.kind is inspect.Parameter.VAR_KEYWORD and parameter.name not in rules.props:
                        values.update(values.pop(parameter.name, {}))
                rules.check_values(values, Context(scope=ctx_scope, owner=cls))
                return function(self, *args, **kwargs)
            except Exception as error:
                if isinstance(error, AssertionError):
                    raise
                reraise(error, where)

        wrapper.__rules__ = rules  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def _binding_error(error: TypeError, names: Sequence[str]) -> str:
    text = str(error)
    match = re.search(r"unexpected keyword argument '([^']+)'", text)
    if match:
        name = match.group(1)
        return f"unknown prop {name!r}{_did_you_mean(name, names)}; the props are {', '.join(names)}"
    match = re.search(r"missing a required (?:keyword-only )?argument: '([^']+)'", text)
    if match:
        return f"{match.group(1)} is required"
    return f"props must be given by keyword ({', '.join(names)}); {text}"


def rules_of(function: Callable[..., Any]) -> Rules | None:
    """The rules a :func:`guarded` function checks (for the coverage test and the strategies)."""
    return getattr(function, "__rules__", None)


def public_callables(cls: type) -> Iterator[tuple[str, Callable[..., Any]]]:
    """``__init__`` and the public methods ``cls`` defines itself (not properties, not inherited)."""
    for name, member in vars(cls).items():
        if name == "__init__" or (not name.startswith("_") and inspect.isfunction(member)):
            yield name, member


def fields_of(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls)) if is_dataclass(cls) else ()
