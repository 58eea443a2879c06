#!/usr/bin/env bash
# A real kg on file stores of 1k, 10k and 50k nodes (N/10 locations, one
# WireGuard peer per other location), in a network namespace of its own with
# wireguard-go; bench-agent-scale alone prints the load table (to 100k), this
# script uses it to write the stores. Per size it prints: kg's
# start until /health answers 200 (the cold load and the first apply), one
# changed node file -> the new endpoint sent to the WireGuard device (wall,
# until kg logs it, and the CPU kg spent, best of 5; the device is checked
# once after the last), kg's peak RSS, /health latency, and the longest
# gap between kg's own heartbeats (--check-in-period 2 s) while it ran.
# Targets at 10k: one change <= 10 ms CPU, heartbeat late by <= 0.5 s,
# RSS <= 64 MiB. Run as root; never part of the test run.
#
# Usage: bench/agent-scale.sh BENCH-AGENT-SCALE KG [N...]
set -uo pipefail

bench="$(realpath "${1:?usage: agent-scale.sh BENCH-AGENT-SCALE KG [N...]}")"
kg="$(realpath "${2:?usage: agent-scale.sh BENCH-AGENT-SCALE KG [N...]}")"
shift 2
sizes=(1000 10000 50000)
(($#)) && sizes=("$@")
if [[ "$(id -u)" -ne 0 ]]; then
	echo "agent-scale: needs root for a network namespace" >&2
	exit 1
fi
for tool in wireguard-go wg ip curl; do
	command -v "$tool" >/dev/null || { echo "agent-scale: $tool is not installed" >&2; exit 1; }
done

id=$$
netns="ksc$id"
iface="ksc$((id % 100000))"
tmp="$(mktemp -d)"
kg_pid=""
sampler_pid=""

in_ns() { ip netns exec "$netns" "$@"; }

stop_kg() {
	[[ -n "$sampler_pid" ]] && kill "$sampler_pid" 2>/dev/null
	sampler_pid=""
	if [[ -n "$kg_pid" ]]; then
		kill -TERM "$kg_pid" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$kg_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$kg_pid" 2>/dev/null
		wait "$kg_pid" 2>/dev/null
	fi
	kg_pid=""
	# Deleting the link stops its wireguard-go.
	in_ns ip link del "$iface" 2>/dev/null
	rm -f "/var/run/wireguard/$iface.sock"
}

cleanup() {
	stop_kg
	ip netns del "$netns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The node: a private IP on a veth and a default route through a gateway that does not exist.
ip netns add "$netns" || exit 1
in_ns ip link set lo up
in_ns ip link add eth0 type veth peer name eth1
in_ns ip addr add 192.168.77.1/24 dev eth0
in_ns ip link set eth0 up
in_ns ip link set eth1 up
in_ns ip route add default via 192.168.77.254

now() { date +%s.%N; }
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }
# kg's CPU time so far, in nanoseconds.
cpu_ns() { cut -d' ' -f1 "/proc/$kg_pid/schedstat"; }
health_code() { in_ns curl -s -m 2 -o /dev/null -w '%{http_code}' http://127.0.0.1:1107/health; }

# wait_until SECONDS COMMAND...: polls every 10 ms; false on timeout.
wait_until() {
	local end
	end=$(awk -v t="$(now)" -v s="$1" 'BEGIN { printf "%.3f", t + s }')
	shift
	until "$@"; do
		awk -v t="$(now)" -v e="$end" 'BEGIN { exit !(t > e) }' && return 1
		sleep 0.01
	done
}

# grep reads the whole dump: quitting at the first match would kill wg with SIGPIPE, and pipefail fail the check.
has_endpoint() { in_ns wg show "$iface" endpoints 2>/dev/null | grep -F -- "$1" >/dev/null; }
# The changes kg has sent to the device: its debug line after each apply that updated a peer.
# (Polling `wg show` instead would load wireguard-go with dumps of every peer, 10,000 at 100k nodes.)
updates() { grep -c "WireGuard peers: 0 added, 0 removed, 1 updated" "$tmp/kg-$n.log"; }
updated_past() { (($(updates) > $1)); }

# The endpoint bench-agent-scale gives node I with VARIANT.
endpoint_of() { echo "$((1 + ($1 >> 16))).$((($1 >> 8) & 255)).$(($1 & 255)).$((7 + $2)):51820"; }

run() {
	local n=$1 store="$tmp/store-$1" t0 t1 start_ms best_wall="" best_cpu="" c0 c1 wall cpu leader
	local l=$((n / 10)) rss health gap
	"$bench" write "$store" "$((n))" || return 1
	t0=$(now)
	# Not through in_ns: $! must be kg itself (ip netns exec execs it).
	ip netns exec "$netns" "$kg" --store "file:$store" --hostname self --location bench --pod-cidr 10.2.1.0/24 \
		--private-key "$tmp/key" --interface "$iface" --wg-backend userspace \
		--userspace-wireguard wireguard-go --encapsulate never --cni-path "$tmp/$n.conflist" \
		--listen 127.0.0.1:1107 --ready-window 1h --check-in-period 2s --log-level debug >>"$tmp/kg-$n.log" 2>&1 &
	kg_pid=$!
	if ! wait_until 300 eval '[[ "$(health_code)" == 200 ]]'; then
		echo "agent-scale: kg on $n nodes never became healthy; its log:" >&2
		tail -5 "$tmp/kg-$n.log" >&2
		return 1
	fi
	t1=$(now)
	start_ms=$(ms_between "$t0" "$t1")

	# kg's own heartbeats, as the store sees them: the mtimes of its node file.
	(while sleep 0.05; do stat -c '%.3Y' "$store/nodes/self.json" 2>/dev/null; done >"$tmp/beats-$n") &
	sampler_pid=$!
	sleep 1

	# The leader of the middle location changes its endpoint: one peer of the device changes.
	leader=$((l / 2))
	for variant in 1 2 3 4 5; do
		# Between heartbeats, so that one does not fall into the window.
		sleep 0.7
		sent=$(updates)
		c0=$(cpu_ns)
		t0=$(now)
		"$bench" change "$store" "$n" "$leader" "$variant" || return 1
		if ! wait_until 60 updated_past "$sent"; then
			echo "agent-scale: kg never sent the change of node $leader to the device" >&2
			return 1
		fi
		t1=$(now)
		sleep 0.1
		c1=$(cpu_ns)
		wall=$(ms_between "$t0" "$t1")
		cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
		if [[ -z "$best_cpu" ]] || awk -v a="$cpu" -v b="$best_cpu" 'BEGIN { exit !(a < b) }'; then
			best_cpu=$cpu
			best_wall=$wall
		fi
	done
	if ! wait_until 30 has_endpoint "$(endpoint_of "$leader" 5)"; then
		echo "agent-scale: the device does not have the last change of node $leader" >&2
		return 1
	fi
	health=$(for _ in 1 2 3 4 5; do
		in_ns curl -s -m 2 -o /dev/null -w '%{time_total}\n' http://127.0.0.1:1107/health
	done | sort -n | tail -1)
	sleep 4
	kill "$sampler_pid" 2>/dev/null
	wait "$sampler_pid" 2>/dev/null
	sampler_pid=""
	gap=$(awk '$1 != p { if (p) { d = $1 - p; if (d > m) m = d } p = $1 } END { printf "%.2f", m }' "$tmp/beats-$n")
	rss=$(awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$kg_pid/status")
	printf '%8s %8s %12s %12s %12s %10s %12s %14s\n' "$n" "$l" "$start_ms" "$best_wall" "$best_cpu" "$rss" \
		"$(awk -v s="$health" 'BEGIN { printf "%.1f", s * 1000 }')" "$gap"
	stop_kg
	rm -rf "$store"
}

echo "command: $0 $bench $kg ${*:-}"
echo "a real kg (wireguard-go, --encapsulate never, --check-in-period 2s) on a store of N nodes in N/10 locations"
echo "start: kg started -> /health 200; change: one node's endpoint file replaced -> kg sent it to the device (ms, best of 5,"
echo "with the CPU kg spent from the write to 100 ms after); RSS: kg's peak; health: slowest of 5 /health (ms);"
echo "heartbeat gap: the longest between kg's own check-ins (s; the period is 2 s, late by <= 0.5 s is the target)"
echo
printf '%8s %8s %12s %12s %12s %10s %12s %14s\n' N L "start (ms)" "change (ms)" "change cpu" "RSS MiB" \
	"health (ms)" "heartbeat gap"
for n in "${sizes[@]}"; do
	run "$n" || exit 1
done
echo
echo "targets at 10000: change <= 10 ms CPU, heartbeat gap <= 2.5 s, RSS <= 64 MiB"
