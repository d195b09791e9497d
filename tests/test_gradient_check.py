"""gradient_check on buggy fixtures and their clean twins (tests/harnesses/grad_*.py)."""

import importlib.util
import json

import pytest
import torch
from conftest import assert_clean, call, codes, finding_of

pytestmark = pytest.mark.anyio


def load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "harness",
    [
        "clean_mlp.py",
        "grad_clean_cnn.py",
        "grad_clean_transformer.py",
        "grad_good_backward.py",
        "grad_vae_clean.py",
        "grad_actor_critic.py",  # towers whose losses differ ~1000x in scale: no vanishing_grad across them
        "inspect_tied_lm.py",  # embedding tied to the output layer
        "data_multi_input_clean.py",  # a dict batch with two inputs, through the harness's forward(model, batch)
    ],
)
@pytest.mark.slow
async def test_clean_models_get_no_warning(client, harness):
    result = await call(client, "gradient_check", {"harness": harness})
    assert_clean(result)
    model = result["details"]["model"]
    assert model["counts"]["ok"] == model["counts"]["tensors"] > 0
    assert 1e-3 < model["trend"]["first_last_ratio"] < 70


async def test_grad_norms_match_a_plain_torch_backward(client, project_root):
    """The reported per-module norm is the norm a hand-written backward gives (seeded like the worker)."""
    result = await call(client, "gradient_check", {"harness": "clean_mlp.py", "batch_size": 8})
    harness = load(project_root / "clean_mlp.py")
    torch.manual_seed(0)
    model = harness.build_model()
    x, y = harness.get_batch(8)
    torch.nn.functional.cross_entropy(model(x), y).backward()
    first = model[0]
    expected = (first.weight.grad.norm() ** 2 + first.bias.grad.norm() ** 2).sqrt().item()
    reported = result["details"]["model"]["modules"][0]
    assert reported["module"] == "0" and reported["depth"] == 0
    assert reported["grad_norm"] == pytest.approx(expected, rel=1e-3)
    report = json.loads((project_root / result["artifacts"][0]["path"]).read_text())
    assert [p["name"] for p in report["parameters"]] == [
        "0.weight",
        "0.bias",
        "2.weight",
        "2.bias",
        "4.weight",
        "4.bias",
    ]


@pytest.mark.parametrize(
    ("harness", "where", "count"),
    [
        ("grad_detached_encoder.py", "encoder.0.weight", 2),
        ("grad_no_grad_block.py", "block1.0.weight", 2),
        ("overfit_rewrapped_loss.py", "0.weight", 6),  # torch.tensor(loss.item(), requires_grad=True)
        ("grad_loss_under_no_grad.py", "loss_fn", 6),
    ],
)
async def test_disconnected_parameters_are_params_without_grad(client, harness, where, count):
    result = await call(client, "gradient_check", {"harness": harness})
    assert result["status"] == "fail" and codes(result, "error") == {"params_without_grad"}
    found = finding_of(result, "params_without_grad")
    assert found["where"] == where and found["evidence"]["count"] == count


async def test_output_times_zero_is_zero_grad_upstream(client):
    result = await call(client, "gradient_check", {"harness": "grad_zeroed_layer.py"})
    found = finding_of(result, "zero_grad")
    assert found["severity"] == "error" and found["where"] == "fc1.weight"
    assert found["evidence"]["params"] == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "out.weight"]


async def test_log_of_zero_names_the_module(client):
    result = await call(client, "gradient_check", {"harness": "grad_log_zero.py"})
    found = finding_of(result, "non_finite_loss")
    assert found["where"] == "compress" and found["evidence"]["op"] == "LogCompress"


async def test_nan_only_in_backward_is_non_finite_grad_with_the_op(client):
    result = await call(client, "gradient_check", {"harness": "grad_sqrt_zero.py"})
    assert codes(result, "error") == {"non_finite_grad"}
    found = finding_of(result, "non_finite_grad")
    assert found["evidence"]["stage"] == "backward" and found["where"].endswith("Backward0")
    assert found["evidence"]["params"] == ["proj.weight"]


async def test_deep_sigmoid_stack_vanishes(client):
    result = await call(client, "gradient_check", {"harness": "grad_deep_sigmoid.py"})
    assert result["status"] == "warn" and codes(result) == {"vanishing_grad"}
    assert finding_of(result, "vanishing_grad")["where"] == "0"
    assert result["details"]["model"]["trend"]["first_last_ratio"] < 1e-9


async def test_huge_init_explodes(client):
    result = await call(client, "gradient_check", {"harness": "grad_huge_init.py"})
    assert result["status"] == "warn" and codes(result) == {"exploding_grad"}
    assert finding_of(result, "exploding_grad")["evidence"]["max_grad_norm"] > 1e6


async def test_wrong_custom_backward_fails_gradcheck(client):
    args = {"harness": "grad_bad_backward.py", "numerical": {"function": "Swish", "input_shapes": [[4, 8]]}}
    result = await call(client, "gradient_check", args)
    assert result["status"] == "fail" and codes(result) == {"gradcheck_failed"}
    found = finding_of(result, "gradcheck_failed")
    assert found["where"] == "Swish (input[0])" and found["evidence"]["max_abs_error"] > 0.1
    worst = found["evidence"]["worst"]
    x = torch.randn(4, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(0)).view(-1)[
        worst["input_index"]
    ]
    s = torch.sigmoid(x)  # the buggy backward returns s; the true derivative adds x * s * (1 - s)
    assert worst["analytic"] == pytest.approx(float(s), abs=1e-9)
    assert worst["numerical"] == pytest.approx(float(s + x * s * (1 - s)), abs=1e-6)


@pytest.mark.parametrize(
    ("harness", "function", "shapes", "kind"),
    [
        ("grad_good_backward.py", "Swish", [[4, 8]], "autograd.Function"),
        ("grad_good_backward.py", "swish_scaled", [[4, 8], [8]], "function"),
        ("grad_clean_transformer.py", "Block", [[2, 5, 8]], "nn.Module"),
    ],
)
async def test_correct_functions_pass_gradcheck(client, harness, function, shapes, kind):
    args = {"harness": harness, "numerical": {"function": function, "input_shapes": shapes}}
    result = await call(client, "gradient_check", args)
    assert_clean(result)
    numerical = result["details"]["numerical"]
    assert numerical["kind"] == kind and numerical["passed"] and numerical["max_abs_error"] < 1e-6
    if kind == "nn.Module":  # the module's parameters are checked as well as its input
        assert "attn.in_proj_weight" in [i["input"] for i in numerical["inputs"]]


async def test_unknown_function_lists_what_the_harness_defines(client):
    args = {"harness": "grad_good_backward.py", "numerical": {"function": "Swishh", "input_shapes": [[4]]}}
    result = await call(client, "gradient_check", args)
    assert result["status"] == "error" and codes(result) == {"harness_error"}
    assert "Swish" in result["findings"][0]["message"] and "swish_scaled" in result["findings"][0]["message"]


async def test_oversized_numerical_input_is_refused_with_the_limit(client):
    args = {"harness": "grad_good_backward.py", "numerical": {"function": "Swish", "input_shapes": [[100, 100]]}}
    result = await client.call_tool("gradient_check", args)
    assert result.is_error and "4096" in result.content[0].text


async def test_tied_tensor_is_one_row_and_towers_are_judged_apart(client):
    tied = (await call(client, "gradient_check", {"harness": "inspect_tied_lm.py"}))["details"]["model"]
    assert tied["counts"]["tensors"] == 8  # embed.weight once, not again as head.weight
    towers = (await call(client, "gradient_check", {"harness": "grad_actor_critic.py"}))["details"]["model"]
    assert towers["trend"]["first_module"].split(".")[0] == towers["trend"]["last_module"].split(".")[0]
    assert towers["term_reach"] == {"policy": 6, "value": 6}


async def test_vae_sample_under_no_grad_leaves_the_encoder_to_the_kl(client):
    result = await call(client, "gradient_check", {"harness": "grad_vae_sample_no_grad.py"})
    assert codes(result) == {"params_without_grad"}
    found = finding_of(result, "params_without_grad")
    assert found["where"] == "encoder.0.weight" and found["evidence"]["count"] == 4
    assert "detached or computed under no_grad" in found["suggestion"]
    clean = await call(client, "gradient_check", {"harness": "grad_vae_clean.py"})
    assert clean["details"]["model"]["term_reach"] == {"recon": 8, "kl": 4}


async def test_disconnected_parameters_suggestion_names_detach_and_no_grad(client):
    found = finding_of(
        await call(client, "gradient_check", {"harness": "grad_no_grad_block.py"}), "params_without_grad"
    )
    assert "detached or computed under no_grad" in found["suggestion"]


@pytest.mark.parametrize(("harness", "detached"), [("grad_bad_backward.py", True), ("grad_good_backward.py", False)])
async def test_zero_analytic_gradient_means_a_detached_input(client, harness, detached):
    args = {"harness": harness, "numerical": {"function": "gated", "input_shapes": [[3, 4], [3, 4]]}}
    result = await call(client, "gradient_check", args)
    if not detached:
        assert_clean(result)
        return
    found = finding_of(result, "gradcheck_failed")
    assert found["where"] == "gated (input[1])" and "detached or computed under no_grad" in found["suggestion"]
    assert [i["detached"] for i in result["details"]["numerical"]["inputs"]] == [False, True]


async def test_all_zero_jacobian_is_inconclusive_not_a_match(client):
    """softmax(1000 x) is one-hot at random inputs: both Jacobians are zero and "max abs error 0" compares nothing."""
    args = {
        "harness": "grad_numerical_traps.py",
        "numerical": {"function": "saturated_softmax", "input_shapes": [[3, 4]]},
    }
    result = await call(client, "gradient_check", args)
    assert result["status"] == "inconclusive" and codes(result) == {"nothing_measured"}
    assert not result["details"]["numerical"]["passed"] and "compared nothing" in result["summary"]


async def test_float32_cast_is_named_as_the_cause_of_a_gradcheck_error(client):
    args = {"harness": "grad_numerical_traps.py", "numerical": {"function": "float32_swish", "input_shapes": [[3, 4]]}}
    found = finding_of(await call(client, "gradient_check", args), "gradcheck_failed")
    assert found["evidence"]["low_precision"] == {"op": "float", "dtype": "float32"}
    assert "computes in float32" in found["message"] and "Re-derive" not in found["suggestion"]
    clean = {"harness": "grad_numerical_traps.py", "numerical": {"function": "float64_swish", "input_shapes": [[3, 4]]}}
    assert_clean(await call(client, "gradient_check", clean))


async def test_a_loss_term_that_cancels_its_own_gradient_is_named(client):
    """PPO's old log-probabilities recomputed from the current policy without detach: the ratio is exactly 1 with
    zero gradient. The value and entropy terms still reach every parameter, so only the per-term view sees it."""
    clean = await call(client, "gradient_check", {"harness": "ppo_surrogate.py"})
    assert_clean(clean)
    assert clean["details"]["model"]["term_reach"]["policy_loss"] > 0
    broken = await call(client, "gradient_check", {"harness": "ppo_ratio_cancelled.py"})
    assert codes(broken, "warning") == {"term_without_gradient"}, broken["summary"]
    found = finding_of(broken, "term_without_gradient")
    assert found["where"] == "policy_loss" and found["evidence"]["terms"]["policy_loss"] == 0
    assert "detach" in found["suggestion"]
