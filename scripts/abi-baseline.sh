#!/usr/bin/env bash
# Regenerates the ABI baseline abi/libkilo.abi from the library as the sources build
# it now: after an intended change of the public headers (see "Adding a symbol" in
# docs/design.md). Builds the shared library alone in BUILD-DIR (made on first use:
# default build-abi/, debugoptimized as CI) and writes what tests/abi/abi_check.sh
# compares against.
#   scripts/abi-baseline.sh [BUILD-DIR]
# Then review `git diff abi/` and commit it with the change.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$repo/build-abi}"

[[ -f "$build/build.ninja" ]] || meson setup "$build" "$repo" -Dbuildtype=debugoptimized -Dtests=false >/dev/null
meson compile -C "$build" kilo:shared_library >/dev/null
"$repo/tests/abi/abi_check.sh" --dump "$build/lib/libkilo.so.0" "$repo/abi/libkilo.abi"
echo "wrote abi/libkilo.abi ($(grep -c '<elf-symbol ' "$repo/abi/libkilo.abi") symbols) from $build/lib/libkilo.so.0"
