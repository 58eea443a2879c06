# shellcheck shell=bash
# Provisional: the etcd-client branch owns this file (docs: the etcd contract);
# this copy has the interface the contract fixes, until that branch's lands.
#
#   etcd_start_member NAME DATA_DIR CLIENT_URL PEER_URL INITIAL_CLUSTER [NETNS] [TLS_DIR]
#   etcd_wait_healthy URL [TLS_DIR]
#   etcd_stop_all

declare -gA etcd_member_pid=()

# etcd's client-side TLS flags for TLS_DIR (none without one).
etcd_tls_server_flags() {
	[[ -n "${1:-}" ]] || return 0
	echo --cert-file "$1/server.pem" --key-file "$1/server-key.pem" --trusted-ca-file "$1/ca.pem" --client-cert-auth
}

etcd_start_member() {
	local name="$1" dir="$2" client="$3" peer="$4" initial="$5" netns="${6:-}" tls="${7:-}"
	local -a run=()
	[[ -n "$netns" ]] && run=(ip netns exec "$netns")
	mkdir -p "$dir"
	# shellcheck disable=SC2046
	"${run[@]}" etcd --name "$name" --data-dir "$dir/data" \
		--listen-client-urls "$client" --advertise-client-urls "$client" \
		--listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
		--initial-cluster "$initial" --initial-cluster-state new \
		$(etcd_tls_server_flags "$tls") >>"$dir/log" 2>&1 &
	etcd_member_pid[$name]=$!
}

etcd_wait_healthy() {
	local url="$1" tls="${2:-}" t
	local -a creds=()
	[[ -n "$tls" ]] && creds=(--cacert "$tls/ca.pem" --cert "$tls/client.pem" --key "$tls/client-key.pem")
	for ((t = 0; t < 200; t++)); do
		curl -fs --max-time 1 "${creds[@]}" "$url/health" 2>/dev/null | grep -q '"health":"true"' && return 0
		sleep 0.1
	done
	return 1
}

etcd_stop_all() {
	local name
	for name in "${!etcd_member_pid[@]}"; do
		kill -KILL "${etcd_member_pid[$name]}" 2>/dev/null
		wait "${etcd_member_pid[$name]}" 2>/dev/null
	done
	etcd_member_pid=()
}
