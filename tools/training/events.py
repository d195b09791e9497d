"""TensorBoard event files for training runs, written by the server from what workers stream.

`tensorboard --logdir .implement-paper/runs` then lists every run and seed
(runs/<run_id>/seed-<n>/events.out.tfevents...). The writer is TensorBoard's own
(the `tensorboard` optional extra: pip install "implement-paper-mcp[tensorboard]"); it
needs protobuf, not torch, so the server stays torch-free. Without the extra no events are
written and nothing else changes. Its writer queues events and writes them on a thread of its
own, so logging from the event loop never waits on the disk; opening and closing (which touch
the disk) go through anyio.to_thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..wire.run_caps import MAX_METRICS, MAX_TERMS

log = logging.getLogger(__name__)

# The workers send at most this many names (tools/wire/run_caps.py); a worker that sends more
# does not get to grow the event files without bound.
MAX_TAGS = 2 + MAX_METRICS + MAX_TERMS  # loss, lr, metrics/*, terms/*


def tensorboard_available() -> bool:
    try:
        import tensorboard.summary.writer.event_file_writer  # noqa: F401
    except ImportError:
        return False
    return True


class EventLog:
    """Scalars of one seed, as TensorBoard events in a folder that `make_folder` creates (checked by the
    run store: no symlink on the way) when the log opens. Open it with `open()` (blocking)."""

    def __init__(self, make_folder: Callable[[], Path]):
        self.make_folder = make_folder
        self.folder: Path | None = None
        self.tags: set[str] = set()
        self._writer: Any = None

    def open(self) -> bool:
        """Create the event file; False when the tensorboard extra is not installed."""
        if not tensorboard_available():
            return False
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self.folder = self.make_folder()
        self._writer = EventFileWriter(str(self.folder))
        return True

    def scalars(self, tag: str, steps: list[int], values: list[float | None]) -> None:
        """One point per step; null (NaN/Inf) values are left out."""
        if self._writer is None or not self._tag_kept(tag):
            return
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary

        now = time.time()
        for step, value in zip(steps, values):
            if value is not None:
                summary = Summary(value=[Summary.Value(tag=tag, simple_value=float(value))])
                self._writer.add_event(Event(wall_time=now, step=int(step), summary=summary))

    def _tag_kept(self, tag: str) -> bool:
        if tag not in self.tags and len(self.tags) >= MAX_TAGS:
            return False
        self.tags.add(tag)
        return True

    def write(self, data: dict[str, Any]) -> None:
        """What a worker's progress data holds: per-step loss and terms, the lr, evaluations."""
        points = data.get("points") or {}
        steps = points.get("step") or []
        self.scalars("loss", steps, points.get("loss") or [])
        for name, values in (points.get("terms") or {}).items():
            self.scalars(f"terms/{name}", steps, values)
        for step, lr in points.get("lr") or []:
            self.scalars("lr", [step], [lr])
        for point in data.get("history") or []:
            for name, value in point["metrics"].items():
                self.scalars(f"metrics/{name}", [point["step"]], [value])

    def close(self) -> None:
        if self._writer is not None:
            try:
                self._writer.close()
            except OSError as exc:  # a full disk must not fail the run whose events these are
                log.warning("could not close TensorBoard events under %s: %s", self.folder, exc)
            self._writer = None
