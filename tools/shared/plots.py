"""PNG plots of results, rendered with matplotlib's Agg backend in the server process.

matplotlib is imported on first use, not at start-up: an idle server stays small.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from ..wire.details import Curve


def _figure(title: str, xlabel: str, ylabel: str):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    # Fixed margins that fit log-scale tick labels: tight_layout would measure every tick
    # label and cost as much as drawing the figure (a few hundred ms on a busy core).
    fig.subplots_adjust(left=0.11, right=0.97, top=0.92, bottom=0.12)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.3)
    return fig, ax


def _log_scale(ax: Any, axis: str) -> None:
    """Log scale on axis "x" or "y", minor ticks at 2 and 5 only: matplotlib's default eight
    per decade make drawing slower and add nothing a reader needs."""
    from matplotlib.ticker import LogLocator

    getattr(ax, f"set_{axis}scale")("log")
    getattr(ax, f"{axis}axis").set_minor_locator(LogLocator(subs=(2.0, 5.0)))


def _png(fig: Any, *, tight: bool = False) -> bytes:
    from matplotlib import pyplot as plt

    buffer = io.BytesIO()
    if tight:  # for layouts whose margins cannot be fixed in advance
        fig.tight_layout()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _legend(ax: Any) -> None:
    """A legend when something is labelled (a sweep whose every loss is NaN has nothing to name)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)


def _spans_decades(*series: list[float | None]) -> bool:
    """Log scale helps only when every value is positive and they span at least a decade."""
    values = [v for values in series for v in values if v is not None]
    return bool(values) and min(values) > 0 and max(values) >= 10 * min(values)


def loss_curves_plot(
    curves: dict[str, Curve], *, title: str, xlabel: str = "step", ylabel: str = "loss", log_x: bool = False
) -> bytes:
    """One line per labelled curve; log-scale loss when it spans decades."""
    fig, ax = _figure(title, xlabel, ylabel)
    for label, curve in curves.items():
        points = [(s, v) for s, v in zip(curve.step, curve.loss) if v is not None]
        if points:
            ax.plot(*zip(*points), label=label, linewidth=1.6)
    if _spans_decades(*(c.loss for c in curves.values())):
        _log_scale(ax, "y")
    if log_x:
        _log_scale(ax, "x")
    if len(curves) > 1:
        ax.legend(fontsize=8)
    return _png(fig)


def lr_sweep_plot(
    lrs: list[float],
    loss: list[float | None],
    *,
    title: str,
    smoothed: list[float | None] | None = None,
    suggested_lr: float | None = None,
    diverged_lrs: Sequence[float] = (),
    metric: str = "loss",
) -> bytes:
    """`metric` (the loss, or the objective a grid was judged on) against learning rate on a log axis:
    the suggestion as a dashed line, diverged rates as red crosses."""
    fig, ax = _figure(title, "learning rate", metric)
    _log_scale(ax, "x")
    points = [(r, v) for r, v in zip(lrs, loss) if v is not None]
    if points:
        style = {"linewidth": 0.8, "alpha": 0.5} if smoothed else {"marker": "o", "linewidth": 1.6}
        ax.plot(*zip(*points), label=metric, **style)
    if smoothed:
        ax.plot(*zip(*[(r, v) for r, v in zip(lrs, smoothed) if v is not None]), label="smoothed", linewidth=1.8)
    if _spans_decades(loss, smoothed or []):
        _log_scale(ax, "y")
    if suggested_lr is not None:
        ax.axvline(suggested_lr, color="tab:green", linestyle="--", label=f"suggested {suggested_lr:.2g}")
    if diverged_lrs:
        # At the top of the axes (x in data, y in axes units): a diverged loss has no useful height.
        ax.plot(
            diverged_lrs,
            [0.95] * len(diverged_lrs),
            "x",
            color="tab:red",
            markersize=9,
            transform=ax.get_xaxis_transform(),
            label="diverged",
        )
    _legend(ax)
    return _png(fig)


def metric_bars_plot(rows: list[tuple[str, float, float | None, float | None]], *, title: str) -> bytes:
    """One small panel per metric, (name, reported, measured mean, std over seeds): metrics keep their own scale."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, axes = plt.subplots(1, len(rows), figsize=(max(4.5, 1.8 + 1.6 * len(rows)), 3.6), dpi=110, squeeze=False)
    fig.suptitle(title)
    for ax, (name, reported, measured, std) in zip(axes[0], rows):
        bars = ax.bar([0, 1], [reported, measured if measured is not None else 0.0], color=["tab:gray", "tab:blue"])
        ax.bar_label(bars, fmt="%.4g", fontsize=8, label_type="center", color="white")
        if std:
            ax.errorbar([1], [measured], yerr=[std], fmt="none", color="black", capsize=4)
        ax.set_xticks([0, 1], ["paper", "ours" if measured is not None else "missing"])
        ax.set_title(name, fontsize=9)
        ax.grid(True, axis="y", alpha=0.3)
    return _png(fig, tight=True)


Series = tuple[list[int], list[float | None]]  # (steps, values); None where NaN/Inf


def _seed_band(ax: Any, series: dict[str, Series], color: str) -> None:
    """Each seed as a thin line; with several seeds, their mean (bold) and min-max spread (shaded)
    on the steps all of them reached, interpolated onto the longest seed's steps."""
    import numpy as np

    clean = {}
    for label, (steps, values) in series.items():
        points = [(s, v) for s, v in zip(steps, values) if v is not None]
        if points:
            clean[label] = tuple(np.array(column, dtype=float) for column in zip(*points))
    for label, (x, y) in clean.items():
        ax.plot(
            x,
            y,
            linewidth=0.9,
            alpha=0.45 if len(clean) > 1 else 1.0,
            color=color if len(clean) > 1 else None,
            label=None if len(clean) > 1 else label,
        )
    if len(clean) < 2:
        return
    end = min(x[-1] for x, _ in clean.values())
    grid = max((x for x, _ in clean.values()), key=len)
    grid = grid[grid <= end]
    if len(grid) == 0:
        return
    stacked = np.stack([np.interp(grid, x, y) for x, y in clean.values()])
    ax.fill_between(grid, stacked.min(axis=0), stacked.max(axis=0), color=color, alpha=0.18, label="min-max over seeds")
    ax.plot(grid, stacked.mean(axis=0), color=color, linewidth=2.0, label=f"mean of {len(clean)} seeds")


def training_run_plot(loss: dict[str, Series], metrics: dict[str, dict[str, Series]], *, title: str,
                      levels: dict[str, dict[str, float]] | None = None) -> bytes:  # fmt: skip
    """A training run: the loss per step, then one panel per monitored metric over its evaluation
    steps; every seed, with the mean and the spread over seeds, its baseline and ceiling as dashed
    lines, on a log axis when the values span decades (an untrained SWD of 180 against a floor of 0.05)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    panels = 1 + len(metrics)
    fig, axes = plt.subplots(1, panels, figsize=(2.2 + 4.4 * panels, 4.2), dpi=110, squeeze=False)
    fig.suptitle(title)
    _seed_band(axes[0][0], loss, "tab:blue")
    axes[0][0].set(xlabel="step", ylabel="training loss")
    if _spans_decades(*(values for _, values in loss.values())):
        _log_scale(axes[0][0], "y")
    for ax, (name, series) in zip(axes[0][1:], metrics.items()):
        _seed_band(ax, series, "tab:green")
        for steps, values in series.values():  # evaluations are few: mark each one
            ax.plot(
                [s for s, v in zip(steps, values) if v is not None],
                [v for v in values if v is not None],
                "o",
                markersize=2.5,
                color="tab:green",
                alpha=0.6,
            )
        ax.set(xlabel="step", ylabel=name)
        marks = (levels or {}).get(name, {})
        for (label, value), color in zip(marks.items(), ("tab:red", "tab:purple")):
            ax.axhline(value, color=color, linestyle="--", linewidth=1.2, label=f"{label} {value:.4g}")
        if _spans_decades(*(values for _, values in series.values()), list(marks.values())):
            _log_scale(ax, "y")
    for ax in axes[0]:
        ax.grid(True, alpha=0.3)
        _legend(ax)
    return _png(fig, tight=True)
