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

from ..wire.findings import WARNING, finding
from .envelope import Artifact, Finding, ToolResult
from .run_store import RUNS_DIR, RunStore
from .safe_paths import output_folder, read_output
from .tool import PlotFn

MAX_PLOT_BYTES = 16 << 20  # our PNGs are a few hundred kB; a larger file at a plot's path is not ours


def _stamp() -> str:
    """A file-name suffix unique to this call: the time, this process, a sub-second counter."""
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"


def _relative(root: Path, path: Path) -> str:
    return str(path.relative_to(root))


def save_report(root: Path, tool: str, full: dict[str, Any]) -> Artifact:
    """The whole detail of a call as JSON under reports/: a file, not the agent's context."""
    path = output_folder(root, "reports") / f"{tool}-{_stamp()}.json"
    path.write_text(json.dumps(full, indent=1))
    return Artifact(kind="report", path=_relative(root, path), description="full detail of this call")


async def save_run_plot(store: RunStore, run_id: str, png: bytes) -> str:
    """A training run's curves, beside its record; the path relative to the root."""
    path = output_folder(store.root, RUNS_DIR.name) / f"{run_id}.png"
    await anyio.Path(path).write_bytes(png)
    return store.relative(path)


def _plot_folder(root: Path, result: ToolResult) -> Path:
    """Next to the run record when the result is about a training run, else plots/."""
    about_run = any(artifact.kind == "run" for artifact in result.artifacts)
    return output_folder(root, RUNS_DIR.name if about_run else "plots")


async def _save_plots(root: Path, tool: str, result: ToolResult, plots: list[tuple[str, bytes]]) -> None:
    folder = _plot_folder(root, result)
    stamp = _stamp()
    for stem, png in plots:
        path = folder / f"{tool}-{stem}-{stamp}.png"
        await anyio.Path(path).write_bytes(png)
        result.artifacts.append(Artifact(kind="plot", path=_relative(root, path), description=stem))


async def plots_for(root: Path, tool: str, result: ToolResult, plot: PlotFn | None) -> list[bytes]:
    """Every PNG of a result: those already saved (a finished run's curves) and those `plot` draws now,
    which are saved and listed in the result's artifacts."""
    saved = [artifact.path for artifact in result.artifacts if artifact.kind == "plot"]
    pngs = [png for path in saved if (png := await anyio.to_thread.run_sync(_saved_plot, root, path, result))]
    drawn = await anyio.to_thread.run_sync(plot, result) if plot is not None else []
    if drawn:
        await _save_plots(root, tool, result, drawn)
    return pngs + [png for _, png in drawn]


def _saved_plot(root: Path, path: str, result: ToolResult) -> bytes | None:
    """A saved plot's bytes; None when it is gone, or (reported in `result`) not a file the server
    wrote: outside .implement-paper/, through a symlink, not a regular file."""
    try:
        return read_output(root, path, MAX_PLOT_BYTES)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        message = f"the plot {path[:200]!r} was not read: {exc}"
        result.findings.append(
            Finding.model_validate(finding("unsafe_record_path", WARNING, message, where=path[:200]))
        )
        result.status = "warn" if result.status == "pass" else result.status
        return None
