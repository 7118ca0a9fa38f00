"""What every template test needs: a stack with the reference app's feature flags, and logical ids."""

from __future__ import annotations

import aws_cdk as cdk

from stacks import app_context


def new_stack() -> cdk.Stack:
    """A stack in an App with cdk.json's feature flags (restrictSqsDescryption, behind aws/aws-cdk#35418,
    among them), as the reference app and `cdk synth` use."""
    return cdk.Stack(cdk.App(context=app_context()), "Test")


def lid(stack: cdk.Stack, construct: object) -> str:
    """The logical id of an L1, or of an L2's resource."""
    element = construct if isinstance(construct, cdk.CfnElement) else construct.node.default_child  # type: ignore[attr-defined]
    return str(stack.resolve(stack.get_logical_id(element)))
