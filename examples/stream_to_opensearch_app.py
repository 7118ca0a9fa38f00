"""StreamToOpenSearch: clicks indexed into a domain in a VPC (one index a day), enriched by a Lambda transform."""

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_opensearchservice as opensearch
from constructs import Construct

from decoupling_constructs import (
    AlarmTopic,
    IndexRotation,
    LambdaTransform,
    OpenSearchBackup,
    StreamToOpenSearch,
    Throughput,
)

DOMAIN_NAME = "clicks-search"


class ClickSearchStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)
        alarms = AlarmTopic(self, "Alarms")
        vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[ec2.SubnetConfiguration(name="Search", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
        )
        private = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        domain = opensearch.Domain(
            self,
            "Search",
            domain_name=DOMAIN_NAME,
            version=opensearch.EngineVersion.OPENSEARCH_2_11,
            vpc=vpc,
            vpc_subnets=[private],
            capacity=opensearch.CapacityConfig(data_nodes=2, multi_az_with_standby_enabled=False),
            zone_awareness=opensearch.ZoneAwarenessConfig(availability_zone_count=2),
            encryption_at_rest=opensearch.EncryptionAtRestOptions(enabled=True),
            node_to_node_encryption=True,
            enforce_https=True,
        )
        enrich = lambda_.Function(
            self,
            "Enrich",
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="index.handler",
            code=lambda_.Code.from_inline("def handler(event, context):\n    return {'records': []}\n"),
            timeout=cdk.Duration.minutes(1),  # Firehose calls a transform for at most 5 minutes
        )
        clicks = StreamToOpenSearch(
            self,
            "Clicks",
            domain=domain,
            index_name="clicks",  # indexed into clicks-2026-12-07, clicks-2026-12-08...
            index_rotation=IndexRotation.ONE_DAY,
            expected_throughput=Throughput(write_mib_per_s=0.5, records_per_s=500, consumers=1),
            retry_duration=cdk.Duration.minutes(10),
            backup=OpenSearchBackup.FAILED_DOCUMENTS_ONLY,  # refused documents go to S3 under backup/
            vpc=vpc,
            vpc_subnets=private,  # Firehose's ENIs; their security group may reach the domain's on 443
            transform=LambdaTransform(enrich, retries=2),
            alarm_topic=alarms,
        )
        # The domain must let the delivery role in: here its access policy (with fine-grained access control, map
        # the role to an OpenSearch role whose index permissions are `clicks*`).
        domain_arn = self.format_arn(service="es", resource="domain", resource_name=DOMAIN_NAME)
        cfn_domain = domain.node.default_child
        assert isinstance(cfn_domain, opensearch.CfnDomain)
        cfn_domain.access_policies = iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    principals=[iam.ArnPrincipal(clicks.role.role_arn)],
                    actions=["es:ESHttpGet", "es:ESHttpPost", "es:ESHttpPut"],
                    resources=[f"{domain_arn}/*"],
                )
            ]
        ).to_json()
        producers = iam.Role(self, "Producers", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        clicks.grant_write(producers)  # PutRecord(s) on the stream
        cdk.CfnOutput(self, "DeliveryStreamName", value=clicks.delivery_stream_name)


if __name__ == "__main__":
    app = cdk.App()
    ClickSearchStack(app, "ClickSearch")
    app.synth()
