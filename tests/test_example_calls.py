"""Every example tool call in the guides, SKILL.md, the README and docs/ is a call the server accepts.

The convention (one, so that it can be checked): a call is the tool's name followed by its
arguments as one JSON object, `tool_name {"harness": "harness.py", ...}` in prose and code
blocks, or `tool_name({...})` in the transcripts of the demo (README.md, docs/examples.md). Each is validated
against the tool's own pydantic arguments model, the one the server validates with, so an
example can neither name an argument that does not exist nor break a rule such as lr_sweep's
"a range test needs num_lrs >= 20". Tool names and argument models come from the code.
"""

import json
import re
from pathlib import Path

import pytest
from conftest import TOOLS
from pydantic import ValidationError

from implement_paper.prompts import CATALOG
from implement_paper.prompts.catalog import read_markdown

ROOT = Path(__file__).resolve().parents[1]
ARGS = {tool.name: tool.args for tool in TOOLS}
CALL = re.compile(r"\b(" + "|".join(sorted(ARGS, key=len, reverse=True)) + r")(?: |\()(?=\{)")
# A tool name followed by "(" and a Python-style argument, e.g. lr_sweep(max_lr=0.01): not the convention.
PYTHON_STYLE = re.compile(r"`(" + "|".join(ARGS) + r")\((?!\{|\))[^`]*`")


def documents():
    """(label, text) of every guide, SKILL.md, the README and every page of docs/."""
    texts = [(f"prompts/{name}.md", read_markdown(name)) for name in CATALOG]
    pages = ["SKILL.md", "README.md"] + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").rglob("*.md"))
    pages += sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tools").glob("*/README.md"))  # each tool's page
    return texts + [(name, (ROOT / name).read_text(encoding="utf-8")) for name in pages]


def example_calls():
    """(label, line, tool, arguments or the JSON error) for every call in the documents."""
    decoder = json.JSONDecoder()
    for label, text in documents():
        for match in CALL.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            try:
                arguments, _ = decoder.raw_decode(text, match.end())
            except json.JSONDecodeError as exc:
                arguments = exc
            yield pytest.param(label, match.group(1), arguments, id=f"{label}:{line}:{match.group(1)}")


CALLS = list(example_calls())


def test_the_documents_hold_an_example_of_every_tool():
    assert {param.values[1] for param in CALLS} == set(ARGS)
    assert len(CALLS) >= 100


@pytest.mark.parametrize(("label", "tool", "arguments"), CALLS)
def test_example_call_is_valid(label, tool, arguments):
    assert not isinstance(arguments, Exception), f"{label}: {tool} is not followed by a JSON object: {arguments}"
    model = ARGS[tool]
    unknown = set(arguments) - set(
        model.model_fields
    )  # the server refuses these (tools/runtime/tool_call.py: reject_unknown)
    assert not unknown, f"{label}: {tool} takes no {sorted(unknown)}; it takes {sorted(model.model_fields)}"
    try:
        model.model_validate(arguments)
    except ValidationError as exc:
        pytest.fail(f"{label}: {tool} {json.dumps(arguments)} is refused:\n{exc}")


# The guides and SKILL.md, which agents read; the README and docs/ are the reference, for people.
@pytest.mark.parametrize(
    "label", [label for label, _ in documents() if not label.startswith(("README.md", "docs/", "tools/"))]
)
def test_guides_write_calls_one_way(label):
    """Guides are read by agents, which copy what they see: no Python-style calls beside the JSON ones."""
    text = dict(documents())[label]
    assert not PYTHON_STYLE.findall(text), f"{label}: write `tool {{json}}`, not {PYTHON_STYLE.findall(text)}"
