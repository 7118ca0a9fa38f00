"""cdk_bootstrap: the CLI reads its app even for a named environment (cdk.json's app is synthesized without
``--app``) and refuses an app without stacks, so without an app a one-stack assembly stands in; with one, it is
passed as it is. (The real ``cdk bootstrap`` into MiniStack with the stand-in runs in tests/demo.)"""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

import pytest

from decoupling_constructs.testing import emulators
from decoupling_constructs.testing.emulators import Emulator, cdk_bootstrap


@pytest.fixture
def emulator(tmp_path: Path) -> Emulator:
    return Emulator("ministack", "1.5.33", "http://127.0.0.1:4599", "000000000000", home=tmp_path / "home")


def test_without_an_app_a_one_stack_assembly_stands_in(emulator: Emulator, monkeypatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(emulators, "run_cdk", lambda args, emulator, log_file=None: calls.append(list(args)) or "")
    cdk_bootstrap(emulator)
    (args,) = calls
    assert args[:2] == ["bootstrap", "aws://000000000000/us-east-1"]
    assert args[2] == "--app"
    app = Path(args[3])
    manifest = json.loads((app / "manifest.json").read_text())
    schema_major = importlib.metadata.version("aws-cdk.cloud-assembly-schema").split(".")[0]
    assert manifest["version"] == f"{schema_major}.0.0"
    (stack,) = manifest["artifacts"].values()
    assert stack["type"] == "aws:cloudformation:stack"
    assert stack["environment"] == "aws://000000000000/us-east-1"
    assert json.loads((app / stack["properties"]["templateFile"]).read_text()) == {"Resources": {}}
    assert app.is_relative_to(emulator.state_dir())


def test_a_synthesized_app_is_passed_as_it_is(emulator: Emulator, tmp_path: Path, monkeypatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(emulators, "run_cdk", lambda args, emulator, log_file=None: calls.append(list(args)) or "")
    cdk_bootstrap(emulator, app=tmp_path / "cdk.out")
    assert calls == [["bootstrap", "aws://000000000000/us-east-1", "--app", str(tmp_path / "cdk.out")]]
