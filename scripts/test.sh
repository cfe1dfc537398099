#!/usr/bin/env bash
# Install everything the test suite needs, system packages included, then run it.
# The suite starts its own MongoDB-wire server (nx-27017) and redis-server on free
# 127.0.0.1 ports, unless MONGODB_URL / REDIS_URL point at real ones.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages: redis-server for the Redis tests (and Sentinel); haproxy for the cluster tests;
# Debian's chromium (never a downloaded browser) for the /docs browser test, driven by playwright-core.
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

python="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$python" -m venv .venv
# Exact versions from constraints.txt, so a release upstream never changes the suite by surprise.
.venv/bin/python -m pip install -q -c constraints.txt pip
.venv/bin/python -m pip install -q -c constraints.txt -e '.[test]'

# The example project (and its tests) read .env: a fresh one gets a random SECRET_KEY.
[ -f .env ] || sed "s/^SECRET_KEY=.*/SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')/" .env.example >.env

(cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# The package passes mypy in strict mode (the configuration is [tool.mypy] in pyproject.toml).
.venv/bin/mypy
# --all-tiers: the server, browser and load tiers too, which a plain `pytest` leaves out.
exec .venv/bin/python -m pytest --all-tiers "$@"
