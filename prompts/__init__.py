"""Phase guides served as MCP prompts (with arguments) and as guide://<name> resources.

The text lives in the Markdown files of this package; catalog.py says which exist and how
they render. This module only wires them into an MCPServer.
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.prompts.base import Prompt, PromptArgument
from mcp.server.mcpserver.resources import TextResource
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from .catalog import CATALOG, PROMPTS, PromptArgumentError, PromptSpec, render, render_reference

__all__ = ["CATALOG", "PROMPTS", "PromptSpec", "register_prompts", "render"]


def _prompt(spec: PromptSpec) -> Prompt:
    async def fn(**arguments: str) -> str:
        try:
            return render(spec.name, arguments)
        except PromptArgumentError as exc:
            # An MCPError reaches the client with its message; any other exception is
            # replaced by the SDK with a generic "Error rendering prompt".
            raise MCPError(INVALID_PARAMS, str(exc)) from exc

    # Built directly rather than via Prompt.from_function: the argument list comes from
    # the catalog, not from a Python signature.
    return Prompt(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        arguments=[PromptArgument(name=a.name, description=a.description, required=a.required) for a in spec.arguments],
        fn=fn,
    )


def register_prompts(server: MCPServer) -> None:
    """Add every guide to `server` as a prompt and as a text/markdown resource guide://<name>."""
    for spec in PROMPTS:
        server.add_prompt(_prompt(spec))
        server.add_resource(
            TextResource(
                uri=f"guide://{spec.name}",
                name=spec.name,
                title=spec.title,
                description=spec.description,
                mime_type="text/markdown",
                text=render_reference(spec.name),
            )
        )
