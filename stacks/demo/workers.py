"""QueueWorkers in the demo: what stops the DecouplingQueueWorkers stack from deploying into MiniStack (asked of
MiniStack itself, so a MiniStack that learns a type stops being named), and the slot for the workers' boot run.

The boot run (issue 20 §1) is being built apart: a function that takes the rendered boot script from the
synthesized template and runs it on this machine against MiniStack (the worker asset uploaded by `cdk deploy`,
the queue deployed there), then reports how many of N messages it consumed. Until it lands, ``BOOT_RUN`` is None
and the demo's verdict is "NOT RUN workers: ..."; when it lands, assign it here (or pass it to
:func:`workers_scenario`) and the verdict comes from its checks.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from decoupling_constructs.testing.emulators import Emulator, ministack_python

from ._model import Result

STACK = "DecouplingQueueWorkers"

BootRun = Callable[[Path, Emulator, Path], Result]
"""boot_run(cdk_out, emulator, log_dir) -> the "workers" Result (checks: messages consumed, none lost)."""

# THE SLOT: the workers' local boot run (issue 20 §1), None until it exists.
BOOT_RUN: BootRun | None = None

# Asked on MiniStack's own interpreter: the resource types its CloudFormation has no provisioner for, and the
# public SSM parameters it serves. Private names of MiniStack 1.5.x; if they move, the answer says "unknown".
_PROBE = """
import json, sys
try:
    from ministack.services.cloudformation.provisioners import _RESOURCE_HANDLERS
    from ministack.services.ssm import _PUBLIC_AMI_PARAMETERS
except ImportError as error:
    print(json.dumps({"error": str(error)})); sys.exit(0)
types, parameters = json.loads(sys.stdin.read())
print(json.dumps({
    "types": sorted(t for t in types if t not in _RESOURCE_HANDLERS and not t.startswith("Custom::")),
    "parameters": sorted(p for p in parameters if p not in _PUBLIC_AMI_PARAMETERS),
}))
"""


def ministack_refusals(template: dict[str, Any]) -> str:
    """What MiniStack refuses in ``template``, as one phrase: the resource types its CloudFormation cannot create
    and the SSM parameters (template parameters of type AWS::SSM::Parameter::Value) it does not serve."""
    types = sorted({r["Type"] for r in template.get("Resources", {}).values()})
    parameters = sorted(
        str(p.get("Default"))
        for p in template.get("Parameters", {}).values()
        if str(p.get("Type", "")).startswith("AWS::SSM::Parameter::Value")
        and p.get("Default")
        and not str(p.get("Default")).startswith("/cdk-bootstrap/")
    )
    try:
        completed = subprocess.run(
            [ministack_python(), "-c", _PROBE],
            input=json.dumps([types, parameters]),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        answer = json.loads(completed.stdout.strip().splitlines()[-1])
    except (OSError, ValueError, IndexError, subprocess.SubprocessError) as error:
        return f"unknown (asking MiniStack failed: {type(error).__name__})"
    if "error" in answer:
        return f"unknown (MiniStack's tables moved: {answer['error']})"
    parts = []
    if answer["types"]:
        parts.append(f"its CloudFormation has no provisioner for {', '.join(answer['types'])}")
    if answer["parameters"]:
        parts.append(f"it does not serve the public SSM parameter(s) {', '.join(answer['parameters'])} (the AMI)")
    return "; ".join(parts) or "nothing"


def workers_scenario(
    cdk_out: Path, emulator: Emulator | None, log_dir: Path, refused: str, boot_run: BootRun | None = None
) -> Result:
    """The workers' verdict: ``boot_run``'s (default ``BOOT_RUN``) when there is one, else NOT RUN and why."""
    boot_run = boot_run or BOOT_RUN
    if boot_run is not None and emulator is not None:
        return boot_run(cdk_out, emulator, log_dir)
    result = Result("workers")
    result.not_run = (
        "the workers' local boot run (issue 20 §1: the rendered boot script run on this machine against MiniStack) "
        f"is not wired in yet (slot: stacks/demo/workers.py BOOT_RUN); and {STACK} itself is not deployed: "
        f"MiniStack refuses it ({refused})"
    )
    return result
