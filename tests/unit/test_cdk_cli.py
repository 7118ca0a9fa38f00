"""cdk_cli() finds the project's CDK CLI, and tells a user outside this repository how to get the pinned one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from decoupling_constructs.testing.emulators import CDK_CLI_VERSION, CdkError, Emulator, cdk_cli, run_cdk

ROOT = Path(__file__).resolve().parents[2]


def test_the_version_named_is_package_jsons_pin() -> None:
    assert json.loads((ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"] == CDK_CLI_VERSION


def test_a_project_without_the_cli_is_told_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(CdkError) as raised:
        cdk_cli()
    message = str(raised.value)
    assert f"npm install --save-dev aws-cdk@{CDK_CLI_VERSION}" in message
    assert str(tmp_path / "node_modules" / ".bin" / "cdk") in message
    assert "npm ci" not in message


def test_the_projects_own_cli_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli = tmp_path / "node_modules" / ".bin" / "cdk"
    cli.parent.mkdir(parents=True)
    cli.write_text("#!/bin/sh\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert cdk_cli() == str(cli)


def test_this_repository_finds_its_pinned_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert cdk_cli() == str(ROOT / "node_modules" / ".bin" / "cdk")


def test_a_failed_deploy_names_every_stack_and_the_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `cdk deploy Shared Legacy Consumer` failing in Consumer was reported as "cdk deploy Shared failed".
    cli = tmp_path / "node_modules" / ".bin" / "cdk"
    cli.parent.mkdir(parents=True)
    cli.write_text("#!/bin/sh\necho 'Consumer failed to deploy' >&2\nexit 1\n")
    cli.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    emulator = Emulator("ministack", "1.5.33", "http://127.0.0.1:1", "000000000000", home=tmp_path / "home")
    log = tmp_path / "cdk.log"
    with pytest.raises(CdkError) as raised:
        run_cdk(
            ["deploy", "Shared", "Legacy", "Consumer", "--app", "cdk.out", "--method=direct"], emulator, log_file=log
        )
    message = str(raised.value)
    assert message.startswith(f"cdk deploy Shared Legacy Consumer failed (exit 1; full output in {log})")
    assert "Consumer failed to deploy" in message and "--app" not in message.splitlines()[0]
