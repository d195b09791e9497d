"""run_ablation, worker side: train the baseline and every variant the same way, then rank.

Every variant is built and trained from the same seeds (so layers whose shapes agree start
from the same weights and dropout masks agree), on the same data (the harness's training
stream of that seed when it has one, else one fixed batch) with the same optimiser, lr and schedule.
Only the model differs, so the curves compare the components, not luck; and with several
seeds, a difference smaller than the seed spread is called noise.

Ranking is by the loss or by an evaluate() metric (default: the harness's objective). A
loss is only comparable between variants that optimise the same terms: a variant that drops
one (no KL) has a lower loss without being better.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, replace
from typing import Any

from ..wire.compact import finite
from ..wire.findings import ERROR, INFO, WARNING, finding
from ..wire.messages import AblationRequest
from ..wire.metric_names import guess_mode, words
from ..worker.failures import HarnessError
from ..worker.job import JobContext, seed_everything
from ..worker.run_judges import DIVERGED_FACTOR
from ..worker.seed_streams import first_batches_digest
from ..worker.shared_data import shared_data_finding
from ..worker.training import downsample, train
from .details import AblationDetails, TrainedRun, TrainedRuns, VariantResult

BASELINE = "baseline"
FINAL_WINDOW = 10  # final loss = mean of the last steps: one noisy step must not decide a ranking
BEATS_FACTOR = 0.5  # one seed: a variant ending below half the baseline's loss is worth pointing out
STUCK = 0.9  # a run whose final loss is above this fraction of its initial one is not learning
NOISE_SIGMAS = 2.0  # a difference within 2 standard errors of the seed spread is noise
SAME_CURVE = 1e-6  # relative: curves this close at every step are the same run
CURVE_POINTS = 25  # per variant: up to 17 curves must stay a few KB
ADDS_UP = 1e-3  # relative: a loss within this of the sum of its terms is that sum
_UNSET = object()
OFF = (False, 0, 0.0, None, "none", "off", "")  # values that switch a component off

Losses = dict[str, list[list[float]]]  # per variant name: each seed's loss at every step


def _final(losses: list[float]) -> float | None:
    tail = losses[-FINAL_WINDOW:]
    return sum(tail) / len(tail) if tail and all(math.isfinite(v) for v in tail) else None


def _rank_by(ctx: JobContext) -> tuple[str, str]:
    """(what to rank by, "min" or "max"): the argument, else the objective, else the loss."""
    objective = ctx.harness.objective
    rank_by = ctx.req.rank_by or (objective["monitor"] if objective else "loss")
    if rank_by == "loss":
        return rank_by, "min"
    if ctx.harness.evaluate_fn is None:
        raise HarnessError(
            f"rank_by={rank_by!r} needs evaluate(model) -> dict[str, float] in the harness", where="evaluate"
        )
    if objective and objective["monitor"] == rank_by:
        return rank_by, objective["mode"]
    mode = guess_mode(rank_by)
    if mode is None:
        raise HarnessError(
            f"cannot tell whether higher or lower {rank_by!r} is better from its name",
            where="objective",
            suggestion=f'Declare objective = {{"monitor": "{rank_by}", "mode": "max"}} (or "min") in the harness.',
        )
    return rank_by, mode


def _one_seed(
    ctx: JobContext, overrides: dict[str, Any], seed: int, rank_by: str, label: str, done: int, total: int
) -> dict[str, Any]:
    """Train one variant from one seed; its losses, terms and (when ranking by a metric) its metrics."""
    steps, batch_size = ctx.req.steps, ctx.req.batch_size
    seed_everything(seed)
    model = ctx.harness.build_model(**{**ctx.model_kwargs, **overrides}).to(ctx.device)
    optimizer, scheduler = ctx.optimizer_for(model, ctx.req.lr, steps)
    if ctx.harness.get_train_batch_fn is not None:
        batch_for_step = lambda step: ctx.train_batch(batch_size, step, model, seed)  # noqa: E731
    else:
        fixed = ctx.batch(batch_size, "train")
        batch_for_step = lambda step: fixed  # noqa: E731
    seed_everything(seed)
    trace = train(ctx, model, optimizer, batch_for_step, steps, scheduler=scheduler, progress=(done, total, label))
    metrics = ctx.harness.evaluate(model) if rank_by != "loss" and trace.loss and math.isfinite(trace.loss[-1]) else {}
    if rank_by != "loss" and metrics and rank_by not in metrics:
        raise HarnessError(
            f"rank_by={rank_by!r} is not among the metrics evaluate returns: {sorted(metrics)}", where="evaluate"
        )
    params = sum(p.numel() for p in model.parameters())
    return {"params": params, "losses": trace.loss, "terms": trace.terms, "metrics": metrics}


def _adds_up(losses: list[float], terms: dict[str, list[float]]) -> bool | None:
    """Whether the loss is the plain sum of its named terms (over the final steps); None without terms.

    A variant that drops or reweights a term (kl_weight=0, beta=0.5) breaks a sum the baseline keeps."""
    final, parts = _final(losses), [_final(values) for values in terms.values()]
    if not terms or final is None or None in parts:
        return None
    return abs(final - sum(parts)) <= ADDS_UP * max(1.0, abs(final))


def _spread(values: list[float]) -> tuple[float | None, float | None]:
    if not values or not all(math.isfinite(v) for v in values):
        return None, None
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None


def _train_variant(
    ctx: JobContext, name: str, overrides: dict[str, Any], rank_by: str, index: int, count: int
) -> tuple[VariantResult, list[list[float]]]:
    seeds, steps = ctx.req.seeds, ctx.req.steps
    runs = []
    for k, seed in enumerate(seeds):
        label = f"{name} seed {seed}" if len(seeds) > 1 else name
        runs.append(
            _one_seed(
                ctx, overrides, seed, rank_by, label, (index * len(seeds) + k) * steps, count * len(seeds) * steps
            )
        )
    return _variant_result(name, overrides, seeds, runs, rank_by)


def _variant_result(
    name: str, overrides: dict[str, Any], seeds: list[int], runs: list[dict], rank_by: str
) -> tuple[VariantResult, list[list[float]]]:
    """One variant's row from its runs, one per seed (trained here, or in separate jobs), and each seed's
    losses at every step (what tells a variant that changes nothing)."""
    losses = runs[0]["losses"]
    finals = [_final(r["losses"]) for r in runs]
    values = finals if rank_by == "loss" else [r["metrics"].get(rank_by) for r in runs]
    mean, std = _spread([v for v in values if v is not None] if None not in values else [math.nan])
    metric_names = sorted({m for r in runs for m in r["metrics"]})
    bad = next((r for r in runs if r["losses"] and not math.isfinite(r["losses"][-1])), None)
    row = VariantResult(
        name=name,
        model_kwargs=overrides,
        params=runs[0]["params"],
        seeds=seeds,
        initial_loss=losses[0] if losses else None,
        final_loss=statistics.fmean(finals) if None not in finals else None,
        best_loss=min((v for r in runs for v in r["losses"] if math.isfinite(v)), default=None),
        steps_run=len(losses),
        values=[v for v in values if v is not None],
        mean=mean,
        std=std,
        metrics={m: statistics.fmean(r["metrics"][m] for r in runs if m in r["metrics"]) for m in metric_names},
        terms=sorted(runs[0]["terms"]),
        adds_up=_adds_up(runs[0]["losses"], runs[0]["terms"]),
        non_finite_at_step=len(bad["losses"]) - 1 if bad is not None else None,
        curve=downsample(losses, CURVE_POINTS),
    )
    return row, [r["losses"] for r in runs]


def _blew_up(result: VariantResult) -> dict[str, Any] | None:
    """diverged: a finite loss that ended far above where it began (0.58 -> 9,475)."""
    initial, final = result.initial_loss, result.final_loss
    if not (finite(initial) and finite(final)) or initial <= 0 or final <= DIVERGED_FACTOR * initial:
        return None
    return finding(
        "diverged",
        ERROR if result.name == BASELINE else WARNING,
        f"variant {result.name} {result.model_kwargs}: loss rose from {initial:.4g} to {final:.4g} in "
        f"{result.steps_run} steps (best {result.best_loss:.4g}): "
        "it blew up, so its rank says nothing about the component",
        where=result.name,
        evidence={
            key: getattr(result, key)
            for key in ("model_kwargs", "initial_loss", "final_loss", "best_loss", "steps_run")
        },
        suggestion="Expected only if the component is what keeps training stable (a norm layer, a residual); else "
        "look for a sign error or a scale the variant changes, and try a lower lr for every variant.",
    )


def _variant_findings(ctx: JobContext, result: VariantResult) -> list[dict[str, Any]]:
    if result.non_finite_at_step is None:
        blew_up = _blew_up(result)
        return [blew_up] if blew_up else []
    step = result.non_finite_at_step
    return [
        finding(
            "non_finite_loss",
            ERROR,
            f"variant {result.name} {result.model_kwargs}: loss became NaN/Inf at step {step}",
            where=result.name,
            evidence={"variant": result.name, "model_kwargs": result.model_kwargs, "step": step},
            suggestion="Call run_overfit_test with these model_kwargs to find the op that produced it, "
            f"or lower lr (now {ctx.req.lr:g}).",
        )
    ]


def _same_run(a: VariantResult, b: VariantResult, losses: Losses) -> bool:
    """Every seed's loss curve equal step by step (to float noise): the variant changed nothing that trains."""
    if len(losses[a.name]) != len(losses[b.name]):
        return False
    for x, y in zip(losses[a.name], losses[b.name]):
        if len(x) != len(y) or any(
            not math.isclose(u, v, rel_tol=SAME_CURVE, abs_tol=SAME_CURVE) for u, v in zip(x, y)
        ):
            return False
    return a.metrics == b.metrics or not a.metrics


def changes_loss(result: VariantResult, baseline: VariantResult) -> str | None:
    """Why this variant's loss is not comparable with the baseline's, or None when it is."""
    if result.terms != baseline.terms:
        return f"its loss terms are {result.terms}, the baseline's {baseline.terms}"
    named = [k for k in result.model_kwargs if set(words(k)) & {t.lower() for t in baseline.terms}]
    if named:
        return f"it changes {named}, a switch on a loss term"
    if baseline.adds_up and result.adds_up is False:
        return f"its loss is no longer the sum of its terms {result.terms} (one dropped or reweighted)"
    return None


def _noise(a: VariantResult, b: VariantResult) -> float | None:
    """NOISE_SIGMAS standard errors of the difference of two means over seeds; None with one seed."""
    if a.std is None or b.std is None:
        return None
    return NOISE_SIGMAS * math.sqrt(a.std**2 / len(a.values) + b.std**2 / len(b.values))


def rank_variants(results: list[VariantResult], mode: str) -> list[str]:
    """Order by the mean ranked value, best first; fill rank, deltas and within_noise in place."""
    sign = 1 if mode == "min" else -1
    ranked = sorted((r for r in results if finite(r.mean)), key=lambda r: sign * r.mean)
    baseline = results[0]
    for rank, result in enumerate(ranked, start=1):
        result.rank = rank
        if finite(baseline.mean):
            result.delta_vs_baseline = result.mean - baseline.mean
            noise = _noise(result, baseline)
            result.within_noise = None if noise is None else abs(result.delta_vs_baseline) <= noise
        if finite(baseline.final_loss) and finite(result.final_loss):
            result.final_loss_delta = result.final_loss - baseline.final_loss
    return [r.name for r in ranked]


def _stuck(result: VariantResult) -> bool:
    final, initial = result.final_loss, result.initial_loss
    return not finite(final) or (finite(initial) and final > STUCK * initial)


def _kind(overrides: dict[str, Any]) -> str:
    """disables (a switch set off or to zero), enables (a switch set on), or changes (sizes, rates)."""
    if any(v in OFF and not isinstance(v, (list, dict)) for v in overrides.values()):
        return "disables"
    if any(v is True for v in overrides.values()):
        return "enables"
    return "changes"


def _better(result: VariantResult, baseline: VariantResult, mode: str, rank_by: str) -> bool:
    """Better than the baseline beyond seed noise (one seed: by a factor of 2 in loss; never by a metric)."""
    delta = result.delta_vs_baseline
    if delta is None or (delta >= 0 if mode == "min" else delta <= 0):
        return False
    if result.within_noise is not None:
        return not result.within_noise
    return rank_by == "loss" and result.mean < BEATS_FACTOR * baseline.mean


def _value_text(result: VariantResult, named: bool = True) -> str:
    spread = f" ± {result.std:.2g}" if result.std is not None else ""
    return f"{result.name} ({result.mean:.4g}{spread})" if named else f"{result.mean:.4g}{spread}"


BETTER_ADVICE = {
    "disables": "Switching this component off trains better: inspect it for a bug (run_overfit_test and "
    "gradient_check with the baseline's model_kwargs).",
    "enables": "The component it switches on helps, as a paper that introduces it claims; not a bug.",
    "changes": (
        "Expected if it only makes the model larger or the setting better suited; otherwise look at what it changes."
    ),
}


def restates(ctx: JobContext, overrides: dict[str, Any]) -> bool:
    """Keywords that change nothing over model_kwargs ({"full": {}}): the baseline itself."""
    return all(ctx.model_kwargs.get(k, _UNSET) == v for k, v in overrides.items())


def _no_effect(
    ctx: JobContext, ran: list[VariantResult], baseline: VariantResult, losses: Losses
) -> list[VariantResult]:
    """Variants that train exactly like the baseline although they change a keyword. A variant that
    restates the baseline trains like it by construction: no news."""
    changed = [r for r in ran if not restates(ctx, r.model_kwargs)]
    return [r for r in changed if not baseline.error and _same_run(r, baseline, losses)]


def _no_effect_finding(result: VariantResult, seeds: int) -> dict[str, Any]:
    return finding(
        "variant_has_no_effect",
        WARNING,
        f"variant {result.name} {result.model_kwargs} trains exactly like the baseline: the same loss at "
        f"every step of {result.steps_run} for {seeds} seed(s)",
        where=result.name,
        evidence={"model_kwargs": result.model_kwargs, "final_loss": result.final_loss},
        suggestion="The switch does nothing: build_model ignores the keyword, or the branch it selects is "
        "computed and never used (a positional encoding built but never added). Check where build_model reads it.",
    )


def _beats_finding(result: VariantResult, baseline: VariantResult, rank_by: str) -> dict[str, Any]:
    return finding(
        "variant_beats_baseline",
        INFO,
        f"variant {result.name} {result.model_kwargs} reaches {rank_by} {_value_text(result, named=False)}, "
        f"the baseline {_value_text(baseline, named=False)}",
        where=result.name,
        evidence={key: getattr(result, key) for key in ("model_kwargs", "mean", "std", "delta_vs_baseline", "params")},
        suggestion=BETTER_ADVICE[_kind(result.model_kwargs)],
    )


def _incomparable_text(ctx: JobContext, incomparable: dict[str, str]) -> str:
    objective = ctx.harness.objective
    advice = (
        f"rank_by={objective['monitor']!r}, the harness's objective (the default when rank_by is left out)"
        if objective
        else "rank_by an evaluate() metric, or declare objective in the harness"
    )
    reasons = "; ".join(f"{name}: {why}" for name, why in incomparable.items())
    return f" The losses are not comparable: {reasons}. Rank by what the paper measures: {advice}."


def _none_better_text(ran: list[VariantResult], mode: str, seeds: int) -> str:
    """No variant beats the baseline: said so, unless one ranks above it, then said why that is not a win."""
    ahead = [
        r.name
        for r in ran
        if finite(r.delta_vs_baseline) and (r.delta_vs_baseline < 0 if mode == "min" else r.delta_vs_baseline > 0)
    ]
    if not ahead:
        return " No variant beats the baseline" + (" beyond seed noise." if seeds > 1 else ".")
    why = "within seed noise" if seeds > 1 else "by too little to tell from noise with one seed"
    return f" {', '.join(ahead)} rank(s) above the baseline, but {why}: no variant beats it for sure."


def _verdict_text(
    ran: list[VariantResult], better: list[VariantResult], mode: str, seeds: int, incomparable: dict[str, str]
) -> str:
    """Best variant (beyond noise), variants within noise, variants worse beyond noise."""
    line = ""
    if better:
        best = max(better, key=lambda r: (-1 if mode == "min" else 1) * r.mean)
        line += f" Best: {best.name} {best.model_kwargs}" + (", beyond seed noise." if seeds > 1 else ".")
    elif not incomparable:
        line += _none_better_text(ran, mode, seeds)
    noise = [r.name for r in ran if r.within_noise]
    if noise:
        line += f" Within seed noise of the baseline: {', '.join(noise)}."
    worse = [r.name for r in ran if r.within_noise is False and r not in better and r.name not in incomparable]
    if worse:
        line += f" Worse than the baseline beyond seed noise: {', '.join(worse)}."
    if seeds == 1:
        line += " One seed cannot tell a difference from noise: pass seeds=[0, 1, 2]."
    return line


def _judge(
    ctx: JobContext, results: list[VariantResult], losses: Losses, ranking: list[str], rank_by: str, mode: str
) -> tuple[str, list[dict[str, Any]]]:
    """The summary's verdict and the comparison findings."""
    baseline, by_name = results[0], {r.name: r for r in results}
    if not ranking:
        return "No variant trained to a finite loss.", []
    seeds = len(ctx.req.seeds)
    over = f"mean over {seeds} seeds" if seeds > 1 else "one seed"
    line = f"Ranked by {rank_by} ({'lower' if mode == 'min' else 'higher'} is better, {over}): "
    line += ", ".join(_value_text(by_name[name]) for name in ranking) + "."
    ran = [r for r in results[1:] if not r.error]
    same = _no_effect(ctx, ran, baseline, losses)
    incomparable = {r.name: why for r in ran if rank_by == "loss" and (why := changes_loss(r, baseline))}
    if incomparable:
        line += _incomparable_text(ctx, incomparable)
    better = [r for r in ran if r not in same and r.name not in incomparable and _better(r, baseline, mode, rank_by)]
    line += _verdict_text(ran, better, mode, seeds, incomparable)
    findings = [_no_effect_finding(r, seeds) for r in same] + [_beats_finding(r, baseline, rank_by) for r in better]
    stuck = _stuck_finding(ctx, baseline, better)
    if stuck is not None:
        findings.append(stuck)
    helped = [r for r in better if _kind(r.model_kwargs) == "enables"]
    if _stuck(baseline) and helped and stuck is None:
        line += (
            f" The baseline barely learns in {baseline.steps_run} steps; {helped[0].name} does: "
            "the component it switches on helps."
        )
    return line, findings


def _stuck_finding(ctx: JobContext, baseline: VariantResult, better: list[VariantResult]) -> dict[str, Any] | None:
    """loss_not_decreasing for a baseline that does not learn, unless a variant that switches a component
    on does (the baseline is then the paper's weaker model, not a bug). On-policy losses are surrogates."""
    if ctx.harness.on_policy or not _stuck(baseline) or not finite(baseline.final_loss):
        return None
    learners = [r for r in better if not _stuck(r)]
    if any(_kind(r.model_kwargs) == "enables" for r in learners):
        return None
    culprit = next((r for r in learners if _kind(r.model_kwargs) == "disables"), None)
    helped = f"; {culprit.name} {culprit.model_kwargs} does learn: fix the component it switches off" if culprit else ""
    return finding(
        "loss_not_decreasing",
        ERROR,
        f"the baseline's loss went from {baseline.initial_loss:.4g} to only {baseline.final_loss:.4g} "
        f"in {baseline.steps_run} steps{helped}",
        where=BASELINE,
        evidence={key: getattr(baseline, key) for key in ("initial_loss", "final_loss", "best_loss", "steps_run")},
        suggestion="Remove components one at a time (one variant each) until a variant learns; "
        "call gradient_check on the baseline to see which parameters get no gradient.",
    )


def _train_part(ctx: JobContext, variants: dict[str, dict], rank_by: str) -> dict[str, Any]:
    """Train only the (variant, seed) pairs asked for, and return the raw runs: the server fans an
    ablation out this way (a Ray task per pair) and judges all runs in one more job."""
    runs, pairs = [], ctx.req.train_only
    for k, (name, seed) in enumerate(pairs):
        try:
            trained = _one_seed(
                ctx, variants[name], seed, rank_by, f"{name} seed {seed}", k * ctx.req.steps, len(pairs) * ctx.req.steps
            )
        except HarnessError:
            raise
        except Exception as exc:  # reported with the variant, as when trained in one job
            found = ctx.error_finding(exc, during=f"variant {name} {variants[name]}")
            runs.append(TrainedRun(variant=name, seed=seed, error=str(exc)[:300], finding=found))
            continue
        runs.append(TrainedRun(variant=name, seed=seed, **trained))
    return {"summary": f"trained {len(runs)} run(s)", "findings": [], "details": asdict(TrainedRuns(runs=runs))}


def _nan_for_null(values: list[float | None]) -> list[float]:
    return [math.nan if v is None else v for v in values]  # NaN travels as null between jobs


def _from_trained(
    ctx: JobContext, variants: dict[str, dict], rank_by: str
) -> tuple[list[VariantResult], Losses, list[dict]]:
    """Rows, losses and findings from runs trained in other jobs (ctx.req.trained), as _train_variant makes them."""
    seeds, results, losses, findings = ctx.req.seeds, [], {}, []
    for name, overrides in variants.items():
        runs = sorted((r for r in ctx.req.trained if r["variant"] == name), key=lambda r: seeds.index(r["seed"]))
        failed = next((r for r in runs if r["error"] is not None), None)
        if failed is not None or len(runs) != len(seeds):
            results.append(
                VariantResult(name=name, model_kwargs=overrides, error=failed["error"] if failed else "not trained")
            )
            findings += [failed["finding"]] if failed else []
            continue
        for r in runs:
            r["losses"], r["terms"] = _nan_for_null(r["losses"]), {k: _nan_for_null(v) for k, v in r["terms"].items()}
        row, losses[name] = _variant_result(name, overrides, seeds, runs, rank_by)
        results.append(row)
        findings.extend(_variant_findings(ctx, row))
    return results, losses, findings


def _trained_here(
    ctx: JobContext, variants: dict[str, dict], rank_by: str
) -> tuple[list[VariantResult], Losses, list[dict]]:
    results: list[VariantResult] = []
    losses: Losses = {}
    findings: list[dict] = []
    for index, (name, overrides) in enumerate(variants.items()):
        if index and restates(ctx, overrides) and not results[0].error:  # the same seeds, data and model: same run
            results.append(replace(results[0], name=name, model_kwargs=overrides, restates_baseline=True))
            losses[name] = losses[BASELINE]
            continue
        try:
            result, losses[name] = _train_variant(ctx, name, overrides, rank_by, index, len(variants))
        except HarnessError:
            raise  # the harness itself (rank_by, evaluate) is wrong: every variant would fail alike
        except Exception as exc:  # one variant failing (a kwarg build_model rejects) must not hide the others
            results.append(VariantResult(name=name, model_kwargs=overrides, error=str(exc)[:300]))
            findings.append(ctx.error_finding(exc, during=f"variant {name} {overrides}"))
            continue
        results.append(result)
        findings.extend(_variant_findings(ctx, result))
    return results, losses, findings


def run(ctx: JobContext[AblationRequest]) -> dict[str, Any]:
    variants = {BASELINE: {}, **ctx.req.variants}
    seeds = ctx.req.seeds or [ctx.seed]
    ctx.req = replace(ctx.req, seeds=seeds)  # the helpers read the seeds trained, not the argument
    rank_by, mode = _rank_by(ctx)
    if ctx.req.train_only is not None:
        return _train_part(ctx, variants, rank_by)
    trained_elsewhere = ctx.req.trained is not None
    results, losses, findings = (_from_trained if trained_elsewhere else _trained_here)(ctx, variants, rank_by)
    ranking = rank_variants(results, mode)
    summary, comparison = _judge(ctx, results, losses, ranking, rank_by, mode)
    failed = [r.name for r in results if r.error]
    if failed:
        summary += f" Failed to run: {', '.join(failed)} (see findings)."
    restated = [r.name for r in results if r.restates_baseline]
    if restated:
        summary += f" {', '.join(restated)} restate(s) the baseline's model_kwargs: its runs, not trained again."
    if len(seeds) > 1:  # the seed spread is the noise every verdict here is judged against
        digests = {seed: first_batches_digest(ctx, seed, ctx.req.batch_size) for seed in seeds}
        findings += [f for f in [shared_data_finding(digests)] if f is not None]
    not_finite = [r.name for r in results if r.non_finite_at_step is not None]
    if not_finite:
        summary += f" Loss became NaN/Inf: {', '.join(not_finite)}."
    details = AblationDetails(rank_by=rank_by, mode=mode, seeds=seeds, ranking=ranking, variants=results)
    return {"summary": summary, "findings": findings + comparison, "details": asdict(details)}
