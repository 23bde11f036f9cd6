#!/usr/bin/env bash
# Runs a command with the project's Terraform CLI, provider mirror and caches
# (the variables tools/toolchain.ts writes to .cache/toolchain.env).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ ! -f "$root/.cache/toolchain.env" ]; then
  echo "with-toolchain: the toolchain is not installed yet: run 'npm run bootstrap' first" >&2
  exit 1
fi
set -a
# shellcheck disable=SC1091
. "$root/.cache/toolchain.env"
set +a
# Under the pinned Node.js LTS, like every npm script (tools/run.sh).
node_bin="$(bash "$root/tools/node-lts.sh")"
# Built tools the stacks call by name (kubectl) from .cache/bin, then the Node.js CLIs.
export PATH="$node_bin:$root/.cache/bin:$root/node_modules/.bin:$PATH"
exec "$@"
