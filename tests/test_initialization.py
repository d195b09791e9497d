"""check_initialization on buggy fixtures and their clean twins (tests/harnesses/init_*.py)."""

import json
import math

import pytest
import torch

from conftest import HARNESSES, assert_clean, call, codes, finding_of

pytestmark = pytest.mark.anyio



@pytest.mark.parametrize("harness", ["clean_mlp.py", "init_clean_tanh.py", "init_clean_cnn.py", "inspect_mnist1d_cnn.py"])
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
    assert names == ["relu in <model>", "relu after conv1", "relu after conv2", "relu after conv3"]  # x.relu(), no nn.ReLU


async def test_xavier_tanh_net_is_recognised_as_xavier(client):
    result = await call(client, "check_initialization", {"harness": "init_clean_tanh.py"})
    assert result["details"]["init_schemes"]["xavier"] == 7


async def test_huge_init_saturates_tanh(client):
    result = await call(client, "check_initialization", {"harness": "init_huge_tanh.py"})
    assert "saturated_activations" in codes(result, "warning")
    assert finding_of(result, "saturated_activations")["where"] in {"1", "3", "5", "7", "9", "11"}  # the nn.Tanh modules
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
    loose = await call(client, "check_initialization", {"harness": "clean_mlp.py", "expected_init_loss": 5.0, "tolerance": 3.0})
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
