"""start_training, worker side: one seed of a real training run, evaluated at the end.

Data comes from the harness's optional `get_train_batch(batch_size, step)` so that each
step sees new examples; without it every step reuses the fixed `get_batch` batch (which
is then an overfit run, and the summary says so). Metrics come from the optional
`evaluate(model) -> dict[str, float]`, run every `eval_every` steps and at the end.
"""

from __future__ import annotations

import math
from typing import Any

from .findings import ERROR, INFO, finding
from .job import JobContext
from .training import downsample, train


def run(ctx: JobContext) -> dict[str, Any]:
    args = ctx.args
    steps, batch_size = args["steps"], args["batch_size"]
    every = args.get("eval_every") or steps
    model = ctx.build_model()
    optimizer, scheduler = ctx.optimizer_for(model, args["lr"], steps)
    has_evaluate = ctx.harness.evaluate_fn is not None
    losses: list[float] = []
    history: list[dict[str, Any]] = []
    while len(losses) < steps:
        offset = len(losses)
        segment = train(
            ctx,
            model,
            optimizer,
            lambda step: ctx.train_batch(batch_size, offset + step, model),
            min(every, steps - offset),
            scheduler=scheduler,
            progress=(offset, steps, f"seed {ctx.seed}"),
        ).loss
        losses.extend(segment)
        if not math.isfinite(losses[-1]):
            break
        if has_evaluate:
            history.append({"step": len(losses), "metrics": ctx.harness.evaluate(model)})
            ctx.progress(len(losses), steps, f"seed {ctx.seed}: step {len(losses)}, {history[-1]['metrics']}", force=True)
    findings = []
    if losses and not math.isfinite(losses[-1]):
        findings.append(
            finding(
                "non_finite_loss",
                ERROR,
                f"loss became NaN/Inf at step {len(losses)} (seed {ctx.seed})",
                evidence={"step": len(losses), "seed": ctx.seed},
                suggestion="Lower lr (call lr_sweep), or call gradient_check to find the op.",
            )
        )
    if not has_evaluate:
        findings.append(
            finding(
                "evaluate_missing",
                INFO,
                "the harness defines no evaluate(model) -> dict[str, float]: this run reports the loss only",
                suggestion="Add evaluate() computing the paper's metrics, so compare_metrics can take this run.",
            )
        )
    if ctx.harness.get_train_batch_fn is None:
        findings.append(
            finding(
                "train_batch_missing",
                INFO,
                "no get_train_batch(batch_size, step): every step trained on the same fixed get_batch batch",
            )
        )
    metrics = history[-1]["metrics"] if history else {}
    finite = [v for v in losses if math.isfinite(v)]
    return {
        "summary": f"seed {ctx.seed}: {len(losses)} steps, final loss {losses[-1]:.4g}"
        + (", " + ", ".join(f"{k} {v:.4g}" for k, v in metrics.items()) if metrics else ""),
        "findings": findings,
        "details": {
            "seed": ctx.seed,
            "steps_run": len(losses),
            "final_loss": losses[-1] if losses else None,
            "best_loss": min(finite) if finite else None,
            "metrics": metrics,
            "eval_history": history,
            "curve": downsample(losses),
        },
    }
