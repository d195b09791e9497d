"""The server as a client sees it: the tool list, schemas, hints, and seeded repeatability."""

import subprocess
import sys

import pytest
from conftest import TOOLS, assert_clean, call, connect, finding_of

from implement_paper.server.cli import parse_args

pytestmark = pytest.mark.anyio

CONTRACT_TOOLS = {
    "run_overfit_test",
    "gradient_check",
    "lr_sweep",
    "compare_metrics",
    "check_initialization",
    "inspect_model",
    "inspect_data",
    "check_dependencies",
}
JOB_TOOLS = {"start_training", "training_status", "cancel_training", "list_runs"}


async def test_every_contract_tool_is_listed_with_schemas(client):
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert CONTRACT_TOOLS | JOB_TOOLS | {"run_ablation"} <= set(tools)
    for tool in tools.values():
        assert tool.description, tool.name
        assert tool.output_schema and {"status", "summary", "findings"} <= set(tool.output_schema["properties"])
        if tool.name in CONTRACT_TOOLS - {"compare_metrics"} | {"run_ablation"}:
            properties = tool.input_schema["properties"]
            assert {"harness", "seed", "device", "timeout_s", "names", "model_kwargs"} <= set(properties), tool.name
            assert tool.input_schema["required"][0] == "harness", tool.name


async def test_worker_details_fields_are_described_by_their_attribute_docstrings(client):
    """The details the worker sends are stdlib dataclasses (tools/wire/details.py); each attribute's
    docstring must reach the client as that field's description."""
    schemas = {t.name: t.output_schema for t in (await client.list_tools()).tools}
    expected = [  # tool, class, field, its docstring in details.py
        ("run_overfit_test", "Curve", "step", "Step indices."),
        ("inspect_data", "ChannelStats", "mean_range", "[lowest, highest] per-channel mean."),
        ("inspect_data", "LabelStats", "ignore_index", "The harness's ignore_index (PyTorch's -100 by default)."),
    ]
    for tool, cls, name, doc in expected:
        assert schemas[tool]["$defs"][cls]["properties"][name]["description"] == doc, (tool, cls, name)


async def test_hints_say_what_each_tool_does(client):
    hints = {t.name: t.annotations for t in (await client.list_tools()).tools}
    # Runner tools run the user's code and write under .implement-paper/: not read-only, not destructive.
    for name in CONTRACT_TOOLS - {"compare_metrics"}:
        assert hints[name].read_only_hint is False and hints[name].destructive_hint is False, name
    assert hints["list_runs"].read_only_hint is True
    assert hints["cancel_training"].destructive_hint is True
    assert all(h.open_world_hint is False for h in hints.values())


async def test_the_same_seed_gives_the_same_numbers(client):
    args = {"harness": "clean_mlp.py", "sizes": [10], "steps": 60, "seed": 3}
    first, second = [await call(client, "run_overfit_test", args) for _ in range(2)]
    assert first["details"] == second["details"]
    other = await call(client, "run_overfit_test", {**args, "seed": 4})
    assert other["details"]["sizes"][0]["initial_loss"] != first["details"]["sizes"][0]["initial_loss"]


async def test_long_work_reports_progress(client):
    events = []

    async def record(progress, total, message):
        events.append((progress, total, message))

    result = await client.call_tool(
        "run_overfit_test",
        {"harness": "clean_mlp.py", "sizes": [10], "steps": 400, "target_loss": 0},
        progress_callback=record,
    )
    assert not result.is_error
    assert events, "no progress notification reached the client"
    started, *steps = events
    assert started[2].startswith("started on a worker")  # the wait before it ran is reported first
    assert steps and all(total == 400 for _, total, _ in steps), events
    assert [p for p, _, _ in events] == sorted(p for p, _, _ in events)  # progress only moves forward
    assert "size 10" in events[-1][2]


@pytest.mark.slow
async def test_a_project_with_its_own_tools_and_server_packages(tmp_path):
    """ML repos often have top-level `tools/` and `server/` packages: ours must not collide."""
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "__init__.py").write_text(
        "import torch\n"
        "def get_batch(n, split='train'):\n"
        "    g = torch.Generator().manual_seed(0 if split == 'train' else 1)\n"
        "    x = torch.randn(n, 8, generator=g)\n"
        "    return x, (x.sum(dim=1) > 0).long()\n"
    )
    (tmp_path / "tools" / "layers.py").write_text(
        "from torch import nn\ndef build_model():\n"
        "    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))\n"
    )
    (tmp_path / "server").mkdir()
    (tmp_path / "server" / "__init__.py").write_text("raise RuntimeError('the project server package was imported')\n")
    (tmp_path / "harness.py").write_text(
        "from tools import get_batch  # noqa: F401\nfrom tools.layers import build_model  # noqa: F401\n"
    )
    async with connect(tmp_path) as client:
        assert_clean(await call(client, "gradient_check", {"harness": "harness.py"}))
        assert_clean(await call(client, "run_overfit_test", {"harness": "harness.py", "sizes": [4], "lr": 1e-2}))


async def test_a_worker_interpreter_without_torch_is_reported(project_root, tmp_path):
    bare = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    async with connect(project_root, python=str(bare / "bin" / "python")) as client:
        result = await call(client, "gradient_check", {"harness": "clean_mlp.py"})
    assert result["status"] == "error"
    failed = finding_of(result, "worker_start_failed")
    assert "torch" in failed["message"] and "--python" in failed["suggestion"]


def test_the_command_line_takes_a_thread_budget_and_more_allowed_hosts(tmp_path):
    config = parse_args(
        ["--root", str(tmp_path), "--threads-per-worker", "2", "--allowed-hosts", "a.example, b.example:8443"]
    )
    assert config.threads_per_worker == 2 and config.allowed_hosts == ("a.example", "b.example:8443")
    assert parse_args(["--root", str(tmp_path)]).threads_per_worker is None  # cores // --max-workers
    with pytest.raises(SystemExit):
        parse_args(["--root", str(tmp_path), "--threads-per-worker", "0"])


@pytest.mark.slow
def test_executor_ray_without_ray_says_how_to_install_it(tmp_path):
    """The ray extra is optional: without it, --executor ray stops at once with the install command."""
    hide_ray = "import sys; sys.modules['ray'] = None; from implement_paper.server.cli import main; main(sys.argv[1:])"
    done = subprocess.run(
        [sys.executable, "-c", hide_ray, "--root", str(tmp_path), "--executor", "ray"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "pip install 'implement-paper-mcp[ray]'" in done.stderr, done.stderr
    assert done.stdout == ""  # stdout carries protocol bytes only


def test_the_command_line_takes_the_executor_options(tmp_path):
    pytest.importorskip("ray", reason="--executor ray is refused without the ray extra (tested above)")
    config = parse_args(
        ["--root", str(tmp_path), "--executor", "ray", "--ray-address", "auto", "--ray-project-path", "/shared/p"]
    )
    assert (config.executor, config.ray_address, config.ray_project_path) == ("ray", "auto", "/shared/p")
    assert parse_args(["--root", str(tmp_path)]).executor == "local"


async def test_each_typed_tool_function_declares_its_arguments_model(client):
    """A tool's typed function (what the SDK reads for inputSchema) and its arguments model (what the
    call is validated against, cross-field rules included) declare the same parameters: same types,
    bounds, descriptions, defaults and order. Only the title and additionalProperties may differ (the
    model's extra="forbid" is enforced by tools/runtime/tool_call.py's refusal of unknown arguments)."""
    listed = {t.name: t.input_schema for t in (await client.list_tools()).tools}
    for tool in TOOLS:
        published, model = listed[tool.name], tool.args.model_json_schema()
        for schema in (published, model):
            schema.pop("title"), schema.pop("additionalProperties", None)
        assert published == model, tool.name
        assert list(published["properties"]) == list(tool.args.model_fields), tool.name
