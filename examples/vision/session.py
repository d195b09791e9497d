"""A scripted agent session: reproduce Batch Normalization's MNIST claims through implement-paper-mcp.

Paper: "Batch Normalization: Accelerating Deep Network Training by Reducing Internal
Covariate Shift" (Ioffe & Szegedy, ICML 2015). Its MNIST experiment (§4.1, Figure 1a): a
3 x 100 sigmoid MLP trained by SGD reaches a higher accuracy, much faster, with BN; and BN
lets a network train at far higher learning rates (Inception: 14x fewer steps, 30x the
rate). Scaled down here to scikit-learn's 8x8 digits (1,400 train / 397 test images), the
claims we check are: (a) BN reaches the target test accuracy in >= 5x fewer steps; (b) the
highest learning rate that still trains is >= 10x higher with BN.

The script plays the agent through the stdio server: scaffold and gauntlet on the clean
harness (every call must be clean), each planted bug caught by the tool that should catch
it, the lr sweeps, an ablation, training runs with an evaluation history, and the verdict.

Usage: python examples/vision/session.py [--steps 2000]  (or: bash scripts/demo.sh vision)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from agent import Agent, run_session, say  # examples/agent.py, beside this folder

ROOT = Path(__file__).resolve().parent
PAPER = "Batch Normalization (Ioffe & Szegedy, ICML 2015), MNIST experiment on 8x8 digits"
CLEAN = "harness.py"
NO_BN = {"batch_norm": False}
TARGET_ACCURACY = 0.9  # the accuracy whose first step is compared
LR = 0.5  # one rate for both networks, as the paper's MNIST comparison
SPEEDUP, LR_RATIO = 5.0, 10.0  # the claims, scaled down
GRID = {"min_lr": 0.01, "max_lr": 100.0, "num_lrs": 9, "steps": 300, "batch_size": 60, "mode": "grid"}  # half decades
MIN_DROP = 0.025  # a rate "trains" when its final loss is 2.5 % below its initial one (lr_sweep's own rule)


def highest_training_lr(sweep: dict) -> float | None:
    """The highest swept rate that did not diverge and lowered the loss."""
    points = sweep["details"]["points"] or []
    trains = [
        p["lr"]
        for p in points
        if not p["diverged"] and p["final_loss"] is not None and p["final_loss"] < (1 - MIN_DROP) * p["initial_loss"]
    ]
    return max(trains, default=None)


async def check_clean(agent) -> None:
    say("", "\n== Scaffold and gauntlet on the correct harness (every call must be clean) ==")
    await agent.tool("inspect_data", {"harness": CLEAN}, clean=True)
    await agent.tool("inspect_model", {"harness": CLEAN, "expected_param_count": 28010, "tolerance": 0}, clean=True)
    await agent.tool(
        "inspect_model",
        {"harness": CLEAN, "model_kwargs": NO_BN, "expected_param_count": 27710, "tolerance": 0},
        clean=True,
    )
    for kwargs in ({}, NO_BN):
        await agent.tool("check_initialization", {"harness": CLEAN, "model_kwargs": kwargs}, clean=True)
        await agent.tool("gradient_check", {"harness": CLEAN, "model_kwargs": kwargs}, clean=True)
    await agent.tool("check_dependencies", {"harness": CLEAN, "mode": "batch"}, clean=True)
    # Sizes 10 and 100: BatchNorm cannot train on a single example (one value per channel).
    await agent.tool("run_overfit_test", {"harness": CLEAN, "sizes": [10, 100], "lr": LR}, clean=True)


async def catch_bugs(agent) -> list[bool]:
    say("", "\n== Planted bugs, each through the tool that should catch it ==")
    raw = await agent.tool("inspect_data", {"harness": "bug_raw_pixels.py", "splits": ["train"]})
    frozen = await agent.tool("run_overfit_test", {"harness": "bug_frozen_bn.py", "sizes": [10, 100], "lr": LR})
    caught = [
        any(f["code"] == "unnormalized_inputs" for f in raw["findings"]),
        any(f["code"] in ("buffers_not_updated", "train_eval_gap") for f in frozen["findings"]),
    ]
    say("agent:", f"raw 0..16 pixels caught: {caught[0]}; BatchNorm statistics never updated caught: {caught[1]}.")
    return caught


async def sweep_lrs(agent) -> tuple[float | None, float | None]:
    say("", "\n== Claim (b): BN tolerates a much higher learning rate (lr_sweep grid, 0.01..100) ==")
    with_bn = await agent.tool("lr_sweep", {"harness": CLEAN, **GRID}, clean=True)
    without = await agent.tool("lr_sweep", {"harness": CLEAN, "model_kwargs": NO_BN, **GRID}, clean=True)
    high_bn, high_plain = highest_training_lr(with_bn), highest_training_lr(without)
    say("agent:", f"highest rate that still trains: with BN {high_bn}, without {high_plain}.")
    return high_bn, high_plain


async def train_both(agent, steps: int) -> dict[str, dict]:
    say("", f"\n== Claim (a): steps to {TARGET_ACCURACY:.0%} test accuracy, SGD lr {LR}, batch 60, {steps} steps ==")
    runs = {}
    for label, kwargs in (("bn", {}), ("no-bn", NO_BN)):
        args = {
            "harness": CLEAN,
            "model_kwargs": kwargs,
            "steps": steps,
            "lr": LR,
            "batch_size": 60,
            "seeds": [0, 1, 2],
            "eval_every": 25,
            "label": label,
        }
        runs[label] = (await agent.tool("start_training", args))["details"]["run_id"]
    finished = {}
    for label, run_id in runs.items():
        await agent.wait_for(run_id)
        finished[label] = await agent.tool(
            "training_status", {"run_id": run_id, "reach": {"test_accuracy": TARGET_ACCURACY}}, clean=True
        )
    return finished


def steps_to_target(status: dict, steps: int) -> float:
    """Mean first step at the target over seeds; a seed that never got there counts as the whole run."""
    reach = next(r for r in status["details"].get("reach", []) if r["metric"] == "test_accuracy")
    return sum(step if step is not None else steps for step in reach["steps"]) / len(reach["steps"])


async def session(agent: Agent, steps: int) -> bool:
    await check_clean(agent)
    caught = await catch_bugs(agent)
    await agent.tool(
        "run_ablation",
        {"harness": CLEAN, "variants": {"no_bn": NO_BN}, "seeds": [0, 1], "steps": 300, "lr": LR, "batch_size": 60},
        clean=True,
    )
    high_bn, high_plain = await sweep_lrs(agent)
    finished = await train_both(agent, steps)
    bn_steps, plain_steps = (steps_to_target(finished[label], steps) for label in ("bn", "no-bn"))
    speedup = plain_steps / max(bn_steps, 1.0)
    lr_ratio = high_bn / high_plain if high_bn and high_plain else 0.0
    say("agent:", f"mean steps to {TARGET_ACCURACY:.0%}: BN {bn_steps:.0f}, no BN {plain_steps:.0f} ({speedup:.1f}x).")

    say("", "\n== Evaluation: the claims against their scaled-down targets ==")
    await agent.tool(
        "compare_metrics",
        {"run_id": finished["bn"]["details"]["run_id"], "reported": {"test_accuracy": 0.95}, "tolerance": 0.02},
    )
    claims = await agent.tool(
        "compare_metrics",
        {
            "reported": {"steps_speedup": SPEEDUP, "lr_ratio": LR_RATIO},
            "measured": {"steps_speedup": round(speedup, 3), "lr_ratio": round(lr_ratio, 6)},
            "tolerance": 0,
            "higher_is_better": True,
        },
    )
    reproduced = claims["status"] == "pass" and all(caught)
    say("", f"\nBN: {speedup:.1f}x fewer steps to {TARGET_ACCURACY:.0%} (claim >= {SPEEDUP:g}x); "
        f"highest training lr {high_bn} vs {high_plain} ({lr_ratio:.1f}x, claim >= {LR_RATIO:g}x).")  # fmt: skip
    return reproduced


if __name__ == "__main__":
    run_session(session, root=ROOT, paper=PAPER, doc=__doc__, steps=2000, steps_help="training steps per run")
