#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Tests the Rust binding against the libkilo that pkg-config finds, offline,
# and leaves its compare program in OUT-DIR/compare-rust
# (tests/bindings/README.md). Quiet on success; the log on failure.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 OUT-DIR" >&2
	exit 2
fi
out=$1
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)

if ! command -v cargo >/dev/null 2>&1; then
	PATH=$PATH:${HOME:-/root}/.cargo/bin:/root/.cargo/bin
fi
if ! command -v cargo >/dev/null 2>&1; then
	echo "$0: cargo is not installed" >&2
	exit 1
fi

# Build products stay in OUT-DIR: the source tree and CARGO_HOME are left as they are.
export CARGO_TARGET_DIR="$out/rust-target"
export RUSTFLAGS="${RUSTFLAGS:-} -D warnings"
export RUSTDOCFLAGS="${RUSTDOCFLAGS:-} -D warnings"
log="$out/rust-test.log"

run() {
	if ! "$@" >>"$log" 2>&1; then
		cat "$log" >&2
		echo "$0: failed: $*" >&2
		exit 1
	fi
}

: >"$log"
cd "$here"
run cargo test --offline --locked --workspace
run cargo build --offline --locked --release --example compare
cp "$CARGO_TARGET_DIR/release/examples/compare" "$out/compare-rust"
