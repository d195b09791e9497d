"""A scripted agent session: REINFORCE with a learned baseline solves CartPole, through implement-paper-mcp.

Paper: Williams (1992), "Simple statistical gradient-following algorithms for connectionist
reinforcement learning" (REINFORCE; the baseline as in Sutton & Barto, ch. 13.4). The claim
checked: on CartPole-v0 (Barto, Sutton & Anderson 1983; dynamics in cartpole.py) the policy
reaches an average return of 195 of 200, the task's "solved" line.

The script plays the agent: it starts the server as a real stdio subprocess, reads the
workflow prompt for paper_type "rl", runs every tool that applies on the correct harness
(reinforce.py), shows each planted bug (bug_*.py) caught by the tool the tips name, trains
three seeds with evaluations every 25 steps, and compares the final return with the paper.

Usage: python examples/rl/session.py [--steps 200]  (or: bash scripts/demo.sh rl)
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from agent import Agent, run_session, say  # examples/agent.py, beside this folder

ROOT = Path(__file__).resolve().parent
PAPER = "REINFORCE with a learned baseline on CartPole (Williams 1992)"
SOLVED = 195.0  # CartPole-v0: average return >= 195 of 200
H = "reinforce.py"
LOG_HALF = math.log(1 / (1 + math.e))  # log-softmax of the lower of two logits one apart

KNOWN = {  # function -> a hand-worked case (the tips' "test with known inputs/outputs")
    "discounted_returns": {"args": [[1, 1, 1, 1, 1], 0.5], "expected": [1.9375, 1.875, 1.75, 1.5, 1.0]},
    "chosen_log_probs": {"args": [[[1.0, 0.0], [0.0, 1.0]], [1, 0]], "expected": [LOG_HALF, LOG_HALF]},
    "surrogate_loss": {"args": [[-0.5, -1.0], [1.0, -2.0]], "expected": -0.75},
}
BUGS = {  # planted bug -> the known-values case that catches it
    "bug_forward_returns.py": "discounted_returns",
    "bug_wrong_actions.py": "chosen_log_probs",
    "bug_pg_sign.py": "surrogate_loss",
}


def known_values(harness: str, function: str) -> dict:
    return {"harness": harness, "function": function, "cases": [KNOWN[function]]}


async def scaffold(agent) -> None:
    say("", "\n== Scaffold: data (rollouts), model, loss at init, hand-worked pieces ==")
    await agent.tool("inspect_data", {"harness": H, "batch_size": 16}, clean=True)
    await agent.tool("inspect_model", {"harness": H, "batch_size": 16}, clean=True)
    await agent.tool("check_initialization", {"harness": H, "batch_size": 16}, clean=True)
    for function in KNOWN:
        await agent.tool("check_known_values", known_values(H, function), clean=True)
    say("", "\n== Gauntlet ==")
    await agent.tool("gradient_check", {"harness": H, "batch_size": 16}, clean=True)
    await agent.tool("check_dependencies", {"harness": H, "mode": "batch", "batch_size": 8}, clean=True)
    await agent.tool("run_overfit_test", {"harness": H, "sizes": [4, 16], "steps": 100, "lr": 1e-2}, clean=True)
    grid = {"mode": "grid", "batch_size": 16, "num_lrs": 5, "steps": 30, "min_lr": 1e-4, "max_lr": 1.0}
    await agent.tool("lr_sweep", {"harness": H, **grid}, clean=True)  # a grid: a surrogate loss defeats a range test


async def planted_bugs(agent) -> bool:
    say("", "\n== Planted bugs: each caught by the tool the tips name ==")
    caught = []
    for bug, function in BUGS.items():
        data = await agent.tool("check_known_values", known_values(bug, function))
        caught.append("known_value_mismatch" in {f["code"] for f in data["findings"]})
    runs = {}
    for bug in ("bug_pg_sign.py", "bug_wrong_actions.py"):  # their training signal points the wrong way
        args = {"harness": bug, "steps": 60, "lr": 1e-2, "batch_size": 16, "eval_every": 20, "label": bug[:-3]}
        runs[bug] = (await agent.tool("start_training", args))["details"]["run_id"]
    for run_id in runs.values():
        data = await agent.wait_for(run_id)
        agent.show("training_status", await agent.client.call_tool("training_status", {"run_id": run_id}))
        caught.append("objective_not_improving" in {f["code"] for f in data["findings"]})
    return all(caught)


async def session(agent: Agent, steps: int) -> bool:
    await agent.prompt("implement_paper", {"paper": PAPER, "paper_type": "rl"}, 10)
    await scaffold(agent)
    bugs_caught = await planted_bugs(agent)

    say("", f"\n== Training: Adam lr 1e-2, 16 episodes per step, {steps} steps, 3 seeds ==")
    args = {
        "harness": H,
        "steps": steps,
        "lr": 1e-2,
        "batch_size": 16,
        "seeds": [0, 1, 2],
        "eval_every": 25,
        "label": "reinforce",
    }
    run_id = (await agent.tool("start_training", args))["details"]["run_id"]
    await agent.wait_for(run_id)
    status = await agent.tool("training_status", {"run_id": run_id, "reach": {"return": SOLVED}}, clean=True)
    reach = status["details"]["reach"][0]
    say("", f"steps to an average return of {SOLVED:g}, per seed: {reach['steps']}")

    say("", "\n== Evaluation: compare with the paper ==")
    data = await agent.tool(
        "compare_metrics", {"run_id": run_id, "reported": {"return": 200.0}, "tolerance": 200.0 - SOLVED}
    )
    final = status["details"]["metrics"]["return"]
    solved = final["mean"] >= SOLVED and data["status"] == "pass"
    say(
        "",
        f"\n== Result ==\n  average return {final['mean']:.1f} ± {final['std']:.1f} over {final['n']} seeds "
        f"(solved at >= {SOLVED:g}): {'yes' if solved else 'NO'}; "
        f"planted bugs caught: {'yes' if bugs_caught else 'NO'}",
    )
    say("", f"  plot: {ROOT / status['details']['plot']}" if status["details"].get("plot") else "")
    return solved and bugs_caught


if __name__ == "__main__":
    run_session(
        session, root=ROOT, paper=PAPER, doc=__doc__, steps=200, steps_help="training steps per seed (16 episodes each)"
    )
