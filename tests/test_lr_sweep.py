import pytest

from conftest import assert_clean, call, codes, connect

pytestmark = pytest.mark.anyio

GRID = {"mode": "grid", "num_lrs": 6, "steps": 30}  # small: every grid test stays a few seconds


@pytest.mark.parametrize("harness", ["clean_mlp.py", "lr_regression_mlp.py"])
async def test_range_test_suggests_a_sensible_adam_lr_on_clean_models(client, harness):
    result = await call(client, "lr_sweep", {"harness": harness})
    assert_clean(result)
    details = result["details"]
    # A grid of 50-step Adam runs on these models is best between 1e-3 and 3e-2.
    assert 5e-4 <= details["suggested_lr"] <= 5e-2, details
    assert details["rule"].startswith("steepest descent")
    assert set(details["alternatives"]) == {"steepest", "valley", "min_over_10", "lowest_loss"}
    assert len(details["curve"]["lr"]) == 100 and details["curve"]["lr"][0] == 1e-5


@pytest.mark.parametrize("harness", ["clean_mlp.py", "lr_regression_mlp.py"])
async def test_grid_suggests_a_sensible_adam_lr_on_clean_models(client, harness):
    result = await call(client, "lr_sweep", {"harness": harness, **GRID})
    assert_clean(result)
    points = result["details"]["points"]
    assert [p["lr"] for p in points] == [1e-5, 6.31e-5, 3.98e-4, 2.51e-3, 1.58e-2, 0.1]
    assert 1e-3 <= result["details"]["suggested_lr"] <= 3e-2


async def test_grid_split_over_workers_equals_the_grid_on_one_worker(client, project_root):
    parallel = await call(client, "lr_sweep", {"harness": "clean_mlp.py", **GRID})
    async with connect(project_root, max_workers=1) as single:
        serial = await call(single, "lr_sweep", {"harness": "clean_mlp.py", **GRID})
    assert parallel["details"] == serial["details"]


async def test_grid_marks_diverged_rates_and_suggests_below_them(client):
    result = await call(client, "lr_sweep", {"harness": "clean_mlp.py", **GRID, "min_lr": 1e-3, "max_lr": 100})
    details = result["details"]
    diverged = [p["lr"] for p in details["points"] if p["diverged"]]
    assert diverged and details["diverged_from_lr"] == min(diverged)
    assert details["suggested_lr"] < details["diverged_from_lr"]


@pytest.mark.parametrize("extra", [{}, GRID], ids=["range", "grid"])
async def test_detached_output_has_no_stable_lr(client, extra):
    result = await call(client, "lr_sweep", {"harness": "lr_detached_output.py", **extra})
    assert result["status"] == "fail" and codes(result, "error") == {"no_stable_lr"}
    assert result["details"]["suggested_lr"] is None


@pytest.mark.parametrize("extra", [{}, GRID], ids=["range", "grid"])
async def test_a_range_below_the_good_rates_is_flagged_at_its_upper_edge(client, extra):
    result = await call(client, "lr_sweep", {"harness": "clean_mlp.py", "max_lr": 1e-4, **extra})
    assert result["status"] == "warn" and codes(result) == {"lr_at_range_edge"}
    assert result["findings"][0]["where"] == "max_lr" and "max_lr=0.01" in result["findings"][0]["suggestion"]


async def test_a_range_above_the_good_rates_is_flagged_at_its_lower_edge(client):
    result = await call(client, "lr_sweep", {"harness": "clean_mlp.py", "min_lr": 1e-2, "max_lr": 100})
    assert codes(result) == {"lr_at_range_edge"} and result["findings"][0]["where"] == "min_lr"


async def test_a_missing_harness_is_reported_once_for_all_grid_workers(client):
    result = await call(client, "lr_sweep", {"harness": "no_such_file.py", **GRID})
    assert result["status"] == "error" and [f["code"] for f in result["findings"]] == ["harness_error"]


@pytest.mark.parametrize(
    "arguments, words",
    [
        ({"min_lr": 1e-2, "max_lr": 1e-3}, "min_lr (0.01) must be below max_lr (0.001)"),
        ({"num_lrs": 5}, "num_lrs >= 20"),
        ({"mode": "grid", "num_lrs": 80}, "num_lrs must be <= 50"),
        ({"min_lr": 0}, "min_lr"),
    ],
)
async def test_bad_arguments_are_refused_with_a_message(client, arguments, words):
    result = await client.call_tool("lr_sweep", {"harness": "clean_mlp.py", **arguments})
    assert result.is_error and words in result.content[0].text
