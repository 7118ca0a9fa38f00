"""Verify every deployed resource against its template, through the services' own describe/get APIs.

::

    report = verify(deployment)        # raises VerificationError on a mismatch
    print(report.summary())
    report.not_stored                  # what this emulator is known not to store
    report.not_verified                # resources no reader reads back here, and why

Each property of each resource in the template (intrinsics resolved against the deployment) is read
back from the service that owns it and lands in one of three lists:

* ``matches``: the service returns what the template asked for;
* ``not_stored``: the service returns something else, and :data:`NOT_STORED` names this property as one
  that this emulator is known to drop (the reason is in the finding);
* ``mismatches``: anything else. :func:`verify` raises :class:`VerificationError` unless ``check=False``.

Comparison is semantic where AWS normalises: JSON documents are parsed, one-element lists equal their
element, lists are compared as multisets, booleans and numbers as AWS prints them. A template dict must be
contained in what the service returns (services add defaults); a list must match item for item.

A resource whose type has no reader, or whose service API the emulator does not implement, is never a
crash: it is listed in ``not_verified`` with the reason.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from ._intrinsics import UnresolvedReference, resolve
from .lookup import NO_RUNTIME_BEHAVIOUR, Deployment, UnsupportedResourceError

Json = Any

# Properties an emulator is known not to store, keyed by emulator name (not by version, so that every version the
# extras allow is covered): emulator name -> (resource type, property) -> why. Checked against the emulator's
# answers on each version in NOT_STORED_CHECKED (the behaviour tests run on both ends of the [testing] extra's moto
# range: `make test-moto-range`); re-check when a bound moves.
_MINISTACK_CFN = "MiniStack's CloudFormation drops it (its {} API stores it when called directly)"
_MOTO_CFN = "moto's CloudFormation ignores it (its {} API stores it when called directly)"
NOT_STORED: dict[str, dict[tuple[str, str], str]] = {
    "ministack": {
        ("AWS::SNS::Topic", "FifoTopic"): _MINISTACK_CFN.format("SNS"),
        ("AWS::SNS::Topic", "ContentBasedDeduplication"): _MINISTACK_CFN.format("SNS"),
        ("AWS::SNS::Topic", "KmsMasterKeyId"): _MINISTACK_CFN.format("SNS"),
        ("AWS::SNS::Topic", "SignatureVersion"): _MINISTACK_CFN.format("SNS"),
        ("AWS::SNS::Topic", "DeliveryStatusLogging"): _MINISTACK_CFN.format("SNS SetTopicAttributes"),
        ("AWS::Kinesis::Stream", "StreamEncryption"): _MINISTACK_CFN.format("Kinesis StartStreamEncryption"),
        ("AWS::S3::Bucket", "LifecycleConfiguration"): _MINISTACK_CFN.format("S3"),
        ("AWS::S3::Bucket", "LoggingConfiguration"): _MINISTACK_CFN.format("S3"),
        ("AWS::Lambda::Function", "DeadLetterConfig"): "MiniStack's CloudFormation does not set it on the function "
        "(GetFunction returns none); not checked through its Lambda API",
        ("AWS::KinesisFirehose::DeliveryStream", "HttpEndpointDestinationConfiguration"): "MiniStack's "
        "DescribeDeliveryStream returns only its EndpointConfiguration, BufferingHints and S3BackupMode (no "
        "SecretsManagerConfiguration, RequestConfiguration, RetryOptions, S3Configuration, logging or processing)",
    },
    "moto": {
        ("AWS::SQS::Queue", "RedriveAllowPolicy"): "moto rejects the attribute, through its API too",
        ("AWS::Kinesis::Stream", "StreamEncryption"): _MOTO_CFN.format("Kinesis"),
        ("AWS::Kinesis::Stream", "StreamModeDetails"): _MOTO_CFN.format("Kinesis") + "; a 1-shard provisioned stream",
        ("AWS::S3::Bucket", "VersioningConfiguration"): _MOTO_CFN.format("S3"),
        ("AWS::S3::Bucket", "PublicAccessBlockConfiguration"): _MOTO_CFN.format("S3"),
        ("AWS::S3::Bucket", "OwnershipControls"): _MOTO_CFN.format("S3"),
        ("AWS::S3::Bucket", "LoggingConfiguration"): _MOTO_CFN.format("S3"),
        ("AWS::S3::Bucket", "LifecycleConfiguration"): _MOTO_CFN.format("S3"),
        ("AWS::EC2::VPC", "EnableDnsHostnames"): "moto's CloudFormation leaves it false",
        ("AWS::EC2::Subnet", "MapPublicIpOnLaunch"): "moto's CloudFormation leaves it false",
        ("AWS::EC2::SubnetRouteTableAssociation", "SubnetId"): "moto's CloudFormation associates no subnet",
        ("AWS::EC2::SecurityGroup", "SecurityGroupEgress"): "moto's CloudFormation keeps the default allow-all egress",
        ("AWS::EC2::SecurityGroupIngress", "Description"): "moto's CloudFormation stores the rule without it",
        ("AWS::IAM::Role", "ManagedPolicyArns"): "moto's CloudFormation attaches none "
        "(its IAM API attaches them when called directly)",
        ("AWS::IAM::Role", "Policies"): "moto's CloudFormation stores each inline policy document as Python text, "
        "not JSON (its IAM API stores JSON when called directly)",
        ("AWS::Lambda::Function", "DeadLetterConfig"): "moto's CloudFormation does not set it on the function",
        ("AWS::Lambda::Function", "LoggingConfig"): "moto's CloudFormation does not set it on the function",
        ("AWS::Lambda::Function", "Layers"): "moto's CloudFormation does not set it on the function "
        "(nor resolves a {{resolve:ssm:...}} reference in it)",
        ("AWS::Lambda::Function", "Code"): "moto's in-process mock serves the package at an AWS address only "
        "boto3 reaches, so the code is not read back (it is on MiniStack)",
    },
}

# The versions NOT_STORED was checked on: for moto, both ends of pyproject's [testing] range; MiniStack is pinned in
# requirements-ministack.txt.
NOT_STORED_CHECKED: dict[str, tuple[str, ...]] = {"ministack": ("1.5.33",), "moto": ("5.2.5", "5.2.6")}


def emulator_name(label: str) -> str:
    """``moto`` of ``moto 5.2.6``."""
    return label.split(" ", 1)[0]


def not_stored_for(label: str) -> dict[tuple[str, str], str]:
    """What the emulator named by ``label`` (e.g. ``moto 5.2.6``) is known not to store."""
    return NOT_STORED.get(emulator_name(label), {})


# Keys inside a template property that no describe/get API returns (write-only): left out of the comparison
# and listed in the report's ``unreadable``.
WRITE_ONLY: dict[tuple[str, str], str] = {
    ("AWS::AmazonMQ::Broker", "Users"): "Password",
}


@dataclass(frozen=True)
class Finding:
    logical_id: str
    resource_type: str
    property: str
    expected: Json
    actual: Json
    reason: str = ""


@dataclass
class VerificationReport:
    stack_name: str
    emulator: str
    resources: int = 0
    matches: list[Finding] = field(default_factory=list)
    not_stored: list[Finding] = field(default_factory=list)
    mismatches: list[Finding] = field(default_factory=list)
    unreadable: list[Finding] = field(default_factory=list)
    not_verified: list[Finding] = field(default_factory=list)
    """Resources not read back (``property`` is ``*``), each with the reason: no reader for the type, or the
    emulator does not implement the API that reads it."""
    completions: list[str] = field(default_factory=list)
    """Every labelled completion applied to the deployment (``Deployment.completions``), one line each: what the
    test helper made with API calls because the emulator's CloudFormation did not, although it said it did."""

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def summary(self) -> str:
        text = (
            f"{self.stack_name} on {self.emulator}: {self.resources} resources verified, "
            f"{len(self.matches)} properties match the template, "
            f"{len(self.not_stored)} not stored by {self.emulator}, {len(self.mismatches)} mismatches"
        )
        if self.not_verified:
            text += f", {len(self.not_verified)} resources not verified"
        if self.not_stored:
            names = sorted({f"{f.resource_type.split('::')[-1]}.{f.property}" for f in self.not_stored})
            text += f" (not stored: {', '.join(names)})"
        if self.completions:
            text += f"; {len(self.completions)} completed by the test helper: {'; '.join(self.completions)}"
        return text

    def details(self) -> str:
        lines = [self.summary()]
        for f in self.not_verified:
            lines.append(f"  not verified {f.logical_id} ({f.resource_type}): {f.reason}")
        for title, findings in (("MISMATCH", self.mismatches), ("not stored", self.not_stored)):
            for f in findings:
                lines.append(f"  {title} {f.logical_id} ({f.resource_type}) {f.property}: {f.reason}".rstrip(": "))
                lines.append(f"    template: {_short(f.expected)}")
                lines.append(f"    deployed: {_short(f.actual)}")
        return "\n".join(lines)

    def raise_for_mismatches(self) -> VerificationReport:
        if self.mismatches:
            raise VerificationError(self)
        return self


class VerificationError(AssertionError):
    """A deployed resource does not match its template; ``report`` holds every finding."""

    def __init__(self, report: VerificationReport) -> None:
        super().__init__(report.details())
        self.report = report


def _short(value: Json, limit: int = 300) -> str:
    text = json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def verify(deployment: Deployment, *, check: bool = True) -> VerificationReport:
    """Read every resource of ``deployment`` back from its service and compare it with the template."""
    assert deployment._context is not None
    ctx = deployment._context
    report = VerificationReport(deployment.stack_name, deployment.emulator)
    report.completions = [
        f"{logical_id} ({deployment.template['Resources'][logical_id]['Type']}): {label}"
        for logical_id, label in deployment.completions.items()
    ]
    known = not_stored_for(deployment.emulator)
    clients: dict[str, Any] = {}
    for logical_id, resource in deployment.template.get("Resources", {}).items():
        resource_type = resource["Type"]
        if resource_type in NO_RUNTIME_BEHAVIOUR:
            continue
        if "Condition" in resource and not ctx.condition(resource["Condition"]):
            continue
        reader = READERS.get(resource_type)
        if reader is None:
            report.not_verified.append(
                Finding(logical_id, resource_type, "*", None, None, f"verify has no reader for {resource_type}")
            )
            continue
        try:
            expected_properties = resolve(resource.get("Properties", {}), ctx)
        except (UnresolvedReference, UnsupportedResourceError) as error:
            report.not_verified.append(
                Finding(logical_id, resource_type, "*", None, None, f"its template cannot be resolved here: {error}")
            )
            continue
        try:
            actual_properties = reader(
                _Read(deployment, logical_id, deployment.resources[logical_id], expected_properties, clients)
            )
        except Exception as error:
            unimplemented = _unimplemented(error)
            if unimplemented is None:
                report.mismatches.append(
                    Finding(logical_id, resource_type, "*", "(exists)", None, f"reading it back failed: {error}")
                )
            else:
                report.not_verified.append(
                    Finding(logical_id, resource_type, "*", None, None, f"{deployment.emulator} {unimplemented}")
                )
            continue
        report.resources += 1
        for name, expected in expected_properties.items():
            if name == "Tags":
                continue  # tags are metadata, not configuration
            if (resource_type, name) in WRITE_ONLY:
                hidden = WRITE_ONLY[(resource_type, name)]
                report.unreadable.append(
                    Finding(logical_id, resource_type, f"{name}[].{hidden}", "(write-only)", None, "no API returns it")
                )
                expected = [{k: v for k, v in item.items() if k != hidden} for item in expected]
            finding = Finding(logical_id, resource_type, name, expected, actual_properties.get(name))
            if _contains(_canon(finding.actual), _canon(expected)):
                report.matches.append(finding)
            elif (resource_type, name) in known:
                report.not_stored.append(_with_reason(finding, known[(resource_type, name)]))
            else:
                report.mismatches.append(finding)
    if check:
        report.raise_for_mismatches()
    return report


# Error codes and HTTP statuses with which an emulator says it does not implement an API.
_UNIMPLEMENTED_CODES = frozenset(
    {"NotImplemented", "NotImplementedException", "InvalidAction", "UnknownOperation", "UnknownOperationException"}
)


def _unimplemented(error: Exception) -> str | None:
    """How ``error`` says the emulator does not implement the call (None: it is another error)."""
    if isinstance(error, NotImplementedError):  # moto's in-process mock
        return f"does not implement the API that reads it back ({error or type(error).__name__})"
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code", "")
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        operation = getattr(error, "operation_name", "the API")
        if code in _UNIMPLEMENTED_CODES or status == 501:
            return f"does not implement {operation} ({code or status})"
    return None


def _with_reason(finding: Finding, reason: str) -> Finding:
    return dataclasses.replace(finding, reason=reason)


def _canon(value: Json) -> Json:
    """A value as AWS compares it: JSON text parsed, one-item lists unwrapped, scalars as text."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("{", "["):
            try:
                return _canon(json.loads(stripped))
            except ValueError:
                return value
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        return {key: _canon(item) for key, item in value.items()}
    if isinstance(value, list):
        items = [_canon(item) for item in value]
        return items[0] if len(items) == 1 else items
    return value


def _contains(actual: Json, expected: Json) -> bool:
    """``expected`` (a template value) holds in ``actual`` (what the service returned)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and _contains(actual[key], item) for key, item in expected.items()
        )
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return False
        remaining = list(actual)
        for item in expected:
            match = next((i for i, candidate in enumerate(remaining) if _contains(candidate, item)), None)
            if match is None:
                return False
            remaining.pop(match)
        return True
    return bool(actual == expected)


@dataclass
class _Read:
    deployment: Deployment
    logical_id: str
    physical_id: str
    expected: dict[str, Json]
    clients: dict[str, Any]

    def client(self, service: str) -> Any:
        """One client per service for the whole verification (creating a boto3 client costs ~50 ms)."""
        if service not in self.clients:
            self.clients[service] = self.deployment.client(service)
        return self.clients[service]


def _queue(r: _Read) -> dict[str, Json]:
    attributes = r.client("sqs").get_queue_attributes(QueueUrl=r.physical_id, AttributeNames=["All"])["Attributes"]
    return {**attributes, "QueueName": r.physical_id.rstrip("/").rsplit("/", 1)[-1]}


def _queue_policy(r: _Read) -> dict[str, Json]:
    sqs = r.client("sqs")
    policies = [
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"].get("Policy")
        for url in r.expected.get("Queues", [])
    ]
    return {"Queues": r.expected.get("Queues"), "PolicyDocument": _same_or_list(policies)}


def _same_or_list(values: list[Json]) -> Json:
    """One document when every target holds the same one (what the template says), else all of them."""
    canon = [_canon(v) for v in values]
    return values[0] if values and all(c == canon[0] for c in canon) else values


# DeliveryStatusLogging's Protocol -> the prefix of its topic attributes (SNS API reference, SetTopicAttributes:
# HTTPSuccessFeedbackRoleArn, HTTPSuccessFeedbackSampleRate, HTTPFailureFeedbackRoleArn, and likewise).
_FEEDBACK_PREFIXES = {
    "http/s": "HTTP",
    "sqs": "SQS",
    "lambda": "Lambda",
    "firehose": "Firehose",
    "application": "Application",
}


def _topic(r: _Read) -> dict[str, Json]:
    attributes = r.client("sns").get_topic_attributes(TopicArn=r.physical_id)["Attributes"]
    logging = []
    for protocol, prefix in _FEEDBACK_PREFIXES.items():
        entry = {
            key: attributes[f"{prefix}{key}"]
            for key in ("SuccessFeedbackRoleArn", "SuccessFeedbackSampleRate", "FailureFeedbackRoleArn")
            if f"{prefix}{key}" in attributes
        }
        if entry:
            logging.append({"Protocol": protocol, **entry})
    return {**attributes, "TopicName": r.physical_id.rsplit(":", 1)[-1], "DeliveryStatusLogging": logging or None}


def _topic_policy(r: _Read) -> dict[str, Json]:
    sns = r.client("sns")
    policies = [sns.get_topic_attributes(TopicArn=arn)["Attributes"].get("Policy") for arn in r.expected["Topics"]]
    return {"Topics": r.expected["Topics"], "PolicyDocument": _same_or_list(policies)}


def _subscription(r: _Read) -> dict[str, Json]:
    region = r.physical_id.split(":")[3] if r.physical_id.startswith("arn:") else None
    # A subscription made in the topic's Region (its template's Region) lives there, not in the stack's.
    sns = r.client("sns") if region in (None, r.deployment.region) else r.deployment.client("sns", region)
    attributes = sns.get_subscription_attributes(SubscriptionArn=r.physical_id)["Attributes"]
    topic_arn = attributes.get("TopicArn") or r.physical_id.rsplit(":", 1)[0]
    try:
        listed = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
        subscriptions = [s for page in listed for s in page["Subscriptions"]]
    except ClientError as error:  # a topic of another account: only its owner lists it; the attributes suffice
        if error.response["Error"]["Code"] != "AuthorizationError":
            raise
        subscriptions = []
    entry: dict[str, Json] = next((s for s in subscriptions if s["SubscriptionArn"] == r.physical_id), {})
    return {**entry, **attributes}


def _stream(r: _Read) -> dict[str, Json]:
    summary = r.client("kinesis").describe_stream_summary(StreamName=r.physical_id)["StreamDescriptionSummary"]
    actual: dict[str, Json] = {
        "Name": summary["StreamName"],
        "RetentionPeriodHours": summary["RetentionPeriodHours"],
        "ShardCount": summary.get("OpenShardCount"),
        "StreamModeDetails": summary.get("StreamModeDetails"),
        "StreamEncryption": {"EncryptionType": summary.get("EncryptionType", "NONE")},
    }
    if summary.get("KeyId"):
        actual["StreamEncryption"]["KeyId"] = summary["KeyId"]
    return actual


def _bucket(r: _Read) -> dict[str, Json]:
    s3, bucket = r.client("s3"), r.physical_id
    errors = s3.exceptions.ClientError

    def read(call: Callable[..., Any], key: str | None = None) -> Json:
        try:
            response = call(Bucket=bucket)
        except errors:
            return None
        response.pop("ResponseMetadata", None)
        return response.get(key) if key else response

    versioning = read(s3.get_bucket_versioning)
    logging_enabled = read(s3.get_bucket_logging, "LoggingEnabled") or {}
    lifecycle = read(s3.get_bucket_lifecycle_configuration, "Rules")
    encryption = read(s3.get_bucket_encryption, "ServerSideEncryptionConfiguration")
    return {
        "BucketName": bucket,
        "VersioningConfiguration": {"Status": versioning.get("Status")} if versioning else None,
        "PublicAccessBlockConfiguration": read(s3.get_public_access_block, "PublicAccessBlockConfiguration"),
        "OwnershipControls": read(s3.get_bucket_ownership_controls, "OwnershipControls"),
        "LoggingConfiguration": {
            "DestinationBucketName": logging_enabled.get("TargetBucket"),
            "LogFilePrefix": logging_enabled.get("TargetPrefix"),
        }
        if logging_enabled
        else None,
        "LifecycleConfiguration": {"Rules": [_lifecycle_rule(rule) for rule in lifecycle]} if lifecycle else None,
        # CloudFormation's encryption property holds the API's rules under a key of its own.
        "BucketEncryption": {
            "ServerSideEncryptionConfiguration": [
                {**rule, "ServerSideEncryptionByDefault": rule.get("ApplyServerSideEncryptionByDefault")}
                for rule in encryption["Rules"]
            ]
        }
        if encryption
        else None,
    }


def _lifecycle_rule(rule: dict[str, Json]) -> dict[str, Json]:
    """An API lifecycle rule in the template's shape (CloudFormation renames a few keys)."""
    shaped: dict[str, Json] = {"Id": rule.get("ID"), "Status": rule.get("Status")}
    if "AbortIncompleteMultipartUpload" in rule:
        shaped["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
    if "NoncurrentVersionExpiration" in rule:
        days = rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
        shaped["NoncurrentVersionExpiration"] = {"NoncurrentDays": days}
    if "Expiration" in rule and "Days" in rule["Expiration"]:
        shaped["ExpirationInDays"] = rule["Expiration"]["Days"]
    if "Transitions" in rule:
        shaped["Transitions"] = [
            {"StorageClass": t["StorageClass"], "TransitionInDays": t.get("Days")} for t in rule["Transitions"]
        ]
    if "NoncurrentVersionTransitions" in rule:
        shaped["NoncurrentVersionTransitions"] = [
            {"StorageClass": t["StorageClass"], "TransitionInDays": t.get("NoncurrentDays")}
            for t in rule["NoncurrentVersionTransitions"]
        ]
    return shaped


def _bucket_policy(r: _Read) -> dict[str, Json]:
    s3 = r.client("s3")
    try:
        policy = s3.get_bucket_policy(Bucket=r.expected["Bucket"])["Policy"]
    except s3.exceptions.ClientError:
        policy = None
    return {"Bucket": r.expected["Bucket"], "PolicyDocument": policy}


def _delivery_stream(r: _Read) -> dict[str, Json]:
    description = r.client("firehose").describe_delivery_stream(DeliveryStreamName=r.physical_id)
    stream = description["DeliveryStreamDescription"]
    actual: dict[str, Json] = {
        "DeliveryStreamName": stream["DeliveryStreamName"],
        "DeliveryStreamType": stream["DeliveryStreamType"],
    }
    source = stream.get("Source", {}).get("KinesisStreamSourceDescription")
    if source:
        actual["KinesisStreamSourceConfiguration"] = {
            "KinesisStreamARN": source.get("KinesisStreamARN"),
            "RoleARN": source.get("RoleARN"),
        }
    encryption = stream.get("DeliveryStreamEncryptionConfiguration") or {}
    if encryption.get("Status") in ("ENABLED", "ENABLING"):  # a Direct PUT stream's server-side encryption
        actual["DeliveryStreamEncryptionConfigurationInput"] = {
            key: encryption[key] for key in ("KeyType", "KeyARN") if key in encryption
        }
    for destination in stream.get("Destinations", []):
        if "ExtendedS3DestinationDescription" in destination:
            actual["ExtendedS3DestinationConfiguration"] = destination["ExtendedS3DestinationDescription"]
        if "S3DestinationDescription" in destination:
            actual["S3DestinationConfiguration"] = destination["S3DestinationDescription"]
        if (
            "HttpEndpointDestinationDescription" in destination
        ):  # its S3 backup is described as S3DestinationDescription
            http = dict(destination["HttpEndpointDestinationDescription"])
            if "S3DestinationDescription" in http:
                http["S3Configuration"] = http.pop("S3DestinationDescription")
            actual["HttpEndpointDestinationConfiguration"] = http
    return actual


def _alarm(r: _Read) -> dict[str, Json]:
    (alarm,) = r.client("cloudwatch").describe_alarms(AlarmNames=[r.physical_id])["MetricAlarms"]
    return dict(alarm)


def _broker(r: _Read) -> dict[str, Json]:
    mq = r.client("mq")
    broker = mq.describe_broker(BrokerId=r.physical_id)
    broker.pop("ResponseMetadata", None)
    users = []
    for summary in broker.get("Users", []):
        user = mq.describe_user(BrokerId=r.physical_id, Username=summary["Username"])
        users.append({k: user[k] for k in ("Username", "ConsoleAccess", "Groups") if k in user})
    return {**broker, "Users": users}


def _key(r: _Read) -> dict[str, Json]:
    kms = r.client("kms")
    metadata = kms.describe_key(KeyId=r.physical_id)["KeyMetadata"]
    return {
        "Description": metadata.get("Description"),
        "Enabled": metadata.get("Enabled"),
        "KeySpec": metadata.get("KeySpec"),
        "KeyUsage": metadata.get("KeyUsage"),
        "EnableKeyRotation": kms.get_key_rotation_status(KeyId=r.physical_id)["KeyRotationEnabled"],
        "KeyPolicy": kms.get_key_policy(KeyId=r.physical_id, PolicyName="default")["Policy"],
    }


def _role(r: _Read) -> dict[str, Json]:
    """GetRole returns neither the attached managed policies nor the inline ones: they are read with their own
    list calls (ListAttachedRolePolicies, ListRolePolicies and GetRolePolicy), and only when the template sets them."""
    iam = r.client("iam")
    role = iam.get_role(RoleName=r.physical_id)["Role"]
    read: dict[str, Json] = {**role, "RoleName": role["RoleName"]}
    if "ManagedPolicyArns" in r.expected:
        attached = _iam_pages(iam.list_attached_role_policies, "AttachedPolicies", RoleName=r.physical_id)
        read["ManagedPolicyArns"] = [policy["PolicyArn"] for policy in attached]
    if "Policies" in r.expected:
        names = _iam_pages(iam.list_role_policies, "PolicyNames", RoleName=r.physical_id)
        read["Policies"] = [
            {
                "PolicyName": name,
                "PolicyDocument": iam.get_role_policy(RoleName=r.physical_id, PolicyName=name)["PolicyDocument"],
            }
            for name in names
        ]
    return read


def _iam_pages(call: Any, key: str, **kwargs: Json) -> list[Any]:
    """Every item of an IAM list call (``Marker``/``IsTruncated`` pages)."""
    items: list[Any] = []
    while True:
        page = call(**kwargs)
        items.extend(page.get(key, []))
        if not page.get("IsTruncated"):
            return items
        kwargs["Marker"] = page["Marker"]


def _iam_policy(r: _Read) -> dict[str, Json]:
    iam, name = r.client("iam"), r.expected["PolicyName"]
    documents = [
        iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"] for role in r.expected.get("Roles", [])
    ]
    documents += [
        iam.get_user_policy(UserName=user, PolicyName=name)["PolicyDocument"] for user in r.expected.get("Users", [])
    ]
    documents += [
        iam.get_group_policy(GroupName=group, PolicyName=name)["PolicyDocument"]
        for group in r.expected.get("Groups", [])
    ]
    return {
        "PolicyName": name,
        "Roles": r.expected.get("Roles"),
        "Users": r.expected.get("Users"),
        "Groups": r.expected.get("Groups"),
        "PolicyDocument": _same_or_list(documents),
    }


def _log_group(r: _Read) -> dict[str, Json]:
    groups = r.client("logs").describe_log_groups(logGroupNamePrefix=r.physical_id)["logGroups"]
    (group,) = [g for g in groups if g["logGroupName"] == r.physical_id]
    return {
        "LogGroupName": group["logGroupName"],
        "RetentionInDays": group.get("retentionInDays"),
        "KmsKeyId": group.get("kmsKeyId"),
    }


def _metric_filter(r: _Read) -> dict[str, Json]:
    filters = r.client("logs").describe_metric_filters(
        logGroupName=r.expected["LogGroupName"], filterNamePrefix=r.physical_id
    )["metricFilters"]
    (found,) = [f for f in filters if f["filterName"] == r.physical_id]
    return {
        "LogGroupName": found["logGroupName"],
        "FilterName": found["filterName"],
        "FilterPattern": found["filterPattern"],
        "MetricTransformations": [
            {key[:1].upper() + key[1:]: value for key, value in transformation.items()}
            for transformation in found["metricTransformations"]
        ],
    }


def _log_stream(r: _Read) -> dict[str, Json]:
    streams = r.client("logs").describe_log_streams(
        logGroupName=r.expected["LogGroupName"], logStreamNamePrefix=r.physical_id
    )["logStreams"]
    (stream,) = [s for s in streams if s["logStreamName"] == r.physical_id]
    return {"LogGroupName": r.expected["LogGroupName"], "LogStreamName": stream["logStreamName"]}


def _logs_resource_policy(r: _Read) -> dict[str, Json]:
    policies = r.client("logs").describe_resource_policies()["resourcePolicies"]
    (policy,) = [p for p in policies if p["policyName"] == r.expected["PolicyName"]]
    return {"PolicyName": policy["policyName"], "PolicyDocument": policy["policyDocument"]}


def _function(r: _Read) -> dict[str, Json]:
    """A function's configuration, and its inline code read back from the deployment package."""
    import io
    import urllib.request
    import zipfile

    function = r.client("lambda").get_function(FunctionName=r.physical_id)
    config = function["Configuration"]
    actual: dict[str, Json] = {
        key: config.get(key) for key in ("FunctionName", "Handler", "Runtime", "Role", "Timeout", "MemorySize")
    }
    actual["DeadLetterConfig"] = config.get("DeadLetterConfig")
    logging = config.get("LoggingConfig") or {}
    actual["LoggingConfig"] = {**logging, "LogGroup": logging.get("LogGroup")}
    code = r.expected.get("Code", {})
    if not isinstance(code, dict) or not ({"ZipFile"} <= set(code) or {"S3Bucket", "S3Key"} <= set(code)):
        return actual
    try:
        with urllib.request.urlopen(function["Code"]["Location"], timeout=10) as response:
            deployed = response.read()
    except OSError:  # moto's in-process mock: an AWS URL only boto3 is routed to
        return actual
    if "ZipFile" in code:
        package = zipfile.ZipFile(io.BytesIO(deployed))
        actual["Code"] = {"ZipFile": package.read(package.namelist()[0]).decode()}
    else:  # a CDK asset: the function runs the package uploaded at S3Bucket/S3Key, byte for byte
        uploaded = r.client("s3").get_object(Bucket=code["S3Bucket"], Key=code["S3Key"])["Body"].read()
        same = uploaded == deployed
        actual["Code"] = (
            {"S3Bucket": code["S3Bucket"], "S3Key": code["S3Key"]}
            if same
            else {"deployed package differs from s3 object": f"{len(deployed)} bytes vs {len(uploaded)} bytes"}
        )
    return actual


def _lambda_permission(r: _Read) -> dict[str, Json]:
    """The statement of the function's resource policy that this permission added."""
    function = r.expected["FunctionName"]
    policy = json.loads(r.client("lambda").get_policy(FunctionName=function)["Policy"])
    for statement in policy["Statement"]:
        principal = statement.get("Principal")
        service = principal.get("Service") if isinstance(principal, dict) else principal
        source = statement.get("Condition", {}).get("ArnLike", {}).get("AWS:SourceArn")
        if service == r.expected.get("Principal") and source == r.expected.get("SourceArn"):
            return {
                "Action": statement.get("Action"),
                "FunctionName": function,
                "Principal": service,
                "SourceArn": source,
            }
    return {}


def _secret(r: _Read) -> dict[str, Json]:
    secrets = r.client("secretsmanager")
    described = secrets.describe_secret(SecretId=r.physical_id)
    value = secrets.get_secret_value(SecretId=r.physical_id)["SecretString"]
    actual: dict[str, Json] = {"Name": described["Name"], "Description": described.get("Description")}
    generate = r.expected.get("GenerateSecretString")
    if generate is not None:
        actual["GenerateSecretString"] = _generated(value, generate)
    return actual


def _generated(value: str, generate: dict[str, Json]) -> dict[str, Json]:
    """What the stored secret shows of how it was generated, in ``GenerateSecretString``'s shape."""
    key = generate.get("GenerateStringKey")
    fields = json.loads(value) if key else {}
    password = str(fields.pop(key, "")) if key else value
    seen: dict[str, Json] = {"PasswordLength": len(password)}
    if key and key in json.loads(value):
        seen["GenerateStringKey"] = key
    if "SecretStringTemplate" in generate:
        seen["SecretStringTemplate"] = json.dumps(fields)
    if "ExcludeCharacters" in generate:
        found = "".join(sorted({c for c in password if c in generate["ExcludeCharacters"]}))
        seen["ExcludeCharacters"] = generate["ExcludeCharacters"] if not found else f"but found {found!r}"
    for option, characters in _CHARACTER_CLASSES.items():
        if option in generate:
            seen[option] = not any(c in characters for c in password)
    return seen


_CHARACTER_CLASSES = {
    "ExcludePunctuation": "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    "ExcludeNumbers": "0123456789",
    "ExcludeUppercase": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "ExcludeLowercase": "abcdefghijklmnopqrstuvwxyz",
}


def _vpc(r: _Read) -> dict[str, Json]:
    ec2 = r.client("ec2")
    (vpc,) = ec2.describe_vpcs(VpcIds=[r.physical_id])["Vpcs"]

    def attribute(name: str) -> Json:
        response = ec2.describe_vpc_attribute(VpcId=r.physical_id, Attribute=name)
        return response[name[0].upper() + name[1:]]["Value"]

    return {
        "CidrBlock": vpc["CidrBlock"],
        "InstanceTenancy": vpc.get("InstanceTenancy"),
        "EnableDnsHostnames": attribute("enableDnsHostnames"),
        "EnableDnsSupport": attribute("enableDnsSupport"),
    }


def _subnet(r: _Read) -> dict[str, Json]:
    (subnet,) = r.client("ec2").describe_subnets(SubnetIds=[r.physical_id])["Subnets"]
    return dict(subnet)


def _route_table(r: _Read) -> dict[str, Json]:
    (table,) = r.client("ec2").describe_route_tables(RouteTableIds=[r.physical_id])["RouteTables"]
    return dict(table)


def _route_table_association(r: _Read) -> dict[str, Json]:
    tables = r.client("ec2").describe_route_tables(RouteTableIds=[r.expected["RouteTableId"]])["RouteTables"]
    subnets = [a.get("SubnetId") for t in tables for a in t.get("Associations", [])]
    return {
        "RouteTableId": r.expected["RouteTableId"],
        "SubnetId": r.expected["SubnetId"] if r.expected["SubnetId"] in subnets else subnets,
    }


def _permissions(permissions: list[dict[str, Json]]) -> list[dict[str, Json]]:
    """API security-group rules in the template's flat shape (one per CIDR or source group)."""
    rules = []
    for p in permissions:
        base: dict[str, Json] = {"IpProtocol": p["IpProtocol"], **{k: p[k] for k in ("FromPort", "ToPort") if k in p}}
        for cidr in p.get("IpRanges", []):
            rules.append({**base, "CidrIp": cidr["CidrIp"], **_description(cidr)})
        for pair in p.get("UserIdGroupPairs", []):
            rules.append({**base, "SourceSecurityGroupId": pair["GroupId"], **_description(pair)})
    return rules


def _description(item: dict[str, Json]) -> dict[str, Json]:
    return {"Description": item["Description"]} if "Description" in item else {}


def _security_group(r: _Read) -> dict[str, Json]:
    (group,) = r.client("ec2").describe_security_groups(GroupIds=[r.physical_id])["SecurityGroups"]
    return {
        "GroupDescription": group["Description"],
        "VpcId": group.get("VpcId"),
        "SecurityGroupEgress": _permissions(group.get("IpPermissionsEgress", [])),
        "SecurityGroupIngress": _permissions(group.get("IpPermissions", [])),
    }


def _security_group_ingress(r: _Read) -> dict[str, Json]:
    (group,) = r.client("ec2").describe_security_groups(GroupIds=[r.expected["GroupId"]])["SecurityGroups"]
    rules = _permissions(group.get("IpPermissions", []))
    # The rule is found by what identifies it; its description is then compared like any property.
    wanted = {k: v for k, v in r.expected.items() if k not in ("GroupId", "Description")}
    found = next((rule for rule in rules if _contains(_canon(rule), _canon(wanted))), None)
    return {"GroupId": r.expected["GroupId"], **(found or {"rules in the group": rules})}


def _flow_log(r: _Read) -> dict[str, Json]:
    (flow_log,) = r.client("ec2").describe_flow_logs(FlowLogIds=[r.physical_id])["FlowLogs"]
    return {
        "DeliverLogsPermissionArn": flow_log.get("DeliverLogsPermissionArn"),
        "LogDestinationType": flow_log.get("LogDestinationType"),
        "LogGroupName": flow_log.get("LogGroupName"),
        "ResourceId": flow_log.get("ResourceId"),
        "ResourceType": r.expected.get("ResourceType") if flow_log.get("ResourceId", "").startswith("vpc-") else None,
        "TrafficType": flow_log.get("TrafficType"),
    }


def _name_of(arn_or_name: Json) -> Json:
    """``my-fn`` of ``arn:aws:lambda:...:function:my-fn`` (a template may give either)."""
    return arn_or_name.rsplit(":", 1)[-1] if isinstance(arn_or_name, str) else arn_or_name


def _event_source_mapping(r: _Read) -> dict[str, Json]:
    mapping = r.client("lambda").get_event_source_mapping(UUID=r.physical_id)
    mapping.pop("ResponseMetadata", None)
    actual: dict[str, Json] = {**mapping, "FunctionName": _name_of(mapping.get("FunctionArn"))}
    actual["Enabled"] = mapping.get("State") in ("Enabled", "Enabling", "Creating")
    destination = mapping.get("DestinationConfig") or {}
    if destination.get("OnFailure", {}).get("Destination"):
        actual["DestinationConfig"] = {"OnFailure": {"Destination": destination["OnFailure"]["Destination"]}}
    if "FunctionName" in r.expected:
        r.expected["FunctionName"] = _name_of(r.expected["FunctionName"])
    return actual


def _auto_scaling_group(r: _Read) -> dict[str, Json]:
    (group,) = r.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[r.physical_id])[
        "AutoScalingGroups"
    ]
    actual: dict[str, Json] = {**group, "Cooldown": group.get("DefaultCooldown")}
    actual["VPCZoneIdentifier"] = [s for s in str(group.get("VPCZoneIdentifier") or "").split(",") if s]
    template = group.get("LaunchTemplate")
    if template:
        actual["LaunchTemplate"] = {**template, "Version": str(template.get("Version"))}
    return actual


def _scaling_policy(r: _Read) -> dict[str, Json]:
    group = r.expected.get("AutoScalingGroupName")
    policies = r.client("autoscaling").describe_policies(AutoScalingGroupName=group)["ScalingPolicies"]
    found = next((p for p in policies if r.physical_id in (p.get("PolicyARN"), p.get("PolicyName"))), None)
    return dict(found) if found else {"policies of the group": [p.get("PolicyName") for p in policies]}


def _launch_template(r: _Read) -> dict[str, Json]:
    ec2 = r.client("ec2")
    (version,) = ec2.describe_launch_template_versions(LaunchTemplateId=r.physical_id, Versions=["$Latest"])[
        "LaunchTemplateVersions"
    ]
    return {
        "LaunchTemplateName": version.get("LaunchTemplateName"),
        "LaunchTemplateData": version["LaunchTemplateData"],
    }


def _instance_profile(r: _Read) -> dict[str, Json]:
    profile = r.client("iam").get_instance_profile(InstanceProfileName=r.physical_id)["InstanceProfile"]
    return {
        "InstanceProfileName": profile["InstanceProfileName"],
        "Path": profile.get("Path"),
        "Roles": [role["RoleName"] for role in profile.get("Roles", [])],
    }


def _internet_gateway(r: _Read) -> dict[str, Json]:
    (gateway,) = r.client("ec2").describe_internet_gateways(InternetGatewayIds=[r.physical_id])["InternetGateways"]
    return dict(gateway)  # it has no property but Tags: its existence is what is verified


def _gateway_attachment(r: _Read) -> dict[str, Json]:
    gateway_id = r.expected.get("InternetGatewayId")
    if gateway_id is None:
        return {"VpnGatewayId": r.expected.get("VpnGatewayId"), "VpcId": "(VPN gateways are not read back)"}
    (gateway,) = r.client("ec2").describe_internet_gateways(InternetGatewayIds=[gateway_id])["InternetGateways"]
    vpcs = [a["VpcId"] for a in gateway.get("Attachments", [])]
    return {
        "InternetGatewayId": gateway_id,
        "VpcId": r.expected.get("VpcId") if r.expected.get("VpcId") in vpcs else vpcs,
    }


def _route(r: _Read) -> dict[str, Json]:
    (table,) = r.client("ec2").describe_route_tables(RouteTableIds=[r.expected["RouteTableId"]])["RouteTables"]
    destination = r.expected.get("DestinationCidrBlock") or r.expected.get("DestinationIpv6CidrBlock")
    routes = table.get("Routes", [])
    found = next(
        (
            route
            for route in routes
            if destination in (route.get("DestinationCidrBlock"), route.get("DestinationIpv6CidrBlock"))
        ),
        None,
    )
    if found is None:
        return {"RouteTableId": r.expected["RouteTableId"], "routes in the table": routes}
    return {**found, "RouteTableId": r.expected["RouteTableId"]}


def _eip(r: _Read) -> dict[str, Json]:
    ec2 = r.client("ec2")
    key = "AllocationIds" if r.physical_id.startswith("eipalloc-") else "PublicIps"
    (address,) = ec2.describe_addresses(**{key: [r.physical_id]})["Addresses"]
    return dict(address)


def _nat_gateway(r: _Read) -> dict[str, Json]:
    (gateway,) = r.client("ec2").describe_nat_gateways(NatGatewayIds=[r.physical_id])["NatGateways"]
    addresses = gateway.get("NatGatewayAddresses", [])
    return {
        **gateway,
        "AllocationId": addresses[0].get("AllocationId") if addresses else None,
        "ConnectivityType": gateway.get("ConnectivityType", "public"),
    }


def _stream_consumer(r: _Read) -> dict[str, Json]:
    consumer = r.client("kinesis").describe_stream_consumer(ConsumerARN=r.physical_id)["ConsumerDescription"]
    return {"ConsumerName": consumer["ConsumerName"], "StreamARN": consumer["StreamARN"]}


def _flink_application(r: _Read) -> dict[str, Json]:
    """DescribeApplication, written back in the template's shape (each ``...Description`` as its property)."""
    detail = r.client("kinesisanalyticsv2").describe_application(ApplicationName=r.physical_id)["ApplicationDetail"]
    config = detail.get("ApplicationConfigurationDescription", {})
    code = config.get("ApplicationCodeConfigurationDescription", {})
    location = code.get("CodeContentDescription", {}).get("S3ApplicationCodeLocationDescription", {})
    flink = config.get("FlinkApplicationConfigurationDescription", {})

    def settings(description: dict[str, Json], *names: str) -> dict[str, Json]:
        return {name: description[name] for name in names if name in description}

    run = config.get("RunConfigurationDescription", {})
    restore = run.get("ApplicationRestoreConfigurationDescription")
    actual_config: dict[str, Json] = {
        "ApplicationCodeConfiguration": {
            "CodeContentType": code.get("CodeContentType"),
            "CodeContent": {"S3ContentLocation": settings(location, "BucketARN", "FileKey", "ObjectVersion")},
        },
        "EnvironmentProperties": {
            "PropertyGroups": config.get("EnvironmentPropertyDescriptions", {}).get("PropertyGroupDescriptions", [])
        },
        "FlinkApplicationConfiguration": {
            "CheckpointConfiguration": settings(
                flink.get("CheckpointConfigurationDescription", {}),
                "ConfigurationType",
                "CheckpointingEnabled",
                "CheckpointInterval",
                "MinPauseBetweenCheckpoints",
            ),
            "MonitoringConfiguration": settings(
                flink.get("MonitoringConfigurationDescription", {}), "ConfigurationType", "LogLevel", "MetricsLevel"
            ),
            "ParallelismConfiguration": settings(
                flink.get("ParallelismConfigurationDescription", {}),
                "ConfigurationType",
                "Parallelism",
                "ParallelismPerKPU",
                "AutoScalingEnabled",
            ),
        },
        "ApplicationSnapshotConfiguration": config.get("ApplicationSnapshotConfigurationDescription"),
        "ApplicationSystemRollbackConfiguration": config.get("ApplicationSystemRollbackConfigurationDescription"),
    }
    if config.get("ApplicationEncryptionConfigurationDescription"):
        actual_config["ApplicationEncryptionConfiguration"] = config["ApplicationEncryptionConfigurationDescription"]
    if config.get("VpcConfigurationDescriptions"):
        actual_config["VpcConfigurations"] = [
            settings(v, "SubnetIds", "SecurityGroupIds") for v in config["VpcConfigurationDescriptions"]
        ]
    actual: dict[str, Json] = {
        "ApplicationName": detail["ApplicationName"],
        "RuntimeEnvironment": detail["RuntimeEnvironment"],
        "ServiceExecutionRole": detail.get("ServiceExecutionRole"),
        "ApplicationConfiguration": actual_config,
    }
    if run:
        actual["RunConfiguration"] = {
            **({"ApplicationRestoreConfiguration": restore} if restore else {}),
            **(
                {"FlinkRunConfiguration": run["FlinkRunConfigurationDescription"]}
                if "FlinkRunConfigurationDescription" in run
                else {}
            ),
        }
    return actual


def _flink_logging_option(r: _Read) -> dict[str, Json]:
    name = r.expected["ApplicationName"]
    detail = r.client("kinesisanalyticsv2").describe_application(ApplicationName=name)["ApplicationDetail"]
    wanted = r.expected["CloudWatchLoggingOption"]["LogStreamARN"]
    options = [o for o in detail.get("CloudWatchLoggingOptionDescriptions", []) if o["LogStreamARN"] == wanted]
    return {
        "ApplicationName": detail["ApplicationName"],
        "CloudWatchLoggingOption": {"LogStreamARN": options[0]["LogStreamARN"]} if options else None,
    }


READERS: dict[str, Callable[[_Read], dict[str, Json]]] = {
    "AWS::SQS::Queue": _queue,
    "AWS::SQS::QueuePolicy": _queue_policy,
    "AWS::SNS::Topic": _topic,
    "AWS::SNS::TopicPolicy": _topic_policy,
    "AWS::SNS::Subscription": _subscription,
    "AWS::Kinesis::Stream": _stream,
    "AWS::S3::Bucket": _bucket,
    "AWS::S3::BucketPolicy": _bucket_policy,
    "AWS::KinesisFirehose::DeliveryStream": _delivery_stream,
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::AmazonMQ::Broker": _broker,
    "AWS::KMS::Key": _key,
    "AWS::IAM::Role": _role,
    "AWS::IAM::Policy": _iam_policy,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::Logs::LogStream": _log_stream,
    "AWS::Logs::MetricFilter": _metric_filter,
    "AWS::Logs::ResourcePolicy": _logs_resource_policy,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::Lambda::Function": _function,
    "AWS::Lambda::Permission": _lambda_permission,
    "AWS::EC2::VPC": _vpc,
    "AWS::EC2::Subnet": _subnet,
    "AWS::EC2::RouteTable": _route_table,
    "AWS::EC2::SubnetRouteTableAssociation": _route_table_association,
    "AWS::EC2::SecurityGroup": _security_group,
    "AWS::EC2::SecurityGroupIngress": _security_group_ingress,
    "AWS::EC2::FlowLog": _flow_log,
    "AWS::EC2::InternetGateway": _internet_gateway,
    "AWS::EC2::VPCGatewayAttachment": _gateway_attachment,
    "AWS::EC2::Route": _route,
    "AWS::EC2::EIP": _eip,
    "AWS::EC2::NatGateway": _nat_gateway,
    "AWS::EC2::LaunchTemplate": _launch_template,
    "AWS::IAM::InstanceProfile": _instance_profile,
    "AWS::AutoScaling::AutoScalingGroup": _auto_scaling_group,
    "AWS::AutoScaling::ScalingPolicy": _scaling_policy,
    "AWS::Lambda::EventSourceMapping": _event_source_mapping,
    "AWS::Kinesis::StreamConsumer": _stream_consumer,
    "AWS::KinesisAnalyticsV2::Application": _flink_application,
    "AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption": _flink_logging_option,
}

__all__ = [
    "NOT_STORED",
    "NOT_STORED_CHECKED",
    "READERS",
    "Finding",
    "VerificationError",
    "VerificationReport",
    "not_stored_for",
    "verify",
]
