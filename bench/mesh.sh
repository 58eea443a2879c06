#!/usr/bin/env bash
# Builds the end-to-end cluster of tests/netns/cluster (its dual-stack
# variant, where every pair must reach over IPv4 and IPv6, and a 20-node
# variant: five locations of four, the last behind NAT) with a kg agent on
# every node, and prints: time from a new agent's start to full reachability,
# leader failover time, and the agents' peak RSS. Targets: join < 2 s,
# failover < 10 s, RSS < 10 MiB. Run as root.
#
# Usage: bench/mesh.sh KGCTL KG
set -uo pipefail

here="$(dirname "$(realpath "$0")")"
KGCTL="$(realpath "${1:?usage: mesh.sh KGCTL KG}")"
KG="$(realpath "${2:?usage: mesh.sh KGCTL KG}")"
CLUSTER_GRANULARITY=location

# peak_rss KIB: the highest of KIB and every running agent's peak RSS, in KiB.
peak_rss() {
	local i r max="$1"
	for i in "${node_ids[@]}"; do
		r=$(agent_peak_rss_kib "$i")
		((${r:-0} > max)) && max=$r
	done
	echo "$max"
}

# run LOCATIONS PER-LOCATION [dual-stack]: prints one row of the table.
run() {
	CLUSTER_LOCATIONS=$1
	CLUSTER_PER_LOCATION=$2
	CLUSTER_NAT_LOCATION=$1
	CLUSTER_DUAL_STACK=0
	[[ "${3:-}" == dual-stack ]] && CLUSTER_DUAL_STACK=1
	# shellcheck source=../tests/netns/cluster/lib.sh
	source "$here/../tests/netns/cluster/lib.sh"
	skip_unless_ready wireguard-go wg nft ip ping jq curl
	cluster_init
	network_up
	vpn_up
	local i t0 t1 join failover rss=0 r last=$2
	for i in "${node_ids[@]}"; do
		agent_start "$i"
	done
	for i in "${node_ids[@]}"; do
		wait_for 10 test -s "$tmp/cni/n$i.conflist" || { echo "n$i wrote no CNI configuration" >&2; return 1; }
		pod_add "$i" "$tmp/cni/n$i.conflist" >/dev/null || return 1
	done
	matrix 30 || { echo "the mesh never became whole" >&2; return 1; }

	# A node joins: the last node of location 1 leaves cleanly, then starts again.
	agent_stop "$last" TERM
	t0=$(now)
	agent_start "$last"
	matrix 10 --only-to "$last"
	r=$?
	t1=$(now)
	join=$(elapsed "$t0" "$t1")
	((r == 0)) || join="> $join"

	# Location 1's leader dies with its WireGuard (its peak is taken before).
	rss=$(peak_rss "$rss")
	time_failover 30
	r=$?
	failover=$failover_s
	((r == 0)) || failover="> $failover"
	rss=$(peak_rss "$rss")
	printf '%-28s %8s %12s %14s\n' "$1 locations x $2 nodes${3:+, $3}" "$join" "$failover" \
		"$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')"
}

printf '%-28s %8s %12s %14s\n' cluster "join (s)" "failover (s)" "peak RSS (MiB)"
(run 3 2)
(run 3 2 dual-stack)
(run 5 4)
printf '%-28s %8s %12s %14s\n' target "< 2" "< 10" "< 10"
