"""CloudWatch alarms shared by every construct: one way to build them, one way to route them."""

from __future__ import annotations

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from . import _validate as v


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


def add_alarm(
    scope: Construct,
    construct_id: str,
    *,
    metric: cloudwatch.IMetric,
    threshold: float,
    description: str,
    alarm_topic: sns.ITopic | None,
    comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluation_periods: int = 1,
) -> cloudwatch.Alarm:
    """An alarm on ``metric``; missing data is not a breach (idle resources publish nothing).

    When ``alarm_topic`` is given, both the ALARM and the OK transition notify it,
    so on-call sees the recovery as well as the failure.
    """
    alarm = cloudwatch.Alarm(
        scope,
        construct_id,
        metric=metric,
        threshold=threshold,
        comparison_operator=comparison,
        evaluation_periods=evaluation_periods,
        alarm_description=description,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    if alarm_topic is not None:
        action = cw_actions.SnsAction(alarm_topic)
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
    return alarm
