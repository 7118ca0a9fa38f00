"""What a deployed stack is, and how to look its resources up: :class:`Deployment` (physical ids, outputs,
``Fn::GetAtt`` attributes, boto3 clients pointed at the emulator).

Shared by :mod:`.deploy` (which makes a ``Deployment``), :mod:`.completion`, :mod:`.emulators` and :mod:`.verify`.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from ._intrinsics import ResolveContext

Json = Any

# Resource types that carry no behaviour a test could observe; moto skips them and that is fine.
NO_RUNTIME_BEHAVIOUR = frozenset({"AWS::CDK::Metadata"})


class UnsupportedResourceError(RuntimeError):
    """moto did not create a resource and this helper cannot complete it."""


@dataclass
class Deployment:
    """A stack deployed into an emulator: physical ids, outputs and configured boto3 clients."""

    stack_name: str
    region: str
    account: str
    template: dict[str, Json]
    resources: dict[str, str]
    """Logical id -> physical id, for every resource that exists (created or completed)."""
    outputs: dict[str, str]
    completed: dict[str, str]
    """Logical id -> physical id of the resources the helper completed after moto skipped them."""
    endpoint_url: str | None = None
    emulator: str = "unknown"
    """The emulator and its version, e.g. ``moto 5.2.5`` (what :func:`verify` reports against)."""
    access_key: str | None = None
    """The access key of the stack's account in the emulator (MiniStack with ``auth=True``: the account id);
    None for the helper's default."""
    completions: dict[str, str] = field(default_factory=dict)
    """Logical id -> what a labelled completion did for a resource the emulator's CloudFormation reported as
    created but did not make (e.g. ``completion.complete_cross_environment_subscriptions``);
    :func:`verify`'s report names each."""
    _stack: Any = field(default=None, repr=False)
    _context: ResolveContext | None = field(default=None, repr=False)

    def with_emulator(self, label: str) -> Deployment:
        self.emulator = label
        return self

    def client(self, service: str, region: str | None = None) -> Any:
        """A boto3 client for ``service`` pointed where the stack was deployed (in ``region``, default the
        stack's), with the stack account's access key."""
        with using_access_key(self.access_key):
            return _client(service, region or self.region, self.endpoint_url)

    def logical_id(self, ref: Any) -> str:
        """The logical id of ``ref``: a logical id string, an L1 (CfnResource) or an L2 construct."""
        if isinstance(ref, str):
            if ref not in self.template.get("Resources", {}):
                raise KeyError(f"no resource with logical id {ref!r} in stack {self.stack_name}")
            return ref
        element = ref
        if not hasattr(element, "logical_id"):
            element = getattr(getattr(ref, "node", None), "default_child", None)
            if element is None:
                raise TypeError(f"{ref!r} is neither a logical id, a CfnResource nor a construct with one")
        if self._stack is None:
            raise TypeError("this deployment was made from a template: look resources up by logical id")
        return str(self._stack.resolve(element.logical_id))

    def physical_id(self, ref: Any) -> str:
        """The physical id (SQS: queue URL; SNS: topic ARN; most others: name)."""
        logical_id = self.logical_id(ref)
        if logical_id not in self.resources:
            raise KeyError(f"{logical_id} was not deployed (it is a {self._type(logical_id)})")
        return self.resources[logical_id]

    def attribute(self, ref: Any, name: str) -> Any:
        """``Fn::GetAtt`` of a deployed resource, e.g. ``attribute(queue, "Arn")`` (a list for list attributes)."""
        assert self._context is not None
        return self._context.get_att(self.logical_id(ref), name)

    def queue_url(self, queue: Any) -> str:
        return self.physical_id(queue)

    def queue_arn(self, queue: Any) -> str:
        return str(self.attribute(queue, "Arn"))

    def topic_arn(self, topic: Any) -> str:
        return self.physical_id(topic)

    def _type(self, logical_id: str) -> str:
        return str(self.template["Resources"][logical_id]["Type"])


_ACCESS_KEY: contextvars.ContextVar[str] = contextvars.ContextVar("access_key", default="testing")


@contextlib.contextmanager
def using_access_key(access_key: str | None) -> Iterator[None]:
    """Clients made in this block (for an emulator endpoint) use ``access_key`` (None: keep the current one)."""
    if access_key is None:
        yield
        return
    token = _ACCESS_KEY.set(access_key)
    try:
        yield
    finally:
        _ACCESS_KEY.reset(token)


def _client(service: str, region: str, endpoint_url: str | None) -> Any:
    credentials = {"aws_access_key_id": _ACCESS_KEY.get(), "aws_secret_access_key": "testing"}
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint_url,
        config=Config(retries={"max_attempts": 2, "mode": "standard"}),
        **(credentials if endpoint_url else {}),
    )


def _get_att(
    resource_type: str,
    physical_id: str,
    attribute: str,
    logical_id: str,
    region: str,
    account: str,
    endpoint_url: str | None,
) -> Any:
    arn = f"arn:aws:{{}}:{region}:{account}:{{}}"
    if resource_type == "AWS::SQS::Queue":
        name = physical_id.rstrip("/").rsplit("/", 1)[-1]
        values = {"Arn": arn.format("sqs", name), "QueueName": name, "QueueUrl": physical_id}
    elif resource_type == "AWS::SNS::Topic":
        values = {"TopicArn": physical_id, "TopicName": physical_id.rsplit(":", 1)[-1]}
    elif resource_type == "AWS::KMS::Key":
        values = {"Arn": arn.format("kms", f"key/{physical_id}"), "KeyId": physical_id}
    elif resource_type == "AWS::S3::Bucket":
        values = {
            "Arn": f"arn:aws:s3:::{physical_id}",
            "DomainName": f"{physical_id}.s3.amazonaws.com",
            "RegionalDomainName": f"{physical_id}.s3.{region}.amazonaws.com",
        }
    elif resource_type == "AWS::Kinesis::Stream":
        values = {"Arn": arn.format("kinesis", f"stream/{physical_id}")}
    elif resource_type == "AWS::IAM::Role":
        values = {"Arn": _client("iam", region, endpoint_url).get_role(RoleName=physical_id)["Role"]["Arn"]}
    elif resource_type == "AWS::Logs::LogGroup":
        values = {"Arn": arn.format("logs", f"log-group:{physical_id}:*")}
    elif resource_type == "AWS::CloudWatch::Alarm":
        values = {"Arn": arn.format("cloudwatch", f"alarm:{physical_id}")}
    elif resource_type == "AWS::SNS::Subscription":
        values = {"Arn": physical_id}
    elif resource_type == "AWS::EC2::SecurityGroup":
        values = {"GroupId": physical_id}
    elif resource_type == "AWS::EC2::VPC":
        (vpc,) = _client("ec2", region, endpoint_url).describe_vpcs(VpcIds=[physical_id])["Vpcs"]
        values = {"VpcId": physical_id, "CidrBlock": vpc["CidrBlock"]}
    elif resource_type == "AWS::EC2::Subnet":
        (subnet,) = _client("ec2", region, endpoint_url).describe_subnets(SubnetIds=[physical_id])["Subnets"]
        values = {"SubnetId": physical_id, "AvailabilityZone": subnet["AvailabilityZone"]}
    elif resource_type == "AWS::AmazonMQ::Broker":
        values = _broker_attributes(physical_id, region, endpoint_url)
    elif resource_type == "AWS::SecretsManager::Secret":
        values = {"Id": physical_id}
    elif resource_type == "AWS::KinesisFirehose::DeliveryStream":
        values = {"Arn": arn.format("firehose", f"deliverystream/{physical_id}")}
    elif resource_type == "AWS::Lambda::Function":
        values = {"Arn": arn.format("lambda", f"function:{physical_id}")}
    elif resource_type == "AWS::EC2::EIP":
        values = {"AllocationId": physical_id, "PublicIp": physical_id} | _eip_attributes(
            physical_id, region, endpoint_url
        )
    elif resource_type == "AWS::EC2::LaunchTemplate":
        (template,) = _client("ec2", region, endpoint_url).describe_launch_templates(LaunchTemplateIds=[physical_id])[
            "LaunchTemplates"
        ]
        values = {
            "LaunchTemplateId": physical_id,
            "LatestVersionNumber": str(template["LatestVersionNumber"]),
            "DefaultVersionNumber": str(template["DefaultVersionNumber"]),
        }
    elif resource_type in ("AWS::EC2::InternetGateway", "AWS::EC2::RouteTable", "AWS::EC2::NatGateway"):
        name = resource_type.rsplit("::", 1)[-1]
        values = {f"{name}Id": physical_id}
    elif resource_type == "AWS::IAM::InstanceProfile":
        # CloudFormation's physical id is the name; MiniStack 1.5's is the ARN (instance-profile/[path/]name).
        name = physical_id.rsplit("/", 1)[-1] if physical_id.startswith("arn:") else physical_id
        profile = _client("iam", region, endpoint_url).get_instance_profile(InstanceProfileName=name)
        values = {"Arn": profile["InstanceProfile"]["Arn"]}
    elif resource_type == "AWS::Kinesis::StreamConsumer":
        values = {"ConsumerARN": physical_id}
    elif resource_type == "AWS::Lambda::EventSourceMapping":
        values = {"Id": physical_id}
    else:
        values = {}
    if attribute not in values:
        raise UnsupportedResourceError(
            f"Fn::GetAtt {logical_id}.{attribute} ({resource_type}) is not supported by the moto test helper"
        )
    return values[attribute]


def _eip_attributes(physical_id: str, region: str, endpoint_url: str | None) -> dict[str, Any]:
    """An Elastic IP's allocation id and public IP, whichever of the two its physical id is."""
    key = "AllocationIds" if physical_id.startswith("eipalloc-") else "PublicIps"
    (address,) = _client("ec2", region, endpoint_url).describe_addresses(**{key: [physical_id]})["Addresses"]
    return {"AllocationId": address.get("AllocationId"), "PublicIp": address.get("PublicIp")}


_ENDPOINT_SCHEMES = {
    "OpenWireEndpoints": ("ssl://",),
    "AmqpEndpoints": ("amqp+ssl://", "amqps://"),
    "StompEndpoints": ("stomp+ssl://",),
    "MqttEndpoints": ("mqtt+ssl://",),
    "WssEndpoints": ("wss://",),
}


def _broker_attributes(broker_id: str, region: str, endpoint_url: str | None) -> dict[str, Any]:
    broker = _client("mq", region, endpoint_url).describe_broker(BrokerId=broker_id)
    instances = broker.get("BrokerInstances", [])
    values: dict[str, Any] = {
        "Arn": broker["BrokerArn"],
        "Id": broker_id,
        "ConsoleURLs": [i["ConsoleURL"] for i in instances],
        "IpAddresses": [i["IpAddress"] for i in instances],
    }
    for attribute, schemes in _ENDPOINT_SCHEMES.items():
        values[attribute] = [e for i in instances for e in i["Endpoints"] if e.startswith(schemes)]
    return values
