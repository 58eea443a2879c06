#!/usr/bin/env bash
# The cluster of test_cluster.sh (lib.sh: three locations of two nodes, the
# third behind a NAT router, CNI pods, kg with wireguard-go on every node) on a
# three-member etcd instead of a directory: the members share a namespace on
# the public bridge (192.0.2.241-243, tests/etcd/cluster.sh), and every kg runs
# with --store etcd://192.0.2.241:2379,192.0.2.242:2379,192.0.2.243:2379/test.
# The failures of issue 9: the etcd leader killed, no quorum, an agent cut off
# from etcd, a location leader's agent killed, a compaction, TLS with the
# right and the wrong CA.
#
# Usage: test_cluster_etcd.sh KGCTL KG     prints ok/FAIL lines; exits 77 to skip.
set -uo pipefail

here="$(dirname "$(realpath "$0")")"
KGCTL="$(realpath "${1:?usage: test_cluster_etcd.sh KGCTL KG}")"
KG="$(realpath "${2:?usage: test_cluster_etcd.sh KGCTL KG}" 2>/dev/null)"
if [[ ! -x "$KG" ]]; then
	echo "skip: kg is not built ($2)"
	exit 77
fi
CLUSTER_LOCATIONS=3
CLUSTER_PER_LOCATION=2
CLUSTER_NAT_LOCATION=3
CLUSTER_GRANULARITY=location
CLUSTER_DUAL_STACK=0
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=../../etcd/cluster.sh
source "$here/../../etcd/cluster.sh"
skip_unless_ready wireguard-go wg nft ip ping jq curl etcd etcdctl openssl

ETCD_ADDRS=(192.0.2.241 192.0.2.242 192.0.2.243)
prefix=/kilo/test

# ---- what the agents and etcd hold -------------------------------------------

node_keys() { etcd_ctl get --prefix "$prefix/nodes/" --keys-only | grep -c .; }

# Every node's record is in etcd, each attached to a lease.
records_on_leases() {
	local json
	json="$(etcd_ctl get --prefix "$prefix/nodes/" -w json)" || return 1
	jq -e --argjson n "${#node_ids[@]}" '[.kvs[]? | select(.lease != null and .lease != 0)] | length == $n' \
		<<<"$json" >/dev/null || { echo "    records: $(jq -c '[.kvs[]? | {key, lease}]' <<<"$json")"; return 1; }
}

revision() { etcd_ctl get --prefix "$prefix/" --keys-only --limit 1 -w json | jq -r .header.revision; }

# At steady state etcd sees keep-alives only: no write for SECONDS (prints those there were).
no_writes_for() {
	local events
	events="$(timeout "$1" ip netns exec "$etcd_ns" etcdctl --endpoints "$(etcd_client_url 1)" \
		watch --prefix "$prefix/" 2>&1)"
	[[ -z "$events" ]] || { sed -n 's|^/kilo/|    written: /kilo/|p' <<<"$events" | sort | uniq -c; return 1; }
}

# Once what the agents discover is written (a NATed node's endpoint, as leaders
# see it), a window of 12 s without a write; at most three windows.
steady_state_quiet() {
	local try
	for try in 1 2 3; do
		no_writes_for 12 && return 0
		log "settling ($try): the writes above"
	done
	return 1
}

# What kg on node I has set up: the device's peers (key, allowed IPs), routes and rules.
node_state() {
	in_node "$1" wg show "$(wg_if "$1")" dump | tail -n +2 | cut -f1,4 | sort
	ip -n "$(ns_node "$1")" route show table all
	ip -n "$(ns_node "$1")" rule show
}

save_states() {
	local i
	for i in "${node_ids[@]}"; do
		node_state "$i" >"$tmp/state-n$i"
	done
}

# The agents I... have what save_states saw, and still run.
states_unchanged() {
	local i bad=()
	for i; do
		agent_alive "$i" || { bad+=("n$i"); continue; }
		node_state "$i" >"$tmp/state-n$i.now"
		diff "$tmp/state-n$i" "$tmp/state-n$i.now" | sed "s/^/    n$i: /"
		cmp -s "$tmp/state-n$i" "$tmp/state-n$i.now" || bad+=("n$i")
	done
	((${#bad[@]} == 0)) || { echo "    changed or gone: ${bad[*]}"; return 1; }
}

# /health answers 200 and says the store is unreachable; /metrics says kilo_store_up 0.
store_down_reported() {
	local i
	for i; do
		agent_get "$i" /health | grep -q 'store: unreachable' || return 1
		agent_get "$i" /metrics | grep -qx 'kilo_store_up 0' || return 1
	done
}

store_up() { agent_get "$1" /metrics | grep -qx 'kilo_store_up 1'; }

# all_store_up I...: the agents on I... see the store again.
all_store_up() {
	local i
	for i; do
		wait_for 15 store_up "$i" || { echo "    n$i: kilo_store_up is not 1"; return 1; }
	done
}

# ping_start S D SECONDS: pod S pings pod D every 0.1 s for SECONDS, in the background.
ping_start() {
	ip netns exec "$(ns_pod "$1")" ping -n -q -i 0.1 -w "$3" "${pod_ip[$2]}" >"$tmp/log/ping-$1-$2" 2>&1 &
	ping_pid=$!
}

# ping_loss S D: the loss, in percent, of ping_start's ping once it is over (wait for it first:
# a command substitution cannot).
ping_loss() {
	sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$tmp/log/ping-$1-$2"
}

# ---- scenarios ----------------------------------------------------------------

mesh_on_etcd() {
	check "the pods are attached by the CNI plugins" pods_with_kilo_conflist
	check "kg starts on every node with an etcd store and serves /health" agents_start_all
	check "kg writes each node's CNI configuration; pods attach with it" pods_with_kg_conflist
	check "every pod reaches every pod" matrix 15
	check "every node's record is in etcd, on a lease" records_on_leases
	check "at steady state the agents write nothing to etcd for 12 s (keep-alives only)" steady_state_quiet
}

# n4 leaves cleanly; the etcd leader is killed; n4 joins again, and is reached.
etcd_leader_dies() {
	local leader loss
	agent_stop 4 TERM
	check "a node that stops cleanly drops out: other locations' pods no longer reach its pod" \
		wait_for 5 dark_to 4 1 5
	leader="$(etcd_leader)"
	ping_start 5 1 8
	sleep 1
	etcd_kill "$leader"
	log "etcd: member $leader, the leader, killed"
	check "another etcd member leads" wait_for 10 eval "etcd_leader >/dev/null"
	agent_start 4
	check "a node that joins after the etcd leader died is reached" matrix 10 --only-to 4
	wait "$ping_pid"
	loss="$(ping_loss 5 1)"
	check "pod5 -> pod1 loses no ping while the etcd leader dies (${loss:-?}%)" eval '[[ "$loss" == 0 ]]'
	etcd_restart "$leader"
	check "the killed member comes back" etcd_wait_quorum 20
}

# Two members down: no quorum. The agents keep their plan; n4's agent dies in
# the meantime, and once etcd is back its lease expires and the others drop it.
no_quorum() {
	local a b loss
	save_states
	a="$(etcd_leader)"
	b=$((a % 3 + 1))
	ping_start 5 1 $((READY_WINDOW * 3))
	etcd_kill "$a"
	etcd_kill "$b"
	log "etcd: members $a and $b killed, no quorum"
	sleep $((READY_WINDOW * 2))
	check "without a quorum every agent runs on, its peers, routes and rules unchanged" \
		states_unchanged "${node_ids[@]}"
	check "without a quorum /health answers 200 and says so, /metrics has kilo_store_up 0" \
		wait_for 10 store_down_reported "${node_ids[@]}"
	check "without a quorum every pod reaches every pod" matrix 5
	wait "$ping_pid"
	loss="$(ping_loss 5 1)"
	check "pod5 -> pod1 loses no ping while etcd has no quorum (${loss:-?}%)" eval '[[ "$loss" == 0 ]]'
	agent_stop 4 KILL
	etcd_restart "$a"
	etcd_restart "$b"
	check "both members come back: a quorum" etcd_wait_quorum 20
	check "the agents see the store again (kilo_store_up 1)" all_store_up 1 2 3 5 6
	check "they catch up: n4, killed meanwhile, drops out when its lease expires" \
		wait_for $((READY_WINDOW + 10)) dark_to 4 1 5
	agent_start 4
	check "n4 comes back and is reached" matrix 10 --only-to 4
}

# n2's packets to etcd are dropped for longer than its lease: n2 keeps what it
# set up. Meanwhile n6 leaves and etcd is compacted past n2's watch, so n2 must
# list again to learn it: its route to pod6's CIDR goes.
partitioned() {
	local rev
	wait_for 5 eval "ip -n $(ns_node 2) route show 10.2.6.0/24 | grep -q ." ||
		{ check "n2 routes pod6's CIDR before the partition" false; return; }
	node_state 2 >"$tmp/state-n2"
	etcd_partition "$(ns_node 2)"
	log "n2 cut off from etcd"
	agent_stop 6 TERM
	sleep $((READY_WINDOW + 2))
	rev="$(revision)"
	etcd_ctl compact "$rev" --physical >/dev/null
	check "n2, cut off from etcd, runs on, its peers, routes and rules unchanged" states_unchanged 2
	check "n2 reports the store unreachable on /health and /metrics" wait_for 10 store_down_reported 2
	check "the other locations' pods reach each other without n2" matrix 5 --skip 2 --skip 6
	etcd_heal "$(ns_node 2)"
	check "back in touch, n2 learns past the compaction that n6 left: its route goes" \
		wait_for 15 eval "! ip -n $(ns_node 2) route show 10.2.6.0/24 | grep -q ."
	agent_start 6
	check "n2 and n6 are back: every pod reaches every pod" matrix 15
}

# A compaction to the current revision while every agent watches: a change after it is followed.
compaction() {
	etcd_ctl compact "$(revision)" --physical >/dev/null
	agent_stop 4 TERM
	check "after a compaction the agents follow a node leaving" wait_for 10 dark_to 4 1 5
	agent_start 4
	check "and the node joining again" matrix 10 --only-to 4
}

# The TLS cluster, from scratch: a kg trusting another CA is refused with a
# clear error, the right CA works.
tls() {
	local i
	for i in "${node_ids[@]}"; do
		agent_stop "$i" TERM
	done
	check "SIGTERM revokes every lease: etcd holds no node" eval '[[ "$(node_keys)" == 0 ]]'
	etcd_stop_all
	# The wrong CA: one of another set, that signed nothing of this cluster's.
	check "openssl makes the certificates" eval 'etcd_make_tls "$tmp/tls" "${ETCD_ADDRS[@]}" && etcd_make_tls "$tmp/other"'
	check "a TLS etcd comes up" etcd_cluster_up "kc$id-etcd" "$(ns_net)" "$tmp/etcd-tls" "$tmp/tls" "${ETCD_ADDRS[@]}"
	CLUSTER_STORE="etcds://$(etcd_endpoints)/test"
	local -a creds=(--etcd-cert "$tmp/tls/client.pem" --etcd-key "$tmp/tls/client-key.pem")
	agent_start 1 --etcd-cacert "$tmp/other/ca.pem" "${creds[@]}"
	check "kg trusting the wrong CA says so: certificate verify failed" \
		wait_for 10 grep -qF "certificate verify failed" "$tmp/log/kg-n1.log"
	check "and its node is not in etcd" eval '[[ "$(node_keys)" == 0 ]]'
	agent_stop 1 TERM
	check "with the right CA every kg starts" agents_start_all --etcd-cacert "$tmp/tls/ca.pem" "${creds[@]}"
	check "over TLS every pod reaches every pod" matrix 15
	check "over TLS every node's record is in etcd, on a lease" records_on_leases
}

cluster_init
trap 'etcd_cluster_down; rm -rf "$ETCD_STATE"; cluster_down' EXIT
network_up
if ! etcd_cluster_up "kc$id-etcd" "$(ns_net)" "$tmp/etcd" "" "${ETCD_ADDRS[@]}"; then
	echo "FAIL - three etcd members come up"
	tail -5 "$tmp"/etcd/m*/log
	exit 1
fi
CLUSTER_STORE="etcd://$(etcd_endpoints)/test"
mesh_on_etcd
etcd_leader_dies
no_quorum
partitioned
compaction
leader_failover
agent_start 1
check "n1 comes back and the matrix is whole" eval 'wait_for 10 healthy 1 && matrix 15'
tls
finish
