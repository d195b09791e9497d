"""A cgroup v2 per job, where this machine lets us make one: the strongest way to end a tree.

A process can leave its job's process group and session (setsid), and a chain of them can
outrun any sweep that kills what it sees and looks again. It cannot leave its cgroup:
every process the job starts is born in the job's cgroup, and writing "1" to `cgroup.kill`
kills them all at once (Linux 5.14+; before that we kill what `cgroup.procs` lists until
it is empty). Where no cgroup v2 hierarchy is mounted, or our own cgroup is not writable
(most unprivileged desktops outside a systemd delegation), `create()` returns None and the
zygote's subreaper sweep (zygote.py) is the only mechanism.

Standard library only: the server imports this too, to kill a job's cgroup when the
zygote that made it has died. IMPLEMENT_PAPER_CGROUPS=0 turns cgroups off (tests use it to
exercise the sweep on machines that have them).
"""

from __future__ import annotations

import os
import signal

PREFIX = "implement-paper-"


def _mount_point() -> str | None:
    """Where the cgroup v2 hierarchy is mounted with its root, e.g. /sys/fs/cgroup."""
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                fields = line.split()
                separator = fields.index("-")
                if fields[separator + 1] == "cgroup2" and fields[3] == "/":
                    return fields[4]
    except (OSError, ValueError, IndexError):
        pass
    return None


def _own_cgroup() -> str | None:
    """This process's cgroup v2 path ("0::/a/b" in /proc/self/cgroup)."""
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                if line.startswith("0::"):
                    return line[3:].strip()
    except OSError:
        pass
    return None


def own_dir() -> str | None:
    """This process's cgroup v2 directory, or None without cgroup v2."""
    mount, own = _mount_point(), _own_cgroup()
    if mount is None or own is None:
        return None
    path = os.path.join(mount, own.lstrip("/"))
    return path if os.path.isdir(path) else None


def base_dir() -> str | None:
    """The directory job cgroups are made in (our own cgroup), or None without cgroup v2."""
    if os.environ.get("IMPLEMENT_PAPER_CGROUPS", "1") == "0":
        return None
    return own_dir()


def create(base: str | None, name: str) -> str | None:
    """Make the cgroup `base/<PREFIX><name>`; None when that is not allowed here."""
    if base is None:
        return None
    path = os.path.join(base, PREFIX + name)
    try:
        os.mkdir(path)
    except OSError:
        return None
    return path


def made_by(zygote_pid: int) -> list[str]:
    """The cgroups a zygote made (their names start with its pid), for when it died without removing them."""
    base = base_dir()
    if base is None:
        return []
    try:
        names = os.listdir(base)
    except OSError:
        return []
    return [os.path.join(base, name) for name in names if name.startswith(f"{PREFIX}{zygote_pid}-")]


def enter(path: str) -> bool:
    """Move the calling process into the cgroup at `path` (its children are born there)."""
    try:
        with open(os.path.join(path, "cgroup.procs"), "w") as f:
            f.write("0")
        return True
    except OSError:
        return False


def members(path: str) -> list[int]:
    try:
        with open(os.path.join(path, "cgroup.procs")) as f:
            return [int(pid) for pid in f.read().split()]
    except (OSError, ValueError):
        return []


def kill(path: str) -> None:
    """SIGKILL every process in the cgroup."""
    try:
        with open(os.path.join(path, "cgroup.kill"), "w") as f:
            f.write("1")
        return
    except OSError:
        pass  # no cgroup.kill before Linux 5.14: kill what is listed
    for pid in members(path):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def remove(path: str) -> bool:
    """Remove the cgroup once it is empty; True when it is gone."""
    try:
        os.rmdir(path)
        return True
    except FileNotFoundError:
        return True
    except OSError:
        return False  # EBUSY: killed processes are still on their way out
