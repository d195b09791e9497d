"""Every name, list and number an agent can send is bounded in the tool's schema: a huge or
out-of-range argument is a validation error naming it, at once, not minutes of CPU in the server
(a megabyte-long metric name) or a failure blamed on the user's code later (a seed of 10**20)."""

import pytest
from conftest import call

pytestmark = pytest.mark.anyio
HUGE = "m" * (1 << 20)


async def refused(client, tool: str, arguments: dict) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error and result.structured_content is None, result.content[0].text[:300]
    text = result.content[0].text  # the SDK's own validation against the schema: "... validation error(s) ..."
    assert "validation error" in text or text.startswith("Invalid arguments"), text[:300]
    return text[:300]


@pytest.mark.parametrize(
    "tool, arguments, named",
    [
        ("compare_metrics", {"reported": {HUGE: 1.0}, "measured": {HUGE: 1.0}}, "reported"),
        ("compare_metrics", {"reported": {f"m{i}": 1.0 for i in range(5000)}, "measured": {"m0": 1.0}}, "reported"),
        ("compare_metrics", {"reported": {"acc": 1.0}, "measured": {"acc": [1.0] * 100_000}}, "measured"),
        ("compare_metrics", {"reported": {"acc": 1.0}, "measured": {"acc": 1.0}, "tolerance": 1e300}, "tolerance"),
        ("start_training", {"harness": "train_clean.py", "seeds": [10**20]}, "seeds"),
        ("run_ablation", {"harness": "ablation_sigmoid_bn.py", "variants": {"a": {}}, "seeds": [-1, 10**20]}, "seeds"),
        ("training_status", {"run_id": "x", "reach": {HUGE: 1.0}}, "reach"),
        ("inspect_data", {"harness": "clean_mlp.py", "splits": [HUGE]}, "splits"),
        (
            "gradient_check",
            {"harness": "clean_mlp.py", "numerical": {"function": HUGE, "input_shapes": [[2]]}},
            "function",
        ),
        ("inspect_model", {"harness": "h" * 5000}, "harness"),
        ("inspect_model", {"harness": "clean_mlp.py", "names": {f"role{i}": "f" for i in range(1000)}}, "names"),
    ],
)
async def test_big_or_out_of_range_arguments_are_refused_at_validation(client, tool, arguments, named):
    assert named in await refused(client, tool, arguments)


async def test_an_infinite_tolerance_is_refused_not_failed_later(client):
    # JSON has no Infinity: a client that writes 1e999 sends a number that parses to inf
    case = {"args": [1.0], "expected": 1.0}
    arguments = {"harness": "clean_mlp.py", "function": "get_batch", "cases": [case], "atol": float("inf")}
    assert "atol" in await refused(client, "check_known_values", arguments)
    numerical = {"function": "f", "input_shapes": [[2]], "atol": float("inf")}
    assert "atol" in await refused(client, "gradient_check", {"harness": "clean_mlp.py", "numerical": numerical})


async def test_bounded_schemas_still_take_ordinary_calls(client):
    result = await call(
        client, "compare_metrics", {"reported": {"accuracy": 90.0}, "measured": {"accuracy": [89.9, 90.1]}}
    )
    assert result["status"] == "pass"
