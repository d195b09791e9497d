#!/usr/bin/env bash
# Set up (if needed) and run the demo: a scripted agent session that reproduces the
# MNIST-1D paper's table through the MCP server (examples/demo_session.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh demo
python="${VIRTUAL_ENV:+$VIRTUAL_ENV/bin/python}"
exec "${python:-.venv/bin/python}" examples/demo_session.py "$@"
