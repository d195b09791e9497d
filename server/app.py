"""build_server(): the MCP server, wired from the tools and prompts packages.

Only wiring lives here. The lifespan owns the worker pool and the training-jobs service, so
every worker process is killed and every run stopped when the server stops, whatever the
transport; the training tools reach that service through the runtime each call gets.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from functools import partial

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations

from implement_paper.prompts import register_prompts
from implement_paper.tools.catalog import TOOLS
from implement_paper.tools.runtime.ray_pool import RayOptions, RayPool
from implement_paper.tools.runtime.run_store import RunStore
from implement_paper.tools.runtime.runner import WorkerPool
from implement_paper.tools.runtime.tool import Runtime, Tool
from implement_paper.tools.training.tool import TrainingJobs

from .config import ServerConfig
from .interpreter import find_worker_python

INSTRUCTIONS = """\
Helps implement a research paper from scratch, checkably. Start with the prompt
`implement_paper` (or read guide://implement_paper). Write a harness file in the project
(build_model, get_batch; see the prompt `harness_guide`), then check each step with the tools:
inspect_data -> inspect_model -> check_initialization -> run_overfit_test -> gradient_check
-> lr_sweep -> start_training -> compare_metrics. Every result has status, summary, findings
(stable codes) and compact details. The tools RUN the user's code in a subprocess.
"""


def annotations_of(tool: Tool) -> ToolAnnotations:
    # Runner tools execute the user's code and write files under .implement-paper/, so
    # they are not read-only; they delete nothing unless marked destructive.
    return ToolAnnotations(
        read_only_hint=tool.read_only,
        destructive_hint=tool.destructive,
        idempotent_hint=not tool.destructive,
        open_world_hint=False,
    )


def executor_for(config: ServerConfig, root, pool: WorkerPool):
    """Where the work that fans out runs: the local pool itself, or a Ray cluster."""
    if config.executor == "local":
        return nullcontext(pool)
    options = RayOptions(address=config.ray_address, project_path=config.ray_project_path)
    return RayPool(root=root, options=options, threads_per_job=pool.threads_per_job())


def build_server(config: ServerConfig | None = None) -> MCPServer:
    config = config or ServerConfig()
    root = config.root.resolve()
    runs = RunStore(root)
    jobs = TrainingJobs(runs)

    @asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[Runtime[TrainingJobs]]:
        async with (
            WorkerPool(
                python=config.python or partial(find_worker_python, root),
                root=root,
                max_workers=config.max_workers,
                warm=config.warm_pool,
                threads_per_worker=config.threads_per_worker,
            ) as pool,
            executor_for(config, root, pool) as executor,
            jobs,
        ):
            yield Runtime(
                root=root,
                pool=pool,
                timeout_s=config.timeout_s,
                memory_limit_mb=config.memory_limit_mb,
                executor=executor,
                runs=runs,
                jobs=jobs,
            )

    server = MCPServer("implement-paper", instructions=INSTRUCTIONS, lifespan=lifespan)
    for tool in TOOLS:
        server.add_tool(tool.function, name=tool.name, description=tool.description, annotations=annotations_of(tool))
    register_prompts(server)
    return server
