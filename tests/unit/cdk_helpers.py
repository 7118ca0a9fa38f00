"""What every template test needs: stacks in each kind of app a user has, and logical ids."""

from __future__ import annotations

import os

import aws_cdk as cdk

from stacks import app_context

# An environment-bound stack's account and region.
BOUND_ENV = cdk.Environment(account="111111111111", region="eu-west-1")

# The apps users put the constructs in: a bare ``cdk.App()`` (no feature flags: unit tests, older
# cdk.json files) or one with cdk.json's recommended flags, each with env-agnostic or environment-bound stacks.
ALL_APP_VARIANTS = ("bare-agnostic", "flags-agnostic", "bare-bound", "flags-bound")
# DECOUPLING_APP_VARIANTS (comma-separated) runs a part of the matrix: `make test-pythons` runs two
# opposite corners on the other Pythons, where the interpreter, not the app, is under test.
APP_VARIANTS = (
    tuple(
        variant
        for variant in os.environ.get("DECOUPLING_APP_VARIANTS", ",".join(ALL_APP_VARIANTS)).split(",")
        if variant in ALL_APP_VARIANTS
    )
    or ALL_APP_VARIANTS
)


def new_app(variant: str = "flags-agnostic", **options: object) -> cdk.App:
    flags, _ = variant.split("-")
    return cdk.App(context=app_context() if flags == "flags" else None, **options)  # type: ignore[arg-type]


def stack_env(variant: str) -> cdk.Environment | None:
    return BOUND_ENV if variant.endswith("-bound") else None


def new_stack(variant: str = "flags-agnostic") -> cdk.Stack:
    """A stack named "Test" in an app of ``variant`` (default: cdk.json's flags, env-agnostic, as the
    reference app and `cdk synth` use)."""
    return cdk.Stack(new_app(variant), "Test", env=stack_env(variant))


def lid(stack: cdk.Stack, construct: object) -> str:
    """The logical id of an L1, or of an L2's resource."""
    element = construct if isinstance(construct, cdk.CfnElement) else construct.node.default_child  # type: ignore[attr-defined]
    return str(stack.resolve(stack.get_logical_id(element)))
