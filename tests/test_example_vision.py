"""The vision example (Batch Normalization on 8x8 digits): the clean harness through every tool
that applies, each planted bug through the tool that must catch it, and the paper's two claims
in miniature (BN trains at a 10x higher rate; reaches 90 % test accuracy in far fewer steps)."""

import pytest
from conftest import assert_clean, call, codes, example_client

# A worked paper: its own server and worker, real training: the whole module is slow.
pytestmark = [pytest.mark.anyio, pytest.mark.slow]

NO_BN = {"batch_norm": False}


@pytest.fixture(scope="module")
async def vision(tmp_path_factory):
    async with example_client(tmp_path_factory, "vision", timeout_s=300) as client:
        yield client


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("inspect_data", {}),
        ("inspect_model", {"expected_param_count": 28010, "tolerance": 0}),
        ("inspect_model", {"model_kwargs": NO_BN, "expected_param_count": 27710, "tolerance": 0}),
        ("check_initialization", {}),
        ("check_initialization", {"model_kwargs": NO_BN}),
        ("gradient_check", {}),
        ("gradient_check", {"model_kwargs": NO_BN}),
        ("check_dependencies", {"mode": "batch"}),
        ("run_overfit_test", {"sizes": [10, 100], "lr": 0.5}),  # BatchNorm cannot train on one example
    ],
)
async def test_clean_harness_is_clean(vision, tool, args):
    assert_clean(await call(vision, tool, {"harness": "harness.py", **args}))


async def test_raw_pixels_are_caught_by_inspect_data(vision):
    result = await call(vision, "inspect_data", {"harness": "bug_raw_pixels.py", "splits": ["train"]})
    assert codes(result) == {"unnormalized_inputs"}
    assert result["findings"][0]["evidence"]["pixel_levels"] == 16


async def test_frozen_running_statistics_are_caught_by_the_overfit_test(vision):
    result = await call(vision, "run_overfit_test", {"harness": "bug_frozen_bn.py", "sizes": [10], "lr": 0.5})
    assert codes(result, "error") & {"buffers_not_updated", "train_eval_gap"}


async def test_ablation_ranks_bn_first_by_the_objective(vision):
    args = {
        "harness": "harness.py",
        "variants": {"no_bn": NO_BN},
        "seeds": [0, 1],
        "steps": 150,
        "lr": 0.5,
        "batch_size": 60,
    }
    result = await call(vision, "run_ablation", args)
    assert_clean(result)
    assert result["details"]["rank_by"] == "test_accuracy" and result["details"]["ranking"] == ["baseline", "no_bn"]
    assert "Worse than the baseline beyond seed noise: no_bn" in result["summary"]


def _highest_training_lr(result):
    return max(
        p["lr"]
        for p in result["details"]["points"]
        if not p["diverged"] and p["final_loss"] is not None and p["final_loss"] < 0.975 * p["initial_loss"]
    )


async def test_bn_trains_at_a_ten_times_higher_rate(vision):
    grid = {
        "harness": "harness.py",
        "mode": "grid",
        "min_lr": 0.316,
        "max_lr": 100.0,
        "num_lrs": 6,
        "steps": 300,
        "batch_size": 60,
    }
    with_bn = await call(vision, "lr_sweep", grid)
    without = await call(vision, "lr_sweep", {**grid, "model_kwargs": NO_BN})
    assert_clean(without)  # a sigmoid MLP without BN trains, slowly: never no_stable_lr
    assert _highest_training_lr(with_bn) / _highest_training_lr(without) >= 10 - 1e-9


async def _reach(vision, model_kwargs):
    args = {
        "harness": "harness.py",
        "model_kwargs": model_kwargs,
        "steps": 250,
        "lr": 0.5,
        "batch_size": 60,
        "eval_every": 25,
    }
    run_id = (await call(vision, "start_training", args))["details"]["run_id"]
    while True:
        status = await call(
            vision, "training_status", {"run_id": run_id, "wait_s": 30, "reach": {"test_accuracy": 0.9}}
        )
        if status["details"]["status"] not in ("queued", "running"):
            return status["details"]["reach"][0]["steps"][0]


async def test_bn_reaches_the_target_accuracy_five_times_sooner(vision):
    with_bn, without = await _reach(vision, {}), await _reach(vision, NO_BN)
    assert with_bn is not None and with_bn <= 50
    assert without is None or without >= 5 * with_bn  # None: not within the 250 steps
