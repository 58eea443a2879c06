#!/usr/bin/env bash
# Builds the cluster of tests/netns/cluster (three locations of two nodes, the
# third behind a NAT router, CNI pods, a VPN client) with a kg agent on every
# node, prints who reaches whom, the graph and `kgctl status`, then removes it
# all. Needs root; run-example.sh builds kg and kgctl and calls it.
#
# Usage: cluster-demo.sh KGCTL KG [--keep] [--dual-stack]
#   --keep        leave the cluster running until Ctrl-C (or SIGTERM) and print how to look at it
#   --dual-stack  IPv6 beside IPv4 on every network and pod; a pair is ok when both families reach
set -uo pipefail

here="$(dirname "$(realpath "$0")")"
usage="usage: cluster-demo.sh KGCTL KG [--keep] [--dual-stack]"
KGCTL="$(realpath "${1:?$usage}")"
KG="$(realpath "${2:?$usage}")"
svg="${KILO_SVG:-${TMPDIR:-/tmp}/kilo-cluster.svg}"

CLUSTER_LOCATIONS=3
CLUSTER_PER_LOCATION=2
CLUSTER_NAT_LOCATION=3
CLUSTER_GRANULARITY=location
CLUSTER_DUAL_STACK=0
keep=""
for arg in "${@:3}"; do
	case "$arg" in
	--keep) keep=--keep ;;
	--dual-stack) CLUSTER_DUAL_STACK=1 ;;
	*) echo "$usage" >&2 && exit 2 ;;
	esac
done
# shellcheck source=SCRIPTDIR/../tests/netns/cluster/lib.sh
source "$here/../tests/netns/cluster/lib.sh"

die() {
	echo "cluster-demo: $*" >&2
	local i
	for i in "${node_ids[@]}"; do
		[[ -s "$tmp/log/kg-n$i.log" ]] || continue
		echo "--- the last lines of kg on n$i" >&2
		tail -5 "$tmp/log/kg-n$i.log" >&2
	done
	exit 1
}

# skip_unless_ready exits 77 with the reason; for the demo that is an error.
if ! reason="$(skip_unless_ready wireguard-go wg nft ip ping jq curl dot)"; then
	echo "cluster-demo: ${reason#skip: }" >&2
	exit 1
fi

healthy() { agent_get "$1" /health >/dev/null; }

# Each pod is attached with the CNI configuration its node's kg wrote.
pods_up() {
	local i conf
	for i in "${node_ids[@]}"; do
		conf="$tmp/cni/n$i.conflist"
		wait_for 10 test -s "$conf" || die "kg on n$i wrote no CNI configuration ($conf)"
		pod_add "$i" "$conf" || die "pod$i could not be attached with $conf"
	done
}

vpn_from_store() { vpn_configure --store "file:$store" --mesh-granularity "$CLUSTER_GRANULARITY"; }

# reach_table DEADLINE: every pod to every pod and the VPN client to every
# pod, all at once, each until it answers or DEADLINE seconds pass; prints
# one row per source. Returns 1 if any pair failed.
reach_table() {
	local deadline="$1" s d k failed=0
	local -a sources=("${node_ids[@]}" vpn)
	local -A pid=() cell=()
	for s in "${sources[@]}"; do
		for d in "${node_ids[@]}"; do
			[[ $s == "$d" ]] && continue
			local from="$(ns_vpn)"
			[[ $s == vpn ]] || from="$(ns_pod "$s")"
			if dual_stack; then
				# Both families, one after the other, share the pair's deadline.
				{ reach "$from" "${pod_ip[$d]}" "$deadline" && reach "$from" "${pod_ip6[$d]}" "$deadline"; } &
			else
				reach "$from" "${pod_ip[$d]}" "$deadline" &
			fi
			pid[$s,$d]=$!
		done
	done
	for k in "${!pid[@]}"; do
		if wait "${pid[$k]}"; then
			cell[$k]=ok
		else
			cell[$k]=FAIL
			failed=1
		fi
	done
	printf '%-14s' "from \\ to"
	for d in "${node_ids[@]}"; do
		printf '%-7s' "pod$d"
	done
	echo
	for s in "${sources[@]}"; do
		if [[ $s == vpn ]]; then
			printf '%-14s' "vpn $VPN_ADDR"
		else
			printf '%-14s' "pod$s n$s/loc$(loc_of "$s")"
		fi
		for d in "${node_ids[@]}"; do
			printf '%-7s' "${cell[$s,$d]:--}"
		done
		echo
	done
	return "$failed"
}

started=$(now)
cluster_init
log "building the cluster: 3 locations of 2 nodes (loc3 behind NAT), a VPN client$(dual_stack && echo ", IPv4 and IPv6")"
network_up
vpn_up
log "starting kg on ${#node_ids[@]} nodes (wireguard-go, granularity $CLUSTER_GRANULARITY)"
for i in "${node_ids[@]}"; do
	agent_start "$i"
done
for i in "${node_ids[@]}"; do
	wait_for 10 healthy "$i" || die "kg on n$i did not answer /health within 10 s"
done
pods_up
wait_for 10 vpn_from_store || die "the VPN client could not be configured from the store"
log "waiting for the mesh (at most 20 s per pair)"
echo
reach_table 20
ok=$?
verdict="every pair reached"
((ok == 0)) || verdict="some pairs failed (logs: $tmp/log, removed on exit; KEEP_LOGS=DIR keeps them)"
echo
log "$verdict, $(elapsed "$started" "$(now)") s after the start"
echo

"$KGCTL" graph --store "file:$store" -o svg >"$svg" || die "kgctl graph -o svg failed"
echo "### the graph as SVG: $svg"
echo
echo "### kgctl status --store file:$store"
"$KGCTL" status --store "file:$store" --ready-window "$READY_WINDOW"

if [[ "$keep" == --keep ]]; then
	cat <<-EOF

		### the cluster keeps running; look around:
		  ip netns list | grep kc$id-
		  ip netns exec $(ns_node 1) curl -s http://127.0.0.1:1107/metrics
		  ip netns exec $(ns_node 1) wg show $(wg_if 1)
		  ip netns exec $(ns_pod 1) ping -c 1 ${pod_ip[5]}     # pod1 -> pod5 (NATed loc3)
		  $KGCTL status --store file:$store
		  $KGCTL graph --store file:$store
		  logs: $tmp/log/
		### tear it down: Ctrl-C here, or: kill $$
	EOF
	# A sleep of its own, so a signal reaches the shell's trap at once.
	while :; do
		sleep 3600 &
		wait $!
	done
fi
((ok == 0))
