#!/usr/bin/env bash
# Dual-stack Services in eBPF, end to end, on the cluster of tests/netns/cluster
# with IPv6 beside IPv4 on every network, pod and tunnel (CLUSTER_DUAL_STACK=1),
# and `kg --bpf on` on every node:
#   a RequireDualStack ClusterIP (an IPv4 and an IPv6 address, an EndpointSlice
#   of each address type) with backends in two locations (pods of n1 and n4),
#   reached over IPv6 and IPv4 by pods of every location, over UDP, by host
#   processes (socket-level balancing) and by the VPN client; NodePort on the
#   node's IPv6 address; each family's slice apart; an IPv6-only Service;
#   large segments, resets and ICMPv6 errors; a removed IPv6 backend; a stream
#   across a kg restart. Every client checks that the answer comes from the
#   address it asked.
#
# Usage: test_services_dual.sh KGCTL KG WHOAMI
# Prints ok/FAIL lines and "N passed, N failed"; exits 77 to skip.
set -uo pipefail

CLUSTER_DUAL_STACK=1
# shellcheck source=lib.sh
source "$(dirname "$(realpath "$0")")/lib.sh" "$@"

VIP=10.96.0.10
VIP6=fd96::10
ONLY6_VIP=fd96::20
SPLIT_VIPS=10.96.0.30,fd96::30
CLOSED_VIP=fd96::40 # its backend (pod2) does not listen
EMPTY_VIP=fd96::50  # no endpoints
NODEPORT=30080
SERVICE_RANGES=(10.96.0.0/24 fd96::/112)
BACKENDS=(1 4) # the pods of n1 (loc1, its leader) and n4 (loc2, behind its leader)
CLIENTS=(2 3 6) # a pod of each location that is no backend (loc3's behind the NAT)

services_listed() {
	local out
	out="$("$KGCTL" services --store "file:$store" --node n2 2>&1)" || { echo "$out"; return 1; }
	if ! grep -qF "[$VIP6]:80" <<<"$out" || ! grep -qF "$VIP:80" <<<"$out" || ! grep -qF "[${pod_ip6[4]}]:8080" <<<"$out"; then
		echo "$out"
		return 1
	fi
}

# The VPN client (its IPv6 address fd05::1 the source) through n1, which SNATs to its own IPv6 address.
vpn_reaches_vip6() {
	vpn_routes_services "${SERVICE_RANGES[@]}" && wait_for 5 answers "$(ns_vpn)" "$VIP6" &&
		every_backend_used "$(ns_vpn)" tcp "$VIP6" 80 150 "${BACKENDS[@]}"
}

dual_stack_service() {
	local i
	apply < <(service_yaml web "$VIP,$VIP6" "" "$NODEPORT"; slice_yaml web IPv4 "${BACKENDS[@]}"; slice_yaml web IPv6 "${BACKENDS[@]}")
	check "the IPv6 ClusterIP answers a pod within 5 s of the apply" wait_for 5 answers "$(ns_pod 2)" "$VIP6"
	for i in "${CLIENTS[@]}"; do
		# Each client's node programs the Service on its own.
		check "pod$i (loc$(loc_of "$i")): its node balances the IPv6 ClusterIP within 5 s" \
			wait_for 5 answers "$(ns_pod "$i")" "$VIP6"
		check "pod$i (loc$(loc_of "$i")) reaches the IPv6 ClusterIP over 300 connections, every backend used" \
			every_backend_used "$(ns_pod "$i")" tcp "$VIP6" 80 300 "${BACKENDS[@]}"
		check "pod$i (loc$(loc_of "$i")) reaches the IPv4 ClusterIP of the same Service, every backend used" \
			every_backend_used "$(ns_pod "$i")" tcp "$VIP" 80 100 "${BACKENDS[@]}"
	done
	check "UDP: pod6 reaches the IPv6 ClusterIP's DNS port, every backend answering from the ClusterIP" \
		every_backend_used "$(ns_pod 6)" udp "$VIP6" 53 60 "${BACKENDS[@]}"
	check "a host process on n2 reaches the IPv6 ClusterIP (connect6), every backend used" \
		host_process_reaches tcp "$VIP6" 80 60 "${BACKENDS[@]}"
	check "a host process on n2 reaches the IPv6 ClusterIP over UDP (sendmsg6, recvmsg6)" \
		host_process_reaches udp "$VIP6" 53 40 "${BACKENDS[@]}"
	check "a host process on n2 reaches the IPv4 ClusterIP from an IPv6 socket (::ffff:$VIP)" \
		host_process_reaches tcp "::ffff:$VIP" 80 60 "${BACKENDS[@]}"
	check "the VPN client reaches the IPv6 ClusterIP from $VPN_ADDR6 (through n1), every backend used" \
		vpn_reaches_vip6
	check "kgctl services shows both ClusterIPs and the IPv6 backends" services_listed
}

# An IPv6 backend leaves its slice: no new IPv6 flow reaches it 1 s later, the IPv4 ClusterIP keeps it.
ipv6_backend_removed() {
	apply < <(service_yaml web "$VIP,$VIP6" "" "$NODEPORT"; slice_yaml web IPv6 4)
	sleep 1
	check "pod1 removed from the IPv6 slice receives no new IPv6 connection 1 s after the apply" \
		every_backend_used "$(ns_pod 6)" tcp "$VIP6" 80 100 4
	check "... while the IPv4 ClusterIP still reaches both backends" \
		every_backend_used "$(ns_pod 6)" tcp "$VIP" 80 100 "${BACKENDS[@]}"
	apply < <(service_yaml web "$VIP,$VIP6" "" "$NODEPORT"; slice_yaml web IPv6 "${BACKENDS[@]}")
}

# kg restarts with the IPv6 entries pinned: they are read back as they are, and flows keep going.
ipv6_restart() {
	check "a long-lived TCP stream through the IPv6 ClusterIP survives a kg restart" restart_keeps_stream "$VIP6"
	check "after the restart, pod2 reaches the IPv6 ClusterIP, every backend used" \
		every_backend_used "$(ns_pod 2)" tcp "$VIP6" 80 100 "${BACKENDS[@]}"
}

# A client outside the cluster reaches n1's NodePort on its IPv6 internal IP.
nodeport_v6_from_outside() {
	outside_up
	check "NodePort: a client outside the cluster reaches [$(private_ip6 1)]:$NODEPORT, every backend used" \
		eval 'wait_for 5 answers "$(ns_out)" "$(private_ip6 1)" "$NODEPORT" &&
			every_backend_used "$(ns_out)" tcp "$(private_ip6 1)" "$NODEPORT" 150 "${BACKENDS[@]}"'
	ip netns del "$(ns_out)"
}

# Each ClusterIP balances to the EndpointSlice of its own family only.
families_apart() {
	apply < <(service_yaml split "$SPLIT_VIPS"; slice_yaml split IPv4 "${BACKENDS[@]}"; slice_yaml split IPv6 4)
	check "a dual-stack Service whose IPv6 slice holds pod4 alone: its IPv6 ClusterIP reaches pod4 only" \
		eval 'wait_for 5 answers "$(ns_pod 2)" "${SPLIT_VIPS#*,}" && every_backend_used "$(ns_pod 2)" tcp "${SPLIT_VIPS#*,}" 80 60 4'
	check "... and its IPv4 ClusterIP both backends" \
		every_backend_used "$(ns_pod 2)" tcp "${SPLIT_VIPS%,*}" 80 60 "${BACKENDS[@]}"
}

# bulk FROM-NS ADDR: 4 MiB through ADDR:80 in full-sized segments, echoed back intact.
bulk() {
	ip netns exec "$1" "$WHOAMI" bulk "$2" 80 4194304 >"$tmp/bulk" 2>&1 || { sed 's/^/    /' "$tmp/bulk"; return 1; }
}

# refused FROM-NS PROTO ADDR PORT: the connection or datagram is refused at once (RST, ICMPv6 unreachable).
refused() {
	ip netns exec "$1" "$WHOAMI" refused "$2" "$3" "$4" >"$tmp/refused" 2>&1 || { sed 's/^/    /' "$tmp/refused"; return 1; }
}

# Large segments, resets and ICMPv6 errors, rewritten as the client expects them from the ClusterIP.
ipv6_segments_and_errors() {
	local i
	for i in 3 6; do
		check "pod$i: 4 MiB through the IPv6 ClusterIP and back, twice (checksums of large segments)" \
			eval 'bulk "$(ns_pod "$i")" "$VIP6" && bulk "$(ns_pod "$i")" "$VIP6"'
	done
	check "a backend that does not listen: its TCP reset reaches pod5 from the IPv6 ClusterIP" \
		refused "$(ns_pod 5)" tcp "$CLOSED_VIP" 80
	check "... and its ICMPv6 port unreachable (UDP) too, rewritten to be about pod5's own datagram" \
		refused "$(ns_pod 5)" udp "$CLOSED_VIP" 53
	check "an IPv6 ClusterIP without endpoints refuses pod5's connection (ICMPv6 unreachable)" \
		refused "$(ns_pod 5)" tcp "$EMPTY_VIP" 80
}

ipv6_only_service() {
	# Services that refuse, for ipv6_segments_and_errors: in place once only6 answers.
	apply < <(service_yaml only6 "$ONLY6_VIP"; slice_yaml only6 IPv6 "${BACKENDS[@]}"
		service_yaml closed "$CLOSED_VIP"; slice_yaml closed IPv6 2; service_yaml empty "$EMPTY_VIP")
	check "an IPv6-only Service (ipFamilies [IPv6]): pod3 reaches it, every backend used" \
		eval 'wait_for 5 answers "$(ns_pod 3)" "$ONLY6_VIP" && every_backend_used "$(ns_pod 3)" tcp "$ONLY6_VIP" 80 100 "${BACKENDS[@]}"'
	check "an IPv6-only Service: UDP from pod5" every_backend_used "$(ns_pod 5)" udp "$ONLY6_VIP" 53 40 "${BACKENDS[@]}"
}

services_cluster_up
backends_up :: "${BACKENDS[@]}"
dual_stack_service
nodeport_v6_from_outside
families_apart
ipv6_only_service
ipv6_segments_and_errors
ipv6_backend_removed
ipv6_restart
echo "$passed passed, $failed failed"
((failed == 0))
