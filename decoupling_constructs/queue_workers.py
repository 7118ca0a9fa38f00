"""QueueWorkers: an EC2 Auto Scaling group consuming a ReliableQueue, scaled on the backlog per instance."""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from aws_cdk import Acknowledgment, Duration, Size, Stack, Validations
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

if TYPE_CHECKING:
    from .alarm_topic import AlarmTopic

from . import _internals, _stacks
from . import _validate as v
from ._alarms import Alarms, AlarmSettings
from ._cdk import PatternConstruct
from ._network import private_subnets
from .queue import ReliableQueue

# EC2 Auto Scaling: MaxSize is at most the account's instance quota; 1,000 bounds a typo, not AWS.
MAX_CAPACITY_LIMIT = 1000
# gp3 volumes: 1 GiB-16 TiB (EC2 user guide, "Amazon EBS General Purpose SSD volumes"); Amazon Linux 2023's
# root snapshot is 8 GiB, the smallest root volume it boots from.
MIN_ROOT_GIB, MAX_ROOT_GIB = 8, 16384
ROOT_DEVICE = "/dev/xvda"  # Amazon Linux 2023's root device name
DEFAULT_INSTANCE_TYPE = "t3.small"
DEFAULT_ROOT_VOLUME_SIZE = Size.gibibytes(8)
# AWS Systems Manager user guide, "Create a custom IAM role for Session Manager" (and the AWS managed policy
# AWSCloud9SSMInstanceProfile): what the SSM Agent needs for Session Manager, nothing for Run Command or patching.
SESSION_MANAGER_ACTIONS = [
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
]
DEFAULT_HANDLER = "worker:handle"
DEFAULT_PACKAGES = ("decoupling-constructs[runtime]",)
# The backlog alarm: above the acceptable backlog per instance for this long means scaling could not keep up.
BACKLOG_ALARM_MINUTES = 15
BACKLOG_EXPRESSION = "visible / in_service"
_HANDLER = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*\Z")


class QueueWorkers(PatternConstruct):
    """EC2 instances consuming a ``ReliableQueue``, scaled as AWS's "Scaling policy based on Amazon SQS" says.

    Builds:

    * ``auto_scaling_group``: ``min_capacity``-``max_capacity`` instances in ``vpc``'s private subnets
      (``vpc_subnets``; public subnets are refused), group metrics on (``GroupInServiceInstances``).
    * ``scaling_policy``: target tracking on the backlog per instance, the metric math
      ``ApproximateNumberOfMessagesVisible / GroupInServiceInstances``, with the target the acceptable
      backlog per instance: ``latency_target / average_processing_time`` (``acceptable_backlog_per_instance``).
    * ``launch_template``: IMDSv2 only (``HttpTokens: required``), no public IP address, no key pair (use
      SSM Session Manager: the role has ``AmazonSSMManagedInstanceCore``), an encrypted gp3 root volume
      (the EBS default key, or ``encryption_key``), ``machine_image`` (default the latest Amazon Linux 2023,
      read from its public SSM parameter at deploy time), ``user_data`` (default :func:`worker_user_data`:
      installs ``worker_packages`` and runs ``QueueConsumer`` on ``handler`` as a systemd service).
    * ``role``: the instances' role; it may consume the queue (and use its key).
    * ``security_group``: no ingress; egress HTTPS only (SQS, SSM, package repositories through a NAT
      or VPC endpoints).
    * ``alarms``: ``"backlog_per_instance"``: the backlog per instance above the acceptable backlog for
      15 minutes (scaling is at ``max_capacity``, or the workers fail).

    :param queue: the ``ReliableQueue`` consumed; in any stack that does not depend on this one (refused).
    :param vpc: the instances' VPC.
    :param average_processing_time: how long one message takes a worker, on average (> 0).
    :param latency_target: how long a message may wait, at most (at least ``average_processing_time``).
    :param vpc_subnets: default the VPC's private subnets with egress, else its isolated ones.
    :param min_capacity: at least 1 (the backlog per instance is undefined with no instance); default 1.
    :param max_capacity: ``min_capacity``-1000; default 10.
    :param instance_type: default ``t3.small``.
    :param machine_image: default the latest Amazon Linux 2023 (x86_64).
    :param root_volume_size: 8 GiB-16 TiB; default 8 GiB.
    :param encryption_key: customer-managed KMS key for the root volume; default the account's EBS key.
    :param handler: ``module:function`` that handles one message (default ``worker:handle``); the default
        user data only.
    :param worker_packages: pip requirements the default user data installs (your handler's package too).
    :param user_data: replaces the default user data.
    :param alarm_topic: SNS topic (or ``AlarmTopic``) the alarm notifies; default none.
    :param create_alarms: default True; False creates no alarm.
    :param alarm_settings: an ``AlarmSettings`` (name prefix, actions, per-key overrides).
    """

    #: The keys of ``alarms`` and of ``alarm_settings.overrides``.
    ALARM_KEYS: ClassVar[tuple[str, ...]] = ("backlog_per_instance",)

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        queue: ReliableQueue,
        vpc: ec2.IVpc,
        average_processing_time: Duration,
        latency_target: Duration,
        vpc_subnets: ec2.SubnetSelection | None = None,
        min_capacity: int = 1,
        max_capacity: int = 10,
        instance_type: ec2.InstanceType | None = None,
        machine_image: ec2.IMachineImage | None = None,
        root_volume_size: Size = DEFAULT_ROOT_VOLUME_SIZE,
        alarm_topic: sns.ITopic | AlarmTopic | None = None,
        create_alarms: bool = True,
        alarm_settings: AlarmSettings | None = None,
        encryption_key: kms.IKey | None = None,
        handler: str = DEFAULT_HANDLER,
        worker_packages: Sequence[str] = DEFAULT_PACKAGES,
        user_data: ec2.UserData | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        with v.validating(self):
            packages, root_gib = _validate_props(
                queue=queue,
                vpc=vpc,
                vpc_subnets=vpc_subnets,
                min_capacity=min_capacity,
                max_capacity=max_capacity,
                instance_type=instance_type,
                machine_image=machine_image,
                root_volume_size=root_volume_size,
                encryption_key=encryption_key,
                handler=handler,
                worker_packages=worker_packages,
                user_data=user_data,
            )
            self.acceptable_backlog_per_instance = acceptable_backlog(average_processing_time, latency_target)
            subnets = private_subnets(vpc, vpc_subnets, what="a QueueWorkers fleet")
            alarms = Alarms.of(self, alarm_topic, create_alarms, alarm_settings)
            _stacks.use_each(self, {"queue": queue.queue, "vpc": vpc, "encryption_key": encryption_key})
        self.queue = queue
        self.role = self._new_role(queue)
        self.security_group = self._new_security_group(vpc)
        self.launch_template = self._new_launch_template(
            instance_type=instance_type,
            machine_image=machine_image,
            user_data=user_data or worker_user_data(queue, handler=handler, packages=packages),
            root_gib=root_gib,
            encryption_key=encryption_key,
        )
        self.auto_scaling_group = self._new_group(vpc, subnets, min_capacity, max_capacity)
        self.scaling_policy = self._new_scaling_policy(queue)

        alarms.add(
            "backlog_per_instance",
            metric=self.metric_backlog_per_instance(),
            threshold=self.acceptable_backlog_per_instance,
            description="The backlog per instance stayed above {threshold} messages (what meets the latency "
            f"target) for {BACKLOG_ALARM_MINUTES} minutes: the group is at max_capacity ({max_capacity}), "
            "or the workers fail. Raise max_capacity or look at the workers.",
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=BACKLOG_ALARM_MINUTES,
        )
        self.alarms = alarms.mapping

    def _new_role(self, queue: ReliableQueue) -> iam.Role:
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
        )
        # Session Manager instead of SSH: the five actions AWS documents for a Session Manager instance profile
        # (the AWS managed policy AWSCloud9SSMInstanceProfile is exactly these). They take no resource ARN.
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="SessionManager",
                actions=SESSION_MANAGER_ACTIONS,
                resources=["*"],
            )
        )
        Validations.of(_internals.role_default_policy(role)).acknowledge(  # type: ignore[arg-type]
            Acknowledgment(
                id=_internals.nag_resource_finding_id("AwsSolutions-IAM5", "*"),
                reason="Session Manager's ssmmessages and ssm:UpdateInstanceInformation actions support no "
                "resource-level permissions: AWS's own Session Manager instance profile grants them on '*'.",
            )
        )
        queue.grant_consume_messages(role)
        return role

    def _new_security_group(self, vpc: ec2.IVpc) -> ec2.SecurityGroup:
        group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="QueueWorkers: no ingress; HTTPS out to SQS, SSM and package repositories",
            allow_all_outbound=False,
        )
        group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS APIs")
        return group

    def _new_launch_template(
        self,
        *,
        instance_type: ec2.InstanceType | None,
        machine_image: ec2.IMachineImage | None,
        user_data: ec2.UserData,
        root_gib: float,
        encryption_key: kms.IKey | None,
    ) -> ec2.LaunchTemplate:
        """IMDSv2 only, no public IP, no key pair (Session Manager), an encrypted gp3 root volume."""
        return ec2.LaunchTemplate(
            self,
            "LaunchTemplate",
            instance_type=instance_type or ec2.InstanceType(DEFAULT_INSTANCE_TYPE),
            machine_image=machine_image or ec2.MachineImage.latest_amazon_linux2023(),
            role=self.role,
            security_group=self.security_group,
            user_data=user_data,
            require_imdsv2=True,
            http_tokens=ec2.LaunchTemplateHttpTokens.REQUIRED,
            associate_public_ip_address=False,
            block_devices=[
                ec2.BlockDevice(
                    device_name=ROOT_DEVICE,
                    volume=ec2.BlockDeviceVolume.ebs(
                        int(root_gib),
                        encrypted=True,
                        kms_key=encryption_key,
                        volume_type=ec2.EbsDeviceVolumeType.GP3,
                        delete_on_termination=True,
                    ),
                )
            ],
        )

    def _new_group(
        self, vpc: ec2.IVpc, subnets: list[ec2.ISubnet], min_capacity: int, max_capacity: int
    ) -> autoscaling.AutoScalingGroup:
        group = autoscaling.AutoScalingGroup(
            self,
            "Group",
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnets=subnets),
            launch_template=self.launch_template,
            min_capacity=min_capacity,
            max_capacity=max_capacity,
            group_metrics=[autoscaling.GroupMetrics(autoscaling.GroupMetric.IN_SERVICE_INSTANCES)],
        )
        # AS3 asks for notifications of every scaling event; the backlog alarm reports what matters here.
        Validations.of(group).acknowledge(
            Acknowledgment(
                id="AwsSolutions-AS3",
                reason="Scaling is routine for a queue-driven fleet; the backlog_per_instance alarm notifies "
                "when scaling cannot keep the backlog within the latency target.",
            )
        )
        return group

    def _new_scaling_policy(self, queue: ReliableQueue) -> autoscaling.CfnScalingPolicy:
        """Target tracking on backlog per instance (metric math), the target from the latency target."""
        group_name = self.auto_scaling_group.auto_scaling_group_name
        return autoscaling.CfnScalingPolicy(
            self,
            "BacklogPerInstanceScaling",
            auto_scaling_group_name=group_name,
            policy_type="TargetTrackingScaling",
            target_tracking_configuration=autoscaling.CfnScalingPolicy.TargetTrackingConfigurationProperty(
                target_value=self.acceptable_backlog_per_instance,
                customized_metric_specification=autoscaling.CfnScalingPolicy.CustomizedMetricSpecificationProperty(
                    metrics=_backlog_queries(queue, group_name)
                ),
            ),
        )

    def metric_backlog_per_instance(self) -> cloudwatch.MathExpression:
        """``ApproximateNumberOfMessagesVisible / GroupInServiceInstances`` per minute: what the policy tracks."""
        return cloudwatch.MathExpression(
            expression=BACKLOG_EXPRESSION,
            label="Backlog per instance",
            period=Duration.minutes(1),
            using_metrics={
                "visible": self.queue.queue.metric_approximate_number_of_messages_visible(statistic="Sum"),
                "in_service": cloudwatch.Metric(
                    namespace="AWS/AutoScaling",
                    metric_name="GroupInServiceInstances",
                    dimensions_map={"AutoScalingGroupName": self.auto_scaling_group.auto_scaling_group_name},
                    statistic="Average",
                ),
            },
        )


def acceptable_backlog(average_processing_time: Duration, latency_target: Duration) -> float:
    """Messages one instance may have waiting and still meet the latency target: latency / processing time.

    AWS's example: 0.1 s a message and 10 s of acceptable latency give a target of 100 messages per instance.
    """
    processing = v.duration_seconds("average_processing_time", average_processing_time)
    latency = v.duration_seconds("latency_target", latency_target)
    if processing is None or latency is None:
        raise ValueError("average_processing_time and latency_target must be concrete Durations (not tokens)")
    if processing <= 0:
        raise ValueError(f"average_processing_time must be more than 0 seconds, got {v.seconds_text(processing)}")
    if latency < processing:
        raise ValueError(
            f"latency_target must be at least average_processing_time ({v.seconds_text(processing)}): a message "
            f"cannot be handled faster than it is processed, got {v.seconds_text(latency)}"
        )
    return latency / processing


def worker_user_data(
    queue: ReliableQueue, *, handler: str = DEFAULT_HANDLER, packages: Sequence[str] = DEFAULT_PACKAGES
) -> ec2.UserData:
    """Amazon Linux 2023 user data: install ``packages`` with pip and run ``QueueConsumer`` on ``handler`` as a
    systemd service (restarted if it stops), consuming ``queue`` in the instance's region."""
    module, function = handler.split(":")
    region = Stack.of(queue).region
    program = (
        "import importlib\n"
        "from decoupling_constructs.runtime.consumer import QueueConsumer\n"
        f"handle = getattr(importlib.import_module({module!r}), {function!r})\n"
        "QueueConsumer(__import__('os').environ['QUEUE_URL'], handle).run()\n"
    )
    user_data = ec2.UserData.for_linux()
    user_data.add_commands(
        "set -euo pipefail",
        "dnf install -y python3.11 python3.11-pip",
        "python3.11 -m pip install " + " ".join(shlex.quote(p) for p in packages),
        "mkdir -p /opt/queue-worker",
        f"cat > /opt/queue-worker/run.py <<'PROGRAM'\n{program}PROGRAM",
        "cat > /etc/systemd/system/queue-worker.service <<UNIT\n"
        "[Unit]\nDescription=QueueConsumer worker\nAfter=network-online.target\n"
        "[Service]\n"
        f"Environment=QUEUE_URL={queue.queue.queue_url}\n"
        f"Environment=AWS_DEFAULT_REGION={region}\n"
        "ExecStart=/usr/bin/python3.11 /opt/queue-worker/run.py\nRestart=always\nRestartSec=5\n"
        "[Install]\nWantedBy=multi-user.target\nUNIT",
        "systemctl daemon-reload",
        "systemctl enable --now queue-worker.service",
    )
    return user_data


def _backlog_queries(
    queue: ReliableQueue, group_name: str
) -> list[autoscaling.CfnScalingPolicy.TargetTrackingMetricDataQueryProperty]:
    """The metric math of AWS's "Scaling policy based on Amazon SQS": visible messages over InService instances."""
    query = autoscaling.CfnScalingPolicy.TargetTrackingMetricDataQueryProperty
    stat = autoscaling.CfnScalingPolicy.TargetTrackingMetricStatProperty
    metric = autoscaling.CfnScalingPolicy.MetricProperty
    dimension = autoscaling.CfnScalingPolicy.MetricDimensionProperty
    return [
        query(
            id="visible",
            metric_stat=stat(
                metric=metric(
                    namespace="AWS/SQS",
                    metric_name="ApproximateNumberOfMessagesVisible",
                    dimensions=[dimension(name="QueueName", value=queue.queue.queue_name)],
                ),
                stat="Sum",
            ),
            return_data=False,
        ),
        query(
            id="in_service",
            metric_stat=stat(
                metric=metric(
                    namespace="AWS/AutoScaling",
                    metric_name="GroupInServiceInstances",
                    dimensions=[dimension(name="AutoScalingGroupName", value=group_name)],
                ),
                stat="Average",
            ),
            return_data=False,
        ),
        query(id="backlog_per_instance", expression=BACKLOG_EXPRESSION, label="Backlog per instance", return_data=True),
    ]


def _check_package(prop: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip() or "\n" in value:
        raise ValueError(f"{prop} must be a pip requirement such as 'my-worker==1.2', got {value!r}")


def _validate_props(
    *,
    queue: ReliableQueue,
    vpc: ec2.IVpc,
    vpc_subnets: ec2.SubnetSelection | None,
    min_capacity: int,
    max_capacity: int,
    instance_type: ec2.InstanceType | None,
    machine_image: ec2.IMachineImage | None,
    root_volume_size: Size,
    encryption_key: kms.IKey | None,
    handler: str,
    worker_packages: Sequence[str],
    user_data: ec2.UserData | None,
) -> tuple[list[str], float]:
    """Every prop but the two durations (``acceptable_backlog`` checks those); the worker packages and the
    root volume's size in GiB."""
    v.check_type("queue", queue, ReliableQueue, "a ReliableQueue")
    v.check_interface("vpc", vpc, "an ec2.IVpc", "vpc_id", "select_subnets", "public_subnets", optional=False)
    v.check_type("vpc_subnets", vpc_subnets, ec2.SubnetSelection, "an ec2.SubnetSelection", optional=True)
    v.check_int("min_capacity", min_capacity, minimum=1, maximum=MAX_CAPACITY_LIMIT)
    v.check_int("max_capacity", max_capacity, minimum=1, maximum=MAX_CAPACITY_LIMIT)
    if max_capacity < min_capacity:
        raise ValueError(f"max_capacity must be at least min_capacity ({min_capacity}), got {max_capacity}")
    v.check_type("instance_type", instance_type, ec2.InstanceType, "an ec2.InstanceType", optional=True)
    v.check_interface("machine_image", machine_image, "an ec2.IMachineImage", "get_image")
    v.check_type("root_volume_size", root_volume_size, Size, "an aws_cdk.Size")
    root_gib = root_volume_size.to_gibibytes()
    if not v.is_token(root_gib) and not MIN_ROOT_GIB <= root_gib <= MAX_ROOT_GIB:
        raise ValueError(f"root_volume_size must be {MIN_ROOT_GIB}-{MAX_ROOT_GIB} GiB, got {root_gib} GiB")
    v.check_interface("encryption_key", encryption_key, "a kms.IKey", "key_arn", "grant_encrypt_decrypt")
    if not isinstance(handler, str) or not _HANDLER.match(handler):
        raise ValueError(f"handler must be 'module:function' (e.g. 'worker:handle'), got {handler!r}")
    packages = v.check_sequence("worker_packages", worker_packages, _check_package)
    v.check_interface("user_data", user_data, "an ec2.UserData", "add_commands", "render")
    return packages, root_gib
