"""Diagnostics for a paper implementation.

Two halves live here. The modules directly in this package are the server side: argument
and result models (pydantic) and the code that asks a worker to run a check. The `worker`
subpackage is the child side: it runs inside the sandboxed worker process and may import
only the standard library, torch and numpy, because the worker interpreter (`--python`)
is the user's and may have nothing else installed.

This file stays import-free: the worker bootstrap loads this package too.
"""
