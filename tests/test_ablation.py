"""run_ablation: the baseline and each variant trained alike, ranked by final loss."""

import pytest

from conftest import assert_clean, call, codes, finding_of

pytestmark = pytest.mark.anyio


def by_name(result):
    return {v["name"]: v for v in result["details"]["variants"]}


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
    assert "likely culprit" in result["summary"]


async def test_same_seed_gives_the_same_run(client):
    args = {"harness": "clean_mlp.py", "variants": {"same": {"hidden": 64}}, "steps": 30}
    variants = by_name(await call(client, "run_ablation", args))
    assert variants["same"]["curve"] == variants["baseline"]["curve"]


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
