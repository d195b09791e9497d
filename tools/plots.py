"""PNG plots of results, rendered with matplotlib's Agg backend in the server process.

matplotlib is imported on first use, not at start-up: an idle server stays small.
"""

from __future__ import annotations

import io
from typing import Any, Protocol


class _Curve(Protocol):
    step: list[int]
    loss: list[float | None]


def _figure(title: str, xlabel: str, ylabel: str):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)
    return fig, ax


def _png(fig: Any) -> bytes:
    from matplotlib import pyplot as plt

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _positive(values: list[float | None]) -> bool:
    return all(v is None or v > 0 for v in values)


def loss_curves_plot(
    curves: dict[str, _Curve], *, title: str, xlabel: str = "step", ylabel: str = "loss", log_x: bool = False
) -> bytes:
    """One line per labelled curve; log-scale loss when every value is positive."""
    fig, ax = _figure(title, xlabel, ylabel)
    for label, curve in curves.items():
        points = [(s, v) for s, v in zip(curve.step, curve.loss) if v is not None]
        if points:
            ax.plot(*zip(*points), label=label, linewidth=1.6)
    if all(_positive(c.loss) for c in curves.values()):
        ax.set_yscale("log")
    if log_x:
        ax.set_xscale("log")
    if len(curves) > 1:
        ax.legend(fontsize=8)
    return _png(fig)
