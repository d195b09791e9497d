"""What every scripted agent session under examples/ shares: a stdio server, and printing
tool calls and results the way an agent reads them (status, summary, findings, plots).

Each paper's `examples/<paper>/session.py` plays the agent through the server started as a
real subprocess (as Claude Code would start it) and ends with `reproduced: yes` or `no`;
`run_session` is their common command line and closing.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters


def say(who: str, text: str) -> None:
    if who:
        text = textwrap.fill(text, 100, initial_indent=f"{who} ", subsequent_indent=" " * (len(who) + 1))
    print(text, flush=True)


def quote(text: str, lines: int) -> None:
    print(textwrap.indent("\n".join(text.splitlines()[:lines]), "  | ", lambda _: True))


class Agent:
    """A client on a server rooted at the paper's folder, with a transcript of every call."""

    def __init__(self, client: Client, root: Path):
        self.client = client
        self.root = root
        self.problems: list[str] = []  # error/warning findings seen on calls marked clean

    def show(self, name: str, result: Any) -> dict[str, Any]:
        if result.structured_content is None:  # a refused call; a status "error" result is shown like any other
            raise SystemExit(f"  <- {name} failed: {result.content[0].text}")
        data = result.structured_content
        say("  <-", f"[{data['status']}] {data['summary']}")
        for item in data["findings"]:
            say("     -", f"{item['severity']} {item['code']}: {item['message']}")
        for artifact in data.get("artifacts", []):
            if artifact["kind"] == "plot":
                print(f"     plot: {self.root / artifact['path']}")
        return data

    async def tool(self, name: str, arguments: dict[str, Any], *, clean: bool = False) -> dict[str, Any]:
        """Call a tool and print the exchange. `clean=True`: this is correct code, so any error or
        warning finding is a false alarm and is remembered for the session's verdict."""
        print(f"\n  -> {name}({json.dumps(arguments)})", flush=True)
        data = self.show(name, await self.client.call_tool(name, arguments))
        if clean:
            self.problems += [f"{name}: {f['code']}" for f in data["findings"] if f["severity"] in ("error", "warning")]
        return data

    async def wait_for(self, run_id: str) -> dict[str, Any]:
        """Poll training_status until the run ends; print each poll's summary."""
        while True:
            data = (await self.client.call_tool("training_status", {"run_id": run_id, "wait_s": 30})).structured_content
            if data["details"]["status"] not in ("queued", "running"):
                return data
            print(f"     ... {data['summary']}", flush=True)

    async def prompt(self, name: str, arguments: dict[str, str], lines: int) -> str:
        text = (await self.client.get_prompt(name, arguments)).messages[0].content.text
        say("", f"\n[prompt {name}] first lines:")
        quote(text, lines)
        return text


@asynccontextmanager
async def agent_on(root: Path) -> AsyncIterator[Agent]:
    """A stdio server (the installed console script) rooted at `root`, and an Agent on it."""
    server = StdioServerParameters(
        command=str(Path(sys.executable).with_name("implement-paper-mcp")), args=["--root", str(root)]
    )
    async with Client(server) as client:
        yield Agent(client, root)


def verdict(reproduced: bool, agent: Agent) -> int:
    """Print the closing line every session ends with; exit 0 either way (1 only if something broke)."""
    if agent.problems:
        print(f"  false alarms on correct code: {', '.join(agent.problems)}")
    print(f"reproduced: {'yes' if reproduced and not agent.problems else 'no'}", flush=True)
    return 0


def run_session(
    session: Callable[[Agent, int], Awaitable[bool]], *, root: Path, paper: str, doc: str, steps: int, steps_help: str
) -> None:
    """A session's command line (`--steps`, default `steps`): run `session(agent, steps)` on a server
    rooted at `root`, framed by the paper's title and, at the end, the duration and the verdict on
    whether it reproduced the paper (exit 0 either way)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=steps, help=steps_help)
    steps = parser.parse_args().steps

    async def run() -> int:
        started = time.perf_counter()
        async with agent_on(root) as agent:
            say("", f"== Agent session: reproduce '{paper}' ==")
            reproduced = await session(agent, steps)
            say("", f"\nDemo finished in {time.perf_counter() - started:.0f} s.")
            return verdict(reproduced, agent)

    sys.exit(anyio.run(run))


QUICK_TOOLS = (
    "inspect_data",
    "inspect_model",
    "check_initialization",
    "gradient_check",
    "check_dependencies",
    "run_overfit_test",
)


async def quick_tools(agent: Agent, harness: str) -> None:
    """Every quick tool at its defaults on correct code: any error or warning is a false alarm."""
    say("", "\n== Scaffold and gauntlet: every quick tool at its defaults ==")
    for tool in QUICK_TOOLS:
        await agent.tool(tool, {"harness": harness}, clean=True)


async def hand_worked(agent: Agent, harness: str, known: dict[str, dict], bugs: dict[str, str]) -> bool:
    """The hand-worked cases on the clean harness (they must match), then each planted bug against
    the case that covers it (it must mismatch). Whether every bug was caught."""
    say("", "\n== Known values: the hand-worked cases, then the planted bugs they cover ==")
    for function, case in known.items():
        await agent.tool("check_known_values", {"harness": harness, "function": function, "cases": [case]}, clean=True)
    caught = []
    for bug, function in bugs.items():
        data = await agent.tool(
            "check_known_values", {"harness": bug, "function": function, "cases": [known[function]]}
        )
        caught.append("known_value_mismatch" in {f["code"] for f in data["findings"]})
    return all(caught)


async def train(agent: Agent, args: dict[str, Any]) -> dict[str, dict]:
    """start_training, wait for the end; the metrics of training_status (name -> mean, std, n over seeds)."""
    say("", f"\n== Training: {json.dumps(args)} ==")
    run_id = (await agent.tool("start_training", args))["details"]["run_id"]
    await agent.wait_for(run_id)
    status = await agent.tool("training_status", {"run_id": run_id}, clean=True)
    return status["details"]["metrics"]
