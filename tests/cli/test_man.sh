#!/usr/bin/env bash
# The man pages cannot drift from the programs: every flag that `kg --help`,
# `kgctl --help` and `kgctl COMMAND --help` print is described in kg(8) or
# kgctl(8), and every command has its section. With scdoc, the pages build;
# with man, they render without a warning; with a C compiler, the example of
# libkilo(3) compiles against the headers.
#
# Usage: test_man.sh KG KGCTL [GENERATED-INCLUDE-DIR]      Prints one line per check and "N passed, N failed".
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
kg="$(realpath "${1:?usage: test_man.sh KG KGCTL}")"
kgctl="$(realpath "${2:?usage: test_man.sh KG KGCTL}")"
generated_include="${3:-}"
man_dir="$repo/man"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=../netns/checks.sh
source "$here/../netns/checks.sh"

# flags_of COMMAND...: the long flags that COMMAND --help prints, one a line.
flags_of() {
	"$@" --help | grep -oP -- '(?<![\w-])--[a-z][a-z0-9-]*[a-z0-9](?![\w-])' | sort -u
}

# described PAGE FLAG: the page describes the flag in bold, as scdoc's *--flag*.
described() {
	grep -qF -- "*$2*" "$man_dir/$1.scd"
}

# every_flag_described PAGE COMMAND...: one check per flag of COMMAND --help.
every_flag_described() {
	local page="$1" flag
	shift
	flags_of "$@" >"$tmp/flags" || { check "$* --help runs" false; return; }
	[[ -s "$tmp/flags" ]] || { check "$* --help prints flags" false; return; }
	while read -r flag; do
		check "$page describes $flag of '${*##*/} --help'" described "$page" "$flag"
	done <"$tmp/flags"
}

every_flag_described kg.8 "$kg"
every_flag_described kgctl.8 "$kgctl"
commands="$("$kgctl" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 { print $1 }')"
check "kgctl --help lists its commands" test -n "$commands"
for command in $commands; do
	check "kgctl(8) has a section for $command" grep -qx "## $command" "$man_dir/kgctl.8.scd"
	if [[ "$("$kgctl" "$command" --help)" == *--* ]]; then
		every_flag_described kgctl.8 "$kgctl" "$command"
	fi
done
for page in kg.8 kgctl.8; do
	check "$page documents the exit statuses 0, 1 and 2" \
		eval 'grep -q "^# EXIT STATUS" "$man_dir/$page.scd" && grep -qx "\*2\*" "$man_dir/$page.scd"'
done
# The usage lines say the same: one set of exit statuses for both programs.
same_statuses() {
	local words="1 on any error, 2 when the command line cannot be parsed"
	"$kg" --help | grep -qF "$words" && "$kgctl" --help | grep -qF "$words"
}
check "kg --help and kgctl --help state the same exit statuses" same_statuses

# renders PAGE: man shows the built page with its NAME section, and groff warns of nothing.
renders() {
	MANWIDTH=80 man --warnings -l "$tmp/$1" 2>"$tmp/$1.warn" >"$tmp/$1.txt" && [[ ! -s "$tmp/$1.warn" ]] &&
		grep -q "^NAME" "$tmp/$1.txt"
}

if command -v scdoc >/dev/null; then
	for page in kg.8 kgctl.8 libkilo.3; do
		check "scdoc builds $page" eval 'scdoc <"$man_dir/$page.scd" >"$tmp/$page" 2>"$tmp/$page.err"'
		if command -v man >/dev/null; then
			check "man -l renders $page without a warning" renders "$page"
		else
			echo "skip - man is not installed: $page is not rendered"
		fi
	done
else
	echo "skip - scdoc is not installed: the pages are not built"
fi

# The example of libkilo(3), as printed (scdoc's \\ is one backslash), compiles.
if command -v cc >/dev/null; then
	sed -n '/^# EXAMPLE/,/^# /p' "$man_dir/libkilo.3.scd" | sed -n '/^```$/,/^```$/p' | sed '/^```$/d; s/\\\\/\\/g' \
		>"$tmp/example.c"
	check "the example of libkilo(3) compiles against the headers" \
		cc -std=gnu11 -Wall -Wextra -Werror -Wno-unused-function -fsyntax-only -I "$repo/include" ${generated_include:+-I "$generated_include"} "$tmp/example.c"
fi

finish
