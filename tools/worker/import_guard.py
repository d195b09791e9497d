"""Nothing outside the project root runs as project code: checked in the worker, at import.

The server checks a harness path when a call arrives, but the call may wait in the queue
while the file is swapped for a symlink that points out of the root; so the worker checks
again as it opens the file, on the file it actually opened. The harness's own imports
go through `ProjectGuard`, first on sys.meta_path: a module found inside the root (a
sibling file, a package of the project, its __pycache__) must really be there once symlinks
are resolved, or in the worker interpreter's own environment. Modules found outside the root
(installed packages, the interpreter's library, and also any folder the user's code adds to
sys.path) are not checked: the guard stops links out of the root, not code that means to
import from elsewhere.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys
from importlib.machinery import ModuleSpec

from .failures import HarnessError


def inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def _refusal(what: str, path: str, real: str, root: str) -> HarnessError:
    return HarnessError(
        f"refused to run {what}: {path} resolves to {real}, outside the project root {root}",
        where=os.path.basename(path),
        suggestion="Copy the file into the project instead of linking it, "
        "or start the server with a --root that contains it.",
    )


def read_inside(path: str, root: str) -> bytes:
    """The source of `path`, refused unless the file opened really lies inside `root`.

    /proc/self/fd/N names the opened file after every symlink was followed, so no swap
    between a check and the open can slip past (realpath is the fallback without /proc)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    with open(fd, "rb") as f:
        link = f"/proc/self/fd/{fd}"
        real = os.readlink(link) if os.path.islink(link) else os.path.realpath(path)
        if not inside(real, root):
            raise _refusal("the harness", path, real, root)
        return f.read()


class CheckedSource(importlib.abc.Loader):
    """Executes source that was read (and checked) already, instead of opening the file again."""

    def __init__(self, path: str, source: bytes):
        self.path = path
        self.source = source

    def create_module(self, spec: ModuleSpec) -> None:
        return None  # the default module object

    def exec_module(self, module) -> None:
        exec(compile(self.source, self.path, "exec", dont_inherit=True), module.__dict__)

    def get_source(self, fullname: str) -> str:
        return importlib.util.decode_source(self.source)


class ProjectGuard(importlib.abc.MetaPathFinder):
    """Finds modules as the import system would, refusing project modules that live outside the project."""

    def __init__(self, root: str):
        self.root = root
        self.installed = tuple({os.path.realpath(p) + os.sep for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})

    def find_spec(self, fullname: str, path=None, target=None) -> ModuleSpec | None:
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                self._check(fullname, spec)
                return spec
        return None

    def _check(self, fullname: str, spec: ModuleSpec) -> None:
        """Every place the module is found inside the root, its bytecode cache included (a linked
        __pycache__ would run a .pyc from elsewhere), must really be inside the root or inside an
        installed environment; a folder's name (`site-packages`) proves nothing."""
        found = [spec.origin] if spec.has_location and spec.origin else []
        found += list(spec.submodule_search_locations or [])
        found += [spec.cached] if spec.has_location and spec.cached else []
        for location in found:
            location = os.path.abspath(location)
            if inside(location, self.root):
                real = os.path.realpath(location)
                if not inside(real, self.root) and not real.startswith(self.installed):
                    raise _refusal(f"module {fullname!r}", location, real, self.root)


def install(root: str) -> None:
    if not any(isinstance(finder, ProjectGuard) for finder in sys.meta_path):
        sys.meta_path.insert(0, ProjectGuard(root))
