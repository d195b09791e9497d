"""Which interpreter runs the worker: one that has torch, preferably the project's own.

The server never imports torch, so under `uvx` its own environment has none: the worker has
to run where the user's torch is. Without `--python`, that is the first of the project's
`.venv`, `venv` and `.conda`, then the active `$VIRTUAL_ENV` and `$CONDA_PREFIX`, then the
server's own interpreter, that can import torch and numpy. The search runs each time a worker
starts, so an environment made after the server started is found without a restart. Probing an
interpreter starts it (about 0.1 s), so each answer is kept until the environment changes: its
interpreter file or its site-packages folders (which change when a package is installed or removed).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

from implement_paper.tools.runtime.runner import WorkerStartError

WORKER_MODULES = ("torch", "numpy")
PROJECT_ENVS = (".venv", "venv", ".conda")
PROBE_TIMEOUT_S = 30.0  # an interpreter start on a loaded machine; find_spec imports nothing
# Prints the modules the interpreter lacks; find_spec locates a package without importing it.
PROBE = "import importlib.util as u, sys; sys.stdout.write(' '.join(m for m in sys.argv[1:] if u.find_spec(m) is None))"


def candidates(root: Path) -> list[tuple[str, Path]]:
    """(where it came from, interpreter path), in the order they are tried, without repeats."""
    found = [(f"the project's {name}", root / name / "bin" / "python") for name in PROJECT_ENVS]
    found += [
        (f"${var}", Path(os.environ[var]) / "bin" / "python")
        for var in ("VIRTUAL_ENV", "CONDA_PREFIX")
        if os.environ.get(var)
    ]
    found.append(("the server's own", Path(sys.executable)))
    first: dict[Path, str] = {}  # $VIRTUAL_ENV is often the project's .venv, or the server's own
    for origin, path in found:
        first.setdefault(path, origin)
    return [(origin, path) for path, origin in first.items()]


def environment_state(python: Path) -> tuple:
    """What changes when `python`'s environment is made again or a package is added or removed."""
    try:
        own = os.lstat(python)
    except OSError:
        return ()
    site = sorted(python.parent.parent.glob("lib*/python3*/site-packages"))
    return (own.st_ino, own.st_mtime_ns, *((str(folder), folder.stat().st_mtime_ns) for folder in site))


def _verdict(missing: list[str]) -> str | None:
    return f"no {' and no '.join(missing)}" if missing else None


@lru_cache(maxsize=64)
def _probe(python: Path, state: tuple, modules: tuple[str, ...]) -> str | None:
    """Why `python` cannot run the worker, asked of a fresh interpreter and kept for each `state`.
    Raises OSError when it did not run: that is not kept, a loaded machine may time out once."""
    try:
        command = [str(python), "-c", PROBE, *modules]
        done = subprocess.run(command, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise OSError(str(exc)) from None
    if done.returncode != 0:
        raise OSError(f"exit status {done.returncode}")
    return _verdict(done.stdout.split())


def why_not(python: Path) -> str | None:
    """Why `python` cannot run the worker, or None when it can."""
    if python == Path(sys.executable):
        return _verdict([name for name in WORKER_MODULES if importlib.util.find_spec(name) is None])
    if not python.exists():
        return "not there"
    try:
        return _probe(python, environment_state(python), WORKER_MODULES)
    except OSError as exc:
        return f"did not run: {exc}"


def find_worker_python(root: Path) -> str:
    """The first candidate that can run the worker; WorkerStartError naming each one tried."""
    tried = []
    for origin, python in candidates(root):
        reason = why_not(python)
        if reason is None:
            return str(python)
        tried.append(f"{python} ({origin}: {reason})")
    raise WorkerStartError(
        "No interpreter with torch to run the worker. Tried: " + "; ".join(tried) + ". "
        "Make the project's environment with torch and numpy (a CPU build: `uv venv .venv && uv pip "
        "install --python .venv torch numpy --torch-backend cpu`; or your CUDA build), then call the "
        "tool again; or start the server with --python PATH (or IMPLEMENT_PAPER_PYTHON=PATH)."
    )
