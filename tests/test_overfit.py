"""run_overfit_test on buggy fixtures and their clean twins (tests/harnesses/overfit_*.py and friends)."""

import pytest

from conftest import assert_clean, call, codes, finding_of

pytestmark = pytest.mark.anyio



def line_of(project_root, harness, text):
    """`harness:line` of the first line containing `text`: the place a finding must name."""
    lines = (project_root / harness).read_text().splitlines()
    return f"{harness}:{next(i for i, line in enumerate(lines, 1) if text in line)}"


def sizes_of(result):
    return {s["size"]: s for s in result["details"]["sizes"]}


# ------------------------------------------------------------------ clean twins


async def test_clean_mlp_memorises(client):
    result = await call(client, "run_overfit_test", {"harness": "clean_mlp.py"})
    assert_clean(result)
    assert [s["reached_target"] for s in result["details"]["sizes"]] == [True, True, True]


async def test_clean_sgd_regressor_memorises(client):
    """The twin of overfit_no_zero_grad.py, at the same lr: the bug, not the lr, makes that one diverge."""
    result = await call(client, "run_overfit_test", {"harness": "overfit_sgd_clean.py", "lr": 0.1})
    assert_clean(result)
    assert all(s["final_loss"] <= s["target_loss"] for s in result["details"]["sizes"])


# ------------------------------------------------------------------ bugs in the training step


async def test_double_softmax_fails_on_loss_despite_accuracy(client):
    result = await call(client, "run_overfit_test", {"harness": "double_softmax.py", "sizes": [10], "steps": 150})
    assert result["status"] == "fail"
    assert codes(result, "error") & {"overfit_failed", "loss_not_decreasing"}


async def test_missing_optimizer_step_means_params_not_updated(client):
    result = await call(client, "run_overfit_test", {"harness": "no_optimizer_step.py", "sizes": [1], "steps": 30})
    assert "params_not_updated" in codes(result, "error")


async def test_loss_rebuilt_from_item_leaves_params_unchanged(client):
    result = await call(client, "run_overfit_test", {"harness": "overfit_rewrapped_loss.py", "sizes": [10], "steps": 30})
    assert codes(result, "error") == {"params_not_updated"}
    assert sizes_of(result)[10]["params_changed"] is False


async def test_missing_zero_grad_diverges_with_plain_sgd(client):
    result = await call(client, "run_overfit_test", {"harness": "overfit_no_zero_grad.py", "lr": 0.1, "sizes": [10]})
    assert codes(result, "error") == {"diverged"}
    found = finding_of(result, "diverged")
    assert found["where"] == "size 10" and found["evidence"]["peak"] > 10 * found["evidence"]["initial"]
    assert sizes_of(result)[10]["reached_target"] is False


async def test_lr_far_too_high_diverges_then_overflows(client):
    result = await call(client, "run_overfit_test", {"harness": "overfit_lr_too_high.py", "sizes": [100], "steps": 50})
    assert codes(result, "error") == {"diverged", "non_finite_loss"}
    assert "NaN/Inf at step" in finding_of(result, "diverged")["message"]
    assert sizes_of(result)[100]["non_finite_at_step"] is not None


async def test_log_of_zero_names_the_module(client):
    result = await call(client, "run_overfit_test", {"harness": "overfit_log_zero.py", "sizes": [1], "steps": 10})
    found = finding_of(result, "non_finite_loss")
    assert found["where"] == "compress"
    assert found["evidence"]["step"] == 0 and found["evidence"]["op"] == "LogCompress"


# ------------------------------------------------------------------ user code that raises, and broken harnesses


async def test_batchnorm_on_one_example_errors_but_other_sizes_report(client):
    result = await call(client, "run_overfit_test", {"harness": "overfit_batchnorm.py"})
    assert result["status"] == "error" and codes(result) == {"user_code_error"}
    found = finding_of(result, "user_code_error")
    assert found["where"] == "size 1" and found["evidence"]["sizes"] == [1]
    assert "Expected more than 1 value per channel" in found["message"]
    per_size = sizes_of(result)
    assert per_size[1]["error"] and per_size[10]["reached_target"] and per_size[100]["reached_target"]


@pytest.mark.parametrize(
    ("harness", "raising_line"),
    [("overfit_build_raises.py", "raise ValueError"), ("overfit_batch_raises.py", 'SEEDS[split + "ing"]')],
)
async def test_exception_in_user_code_names_file_and_line_once(client, project_root, harness, raising_line):
    result = await call(client, "run_overfit_test", {"harness": harness, "sizes": [1, 10], "steps": 10})
    assert result["status"] == "error" and [f["code"] for f in result["findings"]] == ["user_code_error"]
    found = result["findings"][0]
    assert found["where"] == line_of(project_root, harness, raising_line)
    assert found["evidence"]["sizes"] == [1, 10]


async def test_syntax_error_names_file_and_line(client, project_root):
    result = await call(client, "run_overfit_test", {"harness": "overfit_syntax_error.py"})
    assert result["status"] == "error" and codes(result) == {"user_code_error"}
    found = finding_of(result, "user_code_error")
    assert "SyntaxError" in found["message"]
    assert found["where"] == line_of(project_root, "overfit_syntax_error.py", "return nn.Sequential(")


async def test_missing_get_batch_lists_what_the_file_defines(client):
    result = await call(client, "run_overfit_test", {"harness": "overfit_no_get_batch.py"})
    assert result["status"] == "error" and codes(result) == {"harness_error"}
    message = finding_of(result, "harness_error")["message"]
    assert "get_batch" in message and "load_data" in message
