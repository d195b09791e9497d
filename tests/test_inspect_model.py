"""inspect_model on buggy fixtures and their clean twins (tests/harnesses/inspect_*.py)."""

import json

import pytest
from conftest import HARNESSES, assert_clean, call, codes, finding_of

pytestmark = pytest.mark.anyio


async def test_mnist1d_paper_cnn_has_exactly_5210_parameters(client):
    result = await call(
        client, "inspect_model", {"harness": "inspect_mnist1d_cnn.py", "expected_param_count": 5210, "tolerance": 0}
    )
    assert_clean(result)
    details = result["details"]
    assert details["counts"]["total"] == 5210
    assert details["shape_trace"] == [
        "input (2, 40)",
        "conv1: (2, 25, 19)",
        "conv2: (2, 25, 10)",
        "conv3: (2, 25, 5)",
        "linear: (2, 10)",
        "output (2, 10)",
    ]


async def test_wrong_width_is_a_param_count_mismatch(client):
    result = await call(client, "inspect_model", {"harness": "inspect_mnist1d_wide.py", "expected_param_count": 5210})
    assert result["status"] == "fail"
    mismatch = finding_of(result, "param_count_mismatch")
    assert mismatch["evidence"]["difference"] == 8010 - 5210


async def test_small_difference_within_tolerance_is_info_only(client):
    within = await call(client, "inspect_model", {"harness": "inspect_mnist1d_cnn.py", "expected_param_count": 5200})
    assert_clean(within)
    assert codes(within, "info") == {"param_count_mismatch"}
    exact = await call(
        client, "inspect_model", {"harness": "inspect_mnist1d_cnn.py", "expected_param_count": 5200, "tolerance": 0}
    )
    assert codes(exact, "error") == {"param_count_mismatch"}


async def test_tied_weights_count_once(client, monkeypatch):
    result = await call(client, "inspect_model", {"harness": "inspect_tied_lm.py"})
    assert_clean(result)
    counts = result["details"]["counts"]
    assert counts["total"] == 1600 + 2112 + 2080 + 64 + 50  # the docstring's hand count
    assert counts["counted_twice_by_naive_sum"] == 1600
    assert result["details"]["tied"] == [{"names": ["embed.weight", "head.weight"], "numel": 1600}]
    assert sum(result["details"]["params_by_type"].values()) == counts["total"]
    monkeypatch.syspath_prepend(str(HARNESSES))
    import inspect_tied_lm

    naive = sum(p.numel() for _, p in inspect_tied_lm.build_model().named_parameters(remove_duplicate=False))
    assert naive == counts["total"] + 1600  # what a per-module sum (torchinfo) reports


async def test_layers_in_a_plain_list_are_unregistered(client):
    result = await call(client, "inspect_model", {"harness": "inspect_unregistered.py"})
    assert result["status"] == "fail"
    found = finding_of(result, "unregistered_modules")
    assert found["where"] == "hidden" and found["evidence"]["hidden_params"] == 2 * (64 * 64 + 64)
    assert result["details"]["counts"]["total"] == (16 * 64 + 64) + (64 * 4 + 4)


async def test_clean_mlp_counts_match_torch(client, monkeypatch):
    result = await call(client, "inspect_model", {"harness": "clean_mlp.py", "expected_param_count": 5508})
    assert_clean(result)
    monkeypatch.syspath_prepend(str(HARNESSES))
    import clean_mlp

    model = clean_mlp.build_model()
    rows = {row["name"]: row for row in result["details"]["tree"]}
    assert rows["2"]["params"] == sum(p.numel() for p in model[2].parameters())
    assert rows["4"]["out"] == "(2, 4)"


async def test_answer_stays_compact_on_a_354_module_model(client):
    result = await call(client, "inspect_model", {"harness": "inspect_deep_stack.py"})
    assert_clean(result)
    assert len(json.dumps(result)) < 5000
    assert result["details"]["counts"]["modules"] == 354
    assert "blocks.0..blocks.49 (50x): (2, 32)" in result["details"]["shape_trace"]
    assert [a["kind"] for a in result["artifacts"]] == ["report"]


async def test_forward_error_still_reports_counts(client):
    result = await call(
        client, "inspect_model", {"harness": "inspect_mnist1d_cnn.py", "model_kwargs": {"linear_in": 100}}
    )
    assert result["status"] == "error" and "user_code_error" in codes(result)
    assert "last module entered: linear" in result["findings"][0]["message"]
    assert result["details"]["counts"]["total"] == 150 + 1900 + 1900 + 1010


async def test_shape_trace_goes_through_the_harness_forward(client):
    # data_multi_input.py: a dict batch with two inputs, called through forward(model, batch).
    result = await call(client, "inspect_model", {"harness": "data_multi_input.py"})
    assert_clean(result)
    trace = result["details"]["shape_trace"]
    assert trace[0] == "input {image: (2, 1, 8, 8), meta: (2, 4), label: (2,)}"
    assert trace[-1] == "output (2, 4)" and any(step.startswith("head:") for step in trace)


async def test_a_per_feature_beta_buffer_is_no_schedule(client):
    """A hand-written LayerNorm's `beta` (zeros, one per feature) is not a diffusion schedule held constant."""
    assert_clean(await call(client, "inspect_model", {"harness": "schedule_lookalikes.py"}))


async def test_a_shifted_alpha_bar_kept_beside_the_product_is_no_off_by_one(client):
    """alphas_cumprod_prev (the product over s < t) is what a sampler needs, beside alphas_cumprod itself."""
    assert_clean(await call(client, "inspect_model", {"harness": "schedule_prev_buffer.py"}))


async def test_a_padded_transformer_encoder_traces_despite_the_nested_fast_path(client):
    """nn.TransformerEncoder with a key padding mask packs the batch into a nested tensor in eval/no_grad;
    the shape trace must not fail on it, and the trace shows the dense shapes training sees."""
    result = await call(client, "inspect_model", {"harness": "inspect_padded_encoder.py"})
    assert_clean(result)
    assert result["details"]["shape_trace"][-1] == "output (2, 6, 10)"
