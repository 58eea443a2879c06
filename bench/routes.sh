#!/usr/bin/env bash
# Runs bench-routes on a dummy link in a network namespace of its own, and
# removes it afterwards. Usage: bench/routes.sh BENCH-ROUTES [bench-routes flags...]
set -euo pipefail
bench="$(realpath "${1:?usage: routes.sh BENCH-ROUTES [flags]}")"
shift
ns="kb-rt-$$"
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
ip netns add "$ns"
ip -n "$ns" link add kbrt0 type veth peer name kbrt1
ip -n "$ns" link set kbrt0 up
ip -n "$ns" addr add 10.9.0.1/24 dev kbrt0
ip netns exec "$ns" "$bench" --link kbrt0 "$@"
