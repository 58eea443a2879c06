#!/usr/bin/env bash
# Service load balancing in eBPF, end to end, on the cluster of
# tests/netns/cluster (three locations of two nodes, the third behind a NAT
# router, CNI pods, a VPN client), with `kg --bpf on` on every node:
#   a ClusterIP with three backends in two locations (pods of n1, n3, n4),
#   reached by pods of every location, the VPN client and a host process;
#   a removed backend, a kg restart under a running stream, UDP, NodePort
#   from outside the cluster, and kilo.squat.ai/topology: location.
#
# Usage: test_services.sh KGCTL KG WHOAMI
# Prints ok/FAIL lines and "N passed, N failed"; exits 77 to skip.
set -uo pipefail

here="$(dirname "$(realpath "$0")")"
KGCTL="$(realpath "${1:?usage: test_services.sh KGCTL KG WHOAMI}")"
KG="$(realpath "${2:?usage: test_services.sh KGCTL KG WHOAMI}")"
WHOAMI="$(realpath "${3:?usage: test_services.sh KGCTL KG WHOAMI}")"
CLUSTER_LOCATIONS=3
CLUSTER_PER_LOCATION=2
CLUSTER_NAT_LOCATION=3
CLUSTER_GRANULARITY=location
CLUSTER_DUAL_STACK=0
# shellcheck source=../cluster/lib.sh
source "$here/../cluster/lib.sh"
# shellcheck source=../cluster/bpf.sh
source "$here/../cluster/bpf.sh"
skip_unless_ready wireguard-go wg nft ip ping jq curl
[[ -x "$WHOAMI" ]] || { echo "skip: whoami is not built ($WHOAMI)"; exit 77; }

VIP=10.96.0.10
NEAR_VIP=10.96.0.20
NODEPORT=30080
BACKENDS=(1 3 4) # the pods of n1 (loc1), n3 and n4 (loc2)

on_check_failure() {
	[[ -z "${KEEP_LOGS:-}" ]] || snapshot >"$tmp/log/fail-$failed.txt" 2>&1
}

snapshot() {
	local i
	for i in "${node_ids[@]}"; do
		echo "== n$i"
		"$KGCTL" bpf stats --pin-dir "$mounts/bpf/n$i" 2>&1
		tail -20 "$tmp/log/kg-n$i.log"
	done
}

declare -a servers=()
services_down() {
	local pid
	for pid in "${servers[@]}"; do
		kill "$pid" 2>/dev/null
	done
	ip netns del "kc$id-out" 2>/dev/null
	cluster_down
	mounts_down
}

# ---- backends and manifests ---------------------------------------------------

backends_up() {
	local i
	for i in "${BACKENDS[@]}"; do
		# ip netns exec execs whoami: $! is the server's own pid.
		ip netns exec "$(ns_pod "$i")" "$WHOAMI" serve tcp 0.0.0.0 8080 "pod$i" &
		servers+=($!)
		ip netns exec "$(ns_pod "$i")" "$WHOAMI" serve udp 0.0.0.0 5353 "pod$i" &
		servers+=($!)
	done
}

# endpoint I: pod I as a ready EndpointSlice endpoint.
endpoint() {
	printf '  - addresses: ["%s"]\n    nodeName: n%s\n    conditions: {ready: true, serving: true, terminating: false}\n' \
		"${pod_ip[$1]}" "$1"
}

# service_yaml NAME VIP [TOPOLOGY [NODEPORT]]: a ClusterIP Service, or a NodePort one.
service_yaml() {
	local type=ClusterIP
	[[ -z "${4:-}" ]] || type=NodePort
	cat <<YAML
apiVersion: v1
kind: Service
metadata:
  name: $1
  namespace: default
  annotations: {${3:+kilo.squat.ai/topology: $3}}
spec:
  type: $type
  clusterIP: $2
  ports:
    - {name: http, protocol: TCP, port: 80, targetPort: 8080${4:+, nodePort: $4}}
    - {name: dns, protocol: UDP, port: 53, targetPort: 5353}
YAML
}

# slice_yaml SERVICE PODS...: the service's EndpointSlice with those pods.
slice_yaml() {
	local service="$1" i
	shift
	cat <<YAML
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: $service-1
  namespace: default
  labels: {kubernetes.io/service-name: $service}
addressType: IPv4
ports:
  - {name: http, protocol: TCP, port: 8080}
  - {name: dns, protocol: UDP, port: 5353}
endpoints:
YAML
	for i; do endpoint "$i"; done
}

apply() { "$KGCTL" apply -f - --store "file:$store" >>"$tmp/log/apply.log" 2>&1; }

# ---- clients ----------------------------------------------------------------

# count FROM-NS PROTO ADDR PORT N: "NAME COUNT" lines and "failed K" into $tmp/count.
count() {
	ip netns exec "$1" "$WHOAMI" count "$2" "$3" "$4" "$5" >"$tmp/count" 2>&1
}
count_of() { awk -v n="$1" '$1 == n { print $2 }' "$tmp/count"; }

# answered_by N PODS...: $tmp/count holds N answers, every one of PODS answered, none other.
answered_by() {
	local n="$1" i c total=0
	shift
	for i; do
		c="$(count_of "pod$i")"
		[[ -n "$c" && "$c" -gt 0 ]] || { echo "    pod$i got no connection: $(tr '\n' ' ' <"$tmp/count")"; return 1; }
		total=$((total + c))
	done
	((total == n)) || { echo "    answers: $(tr '\n' ' ' <"$tmp/count") (want $n from pods $*)"; return 1; }
}

# every_backend_used FROM-NS PROTO ADDR PORT N [PODS...]: N answers from PODS (default: all three).
every_backend_used() {
	local ns="$1" proto="$2" addr="$3" port="$4" n="$5"
	shift 5
	local -a want=("$@")
	((${#want[@]})) || want=("${BACKENDS[@]}")
	count "$ns" "$proto" "$addr" "$port" "$n" || { cat "$tmp/count"; return 1; }
	answered_by "$n" "${want[@]}"
}

# answers FROM-NS [ADDR [PORT]]: the service answers (kg has programmed it).
answers() {
	count "$1" tcp "${2:-$VIP}" "${3:-80}" 1 && [[ "$(count_of failed)" == 0 ]]
}

# The VPN client sends the service range to n1, loc1's leader.
vpn_routes_vip() {
	local n1 ips
	n1="$(cat "$tmp/n1.pub")"
	ips="$(ip netns exec "$(ns_vpn)" wg show "$(vpn_if)" allowed-ips | awk -v k="$n1" '$1 == k { $1 = ""; print }' | tr -s ' ' ',')"
	ip netns exec "$(ns_vpn)" wg set "$(vpn_if)" peer "$n1" allowed-ips "${ips#,},10.96.0.0/24" &&
		ip -n "$(ns_vpn)" route replace 10.96.0.0/24 dev "$(vpn_if)"
}

# in_cgroup I COMMAND...: a host process of node I, in the cgroup its kg balances.
in_cgroup() {
	local i="$1"
	shift
	in_node "$i" bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' _ "$mounts/cgroup/ks$id-n$i" "$@"
}

host_process_reaches() {
	in_cgroup 2 "$WHOAMI" count tcp "$VIP" 80 60 >"$tmp/count" 2>&1 && answered_by 60 "${BACKENDS[@]}"
}

services_listed() {
	local out i
	out="$("$KGCTL" services --store "file:$store" --node n2 2>&1)" || { echo "$out"; return 1; }
	for i in "${BACKENDS[@]}"; do
		grep -q "${pod_ip[$i]}" <<<"$out" || { echo "$out"; return 1; }
	done
}

# ---- the scenarios ------------------------------------------------------------

clients_reach_the_vip() {
	local i
	apply < <(service_yaml web "$VIP" "" "$NODEPORT"; slice_yaml web "${BACKENDS[@]}")
	check "kgctl apply -f stores the Service and its EndpointSlice" eval '[[ -e "$store/services/default.web.json" ]]'
	check "the ClusterIP answers a pod within 5 s of the apply" wait_for 5 answers "$(ns_pod 2)"
	for i in 2 5 6; do
		check "pod$i (loc$(loc_of "$i")) reaches the ClusterIP over 400 connections, every backend used" \
			every_backend_used "$(ns_pod "$i")" tcp "$VIP" 80 400
	done
	check "UDP: pod5 reaches the ClusterIP's DNS port, every backend answering" \
		every_backend_used "$(ns_pod 5)" udp "$VIP" 53 60
	check "the VPN client reaches the ClusterIP (through n1), every backend used" \
		eval 'vpn_routes_vip && wait_for 5 answers "$(ns_vpn)" && every_backend_used "$(ns_vpn)" tcp "$VIP" 80 150'
	check "a host process on n2 reaches the ClusterIP (socket-level balancing), every backend used" \
		host_process_reaches
	check "kgctl services shows the frontend and its three backends" services_listed
}

# Streams from pod5 run while pod4 leaves the EndpointSlice: 1 s later no new
# connection reaches pod4, and the streams to the other backends keep going.
backend_removed() {
	local -a pids=()
	local k broken=0
	for k in 1 2 3 4 5 6; do
		ip netns exec "$(ns_pod 5)" "$WHOAMI" stream "$VIP" 80 6 >"$tmp/log/stream$k" 2>&1 &
		pids+=($!)
	done
	sleep 1
	apply < <(service_yaml web "$VIP" "" "$NODEPORT"; slice_yaml web 1 3)
	sleep 1
	check "a removed backend receives no new connection 1 s after the apply (300 connections)" \
		every_backend_used "$(ns_pod 5)" tcp "$VIP" 80 300 1 3
	for k in "${!pids[@]}"; do
		if ! wait "${pids[$k]}"; then
			[[ "$(head -c 4 "$tmp/log/stream$((k + 1))")" == pod4 ]] || broken=$((broken + 1))
		fi
	done
	check "streams to the remaining backends keep going ($broken broke)" eval '((broken == 0))'
	apply < <(service_yaml web "$VIP" "" "$NODEPORT"; slice_yaml web "${BACKENDS[@]}")
}

# kg of the client's node restarts (killed: its wireguard-go lives on) while a
# TCP stream runs through its conntrack.
restart_keeps_streams() {
	local pid
	ip netns exec "$(ns_pod 2)" "$WHOAMI" stream "$VIP" 80 6 >"$tmp/restart-stream" 2>&1 &
	pid=$!
	sleep 1
	agent_stop 2 KILL
	# shellcheck disable=SC2046
	agent_start 2 $(bpf_flags 2)
	wait_for 10 healthy 2
	check "a long-lived TCP stream through the ClusterIP survives a kg restart" wait "$pid"
}

# A client outside the cluster, on loc1's private network, reaches n1's NodePort.
nodeport_from_outside() {
	local o="kc$id-out"
	ip netns add "$o"
	bridge_port "$(ns_loc 1)" "$o" "kc${short}o" eth0
	ip -n "$o" addr add 172.31.1.100/24 dev eth0
	ip -n "$o" link set eth0 up
	ip -n "$o" link set lo up
	check "NodePort: a client outside the cluster reaches n1's NodePort, every backend used" \
		eval 'wait_for 5 answers "$o" "$(private_ip 1)" "$NODEPORT" && every_backend_used "$o" tcp "$(private_ip 1)" "$NODEPORT" 150'
	ip netns del "$o"
}

# kilo.squat.ai/topology: location keeps flows in the client's location while it has a backend.
location_preference() {
	apply < <(service_yaml near "$NEAR_VIP" location; slice_yaml near "${BACKENDS[@]}")
	check "location preference: pod2 (loc1) reaches only loc1's backend (pod1)" \
		eval 'wait_for 5 answers "$(ns_pod 2)" "$NEAR_VIP" && every_backend_used "$(ns_pod 2)" tcp "$NEAR_VIP" 80 100 1'
	check "location preference: pod5 (loc3 has no backend) reaches every backend" \
		every_backend_used "$(ns_pod 5)" tcp "$NEAR_VIP" 80 150
	apply < <(service_yaml near "$NEAR_VIP" location; slice_yaml near 3 4)
	sleep 1
	check "location preference: with loc1's backend gone, pod2 falls back to loc2's" \
		every_backend_used "$(ns_pod 2)" tcp "$NEAR_VIP" 80 100 3 4
}

vpn_ready() {
	vpn_configure --store "file:$store" --mesh-granularity location && ! grep -q '^Endpoint = 172\.31\.' "$tmp/vpn.conf.peers"
}

cluster_init
trap services_down EXIT
check "bpffs and cgroup2 mounted for the test" mounts_up
network_up
vpn_up
check "kg starts on every node with --bpf on and serves /health" agents_start_bpf
check "kg writes each node's CNI configuration; pods attach with it" pods_with_kg_conflist
check "the VPN client is configured from kgctl showconf peer --store" wait_for 10 vpn_ready
check "every pod reaches every pod, the VPN client every pod" matrix 15 --vpn
backends_up
clients_reach_the_vip
backend_removed
restart_keeps_streams
nodeport_from_outside
location_preference
echo "$passed passed, $failed failed"
((failed == 0))
