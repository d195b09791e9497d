"""A scripted agent session: a tiny BERT learns masked-token prediction, through implement-paper-mcp.

Paper: Devlin et al. (2019), "BERT: Pre-training of Deep Bidirectional Transformers for Language
Understanding" (the masked-LM objective: bidirectional encoder, padding masked out of attention,
15 % of tokens selected with the 80/10/10 rule, the loss on the selected positions only). The claim
checked at toy scale: masked-token accuracy far above the unigram baseline (>= 0.8 and >= 4x it).

The agent reads the workflow prompt for paper_type "encoder", runs every quick tool at its
defaults on the correct harness (bert.py), checks a masked row by hand (which positions are
selected, what each becomes, which labels stay -100), shows the planted bugs that case catches,
trains and compares with the unigram baseline.

Usage: python examples/mlm/session.py [--steps 600]  (or: bash scripts/demo.sh mlm)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from agent import Agent, hand_worked, quick_tools, run_session, say, train  # examples/agent.py
from cases import BUGS, KNOWN  # this folder's hand-worked cases

ROOT = Path(__file__).resolve().parent
PAPER = "BERT masked-LM (Devlin et al. 2019) on padded synthetic sequences"
H = "bert.py"


async def session(agent: Agent, steps: int) -> bool:
    await agent.prompt("implement_paper", {"paper": PAPER, "paper_type": "encoder"}, 10)
    await quick_tools(agent, H)
    bugs_caught = await hand_worked(agent, H, KNOWN, BUGS)
    metrics = await train(
        agent,
        {"harness": H, "steps": steps, "lr": 1e-3, "batch_size": 64, "eval_every": max(1, steps // 3), "label": "mlm"},
    )
    accuracy, unigram = metrics["masked_accuracy"]["mean"], metrics["unigram_accuracy"]["mean"]
    beaten = accuracy >= 0.8 and accuracy >= 4 * unigram
    say(
        "",
        f"\n== Result ==\n  masked-token accuracy {accuracy:.3f} against {unigram:.3f} for the unigram baseline: "
        f"{'yes' if beaten else 'NO'}; planted bugs caught: {'yes' if bugs_caught else 'NO'}",
    )
    return beaten and bugs_caught


if __name__ == "__main__":
    run_session(
        session, root=ROOT, paper=PAPER, doc=__doc__, steps=600, steps_help="training steps (64 sequences each)"
    )
