#!/usr/bin/env bash
# Runs bench-wg on wireguard-go in a network namespace of its own, and
# removes it afterwards. Usage: bench/wg.sh BENCH-WG [bench-wg flags...]
set -euo pipefail
bench="$(realpath "${1:?usage: wg.sh BENCH-WG [flags]}")"
shift
ns="kb-wg-$$"
ifname="kbwg$$"
cleanup() {
	ip netns exec "$ns" ip link del "$ifname" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -f "/var/run/wireguard/$ifname.sock"
}
trap cleanup EXIT
ip netns add "$ns"
ip netns exec "$ns" "$bench" --interface "$ifname" --backend userspace --userspace-wireguard wireguard-go "$@"
