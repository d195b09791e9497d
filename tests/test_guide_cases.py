"""The hand-worked cases the guides quote for the new families pass on the worked example of that family.

The tips and the gauntlet tell an agent which check_known_values case signs off a TD target, an action
index, an ε schedule, ᾱ or a masked row. Each case whose function the family's worked harness defines
is run here, through a real MCP client, on that harness: a case the guides quote must be one a correct
implementation passes (the examples' own tests show that the bug twins fail the same cases).
"""

from __future__ import annotations

import json
import re

import pytest
from conftest import EXAMPLES, assert_clean, call, example_client

from implement_paper.prompts.catalog import read_markdown, tips_section

pytestmark = pytest.mark.anyio

FAMILIES = {"value_rl": ("dqn", "dqn.py"), "diffusion": ("diffusion", "ddpm.py"), "encoder": ("mlm", "bert.py")}
GAUNTLET_SECTION = {"value_rl": "Q-values grow", "diffusion": "diffusion samples", "encoder": "masked-token accuracy"}


def quoted_calls(text: str) -> list[dict]:
    """The arguments of every check_known_values call in `text`."""
    decoder = json.JSONDecoder()
    return [decoder.raw_decode(text, m.end())[0] for m in re.finditer(r"check_known_values (?=\{)", text)]


def gauntlet_section(start: str) -> str:
    text = read_markdown("debugging_gauntlet")
    begin = text.index(f"## Symptom: {start}")
    return text[begin : text.find("\n## ", begin + 1)]


def family_calls(family: str) -> list[dict]:
    """The guides' calls on functions the family's worked harness defines, deduplicated."""
    example, harness = FAMILIES[family]
    source = (EXAMPLES / example / harness).read_text(encoding="utf-8")
    calls = quoted_calls(tips_section(family)) + quoted_calls(gauntlet_section(GAUNTLET_SECTION[family]))
    defined = [c for c in calls if re.search(rf"(?m)^def {re.escape(c['function'])}\(", source)]
    unique = {json.dumps(c, sort_keys=True): c for c in defined}
    return list(unique.values())


@pytest.mark.parametrize("family", sorted(FAMILIES))
async def test_the_guides_cases_pass_on_the_worked_example(family, tmp_path_factory):
    example, harness = FAMILIES[family]
    calls = family_calls(family)
    assert len({c["function"] for c in calls}) >= (3 if family == "value_rl" else 1), calls
    async with example_client(tmp_path_factory, example, timeout_s=120) as client:
        for arguments in calls:
            assert_clean(await call(client, "check_known_values", {**arguments, "harness": harness}))
