"""Which interpreter runs the worker: one that has torch, preferably the project's own.

The server never imports torch, so under `uvx` its own environment has none: the worker has
to run where the user's torch is. Without `--python`, that is the first of the project's
`.venv`, `venv` and `.conda`, then the active `$VIRTUAL_ENV` and `$CONDA_PREFIX`, then the
server's own interpreter, that can import torch and numpy. The search runs each time a worker
starts, so an environment made after the server started is found without a restart.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from implement_paper.tools.runner import WorkerStartError

WORKER_MODULES = ("torch", "numpy")
PROJECT_ENVS = (".venv", "venv", ".conda")
PROBE_TIMEOUT_S = 30.0  # an interpreter start on a loaded machine; find_spec imports nothing
# Prints the modules the interpreter lacks; find_spec locates a package without importing it.
PROBE = "import importlib.util as u, sys; sys.stdout.write(' '.join(m for m in sys.argv[1:] if u.find_spec(m) is None))"


def candidates(root: Path) -> list[tuple[str, Path]]:
    """(where it came from, interpreter path), in the order they are tried, without repeats."""
    found = [(f"the project's {name}", root / name / "bin" / "python") for name in PROJECT_ENVS]
    found += [(f"${var}", Path(os.environ[var]) / "bin" / "python") for var in ("VIRTUAL_ENV", "CONDA_PREFIX") if os.environ.get(var)]
    found.append(("the server's own", Path(sys.executable)))
    first: dict[Path, str] = {}  # $VIRTUAL_ENV is often the project's .venv, or the server's own
    for origin, path in found:
        first.setdefault(path, origin)
    return [(origin, path) for path, origin in first.items()]


def why_not(python: Path) -> str | None:
    """Why `python` cannot run the worker, or None when it can."""
    if python == Path(sys.executable):
        missing = [name for name in WORKER_MODULES if importlib.util.find_spec(name) is None]
    elif not python.exists():
        return "not there"
    else:
        try:
            done = subprocess.run(
                [str(python), "-c", PROBE, *WORKER_MODULES], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"did not run: {exc}"
        if done.returncode != 0:
            return f"did not run: exit status {done.returncode}"
        missing = done.stdout.split()
    return f"no {' and no '.join(missing)}" if missing else None


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
