#!/usr/bin/env bash
# Re-resolve the test environment from pyproject.toml and write constraints.txt: run it on purpose
# (a new dependency, a wanted upgrade), then run the whole suite and commit the diff with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."
fresh="$(mktemp -d)"
trap 'rm -rf "$fresh"' EXIT
python3 -m venv "$fresh/venv"
"$fresh/venv/bin/python" -m pip install -q --upgrade pip
"$fresh/venv/bin/python" -m pip install -q -e '.[test]'
{
  echo "# The exact versions the test environment installs (pip install -c constraints.txt ...)."
  echo "# Update on purpose: bash scripts/update-constraints.sh, then run the suite and commit the diff."
  "$fresh/venv/bin/python" -m pip freeze --all --exclude-editable | grep -vE '^(-e |setuptools==|wheel==)'
} > constraints.txt
echo "constraints.txt rewritten; run bash scripts/test.sh before committing it"
