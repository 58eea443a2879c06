#!/usr/bin/env bash
# The end-to-end cluster of issue 4: three locations of two nodes, the third
# behind a NAT router, real pods attached by the standard CNI plugins, a VPN
# client configured from `kgctl showconf peer`, and a kg agent with
# wireguard-go on every node (see lib.sh for the network).
#
# Usage: test_cluster.sh KGCTL KG      the agents' scenarios
#        test_cluster.sh KGCTL KG --dual-stack
#                                         the same cluster with IPv6 beside IPv4
#                                         everywhere: both matrices, failover and
#                                         the three granularities
#        test_cluster.sh KGCTL --harness  the network and pods alone, meshed
#                                         once by `kgctl apply` (no kg needed)
# Prints ok/FAIL lines and "N passed, N failed"; exits 77 to skip.
set -uo pipefail

here="$(dirname "$(realpath "$0")")"
KGCTL="$(realpath "${1:?usage: test_cluster.sh KGCTL (KG | --harness)}")"
mode="${2:?usage: test_cluster.sh KGCTL (KG | --harness)}"
KG=""
if [[ "$mode" != --harness ]]; then
	KG="$(realpath "$mode" 2>/dev/null)"
	if [[ ! -x "$KG" ]]; then
		echo "skip: kg is not built ($mode)"
		exit 77
	fi
fi
# The issue's cluster; the environment may ask for a bigger one (as bench/mesh.sh does).
CLUSTER_LOCATIONS=${CLUSTER_LOCATIONS:-3}
CLUSTER_PER_LOCATION=${CLUSTER_PER_LOCATION:-2}
CLUSTER_NAT_LOCATION=${CLUSTER_NAT_LOCATION:-$CLUSTER_LOCATIONS}
CLUSTER_GRANULARITY=location
CLUSTER_DUAL_STACK=0
[[ "${3:-}" == --dual-stack ]] && CLUSTER_DUAL_STACK=1
# shellcheck source=lib.sh
source "$here/lib.sh"
skip_unless_ready wireguard-go wg nft ip ping jq curl

# Every failure's snapshot is kept with KEEP_LOGS; without it (as in CI, where
# the output is all that is left) the first failure's is printed.
on_check_failure() {
	if [[ -n "${KEEP_LOGS:-}" ]]; then
		snapshot >"$tmp/log/fail-$failed.txt" 2>&1
	elif ((failed == 1)); then
		snapshot 2>&1 | sed 's/^/    | /'
	fi
}

# What a failed check saw, at the time it failed (kg's log lines carry the
# same clock): every WireGuard device (their sockets are shared, so one
# namespace lists them all), the store's nodes, the VPN client's file, the
# NAT router's UDP mappings, and each node's routes and last log lines.
snapshot() {
	local f i
	echo "time $EPOCHREALTIME"
	# Keys stay secret: an interface line's private key and a peer's preshared key are left out.
	wg show all dump | awk -F '\t' -v OFS='\t' 'NF == 5 { $2 = "-" } NF == 9 { $3 = "-" } 1'
	for f in "$store"/nodes/*.json; do
		jq -c '{name, endpoint, lastSeen, leader, discoveredEndpoints}' "$f"
	done
	cat "$tmp/vpn.conf.peers"
	((CLUSTER_NAT_LOCATION)) &&
		ip netns exec "$(ns_router "$CLUSTER_NAT_LOCATION")" grep udp /proc/net/nf_conntrack
	for i in "${node_ids[@]}"; do
		echo "--- n$i: routes, then the last lines of kg's log"
		in_node "$i" ip route
		tail -n 20 "$tmp/log/kg-n$i.log"
	done
}

# ---- the harness alone: one `kgctl apply` per node from one mesh document ----

mesh_document() {
	local i sep="" endpoint extra
	printf '{"version": 1, "settings": {"granularity": "%s", "subnet": "10.4.0.0/16"},\n "nodes": [\n' \
		"$CLUSTER_GRANULARITY"
	for i in "${node_ids[@]}"; do
		endpoint="192.0.2.$i:51820" extra=""
		is_natted "$i" && endpoint="$(private_ip "$i"):51820" extra=', "persistentKeepalive": 5'
	 (($(nth_of "$i") == 1)) && extra+=', "leader": true'
		printf '%s  {"name": "n%s", "location": "loc%s", "endpoint": "%s", "internalIP": "%s/24", "podCIDR": "10.2.%s.0/24", "publicKey": "%s"%s}' \
			"$sep" "$i" "$(loc_of "$i")" "$endpoint" "$(private_ip "$i")" "$i" "$(cat "$tmp/n$i.pub")" "$extra"
		sep=$',\n'
	done
	printf '\n ],\n "peers": [%s]}\n' "$(cat "$store/peers/vpn.json")"
}

kgctl_apply_all() {
	local i
	for i in "${node_ids[@]}"; do
		in_node "$i" "$KGCTL" apply --mesh "$tmp/mesh.json" --node "n$i" --private-key "$tmp/n$i.key" \
			--interface "$(wg_if "$i")" --wg-backend userspace --userspace-wireguard "$wg_go" \
			--encapsulate never >"$tmp/log/apply-n$i.log" 2>&1 ||
			{ sed 's/^/    /' "$tmp/log/apply-n$i.log"; return 1; }
	done
}

harness() {
	check "the pods are attached by the CNI plugins" pods_with_kilo_conflist
	check "before the mesh, no pod reaches another node's pod and the VPN client none" matrix_dark
	mesh_document >"$tmp/mesh.json"
	check "kgctl apply meshes every node" kgctl_apply_all
	check "the VPN client is configured from kgctl showconf peer" vpn_configure --mesh "$tmp/mesh.json"
	check "every pod reaches every pod, the VPN client every pod" matrix 10 --vpn
}

# ---- the agents --------------------------------------------------------------

agents_stop_all() {
	local i
	for i in "${node_ids[@]}"; do
		agent_stop "$i" TERM
	done
	for i in "${node_ids[@]}"; do
		[[ ! -e "/var/run/wireguard/$(wg_if "$i").sock" ]] || {
			echo "    n$i: SIGTERM left $(wg_if "$i") (wireguard-go pid: $(wg_pid_of "$i" || echo none)); the last lines of its kg and wireguard-go:"
			tail -3 "$tmp/log/kg-n$i.log" "$tmp/log/wg-$(wg_if "$i").log" | sed 's/^/    /'
			return 1
		}
		[[ ! -e "$store/nodes/n$i.json" ]] || { echo "    n$i: SIGTERM left its node in the store"; return 1; }
	done
}

vpn_from_store() { vpn_configure --store "file:$store" --mesh-granularity "$CLUSTER_GRANULARITY"; }

# The VPN client configured from the store once it can tell the client where
# every location is reachable: at the NAT address some node saw loc3's leader
# at (a private endpoint is out of the client's reach), with the pod CIDR of
# every live node (one that dropped out for a moment comes back), and without
# the nodes I..., dead, that kgctl, judging liveness with its own longer ready
# window, may still count.
vpn_settled() {
	local i
	vpn_from_store || return 1
	! grep -q '^Endpoint = 172\.31\.' "$tmp/vpn.conf.peers" || return 1
	for i; do
		! grep -qF "$(cat "$tmp/n$i.pub")" "$tmp/vpn.conf" || return 1
	done
	for i in "${node_ids[@]}"; do
		[[ " $* " == *" $i "* ]] || grep -q "^AllowedIPs = .*10\.2\.$i\.0/24" "$tmp/vpn.conf" || return 1
	done
}

full_matrix() {
	check "kg starts on every node and serves /health" agents_start_all
	check "kg writes each node's CNI configuration; pods attach with it" pods_with_kg_conflist
	check "the VPN client is configured from kgctl showconf peer --store" wait_for 10 vpn_settled
	check "every pod reaches every pod, the VPN client every pod" matrix 15 --vpn
}

# n4 leaves cleanly (it drops out at once), then joins again.
join() {
	local t0 t1
	agent_stop 4 TERM
	check "a node that stops cleanly drops out: other locations' pods no longer reach its pod" \
		wait_for 5 dark_to 4 1 5
	t0=$(now)
	agent_start 4
	matrix 5 --only-to 4
	local r=$?
	t1=$(now)
	join_s=$(elapsed "$t0" "$t1")
	log "join: n4 reachable from and to every pod $join_s s after its agent started"
	check "a joining node is reachable within 2 s of its agent starting ($join_s s)" \
		eval '((r == 0)) && awk -v s="$join_s" "BEGIN { exit !(s < 2) }"'
}

failover() {
	leader_failover
	check "the VPN client, configured anew, reaches every pod but n1's" \
		eval 'wait_for 10 vpn_settled 1 && matrix 10 --vpn --skip 1'
	# The dead node's entry stays until it comes back; n1 takes loc1 back.
	agent_start 1
	check "n1 comes back and the matrix is whole" eval 'wait_for 10 healthy 1 && wait_for 10 vpn_settled && matrix 15 --vpn'
}

# wireguard-go's verbose log names every UAPI set it handles.
uapi_sets() { grep -c 'UAPI: ' "$tmp/log/wg-$(wg_if "$1").log"; }

# n3 leads loc2: restart its kg without warning (its wireguard-go lives on),
# while pod5 pings pod3 across two locations (neither through loc1).
restart_unchanged() {
	local before after ping_pid loss dump_before dump_after
	wait_for 5 healthy 3
	dump_before="$(in_node 3 wg show "$(wg_if 3)" dump | tail -n +2 | cut -f1,4,8 | sort)"
	before=$(uapi_sets 3)
	ip netns exec "$(ns_pod 5)" ping -n -q -i 0.05 -w 8 "${pod_ip[3]}" >"$tmp/log/restart-ping" 2>&1 &
	ping_pid=$!
	sleep 1
	agent_stop 3 KILL
	agent_start 3
	wait_for 10 healthy 3
	sleep 3
	wait "$ping_pid"
	after=$(uapi_sets 3)
	dump_after="$(in_node 3 wg show "$(wg_if 3)" dump | tail -n +2 | cut -f1,4,8 | sort)"
	loss="$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$tmp/log/restart-ping")"
	log "restart: $((after - before)) UAPI set lines, ${loss:-?}% ping loss"
	check "restarting an agent with nothing changed sends no WireGuard set" \
		eval '((after == before)) && [[ "$dump_before" == "$dump_after" ]]'
	check "a running ping loses no packet while the agent restarts (${loss:-?}%)" eval '[[ "$loss" == 0 ]]'
}

granularity() {
	CLUSTER_GRANULARITY="$1"
	check "all agents stop cleanly (SIGTERM removes their device and node)" agents_stop_all
	vpn_reset
	check "granularity $1: every agent starts" agents_start_all
	check "granularity $1: every pod reaches every pod, the VPN client every pod" \
		eval 'wait_for 10 vpn_settled && matrix 15 --vpn'
}

# n6, behind the NAT, has its kg paused past the ready window while its
# wireguard-go runs on, as a kg slowed down (AddressSanitizer, a stalled
# disk) can be: every other node drops it and takes it back at its private
# endpoint, where none of them can reach it. Only n6 can shake hands again;
# the sessions the others threw away must not keep its pod dark.
nat_agent_pauses() {
	kill -STOP "${kg_pid[6]}"
	sleep $((READY_WINDOW + 2))
	kill -CONT "${kg_pid[6]}"
	check "a NATed node whose agent paused past the ready window is reached again, and its NAT address known" \
		eval 'wait_for 10 vpn_settled && matrix 10 --vpn'
}

logs_mention() {
	local text="$1" i
	for i in "${node_ids[@]}"; do
		grep -qF -- "$text" "$tmp/log/kg-n$i.log" && return 0
	done
	return 1
}

bad_store() {
	printf '{"name": "zz", "location": ' >"$store/nodes/zz.json"
	printf 'not json at all\n' >"$store/nodes/zy.json"
	sleep 2
	check "a corrupt or half-written node file is reported" wait_for 5 eval 'logs_mention zz.json || logs_mention zy.json'
	check "the agents survive corrupt files and the matrix stays whole" \
		eval 'all_alive "${node_ids[@]}" && matrix 5 --vpn'
	rm -f "$store/nodes/zz.json" "$store/nodes/zy.json"

	# A seventh node in a location of its own claims n1's pod CIDR.
	local r="kc$id-n7"
	ip netns add "$r"
	host_sysctls "$r"
	bridge_port "$(ns_net)" "$r" n7 eth0
	ip -n "$r" addr add 192.0.2.7/24 dev eth0
	ip -n "$r" route add default via 192.0.2.254 dev eth0 onlink
	(umask 077 && "$KGCTL" genkey >"$tmp/n7.key")
	ip netns exec "$r" "$KG" --hostname n7 --store "file:$store" --interface "kc${short}w7" \
		--wg-backend userspace --userspace-wireguard "$wg_go" --private-key "$tmp/n7.key" \
		--location loc7 --pod-cidr 10.2.1.0/24 --mesh-granularity "$CLUSTER_GRANULARITY" \
		--subnet 10.4.0.0/16 --encapsulate never --cni-path "$tmp/cni/n7.conflist" --listen 127.0.0.1:1107 \
		--check-in-period "$CHECK_IN_PERIOD" --ready-window "$READY_WINDOW" >"$tmp/log/kg-n7.log" 2>&1 &
	local rogue=$!
	check "a node claiming another node's pod CIDR is reported" \
		wait_for 10 eval 'logs_mention n7.json || grep -qF 10.2.1.0/24 "$tmp/log/kg-n7.log"'
	check "the agents survive it and n1's pod is still reached" \
		eval 'all_alive "${node_ids[@]}" && matrix 5 --vpn'
	kill -TERM "$rogue" 2>/dev/null
	wait_for 10 eval "! kill -0 $rogue 2>/dev/null"
	kill -KILL "$rogue" 2>/dev/null
	wait "$rogue" 2>/dev/null
	ip netns exec "$r" ip link del "kc${short}w7" 2>/dev/null
	for pid in $(pgrep -x -f "wireguard-go kc${short}w7"); do
		kill "$pid"
	done
	ip netns del "$r"
	rm -f "/var/run/wireguard/kc${short}w7.sock" "$store/nodes/n7.json"

	# The store directory disappears for 3 s, then comes back.
	mv "$store" "$store.gone"
	sleep 3
	check "the agents survive their store disappearing, and keep the mesh" \
		eval 'all_alive "${node_ids[@]}" && matrix 5 --vpn'
	if [[ -d "$store" ]]; then
		cp -rn "$store.gone/." "$store/" && rm -rf "$store.gone"
	else
		mv "$store.gone" "$store"
	fi
	check "when it comes back, a node that leaves and rejoins is seen" \
		eval 'agent_stop 4 TERM && agent_start 4 && matrix 5 --only-to 4 && all_alive "${node_ids[@]}"'
}

cluster_init
network_up
vpn_up
if [[ "$mode" == --harness ]]; then
	harness
elif dual_stack; then
	check "the pods are attached by the CNI plugins, with an address of each family" pods_with_kilo_conflist
	check "before the agents run, no pod reaches another node's pod in either family" matrix_dark
	full_matrix
	failover
	granularity full
	granularity cross
	granularity location
else
	# The "before" half of the matrix: pods attached with Kilo's configuration, no agent yet.
	check "the pods are attached by the CNI plugins" pods_with_kilo_conflist
	check "before the agents run, no pod reaches another node's pod and the VPN client none" matrix_dark
	full_matrix
	join
	failover
	restart_unchanged
	granularity full
	nat_agent_pauses
	granularity cross
	granularity location
	bad_store
fi
echo "$passed passed, $failed failed"
((failed == 0))
