"""Where a job finds its check: `check.py` of the tool package the request names (tools/<check>/check.py)."""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType

TOOLS = __package__.rpartition(".")[0]  # the tools package, whatever name the worker bootstrap gave it


def load(name: str) -> ModuleType:
    return importlib.import_module(f"{TOOLS}.{name}.check")


def names() -> list[str]:
    """Every tool package that has a worker side."""
    found = []
    for folder in sys.modules[TOOLS].__path__:
        found += [entry.name for entry in os.scandir(folder) if os.path.isfile(os.path.join(entry.path, "check.py"))]
    return sorted(found)
