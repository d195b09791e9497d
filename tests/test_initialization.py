"""check_initialization on buggy fixtures and their clean twins (tests/harnesses/init_*.py)."""

import json
import math

import pytest
import torch
from conftest import HARNESSES, assert_clean, call, codes, finding_of

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "harness", ["clean_mlp.py", "init_clean_tanh.py", "init_clean_cnn.py", "inspect_mnist1d_cnn.py"]
)
async def test_clean_models_get_no_warning(client, harness):
    result = await call(client, "check_initialization", {"harness": harness})
    assert_clean(result)
    assert abs(result["details"]["ratio"] - 1) < 0.05  # default and Xavier inits start within a few % of ln C


async def test_loss_at_init_is_ln_c_of_num_classes(client):
    result = await call(client, "check_initialization", {"harness": "clean_mlp.py"})
    assert result["details"]["expected_loss"] == pytest.approx(math.log(4))
    assert result["details"]["expected_from"] == "ln(num_classes=4)"


async def test_weight_std_matches_a_naive_computation(client, monkeypatch):
    monkeypatch.syspath_prepend(str(HARNESSES))
    import clean_mlp

    torch.manual_seed(0)  # the tool seeds with seed=0 before build_model
    model = clean_mlp.build_model()
    result = await call(client, "check_initialization", {"harness": "clean_mlp.py"})
    rows = {row["layer"]: row for row in result["details"]["weights"]}
    assert rows["2"]["std"] == pytest.approx(model[2].weight.std(correction=0).item(), rel=1e-3)
    assert rows["2"]["default_std"] == pytest.approx(1 / math.sqrt(3 * 64), rel=1e-3)
    assert rows["2"]["kaiming_std"] == pytest.approx(math.sqrt(2 / 64), rel=1e-3)
    assert "pytorch_default" in rows["2"]["matches"]


async def test_functional_activations_are_seen(client):
    result = await call(client, "check_initialization", {"harness": "inspect_mnist1d_cnn.py"})
    names = [row["where"] for row in result["details"]["activations"]]
    assert names == [
        "relu in <model>",
        "relu after conv1",
        "relu after conv2",
        "relu after conv3",
    ]  # x.relu(), no nn.ReLU


async def test_xavier_tanh_net_is_recognised_as_xavier(client):
    result = await call(client, "check_initialization", {"harness": "init_clean_tanh.py"})
    assert result["details"]["init_schemes"]["xavier"] == 7


async def test_huge_init_saturates_tanh(client):
    result = await call(client, "check_initialization", {"harness": "init_huge_tanh.py"})
    assert "saturated_activations" in codes(result, "warning")
    assert finding_of(result, "saturated_activations")["where"] in {
        "1",
        "3",
        "5",
        "7",
        "9",
        "11",
    }  # the nn.Tanh modules
    assert result["details"]["init_schemes"] == {"none": 7}


async def test_negative_bias_kills_relus(client):
    result = await call(client, "check_initialization", {"harness": "init_dead_relu.py"})
    assert result["status"] == "fail"
    dead = finding_of(result, "dead_activations")
    assert dead["severity"] == "error" and dead["evidence"]["layers"] == {"1": 1.0, "3": 1.0}


async def test_logits_times_100_mismatch_the_init_loss(client):
    result = await call(client, "check_initialization", {"harness": "init_scaled_logits.py"})
    assert codes(result, "warning") == {"init_loss_mismatch"}
    assert result["details"]["ratio"] > 5


async def test_tiny_init_vanishes(client):
    result = await call(client, "check_initialization", {"harness": "init_tiny_deep.py"})
    assert codes(result, "warning") == {"vanishing_activations"}
    assert result["details"]["trend"]["ratio"] < 1e-10


async def test_raw_pixels_are_named_as_the_likely_cause(client):
    result = await call(client, "check_initialization", {"harness": "init_raw_pixels.py"})
    assert result["findings"][0]["code"] == "unnormalized_inputs"
    mismatch = finding_of(result, "init_loss_mismatch")
    assert mismatch["evidence"]["likely_cause"] == "unnormalized_inputs"
    assert result["details"]["inputs"]["max"] == 255


async def test_expected_init_loss_overrides_num_classes(client):
    result = await call(client, "check_initialization", {"harness": "clean_mlp.py", "expected_init_loss": 5.0})
    assert "init_loss_mismatch" in codes(result, "warning")
    loose = await call(
        client, "check_initialization", {"harness": "clean_mlp.py", "expected_init_loss": 5.0, "tolerance": 3.0}
    )
    assert_clean(loose)


async def test_regression_says_it_cannot_check_the_loss(client):
    result = await call(client, "check_initialization", {"harness": "init_regression.py"})
    assert_clean(result)
    assert codes(result) == {"init_loss_unchecked"}


async def test_answer_stays_compact_on_a_354_module_model(client):
    result = await call(client, "check_initialization", {"harness": "inspect_deep_stack.py"})
    assert_clean(result)
    assert len(json.dumps(result)) < 8000
    assert len(result["details"]["activations"]) <= 10 and result["details"]["rows_total"]["activations"] == 50
    assert [a["kind"] for a in result["artifacts"]] == ["report"]


# ------------------------------------------------------------------ attention rows at init


@pytest.mark.parametrize(("attention", "where"), [("manual", "attn"), ("sdpa", "attn"), ("mha", "attn.mha")])
async def test_scaled_attention_with_default_init_is_quiet(client, attention, where):
    result = await call(
        client, "check_initialization", {"harness": "init_attention_clean.py", "model_kwargs": {"attention": attention}}
    )
    assert_clean(result)
    [row] = result["details"]["attention"]
    assert row["where"] == where and row["shape"] == [
        1,
        4,
        12,
        12,
    ]  # the first example of 128: enough rows, 1/128 the cost
    assert row["mean_max_prob"] < 0.4 and row["mean_entropy_ratio"] > 0.9
    assert row["rows_with_one_key"] == 4  # each head's causal first row: one-hot by construction, left out


async def test_rows_a_padding_mask_leaves_two_keys_are_peaked_by_the_mask_not_the_scale(client):
    """BERT's additive mask (-10000 plus the score) over 2 real tokens of 12: every row sees two keys, so
    its largest weight is at least 1/2 whatever the scale; no saturated_attention, the rows counted apart."""
    result = await call(client, "check_initialization", {"harness": "init_attention_padded_clean.py"})
    assert_clean(result)
    [row] = result["details"]["attention"]
    assert row["keys"] == 2 and row["rows"] == 0 and row["rows_with_two_keys"] == 48 and row["mean_max_prob"] is None


@pytest.mark.parametrize(("attention", "where"), [("manual", "attn"), ("sdpa", "attn"), ("mha", "attn.mha")])
async def test_unscaled_attention_with_unit_normal_init_saturates(client, attention, where):
    result = await call(
        client,
        "check_initialization",
        {"harness": "init_attention_saturated.py", "model_kwargs": {"attention": attention}},
    )
    assert codes(result, "error") == {"saturated_attention"}
    found = finding_of(result, "saturated_attention")
    assert found["where"] == where and found["evidence"]["calls"][where]["mean_max_prob"] > 0.9
    assert "sqrt(d_k)" in found["suggestion"] and "N(0, 1)" in found["suggestion"]


async def test_the_summary_quotes_the_error_before_a_warning_found_earlier(client):
    """The loss is judged before the attention rows: its warning comes first, the summary still quotes the error."""
    args = {"harness": "init_attention_saturated.py", "expected_init_loss": 100.0}
    result = await call(client, "check_initialization", args)
    assert codes(result, "warning") == {"init_loss_mismatch"} and codes(result, "error") == {"saturated_attention"}
    assert "first: 1 of 1 attention call(s) start nearly one-hot" in result["summary"]


# ------------------------------------------------------------------ custom losses and loss dicts


async def test_custom_loss_with_num_classes_is_not_compared_with_ln_c(client):
    """A policy-gradient surrogate with num_classes = 3 arms: ln 3 says nothing about its value."""
    result = await call(client, "check_initialization", {"harness": "overfit_reinforce.py"})
    assert_clean(result)
    assert codes(result) == {"init_loss_unchecked"} and result["details"]["expected_loss"] is None


async def test_loss_dict_terms_are_reported_at_init(client):
    result = await call(
        client, "check_initialization", {"harness": "overfit_tiny_vae.py", "expected_init_loss": 16 * math.log(2)}
    )
    assert_clean(result)
    terms = result["details"]["terms"]
    assert set(terms) == {"recon", "kl"} and 0 <= terms["kl"] < 1
    assert terms["recon"] + terms["kl"] == pytest.approx(result["details"]["init_loss"], rel=1e-5)


async def test_negative_kl_term_at_init(client):
    result = await call(client, "check_initialization", {"harness": "overfit_tiny_vae_kl_flipped.py"})
    assert codes(result, "error") == {"negative_kl"}
    assert finding_of(result, "negative_kl")["where"] == "kl" and result["details"]["terms"]["kl"] < 0


@pytest.mark.parametrize(
    ("harness", "expected", "text"),
    [
        ("init_tiny_vae_recon_mean.py", 16 * math.log(2), "a mean over D=16 elements where the paper sums"),
        ("init_loss_summed_over_tokens.py", math.log(16), "a sum over D=12 elements where the paper averages"),
    ],
)
async def test_mismatch_by_a_dimension_names_the_reduction(client, harness, expected, text):
    result = await call(client, "check_initialization", {"harness": harness, "expected_init_loss": expected})
    assert codes(result, "warning") == {"init_loss_mismatch"}
    found = finding_of(result, "init_loss_mismatch")
    assert text in found["suggestion"] and found["evidence"]["dimension"] == int(text.split("D=")[1].split()[0])


async def test_far_below_without_a_dimension_names_more_than_leakage(client):
    result = await call(client, "check_initialization", {"harness": "clean_mlp.py", "expected_init_loss": 20.0})
    found = finding_of(result, "init_loss_mismatch")
    assert found["evidence"]["dimension"] is None
    assert (
        "a mean where it sums" in found["suggestion"]
        and "missing" in found["suggestion"]
        and "leak" in found["suggestion"]
    )


async def test_own_cross_entropy_loss_is_compared_with_ln_c(client):
    """A loss_fn that is F.cross_entropy (label smoothing, ignore_index) is checked like the default loss."""
    clean = await call(client, "check_initialization", {"harness": "init_custom_ce_clean.py"})
    assert_clean(clean)
    assert clean["details"]["expected_loss"] == pytest.approx(math.log(10), rel=1e-5)
    assert "cross_entropy(ignore_index=-1, label_smoothing=0.1)" in clean["details"]["expected_from"]
    assert abs(clean["details"]["ratio"] - 1) < 0.1
    result = await call(client, "check_initialization", {"harness": "init_custom_ce_oversized.py"})
    assert codes(result, "warning") == {"init_loss_mismatch", "oversized_weights"}
    mismatch = finding_of(result, "init_loss_mismatch")
    assert mismatch["evidence"]["expected"] == pytest.approx(math.log(10), rel=1e-5) and result["details"]["ratio"] > 5
    assert mismatch["evidence"]["likely_cause"] == "oversized_weights"  # not "a sum over D=10", a chance match
    oversized = finding_of(result, "oversized_weights")
    assert oversized["where"] == "9" and 40 < oversized["evidence"]["times_default"] < 60


async def test_raw_pixels_alone_are_not_called_the_cause_of_findings_that_do_not_exist(client):
    result = await call(client, "check_initialization", {"harness": "init_raw_pixels_layernorm.py"})
    assert codes(result, "warning") == {"unnormalized_inputs"}
    assert "other findings" not in finding_of(result, "unnormalized_inputs")["message"]
