# shellcheck shell=bash
# The three namespaces of bench/lb/connrate.sh and bench/policy/connrate.sh (sourced):
#   PREFIXc (the client) -- PREFIXr (the router, forwarding) -- PREFIXb (the servers)
# on veths PREFIXc0-PREFIXr0 and PREFIXr1-PREFIXb0; client and servers route through the router.
#
# The caller's $prefix begins every namespace's and link's name.
#
#   connrate_netns_up CLIENT/LEN ROUTER-TO-CLIENT/LEN ROUTER-TO-SERVERS/LEN SERVER/LEN...
#   connrate_netns_down   kills the servers (pids), deletes the namespaces, the file $rules,
#                         the bpffs directory $pins and the cgroup $cgroup; also on exit

pids=()   # the servers the caller started
rules=""  # a file of nftables rules the caller wrote
pins=""   # a bpffs directory the caller pinned in
cgroup="" # a cgroup v2 directory the caller made (empty again by then)

connrate_netns_up() {
	local client="$1" router_c="$2" router_b="$3" b ns dev
	: "${prefix:?the caller names its namespaces}"
	shift 3
	for b in c r b; do ip netns add "$prefix$b"; ip -n "$prefix$b" link set lo up; done
	ip link add "${prefix}c0" netns "${prefix}c" type veth peer name "${prefix}r0" netns "${prefix}r"
	ip link add "${prefix}r1" netns "${prefix}r" type veth peer name "${prefix}b0" netns "${prefix}b"
	ip -n "${prefix}c" addr add "$client" dev "${prefix}c0"
	ip -n "${prefix}r" addr add "$router_c" dev "${prefix}r0"
	ip -n "${prefix}r" addr add "$router_b" dev "${prefix}r1"
	for b in "$@"; do ip -n "${prefix}b" addr add "$b" dev "${prefix}b0"; done
	for b in "${prefix}c ${prefix}c0" "${prefix}r ${prefix}r0" "${prefix}r ${prefix}r1" "${prefix}b ${prefix}b0"; do
		read -r ns dev <<<"$b"
		ip -n "$ns" link set "$dev" up
	done
	ip -n "${prefix}c" route add default via "${router_c%/*}"
	ip -n "${prefix}b" route add default via "${router_b%/*}"
	ip netns exec "${prefix}r" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "${prefix}c" sysctl -qw net.ipv4.ip_local_port_range="1024 65000" net.ipv4.tcp_tw_reuse=1
}

connrate_netns_down() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in c r b; do ip netns del "$prefix$p" 2>/dev/null || true; done
	[[ -z "$rules" ]] || rm -f "$rules"
	[[ -z "$pins" ]] || rm -rf "$pins"
	[[ -z "$cgroup" ]] || rmdir "$cgroup" 2>/dev/null || true
	pids=()
	rules=""
	pins=""
	cgroup=""
}
trap connrate_netns_down EXIT
