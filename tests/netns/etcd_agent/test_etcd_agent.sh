#!/usr/bin/env bash
# Two kg agents on one etcd member (Debian's etcd-server, in the test's own
# bridge namespace): they see each other and build the tunnel; at steady
# state etcd sees lease keep-alives only (its revision does not move over
# three heartbeat periods); /health and /metrics tell when etcd is gone while
# the mesh keeps forwarding, and the agents catch up when it is back; a
# killed kg's node vanishes when its lease (TTL = the ready window) runs out
# and the other agent drops it; a stopped kg revokes its lease (its node goes
# at once); kgctl status shows the store.
#
# Usage: test_etcd_agent.sh KG KGCTL   Prints "N passed, N failed"; exit 77 to skip.
set -uo pipefail

# shellcheck source=../checks.sh
source "$(dirname "$0")/../checks.sh"

kg="$(realpath "${1:?usage: test_etcd_agent.sh KG KGCTL}")"
kgctl="$(realpath "${2:?usage: test_etcd_agent.sh KG KGCTL}")"
skip_unless_root_with wireguard-go wg ip ping curl etcdctl
[[ -x "${ETCD_BIN:-/usr/bin/etcd}" ]] || { echo "skip: etcd is not installed"; exit 77; }

id=$$
net="ke-ea$id-net"
nodes=(a b)
conn_pid=""
tmp="$(mktemp -d)"
export ETCD_STATE="$tmp/etcd-state"
mkdir -p "$ETCD_STATE"
# shellcheck source=../../etcd/lib.sh
source "$(dirname "$0")/../../etcd/lib.sh"
declare -A pid=()
etcd_ip=192.168.78.200
etcd_url="http://$etcd_ip:2379"
store="etcd://$etcd_ip:2379/t$id"
# The ready window: the lease's TTL, and how long a killed node stays.
window=6

ns() { echo "ke-ea$id-$1"; }
iface() { printf 'keea%05d%s' $((id % 100000)) "$1"; }

cleanup() {
	local n
	[[ -n "$conn_pid" ]] && kill -TERM "$conn_pid" 2>/dev/null && wait "$conn_pid" 2>/dev/null
	ip -n "$(ns l)" link del "$(iface l)" 2>/dev/null
	ip netns del "$(ns l)" 2>/dev/null
	for n in "${nodes[@]}"; do
		stop_process "${pid[$n]:-}"
		wg_node_del "$n"
	done
	etcd_stop_all
	ip netns del "$net" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# ---- the network: node i has 192.168.78.i on the bridge, etcd .200, pods 10.2.i.0/24 ----
bridge_add "$net" "$etcd_ip/24"
i=0
for n in "${nodes[@]}"; do
	i=$((i + 1))
	bridge_node "$net" "$(ns "$n")" "ke$id$n" "192.168.78.$i/24" 192.168.78.254 "10.2.$i.1/24"
done

# A laptop on the bridge (192.168.78.9), for kgctl connect.
bridge_host "$net" "$(ns l)" "ke${id}l" 192.168.78.9/24

etcd_start_member e1 "$tmp/etcd" "$etcd_url" "http://$etcd_ip:2380" "e1=http://$etcd_ip:2380" "$net"
check "etcd starts in the test's namespace" ip netns exec "$net" bash -c "source '$(dirname "$0")/../../etcd/lib.sh'; etcd_wait_healthy '$etcd_url'"

etcdctl_() { ip netns exec "$net" etcdctl --endpoints="$etcd_url" "$@"; }
keys() { etcdctl_ get --prefix --keys-only "/kilo/t$id/nodes/" | grep -v '^$'; }
revision() { etcdctl_ endpoint status -w json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["Status"]["header"]["revision"])'; }

pings() { in_ns "$1" ping -c 1 -W 1 "10.2.$2.1" >/dev/null 2>&1; }

start() {
	local n="$1" i="$2"
	shift 2
	ip netns exec "$(ns "$n")" "$kg" --store "$store" --hostname "$n" --location "$n" --pod-cidr "10.2.$i.0/24" \
		--private-key "$tmp/$n/key" --interface "$(iface "$n")" --wg-backend userspace \
		--userspace-wireguard wireguard-go --encapsulate never --cni-path "$tmp/$n.conflist" \
		--listen 127.0.0.1:1107 --ready-window "$window" --check-in-period 2 --resync-period 1h "$@" \
		2>>"$tmp/kg-$n.log" &
	pid[$n]=$!
}
start a 1
start b 2

both_published() { [[ "$(keys | wc -l)" -eq 2 ]]; }
check "both agents put their node under /kilo/CLUSTER/nodes/" eventually 100 both_published
attached() { etcdctl_ get "/kilo/t$id/nodes/a" -w json | grep -q '"lease":'; }
check "a node is attached to a lease" attached
mesh_up() { pings a 2 && pings b 1; }
check "pods reach each other through the tunnel the agents built" eventually 150 mesh_up

http() { in_ns "$1" curl -sS -m 2 -o "$tmp/body" -w '%{http_code}' "http://127.0.0.1:1107$2"; }
store_up() {
	[[ "$(http a /metrics)" == 200 ]] && grep -q '^kilo_store_up 1$' "$tmp/body" &&
		grep -qE '^kilo_store_revision [1-9][0-9]*$' "$tmp/body" && grep -q '^kilo_nodes 2$' "$tmp/body"
}
check "/metrics: kilo_store_up 1, the revision, both nodes" eventually 30 store_up

# Steady state: keep-alives only. Three heartbeat periods (2 s each) and a keep-alive period (TTL/3) more.
steady() {
	local before after
	before="$(revision)"
	sleep 8
	after="$(revision)"
	echo "    revision $before -> $after over 8 s"
	[[ -n "$before" && "$before" == "$after" ]]
}
check "at steady state etcd's revision does not move (no puts, keep-alives only)" steady

check "kgctl status shows the store: endpoint, answers, leader, revision" eval \
	'ip netns exec "$net" "$kgctl" status --store "$store" >"$tmp/status" && sed "s/^/    /" "$tmp/status" &&
	grep -qE "^Store: etcd://" "$tmp/status" && grep -qE "^http://$etcd_ip:2379 +yes +yes +[0-9]+ " "$tmp/status"'

# ---- kgctl connect on etcd: the laptop becomes a peer and reaches a pod ----
ip netns exec "$(ns l)" "$kgctl" connect laptop --store "$store" --private-key "$tmp/laptop.key" \
	--interface "$(iface l)" --wg-backend userspace --userspace-wireguard wireguard-go --allowed-ip 10.10.10.10/32 \
	--resync-period 2 2>>"$tmp/connect.log" &
conn_pid=$!
peer_stored() { etcdctl_ get "/kilo/t$id/peers/laptop" | grep -q '10.10.10.10/32'; }
check "kgctl connect puts its peer under /kilo/CLUSTER/peers/" eventually 100 peer_stored
laptop_reaches() { in_ns l ping -c 1 -W 1 10.2.1.1 >/dev/null 2>&1; }
check "the laptop reaches a pod through the tunnel" eventually 150 laptop_reaches
stop_connect() {
	kill -TERM "$conn_pid" && wait "$conn_pid"
	local status=$?
	conn_pid=""
	((status == 0)) && [[ -z "$(etcdctl_ get --prefix --keys-only "/kilo/t$id/peers/")" ]]
}
check "SIGTERM: kgctl connect stops cleanly and its peer leaves etcd" stop_connect

# ---- etcd goes away: the mesh stays, /health and /metrics say so ----
etcd_stop_member e1 KILL
unreachable() {
	[[ "$(http a /health)" == 200 ]] && grep -q '^store: unreachable: ' "$tmp/body" &&
		http a /metrics >/dev/null && grep -q '^kilo_store_up 0$' "$tmp/body"
}
check "etcd killed: /health stays 200 and says store: unreachable" eventually 100 unreachable
# Longer than the ready window: with a file store every node would have dropped out by now.
sleep $((window + 2))
check "etcd gone longer than the ready window: the tunnel still carries the pods' traffic" mesh_up
check "and the device keeps its peer" eval '[[ "$(in_ns a wg show "$(iface a)" peers | wc -l)" -eq 1 ]]'

etcd_restart_member e1
back() {
	[[ "$(http a /health)" == 200 ]] && ! grep -q 'store: unreachable' "$tmp/body" &&
		http a /metrics >/dev/null && grep -q '^kilo_store_up 1$' "$tmp/body"
}
check "etcd back: the agents say so" eventually 200 back
check "both nodes are in etcd again (leases kept or granted again)" eventually 100 both_published
# A change made now reaches the agents: their watch resumed.
ip netns exec "$net" "$kgctl" node set b allowed-location-ips=10.9.9.0/24 --store "$store" >/dev/null 2>>"$tmp/kgctl.log"
caught_up() { in_ns a ip route show 10.9.9.0/24 | grep -q "$(iface a)"; }
check "a change after etcd's return reaches the other agent (a route for b's allowed location IPs)" eventually 100 caught_up
check "node set kept b's lease" eval 'etcdctl_ get "/kilo/t$id/nodes/b" -w json | grep -q "\"lease\":"'

# ---- a lost lease (revoked here, as an expiry would): granted again, the node put again ----
lease_of() { etcdctl_ get "/kilo/t$id/nodes/$1" -w json | python3 -c 'import json, sys; print("%x" % json.load(sys.stdin)["kvs"][0]["lease"])'; }
old_lease="$(lease_of b)"
etcdctl_ lease revoke "$old_lease" >/dev/null
regranted() { both_published && [[ "$(lease_of b)" != "$old_lease" ]]; }
check "a lost lease: kg grants another and puts its node again" eventually 100 regranted
check "and the other agent keeps the tunnel" eventually 50 mesh_up

# ---- a killed kg: its lease runs out, its node goes, the other agent drops it ----
kill -KILL "${pid[b]}" && wait "${pid[b]}" 2>/dev/null
pid[b]=""
one_key() { [[ "$(keys)" == "/kilo/t$id/nodes/a" ]]; }
killed_at=$SECONDS
check "a killed kg's node vanishes from etcd when its lease runs out" eventually 150 one_key
echo "    gone after $((SECONDS - killed_at)) s (TTL $window s)"
no_peer() { [[ "$(http a /metrics)" == 200 ]] && grep -q '^kilo_nodes 1$' "$tmp/body" && [[ -z "$(in_ns a wg show "$(iface a)" peers)" ]]; }
check "and the other agent drops it" eventually 50 no_peer

# ---- a stopped kg revokes its lease: its node goes at once ----
start b 2
check "a restarted node rejoins" eventually 150 mesh_up
stop_b() {
	kill -TERM "${pid[b]}" && wait "${pid[b]}"
	local status=$?
	pid[b]=""
	((status == 0)) && one_key
}
check "SIGTERM: kg stops cleanly and its node leaves etcd at once" stop_b
check "kg logged no sanitizer report (a sanitized build)" eval '! grep -qE "Sanitizer|runtime error" "$tmp"/kg-*.log'

if ((failed)); then
	for n in "${nodes[@]}"; do sed "s/^/    kg $n: /" "$tmp/kg-$n.log" | tail -n 20; done
	sed 's/^/    connect: /' "$tmp/connect.log" | tail -n 10
	tail -n 20 "$tmp/etcd/log" | sed 's/^/    etcd: /'
fi
finish
