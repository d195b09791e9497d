"""A scripted agent session: the VAE of Auto-Encoding Variational Bayes on 8x8 digits, through implement-paper-mcp.

Paper: Kingma & Welling, "Auto-Encoding Variational Bayes" (ICLR 2014). The claim checked, scaled
down to scikit-learn's 8x8 digits (grey pixels in [0, 1], 1,497 train / 300 test): the VAE's
variational bound on held-out digits (test negative ELBO, nats per digit, lower is better) beats
the negative log-likelihood of a model without a latent variable (one Bernoulli per pixel fitted
on the training set) by a clear margin, so the latent code carries information about each digit.

The script plays the agent: it starts the server as a real stdio subprocess, reads the workflow
prompt for paper_type "generative", runs every tool that applies on the correct harness
(harness.py), shows each planted bug (bug_*.py) caught by the tool the tips name, trains three
seeds with evaluations every 500 steps, and compares the test bound with the no-latent baseline.
Samples from the prior are saved to examples/vae/.implement-paper/vae_samples.png.

Usage: python examples/vae/session.py [--steps 3000]  (or: bash scripts/demo.sh vae)
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from agent import Agent, run_session, say  # examples/agent.py, beside this folder

ROOT = Path(__file__).resolve().parent
PAPER = "Auto-Encoding Variational Bayes (Kingma & Welling, ICLR 2014)"
H = "harness.py"
INIT_LOSS = 64 * math.log(2)  # Bernoulli logits near 0 at init: ln 2 per pixel, KL near 0
PARAMS = 19_792  # 64-128 tanh encoder to mu, logvar (8 each); 8-128 tanh decoder to 64 logits
MARGIN = 1.0  # nats per digit the bound must beat the no-latent baseline by
KL_LN4 = 0.5 * (4 - 1 - math.log(4))  # KL(N(0, 4) || N(0, 1)) in one dimension

KNOWN = {  # function -> hand-worked cases (the tips' "test with known inputs/outputs")
    # z = mu + exp(logvar / 2) * eps: sigma = 1 and 2 with eps = 1 and -1
    "reparameterize": [{"args": [[0.0, 1.0], [0.0, 2 * math.log(2)], [1.0, -1.0]], "expected": [1.0, -1.0]}],
    # KL against N(0, 1): 0 for the prior itself, mu^2 / 2 for a shifted mean, a wider variance
    "kl_divergence": [
        {
            "args": [[[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0], [0.0, math.log(4)]]],
            "expected": [0.0, 0.5, KL_LN4],
        }
    ],
}


def known_values(harness: str, function: str) -> dict:
    return {"harness": harness, "function": function, "cases": KNOWN[function]}


def codes(data: dict) -> set[str]:
    return {f["code"] for f in data["findings"] if f["severity"] in ("error", "warning")}


async def scaffold(agent) -> None:
    say("", "\n== Scaffold: data, model, loss at init, hand-worked pieces ==")
    await agent.tool("inspect_data", {"harness": H}, clean=True)
    await agent.tool("inspect_model", {"harness": H, "expected_param_count": PARAMS}, clean=True)
    await agent.tool("check_initialization", {"harness": H, "expected_init_loss": INIT_LOSS}, clean=True)
    for function in KNOWN:
        await agent.tool("check_known_values", known_values(H, function), clean=True)
    say("", "\n== Gauntlet: can it learn at all? ==")
    await agent.tool("run_overfit_test", {"harness": H, "lr": 1e-2}, clean=True)
    await agent.tool("gradient_check", {"harness": H}, clean=True)
    await agent.tool("check_dependencies", {"harness": H, "mode": "batch", "batch_size": 8}, clean=True)
    await agent.tool("lr_sweep", {"harness": H, "mode": "auto"}, clean=True)
    # Does the KL earn its place? Ranked on the objective (the test bound), not the loss: without the KL
    # the training loss is lower, the bound on held-out digits far worse.
    await agent.tool(
        "run_ablation",
        {"harness": H, "variants": {"no_kl": {"beta": 0.0}, "latent_2": {"latent": 2}}, "steps": 300, "lr": 3e-3},
        clean=True,
    )


async def planted_bugs(agent) -> bool:
    say("", "\n== Planted bugs: each caught by the tool the tips name ==")
    checks = [
        (
            "run_overfit_test",
            {"harness": "bug_kl_sign.py", "lr": 1e-2, "sizes": [1, 10], "steps": 200},
            {"loss_below_floor", "loss_unbounded"},
        ),
        ("check_initialization", {"harness": "bug_kl_sign.py"}, {"negative_kl"}),
        ("check_known_values", known_values("bug_std_logvar.py", "reparameterize"), {"known_value_mismatch"}),
        ("gradient_check", {"harness": "bug_sample_no_grad.py"}, {"params_without_grad", "zero_grad"}),
        (
            "check_initialization",
            {"harness": "bug_recon_mean.py", "expected_init_loss": INIT_LOSS},
            {"init_loss_mismatch"},
        ),
    ]
    caught = []
    for tool, args, expected in checks:
        found = codes(await agent.tool(tool, args)) & expected
        caught.append(bool(found))
        say("   ", f"{args['harness']}: {'caught by ' + ', '.join(sorted(found)) if found else 'NOT caught'}")
    return all(caught)


async def train_and_compare(agent, steps: int) -> tuple[bool, dict]:
    say("", f"\n== Training: Adam lr 3e-3, batches of 100, {steps} steps, 3 seeds ==")
    args = {
        "harness": H,
        "steps": steps,
        "lr": 3e-3,
        "batch_size": 100,
        "seeds": [0, 1, 2],
        "eval_every": 500,
        "label": "vae",
    }
    run_id = (await agent.tool("start_training", args))["details"]["run_id"]
    await agent.wait_for(run_id)
    status = await agent.tool("training_status", {"run_id": run_id}, clean=True)
    metrics = status["details"]["metrics"]
    baseline = metrics["baseline_nll"]["mean"]
    say("", "\n== Evaluation: the bound against the no-latent baseline ==")
    data = await agent.tool(
        "compare_metrics",
        {
            "run_id": run_id,
            "reported": {"test_neg_elbo": baseline - MARGIN},
            "higher_is_better": {"test_neg_elbo": False},
        },
    )
    bound = metrics["test_neg_elbo"]
    beaten = bound["mean"] <= baseline - MARGIN and data["status"] == "pass"
    say(
        "",
        f"\n== Result ==\n  test negative ELBO {bound['mean']:.2f} ± {bound['std']:.2f} nats per digit over "
        f"{bound['n']} seeds; no-latent baseline {baseline:.2f}: beaten by >= {MARGIN:g}: {'yes' if beaten else 'NO'}",
    )
    return beaten, status


async def session(agent: Agent, steps: int) -> bool:
    await agent.prompt("implement_paper", {"paper": PAPER, "paper_type": "generative"}, 10)
    await scaffold(agent)
    bugs_caught = await planted_bugs(agent)
    beaten, status = await train_and_compare(agent, steps)
    say("", f"  planted bugs caught: {'yes' if bugs_caught else 'NO'}")
    say("", f"  samples from the prior: {ROOT / '.implement-paper' / 'vae_samples.png'}")
    if status["details"].get("plot"):
        say("", f"  curves: {ROOT / status['details']['plot']}")
    return beaten and bugs_caught


if __name__ == "__main__":
    run_session(
        session, root=ROOT, paper=PAPER, doc=__doc__, steps=3000, steps_help="training steps per seed (batches of 100)"
    )
