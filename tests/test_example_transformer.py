"""examples/transformer: the correct harness passes every tool that applies, and each planted
bug is caught by the tool the paper-type tips name (short settings: about a minute)."""

import pytest
from conftest import assert_clean, call, codes, example_client, finding_of

# A worked paper: its own server and worker, real training: the whole module is slow.
pytestmark = [pytest.mark.anyio, pytest.mark.slow]

HARNESS = "harness_transformer.py"
LR = 2e-3


@pytest.fixture(scope="module")
async def client(tmp_path_factory):
    """A server rooted at a copy of the example, so .implement-paper/ never lands in git."""
    async with example_client(tmp_path_factory, "transformer", timeout_s=300) as client:
        yield client


CLEAN_CALLS = [
    ("inspect_data", {}),
    ("inspect_model", {"expected_param_count": 101_516}),
    ("check_initialization", {"batch_size": 32}),
    ("gradient_check", {}),
    ("check_dependencies", {"mode": "both"}),
    ("check_dependencies", {"mode": "position"}),
    ("check_dependencies", {"mode": "causal", "exhaustive": True}),
    ("run_overfit_test", {"sizes": [1, 10], "steps": 300, "lr": LR}),
    ("lr_sweep", {"num_lrs": 40}),
    ("run_ablation", {"variants": {"one_layer": {"layers": 1}}, "steps": 60, "lr": LR, "batch_size": 32}),
]


@pytest.mark.parametrize("tool, args", CLEAN_CALLS, ids=[f"{tool}-{i}" for i, (tool, _) in enumerate(CLEAN_CALLS)])
async def test_the_correct_transformer_gets_no_false_alarm(client, tool, args):
    assert_clean(await call(client, tool, {"harness": HARNESS, **args}))


async def test_training_reaches_99_percent_token_accuracy(client):
    args = {"harness": HARNESS, "steps": 300, "lr": LR, "batch_size": 64, "eval_every": 100}
    run_id = (await call(client, "start_training", args))["details"]["run_id"]
    for _ in range(6):  # 300 steps take about 20 s on one idle core
        status = await call(
            client, "training_status", {"run_id": run_id, "wait_s": 50, "reach": {"token_accuracy": 0.99}}
        )
        if status["details"]["status"] not in ("queued", "running"):
            break
    assert_clean(status)
    assert status["details"]["status"] == "completed"
    assert status["details"]["metrics"]["token_accuracy"]["mean"] >= 0.99


@pytest.mark.parametrize(
    "harness, cause",
    [
        ("bug_no_mask.py", "mask_missing"),
        ("bug_softmax_queries.py", "softmax_dim"),
        ("bug_heads_view.py", "heads_merged"),
    ],
)
async def test_attention_bugs_leak_the_future_with_the_cause_ranked_first(client, harness, cause):
    result = await call(client, "check_dependencies", {"harness": harness, "mode": "causal"})
    leak = finding_of(result, "future_leakage")
    assert leak["where"] == "blocks.0.attn" and leak["evidence"]["likely_causes"][0] == cause


async def test_positional_encoding_never_added(client):
    result = await call(client, "check_dependencies", {"harness": "bug_pe_not_added.py", "mode": "position"})
    assert codes(result, "error") == {"no_positional_information"}


async def test_unscaled_attention_with_unit_init_saturates(client):
    result = await call(client, "check_initialization", {"harness": "bug_no_scale.py", "batch_size": 32})
    assert "saturated_attention" in codes(result, "error")
