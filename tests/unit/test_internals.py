"""Every reliance on aws-cdk-lib's or cdk-nag's internals goes through decoupling_constructs/_internals.py."""

from __future__ import annotations

import re
from pathlib import Path

LIBRARY = Path(__file__).resolve().parents[2] / "decoupling_constructs"

# A child looked up by an id the L2 chose (a string literal), a construct id of aws-cdk-lib's own
# ("@aws-cdk/..." as the tree spells it), or a cdk-nag finding id built by hand.
INTERNAL = re.compile(r"""find_child\(\s*["']|remove_child\(\s*["']|@aws-cdk--|\[Resource::""")


def test_only_internals_relies_on_internals() -> None:
    found = [
        f"{path.relative_to(LIBRARY)}:{number}: {line.strip()}"
        for path in sorted(LIBRARY.rglob("*.py"))
        if path.name != "_internals.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if INTERNAL.search(line)
    ]
    assert found == []


def test_each_function_names_the_versions_it_was_verified_against() -> None:
    import ast

    tree = ast.parse((LIBRARY / "_internals.py").read_text())
    undated = [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and not re.search(r"(aws-cdk-lib|cdk-nag) \d+\.\d+\.\d+", (ast.get_docstring(node) or ""))
    ]
    assert undated == []


def test_lookups_find_the_children_the_l2s_make() -> None:
    """What the functions rely on holds in the installed aws-cdk-lib (the floor and the pin both run this)."""
    import aws_cdk as cdk
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_sqs as sqs

    from decoupling_constructs import _internals

    stack = cdk.Stack(cdk.App(), "Stack")
    queue, role = sqs.Queue(stack, "Queue"), iam.Role(stack, "Role", assumed_by=iam.AccountRootPrincipal())
    assert _internals.queue_policy(queue) is None and _internals.role_default_policy(role) is None
    queue.add_to_resource_policy(iam.PolicyStatement(actions=["sqs:SendMessage"], principals=[iam.AnyPrincipal()]))
    role.add_to_principal_policy(iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[queue.queue_arn]))
    assert isinstance(_internals.queue_policy(queue), sqs.QueuePolicy)
    assert isinstance(_internals.role_default_policy(role), iam.Policy)
