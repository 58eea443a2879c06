#!/usr/bin/env bash
# The four-language comparison: every program prints the same bytes for every
# mesh document in MESH-DIR (the format: tests/bindings/README.md). The first
# program is the reference; with only one, the check is that it succeeds and
# prints every section.
#
# Usage: compare.sh MESH-DIR PROGRAM...     Prints "N passed, N failed".
set -uo pipefail

# shellcheck source=../netns/checks.sh
source "$(dirname "$0")/../netns/checks.sh"

dir="${1:?usage: compare.sh MESH-DIR PROGRAM...}"
shift
(($# >= 1)) || { echo "usage: compare.sh MESH-DIR PROGRAM..." >&2; exit 2; }
reference_program="$1"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# sections_complete FILE: whether FILE has every section heading.
sections_complete() {
	grep -q '^# node ' "$1" && grep -q '^# graph$' "$1" && grep -q '^# mesh$' "$1" &&
		grep -q '^# public key$' "$1" && grep -q '^# error$' "$1"
}

for mesh in "$dir"/*.json; do
	name="$(basename "$mesh" .json)"
	reference="$tmp/$name.0"
	complete() {
		"$reference_program" "$mesh" >"$reference" 2>"$tmp/err" || { cat "$tmp/err"; return 1; }
		sections_complete "$reference"
	}
	check "$(basename "$reference_program") prints every section for $name" complete
	i=0
	for program in "${@:2}"; do
		i=$((i + 1))
		same() {
			"$program" "$mesh" >"$tmp/$name.$i" 2>"$tmp/err" || { cat "$tmp/err"; return 1; }
			diff -u "$reference" "$tmp/$name.$i" | head -n 20
			cmp -s "$reference" "$tmp/$name.$i"
		}
		check "$(basename "$program") prints the same bytes as $(basename "$reference_program") for $name" same
	done
done
finish
