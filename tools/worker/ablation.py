"""run_ablation, worker side: train the baseline and every variant the same way, then rank.

Every variant is built from the same seed (so layers whose shapes agree start from the
same weights), trained from the same seed (dropout masks agree too) on the same fixed
batch with the same optimiser and lr. Only the model differs, so the loss curves compare
the components, not luck.
"""

from __future__ import annotations

import math
from typing import Any

from .findings import ERROR, INFO, finding
from .job import JobContext, seed_everything
from .training import downsample, finite, train

BASELINE = "baseline"
FINAL_WINDOW = 10  # final loss = mean of the last steps: one noisy step must not decide a ranking
BEATS_FACTOR = 0.5  # a variant ending below half the baseline's loss is worth pointing out
STUCK = 0.9  # a run whose final loss is above this fraction of its initial one is not learning
CURVE_POINTS = 25  # per variant: up to 17 curves must stay a few KB


def _final(losses: list[float]) -> float | None:
    tail = losses[-FINAL_WINDOW:]
    return sum(tail) / len(tail) if tail and all(math.isfinite(v) for v in tail) else None


def _train_variant(ctx: JobContext, name: str, overrides: dict[str, Any], batch: Any, done: int, total: int) -> dict[str, Any]:
    model = ctx.build_model(**overrides)
    optimizer = ctx.harness.make_optimizer(model.parameters(), ctx.args["lr"])
    seed_everything(ctx.seed)
    losses = train(ctx, model, optimizer, lambda step: batch, ctx.args["steps"], progress=(done, total, name)).loss
    finite_losses = [v for v in losses if math.isfinite(v)]
    result = {
        "name": name,
        "model_kwargs": overrides,
        "params": sum(p.numel() for p in model.parameters()),
        "initial_loss": losses[0] if losses else None,
        "final_loss": _final(losses),
        "best_loss": min(finite_losses) if finite_losses else None,
        "steps_run": len(losses),
        "curve": downsample(losses, CURVE_POINTS),
    }
    if losses and not math.isfinite(losses[-1]):
        result["non_finite_at_step"] = len(losses) - 1
    return result


def _variant_findings(ctx: JobContext, result: dict[str, Any]) -> list[dict[str, Any]]:
    if result.get("non_finite_at_step") is None:
        return []
    step = result["non_finite_at_step"]
    return [
        finding(
            "non_finite_loss",
            ERROR,
            f"variant {result['name']} {result['model_kwargs']}: loss became NaN/Inf at step {step}",
            where=result["name"],
            evidence={"variant": result["name"], "model_kwargs": result["model_kwargs"], "step": step},
            suggestion="Call run_overfit_test with these model_kwargs to find the op that produced it, "
            f"or lower lr (now {ctx.args['lr']:g}).",
        )
    ]


def _rank(results: list[dict[str, Any]]) -> list[str]:
    """Order by final loss, best first; fill rank and delta_vs_baseline in place."""
    ranked = sorted((r for r in results if finite(r.get("final_loss"))), key=lambda r: r["final_loss"])
    baseline = results[0].get("final_loss")
    for rank, result in enumerate(ranked, start=1):
        result["rank"] = rank
        if finite(baseline):
            result["delta_vs_baseline"] = result["final_loss"] - baseline
    return [r["name"] for r in ranked]


def _stuck(result: dict[str, Any]) -> bool:
    final, initial = result.get("final_loss"), result.get("initial_loss")
    return not finite(final) or (finite(initial) and final > STUCK * initial)


def _comparison(results: list[dict[str, Any]], ranking: list[str]) -> tuple[str, list[dict[str, Any]]]:
    """The summary's verdict, and an info finding for each variant far better than the baseline."""
    baseline = results[0]
    by_name = {r["name"]: r for r in results}
    if not ranking:
        return "No variant trained to a finite loss.", []
    best = by_name[ranking[0]]
    line = "Ranked by final loss: " + ", ".join(f"{name} ({by_name[name]['final_loss']:.4g})" for name in ranking) + "."
    if best is not baseline:
        line += f" Best: {best['name']} {best['model_kwargs']}."
    if _stuck(baseline) and best is not baseline and not _stuck(best):
        line += f" The baseline does not learn but {best['name']} does: the component it changes is the likely culprit."
    elif best is baseline:
        line += " No variant trains better than the baseline."
    findings = []
    if _stuck(baseline) and finite(baseline.get("final_loss")):
        helped = f"; {best['name']} {best['model_kwargs']} does learn: fix the component it changes" if not _stuck(best) else ""
        findings.append(
            finding(
                "loss_not_decreasing",
                ERROR,
                f"the baseline's loss went from {baseline['initial_loss']:.4g} to only {baseline['final_loss']:.4g} "
                f"in {baseline['steps_run']} steps{helped}",
                where=BASELINE,
                evidence={key: baseline[key] for key in ("initial_loss", "final_loss", "best_loss", "steps_run")},
                suggestion="Remove components one at a time (one variant each) until a variant learns; "
                "call gradient_check on the baseline to see which parameters get no gradient.",
            )
        )
    for result in results[1:]:
        both_finite = finite(baseline.get("final_loss")) and finite(result.get("final_loss"))
        if both_finite and result["final_loss"] < BEATS_FACTOR * baseline["final_loss"]:
            findings.append(
                finding(
                    "variant_beats_baseline",
                    INFO,
                    f"variant {result['name']} {result['model_kwargs']} ends at loss {result['final_loss']:.4g}, "
                    f"the baseline at {baseline['final_loss']:.4g}",
                    where=result["name"],
                    evidence={key: result[key] for key in ("model_kwargs", "final_loss", "delta_vs_baseline", "params")},
                    suggestion="If the variant removes or disables a component, inspect that component for a bug; "
                    "if it only makes the model larger, this is expected.",
                )
            )
    return line, findings


def run(ctx: JobContext) -> dict[str, Any]:
    variants = {BASELINE: {}, **ctx.args["variants"]}
    steps = ctx.args["steps"]
    batch = ctx.batch(ctx.args["batch_size"], "train")
    results, findings = [], []
    for index, (name, overrides) in enumerate(variants.items()):
        try:
            result = _train_variant(ctx, name, overrides, batch, index * steps, len(variants) * steps)
        except Exception as exc:  # noqa: BLE001 - one variant failing (a kwarg build_model rejects) must not hide the others
            results.append({"name": name, "model_kwargs": overrides, "error": str(exc)[:300]})
            findings.append(ctx.error_finding(exc, during=f"variant {name} {overrides}"))
            continue
        results.append(result)
        findings.extend(_variant_findings(ctx, result))
    ranking = _rank(results)
    summary, comparison = _comparison(results, ranking)
    failed = [r["name"] for r in results if r.get("error")]
    if failed:
        summary += f" Failed to run: {', '.join(failed)} (see findings)."
    not_finite = [r["name"] for r in results if r.get("non_finite_at_step") is not None]
    if not_finite:
        summary += f" Loss became NaN/Inf: {', '.join(not_finite)}."
    return {"summary": summary, "findings": findings + comparison, "details": {"ranking": ranking, "variants": results}}
