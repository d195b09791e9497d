import pytest

from conftest import assert_clean, call, codes

pytestmark = pytest.mark.anyio


async def test_clean_mlp_memorises(client):
    result = await call(client, "run_overfit_test", {"harness": "clean_mlp.py"})
    assert_clean(result)
    assert [s["reached_target"] for s in result["details"]["sizes"]] == [True, True, True]


async def test_double_softmax_fails_on_loss_despite_accuracy(client):
    result = await call(client, "run_overfit_test", {"harness": "double_softmax.py", "sizes": [10]})
    assert result["status"] == "fail"
    assert codes(result, "error") & {"overfit_failed", "loss_not_decreasing"}


async def test_missing_optimizer_step_means_params_not_updated(client):
    result = await call(client, "run_overfit_test", {"harness": "no_optimizer_step.py", "sizes": [1]})
    assert "params_not_updated" in codes(result, "error")
