"""StreamToHttpEndpoint: a stream to your own HTTPS endpoint, and direct puts to Datadog's logs intake."""

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from decoupling_constructs import AlarmTopic, StreamToHttpEndpoint, Throughput


class TelemetryStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)
        alarms = AlarmTopic(self, "Alarms")
        # The access key lives in Secrets Manager as {"api_key": "..."}: Firehose reads it at delivery time,
        # it is never written into the template.
        receiver_key = secretsmanager.Secret(
            self,
            "ReceiverKey",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template="{}", generate_string_key="api_key"
            ),
        )
        # 200 events/s of ~1 KiB into a provisioned stream, POSTed (GZIP) to your endpoint every minute or 5 MiB;
        # a batch the endpoint refuses for 10 minutes goes to the backup bucket.
        orders = StreamToHttpEndpoint(
            self,
            "Orders",
            url="https://ingest.example.com/firehose",
            access_key=receiver_key,
            common_attributes={"service": "orders"},
            buffering_interval=cdk.Duration.seconds(60),
            retry_duration=cdk.Duration.minutes(10),
            expected_throughput=Throughput(write_mib_per_s=0.2, records_per_s=200),
            alarm_topic=alarms,
        )
        producer = iam.Role(self, "Producer", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        orders.grant_write(producer)

        # Logs put directly on the delivery stream, to Datadog's EU site (its intake URL comes with the preset).
        datadog_key = secretsmanager.Secret.from_secret_name_v2(self, "DatadogKey", "datadog/api-key")
        logs = StreamToHttpEndpoint.datadog(
            self, "Logs", api_key=datadog_key, site="EU", kind="logs", direct_put=True, alarm_topic=alarms
        )
        logs.grant_write(producer)
        cdk.CfnOutput(self, "OrdersBackupBucket", value=orders.backup_bucket.bucket_name)


if __name__ == "__main__":
    app = cdk.App()
    TelemetryStack(app, "Telemetry")
    app.synth()
