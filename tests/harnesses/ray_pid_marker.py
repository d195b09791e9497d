"""A slow training run that writes its pid, so a test can find and kill the job's process."""

import os
import time
from pathlib import Path

from train_clean import build_model, evaluate, get_batch, get_train_batch as _fresh_batch, num_classes  # noqa: F401


def get_train_batch(batch_size: int, step: int):
    if step == 0:
        marks = Path(os.environ.get("PID_MARK_DIR", "pids"))
        marks.mkdir(exist_ok=True)
        (marks / str(os.getpid())).write_text("")
    time.sleep(0.02)  # slow enough to be cancelled mid-run
    return _fresh_batch(batch_size, step)
