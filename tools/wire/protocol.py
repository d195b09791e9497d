"""How the messages between the server and its workers (messages.py) are framed.

Both sides import this module, so it is standard library only.

Two channels exist:
* the zygote socket (AF_UNIX, SOCK_SEQPACKET): one datagram per message, so no framing is
  needed, and file descriptors travel with a job request (SCM_RIGHTS). A datagram must fit
  the socket's send buffer (about 200 KB), so the job's request itself, whose model_kwargs
  can be any size, travels as a file: a memfd passed with the message;
* a job's result pipe: JSON lines written by the job child, read by the server. It is a
  pipe of its own so that whatever the user's code prints to fd 1 or fd 2 can never be
  mistaken for a result.
"""

from __future__ import annotations

import json
import math
import os
import socket
import tempfile
from typing import Any

from .messages import JobRequest, Message

MAX_DATAGRAM = 1 << 16  # zygote messages are small: the request travels in its own file
MAX_STRING_CHARS = 4000  # any string from the user's code is cut to this before it enters a result


def finite_or_none(value: Any) -> Any:
    """Replace NaN/Inf by None, recursively: JSON has no NaN, and JavaScript clients
    reject the `NaN` token Python would write. Findings say where a value went non-finite."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    return value


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(finite_or_none(message), allow_nan=False, default=str).encode()


def decode(data: bytes) -> dict[str, Any]:
    return json.loads(data)


def send(sock: socket.socket, message: Message, fds: list[int] | None = None) -> None:
    if fds:
        socket.send_fds(sock, [encode(message.to_dict())], fds)
    else:
        sock.send(encode(message.to_dict()))


def request_file(request: JobRequest) -> int:
    """A file descriptor holding the request's JSON, to pass with the job message."""
    fd = os.memfd_create("implement-paper-request", os.MFD_CLOEXEC) if hasattr(os, "memfd_create") else _temp_fd()
    view = memoryview(encode(request.to_dict()))
    while view:
        view = view[os.write(fd, view) :]
    return fd


def _temp_fd() -> int:
    """Where there is no memfd (macOS): a temporary file."""
    with tempfile.TemporaryFile() as f:  # unlinked at once; the fd keeps it alive
        return os.dup(f.fileno())


def read_request(fd: int) -> Any:
    """The JSON request_file() wrote, read from the start whatever the fd's offset; messages.read checks it."""
    chunks, offset = [], 0
    while chunk := os.pread(fd, 1 << 20, offset):
        chunks.append(chunk)
        offset += len(chunk)
    os.close(fd)
    return decode(b"".join(chunks))


def clip_strings(value: Any, limit: int = MAX_STRING_CHARS) -> Any:
    """Cut every string in a JSON value to `limit` characters, saying how long it was."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + f" [... cut, {len(value)} characters in all]"
    if isinstance(value, dict):
        return {clip_strings(k, limit): clip_strings(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [clip_strings(v, limit) for v in value]
    return value


def write_line(fd: int, message: Message) -> None:
    """Write one message as a JSON line to a pipe, all of it even if the pipe takes it in pieces."""
    data = encode(message.to_dict()) + b"\n"
    while data:
        data = data[os.write(fd, data) :]
