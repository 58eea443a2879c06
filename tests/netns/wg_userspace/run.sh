#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# libkilo against a real wireguard-go in a namespace of its own:
# run.sh PATH/TO/wg_userspace. Skips (77) without root or the tools.
set -eu

PROG=$1
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
for tool in ip wg wireguard-go; do
	command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool is not installed"; exit 77; }
done
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun"; exit 77; }

# Sockets live in /var/run/wireguard for every namespace: names unique per run.
ID=$$
NS=kt-wgu-$ID
IF=ktwgu$ID
IF2=ktwgv$ID
SOCK=/var/run/wireguard/$IF.sock
TMP=$(mktemp -d)

cleanup() {
	for pid in $(ip netns pids "$NS" 2>/dev/null); do
		kill "$pid" 2>/dev/null || true
	done
	if [ -n "${WG_PID:-}" ]; then
		kill "$WG_PID" 2>/dev/null || true
		wait "$WG_PID" 2>/dev/null || true
	fi
	ip netns del "$NS" 2>/dev/null || true
	rm -f "$SOCK" "/var/run/wireguard/$IF2.sock"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$NS"
ip netns exec "$NS" env WG_PROCESS_FOREGROUND=1 wireguard-go "$IF" >"$TMP/wireguard-go.log" 2>&1 &
WG_PID=$!
i=0
until [ -S "$SOCK" ]; do
	i=$((i + 1))
	[ "$i" -le 100 ] || { echo "FAIL: wireguard-go did not create $SOCK"; cat "$TMP/wireguard-go.log"; exit 1; }
	sleep 0.1
done

# wireguard-go lists peers in no fixed order: compare the interface line, then the sorted peers.
same_dump() {
	head -n 1 "$1" >"$TMP/a"
	head -n 1 "$2" >"$TMP/b"
	tail -n +2 "$1" | sort >>"$TMP/a"
	tail -n +2 "$2" | sort >>"$TMP/b"
	diff -u "$TMP/b" "$TMP/a"
}

for stage in apply change remove; do
	ip netns exec "$NS" "$PROG" "$stage" "$IF" >"$TMP/kilo.dump"
	ip netns exec "$NS" wg show "$IF" dump >"$TMP/wg.dump"
	same_dump "$TMP/kilo.dump" "$TMP/wg.dump" || { echo "FAIL: $stage: dump differs from wg show dump"; exit 1; }
	echo "ok: $stage ($(($(wc -l <"$TMP/wg.dump") - 1)) peers, dump equals wg show dump)"
done
[ "$(ip netns exec "$NS" wg show "$IF" peers | wc -l)" -eq 2 ] || { echo "FAIL: remove left $(wg show "$IF" peers | wc -l) peers"; exit 1; }

ip netns exec "$NS" "$PROG" missing "$IF"
echo "ok: missing socket"
ip netns exec "$NS" "$PROG" spawn "$IF2"
echo "ok: spawn and stop"
ip netns exec "$NS" "$PROG" delete "$IF"
i=0
while kill -0 "$WG_PID" 2>/dev/null; do
	i=$((i + 1))
	[ "$i" -le 100 ] || { echo "FAIL: wireguard-go still runs after its device was deleted"; exit 1; }
	sleep 0.1
done
echo "ok: delete"
