"""Confinement of the files the server itself reads and writes under <root>/.implement-paper/.

What lies there may come with a cloned repository or be made by the user's code, so a path
read from disk is never followed blindly: a file is read only when its real path is the path
asked for, inside the output folder (no absolute path, no `..`, no symlink on the way), and
it is opened without following a final link or blocking on a FIFO. Before anything is written,
every folder from the root down to the target is checked not to be a symlink, so a linked
`.implement-paper/` or `runs/` cannot send records, plots or reports elsewhere.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

OUTPUT_DIR = Path(".implement-paper")  # relative to the project root: every file the server writes


class UnsafePath(ValueError):
    """A path under the output folder that leaves it or passes through a symlink."""


def read_regular(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file, opened without following links or blocking on a FIFO."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file")
        if info.st_size > max_bytes:
            raise ValueError(f"{info.st_size} bytes, over the {max_bytes}-byte limit")
        return handle.read()


def inside_output(root: Path, relative: str) -> Path:
    """`root/relative` when it lies under <root>/.implement-paper/ with no symlink or `..` on the way;
    UnsafePath otherwise."""
    base = root.resolve()
    path = base / relative
    if not path.is_relative_to(base / OUTPUT_DIR) or path.resolve() != path:
        raise UnsafePath(
            f"{relative[:200]!r} is not a file of this project's {OUTPUT_DIR}/ (absolute, `..` or a symlink)"
        )
    return path


def read_output(root: Path, relative: str, max_bytes: int) -> bytes:
    """A file the server wrote, named by a path read from disk: confined, regular, bounded."""
    return read_regular(inside_output(root, relative), max_bytes)


def output_folder(root: Path, *names: str) -> Path:
    """<root>/.implement-paper/<names...>, created, after checking that neither .implement-paper/
    nor any folder below it on the way is a symlink (a link made before the server started, or
    by the user's code since)."""
    steps = [root / OUTPUT_DIR]
    for name in names:
        steps.append(steps[-1] / name)
    for step in steps:
        if step.is_symlink():
            raise UnsafePath(
                f"{step} is a symlink: the server writes its records, plots and reports only inside the "
                "project root; replace the link with a real folder (or remove it)"
            )
    steps[-1].mkdir(parents=True, exist_ok=True)
    return steps[-1]
