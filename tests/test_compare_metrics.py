import math

import pytest
from conftest import assert_clean, call, codes, finding_of

pytestmark = pytest.mark.anyio


def metric(result, name):
    return next(m for m in result["details"]["metrics"] if m["name"] == name)


async def test_matching_metrics_pass_with_the_default_tolerance(client):
    result = await call(client, "compare_metrics", {"reported": {"acc": 0.90}, "measured": {"acc": 0.89}})
    assert_clean(result)
    acc = metric(result, "acc")
    assert acc["verdict"] == "match" and acc["tolerance_is_default"] and acc["rel_tolerance"] == 0.05
    assert acc["gap"] == pytest.approx(-0.01)


async def test_a_gap_beyond_tolerance_is_a_mismatch(client):
    result = await call(client, "compare_metrics", {"reported": {"acc": 0.90}, "measured": {"acc": 0.80}})
    assert result["status"] == "fail" and codes(result, "error") == {"metric_mismatch"}
    assert result["findings"][0]["evidence"]["gap"] == pytest.approx(-0.10)


async def test_a_metric_the_run_did_not_measure_is_missing(client):
    result = await call(
        client, "compare_metrics", {"reported": {"acc": 0.9, "f1": 0.8}, "measured": {"acc": 0.9, "f_1": 0.8}}
    )
    missing = [f for f in result["findings"] if f["code"] == "metric_missing"]
    assert result["status"] == "fail" and missing[0]["where"] == "f1"
    assert "'f_1'" in missing[0]["message"]  # the near miss is named
    assert "metric_not_reported" in codes(result, "info")


async def test_seed_noise_turns_a_gap_into_a_warning_only_when_seeds_disagree(client):
    noisy = await call(client, "compare_metrics", {"reported": {"acc": 0.90}, "measured": {"acc": [0.70, 0.95, 0.80]}})
    tight = await call(client, "compare_metrics", {"reported": {"acc": 0.90}, "measured": {"acc": [0.80, 0.81, 0.805]}})
    acc = metric(noisy, "acc")
    # t(0.975, 2) = 4.303: the 95% interval of a 3-seed mean.
    assert acc["noise_bound"] == pytest.approx(4.303 * acc["measured_std"] / math.sqrt(3))
    assert acc["within_noise"] and noisy["status"] == "warn" and codes(noisy, "warning") == {"metric_mismatch"}
    assert not metric(tight, "acc")["within_noise"] and codes(tight, "error") == {"metric_mismatch"}


async def test_per_metric_tolerances_and_either_one_suffices(client):
    result = await call(
        client,
        "compare_metrics",
        {
            "reported": {"acc": 0.90, "bleu": 30.0, "ppl": 20.0},
            "measured": {"acc": 0.88, "bleu": 28.0, "ppl": 20.9},
            "tolerance": {"acc": 0.01, "ppl": 1.0},
            "rel_tolerance": {"bleu": 0.1, "acc": 0.01},
            "higher_is_better": {"ppl": False},
        },
    )
    verdicts = {m["name"]: m["verdict"] for m in result["details"]["metrics"]}
    assert verdicts == {"acc": "worse", "bleu": "match", "ppl": "match"}
    assert {f["where"] for f in result["findings"]} == {"acc"}


async def test_lower_is_better_metrics_judge_the_direction(client):
    args = {"reported": {"loss": 0.30}, "higher_is_better": False}
    better = await call(client, "compare_metrics", {**args, "measured": {"loss": 0.20}})
    worse = await call(client, "compare_metrics", {**args, "measured": {"loss": 0.40}})
    assert better["status"] == "pass" and codes(better) == {"metric_exceeds_reported"}
    assert metric(better, "loss")["verdict"] == "better"
    assert codes(worse, "error") == {"metric_mismatch"}


@pytest.mark.parametrize(
    "arguments, words",
    [
        ({"reported": {"acc": float("nan")}, "measured": {"acc": 0.9}}, "reported['acc'] holds NaN"),
        ({"reported": {"acc": 0.9}, "measured": {"acc": [0.9, float("inf")]}}, "measured['acc'] holds NaN"),
        ({"reported": {"acc": 0.9}, "measured": {"acc": 0.9}, "tolerance": {"ac": 0.1}}, "unknown metric(s) ['ac']"),
        ({"reported": {"acc": 0.9}, "measured": {"acc": 0.9}, "rel_tolerance": -0.1}, "rel_tolerance"),
    ],
)
async def test_bad_input_is_refused_with_a_message(client, arguments, words):
    result = await client.call_tool("compare_metrics", arguments)
    assert result.is_error and words in result.content[0].text


@pytest.mark.parametrize(
    ("name", "measured", "verdict"),
    [
        ("test_loss", 0.20, "better"),
        ("neg_elbo", 90.0, "better"),
        ("perplexity", 30.0, "worse"),
        ("test_error", 0.02, "better"),
        ("fid", 40.0, "worse"),
        ("test_accuracy", 0.80, "worse"),
        ("elbo", -90.0, "better"),
        ("mean_return", 150.0, "worse"),
    ],
)
async def test_direction_is_guessed_from_the_metric_name(client, name, measured, verdict):
    reported = {"test_loss": 0.30, "neg_elbo": 100.0, "perplexity": 20.0, "test_error": 0.05, "fid": 20.0,
                "test_accuracy": 0.90, "elbo": -100.0, "mean_return": 200.0}[name]  # fmt: skip
    result = await call(client, "compare_metrics", {"reported": {name: reported}, "measured": {name: measured}})
    row = metric(result, name)
    assert row["verdict"] == verdict and row["direction_from"] == "name"


async def test_an_ambiguous_name_asks_for_higher_is_better(client):
    result = await call(client, "compare_metrics", {"reported": {"delta_t": 1.0}, "measured": {"delta_t": 2.0}})
    row = metric(result, "delta_t")
    assert row["verdict"] == "differs" and row["higher_is_better"] is None and row["direction_from"] == "unknown"
    assert codes(result, "warning") == {"metric_mismatch"} and "higher_is_better" in result["findings"][0]["suggestion"]
    assert "pass higher_is_better" in result["summary"]
    given = await call(
        client,
        "compare_metrics",
        {"reported": {"delta_t": 1.0}, "measured": {"delta_t": 2.0}, "higher_is_better": False},
    )
    assert metric(given, "delta_t")["verdict"] == "worse" and metric(given, "delta_t")["direction_from"] == "argument"


@pytest.mark.parametrize("values", [[1e308, 1e308], [1.7e308, -1.7e308]])
async def test_huge_values_do_not_overflow(client, values):
    result = await call(client, "compare_metrics", {"reported": {"acc": 1e308}, "measured": {"acc": values}})
    assert result["status"] in ("pass", "warn", "fail") and metric(result, "acc")["n"] == 2


async def test_a_run_takes_the_direction_from_its_objective(client):
    args = {"harness": "compare_objective_min.py", "steps": 5, "lr": 1e-3}
    run_id = (await call(client, "start_training", args))["details"]["run_id"]
    for _ in range(30):
        status = await call(client, "training_status", {"run_id": run_id, "wait_s": 10})
        if status["details"]["status"] not in ("queued", "running"):
            break
    result = await call(client, "compare_metrics", {"run_id": run_id, "reported": {"spread": 0.0}, "tolerance": 1.0})
    row = metric(result, "spread")
    assert row["direction_from"] == "objective" and row["higher_is_better"] is False and row["verdict"] == "worse"


async def _finished(client, args: dict) -> str:
    run_id = (await call(client, "start_training", args))["details"]["run_id"]
    for _ in range(30):
        status = await call(client, "training_status", {"run_id": run_id, "wait_s": 10})
        if status["details"]["status"] not in ("queued", "running"):
            break
    return run_id


async def test_seed_noise_is_never_wider_than_the_metric_range(client):
    # Returns over three seeds that disagree wildly: a bare t-interval is ±600 on a return in [0, 500].
    args = {"reported": {"return": 480.0}, "measured": {"return": [20.0, 450.0, 500.0]}}
    unbounded = metric(await call(client, "compare_metrics", args), "return")
    bounded = await call(client, "compare_metrics", {**args, "bounds": {"return": [0, 500]}})
    row = metric(bounded, "return")
    assert unbounded["noise_bound"] > 500 and row["noise_bound"] == 500 and row["noise_spans_range"]
    assert "decide nothing" in finding_of(bounded, "metric_mismatch")["message"]


async def test_every_seed_below_the_target_is_not_seed_noise(client):
    result = await call(
        client, "compare_metrics", {"reported": {"return": 200.0}, "measured": {"return": [60.0, 190.0, 120.0]}}
    )
    row = metric(result, "return")
    assert abs(row["gap"]) <= row["noise_bound"] and not row["within_noise"] and row["verdict"] == "worse"
    assert codes(result, "error") == {"metric_mismatch"} and "every seed is worse" in result["findings"][0]["message"]


async def test_a_reference_that_is_not_the_paper_is_named_so(client):
    args = {"reported": {"acc": 0.90}, "measured": {"acc": 0.80}, "reported_is": "reference"}
    result = await call(client, "compare_metrics", args)
    assert "paper" not in result["summary"] + result["findings"][0]["message"]
    assert "the reference's 0.9" in result["findings"][0]["message"]


@pytest.mark.slow
async def test_a_metric_measured_nan_says_nan_not_missing(client):
    run_id = await _finished(client, {"harness": "train_bad_metric.py", "steps": 20, "lr": 3e-3, "seeds": [0, 1]})
    result = await call(client, "compare_metrics", {"run_id": run_id, "reported": {"precision": 0.9}})
    assert metric(result, "precision")["verdict"] == "non_finite" and codes(result, "error") == {"non_finite_metric"}
    assert "NaN/Inf on 2 seed(s)" in finding_of(result, "non_finite_metric")["message"]


@pytest.mark.parametrize(
    ("measured", "code"),
    [(9.5, "below_baseline"), (600.0, "beyond_ceiling"), (120.0, "far_from_ceiling"), (400.0, None)],
)
async def test_a_metric_is_judged_against_its_baseline_and_ceiling(client, measured, code):
    # A DQN return: random play gets 22, the environment caps it at 500; the name gives no direction.
    args = {"reported": {"score": 450.0}, "measured": {"score": measured}, "baseline": {"score": 22.0},
            "ceiling": {"score": 500.0}, "tolerance": 100}  # fmt: skip
    result = await call(client, "compare_metrics", args)
    assert metric(result, "score")["direction_from"] == "levels"
    assert {c for c in codes(result) if c in ("below_baseline", "beyond_ceiling", "far_from_ceiling")} == (
        {code} if code else set()
    )


async def test_far_from_ceiling_is_measured_on_a_log_scale_across_decades(client):
    # An untrained sampler at SWD 180, a data floor of 0.05: 25.98 is most of the way in linear terms only.
    args = {"reported": {"swd": 0.5}, "measured": {"swd": 25.98}, "baseline": {"swd": 180.0}, "ceiling": {"swd": 0.05}}
    found = finding_of(await call(client, "compare_metrics", args), "far_from_ceiling")
    assert found["evidence"]["progress"] == pytest.approx(0.236, abs=0.01) and "log scale" in found["message"]
