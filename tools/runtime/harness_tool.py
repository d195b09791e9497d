"""`harness_tool()`, which declares a runner tool: its name, the worker module that does the
work (tools/<check>/check.py), an arguments model (a subclass of `HarnessArgs`, tools/runtime/harness_args.py),
a result model and its typed function (parameters: the shared aliases, then the tool's own). Calling it
runs the check through tools/runtime/dispatch.py. The check reads the model's own fields (`check_args()`)
as its request type, `messages.CHECK_REQUESTS[check]`: a field added to the model is added there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from .dispatch import execute
from .envelope import ToolResult
from .harness_args import HarnessArgs
from .runner import ProgressCallback
from .tool import PlotFn, Runtime, Tool


def harness_tool(
    name: str,
    check: str,
    args: type[HarnessArgs],
    result: type[ToolResult],
    description: str,
    function: Callable[..., Awaitable[Any]],
    plot: PlotFn | None = None,
) -> Tool:
    """A tool that runs the worker module tools/<check>/check.py on the user's harness."""

    async def invoke(arguments: HarnessArgs, runtime: Runtime, progress: ProgressCallback | None) -> ToolResult:
        return await execute(check, name, result, arguments, runtime, progress)

    return Tool(
        name=name, args=args, result=result, description=description, invoke=invoke, function=function, plot=plot
    )
