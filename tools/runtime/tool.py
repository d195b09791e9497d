"""A tool as the server registers it, and the runtime each call of it gets.

Every tool is a `Tool`: its name, arguments model, result model, `invoke`, and the typed function
the server registers (declared beside the arguments model: its parameters give the input schema,
its return annotation the output schema; it hands its arguments to tools/runtime/tool_call.py). Tools that
run the user's harness are declared with `harness_tool()` (tools/runtime/harness_tool.py); the others
(compare_metrics, the training tools) build a `Tool` themselves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from .envelope import ToolResult
from .run_store import RunStore
from .runner import Executor, ProgressCallback, WorkerPool

J = TypeVar("J")  # the training runs' service: generic, so that the runtime need not import the training tool


@dataclass
class Runtime(Generic[J]):
    """What the tools need from the running server (made by its lifespan)."""

    root: Path
    pool: WorkerPool
    timeout_s: float
    memory_limit_mb: float | None
    runs: RunStore  # the training-run records under the root
    jobs: J  # the training runs this server started (tools/training/tool.py's TrainingJobs)
    executor: Executor  # runs the work that fans out (training seeds, grid chunks, ablations): the pool, or Ray


PlotFn = Callable[[Any], list[tuple[str, bytes]]]  # takes its tool's own result type


@dataclass(frozen=True)
class Tool:
    """A tool as the server registers it. `invoke(args, runtime, progress)` does the work."""

    name: str
    args: type[BaseModel]
    result: type[ToolResult]
    description: str
    invoke: Callable[[Any, Runtime, ProgressCallback | None], Awaitable[ToolResult]]
    function: Callable[..., Awaitable[Any]]  # the typed function the MCP server registers
    plot: PlotFn | None = None  # draws (file stem, PNG bytes) pairs; tools/runtime/artifacts.py saves and returns them
    read_only: bool = False  # True only for pure computations that write no file
    destructive: bool = False  # True for tools that stop or delete something
