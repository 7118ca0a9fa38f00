"""Deploying a stack into moto (:func:`deploy_to_moto`), or reading back one an emulator's CloudFormation
created (:func:`describe_deployment`, :func:`complete_deployment`): the :class:`~.lookup.Deployment` of it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

from ._intrinsics import ResolveContext, UnresolvedReference, resolve
from .completion import COMPLETED_TYPES, CREATED_FIXUPS, _Completion, _undo
from .lookup import NO_RUNTIME_BEHAVIOUR, Deployment, Json, UnsupportedResourceError, _client, _get_att

# CDK's default synthesizer adds a parameter read from this SSM path (the bootstrap version).
BOOTSTRAP_VERSION_PARAMETER = "/cdk-bootstrap/hnb659fds/version"
BOOTSTRAP_VERSION = "30"


def _moto_mock_active() -> bool:
    try:
        from moto.core.models import MockAWS
    except ImportError:  # pragma: no cover - moto is required to use this module
        return False
    return bool(getattr(MockAWS, "_mocks_active", False))


def _moto_label() -> str:
    import moto

    return f"moto {moto.__version__}"


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
            # moto keeps no Outputs (nor exports) for a stack deployed by change set (`cdk deploy`): read the
            # export from the deployed stacks' own templates, resolved against their resources.
            found, notes = _export_from_templates(export_name, stack_name, region, account, endpoint_url)
            if found is None:
                raise UnsupportedResourceError(
                    f"Fn::ImportValue {export_name!r} in {stack_name}: no stack exports it "
                    f"(exports listed by the emulator: {', '.join(sorted(exports)) or 'none'}; "
                    f"{'; '.join(notes) or 'no deployed stack template declares it'})"
                )
            exports[export_name] = found
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


def _export_from_templates(
    export_name: str, importer: str, region: str, account: str, endpoint_url: str | None
) -> tuple[str | None, list[str]]:
    """The value of ``export_name`` read from the templates of the deployed stacks (and why not, if it is not)."""
    cloudformation = _client("cloudformation", region, endpoint_url)
    notes: list[str] = []
    with _quiet_moto():
        summaries = [
            s
            for page in cloudformation.get_paginator("list_stacks").paginate()
            for s in page.get("StackSummaries", [])
            if not s["StackStatus"].startswith("DELETE_") and s["StackName"] != importer
        ]
        for summary in summaries:
            name = summary["StackName"]
            body = cloudformation.get_template(StackName=name).get("TemplateBody")
            template = json.loads(body) if isinstance(body, str) else body
            outputs = (template or {}).get("Outputs", {})
            declared = [o for o in outputs.values() if "Export" in o]
            if not declared:
                continue
            listed = cloudformation.describe_stack_resources(StackName=name)["StackResources"]
            ctx = ResolveContext(
                physical_ids={
                    r["LogicalResourceId"]: r.get("PhysicalResourceId") or r["LogicalResourceId"]
                    for r in listed
                    if "LogicalResourceId" in r
                },
                resource_types={lid: r["Type"] for lid, r in template.get("Resources", {}).items()},
                parameters={k: v["Default"] for k, v in template.get("Parameters", {}).items() if "Default" in v},
                conditions=template.get("Conditions", {}),
                region=region,
                account=account,
                stack_name=name,
                stack_id=summary.get("StackId", name),
                get_att=lambda t, pid, att, lid: _get_att(t, pid, att, lid, region, account, endpoint_url),
            )
            for output in declared:
                try:
                    if resolve(output["Export"]["Name"], ctx) != export_name:
                        continue
                    return str(resolve(output["Value"], ctx)), notes
                except (UnresolvedReference, UnsupportedResourceError, KeyError) as error:
                    notes.append(f"{name}'s template declares exports this helper cannot resolve ({error})")
    return None, notes


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
