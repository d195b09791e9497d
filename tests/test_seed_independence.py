"""Seeds that are not independent: a get_train_batch seeded by the step alone gives every seed the same
batches, and an evaluate() that calls torch.manual_seed puts every seed back on one stream. Each is
flagged on a multi-seed run; the clean twin, whose get_train_batch takes the seed, draws nothing."""

import pytest
from conftest import assert_clean, call, codes, finding_of
from test_training_jobs import wait_finished

pytestmark = pytest.mark.anyio

RUN = {"steps": 40, "lr": 3e-3, "batch_size": 32, "seeds": [0, 1, 2], "eval_every": 20}


async def _run(client, harness: str) -> dict:
    started = await call(client, "start_training", {"harness": harness, **RUN})
    result = await wait_finished(client, started["details"]["run_id"])
    assert result["details"]["status"] == "completed", result["summary"]
    return result


async def test_a_get_train_batch_with_a_seed_parameter_gets_each_seed_its_own_data(client):
    result = await _run(client, "seeds_clean.py")
    assert_clean(result)
    compared = await call(
        client, "compare_metrics", {"reported": {"accuracy": 50.0}, "run_id": result["details"]["run_id"]}
    )
    assert "seeds_share_data" not in codes(compared)
    digests = [s["data_digest"] for s in result["details"]["seeds"]]
    assert None not in digests and len(set(digests)) == 3


async def test_step_seeded_data_is_the_same_for_every_seed(client):
    result = await _run(client, "seeds_fixed_data.py")
    assert "seeds_share_data" in codes(result, "warning")
    found = finding_of(result, "seeds_share_data")
    assert found["evidence"]["groups"] == [[0, 1, 2]] and "seeds 0, 1, 2" in found["message"]
    assert "seed` parameter" in found["suggestion"]
    # compare_metrics judges seed noise on this run: it carries the warning along
    run_id = result["details"]["run_id"]
    compared = await call(client, "compare_metrics", {"reported": {"accuracy": 50.0}, "run_id": run_id})
    assert "seeds_share_data" in codes(compared, "warning")


async def test_an_evaluate_that_reseeds_is_caught_and_kept_off_the_training_stream(client):
    result = await _run(client, "seeds_evaluate_reseeds.py")
    assert "evaluate_reseeds" in codes(result, "warning")
    assert finding_of(result, "evaluate_reseeds")["where"] == "evaluate"
    # the worker put the RNG back after evaluate: seeds 1 and 2 still trained on their own batches
    assert "seeds_share_data" not in codes(result)
    digests = [s["data_digest"] for s in result["details"]["seeds"]]
    assert len(set(digests)) == 3


@pytest.mark.parametrize(("harness", "shared"), [("seeds_clean.py", False), ("seeds_fixed_data.py", True)])
async def test_an_ablation_over_seeds_that_share_their_data_says_so(client, harness, shared):
    """run_ablation calls a difference within the seed spread noise: a spread over one data stream is too narrow."""
    args = {"harness": harness, "variants": {"wider": {"hidden": 68}}, "steps": 20, "seeds": [0, 1]}
    result = await call(client, "run_ablation", args)
    assert ("seeds_share_data" in codes(result, "warning")) == shared, result["summary"]
    if shared:
        assert finding_of(result, "seeds_share_data")["evidence"]["groups"] == [[0, 1]]
