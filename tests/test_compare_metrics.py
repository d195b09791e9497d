import math

import pytest

from conftest import assert_clean, call, codes

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
        client, "compare_metrics", {"reported": {"delta_t": 1.0}, "measured": {"delta_t": 2.0}, "higher_is_better": False}
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
