"""The generative worked example (examples/vae): the clean VAE harness passes every tool that applies,
and each planted bug is caught by the tool the tips name."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import pytest
from conftest import assert_clean, call, codes, example_client, finding_of

# A worked paper: its own server and worker, real training: the whole module is slow.
pytestmark = [pytest.mark.anyio, pytest.mark.slow]

H = "harness.py"
INIT_LOSS = 64 * math.log(2)  # Bernoulli logits near 0: ln 2 per pixel, KL near 0
KNOWN = {
    "reparameterize": {"args": [[0.0, 1.0], [0.0, 2 * math.log(2)], [1.0, -1.0]], "expected": [1.0, -1.0]},
    "kl_divergence": {
        "args": [[[0.0], [1.0], [0.0]], [[0.0], [0.0], [math.log(4)]]],
        "expected": [0.0, 0.5, 0.5 * (3 - math.log(4))],
    },
}


@pytest.fixture(scope="module")
async def vae(tmp_path_factory) -> AsyncIterator:
    async with example_client(tmp_path_factory, "vae", timeout_s=120) as client:
        yield client


@pytest.mark.parametrize(
    "tool, args",
    [
        ("inspect_data", {"batch_size": 64}),
        ("inspect_model", {"expected_param_count": 19_792}),
        ("check_initialization", {"batch_size": 64, "expected_init_loss": INIT_LOSS}),
        ("gradient_check", {"batch_size": 16}),
        ("check_dependencies", {"mode": "batch", "batch_size": 8}),
    ],
)
async def test_clean_harness_passes_the_scaffold_and_gauntlet(vae, tool, args):
    assert_clean(await call(vae, tool, {"harness": H, **args}))


async def test_clean_vae_memorises_one_digit_down_to_the_data_entropy(vae):
    result = await call(vae, "run_overfit_test", {"harness": H, "sizes": [1, 10], "steps": 200, "lr": 1e-2})
    assert_clean(result)
    one, ten = result["details"]["sizes"]
    assert one["reached_target"] and one["loss_floor"] <= one["end_loss"] <= one["target_loss"]
    assert one["terms"]["kl"]["final"] < 1 and ten["end_loss"] > ten["loss_floor"]  # grey pixels: never below it


@pytest.mark.parametrize("function", list(KNOWN))
async def test_clean_pieces_give_the_hand_worked_values(vae, function):
    assert_clean(
        await call(vae, "check_known_values", {"harness": H, "function": function, "cases": [KNOWN[function]]})
    )


async def test_ablation_ranks_on_the_test_bound_not_the_loss(vae):
    """Without the KL the training loss is lowest and the held-out bound worst: the objective decides."""
    result = await call(
        vae, "run_ablation", {"harness": H, "variants": {"no_kl": {"beta": 0.0}}, "steps": 150, "lr": 3e-3}
    )
    assert_clean(result)
    assert result["details"]["rank_by"] == "test_neg_elbo" and result["details"]["ranking"][-1] == "no_kl"


# ------------------------------------------------------------------ the planted bugs


async def test_kl_with_the_wrong_sign_falls_below_the_floor(vae):
    result = await call(
        vae, "run_overfit_test", {"harness": "bug_kl_sign.py", "sizes": [1, 10], "steps": 200, "lr": 1e-2}
    )
    assert {"loss_below_floor", "negative_kl"} <= codes(result, "error")
    assert not any(size["reached_target"] for size in result["details"]["sizes"])  # never "memorised" at -1e21


async def test_kl_with_the_wrong_sign_is_negative_at_init(vae):
    result = await call(vae, "check_initialization", {"harness": "bug_kl_sign.py", "batch_size": 64})
    assert codes(result, "error") == {"negative_kl"} and result["details"]["terms"]["kl"] < 0


async def test_std_equal_to_logvar_fails_its_known_value(vae):
    args = {"harness": "bug_std_logvar.py", "function": "reparameterize", "cases": [KNOWN["reparameterize"]]}
    assert "known_value_mismatch" in codes(await call(vae, "check_known_values", args), "error")


async def test_sample_under_no_grad_is_caught_by_gradient_check(vae):
    result = await call(vae, "gradient_check", {"harness": "bug_sample_no_grad.py", "batch_size": 16})
    found = codes(result) & {"params_without_grad", "zero_grad"}
    assert found, result["summary"]
    assert "no_grad" in finding_of(result, found.pop())["suggestion"]


async def test_reconstruction_averaged_over_pixels_is_one_64th_of_the_bound(vae):
    result = await call(
        vae, "check_initialization", {"harness": "bug_recon_mean.py", "batch_size": 64, "expected_init_loss": INIT_LOSS}
    )
    found = finding_of(result, "init_loss_mismatch")
    assert found["severity"] == "warning" and found["evidence"]["dimension"] == 64
    assert "a mean over D=64 elements where the paper sums" in found["suggestion"]
