"""The QueueWorkers bundle: everything a worker instance runs, staged at synth time for a CDK asset.

Layout (the asset's zip, extracted on the instance)::

    site/decoupling_constructs/   the library's runtime (QueueConsumer) and what it imports: no aws-cdk-lib
    site/boto3, site/botocore...  boto3 and its pure-Python dependencies, copied from this Python environment
    site/<your code>              the worker code: a directory's contents, or a wheel's files

Nothing is downloaded: boto3 and its dependencies are copied from the environment that synthesizes the app (the
``runtime`` extra installs them), the worker code from the user's directory or wheel. Every file is pure Python,
so one bundle serves x86_64 and arm64 instances alike.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import decoupling_constructs

# boto3 and its dependencies' closure as boto3 1.44 declares it (boto3 -> botocore, jmespath, s3transfer;
# botocore -> python-dateutil, urllib3; python-dateutil -> six). All pure Python.
RUNTIME_DISTRIBUTIONS = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")
# The library files the runtime imports (decoupling_constructs/__init__.py imports the constructs lazily): the
# consumer and producer check their options with _validate, whose checks are the engine's rules (_rules); neither
# imports aws-cdk-lib.
LIBRARY_FILES = ("__init__.py", "_lazy.py", "_rules.py", "_validate.py", "limits.py", "py.typed")
LIBRARY_DIRS = ("runtime",)
_NATIVE_SUFFIXES = (".so", ".pyd", ".dylib")
_SKIPPED_PARTS = ("__pycache__",)


class BundleError(ValueError):
    """The bundle cannot be built (a distribution missing or not pure Python, a wheel that cannot be read)."""


def _distribution_files(name: str) -> list[tuple[Path, str]]:
    """(source file, path inside site/) of one installed distribution, its .dist-info included."""
    try:
        distribution = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError as error:
        raise BundleError(
            f"the worker bundle carries {name} (boto3 and its dependencies run on the instances), copied from "
            f"this Python environment, where it is not installed: pip install 'decoupling-constructs[runtime]'"
        ) from error
    files = []
    for entry in distribution.files or ():
        relative = str(entry)
        if relative.startswith("..") or any(part in _SKIPPED_PARTS for part in Path(relative).parts):
            continue  # console scripts in bin/, byte code
        if relative.endswith(_NATIVE_SUFFIXES):
            raise BundleError(
                f"the worker bundle carries pure Python only (one bundle for x86_64 and arm64), but {name} "
                f"{distribution.version} has a native file: {relative}"
            )
        source = Path(str(entry.locate()))
        if source.is_file():
            files.append((source, relative))
    return files


def _library_files() -> list[tuple[Path, str]]:
    package = Path(decoupling_constructs.__file__).parent
    files = [(package / name, f"decoupling_constructs/{name}") for name in LIBRARY_FILES]
    for directory in LIBRARY_DIRS:
        for source in sorted((package / directory).rglob("*.py")):
            files.append((source, f"decoupling_constructs/{source.relative_to(package).as_posix()}"))
    return files


def _code_files(code: Path) -> list[tuple[Path, str]]:
    """A directory's files (its contents go on sys.path), byte code left out."""
    return [
        (source, source.relative_to(code).as_posix())
        for source in sorted(code.rglob("*"))
        if source.is_file() and not any(part in _SKIPPED_PARTS for part in source.relative_to(code).parts)
    ]


def wheel_names(wheel: Path) -> list[str]:
    """The importable paths of a wheel: its root files, and the contents of its .data/purelib and platlib."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile) as error:
        raise BundleError(f"{wheel} is not a readable wheel (a zip file): {error}") from error
    kept = []
    for name in names:
        head, _, rest = name.partition("/")
        if head.endswith(".data"):
            sub, _, tail = rest.partition("/")
            if sub in ("purelib", "platlib") and tail:
                kept.append(tail)
        elif not name.endswith("/"):
            kept.append(name)
    return kept


def _extract_wheel(wheel: Path, site: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            head, _, rest = name.partition("/")
            if name.endswith("/"):
                continue
            if head.endswith(".data"):
                sub, _, tail = rest.partition("/")
                if sub not in ("purelib", "platlib") or not tail:
                    continue  # scripts, headers, data: not importable
                target = site / tail
            else:
                target = site / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(name) as source, target.open("wb") as out:
                shutil.copyfileobj(source, out)


def _digest(files: list[tuple[Path, str]], extra: list[str]) -> str:
    digest = hashlib.sha256()
    for text in extra:
        digest.update(text.encode() + b"\0")
    for source, relative in files:
        digest.update(relative.encode() + b"\0")
        digest.update(hashlib.sha256(source.read_bytes()).digest())
    return digest.hexdigest()[:32]


def bundle(code: Path | None) -> Path:
    """The staged bundle directory for ``code`` (a directory, a ``.whl`` or None), built once per content.

    Staged under the temporary directory, keyed by the hash of what goes in (the library's runtime files, the
    distributions' versions, the code), so that every synthesis of an unchanged app reuses it.
    """
    library = _library_files()
    versions = [f"{name}=={importlib.metadata.version(name)}" for name in RUNTIME_DISTRIBUTIONS if _has(name)]
    distributions = [item for name in RUNTIME_DISTRIBUTIONS for item in _distribution_files(name)]
    if code is None:
        code_files: list[tuple[Path, str]] = []
    elif code.is_dir():
        code_files = _code_files(code)
    else:
        wheel_names(code)  # readable?
        code_files = [(code, code.name)]
    key = _digest(library + code_files, versions)
    staged = Path(tempfile.gettempdir()) / f"decoupling-constructs-worker-{key}"
    if staged.is_dir():
        return staged
    building = Path(tempfile.mkdtemp(prefix=f"{staged.name}.", dir=staged.parent))
    site = building / "site"
    for source, relative in library + distributions + ([] if code is not None and code.is_file() else code_files):
        target = site / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    if code is not None and code.is_file():
        _extract_wheel(code, site)
    try:
        os.rename(building, staged)
    except OSError:  # another process staged the same bundle meanwhile
        shutil.rmtree(building, ignore_errors=True)
    return staged


def _has(name: str) -> bool:
    try:
        importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True
