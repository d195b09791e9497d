#!/usr/bin/env bash
# Type-check server/, tools/ and prompts/ with mypy (configured in pyproject.toml). They install as
# implement_paper.{server,tools,prompts} (pyproject's package-dir), a layout mypy cannot map from the
# folders, so it reads them through links of that shape under build/typecheck.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${VIRTUAL_ENV:+$VIRTUAL_ENV/bin/python}"
package=build/typecheck/implement_paper
mkdir -p "$package"
for folder in server tools prompts; do ln -sfn "$PWD/$folder" "$package/$folder"; done
exec "${python:-.venv/bin/python}" -m mypy -p implement_paper.server -p implement_paper.tools -p implement_paper.prompts "$@"
