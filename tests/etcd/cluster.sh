# shellcheck shell=bash
# Three etcd members in a network namespace of their own, each on an address
# of its own, for the end-to-end tests (tests/netns/cluster/test_cluster_etcd.sh)
# and tests/etcd/test_cluster.sh. Source it (it sources lib.sh), then:
#
#   etcd_cluster_up NETNS BRIDGE_NS DIR TLS_DIR ADDR1 ADDR2 ADDR3
#       the namespace (unless there: the members were stopped with lib.sh's
#       etcd_stop_all), plugged into BRIDGE_NS's br0 (its addresses on a /24
#       of it), or with BRIDGE_NS empty alone (the addresses on its loopback);
#       members m1..m3 with their data under DIR/mI, clients on ADDR:2379
#       (TLS with the certificates of etcd_make_tls in TLS_DIR unless empty),
#       peers on ADDR:2380; waits for a quorum
#   etcd_cluster_down         every member killed, the namespace removed (a trap
#                             also removes lib.sh's $ETCD_STATE)
#   etcd_endpoints            "A1:2379,A2:2379,A3:2379", as --store takes them
#   etcd_ctl ARGS...          etcdctl on every member, from inside the namespace
#   etcd_ctl_at URLS ARGS...  etcdctl on those members' client URLs
#   etcd_leader               the number (1-3) of the member that leads, among those running
#   etcd_kill I               SIGKILL of member I
#   etcd_restart I            member I again on its data directory
#   etcd_wait_quorum SECONDS  a linearizable read succeeds
#   etcd_partition NETNS / etcd_heal NETNS
#                             NETNS's packets to and from every member are dropped / go again

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

declare -ga etcd_addr=()
# The members' names are lib.sh's: m1..m3.
etcd_ns=""
etcd_dir=""
etcd_tls=""

etcd_scheme() { if [[ -n "$etcd_tls" ]]; then echo https; else echo http; fi; }
etcd_client_url() { echo "$(etcd_scheme)://${etcd_addr[$1 - 1]}:2379"; }
etcd_peer_url() { echo "http://${etcd_addr[$1 - 1]}:2380"; }
etcd_endpoints() { local IFS=,; echo "${etcd_addr[*]/%/:2379}"; }
etcd_initial_cluster() {
	local i out=""
	for i in 1 2 3; do
		out+="${out:+,}m$i=$(etcd_peer_url "$i")"
	done
	echo "$out"
}

# etcd_ctl_at URLS ARGS...: etcdctl on URLS (comma separated), from inside the namespace.
etcd_ctl_at() {
	local urls="$1"
	local -a creds=()
	shift
	[[ -n "$etcd_tls" ]] &&
		creds=(--cacert "$etcd_tls/ca.pem" --cert "$etcd_tls/client.pem" --key "$etcd_tls/client-key.pem")
	ip netns exec "$etcd_ns" etcdctl --endpoints "$urls" --dial-timeout 1s --command-timeout 2s "${creds[@]}" "$@"
}

etcd_ctl() { etcd_ctl_at "$(etcd_client_url 1),$(etcd_client_url 2),$(etcd_client_url 3)" "$@"; }

etcd_cluster_up() {
	local bridge="$2" i
	etcd_ns="$1" etcd_dir="$3" etcd_tls="$4"
	etcd_addr=("$5" "$6" "$7")
	# Once made, the namespace stays for the members started after (as on TLS):
	# a link made anew would have another MAC address than the clients' ARP caches.
	[[ -e "/var/run/netns/$etcd_ns" ]] || etcd_netns_up "$bridge" || return 1
	for i in 1 2 3; do
		etcd_start_member "m$i" "$etcd_dir/m$i" "$(etcd_client_url "$i")" "$(etcd_peer_url "$i")" \
			"$(etcd_initial_cluster)" "$etcd_ns" "$etcd_tls"
	done
	etcd_wait_quorum 20
}

etcd_netns_up() {
	local bridge="$1" i
	ip netns add "$etcd_ns" || return 1
	ip -n "$etcd_ns" link set lo up
	if [[ -n "$bridge" ]]; then
		ip link add etcd netns "$bridge" type veth peer name eth0 netns "$etcd_ns" || return 1
		ip -n "$bridge" link set etcd master br0 up
		ip -n "$etcd_ns" link set eth0 up
		for i in 0 1 2; do
			ip -n "$etcd_ns" addr add "${etcd_addr[$i]}/24" dev eth0 || return 1
		done
	else
		for i in 0 1 2; do
			ip -n "$etcd_ns" addr add "${etcd_addr[$i]}/32" dev lo || return 1
		done
	fi
}

etcd_cluster_down() {
	etcd_stop_all
	[[ -n "$etcd_ns" ]] && ip netns del "$etcd_ns" 2>/dev/null
	etcd_ns=""
}

etcd_restart() { etcd_restart_member "m$1"; }

etcd_kill() { etcd_stop_member "m$1" KILL; }

etcd_leader() {
	local status url i
	# A member that is down is reported on stderr; the others still are.
	status="$(etcd_ctl endpoint status -w json 2>/dev/null)"
	url="$(jq -r 'first(.[] | select(.Status.leader == .Status.header.member_id) | .Endpoint)' <<<"$status" 2>/dev/null)"
	for i in 1 2 3; do
		[[ "$(etcd_client_url "$i")" == "$url" ]] && { echo "$i"; return 0; }
	done
	return 1
}

etcd_wait_quorum() {
	local n=$(($1 * 2)) t
	for ((t = 0; t < n; t++)); do
		etcd_ctl get --consistency=l /kilo-quorum-probe >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	return 1
}

etcd_partition() {
	local IFS=,
	ip netns exec "$1" nft -f - <<-NFT
		table inet kecpart {
			chain out { type filter hook output priority 0; ip daddr { ${etcd_addr[*]} } drop; }
			chain in { type filter hook input priority 0; ip saddr { ${etcd_addr[*]} } drop; }
		}
	NFT
}

etcd_heal() { ip netns exec "$1" nft delete table inet kecpart; }
