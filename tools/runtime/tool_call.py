"""What every tool's MCP function does once the SDK has checked its typed parameters.

Each tool module declares a typed async function (its parameters the tool's arguments, its
return annotation `Annotated[CallToolResult, <result model>]`, from which the SDK derives the
input and output schemas) that hands its arguments to `call_tool`. It builds the tool's
arguments model from them, so cross-field rules hold too, and refuses unknown arguments. The
result goes back as structured content (schema: the tool's result model), a JSON text copy for
clients that read only text, and any plots as PNG images (tools/runtime/artifacts.py saves
them). A result whose status is "error" (the check could not run) is marked isError, with its
structured content kept.
Whatever goes wrong in the server while a call runs becomes an `internal_error` envelope
that says what happened, never a bare "Error executing tool".
"""

from __future__ import annotations

import base64
import logging
import time
from typing import Any, cast

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, ImageContent, TextContent
from pydantic import BaseModel, ValidationError

from ..wire.findings import ERROR, finding
from .artifacts import plots_for
from .dispatch import error_result
from .envelope import ToolResult
from .tool import Runtime, Tool

log = logging.getLogger(__name__)


def validation_message(error: ValidationError) -> str:
    """One line per bad argument, in words an agent can act on."""
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "arguments"
        lines.append(f"- {where}: {item['msg']}")
    return "Invalid arguments:\n" + "\n".join(lines)


def reject_unknown(model: type[BaseModel], ctx: Context) -> None:
    """Refuse arguments the tool does not take. The SDK validates against the signature
    and silently drops extra keys, so a misspelt `step` for `steps` would run with the
    default; we look at the raw request instead."""
    raw = (ctx.request_context.params or {}).get("arguments") or {}
    unknown = sorted(set(raw) - set(model.model_fields))
    if unknown:
        raise ToolError(
            "Invalid arguments:\n"
            + "".join(f"- {name}: not an argument of this tool\n" for name in unknown)
            + f"It takes: {', '.join(model.model_fields)}"
        )


def validate(model: type[BaseModel], arguments: dict[str, Any]) -> BaseModel:
    try:
        return model.model_validate(arguments)
    except ValidationError as exc:
        raise ToolError(validation_message(exc)) from None


def runtime_of(ctx: Context) -> Runtime:
    return cast(Runtime, ctx.request_context.lifespan_context)  # what the lifespan yields (server/app.py)


def progress_reporter(ctx: Context):
    async def report(done: float, total: float | None, message: str | None) -> None:
        await ctx.report_progress(done, total, message)

    return report


def wire_result(result: ToolResult, pngs: list[bytes]) -> CallToolResult:
    """The wire form of a result: structured content, its JSON as text, and its plots as images."""
    images = [ImageContent(type="image", data=base64.b64encode(png).decode(), mime_type="image/png") for png in pngs]
    return CallToolResult(
        content=[TextContent(type="text", text=result.model_dump_json(exclude_none=True)), *images],
        structured_content=result.model_dump(mode="json"),
        is_error=result.status == "error",
    )


def internal_failure(tool: Tool, exc: Exception, started: float) -> ToolResult:
    """The envelope for a failure of the server itself while it ran a call."""
    log.error("tool %s failed inside the server", tool.name, exc_info=exc)
    message = f"the server failed while running {tool.name}: {type(exc).__name__}: {str(exc)[:500]}"
    suggestion = "Call the tool again; if it fails the same way, report it with the server's stderr log."
    return error_result(tool.result, finding("internal_error", ERROR, message, suggestion=suggestion), started)


async def call_tool(tool: Tool, ctx: Context, parameters: dict[str, Any]) -> CallToolResult:
    """Run `tool` on the parameters its typed function received: its `locals()`, of which the arguments
    model's fields are taken (not the context, nor a closure's free variables)."""
    reject_unknown(tool.args, ctx)
    args = validate(tool.args, {name: parameters[name] for name in tool.args.model_fields if name in parameters})
    runtime = runtime_of(ctx)
    started = time.perf_counter()
    try:
        result = await tool.invoke(args, runtime, progress_reporter(ctx))
        return wire_result(result, await plots_for(runtime.root, tool.name, result, tool.plot))
    except Exception as exc:  # e.g. out of file descriptors: say so, keep serving
        return wire_result(internal_failure(tool, exc, started), [])
