"""`implement-paper-mcp`: parse the options and serve over stdio (default) or HTTP."""

from __future__ import annotations

import argparse
import logging
import os
import resource
import signal
import sys
from pathlib import Path

import anyio

from implement_paper.tools.runtime.ray_pool import check_cluster_access, import_ray

from .app import build_server
from .config import ServerConfig
from .http import InsecureBindError, serve_http
from .stdio import claim_stdio, serve_stdio

DESCRIPTION = """\
MCP server for implementing research papers from scratch: phase guides as prompts, and
diagnostics (overfit test, gradient check, LR sweep, ...) as tools.

WARNING: the tools RUN the Python code of the project under --root (the harness files an
agent points them at) in a worker subprocess, with a timeout and a memory cap. That is
isolation against accidents, not a security boundary: point it only at code you would run
yourself, and use a container or VM for code you do not trust.
"""


def parse_args(argv: list[str] | None = None) -> ServerConfig:
    parser = _build_parser(ServerConfig())
    ns = parser.parse_args(argv)
    _check_args(parser, ns)
    logging.basicConfig(
        level=ns.log_level.upper(), stream=sys.stderr, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    return _config(ns)


def _build_parser(defaults: ServerConfig) -> argparse.ArgumentParser:
    """The command line; the groups are added in the order `--help` lists them."""
    parser = argparse.ArgumentParser(
        prog="implement-paper-mcp", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    _add_project_options(parser, defaults)
    _add_worker_options(parser, defaults)
    _add_transport_options(parser, defaults)
    _add_executor_options(parser)
    parser.add_argument("--log-level", default="WARNING", help="stderr logging level (default: %(default)s)")
    return parser


def _add_project_options(parser: argparse.ArgumentParser, defaults: ServerConfig) -> None:
    """What code the tools run, and with which interpreter."""
    # Defaults read the working directory and the environment at parse time, not at import.
    parser.add_argument(
        "--root",
        type=Path,
        default=Path.cwd(),
        help=(
            "project root; harness paths are relative to it and nothing outside it is imported "
            "(default: current directory)"
        ),
    )
    parser.add_argument(
        "--python",
        default=os.environ.get("IMPLEMENT_PAPER_PYTHON") or defaults.python,
        help=(
            "interpreter that runs the worker; it needs torch (default: $IMPLEMENT_PAPER_PYTHON, else the first "
            "with torch of the project's .venv, venv, .conda, $VIRTUAL_ENV, $CONDA_PREFIX and this one)"
        ),
    )


def _add_worker_options(parser: argparse.ArgumentParser, defaults: ServerConfig) -> None:
    """Limits and concurrency of the worker processes that run user code."""
    parser.add_argument(
        "--timeout-s",
        type=float,
        default=defaults.timeout_s,
        help="default wall-clock limit per tool call (default: %(default)s)",
    )
    parser.add_argument(
        "--memory-limit-mb",
        type=float,
        default=defaults.memory_limit_mb,
        help="resident memory cap of one worker's process tree; 0 disables (default: %(default)s)",
    )
    parser.add_argument(
        "--max-workers",
        type=int,
        default=defaults.max_workers,
        help="tool calls running user code at once; others queue (default: %(default)s)",
    )
    parser.add_argument(
        "--threads-per-worker",
        type=int,
        default=None,
        help=(
            "torch intra-op threads of each worker (default: the cores this process may use, divided by --max-workers)"
        ),
    )
    parser.add_argument(
        "--no-warm-pool", action="store_true", help="start a fresh interpreter per call instead of forking a warm one"
    )


def _add_transport_options(parser: argparse.ArgumentParser, defaults: ServerConfig) -> None:
    """How clients reach the server: stdio, or HTTP with its bind address and access checks."""
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio", help="default: stdio")
    parser.add_argument("--host", default=defaults.host, help="HTTP bind address (default: %(default)s)")
    parser.add_argument("--port", type=int, default=defaults.port, help="HTTP port (default: %(default)s)")
    parser.add_argument(
        "--auth-token",
        default=os.environ.get("IMPLEMENT_PAPER_TOKEN"),
        help="bearer token every HTTP request must carry (default: $IMPLEMENT_PAPER_TOKEN)",
    )
    parser.add_argument(
        "--allowed-hosts",
        default="",
        help=(
            "comma-separated Host names HTTP clients may use besides this machine's own names and addresses, "
            "e.g. a proxy's name (name, name:port or name:*)"
        ),
    )


def _add_executor_options(parser: argparse.ArgumentParser) -> None:
    """Where the parallel pieces of a tool call (seeds, grid chunks, ablations) run."""
    parser.add_argument(
        "--executor",
        choices=["local", "ray"],
        default="local",
        help=(
            "where training seeds, lr_sweep grid chunks and ablations run: this machine's worker pool, "
            "or a Ray cluster (pip install 'implement-paper-mcp[ray]')"
        ),
    )
    parser.add_argument(
        "--ray-address",
        default=None,
        help=(
            "--executor ray: the cluster to join, 'auto' or 'ray://host:10001' (default: start a local Ray instance)"
        ),
    )
    parser.add_argument(
        "--ray-project-path",
        default=None,
        help="--executor ray: where the project is on every node (a shared filesystem), so nothing is uploaded",
    )


def _check_args(parser: argparse.ArgumentParser, ns: argparse.Namespace) -> None:
    """Refuse bad options before anything starts, with argparse's usage line."""
    if not ns.root.is_dir():
        parser.error(f"--root {ns.root} is not a directory")
    if ns.max_workers < 1:
        parser.error("--max-workers must be at least 1")
    if ns.timeout_s <= 0:
        parser.error("--timeout-s must be positive")
    if ns.threads_per_worker is not None and ns.threads_per_worker < 1:
        parser.error("--threads-per-worker must be at least 1")
    if ns.executor == "ray":
        try:
            import_ray()
        except RuntimeError as exc:
            parser.error(str(exc))


def _config(ns: argparse.Namespace) -> ServerConfig:
    return ServerConfig(
        root=ns.root.resolve(),
        python=ns.python,
        timeout_s=ns.timeout_s,
        memory_limit_mb=ns.memory_limit_mb or None,
        max_workers=ns.max_workers,
        warm_pool=not ns.no_warm_pool,
        transport=ns.transport,
        host=ns.host,
        port=ns.port,
        auth_token=ns.auth_token or None,
        allowed_hosts=tuple(h.strip() for h in ns.allowed_hosts.split(",") if h.strip()),
        threads_per_worker=ns.threads_per_worker,
        executor=ns.executor,
        ray_address=ns.ray_address,
        ray_project_path=ns.ray_project_path,
    )


def raise_fd_limit() -> None:
    """Use the hard limit on open files: each call needs a few pipes, each HTTP client a socket."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            pass


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    if config.executor == "ray" and config.ray_address:
        try:
            check_cluster_access(config.ray_address)
        except RuntimeError as exc:
            sys.exit(f"implement-paper-mcp: {exc}")
    wires = claim_stdio() if config.transport == "stdio" else None
    raise_fd_limit()
    # SIGTERM should unwind like Ctrl-C, so the lifespan kills every worker on the way out.
    signal.signal(signal.SIGTERM, _interrupt)
    server = build_server(config)
    try:
        if wires is not None:  # stdio
            anyio.run(serve_stdio, server, wires)
        else:
            anyio.run(serve_http, server, config)
    except InsecureBindError as exc:
        sys.exit(f"implement-paper-mcp: {exc}")
    except KeyboardInterrupt:
        pass
