#!/usr/bin/env bash
# kg's network policy sync at scale (bench/agent_policy.c): a bpffs and a
# file store of the run's own, removed at the end. Root. Never part of the
# test run.
#
# Usage: bench/agent-policy.sh BENCH-AGENT-POLICY [PODS [POLICIES [ROUNDS [SERVICES]]]]   (default 10000 1000 5 0)
set -uo pipefail

bench="$(realpath "${1:?usage: agent-policy.sh BENCH-AGENT-POLICY [PODS [POLICIES [ROUNDS]]]}")"
dir="$(mktemp -d /tmp/kilo-bench-agent-policy.XXXXXX)"
cleanup() {
	umount "$dir/bpf" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
mkdir -p "$dir/bpf" "$dir/store"
mount -t bpf bpf "$dir/bpf" || { echo "agent-policy: cannot mount a bpffs (root?)" >&2; exit 1; }
echo "# bench/agent-policy.sh $bench ${2:-10000} ${3:-1000} ${4:-5} ${5:-0}"
"$bench" "$dir/bpf/kilo" "$dir/store" "${2:-10000}" "${3:-1000}" "${4:-5}" "${5:-0}"
