"""tests/flink: the reference Flink job (stacks/flink_job) run in PyFlink's local mini-cluster.

They run in the PyFlink venv, not in .venv: ``make test-flink`` (.venvs/flink, requirements-flink.txt; the JDK from
``make system-deps``) starts pytest there with ``--confcutdir=tests/flink``, so tests/conftest.py (aws-cdk-lib,
moto) is not loaded, and tests/conftest.py leaves this directory out of the runs in .venv.

The job's modules are imported as the deployed application's zip has them, top-level (its directory first on the
path), and the demo's records come from stacks/demo/clicks.py, loaded by its path (importing ``stacks.demo`` would
need aws-cdk-lib and the demo's dependencies).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
JOB_DIR = ROOT / "stacks" / "flink_job"
sys.path.insert(0, str(JOB_DIR))


def load_demo_clicks() -> ModuleType:
    """stacks/demo/clicks.py, the module the demo's stream scenario builds its records with."""
    spec = importlib.util.spec_from_file_location("demo_clicks", ROOT / "stacks" / "demo" / "clicks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
