"""Deploy a synthesized CDK stack into moto and look up what was deployed.

::

    from moto import mock_aws
    from decoupling_constructs.testing import deploy_to_moto

    with mock_aws():
        deployment = deploy_to_moto(stack)            # a cdk.Stack or a template dict
        url = deployment.queue_url(my_queue.queue)    # any L2, L1 or logical id
        sqs = deployment.client("sqs")

moto's CloudFormation silently skips several resource types (see
``COMPLETED_TYPES``). This helper never lets that pass silently: it completes
those resources after ``create_stack`` with public boto3 calls made from the
template's own properties, treats the types in ``NO_RUNTIME_BEHAVIOUR`` as
absent on purpose, and raises :class:`UnsupportedResourceError` naming any
other resource that moto did not create.

Without ``endpoint_url`` it refuses to run unless moto's in-process mock is
active, so a test can never deploy to a real account by mistake. With
``endpoint_url`` (a moto server, e.g. ``http://localhost:5000``) it talks HTTP.

The real ``cdk deploy`` into an emulator on 127.0.0.1 (MiniStack, or a moto server) is in
:mod:`decoupling_constructs.testing.emulators`; :func:`verify` reads every deployed resource back
through its service and reports what matches the template, what the emulator does not store, and
what does not match (:mod:`decoupling_constructs.testing.verify`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from ._intrinsics import ResolveContext, UnresolvedReference, resolve

__all__ = [
    "COMPLETED_TYPES",
    "NOT_STORED",
    "NO_RUNTIME_BEHAVIOUR",
    "Deployment",
    "Emulator",
    "Finding",
    "UnsupportedResourceError",
    "VerificationError",
    "VerificationReport",
    "cdk_deploy",
    "complete_deployment",
    "deploy_to_moto",
    "describe_deployment",
    "ministack",
    "moto_server",
    "verify",
]

Json = Any

# CDK's default synthesizer adds a parameter read from this SSM path (the bootstrap version).
BOOTSTRAP_VERSION_PARAMETER = "/cdk-bootstrap/hnb659fds/version"
BOOTSTRAP_VERSION = "30"

# Resource types that carry no behaviour a test could observe; moto skips them and that is fine.
NO_RUNTIME_BEHAVIOUR = frozenset({"AWS::CDK::Metadata"})


class UnsupportedResourceError(RuntimeError):
    """moto did not create a resource and this helper cannot complete it."""


def _moto_mock_active() -> bool:
    try:
        from moto.core.models import MockAWS
    except ImportError:  # pragma: no cover - moto is required to use this module
        return False
    return bool(getattr(MockAWS, "_mocks_active", False))


def _moto_label() -> str:
    import moto

    return f"moto {moto.__version__}"


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
    _stack: Any = field(default=None, repr=False)
    _context: ResolveContext | None = field(default=None, repr=False)

    def with_emulator(self, label: str) -> Deployment:
        self.emulator = label
        return self

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` pointed where the stack was deployed."""
        return _client(service, self.region, self.endpoint_url)

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


def _client(service: str, region: str, endpoint_url: str | None) -> Any:
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint_url,
        config=Config(retries={"max_attempts": 2, "mode": "standard"}),
        **({"aws_access_key_id": "testing", "aws_secret_access_key": "testing"} if endpoint_url else {}),
    )


def _synthesize(stack: Any) -> tuple[dict[str, Json], str | None, str]:
    """Template, concrete region (or None) and stack name of a ``cdk.Stack``."""
    import aws_cdk as cdk

    assembly = cdk.Stage.of(stack).synth()  # type: ignore[union-attr]
    template = assembly.get_stack_artifact(stack.artifact_id).template
    region = None if cdk.Token.is_unresolved(stack.region) else stack.region
    return template, region, stack.stack_name


def deploy_to_moto(
    stack_or_template: Any,
    *,
    stack_name: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    parameters: Mapping[str, str] | None = None,
    map_account: bool = False,
) -> Deployment:
    """Create the stack in moto's CloudFormation, complete what moto skips, return a :class:`Deployment`.

    If anything fails, the stack and what the helper completed are deleted again, so the next attempt
    does not fail with AlreadyExists.

    :param stack_or_template: a ``cdk.Stack`` (synthesized here through its app) or a template dict.
    :param stack_name: default the CDK stack name (``"Stack"`` for a bare template).
    :param region: default the stack's region when concrete, else ``us-east-1``.
    :param endpoint_url: a moto server to talk to; default moto's in-process mock (must be active).
    :param parameters: CloudFormation parameter values.
    :param map_account: a stack bound to another account (``env=cdk.Environment(account=...)``) is refused,
        because its ARNs name that account; ``True`` deploys it into moto's account, every occurrence of
        the stack's account id in the template replaced by moto's.
    """
    if endpoint_url is None and not _moto_mock_active():
        raise RuntimeError(
            "deploy_to_moto needs moto: call it inside `with moto.mock_aws():` or pass endpoint_url= "
            "of a moto server. It refuses to run against real AWS credentials."
        )
    cdk_stack = None
    if isinstance(stack_or_template, dict):
        template = stack_or_template
        default_region, default_name = None, "Stack"
    else:
        cdk_stack = stack_or_template
        template, default_region, default_name = _synthesize(cdk_stack)
    stack_name = stack_name or default_name
    region = region or default_region or "us-east-1"
    parameters = dict(parameters or {})
    if cdk_stack is not None:
        template = _check_account(cdk_stack, template, region, endpoint_url, map_account)

    _ensure_bootstrap_parameter(template, region, endpoint_url)
    cloudformation = _client("cloudformation", region, endpoint_url)
    try:
        with _quiet_moto():
            cloudformation.create_stack(
                StackName=stack_name,
                TemplateBody=json.dumps(template),
                Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
                Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
            )
        deployment = complete_deployment(
            stack_name, template, region=region, endpoint_url=endpoint_url, parameters=parameters
        )
    except BaseException as error:
        # Not a stack that was there before this call (AlreadyExists): that one is the user's.
        if getattr(error, "response", {}).get("Error", {}).get("Code") != "AlreadyExistsException":
            with _quiet_moto(), contextlib.suppress(Exception):
                cloudformation.delete_stack(StackName=stack_name)
        raise
    deployment._stack = cdk_stack
    return deployment


def _check_account(
    cdk_stack: Any, template: dict[str, Json], region: str, endpoint_url: str | None, map_account: bool
) -> dict[str, Json]:
    import aws_cdk as cdk

    if cdk.Token.is_unresolved(cdk_stack.account):
        return template
    stack_account = str(cdk_stack.account)
    account = str(_client("sts", region, endpoint_url).get_caller_identity()["Account"])
    if stack_account == account:
        return template
    if not map_account:
        raise ValueError(
            f"stack {cdk_stack.stack_name} is bound to account {stack_account}, but the emulator is account "
            f"{account}: its ARNs would name an account that does not exist there. Leave the stack's account "
            f"unset (env-agnostic), bind it to {account}, or pass map_account=True to deploy it into {account} "
            f"with every {stack_account} in its template replaced."
        )
    mapped: dict[str, Json] = json.loads(json.dumps(template).replace(stack_account, account))
    return mapped


def describe_deployment(
    stack_name: str,
    template: dict[str, Json],
    *,
    region: str = "us-east-1",
    endpoint_url: str,
    parameters: Mapping[str, str] | None = None,
    emulator: str = "unknown",
) -> Deployment:
    """The :class:`Deployment` of a stack that an emulator's CloudFormation created in full (e.g. MiniStack):
    nothing is completed or fixed; a resource it did not create raises :class:`UnsupportedResourceError`.
    ``emulator`` names it with its version (e.g. ``ministack 1.5.33``) for :func:`verify`'s report."""
    return _load_deployment(
        stack_name, template, region=region, endpoint_url=endpoint_url, parameters=parameters, complete=False
    ).with_emulator(emulator)


def complete_deployment(
    stack_name: str,
    template: dict[str, Json],
    *,
    region: str = "us-east-1",
    endpoint_url: str | None = None,
    parameters: Mapping[str, str] | None = None,
) -> Deployment:
    """Complete a stack that is already in moto's CloudFormation (``deploy_to_moto`` created it, or
    ``cdk deploy`` with ``AWS_ENDPOINT_URL`` pointing at a moto server): create what moto skipped, fix
    what it stored wrongly, and return the :class:`Deployment`. Call it once per stack."""
    if endpoint_url is None and not _moto_mock_active():
        raise RuntimeError("complete_deployment needs moto: an active mock_aws() or endpoint_url= of a moto server")
    return _load_deployment(
        stack_name, template, region=region, endpoint_url=endpoint_url, parameters=parameters, complete=True
    ).with_emulator(_moto_label())


def _load_deployment(
    stack_name: str,
    template: dict[str, Json],
    *,
    region: str,
    endpoint_url: str | None,
    parameters: Mapping[str, str] | None,
    complete: bool,
) -> Deployment:
    parameters = dict(parameters or {})
    account = _client("sts", region, endpoint_url).get_caller_identity()["Account"]
    cloudformation = _client("cloudformation", region, endpoint_url)
    with _quiet_moto():
        # (Not DescribeStacks: moto evaluates the outputs there and fails on a skipped resource's GetAtt.)
        listed = cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]
        stack_id = next((r["StackId"] for r in listed if "StackId" in r), stack_name)
        # Skipped resources are listed without a logical id: every one is checked below.
        # Some created types (e.g. AWS::EC2::SecurityGroupIngress) come without a physical id.
        created = {
            r["LogicalResourceId"]: r.get("PhysicalResourceId") or r["LogicalResourceId"]
            for r in listed
            if "LogicalResourceId" in r
        }
    resources_json: dict[str, Json] = template.get("Resources", {})
    types = {logical_id: resource["Type"] for logical_id, resource in resources_json.items()}
    physical_ids: dict[str, str] = dict(created)
    param_values = _parameter_values(template, parameters, region, endpoint_url)

    def get_att(resource_type: str, physical_id: str, attribute: str, logical_id: str) -> Any:
        return _get_att(resource_type, physical_id, attribute, logical_id, region, account, endpoint_url)

    exports: dict[str, str] | None = None

    def import_value(export_name: str) -> str:
        nonlocal exports
        if exports is None:
            pages = cloudformation.get_paginator("list_exports").paginate()
            exports = {e["Name"]: e["Value"] for page in pages for e in page.get("Exports", [])}
        if export_name not in exports:
            raise UnsupportedResourceError(
                f"Fn::ImportValue {export_name!r} in {stack_name}: no stack exports it "
                f"(exports: {', '.join(sorted(exports)) or 'none'}); deploy the exporting stack first"
            )
        return exports[export_name]

    ctx = ResolveContext(
        physical_ids=physical_ids,
        resource_types=types,
        parameters=param_values,
        conditions=template.get("Conditions", {}),
        region=region,
        account=account,
        stack_name=stack_name,
        stack_id=stack_id,
        get_att=get_att,
        import_value=import_value,
    )
    pending = {
        logical_id: resource
        for logical_id, resource in resources_json.items()
        if logical_id not in created
        and resource["Type"] not in NO_RUNTIME_BEHAVIOUR
        and ("Condition" not in resource or ctx.condition(resource["Condition"]))
    }
    if not complete and pending:
        raise UnsupportedResourceError(
            f"the emulator at {endpoint_url} did not create these resources of {stack_name}: "
            + ", ".join(sorted(f"{lid} ({r['Type']})" for lid, r in pending.items()))
        )
    unsupported = sorted(f"{lid} ({r['Type']})" for lid, r in pending.items() if r["Type"] not in COMPLETED_TYPES)
    if unsupported:
        raise UnsupportedResourceError(
            "moto's CloudFormation did not create these resources and deploy_to_moto cannot complete them: "
            + ", ".join(unsupported)
            + f". Completed types: {', '.join(sorted(COMPLETED_TYPES))}; "
            f"types without runtime behaviour: {', '.join(sorted(NO_RUNTIME_BEHAVIOUR))}."
        )

    completed: dict[str, str] = {}
    try:
        while pending:  # complete in dependency order: a pass completes what it can resolve
            progress = False
            for logical_id, resource in list(pending.items()):
                try:
                    properties = resolve(resource.get("Properties", {}), ctx)
                except UnresolvedReference:
                    continue
                completer = COMPLETED_TYPES[resource["Type"]]
                physical_id = completer(_Completion(logical_id, properties, stack_name, region, account, endpoint_url))
                physical_ids[logical_id] = completed[logical_id] = physical_id
                del pending[logical_id]
                progress = True
            if not progress:
                raise UnsupportedResourceError(f"cannot resolve the references of {', '.join(sorted(pending))}")
    except BaseException:
        _undo(completed, types, region, endpoint_url)
        raise

    for logical_id, resource in resources_json.items():
        fix = CREATED_FIXUPS.get(resource["Type"]) if complete else None
        if fix and logical_id in created:
            fix(
                _Completion(
                    logical_id, resolve(resource.get("Properties", {}), ctx), stack_name, region, account, endpoint_url
                ),
                created[logical_id],
            )

    outputs = {
        key: str(resolve(output["Value"], ctx))
        for key, output in template.get("Outputs", {}).items()
        if "Condition" not in output or ctx.condition(output["Condition"])
    }
    return Deployment(
        stack_name=stack_name,
        region=region,
        account=account,
        template=template,
        resources=physical_ids,
        outputs=outputs,
        completed=completed,
        endpoint_url=endpoint_url,
        _context=ctx,
    )


def _undo(completed: Mapping[str, str], types: Mapping[str, str], region: str, endpoint_url: str | None) -> None:
    """Delete what the helper completed (newest first), so that a failed deploy leaves nothing behind."""
    for logical_id, physical_id in reversed(list(completed.items())):
        if types[logical_id] in _DELETERS:
            service, delete = _DELETERS[types[logical_id]]
            with contextlib.suppress(Exception):
                delete(_client(service, region, endpoint_url), physical_id)


# Completed types whose leftovers would make the next attempt fail (policies and log streams are overwritten).
_DELETERS: dict[str, tuple[str, Callable[[Any, str], Any]]] = {
    "AWS::SNS::Subscription": ("sns", lambda sns, arn: sns.unsubscribe(SubscriptionArn=arn)),
    "AWS::CloudWatch::Alarm": ("cloudwatch", lambda cw, name: cw.delete_alarms(AlarmNames=[name])),
    "AWS::KinesisFirehose::DeliveryStream": (
        "firehose",
        lambda firehose, name: firehose.delete_delivery_stream(DeliveryStreamName=name),
    ),
    "AWS::SecretsManager::Secret": (
        "secretsmanager",
        lambda secrets, arn: secrets.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True),
    ),
    "AWS::AmazonMQ::Broker": ("mq", lambda mq, broker_id: mq.delete_broker(BrokerId=broker_id)),
}


@contextlib.contextmanager
def _quiet_moto() -> Iterator[None]:
    """moto warns and logs for each type it skips; this helper checks every resource itself instead."""
    moto_logger = logging.getLogger("moto")
    level = moto_logger.level
    moto_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Tried to parse .* not supported", category=UserWarning)
            yield
    finally:
        moto_logger.setLevel(level)


def _ensure_bootstrap_parameter(template: dict[str, Json], region: str, endpoint_url: str | None) -> None:
    """moto cannot resolve CDK's BootstrapVersion SSM parameter unless it exists."""
    uses = any(p.get("Default") == BOOTSTRAP_VERSION_PARAMETER for p in template.get("Parameters", {}).values())
    if not uses:
        return
    ssm = _client("ssm", region, endpoint_url)
    try:
        ssm.get_parameter(Name=BOOTSTRAP_VERSION_PARAMETER)
    except ssm.exceptions.ParameterNotFound:
        ssm.put_parameter(Name=BOOTSTRAP_VERSION_PARAMETER, Value=BOOTSTRAP_VERSION, Type="String")


def _parameter_values(
    template: dict[str, Json], given: Mapping[str, str], region: str, endpoint_url: str | None
) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, spec in template.get("Parameters", {}).items():
        value = given.get(name, spec.get("Default"))
        if value is not None and str(spec.get("Type", "")).startswith("AWS::SSM::Parameter::Value"):
            value = _client("ssm", region, endpoint_url).get_parameter(Name=value)["Parameter"]["Value"]
        if value is not None:
            values[name] = value
    return values


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
    else:
        values = {}
    if attribute not in values:
        raise UnsupportedResourceError(
            f"Fn::GetAtt {logical_id}.{attribute} ({resource_type}) is not supported by the moto test helper"
        )
    return values[attribute]


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


@dataclass
class _Completion:
    logical_id: str
    properties: dict[str, Json]
    stack_name: str
    region: str
    account: str
    endpoint_url: str | None

    def client(self, service: str) -> Any:
        return _client(service, self.region, self.endpoint_url)


def _json(value: Json) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _queue_policy(c: _Completion) -> str:
    sqs = c.client("sqs")
    for url in c.properties["Queues"]:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": _json(c.properties["PolicyDocument"])})
    return f"{c.stack_name}-{c.logical_id}"


def _topic_policy(c: _Completion) -> str:
    sns = c.client("sns")
    for arn in c.properties["Topics"]:
        sns.set_topic_attributes(
            TopicArn=arn, AttributeName="Policy", AttributeValue=_json(c.properties["PolicyDocument"])
        )
    return f"{c.stack_name}-{c.logical_id}"


def _bucket_policy(c: _Completion) -> str:
    c.client("s3").put_bucket_policy(Bucket=c.properties["Bucket"], Policy=_json(c.properties["PolicyDocument"]))
    return f"{c.stack_name}-{c.logical_id}"


_SUBSCRIPTION_ATTRIBUTES = (
    "RawMessageDelivery",
    "FilterPolicy",
    "FilterPolicyScope",
    "RedrivePolicy",
    "DeliveryPolicy",
    "SubscriptionRoleArn",
)


def _subscription(c: _Completion) -> str:
    props = c.properties
    attributes = {}
    for name in _SUBSCRIPTION_ATTRIBUTES:
        if name in props:
            value = props[name]
            attributes[name] = str(value).lower() if isinstance(value, bool) else _json(value)
    response = c.client("sns").subscribe(
        TopicArn=props["TopicArn"],
        Protocol=props["Protocol"],
        Endpoint=props["Endpoint"],
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )
    return str(response["SubscriptionArn"])


_ALARM_KEYS = (
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "Metrics",
    "ThresholdMetricId",
)


def _alarm(c: _Completion) -> str:
    name = c.properties.get("AlarmName") or f"{c.stack_name}-{c.logical_id}"
    c.client("cloudwatch").put_metric_alarm(
        AlarmName=name, **{k: c.properties[k] for k in _ALARM_KEYS if k in c.properties}
    )
    return str(name)


def _delivery_stream(c: _Completion) -> str:
    """Created as the template says; moto never consumes a Kinesis source (nothing reaches S3 that way)."""
    props = dict(c.properties)
    name = props.pop("DeliveryStreamName", None) or f"{c.stack_name}-{c.logical_id}"[:64]
    props.pop("Tags", None)
    c.client("firehose").create_delivery_stream(DeliveryStreamName=name, **props)
    return str(name)


def _log_stream(c: _Completion) -> str:
    name = c.properties.get("LogStreamName") or f"{c.stack_name}-{c.logical_id}"
    c.client("logs").create_log_stream(logGroupName=c.properties["LogGroupName"], logStreamName=name)
    return str(name)


_SECRET_REFERENCE = re.compile(r"\{\{resolve:secretsmanager:(.+?):SecretString:([^:}]*)(?::[^:}]*)?(?::[^:}]*)?\}\}")


def _resolve_secret_references(value: Json, c: _Completion) -> Json:
    """Replace ``{{resolve:secretsmanager:...}}`` dynamic references with the secret's value, as CloudFormation
    does when it passes a property to a service."""
    if isinstance(value, list):
        return [_resolve_secret_references(item, c) for item in value]
    if isinstance(value, dict):
        return {key: _resolve_secret_references(item, c) for key, item in value.items()}
    if not isinstance(value, str) or "{{resolve:secretsmanager:" not in value:
        return value
    secrets = c.client("secretsmanager")

    def replace(match: re.Match[str]) -> str:
        secret = secrets.get_secret_value(SecretId=match.group(1))["SecretString"]
        return str(json.loads(secret)[match.group(2)]) if match.group(2) else str(secret)

    return _SECRET_REFERENCE.sub(replace, value)


def _secret(c: _Completion) -> str:
    props = c.properties
    name = props.get("Name") or f"{c.stack_name}-{c.logical_id}"
    secret_string = props.get("SecretString")
    if secret_string is None:
        generate = dict(props.get("GenerateSecretString", {}))
        key, template = generate.pop("GenerateStringKey", None), generate.pop("SecretStringTemplate", None)
        options = {k: v for k, v in generate.items() if k in _PASSWORD_OPTIONS}
        password = c.client("secretsmanager").get_random_password(**options)["RandomPassword"]
        secret_string = json.dumps({**json.loads(template), key: password}) if key and template else password
    created = c.client("secretsmanager").create_secret(
        Name=name,
        SecretString=secret_string,
        **{k: props[k] for k in ("Description", "KmsKeyId") if k in props},
    )
    return str(created["ARN"])


_PASSWORD_OPTIONS = (
    "PasswordLength",
    "ExcludeCharacters",
    "ExcludeNumbers",
    "ExcludePunctuation",
    "ExcludeUppercase",
    "ExcludeLowercase",
    "IncludeSpace",
    "RequireEachIncludedType",
)


def _broker(c: _Completion) -> str:
    """Created as the template says (control plane only: moto runs no broker); secret references resolved."""
    props = _resolve_secret_references(dict(c.properties), c)
    tags = props.pop("Tags", None)
    if tags:
        props["Tags"] = {tag["Key"]: tag["Value"] for tag in tags}
    return str(c.client("mq").create_broker(**props)["BrokerId"])


# Types moto's CloudFormation skips that the helper completes with public API calls.
COMPLETED_TYPES: dict[str, Callable[[_Completion], str]] = {
    "AWS::SQS::QueuePolicy": _queue_policy,
    "AWS::SNS::TopicPolicy": _topic_policy,
    "AWS::S3::BucketPolicy": _bucket_policy,
    "AWS::SNS::Subscription": _subscription,
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::KinesisFirehose::DeliveryStream": _delivery_stream,
    "AWS::Logs::LogStream": _log_stream,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::AmazonMQ::Broker": _broker,
}


def _fix_key_policy(c: _Completion, key_id: str) -> None:
    """moto stores a template's KeyPolicy as a dict and describe_key then fails; store it as JSON."""
    if "KeyPolicy" in c.properties:
        c.client("kms").put_key_policy(KeyId=key_id, PolicyName="default", Policy=_json(c.properties["KeyPolicy"]))


def _fix_iam_policy(c: _Completion, _physical_id: str) -> None:
    """moto created the policy before the helper completed what it names (a skipped resource's Ref is None
    in moto): put it again, resolved, on each of its roles, users and groups."""
    iam = c.client("iam")
    name, document = c.properties["PolicyName"], _json(c.properties["PolicyDocument"])
    for role in c.properties.get("Roles", []):
        iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=document)
    for user in c.properties.get("Users", []):
        iam.put_user_policy(UserName=user, PolicyName=name, PolicyDocument=document)
    for group in c.properties.get("Groups", []):
        iam.put_group_policy(GroupName=group, PolicyName=name, PolicyDocument=document)


# Types moto creates with a property lost or stored wrongly, and the fix applied after create_stack.
CREATED_FIXUPS: dict[str, Callable[[_Completion, str], None]] = {
    "AWS::KMS::Key": _fix_key_policy,
    "AWS::IAM::Policy": _fix_iam_policy,
}


# Imported last: they build on the names above.
from .emulators import Emulator, cdk_deploy, ministack, moto_server  # noqa: E402
from .verify import NOT_STORED, Finding, VerificationError, VerificationReport, verify  # noqa: E402
