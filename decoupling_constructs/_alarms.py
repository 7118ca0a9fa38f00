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
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from . import _stacks
from . import _validate as v

if TYPE_CHECKING:
    from .alarm_topic import AlarmTopic

# CloudWatch PutMetricAlarm: AlarmName is 1 to 255 characters.
ALARM_NAME_MAX = 255
# The prefix is the user's; keep room for the construct path and the key.
NAME_PREFIX_MAX = 64
# PutMetricAlarm: EvaluationPeriods >= 1, and EvaluationPeriods * Period <= 1 day;
# the constructs' periods are 1 or 5 minutes, so 1 day / 1 minute bounds every alarm.
MAX_EVALUATION_PERIODS = 24 * 60


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

    Anything else is refused: an alarm whose action list is silently empty notifies nobody.
    """
    from .alarm_topic import AlarmTopic

    if value is None:
        return None
    if isinstance(value, AlarmTopic):
        return value.topic
    v.check_interface("alarm_topic", value, "an sns.ITopic or an AlarmTopic", "topic_arn", "topic_name", "node")
    return value  # type: ignore[return-value]


def _check_actions(prop: str, value: object) -> list[cloudwatch.IAlarmAction]:
    def check(item_prop: str, item: object) -> None:
        v.check_interface(
            item_prop, item, "a cloudwatch.IAlarmAction (e.g. cw_actions.SnsAction)", "bind", optional=False
        )

    return v.check_sequence(prop, value, check)


def _check_options(key: str, options: object) -> None:
    prop = f"alarm_settings.overrides[{key!r}]"
    v.check_type(prop, options, AlarmOptions, "an AlarmOptions or None", optional=True)
    if options is None:
        return
    assert isinstance(options, AlarmOptions)
    if options.threshold is not None and not isinstance(options.threshold, Duration):
        v.check_number(f"{prop}.threshold", options.threshold, minimum=0)
    for name in ("evaluation_periods", "datapoints_to_alarm"):
        value = getattr(options, name)
        if value is not None:
            v.check_int(f"{prop}.{name}", value, minimum=1, maximum=MAX_EVALUATION_PERIODS)
    v.check_type(
        f"{prop}.treat_missing_data",
        options.treat_missing_data,
        cloudwatch.TreatMissingData,
        "a cloudwatch.TreatMissingData",
        optional=True,
    )


def _check_settings(settings: object, keys: Collection[str]) -> AlarmSettings:
    v.check_type("alarm_settings", settings, AlarmSettings, "an AlarmSettings or None", optional=True)
    if settings is None:
        return AlarmSettings()
    assert isinstance(settings, AlarmSettings)
    prefix = settings.name_prefix
    if prefix is not None:
        if not isinstance(prefix, str) or v.is_token(prefix):
            raise v.PropTypeError(f"alarm_settings.name_prefix must be a string known at synth time, got {prefix!r}")
        if not 1 <= len(prefix) <= NAME_PREFIX_MAX or not prefix.isprintable():
            raise ValueError(
                f"alarm_settings.name_prefix must be 1-{NAME_PREFIX_MAX} printable characters, got {prefix!r}"
            )
    _check_actions("alarm_settings.alarm_actions", settings.alarm_actions)
    _check_actions("alarm_settings.ok_actions", settings.ok_actions)
    v.check_type("alarm_settings.overrides", settings.overrides, Mapping, "a mapping of alarm key to AlarmOptions")
    for key, options in settings.overrides.items():
        if key not in keys:
            allowed = ", ".join(repr(k) for k in sorted(keys)) or "none (this construct has no alarms)"
            raise ValueError(f"alarm_settings.overrides has an unknown alarm key {key!r}; the keys are {allowed}")
        _check_options(key, options)
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
        v.check_bool("create_alarms", create_alarms)
        self.owner = owner
        self.topic = resolve_alarm_topic(alarm_topic)
        if self.topic is not None and create_alarms:  # the alarms name it
            _stacks.use(owner, self.topic, self.topic.topic_arn, "alarm_topic")
        self.create_alarms = create_alarms
        self.settings = _check_settings(alarm_settings, keys)
        self.keys = frozenset(keys)
        self._alarms: dict[str, cloudwatch.Alarm] = {}
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
        if isinstance(default, Duration) and not isinstance(given, Duration):
            raise v.PropTypeError(f"{prop} must be an aws_cdk.Duration (the alarm is on an age), got {given!r}")
        if not isinstance(default, Duration) and isinstance(given, Duration):
            raise v.PropTypeError(f"{prop} must be a number (the alarm is not on a duration), got {given!r}")
        if isinstance(given, Duration) and v.duration_seconds(prop, given) is None:
            raise ValueError(f"{prop} must be a concrete Duration (the alarm's threshold is computed), got a token")
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
    ) -> cloudwatch.Alarm | None:
        """The alarm ``key`` on ``metric`` (None when it is turned off), in ``alarms[key]``.

        ``threshold`` is the default; an override replaces it. A Duration threshold is converted
        with ``unit`` into the metric's unit (e.g. ``Duration.to_seconds``). ``{threshold}`` in
        ``description`` becomes the threshold in words. ``option_key`` (default ``key``) is the key
        its overrides come from, for a family of alarms such as one per broker instance.
        Missing data is not a breach by default: an idle resource publishes nothing.
        """
        option_key = option_key or key
        if not self.enabled(option_key):
            return None
        assert key not in self._alarms, key
        options = self.options(option_key)
        with v.validating(self.owner):
            value = self.threshold(option_key, threshold)
            periods = options.evaluation_periods or evaluation_periods
            datapoints = options.datapoints_to_alarm or datapoints_to_alarm
            if datapoints is not None and datapoints > periods:
                raise ValueError(
                    f"alarm_settings.overrides[{option_key!r}].datapoints_to_alarm must be at most "
                    f"evaluation_periods ({periods}), got {datapoints}"
                )
        if isinstance(value, Duration):
            assert unit is not None, f"{key}: a Duration threshold needs a unit"
            number = unit(value)
        else:
            number = value
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


def threshold_text(value: float | Duration) -> str:
    """A threshold as an alarm description says it: ``15 minutes`` or ``1``."""
    return value.to_human_string() if isinstance(value, Duration) else v._number(value)
