#!/usr/bin/env bash
# The peer of the LR benchmark: PyTorch Lightning in its own venv (benchmarks/.venv), never a
# project dependency. torch is pinned to the project's version first, so that both sides run
# the same torch and pip does not pull another build.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
torch_version="$("$here/../.venv/bin/python" -c 'import torch; print(torch.__version__.split("+")[0])')"
python3 -m venv "$here/.venv"
"$here/.venv/bin/pip" install -q "torch==$torch_version"
"$here/.venv/bin/pip" install -q lightning
