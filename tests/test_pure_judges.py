"""The pure judgements behind findings, on made-up numbers: no worker, milliseconds each.

compare_metrics' comparison and direction, the loss judges every training check shares, the
train/eval gap, the input-scale rule, an objective's best value and first reach, and the
ablation's ranking against seed noise. (Run-state and LR judges: tests/test_run_judges.py, tests/test_lr_sweep.py.)
"""

import math

import pytest

from implement_paper.tools.compare_metrics.tool import CompareMetricsArgs, compare_metric, metric_direction
from implement_paper.tools.run_ablation.check import rank_variants
from implement_paper.tools.run_ablation.details import VariantResult
from implement_paper.tools.shared.reference_levels import level_findings, progress
from implement_paper.tools.training.objective import best_of, first_reach
from implement_paper.tools.wire.compact import evenly_spaced, significant
from implement_paper.tools.wire.details import HistoryPoint
from implement_paper.tools.worker.loss_judges import below_floor, negative_kl, unbounded
from implement_paper.tools.worker.mode_checks import train_eval_gap
from implement_paper.tools.worker.scales import scale_problem


def compared(name: str, reported: dict, measured: dict, **args):
    return compare_metric(CompareMetricsArgs(reported=reported, measured=measured, **args), name)


def test_a_metric_within_the_default_relative_tolerance_matches():
    row = compared("test_acc", {"test_acc": 0.9}, {"test_acc": 0.91})
    assert row.verdict == "match" and row.tolerance_is_default and row.rel_tolerance == 0.05
    assert row.gap == 0.01 and row.gap_relative == pytest.approx(
        0.01 / 0.9, rel=1e-5
    )  # rounded: 0.01, not 0.0100000001


def test_an_absolute_tolerance_replaces_the_default():
    row = compared("test_loss", {"test_loss": 1.0}, {"test_loss": 1.02}, tolerance=0.01)
    assert row.verdict == "worse" and not row.tolerance_is_default and row.rel_tolerance is None


def test_the_direction_decides_better_or_worse():
    assert compared("test_accuracy", {"test_accuracy": 0.8}, {"test_accuracy": 0.95}).verdict == "better"
    assert compared("test_loss", {"test_loss": 0.8}, {"test_loss": 0.95}).verdict == "worse"
    assert compared("widgets", {"widgets": 0.8}, {"widgets": 0.95}).verdict == "differs"  # the name does not say


def test_seed_noise_softens_a_worse_verdict_only_within_the_t_interval():
    beyond = compared("acc", {"acc": 0.9}, {"acc": [0.70, 0.71, 0.72]})
    assert beyond.verdict == "worse" and beyond.within_noise is False and beyond.n == 3
    noisy = compared(
        "acc", {"acc": 0.9}, {"acc": [0.5, 0.9, 0.7]}
    )  # mean 0.7, std 0.2: t(0.975, 2) * 0.2 / sqrt(3) = 0.497
    assert noisy.verdict == "worse_within_noise" and noisy.noise_bound == pytest.approx(0.496867, rel=1e-5)


def test_metrics_on_one_side_only():
    args = CompareMetricsArgs(reported={"acc": 0.9, "bleu": 30.0}, measured={"acc": 0.9, "extra": 1.0})
    assert compare_metric(args, "bleu").verdict == "missing"
    assert compare_metric(args, "extra").verdict == "not_reported"


def test_a_gap_past_the_float_range_is_judged_without_a_relative_gap():
    row = compared("score", {"score": -1e308}, {"score": 1e308}, higher_is_better=True)
    assert row.gap == math.inf and row.gap_relative is None and row.verdict == "better"


def test_direction_comes_from_the_argument_then_the_objective_then_the_name():
    args = CompareMetricsArgs(
        reported={"return": 1.0, "test_loss": 1.0},
        measured={"return": 1.0, "test_loss": 1.0},
        higher_is_better={"test_loss": True},
    )
    assert metric_direction(args, "test_loss", None) == (True, "argument")
    assert metric_direction(args, "return", {"monitor": "return", "mode": "min"}) == (False, "objective")
    assert metric_direction(args, "return", None) == (True, "name")
    assert metric_direction(args, "widgets", None) == (None, "unknown")


def test_a_loss_under_its_floor():
    found = below_floor([1.0, 0.5, -0.2, 0.1], 0.0, "size 4")
    assert found["code"] == "loss_below_floor" and found["evidence"] == {"lowest": -0.2, "step": 2, "floor": 0.0}
    assert below_floor([1.0, -0.005], 0.0, "size 4") is None  # within the margin of float error
    assert below_floor([1.0, -5.0], None, "size 4") is None  # no floor declared


def test_a_loss_still_falling_far_below_zero_is_unbounded():
    falling = [1.0 - 2.0 * step for step in range(40)]
    assert unbounded(falling, "seed 0")["code"] == "loss_unbounded"
    assert unbounded([1.0 / (1 + step) for step in range(40)], "seed 0") is None  # falls, but towards a limit
    assert unbounded(falling[:7], "seed 0") is None  # too short to say


def test_a_mostly_negative_kl_term():
    losses = [1.0] * 10
    assert negative_kl({"kl": [-0.5] * 10, "recon": [1.5] * 10}, losses, "size 4")[0]["where"] == "kl"
    assert negative_kl({"kl": [0.1] * 9 + [-0.1]}, losses, "size 4") == []  # one Monte Carlo dip
    assert negative_kl({"recon": [-1.0] * 10}, losses, "size 4") == []  # only terms named kl...


def test_train_eval_gap_needs_both_a_ratio_and_a_difference():
    assert train_eval_gap(0.1, 0.5, 100, 0)["code"] == "train_eval_gap"
    assert train_eval_gap(0.1, 0.15, 100, 0) is None  # 1.5x
    assert train_eval_gap(0.01, 0.05, 100, 0) is None  # 5x, but 0.04 apart
    assert train_eval_gap(math.nan, 1.0, 100, 0) is None


def test_input_scale():
    assert scale_problem(127.0, 73.0, 0.0, 255.0) == "large"
    assert scale_problem(0.001, 0.002, -0.01, 0.01) == "tiny"
    assert scale_problem(0.0, 1.0, -3.0, 3.0) is None


def test_best_and_first_reach_of_an_objective():
    history = [
        HistoryPoint(step=s, metrics={"acc": v}) for s, v in [(0, 0.1), (10, 0.8), (20, None), (30, 0.8), (40, 0.5)]
    ]
    best = best_of(history, {"monitor": "acc", "mode": "max"})
    assert (best.value, best.step) == (0.8, 10)  # the earliest of a tie
    assert best_of(history, {"monitor": "acc", "mode": "min"}).step == 0
    assert best_of(history, None) is None
    assert first_reach(history, "acc", 0.5, "max") == 10 and first_reach(history, "acc", 0.9, "max") is None
    assert first_reach(history, "acc", 0.2, "min") == 0


def test_ablation_ranking_against_seed_noise():
    baseline = VariantResult(name="baseline", values=[0.9, 1.0, 1.1], mean=1.0, std=0.1, final_loss=1.0)
    better = VariantResult(name="wide", values=[0.4, 0.5, 0.6], mean=0.5, std=0.1, final_loss=0.5)
    close = VariantResult(name="tweak", values=[0.9, 0.95, 1.0], mean=0.95, std=0.05, final_loss=0.95)
    failed = VariantResult(name="broken", error="TypeError")
    assert rank_variants([baseline, better, close, failed], "min") == ["wide", "tweak", "baseline"]
    assert (better.rank, better.delta_vs_baseline, better.within_noise) == (1, -0.5, False)
    assert close.within_noise is True and close.final_loss_delta == pytest.approx(-0.05)
    assert failed.rank is None
    assert rank_variants([baseline, better], "max") == ["baseline", "wide"]


def test_compact_numbers_and_samples():
    assert significant(0.04999999999999999) == 0.05 and significant(123456.0, 3) == 123000.0
    assert significant(None) is None and math.isinf(significant(math.inf))
    assert evenly_spaced(5, 10) == [0, 1, 2, 3, 4]
    assert evenly_spaced(101, 5) == [0, 25, 50, 75, 100]
    assert evenly_spaced(10, 1) == [0] and evenly_spaced(0, 3) == []


@pytest.mark.parametrize(
    ("value", "baseline", "ceiling", "expected"),
    [(25.98, 180.0, 0.05, 0.236), (120.0, 22.0, 500.0, 0.205), (261.0, 22.0, 500.0, 0.5)],
)
def test_progress_from_baseline_to_ceiling_reads_a_log_scale_across_decades(value, baseline, ceiling, expected):
    assert progress(value, baseline, ceiling) == pytest.approx(expected, abs=0.005)


def test_a_value_at_random_level_is_below_baseline_whatever_its_improvement():
    # DQN returns 9.1 -> 9.5 "improved", but a random policy gets 22.
    found = level_findings("return", 9.5, 22.0, 500.0, True, "final")
    assert [f["code"] for f in found] == ["below_baseline"] and level_findings(
        "return", 9.5, 22.0, None, None, "x"
    ) == []


def test_a_value_equal_to_its_baseline_did_not_improve_on_it():
    # A GAN covering 0 of 8 modes against a baseline of 0: not "improved on a trivial method, far from the ceiling".
    (found,) = level_findings("modes_covered", 0.0, 0.0, 8.0, True, "final")
    assert found["code"] == "below_baseline" and "no better than the baseline" in found["message"]
    assert [f["code"] for f in level_findings("modes_covered", 1.0, 0.0, 8.0, True, "final")] == ["far_from_ceiling"]
