"""The messages between the server and its workers, and how they are framed.

Both sides import this module, so it is standard library only.

Two channels exist:
* the zygote socket (AF_UNIX, SOCK_SEQPACKET): one datagram per message, so no framing is
  needed, and file descriptors travel with a job request (SCM_RIGHTS);
* a job's result pipe: JSON lines written by the job child, read by the server. It is a
  pipe of its own so that whatever the user's code prints to fd 1 or fd 2 can never be
  mistaken for a result.
"""

from __future__ import annotations

import json
import math
import os
import socket
from typing import Any

MAX_DATAGRAM = 1 << 20  # job requests and zygote replies are small; 1 MiB is generous

# zygote socket, server -> zygote
JOB = "job"  # {"type": "job", "id", "request": {...}} with fds [stdout_w, stderr_w, result_w]
# zygote socket, zygote -> server
READY = "ready"  # {"type": "ready"}: torch is imported, jobs can come
STARTED = "started"  # {"type": "started", "id", "pid"}
EXITED = "exited"  # {"type": "exited", "id", "returncode", "peak_rss_mb", "killed_for_memory"}
# result pipe, job child -> server
PROGRESS = "progress"  # {"type": "progress", "done", "total", "message", "data"?}
RESULT = "result"  # {"type": "result", "payload": {...}}


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


def send(sock: socket.socket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    if fds:
        socket.send_fds(sock, [encode(message)], fds)
    else:
        sock.send(encode(message))


def write_line(fd: int, message: dict[str, Any]) -> None:
    """Write one JSON line to a pipe, all of it even if the pipe takes it in pieces."""
    data = encode(message) + b"\n"
    while data:
        data = data[os.write(fd, data) :]
