"""Reference stack for StreamToOpenSearch: a clickstream indexed into a hardened OpenSearch domain in a VPC.

The domain is what its owner would run: encrypted at rest with a customer-managed key, node-to-node encryption,
HTTPS only (TLS 1.2), in private subnets across two zones, slow and application logs to CloudWatch, and a domain
access policy that lets in the delivery role only. ``vpc_delivery=False`` builds the same pipeline into a public
domain (no VPC, signed requests only): the variant MiniStack deploys, since its CloudFormation creates no
security-group rules nor flow logs (tests/behaviour/test_opensearch_deploy.py).
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_opensearchservice as opensearch
from constructs import Construct

from decoupling_constructs import AlarmTopic, StreamToOpenSearch, Throughput
from decoupling_constructs._security import acknowledge_checkov, allow_logs_to_use_key, managed_key

# The domain's name, fixed: its access policy must name the domain's ARN, which a policy of the domain itself
# cannot reference (a circular reference), so the ARN is built from the name.
DOMAIN_NAME = "decoupling-clicks"
INDEX_NAME = "clicks"
# 500 events/s of ~1 KiB into search: 0.5 MiB/s, one consumer (Firehose).
CLICKS = Throughput(write_mib_per_s=0.5, records_per_s=500, consumers=1)

COST_ONLY = (
    "Cost: a reference domain of two data nodes across two zones; dedicated master nodes (three more instances) "
    "stabilise clusters of many nodes and add nothing to this one's security or durability."
)
NO_FGAC = (
    "Access is the domain access policy naming the one delivery role. Fine-grained access control needs a master "
    "user and a role mapping made through the OpenSearch security API after deployment, which CloudFormation "
    "cannot do; audit logs require it."
)


class StreamToOpenSearchStack(cdk.Stack):
    """``clicks``: a Kinesis stream sized for ``CLICKS`` whose records Firehose indexes into ``clicks-<day>`` on
    ``search``, through ENIs in the domain's VPC, failed documents backed up to S3."""

    def __init__(self, scope: Construct, construct_id: str, *, vpc_delivery: bool = True, **kwargs: Any) -> None:
        super().__init__(
            scope, construct_id, description="decoupling-constructs: StreamToOpenSearch reference", **kwargs
        )
        alarms = AlarmTopic(self, "Alarms")
        self.key = managed_key(self, "Key", "The clickstream, its search domain, backups and logs")
        self.vpc = self._vpc() if vpc_delivery else None
        self.search = self._domain(self.vpc)
        self.clicks = StreamToOpenSearch(
            self,
            "ClickIndex",
            domain=self.search,
            index_name=INDEX_NAME,
            expected_throughput=CLICKS,
            encryption_key=self.key,
            vpc=self.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED) if self.vpc else None,
            alarm_topic=alarms,
        )
        self._let_the_delivery_role_in()
        cdk.CfnOutput(self, "StreamName", value=self.clicks.stream.stream_name)  # type: ignore[union-attr]
        cdk.CfnOutput(self, "DeliveryStreamName", value=self.clicks.delivery_stream_name)
        cdk.CfnOutput(self, "DomainEndpoint", value=self.search.domain_endpoint)
        cdk.CfnOutput(self, "BackupBucketName", value=self.clicks.backup_bucket.bucket_name)

    def _vpc(self) -> ec2.Vpc:
        # Private subnets without internet access: the domain and Firehose's delivery ENIs talk inside the VPC.
        vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[ec2.SubnetConfiguration(name="Search", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
            # True would add a custom resource (a Lambda) to empty the default security group; the domain and
            # the delivery ENIs have security groups of their own.
            restrict_default_security_group=False,
        )
        flow_logs = logs.LogGroup(self, "FlowLogs", retention=logs.RetentionDays.ONE_MONTH, encryption_key=self.key)
        vpc.add_flow_log("FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs))
        return vpc

    def _domain(self, vpc: ec2.IVpc | None) -> opensearch.Domain:
        log_groups = {
            kind: logs.LogGroup(
                self,
                f"Search{kind}Logs",
                retention=logs.RetentionDays.ONE_MONTH,
                encryption_key=self.key,
                removal_policy=cdk.RemovalPolicy.RETAIN,
            )
            for kind in ("SlowSearch", "SlowIndex", "App")
        }
        allow_logs_to_use_key(self.key, self)
        domain = opensearch.Domain(
            self,
            "Search",
            domain_name=DOMAIN_NAME,
            version=opensearch.EngineVersion.OPENSEARCH_2_11,
            capacity=opensearch.CapacityConfig(
                data_nodes=2,
                data_node_instance_type="t3.medium.search",
                multi_az_with_standby_enabled=False,
            ),
            ebs=opensearch.EbsOptions(volume_size=10, volume_type=ec2.EbsDeviceVolumeType.GP3),
            zone_awareness=opensearch.ZoneAwarenessConfig(enabled=True, availability_zone_count=2),
            encryption_at_rest=opensearch.EncryptionAtRestOptions(enabled=True, kms_key=self.key),
            node_to_node_encryption=True,
            enforce_https=True,
            tls_security_policy=opensearch.TLSSecurityPolicy.TLS_1_2,
            vpc=vpc,
            vpc_subnets=[ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)] if vpc else None,
            logging=opensearch.LoggingOptions(
                slow_search_log_enabled=True,
                slow_search_log_group=log_groups["SlowSearch"],
                slow_index_log_enabled=True,
                slow_index_log_group=log_groups["SlowIndex"],
                app_log_enabled=True,
                app_log_group=log_groups["App"],
            ),
            # aws-cdk-lib would write the log groups' resource policy with a custom resource (a Lambda): the plain
            # CloudFormation resource below does it.
            suppress_logs_resource_policy=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        logs.CfnResourcePolicy(
            self,
            "SearchLogsPolicy",
            policy_name=f"{DOMAIN_NAME}-logs",
            policy_document=cdk.Stack.of(self).to_json_string(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "es.amazonaws.com"},
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                            "Resource": [group.log_group_arn for group in log_groups.values()],
                            "Condition": {"StringEquals": {"aws:SourceAccount": self.account}},
                        }
                    ],
                }
            ),
        )
        cdk.Validations.of(domain).acknowledge(cdk.Acknowledgment(id="AwsSolutions-OS4", reason=COST_ONLY))
        if vpc is not None:
            cdk.Validations.of(domain).acknowledge(
                cdk.Acknowledgment(
                    id="AwsSolutions-OS3",
                    reason="The domain is in private subnets, reached only through its security group; an IP-based "
                    "access policy does not apply to a VPC domain (OpenSearch Service developer guide, 'About "
                    "access policies on VPC domains'), its policy names the one delivery role instead.",
                )
            )
        acknowledge_checkov(domain, "CKV_AWS_317", NO_FGAC)
        return domain

    def _let_the_delivery_role_in(self) -> None:
        """The domain access policy: the delivery role may call the domain's HTTP API (what its IAM policy narrows
        further), nobody else. Written on the CfnDomain: aws-cdk-lib's ``access_policies`` would use a custom
        resource (a Lambda)."""
        domain_arn = self.format_arn(service="es", resource="domain", resource_name=DOMAIN_NAME)
        cfn_domain = self.search.node.default_child
        assert isinstance(cfn_domain, opensearch.CfnDomain)
        cfn_domain.access_policies = iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    principals=[iam.ArnPrincipal(self.clicks.role.role_arn)],
                    actions=["es:ESHttpGet", "es:ESHttpPost", "es:ESHttpPut"],
                    resources=[domain_arn, f"{domain_arn}/*"],
                )
            ]
        ).to_json()
