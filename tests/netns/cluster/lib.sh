# shellcheck shell=bash
# Helpers that build a multi-location cluster on one machine out of network
# namespaces, for tests/netns/cluster/test_cluster.sh and bench/mesh.sh.
# Source it, set the variables below, then call cluster_up; cluster_down
# (installed as an EXIT trap by cluster_init) removes everything.
#
#   internet (bridge ns)   192.0.2.0/24: public node addresses, NAT routers, the VPN client
#   loc L   (bridge ns)    172.31.L.0/24: the private network of location L
#   node i                 eth0 192.0.2.i (public locations only), eth1 172.31.L.(10+k),
#                          pods 10.2.i.0/24 on the CNI bridge, WireGuard kc<id>w<i>
#   router of the NAT location: 192.0.2.(200+L) masquerading 172.31.L.0/24
#
# No namespace has a route that could carry pod traffic around WireGuard:
# public nodes and routers default to 192.0.2.254, which does not exist.
#
# With CLUSTER_DUAL_STACK=1 every network carries IPv6 as well: public
# 2001:db8::i (routers 2001:db8::(200+L), default via the absent
# 2001:db8::fe), private fd00:31:L::(10+k) (fd00::/16 is what Kilo counts
# as private), pods fd02:i::/64 beside 10.2.i.0/24, the VPN client fd05::1.
# Location 2 advertises IPv6 endpoints, and the NAT router masquerades both
# families, so tunnels run over both.
#
# Callers set: KGCTL, KG (may be empty), CLUSTER_LOCATIONS, CLUSTER_PER_LOCATION,
# CLUSTER_NAT_LOCATION (0: none), CLUSTER_GRANULARITY, CLUSTER_DUAL_STACK (0 or 1),
# and may set CLUSTER_STORE, the agents' --store (default: the directory file:$store).

# shellcheck source=../checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"

CNI_BIN=${CNI_BIN:-/usr/lib/cni}
CHECK_IN_PERIOD=${CHECK_IN_PERIOD:-1}
READY_WINDOW=${READY_WINDOW:-4}
VPN_ADDR=10.5.0.1
VPN_PUBLIC=192.0.2.250
VPN_ADDR6=fd05::1
VPN_PUBLIC6=2001:db8::250
CLUSTER_DUAL_STACK=${CLUSTER_DUAL_STACK:-0}

cluster_init() {
	id=$$
	short=$((id % 100000))
	tmp="$(mktemp -d /tmp/kc.XXXXXX)"
	store="$tmp/store"
	mkdir -p "$store/nodes" "$store/peers" "$tmp/cni" "$tmp/log" "$tmp/bin"
	# The wireguard-go kg starts, under its own name (wg_pid_of finds it), with
	# its verbose log (each UAPI set and handshake) kept per device.
	wg_go="$tmp/bin/wireguard-go"
	printf '#!/bin/bash\nLOG_LEVEL=verbose exec -a wireguard-go %q "$@" >>"%s/log/wg-$1.log" 2>&1\n' \
		"$(command -v wireguard-go)" "$tmp" >"$wg_go"
	chmod +x "$wg_go"
	declare -gA kg_pid pod_ip pod_ip6
	declare -ga node_ids=()
	local l k
	for ((l = 1; l <= CLUSTER_LOCATIONS; l++)); do
		for ((k = 1; k <= CLUSTER_PER_LOCATION; k++)); do
			node_ids+=($(((l - 1) * CLUSTER_PER_LOCATION + k)))
		done
	done
	trap cluster_down EXIT
	trap 'exit 130' INT TERM
}

ns_net() { echo "kc$id-inet"; }
ns_loc() { echo "kc$id-l$1"; }
ns_router() { echo "kc$id-r$1"; }
ns_node() { echo "kc$id-n$1"; }
ns_pod() { echo "kc$id-p$1"; }
ns_vpn() { echo "kc$id-vpn"; }
wg_if() { echo "kc${short}w$1"; }
vpn_if() { echo "kc${short}vpn"; }
loc_of() { echo $((($1 - 1) / CLUSTER_PER_LOCATION + 1)); }
nth_of() { echo $((($1 - 1) % CLUSTER_PER_LOCATION + 1)); }
node_name() { echo "n$1"; }
private_ip() { echo "172.31.$(loc_of "$1").$((10 + $(nth_of "$1")))"; }
private_ip6() { echo "fd00:31:$(loc_of "$1")::$((10 + $(nth_of "$1")))"; }
is_natted() { [[ $(loc_of "$1") -eq $CLUSTER_NAT_LOCATION ]]; }
dual_stack() { ((CLUSTER_DUAL_STACK)); }
# kg's --pod-cidr of node I: one CIDR, or one of each family.
pod_cidrs() {
	if dual_stack; then echo "10.2.$1.0/24,fd02:$1::/64"; else echo "10.2.$1.0/24"; fi
}
in_node() {
	local i="$1"
	shift
	ip netns exec "$(ns_node "$i")" "$@"
}

log() { echo "# $*"; }

# ---- the network ----------------------------------------------------------

# Duplicate address detection would hold every new IPv6 address back for a
# second or two; nothing here can clash.
host_sysctls() {
	ip netns exec "$1" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.arp_ignore=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv6.conf.all.forwarding=1 \
		net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	reserve_wireguard_ports "$1"
	ip -n "$1" link set lo up
}

# addr6 NS ADDRESS/PREFIX DEV [default GW]: an IPv6 address, and a default route, in dual stack only.
addr6() {
	dual_stack || return 0
	ip -n "$1" addr add "$2" dev "$3" nodad
	[[ -z "${5:-}" ]] || ip -n "$1" -6 route add default via "$5" dev "$3" onlink
}

# bridge_port BRIDGE-NS HOST-NS NAME-ON-BRIDGE IFNAME: a veth from a host onto a bridge
bridge_port() {
	ip link add "$3" netns "$1" type veth peer name "$4" netns "$2"
	ip -n "$1" link set "$3" master br0 up
	ip -n "$2" link set "$4" up
}

new_bridge_ns() {
	ip netns add "$1"
	ip -n "$1" link set lo up
	ip -n "$1" link add br0 type bridge
	ip -n "$1" link set br0 up
}

network_up() {
	local l i node
	new_bridge_ns "$(ns_net)"
	for ((l = 1; l <= CLUSTER_LOCATIONS; l++)); do
		new_bridge_ns "$(ns_loc "$l")"
		if ((l == CLUSTER_NAT_LOCATION)); then
			local r
			r="$(ns_router "$l")"
			ip netns add "$r"
			host_sysctls "$r"
			bridge_port "$(ns_net)" "$r" "r$l" eth0
			bridge_port "$(ns_loc "$l")" "$r" r eth1
			ip -n "$r" addr add "192.0.2.$((200 + l))/24" dev eth0
			ip -n "$r" addr add "172.31.$l.1/24" dev eth1
			ip -n "$r" route add default via 192.0.2.254 dev eth0 onlink
			addr6 "$r" "2001:db8::$((200 + l))/64" eth0 default 2001:db8::fe
			addr6 "$r" "fd00:31:$l::1/64" eth1
			ip netns exec "$r" nft -f - <<-NFT
				table inet kcnat {
					chain post { type nat hook postrouting priority 100; oifname "eth0" masquerade; }
				}
			NFT
		fi
	done
	for i in "${node_ids[@]}"; do
		node="$(ns_node "$i")"
		l=$(loc_of "$i")
		ip netns add "$node"
		host_sysctls "$node"
		bridge_port "$(ns_loc "$l")" "$node" "n$i" eth1
		ip -n "$node" addr add "$(private_ip "$i")/24" dev eth1
		if is_natted "$i"; then
			ip -n "$node" route add default via "172.31.$l.1" dev eth1
			addr6 "$node" "$(private_ip6 "$i")/64" eth1 default "fd00:31:$l::1"
		else
			addr6 "$node" "$(private_ip6 "$i")/64" eth1
			bridge_port "$(ns_net)" "$node" "n$i" eth0
			ip -n "$node" addr add "192.0.2.$i/24" dev eth0
			ip -n "$node" route add default via 192.0.2.254 dev eth0 onlink
			addr6 "$node" "2001:db8::$i/64" eth0 default 2001:db8::fe
		fi
		(umask 077 && "$KGCTL" genkey >"$tmp/n$i.key")
		"$KGCTL" pubkey <"$tmp/n$i.key" >"$tmp/n$i.pub"
	done
}

# ---- pods, attached by the standard CNI plugins as a runtime does ---------

# The CNI configuration Kilo ships, with the node's pod CIDR in its ranges
# (and, in dual stack, a second range set as Kubernetes' dual-stack examples have).
kilo_conflist() {
	local ranges="[{\"subnet\": \"10.2.$1.0/24\"}]"
	dual_stack && ranges+=", [{\"subnet\": \"fd02:$1::/64\"}]"
	cat <<-JSON
		{"cniVersion": "0.3.1", "name": "kilo", "plugins": [
		 {"name": "kubernetes", "type": "bridge", "bridge": "kube-bridge", "isDefaultGateway": true,
		  "forceAddress": true, "mtu": 1420,
		  "ipam": {"type": "host-local", "ranges": [$ranges]}},
		 {"type": "portmap", "snat": true, "capabilities": {"portMappings": true}}]}
	JSON
}

# A runtime runs a conflist's first plugin with the list's cniVersion and
# name. host-local keeps its leases under /var/lib/cni, which all the
# namespaces of this machine share: each node gets its own dataDir.
pod_netconf() {
	jq -c --arg dir "$tmp/cni/data-$2" \
		'.plugins[0] + {cniVersion: .cniVersion, name: .name} | .ipam.dataDir = $dir' "$1"
}

# cni I COMMAND IFNAME CONF [POD-NS]: a CNI call for node I's pod (default
# $(ns_pod I)), the pod's namespace name its container id.
cni() {
	local i="$1" command="$2" ifname="$3" conf="$4" pod="${5:-$(ns_pod "$1")}"
	ip netns exec "$(ns_node "$i")" env CNI_COMMAND="$command" CNI_CONTAINERID="${5:-kc$id-pod$i}" \
		CNI_NETNS="/var/run/netns/$pod" CNI_IFNAME="$ifname" CNI_PATH="$CNI_BIN" \
		"$CNI_BIN/$(jq -r .type "$conf")" <"$conf"
}

# pod_add I CONFLIST: a pod namespace on node I, attached with the conflist.
pod_add() {
	local i="$1" result
	if [[ ! -e "/var/run/netns/$(ns_pod "$i")" ]]; then
		ip netns add "$(ns_pod "$i")"
		ip netns exec "$(ns_pod "$i")" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	fi
	pod_netconf "$2" "$i" >"$tmp/cni/pod$i.conf" || return 1
	echo '{"cniVersion": "0.3.1", "name": "cni-loopback", "type": "loopback"}' >"$tmp/cni/lo.conf"
	cni "$i" ADD lo "$tmp/cni/lo.conf" >/dev/null || return 1
	result="$(cni "$i" ADD eth0 "$tmp/cni/pod$i.conf")" || { echo "    CNI ADD pod$i: $result"; return 1; }
	pod_ip[$i]="$(jq -r '[.ips[].address | select(contains("."))][0] | split("/")[0]' <<<"$result")"
	[[ "${pod_ip[$i]}" == 10.2.$i.* ]] || return 1
	dual_stack || return 0
	pod_ip6[$i]="$(jq -r '[.ips[].address | select(contains(":"))][0] | split("/")[0]' <<<"$result")"
	[[ "${pod_ip6[$i]}" == fd02:$i:* ]] || { echo "    pod$i has no IPv6 address in fd02:$i::/64: $result"; return 1; }
}

pod_del() {
	[[ -e "$tmp/cni/pod$1.conf" ]] || return 0
	cni "$1" DEL eth0 "$tmp/cni/pod$1.conf" >/dev/null 2>&1
	rm -f "$tmp/cni/pod$1.conf"
}

# ---- the VPN client: wireguard-go configured from `kgctl showconf peer` ----

vpn_up() {
	local v
	v="$(ns_vpn)"
	ip netns add "$v"
	host_sysctls "$v"
	bridge_port "$(ns_net)" "$v" vpn eth0
	ip -n "$v" addr add "$VPN_PUBLIC/24" dev eth0
	addr6 "$v" "$VPN_PUBLIC6/64" eth0
	(umask 077 && "$KGCTL" genkey >"$tmp/vpn.key")
	local allowed="\"$VPN_ADDR/32\""
	dual_stack && allowed+=", \"$VPN_ADDR6/128\""
	cat >"$store/peers/vpn.json" <<-JSON
		{"name": "vpn", "publicKey": "$("$KGCTL" pubkey <"$tmp/vpn.key")", "allowedIPs": [$allowed],
		 "endpoint": "$VPN_PUBLIC:51820", "persistentKeepalive": 5}
	JSON
	ip netns exec "$v" env WG_PROCESS_FOREGROUND=1 wireguard-go "$(vpn_if)" >"$tmp/log/vpn-wg.log" 2>&1 &
	vpn_wg_pid=$!
	local t
	for ((t = 0; t < 50; t++)); do
		[[ -S "/var/run/wireguard/$(vpn_if).sock" ]] && break
		sleep 0.1
	done
	ip -n "$v" addr add "$VPN_ADDR/32" dev "$(vpn_if)"
	addr6 "$v" "$VPN_ADDR6/128" "$(vpn_if)"
	ip -n "$v" link set "$(vpn_if)" up
}

# vpn_reset: the client forgets its peers and their sessions, as when the
# nodes' devices are made anew.
vpn_reset() {
	printf '[Interface]\nListenPort = 51820\n' >"$tmp/vpn.empty"
	ip netns exec "$(ns_vpn)" wg setconf "$(vpn_if)" "$tmp/vpn.empty" &&
		ip netns exec "$(ns_vpn)" wg set "$(vpn_if)" private-key "$tmp/vpn.key"
}

# vpn_configure SHOWCONF-ARGS...: brings the client's peers and routes in line
# with the mesh. With syncconf, as a careful operator would: a session that is
# up stays up. A setconf would end it on the client's side only, and a NATed
# node that keeps it alive would not shake hands again for minutes, while the
# client cannot reach it first.
vpn_configure() {
	local v conf cidr
	v="$(ns_vpn)"
	conf="$tmp/vpn.conf"
	"$KGCTL" showconf peer vpn "$@" >"$conf.peers" 2>"$tmp/log/showconf.err" ||
		{ sed 's/^/    /' "$tmp/log/showconf.err"; return 1; }
	# A private endpoint is out of the client's reach, and inside the tunnel: packets
	# sent there would loop through it. The client learns such a node's address
	# when the node, keeping its NAT open, shakes hands.
	(umask 077 && printf '[Interface]\nPrivateKey = %s\nListenPort = 51820\n\n' "$(cat "$tmp/vpn.key")" |
		cat - "$conf.peers" | sed '/^Endpoint = 172\.31\./d' >"$conf") || return 1
	ip netns exec "$v" wg syncconf "$(vpn_if)" "$conf" || return 1
	ip -n "$v" route flush dev "$(vpn_if)" proto static 2>/dev/null
	for cidr in $(sed -n 's/^AllowedIPs = //p' "$conf" | tr ',' ' '); do
		ip -n "$v" route replace "$cidr" dev "$(vpn_if)" proto static || return 1
	done
}

# ---- reachability ---------------------------------------------------------

# reach FROM-NS IP DEADLINE: one reply within DEADLINE (whole) seconds. A ping
# gives up at the first ICMP error (an unreachable neighbour, say), so each
# try is a ping of its own, until the deadline.
reach() {
	local end=$((${EPOCHREALTIME/./} / 1000 + $3 * 1000)) t
	for ((t = 0; t < 1000; t++)); do
		ip netns exec "$1" ping -n -q -c 1 -W 0.2 "$2" >/dev/null 2>&1 && return 0
		((${EPOCHREALTIME/./} / 1000 < end)) || return 1
		sleep 0.05
	done
	return 1
}

# matrix DEADLINE [--vpn] [--skip I]... [--only-to I]: every pod reaches every
# other pod (and the VPN client every pod), in parallel; prints what failed.
matrix() {
	local deadline="$1" vpn=0 only="" s d k
	local -A skip=()
	shift
	while (($#)); do
		case "$1" in
		--vpn) vpn=1 ;;
		--skip) skip[$2]=1 && shift ;;
		--only-to) only="$2" && shift ;;
		esac
		shift
	done
	local -a pids=() labels=() bad=()
	for s in "${node_ids[@]}"; do
		[[ -n "${skip[$s]:-}" ]] && continue
		for d in "${node_ids[@]}"; do
			[[ $s == "$d" || -n "${skip[$d]:-}" ]] && continue
			[[ -n "$only" && $s != "$only" && $d != "$only" ]] && continue
			reach "$(ns_pod "$s")" "${pod_ip[$d]}" "$deadline" &
			pids+=($!) labels+=("pod$s->pod$d")
			if dual_stack; then
				reach "$(ns_pod "$s")" "${pod_ip6[$d]}" "$deadline" &
				pids+=($!) labels+=("pod$s->pod$d/v6")
			fi
		done
		if ((vpn)) && [[ -z "$only" || $s == "$only" ]]; then
			reach "$(ns_vpn)" "${pod_ip[$s]}" "$deadline" &
			pids+=($!) labels+=("vpn->pod$s")
			if dual_stack; then
				reach "$(ns_vpn)" "${pod_ip6[$s]}" "$deadline" &
				pids+=($!) labels+=("vpn->pod$s/v6")
			fi
		fi
	done
	for k in "${!pids[@]}"; do
		wait "${pids[$k]}" || bad+=("${labels[$k]}")
	done
	((${#bad[@]} == 0)) || { echo "    unreachable: ${bad[*]}"; return 1; }
}

# No pod reaches a pod of another node, nor the VPN client any pod.
matrix_dark() {
	local s d k
	local -a pids=() labels=() bad=()
	for s in "${node_ids[@]}"; do
		for d in "${node_ids[@]}"; do
			[[ $s == "$d" ]] && continue
			ip netns exec "$(ns_pod "$s")" ping -n -q -c 1 -W 1 "${pod_ip[$d]}" >/dev/null 2>&1 &
			pids+=($!) labels+=("pod$s->pod$d")
			if dual_stack; then
				ip netns exec "$(ns_pod "$s")" ping -n -q -c 1 -W 1 "${pod_ip6[$d]}" >/dev/null 2>&1 &
				pids+=($!) labels+=("pod$s->pod$d/v6")
			fi
		done
		ip netns exec "$(ns_vpn)" ping -n -q -c 1 -W 1 "${pod_ip[$s]}" >/dev/null 2>&1 &
		pids+=($!) labels+=("vpn->pod$s")
		if dual_stack; then
			ip netns exec "$(ns_vpn)" ping -n -q -c 1 -W 1 "${pod_ip6[$s]}" >/dev/null 2>&1 &
			pids+=($!) labels+=("vpn->pod$s/v6")
		fi
	done
	for k in "${!pids[@]}"; do
		wait "${pids[$k]}" && bad+=("${labels[$k]}")
	done
	((${#bad[@]} == 0)) || { echo "    reachable without the mesh: ${bad[*]}"; return 1; }
}

# ---- agents ---------------------------------------------------------------

# agent_start I [extra kg flags]: kg on node I, in the background.
agent_start() {
	local i="$1" l
	shift
	l=$(loc_of "$i")
	local -a flags=(--hostname "$(node_name "$i")" --store "${CLUSTER_STORE:-file:$store}" --interface "$(wg_if "$i")"
		--wg-backend userspace --userspace-wireguard "$wg_go" --private-key "$tmp/n$i.key"
		--location "loc$l" --pod-cidr "$(pod_cidrs "$i")" --mesh-granularity "$CLUSTER_GRANULARITY"
		--subnet 10.4.0.0/16 --encapsulate never --cni-path "$tmp/cni/n$i.conflist"
		--listen 127.0.0.1:1107 --check-in-period "$CHECK_IN_PERIOD" --ready-window "$READY_WINDOW"
		--clean-up-interface)
	(($(nth_of "$i") == 1)) && flags+=(--leader)
	# Nodes behind one NAT listen on ports of their own, as operators set them up:
	# the router then keeps every node's port for every destination, so the NAT
	# address a node is seen at by one peer is the one every peer can use.
	is_natted "$i" && flags+=(--persistent-keepalive 5 --port $((51820 + $(nth_of "$i") - 1)))
	# Location 2's tunnels run over IPv6.
	dual_stack && ((l == 2)) && ! is_natted "$i" && flags+=(--force-endpoint "[2001:db8::$i]:51820")
	# Not through in_node: $! must be kg's own pid (ip netns exec execs it).
	# Each line stamped with the time, to line the log up with a failed check's.
	ip netns exec "$(ns_node "$i")" "$KG" "${flags[@]}" --log-level debug "$@" \
		> >(stamp_lines >>"$tmp/log/kg-n$i.log") 2>&1 &
	kg_pid[$i]=$!
}

stamp_lines() {
	local line
	while IFS= read -r line; do
		printf '%s %s\n' "$EPOCHREALTIME" "$line"
	done
}

# agent_stop I [SIGNAL]: stops kg on node I and waits (at most 10 s) for it.
agent_stop() {
	local i="$1" sig="${2:-TERM}" pid="${kg_pid[$1]:-}" t
	[[ -n "$pid" ]] || return 0
	kill -s "$sig" "$pid" 2>/dev/null
	# A paused agent (nat_agent_pauses) must run to handle the signal.
	kill -s CONT "$pid" 2>/dev/null
	for ((t = 0; t < 100; t++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -s KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "kg_pid[$i]"
}

# leader_dies I: node I's kg and the wireguard-go it started are killed without warning.
leader_dies() {
	local pid
	for pid in $(wg_pid_of "$1"); do
		kill -KILL "$pid"
	done
	agent_stop "$1" KILL
}

agent_alive() { [[ -n "${kg_pid[$1]:-}" ]] && kill -0 "${kg_pid[$1]}" 2>/dev/null; }

# The wireguard-go that serves node I's interface (started by kg, in its own session).
wg_pid_of() { pgrep -x -f "wireguard-go $(wg_if "$1")"; }

agent_peak_rss_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/${kg_pid[$1]:-none}/status" 2>/dev/null; }

agent_get() { in_node "$1" curl -fs --max-time 2 "http://127.0.0.1:1107$2"; }

# wait_for SECONDS COMMAND...: polls every 100 ms.
wait_for() {
	local n=$(($1 * 10)) t
	shift
	for ((t = 0; t < n; t++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# Agents that must still run; prints the dead ones.
all_alive() {
	local i dead=()
	for i in "$@"; do
		agent_alive "$i" || dead+=("n$i")
	done
	((${#dead[@]} == 0)) || { echo "    agent exited: ${dead[*]}"; return 1; }
}

pods_with_kilo_conflist() {
	local i
	for i in "${node_ids[@]}"; do
		kilo_conflist "$i" >"$tmp/cni/harness-n$i.conflist"
		pod_add "$i" "$tmp/cni/harness-n$i.conflist" || return 1
	done
}

# Every node's kg wrote its CNI configuration; the pods are attached anew with it.
pods_with_kg_conflist() {
	local i
	for i in "${node_ids[@]}"; do
		wait_for 5 test -s "$tmp/cni/n$i.conflist" || { echo "    kg on n$i wrote no $tmp/cni/n$i.conflist"; return 1; }
		jq -e --arg s "$(pod_cidrs "$i")" '[.plugins[0].ipam.ranges[][0].subnet] | join(",") == $s' \
			"$tmp/cni/n$i.conflist" >/dev/null ||
			{ echo "    n$i: the CNI configuration does not hold $(pod_cidrs "$i")"; return 1; }
		pod_del "$i"
		pod_add "$i" "$tmp/cni/n$i.conflist" || return 1
	done
}

healthy() { agent_get "$1" /health >/dev/null; }

# agents_start_all [extra kg flags]: kg on every node, each serving /health within 10 s.
agents_start_all() {
	local i
	for i in "${node_ids[@]}"; do
		agent_start "$i" "$@"
	done
	for i in "${node_ids[@]}"; do
		wait_for 10 healthy "$i" || { echo "    n$i: /health not ok within 10 s"; tail -5 "$tmp/log/kg-n$i.log" | sed 's/^/    /'; return 1; }
	done
}

# dark_to D S...: no pod S reaches pod D (one try of a second each).
dark_to() {
	local d="$1" s
	shift
	for s; do
		reach "$(ns_pod "$s")" "${pod_ip[$d]}" 1 && return 1
	done
	return 0
}

# time_failover DEADLINE: n1, loc1's leader, dies without warning (its kg and
# its wireguard-go); failover_s is the time until every other pod reaches every
# other; fails if that takes longer than DEADLINE seconds.
time_failover() {
	local t0 r
	t0=$(now)
	leader_dies 1
	matrix "$1" --skip 1
	r=$?
	failover_s=$(elapsed "$t0" "$(now)")
	return $r
}

# leader_failover: time_failover, checked: n2 takes loc1 over within 10 s, and leads it.
leader_failover() {
	local r
	time_failover 15
	r=$?
	log "failover: loc1 whole again through n2 $failover_s s after n1 died"
	check "n2 takes over loc1 within 10 s of its leader dying ($failover_s s)" \
		eval '((r == 0)) && awk -v s="$failover_s" "BEGIN { exit !(s < 10) }"'
	check "n2 now leads loc1" eval 'agent_get 2 /metrics | grep -qx "kilo_leader 1"'
}

now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# ---- clean-up -------------------------------------------------------------

cluster_down() {
	local i pid
	trap - EXIT
	for i in "${!kg_pid[@]}"; do
		kill -TERM "${kg_pid[$i]}" 2>/dev/null
	done
	for i in "${!kg_pid[@]}"; do
		agent_stop "$i" TERM
	done
	for i in "${node_ids[@]}"; do
		pod_del "$i"
		ip netns del "$(ns_pod "$i")" 2>/dev/null
		in_node "$i" ip link del "$(wg_if "$i")" 2>/dev/null
		for pid in $(wg_pid_of "$i"); do
			kill "$pid" 2>/dev/null
		done
		ip netns del "$(ns_node "$i")" 2>/dev/null
		rm -f "/var/run/wireguard/$(wg_if "$i").sock"
	done
	if [[ -n "${vpn_wg_pid:-}" ]]; then
		kill "$vpn_wg_pid" 2>/dev/null
		wait "$vpn_wg_pid" 2>/dev/null
	fi
	ip netns del "$(ns_vpn)" 2>/dev/null
	rm -f "/var/run/wireguard/$(vpn_if).sock"
	for ((i = 1; i <= CLUSTER_LOCATIONS; i++)); do
		ip netns del "$(ns_router "$i")" 2>/dev/null
		ip netns del "$(ns_loc "$i")" 2>/dev/null
	done
	ip netns del "$(ns_net)" 2>/dev/null
	[[ -n "${KEEP_LOGS:-}" ]] && { cp -r "$tmp/log" "$KEEP_LOGS" 2>/dev/null; }
	rm -rf "$tmp"
}

# skip_unless_ready TOOL...: exit 77 with a reason when not root or a tool is missing.
skip_unless_ready() {
	skip_unless_root_with "$@"
	if [[ ! -x "$CNI_BIN/bridge" || ! -x "$CNI_BIN/host-local" || ! -x "$CNI_BIN/loopback" ]]; then
		echo "skip: the CNI plugins are not in $CNI_BIN (Debian containernetworking-plugins)"
		exit 77
	fi
}
