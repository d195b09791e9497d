"""The installed console script over stdio (issue 2): a real subprocess speaks MCP, lists
tools with output schemas, writes nothing but protocol to stdout even when the harness
floods fd 1, answers each malformed message with the JSON-RPC error the spec names and keeps
serving (issue 28), and passes the MCP Inspector's CLI."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
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


HELLO = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}
INITIALIZE = _rpc(1, "initialize", HELLO)
INITIALIZED = json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n"
ANSWER_WITHIN_S = 60  # a hang fails the test instead of blocking the suite


class RawClient:
    """The console script driven with raw lines on its stdin, its stdout read message by message
    (by a thread, so that a missing answer fails the test instead of blocking it)."""

    def __init__(self, root: Path, stderr):
        self.process = subprocess.Popen(
            [str(SERVER), "--root", str(root)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr
        )
        self.lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(line) for line in self.process.stdout], daemon=True).start()
        self.send(INITIALIZE + INITIALIZED)
        assert self.next_message()["id"] == 1

    def send(self, text: str) -> None:
        self.process.stdin.write(text.encode())
        self.process.stdin.flush()

    def next_message(self) -> dict:
        try:
            return json.loads(self.lines.get(timeout=ANSWER_WITHIN_S))
        except queue.Empty:
            status = self.process.poll()
            raise AssertionError(f"no answer within {ANSWER_WITHIN_S} s (server exit status: {status})") from None

    def close(self) -> None:
        self.process.stdin.close()  # end of input: the server exits
        self.process.wait(timeout=30)


@pytest.mark.slow
def test_stdout_carries_only_protocol_when_the_harness_floods_fd_1(root):
    flood = {"harness": "hostile.py", "model_kwargs": {"action": "flood_output"}}
    exchange = (
        INITIALIZE
        + INITIALIZED
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


@pytest.fixture(scope="module")
def raw_client(root, tmp_path_factory):
    with open(tmp_path_factory.mktemp("stderr") / "stderr.log", "w+") as stderr:
        client = RawClient(root, stderr)
        yield client
        client.close()
        stderr.seek(0)
        assert "Traceback" not in stderr.read()
        assert client.process.returncode == 0


@pytest.mark.parametrize(
    "line, code, request_id, words",
    [
        (json.dumps([json.loads(_rpc(7, "tools/list", {}))]), -32600, None, "batches are not supported"),
        (json.dumps({"jsonrpc": "1.0", "id": 8, "method": "tools/list"}), -32600, 8, '"jsonrpc" must be "2.0"'),
        (_rpc(9, "tools/list", []), -32602, 9, "params are an object"),
        (_rpc("ten", "tools/call", ["inspect_model", {"harness": "x.py"}]), -32602, "ten", "params are an object"),
        (_rpc(11, "ping", "x"), -32602, 11, "params are an object"),
        ('{"jsonrpc": "2.0", "id": 12, "method": "tools/li', -32700, None, "not JSON"),
        ("[" * 100_000, -32700, None, "nested too deeply"),
        ("42", -32600, None, "a JSON object"),
        (json.dumps({"jsonrpc": "2.0", "id": 13}), -32600, 13, "not a JSON-RPC request"),
        (json.dumps({"jsonrpc": "2.0", "id": {"no": 1}, "method": "ping"}), -32600, None, '"id" must be'),
    ],
)
def test_a_malformed_message_gets_the_spec_s_error_and_the_next_one_an_answer(
    raw_client, line, code, request_id, words
):
    raw_client.send(line.rstrip("\n") + "\n" + _rpc(100, "tools/list", {}))
    error, listed = None, None
    while error is None or listed is None:  # the two answers may come in either order
        message = raw_client.next_message()
        assert message["jsonrpc"] == "2.0"
        if message.get("id") == 100:
            listed = message
        else:
            error = message
    assert error["id"] == request_id and error["error"]["code"] == code and words in error["error"]["message"], error
    assert listed["result"]["tools"]


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
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)[key]
