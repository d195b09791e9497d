"""build_server(): the MCP server, wired from the tools and prompts packages.

Only wiring lives here. The lifespan owns the worker pool, so every worker process is
killed when the server stops, whatever the transport.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations

from implement_paper.prompts import register_prompts
from implement_paper.tools.catalog import HARNESS_TOOLS
from implement_paper.tools.harness_tool import Runtime
from implement_paper.tools.runner import WorkerPool

from .config import ServerConfig
from .tool_adapter import harness_tool_function

INSTRUCTIONS = """\
Helps implement a research paper from scratch, checkably. Start with the prompt
`implement_paper` (or read guide://implement_paper). Write a harness file in the project
(build_model, get_batch; see the prompt `harness_guide`), then check each step with the tools:
inspect_data -> inspect_model -> check_initialization -> run_overfit_test -> gradient_check
-> lr_sweep -> start_training -> compare_metrics. Every result has status, summary, findings
(stable codes) and compact details. The tools RUN the user's code in a subprocess.
"""

# Runner tools execute the user's code and write files under .implement-paper/: not
# read-only, but they delete nothing, and the same seed gives the same answer.
RUNNER_ANNOTATIONS = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)


def build_server(config: ServerConfig | None = None) -> MCPServer:
    config = config or ServerConfig()
    root = config.root.resolve()

    @asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[Runtime]:
        async with WorkerPool(
            python=config.python, root=root, max_workers=config.max_workers, warm=config.warm_pool
        ) as pool:
            yield Runtime(root=root, pool=pool, timeout_s=config.timeout_s, memory_limit_mb=config.memory_limit_mb)

    server = MCPServer("implement-paper", instructions=INSTRUCTIONS, lifespan=lifespan)
    for tool in HARNESS_TOOLS:
        server.add_tool(harness_tool_function(tool), name=tool.name, annotations=RUNNER_ANNOTATIONS)
    register_prompts(server)
    return server
