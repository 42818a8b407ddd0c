#!/usr/bin/env bash
# The tools of the contract tests (tests/local_server.rs), pinned, installed when missing:
#   - tests/clients/node_modules: a published REST Countries v3.1 client from npm (package-lock.json)
#   - .venv-contract: schemathesis from PyPI, in a virtualenv of its own (its pins would fight moto's)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if ! command -v npm >/dev/null; then
  echo "contract-tools: installing Node.js and npm" >&2
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq nodejs npm >/dev/null
fi
pinned=$(node -p 'require("./tests/clients/package.json").dependencies["@yusifaliyevpro/countries"]')
installed=$(node -p 'require("./tests/clients/node_modules/@yusifaliyevpro/countries/package.json").version' 2>/dev/null || true)
if [ "$pinned" != "$installed" ]; then
  echo "contract-tools: npm ci in tests/clients" >&2
  npm ci --prefix tests/clients --no-audit --no-fund --silent
fi
venv="$root/.venv-contract"
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q '4.32.5'; then
  echo "contract-tools: installing schemathesis into $venv" >&2
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis==4.32.5'
fi
