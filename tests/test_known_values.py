"""check_known_values on hand-worked cases: buggy fixtures and their clean twins (tests/harnesses/known_*.py)."""

import math

import pytest
import torch
import torch.nn.functional as F
from conftest import assert_clean, call, codes, finding_of

from implement_paper.tools.check_known_values.check import Leaf, pattern

pytestmark = pytest.mark.anyio

# A five-step trajectory, gamma 0.9, worked backward from the last step:
# G4 = 3, G3 = 0 + 0.9 * 3 = 2.7, G2 = 0 + 0.9 * 2.7 = 2.43, G1 = 2 + 0.9 * 2.43 = 4.187, G0 = 1 + 0.9 * 4.187 = 4.7683.
REWARDS = [1.0, 2.0, 0.0, 0.0, 3.0]
RETURNS = [4.7683, 4.187, 2.43, 2.7, 3.0]
# The episode ends after step 1 (dones[1] = 1): G1 = 2, G0 = 1 + 0.9 * 2 = 2.8; steps 2-4 as above.
DONES = [0, 1, 0, 0, 0]
RETURNS_WITH_DONE = [2.8, 2.0, 2.43, 2.7, 3.0]
RETURN_CASES = [
    {"args": [REWARDS, 0.9], "expected": RETURNS},
    {"args": [REWARDS, 0.9], "kwargs": {"dones": DONES}, "expected": RETURNS_WITH_DONE},
]

# mu + exp(0.5 * logvar) * eps with logvar = [0, 2 ln 2], so sigma = [1, 2]: z = [0.5 + 1, -1 - 2 * 0.5].
REPARAM_CASE = {"args": [[0.5, -1.0], [0.0, 2 * math.log(2)], [1.0, -0.5]], "expected": [1.5, -2.0]}


def smoothed_ce_by_hand():
    """Logits [[2, 0, 0], [0, 0, 0]], targets [0, 2], smoothing 0.1, C = 3:
    loss_i = 0.9 * (-log p_target) + 0.1 * mean_c(-log p_c)."""
    lse = math.log(math.exp(2) + 2)  # row 0: log p = [2 - lse, -lse, -lse]
    row0 = 0.9 * (lse - 2) + 0.1 * (lse - 2 / 3)
    row1 = math.log(3)  # row 1 is uniform: every -log p is ln 3
    return (row0 + row1) / 2


SMOOTHING_CASE = {
    "args": [[[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [0, 2]],
    "kwargs": {"smoothing": 0.1},
    "expected": smoothed_ce_by_hand(),
}


def known(harness, function, cases, **extra):
    return {"harness": harness, "function": function, "cases": cases, **extra}


def test_the_hand_worked_loss_is_pytorchs():
    """The hand-worked expectation itself agrees with torch's built-in label smoothing."""
    logits, targets = torch.tensor([[2.0, 0, 0], [0, 0, 0]], dtype=torch.float64), torch.tensor([0, 2])
    assert F.cross_entropy(logits, targets, label_smoothing=0.1).item() == pytest.approx(
        smoothed_ce_by_hand(), rel=1e-12
    )


@pytest.mark.parametrize(
    ("harness", "function", "cases"),
    [
        ("known_returns.py", "discounted_returns", RETURN_CASES),
        ("known_reparam.py", "reparameterize", [REPARAM_CASE]),
        ("known_label_smoothing.py", "label_smoothed_ce", [SMOOTHING_CASE]),
    ],
)
async def test_clean_functions_match_their_hand_worked_values(client, harness, function, cases):
    result = await call(client, "check_known_values", known(harness, function, cases))
    assert_clean(result)
    assert result["summary"].startswith(f"{len(cases)} of {len(cases)} cases match")
    assert result["details"]["matched"] == len(cases)
    assert all(case["verdict"] == "match" and case["max_abs_error"] < 1e-9 for case in result["details"]["cases"])


async def test_returns_discounted_forward_in_time_are_caught(client):
    result = await call(
        client, "check_known_values", known("known_returns_forward.py", "discounted_returns", RETURN_CASES)
    )
    assert result["status"] == "fail" and codes(result) == {"known_value_mismatch"}
    assert result["summary"].startswith("0 of 2 cases match")
    first = finding_of(result, "known_value_mismatch")
    assert first["where"] == "discounted_returns (case 0)"
    worst = first["evidence"]["worst"]
    # Forward in time gives [1, 2.9, 2.61, 2.349, 5.1141]: step 0 is furthest off (1 against 4.7683).
    assert (
        worst["at"] == "output[0]" and worst["got"] == pytest.approx(1.0) and worst["expected"] == pytest.approx(4.7683)
    )
    assert worst["abs_error"] == pytest.approx(3.7683)
    assert first["evidence"]["expected"] == RETURNS and first["evidence"]["got"] == pytest.approx(
        [1, 2.9, 2.61, 2.349, 5.1141]
    )
    assert first["evidence"]["mismatched"] == 5 and "backward" in first["suggestion"]


async def test_constant_rewards_name_the_reversal(client):
    constant = {"args": [[1.0] * 5, 0.9], "expected": [4.0951, 3.439, 2.71, 1.9, 1.0]}
    assert_clean(await call(client, "check_known_values", known("known_returns.py", "discounted_returns", [constant])))
    result = await call(
        client, "check_known_values", known("known_returns_forward.py", "discounted_returns", [constant])
    )
    assert "reversed" in finding_of(result, "known_value_mismatch")["message"]


async def test_log_variance_used_as_std_is_caught(client):
    result = await call(
        client, "check_known_values", known("known_reparam_logvar_as_std.py", "reparameterize", [REPARAM_CASE])
    )
    found = finding_of(result, "known_value_mismatch")
    assert result["status"] == "fail" and found["evidence"]["got"] == pytest.approx([0.5, -1 - math.log(2)])
    assert found["evidence"]["worst"]["at"] == "output[0]" and "exp(0.5 * logvar)" in found["suggestion"]


# mu = [0, 1, 0], logvar = [0, 0, ln 2]: KL = 0.5 * (mu^2 + e^logvar - 1 - logvar) = [0, 0.5, 0.5 * (1 - ln 2)]
KL_CASE = {"args": [[0.0, 1.0, 0.0], [0.0, 0.0, math.log(2)]], "expected": [0.0, 0.5, 0.5 * (1 - math.log(2))]}


async def test_a_wrong_coefficient_is_named_a_scale_not_a_constant_term(client):
    """The KL without its 0.5: 2x the expected value, though the prior's KL is 0 (no ratio there)."""
    assert_clean(await call(client, "check_known_values", known("known_kl.py", "gaussian_kl", [KL_CASE])))
    result = await call(client, "check_known_values", known("known_kl_missing_half.py", "gaussian_kl", [KL_CASE]))
    found = finding_of(result, "known_value_mismatch")
    assert found["evidence"]["pattern"].startswith("every element is 2x the expected value: a scale factor")
    assert "constant term" not in found["message"]


async def test_softmax_over_the_batch_is_caught_in_the_smoothed_loss(client):
    result = await call(
        client, "check_known_values", known("known_label_smoothing_wrong_dim.py", "label_smoothed_ce", [SMOOTHING_CASE])
    )
    found = finding_of(result, "known_value_mismatch")
    assert found["evidence"]["worst"]["at"] == "output" and found["evidence"]["elements"] == 1


async def test_integer_lists_stay_integers_and_structures_are_compared_element_wise(client):
    # logits [[0, 0], [ln 3, 0]]: p = [1/2, 1/2] and [3/4, 1/4]; actions [0, 1] -> [log 1/2, log 1/4].
    log_probs = {"args": [[[0.0, 0.0], [math.log(3), 0.0]], [0, 1]], "expected": [-math.log(2), -math.log(4)]}
    tuple_case = {**REPARAM_CASE, "expected": [[1.5, -2.0], [1.0, 2.0]]}  # (z, sigma)
    dict_case = {"args": [REWARDS, [0.5] * 5, 0.9], "expected": {"advantages": [g - 0.5 for g in RETURNS]}}
    for harness, function, case in [
        ("known_returns.py", "chosen_log_probs", log_probs),
        ("known_reparam.py", "sample_and_std", tuple_case),
        ("known_returns.py", "returns_and_advantages", dict_case),
    ]:
        assert_clean(await call(client, "check_known_values", known(harness, function, [case])))
    wrong = {**tuple_case, "expected": [[1.5, -2.0], [1.0, 2.5]]}
    result = await call(client, "check_known_values", known("known_reparam.py", "sample_and_std", [wrong]))
    assert finding_of(result, "known_value_mismatch")["evidence"]["worst"]["at"] == "output[1][1]"
    missing = {**dict_case, "expected": {"value_loss": 0.0}}
    result = await call(client, "check_known_values", known("known_returns.py", "returns_and_advantages", [missing]))
    assert "no key 'value_loss'" in finding_of(result, "known_value_mismatch")["message"]


async def test_a_shape_that_differs_is_a_mismatch(client):
    result = await call(
        client,
        "check_known_values",
        known("known_returns.py", "values_column", [{"args": [[1.0, 2.0, 3.0]], "expected": [1.0, 2.0, 3.0]}]),
    )
    found = finding_of(result, "known_value_mismatch")
    assert "shape (3, 1), the expected value shape (3,)" in found["message"] and "(B, B)" in found["suggestion"]
    assert result["details"]["cases"][0]["verdict"] == "mismatch"


async def test_float32_and_rounded_values_pass_within_tolerance(client):
    rounded = {**SMOOTHING_CASE, "expected": round(smoothed_ce_by_hand(), 3)}
    assert_clean(
        await call(
            client,
            "check_known_values",
            known("known_label_smoothing.py", "label_smoothed_ce", [SMOOTHING_CASE], dtype="float32"),
        )
    )
    tight = await call(client, "check_known_values", known("known_label_smoothing.py", "label_smoothed_ce", [rounded]))
    assert codes(tight) == {"known_value_mismatch"}
    assert_clean(
        await call(
            client, "check_known_values", known("known_label_smoothing.py", "label_smoothed_ce", [rounded], rtol=1e-3)
        )
    )


async def test_an_exception_in_one_case_leaves_the_others_running(client):
    empty = {"args": [[], []], "expected": 0.0}
    result = await call(
        client, "check_known_values", known("known_label_smoothing.py", "raises_on_empty", [empty, SMOOTHING_CASE])
    )
    assert result["status"] == "error" and codes(result) == {"user_code_error"}
    error = finding_of(result, "user_code_error")
    assert (
        "case 0" in error["message"]
        and "empty batch" in error["message"]
        and error["where"].startswith("known_label_smoothing.py:")
    )
    assert [c["verdict"] for c in result["details"]["cases"]] == ["error", "match"]
    assert result["summary"].startswith("1 of 2 cases match")


@pytest.mark.parametrize(
    ("function", "words"),
    [("discounted_return", "it defines: "), ("GAMMA", "is a float, not a callable")],
)
async def test_a_bad_function_name_is_a_harness_error(client, function, words):
    result = await call(client, "check_known_values", known("known_returns.py", function, RETURN_CASES))
    assert result["status"] == "error" and codes(result) == {"harness_error"}
    assert words in result["summary"] and "discounted_returns" in result["summary"] + str(
        result["findings"][0]["suggestion"]
    )


async def test_an_output_json_cannot_hold_is_a_harness_error(client):
    result = await call(
        client,
        "check_known_values",
        known("known_reparam.py", "posterior", [{"args": [[0.0], [0.0]], "expected": [0.0]}]),
    )
    assert (
        codes(result) == {"harness_error"}
        and "cannot be compared" in result["summary"]
        and "Normal" in result["summary"]
    )


@pytest.mark.parametrize(
    ("cases", "words"),
    [
        ([], "cases"),
        ([{"args": [], "expected": "4.7"}], "numbers"),
        ([{"args": [], "expected": [1], "kwrgs": {}}], "kwrgs"),
        ([{"args": [{"tensor": [1], "dtype": "long"}], "expected": [1]}], "int64"),
    ],
)
async def test_bad_cases_are_refused_with_a_message(client, cases, words):
    result = await client.call_tool("check_known_values", known("known_returns.py", "discounted_returns", cases))
    assert result.is_error and words in result.content[0].text


def test_patterns_name_the_simple_relations():
    def leaf(got, want):
        return [Leaf("output", torch.tensor(got, dtype=torch.float64), torch.tensor(want, dtype=torch.float64))]

    assert "0.2x" in pattern(leaf([0.2, 0.4, 0.6], [1.0, 2.0, 3.0]))  # a mean over 5 where the paper sums
    assert "off by the same 0.918939" in pattern(leaf([1.918939, 2.918939], [1.0, 2.0]))  # 0.5 * log(2 pi)
    assert "reversed" in pattern(leaf([1.0, 2.0, 3.0], [3.0, 2.0, 1.0]))
    assert "2x the expected value: a scale factor" in pattern(
        leaf([0.0, 1.0, 3.0], [0.0, 0.5, 1.5])
    )  # a zero does not hide it
    assert "2x the expected value + 1" in pattern(leaf([3.0, 5.0, 7.0], [1.0, 2.0, 3.0]))  # a coefficient and an offset
    assert pattern(leaf([1.0, 5.0, 2.0], [1.0, 2.0, 3.0])) is None


async def test_integer_rewards_are_read_as_floats_when_int64_does_not_match(client):
    """JSON cannot tell 1 from 1.0 (JavaScript clients drop the .0): rewards written as integers still work."""
    as_ints = [{"args": [[1, 2, 0, 0, 3], 0.9], "kwargs": {"dones": DONES}, "expected": RETURNS_WITH_DONE}]
    result = await call(client, "check_known_values", known("known_returns.py", "discounted_returns", as_ints))
    assert_clean(result)
    assert result["details"]["cases"][0]["integer_lists"] == "float64"
    bug = await call(client, "check_known_values", known("known_returns_forward.py", "discounted_returns", as_ints))
    found = finding_of(bug, "known_value_mismatch")
    assert (
        found["evidence"]["got"] == pytest.approx([1, 2.9, 2.61, 2.349, 5.1141])
        and '"dtype": "float64"' in found["suggestion"]
    )
    typed = [{"args": [{"tensor": [1, 2, 0, 0, 3], "dtype": "float64"}, 0.9], "expected": RETURNS}]
    result = await call(client, "check_known_values", known("known_returns.py", "discounted_returns", typed))
    assert_clean(result) and result["details"]["cases"][0]["integer_lists"] is None
