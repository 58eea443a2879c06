#!/usr/bin/env bash
# Connections per second from a client namespace through a load balancer in a
# router namespace to three backends, with SERVICES ClusterIPs on port 80, side
# by side for the shapes a Kubernetes node can take:
#   ebpf        libkilo's tc programs on the router's client-facing veth (bench-lb-load)
#   ebpf-sock   the same, and the client in a cgroup with libkilo's socket programs, as
#               kg attaches them to the cgroup v2 root: every pod's connect() goes
#               to a backend before any packet exists
#   nft-vmap    kube-proxy's nftables mode: one verdict map lookup, a chain per service
#   nft-linear  iptables mode's shape: one rule per service, tried in turn
#   none        no load balancer: the backends' namespace owns every ClusterIP
#               and three servers (one per backend, as above) answer them all;
#               the router only forwards. The ceiling of every mode above.
#   direct      as none, with the client's veth moved from the router into the
#               backends' namespace: no router hop at all. The ceiling of any
#               balancer that skips the router's stack (a redirect after DNAT),
#               which still crosses the router's veths and its tc programs.
#
#   bench/lb/connrate.sh BUILD-DIR [SERVICES...]     (root; default 1000 10000)
#
# CONNRATE_MODES picks some of the modes (default all, in the order above).
#
# Each mode gets namespaces of its own (prefix kb<pid>), removed on exit, and
# ebpf-sock a cgroup and a bpffs directory of its own (/sys/fs/bpf/kb<pid>), too.
set -euo pipefail
# shellcheck source=bench/connrate-netns.sh
. "$(dirname "$0")/../connrate-netns.sh"

build="${1:?usage: connrate.sh BUILD-DIR [SERVICES...]}"
shift
sizes=("$@")
((${#sizes[@]})) || sizes=(1000 10000)
connrate="$build/bench/lb/bench-lb-connrate"
loader="$build/bench/lb/bench-lb-load"
seconds=${CONNRATE_SECONDS:-5}
concurrency=${CONNRATE_CONCURRENCY:-64}
backends=(10.99.1.1 10.99.1.2 10.99.1.3)
prefix="kb$$"

# Three namespaces: client (10.98.0.2) -- router -- backends (10.99.1.1-3).
topology_up() {
	local b
	connrate_netns_up 10.98.0.2/24 10.98.0.1/24 10.99.0.1/16 "${backends[@]/%//16}"
	for b in "${backends[@]}"; do
		ip netns exec "${prefix}b" "$connrate" serve "$b" 8080 &
		pids+=($!)
	done
}

# Service i is 10.96.(i / 250).(i % 250 + 1):80, as bench-lb-connrate connects to it.
vip() { echo "10.96.$(($1 / 250)).$(($1 % 250 + 1))"; }

# One backend choice, as kube-proxy writes it: a random number mapped to an address and port.
pick_backend() {
	echo "meta l4proto tcp dnat ip to numgen random mod 3 map { 0 : ${backends[0]} . 8080, 1 : ${backends[1]} . 8080, 2 : ${backends[2]} . 8080 }"
}

nft_vmap_rules() {
	local n="$1" i
	echo "table ip kilobench {"
	for ((i = 0; i < n; i++)); do
		printf 'chain svc%d {\n%s\n}\n' "$i" "$(pick_backend)"
	done
	echo "map services { type ipv4_addr . inet_proto . inet_service : verdict; elements = {"
	for ((i = 0; i < n; i++)); do echo "$(vip "$i") . tcp . 80 : goto svc$i,"; done
	echo "}; }"
	printf 'chain prerouting {\ntype nat hook prerouting priority dstnat;\n%s\n}\n}\n' \
		"ip daddr . meta l4proto . th dport vmap @services"
}

nft_linear_rules() {
	local n="$1" i backend
	backend="$(pick_backend)"
	printf 'table ip kilobench {\nchain prerouting {\ntype nat hook prerouting priority dstnat;\n'
	for ((i = 0; i < n; i++)); do
		echo "ip daddr $(vip "$i") tcp dport 80 ${backend#meta l4proto tcp }"
	done
	printf '}\n}\n'
}

# The backends' namespace owns every ClusterIP; three servers answer them all.
serve_services() {
	local b
	ip -n "${prefix}b" route add local 10.96.0.0/16 dev lo
	for b in "${backends[@]}"; do
		ip netns exec "${prefix}b" "$connrate" serve 0.0.0.0 80 &
		pids+=($!)
	done
}

# balance MODE SERVICES: the router balances SERVICES services with MODE.
balance() {
	case "$1" in
	ebpf)
		# ip netns exec mounts /sys of its own: the pins go with it, the
		# programs stay on the veth (and their maps with them) until it goes.
		ip netns exec "${prefix}r" "$loader" /sys/fs/bpf/kilobench "${prefix}r0" "$2" "${backends[@]}"
		;;
	ebpf-sock)
		# In the router's network namespace only: the cgroup links pinned in the
		# host's bpffs keep the socket programs on the client's cgroup.
		cgroup="$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)/$prefix"
		pins="/sys/fs/bpf/$prefix"
		mkdir "$cgroup"
		nsenter --net="/run/netns/${prefix}r" "$loader" -c "$cgroup" "$pins" "${prefix}r0" "$2" "${backends[@]}"
		;;
	none)
		ip -n "${prefix}r" route add 10.96.0.0/16 via "${backends[0]}"
		serve_services
		;;
	direct)
		# The link keeps its name, and its address goes back on it: the
		# client's default route now ends in the backends' namespace.
		ip -n "${prefix}r" link set "${prefix}r0" netns "${prefix}b"
		ip -n "${prefix}b" addr add 10.98.0.1/24 dev "${prefix}r0"
		ip -n "${prefix}b" link set "${prefix}r0" up
		serve_services
		;;
	nft-vmap | nft-linear)
		rules="$(mktemp /tmp/kilobench.XXXXXX)"
		"${1//-/_}_rules" "$2" >"$rules"
		ip netns exec "${prefix}r" nft -f "$rules"
		;;
	esac
}

# The client, in the cgroup of the mode's socket programs if it has one.
client() {
	[[ -z "$cgroup" ]] || echo "$BASHPID" >"$cgroup/cgroup.procs"
	exec ip netns exec "${prefix}c" "$connrate" connect "$@"
}

printf '# %s %s\n' "$0" "$build ${sizes[*]}"
printf '# %s s per run, %s connections in flight, 3 backends\n' "$seconds" "$concurrency"
printf '%-10s %-11s %12s %8s\n' services mode "conn/s" failed
for n in "${sizes[@]}"; do
	for mode in ${CONNRATE_MODES:-ebpf ebpf-sock nft-vmap nft-linear none direct}; do
		topology_up
		balance "$mode" "$n"
		read -r made took failed < <(client "$n" 80 "$seconds" "$concurrency")
		printf '%-10s %-11s %12.0f %8s\n' "$n" "$mode" "$(awk -v d="$made" -v t="$took" 'BEGIN { print d / t }')" "$failed"
		connrate_netns_down
	done
done
