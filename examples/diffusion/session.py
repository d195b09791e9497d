"""A scripted agent session: DDPM learns a 2-D mixture of Gaussians, through implement-paper-mcp.

Paper: Ho, Jain & Abbeel (2020), "Denoising Diffusion Probabilistic Models". The claim checked at
toy scale: samples match the data, i.e. their sliced Wasserstein distance (SWD) to held-out data
sits near the floor two data draws reach (within 3x) and far below a Gaussian fitted to the data
(under a third of its SWD).

The agent reads the workflow prompt for paper_type "diffusion", runs every quick tool at its
defaults on the correct harness (ddpm.py), checks the schedule by hand (abar at t=0 and at the
last step, the ends of the beta schedule) and shows the planted bugs those cases catch, trains,
and compares the samples with the data.

Usage: python examples/diffusion/session.py [--steps 3000]  (or: bash scripts/demo.sh diffusion)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from agent import Agent, hand_worked, quick_tools, run_session, say, train  # examples/agent.py
from cases import BUGS, KNOWN  # this folder's hand-worked cases

ROOT = Path(__file__).resolve().parent
PAPER = "Denoising Diffusion Probabilistic Models (Ho et al. 2020) on an eight-Gaussian ring"
H = "ddpm.py"


async def session(agent: Agent, steps: int) -> bool:
    await agent.prompt("implement_paper", {"paper": PAPER, "paper_type": "diffusion"}, 10)
    await quick_tools(agent, H)
    bugs_caught = await hand_worked(agent, H, KNOWN, BUGS)
    metrics = await train(
        agent,
        {
            "harness": H,
            "steps": steps,
            "lr": 2e-3,
            "batch_size": 256,
            "eval_every": max(1, steps // 3),
            "label": "ddpm",
        },
    )
    swd, floor, gaussian = (metrics[k]["mean"] for k in ("swd", "swd_floor", "swd_gaussian"))
    matched = swd <= 3 * floor and swd <= gaussian / 3
    say(
        "",
        f"\n== Result ==\n  SWD of the samples {swd:.3f}; data floor {floor:.3f}; Gaussian fit {gaussian:.3f}: "
        f"samples match the data: {'yes' if matched else 'NO'}; planted bugs caught: {'yes' if bugs_caught else 'NO'}",
    )
    return matched and bugs_caught


if __name__ == "__main__":
    run_session(session, root=ROOT, paper=PAPER, doc=__doc__, steps=3000, steps_help="training steps (256 points each)")
