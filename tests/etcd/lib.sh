# shellcheck shell=bash
# Starting and stopping real etcd members (Debian's etcd-server 3.4, /usr/bin/etcd)
# for the tests. Source it. Every member started here is recorded in
# $ETCD_STATE (NAME.pid, NAME.cmd), so that etcd_stop_all, tests/etcd/member.sh
# (stop or start one member again from a test program) and a trap all find it.
#
#   etcd_start_member NAME DATA_DIR CLIENT_URL PEER_URL INITIAL_CLUSTER [NETNS] [TLS_DIR]
#   etcd_wait_healthy URL [TLS_DIR]
#   etcd_stop_member NAME [SIGNAL]     (default TERM; waits for it to exit)
#   etcd_restart_member NAME           (the same command, on the same data dir)
#   etcd_stop_all
#   etcd_loopback_single [TLS_DIR]     (exports KILO_TEST_ETCD=http(s)://127.0.0.1:PORT)
#   etcd_make_tls DIR [IP...]          (ca.pem, server.pem, server-key.pem, client.pem, client-key.pem)
#   etcd_free_port                     (a free loopback TCP port, chosen by the kernel)

ETCD_BIN="${ETCD_BIN:-/usr/bin/etcd}"
if [[ -z "${ETCD_STATE:-}" ]]; then
	ETCD_STATE="$(mktemp -d /tmp/kilo-etcd-state.XXXXXX)"
fi
export ETCD_STATE ETCD_BIN

# etcd_free_port: a port the kernel hands out for 127.0.0.1 (free when asked;
# etcd_loopback_single retries if another process takes it in between).
etcd_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# _etcd_curl URL [TLS_DIR] [CURL ARGS...]: curl with the test certificates when TLS_DIR is given.
_etcd_curl() {
	local url="$1" tls="${2:-}"
	shift 2 || shift
	local -a tls_args=()
	if [[ -n "$tls" ]]; then
		tls_args=(--cacert "$tls/ca.pem" --cert "$tls/client.pem" --key "$tls/client-key.pem")
	fi
	curl -sS --max-time 2 "${tls_args[@]}" "$@" "$url"
}

etcd_start_member() {
	local name="$1" data="$2" client="$3" peer="$4" cluster="$5" netns="${6:-}" tls="${7:-}"
	local -a cmd=("$ETCD_BIN" --name "$name" --data-dir "$data"
		--listen-client-urls "$client" --advertise-client-urls "$client"
		--listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer"
		--initial-cluster "$cluster" --initial-cluster-state new
		--initial-cluster-token "kilo-test")
	if [[ -n "$tls" ]]; then
		# Clients must show a certificate of the test CA, so the client's
		# cert/key options are exercised too.
		cmd+=(--cert-file "$tls/server.pem" --key-file "$tls/server-key.pem"
			--trusted-ca-file "$tls/ca.pem" --client-cert-auth)
	fi
	if [[ -n "$netns" ]]; then
		cmd=(ip netns exec "$netns" "${cmd[@]}")
	fi
	mkdir -p "$data"
	printf '%q ' "${cmd[@]}" >"$ETCD_STATE/$name.cmd"
	echo "$data" >"$ETCD_STATE/$name.data"
	_etcd_launch "$name"
}

# _etcd_launch NAME: runs the recorded command in the background, logging to DATA_DIR/log.
_etcd_launch() {
	local name="$1" data
	data="$(cat "$ETCD_STATE/$name.data")"
	# ip netns exec execs etcd, so $! is etcd itself.
	bash -c "exec $(cat "$ETCD_STATE/$name.cmd")" >>"$data/log" 2>&1 </dev/null &
	echo $! >"$ETCD_STATE/$name.pid"
	# Killing it later is expected: no "Killed" line from this shell.
	disown $!
}

etcd_wait_healthy() {
	local url="$1" tls="${2:-}" i
	for i in $(seq 100); do
		if _etcd_curl "$url/health" "$tls" 2>/dev/null | grep -q '"health":"true"'; then
			return 0
		fi
		sleep 0.2
	done
	echo "etcd at $url is not healthy after 20 s" >&2
	return 1
}

# _etcd_wait_gone PID: waits (bounded, 10 s) for a process to exit.
_etcd_wait_gone() {
	local pid="$1" i
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

etcd_stop_member() {
	local name="$1" sig="${2:-TERM}" pid
	[[ -f "$ETCD_STATE/$name.pid" ]] || return 0
	pid="$(cat "$ETCD_STATE/$name.pid")"
	kill -"$sig" "$pid" 2>/dev/null || true
	if ! _etcd_wait_gone "$pid"; then
		kill -KILL "$pid" 2>/dev/null || true
		_etcd_wait_gone "$pid" || true
	fi
	rm -f "$ETCD_STATE/$name.pid"
}

etcd_restart_member() {
	local name="$1"
	etcd_stop_member "$name"
	_etcd_launch "$name"
}

etcd_stop_all() {
	local f
	for f in "$ETCD_STATE"/*.pid; do
		[[ -e "$f" ]] || continue
		etcd_stop_member "$(basename "$f" .pid)" KILL
	done
}

etcd_loopback_single() {
	local tls="${1:-}" scheme=http client_port peer_port data attempt
	[[ -n "$tls" ]] && scheme=https
	for attempt in 1 2 3; do
		client_port="$(etcd_free_port)"
		peer_port="$(etcd_free_port)"
		data="$ETCD_STATE/single-$attempt"
		etcd_start_member single "$data" "$scheme://127.0.0.1:$client_port" \
			"http://127.0.0.1:$peer_port" "single=http://127.0.0.1:$peer_port" "" "$tls"
		if etcd_wait_healthy "$scheme://127.0.0.1:$client_port" "$tls"; then
			export KILO_TEST_ETCD="$scheme://127.0.0.1:$client_port"
			return 0
		fi
		# The port was taken in between, or etcd failed: show why and try again.
		tail -n 5 "$data/log" >&2
		etcd_stop_member single KILL
	done
	return 1
}

etcd_make_tls() {
	local dir="$1" san="IP:127.0.0.1,DNS:localhost" ip
	shift
	for ip in "$@"; do
		san+=",IP:$ip"
	done
	mkdir -p "$dir"
	(
		set -e
		cd "$dir"
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=kilo-test-ca" \
			-keyout ca-key.pem -out ca.pem 2>/dev/null
		openssl req -newkey rsa:2048 -nodes -subj "/CN=etcd" -keyout server-key.pem -out server.csr 2>/dev/null
		printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$san" >server.ext
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
			-extfile server.ext -out server.pem 2>/dev/null
		openssl req -newkey rsa:2048 -nodes -subj "/CN=root" -keyout client-key.pem -out client.csr 2>/dev/null
		printf 'extendedKeyUsage=clientAuth\n' >client.ext
		openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
			-extfile client.ext -out client.pem 2>/dev/null
		chmod 0600 ./*-key.pem
		rm -f ./*.csr ./*.ext ca.srl
	)
}
