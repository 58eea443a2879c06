#!/usr/bin/env bash
# Tests the Go binding against the libkilo that pkg-config finds (go vet, go
# test, with -race where the toolchain has it) and builds its compare program
# as OUT-DIR/compare-go. Nothing is downloaded and nothing is written to
# $HOME: the module has no dependencies, and Go's caches live in a temporary
# folder. Quiet on success; on failure prints the output of the step.
#
# Usage: bindings/go/test.sh OUT-DIR
set -euo pipefail

out="$(realpath -m "${1:?usage: bindings/go/test.sh OUT-DIR}")"
cd "$(dirname "$0")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export GOFLAGS=-mod=mod GOPROXY=off GONOSUMDB='*' GOENV=off CGO_ENABLED=1
export GOCACHE="$tmp/cache" GOPATH="$tmp/gopath"

# step NAME COMMAND...: runs COMMAND, showing its output only if it fails.
step() {
	local name="$1"
	shift
	if ! "$@" >"$tmp/log" 2>&1; then
		echo "bindings/go: $name failed:" >&2
		cat "$tmp/log" >&2
		exit 1
	fi
}

race=()
if [[ -e "$(go env GOROOT)/src/runtime/race/race_$(go env GOOS)_$(go env GOARCH).syso" ]]; then
	race=(-race)
fi
mkdir -p "$out"
step "go vet" go vet ./...
step "go test ${race[*]}" go test -count=1 "${race[@]}" ./...
step "go build" go build -o "$out/compare-go" ./cmd/compare
