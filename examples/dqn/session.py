"""A scripted agent session: DQN learns to balance CartPole, through implement-paper-mcp.

Paper: Mnih et al. (2015), "Human-level control through deep reinforcement learning" (DQN: replay
memory, a target network synced every C updates, epsilon-greedy). The claim checked at toy scale on
CartPole-v1 (pole.py): the greedy policy's return is far above a random policy's (at least 5x).

The agent reads the workflow prompt for paper_type "value_rl", runs every quick tool at its
defaults on the correct harness (dqn.py), checks by hand a TD target with a done=1 transition and
gamma, the action index of Q(s, a) and epsilon halfway through its decay, shows the planted bugs
those cases catch, trains with epsilon on the curves, and compares with a random policy.

Usage: python examples/dqn/session.py [--steps 2000]  (or: bash scripts/demo.sh dqn)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from agent import Agent, hand_worked, quick_tools, run_session, say, train  # examples/agent.py
from cases import BUGS, KNOWN  # this folder's hand-worked cases

ROOT = Path(__file__).resolve().parent
PAPER = "Deep Q-Networks (Mnih et al. 2015) on CartPole-v1"
H = "dqn.py"


async def session(agent: Agent, steps: int) -> bool:
    await agent.prompt("implement_paper", {"paper": PAPER, "paper_type": "value_rl"}, 10)
    await quick_tools(agent, H)
    bugs_caught = await hand_worked(agent, H, KNOWN, BUGS)
    metrics = await train(
        agent,
        {
            "harness": H,
            "steps": steps,
            "lr": 1e-3,
            "batch_size": 64,
            "seeds": [0, 1],
            "eval_every": max(1, steps // 8),
            "label": "dqn",
        },
    )
    learned, random = metrics["return"]["mean"], metrics["random_return"]["mean"]
    better = learned >= 5 * random
    say(
        "",
        f"\n== Result ==\n  greedy return {learned:.1f} over {metrics['return']['n']} seeds against {random:.1f} "
        f"for a random policy (claim: >= 5x): {'yes' if better else 'NO'}; "
        f"planted bugs caught: {'yes' if bugs_caught else 'NO'}",
    )
    return better and bugs_caught


if __name__ == "__main__":
    run_session(
        session, root=ROOT, paper=PAPER, doc=__doc__, steps=2000, steps_help="updates per seed (64 transitions each)"
    )
