"""Before a deploy into an emulator: every resource type, property and attribute of the templates that the emulator
will refuse or silently drop, each with its construct path, so that the user reads a list and not a rollback.

::

    report = preflight(templates_from(Path("cdk.out"), ["Network", "Orders"]), emulator)
    print(report.details())
    report.raise_for_refusals()      # PreflightError naming every refusal (cdk_deploy does this first)

Where the list comes from:

* resource types: asked of the emulator at run time. MiniStack: its ``ValidateTemplate`` API, sent one resource of
  each type the templates use (it answers ``Unrecognized resource types: [...]`` as its ``CreateStack`` would);
  moto: its CloudFormation's own type lookup, in this process (``moto.cloudformation.parsing``). moto skips a type
  it does not know; the helper completes some (``COMPLETED_TYPES``) after the deploy, the rest are refusals.
* ``Fn::GetAtt`` attributes: :data:`MISSING_ATTRIBUTES` (checked on each version in ``verify.NOT_STORED_CHECKED``),
  and, on moto, any attribute of a type it skips.
* SSM parameters that ``{{resolve:ssm:...}}`` dynamic references name (a Lambda layer from AWS's public parameter,
  say): asked of the running MiniStack, whose CloudFormation fails a resource whose reference it cannot resolve.
* properties: :data:`~decoupling_constructs.testing.verify.NOT_STORED` (what :func:`verify` reports as not
  stored), and on moto, a property holding a ``Ref`` to a skipped resource (moto drops it).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .completion import COMPLETED_TYPES, CREATED_FIXUPS
from .lookup import NO_RUNTIME_BEHAVIOUR, Json, _client
from .verify import emulator_name, not_stored_for

if TYPE_CHECKING:
    from .emulators import Emulator

# Fn::GetAtt attributes an emulator's CloudFormation does not give, although it creates the type:
# emulator name -> (resource type, attribute) -> what happens.
MISSING_ATTRIBUTES: dict[str, dict[tuple[str, str], str]] = {
    "ministack": {
        ("AWS::EC2::VPC", "CidrBlock"): "MiniStack's VPC has no CidrBlock attribute: the stack rolls back",
        ("AWS::EC2::VPC", "CidrBlockAssociations"): "MiniStack's VPC has no CidrBlockAssociations attribute",
        ("AWS::EC2::VPC", "Ipv6CidrBlocks"): "MiniStack's VPC has no Ipv6CidrBlocks attribute",
    },
    "moto": {
        ("AWS::SQS::Queue", "QueueUrl"): "moto's CloudFormation has no QueueUrl attribute (use Ref)",
    },
}


# Properties an emulator's CloudFormation refuses although it creates the type: emulator name -> (resource type,
# property) -> what happens.
REFUSED_PROPERTIES: dict[str, dict[tuple[str, str], str]] = {
    "ministack": {
        ("AWS::CloudWatch::Alarm", "Metrics"): "MiniStack's CloudWatch has no metric-math alarms (\"Properties.Metrics "
        '(metric math) is not supported"): the stack rolls back',
    },
}

# Types moto's CloudFormation skips although moto has an API for the service, and what that means: the stack
# completes and nothing exists (checked on moto 5.2.5; the type lookup itself is asked of moto at run time).
MOTO_SKIPPED_REASONS: dict[str, str] = {
    "AWS::KinesisAnalyticsV2::Application": "moto's CloudFormation has no Managed Flink application: the stack "
    "would report CREATE_COMPLETE with no application (and moto's kinesisanalyticsv2 API never starts one: it "
    "stays STARTING, StartApplication is not implemented); deploy a StreamProcessor to MiniStack",
    "AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption": "moto's CloudFormation has no Managed Flink "
    "logging option (the stack would complete without it); deploy a StreamProcessor to MiniStack",
}


@dataclass(frozen=True)
class PreflightFinding:
    stack: str
    path: str
    """The construct path (``aws:cdk:path`` metadata), else the logical id."""
    logical_id: str
    resource_type: str
    subject: str
    """``type``, ``property <name>`` or ``attribute <name>``."""
    reason: str

    def line(self) -> str:
        return f"{self.stack} {self.path} ({self.resource_type}) {self.subject}: {self.reason}"


@dataclass
class PreflightReport:
    emulator: str
    stacks: list[str]
    refused: list[PreflightFinding] = field(default_factory=list)
    """What makes the deploy fail, or leaves a resource missing that no helper completes."""
    dropped: list[PreflightFinding] = field(default_factory=list)
    """What deploys, but without a property (or skipped by moto and completed by the helper afterwards)."""

    @property
    def ok(self) -> bool:
        return not self.refused

    def summary(self) -> str:
        return (
            f"preflight of {', '.join(self.stacks)} for {self.emulator}: {len(self.refused)} refused, "
            f"{len(self.dropped)} dropped or completed after the deploy"
        )

    def details(self) -> str:
        lines = [self.summary()]
        lines += [f"  REFUSED {f.line()}" for f in self.refused]
        lines += [f"  dropped {f.line()}" for f in self.dropped]
        return "\n".join(lines)

    def raise_for_refusals(self) -> PreflightReport:
        if self.refused:
            raise PreflightError(self)
        return self


class PreflightError(RuntimeError):
    """The emulator would refuse part of the templates; ``report`` names every part, with its construct path."""

    def __init__(self, report: PreflightReport) -> None:
        super().__init__(report.details())
        self.report = report


def templates_from(cdk_out: Path, stack_names: Sequence[str] | None = None) -> dict[str, dict[str, Json]]:
    """Stack name -> template of the stacks in a synthesized cloud assembly (all of them by default). A name is
    the stack's name or its artifact id (what ``cdk deploy`` accepts)."""
    manifest = json.loads((cdk_out / "manifest.json").read_text())
    found: dict[str, dict[str, Json]] = {}
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        properties = artifact.get("properties", {})
        name = properties.get("stackName", artifact_id)
        if stack_names is None or name in stack_names or artifact_id in stack_names:
            found[name] = json.loads((cdk_out / properties["templateFile"]).read_text())
    missing = [n for n in stack_names or [] if n not in found and not _is_artifact(n, manifest)]
    if missing:
        raise KeyError(f"no stack {', '.join(missing)} in {cdk_out} (stacks: {', '.join(sorted(found))})")
    return found


def _is_artifact(name: str, manifest: dict[str, Json]) -> bool:
    return name in manifest.get("artifacts", {})


def preflight(templates: Mapping[str, dict[str, Json]], emulator: Emulator) -> PreflightReport:
    """What ``emulator`` will refuse or drop of ``templates`` (stack name -> template), before anything is deployed."""
    name = emulator_name(emulator.label)
    report = PreflightReport(emulator.label, list(templates))
    types = {r["Type"] for t in templates.values() for r in t.get("Resources", {}).values()} - NO_RUNTIME_BEHAVIOUR
    if name == "ministack":
        refused_types = _ministack_unrecognized(types, emulator)
        skipped_types: set[str] = set()
    elif name == "moto":
        refused_types = set()
        skipped_types = _moto_skipped(types)
    else:
        refused_types, skipped_types = set(), set()
    not_stored = not_stored_for(emulator.label)
    missing_parameters = (
        _ministack_missing_parameters(
            {p for t in templates.values() for _, p in _ssm_references(t.get("Resources", {}))}, emulator
        )
        if name == "ministack"
        else {}
    )
    missing_attributes = MISSING_ATTRIBUTES.get(name, {})
    for stack, template in templates.items():
        resources: dict[str, Json] = template.get("Resources", {})
        resource_types = {lid: r["Type"] for lid, r in resources.items()}

        def where(logical_id: str, stack: str = stack, resources: dict[str, Json] = resources) -> str:
            return str(resources.get(logical_id, {}).get("Metadata", {}).get("aws:cdk:path", logical_id))

        for logical_id, resource in resources.items():
            resource_type = resource["Type"]
            if resource_type in NO_RUNTIME_BEHAVIOUR:
                continue
            found = PreflightFinding(stack, where(logical_id), logical_id, resource_type, "type", "")
            if resource_type in refused_types:
                report.refused.append(
                    _reason(found, f"{emulator.label}'s CloudFormation does not know the type: the deploy fails")
                )
            elif resource_type in skipped_types and resource_type in COMPLETED_TYPES:
                report.dropped.append(
                    _reason(found, "moto's CloudFormation skips it; Emulator.deployment() completes it afterwards")
                )
            elif resource_type in skipped_types:
                report.refused.append(
                    _reason(
                        found,
                        MOTO_SKIPPED_REASONS.get(
                            resource_type, "moto's CloudFormation skips it and the helper cannot complete it"
                        ),
                    )
                )
            for prop in resource.get("Properties", {}):
                if (resource_type, prop) in REFUSED_PROPERTIES.get(name, {}):
                    report.refused.append(
                        _reason(found, REFUSED_PROPERTIES[name][(resource_type, prop)], subject=f"property {prop}")
                    )
                elif (resource_type, prop) in not_stored:
                    report.dropped.append(_reason(found, not_stored[(resource_type, prop)], subject=f"property {prop}"))
                elif name == "moto" and resource_type not in skipped_types and resource_type not in CREATED_FIXUPS:
                    refs = _refs(resource["Properties"][prop])
                    gone = sorted(r for r in refs if resource_types.get(r) in skipped_types)
                    if gone:
                        report.dropped.append(
                            _reason(
                                found,
                                f"it refers to {', '.join(where(g) for g in gone)}, which moto's CloudFormation "
                                "skips: moto drops the property",
                                subject=f"property {prop}",
                            )
                        )
        if name == "ministack":
            for logical_id, parameter in _ssm_references(resources):
                if parameter not in missing_parameters:
                    continue
                resource_type = resource_types[logical_id]
                report.refused.append(
                    PreflightFinding(
                        stack,
                        where(logical_id),
                        logical_id,
                        resource_type,
                        f"SSM parameter {parameter}",
                        missing_parameters[parameter],
                    )
                )
        for owner, target, attribute in _get_atts(template):
            target_type = resource_types.get(target)
            if target_type is None:
                continue
            found = PreflightFinding(stack, where(target), target, target_type, f"attribute {attribute}", "")
            used_in = f" (used by {where(owner)})" if owner in resources else f" (used by output {owner})"
            if (target_type, attribute) in missing_attributes:
                report.refused.append(_reason(found, missing_attributes[(target_type, attribute)] + used_in))
            elif target_type in skipped_types:
                report.refused.append(
                    _reason(
                        found,
                        "moto's CloudFormation skips the type, so Fn::GetAtt on it fails during the deploy" + used_in,
                    )
                )
    return report


def _reason(finding: PreflightFinding, reason: str, *, subject: str | None = None) -> PreflightFinding:
    return PreflightFinding(
        finding.stack, finding.path, finding.logical_id, finding.resource_type, subject or finding.subject, reason
    )


def _refs(value: Json) -> set[str]:
    """Logical ids named by ``Ref`` (and ``Fn::Sub`` ``${X}``) in ``value``."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                found.add(item)
            else:
                found |= _refs(item)
    elif isinstance(value, list):
        for item in value:
            found |= _refs(item)
    return found


def _get_atts(template: dict[str, Json]) -> Iterator[tuple[str, str, str]]:
    """(owner logical id or output name, target logical id, attribute) of every ``Fn::GetAtt``."""

    def walk(value: Json, owner: str) -> Iterator[tuple[str, str, str]]:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "Fn::GetAtt":
                    target, _, attribute = (
                        item.partition(".") if isinstance(item, str) else (item[0], ".", str(item[1]))
                    )
                    yield owner, target, attribute
                else:
                    yield from walk(item, owner)
        elif isinstance(value, list):
            for item in value:
                yield from walk(item, owner)

    for logical_id, resource in template.get("Resources", {}).items():
        yield from walk(resource.get("Properties", {}), logical_id)
    for output, body in template.get("Outputs", {}).items():
        yield from walk(body, output)


# A dynamic reference to an SSM parameter, resolved by CloudFormation at deploy time: {{resolve:ssm:NAME}} or
# {{resolve:ssm:NAME:VERSION}} (CloudFormation user guide, "Get values stored in other services using dynamic
# references"). A parameter name has no colon or brace.
_SSM_REFERENCE = re.compile(r"\{\{resolve:ssm:([^:{}]+)(?::\d+)?\}\}")


def _ssm_references(resources: Mapping[str, Json]) -> Iterator[tuple[str, str]]:
    """(logical id, parameter name) of every ``{{resolve:ssm:...}}`` in the resources' properties."""

    def strings(value: Json) -> Iterator[str]:
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from strings(item)
        elif isinstance(value, list):
            for item in value:
                yield from strings(item)

    for logical_id, resource in resources.items():
        for text in strings(resource.get("Properties", {})):
            for match in _SSM_REFERENCE.finditer(text):
                yield logical_id, match.group(1)


def _ministack_missing_parameters(names: set[str], emulator: Emulator) -> dict[str, str]:
    """Parameter name -> why, for each referenced SSM parameter the running MiniStack does not have: its
    CloudFormation fails the resource ("Dynamic reference ... could not be resolved") and the stack rolls back."""
    if not names:
        return {}
    ssm = _client("ssm", emulator.region, emulator.endpoint_url)
    missing: dict[str, str] = {}
    for name in sorted(names):
        try:
            ssm.get_parameter(Name=name)
        except ssm.exceptions.ParameterNotFound:
            reserved = name.startswith(("/aws/", "aws/"))
            missing[name] = (
                f"{emulator.label} has no such parameter, so the dynamic reference cannot be resolved: the deploy "
                + (
                    "fails (AWS's public parameters are not served and their names are reserved: leave what reads "
                    "it out of the copy you deploy there, e.g. a Lambda layer, whose code MiniStack's Lambda does not "
                    "load anyway)"
                    if reserved
                    else "fails (put the parameter there before deploying)"
                )
            )
    return missing


def _ministack_unrecognized(types: set[str], emulator: Emulator) -> set[str]:
    """The types MiniStack's ValidateTemplate refuses, asked of the running MiniStack."""
    if not types:
        return set()
    cloudformation = _client("cloudformation", emulator.region, emulator.endpoint_url)
    probe = {"Resources": {f"R{i}": {"Type": t} for i, t in enumerate(sorted(types))}}
    try:
        cloudformation.validate_template(TemplateBody=json.dumps(probe))
    except cloudformation.exceptions.ClientError as error:
        message = str(error.response.get("Error", {}).get("Message", ""))
        if "Unrecognized resource types: [" not in message:
            raise
        listed = message.split("Unrecognized resource types: [", 1)[1].split("]", 1)[0]
        return {t.strip() for t in listed.split(",") if t.strip()}
    return set()


def _moto_skipped(types: set[str]) -> set[str]:
    """The types this process's moto CloudFormation skips (its own type lookup), and custom resources: moto runs
    their Lambda in Docker only, so they never complete here."""
    from moto.cloudformation.parsing import resource_class_from_type

    with _quiet_logger("moto.cloudformation.parsing"):
        custom = {t for t in types if t.startswith("Custom::") or t == "AWS::CloudFormation::CustomResource"}
        return custom | {t for t in types - custom if resource_class_from_type(t) is None}


@contextlib.contextmanager
def _quiet_logger(name: str) -> Iterator[None]:
    logger = logging.getLogger(name)
    disabled = logger.disabled
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = disabled


__all__ = [
    "MISSING_ATTRIBUTES",
    "MOTO_SKIPPED_REASONS",
    "REFUSED_PROPERTIES",
    "PreflightError",
    "PreflightFinding",
    "PreflightReport",
    "preflight",
    "templates_from",
]
