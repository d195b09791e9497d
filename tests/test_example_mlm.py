"""The mlm worked example (examples/mlm): the clean harness draws no warning from any quick tool at
its defaults, its hand-worked pieces match, each planted bug they cover mismatches, and the
session reproduces the paper's qualitative result."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from conftest import call, codes, example_client, finding_of
from example_family import QUICK_TOOLS, cases, clean_at_defaults, flagged, known_value, session_verdict

# A worked paper: its own server and worker, real training: the whole module is slow.
pytestmark = [pytest.mark.anyio, pytest.mark.slow]

H = "bert.py"
CASES = cases("mlm")


@pytest.fixture(scope="module")
async def family(tmp_path_factory) -> AsyncIterator:
    async with example_client(tmp_path_factory, "mlm", timeout_s=300) as client:
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


async def test_label_leak_is_flagged_by_inspect_data(family):
    found = await flagged(family, "bug_label_leak.py", "inspect_data", "input_carries_target")
    assert found["evidence"]["share"] == 1.0 and "masked-LM" in found["message"]
    assert found["where"] == "train batch['inputs']"  # said once, for the first split, not again for test


@pytest.mark.slow
def test_session_reproduces(tmp_path):
    assert session_verdict("mlm", steps=600, tmp=tmp_path) == "reproduced: yes"


async def test_check_dependencies_sees_an_encoder_without_positions(family):
    result = await call(family, "check_dependencies", {"harness": "bug_no_positions.py"})
    assert codes(result, "error") == {"no_positional_information"}, result["summary"]
    assert "permut" in finding_of(result, "no_positional_information")["message"]
