#!/usr/bin/env bash
# Dual-stack Services in eBPF, end to end, on the cluster of tests/netns/cluster
# with IPv6 beside IPv4 on every network, pod and tunnel (CLUSTER_DUAL_STACK=1),
# and `kg --bpf on` on every node:
#   a RequireDualStack ClusterIP (an IPv4 and an IPv6 address, an EndpointSlice
#   of each address type) with backends in two locations (pods of n1 and n4),
#   reached over IPv6 and IPv4 by pods of every location, over UDP, by host
#   processes (socket-level balancing) and by the VPN client; and an IPv6-only
#   Service. Every client checks that the answer comes from the ClusterIP.
#
# Usage: test_services_dual.sh KGCTL KG WHOAMI
# Prints ok/FAIL lines and "N passed, N failed"; exits 77 to skip.
set -uo pipefail

here="$(dirname "$(realpath "$0")")"
KGCTL="$(realpath "${1:?usage: test_services_dual.sh KGCTL KG WHOAMI}")"
KG="$(realpath "${2:?usage: test_services_dual.sh KGCTL KG WHOAMI}")"
WHOAMI="$(realpath "${3:?usage: test_services_dual.sh KGCTL KG WHOAMI}")"
CLUSTER_LOCATIONS=3
CLUSTER_PER_LOCATION=2
CLUSTER_NAT_LOCATION=3
CLUSTER_GRANULARITY=location
CLUSTER_DUAL_STACK=1
# shellcheck source=../cluster/lib.sh
source "$here/../cluster/lib.sh"
skip_unless_ready wireguard-go wg nft ip ping jq curl
[[ -x "$WHOAMI" ]] || { echo "skip: whoami is not built ($WHOAMI)"; exit 77; }

VIP=10.96.0.10
VIP6=fd96::10
ONLY6_VIP=fd96::20
SERVICE_RANGES=(10.96.0.0/24 fd96::/112)
BACKENDS=(1 4) # the pods of n1 (loc1, its leader) and n4 (loc2, behind its leader)
CLIENTS=(2 3 6) # a pod of each location that is no backend (loc3's behind the NAT)

# shellcheck source=lib.sh
source "$here/lib.sh"

services_listed() {
	local out
	out="$("$KGCTL" services --store "file:$store" --node n2 2>&1)" || { echo "$out"; return 1; }
	grep -qF "[$VIP6]:80" <<<"$out" && grep -qF "$VIP:80" <<<"$out" && grep -qF "[${pod_ip6[4]}]:8080" <<<"$out" ||
		{ echo "$out"; return 1; }
}

dual_stack_service() {
	local i
	apply < <(service_yaml web "$VIP,$VIP6"; slice_yaml web IPv4 "${BACKENDS[@]}"; slice_yaml web IPv6 "${BACKENDS[@]}")
	check "the IPv6 ClusterIP answers a pod within 5 s of the apply" wait_for 5 answers "$(ns_pod 2)" "$VIP6"
	for i in "${CLIENTS[@]}"; do
		check "pod$i (loc$(loc_of "$i")) reaches the IPv6 ClusterIP over 300 connections, every backend used" \
			every_backend_used "$(ns_pod "$i")" tcp "$VIP6" 80 300 "${BACKENDS[@]}"
		check "pod$i (loc$(loc_of "$i")) reaches the IPv4 ClusterIP of the same Service, every backend used" \
			every_backend_used "$(ns_pod "$i")" tcp "$VIP" 80 100 "${BACKENDS[@]}"
	done
	check "UDP: pod6 reaches the IPv6 ClusterIP's DNS port, every backend answering from the ClusterIP" \
		every_backend_used "$(ns_pod 6)" udp "$VIP6" 53 60 "${BACKENDS[@]}"
	check "a host process on n2 reaches the IPv6 ClusterIP (connect6), every backend used" \
		host_process_reaches "$VIP6" "${BACKENDS[@]}"
	check "a host process on n2 reaches the IPv6 ClusterIP over UDP (sendmsg6, recvmsg6)" \
		eval 'in_cgroup 2 "$WHOAMI" count udp "$VIP6" 53 40 >"$tmp/count" 2>&1 && answered_by 40 "${BACKENDS[@]}"'
	check "the VPN client reaches the IPv6 ClusterIP from $VPN_ADDR6 (through n1), every backend used" \
		eval 'vpn_routes_services "${SERVICE_RANGES[@]}" && wait_for 5 answers "$(ns_vpn)" "$VIP6" &&
			every_backend_used "$(ns_vpn)" tcp "$VIP6" 80 150 "${BACKENDS[@]}"'
	check "kgctl services shows both ClusterIPs and the IPv6 backends" services_listed
}

ipv6_only_service() {
	apply < <(service_yaml only6 "$ONLY6_VIP"; slice_yaml only6 IPv6 "${BACKENDS[@]}")
	check "an IPv6-only Service (ipFamilies [IPv6]): pod3 reaches it, every backend used" \
		eval 'wait_for 5 answers "$(ns_pod 3)" "$ONLY6_VIP" && every_backend_used "$(ns_pod 3)" tcp "$ONLY6_VIP" 80 100 "${BACKENDS[@]}"'
	check "an IPv6-only Service: UDP from pod5" every_backend_used "$(ns_pod 5)" udp "$ONLY6_VIP" 53 40 "${BACKENDS[@]}"
}

cluster_init
trap services_down EXIT
check "bpffs and cgroup2 mounted for the test" mounts_up
network_up
vpn_up
check "kg starts on every node with --bpf on and serves /health" agents_start_bpf
check "kg writes each node's CNI configuration (both families); pods attach with it" pods_with_kg_conflist
check "the VPN client is configured from kgctl showconf peer --store" wait_for 10 vpn_ready
check "every pod reaches every pod, the VPN client every pod, in both families" matrix 15 --vpn
backends_up :: "${BACKENDS[@]}"
dual_stack_service
ipv6_only_service
echo "$passed passed, $failed failed"
((failed == 0))
