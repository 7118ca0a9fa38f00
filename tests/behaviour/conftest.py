"""Session fixtures for the real-deploy behaviour tests: each emulator starts once per test process (pytest-xdist
runs one per worker), on 127.0.0.1 and a free port, and stops when the session ends, whatever happened."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from decoupling_constructs.testing import Deployment, deploy_to_moto
from decoupling_constructs.testing.emulators import Emulator, cdk_deploy, ministack, moto_server
from stacks.demo import EMULATOR_FOR

MINISTACK_STACKS = [name for name, (emulator, _) in EMULATOR_FOR.items() if emulator == "ministack"]
MOTO_STACKS = [name for name, (emulator, _) in EMULATOR_FOR.items() if emulator == "moto"]


@pytest.fixture(scope="session")
def on_ministack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Emulator, dict[str, Deployment]]]:
    """The MiniStack stacks deployed by the real CLI (`cdk bootstrap`, then `cdk deploy`), synthesized as the demo
    deploys them (``stacks.demo.synth``): the reference stacks, and DecouplingConsumers without the Powertools
    layer, whose ARN is a public SSM parameter MiniStack cannot serve (the preflight refuses it; MiniStack runs
    the handlers on its own interpreter, which has Powertools)."""
    from stacks.demo import synth

    logs = tmp_path_factory.mktemp("ministack")
    assembly, templates = synth(tmp_path_factory.mktemp("emulator-cdk.out"), MINISTACK_STACKS)
    with ministack(log_file=logs / "ministack.log") as emulator:
        cdk_deploy(assembly, MINISTACK_STACKS, emulator, log_file=logs / "cdk.log")
        yield emulator, {name: emulator.deployment(name, templates[name]) for name in MINISTACK_STACKS}


@pytest.fixture(scope="session")
def on_moto_server(reference_templates: dict[str, dict]) -> Iterator[tuple[Emulator, dict[str, Deployment]]]:
    """The stacks no other emulator creates (AmazonMQ), deployed into a moto server by the library's helper."""
    with moto_server() as emulator:
        yield (
            emulator,
            {
                name: deploy_to_moto(reference_templates[name], stack_name=name, endpoint_url=emulator.endpoint_url)
                for name in MOTO_STACKS
            },
        )
