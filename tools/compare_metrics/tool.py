"""compare_metrics: how close are my numbers to the paper's?

Pure arithmetic in the server process: no worker, no user code. A metric passes when its
measured mean is within the absolute or the relative tolerance of the reported value.
With several seeds we also ask whether the gap is within seed noise: a 95% t-interval
around the measured mean, |gap| <= t(0.975, n-1) * std / sqrt(n) (a one-sample t-test of
"our mean equals the paper's number" at the 5% level). Beating the paper is reported as
such, never as a failure.
"""

from __future__ import annotations

import difflib
import math
import statistics
import time
from typing import Annotated, Literal

import anyio
from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..runtime.bounds import MAX_METRICS, MAX_SEED_VALUES, Name, NonNegative
from ..runtime.envelope import Artifact, Finding, RunInfo, ToolResult, status_of
from ..runtime.run_store import record_path, unknown_run_finding
from ..runtime.runner import ProgressCallback
from ..runtime.tool import Runtime, Tool
from ..runtime.tool_call import call_tool
from ..shared.plots import metric_bars_plot
from ..shared.reference_levels import BASELINE_DOC, CEILING_DOC, Level, direction, level_findings, levels_field
from ..wire.compact import significant
from ..wire.findings import ERROR, INFO, WARNING, finding, sort_findings
from ..wire.metric_names import guess_mode

DEFAULT_REL_TOLERANCE = 0.05  # with no tolerance given for a metric: within 5% of the paper's value

# Two-sided 95% Student t quantiles by degrees of freedom; between rows the smaller df's value
# (a little wider, so a little more lenient); 1.96 beyond 120.
T_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
         12: 2.179, 15: 2.131, 20: 2.086, 25: 2.060, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980}  # fmt: skip

Tolerance = NonNegative
PerMetric = Tolerance | Annotated[dict[Name, Tolerance], Field(max_length=MAX_METRICS)]
# JSON has no NaN/Inf: clients send them as null. Null is let through the schema only so that
# the validator below can refuse it with a message that says why.
Value = float | None


def _t_975(df: int) -> float:
    if df > 120:
        return 1.96
    return T_975[max(row for row in T_975 if row <= df)]


Reported = Annotated[
    dict[Name, Value],
    Field(
        min_length=1,
        max_length=MAX_METRICS,
        description='The paper\'s numbers, e.g. {"test_acc": 0.912, "test_loss": 0.31}.',
    ),
]
Measured = Annotated[
    dict[Name, Value | Annotated[list[Value], Field(max_length=MAX_SEED_VALUES)]] | None,
    Field(
        min_length=1,
        max_length=MAX_METRICS,
        description='Your numbers: one value, or a list over seeds, e.g. {"test_acc": [0.90, 0.91, 0.905]}. '
        "Give this or run_id.",
    ),
]
RunId = Annotated[
    str | None,
    Field(
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="A finished training run (start_training) whose final metrics over seeds are the measured side.",
    ),
]
ToleranceArg = Annotated[
    PerMetric | None,
    Field(description="Absolute tolerance in the metric's own units: one number for all, or {metric: number}."),
]
RelTolerance = Annotated[
    PerMetric | None,
    Field(
        description="Relative tolerance (0.02 = 2% of the paper's value), one number or {metric: number}. A metric "
        "passes within either tolerance. A metric with neither gets rel_tolerance 0.05.",
    ),
]
HigherIsBetter = Annotated[
    bool | Annotated[dict[Name, bool], Field(max_length=MAX_METRICS)] | None,
    Field(
        description='Direction of each metric: one bool, or {metric: bool}, e.g. {"test_loss": false}. Left out, it '
        "comes from the run's objective (run_id) or the metric's name: loss, nll, neg_elbo, error, perplexity, "
        "bpd, mse, fid... lower; accuracy, return, reward, elbo, bleu, f1, auc... higher. An ambiguous name is "
        "said so in the result.",
    ),
]
Baseline = Annotated[dict[str, Level] | None, levels_field(BASELINE_DOC)]
Ceiling = Annotated[dict[str, Level] | None, levels_field(CEILING_DOC)]
Bounds = Annotated[
    dict[str, tuple[Level, Level]] | None,
    Field(
        max_length=64,
        description='{metric: [low, high]}, the values the metric can take, e.g. {"return": [0, 500]}: the seed-noise '
        "band is never wider than this range, and one that spans it is said to decide nothing.",
    ),
]
ReportedIs = Annotated[
    Literal["paper", "reference"],
    Field(
        description="What reported holds: the paper's numbers, or another reference (a baseline, an earlier run); "
        "messages name it so.",
    ),
]


class CompareMetricsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reported: Reported
    measured: Measured = None
    run_id: RunId = None
    tolerance: ToleranceArg = None
    rel_tolerance: RelTolerance = None
    higher_is_better: HigherIsBetter = None
    baseline: Baseline = None
    ceiling: Ceiling = None
    bounds: Bounds = None
    reported_is: ReportedIs = "paper"

    @field_validator("reported", "measured")
    @classmethod
    def _finite(cls, values: dict[str, Value | list[Value]] | None, info) -> dict[str, Value | list[Value]] | None:
        for name, value in (values or {}).items():
            seeds = value if isinstance(value, list) else [value]
            if not seeds:
                raise ValueError(f"{info.field_name}[{name!r}] is an empty list: give at least one value")
            if not all(v is not None and math.isfinite(v) for v in seeds):
                raise ValueError(
                    f"{info.field_name}[{name!r}] holds NaN, Inf or null ({value}): give finite numbers; leave a "
                    "metric out of measured if the run did not produce it"
                )
        return values

    @model_validator(mode="after")
    def _known_metrics(self) -> CompareMetricsArgs:
        if (self.measured is None) == (self.run_id is None):
            raise ValueError("give exactly one of measured (your numbers) or run_id (a finished training run)")
        if self.run_id is not None:
            return self  # the run's metric names are known only once its record is read
        known = set(self.reported) | set(self.measured)
        for field_name in ("tolerance", "rel_tolerance", "higher_is_better", "baseline", "ceiling", "bounds"):
            value = getattr(self, field_name)
            unknown = sorted(set(value) - known) if isinstance(value, dict) else []
            if unknown:
                raise ValueError(f"{field_name} names unknown metric(s) {unknown}; the metrics are {sorted(known)}")
        return self._ordered_bounds()

    def _ordered_bounds(self) -> CompareMetricsArgs:
        for name, (low, high) in (self.bounds or {}).items():
            if not low < high:
                raise ValueError(f"bounds[{name!r}] = [{low}, {high}]: give [low, high] with low < high")
        return self

    @property
    def source(self) -> str:
        """Whose numbers reported holds, as messages say it: "the paper's 0.9", "the reference's 0.9"."""
        return f"the {self.reported_is}'s"

    def for_metric(self, field_name: str, metric: str):
        """The value of a per-metric argument for `metric` (None when a dict leaves it out)."""
        value = getattr(self, field_name)
        return value.get(metric) if isinstance(value, dict) else value


class MetricComparison(BaseModel):
    name: str
    reported: float | None = None
    measured_mean: float | None = None
    measured_std: float | None = Field(None, description="Sample standard deviation over seeds (n > 1).")
    n: int = Field(0, description="Number of measured values (seeds).")
    values: list[float] = Field(default_factory=list)
    gap: float | None = Field(None, description="measured_mean - reported.")
    gap_relative: float | None = Field(None, description="gap / |reported|; null when reported is 0.")
    tolerance: float | None = Field(None, description="Absolute tolerance used.")
    rel_tolerance: float | None = Field(None, description="Relative tolerance used.")
    tolerance_is_default: bool = False
    within_tolerance: bool | None = None
    noise_bound: float | None = Field(None, description="t(0.975, n-1) * std / sqrt(n): the gap seed noise explains.")
    within_noise: bool | None = Field(
        None, description="|gap| <= noise_bound and not every seed on the worse side; null with one value."
    )
    noise_spans_range: bool = Field(
        False, description="The t-interval is wider than the metric's bounds: noise_bound is capped to the range."
    )
    baseline: float | None = None
    ceiling: float | None = None
    higher_is_better: bool | None = Field(None, description="null: the direction is unknown (an ambiguous name).")
    direction_from: Literal["argument", "objective", "levels", "name", "unknown"] = Field(
        "unknown",
        description="Where higher_is_better came from: the argument, the run's objective, the baseline and ceiling "
        "(the ceiling is the better end), or the name.",
    )
    verdict: Literal[
        "match", "better", "worse", "worse_within_noise", "differs", "missing", "non_finite", "not_reported"
    ] = Field(
        description="differs: outside tolerance, and the direction is unknown; non_finite: the run measured NaN/Inf."
    )


class CompareMetricsDetails(BaseModel):
    metrics: list[MetricComparison]
    noise_rule: str = "95% t-interval: |gap| <= t(0.975, n-1) * std / sqrt(n), std with ddof=1"


class CompareMetricsResult(ToolResult[CompareMetricsDetails]):
    pass


def metric_direction(args: CompareMetricsArgs, name: str, objective: dict[str, str] | None) -> tuple[bool | None, str]:
    """(higher_is_better, where it came from): the argument, else the run's objective, else the name."""
    given = args.for_metric("higher_is_better", name)
    if given is not None:
        return given, "argument"
    if objective and objective.get("monitor") == name and objective.get("mode") in ("max", "min"):
        return objective["mode"] == "max", "objective"
    levels = direction(args.for_metric("baseline", name), args.for_metric("ceiling", name), None)
    if levels is not None:
        return levels, "levels"
    mode = guess_mode(name)
    return (None, "unknown") if mode is None else (mode == "max", "name")


def _mean_std(values: list[float]) -> tuple[float, float | None]:
    """Mean and sample std without overflow: [1e308, 1e308] sums past the float range, so scale first."""
    scale = max(abs(v) for v in values) or 1.0
    scaled = [v / scale for v in values]
    return statistics.fmean(scaled) * scale, statistics.stdev(scaled) * scale if len(values) > 1 else None


def _seed_noise(row: MetricComparison, bounds: tuple[float, float] | None) -> None:
    """noise_bound and within_noise of a row with several seeds. The band is capped to the metric's
    bounds (a return in [0, 500] cannot be off by ±600), and seeds that all land on the worse side
    of the reference show a consistent gap, not noise."""
    n = len(row.values)
    row.noise_bound = significant(_t_975(n - 1) * row.measured_std / math.sqrt(n), 6)
    if bounds is not None and row.noise_bound > bounds[1] - bounds[0]:
        row.noise_bound, row.noise_spans_range = significant(bounds[1] - bounds[0], 6), True
    all_worse = row.higher_is_better is not None and all(
        (v < row.reported) == row.higher_is_better and v != row.reported for v in row.values
    )
    row.within_noise = abs(row.gap) <= row.noise_bound and not all_worse


def compare_metric(args: CompareMetricsArgs, name: str, objective: dict[str, str] | None = None,
                   non_finite: frozenset[str] = frozenset()) -> MetricComparison:  # fmt: skip
    higher, source = metric_direction(args, name, objective)
    reported = args.reported.get(name)
    if name not in args.measured:
        verdict = "non_finite" if name in non_finite else "missing"
        return MetricComparison(
            name=name, reported=reported, higher_is_better=higher, direction_from=source, verdict=verdict
        )
    value = args.measured[name]
    values = value if isinstance(value, list) else [value]
    mean, std = _mean_std(values)
    mean, std = significant(mean, 6), significant(std, 6)
    row = MetricComparison(
        name=name, measured_mean=mean, measured_std=std, n=len(values), values=values, higher_is_better=higher,
        direction_from=source, verdict="not_reported", baseline=args.for_metric("baseline", name),
        ceiling=args.for_metric("ceiling", name),
    )  # fmt: skip
    if reported is None:
        return row
    absolute, relative = args.for_metric("tolerance", name), args.for_metric("rel_tolerance", name)
    row.tolerance_is_default = absolute is None and relative is None
    if row.tolerance_is_default:
        relative = DEFAULT_REL_TOLERANCE
    gap = significant(mean - reported, 6)  # inf when the two sit at opposite ends of the float range
    row.reported, row.gap, row.tolerance, row.rel_tolerance = reported, gap, absolute, relative
    row.gap_relative = significant(gap / abs(reported), 6) if reported != 0 and math.isfinite(gap) else None
    row.within_tolerance = (absolute is not None and abs(gap) <= absolute) or (
        relative is not None and abs(gap) <= relative * abs(reported)
    )
    if std is not None:
        _seed_noise(row, args.for_metric("bounds", name))
    if row.within_tolerance:
        row.verdict = "match"
    elif higher is None:
        row.verdict = "differs"
    elif (gap > 0) == higher:
        row.verdict = "better"
    else:
        row.verdict = "worse_within_noise" if row.within_noise else "worse"
    return row


def _allowed(row: MetricComparison) -> str:
    parts = [
        f"±{row.tolerance:g}" if row.tolerance is not None else "",
        f"±{row.rel_tolerance:.1%}" if row.rel_tolerance is not None else "",
    ]
    return " or ".join(p for p in parts if p) + (" (default)" if row.tolerance_is_default else "")


def _measured_text(row: MetricComparison) -> str:
    if row.n > 1:
        return f"{row.measured_mean:.4g} ± {row.measured_std:.2g} (mean ± std over {row.n} seeds)"
    return f"{row.measured_mean:.4g}"


def _gap_text(row: MetricComparison) -> str:
    relative = f" ({row.gap_relative:+.1%})" if row.gap_relative is not None else ""
    return f"gap {row.gap:+.4g}{relative}"


def _direction_unknown(row: MetricComparison, evidence: dict, source: str) -> dict:
    return finding(
        "metric_mismatch",
        WARNING,
        f"{row.name}: measured {_measured_text(row)} vs {source} {row.reported:g}, {_gap_text(row)}, outside "
        f"{_allowed(row)}; whether that is better or worse is unknown: the name {row.name!r} does not say which way "
        "is better",
        where=row.name,
        evidence=evidence,
        suggestion=f'Pass higher_is_better={{"{row.name}": true}} (or false) to judge the gap.',
    )


def _missing(row: MetricComparison, args: CompareMetricsArgs) -> dict:
    close = difflib.get_close_matches(row.name, list(args.measured), n=1)
    return finding(
        "metric_missing",
        ERROR,
        f"{args.source[:-2]} reports {row.name} = {row.reported:g}, but measured has no {row.name!r}"
        + (f" (did you mean {close[0]!r}?)" if close else ""),
        where=row.name,
        suggestion=f"Measure {row.name} (the harness's evaluate, or training_status of a run) and pass it in measured.",
    )


def _non_finite(row: MetricComparison, seeds: int) -> dict:
    return finding(
        "non_finite_metric",
        ERROR,
        f"{row.name}: the run measured NaN/Inf on {seeds} seed(s), "
        f"so there is no value to compare with {row.reported:g}",
        where=row.name,
        evidence={"seeds": seeds},
        suggestion="training_status(run_id) names the step it went NaN: a diverged model (lower lr, lr_sweep), "
        "or a division by zero or log(0) in evaluate.",
    )


def _noise_text(row: MetricComparison) -> str:
    if row.noise_spans_range:
        return f"but seed noise spans the metric's whole range (±{row.noise_bound:.3g}): these seeds decide nothing"
    return f"but within seed noise (±{row.noise_bound:.3g})"


def _row_finding(row: MetricComparison, evidence: dict, source: str) -> dict | None:
    """The finding a compared metric gets for its verdict (none for a match)."""
    if row.verdict == "worse":
        return finding(
            "metric_mismatch",
            ERROR,
            f"{row.name}: measured {_measured_text(row)} vs {source} {row.reported:g}, {_gap_text(row)}, "
            f"outside {_allowed(row)}"
            + (
                "; every seed is worse"
                if row.n > 1 and row.noise_bound is not None and abs(row.gap) <= row.noise_bound
                else ""
            ),
            where=row.name,
            evidence=evidence,
            suggestion="Check the evaluation protocol (split, preprocessing, metric definition) against the "
            "paper, then the training budget and hyperparameters; compare per-seed values.",
        )
    if row.verdict == "worse_within_noise":
        return finding(
            "metric_mismatch",
            WARNING,
            f"{row.name}: measured {_measured_text(row)} is {abs(row.gap):.4g} worse than {source} "
            f"{row.reported:g}, outside {_allowed(row)}, {_noise_text(row)}",
            where=row.name,
            evidence=evidence,
            suggestion="Run more seeds to tell a real gap from noise.",
        )
    if row.verdict == "differs":
        return _direction_unknown(row, evidence, source)
    if row.verdict == "better":
        return finding(
            "metric_exceeds_reported",
            INFO,
            f"{row.name}: measured {_measured_text(row)} beats {source} {row.reported:g} by {abs(row.gap):.4g}",
            where=row.name,
            evidence=evidence,
            suggestion="Fine if expected (longer training, a better setup); if surprising, rule out test data "
            "leaking into training (inspect_data checks split overlap).",
        )
    return None


def _findings(rows: list[MetricComparison], args: CompareMetricsArgs, non_finite: dict[str, int]) -> list[dict]:
    found = []
    for row in rows:
        if row.verdict in ("missing", "non_finite"):
            found.append(_missing(row, args) if row.verdict == "missing" else _non_finite(row, non_finite[row.name]))
            continue
        evidence = row.model_dump(
            include={"reported", "measured_mean", "measured_std", "n", "gap", "gap_relative", "noise_bound"}
        )
        if (item := _row_finding(row, evidence, args.source)) is not None:
            found.append(item)
        what = f"mean over {row.n} seeds" if row.n > 1 else "measured"
        found += level_findings(row.name, row.measured_mean, row.baseline, row.ceiling, row.higher_is_better, what)
    unreported = [row.name for row in rows if row.verdict == "not_reported"]
    if unreported:
        found.append(
            finding(
                "metric_not_reported",
                INFO,
                f"measured but not in reported (not compared): {', '.join(unreported)}",
                evidence={"metrics": unreported},
            )
        )
    return found


def _summary(rows: list[MetricComparison], reference: str) -> str:
    verdicts = ("match", "better", "worse", "worse_within_noise", "differs", "missing", "non_finite")
    counts = {verdict: [r.name for r in rows if r.verdict == verdict] for verdict in verdicts}
    compared = sum(len(names) for names in counts.values())
    parts = [f"{len(counts['match'])} of {compared} reported metric(s) match {reference}"]
    labels = {
        "better": f"better than {reference}",
        "worse": "worse beyond tolerance",
        "worse_within_noise": "worse but within seed noise",
        "differs": "outside tolerance, direction unknown",
        "missing": "not measured",
        "non_finite": "NaN/Inf in the run",
    }
    parts += [f"{label}: {', '.join(counts[v])}" for v, label in labels.items() if counts[v]]
    unknown = [r.name for r in rows if r.direction_from == "unknown" and r.reported is not None]
    if unknown:
        parts.append(f"which way is better is unknown for {', '.join(unknown)}: pass higher_is_better")
    return "; ".join(parts) + "."


RunMetrics = tuple[dict[str, list[float]], dict[str, str] | None, dict[str, int], list[Finding]]


def _run_metrics(runtime: Runtime, run_id: str) -> RunMetrics | dict | str:
    """The final metrics over seeds of a finished run, its objective and how many seeds measured each
    metric NaN/Inf (kept as null); else the unknown-run finding, or why a known run has none.
    Blocking: call it through anyio.to_thread."""
    record = runtime.runs.load(run_id)
    if record is None:
        return unknown_run_finding(run_id)
    if record.status != "completed":
        return f"run {run_id} is {record.status}: wait for it with training_status(run_id={run_id!r}, wait_s=30)"
    non_finite: dict[str, int] = {}
    for seed in record.seeds:
        for name in (name for name, value in seed.metrics.items() if value is None):
            non_finite[name] = non_finite.get(name, 0) + 1
    if not record.metrics and not non_finite:
        return f"run {run_id} has no metrics: its harness defines no evaluate(model) -> dict[str, float]"
    measured = {name: summary.values for name, summary in record.metrics.items()}
    # Seeds that trained on one data stream: the seed-noise band below is initialisation noise only.
    shared = [f for f in record.findings if f.code == "seeds_share_data"]
    return measured, getattr(record, "objective", None), non_finite, shared


async def _invoke(
    args: CompareMetricsArgs, runtime: Runtime, progress: ProgressCallback | None
) -> CompareMetricsResult:
    started = time.perf_counter()
    artifacts, objective = [], None
    shared: list[Finding] = []
    non_finite: dict[str, int] = {}
    if args.run_id is not None:
        found = await anyio.to_thread.run_sync(_run_metrics, runtime, args.run_id)
        if isinstance(found, dict):
            problem = Finding.model_validate(found)
            return CompareMetricsResult(status=status_of([problem]), summary=problem.message, findings=[problem])
        if isinstance(found, str):
            problem = Finding.model_validate(finding("metric_missing", ERROR, found, where=args.run_id))
            return CompareMetricsResult(status="fail", summary=found, findings=[problem])
        measured, objective, non_finite, shared = found
        artifacts = [Artifact(kind="run", path=record_path(args.run_id), description="the compared run")]
        # A run whose every metric is NaN has nothing to validate: its rows all say non_finite.
        args = (
            CompareMetricsArgs.model_validate({**args.model_dump(exclude={"run_id"}), "measured": measured})
            if measured
            else args.model_copy(update={"run_id": None, "measured": {}})
        )
    names = list(args.reported) + [name for name in args.measured if name not in args.reported]
    rows = [compare_metric(args, name, objective, frozenset(non_finite)) for name in names]
    findings = sort_findings([Finding.model_validate(f) for f in _findings(rows, args, non_finite)] + shared)
    return CompareMetricsResult(
        status=status_of(findings),
        summary=_summary(rows, args.source[:-2]),
        findings=findings,
        details=CompareMetricsDetails(metrics=rows),
        run=RunInfo(duration_s=round(time.perf_counter() - started, 4)),
        artifacts=artifacts,
    )


def _plot(result: CompareMetricsResult) -> list[tuple[str, bytes]]:
    if result.details is None:
        return []
    rows = [
        (m.name, m.reported, m.measured_mean, m.measured_std) for m in result.details.metrics if m.reported is not None
    ]
    return [("compare_metrics", metric_bars_plot(rows[:12], title="Paper vs ours (± std over seeds)"))] if rows else []


async def compare_metrics(
    ctx: Context,
    *,
    reported: Reported,
    measured: Measured = None,
    run_id: RunId = None,
    tolerance: ToleranceArg = None,
    rel_tolerance: RelTolerance = None,
    higher_is_better: HigherIsBetter = None,
    baseline: Baseline = None,
    ceiling: Ceiling = None,
    bounds: Bounds = None,
    reported_is: ReportedIs = "paper",
) -> Annotated[CallToolResult, CompareMetricsResult]:
    return await call_tool(TOOL, ctx, locals())


TOOL = Tool(
    name="compare_metrics",
    args=CompareMetricsArgs,
    result=CompareMetricsResult,
    function=compare_metrics,
    description=(
        "How close are my numbers to the paper's? Pure arithmetic, runs no code. Give reported {name: value} and "
        "measured {name: value or [values over seeds]} or the run_id of a finished training run; "
        "a metric passes within the absolute `tolerance` or the "
        "relative `rel_tolerance` (default: 5% relative when neither is given for it). With several seeds it also "
        "says whether the gap is within seed noise (95% t-interval). Which way is better comes from higher_is_better, "
        "else the run's objective, else the metric's name (loss, error, perplexity, neg_elbo, fid: lower; accuracy, "
        "return, elbo, bleu, f1: higher); an ambiguous name is said so. Beating the paper is reported, not failed. "
        "Findings: metric_mismatch (error; warning when within seed "
        "noise), metric_missing, metric_exceeds_reported and metric_not_reported (info). Call it last, after "
        "training; on a mismatch, recheck the evaluation protocol, then call lr_sweep or run_ablation."
    ),
    invoke=_invoke,
    plot=_plot,
)
