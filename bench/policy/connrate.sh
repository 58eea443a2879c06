#!/usr/bin/env bash
# Connections per second from a client pod's namespace through a router to a
# server's namespace, with POLICIES NetworkPolicies selecting the client for
# egress (TCP 8080 each, to pods of its own: one set each; policy ALLOW-AT
# allows the server, the others never match), side by side:
#   ebpf      libkilo's tc programs on the router's veth to the client (from_pod
#             and to_pod, as kg attaches a pod's), the policies compiled by the
#             policy layer and synced by the loader (bench-policy-load)
#   nft-sets  the same policies as iptables-based engines (kube-router, Calico's
#             iptables mode) write them with ipsets, in nftables: in the router's
#             forward hook `ct state established,related accept`, then the
#             client's chain, one rule per policy matching its named set in turn,
#             then drop
#   none      no policy at all: the ceiling of both
# The server's ingress is not policed (it is another node's pod): egress only.
#
#   bench/policy/connrate.sh BUILD-DIR [POLICIES...]   (root; default 10 100 1000)
#
# CONNRATE_SECONDS (5), CONNRATE_CONCURRENCY (64) as bench/lb/connrate.sh;
# CONNRATE_CLIENTS (1): clients at once, each CONNRATE_CONCURRENCY in flight, and
# as many servers (one client and one server are one CPU each at the most);
# CONNRATE_ALLOW first|middle|last (middle): which policy allows the traffic.
# Each mode gets namespaces of its own (prefix knp<pid>), removed on exit.
set -euo pipefail
# shellcheck source=bench/connrate-netns.sh
. "$(dirname "$0")/../connrate-netns.sh"

build="${1:?usage: connrate.sh BUILD-DIR [POLICIES...]}"
shift
sizes=("$@")
((${#sizes[@]})) || sizes=(10 100 1000)
connrate="$build/bench/lb/bench-lb-connrate"
loader="$build/bench/policy/bench-policy-load"
seconds=${CONNRATE_SECONDS:-5}
concurrency=${CONNRATE_CONCURRENCY:-64}
allow=${CONNRATE_ALLOW:-middle}
clients=${CONNRATE_CLIENTS:-1}
client=10.4.0.5
server=10.99.1.1
prefix="knp$$"

# Three namespaces: the client pod ($client) -- router (node n0) -- server ($server, a pod of node n1).
topology_up() {
	local i
	connrate_netns_up "$client/24" 10.4.0.1/24 10.99.0.1/16 "$server/16"
	for ((i = 0; i < clients; i++)); do
		ip netns exec "${prefix}b" "$connrate" serve "$server" 8080 &
		pids+=($!)
	done
}

# The clients' connections, their longest time and their failures, summed: "made seconds failed".
measure() {
	local i
	for ((i = 0; i < clients; i++)); do
		ip netns exec "${prefix}c" "$connrate" connect "$server" 8080 "$seconds" "$concurrency" &
	done | awk '{ made += $1; failed += $3; if ($2 > took) took = $2 } END { print made, took, failed }'
}

# The policy that allows the connection, of n.
allow_at() {
	case "$allow" in
	first) echo 0 ;;
	last) echo $(($1 - 1)) ;;
	*) echo $(($1 / 2)) ;;
	esac
}

# Policy i's peers: the pod app=peer-i, 10.200.(i / 250).(i % 250 + 1), as bench-policy-load makes it.
nft_sets_rules() {
	local n="$1" at i peer
	at="$(allow_at "$n")"
	echo "table ip knpbench {"
	for ((i = 0; i < n; i++)); do
		peer="10.200.$((i / 250)).$((i % 250 + 1))"
		((i == at)) && peer="$server"
		printf 'set np%d { type ipv4_addr; elements = { %s } }\n' "$i" "$peer"
	done
	printf 'chain forward {\ntype filter hook forward priority filter; policy accept;\n'
	printf 'ct state established,related accept\niifname "%s" ip saddr %s jump client-egress\n}\n' "${prefix}r0" "$client"
	echo "chain client-egress {"
	for ((i = 0; i < n; i++)); do echo "ip daddr @np$i tcp dport 8080 accept"; done
	printf 'drop\n}\n}\n'
}

# police MODE POLICIES: the router enforces POLICIES policies with MODE.
police() {
	case "$1" in
	ebpf)
		# ip netns exec mounts /sys of its own: the pins go with it, the
		# programs stay on the veth (and their maps with them) until it goes.
		ip netns exec "${prefix}r" "$loader" /sys/fs/bpf/knpbench "${prefix}r0" "$2" "$(allow_at "$2")" "$client" "$server"
		;;
	nft-sets)
		rules="$(mktemp /tmp/knpbench.XXXXXX)"
		nft_sets_rules "$2" >"$rules"
		ip netns exec "${prefix}r" nft -f "$rules"
		;;
	none) ;;
	esac
}

# A policed mode must drop what no policy allows: port 8081 (no listener: refused if it got through).
check_denies() {
	local made took failed
	read -r made took failed < <(ip netns exec "${prefix}c" "$connrate" connect "$server" 8081 0.5 1)
	if ((made + failed)); then
		echo "connrate.sh: $1 let a connection to $server:8081 through" >&2
		exit 1
	fi
}

printf '# %s %s\n' "$0" "$build ${sizes[*]}"
printf '# %s s per run, %s client(s) with %s connections in flight each, the %s policy allows\n' \
	"$seconds" "$clients" "$concurrency" "$allow"
printf '%-9s %-9s %12s %8s\n' policies mode "conn/s" failed
for n in "${sizes[@]}"; do
	for mode in ebpf nft-sets none; do
		topology_up
		police "$mode" "$n"
		[[ "$mode" == none ]] || check_denies "$mode"
		read -r made took failed < <(measure)
		printf '%-9s %-9s %12.0f %8s\n' "$n" "$mode" "$(awk -v d="$made" -v t="$took" 'BEGIN { print d / t }')" "$failed"
		connrate_netns_down
	done
done
