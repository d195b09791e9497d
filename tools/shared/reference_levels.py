"""Judging a number against its reference levels: a baseline and a ceiling.

A run that improved from an untrained start may still sit at random-policy level, and a metric
better than the best achievable value is a leak, not a success. The user names both levels per
metric: the `baseline` a trivial method reaches (a random policy, a Gaussian fit, the majority
class) and the `ceiling`, the best achievable value (the data's own floor, a perfect score).
Pure arithmetic, no torch: compare_metrics and the training runs share it.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import Field

from ..wire.findings import ERROR, WARNING, finding
from ..wire.metric_names import guess_mode

HALF_WAY = 0.5  # a value that closed less of the way from baseline to ceiling sits nearer the baseline
DECADE_SPAN = 100.0  # levels two decades apart or more (a distance 180 -> 0.05) read on a log scale

Level = Annotated[float, Field(allow_inf_nan=False)]
BASELINE_DOC = (
    "{metric: value} a trivial method reaches (a random policy's return, a Gaussian fit's distance, "
    "the majority class's accuracy): worse than it is below_baseline."
)
CEILING_DOC = (
    "{metric: value}, the best achievable (a perfect score, the data's own floor): better than it is "
    "beyond_ceiling (a leak); with a baseline too, less than half the way from baseline to ceiling is "
    "far_from_ceiling (log scale when the values span decades)."
)


def levels_field(doc: str) -> Any:
    return Field(max_length=64, description=doc)


def direction(baseline: float | None, ceiling: float | None, higher: bool | None) -> bool | None:
    """Which way is better: two levels say it themselves (the ceiling is the better end), else `higher`
    (a guess from the name). A direction someone declared (an argument, the objective) comes first."""
    if baseline is not None and ceiling is not None and baseline != ceiling:
        return ceiling > baseline
    return higher


def log_scale(*values: float) -> bool:
    """Positive values spanning decades: their distances read on a log scale."""
    return all(v > 0 for v in values) and max(values) / min(values) >= DECADE_SPAN


def progress(value: float, baseline: float, ceiling: float) -> float:
    """The fraction of the way from baseline (0) to ceiling (1) that `value` covers; log scale across decades."""
    if log_scale(value, baseline, ceiling):
        value, baseline, ceiling = math.log(value), math.log(baseline), math.log(ceiling)
    return (value - baseline) / (ceiling - baseline)


def _worse(a: float, b: float, higher: bool) -> bool:
    return a < b if higher else a > b


def level_findings(
    name: str, value: float, baseline: float | None, ceiling: float | None, higher: bool | None, what: str
) -> list[dict[str, Any]]:
    """below_baseline, beyond_ceiling or far_from_ceiling for `value`, the `what` of metric `name`
    (e.g. 'mean over 3 seeds'); nothing when the direction is unknown or no level is given."""
    if higher is None:
        return []
    evidence = {"value": value, "baseline": baseline, "ceiling": ceiling, "higher_is_better": higher}
    if baseline is not None and (_worse(value, baseline, higher) or value == baseline):
        relation = "no better than" if value == baseline else "worse than"
        return [finding(
            "below_baseline", ERROR,
            f"{name}: {what} {value:.4g} is {relation} the baseline {baseline:g} (a trivial method's level)",
            where=name, evidence=evidence,
            suggestion="The method does not beat a trivial one: check that the training signal reaches the model "
            "(run_overfit_test, gradient_check), the data and the evaluation, then the lr (lr_sweep).",
        )]  # fmt: skip
    if ceiling is not None and _worse(ceiling, value, higher):
        return [finding(
            "beyond_ceiling", ERROR,
            f"{name}: {what} {value:.4g} is better than the ceiling {ceiling:g}, the best achievable value: "
            "something leaks (test data in training, targets in the inputs) or the metric is computed wrongly",
            where=name, evidence=evidence,
            suggestion="Call inspect_data (split overlap, targets in the inputs) and check the metric with "
            "check_known_values on a hand-worked case.",
        )]  # fmt: skip
    if baseline is None or ceiling is None or baseline == ceiling:
        return []
    covered = progress(value, baseline, ceiling)
    if covered >= HALF_WAY:
        return []
    scale = " on a log scale" if log_scale(value, baseline, ceiling) else ""
    return [finding(
        "far_from_ceiling", WARNING,
        f"{name}: {what} {value:.4g} covers only {covered:.0%} of the way from the baseline {baseline:g} to the "
        f"ceiling {ceiling:g}{scale}: it improved on a trivial method, but sits nearer it than the best achievable",
        where=name, evidence={**evidence, "progress": round(covered, 4)},
        suggestion="Improvement from an untrained start is not success: train longer, tune the lr (lr_sweep), "
        "or compare with the paper's number (compare_metrics) before calling it reproduced.",
    )]  # fmt: skip


def run_level_findings(
    metrics: dict[str, Any],
    baseline: dict[str, float] | None,
    ceiling: dict[str, float] | None,
    objective: dict[str, str] | None,
) -> list[dict[str, Any]]:
    """The level findings of a finished run's final metrics (MetricSummary by name), mean over seeds.
    Which way is better: the two levels, else the objective's mode for its metric, else the name."""
    found = []
    for name in sorted(set(baseline or {}) | set(ceiling or {})):
        summary = metrics.get(name)
        if summary is None:
            continue
        base, top = (baseline or {}).get(name), (ceiling or {}).get(name)
        if objective and objective.get("monitor") == name:
            higher = objective.get("mode") == "max"
        else:
            guessed = guess_mode(name)
            higher = direction(base, top, None if guessed is None else guessed == "max")
        what = f"final mean over {summary.n} seeds" if summary.n > 1 else "final"
        found += level_findings(name, summary.mean, base, top, higher, what)
    return found
