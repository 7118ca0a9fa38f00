"""MessageBroker in moto: control plane only.

moto's Amazon MQ creates brokers (RUNNING at once, with fake endpoints) and checks
nothing about passwords, subnets or security groups; no broker runs, so nothing here
is about messaging. What the broker does with its settings (failover, TLS, logs) is
not emulated: the template tests (tests/unit/test_broker.py) pin the settings.
"""

from __future__ import annotations

import json

import pytest

from decoupling_constructs.testing import Deployment, deploy_to_moto
from stacks.broker_stack import MessageBrokerStack


@pytest.fixture
def brokers(aws, reference_stacks) -> tuple[MessageBrokerStack, Deployment]:
    stack = reference_stacks["DecouplingMessageBroker"]
    return stack, deploy_to_moto(stack)


def described(deployment: Deployment, broker) -> dict:
    return deployment.client("mq").describe_broker(BrokerId=deployment.physical_id(broker.broker))


def test_activemq_active_standby_is_created_as_the_template_describes(brokers) -> None:
    stack, deployment = brokers
    broker = described(deployment, stack.activemq)
    assert broker["BrokerName"] == stack.activemq.broker_name
    assert (broker["EngineType"], broker["EngineVersion"]) == ("ACTIVEMQ", "5.18")
    assert broker["DeploymentMode"] == "ACTIVE_STANDBY_MULTI_AZ"
    assert len(broker["BrokerInstances"]) == 2
    assert broker["HostInstanceType"] == "mq.m5.large"
    assert broker["PubliclyAccessible"] is False
    assert broker["Logs"] == {"Audit": True, "General": True}
    vpc_subnets = {
        s["SubnetId"]: s["AvailabilityZone"]
        for s in deployment.client("ec2").describe_subnets(
            Filters=[{"Name": "vpc-id", "Values": [deployment.physical_id(stack.activemq.vpc)]}]
        )["Subnets"]
    }
    assert set(broker["SubnetIds"]) <= set(vpc_subnets)
    assert len({vpc_subnets[s] for s in broker["SubnetIds"]}) == 2  # two zones
    assert broker["SecurityGroups"] == [deployment.physical_id(stack.activemq.security_group)]


def test_rabbitmq_cluster_sits_in_the_given_vpc_open_to_the_app_only(brokers) -> None:
    stack, deployment = brokers
    broker = described(deployment, stack.rabbitmq)
    assert (broker["EngineType"], broker["DeploymentMode"]) == ("RABBITMQ", "CLUSTER_MULTI_AZ")
    (subnet,) = broker["SubnetIds"]
    ec2 = deployment.client("ec2")
    (described_subnet,) = ec2.describe_subnets(SubnetIds=[subnet])["Subnets"]
    assert described_subnet["VpcId"] == deployment.physical_id(stack.app_vpc)
    (group,) = ec2.describe_security_groups(GroupIds=broker["SecurityGroups"])["SecurityGroups"]
    app_group = deployment.physical_id(stack.app_security_group)
    opened = {
        (rule["FromPort"], pair["GroupId"]) for rule in group["IpPermissions"] for pair in rule["UserIdGroupPairs"]
    }
    assert opened == {(5671, app_group), (443, app_group)}
    assert not [r for r in group["IpPermissions"] if r.get("IpRanges")]  # no CIDR is let in


def test_admin_credentials_come_from_the_generated_secret(brokers) -> None:
    stack, deployment = brokers
    for broker, output in ((stack.activemq, "ActiveMqSecretArn"), (stack.rabbitmq, "RabbitMqSecretArn")):
        secret = json.loads(
            deployment.client("secretsmanager").get_secret_value(SecretId=deployment.outputs[output])["SecretString"]
        )
        assert secret["username"] == "admin"
        assert len(secret["password"]) == 32 and secret["password"].isalnum()
        assert [u["Username"] for u in described(deployment, broker)["Users"]] == ["admin"]


def test_connection_url_fails_over_between_the_active_standby_instances(brokers) -> None:
    stack, deployment = brokers
    instances = described(deployment, stack.activemq)["BrokerInstances"]
    openwire = [e for i in instances for e in i["Endpoints"] if e.startswith("ssl://")]
    assert len(openwire) == 2
    assert deployment.outputs["ActiveMqConnectionUrl"] == f"failover:({','.join(openwire)})"
    amqps = described(deployment, stack.rabbitmq)["BrokerInstances"][0]["Endpoints"][0]
    assert deployment.outputs["RabbitMqConnectionUrl"] == amqps


def test_broker_alarms_are_dimensioned_by_instance(brokers) -> None:
    stack, deployment = brokers
    names = {deployment.physical_id(alarm) for alarm in stack.activemq.alarms.values()}
    alarms = deployment.client("cloudwatch").describe_alarms(AlarmNames=sorted(names))["MetricAlarms"]
    assert {a["Dimensions"][0]["Value"] for a in alarms} == {
        f"{stack.activemq.broker_name}-1",
        f"{stack.activemq.broker_name}-2",
    }
