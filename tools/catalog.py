"""Every runner tool the server exposes, in the order an agent meets them."""

from __future__ import annotations

from . import overfit
from .harness_tool import HarnessTool

HARNESS_TOOLS: list[HarnessTool] = [
    overfit.TOOL,
]
