"""pyproject.toml declares what `make test` proves: the aws-cdk-lib/constructs floor, and the build backend."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def pins(requirements_file: str) -> dict[str, str]:
    """name -> version of the `name==version` lines of a requirements file."""
    lines = (ROOT / requirements_file).read_text().splitlines()
    found = {}
    for line in lines:
        if "==" in line and not line.startswith("#"):
            requirement = Requirement(line)
            (spec,) = requirement.specifier
            found[canonicalize_name(requirement.name)] = spec.version
    return found


def test_the_declared_lower_bounds_are_the_floor_make_test_floor_runs() -> None:
    declared = {Requirement(dep).name: Requirement(dep).specifier for dep in PYPROJECT["project"]["dependencies"]}
    floor = pins("requirements-floor.txt")
    pinned = pins("requirements.txt")
    assert sorted(floor) == ["aws-cdk-lib", "constructs"]
    for name, version in floor.items():
        lower = {spec.version for spec in declared[name] if spec.operator == ">="}
        assert lower == {version}, f"pyproject's {name} lower bound must be the tested floor {version}"
        # Both ends that make test runs are inside the declared range, the floor below the pin.
        assert declared[name].contains(version) and declared[name].contains(pinned[name])
        assert Version(version) < Version(pinned[name])


def test_the_build_backend_is_the_one_the_packaging_tests_use() -> None:
    """tests/packaging builds without build isolation, so the venv's backend must be pyproject's."""
    (backend,) = PYPROJECT["build-system"]["requires"]
    requirement = Requirement(backend)
    (spec,) = requirement.specifier
    assert spec.operator == "=="
    assert pins("requirements-dev.txt")[canonicalize_name(requirement.name)] == spec.version
