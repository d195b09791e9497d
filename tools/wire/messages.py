"""Every message between the server and its workers, as typed dataclasses.

Both sides import this module, so it is standard library only. A sender builds a message
with its constructor and sends `to_dict()`; a receiver turns what arrived back into one
with `read(data, *kinds)`, which checks every field: a missing, unknown or mistyped key
raises `MessageError` naming it, never a KeyError deep in the code that uses the message.
protocol.py frames them on the wire.

Who sends what:
* server -> zygote (socket): `Job`, with the job's fds; its `JobRequest` travels as a file,
  its `args` the fields of the check's request type (`CHECK_REQUESTS`), read once by the job;
* zygote -> server (socket): `Ready`, `Started`, `Exited`;
* job child -> server (result pipe): `Progress` any number of times, then one `Result`,
  whose payload is an `Answer`.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar, overload

M = TypeVar("M", bound="Message")
M2 = TypeVar("M2", bound="Message")
M3 = TypeVar("M3", bound="Message")


class MessageError(ValueError):
    """A message that does not fit its type; the text names the key."""


def _fits(value: Any, hint: Any) -> bool:
    """Whether a JSON value fits a field's type (the types messages use, not all of typing)."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, option) for option in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint in (int, float):  # JSON has one number type; a bool is not a number here
        return isinstance(value, (int, float) if hint is float else int) and not isinstance(value, bool)
    if not isinstance(value, origin or hint):
        return False
    if origin is list:  # the items too: a check reads `sizes` as ints, not as whatever came
        return all(_fits(item, typing.get_args(hint)[0]) for item in value)
    if origin is dict:
        key, item = typing.get_args(hint)
        return all(_fits(k, key) and _fits(v, item) for k, v in value.items())
    return True


def _name(hint: Any) -> str:
    return hint.__name__ if isinstance(hint, type) else str(hint)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """A message class's field types, evaluated once (progress messages come several times a second)."""
    return typing.get_type_hints(cls)


@dataclass(frozen=True)
class Message:
    """A message: its `TYPE` tag, its fields. Subclasses only declare fields."""

    TYPE: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.TYPE, **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}}

    @classmethod
    def from_fields(cls: type[M], data: dict[str, Any]) -> M:
        """The message whose fields `data` holds (its "type" key, if any, ignored); MessageError if they do not fit."""
        hints = _hints(cls)  # type: ignore[arg-type]  # a class hashes; mypy reads its instances' __hash__ = None
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(fields) - {"type"})
        if unknown:
            raise MessageError(f"the {cls.TYPE} message has an unknown key {unknown[0]!r}")
        for name, spec in fields.items():
            required = spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING
            if name not in data and required:
                raise MessageError(f"the {cls.TYPE} message has no {name!r}")
            if name in data and not _fits(data[name], hints[name]):
                raise MessageError(
                    f"the {cls.TYPE} message's {name!r} must be {_name(hints[name])}, "
                    f"not {type(data[name]).__name__} {str(data[name])[:80]!r}"
                )
        return cls(**{name: value for name, value in data.items() if name in fields})


@overload
def read(data: Any, kind: type[M], /) -> M: ...
@overload
def read(data: Any, kind: type[M], other: type[M2], /) -> M | M2: ...
@overload
def read(data: Any, kind: type[M], other: type[M2], third: type[M3], /) -> M | M2 | M3: ...
def read(data: Any, *kinds: type[Message]) -> Message:
    """The message `data` is, if it is one of `kinds` (by its "type" tag); MessageError otherwise."""
    if not isinstance(data, dict):
        raise MessageError(f"a message must be a JSON object, not {type(data).__name__}")
    by_tag = {kind.TYPE: kind for kind in kinds}
    if data.get("type") not in by_tag:
        raise MessageError(
            f"a message of type {str(data.get('type'))[:40]!r} where one of {sorted(by_tag)} was expected"
        )
    return by_tag[data["type"]].from_fields(data)


# ------------------------------------------------------------------ server -> zygote


@dataclass(frozen=True)
class JobRequest(Message):
    """What one job runs: a check of tools/worker/ on the user's harness. Travels as a file (any size)."""

    TYPE: ClassVar[str] = "request"
    check: str  # the module tools/<check>/check.py
    root: str  # the project root, absolute: the job's working directory
    harness: str  # the harness file, absolute, inside the root
    names: dict[str, str] | None = None  # contract callables renamed
    model_kwargs: dict[str, Any] | None = None
    seed: int = 0
    device: str = "auto"
    args: dict[str, Any] = field(default_factory=dict)  # the check's own arguments
    threads: int = 1  # torch intra-op threads; the pool sets it
    auto_threads: bool = (
        False  # `threads` is a ceiling the job fits to the load (worker/threads.py), not a pinned count
    )


@dataclass(frozen=True)
class Job(Message):
    """Run a job: sent with its fds [request, stdout_w, stderr_w, result_w]."""

    TYPE: ClassVar[str] = "job"
    FDS: ClassVar[int] = 4
    id: str
    memory_limit_mb: float | None = None


# ------------------------------------------------------------------ server -> job: each check's own arguments
# The fields of a tool's arguments model less the common ones (HarnessArgs.check_args), as the server
# dumps them: every field is sent, so only the fields some jobs of a tool lack have a default. Bounds
# and defaults live in the server's models; these say what the worker may rely on.


@dataclass(frozen=True)
class AblationRequest(Message):
    TYPE: ClassVar[str] = "run_ablation arguments"
    variants: dict[str, dict[str, Any]]
    steps: int
    seeds: list[int] | None
    rank_by: str | None
    lr: float
    batch_size: int
    train_only: list[list[Any]] | None = None  # a fanned-out job's (variant, seed) pairs to train
    trained: list[dict[str, Any]] | None = None  # the judging job's runs, trained by the others (details.TrainedRun)


@dataclass(frozen=True)
class DataRequest(Message):
    TYPE: ClassVar[str] = "inspect_data arguments"
    batch_size: int
    splits: list[str]
    overlap_sample: int


@dataclass(frozen=True)
class DependencyRequest(Message):
    TYPE: ClassVar[str] = "check_dependencies arguments"
    mode: str
    input: int | str | None
    seq_dim: int
    batch_size: int
    max_positions: int | None
    exhaustive: bool


@dataclass(frozen=True)
class GradientRequest(Message):
    TYPE: ClassVar[str] = "gradient_check arguments"
    batch_size: int
    numerical: dict[str, Any] | None  # function, input_shapes, eps, ... (tools/gradient_check/tool.py NumericalCheck)


@dataclass(frozen=True)
class InitRequest(Message):
    TYPE: ClassVar[str] = "check_initialization arguments"
    batch_size: int
    expected_init_loss: float | None
    tolerance: float


@dataclass(frozen=True)
class KnownValuesRequest(Message):
    TYPE: ClassVar[str] = "check_known_values arguments"
    function: str
    cases: list[dict[str, Any]]
    rtol: float
    atol: float
    dtype: str


@dataclass(frozen=True)
class LrSweepRequest(Message):
    TYPE: ClassVar[str] = "lr_sweep arguments"
    min_lr: float
    max_lr: float
    num_lrs: int | None
    steps: int
    batch_size: int
    mode: str
    baseline: dict[str, float] | None
    lr_indices: list[int] | None = None  # a grid chunk's rates; None: every rate


@dataclass(frozen=True)
class InspectRequest(Message):
    TYPE: ClassVar[str] = "inspect_model arguments"
    batch_size: int
    expected_param_count: int | None
    tolerance: float


@dataclass(frozen=True)
class OverfitRequest(Message):
    TYPE: ClassVar[str] = "run_overfit_test arguments"
    sizes: list[int]
    steps: int
    lr: float
    target_loss: float | None


@dataclass(frozen=True)
class TrainRequest(Message):
    TYPE: ClassVar[str] = "start_training arguments"
    steps: int
    lr: float
    batch_size: int
    seeds: list[int] | None
    eval_every: int | None
    label: str | None
    baseline: dict[str, float] | None
    ceiling: dict[str, float] | None


CHECK_REQUESTS: dict[str, type[Message]] = {
    "run_ablation": AblationRequest,
    "inspect_data": DataRequest,
    "check_dependencies": DependencyRequest,
    "gradient_check": GradientRequest,
    "check_initialization": InitRequest,
    "check_known_values": KnownValuesRequest,
    "lr_sweep": LrSweepRequest,
    "inspect_model": InspectRequest,
    "run_overfit_test": OverfitRequest,
    "training": TrainRequest,
}
"""Worker check (tools/<check>/check.py) -> the type its `JobRequest.args` must read as."""


def check_request(request: JobRequest) -> Message:
    """The typed arguments of the check `request` runs; MessageError if there is no such check or they do not fit."""
    kind = CHECK_REQUESTS.get(request.check)
    if kind is None:
        raise MessageError(f"there is no worker check {request.check[:80]!r}")
    return kind.from_fields(request.args)


# ------------------------------------------------------------------ zygote -> server


@dataclass(frozen=True)
class Ready(Message):
    """torch is imported: jobs can come."""

    TYPE: ClassVar[str] = "ready"


@dataclass(frozen=True)
class Started(Message):
    TYPE: ClassVar[str] = "started"
    id: str
    pid: int
    cgroup: str | None = None


@dataclass(frozen=True)
class Exited(Message):
    TYPE: ClassVar[str] = "exited"
    id: str
    returncode: int | None = None
    peak_rss_mb: float | None = None
    killed_for_memory: bool = False


# ------------------------------------------------------------------ job child -> server


@dataclass(frozen=True)
class Progress(Message):
    TYPE: ClassVar[str] = "progress"
    done: float
    total: float | None = None
    message: str | None = None
    data: dict[str, Any] | None = None  # numbers for the server, e.g. a partial curve


@dataclass(frozen=True)
class Answer(Message):
    """What a check answers: the envelope's parts. `details` is the tool's own, checked by the server."""

    TYPE: ClassVar[str] = "answer"
    summary: str
    findings: list[dict[str, Any]]
    details: Any = None
    run: dict[str, Any] | None = None  # how it ran: device, python, torch_version, seed, duration_s
    full_report: dict[str, Any] | None = None  # the whole detail, saved as a file by the server


@dataclass(frozen=True)
class Result(Message):
    TYPE: ClassVar[str] = "result"
    payload: dict[str, Any]  # an Answer's fields
