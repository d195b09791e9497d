"""Hostile user code: each behaviour below is what a buggy (not malicious) harness might do.

`build_model(action=...)` runs one of them (the tests pass it through `model_kwargs`), so a
single file covers every case; `action="none"` is a plain, working tiny model. The worker
must turn each into a finding, keep the server healthy and leave no process behind.
"""

import ctypes
import os
import signal
import subprocess
import sys
import time

import torch
from torch import nn

PID_FILE = "spawned.pids"  # where spawning actions record their children, for the tests to check

libc = ctypes.CDLL(None, use_errno=True)


def busy_loop():
    """An infinite Python loop."""
    while True:
        pass


def c_pause_signals_blocked():
    """Blocks every signal, then sleeps in C: no Python signal handler can ever run."""
    signal.pthread_sigmask(signal.SIG_BLOCK, set(signal.valid_signals()))
    libc.pause()


def c_sleep():
    """A long sleep inside libc, with SIGTERM/SIGINT ignored."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    libc.sleep(3600)


def torch_loop():
    """A tight numeric loop that lives inside torch kernels."""
    a = torch.randn(256, 256)
    while True:
        a = torch.tanh(a @ a)


def abort():
    os.abort()


def segfault():
    ctypes.string_at(0)


def memory_hog():
    """Grows resident memory without bound, in 16 MB steps."""
    hog = []
    while True:
        hog.append(bytearray(16 * 2**20))
        for i in range(0, len(hog[-1]), 4096):
            hog[-1][i] = 1  # touch every page so it is resident


def memory_hog_in_children():
    """Spreads the hog over two children, each under any per-process cap."""
    procs = [subprocess.Popen([sys.executable, "-c", _CHILD_HOG]) for _ in range(2)]
    _record(p.pid for p in procs)
    for p in procs:
        p.wait()


_CHILD_HOG = """
import time
hog = []
for _ in range(64):
    hog.append(bytearray(8 * 2**20))
    for i in range(0, len(hog[-1]), 4096):
        hog[-1][i] = 1
    time.sleep(0.02)
time.sleep(3600)
"""


def fork_and_spawn():
    """Leaves a forked child, a subprocess and a grandchild behind, then returns normally."""
    pid = os.fork()
    if pid == 0:
        time.sleep(3600)
        os._exit(0)
    sleeper = subprocess.Popen(["sleep", "3600"])
    shell = subprocess.Popen(["sh", "-c", "sleep 3600 & wait"])
    _record([pid, sleeper.pid, shell.pid])
    return _tiny()


def escape_session():
    """A double-forked daemon that calls setsid(): it leaves the job's process group and session."""
    pid = os.fork()
    if pid == 0:
        os.setsid()
        grandchild = os.fork()
        if grandchild == 0:
            time.sleep(3600)
            os._exit(0)
        _record([grandchild])
        os._exit(0)
    os.waitpid(pid, 0)
    return _tiny()


def flood_output():
    """Megabytes on stdout and stderr, through Python and straight to fd 1 and fd 2."""
    line = "x" * 1023 + "\n"
    for _ in range(2048):
        print(line, end="")
        print(line, end="", file=sys.stderr)
    for _ in range(1024):
        os.write(1, line.encode())
        os.write(2, line.encode())
    os.write(1, b"LAST STDOUT LINE\n")
    os.write(2, b"LAST STDERR LINE\n")
    return _tiny()


def exit_code():
    sys.exit(3)


def hard_exit():
    os._exit(7)


def close_fds():
    """Closes every fd from 3 up, and points fds 1 and 2 at /dev/null."""
    os.closerange(3, 1024)  # what daemonising code does
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    return _tiny()


def change_cwd_and_env():
    """Moves to / and poisons the environment; the next call must not see either."""
    os.chdir("/")
    os.environ["HOSTILE_WAS_HERE"] = "1"
    os.environ["PYTHONPATH"] = "/nonexistent"
    return _tiny()


def read_stdin():
    """Blocks on stdin (it must be at EOF, not the server's protocol stream)."""
    data = sys.stdin.read()
    print(f"stdin gave {len(data)} bytes")
    return _tiny()


def report_environment():
    """Prints cwd and whether a previous call's poison is visible."""
    print(f"cwd={os.getcwd()} poisoned={'HOSTILE_WAS_HERE' in os.environ}")
    return _tiny()


def sigterm_self():
    """Sends SIGTERM to its own process, as a harness calling a shell `kill` on itself might."""
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(5)


def slow():
    """Works for a while (two seconds), reporting its pid, then returns a model."""
    _record([os.getpid()])
    time.sleep(2)
    return _tiny()


def spawn_and_hang():
    """Starts child processes, records them, then hangs: only a kill ends it."""
    sleeper = subprocess.Popen(["sleep", "3600"])
    _record([os.getpid(), sleeper.pid])
    busy_loop()


def setsid_chain(n: int = 60, hang: bool = False):
    """A chain of n escapees, each in a session of its own and the parent of the next; all
    stay alive. Killing one re-parents the next, so a sweep that kills only what it sees
    must go round n times. With hang=True the job itself then hangs."""
    job = os.getpid()
    for _ in range(n):
        pid = os.fork()
        if pid:
            _record([pid])
            break
        os.setsid()
    if os.getpid() != job:  # a link of the chain
        _sleep_forever()
    while len(_recorded()) < n:  # the whole chain stands before the job goes on
        time.sleep(0.01)
    if hang:
        _record([job])
        _sleep_forever()
    return _tiny()


def _sleep_forever():
    while True:
        time.sleep(3600)


def idle_forks(n: int = 100, seconds: float = 1.0):
    """n idle forks of the job: they share nearly all their pages with it (and the zygote)."""
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            _sleep_forever()
        _record([pid])
    time.sleep(seconds)  # several memory polls see the whole tree
    return _tiny()


def kwargs_size(blob: str):
    print(f"blob of {len(blob)} characters")
    return _tiny()


def report_threads():
    print(f"threads={torch.get_num_threads()}")
    return _tiny()


def one_thread():
    torch.set_num_threads(1)  # as a user's harness may, whatever the worker was given
    return _tiny()


def _result_fd():
    """The job's result pipe: the highest fd (the worker keeps it out of the way up there)."""
    return max(int(fd) for fd in os.listdir("/proc/self/fd"))


def write_result(line: str):
    """Writes `line` to the result pipe as if it were the worker's answer, then exits."""
    os.write(_result_fd(), line.encode() + b"\n")
    os._exit(0)


def record_parent():
    """Records the pid of the job's parent (the zygote), and returns a model."""
    _record([os.getppid()])
    return _tiny()


def _recorded():
    return open(PID_FILE).read().split() if os.path.exists(PID_FILE) else []


def write_huge_line(mib: int):
    """Writes one line of `mib` MiB to the result pipe, then exits."""
    fd, block = _result_fd(), b"x" * 2**20
    for _ in range(mib):
        os.write(fd, block)
    os.write(fd, b"\n")
    os._exit(0)


def _record(pids):
    with open(PID_FILE, "a") as f:
        f.writelines(f"{pid}\n" for pid in pids)


def _tiny():
    return nn.Linear(4, 2)


def echo(token: str):
    """Prints a token, so that concurrent callers can tell their answers apart."""
    print(f"token={token}")
    return _tiny()


def build_model(action: str = "none", **kwargs):
    return _tiny() if action == "none" else globals()[action](**kwargs)


def get_batch(batch_size: int, split: str = "train"):
    g = torch.Generator().manual_seed(0 if split == "train" else 1)
    return torch.randn(batch_size, 4, generator=g), torch.randint(0, 2, (batch_size,), generator=g)
