"""CloudWatch alarms shared by every construct: one way to build them, name them, tune them and route them.

Every construct takes the same three alarm props:

* ``alarm_topic``: an ``sns.ITopic`` or an ``AlarmTopic``, notified on ALARM and on OK (the one-line default);
* ``create_alarms``: ``False`` creates no alarm at all;
* ``alarm_settings``: an :class:`AlarmSettings` with a name prefix, extra ALARM and OK actions
  (any ``cloudwatch.IAlarmAction``) and per-alarm :class:`AlarmOptions` overrides, keyed by the
  construct's documented alarm keys; ``None`` for a key removes that alarm.

and exposes ``alarms``: a read-only mapping from those stable keys to the ``cloudwatch.Alarm``.
Each alarm is named ``[<alarm_name_prefix>/]<construct path in its stack>/<key>``: renaming a stack
keeps the names (so it does not silently replace the alarms), and two stacks that deploy the same
construct paths into one account and region need a different ``name_prefix`` each.
"""

from __future__ import annotations

import hashlib
import json
import math
import weakref
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from aws_cdk import Annotations, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from . import _rules as r
from . import _stacks
from . import _validate as v

if TYPE_CHECKING:
    from .alarm_topic import AlarmTopic

# CloudWatch PutMetricAlarm: AlarmName is 1 to 255 characters.
ALARM_NAME_MAX = 255
# The prefix is the user's; keep room for the construct path and the key.
NAME_PREFIX_MAX = 64
# PutMetricAlarm: "Period multiplied by EvaluationPeriods can't be more than 604,800 seconds. For alarms with a
# period of less than one hour (3,600 seconds), the total evaluation period can't be longer than one day
# (86,400 seconds)." The constructs' periods are 1 or 5 minutes, so 1 day / 1 minute bounds every alarm's
# count; Alarms.add checks the product against the alarm's own period.
MAX_EVALUATION_SECONDS = 604_800
MAX_EVALUATION_SECONDS_SHORT_PERIOD = 86_400
SHORT_PERIOD_SECONDS = 3600
MAX_EVALUATION_PERIODS = MAX_EVALUATION_SECONDS_SHORT_PERIOD // 60

# What a metric's values can be, for the reachability rule of Alarms.add: (lowest, highest).
MetricKind = Literal["count", "age", "percent", "ratio", "multiple"]
_METRIC_RANGE: dict[str, tuple[float, float]] = {
    "count": (0.0, math.inf),  # messages, errors, throttles, records: never negative
    "age": (0.0, math.inf),  # seconds or milliseconds
    "percent": (0.0, 100.0),  # CPU, heap, memory, store usage
    "ratio": (0.0, 1.0),  # Firehose DeliveryToS3.Success
    "multiple": (0.0, math.inf),  # a quotient without an upper bound: RabbitMQ's free disk / its free-disk limit
}


@dataclass(frozen=True, kw_only=True)
class AlarmOptions:
    """Overrides for one alarm. A field left ``None`` keeps the construct's default.

    :param threshold: in the alarm's unit (see each construct's alarm table); a ``Duration`` for
        the alarms on an age or a delay, a number for the others.
    :param evaluation_periods: how many periods are evaluated.
    :param datapoints_to_alarm: how many of them must breach (M of N); at most ``evaluation_periods``.
    :param treat_missing_data: default ``NOT_BREACHING`` (an idle resource publishes nothing).
    """

    threshold: float | Duration | None = None
    evaluation_periods: int | None = None
    datapoints_to_alarm: int | None = None
    treat_missing_data: cloudwatch.TreatMissingData | None = None


@dataclass(frozen=True, kw_only=True)
class AlarmSettings:
    """What every construct's ``alarm_settings`` takes, beyond ``alarm_topic`` and ``create_alarms``.

    :param name_prefix: put in front of every alarm name, e.g. the environment (``"prod"``).
    :param alarm_actions: actions on ALARM, in addition to ``alarm_topic``.
    :param ok_actions: actions on OK, in addition to ``alarm_topic``.
    :param overrides: per alarm key, :class:`AlarmOptions` to tune it or ``None`` to remove it.
    """

    name_prefix: str | None = None
    alarm_actions: Sequence[cloudwatch.IAlarmAction] = ()
    ok_actions: Sequence[cloudwatch.IAlarmAction] = ()
    overrides: Mapping[str, AlarmOptions | None] = field(default_factory=dict)


def resolve_alarm_topic(value: object) -> sns.ITopic | None:
    """``alarm_topic`` as a user may give it: None, any ``sns.ITopic``, or an ``AlarmTopic`` (its ``topic``).

    Anything else is refused: an alarm whose action list is silently empty notifies nobody."""
    from .alarm_topic import AlarmTopic

    if value is None:
        return None
    if isinstance(value, AlarmTopic):
        return value.topic
    _ALARM_TOPIC.check("alarm_topic", value)
    return value  # type: ignore[return-value]


def _check_alarm_topic(prop: str, value: object, ctx: r.Context) -> None:
    """Any sns.ITopic or AlarmTopic, but not one CloudWatch cannot publish to: a FIFO topic, or one encrypted
    with the AWS-managed ``alias/aws/sns`` key (CloudWatch User Guide, "Using Amazon CloudWatch alarms":
    alarm actions cannot publish to FIFO topics, nor to topics encrypted with the AWS managed key for SNS)."""
    from .alarm_topic import AlarmTopic

    if isinstance(value, AlarmTopic):
        return
    r.Interface("an sns.ITopic or an AlarmTopic", ("topic_arn", "topic_name", "node")).check(prop, value, ctx)
    topic: Any = value
    fifo = getattr(topic, "fifo", False)
    arn = topic.topic_arn
    if fifo is True or (isinstance(arn, str) and not v.is_token(arn) and arn.endswith(".fifo")):
        raise ValueError(
            f"{prop} must be a standard topic: CloudWatch alarms cannot publish to a FIFO topic, got {r.show(value)}"
        )
    child = topic.node.default_child if isinstance(topic, sns.Topic) else None
    if isinstance(child, sns.CfnTopic) and child.kms_master_key_id is not None:
        resolved = Stack.of(topic).resolve(child.kms_master_key_id)
        if "alias/aws/sns" in json.dumps(resolved):
            raise ValueError(
                f"{prop} must not be encrypted with the AWS-managed key alias/aws/sns (CloudWatch cannot use it, so "
                f"every notification is dropped), got {r.show(value)}: use an AlarmTopic, or a customer-managed key "
                "whose policy allows cloudwatch.amazonaws.com"
            )


_ALARM_TOPIC = r.Custom(_check_alarm_topic, "an sns.ITopic or an AlarmTopic", optional=True, tokens="synth")
_ACTION = r.Interface("a cloudwatch.IAlarmAction (e.g. cw_actions.SnsAction)", ("bind",), tokens="synth")


def _check_threshold(prop: str, value: object, ctx: r.Context) -> None:
    if isinstance(value, Duration):
        r.Seconds(0, math.inf, text="a Duration", tokens="synth", why="the threshold is computed from it").check(
            prop, value, ctx
        )
        return
    r.Number(0, tokens="synth").check(prop, value, ctx)


def _check_override_key(prop: str, value: object, ctx: r.Context) -> None:
    keys = getattr(ctx.owner, "ALARM_KEYS", None)
    r.Text("an alarm key").check(prop, value, ctx)
    if keys is not None and value not in keys:
        allowed = ", ".join(repr(k) for k in sorted(keys)) or "none (this construct has no alarms)"
        raise ValueError(f"alarm_settings.overrides has an unknown alarm key {value!r}; the keys are {allowed}")


#: The rule of every AlarmOptions field.
ALARM_OPTIONS_RULES = r.Rules(
    {
        "threshold": r.Custom(
            _check_threshold,
            "a number >= 0, or a Duration for an alarm on an age",
            optional=True,
            tokens="synth",
            why="the alarm's reachability is checked against it",
        ),
        "evaluation_periods": r.Int(1, MAX_EVALUATION_PERIODS, optional=True, tokens="synth", source="PutMetricAlarm"),
        "datapoints_to_alarm": r.Int(1, MAX_EVALUATION_PERIODS, optional=True, tokens="synth", source="PutMetricAlarm"),
        "treat_missing_data": r.Instance(
            cloudwatch.TreatMissingData, "a cloudwatch.TreatMissingData", optional=True, tokens="synth"
        ),
    },
)
_ALARM_OPTIONS = r.Fields(AlarmOptions, ALARM_OPTIONS_RULES, "an AlarmOptions or None", optional=True, tokens="synth")

#: The rule of every AlarmSettings field.
ALARM_SETTINGS_RULES = r.Rules(
    {
        "name_prefix": r.Text(
            f"1-{NAME_PREFIX_MAX} printable characters",
            pattern=r"[^\x00-\x1f\x7f]+",
            max_length=NAME_PREFIX_MAX,
            optional=True,
            tokens="synth",
            why="alarm names are checked for collisions",
        ),
        "alarm_actions": r.ListOf(_ACTION, text="a list of cloudwatch.IAlarmAction"),
        "ok_actions": r.ListOf(_ACTION, text="a list of cloudwatch.IAlarmAction"),
        "overrides": r.MappingOf(
            r.Custom(_check_override_key, "an alarm key"),
            _ALARM_OPTIONS,
            text="a mapping of alarm key to AlarmOptions",
            tokens="synth",
        ),
    },
)

#: The three alarm props every construct takes, with their rules: add them to a construct's table.
ALARM_PROPS = r.Rules(
    {
        "alarm_topic": _ALARM_TOPIC,
        "create_alarms": r.Bool(),
        "alarm_settings": r.Fields(
            AlarmSettings, ALARM_SETTINGS_RULES, "an AlarmSettings or None", optional=True, tokens="synth"
        ),
    }
)


def _check_settings(settings: object, keys: Collection[str]) -> AlarmSettings:
    """``alarm_settings`` with its override keys checked against ``keys`` (a construct whose keys depend on
    another prop, such as the broker's engine, narrows them here)."""
    if settings is None:
        return AlarmSettings()
    assert isinstance(settings, AlarmSettings)
    for key in settings.overrides:
        if key not in keys:
            allowed = ", ".join(repr(k) for k in sorted(keys)) or "none (this construct has no alarms)"
            raise ValueError(f"alarm_settings.overrides has an unknown alarm key {key!r}; the keys are {allowed}")
    return settings


def alarm_name(owner: Construct, key: str, prefix: str | None) -> str:
    """``[prefix/]<owner's path in its stack>/<key>``, at most 255 characters (a hash keeps long ones unique)."""
    stack_path = Stack.of(owner).node.path
    path = owner.node.path[len(stack_path) + 1 :] if owner.node.path != stack_path else ""
    name = "/".join(part for part in (prefix, path, key) if part)
    if len(name) <= ALARM_NAME_MAX:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    tail = f"~{digest}/{key}"
    return name[: ALARM_NAME_MAX - len(tail)] + tail


def _camel(key: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in key.split("_"))


class Alarms:
    """The alarm props of one construct, checked once; :meth:`add` builds each alarm they leave on.

    ``keys`` are the keys ``alarm_settings.overrides`` may use (an alarm per key, or a family of
    alarms sharing a key, such as one per broker instance).
    """

    def __init__(
        self,
        owner: Construct,
        *,
        alarm_topic: sns.ITopic | AlarmTopic | None,
        create_alarms: bool,
        alarm_settings: AlarmSettings | None,
        keys: Collection[str],
    ) -> None:
        ALARM_PROPS.check_values(
            {"alarm_topic": alarm_topic, "create_alarms": create_alarms, "alarm_settings": alarm_settings},
            r.Context(scope=owner, owner=type(owner)),
        )
        self.owner = owner
        self.topic = resolve_alarm_topic(alarm_topic)
        if self.topic is not None and create_alarms:  # the alarms name it
            _stacks.use(owner, self.topic, self.topic.topic_arn, "alarm_topic")
        self.create_alarms = create_alarms
        self.settings = _check_settings(alarm_settings, keys)
        self.keys = frozenset(keys)
        self._alarms: dict[str, cloudwatch.Alarm] = {}
        self._tuned: set[str] = set()  # the override keys add() was called with
        self.mapping: Mapping[str, cloudwatch.Alarm] = MappingProxyType(self._alarms)

    @classmethod
    def of(
        cls,
        owner: Construct,
        alarm_topic: sns.ITopic | AlarmTopic | None,
        create_alarms: bool,
        alarm_settings: AlarmSettings | None,
        keys: Collection[str] | None = None,
    ) -> Alarms:
        """The three alarm props of ``owner``, keyed by ``keys`` (default its ``ALARM_KEYS``): one spelling for
        every construct."""
        if keys is None:
            keys = getattr(owner, "ALARM_KEYS")  # noqa: B009 (a ClassVar of each construct)
        return cls(
            owner, alarm_topic=alarm_topic, create_alarms=create_alarms, alarm_settings=alarm_settings, keys=keys
        )

    def refuse_unused_overrides(self, why: str) -> None:
        """After the last :meth:`add`: an override for an alarm this construct did not create (its other props
        left it out) is refused with ``why``, never silently ignored."""
        unused = sorted(k for k, o in self.settings.overrides.items() if o is not None and k not in self._tuned)
        if unused and self.create_alarms:
            options = self.settings.overrides[unused[0]]
            field, value = next(
                ((f, getattr(options, f)) for f in r.fields_of(AlarmOptions) if getattr(options, f)), ("", None)
            )
            prop = f"alarm_settings.overrides[{unused[0]!r}]" + (f".{field}" if field else "")
            raise ValueError(
                f"{prop} tunes an alarm this construct does not create ({why}): remove the override, got "
                f"{r.show(value) if field else 'an AlarmOptions'}"
            )

    def enabled(self, key: str) -> bool:
        """Whether the alarm(s) of ``key`` will exist."""
        assert key in self.keys, key
        overrides = self.settings.overrides
        return self.create_alarms and not (key in overrides and overrides[key] is None)

    def options(self, key: str) -> AlarmOptions:
        return self.settings.overrides.get(key) or AlarmOptions()

    def threshold(self, key: str, default: float | Duration) -> float | Duration:
        """The threshold ``key``'s alarm will use: the override, or ``default``.

        An alarm on an age or a delay (a Duration ``default``) takes only a Duration, so that a
        number can never be read in the wrong unit (seconds against milliseconds).
        """
        given = self.options(key).threshold
        if given is None:
            return default
        prop = f"alarm_settings.overrides[{key!r}].threshold"
        shown = r.show(given, self.owner)
        if isinstance(default, Duration) and not isinstance(given, Duration):
            raise v.PropTypeError(f"{prop} must be an aws_cdk.Duration (the alarm is on an age), got {shown}")
        if not isinstance(default, Duration) and isinstance(given, Duration):
            raise v.PropTypeError(f"{prop} must be a number (the alarm is not on a duration), got {shown}")
        if isinstance(given, Duration) and v.duration_seconds(prop, given) is None:
            raise ValueError(
                f"{prop} must be known at synth time (the alarm's threshold is computed from it), got {shown}"
            )
        return given

    def add(
        self,
        key: str,
        *,
        metric: cloudwatch.IMetric,
        threshold: float | Duration,
        description: str,
        unit: Callable[[Duration], float] | None = None,
        comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluation_periods: int = 1,
        datapoints_to_alarm: int | None = None,
        option_key: str | None = None,
        scope: Construct | None = None,
        kind: MetricKind = "count",
        metric_floor: tuple[float, str] | None = None,
    ) -> cloudwatch.Alarm | None:
        """The alarm ``key`` on ``metric`` (None when it is turned off), in ``alarms[key]``.

        ``threshold`` is the default; an override replaces it. A Duration threshold is converted
        with ``unit`` into the metric's unit (e.g. ``Duration.to_seconds``). ``{threshold}`` in
        ``description`` becomes the threshold in words. ``option_key`` (default ``key``) is the key
        its overrides come from, for a family of alarms such as one per broker instance.
        Missing data is not a breach by default: an idle resource publishes nothing.

        Every alarm obeys the same rules, whoever tunes it: ``kind`` says what values the metric takes
        (``count``; ``percent``; ``ratio``, 0-1; ``multiple``, 0 and up, such as free disk over its limit; ``age``
        for a Duration threshold), and a threshold that, with ``comparison``, leaves the alarm always in ALARM or
        never in ALARM is refused, as is a fraction for a percent; ``evaluation_periods`` times the metric's
        period stays within PutMetricAlarm's window.
        """
        option_key = option_key or key
        self._tuned.add(option_key)
        if not self.enabled(option_key):
            return None
        assert key not in self._alarms, key
        options = self.options(option_key)
        prop = f"alarm_settings.overrides[{option_key!r}]"
        with v.validating(self.owner):
            value = self.threshold(option_key, threshold)
            periods = options.evaluation_periods or evaluation_periods
            datapoints = options.datapoints_to_alarm or datapoints_to_alarm
            if datapoints is not None and datapoints > periods:
                raise ValueError(
                    f"{prop}.datapoints_to_alarm must be at most evaluation_periods ({periods}), got {datapoints}"
                )
            _check_window(prop, metric, periods)
            number = value if not isinstance(value, Duration) else _converted(key, value, unit)
            kind = kind if not isinstance(value, Duration) else "age"
            _check_reachable(
                prop, number if not isinstance(value, Duration) else value, number, comparison, kind, metric_floor
            )
        name = alarm_name(self.owner, key, self.settings.name_prefix)
        with v.validating(self.owner):
            _register_name(self.owner, name)
        alarm = cloudwatch.Alarm(
            scope or self.owner,
            _camel(key) + "Alarm",
            alarm_name=alarm_name(self.owner, key, self.settings.name_prefix),
            metric=metric,
            threshold=number,
            comparison_operator=comparison,
            evaluation_periods=periods,
            datapoints_to_alarm=datapoints,
            alarm_description=description.replace("{threshold}", threshold_text(value)),
            treat_missing_data=options.treat_missing_data or cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        if self.topic is not None:
            action = cw_actions.SnsAction(self.topic)
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
        if self.settings.alarm_actions:
            alarm.add_alarm_action(*self.settings.alarm_actions)
        if self.settings.ok_actions:
            alarm.add_ok_action(*self.settings.ok_actions)
        self._alarms[key] = alarm
        return alarm


def _converted(key: str, value: Duration, unit: Callable[[Duration], float] | None) -> float:
    assert unit is not None, f"{key}: a Duration threshold needs a unit"
    return unit(value)


def _period_seconds(metric: cloudwatch.IMetric) -> float | None:
    period = getattr(metric, "period", None)
    if not isinstance(period, Duration) or period.is_unresolved():
        return None
    seconds = period.to_seconds(integral=False)
    return None if v.is_token(seconds) else float(seconds)


def _check_window(prop: str, metric: cloudwatch.IMetric, periods: int) -> None:
    """PutMetricAlarm: period x evaluation periods at most 1 day below 1-hour periods, at most 7 days otherwise."""
    period = _period_seconds(metric)
    if period is None:
        return
    limit = MAX_EVALUATION_SECONDS_SHORT_PERIOD if period < SHORT_PERIOD_SECONDS else MAX_EVALUATION_SECONDS
    if periods * period > limit:
        raise ValueError(
            f"{prop}.evaluation_periods must be at most {int(limit // period)} for this alarm's "
            f"{v.seconds_text(period)} period (CloudWatch evaluates at most {v.seconds_text(limit)}), got {periods}"
        )


_ALWAYS = "always in ALARM"
_NEVER = "never in ALARM"


def _check_reachable(
    prop: str,
    shown: float | Duration,
    threshold: float,
    comparison: cloudwatch.ComparisonOperator,
    kind: str,
    floor: tuple[float, str] | None = None,
) -> None:
    """Refuse a threshold that, with ``comparison``, can never change the alarm's state: the metric's values
    lie in its kind's range (``_METRIC_RANGE``), so e.g. ``>= 0`` on a count is always in ALARM and
    ``>= 150`` on a percent never is. A fraction (0 < x < 1) for a percent reads as one: refused."""
    low, high = _METRIC_RANGE[kind]
    if floor is not None:  # the metric's own lowest value, with the reason (Firehose freshness: its buffer)
        low = max(low, floor[0])
    text = f"{prop}.threshold"
    if v.is_token(threshold):
        return
    if kind == "percent" and 0 < threshold < 1:
        raise ValueError(
            f"{text} must be a percent from 1 to 100 (a percent, not a fraction: write {v._number(threshold * 100)} "
            f"for that), got {threshold_text(shown)}"
        )
    op = cloudwatch.ComparisonOperator
    verdict = None
    if comparison is op.GREATER_THAN_OR_EQUAL_TO_THRESHOLD:
        verdict = _ALWAYS if threshold <= low else _NEVER if threshold > high else None
    elif comparison is op.GREATER_THAN_THRESHOLD:
        verdict = _ALWAYS if threshold < low else _NEVER if threshold >= high else None
    elif comparison is op.LESS_THAN_THRESHOLD:
        verdict = _NEVER if threshold <= low else _ALWAYS if threshold > high else None
    elif comparison is op.LESS_THAN_OR_EQUAL_TO_THRESHOLD:
        verdict = _NEVER if threshold < low else _ALWAYS if threshold >= high else None
    if verdict is not None:
        bounds = f"{v._number(low)}-{v._number(high)}" if high != math.inf else f"at least {v._number(low)}"
        unit = {"percent": " %", "age": " (an age)"}.get(kind, "")
        why = f" ({floor[1]})" if floor is not None and low == floor[0] else ""
        raise ValueError(
            f"{text} would leave the alarm {verdict}: the metric is {bounds}{unit}{why} and the alarm fires when it is "
            f"{_COMPARISON_WORDS.get(comparison, str(comparison))} the threshold, got {threshold_text(shown)}"
        )


_COMPARISON_WORDS = {
    cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD: "at or above",
    cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD: "above",
    cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD: "below",
    cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD: "at or below",
}

# Alarm names are unique per account and Region: the names each App's constructs create, by environment.
_NAMES: weakref.WeakKeyDictionary[Any, dict[str, list[tuple[str, str, str]]]] = weakref.WeakKeyDictionary()


def _register_name(owner: Construct, name: str) -> None:
    """Refuse an alarm name another stack of the same App creates in the same account and Region (two
    environment-agnostic stacks count as the same: `cdk deploy --all` puts them in one account); warn where
    only one of them is environment-agnostic."""
    stack = Stack.of(owner)
    account = None if v.is_token(stack.account) else stack.account
    region = None if v.is_token(stack.region) else stack.region
    seen = _NAMES.setdefault(owner.node.root, {})
    for other_stack, other_account, other_region in seen.get(name, []):
        if other_stack == stack.node.path:
            continue
        same = (account, region) == (other_account or None, other_region or None)
        if same:
            raise ValueError(
                f"alarm_settings.name_prefix: this construct's alarm {name!r} in stack {stack.node.path!r} is also "
                f"created by stack {other_stack!r} in the same account and Region ({_env_text(account, region)}); "
                "alarm names are unique per account and Region, so one would replace the other: give each an "
                "AlarmSettings(name_prefix=...)"
            )
        if account is None or other_account in ("", None):
            Annotations.of(owner).add_warning_v2(
                "decoupling-constructs:alarm-name",
                f"alarm {name!r} of stack {stack.node.path!r} is also created by stack {other_stack!r}; if both "
                "deploy to one account and Region "
                "one replaces the other: give each an AlarmSettings(name_prefix=...)",
            )
    seen.setdefault(name, []).append((stack.node.path, account or "", region or ""))


def _env_text(account: str | None, region: str | None) -> str:
    if account is None and region is None:
        return "both environment-agnostic"
    return f"{account or 'any account'}/{region or 'any Region'}"


def threshold_text(value: float | Duration) -> str:
    """A threshold as an alarm description says it: ``15 minutes`` or ``1``."""
    return value.to_human_string() if isinstance(value, Duration) else v._number(value)
