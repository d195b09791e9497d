#!/usr/bin/env bash
# Set up a Python environment for implement-paper-mcp and install it (editable).
#
# Uses the active virtualenv if there is one, else creates ./.venv. Torch is the one
# dependency with a choice to make: if the environment already has torch, it is kept
# whatever its version; if not, a CPU build is installed (set TORCH_SPEC to choose the
# requirement, TORCH_INDEX_URL to install from another index such as PyTorch's CPU
# wheel index; without them, pip's default index is used).
#
# Usage: scripts/setup.sh [extra ...]   e.g. scripts/setup.sh test demo
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${VIRTUAL_ENV:-}" ]; then
  python="$VIRTUAL_ENV/bin/python"
else
  [ -x .venv/bin/python ] || python3 -m venv .venv
  python=.venv/bin/python
fi

"$python" -m pip install --quiet --upgrade pip

if "$python" -c "import torch" 2>/dev/null; then
  echo "setup: keeping the installed torch $("$python" -c 'import torch; print(torch.__version__)')" >&2
else
  echo "setup: no torch found; installing a CPU build (${TORCH_SPEC:-torch==2.13.0})" >&2
  "$python" -m pip install --quiet ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "${TORCH_SPEC:-torch==2.13.0}"
fi

# torch is an extra (the server never imports it), but this environment runs the worker too.
extras=$(IFS=,; echo "torch${1:+,$*}")
"$python" -m pip install --quiet -e ".[$extras]"
echo "setup: ready ($python)" >&2
