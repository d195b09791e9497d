"""run_overfit_test on buggy fixtures and their clean twins (tests/harnesses/overfit_*.py and friends)."""

import pytest
from conftest import assert_clean, call, codes, finding_of

pytestmark = pytest.mark.anyio


def line_of(project_root, harness, text):
    """`harness:line` of the first line containing `text`: the place a finding must name."""
    lines = (project_root / harness).read_text().splitlines()
    return f"{harness}:{next(i for i, line in enumerate(lines, 1) if text in line)}"


def sizes_of(result):
    return {s["size"]: s for s in result["details"]["sizes"]}


# ------------------------------------------------------------------ clean twins


async def test_clean_mlp_memorises(client):
    result = await call(client, "run_overfit_test", {"harness": "clean_mlp.py"})
    assert_clean(result)
    assert [s["reached_target"] for s in result["details"]["sizes"]] == [True, True, True]


async def test_clean_sgd_regressor_memorises(client):
    """The twin of overfit_no_zero_grad.py, at the same lr: the bug, not the lr, makes that one diverge."""
    result = await call(client, "run_overfit_test", {"harness": "overfit_sgd_clean.py", "lr": 0.1})
    assert_clean(result)
    assert all(s["final_loss"] <= s["target_loss"] for s in result["details"]["sizes"])


# ------------------------------------------------------------------ bugs in the training step


async def test_double_softmax_fails_on_loss_despite_accuracy(client):
    result = await call(client, "run_overfit_test", {"harness": "double_softmax.py", "sizes": [10], "steps": 150})
    assert result["status"] == "fail"
    assert codes(result, "error") & {"overfit_failed", "loss_not_decreasing"}


async def test_missing_optimizer_step_means_params_not_updated(client):
    result = await call(client, "run_overfit_test", {"harness": "no_optimizer_step.py", "sizes": [1], "steps": 30})
    assert "params_not_updated" in codes(result, "error")


async def test_loss_rebuilt_from_item_leaves_params_unchanged(client):
    result = await call(
        client, "run_overfit_test", {"harness": "overfit_rewrapped_loss.py", "sizes": [10], "steps": 30}
    )
    assert codes(result, "error") == {"params_not_updated"}
    assert sizes_of(result)[10]["params_changed"] is False


async def test_missing_zero_grad_diverges_with_plain_sgd(client):
    result = await call(client, "run_overfit_test", {"harness": "overfit_no_zero_grad.py", "lr": 0.1, "sizes": [10]})
    assert codes(result, "error") == {"diverged"}
    found = finding_of(result, "diverged")
    assert found["where"] == "size 10" and found["evidence"]["peak"] > 10 * found["evidence"]["initial"]
    assert sizes_of(result)[10]["reached_target"] is False


async def test_lr_far_too_high_diverges_then_overflows(client):
    result = await call(client, "run_overfit_test", {"harness": "overfit_lr_too_high.py", "sizes": [100], "steps": 50})
    assert codes(result, "error") == {"diverged", "non_finite_loss"}
    assert "NaN/Inf at step" in finding_of(result, "diverged")["message"]
    assert sizes_of(result)[100]["non_finite_at_step"] is not None


async def test_log_of_zero_names_the_module(client):
    result = await call(client, "run_overfit_test", {"harness": "overfit_log_zero.py", "sizes": [1], "steps": 10})
    found = finding_of(result, "non_finite_loss")
    assert found["where"] == "compress"
    assert found["evidence"]["step"] == 0 and found["evidence"]["op"] == "LogCompress"


# ------------------------------------------------------------------ user code that raises, and broken harnesses


@pytest.mark.slow
async def test_batchnorm_cannot_run_one_example_so_size_1_is_skipped_not_blamed(client):
    """BatchNorm1d refuses a batch of one in train mode: a correct model at the default sizes gets an info."""
    result = await call(client, "run_overfit_test", {"harness": "overfit_batchnorm.py"})
    assert_clean(result)
    found = finding_of(result, "size_skipped")
    assert found["severity"] == "info" and found["where"] == "size 1"
    assert "Expected more than 1 value per channel" in found["evidence"]["error"]
    per_size = sizes_of(result)
    assert per_size[1]["error"] and per_size[10]["reached_target"] and per_size[100]["reached_target"]


async def test_every_size_skipped_is_inconclusive_not_a_pass(client):
    """BatchNorm at size 1 only: nothing was trained, so no "Memorised  example(s)" pass."""
    result = await call(client, "run_overfit_test", {"harness": "overfit_batchnorm.py", "sizes": [1]})
    assert result["status"] == "inconclusive"
    found = finding_of(result, "nothing_measured")
    assert found["evidence"]["skipped"] == [1] and "sizes=[2, 10, 100]" in found["suggestion"]
    assert result["summary"].startswith("1 problem(s); first: no size was trained")


@pytest.mark.parametrize(
    ("harness", "raising_line"),
    [("overfit_build_raises.py", "raise ValueError"), ("overfit_batch_raises.py", 'SEEDS[split + "ing"]')],
)
async def test_exception_in_user_code_names_file_and_line_once(client, project_root, harness, raising_line):
    result = await call(client, "run_overfit_test", {"harness": harness, "sizes": [1, 10], "steps": 10})
    assert result["status"] == "error" and [f["code"] for f in result["findings"]] == ["user_code_error"]
    found = result["findings"][0]
    assert found["where"] == line_of(project_root, harness, raising_line)
    assert found["evidence"]["sizes"] == [1, 10]


async def test_syntax_error_names_file_and_line(client, project_root):
    result = await call(client, "run_overfit_test", {"harness": "overfit_syntax_error.py"})
    assert result["status"] == "error" and codes(result) == {"user_code_error"}
    found = finding_of(result, "user_code_error")
    assert "SyntaxError" in found["message"]
    assert found["where"] == line_of(project_root, "overfit_syntax_error.py", "return nn.Sequential(")


async def test_missing_get_batch_lists_what_the_file_defines(client):
    result = await call(client, "run_overfit_test", {"harness": "overfit_no_get_batch.py"})
    assert result["status"] == "error" and codes(result) == {"harness_error"}
    message = finding_of(result, "harness_error")["message"]
    assert "get_batch" in message and "load_data" in message


# ------------------------------------------------------------------ floors, sign errors, loss dicts


async def test_label_smoothing_memorises_to_a_target_above_its_floor(client):
    result = await call(client, "run_overfit_test", {"harness": "overfit_label_smoothing.py"})
    assert_clean(result)
    for size in result["details"]["sizes"]:
        gap = size["initial_loss"] - size["loss_floor"]
        assert size["target_loss"] == pytest.approx(size["loss_floor"] + 0.05 * gap)  # floor + 5 % of the way
        assert size["reached_target"] and size["loss_floor"] - 0.01 < size["end_loss"] <= size["target_loss"]


async def test_target_below_the_floor_is_raised_never_failed(client):
    result = await call(
        client, "run_overfit_test", {"harness": "overfit_label_smoothing.py", "sizes": [10], "target_loss": 0.01}
    )
    assert_clean(result)
    assert codes(result) == {"target_below_floor"}
    size = sizes_of(result)[10]
    assert size["loss_floor"] < size["target_loss"] < size["loss_floor"] + 0.011 and size["reached_target"]


async def test_variational_bound_memorises_one_example_and_reports_its_terms(client):
    result = await call(client, "run_overfit_test", {"harness": "overfit_tiny_vae.py", "lr": 0.01, "sizes": [1, 10]})
    assert_clean(result)
    one, ten = sizes_of(result)[1], sizes_of(result)[10]
    assert one["reached_target"] and one["end_loss"] >= one["loss_floor"]
    assert set(one["terms"]) == {"recon", "kl"} and one["terms"]["recon"]["final"] < one["terms"]["recon"]["initial"]
    # N > 1 examples: the KL must tell them apart, so the bound stays above the floor: info, not a failure
    assert finding_of(result, "overfit_failed")["severity"] == "info" and not ten["reached_target"]


@pytest.mark.parametrize("names", [None, {"loss_floor": "no_floor_declared"}])
@pytest.mark.slow
async def test_flipped_kl_falls_through_the_target_and_is_never_memorised(client, names):
    args = {"harness": "overfit_tiny_vae_kl_flipped.py", "lr": 0.01, "sizes": [1, 10], "steps": 200}
    result = await call(client, "run_overfit_test", {**args, "names": names} if names else args)
    assert result["status"] == "fail"
    # Adam's moments overflow and the loss freezes near -1e21: far below zero is unbounded, falling or not.
    expected = {"negative_kl", "loss_unbounded"} | ({"loss_below_floor"} if names is None else set())
    assert codes(result, "error") == expected
    for size in result["details"]["sizes"]:
        assert not size["reached_target"] and size["end_loss"] < -1e6  # it ran on instead of stopping at the target
        assert size["terms"]["kl"]["final"] < 0 < size["terms"]["recon"]["final"]


# ------------------------------------------------------------------ train mode vs eval mode


@pytest.mark.slow
async def test_scratch_batchnorm_twin_is_clean_even_when_stopped_early(client):
    """Stopped at its target after 25 steps, momentum-0.1 running statistics still lag (eval loss 17x the
    train loss measured before they settle); the check must not call that a gap."""
    for args in ({}, {"sizes": [10, 100], "steps": 25, "lr": 0.03}):
        result = await call(client, "run_overfit_test", {"harness": "overfit_bn_scratch_clean.py", **args})
        assert_clean(result)
        for size in result["details"]["sizes"][-2:]:
            assert (
                size["mode"]["buffers_tracked"] == 2
                and size["mode"]["eval_mode_loss"] < 2 * size["mode"]["train_mode_loss"] + 0.01
            )


@pytest.mark.slow
async def test_scratch_batchnorm_on_one_example_is_info_and_larger_sizes_judged(client):
    result = await call(client, "run_overfit_test", {"harness": "overfit_bn_scratch_clean.py"})
    assert {(f["code"], f["severity"]) for f in result["findings"]} == {
        ("params_not_updated", "info"),
        ("overfit_failed", "info"),
    }
    assert sizes_of(result)[1]["mode"]["skipped"] == "BatchNorm on one example"


async def test_running_statistics_never_written_are_caught(client):
    result = await call(
        client,
        "run_overfit_test",
        {"harness": "overfit_bn_frozen_stats.py", "sizes": [10, 100], "steps": 25, "lr": 0.03},
    )
    assert codes(result, "error") == {"train_eval_gap", "buffers_not_updated"}
    gap = finding_of(result, "train_eval_gap")
    assert gap["where"] == "size 10" and gap["evidence"]["eval_mode_loss"] > 100 * gap["evidence"]["train_mode_loss"]
    assert finding_of(result, "buffers_not_updated")["where"] == "1.running_mean"


# ------------------------------------------------------------------ on-policy data (RL)


async def test_reinforce_surrogate_trains_without_false_alarms(client):
    result = await call(client, "run_overfit_test", {"harness": "overfit_reinforce.py", "lr": 0.01, "steps": 200})
    assert_clean(result)
    assert result["details"]["on_policy"] and "objective" in result["summary"]
    one = finding_of(result, "params_not_updated")
    assert one["severity"] == "info" and "normalised advantage" in one["message"]  # A = 0 for one sample
    for size in result["details"]["sizes"][1:]:
        assert size["target_loss"] is None and size["params_changed"] and size["end_loss"] < size["initial_loss"]


async def test_reinforce_without_optimizer_step_is_still_caught(client):
    result = await call(client, "run_overfit_test", {"harness": "overfit_reinforce_no_step.py", "steps": 30})
    assert codes(result, "error") == {"params_not_updated"}
    assert [f["severity"] for f in result["findings"]] == ["error"] * 3  # no size trained: size 1 stays an error


async def test_reinforce_nan_advantage_of_one_sample_is_non_finite(client):
    result = await call(
        client, "run_overfit_test", {"harness": "overfit_reinforce_nan_advantage.py", "sizes": [1, 10], "steps": 30}
    )
    assert codes(result, "error") == {"non_finite_loss"}
    assert finding_of(result, "non_finite_loss")["evidence"]["size"] == 1 and sizes_of(result)[10]["params_changed"]


async def test_schedule_names_held_fixed_by_design_are_notes_not_warnings(client):
    """A flat lr with no make_scheduler and a fixed temperature are what the paper may prescribe: a note for the
    lr (were it meant to anneal, it does not), no warning; the dqn example's epsilon stuck at 1 is the warning."""
    result = await call(client, "run_overfit_test", {"harness": "schedule_lookalikes.py", "sizes": [10], "steps": 300})
    assert_clean(result)
    note = finding_of(result, "schedule_constant")
    assert note["severity"] == "info" and note["evidence"]["metric"] == "lr"


async def test_a_loss_that_redraws_its_augmentations_is_not_called_a_failure(client):
    """Two views augmented inside loss_fn (a contrastive paper): the loss has a floor above zero that no target
    states; the test names the redrawing (info) instead of failing a correct implementation."""
    result = await call(
        client, "run_overfit_test", {"harness": "overfit_redrawn_views.py", "sizes": [10], "steps": 100}
    )
    assert result["status"] != "fail", result["summary"]
    redrawn = finding_of(result, "overfit_failed")
    assert redrawn["severity"] == "info" and "draws fresh randomness" in redrawn["message"]
    assert len(redrawn["evidence"]["redrawn"]) == 2
    assert "Memorised" not in result["summary"] and "fell short" in result["summary"]


async def test_an_adversarial_game_is_judged_on_finite_losses_and_moving_parameters_not_on_a_memorised_loss(client):
    """A GAN's summed loss has no floor and need not fall: declared `adversarial = True`, the clean harness draws
    no warning (it used to fail overfit_failed and loss_not_decreasing), a generator that never trains still does."""
    args = {"sizes": [10], "steps": 150}
    clean = await call(client, "run_overfit_test", {"harness": "gan_adversarial.py", **args})
    assert_clean(clean)
    assert clean["summary"].startswith("An adversarial game") and "Memorised" not in clean["summary"]
    assert clean["details"]["sizes"][0]["reached_target"] is False
    broken = await call(client, "run_overfit_test", {"harness": "gan_generator_detached.py", **args, "sizes": [10, 20]})
    assert [f["code"] for f in broken["findings"]] == ["params_not_updated"]  # said once for both sizes
    found = finding_of(broken, "params_not_updated")
    assert found["evidence"]["sizes"] == [10, 20]
    assert found["severity"] == "warning" and all(
        name.startswith("generator.") for name in found["evidence"]["unchanged"]
    )
    sweep = await call(client, "lr_sweep", {"harness": "gan_adversarial.py", "mode": "range"})
    assert "lr_range_inconclusive" in codes(sweep) and "adversarial game" in sweep["summary"], sweep["summary"]


async def test_a_continuous_density_declared_without_floor_is_judged_on_its_nll_falling(client):
    """A flow's NLL goes below zero on a few examples: with loss_floor = -inf that is the memorising it should do,
    not 'overfit_failed' against a target 5 % above zero (and never a NaN target)."""
    result = await call(client, "run_overfit_test", {"harness": "flow_coupling.py", "sizes": [1, 10], "steps": 200})
    assert_clean(result)
    assert result["summary"].startswith("The negative log-likelihood fell"), result["summary"]
    sizes = result["details"]["sizes"]
    assert all(
        s["target_loss"] is None and s["loss_floor"] is None and s["best_loss"] < s["initial_loss"] for s in sizes
    )
