"""Synth-time validation shared by every construct.

Every check raises ``ValueError`` naming the prop, the value given and what is
allowed. Unresolved tokens (values known only at deploy time) are let through:
they cannot be checked at synth time and are not an error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # aws_cdk is imported lazily: capacity.py uses this module without CDK
    from aws_cdk import Duration


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
        raise ValueError(f"{prop} must be an aws_cdk.Duration, got {value!r}")
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
        raise ValueError(f"{prop} must be a whole number from {minimum} to {maximum}, got {value!r}")
    if not minimum <= value <= maximum:
        raise ValueError(f"{prop} must be {minimum}-{maximum}, got {value}")


def check_number(prop: str, value: float, *, minimum: float = 0.0) -> float:
    """A finite number ``>= minimum`` (used by the capacity planner)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{prop} must be a number, got {value!r}")
    if not math.isfinite(value) or value < minimum:
        raise ValueError(f"{prop} must be a finite number >= {minimum:g}, got {value!r}")
    return float(value)


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


# SQS queue names: alphanumerics, hyphens and underscores, 1-80 characters,
# including the ".fifo" suffix of a FIFO queue (SQS CreateQueue, QueueName).
SQS_QUEUE_NAME_MAX = 80
_SQS_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def check_queue_name(prop: str, name: str | None, *, fifo: bool, reserve: int = 0) -> None:
    """Validate an SQS queue name; ``reserve`` characters are kept free for a derived name."""
    if name is None or is_token(name):
        return
    if not isinstance(name, str):
        raise ValueError(f"{prop} must be a string, got {name!r}")
    base = name[: -len(".fifo")] if name.endswith(".fifo") else name
    if fifo and not name.endswith(".fifo"):
        raise ValueError(f"{prop} of a FIFO queue must end in '.fifo', got {name!r}")
    if not fifo and name.endswith(".fifo"):
        raise ValueError(f"{prop} ends in '.fifo' but fifo is False; set fifo=True or rename, got {name!r}")
    if not base or not _SQS_NAME.match(base):
        raise ValueError(
            f"{prop} may contain only letters, digits, hyphens and underscores (plus a '.fifo' suffix), got {name!r}"
        )
    limit = SQS_QUEUE_NAME_MAX - reserve
    if len(name) > limit:
        why = f" (the dead-letter queue's name adds {reserve} characters)" if reserve else ""
        raise ValueError(f"{prop} must be at most {limit} characters{why}, got {len(name)}: {name!r}")
