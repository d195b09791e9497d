#!/usr/bin/env bash
# Set up (if needed), lint and type-check, then run the whole test suite, reliability tests included.
# Arguments go to pytest (-m "not slow": the fast subset).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test tensorboard ray
python="${VIRTUAL_ENV:+$VIRTUAL_ENV/bin/python}"
python="${python:-.venv/bin/python}"
"$python" -m ruff check .
"$python" -m ruff format --check .
bash scripts/typecheck.sh
exec "$python" -m pytest -q "$@"
