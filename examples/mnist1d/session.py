"""A scripted agent session: reproduce the MNIST-1D table through implement-paper-mcp.

Paper: "Scaling down deep learning with MNIST-1D" (Greydanus & Kobak, ICML 2024).
Reported test accuracy: logistic regression 32 %, MLP 68 %, CNN 94 % (GRU 91 %, left out
here: it takes minutes on 2 CPU cores).

The script plays the agent: it starts the server as a real stdio subprocess (as Claude
Code would), reads the workflow prompt, walks the scaffold and the gauntlet on the CNN,
trains all three models as background jobs, and compares with the paper. It prints a
transcript; plots are saved under examples/mnist1d/.implement-paper/.

Usage: python examples/mnist1d/session.py [--steps 6000]  (or: bash scripts/demo.sh)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from agent import Agent, quote, run_session, say  # examples/agent.py, beside this folder

ROOT = Path(__file__).resolve().parent
PAPER = "Scaling down deep learning with MNIST-1D (Greydanus & Kobak, ICML 2024)"
REPORTED = {  # harness -> (label, paper's test accuracy in %)
    "harness_cnn.py": ("CNN", 94.0),
    "harness_mlp.py": ("MLP", 68.0),
    "harness_logreg.py": ("logistic regression", 32.0),
}
TOLERANCE = 3.0  # accuracy points: seeds and hardware move these numbers by about that much


async def session(agent: Agent, steps: int) -> bool:
    client = agent.client
    prompt = await client.get_prompt("implement_paper", {"paper": PAPER, "paper_type": "other"})
    plan = prompt.messages[0].content.text
    say("", "\n[prompt implement_paper] first lines of the plan:")
    quote(plan, 12)

    say("", "\n== Scaffold, step 1-2: data and model ==")
    await agent.tool("inspect_data", {"harness": "harness_cnn.py"}, clean=True)
    await agent.tool("inspect_model", {"harness": "harness_cnn.py", "expected_param_count": 5210}, clean=True)
    await agent.tool("check_initialization", {"harness": "harness_cnn.py"}, clean=True)

    say("", "\n== Gauntlet: can it learn at all? ==")
    await agent.tool("run_overfit_test", {"harness": "harness_cnn.py", "lr": 1e-2}, clean=True)
    await agent.tool("gradient_check", {"harness": "harness_cnn.py"}, clean=True)
    await agent.tool("lr_sweep", {"harness": "harness_cnn.py", "mode": "range", "batch_size": 100}, clean=True)

    say("", f"\n== Training: the paper's recipe (Adam, lr 1e-2, batch 100, {steps} steps) ==")
    runs = {}
    for harness, (label, _) in REPORTED.items():
        seeds = [0] if harness == "harness_logreg.py" else [0, 1, 2]  # a convex model needs no seed spread
        data = await agent.tool(
            "start_training",
            {"harness": harness, "steps": steps, "lr": 1e-2, "batch_size": 100, "seeds": seeds, "label": label},
        )
        runs[harness] = data["details"]["run_id"]
    finished = {}
    for harness, run_id in runs.items():
        finished[harness] = await agent.wait_for(run_id)
        agent.show("training_status", await client.call_tool("training_status", {"run_id": run_id}))

    say("", "\n== Evaluation: compare with the paper ==")
    rows = []
    for harness, (label, paper) in REPORTED.items():
        data = await agent.tool(
            "compare_metrics",
            {"run_id": runs[harness], "reported": {"test_accuracy": paper}, "tolerance": TOLERANCE},
        )
        measured = (finished[harness]["details"].get("metrics") or {}).get("test_accuracy")
        if measured is None:  # e.g. the mnist1d package missing: the run's own summary says why
            say("", f"  {label}: no test accuracy; the run says: {finished[harness]['summary']}")
            return False
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
    return order_ok and rows[0][5] == "pass"


if __name__ == "__main__":
    run_session(
        session, root=ROOT, paper=PAPER, doc=__doc__, steps=6000, steps_help="training steps per run (paper: 6000)"
    )
