"""check_dependencies on buggy fixtures and their clean twins (tests/harnesses/dep_*.py)."""

import pytest

from conftest import assert_clean, call, codes

pytestmark = pytest.mark.anyio


def leak_pairs(result, mode):
    return {(p["output_index"], p["input_index"]) for p in result["details"][mode]["worst"]}


async def test_missing_causal_mask_is_future_leakage_in_attention(client):
    result = await call(client, "check_dependencies", {"harness": "dep_no_causal_mask.py", "mode": "causal"})
    assert codes(result, "error") == {"future_leakage"}
    causal = result["details"]["causal"]
    assert causal["first_module"] == "blocks.0.attn"
    assert "embedding `tok_emb`" in result["details"]["method"]  # token ids: differentiated at the embedding
    assert all(later > t for t, later in leak_pairs(result, "causal"))
    assert causal["leaking_pairs"] == causal["checked_pairs"] == 28  # every (t, t' > t) pair of 8 positions


async def test_masked_language_model_is_clean_in_both_modes(client):
    result = await call(client, "check_dependencies", {"harness": "dep_causal_lm.py", "mode": "both"})
    assert_clean(result)
    assert result["details"]["causal"]["max_relative"] == 0.0
    assert result["details"]["batch"]["checked"] == [0, 1, 2, 3]


async def test_view_instead_of_transpose_leaks_at_later_examples_only(client):
    result = await call(client, "check_dependencies", {"harness": "dep_batch_view.py"})
    assert codes(result, "error") == {"batch_dependence"}
    batch = result["details"]["batch"]
    assert 0 not in batch["affected"] and 3 in batch["affected"]  # example 0 alone would look fine
    assert all(i != j for i, j in leak_pairs(result, "batch"))
    assert batch["first_module"] == "1"  # the Block whose forward does the .view


async def test_normalisation_over_the_batch_dim_is_batch_dependence(client):
    result = await call(client, "check_dependencies", {"harness": "dep_norm_over_batch.py", "batch_size": 6})
    assert codes(result, "error") == {"batch_dependence"}
    assert result["details"]["batch"]["leaking_pairs"] == 30  # everyone depends on everyone
    assert result["findings"][0]["where"] == "norm"


async def test_batchnorm_is_not_flagged_because_eval_mode(client):
    assert_clean(await call(client, "check_dependencies", {"harness": "dep_batchnorm.py"}))


async def test_clean_transformer_block_on_float_sequences(client):
    result = await call(client, "check_dependencies", {"harness": "dep_clean_block.py", "mode": "both"})
    assert_clean(result)
    assert result["details"]["causal"]["checked"] == list(range(7))


async def test_token_model_without_embedding_is_perturbed(client):
    buggy = await call(client, "check_dependencies", {"harness": "dep_onehot_running_mean.py", "mode": "both"})
    assert codes(buggy, "error") == {"future_leakage"}
    assert buggy["details"]["method"].startswith("token perturbation")
    args = {"harness": "dep_onehot_running_mean.py", "mode": "both", "model_kwargs": {"cumulative": True}}
    fixed = await call(client, "check_dependencies", args)
    assert_clean(fixed)


async def test_max_positions_caps_the_causal_check(client):
    result = await call(
        client, "check_dependencies", {"harness": "dep_no_causal_mask.py", "mode": "causal", "max_positions": 3}
    )
    assert result["details"]["causal"]["checked"] == [0, 3, 6]
    assert "future_leakage" in codes(result, "error")


async def test_causal_mode_on_a_classifier_says_what_is_missing(client):
    result = await call(client, "check_dependencies", {"harness": "clean_mlp.py", "mode": "causal"})
    assert result["status"] == "error" and codes(result) == {"harness_error"}
    assert "seq_dim" in result["summary"]
