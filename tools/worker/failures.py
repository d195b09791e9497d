"""Turning what goes wrong inside a worker into findings an agent can act on.

An exception in the user's code becomes `user_code_error` naming the user's own frames
(not ours, not torch's) as `file:line`, with the offending source line. A broken contract
becomes `harness_error`, raised as `HarnessError` by whoever notices it.
"""

from __future__ import annotations

import linecache
import os
import traceback
from typing import Any

from ..wire.findings import ERROR, finding

_OUR_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the tools/ package
LINE_CHARS = 300  # of a source line or an exception message in a finding: a 1 MB line stays readable


def clip(text: str, limit: int = LINE_CHARS) -> str:
    return text if len(text) <= limit else f"{text[:limit]}[... {len(text)} characters]"


def text_of(exc: BaseException) -> str:
    """str(exc), which user code can make raise or return a megabyte."""
    try:
        return str(exc)
    except Exception as inner:  # a broken __str__ must not hide the exception itself
        return f"<str() of the exception raised {type(inner).__name__}>"


class HarnessError(Exception):
    """The harness breaks the contract (missing callable, wrong return type, ...)."""

    def __init__(self, message: str, *, where: str | None = None, suggestion: str | None = None):
        super().__init__(message)
        self.where = where
        self.suggestion = suggestion

    def to_finding(self) -> dict[str, Any]:
        return finding("harness_error", ERROR, str(self), where=self.where, suggestion=self.suggestion)


class DeviceUnavailable(Exception):
    def to_finding(self) -> dict[str, Any]:
        return finding(
            "device_unavailable",
            ERROR,
            str(self),
            suggestion='Call again with device="cpu" or device="auto".',
        )


def _is_user_file(filename: str, root: str) -> bool:
    path = os.path.abspath(filename)
    return path.startswith(root + os.sep) and not path.startswith(_OUR_DIR + os.sep) and "site-packages" not in path


def user_frames(exc: BaseException, root: str) -> list[dict[str, Any]]:
    """The traceback's frames that lie in the user's project, innermost last."""
    frames = []
    for summary in traceback.extract_tb(exc.__traceback__):
        if _is_user_file(summary.filename, root):
            frames.append(
                {
                    "where": f"{os.path.relpath(summary.filename, root)}:{summary.lineno}",
                    "function": summary.name,
                    "line": clip((summary.line or "").strip()),
                }
            )
    if isinstance(exc, SyntaxError) and exc.filename and _is_user_file(exc.filename, root):
        # A syntax error's location is not in the traceback: it is on the exception.
        text = exc.text or linecache.getline(exc.filename, exc.lineno or 0)
        frames.append(
            {
                "where": f"{os.path.relpath(exc.filename, root)}:{exc.lineno}",
                "function": "<module>",
                "line": clip(text.strip()),
            }
        )
    return frames


def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    return type(exc).__name__ == "OutOfMemoryError" or "out of memory" in text_of(exc)[:2000].lower()


def exception_finding(exc: BaseException, root: str, *, during: str | None = None) -> dict[str, Any]:
    """`user_code_error` (or `out_of_memory`) for an exception raised by the user's code."""
    frames = user_frames(exc, root)
    innermost = frames[-1] if frames else None
    kind = type(exc).__name__
    full = text_of(exc).strip()
    text = clip(full.splitlines()[0]) if full else ""
    if isinstance(exc, SystemExit):
        text = f"the code called sys.exit({clip(repr(exc.code), 100)}); a harness must return, not exit"
    prefix = f"while {during}: " if during else ""
    message = f"{prefix}{kind}: {text}" if text else f"{prefix}{kind}"
    if innermost:
        message += f" (at {innermost['where']}: {innermost['line']})"
    evidence = {"type": kind, "message": clip(full, 2000), "frames": frames[-8:]}
    if is_out_of_memory(exc):
        return finding(
            "out_of_memory",
            ERROR,
            message,
            where=innermost["where"] if innermost else None,
            evidence=evidence,
            suggestion="Use a smaller batch_size or model, or raise --memory-limit-mb.",
        )
    if not frames:
        # Nothing of the user's in the traceback: show the last frames so the cause is visible.
        evidence["frames"] = [
            {"where": f"{s.filename}:{s.lineno}", "function": s.name, "line": clip((s.line or "").strip())}
            for s in traceback.extract_tb(exc.__traceback__)[-4:]
        ]
    return finding(
        "user_code_error",
        ERROR,
        message,
        where=innermost["where"] if innermost else None,
        evidence=evidence,
        suggestion="Fix the exception at the named line, then call the tool again.",
    )
