"""check_dependencies' mechanism probes at its defaults (no mode, no declaration unless the
fixture makes one): conditions reach the output, an encoder sees both sides, padding is
ignored, the loss scores only the supervised positions. Clean twins draw nothing."""

import pytest
from conftest import assert_clean, call, codes, finding_of

pytestmark = pytest.mark.anyio


def probes(result):
    return {(m["probe"], m["subject"]): m for m in result["details"]["mechanisms"]}


async def test_a_timestep_the_model_uses_is_clean(client):
    result = await call(client, "check_dependencies", {"harness": "dep_denoiser.py"})
    assert_clean(result)
    probe = probes(result)[("condition", "the model's argument 1 (batch['t'])")]
    assert probe["measured"] and probe["relative"] > 0.01
    assert result["details"]["input"] == "x0"  # a dict with no inputs/x key: its first float tensor


async def test_a_timestep_the_model_ignores_is_unused_input(client):
    result = await call(client, "check_dependencies", {"harness": "dep_denoiser_drops_t.py"})
    assert codes(result, "error") == {"unused_input"}
    assert "batch['t']" in finding_of(result, "unused_input")["message"]


async def test_a_declared_condition_never_passed_to_the_model_is_unused_input(client):
    result = await call(client, "check_dependencies", {"harness": "dep_denoiser_declared.py"})
    assert codes(result, "error") == {"unused_input"}
    assert result["details"]["roles"]["conditions"] == ["t"]


@pytest.mark.parametrize(
    ("harness", "key"), [("dep_roles_missing_key.py", "'timestep'"), ("dep_roles_bad_mask.py", "'labels'")]
)
async def test_a_bad_declaration_names_the_key_and_the_batch_keys(client, harness, key):
    result = await call(client, "check_dependencies", {"harness": harness})
    assert codes(result) == {"harness_error"}
    assert key in result["summary"] and "the batch's keys are" in result["summary"]
    assert "Traceback" not in result["summary"]


async def test_a_padded_bidirectional_encoder_is_clean(client):
    result = await call(client, "check_dependencies", {"harness": "dep_encoder_mlm.py"})
    assert_clean(result)
    roles = result["details"]["roles"]
    assert roles["pad_mask"] == "attention_mask" and roles["attention"] == "bidirectional"
    measured = probes(result)
    assert measured[("padding", "pad mask 'attention_mask'")]["relative"] == 0.0
    assert measured[("bidirectional", "positions")]["relative"] > 0.01
    assert measured[("supervised_positions", "loss gradient")]["relative"] == 0.0


@pytest.mark.parametrize(
    ("harness", "code", "severity"),
    [
        ("dep_encoder_causal.py", "encoder_not_bidirectional", "error"),
        ("dep_encoder_pad_queries.py", "padding_leak", "error"),
        (
            "dep_encoder_pad_inverted.py",
            "padding_leak",
            "error",
        ),  # alone: real rows see only padding, not a causal mask
        ("dep_encoder_loss_unmasked.py", "loss_on_unselected_positions", "error"),
        ("dep_encoder_all_positions.py", "loss_on_unselected_positions", "warning"),
    ],
)
async def test_encoder_bugs_are_named_at_the_defaults(client, harness, code, severity):
    result = await call(client, "check_dependencies", {"harness": harness})
    assert {(f["code"], f["severity"]) for f in result["findings"]} == {(code, severity)}


async def test_a_causal_lm_gets_the_causal_cuts_at_the_defaults(client):
    clean = await call(client, "check_dependencies", {"harness": "dep_causal_lm.py"})
    assert_clean(clean)
    assert clean["details"]["causal"]["plan"] == "cuts" and clean["details"]["roles"]["attention"] == "causal"
    leak = await call(client, "check_dependencies", {"harness": "dep_no_causal_mask.py"})
    assert codes(leak, "error") == {"future_leakage"}


async def test_an_encoder_checked_in_causal_mode_is_told_it_sees_both_sides(client):
    result = await call(client, "check_dependencies", {"harness": "dep_encoder_mlm.py", "mode": "causal"})
    assert result["status"] == "pass" and codes(result, "info") == {"future_leakage"}
    leak = finding_of(result, "future_leakage")
    assert leak["evidence"]["likely_causes"][0] == "encoder_by_design"
    assert "meant to see both sides" in leak["message"] and "heads" not in leak["suggestion"].split("2.")[0]


async def test_a_replay_batch_with_bookkeeping_keys_is_clean(client):
    """truncated and episode_id are rightly never read by a TD loss; every other transition key is."""
    result = await call(client, "check_dependencies", {"harness": "td_truncated_clean.py"})
    assert_clean(result)
    measured = probes(result)
    assert measured[("discount", "Q-values shifted")]["relative"] > 0.05  # 1 - gamma = 0.1
    assert ("batch_key", "batch['terminal']") in measured and ("batch_key", "batch['truncated']") not in measured
