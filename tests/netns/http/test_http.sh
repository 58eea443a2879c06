#!/usr/bin/env bash
# kg's HTTP server against hostile clients, and its debug log, with one kg
# (wireguard-go) in a network namespace of the test's own:
# - 1,100 idle connections from 44 loopback addresses do not lock /health
#   out (it answers within 1 s each time), one address holds at most
#   --http-max-connections-per-ip of them, and --http-timeout closes them;
#   libmicrohttpd's messages reach kg's log, few a second;
# - a slow dot(1) rendering /graph?format=svg keeps neither /health nor
#   the agent's heartbeat waiting, and a second render is refused meanwhile;
# - --log-level debug logs what a reconcile changed, one line per kind
#   (a node added to the store, and dropping out), and --log-level info not.
#
# Usage: test_http.sh KG      Prints "N passed, N failed"; exit 77 to skip.
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../checks.sh
source "$here/../checks.sh"

kg="$(realpath "${1:?usage: test_http.sh KG}")"
skip_unless_root_with wireguard-go wg ip curl python3

id=$$
ns="kt-http$id"
iface="$(printf 'kthttp%05d' $((id % 100000)))"
tmp="$(mktemp -d)"
store="$tmp/store"
kg_pid=""
holders=()

cleanup() {
	local p
	for p in "${holders[@]}"; do kill "$p" 2>/dev/null; done
	if [[ -n "$kg_pid" ]]; then
		kill -TERM "$kg_pid" 2>/dev/null
		for _ in $(seq 30); do kill -0 "$kg_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$kg_pid" 2>/dev/null
	fi
	# Deleting the link stops its wireguard-go.
	ip -n "$ns" link del "$iface" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -f "/var/run/wireguard/$iface.sock"
	rm -rf "$tmp"
}
trap cleanup EXIT

in_ns() { ip netns exec "$ns" "$@"; }

# One node, 192.168.78.1 on a veth pair of its own (this kernel may have no
# dummy links) with a default route for IP discovery.
ip netns add "$ns"
in_ns ip link set lo up
in_ns ip link add eth0 type veth peer name eth1
in_ns ip addr add 192.168.78.1/24 dev eth0
in_ns ip link set eth0 up
in_ns ip link set eth1 up
in_ns ip route add default via 192.168.78.254

# A dot(1) that takes 5 s, and says when it started.
mkdir -p "$tmp/bin"
cat >"$tmp/bin/dot" <<EOF
#!/bin/sh
touch "$tmp/dot-started"
cat >/dev/null
sleep 5
echo '<svg xmlns="http://www.w3.org/2000/svg"/>'
EOF
chmod +x "$tmp/bin/dot"

# start LOG [FLAG...]: kg in the background, its stderr in LOG.
start() {
	local log="$1"
	shift
	# Not through in_ns: $! must be kg itself (ip netns exec execs it).
	PATH="$tmp/bin:$PATH" ip netns exec "$ns" "$kg" --store "file:$store" --hostname a --location a \
		--pod-cidr 10.2.1.0/24 --private-key "$tmp/key" --interface "$iface" --wg-backend userspace \
		--userspace-wireguard wireguard-go --encapsulate never --cni-path "$tmp/a.conflist" \
		--listen 127.0.0.1:1107 "$@" 2>"$log" &
	kg_pid=$!
}

stop() {
	kill -TERM "$kg_pid" && wait "$kg_pid"
	local status=$?
	kg_pid=""
	return $status
}

# add_node NAME I: a live node NAME in location NAME at 192.168.78.I with pods 10.2.I.0/24.
add_node() {
	local key
	key="$(wg genkey | wg pubkey)"
	printf '{"name": "%s", "location": "%s", "endpoint": "192.168.78.%s:51820", "internalIP": "192.168.78.%s/24", "publicKey": "%s", "podCIDR": "10.2.%s.0/24", "lastSeen": %s}\n' \
		"$1" "$1" "$2" "$2" "$key" "$2" "$(date +%s)" >"$store/nodes/$1.json.new"
	mv "$store/nodes/$1.json.new" "$store/nodes/$1.json"
}

# get PATH: the status code in $code, the body in $tmp/body, the seconds it took in $took.
get() {
	local out
	out="$(in_ns curl -sS -m 3 -o "$tmp/body" -w '%{http_code} %{time_total}' "http://127.0.0.1:1107$1" 2>/dev/null)"
	code="${out% *}" took="${out#* }"
}
health_ok() { get /health && [[ "$code" == 200 ]]; }
# health_fast: /health answers 200 within a second.
health_fast() {
	get /health
	echo "    /health: status $code after ${took}s"
	[[ "$code" == 200 ]] && python3 -c "import sys; sys.exit(float('$took') >= 1.0)"
}

start "$tmp/kg-debug.log" --log-level debug --http-timeout 8s
if ! eventually 100 health_ok; then
	check "kg serves /health" false
	sed 's/^/    kg: /' "$tmp/kg-debug.log"
	finish
	exit
fi
check "--log-level debug: the first reconcile logs the device it created" \
	grep -q "kg: reconcile created WireGuard device $iface" "$tmp/kg-debug.log"

# ---- what a reconcile changed -------------------------------------------------------

add_node b 2
peer_added() { grep -q "kg: reconcile changed WireGuard peers: 1 added, 0 removed, 0 updated$" "$tmp/kg-debug.log"; }
check "a node added to the store logs one peer added" eventually 50 peer_added
check "and the routes to it" grep -qE "kg: reconcile changed routes: [1-9][0-9]* added, 0 removed, 0 replaced$" "$tmp/kg-debug.log"
check "one line per kind of change" eval '(($(grep -c "WireGuard peers: 1 added" "$tmp/kg-debug.log") == 1))'

# ---- hostile clients ----------------------------------------------------------------

# hold NAME SOURCES PER_SOURCE: idle connections in the background; counts in $tmp/NAME.
hold() {
	in_ns python3 "$here/hold.py" 127.0.0.1 1107 "$2" "$3" "$tmp/$1" 60 &
	holders+=($!)
}
# counts NAME OPENED OPEN: the holder NAME opened OPENED connections and OPEN are still open.
counts() { [[ "$(cat "$tmp/$1" 2>/dev/null)" == "$2 $3" ]]; }
# held NAME OPENED OPEN: counts, or what the holder has.
held() {
	eventually 200 counts "$@" && return 0
	echo "    $1: $(cat "$tmp/$1" 2>/dev/null) (opened, open)"
	return 1
}

hold idle 127.0.0.2-127.0.0.45 25
check "1,100 idle connections from 44 addresses are all taken" held idle 1100 1100
for i in 1 2 3 4 5; do
	check "/health answers within 1 s beside them ($i)" health_fast
done
get /metrics
check "/metrics answers beside them" eval '[[ "$code" == 200 ]] && grep -q "^kilo_reconciles_total" "$tmp/body"'
# /flows: the same limits, no connection held open; without --bpf no flows, and the cursor back.
flows_fast() {
	local out
	out="$(in_ns curl -sS -m 3 -D "$tmp/headers" -o "$tmp/body" -w '%{http_code} %{time_total}' \
		"http://127.0.0.1:1107/flows?after=0&verdict=dropped&pod=shop/web-1" 2>/dev/null)"
	[[ "${out% *}" == 200 && ! -s "$tmp/body" ]] && grep -qi "^kilo-flows-next: 0" "$tmp/headers" &&
		python3 -c "import sys; sys.exit(float('${out#* }') >= 1.0)"
}
check "/flows answers within 1 s beside them" flows_fast
get "/flows?after=x"
check "/flows?after=x is refused, naming after" eval '[[ "$code" == 400 ]] && grep -q "^after must be" "$tmp/body"'
get "/flows?verdict=denied"
check "/flows?verdict=denied is refused" eval '[[ "$code" == 400 ]] && grep -q "^verdict must be forwarded or dropped" "$tmp/body"'
get "/flows?pod=web"
check "/flows?pod=web is refused" eval '[[ "$code" == 400 ]] && grep -q "^pod must be NAMESPACE/NAME" "$tmp/body"'
hold one 127.0.1.1-127.0.1.1 100
check "one address holds at most --http-max-connections-per-ip (32) of 100" held one 100 32
check "/health still answers within 1 s" health_fast
check "the idle connections were open all along" held idle 1100 1100
check "libmicrohttpd's refusals reach kg's log" grep -q "^kg: http: " "$tmp/kg-debug.log"
check "at most 10 of them a second" eval '(($(grep -c "^kg: http: " "$tmp/kg-debug.log") <= 11))'
all_closed() { counts idle 1100 0 && counts one 100 0; }
check "--http-timeout 8s closes the idle connections" eventually 150 all_closed

# ---- a slow dot(1) ------------------------------------------------------------------

last_seen() { python3 -c "import json, sys; print(json.load(open(sys.argv[1]))['lastSeen'])" "$store/nodes/a.json"; }
in_ns curl -sS -m 15 -o "$tmp/svg" -w '%{http_code}' "http://127.0.0.1:1107/graph?format=svg" >"$tmp/svg-code" 2>&1 &
svg_pid=$!
check "/graph?format=svg starts dot" eventually 50 test -e "$tmp/dot-started"
seen="$(last_seen)"
check "/health answers within 1 s while dot runs" health_fast
get "/graph?format=svg"
check "a second SVG is refused while one is rendered" eval '[[ "$code" == 503 ]] && grep -q "being rendered" "$tmp/body"'
get "/graph?format=dot"
check "DOT is served meanwhile" eval '[[ "$code" == 200 ]] && grep -q "^digraph" "$tmp/body"'
heartbeat() { [[ "$(last_seen)" != "$seen" ]]; }
check "the agent checks in while dot runs" eventually 40 heartbeat
check "and dot was still running" eval '! [[ -s "$tmp/svg-code" ]]'
wait "$svg_pid"
check "the SVG arrives" eval '[[ "$(cat "$tmp/svg-code")" == 200 ]] && grep -q "<svg" "$tmp/svg"'

# Node b was never refreshed: it drops out after the ready window.
peer_removed() { grep -q "kg: reconcile changed WireGuard peers: 0 added, 1 removed, 0 updated$" "$tmp/kg-debug.log"; }
check "a node that drops out logs one peer removed" eventually 100 peer_removed
check "and the routes to it" grep -qE "kg: reconcile changed routes: 0 added, [1-9][0-9]* removed, 0 replaced$" "$tmp/kg-debug.log"
check "SIGTERM stops kg" stop

# ---- --log-level info -----------------------------------------------------------------

start "$tmp/kg-info.log" --log-level info
check "kg starts again" eventually 100 health_ok
add_node c 3
two_nodes() { get /metrics && grep -q '^kilo_nodes 2$' "$tmp/body"; }
check "a node added to the store joins" eventually 50 two_nodes
peers_set() { [[ "$(in_ns wg show "$iface" peers 2>/dev/null | wc -l)" == 1 ]]; }
check "and reaches the device" eventually 50 peers_set
check "--log-level info logs no reconcile changes" eval '! grep -q "reconcile c" "$tmp/kg-info.log"'
check "but its info lines" grep -q "kg: node a joined the mesh" "$tmp/kg-info.log"
check "SIGTERM stops kg" stop

if ((failed)); then
	for log in "$tmp"/kg-*.log; do sed "s/^/    $(basename "$log"): /" "$log" | tail -n 30; done
fi
finish
