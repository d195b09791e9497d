"""The diffusion worked example (examples/diffusion): the clean harness draws no warning from any quick tool at
its defaults, its hand-worked pieces match, each planted bug they cover mismatches, and the
session reproduces the paper's qualitative result."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from conftest import call, codes, example_client, finding_of
from example_family import QUICK_TOOLS, cases, clean_at_defaults, flagged, known_value, session_verdict

# A worked paper: its own server and worker, real training: the whole module is slow.
pytestmark = [pytest.mark.anyio, pytest.mark.slow]

H = "ddpm.py"
CASES = cases("diffusion")


@pytest.fixture(scope="module")
async def family(tmp_path_factory) -> AsyncIterator:
    async with example_client(tmp_path_factory, "diffusion", timeout_s=300) as client:
        yield client


@pytest.mark.parametrize("tool", QUICK_TOOLS)
async def test_clean_harness_draws_no_warning_at_defaults(family, tool):
    await clean_at_defaults(family, H, tool)


@pytest.mark.parametrize("function", list(CASES.KNOWN))
async def test_clean_pieces_give_the_hand_worked_values(family, function):
    await known_value(family, H, function, CASES.KNOWN[function], matches=True)


@pytest.mark.parametrize("bug, function", list(CASES.BUGS.items()))
async def test_planted_bug_fails_its_known_value(family, bug, function):
    await known_value(family, bug, function, CASES.KNOWN[function], matches=False)


async def test_shared_noise_is_flagged_by_inspect_data(family):
    found = await flagged(family, "bug_shared_noise.py", "inspect_data", "noise_shared_across_batch")
    assert found["where"] == "batch['noise']" and "drawn once and broadcast" in found["message"]


async def test_constant_beta_is_flagged_by_inspect_model(family):
    found = await flagged(family, "bug_constant_beta.py", "inspect_model", "schedule_constant")
    assert found["where"] == "online.betas" and found["evidence"]["slots"] == 100


@pytest.mark.slow
def test_session_reproduces(tmp_path):
    assert session_verdict("diffusion", steps=3000, tmp=tmp_path) == "reproduced: yes"


async def test_inspect_model_sees_alpha_bar_one_step_behind(family):
    result = await call(family, "inspect_model", {"harness": "bug_abar_off_by_one.py"})
    assert codes(result, "warning") == {"schedule_off_by_one"}, result["summary"]
    assert "first noise level adds no noise" in finding_of(result, "schedule_off_by_one")["message"]
