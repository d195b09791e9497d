"""run_overfit_test, worker side: can the model memorise 1, 10, 100 fixed examples?

A correct model and training step drive the loss on a small fixed batch towards zero.
We judge on the loss, never accuracy: a double softmax reaches 100 % accuracy on the
batch while its cross-entropy stays stuck far above zero.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from . import nonfinite
from .findings import ERROR, WARNING, finding
from .job import JobContext
from .training import downsample, train

DIVERGED_FACTOR = 10.0  # loss this many times its initial value means the run blew up
NOT_DECREASING = 0.9  # best loss above this fraction of the initial: it is not learning
DEFAULT_TARGET_FRACTION = 0.05  # without target_loss, memorising means a 20x lower loss


def _snapshot(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}


def _unchanged(model: torch.nn.Module, before: dict[str, torch.Tensor]) -> list[str]:
    params = dict(model.named_parameters())
    return [name for name, old in before.items() if torch.equal(params[name].detach(), old)]


def _one_size(ctx: JobContext, size: int, done: int, total: int) -> tuple[dict[str, Any], list[dict]]:
    args = ctx.args
    findings: list[dict] = []
    model = ctx.build_model()
    batch = ctx.batch(size, "train")
    optimizer, scheduler = ctx.optimizer_for(model, args["lr"], args["steps"])
    before = _snapshot(model)
    with torch.no_grad():
        model.train()
        initial = float(ctx.harness.loss(model, batch))
    target = args.get("target_loss")
    if target is None:
        target = DEFAULT_TARGET_FRACTION * initial if math.isfinite(initial) else 0.0

    def reached(losses: list[float]) -> bool:
        return losses[-1] <= target or losses[-1] > DIVERGED_FACTOR * max(initial, 1e-8)

    losses = train(
        ctx, model, optimizer, lambda step: batch, args["steps"], scheduler=scheduler, stop=reached, progress=(done, total, f"size {size}")
    ).loss
    finite = [v for v in losses if math.isfinite(v)]
    best = min(finite) if finite else None
    final = losses[-1] if losses else None
    steps_to_target = next((i + 1 for i, v in enumerate(losses) if v <= target), None)
    unchanged = _unchanged(model, before)
    where = f"size {size}"
    result = {
        "size": size,
        "initial_loss": initial,
        "final_loss": final,
        "best_loss": best,
        "target_loss": target,
        "steps_run": len(losses),
        "steps_to_target": steps_to_target,
        # Memorised means it ends at the target: touching it and bouncing back up is not enough.
        "reached_target": final is not None and final <= target,
        "params_changed": len(unchanged) < len(before),
        "unchanged_params": unchanged[:10],
        "curve": downsample(losses),
    }
    if not math.isfinite(initial) or (final is not None and not math.isfinite(final)):
        step = len(losses) if math.isfinite(initial) else 0
        culprit = _locate_non_finite(ctx, size, step)
        result["non_finite_at_step"] = step
        if best is not None and max(finite) > DIVERGED_FACTOR * max(initial, 1e-8):
            # The loss climbed before it overflowed: the cause is the step size, not one op.
            findings.append(_diverged(size, initial, max(finite), args["lr"], f"then NaN/Inf at step {step}"))
        findings.append(
            finding(
                "non_finite_loss",
                ERROR,
                f"loss became NaN/Inf at step {step} on {size} example(s)"
                + (f", first in {culprit['where']} ({culprit['stage']})" if culprit["where"] else ""),
                where=culprit["where"],
                evidence={"size": size, "step": step, **culprit},
                suggestion="Look for log(0), division by zero, exp overflow or a too-high lr at the named place.",
            )
        )
        return result, findings
    if not before:
        findings.append(finding("params_not_updated", ERROR, "the model has no trainable parameters", where=where))
    elif unchanged and len(unchanged) == len(before):
        findings.append(
            finding(
                "params_not_updated",
                ERROR,
                f"no parameter changed in {len(losses)} training steps on {size} example(s)",
                where=where,
                evidence={"size": size, "steps": len(losses)},
                suggestion="Check that optimizer.step() is called, that the optimizer got model.parameters(), "
                "that lr > 0 and that the loss is not computed under torch.no_grad() or on detached tensors.",
            )
        )
        return result, findings
    elif unchanged:
        findings.append(
            finding(
                "params_not_updated",
                WARNING,
                f"{len(unchanged)} of {len(before)} parameter tensors never changed: {', '.join(unchanged[:5])}",
                where=unchanged[0],
                evidence={"size": size, "unchanged": unchanged[:20]},
                suggestion="Call gradient_check: these parameters probably get no gradient (unused or detached).",
            )
        )
    if final is not None and final > DIVERGED_FACTOR * max(initial, 1e-8):
        findings.append(_diverged(size, initial, final, args["lr"]))
    elif best is not None and best > NOT_DECREASING * initial:
        findings.append(
            finding(
                "loss_not_decreasing",
                ERROR,
                f"loss stayed at {best:.4g} (from {initial:.4g}) over {len(losses)} steps on {size} example(s)",
                where=where,
                evidence={"size": size, "initial": initial, "best": best},
                suggestion="Look for a detached graph, a double softmax, targets that do not match the output, "
                "or an lr far too small; call gradient_check.",
            )
        )
    elif not result["reached_target"]:
        findings.append(
            finding(
                "overfit_failed",
                ERROR,
                f"loss ended at {final:.4g} (best {best:.4g}) on {size} example(s) in {len(losses)} steps, target {target:.4g}",
                where=where,
                evidence={"size": size, "initial": initial, "best": best, "target": target},
                suggestion="If the loss is still falling, give more steps; if it plateaus, suspect the architecture "
                "(a bottleneck, a double softmax, wrong target format) or the lr.",
            )
        )
    return result, findings


def _diverged(size: int, initial: float, peak: float, lr: float, then: str = "") -> dict[str, Any]:
    return finding(
        "diverged",
        ERROR,
        f"loss rose from {initial:.4g} to {peak:.4g} on {size} example(s)" + (f", {then}" if then else ""),
        where=f"size {size}",
        evidence={"size": size, "initial": initial, "peak": peak},
        suggestion=f"Lower lr (now {lr:g}) and call lr_sweep to find a stable one; if it diverges at every lr, "
        "check that train_step calls optimizer.zero_grad() each step (accumulated gradients overshoot).",
    )


def _locate_non_finite(ctx: JobContext, size: int, step: int) -> dict[str, Any]:
    """Replay the run up to the step before the NaN (runs are seeded), then find the op."""
    model = ctx.build_model()
    batch = ctx.batch(size, "train")
    optimizer, scheduler = ctx.optimizer_for(model, ctx.args["lr"], ctx.args["steps"])
    if step > 1:
        train(ctx, model, optimizer, lambda _: batch, step - 1, scheduler=scheduler)
    return nonfinite.locate(model, lambda: ctx.harness.loss(model, batch))


def run(ctx: JobContext) -> dict[str, Any]:
    sizes: list[int] = ctx.args["sizes"]
    total = len(sizes) * ctx.args["steps"]
    per_size, findings = [], []
    errors: dict[tuple[str, str], tuple[BaseException, list[int]]] = {}  # one finding per distinct exception
    for index, size in enumerate(sizes):
        try:
            result, size_findings = _one_size(ctx, size, index * ctx.args["steps"], total)
        except Exception as exc:  # noqa: BLE001 - one size failing (BatchNorm on 1 example) must not hide the others
            per_size.append({"size": size, "error": str(exc)[:300]})
            errors.setdefault((type(exc).__name__, str(exc)), (exc, []))[1].append(size)
            continue
        per_size.append(result)
        findings.extend(size_findings)
    for exc, failed_sizes in errors.values():
        found = ctx.error_finding(exc, during=f"training on {', '.join(map(str, failed_sizes))} example(s)")
        found["where"] = found["where"] or f"size {failed_sizes[0]}"  # raised inside torch: name the run
        found["evidence"]["sizes"] = failed_sizes
        findings.append(found)
    memorised = [r["size"] for r in per_size if r.get("reached_target")]
    if not findings:
        summary = f"Memorised {', '.join(map(str, memorised))} example(s): the model and training step can learn."
    else:
        worst = findings[0]
        summary = f"{len(findings)} problem(s); first: {worst['message']}."
        if memorised:
            summary += f" Memorised sizes: {memorised}."
    return {"summary": summary, "findings": findings, "details": {"sizes": per_size}}
