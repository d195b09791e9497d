"""--executor ray: training seeds, grid points and ablation variants as Ray tasks on a local
2-CPU Ray instance, checked against the local executor: same seeds, same numbers; cancel
kills the tasks' processes; a task killed from outside fails its seed only."""

import os
import shutil
import signal
import sys
from pathlib import Path

import anyio
import pytest
from conftest import HARNESSES, call, connect
from mcp import Client, StdioServerParameters
from ray_cluster import finished

SERVER = Path(sys.executable).parent / "implement-paper-mcp"
ray = pytest.importorskip("ray", reason="the ray extra is not installed")
# Each module starts Ray (seconds before the first task runs): the whole module is slow.
pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.fixture(scope="module")
def ray_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ray-project")
    shutil.copytree(HARNESSES, root, dirs_exist_ok=True)
    return root


@pytest.fixture(scope="module")
async def ray_client(ray_root):
    async with connect(ray_root, executor="ray", timeout_s=120) as client:
        yield client


@pytest.fixture(scope="module")
async def local_client(ray_root):
    async with connect(ray_root, timeout_s=120) as client:
        yield client


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose: it runs nothing.
    return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"


async def job_pids(root: Path, count: int) -> list[int]:
    marks = root / "pids"
    with anyio.fail_after(90):
        while len(pids := [int(p.name) for p in marks.glob("*")] if marks.is_dir() else []) < count:
            await anyio.sleep(0.2)
    return pids


async def test_training_run_gives_the_same_metrics_on_both_executors(ray_client, local_client):
    args = {"harness": "train_clean.py", "steps": 200, "lr": 3e-3, "batch_size": 32, "seeds": [0, 1, 2]}
    runs = [await call(c, "start_training", args) for c in (ray_client, local_client)]
    on_ray, local = [await finished(c, r["details"]["run_id"]) for c, r in zip((ray_client, local_client), runs)]
    assert on_ray["status"] == local["status"] == "completed"
    assert [s["final_loss"] for s in on_ray["seeds"]] == [s["final_loss"] for s in local["seeds"]]
    assert on_ray["metrics"] == local["metrics"]


async def test_grid_sweep_gives_the_same_points_on_both_executors(ray_client, local_client):
    args = {"harness": "clean_mlp.py", "mode": "grid", "num_lrs": 8, "steps": 20, "min_lr": 1e-4, "max_lr": 1e-1}
    on_ray, local = [await call(c, "lr_sweep", args) for c in (ray_client, local_client)]
    assert on_ray["status"] == local["status"], (on_ray["summary"], on_ray["findings"])
    assert on_ray["details"]["points"] == local["details"]["points"]


async def test_ablation_gives_the_same_ranking_on_both_executors(ray_client, local_client):
    args = {
        "harness": "ablation_feature_mask.py",
        "variants": {"no_mask": {"use_mask": False}},
        "seeds": [0, 1],
        "steps": 40,
    }
    on_ray, local = [await call(c, "run_ablation", args) for c in (ray_client, local_client)]
    assert on_ray["status"] == local["status"]
    assert on_ray["details"] == local["details"]


async def test_cancel_kills_the_tasks_processes(ray_client, ray_root):
    shutil.rmtree(ray_root / "pids", ignore_errors=True)
    started = await call(
        ray_client, "start_training", {"harness": "ray_pid_marker.py", "steps": 100_000, "seeds": [0, 1]}
    )
    pids = await job_pids(ray_root, 2)
    cancelled = await call(ray_client, "cancel_training", {"run_id": started["details"]["run_id"]})
    assert cancelled["details"]["status"] == "cancelled"
    with anyio.fail_after(20):
        while any(alive(pid) for pid in pids):
            await anyio.sleep(0.1)


async def test_cancel_and_server_exit_leave_no_child_or_detached_grandchild(ray_client, ray_root):
    """The job's child and its setsid grandchild die with a cancel (issue 30: Ray's force-kill of the
    node's zygote left them), and with the server's exit mid-run."""
    shutil.rmtree(ray_root / "pids", ignore_errors=True)
    started = await call(ray_client, "start_training", {"harness": "ray_escapees.py", "steps": 100_000, "seeds": [0]})
    pids = await job_pids(ray_root, 3)
    await call(ray_client, "cancel_training", {"run_id": started["details"]["run_id"]})
    with anyio.fail_after(30):
        while any(alive(pid) for pid in pids):
            await anyio.sleep(0.1)
    shutil.rmtree(ray_root / "pids")
    # Its own process: this one already holds a Ray driver.
    params = StdioServerParameters(command=str(SERVER), args=["--root", str(ray_root), "--executor", "ray"])
    async with Client(params) as client:
        await call(client, "start_training", {"harness": "ray_escapees.py", "steps": 100_000, "seeds": [0]})
        pids = await job_pids(ray_root, 3)
    with anyio.fail_after(30):
        while any(alive(pid) for pid in pids):
            await anyio.sleep(0.1)


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().split(") ")[1].split()[1])


async def test_a_task_killed_from_outside_fails_only_its_seed(ray_client, ray_root):
    """Kill the Ray worker process that runs one seed (job -> zygote -> Ray worker), as a lost node would."""
    shutil.rmtree(ray_root / "pids", ignore_errors=True)
    started = await call(ray_client, "start_training", {"harness": "ray_pid_marker.py", "steps": 300, "seeds": [0, 1]})
    job = min(await job_pids(ray_root, 2))
    os.kill(parent_of(parent_of(job)), signal.SIGKILL)
    record = await finished(ray_client, started["details"]["run_id"])
    statuses = sorted(s["status"] for s in record["seeds"])
    assert statuses == ["completed", "failed"], record
    failed = next(s for s in record["seeds"] if s["status"] == "failed")
    assert "crashed" in {f["code"] for f in failed["findings"]}


async def test_an_exception_on_the_node_is_that_error_not_a_lost_node(ray_root, tmp_path):
    """The node's pool raises (its interpreter cannot start a worker: here a torch that fails to import):
    the seed fails with worker_start_failed, as it would locally, not with a lost node's `crashed`."""
    broken = tmp_path / "broken-torch"
    broken.mkdir()
    (broken / "torch.py").write_text("raise ImportError('no torch on this node (a stand-in that fails to import)')\n")
    # Its own process (this one already holds a Ray driver); Ray's workers inherit its environment.
    env = {**os.environ, "PYTHONPATH": str(broken)}
    params = StdioServerParameters(command=str(SERVER), args=["--root", str(ray_root), "--executor", "ray"], env=env)
    async with Client(params) as client:
        started = await call(client, "start_training", {"harness": "train_clean.py", "steps": 5, "seeds": [0]})
        record = await finished(client, started["details"]["run_id"])
    [seed] = record["seeds"]
    codes = {f["code"] for f in seed["findings"]}
    assert seed["status"] == "failed" and "worker_start_failed" in codes and "crashed" not in codes, seed
    assert "on Ray node" in next(f["message"] for f in seed["findings"] if f["code"] == "worker_start_failed")
