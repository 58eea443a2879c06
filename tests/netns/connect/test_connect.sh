#!/usr/bin/env bash
# kgctl connect for real: a node namespace runs kg with wireguard-go on a
# file store, a "laptop" namespace on the same bridge runs kgctl connect.
# Proves that the laptop adds itself to the store as a peer, reaches the
# node's pod through the tunnel, and that SIGTERM takes the peer out of the
# store and removes the laptop's WireGuard device and routes. Kilo's
# conventions: connect makes its key where none is given, takes --log-level,
# and both programs measure --mtu auto from the default route's link.
#
# Usage: test_connect.sh KG KGCTL      Prints "N passed, N failed"; exit 77 to skip.
set -uo pipefail

# shellcheck source=../checks.sh
source "$(dirname "$0")/../checks.sh"

kg="$(realpath "${1:?usage: test_connect.sh KG KGCTL}")"
kgctl="$(realpath "${2:?usage: test_connect.sh KG KGCTL}")"
skip_unless_root_with wireguard-go ip ping

tag="kt-cn$$"
tmp="$(mktemp -d)"
store="$tmp/store"
node_if="$(printf 'ktcn%05dn' $(($$ % 100000)))"
laptop_if="$(printf 'ktcn%05dl' $(($$ % 100000)))"
kg_pid=""
conn_pid=""

# Ends a process started here: TERM, a bounded wait, then KILL.
stop_pid() {
	[[ -n "$1" ]] || return 0
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq 30); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
}

cleanup() {
	stop_pid "$conn_pid"
	stop_pid "$kg_pid"
	ip -n "$tag-laptop" link del "$laptop_if" 2>/dev/null
	ip -n "$tag-node" link del "$node_if" 2>/dev/null
	for n in laptop node br; do ip netns del "$tag-$n" 2>/dev/null; done
	rm -f "/var/run/wireguard/$laptop_if.sock" "/var/run/wireguard/$node_if.sock"
	rm -rf "$tmp"
}
trap cleanup EXIT

# ---- the network: node 192.168.78.1 (pod 10.2.1.1, private 172.20.0.1), laptop 192.168.78.2 ----
ip netns add "$tag-br"
ip -n "$tag-br" link add br0 type bridge
ip -n "$tag-br" link set br0 up
host=0
for n in node laptop; do
	host=$((host + 1))
	ip netns add "$tag-$n"
	ip link add "ktcn$$$host" netns "$tag-br" type veth peer name eth0 netns "$tag-$n"
	ip -n "$tag-br" link set "ktcn$$$host" master br0 up
	ip -n "$tag-$n" link set lo up
	ip -n "$tag-$n" addr add "192.168.78.$host/24" dev eth0
	ip -n "$tag-$n" link set eth0 up
done
ip netns exec "$tag-node" sysctl -qw net.ipv4.ip_forward=1
# kg finds its IPs through the default route's interface; nothing is routed there.
ip -n "$tag-node" route add default via 192.168.78.254
ip -n "$tag-laptop" route add default via 192.168.78.254
# --mtu auto measures the default route's link: 1450 - 80 on the node, 1400 - 80 on the laptop.
ip -n "$tag-node" link set eth0 mtu 1450
ip -n "$tag-laptop" link set eth0 mtu 1400
ip -n "$tag-node" link add pod0 type veth peer name pod1
ip -n "$tag-node" addr add 10.2.1.1/24 dev pod0
ip -n "$tag-node" link set pod0 up
ip -n "$tag-node" link set pod1 up
# The node's private network is not the laptop's way in: the laptop routes the
# node's internal IP into the tunnel, which must not swallow the endpoint.
ip -n "$tag-node" link add lan0 type veth peer name lan1
ip -n "$tag-node" addr add 172.20.0.1/24 dev lan0
ip -n "$tag-node" link set lan0 up
ip -n "$tag-node" link set lan1 up

ip netns exec "$tag-node" "$kg" --store "file:$store" --hostname node --location here --pod-cidr 10.2.1.0/24 \
	--private-key "$tmp/node.key" --interface "$node_if" --wg-backend userspace --userspace-wireguard wireguard-go --mtu auto \
	--force-internal-ip 172.20.0.1/24 --force-endpoint 192.168.78.1:51820 --encapsulate never --cni-path "$tmp/node.conflist" --listen 127.0.0.1:1107 2>>"$tmp/kg.log" &
kg_pid=$!
node_published() { [[ -f "$store/nodes/node.json" ]]; }
check "kg publishes the node" eventually 50 node_published

pod_reached() { ip netns exec "$tag-laptop" ping -c 1 -W 1 10.2.1.1 >/dev/null 2>&1; }
check "the laptop does not reach the pod before it connects" eval '! pod_reached'

# No --private-key: the key is made in $STATE_DIRECTORY, as under a unit with StateDirectory=.
mkdir -m 0700 "$tmp/state"
STATE_DIRECTORY="$tmp/state" ip netns exec "$tag-laptop" "$kgctl" connect laptop --store "file:$store" \
	--interface "$laptop_if" --wg-backend userspace --userspace-wireguard wireguard-go --allowed-ip 10.10.10.10/32 \
	--allowed-ips 10.96.0.0/12 --resync-period 2s --mtu auto --log-level debug 2>>"$tmp/connect.log" &
conn_pid=$!

peer_stored() { grep -q '"10.10.10.10/32"' "$store/peers/laptop.json" 2>/dev/null; }
check "kgctl connect adds the peer to the store" eventually 50 peer_stored
key_private() { [[ "$(stat -c %a "$tmp/state/connect-laptop.key" 2>/dev/null)" == 600 ]]; }
check "connect without --private-key makes the key in \$STATE_DIRECTORY/connect-laptop.key, mode 0600" key_private
key_stored() {
	local made stored
	made="$(wg pubkey <"$tmp/state/connect-laptop.key")" && stored="$(jq -r .publicKey "$store/peers/laptop.json")" &&
		[[ -n "$made" && "$made" == "$stored" ]]
}
check "the peer in the store has that key's public key" key_stored
check "connect --log-level debug says where its key is" grep -q "with the key $tmp/state/connect-laptop.key" "$tmp/connect.log"
link_mtu() { [[ "$(ip -n "$tag-$1" -o link show "$2" 2>/dev/null | grep -o 'mtu [0-9]*')" == "mtu $3" ]]; }
check "kg --mtu auto: the node's WireGuard link takes eth0's 1450 less 80" eventually 50 link_mtu node "$node_if" 1370
check "connect --mtu auto: the laptop's device takes eth0's 1400 less 80" link_mtu laptop "$laptop_if" 1320
check "the laptop reaches the node's pod through the tunnel" eventually 100 pod_reached
if ((failed)); then
	for n in node laptop; do
		ip -n "$tag-$n" -br addr 2>&1 | sed "s/^/    $n addr: /"
		ip -n "$tag-$n" route 2>&1 | sed "s/^/    $n route: /"
	done
	ip netns exec "$tag-laptop" wg show "$laptop_if" 2>&1 | sed 's/^/    laptop wg: /'
	ip netns exec "$tag-node" wg show "$node_if" 2>&1 | sed 's/^/    node wg: /'
fi
private_reached() { ip netns exec "$tag-laptop" ping -c 1 -W 1 172.20.0.1 >/dev/null 2>&1; }
check "the laptop reaches the node's private IP" eventually 30 private_reached
extra_routed() { ip -n "$tag-laptop" route show 10.96.0.0/12 | grep -q "dev $laptop_if"; }
check "--allowed-ips are routed into the device" extra_routed

stop_connect() {
	kill -TERM "$conn_pid" && wait "$conn_pid"
	local status=$?
	conn_pid=""
	[[ $status -eq 0 ]]
}
check "SIGTERM stops kgctl connect cleanly" stop_connect
check "the peer leaves the store" eval '[[ ! -e "$store/peers/laptop.json" ]]'
check "the laptop's WireGuard device is gone" eval '! ip -n "$tag-laptop" link show "$laptop_if" >/dev/null 2>&1'
check "the laptop's routes are gone" eval '[[ -z "$(ip -n "$tag-laptop" route show proto 75)" ]]'

if ((failed)); then
	sed 's/^/    kg: /' "$tmp/kg.log" | tail -n 20
	sed 's/^/    connect: /' "$tmp/connect.log" | tail -n 20
fi
finish
