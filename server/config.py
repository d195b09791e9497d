"""The server's options (docs/install.md, "Server options"), as one typed object."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal


@dataclass(frozen=True)
class ServerConfig:
    root: Path = field(default_factory=Path.cwd)  # harness paths are relative to it; nothing outside is imported
    python: str | None = None  # interpreter that runs the worker (torch, numpy); None: found (server/interpreter.py)
    timeout_s: float = 300.0  # default wall-clock limit of one tool call
    memory_limit_mb: float | None = 8192.0  # resident memory cap of one worker's process tree
    max_workers: int = 2  # tool calls that run user code at the same time; others queue
    warm_pool: bool = True  # keep a worker with torch imported, forking per call
    transport: Literal["stdio", "http"] = "stdio"
    host: str = "127.0.0.1"
    port: int = 8765
    auth_token: str | None = None  # bearer token for HTTP; required to bind a non-loopback host
    allowed_hosts: tuple[str, ...] = ()  # Host names accepted besides the machine's own (a proxy's name)
    threads_per_worker: int | None = None  # torch intra-op threads per worker; None: cores // max_workers
    executor: Literal["local", "ray"] = "local"  # where training seeds, grid chunks and ablations run
    ray_address: str | None = None  # --executor ray: None starts a local Ray instance; "auto", "ray://host:10001"
    ray_project_path: str | None = None  # the project's path on every Ray node (shared filesystem): no upload
