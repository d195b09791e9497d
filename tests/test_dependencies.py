"""check_dependencies on buggy fixtures and their clean twins (tests/harnesses/dep_*.py)."""

import json

import pytest
import torch
from conftest import assert_clean, call, codes, finding_of

from implement_paper.tools.check_dependencies import causes
from implement_paper.tools.check_dependencies.forward import Axis, ForwardTrace

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
    batch = result["details"]["batch"]
    assert batch["checked"] == [0, 1, 2, 3] and batch["checked_pairs"] == 12
    # every pair screened in two backward passes, exact zeros for a clean model; the causal cuts add one
    assert batch["plan"] == "screen" and batch["max_relative"] == 0.0 and "cancel" in batch["not_ruled_out"]
    assert result["details"]["cost"]["cotangents"] == 3


async def test_view_instead_of_transpose_leaks_at_later_examples_only(client):
    result = await call(client, "check_dependencies", {"harness": "dep_batch_view.py"})
    assert codes(result, "error") == {"batch_dependence"}
    batch = result["details"]["batch"]
    assert 0 not in batch["affected"] and 3 in batch["affected"]  # example 0 alone would look fine
    assert batch["plan"] == "rows"  # the screen saw the leak; each example's own gradient located it
    assert result["details"]["cost"]["cotangents"] > 2 + 4  # screen, rows, then probes to localise
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
    causal = result["details"]["causal"]
    assert causal["plan"] == "cuts" and causal["probes"] == [0, 2, 4, 6]  # the cheap default: 4 cuts
    assert (
        causal["covered_pairs"] == 25 and causal["total_pairs"] == 28 and "exhaustive=true" in causal["not_ruled_out"]
    )
    exhaustive = await call(
        client, "check_dependencies", {"harness": "dep_clean_block.py", "mode": "causal", "exhaustive": True}
    )
    assert_clean(exhaustive)
    assert exhaustive["details"]["causal"]["checked"] == list(range(7))
    assert exhaustive["details"]["causal"]["not_ruled_out"] is None


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
    assert result["details"]["causal"]["plan"] == "rows"
    assert "future_leakage" in codes(result, "error")


async def test_causal_mode_on_a_classifier_says_what_is_missing(client):
    result = await call(client, "check_dependencies", {"harness": "clean_mlp.py", "mode": "causal"})
    assert result["status"] == "error" and codes(result) == {"harness_error"}
    assert "seq_dim" in result["summary"]


async def test_the_gauntlets_both_call_on_a_model_without_positions_checks_the_batch_and_says_causal_does_not_apply(
    client,
):
    """The guides' generic call (mode both, seq_dim 1) on an MLP, a policy or a GAN is no error of the harness."""
    result = await call(client, "check_dependencies", {"harness": "clean_mlp.py", "mode": "both", "seq_dim": 1})
    assert result["status"] == "pass" and codes(result) == {"causal_not_applicable"}, result["summary"]
    assert result["details"]["batch"]["checked"] and result["details"]["causal"] is None
    assert finding_of(result, "causal_not_applicable")["evidence"]["seq_dim"] == 1
    # a flow maps (B, 2) coordinates to (B, 2): same shape, but features that its coupling layers mix by design
    flow = await call(client, "check_dependencies", {"harness": "flow_coupling.py", "mode": "both", "seq_dim": 1})
    assert flow["status"] == "pass" and codes(flow) == {"causal_not_applicable"}, flow["summary"]
    # the batch half still finds what it finds
    leaky = await call(client, "check_dependencies", {"harness": "dep_norm_over_batch.py", "mode": "both"})
    assert {"causal_not_applicable", "batch_dependence"} <= codes(leaky), leaky["summary"]


async def test_default_causal_check_costs_a_few_passes_and_exhaustive_one_per_position(client):
    cheap = (await call(client, "check_dependencies", {"harness": "dep_causal_lm.py", "mode": "causal"}))["details"][
        "cost"
    ]
    # 4 cuts striped one per example of 4: one cotangent, one input-only backward
    assert (
        cheap["forward_passes"] == 1 and cheap["cotangents"] == 1 and cheap["backward_calls"] == 1 and cheap["batched"]
    )
    args = {"harness": "dep_causal_lm.py", "mode": "causal", "max_positions": 7}  # >= T-1: every position
    every = await call(client, "check_dependencies", args)
    assert_clean(every)
    assert every["details"]["causal"]["covered_pairs"] == 28
    assert every["details"]["cost"]["cotangents"] == 2  # 7 rows striped over 4 examples: 2 backward passes


# (fixture, the cause the evidence must rank first). Two layers, T=8; see dependencies_causes.py.
PLANTED_LEAKS = [
    ("dep_no_causal_mask.py", "mask_missing"),
    ("dep_mask_transposed.py", "mask_transposed"),
    ("dep_mask_off_by_one.py", "mask_off_by_one"),
    ("dep_softmax_queries.py", "softmax_dim"),
    ("dep_heads_view.py", "heads_merged"),
]


@pytest.mark.parametrize("harness, cause", PLANTED_LEAKS)
async def test_leak_causes_are_ranked_by_the_evidence(client, project_root, harness, cause):
    result = await call(client, "check_dependencies", {"harness": harness, "mode": "causal"})
    leak = finding_of(result, "future_leakage")
    assert leak["where"] == "blocks.0.attn" and leak["evidence"]["likely_causes"][0] == cause
    for words in ("missing", "transposed", "off by one", "wrong dimension", "without the transpose", "targets"):
        assert words in leak["suggestion"]  # every usual cause is named, the likeliest first
    assert leak["suggestion"].index(causes.CAUSES[cause]) < leak["suggestion"].index("2. ")
    # Without the softmax calls (a fused kernel hides them), the dependence pattern alone ranks them the same.
    report = json.loads((project_root / result["artifacts"][0]["path"]).read_text())
    rows = report["relative_dependence"]["causal"]
    matrix = torch.full((8, 8), float("nan"), dtype=torch.float64)
    for index, row in rows.items():
        matrix[int(index)] = torch.tensor([float("nan") if v is None else v for v in row], dtype=torch.float64)
    assert causes.rank(causes.pattern(matrix, 1e-6), [], False)[0] == cause


async def test_targets_equal_to_inputs_are_flagged_at_get_batch(client):
    result = await call(client, "check_dependencies", {"harness": "dep_targets_unshifted.py", "mode": "causal"})
    assert codes(result, "error") == {"future_leakage"}
    assert finding_of(result, "future_leakage")["where"] == "get_batch"
    assert result["details"]["causal"]["leaking_pairs"] == 0  # the model itself is clean


@pytest.mark.parametrize("causal", [True, False])
async def test_positional_encoding_never_added_is_found_causal_or_not(client, causal):
    args = {"harness": "dep_pe_not_added.py", "mode": "position", "model_kwargs": {"causal": causal}}
    result = await call(client, "check_dependencies", args)
    assert codes(result, "error") == {"no_positional_information"}
    position = result["details"]["position"]
    if causal:  # later layers see order through the mask's side effect; the first layer is blind
        assert position["blind_first_layer"] == "blocks.0.attn.proj" and position["largest_change"] > 1e-3
    else:  # full attention without positions: nothing after the shuffled prefix moves
        assert position["largest_change"] < 1e-5 and "permutation-equivariant" in result["summary"]


@pytest.mark.parametrize("harness", ["dep_causal_lm.py", "dep_no_causal_mask.py", "dep_rope_lm.py"])
async def test_models_with_positions_are_clean_in_position_mode(client, harness):
    result = await call(client, "check_dependencies", {"harness": harness, "mode": "position"})
    assert_clean(result)  # learned positions (causal, bidirectional) and rotary ones inside attention
    assert result["details"]["position"]["largest_change"] > 1e-2


async def test_encoder_decoder_dict_batch_through_the_forward_hook(client):
    clean = await call(client, "check_dependencies", {"harness": "dep_encdec_dict.py", "mode": "both", "input": "tgt"})
    assert_clean(clean)
    assert clean["details"]["input"] == "tgt" and clean["details"]["output_shape"] == [4, 5, 12]
    assert_clean(
        await call(client, "check_dependencies", {"harness": "dep_encdec_dict.py", "mode": "position", "input": "src"})
    )
    args = {"harness": "dep_encdec_dict.py", "mode": "causal", "input": "tgt", "model_kwargs": {"decoder_mask": False}}
    leak = await call(client, "check_dependencies", args)
    assert codes(leak, "error") == {"future_leakage"} and leak["findings"][0]["where"] == "decoder.self_attn"
    args = {
        "harness": "dep_encdec_dict.py",
        "mode": "position",
        "input": "src",
        "model_kwargs": {"src_positions": False},
    }
    blind = await call(client, "check_dependencies", args)
    assert codes(blind, "error") == {"no_positional_information"}
    assert blind["details"]["position"]["per_position"] is False  # source and output lengths differ: whole output


async def test_a_dict_batch_without_input_says_which_keys_it_has(client):
    result = await call(client, "check_dependencies", {"harness": "dep_encdec_dict.py", "mode": "causal"})
    assert codes(result) == {"harness_error"}
    assert "['src', 'tgt', 'y']" in result["summary"] and "input=" in result["summary"]


def test_attention_recorder_names_the_dim_and_the_mask_pattern():
    T = 5
    ones = torch.ones(T, T, dtype=torch.bool)
    scores = torch.randn(2, 3, T, T)
    q, k, longer = torch.randn(1, 2, T, 4), torch.randn(1, 2, T, 4), torch.randn(1, 2, T + 2, 4)
    calls = []
    with causes.AttentionMaskRecorder(calls):
        torch.softmax(scores.masked_fill(ones.triu(1), float("-inf")), dim=-1)
        scores.masked_fill(ones.triu(2), -1e9).softmax(dim=2)  # dim 2 of 4 is the queries
        torch.nn.functional.softmax(scores.masked_fill(ones.tril(-1), float("-inf")), dim=3)
        torch.nn.functional.scaled_dot_product_attention(q, k, k, is_causal=True)
        torch.nn.functional.scaled_dot_product_attention(q, k, k, attn_mask=ones.tril())  # True = may attend
        torch.nn.functional.scaled_dot_product_attention(q, k, k)
        torch.nn.functional.scaled_dot_product_attention(q, longer, longer)  # cross-attention: not recorded
    assert [(c["dim"], c["mask"]) for c in calls] == [
        (-1, "causal"),
        (-2, "off_by_1"),
        (-1, "transposed"),
        (-1, "causal"),
        (-1, "causal"),
        (-1, "none"),
    ]


@pytest.mark.slow
def test_batch_screen_gives_exact_zeros_when_clean_and_sees_a_weak_leak():
    """Two passes, example i weighted 2**i: a clean model's gradients differ by exactly those factors."""
    from implement_paper.tools.check_dependencies import check as deps

    torch.manual_seed(0)
    x = torch.randn(6, 5, 8, requires_grad=True)
    weight = torch.randn(8, 8)
    axis = Axis("batch", 0, 6)

    def screen(output):
        return deps.batch_screen(ForwardTrace(output=output, leaf=x, method="test"), axis, seed=0)

    clean = screen(torch.tanh(x @ weight).softmax(-1))  # a deep-ish nonlinear chain: rounding must not show
    assert torch.equal(clean, torch.eye(6, dtype=torch.float64))
    leaky = screen(torch.tanh(x @ weight) + 1e-4 * x.roll(1, dims=0))  # example i reads example i-1, weakly
    off_diagonal = leaky[~torch.eye(6, dtype=torch.bool)]
    assert off_diagonal.min() > deps.THRESHOLD  # every example is read by another one


async def test_a_leak_between_examples_is_not_called_a_future_leak_in_causal_mode(client):
    """The default cuts share a backward pass, one per example, so a leak between examples reaches the
    cut of another example; re-measured alone it vanishes, and it is named for what it is."""
    result = await call(client, "check_dependencies", {"harness": "dep_batch_view.py", "mode": "causal"})
    assert codes(result, "error") == {"batch_dependence"}
    assert 'mode="batch"' in finding_of(result, "batch_dependence")["suggestion"]
    assert result["details"]["causal"]["leaking_pairs"] == 0


async def test_nan_backward_is_nothing_measured_not_a_crash(client):
    """grad_sqrt_zero.py: sqrt at 0 makes every vector-Jacobian product NaN; no pair can be judged."""
    result = await call(client, "check_dependencies", {"harness": "grad_sqrt_zero.py"})
    assert result["status"] == "inconclusive" and codes(result, "warning") == {"nothing_measured"}
    assert "gradient_check" in finding_of(result, "nothing_measured")["suggestion"]
    assert result["details"]["batch"]["max_relative"] is None
