#!/usr/bin/env bash
# Installs what the project needs on first use; a second run downloads and builds nothing.
# Node dependencies first (everything else is TypeScript), then the offline toolchain.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# Node.js runs everything else (tools/system-packages.ts installs the rest), so it comes first.
if ! command -v node >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "bootstrap: installing Node.js (apt-get install nodejs npm)..."
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
if ! command -v node >/dev/null 2>&1; then
  echo "bootstrap: a Node.js and npm (any version) are required to fetch the pinned LTS (sudo apt-get install nodejs npm)" >&2
  exit 1
fi
# Everything from here on runs under the pinned Node.js LTS, whatever node the machine has.
node_bin="$(bash tools/node-lts.sh)"
export PATH="$node_bin:$PATH"

# The cdktf CLI's terminal module has no prebuilt binary for this Node.js: npm ci compiles it
# against the pinned Node.js headers, which needs a C++ compiler, make and Python.
if ! command -v g++ >/dev/null 2>&1 || ! command -v make >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "bootstrap: installing the native addon compiler (apt-get install g++ make python3)..."
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends g++ make python3 >/dev/null
  else
    echo "bootstrap: g++, make and python3 are required to compile native Node.js addons (sudo apt-get install g++ make python3)" >&2
    exit 1
  fi
fi
stamp=".cache/npm-installed.stamp"
mkdir -p .cache
# Native addons are built for one Node.js version (the stamp's): another one rebuilds them.
npm_config_nodedir="$(dirname "$node_bin")"
export npm_config_nodedir
# The stamp names the lock file's content, not its time: a CI runner restores node_modules and
# the stamp from its cache into a fresh checkout, where every file is newer than the stamp.
lock_digest="$(node -e 'process.stdout.write(require("crypto").createHash("sha256").update(require("fs").readFileSync("package-lock.json")).digest("hex"))')"
installed_lock="$(sed -n 2p "$stamp" 2>/dev/null || true)"
if [ ! -d node_modules ] || [ "$installed_lock" != "$lock_digest" ]; then
  echo "bootstrap: installing Node.js dependencies under Node.js $(node --version) (npm ci)..."
  # --prefer-offline: what the npm cache holds (checked against the lock file's integrity) is not fetched again.
  npm ci --prefer-offline --no-audit --no-fund --loglevel=error
  printf '%s\n%s\n' "$(node --version)" "$lock_digest" > "$stamp"
elif [ "$(sed -n 1p "$stamp")" != "$(node --version)" ]; then
  echo "bootstrap: rebuilding native addons for Node.js $(node --version) (npm rebuild)..."
  npm rebuild --loglevel=error
  printf '%s\n%s\n' "$(node --version)" "$lock_digest" > "$stamp"
fi
exec node_modules/.bin/tsx tools/toolchain.ts "$@"
