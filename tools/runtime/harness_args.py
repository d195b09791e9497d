"""The arguments every runner tool shares: the harness path, renamed callables, build_model's
keyword arguments, seed, device and time limit, each a type that carries its bounds and description.
A tool's arguments model subclasses `HarnessArgs`; tools/runtime/harness_tool.py declares the tool."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ..wire.protocol import encode
from .bounds import Name, Seed

NAME_MAX_BYTES = 255  # of one path component or callable name, as file systems allow
PATH_MAX_BYTES = 4096
MODEL_KWARGS_MAX_BYTES = 32 * 2**20  # JSON size; larger data belongs in a file the harness reads


def _a_path_name(path: str) -> str:
    if "\x00" in path:
        raise ValueError("a path cannot contain a NUL character")
    if len(path.encode()) > PATH_MAX_BYTES:
        raise ValueError(f"the path is over {PATH_MAX_BYTES} bytes")
    if any(len(part.encode()) > NAME_MAX_BYTES for part in path.split("/")):
        raise ValueError(f"a path component is over {NAME_MAX_BYTES} bytes, longer than any file name can be")
    return path


def _callable_names(names: dict[str, str] | None) -> dict[str, str] | None:
    for role, name in (names or {}).items():
        if not name.isidentifier() or len(name.encode()) > NAME_MAX_BYTES:
            raise ValueError(f"names[{role[:40]!r}] must be a Python identifier of at most {NAME_MAX_BYTES} bytes")
    return names


def _model_kwargs_size(kwargs: dict[str, Any] | None) -> dict[str, Any] | None:
    if kwargs is not None and len(size := encode(kwargs)) > MODEL_KWARGS_MAX_BYTES:
        raise ValueError(
            f"model_kwargs is {len(size) / 2**20:.0f} MiB as JSON, over {MODEL_KWARGS_MAX_BYTES >> 20} MiB: "
            "put large data in a file of the project and pass its path"
        )
    return kwargs


# The parameters every runner tool takes, each a type that carries its bounds and its description, so
# that a tool's typed function (what the SDK reads for the schema) and its arguments model declare them
# the same way. Their checks are added on the model only: the SDK would refuse a bad value in its own
# words ("Error executing tool"); tools/runtime/tool_call.py validates the model and says "Invalid arguments".
HarnessPath = Annotated[
    str,
    Field(
        max_length=PATH_MAX_BYTES,
        description="Path of the harness file, relative to the project root (or absolute inside it), "
        "e.g. 'harness.py'. It defines build_model(**model_kwargs) and get_batch(batch_size, split).",
    ),
]
Names = Annotated[
    dict[Name, str] | None,
    Field(max_length=32, description='Rename contract callables, e.g. {"build_model": "make_transformer"}.'),
]
ModelKwargs = Annotated[
    dict[str, Any] | None,
    Field(description="Keyword arguments passed to build_model."),
]
HarnessSeed = Annotated[Seed, Field(description="Seeds torch, numpy and random before build_model.")]
Device = Annotated[
    Literal["auto", "cpu", "cuda", "mps"], Field(description="auto picks an accelerator when the worker has one.")
]
CallTimeout = Annotated[
    float | None,
    Field(gt=0, le=3600, description="Wall-clock limit for this call; default: the server's --timeout-s."),
]


class HarnessArgs(BaseModel):
    """Arguments every runner tool takes (docs/harness-contract.md)."""

    model_config = ConfigDict(extra="forbid")

    harness: Annotated[HarnessPath, AfterValidator(_a_path_name)]
    names: Annotated[Names, AfterValidator(_callable_names)] = None
    model_kwargs: Annotated[ModelKwargs, AfterValidator(_model_kwargs_size)] = None
    seed: HarnessSeed = 0
    device: Device = "auto"
    timeout_s: CallTimeout = None

    def check_args(self) -> dict[str, Any]:
        """The tool's own arguments, as the worker check reads them (its type in messages.CHECK_REQUESTS)."""
        return self.model_dump(exclude=set(HarnessArgs.model_fields))
