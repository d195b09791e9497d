"""What one MCP message must be, checked before the SDK reads it, on every transport.

The SDK's stdio reader drops a line it cannot validate (the client then waits forever for its
answer), reads a request whose `id` is an object as a notification (no answer either), and its HTTP
transport answers with a bare status or a pydantic dump. `rpc_problem` names the error the JSON-RPC
2.0 spec gives each case instead, with the request's id when it has a usable one, so that each
transport can answer it and go on serving.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from mcp_types import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    PARSE_ERROR,
    ErrorData,
    JSONRPCError,
    jsonrpc_message_adapter,
)
from pydantic import ValidationError


@dataclass(frozen=True)
class RpcProblem:
    """Why a message was refused: the JSON-RPC error code, a message an agent can act on, the id."""

    code: int
    message: str
    request_id: str | int | None = None

    def answer(self) -> JSONRPCError:
        return JSONRPCError(jsonrpc="2.0", id=self.request_id, error=ErrorData(code=self.code, message=self.message))


def _usable_id(value: object) -> bool:
    # bool is an int to Python, never to JSON-RPC
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _envelope_problem(message: dict) -> RpcProblem | None:
    """The checks on the envelope itself, before its shape as request/notification/response."""
    request_id = message.get("id") if _usable_id(message.get("id")) else None
    if message.get("jsonrpc") != "2.0":
        got = str(message.get("jsonrpc"))[:20]
        return RpcProblem(INVALID_REQUEST, f'"jsonrpc" must be "2.0", got {got!r}', request_id)
    if "id" in message and request_id is None and not (message["id"] is None and "error" in message):
        return RpcProblem(INVALID_REQUEST, '"id" must be a string or an integer')
    if "params" in message and not isinstance(message["params"], dict):
        return RpcProblem(INVALID_PARAMS, "MCP params are an object (by name), not a list or a scalar", request_id)
    try:
        jsonrpc_message_adapter.validate_python(message, by_name=False)
    except ValidationError:
        shape = (
            'a request has a string "method" and an "id"; a notification, a "method" and no "id"; '
            'a response, "result" or "error"'
        )
        return RpcProblem(INVALID_REQUEST, f"not a JSON-RPC request, notification or response: {shape}", request_id)
    return None


def rpc_problem(data: bytes | str) -> RpcProblem | None:
    """Why `data` is not one JSON-RPC 2.0 message an MCP server reads; None when it is one."""
    try:
        message = json.loads(data)
    except ValueError as exc:
        return RpcProblem(PARSE_ERROR, f"not JSON: {str(exc)[:200]}")
    except RecursionError:
        return RpcProblem(PARSE_ERROR, "JSON nested too deeply to read")
    if isinstance(message, list):
        batch = "JSON-RPC batches are not supported (MCP removed them in 2025-06-18): send one message at a time"
        return RpcProblem(INVALID_REQUEST, batch)
    if not isinstance(message, dict):
        return RpcProblem(INVALID_REQUEST, "a JSON-RPC message is a JSON object")
    return _envelope_problem(message)
