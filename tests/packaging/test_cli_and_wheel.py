"""The paths users take: the CDK CLI's `cdk synth`, and the built wheel imported into someone else's app."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from stacks import REFERENCE_STACKS

ROOT = Path(__file__).resolve().parents[2]
NODE_BANNER = "end-of-life"


def env_with_node(node_bin: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{node_bin}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["CDK_DISABLE_CLI_TELEMETRY"] = "true"
    env["CDK_DISABLE_VERSION_CHECK"] = "true"
    return env


@pytest.mark.slow
def test_cdk_cli_synthesizes_every_reference_stack(tmp_path: Path, cdk_cli: str, node_bin: Path) -> None:
    outdir = tmp_path / "cdk.out"
    result = subprocess.run(
        [cdk_cli, "synth", "--quiet", "--output", str(outdir)],
        cwd=ROOT,
        env=env_with_node(node_bin),
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert NODE_BANNER not in output
    for stack_id in REFERENCE_STACKS:
        template = json.loads((outdir / f"{stack_id}.template.json").read_text())
        assert template["Resources"]


# What a fresh clone does not have: venvs, node_modules, build output and caches.
NOT_IN_A_CLONE = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".venvs",
    "node_modules",
    "cdk.out",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".*cache",
    ".hypothesis",
)


def pip(*args: str | Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", *map(str, args), "--quiet", "--disable-pip-version-check"],
        check=True,
        timeout=300,
    )


def files_in(tree: Path) -> set[str]:
    return {str(path.relative_to(tree)) for path in tree.rglob("*")}


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository as a fresh clone has it (builds here leave the repository itself alone)."""
    copy = tmp_path_factory.mktemp("clone") / "decoupling-constructs"
    shutil.copytree(ROOT, copy, ignore=NOT_IN_A_CLONE)
    return copy


@pytest.fixture(scope="module")
def wheel(clone: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from the clone with pyproject's backend (pinned in requirements-dev.txt too)."""
    dist = tmp_path_factory.mktemp("dist")
    pip("wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", dist, clone)
    (built,) = dist.glob("decoupling_constructs-*.whl")
    return built


@pytest.mark.slow
def test_pip_install_of_a_clone_writes_nothing_into_it(clone: Path, tmp_path: Path) -> None:
    """`pip install ./decoupling-constructs` (the README's Quick start) leaves no build/ or *.egg-info behind."""
    before = files_in(clone)
    site = tmp_path / "site"
    pip("install", "--no-deps", "--no-build-isolation", "--target", site, clone)
    assert (site / "decoupling_constructs" / "py.typed").is_file()
    assert sorted(files_in(clone) ^ before) == []


@pytest.mark.slow
def test_wheel_ships_the_library_only(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "decoupling_constructs/py.typed" in names
    assert "decoupling_constructs/queues/reliable_queue.py" in names
    assert "decoupling_constructs/testing/__init__.py" in names
    assert not [n for n in names if n.startswith(("stacks/", "tests/", "app.py", "benchmarks/"))]
    # The demo (moto, rich, the reference stacks' names) stays with the reference app in the clone.
    assert [n for n in names if "demo" in n.rsplit("/", 1)[-1]] == []
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    requires = [
        line for line in zipfile.ZipFile(wheel).read(metadata).decode().splitlines() if line.startswith("Requires-Dist")
    ]
    assert any("aws-cdk-lib" in line for line in requires)
    assert any("constructs" in line for line in requires)
    assert not [line for line in requires if "rich" in line or "extra == 'demo'" in line.replace('"', "'")]


@pytest.mark.slow
def test_installed_wheel_works_in_a_users_stack(wheel: Path, tmp_path: Path, node_bin: Path) -> None:
    """Install the wheel outside the repo and synthesize a user's stack that imports ReliableQueue."""
    site = tmp_path / "site"
    pip("install", "--no-deps", "--target", site, wheel)
    user_app = tmp_path / "user_app"
    user_app.mkdir()
    (user_app / "app.py").write_text(
        textwrap.dedent(
            """
            import sys
            import aws_cdk as cdk
            import decoupling_constructs
            from decoupling_constructs import ReliableQueue

            assert decoupling_constructs.__file__.startswith(sys.argv[1]), decoupling_constructs.__file__
            try:
                import stacks  # the repo's reference stacks must not be importable here
            except ImportError:
                pass
            else:
                raise AssertionError("the repository leaked onto sys.path")

            class BillingStack(cdk.Stack):
                def __init__(self, scope, construct_id):
                    super().__init__(scope, construct_id)
                    self.invoices = ReliableQueue(self, "Invoices", fifo=True)

            app = cdk.App(outdir=sys.argv[2])
            BillingStack(app, "Billing")
            assembly = app.synth()
            resources = assembly.get_stack_by_name("Billing").template["Resources"]
            print(sorted({r["Type"] for r in resources.values()}))
            """
        )
    )
    env = env_with_node(node_bin)
    env["PYTHONPATH"] = str(site)
    result = subprocess.run(
        [sys.executable, "-P", "app.py", str(site), str(tmp_path / "out")],
        cwd=user_app,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "AWS::SQS::Queue" in result.stdout
    assert "AWS::CloudWatch::Alarm" in result.stdout
    assert NODE_BANNER not in result.stderr
