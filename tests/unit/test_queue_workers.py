"""Template tests for QueueWorkers: the backlog-per-instance scaling (its metric math evaluated on hand-worked
figures), the hardened launch template, grants, subnets and the alarm, in every kind of app."""

from __future__ import annotations

import ast
import json
import math
import operator
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, Size
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Annotations, Match, Template

from decoupling_constructs import AlarmOptions, AlarmSettings, QueueWorkers, ReliableQueue
from decoupling_constructs.queues.queue_workers import SESSION_MANAGER_ACTIONS
from tests.unit.cdk_helpers import lid, new_stack

# The handler and its code every test fleet runs (tests/unit/worker_code/jobs/worker.py).
WORKER_CODE = Path(__file__).parent / "worker_code"
WORKER = {"handler": "jobs.worker:handle", "worker_code": WORKER_CODE}


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
        **WORKER,
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
        {
            **s,
            "Action": sorted(s["Action"]) if isinstance(s["Action"], list) else s["Action"],
        }  # the order depends on the app's minimizePolicies flag
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
        bundle_statement(fleet),
    ]


def bundle_statement(fleet: QueueWorkers) -> dict:
    """s3:GetObject on the bundle's object in the bootstrap bucket, nothing else of the bucket."""
    stack = cdk.Stack.of(fleet)
    arn = stack.resolve(f"{fleet.bundle.bucket.bucket_arn}/{fleet.bundle.s3_object_key}")
    assert fleet.bundle.s3_object_key.endswith(".zip") and json.dumps(arn).count("cdk-hnb659fds-assets-") == 1
    return {"Action": "s3:GetObject", "Effect": "Allow", "Resource": arn, "Sid": "ReadWorkerBundle"}


def user_data_script(template: Template) -> tuple[str, list]:
    """The launch template's user data with every token shown as <token>, and its Fn::Join parts."""
    data = only(template, "AWS::EC2::LaunchTemplate")["LaunchTemplateData"]
    parts = data["UserData"]["Fn::Base64"]["Fn::Join"][1]
    return "".join(part if isinstance(part, str) else "<token>" for part in parts), parts


def test_user_data_fetches_the_bundle_and_runs_queue_consumer_on_the_queue(built) -> None:
    """The default boot installs nothing from a package index: it fetches the bundle (a CDK asset) from the bootstrap
    bucket and runs QueueConsumer on the handler as a systemd service."""
    stack, fleet, template = built
    script, parts = user_data_script(template)
    assert "pip " not in script and "pip3" not in script
    assert "from decoupling_constructs.runtime.consumer import QueueConsumer" in script
    assert "import_module('jobs.worker'), 'handle'" in script
    assert "systemctl enable --now queue-worker.service" in script
    assert {"Ref": lid(stack, fleet.queue.queue)} in parts  # QUEUE_URL
    assert (
        f"s3://{stack.resolve(fleet.bundle.s3_bucket_name)}"
        in "".join(  # the bootstrap bucket
            p if isinstance(p, str) else str(p) for p in parts
        )
        or {"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"} in parts
    )
    assert f"/{fleet.bundle.s3_object_key} " in script  # the asset's key, a literal (its hash)
    # dnf only when the image has no Python 3.11+, and then only the Amazon Linux package python3.11
    (dnf,) = [line for line in script.splitlines() if "dnf" in line]
    assert dnf.startswith('if [ -z "$PYTHON" ]; then dnf install -y python3.11;')


def test_bundle_runs_on_a_bare_python_with_nothing_installed(built) -> None:
    """The bundle alone (no site-packages: ``python -S``) imports boto3, the runtime's QueueConsumer and the handler,
    and holds no aws-cdk-lib and no native file: what an instance with only a Python 3.11 interpreter needs."""
    _, fleet, _ = built
    site = fleet.bundle_directory / "site"
    names = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    assert "decoupling_constructs/runtime/consumer.py" in names and "jobs/worker.py" in names
    assert not any(n.startswith(("aws_cdk", "jsii", "constructs/", "decoupling_constructs/queue")) for n in names)
    assert not any(n.endswith((".so", ".pyc")) for n in names)
    probe = (  # QueueConsumer built too: its options are checked by the library's rules, which must be there
        "import sys; sys.path.insert(0, sys.argv[1]); import boto3, botocore, jobs.worker; "
        "from decoupling_constructs.runtime.consumer import QueueConsumer; "
        "QueueConsumer('https://sqs.us-east-1.amazonaws.com/111111111111/jobs', jobs.worker.handle, "
        "client=boto3.client('sqs', region_name='us-east-1')); "
        "print(boto3.__file__.startswith(sys.argv[1]), 'aws_cdk' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", probe, str(site)], capture_output=True, text=True, check=True, timeout=60, cwd="/"
    )
    assert out.stdout.split() == ["True", "False"]


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
        root_volume_size=Size.mebibytes(30 * 1024),  # 30 GiB, given in MiB
        instance_type=ec2.InstanceType("c7g.large"),
        min_capacity=2,
    )
    template = Template.from_stack(stack)
    data = only(template, "AWS::EC2::LaunchTemplate")["LaunchTemplateData"]
    ebs = data["BlockDeviceMappings"][0]["Ebs"]
    assert ebs["KmsKeyId"] == {"Fn::GetAtt": [lid(stack, key), "Arn"]}
    assert ebs["VolumeSize"] == 30
    assert data["InstanceType"] == "c7g.large"
    assert only(template, "AWS::AutoScaling::AutoScalingGroup")["MinSize"] == "2"


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


def test_a_wheel_is_worker_code_too(tmp_path) -> None:
    """A pure-Python wheel's importable files (root and .data/purelib) land on the bundle's site/."""
    wheel = tmp_path / "reports-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("reports/__init__.py", "")
        archive.writestr("reports/job.py", "def run(message):\n    return message['Body']\n")
        archive.writestr("reports-1.0.data/purelib/reports_extra.py", "X = 1\n")
        archive.writestr("reports-1.0.data/scripts/reports", "#!python\n")
        archive.writestr("reports-1.0.dist-info/METADATA", "Name: reports\nVersion: 1.0\n")
    stack = new_stack()
    fleet = workers(stack, handler="reports.job:run", worker_code=wheel)
    site = fleet.bundle_directory / "site"
    assert (site / "reports" / "job.py").read_text().startswith("def run")
    assert (site / "reports_extra.py").exists()
    assert not (site / "reports").joinpath("..", "reports-1.0.data").exists()
    assert "import_module('reports.job'), 'run'" in user_data_script(Template.from_stack(stack))[0]


def test_pip_requirements_are_an_opt_in_with_a_warning() -> None:
    stack = new_stack()
    workers(stack, pip_requirements=["my-jobs==1.2.0", "requests[socks]==2.32.3"])
    script, _ = user_data_script(Template.from_stack(stack))
    assert "--target \"$WORKER_DIR/index-site\" my-jobs==1.2.0 'requests[socks]==2.32.3'" in script
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("pip_requirements"))
    (warning,) = warnings
    assert "my-jobs==1.2.0" in warning.entry.data and "as root" in warning.entry.data


def test_a_machine_image_may_carry_the_code() -> None:
    """With an image that has the handler installed, worker_code may be left out; the bundle still carries the
    runtime and boto3."""
    stack = new_stack()
    image = ec2.MachineImage.generic_linux({"us-east-1": "ami-0123456789abcdef0"})
    fleet = workers(stack, worker_code=None, machine_image=image)
    site = fleet.bundle_directory / "site"
    assert (site / "decoupling_constructs" / "runtime" / "consumer.py").exists()
    assert not (site / "jobs").exists()


def test_vpc_endpoints_are_what_the_boot_needs() -> None:
    """vpc_endpoints=True: an S3 gateway endpoint on the workers' route tables, and interface endpoints (SQS, SSM,
    SSM Messages, EC2 Messages) that admit HTTPS from the workers' security group only (no VPC CIDR)."""
    stack = new_stack()
    vpc = isolated_vpc(stack)
    fleet = workers(stack, vpc=vpc, vpc_endpoints=True)
    template = Template.from_stack(stack)
    endpoints = [r["Properties"] for r in template.find_resources("AWS::EC2::VPCEndpoint").values()]
    services = sorted(json.dumps(e["ServiceName"]) for e in endpoints)
    assert len(services) == 5 and set(fleet.endpoints) == set(QueueWorkers.BOOT_ENDPOINTS)
    for name in ("s3", "sqs", "ssm", "ssmmessages", "ec2messages"):
        assert any(f".{name}" in service for service in services), (name, services)
    (gateway,) = [e for e in endpoints if e.get("VpcEndpointType") == "Gateway"]
    assert gateway["RouteTableIds"] == [
        {"Ref": lid(stack, s.node.find_child("RouteTable"))} for s in vpc.isolated_subnets
    ]
    interface = [e for e in endpoints if e.get("VpcEndpointType") == "Interface"]
    assert all(e["PrivateDnsEnabled"] is True for e in interface)
    (ingress,) = template.find_resources("AWS::EC2::SecurityGroupIngress").values()
    assert ingress["Properties"]["SourceSecurityGroupId"] == {
        "Fn::GetAtt": [lid(stack, fleet.security_group), "GroupId"]
    }
    assert (ingress["Properties"]["FromPort"], ingress["Properties"]["ToPort"]) == (443, 443)


def isolated_vpc(stack: cdk.Stack) -> ec2.Vpc:
    return ec2.Vpc(
        stack,
        "Isolated",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
        restrict_default_security_group=False,
    )


def image_parameter(template: Template) -> str:
    (name,) = [n for n in template.to_json()["Parameters"] if "al2023" in n]
    return name


def test_a_graviton_instance_type_gets_the_arm64_image() -> None:
    stack = new_stack()
    workers(stack, instance_type=ec2.InstanceType("m7g.large"))
    assert image_parameter(Template.from_stack(stack)).lower().endswith(("arm64", "arm64parameter")) or (
        "arm64" in image_parameter(Template.from_stack(stack))
    )
    other = new_stack()
    workers(other)
    assert "x8664" in image_parameter(Template.from_stack(other))


@pytest.mark.parametrize(
    ("instance_type", "cpu_type", "message"),
    [
        (
            "c7g.large",
            ec2.AmazonLinuxCpuType.X86_64,
            r"machine_image is an x86_64 image, but instance_type ec2.InstanceType\('c7g.large'\) runs arm64",
        ),
        (
            "t3.small",
            ec2.AmazonLinuxCpuType.ARM_64,
            r"machine_image is an arm64 image, but instance_type ec2.InstanceType\('t3.small'\) runs x86_64",
        ),
    ],
)
def test_an_image_of_the_other_architecture_is_refused(instance_type, cpu_type, message) -> None:
    stack = new_stack()
    image = ec2.MachineImage.latest_amazon_linux2023(cpu_type=cpu_type)
    with pytest.raises(ValueError, match=message):
        workers(stack, instance_type=ec2.InstanceType(instance_type), machine_image=image)


def test_a_customer_key_lets_the_auto_scaling_service_linked_role_use_it() -> None:
    """EC2 Auto Scaling user guide, "Required AWS KMS key policy for use with encrypted volumes": the two statements,
    for the service-linked role of the group's account."""
    stack = new_stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    workers(stack, encryption_key=key)
    policy = Template.from_stack(stack).to_json()["Resources"][lid(stack, key)]["Properties"]["KeyPolicy"]
    role = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":iam::",
                {"Ref": "AWS::AccountId"},
                ":role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
            ],
        ]
    }
    statements = {s.get("Sid"): s for s in policy["Statement"]}
    use = statements["AllowAutoScalingServiceLinkedRoleUseOfTheKey"]
    assert use["Principal"] == {"AWS": role} and use["Resource"] == "*"
    assert sorted(use["Action"]) == sorted(
        ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
    )
    grant = statements["AllowAutoScalingAttachmentOfPersistentResources"]
    assert grant["Principal"] == {"AWS": role} and grant["Action"] == "kms:CreateGrant"
    assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": True}}


def test_an_imported_key_gets_a_warning_naming_the_statements() -> None:
    stack = new_stack()
    key = kms.Key.from_key_arn(
        stack, "Key", "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    workers(stack, encryption_key=key)
    (warning,) = Annotations.from_stack(stack).find_warning(
        "*", Match.string_like_regexp("AWSServiceRoleForAutoScaling")
    )
    assert "Required AWS KMS key policy for use with encrypted volumes" in warning.entry.data


# --- Bad inputs of the new props, in the style of test_bad_inputs.py (kept here to avoid conflicts there) ---
PATH = "'T/X'"


def _build(**props: object) -> Callable[[cdk.Stack], object]:
    def build(stack: cdk.Stack) -> object:
        options: dict[str, object] = {
            "queue": ReliableQueue(stack, "Jobs"),
            "vpc": isolated_vpc(stack),
            "average_processing_time": Duration.millis(100),
            "latency_target": Duration.seconds(10),
            **WORKER,
        }
        options.update(props)
        return QueueWorkers(stack, "X", **{k: v for k, v in options.items() if v is not _LEAVE_OUT})  # type: ignore[arg-type]

    return build


_LEAVE_OUT = object()
BAD_INPUTS = [
    ("handler-missing", _build(handler=_LEAVE_OUT), ("handler is required", "'jobs.worker:handle'")),
    ("handler-no-function", _build(handler="jobs.worker"), ("handler", "'jobs.worker'")),
    ("handler-not-in-code", _build(handler="jobs.other:handle"), ("handler 'jobs.other:handle'", "jobs/other.py")),
    ("handler-trailing-newline", _build(handler="jobs.worker:handle\n"), ("handler",)),
    ("worker_code-missing", _build(worker_code=_LEAVE_OUT), ("worker_code is required", "machine_image")),
    ("worker_code-not-there", _build(worker_code="/no/such/dir"), ("worker_code", "'/no/such/dir'", "does not exist")),
    ("worker_code-not-a-wheel", _build(worker_code=__file__), ("worker_code", "wheel (.whl)")),
    ("worker_code-number", _build(worker_code=3), ("worker_code", "3")),
    ("pip_requirements-unpinned", _build(pip_requirements=["my-jobs"]), ("pip_requirements[0]", "'my-jobs'", "==")),
    ("pip_requirements-range", _build(pip_requirements=["my-jobs>=1"]), ("pip_requirements[0]", "'my-jobs>=1'")),
    ("pip_requirements-option", _build(pip_requirements=["--index-url=x==1"]), ("pip_requirements[0]",)),
    ("pip_requirements-string", _build(pip_requirements="my-jobs==1"), ("pip_requirements", "a list")),
    ("vpc_endpoints-string", _build(vpc_endpoints="yes"), ("vpc_endpoints", "'yes'")),
    (
        "user_data-with-handler",
        _build(user_data=ec2.UserData.for_linux()),
        ("handler is for the default user data", "user_data"),
    ),
    (
        "root_volume_size-mebibytes",
        _build(root_volume_size=Size.mebibytes(8500)),
        ("root_volume_size", "whole number of GiB", "Size.mebibytes(8500)", "8.30078 GiB"),
    ),
    ("root_volume_size-fraction", _build(root_volume_size=Size.gibibytes(8.5)), ("root_volume_size", "8.5 GiB")),
    (
        "root_volume_size-tebibytes",
        _build(root_volume_size=Size.tebibytes(17)),
        ("root_volume_size", "8-16384 GiB", "Size.tebibytes(17)", "17408 GiB"),
    ),
]


@pytest.mark.parametrize(("name", "build", "names"), BAD_INPUTS, ids=[row[0] for row in BAD_INPUTS])
def test_bad_input_of_the_new_props_is_a_clear_error(name, build, names) -> None:
    stack = cdk.Stack(cdk.App(), "T")
    with pytest.raises(ValueError) as raised:
        build(stack)
    message = str(raised.value)
    assert message.startswith(f"QueueWorkers {PATH}: "), message
    for part in names:
        assert part in message, (part, message)
