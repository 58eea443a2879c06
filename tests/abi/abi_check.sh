#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# abi_check.sh BASELINE LIBRARY
#   compares the ABI of LIBRARY with the committed BASELINE (abi/libkilo.abi): fails on
#   any change but added functions. A compatible change that abidiff reports (a new
#   enumerator, a field appended to an option struct) needs a new baseline:
#   scripts/abi-baseline.sh.
# abi_check.sh --expect-break STRUCT FIELD BASELINE LIBRARY
#   the comparison must fail, and its report must name STRUCT and FIELD.
# abi_check.sh --dump LIBRARY OUT
#   writes the ABI of LIBRARY to OUT, as the baseline holds it.
# Skips (77) when LIBRARY has no debug information: libabigail reads types from DWARF.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

usage() {
	sed -n '3,12s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

# dump LIBRARY OUT: the exported functions and the types they reach, without the build's
# absolute paths. Locations stay: public-types.suppr tells public types from private ones
# by the header that defines them.
dump() {
	local sections
	sections="$(readelf -S "$1")"
	if [[ "$sections" != *.debug_info* ]]; then
		echo "SKIP: $1 has no debug information (build with -g, e.g. buildtype=debugoptimized)"
		exit 77
	fi
	abidw --exported-interfaces-only --no-corpus-path --no-comp-dir-path --type-id-style hash --out-file "$2" "$1"
}

if ! command -v abidw >/dev/null || ! command -v abidiff >/dev/null; then
	echo "abidw and abidiff not found: install abigail-tools (scripts/setup.sh --test does)" >&2
	exit 1
fi

expect_struct="" expect_field=""
case "${1:-}" in
--dump)
	(($# == 3)) || usage
	dump "$2" "$3"
	exit 0
	;;
--expect-break)
	(($# == 5)) || usage
	expect_struct="$2" expect_field="$3"
	shift 3
	;;
esac
(($# == 2)) || usage
baseline="$1" library="$2"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
dump "$library" "$tmp/built.abi"
status=0
report="$(abidiff --no-added-syms --suppressions "$here/public-types.suppr" "$baseline" "$tmp/built.abi")" || status=$?
# abidiff's status is a bit field: 1 error, 2 usage, 4 change, 8 incompatible change.
if ((status & 3)); then
	printf '%s\nabidiff failed (status %d)\n' "$report" "$status"
	exit 1
fi

if [[ -z "$expect_struct" ]]; then
	if ((status)); then
		printf '%s\n\n' "$report"
		echo "The ABI of $library differs from $baseline (abidiff status $status). If the change"
		echo "is intended and compatible, regenerate the baseline: scripts/abi-baseline.sh"
		exit 1
	fi
	echo "ABI of $library unchanged against $baseline"
	exit 0
fi

printf '%s\n\n' "$report"
if ! ((status & 4)); then
	echo "FAIL: abidiff saw no change in a library built with $expect_field inserted in struct $expect_struct"
	exit 1
fi
for word in "struct $expect_struct'" " $expect_field'"; do
	if ! grep -qF -- "$word" <<<"$report"; then
		echo "FAIL: the report does not name $word"
		exit 1
	fi
done
echo "abidiff reports $expect_field inserted in struct $expect_struct (status $status)"
