#!/usr/bin/env bash
# Two nodes in two network namespaces on one bridge, each running kg with
# wireguard-go on a shared file store. Proves that the agents find their
# IPs, publish themselves and build the tunnel on their own (pods reach each
# other, and did not before), serve /health, /metrics and /graph, write the
# CNI configuration, that SIGTERM removes a node from the store at once,
# and that a killed node drops out by liveness. Kilo's flags: --service-cidr
# becomes a RETURN before the masquerade, --log-level filters kg's lines,
# --clean-up-interface decides whether SIGTERM deletes the link, and
# --no-create-interface uses the link that is there or fails naming it.
#
# Usage: test_agent.sh KG      Prints "N passed, N failed"; exit 77 to skip.
set -uo pipefail

# shellcheck source=../checks.sh
source "$(dirname "$0")/../checks.sh"

kg="$(realpath "${1:?usage: test_agent.sh KG}")"
skip_unless_root_with wireguard-go wg ip ping curl jq

id=$$
net="kt-ag$id-net"
nodes=(a b)
tmp="$(mktemp -d)"
store="$tmp/store"
declare -A pid=()

ns() { echo "kt-ag$id-$1"; }
iface() { printf 'ktag%05d%s' $((id % 100000)) "$1"; }

cleanup() {
	local n
	for n in "${nodes[@]}"; do
		stop_process "${pid[$n]:-}"
		wg_node_del "$n"
	done
	ip netns del "$net" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# ---- the network: node i has 192.168.77.i on the bridge and pods 10.2.i.0/24 ----
bridge_add "$net"
i=0
for n in "${nodes[@]}"; do
	i=$((i + 1))
	bridge_node "$net" "$(ns "$n")" "kt$id$n" "192.168.77.$i/24" 192.168.77.254 "10.2.$i.1/24"
done

pings() { in_ns "$1" ping -c 1 -W 1 "10.2.$2.1" >/dev/null 2>&1; }
no_pings_before() { ! pings a 2 && ! pings b 1; }
check "pods do not reach each other before the agents run" no_pings_before

# kg_args N I [FLAG...]: sets args to kg's flags for node N (pods 10.2.I.0/24).
kg_args() {
	local n="$1" i="$2"
	shift 2
	args=(--store "file:$store" --hostname "$n" --location "$n" --pod-cidr "10.2.$i.0/24"
		--private-key "$tmp/$n/key" --interface "$(iface "$n")" --wg-backend userspace
		--userspace-wireguard wireguard-go --encapsulate never --cni-path "$tmp/$n.conflist"
		--listen 127.0.0.1:1107 "$@")
}

# start N I [FLAG...]: kg for node N in the background.
start() {
	kg_args "$@"
	# Not through in_ns or a function: $! must be kg itself (ip netns exec execs it).
	ip netns exec "$(ns "$1")" "$kg" "${args[@]}" 2>>"$tmp/kg-$1.log" &
	pid[$1]=$!
}
# No resync during the test: the check of an unchanged NAT table below must see only store-driven reconciles.
start a 1 --service-cidr 10.96.0.0/12 --resync-period 1h
start b 2 --clean-up-interface --log-level error

both_published() { [[ -f "$store/nodes/a.json" && -f "$store/nodes/b.json" ]]; }
check "both agents publish themselves in the store" eventually 50 both_published

mesh_up() { pings a 2 && pings b 1; }
check "pods reach each other through the tunnel the agents built" eventually 100 mesh_up

endpoint_discovered() { grep -q '"endpoint": *"192.168.77.1:51820"' "$store/nodes/a.json"; }
check "node a advertises its discovered IP" endpoint_discovered

key_private() { [[ "$(stat -c %a "$tmp/a/key")" == 600 ]]; }
check "the private key is made with mode 0600" key_private

http() { in_ns "$1" curl -sS -m 2 -o "$tmp/body" -w '%{http_code}' "http://127.0.0.1:1107$2"; }
health_ok() { [[ "$(http a /health)" == 200 ]]; }
check "/health answers 200" eventually 30 health_ok

metrics_ok() {
	[[ "$(http a /metrics)" == 200 ]] && grep -q '^kilo_nodes 2$' "$tmp/body" &&
		grep -q '^kilo_leader 1$' "$tmp/body" && grep -q '^kilo_peer_receive_bytes{public_key="' "$tmp/body"
}
check "/metrics counts the nodes and the peer's bytes" eventually 30 metrics_ok

graph_ok() { [[ "$(http b '/graph?format=dot')" == 200 ]] && grep -q '^digraph' "$tmp/body"; }
check "/graph serves the topology as DOT" graph_ok

cni_ok() { grep -q '"subnet": "10.2.1.0/24"' "$tmp/a.conflist" && grep -q '"type": "host-local"' "$tmp/a.conflist"; }
check "the CNI configuration holds the pod CIDR" cni_ok

# Kilo's RETURN for service CIDRs comes before the masquerade of what is left.
service_return() {
	in_ns a nft list table ip kilo >"$tmp/nft-a" 2>&1 &&
		grep -n 'ip daddr 10.96.0.0/12 .*return' "$tmp/nft-a" | cut -d: -f1 >"$tmp/return-line" &&
		grep -n 'masquerade' "$tmp/nft-a" | cut -d: -f1 | head -1 >"$tmp/masquerade-line" &&
		(($(cat "$tmp/return-line") < $(cat "$tmp/masquerade-line")))
}
check "--service-cidr 10.96.0.0/12 returns its traffic before the masquerade" service_return
check "a node without --service-cidr has no such return" eval '! in_ns b nft list table ip kilo | grep -q "10.96.0.0/12"'

# A VPN peer that moves: a new WireGuard configuration, the same NAT rules.
# Replacing the tables would give every rule a new handle.
peer_key="$(wg genkey | wg pubkey)"
write_peer() {
	printf '{"name": "p", "publicKey": "%s", "allowedIPs": ["10.5.0.1/32"], "endpoint": "%s"}\n' \
		"$peer_key" "$1" >"$store/peers/p.json.tmp" && mv "$store/peers/p.json.tmp" "$store/peers/p.json"
}
endpoint_is() { [[ "$(in_ns a wg show "$(iface a)" endpoints | grep "$peer_key" | cut -f2)" == "$1" ]]; }
nat_with_handles() { in_ns a nft -a list table ip kilo; }
mkdir -p "$store/peers"
write_peer 192.168.77.50:51820
check "a new VPN peer reaches the device and the NAT rules" \
	eventually 50 eval 'endpoint_is 192.168.77.50:51820 && nat_with_handles | grep -q 10.5.0.1'
nat_with_handles >"$tmp/nat-before"
write_peer 192.168.77.51:51820
check "a peer's new endpoint reaches the device" eventually 50 endpoint_is 192.168.77.51:51820
check "and leaves the NAT tables as they were (not replaced)" eval 'nat_with_handles | diff "$tmp/nat-before" -'
rm -f "$store/peers/p.json"
check "a removed peer leaves the NAT rules" eventually 50 eval '! nat_with_handles | grep -q 10.5.0.1'

check "kg logs its info lines by default" grep -q "node a joined the mesh" "$tmp/kg-a.log"
check "--log-level error leaves them out" eval '! grep -q "joined the mesh" "$tmp/kg-b.log"'

stop_b() {
	kill -TERM "${pid[b]}" && wait "${pid[b]}"
	local status=$?
	pid[b]=""
	[[ $status -eq 0 ]]
}
check "SIGTERM stops kg cleanly" stop_b
check "a stopped node leaves the store at once" eval '[[ ! -e "$store/nodes/b.json" ]]'
link_gone() { ! in_ns b ip link show "$(iface b)" >/dev/null 2>&1; }
check "with --clean-up-interface a stopped node removes its WireGuard link" eventually 30 link_gone
one_node() { http a /metrics >/dev/null && grep -q '^kilo_nodes 1$' "$tmp/body"; }
check "the other agent drops it at once" eventually 20 one_node

# A node that dies without cleaning up drops out when its heartbeat is older
# than the readiness window (6 s), and the tunnel to it goes.
start b 2 --resync-period 2s
check "a restarted node rejoins" eventually 100 mesh_up

# Between resyncs the agent compares the device with what it sent, not
# with the device: a peer someone removed by hand comes back at the next.
key_a="$(jq -r .publicKey "$store/nodes/a.json")"
has_peer_a() { in_ns b wg show "$(iface b)" peers | grep -qxF "$key_a"; }
check "a peer removed from the device by hand" eval 'in_ns b wg set "$(iface b)" peer "$key_a" remove && ! has_peer_a'
check "is put back by the next resync" eventually 50 has_peer_a
check "and the pods reach each other again" eventually 50 mesh_up
kill_b() {
	kill -KILL "${pid[b]}" && wait "${pid[b]}" 2>/dev/null
	pid[b]=""
	# Its node file stays: only liveness can tell it is gone.
	[[ -e "$store/nodes/b.json" ]]
}
check "SIGKILL leaves the node in the store" kill_b
no_peer() { http a /metrics >/dev/null && grep -q '^kilo_nodes 1$' "$tmp/body" && ! grep -q '^kilo_peer_receive_bytes' "$tmp/body"; }
check "a dead node drops out of the mesh eventually the readiness window" eventually 90 no_peer

# The link outlives a killed kg (its wireguard-go runs in a session of its own).
start b 2 --no-create-interface --clean-up-interface=false
check "--no-create-interface uses the link that is there" eventually 100 mesh_up
check "SIGTERM stops kg cleanly" stop_b
check "--clean-up-interface=false leaves the WireGuard link" eval 'in_ns b ip link show "$(iface b)" >/dev/null'
check "and its node leaves the store" eval '[[ ! -e "$store/nodes/b.json" ]]'
check "and its NAT table goes" eval '! in_ns b nft list table ip kilo >/dev/null 2>&1'
check "and its routes to the other pods go" eval '[[ -z "$(in_ns b ip route show 10.2.1.0/24)" ]]'
start b 2 --no-create-interface --clean-up-interface
check "a node rejoins on the link it left" eventually 100 mesh_up
check "SIGTERM stops kg cleanly" stop_b
check "--clean-up-interface deletes a link kg did not create" eventually 30 link_gone

no_create_fails() {
	kg_args b 2 --no-create-interface
	timeout 30 ip netns exec "$(ns b)" "$kg" "${args[@]}" >"$tmp/no-create.out" 2>"$tmp/no-create.err"
	local status=$?
	((status == 1)) && grep -qF "interface $(iface b): no such WireGuard device" "$tmp/no-create.err" && return 0
	echo "    status $status"
	sed 's/^/    stderr: /' "$tmp/no-create.err"
	return 1
}
check "--no-create-interface without the link fails, naming it" no_create_fails
check "and creates none" link_gone
check "and leaves nothing in the store" eval '[[ ! -e "$store/nodes/b.json" ]]'

if ((failed)); then
	for n in "${nodes[@]}"; do sed "s/^/    kg $n: /" "$tmp/kg-$n.log" | tail -n 20; done
fi
finish
