"""run_ablation: the baseline and each variant trained alike, ranked by final loss."""

from dataclasses import replace

import pytest
from conftest import assert_clean, call, codes, finding_of

pytestmark = pytest.mark.anyio


def by_name(result):
    return {v["name"]: v for v in result["details"]["variants"]}


@pytest.mark.slow
async def test_hidden_sizes_of_a_clean_mlp_all_train(client):
    result = await call(
        client,
        "run_ablation",
        {"harness": "clean_mlp.py", "variants": {"narrow": {"hidden": 8}, "wide": {"hidden": 128}}, "steps": 100},
    )
    assert_clean(result)
    variants = by_name(result)
    assert sorted(result["details"]["ranking"]) == ["baseline", "narrow", "wide"]
    assert variants["baseline"]["delta_vs_baseline"] == 0.0
    assert variants["narrow"]["params"] < variants["baseline"]["params"] < variants["wide"]["params"]
    assert all(v["final_loss"] < 0.9 * v["initial_loss"] for v in variants.values())
    assert any(a["kind"] == "plot" for a in result["artifacts"])


@pytest.mark.slow
async def test_removing_the_broken_component_makes_it_train(client):
    result = await call(
        client, "run_ablation", {"harness": "ablation_feature_mask.py", "variants": {"no_mask": {"use_mask": False}}}
    )
    assert result["details"]["ranking"] == ["no_mask", "baseline"]
    assert codes(result, "error") == {"loss_not_decreasing"}  # the baseline, which keeps the broken mask
    assert result["findings"][0]["where"] == "baseline"
    assert codes(result, "info") == {"variant_beats_baseline"}
    no_mask = by_name(result)["no_mask"]
    assert no_mask["rank"] == 1 and no_mask["delta_vs_baseline"] < -1.0
    assert "fix the component it switches off" in result["findings"][0]["message"]
    assert "inspect it for a bug" in finding_of(result, "variant_beats_baseline")["suggestion"]


async def test_same_seed_gives_the_same_run(client):
    args = {
        "harness": "clean_mlp.py",
        "model_kwargs": {"hidden": 32},
        "variants": {"same": {"hidden": 64}, "full": {}},
        "steps": 30,
    }
    result = await call(client, "run_ablation", {**args, "model_kwargs": None})
    variants = by_name(result)
    assert variants["same"]["curve"] == variants["full"]["curve"] == variants["baseline"]["curve"]
    # hidden=64 is build_model's default: that variant changes nothing; "full" restates the baseline on purpose
    assert codes(result) == {"variant_has_no_effect"} and finding_of(result, "variant_has_no_effect")["where"] == "same"
    restated = await call(client, "run_ablation", {**args, "variants": {"full": {}, "again": {"hidden": 32}}})
    assert_clean(restated)


async def test_a_switch_build_model_ignores_has_no_effect(client):
    args = {
        "harness": "ablation_ignored_switch.py",
        "variants": {"no_pe": {"use_pe": False}, "narrow": {"hidden": 16}},
        "steps": 40,
    }
    result = await call(client, "run_ablation", args)
    assert result["status"] == "warn" and codes(result, "warning") == {"variant_has_no_effect"}
    found = finding_of(result, "variant_has_no_effect")
    assert found["where"] == "no_pe" and "never used" in found["suggestion"]


@pytest.mark.slow
async def test_a_component_that_helps_is_not_a_bug(client):
    # The no-BN baseline barely learns in 150 SGD steps; switching BN on is the paper's point, not a fix.
    args = {
        "harness": "ablation_sigmoid_bn.py",
        "variants": {"bn": {"batch_norm": True}},
        "seeds": [0, 1],
        "lr": 0.5,
        "steps": 150,
    }
    result = await call(client, "run_ablation", args)
    assert_clean(result)
    details = result["details"]
    assert (
        details["rank_by"] == "test_accuracy" and details["mode"] == "max" and details["ranking"] == ["bn", "baseline"]
    )
    assert by_name(result)["bn"]["within_noise"] is False and len(by_name(result)["bn"]["values"]) == 2
    assert "helps" in finding_of(result, "variant_beats_baseline")["suggestion"]
    assert "fix" not in result["summary"]


async def test_differences_within_the_seed_spread_are_noise(client):
    args = {"harness": "clean_mlp.py", "variants": {"wider": {"hidden": 68}}, "steps": 60, "seeds": [0, 1, 2]}
    result = await call(client, "run_ablation", args)
    assert_clean(result)
    assert result["details"]["ranking"][0] == "wider" and by_name(result)["wider"]["within_noise"] is True
    assert (
        "variant_beats_baseline" not in codes(result)
        and "Within seed noise of the baseline: wider" in result["summary"]
    )


@pytest.mark.slow
async def test_a_variant_without_a_loss_term_is_ranked_by_the_objective(client):
    args = {"harness": "ablation_vae_kl.py", "variants": {"no_kl": {"beta": 0.0}}, "steps": 150, "lr": 0.01}
    by_objective = await call(client, "run_ablation", args)
    assert by_objective["details"]["rank_by"] == "test_elbo" and by_objective["details"]["ranking"] == [
        "baseline",
        "no_kl",
    ]
    by_loss = await call(client, "run_ablation", {**args, "rank_by": "loss"})
    assert by_loss["details"]["ranking"] == ["no_kl", "baseline"]  # a lower loss: it lacks the KL
    assert "not comparable" in by_loss["summary"] and "Best" not in by_loss["summary"]
    assert "no longer the sum of its terms" in by_loss["summary"] and "rank_by='test_elbo'" in by_loss["summary"]
    assert (
        by_loss["details"]["variants"][0]["adds_up"] is True and by_loss["details"]["variants"][1]["adds_up"] is False
    )
    assert "variant_beats_baseline" not in codes(by_loss)


async def test_rank_by_an_unknown_metric_lists_the_metrics(client):
    args = {
        "harness": "ablation_sigmoid_bn.py",
        "variants": {"bn": {"batch_norm": True}},
        "steps": 5,
        "rank_by": "val_acc",
    }
    result = await call(client, "run_ablation", args)
    assert codes(result) == {"harness_error"} and "test_accuracy" in result["findings"][0]["message"]


async def test_a_failing_variant_does_not_hide_the_others(client):
    result = await call(
        client,
        "run_ablation",
        {
            "harness": "ablation_feature_mask.py",
            "model_kwargs": {"use_mask": False},
            "variants": {"typo": {"hiden": 3}, "overflow": {"init_scale": 1e39}, "narrow": {"hidden": 16}},
            "steps": 50,
        },
    )
    assert result["status"] == "error"
    assert codes(result, "error") == {"user_code_error", "non_finite_loss"}
    nan = finding_of(result, "non_finite_loss")
    assert nan["where"] == "overflow"
    variants = by_name(result)
    assert "hiden" in variants["typo"]["error"] and variants["typo"]["rank"] is None
    assert variants["overflow"]["non_finite_at_step"] == 0
    assert sorted(result["details"]["ranking"]) == ["baseline", "narrow"]


@pytest.mark.parametrize("variants", [{"baseline": {"hidden": 8}}, {" ": {"hidden": 8}}, {}])
async def test_bad_variant_names_are_refused(client, variants):
    result = await client.call_tool("run_ablation", {"harness": "clean_mlp.py", "variants": variants})
    assert result.is_error and "variants" in result.content[0].text


def test_a_switch_named_after_a_loss_term_makes_losses_incomparable():
    from implement_paper.tools.run_ablation.check import changes_loss
    from implement_paper.tools.run_ablation.details import VariantResult

    baseline = VariantResult(name="baseline", terms=["kl", "recon"], adds_up=True)
    assert "a switch on a loss term" in changes_loss(replace(baseline, model_kwargs={"kl_weight": 0.0}), baseline)
    assert "loss terms are" in changes_loss(replace(baseline, terms=["recon"]), baseline)
    assert changes_loss(replace(baseline, model_kwargs={"hidden": 8}), baseline) is None


async def test_a_variant_whose_loss_blows_up_gets_a_finding(client):
    args = {
        "harness": "ablation_grad_sign.py",
        "variants": {"straight_through": {"straight_through": True}},
        "steps": 100,
        "lr": 0.05,
    }
    result = await call(client, "run_ablation", args)
    found = finding_of(result, "diverged")
    assert found["where"] == "straight_through" and found["severity"] == "warning"
    assert found["evidence"]["final_loss"] > 3 * found["evidence"]["initial_loss"]


async def test_a_variant_that_restates_the_baseline_is_not_trained_again(client):
    args = {
        "harness": "clean_mlp.py",
        "model_kwargs": {"hidden": 32},
        "variants": {"full": {}, "again": {"hidden": 32}, "wide": {"hidden": 48}},
        "steps": 30,
    }
    result = await call(client, "run_ablation", args)
    variants = by_name(result)
    assert variants["full"]["restates_baseline"] and variants["again"]["restates_baseline"]
    assert not variants["wide"]["restates_baseline"] and "full, again restate(s) the baseline" in result["summary"]


async def test_the_summary_agrees_with_the_ranking(client):
    # Ranked by accuracy with one seed, variants ahead of the baseline are never "better" (only a loss halved
    # is): the summary must name them, not say "No variant beats the baseline" beside a ranking they lead.
    args = {"harness": "train_clean.py", "variants": {"wide": {"hidden": 128}, "narrow": {"hidden": 8}}, "steps": 40}
    result = await call(client, "run_ablation", args)
    ranking = result["details"]["ranking"]
    ahead = [name for name in ranking[: ranking.index("baseline")] if by_name(result)[name]["delta_vs_baseline"]]
    assert ahead and "No variant beats the baseline." not in result["summary"]
    assert f"{', '.join(ahead)} rank(s) above the baseline" in result["summary"]
