#!/usr/bin/env bash
# Installs what the project needs on first use; a second run downloads and builds nothing.
# Node dependencies first (everything else is TypeScript), then the offline toolchain.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if ! command -v node >/dev/null 2>&1; then
  echo "bootstrap: Node.js 20+ is required (apt-get install nodejs npm)" >&2
  exit 1
fi
stamp=".cache/npm-installed.stamp"
mkdir -p .cache
if [ ! -d node_modules ] || [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "bootstrap: installing Node.js dependencies (npm ci)..."
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
exec node_modules/.bin/tsx tools/toolchain.ts "$@"
