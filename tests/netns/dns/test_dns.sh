#!/usr/bin/env bash
# DNS-name endpoints with real wireguard-go: two kg nodes and a VPN peer in
# network namespaces, each kg in a mount namespace of its own whose
# /etc/hosts the test writes (and whose nsswitch reads only files). Node a
# advertises a.kilo-dns.test, which only a resolves; node b advertises
# b.kilo-dns.test, which a resolves to b's second address; the office peer
# (a plain wireguard-go that never sends first) is office.kilo-dns.test in
# a's hosts; the ghost peer's name resolves nowhere. Proves that traffic
# goes to the resolved address (b cannot send first: a's name does not
# resolve on b), that a name that does not resolve leaves only its node or
# peer without endpoint and is reported on /health, /metrics and once in
# the log, that a name that moves is followed at the next resync, and that
# `kgctl apply` applies the project's three-clouds example, whose office
# router's name does not resolve, with a warning.
#
# Usage: test_dns.sh KG KGCTL      Prints "N passed, N failed"; exit 77 to skip.
set -uo pipefail

# shellcheck source=../checks.sh
source "$(dirname "$0")/../checks.sh"

kg="$(realpath "${1:?usage: test_dns.sh KG KGCTL}")"
kgctl="$(realpath "${2:?usage: test_dns.sh KG KGCTL}")"
example="$(cd "$(dirname "$0")/../../.." && pwd)/examples/meshes/three-clouds.json"
skip_unless_root_with wireguard-go wg ip ping curl unshare

id=$$
net="kt-dns$id-net"
spaces=(a b p c)
tmp="$(mktemp -d)"
store="$tmp/store"
declare -A pid=()
wg_p=""
resync=3

ns() { echo "kt-dns$id-$1"; }
iface() { printf 'ktdns%05d%s' $((id % 100000)) "$1"; }

# A mount namespace whose /etc/hosts is $1 and whose nsswitch reads only files, then exec "$@".
own_hosts='mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/nsswitch.conf && shift 2 && exec "$@"'

# with_hosts N COMMAND...: COMMAND in namespace N, resolving through $tmp/hosts-N only.
with_hosts() {
	local n="$1"
	shift
	ip netns exec "$(ns "$n")" unshare -m sh -c "$own_hosts" sh "$tmp/hosts-$n" "$tmp/nsswitch.conf" "$@"
}

cleanup() {
	local n
	for n in a b; do
		stop_process "${pid[$n]:-}"
	done
	[[ -n "$wg_p" ]] && kill "$wg_p" 2>/dev/null
	for n in "${spaces[@]}"; do
		wg_node_del "$n"
	done
	ip netns del "$net" 2>/dev/null
	[[ -z "${KEEP_LOGS:-}" ]] || cp "$tmp"/*.log "$tmp"/hosts-* "$KEEP_LOGS" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
# A timeout's SIGTERM must clean up too: kg would live on, holding what the test made.
trap 'exit 1' TERM INT HUP

# ---- the network: a, b and the office peer p on one bridge ----
# a is 192.0.2.1; b is .2 and .12; p is .3 and .13; c stands for a node of the example.
# Public addresses (to Kilo): the nodes have no internal IP, whose route through the
# tunnel would catch b's packets to a, whose name b cannot resolve to exclude it.
printf 'hosts: files\n' >"$tmp/nsswitch.conf"
bridge_add "$net"
i=0
for n in a b p; do
	i=$((i + 1))
	# p, the office peer, has no pods.
	bridge_node "$net" "$(ns "$n")" "kt$id$n" "192.0.2.$i/24" 192.0.2.254 "$([[ $n == p ]] || echo "10.2.$i.1/24")"
done
in_ns b ip addr add 192.0.2.12/24 dev eth0
in_ns p ip addr add 192.0.2.13/24 dev eth0
for n in a b; do
	mkdir -p "$tmp/$n"
	(umask 077 && wg genkey >"$tmp/$n/key")
done

(umask 077 && wg genkey >"$tmp/p.key" && wg genkey >"$tmp/ghost.key")

# The office peer: wireguard-go that knows a's key but not where a is, so it never sends first.
WG_PROCESS_FOREGROUND=1 ip netns exec "$(ns p)" wireguard-go "$(iface p)" >/dev/null 2>&1 &
wg_p=$!
p_up() { in_ns p wg show "$(iface p)" >/dev/null 2>&1; }
check "the office peer's wireguard-go starts" eventually 50 p_up
in_ns p wg set "$(iface p)" private-key "$tmp/p.key" listen-port 51820 \
	peer "$(wg pubkey <"$tmp/a/key")" allowed-ips 10.0.0.0/8
in_ns p ip addr add 10.5.0.1/32 dev "$(iface p)"
in_ns p ip link set "$(iface p)" up
in_ns p ip route add 10.0.0.0/8 dev "$(iface p)"

# hosts N LINE...: rewrites N's hosts file in place (the bind mount follows the file, not its name).
hosts() {
	local n="$1"
	shift
	printf '127.0.0.1 localhost\n' >"$tmp/hosts-$n"
	printf '%s\n' "$@" >>"$tmp/hosts-$n"
}
hosts a "192.0.2.1 a.kilo-dns.test" "192.0.2.12 b.kilo-dns.test" "192.0.2.3 office.kilo-dns.test"
hosts b "192.0.2.12 b.kilo-dns.test"

mkdir -p "$store/peers"
peer() {
	printf '{"name": "%s", "publicKey": "%s", "allowedIPs": ["%s"], "endpoint": "%s.kilo-dns.test:51820"}\n' \
		"$1" "$(wg pubkey <"$2")" "$3" "$1" >"$tmp/peer.json"
	mv "$tmp/peer.json" "$store/peers/$1.json"
}
peer office "$tmp/p.key" 10.5.0.1/32
peer ghost "$tmp/ghost.key" 10.5.0.9/32

pings() { in_ns "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1; }
no_pings_before() { ! pings a 10.2.2.1 && ! pings a 10.5.0.1; }
check "nothing is reached before the agents run" no_pings_before

# start N I: kg for node N (pods 10.2.I.0/24), advertising N.kilo-dns.test.
start() {
	local n="$1" i="$2"
	# Not through with_hosts: $! must be kg itself (ip, unshare and sh exec it).
	ip netns exec "$(ns "$n")" unshare -m sh -c "$own_hosts" sh "$tmp/hosts-$n" "$tmp/nsswitch.conf" \
		"$kg" --store "file:$store" --hostname "$n" --location "$n" --pod-cidr "10.2.$i.0/24" \
		--private-key "$tmp/$n/key" --interface "$(iface "$n")" --wg-backend userspace \
		--userspace-wireguard wireguard-go --encapsulate never --cni-path "$tmp/$n.conflist" \
		--listen 127.0.0.1:1107 --force-endpoint "$n.kilo-dns.test:51820" --resync-period "${resync}s" \
		>/dev/null 2>>"$tmp/kg-$n.log" &
	pid[$n]=$!
}
start a 1
start b 2

# ---- a name that resolves ----
check "a reaches b's pods at the address b's name resolves to (b cannot send first)" eventually 20 pings a 10.2.2.1
endpoint_of() { in_ns "$1" wg show "$(iface "$1")" endpoints | awk -v k="$2" '$1 == k { print $2 }'; }
check "a's device has b's name as its address, never the name" \
	eval '[[ "$(endpoint_of a "$(wg pubkey <"$tmp/b/key")")" == 192.0.2.12:51820 ]]'
check "b reaches a's pods back, on the endpoint a's packets showed" eventually 30 pings b 10.2.1.1
check "a reaches the office peer at its name's address" eventually 20 pings a 10.5.0.1

# ---- a name that does not resolve ----
ghost_key="$(wg pubkey <"$tmp/ghost.key")"
check "the ghost peer is on a's device, without endpoint" eval '[[ "$(endpoint_of a "$ghost_key")" == "(none)" ]]'
http() { in_ns "$1" curl -sS -m 2 -o "$tmp/body" -w '%{http_code}' "http://127.0.0.1:1107$2"; }
health_names() {
	[[ "$(http "$1" /health)" == 200 ]] && [[ "$(head -1 "$tmp/body")" == ok ]] && grep -qF "$2" "$tmp/body"
}
check "a's /health is 200 and names the ghost peer's name" eventually 30 \
	health_names a "peer ghost: endpoint ghost.kilo-dns.test:51820 does not resolve (Name or service not known)"
check "b's /health is 200 and names node a's name, which b cannot resolve" eventually 30 \
	health_names b "node a: endpoint a.kilo-dns.test:51820 does not resolve"
unresolved_is() { [[ "$(http "$1" /metrics)" == 200 ]] && grep -qx "kilo_unresolved_endpoints $2" "$tmp/body"; }
check "a's /metrics counts one unresolved endpoint" eventually 30 unresolved_is a 1
# b resolves none of the names but its own: node a and both peers.
check "b's /metrics counts three unresolved endpoints" eventually 30 unresolved_is b 3
warned='endpoint name ghost.kilo-dns.test does not resolve (Name or service not known): peer ghost without endpoint until it does'
# Two resyncs later it still failed, and said so once.
sleep $((2 * resync + 1))
check "a warns once about the ghost's name, through two resyncs" eval '[[ "$(grep -cF "$warned" "$tmp/kg-a.log")" == 1 ]]'
check "b warns once about a's name" eval '[[ "$(grep -c "endpoint name a.kilo-dns.test does not resolve" "$tmp/kg-b.log")" == 1 ]]'
check "a's reconciles do not fail" eval '! grep -q "is a name\|DNS name" "$tmp/kg-a.log"'

# ---- a name whose address changes while the mesh runs ----
# The second address must outlive the first: Linux drops secondaries with their primary.
in_ns p sysctl -qw net.ipv4.conf.eth0.promote_secondaries=1
in_ns p ip addr del 192.0.2.3/24 dev eth0
hosts a "192.0.2.1 a.kilo-dns.test" "192.0.2.12 b.kilo-dns.test" "192.0.2.13 office.kilo-dns.test"
p_key="$(wg pubkey <"$tmp/p.key")"
office_moved() { [[ "$(endpoint_of a "$p_key")" == 192.0.2.13:51820 ]]; }
check "after the next resync a's device sends to the office peer's new address" eventually $((20 * resync)) office_moved
check "and a reaches the office peer there" eventually 10 pings a 10.5.0.1
check "a logs the move once" \
	eval '[[ "$(grep -c "endpoint name office.kilo-dns.test now resolves to 192.0.2.13 (was 192.0.2.3)" "$tmp/kg-a.log")" == 1 ]]'

# ---- a name that starts to resolve ----
hosts a "192.0.2.1 a.kilo-dns.test" "192.0.2.12 b.kilo-dns.test" "192.0.2.13 office.kilo-dns.test" \
	"192.0.2.9 ghost.kilo-dns.test"
ghost_found() { [[ "$(endpoint_of a "$ghost_key")" == 192.0.2.9:51820 ]]; }
check "a gives the ghost peer its endpoint once its name resolves" eventually $((100 * resync)) ghost_found
check "a's /metrics counts no unresolved endpoint then" eventually 30 unresolved_is a 0
health_clear() { [[ "$(http a /health)" == 200 ]] && [[ "$(cat "$tmp/body")" == ok ]]; }
check "a's /health says only ok then" health_clear
check "a logs that the ghost's name resolves" grep -q "endpoint name ghost.kilo-dns.test resolves now, to 192.0.2.9" "$tmp/kg-a.log"
check "and the mesh still works" pings a 10.2.2.1

# ---- kgctl apply on the shipped example: the office router's name does not resolve ----
ip netns add "$(ns c)"
in_ns c ip link set lo up
in_ns c ip link add eth0 type veth peer name eth1
in_ns c ip addr add 172.31.16.11/20 dev eth0
in_ns c ip link set eth0 up
in_ns c ip link set eth1 up
(umask 077 && wg genkey >"$tmp/c.key")
hosts c
# apply_example N: the Nth apply, with output files of its own (wireguard-go keeps the first's stderr).
apply_example() {
	with_hosts c "$kgctl" apply --mesh "$example" --node aws-eu-1 --private-key "$tmp/c.key" \
		--interface "$(iface c)" --wg-backend userspace --userspace-wireguard wireguard-go --encapsulate never \
		>"$tmp/apply-$1.out" 2>"$tmp/apply-$1.err"
}
office_key="52+KtV+uYfsQbCzSkVUcIb2LJ+FR9MjrH4Mh9lu5t30="
applied_without_office() {
	apply_example 1 || { sed 's/^/    /' "$tmp/apply-1.err"; return 1; }
	[[ "$(grep -v '^ERROR: ' "$tmp/apply-1.err")" == "kgctl: warning: endpoint name vpn.office.example.com does not resolve (Name or service not known): peer office-router without endpoint until it does" ]] &&
		[[ "$(endpoint_of c "$office_key")" == "(none)" ]] &&
		[[ "$(endpoint_of c "S/eqrpdDhWjPy0CB7EUN7+iT0ww7YZInwWdkZzhiWGw=")" == 203.0.113.21:51820 ]] &&
		grep -q "routes: " "$tmp/apply-1.out"
}
check "kgctl apply applies three-clouds.json, warning that the office router's name does not resolve" applied_without_office
hosts c "192.0.2.77 vpn.office.example.com"
applied_with_office() {
	apply_example 2 && [[ -z "$(grep -v '^ERROR: ' "$tmp/apply-2.err")" ]] &&
		[[ "$(endpoint_of c "$office_key")" == 192.0.2.77:51820 ]] && grep -q "1 peers changed" "$tmp/apply-2.out"
}
check "once it resolves, a second apply gives the office router that address" applied_with_office

stop() {
	kill -TERM "${pid[$1]}" && wait "${pid[$1]}"
	local status=$?
	pid[$1]=""
	[[ $status -eq 0 ]]
}
check "SIGTERM stops kg a cleanly" stop a
check "SIGTERM stops kg b cleanly" stop b
check "no sanitizer report in kg's logs" eval '! grep -q "Sanitizer\|runtime error" "$tmp"/kg-*.log'

if ((failed)); then
	for n in a b; do sed "s/^/    kg $n: /" "$tmp/kg-$n.log" | tail -n 20; done
fi
finish
