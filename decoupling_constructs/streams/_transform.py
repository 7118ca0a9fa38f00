"""Firehose Lambda transforms and dynamic-partitioning extraction, for every delivery stream the library builds.

The public value is :class:`LambdaTransform`; the helpers below are what a construct that builds a Firehose
delivery stream (S3, HTTP endpoint, OpenSearch, Redshift...) calls to use it::

    from decoupling_constructs.streams._transform import (
        TRANSFORM, PARTITION_BY, TRANSFORM_ALARM_KEYS, LambdaTransform, add_transform_alarms, render_processing,
    )

    RULES = r.Rules({..., "transform": TRANSFORM, "partition_by": PARTITION_BY}) | ALARM_PROPS

    class StreamToX(PatternConstruct):
        ALARM_KEYS = (..., *TRANSFORM_ALARM_KEYS)

        @r.guarded(RULES)
        def __init__(self, scope, construct_id, *, transform: LambdaTransform | None = None, ...):
            ...
            cfn = delivery_stream.node.default_child          # a firehose.CfnDeliveryStream
            processing = render_processing(self, transform, self.role, dependent=delivery_stream)
            if processing is not None:
                cfn.add_property_override("HttpEndpointDestinationConfiguration.ProcessingConfiguration", processing)
            if transform is not None:
                add_transform_alarms(alarms, transform)

* ``LambdaTransform(function, *, buffer_size=Size.mebibytes(1), buffer_interval=Duration.seconds(60), retries=3,
  partition_keys=())``: a frozen dataclass, checked where a construct takes it (``TRANSFORM``, a ``Fields``
  rule): ``function`` any ``lambda_.IFunction`` of the app whose known timeout is at most 5 minutes (Firehose's
  invocation cap; an imported function's timeout is unknown and not checked); ``buffer_size`` 0.2-3 MiB in whole
  KiB (rendered as fractional MB, e.g. ``"0.25"``: aws-cdk-lib's processor cannot say less than 1 MiB);
  ``buffer_interval`` 0-900 s; ``retries`` >= 0, always rendered (aws-cdk-lib drops 0); ``partition_keys``: the
  keys the function returns in ``metadata.partitionKeys``, for ``!{partitionKeyFromLambda:<key>}``.
* ``render_processing(owner, transform, role, *, prop="transform", partition_by=None, dependent=None)``: the
  CloudFormation ``ProcessingConfiguration`` (CloudFormation casing, a dict for ``add_property_override``) with
  the Lambda processor (LambdaArn, NumberOfRetries, BufferSizeInMBs, BufferIntervalInSeconds, RoleArn) and,
  with ``partition_by``, a ``MetadataExtraction`` processor (JQ-1.6) after it (it reads the transformed record);
  None when there is neither. It checks ``transform`` (naming ``owner`` and ``prop``) and grants ``role``
  ``lambda:InvokeFunction`` and ``lambda:GetFunctionConfiguration`` on the function and its versions
  (``<arn>:*``) in an ``iam.Policy`` that ``dependent`` (the delivery stream) waits for.
* ``apply_processing(delivery_stream, owner, transform, role, *, prop="transform", partition_by=None,
  partitioned_prefix=None, destination="ExtendedS3DestinationConfiguration")``: ``render_processing`` set on the
  delivery stream's ``CfnDeliveryStream``, and with ``partitioned_prefix`` dynamic partitioning on and that prefix
  (give aws-cdk-lib's ``S3Bucket`` the prefix's static part: it refuses partition-key expressions).
* ``partition_by``: ``{"<key>": "<jq path>"}``, e.g. ``{"tenant": ".customer.tenant"}``, for
  ``!{partitionKeyFromQuery:<key>}`` (``PARTITION_BY`` is its rule).
* ``add_transform_alarms(alarms, transform)``: ``transform_errors`` and ``transform_throttles``, the function's
  Errors and Throttles (>= 1 a minute); add ``TRANSFORM_ALARM_KEYS`` to the construct's ``ALARM_KEYS``.
* ``transform_code(handler_file, module="index") -> lambda_.Code``: a CDK asset of ``handler_file`` as
  ``<module>.py`` beside the library's runtime (``decoupling_constructs.runtime``: ``firehose_transform`` and what it
  imports, no boto3 needed), for a handler written with the runtime decorator.
* ``lambda_partition_keys(transform)`` / ``query_partition_keys(partition_by)``: the keys each namespace defines,
  for a prefix check (``!{partitionKeyFromLambda:k}`` / ``!{partitionKeyFromQuery:k}``).

What records the function receives and must return (one result per ``recordId``, ``Ok``/``Dropped``/
``ProcessingFailed``, base64 data, ``metadata.partitionKeys``) is the runtime decorator's job:
``decoupling_constructs.runtime.firehose_transform``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import Duration, Size
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct, IConstruct

from .. import _internals, limits
from .. import _rules as r
from .._alarms import Alarms
from .._function import add_function_alarms, backing_function
from .._validate import is_token, seconds_text

MIN_BUFFER_BYTES = limits.FIREHOSE_TRANSFORM_MIN_BUFFER_KIB * 1024
MAX_BUFFER_BYTES = limits.FIREHOSE_TRANSFORM_MAX_BUFFER_MIB * 2**20
MAX_INVOCATION_SECONDS = limits.FIREHOSE_TRANSFORM_MAX_INVOCATION_SECONDS
DEFAULT_BUFFER_SIZE = Size.mebibytes(1)
DEFAULT_BUFFER_INTERVAL = Duration.seconds(60)
DEFAULT_RETRIES = 3
# Lambda's default function timeout (Lambda developer guide, "Configure Lambda function timeout": 3 seconds).
LAMBDA_DEFAULT_TIMEOUT_SECONDS = 3
# Firehose MetadataExtraction processor: JsonParsingEngine "JQ-1.6" (Firehose developer guide, "Partitioning keys
# with inline parsing"; ProcessorParameter JsonParsingEngine).
JQ_ENGINE = "JQ-1.6"
# aws-cdk-lib's MetadataExtractionQueryExceedsLimit: at most 50 keys in one query.
MAX_QUERY_KEYS = 50
TRANSFORM_ALARM_KEYS = ("transform_errors", "transform_throttles")
# A partition key's name: the library's restriction (the name sits inside !{...} in an S3 prefix and is a key
# of a JQ object, so no '}', ':', spaces or quotes): letters, digits, '_' and '-', 1-64 characters.
_KEY_PATTERN = r"[A-Za-z0-9_-]{1,64}"
# A JQ path for one key, the subset every JQ 1.6 runs: .a.b, .["k"], .[0], optionally | strftime("...") or a
# second path; refused: what would end the query's object early ('}' or ',' outside quotes).
_JQ_PATTERN = r"\.[^{},]*"


@dataclass(frozen=True)
class LambdaTransform:
    """A Lambda function Firehose calls on each buffered batch of records before delivery (see the module doc).

    :param function: the transform; its timeout (when known) at most 5 minutes.
    :param buffer_size: what Firehose buffers before calling it: 0.2-3 MiB in whole KiB; default 1 MiB.
    :param buffer_interval: or this long: 0-900 s; default 60 s.
    :param retries: invocation retries after a failure (0 included, always rendered); default 3.
    :param partition_keys: keys the function returns in ``metadata.partitionKeys`` (dynamic partitioning).
    """

    function: lambda_.IFunction
    buffer_size: Size = DEFAULT_BUFFER_SIZE
    buffer_interval: Duration = DEFAULT_BUFFER_INTERVAL
    retries: int = DEFAULT_RETRIES
    partition_keys: Sequence[str] = ()


def known_timeout_seconds(function: lambda_.IFunction) -> float | None:
    """The timeout of ``function`` (or of the function behind an alias or a version) when this app defines it;
    None when it is imported or a token."""
    target: Any = function
    if isinstance(target, lambda_.Alias):
        target = target.version
    if isinstance(target, lambda_.Version):
        target = target.lambda_
    backing = backing_function(target)
    if backing is None:
        return None
    resource = backing.node.default_child
    if not isinstance(resource, lambda_.CfnFunction):
        return None
    timeout = resource.timeout
    if timeout is None:
        return LAMBDA_DEFAULT_TIMEOUT_SECONDS
    if is_token(timeout):
        return None
    return float(timeout)


def _check_timeout(prop: str, value: object, ctx: r.Context) -> None:
    timeout = known_timeout_seconds(value)  # type: ignore[arg-type]
    if timeout is not None and timeout > MAX_INVOCATION_SECONDS:
        raise ValueError(
            f"{prop} must have a timeout of at most {MAX_INVOCATION_SECONDS // 60} minutes (Firehose invokes a "
            f"transform for at most 5 minutes: Firehose developer guide, 'Transform source data'), got "
            f"{r.show(value, ctx.scope)} with a timeout of {seconds_text(timeout)}"
        )


def _check_keys_unique(prop: str, value: object, ctx: r.Context) -> None:
    assert isinstance(value, list | tuple)
    repeated = sorted({k for k in value if list(value).count(k) > 1})
    if repeated:
        raise ValueError(f"{prop} must not repeat a key, got {', '.join(map(repr, repeated))} more than once")


_FUNCTION_TYPE = r.Interface("a lambda_.IFunction", ("function_arn", "metric_errors"), tokens="synth")
_KEYS = r.ListOf(
    r.Text("a partition key name: letters, digits, '_' or '-', 1-64 characters", pattern=_KEY_PATTERN),
    text="a list of partition key names",
)

#: The rules of a LambdaTransform's fields.
TRANSFORM_RULES = r.Rules(
    {
        "function": r.AllOf(
            rules=(
                _FUNCTION_TYPE,
                r.Custom(
                    _check_timeout,
                    "a lambda_.IFunction whose timeout is at most 5 minutes",
                    source="Firehose developer guide, Transform source data: Lambda invocation time up to 5 minutes",
                ),
            ),
            tokens="synth",
        ),
        "buffer_size": r.Bytes(
            MIN_BUFFER_BYTES,
            MAX_BUFFER_BYTES,
            whole="kibibytes",
            text="0.2-3 MiB (205-3072 KiB)",
            tokens="synth",
            why="it is rendered as a number of MB, which a token Size cannot give",
            source="Firehose ProcessorParameter BufferSizeInMBs: 0.2-3 MB",
        ),
        "buffer_interval": r.Seconds(
            0,
            limits.FIREHOSE_TRANSFORM_MAX_BUFFER_SECONDS,
            tokens="synth",
            why="the delivery-freshness alarm's threshold is computed from it",
            source="Firehose developer guide, Transform source data: 0-900 seconds",
        ),
        # No upper bound documented (ProcessorParameter): the rule bounds it only to a whole number >= 0.
        "retries": r.Int(0, 2**31 - 1, source="Firehose ProcessorParameter NumberOfRetries"),
        "partition_keys": r.AllOf(
            rules=(_KEYS, r.Custom(_check_keys_unique, "a list of distinct partition key names"))
        ),
    }
)
#: A construct's ``transform`` prop: a LambdaTransform or None.
TRANSFORM = r.Fields(LambdaTransform, TRANSFORM_RULES, "a LambdaTransform or None", optional=True, tokens="synth")


def _check_partition_by(prop: str, value: object, ctx: r.Context) -> None:
    assert isinstance(value, Mapping)
    if not value:
        raise ValueError(f"{prop} must name at least one key (or be None), got {{}}")


_PARTITION_BY_TYPE = r.MappingOf(
    r.Text("a partition key name: letters, digits, '_' or '-', 1-64 characters", pattern=_KEY_PATTERN),
    r.Text(
        "a JQ path such as '.customer.id' (no '{', '}' or ',')",
        pattern=_JQ_PATTERN,
        max_length=limits.FIREHOSE_MAX_PREFIX_LENGTH,
        tokens="synth",
        why="the prefix check reads the keys",
    ),
    max_length=MAX_QUERY_KEYS,
    text="a mapping of partition key names to JQ paths",
    optional=True,
    tokens="synth",
)
#: A construct's ``partition_by`` prop: ``{"<key>": "<jq path>"}`` or None.
PARTITION_BY = r.AllOf(
    rules=(
        _PARTITION_BY_TYPE,
        r.Custom(
            _check_partition_by,
            f"a mapping of 1-{MAX_QUERY_KEYS} partition key names to JQ paths (e.g. {{'tenant': '.tenant'}})",
            source="Firehose developer guide, Partitioning keys with inline parsing (JQ 1.6)",
            optional=True,
        ),
    ),
    optional=True,
    tokens="synth",
)


def transform_code(handler_file: str | Path, module: str = "index") -> lambda_.Code:
    """``handler_file`` (a Python file) as ``<module>.py`` beside the library's runtime, as a CDK asset: the code of
    a transform written with ``decoupling_constructs.runtime.firehose_transform`` (handler ``<module>.handler``)."""
    from ..queues._worker_bundle import lambda_bundle

    path = Path(handler_file)
    if not path.is_file():
        raise ValueError(f"transform_code needs the handler's Python file, got {str(handler_file)!r} (no such file)")
    return lambda_.Code.from_asset(str(lambda_bundle(path, module)))


def lambda_partition_keys(transform: LambdaTransform | None) -> tuple[str, ...]:
    return tuple(transform.partition_keys) if transform is not None else ()


def query_partition_keys(partition_by: Mapping[str, str] | None) -> tuple[str, ...]:
    return tuple(partition_by or {})


def buffer_size_mb(size: Size) -> str:
    """``size`` as Firehose's BufferSizeInMBs string: ``"1"``, ``"0.25"`` (exact: a whole number of KiB)."""
    mib = size.to_kibibytes() / 1024
    return str(int(mib)) if float(mib).is_integer() else repr(float(mib))


def render_processing(
    owner: Construct,
    transform: LambdaTransform | None,
    role: iam.IRole,
    *,
    prop: str = "transform",
    partition_by: Mapping[str, str] | None = None,
    dependent: IConstruct | None = None,
) -> dict[str, Any] | None:
    """The ``ProcessingConfiguration`` of a delivery stream (CloudFormation casing), or None without a transform
    and ``partition_by``; grants ``role`` what Firehose needs to call the transform (see the module doc)."""
    ctx = r.Context(scope=owner, owner=type(owner))
    try:
        TRANSFORM.check(prop, transform, ctx)
        PARTITION_BY.check("partition_by", partition_by, ctx)
    except Exception as error:  # named as the engine names it: `<Class> '<path>': <prop> must be ...`
        r.reraise(error, f"{type(owner).__name__} {owner.node.path!r}")
    processors: list[dict[str, Any]] = []
    if transform is not None:
        arn = transform.function.function_arn
        processors.append(
            {
                "Type": "Lambda",
                "Parameters": [
                    {"ParameterName": "LambdaArn", "ParameterValue": arn},
                    {"ParameterName": "NumberOfRetries", "ParameterValue": str(transform.retries)},
                    {"ParameterName": "BufferSizeInMBs", "ParameterValue": buffer_size_mb(transform.buffer_size)},
                    {
                        "ParameterName": "BufferIntervalInSeconds",
                        "ParameterValue": str(int(transform.buffer_interval.to_seconds())),
                    },
                    {"ParameterName": "RoleArn", "ParameterValue": role.role_arn},
                ],
            }
        )
        _grant_invoke(owner, transform.function, role, prop, dependent)
    if partition_by:
        query = "{" + ",".join(f"{key}:{path}" for key, path in partition_by.items()) + "}"
        processors.append(
            {
                "Type": "MetadataExtraction",
                "Parameters": [
                    {"ParameterName": "MetadataExtractionQuery", "ParameterValue": query},
                    {"ParameterName": "JsonParsingEngine", "ParameterValue": JQ_ENGINE},
                ],
            }
        )
    if not processors:
        return None
    return {"Enabled": True, "Processors": processors}


def apply_processing(
    delivery_stream: IConstruct,
    owner: Construct,
    transform: LambdaTransform | None,
    role: iam.IRole,
    *,
    prop: str = "transform",
    partition_by: Mapping[str, str] | None = None,
    partitioned_prefix: str | None = None,
    destination: str = "ExtendedS3DestinationConfiguration",
) -> None:
    """:func:`render_processing` set on ``delivery_stream`` (its ``CfnDeliveryStream``, under ``destination``), the
    stream waiting for the grant; with ``partitioned_prefix``, dynamic partitioning turned on and that prefix set
    (aws-cdk-lib's ``S3Bucket`` refuses partition-key expressions without its own dynamic partitioning, which
    cannot render this processor: give it the prefix's static part). Dynamic partitioning is fixed at creation."""
    from aws_cdk import aws_kinesisfirehose as firehose

    cfn = delivery_stream.node.default_child
    assert isinstance(cfn, firehose.CfnDeliveryStream), cfn
    processing = render_processing(
        owner, transform, role, prop=prop, partition_by=partition_by, dependent=delivery_stream
    )
    if processing is not None:
        cfn.add_property_override(f"{destination}.ProcessingConfiguration", processing)
    if partitioned_prefix is not None:
        cfn.add_property_override(f"{destination}.Prefix", partitioned_prefix)
        cfn.add_property_override(f"{destination}.DynamicPartitioningConfiguration", {"Enabled": True})


def _grant_invoke(
    owner: Construct, function: lambda_.IFunction, role: iam.IRole, prop: str, dependent: IConstruct | None
) -> None:
    arn = function.function_arn
    qualified = isinstance(function, lambda_.Alias | lambda_.Version)
    resources = [arn] if qualified else [arn, f"{arn}:*"]
    policy = iam.Policy(
        owner,
        _camel(prop) + "InvokePolicy",
        roles=[role],
        statements=[
            iam.PolicyStatement(
                sid="InvokeTheTransform",
                # AWS's example Firehose policy (Firehose developer guide, "Controlling access": grant access to
                # an S3 destination) lists both actions for a Lambda transform.
                actions=["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"],
                resources=resources,
            )
        ],
    )
    if dependent is not None:
        dependent.node.add_dependency(policy)  # the delivery stream must not call the function before the grant
    token = None if qualified else _internals.nag_function_arn_token(owner, function)
    if token is not None:
        from aws_cdk import Acknowledgment, Validations

        Validations.of(policy).acknowledge(
            Acknowledgment(
                id=_internals.nag_resource_finding_id("AwsSolutions-IAM5", f"{token}:*"),
                reason="Firehose may call the transform's published versions; the wildcard is confined to the "
                "versions of this one function, for InvokeFunction and GetFunctionConfiguration.",
            )
        )


def add_transform_alarms(alarms: Alarms, transform: LambdaTransform | None) -> None:
    """``transform_errors`` and ``transform_throttles`` on ``transform``'s function (nothing without one)."""
    if transform is None:
        return
    add_function_alarms(
        alarms,
        transform.function,
        keys=TRANSFORM_ALARM_KEYS,
        subject="The Firehose transform",
        errors="Firehose retries the batch, then writes it under the error prefix (processing-failed).",
        throttles="Firehose retries the batch, then writes it under the error prefix (processing-failed).",
    )


def no_partition_keys(destination: str) -> Callable[[Mapping[str, Any], r.Context], None]:
    """A relation: ``transform.partition_keys`` name S3 prefixes (dynamic partitioning), which ``destination``
    has none of."""

    def relation(values: Mapping[str, Any], ctx: r.Context) -> None:
        transform = values.get("transform")
        if isinstance(transform, LambdaTransform) and transform.partition_keys:
            raise ValueError(
                "transform.partition_keys name S3 prefixes (dynamic partitioning), which "
                f"{destination} has none of: leave them out, got {list(transform.partition_keys)!r}"
            )

    return relation


def transform_delay_seconds(transform: LambdaTransform | None) -> float:
    """How long a record may wait in the transform's buffer before the function sees it."""
    return transform.buffer_interval.to_seconds() if transform is not None else 0.0


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)


__all__ = [
    "DEFAULT_BUFFER_INTERVAL",
    "DEFAULT_BUFFER_SIZE",
    "DEFAULT_RETRIES",
    "PARTITION_BY",
    "TRANSFORM",
    "TRANSFORM_ALARM_KEYS",
    "TRANSFORM_RULES",
    "LambdaTransform",
    "add_transform_alarms",
    "apply_processing",
    "buffer_size_mb",
    "known_timeout_seconds",
    "lambda_partition_keys",
    "query_partition_keys",
    "render_processing",
    "transform_code",
    "transform_delay_seconds",
]
