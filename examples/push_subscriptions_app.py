"""FanOut push subscribers: a partner's HTTPS endpoint (retries, throttle, its own dead-letter queue), operations
by email, and on-call by SMS."""

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from decoupling_constructs import AlarmTopic, DeliveryStatusLogging, FanOut, HttpDeliveryPolicy, ReliableQueue


class AlertsStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)
        alarms = AlarmTopic(self, "Alarms")
        orders = FanOut(self, "Orders", alarm_topic=alarms)

        # HTTPS only (http:// needs allow_http=True). SNS retries 12 times, at most
        # 1 x 5 s + 10 x 60 s = 605 s in all: a policy over SNS's 3,600 s cap is refused at synth.
        partner_dead_letters = ReliableQueue(self, "PartnerDeadLetters", alarm_topic=alarms)
        orders.add_https_endpoint(
            "Partner",
            "https://partner.example.com/sns/orders",
            filter_policy={"region": sns.SubscriptionFilter.string_filter(allowlist=["eu-west"])},
            delivery_policy=HttpDeliveryPolicy(
                num_retries=12,
                num_no_delay_retries=1,
                num_min_delay_retries=1,
                min_delay=Duration.seconds(5),
                max_delay=Duration.minutes(1),
                backoff=sns.BackoffFunction.EXPONENTIAL,
                max_receives_per_second=10,
            ),
            # Same account and Region as the FanOut; default: the FanOut's undeliverable queue.
            dead_letter_queue=partner_dead_letters,
            # The topic's HTTP/S delivery-status logs: failures always, 25% of successes, kept 3 months.
            delivery_status_logging=DeliveryStatusLogging(
                success_sample_rate=25, retention=logs.RetentionDays.THREE_MONTHS
            ),
        )

        # Pending until someone follows the link SNS mails: synth warns on the subscription.
        orders.add_email(
            "Ops",
            "order-ops@example.com",
            filter_policy={"status": sns.SubscriptionFilter.string_filter(allowlist=["failed"])},
        )

        # E.164; a new account sends SMS from the sandbox (verified numbers only, 1 USD a month).
        orders.add_sms(
            "OnCall",
            "+12065550100",
            filter_policy={"severity": sns.SubscriptionFilter.string_filter(allowlist=["page"])},
            spend_alarm_usd=0.5,
        )


app = cdk.App()
AlertsStack(app, "Alerts")
if __name__ == "__main__":
    app.synth()
