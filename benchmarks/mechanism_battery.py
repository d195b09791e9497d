"""The default battery over the mechanism examples (issue 25): which planted bugs do the quick
tools flag at their defaults, with no expected values written by hand?

For each of examples/diffusion, dqn and mlm, every quick tool (inspect_data, inspect_model,
check_initialization, gradient_check, check_dependencies, run_overfit_test) is called at its
defaults, through the console script over stdio on a copy of the folder, on the clean harness
and on each bug_*.py twin. A harness is flagged when any call gives an error or warning finding;
the table lists those finding codes per tool. The clean rows must stay unflagged (a flag there
is a false alarm); the bottom line counts the flagged bugs.

    .venv/bin/python benchmarks/mechanism_battery.py                 # all three (~10 min on 2 shared cores)
    .venv/bin/python benchmarks/mechanism_battery.py --examples dqn  # one family

The latest table, before and after issue 25's probes: docs/benchmarks.md, "Mechanism battery and probe cost".
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import anyio

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))
from agent import QUICK_TOOLS, agent_on  # noqa: E402 - examples/agent.py: the console script over stdio

FAMILIES = {"diffusion": "ddpm.py", "dqn": "dqn.py", "mlm": "bert.py"}


async def flags(client, harness: str) -> dict[str, list[str]]:
    """tool -> the error/warning codes it gave on `harness` (an error envelope counts as its status)."""
    found = {}
    for tool in QUICK_TOOLS:
        result = (await client.call_tool(tool, {"harness": harness})).structured_content
        if result is None:
            found[tool] = ["refused"]
            continue
        bad = [f["code"] for f in result["findings"] if f["severity"] in ("error", "warning")]
        if bad or result["status"] in ("fail", "error"):
            found[tool] = bad or [result["status"]]
    return found


async def family(name: str, harness: str) -> list[tuple[str, dict[str, list[str]]]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / name
        shutil.copytree(EXAMPLES / name, root, ignore=shutil.ignore_patterns(".implement-paper", "__pycache__"))
        async with agent_on(root) as agent:
            for file in [harness, *sorted(p.name for p in root.glob("bug_*.py"))]:
                rows.append((file, await flags(agent.client, file)))
                print(f"  {name}/{file}: {rows[-1][1] or '-'}", file=sys.stderr, flush=True)
    return rows


def table(results: dict[str, list[tuple[str, dict[str, list[str]]]]]) -> int:
    """Print the table; return the number of false alarms on clean harnesses."""
    print("| family | harness | flagged | findings (tool: codes) |\n|---|---|---|---|")
    bugs = flagged = false_alarms = 0
    for name, rows in results.items():
        for file, found in rows:
            codes = "; ".join(f"{tool}: {', '.join(c)}" for tool, c in found.items()) or "-"
            print(f"| {name} | {file} | {'yes' if found else 'no'} | {codes} |")
            if file.startswith("bug_"):
                bugs, flagged = bugs + 1, flagged + bool(found)
            else:
                false_alarms += bool(found)
    print(f"\nflagged {flagged} of {bugs} planted bugs; false alarms on clean harnesses: {false_alarms}")
    return false_alarms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", nargs="+", choices=list(FAMILIES), default=list(FAMILIES))
    chosen = parser.parse_args().examples

    async def run() -> dict:
        return {name: await family(name, FAMILIES[name]) for name in chosen}

    sys.exit(1 if table(anyio.run(run)) else 0)


if __name__ == "__main__":
    main()
