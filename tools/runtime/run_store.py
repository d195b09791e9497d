"""Training-run records: one JSON file per run under <root>/.implement-paper/runs/.

A record is rewritten atomically (temp file, then rename) as its run progresses, so results
survive a server restart. Everything read from that folder is treated as untrusted: run ids
are validated wherever a path is built from one, paths are checked to stay in the folder,
and a file that is not a regular, parseable, valid record is skipped and reported, never
allowed to block (a FIFO), crash or redirect the server (a record whose run_id is
"../../x"). Each server holds an fcntl lock on a file of its own under runs/.owners/, and
records name their owner, so a second server on the same root leaves live runs alone.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from ..wire.details import Curve, HistoryPoint
from ..wire.findings import ERROR, WARNING, finding
from .envelope import Finding
from .safe_paths import OUTPUT_DIR, output_folder, read_regular

log = logging.getLogger(__name__)

RUN_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
RUNS_DIR = OUTPUT_DIR / "runs"  # relative to the project root
MAX_RECORD_BYTES = 32 << 20  # a record is a few hundred kB at most; anything larger is not ours
RECORD_BUDGET = MAX_RECORD_BYTES // 2  # what a written record may take: the reader always takes it back

SeedStatus = Literal["queued", "running", "evaluating", "completed", "failed", "cancelled", "interrupted"]
RunStatus = Literal["queued", "running", "completed", "failed", "cancelled", "interrupted"]
FINISHED = {"completed", "failed", "cancelled", "interrupted"}


class InvalidRunId(ValueError):
    pass


def valid_run_id(run_id: Any) -> str:
    """`run_id` itself when it is a safe file stem; InvalidRunId otherwise."""
    if not isinstance(run_id, str) or not re.fullmatch(RUN_ID_PATTERN, run_id):
        raise InvalidRunId(f"{str(run_id)[:80]!r} is not a run id (letters, digits, _ and -, at most 64)")
    return run_id


def record_path(run_id: str) -> str:
    """Where a run's record lives, relative to the project root."""
    return str(RUNS_DIR / f"{valid_run_id(run_id)}.json")


def unknown_run_message(run_id: str) -> str:
    """The one answer to a run id that names no run, for every tool that takes one."""
    return f"no training run {str(run_id)[:80]!r}; list_runs() shows the known runs"


class Best(BaseModel):
    metric: str
    mode: Literal["max", "min"]
    value: float = Field(description="The best value the seed's evaluations reached.")
    step: int = Field(description="The step of the evaluation that reached it.")


class SeedRun(BaseModel):
    seed: int
    status: SeedStatus = "queued"
    steps_done: int = Field(0, description="Optimisation steps this seed has run.")
    final_loss: float | None = None
    metrics: dict[str, float | None] = Field(default_factory=dict, description="The last evaluation's metrics.")
    history: list[HistoryPoint] = Field(default_factory=list, description="Every evaluation, in step order.")
    best: Best | None = Field(None, description="The objective's best value and its step (objective declared).")
    curve: Curve = Field(default_factory=Curve, description="Training loss per step, thinned; partial while running.")
    duration_s: float | None = None
    findings: list[Finding] = Field(default_factory=list)
    data_digest: str | None = Field(
        None, description="Digest of the first training batches: seeds that agree shared their data."
    )


class MetricSummary(BaseModel):
    mean: float
    std: float = Field(description="Sample standard deviation over seeds (0 for one seed).")
    n: int
    values: list[float]


class RunRecord(BaseModel):
    run_id: str = Field(pattern=RUN_ID_PATTERN)
    label: str | None = None
    harness: str
    status: RunStatus = "queued"
    created_at: str
    finished_at: str | None = None
    steps: int = Field(description="Steps per seed.")
    lr: float
    batch_size: int
    eval_every: int | None = None
    model_kwargs: dict[str, Any] | None = None
    objective: dict[str, str] | None = Field(None, description="The harness's objective {monitor, mode}, once known.")
    baseline: dict[str, float] | None = Field(None, description="A trivial method's level per metric (start_training).")
    ceiling: dict[str, float] | None = Field(None, description="The best achievable value per metric (start_training).")
    seeds: list[SeedRun]
    metrics: dict[str, MetricSummary] = Field(default_factory=dict, description="Final metrics over seeds.")
    findings: list[Finding] = Field(default_factory=list, description="About the run as a whole (not one seed).")
    plot: str | None = Field(None, description="Training curves PNG, relative to the project root.")
    events: str | None = Field(None, description="TensorBoard event files (one folder per seed), relative to the root.")
    owner: str | None = Field(None, description="The server process that runs it (its lock under runs/.owners/).")

    @model_validator(mode="after")
    def _own_files_only(self) -> RunRecord:
        """A record may come with a clone or from the user's code: a plot or events path other than the
        run's own is dropped and reported, never followed (an absolute path would read any file)."""
        for field, own in own_files(self.run_id).items():
            named = getattr(self, field)
            if named is not None and named != own:
                setattr(self, field, None)
                self.findings.append(Finding.model_validate(unsafe_record_path(self.run_id, field, named, own)))
        return self


def own_files(run_id: str) -> dict[str, str]:
    """The only plot and events paths a record may name: its own, beside it."""
    return {"plot": str(RUNS_DIR / f"{run_id}.png"), "events": str(RUNS_DIR / run_id)}


def unsafe_record_path(run_id: str, field: str, named: str, own: str) -> dict[str, Any]:
    return finding(
        "unsafe_record_path",
        WARNING,
        f"run {run_id}'s record names {field} {named[:200]!r}, not its own {own!r}: not followed",
        where=field,
        suggestion="Only start_training writes run records: delete the record's file or set the field to null.",
    )


def record_text(record: RunRecord) -> str:
    """The record as written, within RECORD_BUDGET so that no completed run is lost to the reader's cap.
    One over it (thousands of evaluations x dozens of metrics x 16 seeds, or megabytes of model_kwargs)
    keeps every other evaluation of each seed's history (the first and last kept) until it fits, then
    drops model_kwargs, and says so in a record_capped finding."""
    text = record.model_dump_json(indent=1)
    while len(text.encode()) > RECORD_BUDGET and _shrink(record):
        text = record.model_dump_json(indent=1)
    return text


def _shrink(record: RunRecord) -> bool:
    """Halve the longest histories, else drop model_kwargs; False when nothing is left to shrink."""
    long = [seed for seed in record.seeds if len(seed.history) > 2]
    for seed in long:
        seed.history = seed.history[:-1:2] + seed.history[-1:]
    if not long and record.model_kwargs is None:
        return False
    if not long:
        record.model_kwargs = None
    what = f"every other evaluation of each seed's history ({len(long[0].history)} left)" if long else "model_kwargs"
    message = f"the run record passed {RECORD_BUDGET >> 20} MiB: dropped {what}, so that it stays readable"
    kept = [f for f in record.findings if not (f.code == "record_capped" and f.where == "record")]
    record.findings = kept + [Finding.model_validate(finding("record_capped", WARNING, message, where="record"))]
    return True


class Skipped(BaseModel):
    file: str = Field(description="The file under .implement-paper/runs/ that was skipped.")
    reason: str


def _read_record_text(path: Path) -> str:
    return read_regular(path, MAX_RECORD_BYTES).decode()


def _reject_constant(token: str) -> None:
    raise ValueError(f"{token} in the JSON")


def parse_record(text: str, run_id: str) -> RunRecord:
    """A validated record whose run_id is the file's own name; ValueError otherwise."""
    record = RunRecord.model_validate(json.loads(text, parse_constant=_reject_constant))
    if record.run_id != run_id:
        raise ValueError(f"its run_id {record.run_id!r} is not its file name")
    return record


class RunStore:
    """The records under <root>/.implement-paper/runs/. Blocking I/O: call it through anyio.to_thread."""

    def __init__(self, root: Path):
        self.root = root
        self.folder = root / RUNS_DIR

    def path(self, run_id: str) -> Path:
        path = self.folder / f"{valid_run_id(run_id)}.json"
        if path.parent != self.folder:  # cannot happen with a valid id; kept as the last line of defence
            raise InvalidRunId(f"{run_id!r} leaves the runs folder")
        return path

    def relative(self, path: Path) -> str:
        return str(path.relative_to(self.root))

    def writable(self) -> Path:
        """The runs folder, created; UnsafePath when it or .implement-paper/ is a symlink."""
        return output_folder(self.root, RUNS_DIR.name)

    def events_folder(self, run_id: str, seed: int) -> Path:
        """A seed's TensorBoard folder, runs/<run_id>/seed-<n>/, created with no symlink on the way."""
        return output_folder(self.root, RUNS_DIR.name, valid_run_id(run_id), f"seed-{seed}")

    def save(self, record: RunRecord) -> None:
        self.write(record.run_id, record_text(record))

    def write(self, run_id: str, text: str) -> None:
        target = self.path(run_id)
        self.writable()
        tmp = self.folder / f".{run_id}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            tmp.write_text(text)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def load(self, run_id: str) -> RunRecord | None:
        """The record, or None when the id is invalid, there is no such run, or its file is not a valid record."""
        try:
            return parse_record(_read_record_text(self.path(run_id)), run_id)
        except (OSError, ValueError, UnicodeDecodeError):
            return None

    def candidates(self) -> list[str]:
        """File names under runs/ that may be records, newest first (run ids begin with their start time)."""
        try:
            names = [entry.name for entry in os.scandir(self.folder) if entry.name.endswith(".json")]
        except FileNotFoundError:
            return []
        except OSError as exc:  # runs/ is a file, or unreadable: no records, not a crash
            log.warning("cannot list %s: %s", self.folder, exc)
            return []
        return sorted((n for n in names if not n.startswith(".")), reverse=True)

    def read(self, name: str) -> RunRecord | Skipped:
        """The record in file `name`, or why it is not one."""
        try:
            run_id = valid_run_id(name.removesuffix(".json"))
            return parse_record(_read_record_text(self.folder / name), run_id)
        except ValidationError as exc:
            return Skipped(
                file=name,
                reason=f"not a run record: {exc.error_count()} invalid field(s), e.g. {exc.errors()[0]['msg']}",
            )
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            return Skipped(file=name, reason=f"{type(exc).__name__}: {exc}"[:300])

    def newest(self, limit: int | None = None) -> tuple[list[RunRecord], list[Skipped]]:
        """Up to `limit` valid records, newest first, and the files skipped on the way."""
        records: list[RunRecord] = []
        skipped: list[Skipped] = []
        for name in self.candidates():
            if limit is not None and len(records) >= limit:
                break
            item = self.read(name)
            if isinstance(item, Skipped):
                skipped.append(item)
            else:
                records.append(item)
        for item in skipped:
            log.warning("skipped %s under %s: %s", item.file, self.folder, item.reason)
        return records, skipped


class OwnerLock:
    """This server's claim on the runs folder: an fcntl lock held on runs/.owners/<owner>.lock.

    A record names the owner that ran it; a run whose owner's lock is still held belongs to a
    live server (maybe another process on the same root) and must not be marked interrupted."""

    def __init__(self, store: RunStore):
        self.root = store.root
        self.folder = store.folder / ".owners"
        self.name = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._fd: int | None = None

    def acquire(self) -> None:
        output_folder(self.root, RUNS_DIR.name, self.folder.name)
        self._fd = os.open(self.folder / f"{self.name}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def release(self) -> None:
        if self._fd is not None:
            (self.folder / f"{self.name}.lock").unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = None

    def alive(self, owner: str | None) -> bool:
        """Whether `owner` (a record's owner field) is a server holding its lock right now."""
        if owner is None or owner == self.name:
            return owner is not None and self._fd is not None
        try:
            fd = os.open(self.folder / f"{valid_run_id(owner)}.lock", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except (OSError, InvalidRunId):
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False


def owner_pid(owner: str | None) -> int | None:
    head = (owner or "").split("-")[0]
    return int(head) if head.isdigit() else None


def unknown_run_finding(run_id: str) -> dict[str, Any]:
    """The finding every tool gives for a run id that names no run (or no readable record)."""
    return finding(
        "unknown_run",
        ERROR,
        unknown_run_message(run_id),
        where=str(run_id)[:80],
        suggestion="Call list_runs() for the run ids of this project, or start_training to make one.",
    )
