"""The arguments every runner tool shares, and `harness_tool()`, which declares one.

A runner tool is declared with `harness_tool()`: its name, the worker module that does the
work (tools/worker/<check>.py), an arguments model (a subclass of `HarnessArgs`) and a result
model. Calling it runs the check through tools/dispatch.py.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .bounds import SEED_MAX, Name
from .dispatch import execute
from .envelope import ToolResult
from .runner import ProgressCallback
from .tool import PlotFn, Runtime, Tool
from .worker.protocol import encode

NAME_MAX_BYTES = 255  # of one path component or callable name, as file systems allow
PATH_MAX_BYTES = 4096
MODEL_KWARGS_MAX_BYTES = 32 * 2**20  # JSON size; larger data belongs in a file the harness reads


class HarnessArgs(BaseModel):
    """Arguments every runner tool takes (docs/harness-contract.md)."""

    model_config = ConfigDict(extra="forbid")

    harness: str = Field(
        max_length=PATH_MAX_BYTES,
        description="Path of the harness file, relative to the project root (or absolute inside it), "
        "e.g. 'harness.py'. It defines build_model(**model_kwargs) and get_batch(batch_size, split)."
    )
    names: dict[Name, str] | None = Field(
        None, max_length=32, description='Rename contract callables, e.g. {"build_model": "make_transformer"}.'
    )
    model_kwargs: dict[str, Any] | None = Field(None, description="Keyword arguments passed to build_model.")
    seed: int = Field(0, ge=0, le=SEED_MAX, description="Seeds torch, numpy and random before build_model.")
    device: Literal["auto", "cpu", "cuda", "mps"] = Field(
        "auto", description="auto picks an accelerator when the worker has one."
    )
    timeout_s: float | None = Field(
        None, gt=0, le=3600, description="Wall-clock limit for this call; default: the server's --timeout-s."
    )

    @field_validator("harness")
    @classmethod
    def _a_path_name(cls, path: str) -> str:
        if "\x00" in path:
            raise ValueError("a path cannot contain a NUL character")
        if len(path.encode()) > PATH_MAX_BYTES:
            raise ValueError(f"the path is over {PATH_MAX_BYTES} bytes")
        if any(len(part.encode()) > NAME_MAX_BYTES for part in path.split("/")):
            raise ValueError(f"a path component is over {NAME_MAX_BYTES} bytes, longer than any file name can be")
        return path

    @field_validator("names")
    @classmethod
    def _callable_names(cls, names: dict[str, str] | None) -> dict[str, str] | None:
        for role, name in (names or {}).items():
            if not name.isidentifier() or len(name.encode()) > NAME_MAX_BYTES:
                raise ValueError(f"names[{role[:40]!r}] must be a Python identifier of at most {NAME_MAX_BYTES} bytes")
        return names

    @field_validator("model_kwargs")
    @classmethod
    def _model_kwargs_size(cls, kwargs: dict[str, Any] | None) -> dict[str, Any] | None:
        if kwargs is not None and len(size := encode(kwargs)) > MODEL_KWARGS_MAX_BYTES:
            raise ValueError(
                f"model_kwargs is {len(size) / 2**20:.0f} MiB as JSON, over {MODEL_KWARGS_MAX_BYTES >> 20} MiB: "
                "put large data in a file of the project and pass its path"
            )
        return kwargs

    def check_args(self) -> dict[str, Any]:
        """The tool's own arguments, as the worker check reads them."""
        return self.model_dump(exclude=set(HarnessArgs.model_fields))


def harness_tool(
    name: str,
    check: str,
    args: type[HarnessArgs],
    result: type[ToolResult],
    description: str,
    plot: PlotFn | None = None,
) -> Tool:
    """A tool that runs the worker module tools/worker/<check>.py on the user's harness."""

    async def invoke(arguments: HarnessArgs, runtime: Runtime, progress: ProgressCallback | None) -> ToolResult:
        return await execute(check, name, result, arguments, runtime, progress)

    return Tool(name=name, args=args, result=result, description=description, invoke=invoke, plot=plot)
