"""Shared fixtures: a project root holding the fixture harnesses, and MCP clients on it.

The fixture harnesses in tests/harnesses/ are real PyTorch code, buggy and clean twins.
They are copied to a temporary root once per session so the tools' output folder
(.implement-paper/) never lands in the repository.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from implement_paper.server import ServerConfig, build_server
from implement_paper.tools.catalog import TOOLS  # noqa: F401 - every tool the server registers, for tests of their models

HARNESSES = Path(__file__).parent / "harnesses"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def project_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(HARNESSES, root, dirs_exist_ok=True)
    return root


# IMPLEMENT_PAPER_WARM_POOL=0 runs every test with a fresh interpreter per call (--no-warm-pool):
# the warm pool must be invisible to correctness.
WARM_POOL = os.environ.get("IMPLEMENT_PAPER_WARM_POOL", "1") != "0"


@asynccontextmanager
async def connect(root: Path, **config: Any) -> AsyncIterator[Client]:
    """An in-memory MCP client on a fresh server rooted at `root`."""
    server = build_server(ServerConfig(root=root, **{"warm_pool": WARM_POOL, **config}))
    async with Client(server, raise_exceptions=True) as client:
        yield client


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@asynccontextmanager
async def example_client(
    tmp_path_factory: pytest.TempPathFactory, name: str, timeout_s: float
) -> AsyncIterator[Client]:
    """A client on a server rooted at a copy of examples/<name>, so .implement-paper/ never lands in git."""
    root = tmp_path_factory.mktemp(name)
    shutil.copytree(
        EXAMPLES / name, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".implement-paper", "__pycache__")
    )
    async with connect(root, timeout_s=timeout_s) as client:
        yield client


@pytest.fixture(scope="session")
async def client(project_root: Path) -> AsyncIterator[Client]:
    """One server (and its warm worker) shared by the whole session: tests stay fast."""
    async with connect(project_root, timeout_s=120) as client:
        yield client


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Call a tool and return its structured result, failing loudly on a protocol error.
    A result whose status is "error" comes marked isError, with its structured content."""
    result = await client.call_tool(tool, arguments)
    assert result.structured_content is not None, result.content[0].text
    assert result.is_error == (result.structured_content["status"] == "error"), result.structured_content["summary"]
    return result.structured_content


def finding_of(result: dict[str, Any], code: str) -> dict[str, Any]:
    """The first finding with `code` (StopIteration when there is none)."""
    return next(f for f in result["findings"] if f["code"] == code)


def codes(result: dict[str, Any], severity: str | None = None) -> set[str]:
    return {f["code"] for f in result["findings"] if severity is None or f["severity"] == severity}


def assert_clean(result: dict[str, Any]) -> None:
    """A correct implementation gets no error and no warning: false alarms are bugs."""
    bad = [f for f in result["findings"] if f["severity"] in ("error", "warning")]
    assert result["status"] == "pass" and not bad, f"{result['summary']} {bad}"
