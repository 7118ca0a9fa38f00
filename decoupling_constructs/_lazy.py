"""PEP 562 lazy exports: a package names its public classes without importing their modules (and aws-cdk-lib)
until first use, so importing one service's package never imports another's, and no import cycle can arise."""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Mapping
from typing import Any


class _Package(types.ModuleType):
    """A package whose exported name may equal a submodule's (``runtime.redrive`` the function, in
    ``runtime/redrive.py``): importing the submodule must not rebind the package's name to the module."""

    def __setattr__(self, name: str, value: object) -> None:
        exported = self.__dict__.get("_EXPORTS", {})
        if name in exported and isinstance(value, types.ModuleType) and value.__name__ == f"{self.__name__}.{name}":
            self.__dict__.pop(name, None)  # resolved again, as the exported name, by __getattr__
            return
        super().__setattr__(name, value)


def exports(package: str, names: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package`` whose ``names`` map a public name to its relative module."""
    module = sys.modules[package]
    module.__class__ = _Package
    namespace = module.__dict__

    def __getattr__(name: str) -> Any:
        if name in names:
            value = getattr(importlib.import_module(names[name], package), name)
            namespace[name] = value  # (a dict write: not refused by _Package.__setattr__)
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted({*namespace, *names})

    return __getattr__, __dir__
