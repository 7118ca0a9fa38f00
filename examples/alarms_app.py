"""The alarm props every construct takes: a topic, no alarms at all, or names, extra actions and overrides."""

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_cloudwatch_actions as cw_actions
from constructs import Construct

from decoupling_constructs import AlarmOptions, AlarmSettings, AlarmTopic, ReliableQueue


class AlarmsStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)
        alarms = AlarmTopic(self, "Alarms")
        pager = AlarmTopic(self, "Pager")

        ReliableQueue(self, "Jobs", alarm_topic=alarms)  # the one-line default: ALARM and OK notify the topic
        ReliableQueue(self, "Batch", create_alarms=False)  # no alarm at all
        orders = ReliableQueue(
            self,
            "Orders",
            alarm_topic=alarms,
            alarm_settings=AlarmSettings(
                name_prefix="prod",  # alarm names: prod/Orders/<key>
                alarm_actions=[cw_actions.SnsAction(pager.topic)],  # any cloudwatch.IAlarmAction, on ALARM
                ok_actions=[],  # ... and on OK
                overrides={
                    "oldest_message_age": AlarmOptions(
                        threshold=Duration.minutes(5), evaluation_periods=3, datapoints_to_alarm=2
                    ),
                    "dead_letter_queue": None,  # None removes that alarm
                },
            ),
        )
        # orders.alarms is a read-only mapping: alarm key -> aws_cloudwatch.Alarm
        assert set(orders.alarms) == {"oldest_message_age"}


if __name__ == "__main__":
    app = cdk.App()
    AlarmsStack(app, "Alarms")
    app.synth()
