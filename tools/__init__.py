"""Diagnostics for a paper implementation: one package per tool, and the layers they stand on.

Read it from the top; each layer imports only those below it:
* catalog.py: the tools the server exposes, one line each (adding a tool: a folder and that line);
* one package per tool (inspect_data, inspect_model, check_initialization, run_overfit_test,
  gradient_check, check_known_values, check_dependencies, lr_sweep, run_ablation, training,
  compare_metrics): tool.py its server side (arguments, result model, judging), check.py its worker
  side (`run(ctx)`, in the sandboxed worker), details.py the details both sides type;
* shared/: server-side helpers several tools use (plots, reference levels);
* runtime/: how a call becomes a worker job and comes back (dispatch, the runner and its zygotes,
  the Ray executor, the run store);
* worker/: the worker process's machinery (zygote, job, harness loading, training loop, threads);
* wire/: what both sides import (messages and their framing, finding codes, shared details).

The worker interpreter (`--python`) is the user's and may have nothing but torch and numpy, so
check.py, details.py, worker/ and wire/ import only the standard library, torch and numpy, and
every __init__.py stays import-free: the worker bootstrap loads these packages too.
"""
