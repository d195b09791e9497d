"""The diffusion worked example (examples/diffusion): the mechanism findings its planted bugs draw. What every
worked example shows (no warning on the clean harness, hand-worked values, the session) is in
tests/test_example_families.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from conftest import call, codes, example_client, finding_of
from example_family import flagged

# A worked paper: its own server and worker, real training: the whole module is slow.
pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.fixture(scope="module")
async def family(tmp_path_factory) -> AsyncIterator:
    async with example_client(tmp_path_factory, "diffusion", timeout_s=300) as client:
        yield client


async def test_shared_noise_is_flagged_by_inspect_data(family):
    found = await flagged(family, "bug_shared_noise.py", "inspect_data", "noise_shared_across_batch")
    assert found["where"] == "batch['noise']" and "drawn once and broadcast" in found["message"]


async def test_constant_beta_is_flagged_by_inspect_model(family):
    found = await flagged(family, "bug_constant_beta.py", "inspect_model", "schedule_constant")
    assert found["where"] == "online.betas" and found["evidence"]["slots"] == 100


async def test_inspect_model_sees_alpha_bar_one_step_behind(family):
    result = await call(family, "inspect_model", {"harness": "bug_abar_off_by_one.py"})
    assert codes(result, "warning") == {"schedule_off_by_one"}, result["summary"]
    assert "first noise level adds no noise" in finding_of(result, "schedule_off_by_one")["message"]
