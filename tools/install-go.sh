#!/usr/bin/env bash
# Prints the path of a Go toolchain >= the one the providers need. Uses `go` on PATH when
# recent enough; otherwise fetches the official toolchain module from the Go module proxy.
set -euo pipefail
want="${1:?usage: install-go.sh GO_VERSION (e.g. 1.26.11) CACHE_DIR}"
cache="${2:?usage: install-go.sh GO_VERSION CACHE_DIR}"
if command -v go >/dev/null 2>&1; then
  have="$(go env GOVERSION | sed 's/^go//')"
  if [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n1)" = "$want" ]; then
    dirname "$(command -v go)"
    exit 0
  fi
fi
dir="$cache/go-toolchain/go$want"
if [ ! -x "$dir/bin/go" ]; then
  proxy="${GOPROXY:-https://proxy.golang.org}"
  proxy="${proxy%%,*}"
  module="golang.org/toolchain/@v/v0.0.1-go$want.linux-amd64.zip"
  echo "install-go: fetching Go $want from the Go module proxy" >&2
  tmp="$(mktemp -d)"
  curl -fsSL --retry 3 -o "$tmp/go.zip" "$proxy/$module"
  (cd "$tmp" && unzip -q go.zip)
  mkdir -p "$(dirname "$dir")"
  rm -rf "$dir"
  mv "$tmp/golang.org/toolchain@v0.0.1-go$want.linux-amd64" "$dir"
  chmod +x "$dir"/bin/* "$dir"/pkg/tool/*/* 2>/dev/null || true
  rm -rf "$tmp"
fi
echo "$dir/bin"
