"""The package is grouped by AWS service; the module paths of 0.1 still import, with a warning naming the new one."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import decoupling_constructs

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("queues", "topics", "streams", "brokers")


@pytest.mark.parametrize(("old", "new"), sorted(decoupling_constructs._MOVED.items()))
def test_an_old_module_path_imports_the_moved_module_with_a_deprecation_warning(old: str, new: str) -> None:
    code = (
        "import warnings, importlib; warnings.simplefilter('error');\n"
        f"try:\n    importlib.import_module('decoupling_constructs.{old}')\n"
        "except DeprecationWarning as w:\n    print(w)\n"
        f"warnings.simplefilter('ignore'); m = importlib.import_module('decoupling_constructs.{old}')\n"
        f"print(m is importlib.import_module('decoupling_constructs.{new}'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.splitlines() == [
        f"decoupling_constructs.{old} is now decoupling_constructs.{new}; import from decoupling_constructs instead",
        "True",
    ]


def test_every_public_construct_lives_in_its_service_package() -> None:
    for name in decoupling_constructs.__all__:
        module = decoupling_constructs._EXPORTS[name].lstrip(".")
        top = module.split(".")[0]
        if top in SERVICES:
            service = importlib.import_module(f"decoupling_constructs.{top}")
            assert getattr(service, name) is getattr(decoupling_constructs, name), name
        else:  # shared by every service: alarms, sizing
            assert module in ("_alarms", "alarm_topic", "capacity"), name


def test_an_unknown_module_is_still_an_import_error() -> None:
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("decoupling_constructs.no_such_module")


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_package_imports_alone_and_lists_what_it_exports(service: str) -> None:
    """Each service package imports in a fresh interpreter on its own (no import cycle through another)."""
    code = (
        f"import decoupling_constructs.{service} as s; "
        "print(sorted(s.__all__) == sorted(s._EXPORTS) and all(getattr(s, n) for n in s.__all__))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out == "True\n"


def test_a_name_equal_to_its_submodule_stays_the_exported_name() -> None:
    """runtime.redrive is the function, not runtime/redrive.py, whichever is imported first (lazy exports)."""
    code = (
        "import decoupling_constructs.runtime.redrive, sys\n"
        "from decoupling_constructs.runtime import RedriveResult, redrive\n"
        "import decoupling_constructs.runtime as rt\n"
        "print(callable(redrive), rt.redrive is redrive, isinstance(sys.modules[rt.__name__ + '.redrive'], type(sys)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out == "True True True\n"
