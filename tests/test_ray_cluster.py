"""--executor ray joined to a real cluster started with `ray start --head` (issue 30): the project
is uploaded the way Ray supports and a 3-seed run gives the local executor's metrics, through the
installed console script over stdio, whose stdout carries nothing but JSON-RPC even when the
cluster dies; a dead cluster is reported as gone, with what to do."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import HARNESSES, call, connect
from mcp import Client, StdioServerParameters
from ray_cluster import cluster_pids, finished, ray_head

pytest.importorskip("ray", reason="the ray extra is not installed")
# Each module starts Ray (seconds before the first task runs): the whole module is slow.
pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SERVER = Path(sys.executable).parent / "implement-paper-mcp"
TRAIN = {"harness": "train_clean.py", "steps": 200, "lr": 3e-3, "batch_size": 32, "seeds": [0, 1, 2]}


@pytest.fixture(scope="module")
def cluster_dir(tmp_path_factory):
    """Without token authentication, whatever ~/.ray/auth_token this machine holds."""
    home = tmp_path_factory.mktemp("plain-home")
    with ray_head(num_cpus=2, env={"RAY_AUTH_MODE": "disabled", "HOME": str(home)}) as (address, temp_dir):
        yield address, temp_dir


@pytest.fixture(scope="module")
def cluster(cluster_dir) -> str:
    return cluster_dir[0]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ray-cluster-project")
    shutil.copytree(HARNESSES, root, dirs_exist_ok=True)
    return root


def server_args(project: Path, address: str) -> list[str]:
    return ["--root", str(project), "--executor", "ray", "--ray-address", address, "--timeout-s", "120"]


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


class RawStdio:
    """The console script over stdio, spoken to line by line: every line on its stdout must be JSON-RPC."""

    def __init__(self, args: list[str]):
        self.process = subprocess.Popen(
            [str(SERVER), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        self.ids = itertools.count(1)
        self.request(
            "initialize",
            {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
        )
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def send(self, message: dict) -> None:
        self.process.stdin.write((json.dumps(message) + "\n").encode())
        self.process.stdin.flush()

    def request(self, method: str, params: dict) -> dict:
        request_id = next(self.ids)
        self.send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        for line in self.process.stdout:
            message = json.loads(line)  # a line that is not JSON fails the test here
            assert message["jsonrpc"] == "2.0", line
            if message.get("id") == request_id:
                return message["result"]
        raise AssertionError("the server closed its stdout")

    def tool(self, name: str, arguments: dict) -> dict:
        return self.request("tools/call", {"name": name, "arguments": arguments})["structuredContent"]

    def trained(self, args: dict) -> dict:
        run_id = self.tool("start_training", args)["details"]["run_id"]
        for _ in range(60):
            details = self.tool("training_status", {"run_id": run_id, "wait_s": 10})["details"]
            if details["status"] not in ("queued", "running"):
                return details
        raise AssertionError(f"run {run_id} did not finish")

    def close(self) -> list[bytes]:
        """End of input: the server exits; what it wrote on stdout after the last answer."""
        self.process.stdin.close()
        rest = self.process.stdout.readlines()
        self.process.wait(timeout=60)
        return rest


def kill_raylet(temp_dir: str) -> None:
    raylets = [
        pid for pid in cluster_pids(temp_dir) if b"raylet" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
    ]
    assert raylets, "no raylet of ours found"
    for pid in raylets:
        os.kill(pid, signal.SIGKILL)


async def test_only_json_rpc_on_stdout_and_a_lost_cluster_is_named(cluster_dir, project):
    """Last in the module: it kills the cluster's raylet."""
    address, temp_dir = cluster_dir
    server = RawStdio(server_args(project, address))
    try:
        assert server.trained({**TRAIN, "seeds": [0], "steps": 20})["status"] == "completed"
        kill_raylet(temp_dir)
        lost = server.trained({**TRAIN, "seeds": [0], "steps": 20})
    finally:
        rest = server.close()
    assert all(json.loads(line)["jsonrpc"] == "2.0" for line in rest), rest[:5]
    finding = lost["seeds"][0]["findings"][0]
    assert finding["code"] == "cluster_lost", finding
    assert "restart the server" in finding["suggestion"]


TOKEN = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": "implement-paper-test-token-0123456789abcdef"}


@pytest.fixture(scope="module")
def token_cluster(tmp_path_factory):
    """A second head with Ray's token authentication on; HOME is a temp dir, so no one's
    ~/.ray/auth_token is read or written."""
    home = tmp_path_factory.mktemp("home")
    with ray_head(num_cpus=1, env={**TOKEN, "HOME": str(home)}) as (address, _):
        yield address, home


def bare_env(home: Path) -> dict[str, str]:
    """What an MCP client passes its server by default: a few variables, no Ray token."""
    return {"PATH": os.environ["PATH"], "HOME": str(home)}


async def test_a_cluster_that_wants_a_token_is_joined_with_one(token_cluster, project):
    address, home = token_cluster
    params = StdioServerParameters(
        command=str(SERVER), args=server_args(project, address), env={**bare_env(home), **TOKEN}
    )
    async with Client(params) as client:
        run = await trained(client, {**TRAIN, "seeds": [0], "steps": 20})
    assert run["status"] == "completed", run


def test_a_missing_token_fails_at_once_naming_what_to_set(token_cluster, project):
    address, home = token_cluster
    done = subprocess.run(
        [str(SERVER), *server_args(project, address)],
        env=bare_env(home),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and not done.stdout
    assert "RAY_AUTH_TOKEN" in done.stderr and '"env"' in done.stderr, done.stderr[-2000:]
