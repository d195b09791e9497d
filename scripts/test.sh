#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite, reliability tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test tensorboard ray
python="${VIRTUAL_ENV:+$VIRTUAL_ENV/bin/python}"
exec "${python:-.venv/bin/python}" -m pytest -q "$@"
