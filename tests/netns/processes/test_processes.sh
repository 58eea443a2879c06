#!/usr/bin/env bash
# The processes libkilo starts, seen from kg, a long-running embedder: the
# wireguard-go kg starts does not hold kg's output open (a pipe from kg
# ends when kg does) nor any other descriptor kg inherited, is reaped when it exits while kg runs (no zombie),
# and outlives kg: a restarted kg finds it by its UAPI socket and keeps it,
# neither starting a second one nor stopping the first.
#
# Usage: test_processes.sh KG      Prints "N passed, N failed"; exit 77 to skip.
set -uo pipefail

# shellcheck source=../checks.sh
source "$(dirname "$0")/../checks.sh"

kg="$(realpath "${1:?usage: test_processes.sh KG}")"
skip_unless_root_with wireguard-go wg ip curl

id=$$
ns="kt-pr$id"
ifname="$(printf 'ktpr%05d' $((id % 100000)))"
tmp="$(mktemp -d)"
kg_pid=""
cat_pid=""

in_ns() { ip netns exec "$ns" "$@"; }

cleanup() {
	local p
	[[ -n "$kg_pid" ]] && kill -KILL "$kg_pid" 2>/dev/null
	[[ -n "$cat_pid" ]] && kill "$cat_pid" 2>/dev/null
	in_ns ip link del "$ifname" 2>/dev/null
	# Whatever still runs in the namespace is this test's (a wireguard-go kg started).
	for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null; done
	ip netns del "$ns" 2>/dev/null
	rm -f "/var/run/wireguard/$ifname.sock"
	rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$ns"
in_ns ip link set lo up
in_ns ip link add eth0 type veth peer name eth0p
in_ns ip addr add 192.168.78.1/24 dev eth0
in_ns ip link set eth0 up
in_ns ip link set eth0p up
in_ns ip route add default via 192.168.78.254

# start: kg for the one node of the mesh, its stdout and stderr into a pipe that cat drains.
start() {
	rm -f "$tmp/out"
	mkfifo "$tmp/out"
	cat "$tmp/out" >>"$tmp/kg.log" &
	cat_pid=$!
	# Not through in_ns: $! must be kg itself (ip netns exec execs it). Descriptor 7
	# stands for one that kg inherits (a lock of the caller, say).
	ip netns exec "$ns" "$kg" --store "file:$tmp/store" --hostname a --location a --pod-cidr 10.2.1.0/24 \
		--private-key "$tmp/a.key" --interface "$ifname" --wg-backend userspace \
		--userspace-wireguard wireguard-go --encapsulate never --resync-period 1s \
		--cni-path "$tmp/a.conflist" --listen 127.0.0.1:1107 >"$tmp/out" 2>&1 7>"$tmp/inherited" &
	kg_pid=$!
}

stop() {
	kill -TERM "$kg_pid" && wait "$kg_pid"
	local status=$?
	kg_pid=""
	return $status
}

# The pid of the wireguard-go that runs the device; fails unless there is exactly one.
wg_pid() {
	local pids
	pids="$(ps -eo pid=,args= | awk -v cmd="wireguard-go $ifname" '{ p = $1; $1 = ""; if (substr($0, 2) == cmd) print p }')"
	[[ -n "$pids" && "$(wc -l <<<"$pids")" -eq 1 ]] && echo "$pids"
}
device_up() { [[ -S "/var/run/wireguard/$ifname.sock" ]] && wg_pid >/dev/null; }
healthy() { [[ "$(in_ns curl -sS -m 2 -o /dev/null -w '%{http_code}' http://127.0.0.1:1107/health 2>/dev/null)" == 200 ]]; }

start
check "kg starts wireguard-go for its device" eventually 100 device_up
check "and is healthy" eventually 100 healthy
first="$(wg_pid)"
holds_nothing_of_kg() {
	local held
	held="$(ls -l "/proc/$first/fd" | grep -F "$tmp")"
	[[ -z "$held" ]] || { echo "    $held"; return 1; }
}
check "wireguard-go holds none of kg's descriptors" holds_nothing_of_kg

# The device goes behind kg's back: its wireguard-go exits and kg, its parent, must reap it.
in_ns ip link del "$ifname"
reaped() { ! kill -0 "$first" 2>/dev/null; }
check "a wireguard-go that exits while kg runs is reaped" eventually 100 reaped
no_zombie() {
	local zombies
	zombies="$(ps -o pid=,stat=,args= --ppid "$kg_pid" | awk '$2 ~ /^Z/')"
	[[ -z "$zombies" ]] || { echo "    $zombies"; return 1; }
}
check "kg has no defunct child" no_zombie
check "kg starts the device again at its next resync" eventually 100 device_up
second="$(wg_pid)"

check "SIGTERM stops kg cleanly" stop
pipe_closed() { ! kill -0 "$cat_pid" 2>/dev/null; }
check "kg's output ends when kg does: wireguard-go does not hold it" eventually 50 pipe_closed
check "wireguard-go outlives kg" eval 'kill -0 "$second" && [[ "$(wg_pid)" == "$second" ]]'

start
check "a restarted kg is healthy" eventually 100 healthy
check "on the same wireguard-go, not a second one" eval '[[ "$(wg_pid)" == "$second" ]]'
check "whose device keeps its configuration" eval '[[ "$(in_ns wg show "$ifname" listen-port)" == 51820 ]]'
check "SIGTERM stops the restarted kg cleanly" stop
check "and leaves wireguard-go running" eval '[[ "$(wg_pid)" == "$second" ]]'

if ((failed)); then sed 's/^/    kg: /' "$tmp/kg.log" | tail -n 20; fi
finish
