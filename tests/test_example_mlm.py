"""The mlm worked example (examples/mlm): the mechanism findings its planted bugs draw. What every
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
    async with example_client(tmp_path_factory, "mlm", timeout_s=300) as client:
        yield client


async def test_label_leak_is_flagged_by_inspect_data(family):
    found = await flagged(family, "bug_label_leak.py", "inspect_data", "input_carries_target")
    assert found["evidence"]["share"] == 1.0 and "masked-LM" in found["message"]
    assert found["where"] == "train batch['inputs']"  # said once, for the first split, not again for test


async def test_check_dependencies_sees_an_encoder_without_positions(family):
    result = await call(family, "check_dependencies", {"harness": "bug_no_positions.py"})
    assert codes(result, "error") == {"no_positional_information"}, result["summary"]
    assert "permut" in finding_of(result, "no_positional_information")["message"]
