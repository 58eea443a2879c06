#!/usr/bin/env bash
# Bash completion of kg and kgctl as a user meets it: the script is sourced,
# COMP_WORDS and COMP_CWORD are set as bash sets them for a line typed so
# far, the function that `complete` registered runs, and COMPREPLY holds
# the candidates.
#
# Usage: test_completion.sh KG KGCTL [SCRIPT]   Prints one line per check and "N passed, N failed".
# SCRIPT defaults to the repository's completions/kilo.bash.
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
kg="$(realpath "${1:?usage: test_completion.sh KG KGCTL [SCRIPT]}")"
kgctl="$(realpath "${2:?usage: test_completion.sh KG KGCTL [SCRIPT]}")"
script="${3:-$here/../../completions/kilo.bash}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=../netns/checks.sh
source "$here/../netns/checks.sh"
# shellcheck source=../../completions/kilo.bash
source "$script"

# candidates PROGRAM WORD...: what completing the last WORD (may be "") of
# the line "PROGRAM WORD..." offers, sorted, on one line.
candidates() {
	local function
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	function="$(complete -p "${1##*/}" | sed -E 's/.*-F ([^ ]+) .*/\1/')"
	"$function" 2>/dev/null
	printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort | paste -sd ' '
}

# offers_exactly "CANDIDATES" PROGRAM WORD...
offers_exactly() {
	local got
	got="$(candidates "${@:2}")"
	[[ "$got" == "$1" ]] || echo "    want: $1; got: $got"
	[[ "$got" == "$1" ]]
}

# offers CANDIDATE PROGRAM WORD...: CANDIDATE is among what is offered.
offers() {
	candidates "${@:2}" | tr ' ' '\n' | grep -qxF -- "$1"
}

# expect NAME "CANDIDATES" PROGRAM WORD...; expect_has NAME CANDIDATE PROGRAM WORD...
expect() { check "$1" offers_exactly "${@:2}"; }
expect_has() { check "$1" offers "${@:2}"; }

check "the script registers kg" eval 'complete -p kg | grep -q -- "-F _kg kg"'
check "the script registers kgctl" eval 'complete -p kgctl | grep -q -- "-F _kgctl kgctl"'

# kg
expect "kg: the flags that start with --log" "--log-level" "$kg" --log
expect "kg: --log-level's values" "all debug error info none warn" "$kg" --log-level ""
expect "kg: --mesh-granularity's values" "cross full location" "$kg" --hostname a --mesh-granularity ""
expect "kg: --encapsulate's values that start with c" "crosssubnet" "$kg" --encapsulate c
expect "kg: --wg-backend's values" "auto kernel userspace" "$kg" --wg-backend ""
expect "kg: --mtu takes auto" "auto" "$kg" --mtu a
expect "kg: --store's kinds" "etcd:// etcds:// file:" "$kg" --store ""
expect "kg: a boolean's values after =" "--clean-up=false --clean-up=true" "$kg" --clean-up=
expect "kg: a value the user types alone is not completed" "" "$kg" --hostname ""
expect_has "kg: every flag of kg --help, such as --http-max-connections-per-ip" --http-max-connections-per-ip "$kg" --http
expect_has "kg: the --no- forms" --no-create-interface "$kg" --no-cr
mkdir -p "$tmp/keys"
: >"$tmp/keys/node.key"
expect "kg: --private-key completes file names" "$tmp/keys/node.key" "$kg" --private-key "$tmp/keys/n"
expect "kg: --store file: completes folders" "file:$tmp/keys" "$kg" --store "file:$tmp/k"

expect "kg: --bpf takes its modes" "auto off on" "$kg" --bpf ""
expect "kg: --bpf-maglev-size takes the two sizes" "16381 65521" "$kg" --bpf-maglev-size ""
expect "kg: --flow-events takes policed or all" "all policed" "$kg" --flow-events ""

# kgctl
expect "kgctl: the commands" "apply bpf connect delete genkey get graph node observe policy pubkey services showconf solve status wg" "$kgctl" ""
expect "kgctl: the commands that start with s" "services showconf solve status" "$kgctl" s
expect "kgctl: the command after global flags" "genkey get graph" "$kgctl" --store file:/tmp --ready-window 10s g
expect_has "kgctl: global flags before the command" --ready-window "$kgctl" --re
expect "kgctl: showconf's first argument" "node peer" "$kgctl" showconf ""
expect "kgctl: showconf's first argument after global flags" "node peer" "$kgctl" --mesh m.json showconf ""
expect "kgctl: showconf's output formats" "json wireguard yaml" "$kgctl" showconf node a -o ""
expect "kgctl: graph's output formats" "dot svg" "$kgctl" graph --output ""
expect "kgctl: status's output formats" "json text" "$kgctl" status -o ""
expect "kgctl: wg's subcommands" "setconf show" "$kgctl" wg ""
expect "kgctl: get's kinds" "endpointslices namespaces networkpolicies nodes peers pods services" "$kgctl" get ""
expect "kgctl: policy's subcommand" "explain" "$kgctl" policy ""
expect "kgctl: get's kinds that start with n" "namespaces networkpolicies nodes" "$kgctl" get n
expect "kgctl: get's output formats" "json yaml" "$kgctl" get svc -o ""
expect "kgctl: delete's flags that start with --f" "--filename" "$kgctl" delete --f
expect "kgctl: node set" "set" "$kgctl" node ""
expect_has "kgctl: node set's keys" "pod-cidr=" "$kgctl" node set a ""
expect_has "kgctl: connect's own flags, such as --log-level" --log-level "$kgctl" connect --lo
expect "kgctl: connect --log-level's values" "all debug error info none warn" "$kgctl" connect --log-level ""
expect "kgctl: --mesh-granularity's values after the command" "cross full location" "$kgctl" graph --mesh-granularity ""
expect "kgctl: --mesh completes file names" "$tmp/keys/node.key" "$kgctl" solve --mesh "$tmp/keys/"
expect "kgctl: genkey has no flag to offer but --help" "--help" "$kgctl" genkey --
expect "kgctl: apply's --wg-backend values" "kernel" "$kgctl" apply --wg-backend k

finish
