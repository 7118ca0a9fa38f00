"""Template tests for MessageBroker: engines and modes, network isolation, credentials, logs, alarms, bad input."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from decoupling_constructs import (
    AlarmOptions,
    AlarmSettings,
    BrokerEngine,
    DeploymentMode,
    MaintenanceWindow,
    MessageBroker,
)
from decoupling_constructs.brokers import isolated_vpc
from tests.unit.cdk_helpers import lid, new_stack


def broker_props(template: Template) -> dict:
    (broker,) = template.find_resources("AWS::AmazonMQ::Broker").values()
    return broker


def app_vpc(stack: cdk.Stack, azs: int = 2, name: str = "AppVpc") -> ec2.Vpc:
    return ec2.Vpc(
        stack,
        name,
        max_azs=azs,
        nat_gateways=0,
        subnet_configuration=[ec2.SubnetConfiguration(name="App", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
        restrict_default_security_group=False,
    )


@pytest.fixture(scope="module")
def activemq(app_variant: str) -> tuple[cdk.Stack, MessageBroker, Template]:
    stack = new_stack(app_variant)
    broker = MessageBroker(stack, "Orders")
    return stack, broker, Template.from_stack(stack)


def test_activemq_defaults_to_private_active_standby(activemq) -> None:
    stack, broker, template = activemq
    resource = broker_props(template)
    props = resource["Properties"]
    assert props["EngineType"] == "ACTIVEMQ"
    assert props["DeploymentMode"] == "ACTIVE_STANDBY_MULTI_AZ"
    assert props["EngineVersion"] == "5.18"
    assert props["HostInstanceType"] == "mq.m5.large"
    assert props["PubliclyAccessible"] is False
    assert props["AutoMinorVersionUpgrade"] is True
    assert props["Logs"] == {"General": True, "Audit": True}
    assert props["EncryptionOptions"] == {"UseAwsOwnedKey": True}
    assert props["MaintenanceWindowStartTime"] == {"DayOfWeek": "SUNDAY", "TimeOfDay": "03:00", "TimeZone": "UTC"}
    assert props["SecurityGroups"] == [{"Fn::GetAtt": [lid(stack, broker.security_group), "GroupId"]}]
    assert len(props["SubnetIds"]) == 2
    assert resource["DeletionPolicy"] == "Retain"
    assert props["BrokerName"] == broker.broker_name and len(broker.broker_name) <= 50


def test_new_vpc_is_isolated_with_flow_logs_and_no_nat(activemq) -> None:
    _, broker, template = activemq
    template.resource_count_is("AWS::EC2::VPC", 1)
    template.resource_count_is("AWS::EC2::NatGateway", 0)
    template.resource_count_is("AWS::EC2::InternetGateway", 0)
    template.resource_count_is("AWS::EC2::Subnet", 2)
    template.resource_count_is("AWS::EC2::FlowLog", 1)
    for subnet in template.find_resources("AWS::EC2::Subnet").values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False
    types = {r["Type"] for r in template.to_json()["Resources"].values()}
    assert not [t for t in types if t.startswith("Custom::") or t == "AWS::Lambda::Function"]
    assert broker.vpc is broker.node.find_child("Vpc")


def test_subnets_are_in_distinct_availability_zones(activemq) -> None:
    _, _, template = activemq
    subnet_ids = broker_props(template)["Properties"]["SubnetIds"]
    subnets = template.to_json()["Resources"]
    azs = [json.dumps(subnets[ref["Ref"]]["Properties"]["AvailabilityZone"]) for ref in subnet_ids]
    assert len(set(azs)) == 2


def test_security_group_has_no_ingress_without_peers_and_no_egress(activemq) -> None:
    _, _, template = activemq
    (group,) = template.find_resources("AWS::EC2::SecurityGroup").values()
    assert "SecurityGroupIngress" not in group["Properties"]
    # CDK's way to say "no egress": one rule that matches nothing.
    assert group["Properties"]["SecurityGroupEgress"] == [
        {
            "CidrIp": "255.255.255.255/32",
            "Description": "Disallow all traffic",
            "FromPort": 252,
            "IpProtocol": "icmp",
            "ToPort": 86,
        }
    ]
    template.resource_count_is("AWS::EC2::SecurityGroupIngress", 0)


def test_admin_password_is_generated_and_passed_as_a_dynamic_reference(activemq) -> None:
    stack, broker, template = activemq
    (secret,) = template.find_resources("AWS::SecretsManager::Secret").values()
    generate = secret["Properties"]["GenerateSecretString"]
    assert generate["GenerateStringKey"] == "password"
    assert json.loads(generate["SecretStringTemplate"]) == {"username": "admin"}
    assert generate["ExcludePunctuation"] is True and generate["PasswordLength"] == 32
    assert secret["DeletionPolicy"] == "Retain"
    (user,) = broker_props(template)["Properties"]["Users"]
    assert user["Username"] == "admin" and user["ConsoleAccess"] is True
    password = json.dumps(user["Password"])
    assert "{{resolve:secretsmanager:" in password and ":SecretString:password::}}" in password
    assert lid(stack, broker.secret) in password


def test_activemq_log_publishing_policy_precedes_the_broker(activemq) -> None:
    stack, broker, template = activemq
    (policy,) = template.find_resources("AWS::Logs::ResourcePolicy").values()
    # A JSON string, joined with whatever of the partition, region and account is a pseudo parameter
    # (env-agnostic: all three; environment-bound: the partition, unless partition literals are on):
    # read it with "X" for each of them.
    document_text = policy["Properties"]["PolicyDocument"]
    partition = "aws"
    if isinstance(document_text, dict):
        document_text = "".join(p if isinstance(p, str) else "X" for p in document_text["Fn::Join"][1])
        partition = "X"
    region, account = ("X" if cdk.Token.is_unresolved(value) else value for value in (stack.region, stack.account))
    (statement,) = json.loads(document_text)["Statement"]
    assert statement["Principal"] == {"Service": "mq.amazonaws.com"}
    assert sorted(statement["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statement["Resource"] == f"arn:{partition}:logs:{region}:{account}:log-group:/aws/amazonmq/*"
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": account}}
    assert lid(stack, broker.log_policy) in broker_props(template)["DependsOn"]


def test_connection_url_and_endpoints(activemq) -> None:
    stack, broker, _ = activemq
    assert stack.resolve(broker.connection_url) == {
        "Fn::Join": [
            "",
            ["failover:(", {"Fn::Join": [",", {"Fn::GetAtt": [lid(stack, broker.broker), "OpenWireEndpoints"]}]}, ")"],
        ]
    }
    assert set(broker.endpoints) == {"openwire", "amqp", "stomp", "mqtt", "wss", "console"}
    assert set(broker.ports) == set(broker.endpoints)  # one spelling for both
    assert broker.connections.default_port is not None
    assert stack.resolve(broker.connections.default_port.to_string()) == "61617"


def test_activemq_alarms_per_instance(activemq) -> None:
    _, broker, template = activemq
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    seen = {(a["Properties"]["MetricName"], a["Properties"]["Dimensions"][0]["Value"]) for a in alarms.values()}
    name = broker.broker_name
    assert seen == {
        (metric, f"{name}-{i}") for metric in ("CpuUtilization", "HeapUsage", "StorePercentUsage") for i in (1, 2)
    }
    for alarm in alarms.values():
        assert alarm["Properties"]["Namespace"] == "AWS/AmazonMQ"
        assert alarm["Properties"]["Dimensions"][0]["Name"] == "Broker"
        assert alarm["Properties"]["Threshold"] == 80
    assert broker.instance_names == [f"{name}-1", f"{name}-2"]
    family = ("cpu_utilization", "heap_usage", "store_percent_usage")
    assert set(broker.alarms) == {f"{key}_{i}" for key in family for i in (1, 2)}
    names = {a["Properties"]["AlarmName"] for a in alarms.values()}
    assert names == {f"Orders/{key}_{i}" for key in family for i in (1, 2)}
    with pytest.raises(TypeError):
        broker.alarms["x"] = broker.alarms["cpu_utilization_1"]  # type: ignore[index]


def test_alarm_families_are_tuned_or_removed_by_one_key() -> None:
    stack = new_stack()
    topic = sns.Topic(stack, "Alarms")
    settings = AlarmSettings(
        overrides={"cpu_utilization": AlarmOptions(threshold=95, evaluation_periods=5), "heap_usage": None}
    )
    broker = MessageBroker(stack, "Orders", alarm_topic=topic, alarm_settings=settings)
    assert set(broker.alarms) == {f"{key}_{i}" for key in ("cpu_utilization", "store_percent_usage") for i in (1, 2)}
    rabbit = MessageBroker(
        stack,
        "Events",
        engine=BrokerEngine.RABBITMQ,
        vpc=app_vpc(stack),
        alarm_settings=AlarmSettings(overrides={"disk_free": AlarmOptions(threshold=3)}),
    )
    resources = Template.from_stack(stack).to_json()["Resources"]
    for i in (1, 2):
        cpu = resources[lid(stack, broker.alarms[f"cpu_utilization_{i}"])]["Properties"]
        assert (cpu["Threshold"], cpu["EvaluationPeriods"]) == (95, 5)
        assert cpu["AlarmActions"] == cpu["OKActions"] == [{"Ref": lid(stack, topic)}]
    assert set(rabbit.alarms) == {"system_cpu_utilization", "memory_used", "disk_free"}
    disk = resources[lid(stack, rabbit.alarms["disk_free"])]["Properties"]
    assert (disk["Threshold"], disk["ComparisonOperator"]) == (3, "LessThanThreshold")
    assert "below 3 times the limit" in disk["AlarmDescription"]
    with pytest.raises(ValueError, match=r"'cpu_utilization'.*the keys are 'disk_free', 'memory_used'"):
        MessageBroker(
            stack,
            "Wrong",
            engine=BrokerEngine.RABBITMQ,
            vpc=app_vpc(stack, name="OtherVpc"),
            alarm_settings=AlarmSettings(overrides={"cpu_utilization": None}),
        )


def test_create_alarms_false_creates_none() -> None:
    stack = new_stack()
    broker = MessageBroker(stack, "Orders", create_alarms=False)
    Template.from_stack(stack).resource_count_is("AWS::CloudWatch::Alarm", 0)
    assert dict(broker.alarms) == {}


def test_metric_is_per_instance_for_activemq_and_per_broker_for_rabbitmq(activemq) -> None:
    _, broker, _ = activemq
    metric = broker.metric("CpuUtilization", instance=2, statistic="Maximum", period=cdk.Duration.minutes(1))
    assert (metric.namespace, metric.metric_name, metric.statistic) == ("AWS/AmazonMQ", "CpuUtilization", "Maximum")
    assert metric.dimensions == {"Broker": f"{broker.broker_name}-2"}
    assert metric.period.to_seconds() == 60
    with pytest.raises(ValueError, match=r"instance must be the ActiveMQ broker instance, 1-2 .* got None"):
        broker.metric("CpuUtilization")
    with pytest.raises(ValueError, match="got 3"):
        broker.metric("CpuUtilization", instance=3)
    rabbit_stack = new_stack()
    rabbit = MessageBroker(rabbit_stack, "Events", engine=BrokerEngine.RABBITMQ, vpc=app_vpc(rabbit_stack))
    assert rabbit.metric("RabbitMQMemUsed").dimensions == {"Broker": rabbit.broker_name}
    with pytest.raises(ValueError, match="instance must be None for RabbitMQ"):
        rabbit.metric("RabbitMQMemUsed", instance=1)


def test_allowed_peers_get_every_tls_port_and_nothing_else() -> None:
    stack = new_stack()
    vpc = app_vpc(stack)
    app = ec2.SecurityGroup(stack, "App", vpc=vpc)
    broker = MessageBroker(stack, "Orders", vpc=vpc, allowed_peers=[app])
    other = ec2.SecurityGroup(stack, "Other", vpc=vpc)
    broker.connections.allow_default_port_from(other)
    all_rules = Template.from_stack(stack).find_resources("AWS::EC2::SecurityGroupIngress")
    app_id = {"Fn::GetAtt": [lid(stack, app), "GroupId"]}
    rules = {k: r for k, r in all_rules.items() if r["Properties"]["SourceSecurityGroupId"] == app_id}
    ports = sorted(r["Properties"]["FromPort"] for r in rules.values())
    assert ports == [5671, 8162, 8883, 61614, 61617, 61619]
    for rule in rules.values():
        assert rule["Properties"]["GroupId"] == {"Fn::GetAtt": [lid(stack, broker.security_group), "GroupId"]}
    assert any(
        r["Properties"]["SourceSecurityGroupId"] == {"Fn::GetAtt": [lid(stack, other), "GroupId"]}
        and r["Properties"]["FromPort"] == 61617
        for r in all_rules.values()
    )


def test_rabbitmq_cluster_in_a_given_vpc() -> None:
    stack = new_stack()
    vpc = app_vpc(stack, azs=3)
    topic = sns.Topic(stack, "Alarms")
    broker = MessageBroker(stack, "Events", engine=BrokerEngine.RABBITMQ, vpc=vpc, alarm_topic=topic)
    template = Template.from_stack(stack)
    props = broker_props(template)["Properties"]
    assert props["EngineType"] == "RABBITMQ"
    assert props["DeploymentMode"] == "CLUSTER_MULTI_AZ"
    assert props["EngineVersion"] == "3.13"
    assert props["Logs"] == {"General": True}
    assert "ConsoleAccess" not in props["Users"][0]
    assert len(props["SubnetIds"]) == 1
    template.resource_count_is("AWS::EC2::VPC", 1)  # no second VPC
    template.resource_count_is("AWS::Logs::ResourcePolicy", 0)
    assert set(broker.endpoints) == set(broker.ports) == {"amqps", "console"}
    assert stack.resolve(broker.connection_url) == {
        "Fn::Select": [0, {"Fn::GetAtt": [lid(stack, broker.broker), "AmqpEndpoints"]}]
    }
    alarms = {
        a["Properties"].get("MetricName") or a["Properties"]["Metrics"][0]["Expression"]: a["Properties"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
    }
    assert set(alarms) == {"SystemCpuUtilization", "100 * used / limit", "free / limit"}
    assert alarms["free / limit"]["ComparisonOperator"] == "LessThanThreshold"
    used = next(m for m in alarms["100 * used / limit"]["Metrics"] if m["Id"] == "used")
    assert used["MetricStat"]["Metric"]["MetricName"] == "RabbitMQMemUsed"
    assert used["MetricStat"]["Metric"]["Dimensions"] == [{"Name": "Broker", "Value": broker.broker_name}]
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [{"Ref": lid(stack, topic)}]
    assert broker.instance_names == [broker.broker_name]


def test_single_instance_options() -> None:
    stack = new_stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    broker = MessageBroker(
        stack,
        "Dev",
        deployment_mode=DeploymentMode.SINGLE_INSTANCE,
        instance_type="mq.t3.micro",
        engine_version="5.19",
        admin_username="ops.admin",
        encryption_key=key,
        maintenance_window=MaintenanceWindow(day="WEDNESDAY", time="22:30", time_zone="Europe/Berlin"),
        removal_policy=RemovalPolicy.DESTROY,
    )
    template = Template.from_stack(stack)
    resource = broker_props(template)
    props = resource["Properties"]
    assert props["DeploymentMode"] == "SINGLE_INSTANCE"
    assert props["HostInstanceType"] == "mq.t3.micro"
    assert props["EngineVersion"] == "5.19"
    assert props["Users"][0]["Username"] == "ops.admin"
    assert props["EncryptionOptions"] == {"UseAwsOwnedKey": False, "KmsKeyId": {"Fn::GetAtt": [lid(stack, key), "Arn"]}}
    assert props["MaintenanceWindowStartTime"] == {
        "DayOfWeek": "WEDNESDAY",
        "TimeOfDay": "22:30",
        "TimeZone": "Europe/Berlin",
    }
    assert len(props["SubnetIds"]) == 1
    assert resource["DeletionPolicy"] == "Delete"
    assert broker.instance_names == [f"{broker.broker_name}-1"]
    # The key encrypts the admin secret too (checkov CKV_AWS_149), and is exposed.
    assert broker.encryption_key is key
    secret = template.to_json()["Resources"][lid(stack, broker.secret)]["Properties"]
    assert secret["KmsKeyId"] == {"Fn::GetAtt": [lid(stack, key), "Arn"]}
    # ... and the flow logs of the VPC it creates (checkov CKV_AWS_158), with the key policy CloudWatch Logs needs.
    resources = template.to_json()["Resources"]
    (flow_logs,) = [r for r in resources.values() if r["Type"] == "AWS::Logs::LogGroup"]
    assert flow_logs["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [lid(stack, key), "Arn"]}
    assert "checkov" not in flow_logs.get("Metadata", {})
    key_statements = resources[lid(stack, key)]["Properties"]["KeyPolicy"]["Statement"]
    (logs_grant,) = [s for s in key_statements if s.get("Sid") == "LetCloudWatchLogsEncryptThisAccountsLogGroups"]
    assert "kms:EncryptionContext:aws:logs:arn" in logs_grant["Condition"]["ArnLike"]


def test_without_a_key_the_flow_logs_and_secret_say_why_to_checkov(activemq) -> None:
    """No encryption_key: the service's own encryption at rest, acknowledged on the two resources only."""
    stack, broker, template = activemq
    resources = template.to_json()["Resources"]
    skips = {
        logical_id: [skip["id"] for skip in resource["Metadata"]["checkov"]["skip"]]
        for logical_id, resource in resources.items()
        if "checkov" in resource.get("Metadata", {})
    }
    (flow_logs,) = [lid for lid, r in resources.items() if r["Type"] == "AWS::Logs::LogGroup"]
    assert "KmsKeyId" not in resources[flow_logs]["Properties"]
    assert skips == {flow_logs: ["CKV_AWS_158"], lid(stack, broker.secret): ["CKV_AWS_149"]}


def test_grant_read_credentials_covers_the_secret_and_its_key() -> None:
    stack = new_stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    broker = MessageBroker(stack, "Orders", encryption_key=key)
    reader = iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal())
    broker.grant_read_credentials(reader)
    template = Template.from_stack(stack)
    policies = template.find_resources("AWS::IAM::Policy")
    (policy,) = [p for p in policies.values() if p["Properties"]["Roles"] == [{"Ref": lid(stack, reader)}]]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    by_resource = {json.dumps(s["Resource"]): s["Action"] for s in statements}
    assert "secretsmanager:GetSecretValue" in by_resource[json.dumps({"Ref": lid(stack, broker.secret)})]
    # aws-cdk-lib grants the key in its key policy: Decrypt for the reader, through Secrets Manager only.
    key_policy = template.to_json()["Resources"][lid(stack, key)]["Properties"]["KeyPolicy"]["Statement"]
    (decrypt,) = [s for s in key_policy if s["Principal"] == {"AWS": {"Fn::GetAtt": [lid(stack, reader), "Arn"]}}]
    assert decrypt["Action"] == "kms:Decrypt"
    assert "secretsmanager." in json.dumps(decrypt["Condition"]["StringEquals"]["kms:ViaService"])
    assert MessageBroker(stack, "NoKey").encryption_key is None


def test_broker_is_an_iconnectable_other_constructs_allow_to() -> None:
    stack = new_stack()
    broker = MessageBroker(stack, "Orders")
    client = ec2.SecurityGroup(stack, "Client", vpc=broker.vpc, allow_all_outbound=False)
    client.connections.allow_to(broker, ec2.Port.tcp(broker.ports["stomp"]), "STOMP to the broker")
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {
            "GroupId": {"Fn::GetAtt": [lid(stack, broker.security_group), "GroupId"]},
            "SourceSecurityGroupId": {"Fn::GetAtt": [lid(stack, client), "GroupId"]},
            "FromPort": 61614,
            "ToPort": 61614,
        },
    )
    template.has_resource_properties(
        "AWS::EC2::SecurityGroupEgress",
        {
            "GroupId": {"Fn::GetAtt": [lid(stack, client), "GroupId"]},
            "DestinationSecurityGroupId": {"Fn::GetAtt": [lid(stack, broker.security_group), "GroupId"]},
            "FromPort": 61614,
        },
    )


def test_two_brokers_in_one_stack_share_one_log_resource_policy() -> None:
    stack = new_stack()
    first, second = MessageBroker(stack, "Orders"), MessageBroker(stack, "Billing")
    template = Template.from_stack(stack)
    (policy_id,) = template.find_resources("AWS::Logs::ResourcePolicy")
    assert first.log_policy is second.log_policy
    assert lid(stack, first.log_policy) == policy_id
    brokers = template.find_resources("AWS::AmazonMQ::Broker")
    assert len(brokers) == 2
    for broker in brokers.values():
        assert policy_id in broker["DependsOn"]
    # Amazon MQ names every broker's log groups /aws/amazonmq/broker/<broker id>/<general|audit>:
    # the one statement's resource covers them all.
    document = json.dumps(stack.resolve(first.log_policy.document.to_json()))  # type: ignore[union-attr]
    assert ":log-group:/aws/amazonmq/*" in document


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"engine": "ACTIVEMQ"}, "engine must be a BrokerEngine"),
        (
            {"engine": BrokerEngine.RABBITMQ, "deployment_mode": DeploymentMode.ACTIVE_STANDBY_MULTI_AZ},
            "deployment_mode ACTIVE_STANDBY_MULTI_AZ is not available for RABBITMQ",
        ),
        (
            {"deployment_mode": DeploymentMode.CLUSTER_MULTI_AZ},
            "deployment_mode CLUSTER_MULTI_AZ is not available for ACTIVEMQ; allowed: SINGLE_INSTANCE, ",
        ),
        ({"instance_type": "mq.t3.micro"}, "mq.t3.micro is for SINGLE_INSTANCE brokers only"),
        ({"instance_type": "mq.m7g.large"}, "instance_type must be one of 'mq.t3.micro', 'mq.m5.large'"),
        ({"instance_type": "m5.large"}, "instance_type must be one of"),
        ({"admin_username": "a"}, "admin_username must be 2-100 characters"),
        ({"admin_username": "bad name"}, "admin_username must be 2-100 characters"),
        ({"admin_username": "x" * 101}, "admin_username must be 2-100 characters"),
        ({"engine": BrokerEngine.RABBITMQ, "admin_username": "guest"}, "'guest' is reserved by RabbitMQ"),
        ({"vpc_subnets": ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)}, "give vpc too"),
        ({"allowed_peers": ec2.Peer.any_ipv4()}, "allowed_peers must be a list of ec2.IPeer"),
        ({"maintenance_window": "SUNDAY 03:00"}, "maintenance_window must be a MaintenanceWindow"),
        ({"removal_policy": "retain"}, "removal_policy must be an aws_cdk.RemovalPolicy"),
    ],
)
def test_bad_input_fails_at_synth_time(props: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MessageBroker(new_stack(), "Broker", **props)


def test_customer_key_with_rabbitmq_is_refused() -> None:
    stack = new_stack()
    with pytest.raises(ValueError, match="RabbitMQ supports only AWS-owned keys"):
        MessageBroker(stack, "Events", engine=BrokerEngine.RABBITMQ, encryption_key=kms.Key(stack, "Key"))


def test_too_few_subnets_or_zones_are_refused() -> None:
    stack = new_stack()
    one_az = app_vpc(stack, azs=1)
    with pytest.raises(ValueError, match=r"must give 2 private subnet.* for ACTIVE_STANDBY_MULTI_AZ, got 1 subnet"):
        MessageBroker(stack, "Orders", vpc=one_az)
    MessageBroker(stack, "Dev", vpc=one_az, deployment_mode=DeploymentMode.SINGLE_INSTANCE)


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ({"day": "Sunday"}, "maintenance_window.day must be one of"),
        ({"time": "3:00"}, r"maintenance_window.time must be HH:MM"),
        ({"time": "24:00"}, r"maintenance_window.time must be HH:MM"),
        ({"time_zone": ""}, "maintenance_window.time_zone must be .UTC., a Country/City time zone"),
    ],
)
def test_bad_maintenance_window(window: dict, message: str) -> None:
    with pytest.raises(ValueError, match="^MessageBroker 'Test/Broker': " + message):
        MessageBroker(new_stack(), "Broker", maintenance_window=MaintenanceWindow(**window))


@pytest.mark.parametrize(
    ("engine", "key", "threshold", "message"),
    [
        (BrokerEngine.ACTIVEMQ, "cpu_utilization", 150, r"would leave the alarm never in ALARM: the metric is 0-100 %"),
        (BrokerEngine.ACTIVEMQ, "heap_usage", 0.8, r"must be a percent from 1 to 100 \(a percent, not a fraction"),
        (BrokerEngine.ACTIVEMQ, "store_percent_usage", 100.5, r"never in ALARM: the metric is 0-100 %"),
        (BrokerEngine.RABBITMQ, "system_cpu_utilization", 120, r"never in ALARM: the metric is 0-100 %"),
        (BrokerEngine.RABBITMQ, "memory_used", 0.5, r"a percent, not a fraction: write 50 for that"),
        (BrokerEngine.RABBITMQ, "disk_free", 0, r"never in ALARM: the metric is at least 0 and the alarm fires when"),
    ],
)
def test_alarm_thresholds_that_can_never_change_state_are_refused(
    engine: BrokerEngine, key: str, threshold: float, message: str
) -> None:
    stack = new_stack()
    settings = AlarmSettings(overrides={key: AlarmOptions(threshold=threshold)})
    with pytest.raises(
        ValueError, match=rf"^MessageBroker 'Test/Broker': alarm_settings.overrides\['{key}'\].threshold .*{message}"
    ):
        MessageBroker(stack, "Broker", engine=engine, vpc=app_vpc(stack), alarm_settings=settings)


def test_disk_free_is_a_multiple_of_its_limit_not_a_ratio() -> None:
    stack = new_stack()
    settings = AlarmSettings(overrides={"disk_free": AlarmOptions(threshold=5)})  # 5x the limit: above a ratio's 1
    broker = MessageBroker(stack, "Events", engine=BrokerEngine.RABBITMQ, vpc=app_vpc(stack), alarm_settings=settings)
    disk = Template.from_stack(stack).to_json()["Resources"][lid(stack, broker.alarms["disk_free"])]["Properties"]
    assert (disk["Threshold"], disk["ComparisonOperator"]) == (5, "LessThanThreshold")


def test_resources_snapshot_and_other_apps_are_refused_in_words() -> None:
    stack = new_stack()
    with pytest.raises(
        ValueError,
        match=r"^MessageBroker 'Test/A': removal_policy must be DESTROY, RETAIN or RETAIN_ON_UPDATE_OR_DELETE: it "
        r"applies to AWS::AmazonMQ::Broker, .*which CloudFormation cannot snapshot",
    ):
        MessageBroker(stack, "A", removal_policy=RemovalPolicy.SNAPSHOT)
    other = app_vpc(cdk.Stack(cdk.App(), "Other"))
    with pytest.raises(
        ValueError,
        match=r"^MessageBroker 'Test/B': vpc 'Other/AppVpc' belongs to another App than this construct's",
    ):
        MessageBroker(stack, "B", vpc=other)
    with pytest.raises(
        ValueError,
        match=r"^MessageBroker 'Test/C': vpc_subnets: aws-cdk-lib refused it: .*no subnet groups with name 'Nope'.* "
        r"Available names: App",
    ) as caught:
        MessageBroker(stack, "C", vpc=app_vpc(stack), vpc_subnets=ec2.SubnetSelection(subnet_group_name="Nope"))
    assert caught.value.__cause__ is not None


def test_metric_and_grant_arguments_are_checked() -> None:
    stack = new_stack()
    broker = MessageBroker(stack, "Orders")
    with pytest.raises(ValueError, match=r"^MessageBroker 'Test/Orders' metric\(\): statistic must be a CloudWatch"):
        broker.metric("CpuUtilization", instance=1, statistic="Mean")
    with pytest.raises(ValueError, match=r"metric\(\): period must be a whole number of minutes .*got 90 seconds$"):
        broker.metric("CpuUtilization", instance=1, period=cdk.Duration.seconds(90))
    assert broker.metric("CpuUtilization", instance=1, statistic="p99").statistic == "p99"
    with pytest.raises(TypeError, match=r"grant_read_credentials\(\): grantee must be an iam.IGrantable"):
        broker.grant_read_credentials("arn:aws:iam::111111111111:role/app")  # type: ignore[arg-type]


def test_isolated_vpc_encrypts_its_flow_logs_with_a_given_key_and_refuses_a_non_key() -> None:
    stack = new_stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    isolated_vpc(stack, "Vpc", encryption_key=key)
    (group,) = Template.from_stack(stack).find_resources("AWS::Logs::LogGroup").values()
    assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [lid(stack, key), "Arn"]}
    with pytest.raises(TypeError, match=r"^Stack '.*' isolated_vpc: encryption_key must be a kms.IKey, got 'alias/x'"):
        isolated_vpc(stack, "Other", encryption_key="alias/x")  # type: ignore[arg-type]
