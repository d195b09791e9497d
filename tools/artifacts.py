"""The files a call leaves behind: full JSON reports and plot PNGs, named and placed here only.

Everything goes under <root>/.implement-paper/: a report in reports/, a plot next to the run
record when the result is about a training run (runs/), else in plots/. Each name carries the
tool and a time stamp, so calls never overwrite each other. The server's wiring only calls
`plots_for()`, which saves what the tool drew and returns every PNG to show inline.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import anyio

from .envelope import Artifact, ToolResult
from .run_store import RUNS_DIR, RunStore
from .tool import PlotFn

OUTPUT_DIR = RUNS_DIR.parent  # .implement-paper, relative to the project root: one name for every output


def _stamp() -> str:
    """A file-name suffix unique to this call: the time, this process, a sub-second counter."""
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"


def _relative(root: Path, path: Path) -> str:
    return str(path.relative_to(root))


def save_report(root: Path, tool: str, full: dict[str, Any]) -> Artifact:
    """The whole detail of a call as JSON under reports/: a file, not the agent's context."""
    folder = root / OUTPUT_DIR / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{tool}-{_stamp()}.json"
    path.write_text(json.dumps(full, indent=1))
    return Artifact(kind="report", path=_relative(root, path), description="full detail of this call")


async def save_run_plot(store: RunStore, run_id: str, png: bytes) -> str:
    """A training run's curves, beside its record; the path relative to the root."""
    path = store.folder / f"{run_id}.png"
    await anyio.Path(path).write_bytes(png)
    return store.relative(path)


def _plot_folder(root: Path, result: ToolResult) -> Path:
    """Next to the run record when the result is about a training run, else plots/."""
    runs = [artifact for artifact in result.artifacts if artifact.kind == "run"]
    return (root / runs[0].path).parent if runs else root / OUTPUT_DIR / "plots"


async def _save_plots(root: Path, tool: str, result: ToolResult, plots: list[tuple[str, bytes]]) -> None:
    folder = _plot_folder(root, result)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = _stamp()
    for stem, png in plots:
        path = folder / f"{tool}-{stem}-{stamp}.png"
        await anyio.Path(path).write_bytes(png)
        result.artifacts.append(Artifact(kind="plot", path=_relative(root, path), description=stem))


async def plots_for(root: Path, tool: str, result: ToolResult, plot: PlotFn | None) -> list[bytes]:
    """Every PNG of a result: those already saved (a finished run's curves) and those `plot` draws now,
    which are saved and listed in the result's artifacts."""
    saved = [root / artifact.path for artifact in result.artifacts if artifact.kind == "plot"]
    pngs = [await anyio.Path(path).read_bytes() for path in saved if path.is_file()]
    drawn = await anyio.to_thread.run_sync(plot, result) if plot is not None else []
    if drawn:
        await _save_plots(root, tool, result, drawn)
    return pngs + [png for _, png in drawn]
