#!/usr/bin/env bash
# Set up (if needed) and run a demo: a scripted agent session that reproduces a paper through
# the MCP server. No argument: the MNIST-1D table; or one of transformer, rl, vae, vision,
# diffusion, dqn, mlm.
# Each session ends with `reproduced: yes` or `reproduced: no`.
set -euo pipefail
cd "$(dirname "$0")/.."
paper="${1:-mnist1d}"
case "$paper" in
  mnist1d|transformer|rl|vae|vision|diffusion|dqn|mlm) shift || true ;;
  *) echo "usage: scripts/demo.sh [mnist1d|transformer|rl|vae|vision|diffusion|dqn|mlm] [session options]" >&2; exit 2 ;;
esac
bash scripts/setup.sh demo
python="${VIRTUAL_ENV:+$VIRTUAL_ENV/bin/python}"
exec "${python:-.venv/bin/python}" "examples/$paper/session.py" "$@"
