#!/usr/bin/env bash
# Runs bench-wg on the kernel module: boots the test VM of tests/vm with
# bench-wg and wg inside, and prints the table from its console.
# Usage: bench/wg-vm.sh BENCH-WG [CACHE-DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bench="$(realpath "${1:?usage: wg-vm.sh BENCH-WG [CACHE-DIR]}")"
cache="${2:-$(dirname "$(dirname "$bench")")/vm-cache}"
KILO_VM_TIMEOUT="${KILO_VM_TIMEOUT:-600}" "$here/../tests/vm/run.sh" "$bench" "$cache" bench "$(command -v wg)"
