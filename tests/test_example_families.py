"""What every mechanism worked example (examples/diffusion, dqn, mlm) shows: its clean harness draws no warning
from any quick tool at its defaults, its hand-worked pieces match, each planted bug they cover mismatches, and its
session reproduces the paper's qualitative result. Each family's own mechanism findings are tested in
tests/test_example_<name>.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest
from conftest import example_client
from example_family import QUICK_TOOLS, cases, clean_at_defaults, known_value, session_verdict

# Worked papers: their own servers and workers, real training: the whole module is slow.
pytestmark = [pytest.mark.anyio, pytest.mark.slow]

FAMILIES = {"diffusion": ("ddpm.py", 3000), "dqn": ("dqn.py", 2000), "mlm": ("bert.py", 600)}  # harness, session steps
CASES = {name: cases(name) for name in FAMILIES}


@pytest.fixture(scope="module")
async def clients(tmp_path_factory) -> AsyncIterator[dict]:
    async with AsyncExitStack() as stack:
        yield {
            name: await stack.enter_async_context(example_client(tmp_path_factory, name, timeout_s=300))
            for name in FAMILIES
        }


@pytest.mark.parametrize("tool", QUICK_TOOLS)
@pytest.mark.parametrize("name", FAMILIES)
async def test_clean_harness_draws_no_warning_at_defaults(clients, name, tool):
    await clean_at_defaults(clients[name], FAMILIES[name][0], tool)


@pytest.mark.parametrize("name, function", [(name, f) for name in FAMILIES for f in CASES[name].KNOWN])
async def test_clean_pieces_give_the_hand_worked_values(clients, name, function):
    await known_value(clients[name], FAMILIES[name][0], function, CASES[name].KNOWN[function], matches=True)


@pytest.mark.parametrize("name, bug", [(name, bug) for name in FAMILIES for bug in CASES[name].BUGS])
async def test_planted_bug_fails_its_known_value(clients, name, bug):
    function = CASES[name].BUGS[bug]
    await known_value(clients[name], bug, function, CASES[name].KNOWN[function], matches=False)


@pytest.mark.parametrize("name", FAMILIES)
def test_session_reproduces(name, tmp_path):
    assert session_verdict(name, steps=FAMILIES[name][1], tmp=tmp_path) == "reproduced: yes"
