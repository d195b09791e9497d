"""A slow training run whose job starts, at its first step, a child and a detached (setsid)
grandchild, and writes the three pids, so a test can check that none outlives a cancel."""

import os
import subprocess
import time
from pathlib import Path

from train_clean import build_model, evaluate, get_batch, get_train_batch as _fresh_batch, num_classes  # noqa: F401


def _spawn(marks: Path) -> None:
    child = subprocess.Popen(["sleep", "3600"])
    daemon = os.fork()
    if daemon == 0:
        os.setsid()
        if os.fork() == 0:
            (marks / str(os.getpid())).write_text("grandchild")
            time.sleep(3600)
        os._exit(0)
    os.waitpid(daemon, 0)
    for pid in (os.getpid(), child.pid):
        (marks / str(pid)).write_text("")


def get_train_batch(batch_size: int, step: int):
    if step == 0:
        marks = Path(os.environ.get("PID_MARK_DIR", "pids"))
        marks.mkdir(exist_ok=True)
        _spawn(marks)
    time.sleep(0.02)  # slow enough to be cancelled mid-run
    return _fresh_batch(batch_size, step)
