#!/usr/bin/env bash
# Service load balancing in eBPF, end to end, on the cluster of
# tests/netns/cluster (three locations of two nodes, the third behind a NAT
# router, CNI pods, a VPN client), with `kg --bpf on` on every node:
#   a ClusterIP with three backends in two locations (pods of n1, n3, n4),
#   reached by pods of every location, the VPN client and a host process;
#   a removed backend, a kg restart under a running stream, UDP, NodePort
#   from outside the cluster, a Service whose every endpoint is terminating
#   but serving, and kilo.squat.ai/topology: location.
#
# Usage: test_services.sh KGCTL KG WHOAMI
# Prints ok/FAIL lines and "N passed, N failed"; exits 77 to skip.
set -uo pipefail

CLUSTER_DUAL_STACK=0
# shellcheck source=lib.sh
source "$(dirname "$(realpath "$0")")/lib.sh" "$@"

VIP=10.96.0.10
NEAR_VIP=10.96.0.20
FADING_VIP=10.96.0.30
NODEPORT=30080
BACKENDS=(1 3 4) # the pods of n1 (loc1), n3 and n4 (loc2)

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
	apply < <(service_yaml web "$VIP" "" "$NODEPORT"; slice_yaml web IPv4 "${BACKENDS[@]}")
	check "kgctl apply -f stores the Service and its EndpointSlice" eval '[[ -e "$store/services/default.web.json" ]]'
	# Each client's node programs the Service on its own: every one is waited for.
	check "the ClusterIP answers a pod of every location within 5 s of the apply" \
		eval 'wait_for 5 answers "$(ns_pod 2)" && wait_for 5 answers "$(ns_pod 5)" && wait_for 5 answers "$(ns_pod 6)"'
	for i in 2 5 6; do
		check "pod$i (loc$(loc_of "$i")) reaches the ClusterIP over 400 connections, every backend used" \
			every_backend_used "$(ns_pod "$i")" tcp "$VIP" 80 400 "${BACKENDS[@]}"
	done
	check "UDP: pod5 reaches the ClusterIP's DNS port, every backend answering" \
		every_backend_used "$(ns_pod 5)" udp "$VIP" 53 60 "${BACKENDS[@]}"
	check "the VPN client reaches the ClusterIP (through n1), every backend used" \
		eval 'vpn_routes_services 10.96.0.0/24 && wait_for 5 answers "$(ns_vpn)" && every_backend_used "$(ns_vpn)" tcp "$VIP" 80 150 "${BACKENDS[@]}"'
	check "a host process on n2 reaches the ClusterIP (socket-level balancing), every backend used" \
		host_process_reaches tcp "$VIP" 80 60 "${BACKENDS[@]}"
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
	apply < <(service_yaml web "$VIP" "" "$NODEPORT"; slice_yaml web IPv4 1 3)
	sleep 1
	check "a removed backend receives no new connection 1 s after the apply (300 connections)" \
		every_backend_used "$(ns_pod 5)" tcp "$VIP" 80 300 1 3
	for k in "${!pids[@]}"; do
		if ! wait "${pids[$k]}"; then
			[[ "$(head -c 4 "$tmp/log/stream$((k + 1))")" == pod4 ]] || broken=$((broken + 1))
		fi
	done
	check "streams to the remaining backends keep going ($broken broke)" eval '((broken == 0))'
	apply < <(service_yaml web "$VIP" "" "$NODEPORT"; slice_yaml web IPv4 "${BACKENDS[@]}")
}

# A client outside the cluster, on loc1's private network, reaches n1's NodePort.
nodeport_from_outside() {
	local o
	o="$(ns_out)"
	outside_up
	check "NodePort: a client outside the cluster reaches n1's NodePort, every backend used" \
		eval 'wait_for 5 answers "$o" "$(private_ip 1)" "$NODEPORT" && every_backend_used "$o" tcp "$(private_ip 1)" "$NODEPORT" 150 "${BACKENDS[@]}"'
	ip netns del "$o"
}

# Every endpoint terminating but still serving (the last pods of a rollout):
# kube-proxy's fallback sends them new flows, from pods and host processes.
# Pods of loc3 of their own: a backend that another Service has ready is
# another case (terminating-with-ready.json).
FADING_BACKENDS=(5 6)
terminating_fallback() {
	backends_up 0.0.0.0 "${FADING_BACKENDS[@]}"
	apply < <(service_yaml fading "$FADING_VIP"
		ENDPOINT_CONDITIONS="ready: false, serving: true, terminating: true" slice_yaml fading IPv4 "${FADING_BACKENDS[@]}")
	check "every endpoint terminating but serving: pod2 reaches every one through the ClusterIP" \
		eval 'wait_for 5 answers "$(ns_pod 2)" "$FADING_VIP" && every_backend_used "$(ns_pod 2)" tcp "$FADING_VIP" 80 150 "${FADING_BACKENDS[@]}"'
	check "every endpoint terminating but serving: a host process on n2 reaches every one" \
		host_process_reaches tcp "$FADING_VIP" 80 60 "${FADING_BACKENDS[@]}"
}

# kilo.squat.ai/topology: location keeps flows in the client's location while it has a backend.
location_preference() {
	apply < <(service_yaml near "$NEAR_VIP" location; slice_yaml near IPv4 "${BACKENDS[@]}")
	check "location preference: pod2 (loc1) reaches only loc1's backend (pod1)" \
		eval 'wait_for 5 answers "$(ns_pod 2)" "$NEAR_VIP" && every_backend_used "$(ns_pod 2)" tcp "$NEAR_VIP" 80 100 1'
	# pod2's answer says n1's kg has the Service; pod5's node (n5) must have it too.
	check "location preference: pod5 (loc3 has no backend) reaches every backend" \
		eval 'wait_for 5 answers "$(ns_pod 5)" "$NEAR_VIP" && every_backend_used "$(ns_pod 5)" tcp "$NEAR_VIP" 80 150 "${BACKENDS[@]}"'
	apply < <(service_yaml near "$NEAR_VIP" location; slice_yaml near IPv4 3 4)
	sleep 1
	check "location preference: with loc1's backend gone, pod2 falls back to loc2's" \
		every_backend_used "$(ns_pod 2)" tcp "$NEAR_VIP" 80 100 3 4
}

services_cluster_up
backends_up 0.0.0.0 "${BACKENDS[@]}"
clients_reach_the_vip
backend_removed
check "a long-lived TCP stream through the ClusterIP survives a kg restart" restart_keeps_stream "$VIP"
nodeport_from_outside
terminating_fallback
location_preference
echo "$passed passed, $failed failed"
((failed == 0))
