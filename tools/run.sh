#!/usr/bin/env bash
# How the npm scripts run their command: the bootstrap first (idempotent; options before `--`
# go to it), then the command with the pinned Node.js LTS and node_modules/.bin first on PATH,
# so jest, tsx, cdktf and every node they start run under that Node.js.
#
#   bash tools/run.sh [BOOTSTRAP OPTIONS] -- COMMAND [ARGS...]
#   bash tools/run.sh --no-bootstrap -- COMMAND [ARGS...]   # only the Node.js LTS
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

bootstrap=1
options=()
while [ $# -gt 0 ]; do
  case "$1" in
    --) shift; break ;;
    --no-bootstrap) bootstrap=0; shift ;;
    *) options+=("$1"); shift ;;
  esac
done
if [ $# -eq 0 ]; then
  echo "usage: bash tools/run.sh [--no-bootstrap | BOOTSTRAP OPTIONS] -- COMMAND [ARGS...]" >&2
  exit 2
fi
if [ "$bootstrap" = 1 ]; then
  bash "$root/tools/bootstrap.sh" "${options[@]}"
fi
node_bin="$(bash "$root/tools/node-lts.sh")"
export PATH="$node_bin:$root/node_modules/.bin:$PATH"
# kafkajs 2.2.4 arms a timer with a negative delay whenever it is not throttled, and Node.js 24
# warns each time (the services drop it themselves: services/shared/lifecycle.ts). The tools and
# tests use kafkajs too; their output should show only what matters.
export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--disable-warning=TimeoutNegativeWarning"
exec "$@"
