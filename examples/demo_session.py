"""A scripted agent session: reproduce the MNIST-1D table through implement-paper-mcp.

Paper: "Scaling down deep learning with MNIST-1D" (Greydanus & Kobak, ICML 2024).
Reported test accuracy: logistic regression 32 %, MLP 68 %, CNN 94 % (GRU 91 %, left out
here: it takes minutes on 2 CPU cores).

The script plays the agent: it starts the server as a real stdio subprocess (as Claude
Code would), reads the workflow prompt, walks the scaffold and the gauntlet on the CNN,
trains all three models as background jobs, and compares with the paper. It prints a
transcript; plots are saved under examples/mnist1d/.implement-paper/.

Usage: python examples/demo_session.py [--steps 6000]
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import time
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

ROOT = Path(__file__).resolve().parent / "mnist1d"
PAPER = "Scaling down deep learning with MNIST-1D (Greydanus & Kobak, ICML 2024)"
REPORTED = {  # harness -> (label, paper's test accuracy in %)
    "harness_cnn.py": ("CNN", 94.0),
    "harness_mlp.py": ("MLP", 68.0),
    "harness_logreg.py": ("logistic regression", 32.0),
}
TOLERANCE = 3.0  # accuracy points: seeds and hardware move these numbers by about that much


def say(who: str, text: str) -> None:
    if who:
        text = textwrap.fill(text, 100, initial_indent=f"{who} ", subsequent_indent=" " * (len(who) + 1))
    print(text, flush=True)


def quote(text: str, lines: int) -> None:
    print(textwrap.indent("\n".join(text.splitlines()[:lines]), "  | ", lambda _: True))


def show(name: str, result) -> dict:
    """Print a tool result the way an agent would read it: status, summary, findings, plots."""
    if result.is_error:
        raise SystemExit(f"  <- {name} failed: {result.content[0].text}")
    data = result.structured_content
    say("  <-", f"[{data['status']}] {data['summary']}")
    for item in data["findings"]:
        say("     -", f"{item['severity']} {item['code']}: {item['message']}")
    for artifact in data.get("artifacts", []):
        if artifact["kind"] == "plot":
            print(f"     plot: {ROOT / artifact['path']}")
    return data


async def tool(client: Client, name: str, arguments: dict) -> dict:
    print(f"\n  -> {name}({json.dumps(arguments)})", flush=True)
    return show(name, await client.call_tool(name, arguments))


async def wait_for(client: Client, run_id: str) -> dict:
    while True:
        data = (await client.call_tool("training_status", {"run_id": run_id, "wait_s": 30})).structured_content
        if data["details"]["status"] not in ("queued", "running"):
            return data
        print(f"     ... {data['summary']}", flush=True)


async def session(steps: int) -> int:
    server = StdioServerParameters(
        command=str(Path(sys.executable).with_name("implement-paper-mcp")), args=["--root", str(ROOT)]
    )
    started = time.perf_counter()
    async with Client(server) as client:
        say("", f"== Agent session: reproduce '{PAPER}' ==")
        prompt = await client.get_prompt("implement_paper", {"paper": PAPER, "paper_type": "other"})
        plan = prompt.messages[0].content.text
        say("", "\n[prompt implement_paper] first lines of the plan:")
        quote(plan, 12)

        say("", "\n== Scaffold, step 1-2: data and model ==")
        await tool(client, "inspect_data", {"harness": "harness_cnn.py"})
        await tool(client, "inspect_model", {"harness": "harness_cnn.py", "expected_param_count": 5210})
        await tool(client, "check_initialization", {"harness": "harness_cnn.py"})

        say("", "\n== Gauntlet: can it learn at all? ==")
        await tool(client, "run_overfit_test", {"harness": "harness_cnn.py", "lr": 1e-2})
        await tool(client, "gradient_check", {"harness": "harness_cnn.py"})
        await tool(client, "lr_sweep", {"harness": "harness_cnn.py", "mode": "range", "batch_size": 100})

        say("", f"\n== Training: the paper's recipe (Adam, lr 1e-2, batch 100, {steps} steps) ==")
        runs = {}
        for harness, (label, _) in REPORTED.items():
            seeds = [0] if harness == "harness_logreg.py" else [0, 1, 2]  # a convex model needs no seed spread
            data = await tool(
                client,
                "start_training",
                {"harness": harness, "steps": steps, "lr": 1e-2, "batch_size": 100, "seeds": seeds, "label": label},
            )
            runs[harness] = data["details"]["run_id"]
        finished = {}
        for harness, run_id in runs.items():
            finished[harness] = await wait_for(client, run_id)
            show("training_status", await client.call_tool("training_status", {"run_id": run_id}))

        say("", "\n== Evaluation: compare with the paper ==")
        rows = []
        for harness, (label, paper) in REPORTED.items():
            data = await tool(
                client,
                "compare_metrics",
                {"run_id": runs[harness], "reported": {"test_accuracy": paper}, "tolerance": TOLERANCE},
            )
            measured = finished[harness]["details"]["metrics"]["test_accuracy"]
            rows.append((label, paper, measured["mean"], measured["std"], measured["n"], data["status"]))

        say("", "\n== Result ==")
        print(f"  {'model':<20} {'paper':>6} {'measured':>16} {'seeds':>5}  within ±{TOLERANCE:g}")
        for label, paper, mean, std, n, status in rows:
            print(f"  {label:<20} {paper:6.1f} {mean:9.1f} ± {std:4.1f} {n:5d}  {'yes' if status == 'pass' else 'NO'}")
        order_ok = rows[2][2] < rows[1][2] < rows[0][2]
        print(f"  paper's order logistic < MLP < CNN reproduced: {'yes' if order_ok else 'NO'}")

        report = await client.get_prompt("session_report", {"goal": "Reproduce the MNIST-1D table", "component": "CNN"})
        say("", "\n[prompt session_report] the report skeleton the agent fills in:")
        quote(report.messages[0].content.text, 10)
    say("", f"\nDemo finished in {time.perf_counter() - started:.0f} s.")
    return 0 if order_ok and rows[0][5] == "pass" else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=6000, help="training steps per run (paper: 6000)")
    sys.exit(anyio.run(session, parser.parse_args().steps))


if __name__ == "__main__":
    main()
