"""QueueWorkers: an EC2 Auto Scaling group consuming a ReliableQueue, scaled on the backlog per instance."""

from __future__ import annotations

import keyword
import math
import os
import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from aws_cdk import (
    Acknowledgment,
    Annotations,
    Aws,
    CfnParameter,
    Duration,
    Size,
    SizeRoundingBehavior,
    Stack,
    Validations,
)
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sns as sns
from constructs import Construct

if TYPE_CHECKING:
    from ..alarm_topic import AlarmTopic

from .. import _internals, _stacks
from .. import _rules as r
from .. import _validate as v
from .._alarms import ALARM_PROPS, Alarms, AlarmSettings
from .._cdk import PatternConstruct
from .._network import private_subnets
from .._props import ENCRYPTION_KEY
from .._security import acknowledge_checkov
from . import _worker_bundle
from .reliable_queue import ReliableQueue

# EC2 Auto Scaling: MaxSize is at most the account's instance quota; 1,000 bounds a typo, not AWS.
MAX_CAPACITY_LIMIT = 1000
# gp3 volumes: 1 GiB-16 TiB, sized in whole GiB (EC2 user guide, "Amazon EBS General Purpose SSD volumes";
# CreateVolume Size is an integer of GiB); Amazon Linux 2023's root snapshot is 8 GiB, the smallest root volume
# it boots from.
MIN_ROOT_GIB, MAX_ROOT_GIB = 8, 16384
GIB = 1024**3
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
# The backlog alarm: above the acceptable backlog per instance for this long means scaling could not keep up.
BACKLOG_ALARM_MINUTES = 15
BACKLOG_EXPRESSION = "visible / in_service"
# "package.module:function": Python identifiers (ASCII), no keyword; the boot imports the module by name.
_HANDLER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*")  # fullmatch
# A pinned requirement: one distribution, optional extras, exactly one version (PEP 508 names, PEP 440 versions).
_PINNED = re.compile(
    r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?(\[[A-Za-z0-9._-]+(,[A-Za-z0-9._-]+)*\])?==[A-Za-z0-9.+!_-]+"
)
# Where the bundle goes on the instance (the boot script reads QUEUE_WORKER_DIR/SYSTEMD_UNIT_DIR first, so that
# the local run of testing.workers can use directories of its own; cloud-init sets neither).
WORKER_DIR = "/opt/queue-worker"
UNIT_NAME = "queue-worker.service"
AL2023_PARAMETER_PREFIX = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-"
# The interpreters the boot looks for, newest first. Amazon Linux 2023's /usr/bin/python3 is Python 3.9 for the
# life of AL2023 (AL2023 user guide, "Python in AL2023"); the library needs 3.11+, which AL2023 packages as
# python3.11 (and 3.12, 3.13, 3.14) but does not install on its AMI.
PYTHONS = ("python3.14", "python3.13", "python3.12", "python3.11")
FALLBACK_PYTHON_PACKAGE = "python3.11"
# AWS EC2 Auto Scaling user guide, "Required AWS KMS key policy for use with encrypted volumes": the service-linked
# role that launches the instances must be allowed to use a customer managed key, and to create grants on it.
AUTOSCALING_SERVICE_LINKED_ROLE = "aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
AUTOSCALING_KEY_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]

#: The VPC endpoints the default boot and the worker use in subnets without a route to the internet, and why.
#: ``vpc_endpoints=True`` creates them. Not needed: CloudWatch Logs (the worker logs to the systemd journal; nothing
#: ships logs), KMS (SQS and EBS call it themselves), STS (the role's credentials come from the instance metadata).
BOOT_ENDPOINTS: Mapping[str, str] = {
    "s3": "gateway endpoint: the worker bundle (a CDK asset in the bootstrap bucket); and, when the image has no "
    "Python 3.11+, Amazon Linux 2023's dnf repositories, which are S3 buckets in the Region",
    "sqs": "interface endpoint: the queue (ReceiveMessage, DeleteMessageBatch, ChangeMessageVisibilityBatch)",
    "ssm": "interface endpoint: Session Manager (the SSM Agent registers the instance); not needed by the boot",
    "ssmmessages": "interface endpoint: Session Manager's data channel; not needed by the boot",
    "ec2messages": "interface endpoint: older SSM Agents' message channel; not needed by the boot",
}
_INTERFACE_SERVICES = {
    "sqs": ec2.InterfaceVpcEndpointAwsService.SQS,
    "ssm": ec2.InterfaceVpcEndpointAwsService.SSM,
    "ssmmessages": ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES,
    "ec2messages": ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES,
}


# ------------------------------------------------------------------------------------------------ the rules

_SYNTH_TARGET = "the scaling target is computed from it"


def _more_than_zero(prop: str, value: Duration, ctx: r.Context) -> None:
    if value.to_seconds(integral=False) <= 0:
        raise ValueError(f"{prop} must be more than 0 seconds, got {r.show(value, ctx.scope)}")


def _check_handler(prop: str, value: object, ctx: r.Context) -> None:
    if not isinstance(value, str):
        raise v.PropTypeError(f"{prop} must be {_HANDLER_TEXT}, got {r.show(value, ctx.scope)}")
    if not _HANDLER.fullmatch(value) or any(keyword.iskeyword(part) for part in re.split(r"[.:]", value)):
        raise ValueError(f"{prop} must be {_HANDLER_TEXT}, got {r.show(value, ctx.scope)}")


_HANDLER_TEXT = "'package.module:function' (e.g. 'jobs.worker:handle')"


def _handler_found(handler: str, names: Sequence[str]) -> bool:
    module = handler.split(":")[0].replace(".", "/")
    return f"{module}.py" in names or f"{module}/__init__.py" in names


def _check_worker_code(prop: str, value: object, ctx: r.Context) -> None:
    """A directory or a readable wheel, holding ``handler``'s module at its top level."""
    if not isinstance(value, str | os.PathLike) or not str(value):
        raise v.PropTypeError(f"{prop} must be a directory or a wheel (.whl) path, got {r.show(value, ctx.scope)}")
    code = _code_path(value)
    if code.is_dir():
        names = [path.relative_to(code).as_posix() for path in code.rglob("*.py")]
    elif code.is_file() and code.suffix == ".whl":
        try:
            names = _worker_bundle.wheel_names(code)
        except _worker_bundle.BundleError as error:
            raise ValueError(f"{prop}: {error}") from error
    else:
        raise ValueError(
            f"{prop} must be an existing directory or wheel (.whl) file, got {str(value)!r}"
            + ("" if code.exists() else " (it does not exist)")
        )
    handler = ctx.props.get("handler")
    if isinstance(handler, str) and not _handler_found(handler, names):
        module = handler.split(":")[0]
        raise ValueError(
            f"handler {handler!r}: {prop} {str(value)!r} has no module {module!r} (no "
            f"{module.replace('.', '/')}.py nor {module.replace('.', '/')}/__init__.py at its top level)"
        )


def _code_path(worker_code: str | os.PathLike[str]) -> Path:
    return Path(worker_code).expanduser().resolve()


def _latency_covers_processing(values: Mapping[str, object], ctx: r.Context) -> None:
    processing = values["average_processing_time"].to_seconds(integral=False)  # type: ignore[attr-defined]
    latency = values["latency_target"].to_seconds(integral=False)  # type: ignore[attr-defined]
    if latency < processing:
        raise ValueError(
            f"latency_target must be at least average_processing_time ({v.seconds_text(processing)}): a message "
            f"cannot be handled faster than it is processed, got {r.show(values['latency_target'], ctx.scope)}"
        )


def _capacity_order(values: Mapping[str, object], ctx: r.Context) -> None:
    low, high = values["min_capacity"], values["max_capacity"]
    if not v.is_token(low) and not v.is_token(high) and high < low:  # type: ignore[operator]
        raise ValueError(f"max_capacity must be at least min_capacity ({low}), got {high}")


def _image_fits_instance_type(values: Mapping[str, object], ctx: r.Context) -> None:
    """A known Amazon Linux image of the other architecture than the instance type's is refused."""
    image = values.get("machine_image")
    if image is None or not isinstance(ctx.scope, Construct):
        return
    given: ec2.InstanceType | None = values.get("instance_type")  # type: ignore[assignment]
    instance_type = given or ec2.InstanceType(DEFAULT_INSTANCE_TYPE)
    wanted = "arm64" if _cpu_type(instance_type) == ec2.AmazonLinuxCpuType.ARM_64 else "x86_64"
    found = _image_architecture(ctx.scope, image)  # type: ignore[arg-type]
    if found is not None and found != wanted:
        written = f"ec2.InstanceType({instance_type.to_string()!r})" + ("" if given else " (the default)")
        raise ValueError(
            f"machine_image is an {found} image, but instance_type {written} runs {wanted}: "
            f"give an {wanted} image (e.g. ec2.MachineImage.latest_amazon_linux2023(cpu_type=AmazonLinuxCpuType."
            f"{'ARM_64' if wanted == 'arm64' else 'X86_64'})), or leave machine_image out"
        )


def _boot_props(values: Mapping[str, object], ctx: r.Context) -> None:
    """handler, worker_code and pip_requirements are for the default user data; it needs a handler and its code."""
    handler, worker_code, requirements = values.get("handler"), values.get("worker_code"), values["pip_requirements"]
    if values.get("user_data") is not None:
        for prop, value in (("handler", handler), ("worker_code", worker_code), ("pip_requirements", requirements)):
            if value:
                raise ValueError(
                    f"{prop} is for the default user data; with user_data given, your user data runs the worker "
                    f"(leave {prop} out), got {r.show(value, ctx.scope)}"
                )
        return
    if handler is None:
        raise ValueError(
            f"handler is required: {_HANDLER_TEXT}, the function called with each message, with worker_code "
            "holding that package (or give user_data of your own)"
        )
    if worker_code is None and values.get("machine_image") is None and not requirements:
        raise ValueError(
            "worker_code is required: the directory (or wheel) holding the handler's package, shipped to the "
            f"instances as a CDK asset; handler {handler!r} is imported from it. (Or give a machine_image that "
            "has the code installed, or pip_requirements.)"
        )


#: What every QueueWorkers prop accepts (the engine in ``_rules.py`` checks them before the constructor runs).
RULES = (
    r.Rules(
        {
            "queue": r.AllOf(
                rules=(
                    r.Instance(ReliableQueue, "a ReliableQueue", tokens="synth"),
                    r.Interface("a ReliableQueue", tokens="synth"),  # of this App
                )
            ),
            "vpc": r.Interface("an ec2.IVpc", ("vpc_id", "select_subnets", "public_subnets"), tokens="synth"),
            "average_processing_time": r.AllOf(
                rules=(
                    r.Seconds(0, math.inf, whole=False, text="more than 0 seconds", tokens="synth", why=_SYNTH_TARGET),
                    r.Custom(_more_than_zero, "more than 0 seconds", tokens="synth", why=_SYNTH_TARGET),
                )
            ),
            "latency_target": r.Seconds(
                0, math.inf, whole=False, text="at least average_processing_time", tokens="synth", why=_SYNTH_TARGET
            ),
            "handler": r.Custom(
                _check_handler, _HANDLER_TEXT, optional=True, tokens="synth", why="the boot imports it by name"
            ),
            "worker_code": r.Custom(
                _check_worker_code,
                "a directory or a pure-Python wheel (.whl) holding the handler's package",
                optional=True,
                tokens="synth",
                why="it is bundled at synth time",
            ),
            "pip_requirements": r.ListOf(
                r.Text(
                    "a pinned requirement, one distribution at one version ('my-worker==1.2.3')",
                    pattern=_PINNED.pattern,
                    tokens="synth",
                    why="it must be checked to be pinned",
                ),
                text="a list of pinned requirements ('my-worker==1.2.3')",
            ),
            "vpc_endpoints": r.Bool(),
            "vpc_subnets": r.Instance(
                ec2.SubnetSelection, "an ec2.SubnetSelection of private subnets", optional=True, tokens="synth"
            ),
            "min_capacity": r.Int(1, MAX_CAPACITY_LIMIT, source="EC2 Auto Scaling MinSize (1,000 bounds a typo)"),
            "max_capacity": r.Int(1, MAX_CAPACITY_LIMIT, source="EC2 Auto Scaling MaxSize (1,000 bounds a typo)"),
            "instance_type": r.Instance(ec2.InstanceType, "an ec2.InstanceType", optional=True, tokens="synth"),
            "machine_image": r.Interface("an ec2.IMachineImage", ("get_image",), optional=True, tokens="synth"),
            "root_volume_size": r.Bytes(
                MIN_ROOT_GIB * GIB,
                MAX_ROOT_GIB * GIB,
                whole="gibibytes",
                token_unit="gibibytes",
                text=f"{MIN_ROOT_GIB}-{MAX_ROOT_GIB} GiB (8 GiB-16 TiB), a whole number of GiB",
                source="EC2 user guide, Amazon EBS General Purpose SSD volumes; CreateVolume Size",
            ),
            "encryption_key": ENCRYPTION_KEY,
            "user_data": r.Interface("an ec2.UserData", ("add_commands", "render"), optional=True, tokens="synth"),
        },
        relations=(_latency_covers_processing, _capacity_order, _image_fits_instance_type, _boot_props),
    )
    | ALARM_PROPS
)


class QueueWorkers(PatternConstruct):
    """EC2 instances consuming a ``ReliableQueue``, scaled as AWS's "Scaling policy based on Amazon SQS" says.

    Builds:

    * ``auto_scaling_group``: ``min_capacity``-``max_capacity`` instances in ``vpc``'s private subnets
      (``vpc_subnets``; public subnets are refused), group metrics on (``GroupInServiceInstances``).
    * ``scaling_policy``: target tracking on the backlog per instance, the metric math
      ``ApproximateNumberOfMessagesVisible / GroupInServiceInstances``, with the target the acceptable
      backlog per instance: ``latency_target / average_processing_time`` (``acceptable_backlog_per_instance``).
    * ``bundle``: a CDK asset (``aws_s3_assets.Asset``) with everything the worker runs: the library's runtime
      (``QueueConsumer``), boto3 and its pure-Python dependencies (copied from the synthesizing environment), and
      ``worker_code``. The instances fetch it from the bootstrap bucket with their role; nothing comes from a
      package index unless ``pip_requirements`` asks for it.
    * ``launch_template``: IMDSv2 only (``HttpTokens: required``), no public IP address, no key pair (use
      SSM Session Manager), an encrypted gp3 root volume (the EBS default key, or ``encryption_key``, whose key
      policy gets the statements EC2 Auto Scaling's service-linked role needs), ``machine_image`` (default the
      latest Amazon Linux 2023 of the instance type's architecture), ``user_data`` (default
      :func:`worker_user_data`: fetches the bundle and runs ``QueueConsumer`` on ``handler`` as a systemd service).
    * ``role``: the instances' role; it may consume the queue (and use its key) and read the bundle.
    * ``security_group``: no ingress; egress HTTPS only (AWS APIs through a NAT or VPC endpoints).
    * ``endpoints`` (``vpc_endpoints=True``): the VPC endpoints of ``BOOT_ENDPOINTS`` in the workers' subnets,
      for subnets without a route to the internet.
    * ``alarms``: ``"backlog_per_instance"``: the backlog per instance above the acceptable backlog for
      15 minutes (scaling is at ``max_capacity``, or the workers fail).

    The default boot needs Python 3.11+. Amazon Linux 2023 keeps ``/usr/bin/python3`` at 3.9 and packages
    ``python3.11`` without installing it, so the boot uses the newest ``python3.1x`` the image has, and otherwise
    installs ``python3.11`` with dnf from the Amazon Linux repositories (S3 buckets in the Region: the S3 gateway
    endpoint serves them). An image with Python 3.11+ (``machine_image``) makes the boot fetch only the bundle.

    :param queue: the ``ReliableQueue`` consumed; in any stack that does not depend on this one (refused).
    :param vpc: the instances' VPC.
    :param average_processing_time: how long one message takes a worker, on average (> 0).
    :param latency_target: how long a message may wait, at most (at least ``average_processing_time``).
    :param handler: ``"package.module:function"``, called with each message (raise to fail it). Required with
        the default user data.
    :param worker_code: the handler's code: a directory (its contents go on ``sys.path``: the directory holding
        your package) or a pure-Python wheel (``.whl``). Put your handler's own dependencies in the directory
        (``pip install --target DIR ...``). Required with the default user data, unless ``machine_image`` or
        ``pip_requirements`` provides the handler.
    :param pip_requirements: opt-in: pinned requirements (``"name==1.2.3"``) pip installs from the package index
        at every boot, as root (a synth warning says so). Default none.
    :param vpc_endpoints: create the VPC endpoints of ``BOOT_ENDPOINTS`` (S3 gateway; SQS, SSM, SSM Messages,
        EC2 Messages interface endpoints) in the workers' subnets. Default False.
    :param vpc_subnets: default the VPC's private subnets with egress, else its isolated ones.
    :param min_capacity: at least 1 (the backlog per instance is undefined with no instance); default 1.
    :param max_capacity: ``min_capacity``-1000; default 10.
    :param instance_type: default ``t3.small``; an ARM (Graviton) type gets the arm64 image.
    :param machine_image: default the latest Amazon Linux 2023 of the instance type's architecture. A known
        Amazon Linux image of the other architecture is refused.
    :param root_volume_size: 8 GiB-16 TiB, whole GiB; default 8 GiB.
    :param encryption_key: customer-managed KMS key for the root volume; default the account's EBS key.
    :param user_data: replaces the default user data (then give no handler, worker_code or pip_requirements).
    :param alarm_topic: SNS topic (or ``AlarmTopic``) the alarm notifies; default none.
    :param create_alarms: default True; False creates no alarm.
    :param alarm_settings: an ``AlarmSettings`` (name prefix, actions, per-key overrides).
    """

    #: The keys of ``alarms`` and of ``alarm_settings.overrides``.
    ALARM_KEYS: ClassVar[tuple[str, ...]] = ("backlog_per_instance",)
    #: The VPC endpoints the boot and the worker need without internet access (see the module's BOOT_ENDPOINTS).
    BOOT_ENDPOINTS: ClassVar[Mapping[str, str]] = BOOT_ENDPOINTS

    @r.guarded(RULES)
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        queue: ReliableQueue,
        vpc: ec2.IVpc,
        average_processing_time: Duration,
        latency_target: Duration,
        handler: str | None = None,
        worker_code: str | os.PathLike[str] | None = None,
        pip_requirements: Sequence[str] = (),
        vpc_endpoints: bool = False,
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
        user_data: ec2.UserData | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.acceptable_backlog_per_instance = acceptable_backlog(average_processing_time, latency_target)
        with r.blame("vpc_subnets"):
            subnets = private_subnets(vpc, vpc_subnets, what="a QueueWorkers fleet")
        alarms = Alarms.of(self, alarm_topic, create_alarms, alarm_settings)
        _stacks.use_each(self, {"queue": queue.queue, "vpc": vpc, "encryption_key": encryption_key})
        requirements = list(pip_requirements)
        code = _code_path(worker_code) if worker_code is not None else None
        with r.blame("worker_code"):
            staged = None if user_data is not None else _worker_bundle.bundle(code)
        instance_type = instance_type or ec2.InstanceType(DEFAULT_INSTANCE_TYPE)
        self.queue = queue
        self.role = self._new_role(queue)
        self.security_group = self._new_security_group(vpc)
        #: The bundle's asset, and the local directory it was made from (None with your own user_data).
        self.bundle: s3_assets.Asset | None = None
        self.bundle_directory: Path | None = staged
        if staged is not None:
            self.bundle = s3_assets.Asset(self, "Bundle", path=str(staged))
            # The bundle's object only (Asset.grant_read would grant the whole bootstrap bucket).
            self.role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="ReadWorkerBundle",
                    actions=["s3:GetObject"],
                    resources=[f"{self.bundle.bucket.bucket_arn}/{self.bundle.s3_object_key}"],
                )
            )
        if requirements:
            Annotations.of(self).add_warning_v2(
                "decoupling-constructs:workers-package-index",
                "pip_requirements: every instance installs "
                + ", ".join(requirements)
                + " from the package index at boot, as root. Whoever can publish those names there runs code on "
                "your workers, and the boot needs the index (a NAT gateway). Prefer worker_code (a directory or a "
                "wheel, shipped as a CDK asset) or a machine_image that has the code.",
            )
        self.endpoints: dict[str, ec2.IVpcEndpoint] = {}
        if vpc_endpoints:
            self.endpoints = self._new_endpoints(vpc, subnets)
        if encryption_key is not None:
            with r.blame("encryption_key"):
                _allow_auto_scaling(self, encryption_key)
        with r.blame("machine_image"):
            image = machine_image or default_image(instance_type)
        with r.blame("user_data"):
            boot = user_data or worker_user_data(
                queue,
                self.bundle,  # type: ignore[arg-type]  # not None without user_data
                handler=handler,  # type: ignore[arg-type]  # the rules: required without user_data
                pip_requirements=requirements,
            )
        with r.blame("root_volume_size"):
            root_gib = root_volume_size.to_gibibytes(rounding=SizeRoundingBehavior.NONE)  # whole GiB, or a token
        with r.blame("machine_image"):
            self.launch_template = self._new_launch_template(
                instance_type=instance_type,
                machine_image=image,
                user_data=boot,
                root_gib=root_gib,
                encryption_key=encryption_key,
            )
        with r.blame("max_capacity"):
            self.auto_scaling_group = self._new_group(vpc, subnets, min_capacity, max_capacity)
        self.scaling_policy = self._new_scaling_policy(queue)

        at_most = "max_capacity" if v.is_token(max_capacity) else f"max_capacity ({max_capacity})"
        alarms.add(
            "backlog_per_instance",
            metric=self.metric_backlog_per_instance(),
            threshold=self.acceptable_backlog_per_instance,
            description="The backlog per instance stayed above {threshold} messages (what meets the latency "
            f"target) for {BACKLOG_ALARM_MINUTES} minutes: the group is at {at_most}, "
            "or the workers fail. Raise max_capacity or look at the workers.",
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=BACKLOG_ALARM_MINUTES,
        )
        self.alarms = alarms.mapping

    def _new_endpoints(self, vpc: ec2.IVpc, subnets: list[ec2.ISubnet]) -> dict[str, ec2.IVpcEndpoint]:
        """BOOT_ENDPOINTS in the workers' subnets; the interface endpoints admit HTTPS from the workers only."""
        endpoints: dict[str, ec2.IVpcEndpoint] = {
            "s3": ec2.GatewayVpcEndpoint(
                self,
                "S3Endpoint",
                vpc=vpc,
                service=ec2.GatewayVpcEndpointAwsService.S3,
                subnets=[ec2.SubnetSelection(subnets=subnets)],
            )
        }
        group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=vpc,
            description="QueueWorkers VPC endpoints: HTTPS from the workers only",
            allow_all_outbound=False,
        )
        group.add_ingress_rule(self.security_group, ec2.Port.tcp(443), "HTTPS from the workers")
        for name, service in _INTERFACE_SERVICES.items():
            endpoints[name] = ec2.InterfaceVpcEndpoint(
                self,
                f"{name.capitalize()}Endpoint",
                vpc=vpc,
                service=service,
                subnets=ec2.SubnetSelection(subnets=subnets, one_per_az=True),
                private_dns_enabled=True,
                security_groups=[group],
                open=False,
            )
        return endpoints

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
        no_resource_arn = (
            "Session Manager's ssmmessages and ssm:UpdateInstanceInformation actions support no "
            "resource-level permissions: AWS's own Session Manager instance profile grants them on '*'."
        )
        policy = _internals.role_default_policy(role)
        Validations.of(policy).acknowledge(  # type: ignore[arg-type]
            Acknowledgment(id=_internals.nag_resource_finding_id("AwsSolutions-IAM5", "*"), reason=no_resource_arn)
        )
        acknowledge_checkov(policy, "CKV_AWS_111", no_resource_arn)  # type: ignore[arg-type]
        queue.grant_consume_messages(role)
        return role

    def _new_security_group(self, vpc: ec2.IVpc) -> ec2.SecurityGroup:
        group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="QueueWorkers: no ingress; HTTPS out to AWS APIs (SQS, S3, SSM)",
            allow_all_outbound=False,
        )
        group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS APIs")
        return group

    def _new_launch_template(
        self,
        *,
        instance_type: ec2.InstanceType,
        machine_image: ec2.IMachineImage,
        user_data: ec2.UserData,
        root_gib: float,
        encryption_key: kms.IKey | None,
    ) -> ec2.LaunchTemplate:
        """IMDSv2 only, no public IP, no key pair (Session Manager), an encrypted gp3 root volume."""
        return ec2.LaunchTemplate(
            self,
            "LaunchTemplate",
            instance_type=instance_type,
            machine_image=machine_image,
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
                        root_gib,  # whole GiB, checked (or a token, passed on)
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

    @r.guarded(r.Rules({}))
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
    QueueWorkers' rules check both first (concrete, processing more than 0 s, latency at least processing).
    """
    return float(latency_target.to_seconds(integral=False) / average_processing_time.to_seconds(integral=False))


def worker_user_data(
    queue: ReliableQueue,
    bundle: s3_assets.Asset,
    *,
    handler: str,
    pip_requirements: Sequence[str] = (),
) -> ec2.UserData:
    """The default boot (bash, run as root by cloud-init): fetch ``bundle`` from S3 with the instance's role, and
    run ``QueueConsumer`` on ``handler`` over ``queue`` as a systemd service (restarted if it stops).

    It uses the newest ``python3.1x`` (3.11+) the image has, else installs ``python3.11`` from the Amazon Linux
    repositories; it extracts the bundle with that Python's ``zipfile`` and fetches it with the image's AWS CLI
    (Amazon Linux 2023 has the AWS CLI v2). ``pip_requirements`` (opt-in) are installed from the package index.
    ``QUEUE_WORKER_DIR`` and ``SYSTEMD_UNIT_DIR``, when set, replace ``/opt/queue-worker`` and
    ``/etc/systemd/system`` (cloud-init sets neither; ``decoupling_constructs.testing.workers`` does).
    """
    module, function = handler.split(":")
    stack = Stack.of(bundle)
    program = (
        "import importlib, logging, os, sys\n"
        "here = os.path.dirname(os.path.abspath(__file__))\n"
        "sys.path[0:0] = [os.path.join(here, 'site'), os.path.join(here, 'index-site')]\n"
        "logging.basicConfig(level=logging.INFO, format='%(levelname)s %(name)s: %(message)s')\n"
        "from decoupling_constructs.runtime.consumer import QueueConsumer\n"
        f"handle = getattr(importlib.import_module({module!r}), {function!r})\n"
        "QueueConsumer(os.environ['QUEUE_URL'], handle).run()\n"
    )
    find_python = " || ".join(f"command -v {name}" for name in PYTHONS)
    user_data = ec2.UserData.for_linux()
    user_data.add_commands(
        "set -euo pipefail",
        f'WORKER_DIR="${{QUEUE_WORKER_DIR:-{WORKER_DIR}}}"',
        'UNIT_DIR="${SYSTEMD_UNIT_DIR:-/etc/systemd/system}"',
        "# Python 3.11+: AL2023's /usr/bin/python3 stays 3.9; python3.11 comes from the Amazon Linux repositories",
        f'PYTHON="$({find_python} || true)"',
        f'if [ -z "$PYTHON" ]; then dnf install -y {FALLBACK_PYTHON_PACKAGE}; '
        f'PYTHON="$(command -v {FALLBACK_PYTHON_PACKAGE})"; fi',
        'mkdir -p "$WORKER_DIR" "$UNIT_DIR"',
        # The bundle: a CDK asset in the bootstrap bucket, read with the instance role (grant_read).
        f"aws s3 cp s3://{bundle.s3_bucket_name}/{bundle.s3_object_key} "
        f'"$WORKER_DIR/bundle.zip" --region {stack.region} --only-show-errors',
        'rm -rf "$WORKER_DIR/site" "$WORKER_DIR/index-site"',
        '"$PYTHON" -m zipfile -e "$WORKER_DIR/bundle.zip" "$WORKER_DIR"',
    )
    if pip_requirements:
        user_data.add_commands(
            "# opt-in (pip_requirements): from the package index, pinned",
            '"$PYTHON" -m pip --version >/dev/null 2>&1 || dnf install -y "$(basename "$PYTHON")-pip"',
            '"$PYTHON" -m pip install --no-input --disable-pip-version-check --target "$WORKER_DIR/index-site" '
            + " ".join(shlex.quote(r) for r in pip_requirements),
        )
    user_data.add_commands(
        f"cat > \"$WORKER_DIR/run.py\" <<'PROGRAM'\n{program}PROGRAM",
        f'cat > "$UNIT_DIR/{UNIT_NAME}" <<UNIT\n'
        "[Unit]\nDescription=QueueConsumer worker\nAfter=network-online.target\nWants=network-online.target\n"
        "[Service]\n"
        f"Environment=QUEUE_URL={queue.queue.queue_url}\n"
        f"Environment=AWS_DEFAULT_REGION={stack.region}\n"
        "Environment=PYTHONUNBUFFERED=1\n"
        'ExecStart=$PYTHON -s "$WORKER_DIR/run.py"\nRestart=always\nRestartSec=5\n'
        "[Install]\nWantedBy=multi-user.target\nUNIT",
        "systemctl daemon-reload",
        f"systemctl enable --now {UNIT_NAME}",
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


def _cpu_type(instance_type: ec2.InstanceType) -> ec2.AmazonLinuxCpuType:
    """The Amazon Linux image architecture an instance type runs: arm64 for Graviton types."""
    if instance_type.architecture == ec2.InstanceArchitecture.ARM_64:
        return ec2.AmazonLinuxCpuType.ARM_64
    return ec2.AmazonLinuxCpuType.X86_64


def default_image(instance_type: ec2.InstanceType) -> ec2.IMachineImage:
    """The latest Amazon Linux 2023 of the instance type's architecture, from AWS's public SSM parameter
    ``/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-<arch>`` (AL2023 user guide; read at deploy
    time). aws-cdk-lib's ``latest_amazon_linux2023`` names the kernel-6.1 parameter even for its DEFAULT kernel."""
    architecture = "arm64" if _cpu_type(instance_type) == ec2.AmazonLinuxCpuType.ARM_64 else "x86_64"
    return ec2.MachineImage.from_ssm_parameter(
        f"{AL2023_PARAMETER_PREFIX}{architecture}", os=ec2.OperatingSystemType.LINUX
    )


def _image_architecture(scope: Construct, image: ec2.IMachineImage) -> str | None:
    """The architecture of an image read from the public SSM parameter it resolves from (Amazon Linux images:
    ``.../al2023-ami-kernel-6.1-arm64``); None when it cannot be told (an AMI id, a lookup)."""
    stack = Stack.of(scope)
    try:
        reference = stack.resolve(image.get_image(scope).image_id)
    except RuntimeError:  # jsii: e.g. a lookup in an environment-agnostic stack; the launch template reports it
        return None
    if not isinstance(reference, dict) or not isinstance(reference.get("Ref"), str):
        return None
    for child in stack.node.find_all():
        if isinstance(child, CfnParameter) and stack.resolve(child.logical_id) == reference["Ref"]:
            name = child.default
            if isinstance(name, str):
                return next((arch for arch in ("arm64", "x86_64") if name.endswith(arch)), None)
    return None


def _allow_auto_scaling(scope: Construct, key: kms.IKey) -> None:
    """The two key-policy statements of the EC2 Auto Scaling user guide's "Required AWS KMS key policy for use with
    encrypted volumes", for the service-linked role of the group's account. A key imported by ARN has a policy
    this app cannot change: a warning says what to add."""
    role = f"arn:{Aws.PARTITION}:iam::{Stack.of(scope).account}:role/{AUTOSCALING_SERVICE_LINKED_ROLE}"
    principal = iam.ArnPrincipal(role)
    statements = [
        iam.PolicyStatement(
            sid="AllowAutoScalingServiceLinkedRoleUseOfTheKey",
            principals=[principal],
            actions=AUTOSCALING_KEY_ACTIONS,
            resources=["*"],
        ),
        iam.PolicyStatement(
            sid="AllowAutoScalingAttachmentOfPersistentResources",
            principals=[principal],
            actions=["kms:CreateGrant"],
            resources=["*"],
            conditions={"Bool": {"kms:GrantIsForAWSResource": True}},
        ),
    ]
    added = [key.add_to_resource_policy(statement).statement_added for statement in statements]
    if not all(added):
        Annotations.of(scope).add_warning_v2(
            "decoupling-constructs:workers-key-policy",
            "encryption_key: the key's policy is not managed by this app, so EC2 Auto Scaling's service-linked role "
            "(AWSServiceRoleForAutoScaling) could not be allowed to use it; add the two statements of the EC2 Auto "
            "Scaling user guide, 'Required AWS KMS key policy for use with encrypted volumes', or instances fail to "
            "launch.",
        )
