#!/usr/bin/env bash
# Traffic that crosses the WireGuard device still flows with kg --bpf on: two
# nodes on one bridge, each running kg with wireguard-go and the load
# balancer's programs (kilo_lb_from_l3dev on the WireGuard link, which has no
# Ethernet header; kilo_lb_from_netdev on eth0). Their pods reach each other
# through the tunnel, and the programs count the packets as passed, none as
# malformed.
#
# Usage: test_kg_bpf_tunnel.sh KG KGCTL     Prints "N passed, N failed"; exit 77 to skip.
set -uo pipefail

# shellcheck source=../checks.sh
source "$(dirname "$0")/../checks.sh"

kg="$(realpath "${1:?usage: test_kg_bpf_tunnel.sh KG KGCTL}")"
kgctl="$(realpath "${2:?usage: test_kg_bpf_tunnel.sh KG KGCTL}")"
skip_unless_root_with wireguard-go ip ping tc

id=$$
net="kl-lt$id-net"
nodes=(a b)
tmp="$(mktemp -d)"
declare -A pid=()

ns() { echo "kl-lt$id-$1"; }
iface() { printf 'kllt%05d%s' $((id % 100000)) "$1"; }

cleanup() {
	local n
	for n in "${nodes[@]}"; do
		stop_process "${pid[$n]:-}"
		wg_node_del "$n"
	done
	ip netns del "$net" 2>/dev/null
	umount "$tmp/bpf" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/bpf"
mount -t bpf bpf "$tmp/bpf" || { echo "cannot mount bpffs: skipped"; exit 77; }
bridge_add "$net"
i=0
for n in "${nodes[@]}"; do
	i=$((i + 1))
	bridge_node "$net" "$(ns "$n")" "kl$id$n" "192.168.76.$i/24" 192.168.76.254 "10.2.$i.1/24"
done

pings() { in_ns "$1" ping -c 1 -W 1 "10.2.$2.1" >/dev/null 2>&1; }
check "pods do not reach each other before the agents run" eval '! pings a 2 && ! pings b 1'

i=0
for n in "${nodes[@]}"; do
	i=$((i + 1))
	ip netns exec "$(ns "$n")" "$kg" --store "file:$tmp/store" --hostname "$n" --location "$n" \
		--pod-cidr "10.2.$i.0/24" --private-key "$tmp/$n/key" --interface "$(iface "$n")" --wg-backend userspace \
		--userspace-wireguard wireguard-go --encapsulate never --cni=false --listen 127.0.0.1:1107 \
		--bpf on --bpf-pin-dir "$tmp/bpf/$n" --bpf-cgroup "" 2>>"$tmp/kg-$n.log" &
	pid[$n]=$!
done

mesh_up() { pings a 2 && pings b 1; }
check "pods reach each other through the tunnel with --bpf on" eventually 100 mesh_up
runs() { in_ns "$1" tc filter show dev "$2" ingress 2>/dev/null | grep 'handle 0x6b6c' | grep -q "$3"; }
check "the WireGuard link runs kilo_lb_from_l3dev" runs a "$(iface a)" kilo_lb_from_l3
check "eth0 runs kilo_lb_from_netdev" runs a eth0 kilo_lb_from_ne
counted() {
	"$kgctl" bpf stats --pin-dir "$tmp/bpf/a" >"$tmp/stats" &&
		grep -qE '^pass +[1-9]' "$tmp/stats" && grep -qE '^drop_malformed +0 ' "$tmp/stats"
}
check "the programs passed the tunnel's packets and found none malformed" counted

if ((failed)); then
	for n in "${nodes[@]}"; do tail -n 20 "$tmp/kg-$n.log" | sed "s/^/    kg $n: /"; done
	sed 's/^/    /' "$tmp/stats" 2>/dev/null
fi
finish
