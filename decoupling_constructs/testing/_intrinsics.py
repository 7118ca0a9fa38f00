"""A small evaluator of CloudFormation intrinsic functions over a deployed stack.

It resolves the properties of resources that moto's CloudFormation skips, so the
test helper can complete them with public boto3 calls.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Json = Any


class UnresolvedReference(LookupError):
    """A ``Ref``/``Fn::GetAtt`` names a resource that does not exist (yet)."""


class ResolveContext:
    """What intrinsics resolve against: physical ids, types, parameters, pseudo-parameters."""

    def __init__(
        self,
        *,
        physical_ids: Mapping[str, str],
        resource_types: Mapping[str, str],
        parameters: Mapping[str, str],
        conditions: Mapping[str, Json],
        region: str,
        account: str,
        stack_name: str,
        stack_id: str,
        get_att: Callable[[str, str, str, str], Json],
        import_value: Callable[[str], Json] | None = None,
    ) -> None:
        self.physical_ids = physical_ids
        self.resource_types = resource_types
        self.parameters = parameters
        self.conditions = conditions
        self.pseudo = {
            "AWS::Region": region,
            "AWS::AccountId": account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": stack_name,
            "AWS::StackId": stack_id,
            "AWS::NoValue": None,
        }
        self._get_att = get_att
        self._import_value = import_value

    def ref(self, name: str) -> Json:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.physical_ids:
            return self.physical_ids[name]
        raise UnresolvedReference(name)

    def get_att(self, logical_id: str, attribute: str) -> Json:
        if logical_id not in self.physical_ids:
            raise UnresolvedReference(logical_id)
        return self._get_att(self.resource_types[logical_id], self.physical_ids[logical_id], attribute, logical_id)

    def import_value(self, export_name: str) -> Json:
        """``Fn::ImportValue``: the value another stack exported under ``export_name``."""
        if self._import_value is None:
            raise NotImplementedError(
                f"intrinsic Fn::ImportValue ({export_name}) needs the emulator's exports, and this context has none"
            )
        return self._import_value(export_name)

    def condition(self, name: str) -> bool:
        return bool(resolve(self.conditions[name], self))


# ``${Name}`` is a variable, ``${!Literal}`` an escape for the literal ``${Literal}``: both in one pass,
# so that substituted values are inserted as they are.
_SUB_VAR = re.compile(r"\$\{(![^}]*|[^!}][^}]*)\}")


def _sub(template: str, variables: Mapping[str, Json], ctx: ResolveContext) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in variables:
            return _text(resolve(variables[name], ctx))
        if "." in name and not name.startswith("AWS::"):
            logical_id, attribute = name.split(".", 1)
            return _text(ctx.get_att(logical_id, attribute))
        return _text(ctx.ref(name))

    return _SUB_VAR.sub(replace, template)


def _text(value: Json) -> str:
    """A scalar as CloudFormation writes it into a string (booleans lower-case)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def resolve(value: Json, ctx: ResolveContext) -> Json:
    """Resolve every intrinsic in ``value``; ``AWS::NoValue`` removes the key or item."""
    if isinstance(value, list):
        items = [resolve(item, ctx) for item in value]
        return [item for item in items if item is not None]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            return ctx.ref(arg)
        if key == "Fn::GetAtt":
            logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            return ctx.get_att(logical_id, attribute)
        if key == "Fn::Join":
            delimiter, parts = arg
            return delimiter.join(_text(part) for part in resolve(parts, ctx))
        if key == "Fn::Sub":
            template, variables = (arg, {}) if isinstance(arg, str) else arg
            return _sub(template, variables, ctx)
        if key == "Fn::Select":
            index, items = arg
            return resolve(items, ctx)[int(resolve(index, ctx))]
        if key == "Fn::Split":
            delimiter, source = arg
            return str(resolve(source, ctx)).split(delimiter)
        if key == "Fn::If":
            name, when_true, when_false = arg
            return resolve(when_true if ctx.condition(name) else when_false, ctx)
        if key == "Fn::Equals":
            left, right = resolve(arg, ctx)
            return left == right
        if key == "Fn::Not":
            return not resolve(arg[0], ctx)
        if key == "Fn::And":
            return all(resolve(arg, ctx))
        if key == "Fn::Or":
            return any(resolve(arg, ctx))
        if key == "Condition":
            return ctx.condition(arg)
        if key == "Fn::GetAZs":
            region = resolve(arg, ctx) or ctx.pseudo["AWS::Region"]
            return [f"{region}{zone}" for zone in "abcd"]  # what moto's own Fn::GetAZs returns
        if key == "Fn::ImportValue":
            return ctx.import_value(str(resolve(arg, ctx)))
        if key.startswith("Fn::"):
            raise NotImplementedError(f"intrinsic {key} is not supported by the moto test helper")
    resolved = {key: resolve(item, ctx) for key, item in value.items()}
    return {key: item for key, item in resolved.items() if item is not None}
