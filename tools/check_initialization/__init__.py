"""The check_initialization tool: tool.py is its server side, check.py its worker side (a job's `run(ctx)`), details.py
the details both sides type.

Import-free: the worker loads this package too."""
