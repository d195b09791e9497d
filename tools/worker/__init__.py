"""Child side of the worker: runs in the sandboxed process, next to the user's code.

Only the standard library, torch and numpy may be imported here (see tools/__init__.py).
"""
