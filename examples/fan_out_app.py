"""FanOut: one topic to filtered queue subscribers, a function, a Firehose archive, and S3 as a service publisher."""

import dataclasses

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sns as sns
from constructs import Construct

from decoupling_constructs import AlarmOptions, AlarmTopic, FanOut, StreamToS3

NOTIFY_CODE = """
def handler(event, context):
    for record in event["Records"]:
        print("notify", record["Sns"]["MessageId"])
"""


class OrdersStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)
        alarms = AlarmTopic(self, "Alarms")
        orders = FanOut(self, "Orders", alarm_topic=alarms)

        # Every subscriber is a ReliableQueue: its own DLQ, long polling and alarms.
        orders.add_queue("Billing")
        orders.add_queue(
            "Shipping",
            filter_policy={"region": sns.SubscriptionFilter.string_filter(allowlist=["eu-west", "eu-central"])},
            raw_message_delivery=True,
        )
        orders.add_queue(
            "Analytics",
            filter_policy_with_message_body={
                "amount": sns.FilterOrPolicy.filter(sns.SubscriptionFilter.numeric_filter(greater_than_or_equal_to=100))
            },
            # Tune one subscriber's alarms, keeping the FanOut's name prefix and actions.
            alarm_settings=dataclasses.replace(
                orders.subscriber_alarm_settings,
                overrides={"oldest_message_age": AlarmOptions(threshold=Duration.minutes(5))},
            ),
        )

        # SNS -> Lambda, with a filter.
        notify = lambda_.Function(
            self,
            "Notify",
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="index.handler",
            code=lambda_.Code.from_inline(NOTIFY_CODE),
        )
        orders.add_function(
            "Notify", notify, filter_policy={"priority": sns.SubscriptionFilter.string_filter(allowlist=["high"])}
        )

        # SNS -> Firehose: topic messages into a StreamToS3's bucket, under their own prefix.
        clicks = StreamToS3(self, "Clicks", alarm_topic=alarms)
        to_bucket = firehose.DeliveryStream(
            self,
            "OrdersToS3",
            destination=firehose.S3Bucket(clicks.bucket, data_output_prefix="orders/"),
            encryption=firehose.StreamEncryption.aws_owned_key(),
        )
        orders.add_delivery_stream("Archive", to_bucket, raw_message_delivery=True)

        # An AWS service publishing to a topic: S3 object events. A customer-managed key is created for the topic.
        uploads = FanOut(self, "Uploads", service_publishers=["s3.amazonaws.com"], alarm_topic=alarms)
        uploads.add_queue("Thumbnails")
        bucket = s3.Bucket(self, "UploadBucket", enforce_ssl=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL)
        bucket.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.SnsDestination(uploads.topic))


if __name__ == "__main__":
    app = cdk.App()
    OrdersStack(app, "Orders")
    app.synth()
