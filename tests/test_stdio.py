"""The installed console script over stdio (issue 2): a real subprocess speaks MCP, lists
tools with output schemas, writes nothing but protocol to stdout even when the harness
floods fd 1, and passes the MCP Inspector's CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

SERVER = Path(sys.executable).parent / "implement-paper-mcp"
HOSTILE = Path(__file__).parent / "reliability" / "harnesses" / "hostile.py"
INSPECTOR = "@modelcontextprotocol/inspector@2.12.0"  # pinned: `npm view @modelcontextprotocol/inspector version`


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("stdio")
    shutil.copy(HOSTILE, root)
    return root


@pytest.mark.anyio
@pytest.mark.slow
async def test_console_script_lists_tools_with_output_schemas(root):
    async with Client(StdioServerParameters(command=str(SERVER), args=["--root", str(root)])) as client:
        tools = (await client.list_tools()).tools
        assert tools and all(tool.output_schema and "status" in tool.output_schema["properties"] for tool in tools)
        result = await client.call_tool("inspect_model", {"harness": "hostile.py"})
        assert not result.is_error and result.structured_content["status"] in {"pass", "warn", "fail"}


def _rpc(request_id, method, params):
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}) + "\n"


@pytest.mark.slow
def test_stdout_carries_only_protocol_when_the_harness_floods_fd_1(root):
    flood = {"harness": "hostile.py", "model_kwargs": {"action": "flood_output"}}
    exchange = (
        _rpc(1, "initialize", {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}})
        + json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n"
        + _rpc(2, "tools/call", {"name": "inspect_model", "arguments": flood})
        + _rpc(3, "tools/call", {"name": "inspect_model", "arguments": {"harness": "hostile.py"}})
    )
    process = subprocess.Popen(
        [str(SERVER), "--root", str(root)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    process.stdin.write(exchange.encode())
    process.stdin.flush()
    answered = {}
    try:
        for line in process.stdout:  # every line must be a JSON-RPC message
            message = json.loads(line)
            assert message["jsonrpc"] == "2.0"
            answered[message.get("id")] = message
            if 2 in answered and 3 in answered:
                break
    finally:
        process.stdin.close()  # end of input: the server exits
        process.wait(timeout=30)
    flooded = answered[2]["result"]["structuredContent"]["run"]
    assert flooded["stdout_tail"].endswith("LAST STDOUT LINE\n")  # the flood went to the tail, not the wire
    assert answered[3]["result"]["structuredContent"]["status"] != "error"


def _inspector_available() -> str | None:
    """Why the Inspector test cannot run here, or None. On CI it must run, so never skip there."""
    if os.environ.get("CI"):
        return None
    if not shutil.which("npx"):
        return "npx is not installed"
    try:
        subprocess.run(["npm", "view", INSPECTOR, "version"], check=True, capture_output=True, timeout=30)
    except (subprocess.SubprocessError, OSError):
        return "the npm registry is unreachable"
    return None


@pytest.mark.parametrize("method, key", [("tools/list", "tools"), ("prompts/list", "prompts")])
@pytest.mark.slow
def test_mcp_inspector_cli(root, method, key):
    if reason := _inspector_available():
        pytest.skip(f"MCP Inspector CLI: {reason} (set CI=1 to require it)")
    done = subprocess.run(
        ["npx", "-y", INSPECTOR, "--cli", str(SERVER), "--root", str(root), "--method", method],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)[key]
