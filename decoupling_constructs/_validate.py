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
    """Re-raise any error of the block (ours, Python's or aws-cdk-lib's) as the library's ValueError/TypeError
    with the construct's class and path in front: ``ReliableQueue 'App/Stack/Jobs': max_receive_count must be
    1-1000, got 0`` (the engine's :func:`_rules.reraise`, the one place errors are shaped)."""
    from ._rules import reraise

    try:
        yield
    except AssertionError:
        raise
    except Exception as error:
        where = f"{type(construct).__name__} {construct.node.path!r}" + (f" {what}" if what else "")
        reraise(error, where)


def check_scope(cls: str, scope: object, construct_id: object) -> None:
    """The first two arguments of every construct, checked before any jsii call."""
    from constructs import Construct

    if not isinstance(scope, Construct):
        raise PropTypeError(f"{cls}: scope must be a construct (an App, Stack or Construct), got {scope!r}")
    if not isinstance(construct_id, str) or not construct_id:
        raise PropTypeError(f"{cls}: construct_id must be a non-empty string, got {construct_id!r}")


def check_bool(prop: str, value: object) -> None:
    from ._rules import Bool

    Bool().check(prop, value)


def check_type(prop: str, value: object, cls: type | tuple[type, ...], allowed: str, *, optional: bool = False) -> None:
    """``value`` is an instance of ``cls`` (or None when ``optional``); ``allowed`` names the type."""
    from ._rules import Instance

    Instance(cls, allowed, optional=optional, tokens="synth").check(prop, value)


def check_interface(prop: str, value: object, allowed: str, *attributes: str, optional: bool = True) -> None:
    """A jsii interface (``kms.IKey``, ``sns.ITopic``...) cannot be isinstance-checked in Python:
    check the members the construct uses. None passes when ``optional``."""
    from ._rules import Interface

    Interface(allowed, attributes, optional=optional, tokens="synth").check(prop, value)


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
    """True when ``value`` is (or contains) an unresolved CDK token. Without aws-cdk-lib loaded (the boto3
    runtime helpers) nothing is a token, and aws-cdk-lib is not loaded to find that out."""
    import sys

    if "aws_cdk" not in sys.modules:
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False  # NaN and infinities are no JSON: sent to jsii, they kill its Node.js process
    from aws_cdk import Token
    from constructs import Construct

    if isinstance(value, Construct):
        return False  # a Stack has resolve(), so Token.is_unresolved would take it for a token

    try:
        return bool(Token.is_unresolved(value))
    except Exception:  # a Python object jsii cannot marshal is no token
        return False


def _number(value: float) -> str:
    """1000000 rather than 1e+06, 1.5 rather than 1.5000."""
    return str(int(value)) if float(value).is_integer() else str(value)


def seconds_text(seconds: float) -> str:
    return f"{_number(seconds)} second" if seconds == 1 else f"{_number(seconds)} seconds"


def duration_seconds(prop: str, value: Duration) -> float | None:
    """The duration in seconds, or None when it is a token."""
    from aws_cdk import Duration

    if not isinstance(value, Duration):
        raise PropTypeError(f"{prop} must be an aws_cdk.Duration, got {value!r}")
    if value.is_unresolved():
        return None
    seconds = value.to_seconds(integral=False)
    if is_token(seconds):
        return None
    return float(seconds)


def check_duration(prop: str, value: Duration, *, minimum: float, maximum: float, allowed: str) -> None:
    """Check ``minimum <= value <= maximum`` (seconds), whole seconds (every AWS property these feed is an
    integer); ``allowed`` words the range for the message. Tokens pass."""
    from ._rules import Seconds

    Seconds(minimum, maximum, text=allowed).check(prop, value)


def check_int(prop: str, value: int, *, minimum: int, maximum: int) -> None:
    """Check an integer prop lies in ``minimum..maximum`` (tokens pass)."""
    from ._rules import Int

    Int(minimum, maximum).check(prop, value)


def check_number(prop: str, value: float, *, minimum: float = 0.0, maximum: float = math.inf) -> float:
    """A finite number in ``minimum..maximum`` (the capacity planner; the run-time helpers' deadlines)."""
    from ._rules import Number

    Number(minimum, maximum, tokens="synth").check(prop, value)
    return float(value)


def check_count(prop: str, value: object, *, minimum: int, maximum: int) -> int:
    """A whole number in ``minimum..maximum`` (the run-time helpers' concurrency options). The engine's
    ``Int`` rule; without aws-cdk-lib loaded nothing is a token, so the helpers need no CDK for it."""
    from ._rules import Int

    Int(minimum, maximum, tokens="synth").check(prop, value)
    assert isinstance(value, int)
    return value


@contextmanager
def validating_helper(owner: str) -> Iterator[None]:
    """:func:`validating` for the run-time helpers, which have no construct path: re-raise a ValueError/TypeError
    of the block with the class in front (``QueueConsumer: receive_concurrency must be ..., got 0``), through the
    engine's :func:`_rules.reraise`."""
    from ._rules import reraise

    try:
        yield
    except AssertionError:
        raise
    except (ValueError, TypeError) as error:
        reraise(error, owner)


# What the run-time helpers take to name their resource: a queue URL, a topic ARN, a stream name (Kinesis
# CreateStream StreamName: 1-128 of a-z A-Z 0-9 _ . -). A name, URL or ARN given for another is refused.
_QUEUE_URL = r"https?://[^\s/]+/\S+"
_SNS_ARN = r"arn:[^:\s]+:sns:[^:\s]*:[^:\s]*:[^:\s]+"
_STREAM_NAME = r"[a-zA-Z0-9_.-]{1,128}"


def _kind_of(value: object) -> str:
    if isinstance(value, str) and value.startswith("arn:"):
        return "an ARN"
    if isinstance(value, str) and "://" in value:
        return "a URL"
    return "a name" if isinstance(value, str) and value else "not one"


def check_queue_url(prop: str, value: object) -> None:
    from ._rules import Text

    Text(
        f"the queue's URL (https://sqs.<region>.amazonaws.com/<account>/<name>, as ReliableQueue.queue_url or "
        f"GetQueueUrl give it; {_kind_of(value)} is not)",
        pattern=_QUEUE_URL,
    ).check(prop, value)


def check_topic_arn(prop: str, value: object) -> None:
    from ._rules import Text

    Text(
        f"the topic's ARN (arn:aws:sns:<region>:<account>:<name>, as FanOut.topic.topic_arn gives it; "
        f"{_kind_of(value)} is not)",
        pattern=_SNS_ARN,
    ).check(prop, value)


def check_stream_name(prop: str, value: object) -> None:
    from ._rules import Text

    Text(
        f"the stream's name, 1-128 letters, digits, '_', '.' and '-' (Kinesis StreamName; {_kind_of(value)} is not)",
        pattern=_STREAM_NAME,
        max_length=128,
    ).check(prop, value)


def check_one_of(prop: str, value: object, allowed: Iterable[object]) -> None:
    from ._rules import OneOf

    OneOf(tuple(allowed)).check(prop, value)


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
        raise PropTypeError(f"{prop} must be a string, got {type(name).__name__} {name!r}")
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
