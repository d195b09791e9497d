"""The result envelope every tool returns (docs/results.md).

status, summary and findings come first because an agent with a small context reads
from the top; details hold the tool's compact numbers; run says how and where it ran.
Each tool subclasses `ToolResult` with its own typed `details`, so MCP clients get an
output schema that documents the numbers.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ..wire.findings import NOTHING_MEASURED, RUN_FAILURES

Status = Literal["pass", "warn", "fail", "error", "inconclusive"]
Severity = Literal["error", "warning", "info"]


class Finding(BaseModel):
    code: str = Field(description="Stable finding code; see the findings table of docs/results.md.")
    severity: Severity
    message: str = Field(description="What is wrong, with the numbers that show it.")
    where: str | None = Field(None, description="A parameter/module name, or file:line in the user's code.")
    evidence: dict[str, Any] = Field(default_factory=dict, description="The measurements behind the finding.")
    suggestion: str | None = Field(None, description="What to change or which tool to call next.")


class RunInfo(BaseModel):
    duration_s: float = Field(
        description="Wall time of the job on its worker (of the call, when no job ran); queued_s is the wait before."
    )
    queued_s: float = Field(
        0.0,
        description="Seconds the call waited for a free worker (and for it to start) before its job ran; timeout_s "
        "does not count them. Training runs have a lane of their own: tool calls never wait behind them.",
    )
    device: str | None = Field(None, description="Device the check ran on, e.g. cpu or cuda.")
    python: str | None = Field(None, description="Python version of the worker interpreter.")
    torch_version: str | None = None
    seed: int | None = None
    stdout_tail: str = Field("", description="The end of what the user's code printed to stdout.")
    stderr_tail: str = Field("", description="The end of what the user's code printed to stderr.")
    peak_rss_mb: float | None = Field(
        None,
        description="Peak memory of the worker's process tree in MB: resident memory, with pages that its "
        "processes share (forks) counted once (PSS); at least the worker's own peak resident memory.",
    )
    threads: int | None = Field(
        None,
        description="torch intra-op threads in use when the check ended: the harness's own setting, or the count "
        "fitted to the idle cores and the model (at most the cores shared among --max-workers), "
        "or --threads-per-worker.",
    )


class Artifact(BaseModel):
    kind: Literal["plot", "report", "run"] = Field(
        description="plot: a PNG; report: full JSON detail; run: a run record."
    )
    path: str = Field(description="Path of the file, relative to the project root.")
    description: str = ""


D = TypeVar("D")


class ToolResult(BaseModel, Generic[D]):
    model_config = ConfigDict(extra="forbid")

    status: Status = Field(
        description="pass | warn | fail | error | inconclusive (error: the user's code or harness failed to run; "
        "inconclusive: it ran but measured nothing it can judge, see the nothing_measured finding)."
    )
    summary: str = Field(description="One or two sentences an agent can act on.")
    findings: list[Finding] = Field(default_factory=list, description="Most important first.")
    details: D | None = Field(None, description="The tool's own numbers, compact.")
    run: RunInfo | None = None
    artifacts: list[Artifact] = Field(
        default_factory=list, description="Files written for this call: plots, full reports."
    )


def status_of(findings: list[Finding]) -> Status:
    if any(f.code in RUN_FAILURES for f in findings):
        return "error"
    if any(f.severity == "error" for f in findings):
        return "fail"
    if any(f.code in NOTHING_MEASURED for f in findings):
        return "inconclusive"
    if any(f.severity == "warning" for f in findings):
        return "warn"
    return "pass"
