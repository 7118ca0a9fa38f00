"""The demo's results, phases and logging set-up, shared by its scenarios."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REGION = "us-east-1"

Progress = Callable[[str, int, int], None]
"""progress(pattern, done, total): the scenario's progress bar."""


@dataclass
class Check:
    name: str
    expected: Any
    actual: Any

    @property
    def ok(self) -> bool:
        return bool(self.expected == self.actual)


@dataclass
class Result:
    pattern: str
    checks: list[Check] = field(default_factory=list)
    rows: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """One-line remarks printed under the table (e.g. where the emulator differs from AWS)."""
    injected_failures: int = 0
    """Failures the scenario caused on purpose (their tracebacks go to the log file, not the terminal)."""
    not_run: str | None = None
    """Why the pattern was not run here (an emulator that cannot host it); its verdict is NOT RUN, not FAIL."""
    said: str | None = None
    """What the verdict stands for, said on its line (e.g. what a local run stands in for)."""

    def check(self, name: str, expected: Any, actual: Any) -> None:
        self.checks.append(Check(name, expected, actual))

    @property
    def ok(self) -> bool:
        """Every check held (at least one), or the pattern was not run and says why."""
        if self.not_run is not None:
            return not self.checks
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def verdict(self) -> str:
        """One line: PASS/FAIL with the checks that held, or NOT RUN and why."""
        if self.not_run is not None:
            return f"NOT RUN {self.pattern}: {self.not_run}"
        held = sum(c.ok for c in self.checks)
        line = f"{'PASS' if self.ok else 'FAIL'} {self.pattern}: {held}/{len(self.checks)} checks held"
        return f"{line} ({self.said})" if self.said else line


@dataclass
class Phases:
    """Wall-clock time of each phase, printed at the end."""

    timings: list[tuple[str, float]] = field(default_factory=list)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.timings.append((name, time.monotonic() - started))

    def line(self) -> str:
        return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.timings)


@contextmanager
def log_to(path: Path) -> Iterator[None]:
    """Every log record (emulator requests, the consumers' handler tracebacks, boto) to ``path``, none to the
    terminal; the logging set-up as it was afterwards."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    for existing in saved:
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    quiet = {name: logging.getLogger(name).level for name in ("botocore", "boto3", "urllib3")}
    for name in quiet:
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()
        for existing in saved:
            root.addHandler(existing)
        root.setLevel(level)
        for name, previous in quiet.items():
            logging.getLogger(name).setLevel(previous)
