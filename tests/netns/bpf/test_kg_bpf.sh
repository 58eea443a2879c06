#!/usr/bin/env bash
# kg --bpf on one node in a network namespace of its own: the programs go on
# the pod veths already on the CNI bridge and on those the CNI plugin adds
# later (within a second), and on the node's interfaces; the maps are pinned
# in the pin dir; /metrics and kgctl bpf stats read the counters; a kg
# stopped with --clean-up=false leaves programs and maps, and the next one
# takes them over in place with their flows; SIGTERM with --clean-up removes
# every filter and pin; a pin dir off bpffs is an error naming it; --bpf
# auto says which it chose.
#
# Usage: test_kg_bpf.sh KG KGCTL     Prints "N passed, N failed"; exit 77 to skip.
set -uo pipefail

# shellcheck source=../checks.sh
source "$(dirname "$0")/../checks.sh"

kg="$(realpath "${1:?usage: test_kg_bpf.sh KG KGCTL}")"
kgctl="$(realpath "${2:?usage: test_kg_bpf.sh KG KGCTL}")"
skip_unless_root_with wireguard-go ip tc curl bpftool python3
lb_object="$(dirname "$kg")/../../lib/bpf/lb.bpf.o"

id=$$
net="kl-lb$id-net"
node="kl-lb$id-n"
iface="$(printf 'kllb%05d' $((id % 100000)))"
tmp="$(mktemp -d)"
store="$tmp/store"
pins="$tmp/bpf/n"
kg_pid=""

cleanup() {
	if [[ -n "$kg_pid" ]]; then
		kill -TERM "$kg_pid" 2>/dev/null
		for _ in $(seq 20); do kill -0 "$kg_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$kg_pid" 2>/dev/null
	fi
	ip -n "$node" link del "$iface" 2>/dev/null
	ip netns del "$node" 2>/dev/null
	ip netns del "kl-lb$id-client" 2>/dev/null
	ip netns del "kl-lb$id-web" 2>/dev/null
	ip netns del "$net" 2>/dev/null
	rm -f "/var/run/wireguard/$iface.sock"
	umount "$tmp/bpf" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# Outside /sys: `ip netns exec` mounts a /sys of its own, where a bpffs would not outlive kg.
mkdir -p "$tmp/bpf" "$tmp/notbpf"
mount -t bpf bpf "$tmp/bpf" || { echo "cannot mount bpffs: skipped"; exit 77; }

bridge_add "$net"
bridge_node "$net" "$node" "kl$id" 192.168.78.1/24 192.168.78.254
# The CNI bridge with one pod already on it.
ip -n "$node" link add kube-bridge type bridge
ip -n "$node" link set kube-bridge up
ip -n "$node" link add pod-a type veth peer name pod-a-in
ip -n "$node" link set pod-a master kube-bridge

start() {
	# $! must be kg itself (ip netns exec execs it).
	ip netns exec "$node" "$kg" --store "file:$store" --hostname node1 --pod-cidr 10.2.1.0/24 \
		--private-key "$tmp/key" --interface "$iface" --wg-backend userspace --userspace-wireguard wireguard-go \
		--cni=false --encapsulate never --listen 127.0.0.1:1107 --bpf-pin-dir "$pins" --bpf-cgroup "" "$@" 2>>"$tmp/kg.log" &
	kg_pid=$!
}
stop() {
	kill -TERM "$kg_pid" && wait "$kg_pid"
	local status=$?
	kg_pid=""
	return $status
}
# filter_of LINK DIRECTION: the name of the program libkilo's filter runs there, or nothing.
filter_of() {
	ip netns exec "$node" tc filter show dev "$1" "$2" 2>/dev/null |
		grep -oP 'handle 0x6b6c .*?\K(kilo_[a-z0-9_]+)' | head -1
}
# runs PROGRAM LINK DIRECTION: libkilo's filter there runs PROGRAM (whose name the kernel cuts to 15 characters).
runs() { [[ "$(filter_of "$2" "$3")" == "${1:0:15}" ]]; }
filter_id() {
	ip netns exec "$node" tc filter show dev "$1" "$2" 2>/dev/null | grep 'handle 0x6b6c' | grep -oP ' id \K[0-9]+'
}
has_program() { readelf -sW "$lb_object" 2>/dev/null | grep -qw "$1"; }

start --bpf on --clean-up=false
check "kg --bpf on says so" eventually 50 grep -q "bpf: on: programs loaded, maps pinned under $pins" "$tmp/kg.log"
check "the pod veth already on the bridge runs kilo_lb_from_pod" eventually 30 runs kilo_lb_from_pod pod-a ingress
if has_program kilo_lb_to_pod; then
	check "and kilo_lb_to_pod towards the pod" runs kilo_lb_to_pod pod-a egress
fi
if has_program kilo_lb_from_netdev; then
	# WireGuard's link has no Ethernet header.
	check "the WireGuard device runs kilo_lb_from_l3dev" eventually 30 runs kilo_lb_from_l3dev "$iface" ingress
	check "and the private IP's link kilo_lb_from_netdev" runs kilo_lb_from_netdev eth0 ingress
fi
check "the maps are pinned in the pin dir" eval '[[ -e "$pins/kilo_lb_services" && -e "$pins/kilo_lb_conntrack" && -e "$pins/kilo_lb_counters" ]]'

# A new pod: the CNI plugin makes the pair and enslaves the host side.
new_pod() {
	ip -n "$node" link add pod-b type veth peer name pod-b-in && ip -n "$node" link set pod-b master kube-bridge &&
		date +%s%N >"$tmp/enslaved"
}
check "a pod veth added later" new_pod
attached_in_time() {
	local since
	for _ in $(seq 100); do
		if runs kilo_lb_from_pod pod-b ingress; then
			since=$((($(date +%s%N) - $(cat "$tmp/enslaved")) / 1000000))
			echo "    attached after about ${since} ms"
			((since < 1000))
			return
		fi
		sleep 0.01
	done
	return 1
}
check "gets kilo_lb_from_pod within a second" attached_in_time
check "a veth off the bridge gets nothing" eval 'ip -n "$node" link add other type veth peer name other-in && sleep 0.3 && [[ -z "$(filter_of other ingress)" ]]'

http() { ip netns exec "$node" curl -sS -m 2 -o "$tmp/body" -w '%{http_code}' "http://127.0.0.1:1107$1"; }
metrics_ok() { [[ "$(http /metrics)" == 200 ]] && grep -q '^kilo_lb_packets_total{reason="forward_new"} [0-9]' "$tmp/body"; }
check "/metrics has the load balancer's counters by reason" eventually 30 metrics_ok
stats_ok() { "$kgctl" bpf stats --pin-dir "$pins" >"$tmp/stats" && grep -qE '^drop_no_backend +[0-9]+ +[0-9]+$' "$tmp/stats"; }
check "kgctl bpf stats reads them from the pins" stats_ok

# A flow in conntrack (40-byte key and value), then a restart without clean-up.
ct_key="$(printf '0a %.0s' $(seq 40))"
ct_value="$(printf '07 %.0s' $(seq 40))"
check "a conntrack entry written" bpftool map update pinned "$pins/kilo_lb_conntrack" key hex $ct_key value hex $ct_value
old_id="$(filter_id pod-a ingress)"
ct_map_before="$(bpftool map show pinned "$pins/kilo_lb_conntrack" | head -1)"
check "SIGTERM with --clean-up=false stops kg" eval 'kill -TERM "$kg_pid" && wait "$kg_pid"; kg_pid=""'
check "and leaves the filters" eval '[[ "$(filter_id pod-a ingress)" == "$old_id" ]]'
start --bpf on --clean-up=false
check "the next kg replaces the filter in place" eventually 50 eval '[[ -n "$(filter_id pod-a ingress)" && "$(filter_id pod-a ingress)" != "$old_id" ]]'
check "one filter at libkilo's handle, not two" eval '[[ "$(ip netns exec "$node" tc filter show dev pod-a ingress | grep -c "handle 0x6b6c")" == 1 ]]'
# backend_id 0x07070707. On failure, what the pin holds now (the same map as before the restart?).
ct_kept() {
	bpftool map lookup pinned "$pins/kilo_lb_conntrack" key hex $ct_key >"$tmp/ct" 2>&1 &&
		grep -q '"backend_id": 117901063' "$tmp/ct" && return 0
	sed 's/^/    lookup: /' "$tmp/ct" | head -5
	echo "    map before the restart: $ct_map_before; now: $(bpftool map show pinned "$pins/kilo_lb_conntrack" | head -1)"
	return 1
}
check "and the flow is still in conntrack" ct_kept
check "SIGTERM with --clean-up=false" eval 'kill -TERM "$kg_pid" && wait "$kg_pid"; kg_pid=""'

start --bpf on
check "a kg with --clean-up comes up" eventually 50 eval '[[ "$(grep -c "bpf: on: programs loaded" "$tmp/kg.log")" == 3 ]]'
check "SIGTERM stops it" stop
check "and removes every filter" eval '[[ -z "$(filter_of pod-a ingress)$(filter_of pod-a egress)$(filter_of pod-b ingress)$(filter_of "$iface" ingress)" ]]'
check "and the pins and the pin dir" eval '[[ ! -e "$pins" ]]'

off_bpffs() {
	timeout 30 ip netns exec "$node" "$kg" --store "file:$store" --hostname node1 --pod-cidr 10.2.1.0/24 \
		--private-key "$tmp/key" --interface "$iface" --wg-backend userspace --userspace-wireguard wireguard-go \
		--cni=false --encapsulate never --listen 127.0.0.1:1107 --bpf on --bpf-pin-dir "$tmp/notbpf/n" --bpf-cgroup "" \
		>"$tmp/off.out" 2>"$tmp/off.err"
	local status=$?
	((status == 1)) && grep -qF "kg: bpf: pin dir $tmp/notbpf/n: not on a bpf filesystem" "$tmp/off.err" && return 0
	echo "    status $status"
	sed 's/^/    stderr: /' "$tmp/off.err"
	return 1
}
check "--bpf on with a pin dir off bpffs fails, naming it" off_bpffs

start --bpf auto
check "--bpf auto on this kernel says it is on, and why" eventually 50 grep -q "bpf: on (auto: this kernel loads them)" "$tmp/kg.log"
check "SIGTERM stops it" stop

# ---- a Service: its maps from the store, and a connection through its VIP -------------------

# Two pods on the CNI bridge, each in a namespace of its own: a client and a backend (socat on 8080).
pod_ns() { echo "kl-lb$id-$1"; }
add_pod() { # NAME ADDRESS
	ip netns add "$(pod_ns "$1")"
	ip -n "$node" link add "p-$1" type veth peer name eth0 netns "$(pod_ns "$1")"
	ip -n "$node" link set "p-$1" master kube-bridge up
	ip -n "$(pod_ns "$1")" addr add "$2/24" dev eth0
	ip -n "$(pod_ns "$1")" link set eth0 up
	ip -n "$(pod_ns "$1")" link set lo up
	ip -n "$(pod_ns "$1")" route add default via 10.2.1.1
}
ip -n "$node" addr add 10.2.1.1/24 dev kube-bridge
add_pod client 10.2.1.2
add_pod web 10.2.1.3
# The backend answers every connection with its name.
ip netns exec "$(pod_ns web)" python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080))
s.listen(64)
while True:
    c, _ = s.accept()
    c.sendall(b"web\n")
    c.close()
' 2>/dev/null &
server_pid=$!
cat >"$tmp/web.yaml" <<YAML
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  clusterIP: 10.96.0.10
  ports: [{name: http, protocol: TCP, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, protocol: TCP, port: 8080}]
endpoints:
  - addresses: [10.2.1.3]
    nodeName: node1
    conditions: {ready: true}
YAML
start --bpf on
check "kg --bpf on comes up" eventually 50 eval '[[ "$(grep -c "bpf: on: programs loaded" "$tmp/kg.log")" == 4 ]]'
check "kgctl apply -f stores the Service and its EndpointSlice" "$kgctl" apply -f "$tmp/web.yaml" --store "file:$store"
vip_in_maps() { bpftool map dump pinned "$pins/kilo_lb_services" 2>/dev/null | grep -q '"port": 20480'; }
check "the Service's frontend reaches the maps" eventually 50 vip_in_maps
through_vip() {
	[[ "$(ip netns exec "$(pod_ns client)" python3 -c '
import socket
print(socket.create_connection(("10.96.0.10", 80), timeout=1).recv(16).decode().strip())
' 2>/dev/null)" == web ]]
}
check "a pod connects to the VIP and reaches the backend" eventually 30 through_vip
check "and the counters say so" eval '"$kgctl" bpf stats --pin-dir "$pins" | grep -qE "^forward_new +[1-9]"'
"$kgctl" delete -f "$tmp/web.yaml" --store "file:$store" >/dev/null
vip_gone() { ! vip_in_maps && [[ -z "$(bpftool map dump pinned "$pins/kilo_lb_backends" 2>/dev/null | grep -o '"port"')" ]]; }
check "a deleted Service leaves the maps" eventually 50 vip_gone
check "SIGTERM stops it" stop
kill "$server_pid" 2>/dev/null

if ((failed)); then
	tail -n 30 "$tmp/kg.log" | sed 's/^/    kg: /'
fi
finish
