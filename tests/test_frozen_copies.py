"""Frozen copies (target networks, EMA copies) on DQN-style and DDPM-style fixtures and their buggy twins
(tests/harnesses/copy_*.py): counted apart in inspect_model, watched during run_overfit_test."""

import pytest
from conftest import assert_clean, call, codes, finding_of

pytestmark = pytest.mark.anyio

DQN_ONLINE = 4 * 32 + 32 + 32 * 2 + 2  # 226: the paper's count, without the target network
EMA_NET = 3 * 32 + 32 + 32 * 2 + 2  # 194


@pytest.mark.parametrize("harness, paper", [("copy_dqn_clean.py", DQN_ONLINE), ("copy_ema_clean.py", EMA_NET)])
async def test_a_frozen_copy_is_not_counted_as_the_papers_parameters(client, harness, paper):
    result = await call(client, "inspect_model", {"harness": harness, "expected_param_count": paper, "tolerance": 0})
    assert_clean(result)
    assert not result["findings"], result["findings"]
    counts = result["details"]["counts"]
    assert counts["total"] == 2 * paper and counts["in_frozen_copies"] == paper and counts["trainable"] == paper
    assert "frozen copies" in result["summary"]


async def test_a_count_that_misses_without_the_copies_reports_both(client):
    result = await call(client, "inspect_model", {"harness": "copy_dqn_clean.py", "expected_param_count": 300})
    mismatch = finding_of(result, "param_count_mismatch")
    assert mismatch["evidence"]["in_copies"] == DQN_ONLINE and mismatch["evidence"]["without_copies"] == DQN_ONLINE
    assert "target mirrors online" in mismatch["message"]


async def test_an_unfrozen_target_named_like_a_copy_is_still_a_copy(client):
    result = await call(client, "inspect_model", {"harness": "copy_dqn_target_not_detached.py"})
    assert result["details"]["copies"] == [
        {"copy": "target", "source": "online", "params": DQN_ONLINE, "declared": False, "equal_at_build": True}
    ]


async def test_repeated_trainable_blocks_are_not_copies(client):
    result = await call(client, "inspect_model", {"harness": "inspect_deep_stack.py"})
    assert result["details"]["copies"] == [] and result["details"]["counts"]["in_frozen_copies"] == 0


@pytest.mark.parametrize("harness", ["copy_dqn_clean.py", "copy_ema_clean.py"])
async def test_clean_copies_draw_no_warning_in_training(client, harness):
    result = await call(client, "run_overfit_test", {"harness": harness, "sizes": [10]})
    assert_clean(result)
    trace = result["details"]["copies"][0]
    assert trace["changed"] and not trace["equal_to_source_every_step"] and trace["grad_abs_sum"] == 0


async def test_an_undetached_td_target_sends_gradients_into_the_target_network(client):
    result = await call(client, "run_overfit_test", {"harness": "copy_dqn_target_not_detached.py", "sizes": [10]})
    found = finding_of(result, "grad_reaches_copy")
    assert found["severity"] == "error" and found["where"] == "target"
    assert "torch.no_grad()" in found["suggestion"] and "bootstrapped TD target" in found["message"]


async def test_an_optimizer_over_the_copy_is_caught(client):
    result = await call(client, "run_overfit_test", {"harness": "copy_ema_optimizer_steps_copy.py", "sizes": [10]})
    found = finding_of(result, "optimizer_updates_copy")
    assert found["where"] == "ema" and "never by gradient steps" in found["message"]


async def test_an_ema_with_decay_zero_does_not_lag(client):
    result = await call(client, "run_overfit_test", {"harness": "copy_ema_no_lag.py", "sizes": [10]})
    assert result["status"] == "warn"
    found = finding_of(result, "copy_not_lagging")
    assert found["where"] == "ema" and "does not lag" in found["message"]


async def test_a_target_never_synced_is_caught_at_the_defaults(client):
    # Size 1 memorises within 25 steps; it goes on to 500 steps so that a hard sync had its chance.
    buggy = await call(client, "run_overfit_test", {"harness": "copy_dqn_never_synced.py", "sizes": [1, 10]})
    found = finding_of(buggy, "copy_never_synced")
    assert found["severity"] == "warning" and found["where"] == "target" and found["evidence"]["steps"] == 500
    clean = await call(client, "run_overfit_test", {"harness": "copy_dqn_clean.py", "sizes": [1, 10]})
    assert not codes(clean) & {"copy_never_synced", "copy_not_lagging", "grad_reaches_copy", "optimizer_updates_copy"}


async def test_a_declared_copy_is_counted_apart(client):
    result = await call(client, "inspect_model", {"harness": "copy_declared.py", "expected_param_count": EMA_NET})
    assert_clean(result)
    assert result["details"]["copies"] == [
        {"copy": "lagged", "source": "net", "params": EMA_NET, "declared": True, "equal_at_build": True}
    ]


async def test_a_declaration_naming_no_module_is_a_harness_error(client):
    result = await call(client, "inspect_model", {"harness": "copy_declared_wrong.py"})
    assert result["status"] == "error"
    found = finding_of(result, "harness_error")
    assert "'targt'" in found["message"] and "online, target" in found["message"]


async def test_a_fixed_teacher_built_apart_is_never_expected_to_sync(client):
    result = await call(
        client,
        "run_overfit_test",
        {"harness": "copy_fixed_teacher.py", "sizes": [10], "steps": 500, "target_loss": 1e-30},
    )
    assert result["details"]["copies"][0]["copy"] == "teacher" and not result["details"]["copies"][0]["equal_at_build"]
    assert "copy_never_synced" not in codes(result)
