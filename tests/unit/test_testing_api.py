"""decoupling_constructs.testing is split into deploy, completion and lookup modules behind one public surface."""

from __future__ import annotations

import importlib

import pytest

import decoupling_constructs.testing as testing

# Every public name of ``decoupling_constructs.testing`` before the split (users import these), and the module
# that defines it now.
PUBLIC = {
    "BOOTSTRAP_VERSION": "deploy",
    "BOOTSTRAP_VERSION_PARAMETER": "deploy",
    "COMPLETED_TYPES": "completion",
    "CREATED_FIXUPS": "completion",
    "LABELLED_COMPLETIONS": "completion",
    "Deployment": "lookup",
    "Emulator": "emulators",
    "Finding": "verify",
    "Json": "lookup",
    "NOT_STORED": "verify",
    "NO_RUNTIME_BEHAVIOUR": "lookup",
    "PreflightError": "preflight",
    "PreflightReport": "preflight",
    "UnsupportedResourceError": "lookup",
    "VerificationError": "verify",
    "VerificationReport": "verify",
    "cdk_deploy": "emulators",
    "complete_deployment": "deploy",
    "complete_http_subscriptions": "completion",
    "deploy_to_moto": "deploy",
    "describe_deployment": "deploy",
    "ministack": "emulators",
    "moto_server": "emulators",
    "not_stored_for": "verify",
    "preflight": "preflight",
    "templates_from": "preflight",
    "verify": "verify",
}


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_name_is_importable_from_the_package(name: str) -> None:
    module = importlib.import_module(f"decoupling_constructs.testing.{PUBLIC[name]}")
    assert getattr(testing, name) is getattr(module, name)


def test_all_lists_exactly_the_public_names() -> None:
    assert sorted(testing.__all__) == sorted(PUBLIC)


def test_the_http_subscription_completion_is_for_ministack_only() -> None:
    """On moto (or AWS) CloudFormation's subscription is the one to keep: the completion refuses to run."""
    deployment = testing.Deployment(
        stack_name="S", region="us-east-1", account="123456789012", template={}, resources={}, outputs={}, completed={}
    ).with_emulator("moto 5.2.5")
    with pytest.raises(ValueError, match=r"completes MiniStack's CloudFormation, not moto 5\.2\.5's"):
        testing.complete_http_subscriptions(deployment)
    assert deployment.completions == {}
