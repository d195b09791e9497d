"""What the mechanism examples' tests share (examples/diffusion, dqn, mlm): the quick tools at their
defaults on the clean harness, the hand-worked cases of examples/<name>/cases.py, and the session."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from conftest import EXAMPLES, assert_clean, call, codes


def _module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


QUICK_TOOLS = _module(EXAMPLES / "agent.py", "example_agent").QUICK_TOOLS  # the worked sessions' own list


def cases(name: str) -> ModuleType:
    """examples/<name>/cases.py: KNOWN (function -> one hand-worked case) and BUGS (bug file -> function)."""
    return _module(EXAMPLES / name / "cases.py", f"{name}_cases")


async def clean_at_defaults(client, harness: str, tool: str) -> None:
    assert_clean(await call(client, tool, {"harness": harness}))


async def flagged(client, harness: str, tool: str, code: str) -> dict:
    """`tool` at its defaults on a planted bug warns with `code`; the finding, for its message."""
    result = await call(client, tool, {"harness": harness})
    assert code in codes(result, "warning") | codes(result, "error"), result["summary"]
    return next(f for f in result["findings"] if f["code"] == code)


async def known_value(client, harness: str, function: str, case: dict, *, matches: bool) -> None:
    result = await call(client, "check_known_values", {"harness": harness, "function": function, "cases": [case]})
    if matches:
        assert_clean(result)
    else:
        assert "known_value_mismatch" in codes(result, "error"), result["summary"]


def session_verdict(name: str, steps: int, tmp: Path) -> str:
    """Run examples/<name>/session.py on a copy of the folder; its last line (`reproduced: yes|no`)."""
    root = tmp / name
    shutil.copytree(EXAMPLES / name, root, ignore=shutil.ignore_patterns(".implement-paper", "__pycache__"))
    shutil.copy(EXAMPLES / "agent.py", tmp / "agent.py")
    done = subprocess.run(
        [sys.executable, str(root / "session.py"), "--steps", str(steps)], capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]
