"""Synth-time validation shared by every construct.

Every check raises ``ValueError`` (a bad value) or :class:`PropTypeError` (a
value of the wrong type, a ``TypeError`` that is also a ``ValueError``) naming
the prop, the value given and what is allowed; :func:`validating` prefixes the
construct's class and path. Unresolved tokens (values known only at deploy time)
are let through where the value is only passed on: they cannot be checked at
synth time and are not an error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .limits import SNS_TOPIC_NAME_MAX as SNS_TOPIC_NAME_MAX
from .limits import SQS_QUEUE_NAME_MAX as SQS_QUEUE_NAME_MAX

if TYPE_CHECKING:  # aws_cdk is imported lazily: capacity.py uses this module without CDK
    from aws_cdk import Duration
    from constructs import Construct


class PropTypeError(TypeError, ValueError):
    """A prop of the wrong type. Both a TypeError (what it is) and a ValueError (what every other
    bad prop raises), so ``except ValueError`` catches every bad input of the library."""


@contextmanager
def validating(construct: Construct, what: str | None = None) -> Iterator[None]:
    """Re-raise a ValueError/TypeError of the block with the construct's class and path in front:
    ``ReliableQueue 'App/Stack/Jobs': max_receive_count must be 1-1000, got 0``."""
    try:
        yield
    except (ValueError, TypeError) as error:
        if getattr(error, "_decoupling_path", False):
            raise
        where = f"{type(construct).__name__} {construct.node.path!r}" + (f" {what}" if what else "")
        cls = type(error) if type(error).__module__ in ("builtins", __name__) else ValueError
        wrapped = cls(f"{where}: {error}")
        setattr(wrapped, "_decoupling_path", True)  # noqa: B010 (marks it prefixed, for nested constructs)
        raise wrapped from None


def check_scope(cls: str, scope: object, construct_id: object) -> None:
    """The first two arguments of every construct, checked before any jsii call."""
    from constructs import Construct

    if not isinstance(scope, Construct):
        raise PropTypeError(f"{cls}: scope must be a construct (an App, Stack or Construct), got {scope!r}")
    if not isinstance(construct_id, str) or not construct_id:
        raise PropTypeError(f"{cls}: construct_id must be a non-empty string, got {construct_id!r}")


def check_bool(prop: str, value: object) -> None:
    if not isinstance(value, bool):
        raise PropTypeError(f"{prop} must be True or False, got {value!r}")


def check_type(prop: str, value: object, cls: type | tuple[type, ...], allowed: str, *, optional: bool = False) -> None:
    """``value`` is an instance of ``cls`` (or None when ``optional``); ``allowed`` names the type."""
    if optional and value is None:
        return
    if not isinstance(value, cls):
        raise PropTypeError(f"{prop} must be {allowed}, got {value!r}")


def check_interface(prop: str, value: object, allowed: str, *attributes: str, optional: bool = True) -> None:
    """A jsii interface (``kms.IKey``, ``sns.ITopic``...) cannot be isinstance-checked in Python:
    check the members the construct uses. None passes when ``optional``."""
    if optional and value is None:
        return
    if isinstance(value, (str, bytes, int, float, Mapping)) or not all(hasattr(value, a) for a in attributes):
        raise PropTypeError(f"{prop} must be {allowed}, got {value!r}")


def check_sequence(prop: str, value: object, item_check: Callable[[str, Any], None]) -> list[Any]:
    """A list or tuple (not a string, not a mapping); ``item_check(f"{prop}[i]", item)`` on each item."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (list, tuple)):
        raise PropTypeError(f"{prop} must be a list, got {value!r}")
    for index, item in enumerate(value):
        item_check(f"{prop}[{index}]", item)
    return list(value)


def check_removal_policy(value: object) -> None:
    from aws_cdk import RemovalPolicy

    check_type("removal_policy", value, RemovalPolicy, "an aws_cdk.RemovalPolicy (RETAIN, SNAPSHOT or DESTROY)")


def is_token(value: object) -> bool:
    """True when ``value`` is (or contains) an unresolved CDK token."""
    from aws_cdk import Token

    return Token.is_unresolved(value)


def _number(value: float) -> str:
    """1000000 rather than 1e+06, 1.5 rather than 1.5000."""
    return str(int(value)) if value == int(value) else str(value)


def seconds_text(seconds: float) -> str:
    return f"{_number(seconds)} second" if seconds == 1 else f"{_number(seconds)} seconds"


def duration_seconds(prop: str, value: Duration) -> float | None:
    """The duration in seconds, or None when it is a token."""
    from aws_cdk import Duration

    if not isinstance(value, Duration):
        raise PropTypeError(f"{prop} must be an aws_cdk.Duration, got {value!r}")
    seconds = value.to_seconds(integral=False)
    if is_token(seconds):
        return None
    return float(seconds)


def check_duration(prop: str, value: Duration, *, minimum: float, maximum: float, allowed: str) -> None:
    """Check ``minimum <= value <= maximum`` (seconds); ``allowed`` words the range for the message.

    Durations must also be whole seconds: every AWS property these feed is an integer.
    """
    seconds = duration_seconds(prop, value)
    if seconds is None:
        return
    if seconds != int(seconds):
        raise ValueError(f"{prop} must be a whole number of seconds, got {seconds_text(seconds)}")
    if not minimum <= seconds <= maximum:
        raise ValueError(f"{prop} must be {allowed}, got {seconds_text(seconds)}")


def check_int(prop: str, value: int, *, minimum: int, maximum: int) -> None:
    """Check an integer prop lies in ``minimum..maximum`` (tokens pass)."""
    if is_token(value):
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise PropTypeError(f"{prop} must be a whole number from {minimum} to {maximum}, got {value!r}")
    if not minimum <= value <= maximum:
        raise ValueError(f"{prop} must be {minimum}-{maximum}, got {value}")


def check_number(prop: str, value: float, *, minimum: float = 0.0, maximum: float | None = None) -> float:
    """A finite number ``>= minimum`` (and ``<= maximum`` when given); used by the capacity planner and the
    run-time helpers (no aws-cdk-lib needed)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PropTypeError(f"{prop} must be a number, got {value!r}")
    if not math.isfinite(value) or value < minimum or (maximum is not None and value > maximum):
        allowed = f">= {minimum:g}" if maximum is None else f"from {minimum:g} to {maximum:g}"
        raise ValueError(f"{prop} must be a finite number {allowed}, got {value!r}")
    return float(value)


def check_count(prop: str, value: object, *, minimum: int, maximum: int | None = None) -> int:
    """A whole number ``minimum..maximum`` (no upper bound when None). Unlike :func:`check_int` it knows no CDK
    tokens, so the run-time helpers can use it without aws-cdk-lib."""
    allowed = f"a whole number >= {minimum}" if maximum is None else f"a whole number from {minimum} to {maximum}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise PropTypeError(f"{prop} must be {allowed}, got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{prop} must be {allowed}, got {value!r}")
    return value


@contextmanager
def validating_helper(owner: str) -> Iterator[None]:
    """:func:`validating` for the run-time helpers, which have no construct path: re-raise a ValueError/TypeError
    of the block with the class in front, ``QueueConsumer: receive_concurrency must be ..., got 0``."""
    try:
        yield
    except (ValueError, TypeError) as error:
        if getattr(error, "_decoupling_path", False):
            raise
        cls = type(error) if type(error).__module__ in ("builtins", __name__) else ValueError
        wrapped = cls(f"{owner}: {error}")
        setattr(wrapped, "_decoupling_path", True)  # noqa: B010 (marks it prefixed)
        raise wrapped from None


def check_one_of(prop: str, value: object, allowed: Iterable[object]) -> None:
    allowed = list(allowed)
    if value not in allowed:
        raise ValueError(f"{prop} must be one of {', '.join(map(repr, allowed))}, got {value!r}")


def check_requires(prop: str, value: object, *, requires: str, condition: bool) -> None:
    """``prop`` may only be set (truthy) when ``condition`` holds, e.g. FIFO-only props."""
    if value and not condition:
        raise ValueError(f"{prop}={value!r} requires {requires}")


def check_exclusive(**props: object) -> None:
    """At most one of the named props may be given (not None)."""
    given = [name for name, value in props.items() if value is not None]
    if len(given) > 1:
        raise ValueError(f"give only one of {', '.join(props)}; got {', '.join(given)}")


# SQS queue names: alphanumerics, hyphens and underscores, up to SQS_QUEUE_NAME_MAX characters,
# including the ".fifo" suffix of a FIFO queue (SQS CreateQueue, QueueName).
_SQS_NAME = re.compile(r"[A-Za-z0-9_-]+")  # fullmatch: "$" would let a trailing newline through


def check_queue_name(prop: str, name: str | None, *, fifo: bool, reserve: int = 0) -> None:
    """Validate an SQS queue name; ``reserve`` characters are kept free for a derived name."""
    check_resource_name(prop, name, kind="queue", fifo=fifo, max_length=SQS_QUEUE_NAME_MAX, reserve=reserve)


def check_topic_name(prop: str, name: str | None, *, fifo: bool) -> None:
    """Validate an SNS topic name."""
    check_resource_name(prop, name, kind="topic", fifo=fifo, max_length=SNS_TOPIC_NAME_MAX)


def check_resource_name(
    prop: str, name: str | None, *, kind: str, fifo: bool, max_length: int, reserve: int = 0
) -> None:
    """An SQS queue or SNS topic name (``kind``): one rule for both, letters, digits, hyphens and
    underscores, ``.fifo`` last exactly when ``fifo``, at most ``max_length - reserve`` characters."""
    if name is None or is_token(name):
        return
    if not isinstance(name, str):
        raise PropTypeError(f"{prop} must be a string, got {name!r}")
    if fifo and not name.endswith(".fifo"):
        raise ValueError(f"{prop} of a FIFO {kind} must end in '.fifo', got {name!r}")
    if not fifo and name.endswith(".fifo"):
        raise ValueError(f"{prop} ends in '.fifo' but fifo is False; set fifo=True or rename, got {name!r}")
    base = name.removesuffix(".fifo")
    if not base or not _SQS_NAME.fullmatch(base):
        raise ValueError(
            f"{prop} may contain only letters, digits, hyphens and underscores (plus a '.fifo' suffix), got {name!r}"
        )
    limit = max_length - reserve
    if len(name) > limit:
        why = f" (the dead-letter queue's name adds {reserve} characters)" if reserve else ""
        raise ValueError(f"{prop} must be at most {limit} characters{why}, got {len(name)}: {name!r}")
