"""Template tests for QueueWorkers: the backlog-per-instance scaling (its metric math evaluated on hand-worked
figures), the hardened launch template, grants, subnets and the alarm, in every kind of app."""

from __future__ import annotations

import ast
import math
import operator

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, Size
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from decoupling_constructs import AlarmOptions, AlarmSettings, QueueWorkers, ReliableQueue
from decoupling_constructs.queue_workers import SESSION_MANAGER_ACTIONS
from tests.unit.cdk_helpers import lid, new_stack


def private_vpc(stack: cdk.Stack) -> ec2.Vpc:
    return ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=1,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC),
            ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
        ],
        restrict_default_security_group=False,
    )


def workers(stack: cdk.Stack, **props: object) -> QueueWorkers:
    options: dict[str, object] = {
        "queue": ReliableQueue(stack, "Jobs"),
        "vpc": private_vpc(stack),
        "average_processing_time": Duration.millis(100),
        "latency_target": Duration.seconds(10),
        **props,
    }
    return QueueWorkers(stack, "Workers", **options)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def built(app_variant: str) -> tuple[cdk.Stack, QueueWorkers, Template]:
    stack = new_stack(app_variant)
    fleet = workers(stack, max_capacity=20)
    return stack, fleet, Template.from_stack(stack)


def only(template: Template, resource_type: str) -> dict:
    (resource,) = template.find_resources(resource_type).values()
    return resource["Properties"]


def evaluate(expression: str, values: dict[str, float]) -> float:
    """CloudWatch metric math as far as the policy uses it: metric ids and + - * / on them."""
    operators = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}

    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.BinOp) and type(node.op) in operators:
            return float(operators[type(node.op)](walk(node.left), walk(node.right)))
        if isinstance(node, ast.Name):
            return values[node.id]
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        raise AssertionError(f"unexpected metric math: {ast.dump(node)}")

    return walk(ast.parse(expression, mode="eval").body)


def test_scaling_policy_tracks_backlog_per_instance_on_hand_worked_figures(built) -> None:
    """AWS's worked example ("Scaling policy based on Amazon SQS"): 1500 messages visible, 3 instances in service,
    0.1 s per message, 10 s acceptable latency: backlog 500 per instance against a target of 100, so target
    tracking wants 3 * 500 / 100 = 15 instances."""
    stack, fleet, template = built
    policy = only(template, "AWS::AutoScaling::ScalingPolicy")
    assert policy["PolicyType"] == "TargetTrackingScaling"
    assert policy["AutoScalingGroupName"] == {"Ref": lid(stack, fleet.auto_scaling_group)}
    tracking = policy["TargetTrackingConfiguration"]
    assert tracking["TargetValue"] == 100
    queries = {query["Id"]: query for query in tracking["CustomizedMetricSpecification"]["Metrics"]}
    (result,) = [query for query in queries.values() if query["ReturnData"]]
    inputs = {
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"): 1500,
        ("AWS/AutoScaling", "GroupInServiceInstances"): 3,
    }
    values = {}
    for query_id, query in queries.items():
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            values[query_id] = inputs[(metric["Namespace"], metric["MetricName"])]
    assert queries_dimensions(queries) == {
        "ApproximateNumberOfMessagesVisible": [
            {"Name": "QueueName", "Value": {"Fn::GetAtt": [lid(stack, fleet.queue.queue), "QueueName"]}}
        ],
        "GroupInServiceInstances": [
            {"Name": "AutoScalingGroupName", "Value": {"Ref": lid(stack, fleet.auto_scaling_group)}}
        ],
    }
    backlog = evaluate(result["Expression"], values)
    assert backlog == 500
    assert math.ceil(3 * backlog / tracking["TargetValue"]) == 15
    # At the target, the fleet is the right size: 300 messages on 3 instances keep it at 3.
    assert evaluate(result["Expression"], {**values, **{k: 300 for k in values if values[k] == 1500}}) == 100


def queries_dimensions(queries: dict) -> dict:
    return {
        q["MetricStat"]["Metric"]["MetricName"]: q["MetricStat"]["Metric"]["Dimensions"]
        for q in queries.values()
        if "MetricStat" in q
    }


def test_group_collects_in_service_instances_in_private_subnets(built) -> None:
    stack, _, template = built
    group = only(template, "AWS::AutoScaling::AutoScalingGroup")
    assert group["MinSize"] == "1" and group["MaxSize"] == "20"
    assert group["MetricsCollection"] == [{"Granularity": "1Minute", "Metrics": ["GroupInServiceInstances"]}]
    vpc = stack.node.find_child("Vpc")
    assert group["VPCZoneIdentifier"] == [
        {"Ref": lid(stack, subnet.node.default_child)} for subnet in vpc.private_subnets
    ]


def test_launch_template_is_hardened(built) -> None:
    _, _, template = built
    data = only(template, "AWS::EC2::LaunchTemplate")["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"  # IMDSv2 only
    assert [ni["AssociatePublicIpAddress"] for ni in data["NetworkInterfaces"]] == [False]
    assert "KeyName" not in data  # no SSH key: Session Manager
    assert data["BlockDeviceMappings"] == [
        {
            "DeviceName": "/dev/xvda",
            "Ebs": {"DeleteOnTermination": True, "Encrypted": True, "VolumeSize": 8, "VolumeType": "gp3"},
        }
    ]
    assert data["InstanceType"] == "t3.small"
    parameters = template.to_json()["Parameters"]
    assert any("al2023" in name for name in parameters)  # the AMI from its public SSM parameter
    security_group = only(template, "AWS::EC2::SecurityGroup")
    assert "SecurityGroupIngress" not in security_group
    assert [
        (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) for rule in security_group["SecurityGroupEgress"]
    ] == [("tcp", 443, 443)]


def test_role_has_session_manager_and_may_consume_the_queue(built) -> None:
    stack, fleet, template = built
    role = template.to_json()["Resources"][lid(stack, fleet.role)]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    assert "ManagedPolicyArns" not in role  # Session Manager's five actions, not AmazonSSMManagedInstanceCore
    statements = [
        {**s, "Action": sorted(s["Action"])}  # the order depends on the app's minimizePolicies flag
        for p in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": lid(stack, fleet.role)} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert statements == [
        {
            "Action": sorted(SESSION_MANAGER_ACTIONS),
            "Effect": "Allow",
            "Resource": "*",
            "Sid": "SessionManager",
        },
        {
            "Action": [
                "sqs:ChangeMessageVisibility",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:GetQueueUrl",
                "sqs:ReceiveMessage",
            ],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [lid(stack, fleet.queue.queue), "Arn"]},
        },
    ]


def test_user_data_runs_queue_consumer_on_the_queue(built) -> None:
    stack, fleet, template = built
    data = only(template, "AWS::EC2::LaunchTemplate")["LaunchTemplateData"]
    parts = data["UserData"]["Fn::Base64"]["Fn::Join"][1]
    script = "".join(part if isinstance(part, str) else "<token>" for part in parts)
    assert "from decoupling_constructs.runtime.consumer import QueueConsumer" in script
    assert "import_module('worker'), 'handle'" in script
    assert "pip install 'decoupling-constructs[runtime]'" in script
    assert "systemctl enable --now queue-worker.service" in script
    assert {"Ref": lid(stack, fleet.queue.queue)} in parts  # QUEUE_URL


def test_backlog_alarm_watches_the_same_math_above_the_target(built) -> None:
    _, fleet, template = built
    assert set(fleet.alarms) == {"backlog_per_instance"}
    alarms = [  # the metric-math one: the queue's own alarms are single metrics
        a["Properties"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        if "Metrics" in a["Properties"]
    ]
    (alarm,) = alarms
    assert alarm["AlarmName"] == "Workers/backlog_per_instance"
    assert alarm["Threshold"] == 100
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["EvaluationPeriods"] == 15
    (expression,) = [m for m in alarm["Metrics"] if "Expression" in m]
    assert evaluate(expression["Expression"], {"visible": 1500, "in_service": 3}) == 500
    assert "max_capacity (20)" in alarm["AlarmDescription"]


def test_alarm_can_be_tuned_or_removed() -> None:
    stack = new_stack()
    fleet = workers(
        stack, alarm_settings=AlarmSettings(overrides={"backlog_per_instance": AlarmOptions(threshold=250)})
    )
    assert fleet.alarms["backlog_per_instance"].node.default_child.threshold == 250
    assert QueueWorkers.ALARM_KEYS == ("backlog_per_instance",)
    other = new_stack()
    assert dict(workers(other, create_alarms=False).alarms) == {}


def test_customer_key_encrypts_the_root_volume_and_other_sizes() -> None:
    stack = new_stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    workers(
        stack,
        encryption_key=key,
        root_volume_size=Size.gibibytes(30),
        instance_type=ec2.InstanceType("c7g.large"),
        machine_image=ec2.MachineImage.latest_amazon_linux2023(cpu_type=ec2.AmazonLinuxCpuType.ARM_64),
        handler="jobs.worker:process",
        worker_packages=["my-jobs==1.2", "decoupling-constructs[runtime]"],
        min_capacity=2,
    )
    template = Template.from_stack(stack)
    data = only(template, "AWS::EC2::LaunchTemplate")["LaunchTemplateData"]
    ebs = data["BlockDeviceMappings"][0]["Ebs"]
    assert ebs["KmsKeyId"] == {"Fn::GetAtt": [lid(stack, key), "Arn"]}
    assert ebs["VolumeSize"] == 30
    assert data["InstanceType"] == "c7g.large"
    assert only(template, "AWS::AutoScaling::AutoScalingGroup")["MinSize"] == "2"
    script = "".join(p for p in data["UserData"]["Fn::Base64"]["Fn::Join"][1] if isinstance(p, str))
    assert "pip install my-jobs==1.2 'decoupling-constructs[runtime]'" in script
    assert "import_module('jobs.worker'), 'process'" in script


def test_isolated_subnets_are_used_when_there_are_no_private_ones_with_egress() -> None:
    stack = new_stack()
    vpc = ec2.Vpc(
        stack,
        "Isolated",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
        restrict_default_security_group=False,
    )
    workers(stack, vpc=vpc)
    group = only(Template.from_stack(stack), "AWS::AutoScaling::AutoScalingGroup")
    assert group["VPCZoneIdentifier"] == [{"Ref": lid(stack, s.node.default_child)} for s in vpc.isolated_subnets]
