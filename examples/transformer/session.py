"""A scripted agent session: reproduce *Attention Is All You Need* on a synthetic task through
implement-paper-mcp.

Paper: "Attention Is All You Need" (Vaswani et al., NeurIPS 2017), here as a decoder-only
model (post-LN, sinusoidal positions, label smoothing 0.1, warmup schedule) that learns to
reverse a sequence of 8 digits (harness_transformer.py). The claim checked: the recipe
trains the model to >= 99 % token accuracy on held-out sequences.

The script plays the agent: it starts the server as a real stdio subprocess, walks the
scaffold and the gauntlet on the correct harness, shows each planted bug (bug_*.py) caught
by the tool the paper-type tips name, trains two seeds as background jobs, and compares
with the target. It prints a transcript and ends with `reproduced: yes|no`.

Usage: python examples/transformer/session.py [--steps 500]  (or: bash scripts/demo.sh transformer)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from agent import Agent, run_session, say  # examples/agent.py, beside this folder

ROOT = Path(__file__).resolve().parent
PAPER = "Attention Is All You Need (Vaswani et al., NeurIPS 2017), decoder-only, reversing 8 digits"
HARNESS = "harness_transformer.py"
TARGET = 0.99  # token accuracy on held-out sequences
LR = 2e-3  # the peak of the warmup schedule (make_scheduler); lr_sweep's range test agrees within 3x
# planted bug -> (tool, arguments beyond the harness, finding code that must appear, cause ranked first or None)
PLANTED = {
    "bug_pe_not_added.py": ("check_dependencies", {"mode": "position"}, "no_positional_information", None),
    "bug_no_scale.py": ("check_initialization", {"batch_size": 32}, "saturated_attention", None),
    "bug_no_mask.py": ("check_dependencies", {"mode": "causal"}, "future_leakage", "mask_missing"),
    "bug_softmax_queries.py": ("check_dependencies", {"mode": "causal"}, "future_leakage", "softmax_dim"),
    "bug_heads_view.py": ("check_dependencies", {"mode": "causal"}, "future_leakage", "heads_merged"),
}


async def gauntlet(agent) -> None:
    """Every tool that applies, on the correct harness: any error or warning is a false alarm."""
    say("", "\n== Scaffold: data, model, initialisation ==")
    await agent.tool("inspect_data", {"harness": HARNESS}, clean=True)
    await agent.tool("inspect_model", {"harness": HARNESS, "expected_param_count": 101_516}, clean=True)
    await agent.tool("check_initialization", {"harness": HARNESS, "batch_size": 32}, clean=True)
    say("", "\n== Gauntlet: causality, positions, can it learn? ==")
    await agent.tool("check_dependencies", {"harness": HARNESS, "mode": "both"}, clean=True)
    await agent.tool("check_dependencies", {"harness": HARNESS, "mode": "causal", "exhaustive": True}, clean=True)
    await agent.tool("check_dependencies", {"harness": HARNESS, "mode": "position"}, clean=True)
    await agent.tool("run_overfit_test", {"harness": HARNESS, "sizes": [1, 10, 100], "lr": LR}, clean=True)
    await agent.tool("gradient_check", {"harness": HARNESS}, clean=True)
    await agent.tool("lr_sweep", {"harness": HARNESS}, clean=True)


async def planted_bugs(agent) -> dict[str, bool]:
    """Each planted bug through the tool the tips name; caught = the finding (and the cause ranked first)."""
    say("", "\n== Planted bugs: does the named tool catch each one? ==")
    caught = {}
    for harness, (tool, extra, code, cause) in PLANTED.items():
        data = await agent.tool(tool, {"harness": harness, **extra})
        found = [f for f in data["findings"] if f["code"] == code]
        first = found[0]["evidence"].get("likely_causes", [None])[0] if found else None
        caught[harness] = bool(found) and (cause is None or first == cause)
        say(
            "  =>",
            f"{harness}: {code} {'caught' if found else 'NOT caught'}" + (f", first cause {first}" if cause else ""),
        )
    return caught


async def session(agent: Agent, steps: int) -> bool:
    await agent.prompt("implement_paper", {"paper": PAPER, "paper_type": "transformer"}, 12)
    await gauntlet(agent)
    caught = await planted_bugs(agent)

    say("", f"\n== Training: Adam(0.9, 0.98), warmup then 1/sqrt(step), peak lr {LR}, {steps} steps, 2 seeds ==")
    recipe = {"harness": HARNESS, "lr": LR, "batch_size": 64}
    data = await agent.tool(
        "start_training", {**recipe, "steps": steps, "seeds": [0, 1], "eval_every": 100, "label": "vaswani"}
    )
    run_id = data["details"]["run_id"]
    say("", "\nWhile it trains: does the second layer matter? (the paper's Table 3 varies depth the same way)")
    await agent.tool("run_ablation", {**recipe, "variants": {"one_layer": {"layers": 1}}, "steps": 300}, clean=True)
    await agent.wait_for(run_id)
    status = await agent.tool("training_status", {"run_id": run_id, "reach": {"token_accuracy": TARGET}}, clean=True)

    say("", "\n== Evaluation: compare with the target ==")
    target = {"run_id": run_id, "reported": {"token_accuracy": 1.0}, "tolerance": round(1 - TARGET, 4)}
    compared = await agent.tool("compare_metrics", target)
    accuracy = status["details"]["metrics"]["token_accuracy"]
    say("", "\n== Result ==")
    print(
        f"  token accuracy {accuracy['mean']:.4f} ± {accuracy['std']:.4f} over {accuracy['n']} seeds "
        f"(target >= {TARGET})"
    )
    for harness, ok in caught.items():
        print(f"  {harness:<24} caught by {PLANTED[harness][0]}: {'yes' if ok else 'NO'}")
    return compared["status"] == "pass" and accuracy["mean"] >= TARGET


if __name__ == "__main__":
    run_session(
        session,
        root=ROOT,
        paper=PAPER,
        doc=__doc__,
        steps=500,
        steps_help="training steps per seed (accuracy passes 99 %% near 200)",
    )
