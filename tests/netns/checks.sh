# shellcheck shell=bash
# The check helpers the namespace tests share; source it, then call finish last.
passed=0
failed=0

# check NAME COMMAND...: one ok/FAIL line for whether COMMAND succeeds. A test
# that defines on_check_failure has it run after each failed check (to keep
# what the failure saw).
check() {
	local name="$1"
	shift
	if "$@"; then
		passed=$((passed + 1))
		echo "ok - $name"
	else
		failed=$((failed + 1))
		echo "FAIL - $name"
		if declare -F on_check_failure >/dev/null; then on_check_failure; fi
	fi
}

# eventually TRIES COMMAND...: retries COMMAND every tenth of a second, at most TRIES times.
eventually() {
	local tries="$1"
	shift
	for _ in $(seq "$tries"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# in_ns N COMMAND...: COMMAND in the namespace that the test's ns() names for N.
in_ns() {
	local n="$1"
	shift
	ip netns exec "$(ns "$n")" "$@"
}

# stop_process PID: SIGTERM, a second to finish (kg cleans up within one), then SIGKILL.
stop_process() {
	[[ -n "$1" ]] || return 0
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq 20); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
}

# wg_node_del N: N's WireGuard link (deleting it stops its wireguard-go), the
# namespace that the test's ns() names for N, and the link's socket; iface() names the link.
wg_node_del() {
	in_ns "$1" ip link del "$(iface "$1")" 2>/dev/null
	ip netns del "$(ns "$1")" 2>/dev/null
	rm -f "/var/run/wireguard/$(iface "$1").sock"
}

# finish: the closing line; fails if a check failed.
finish() {
	echo "$passed passed, $failed failed"
	((failed == 0))
}

# skip_unless_root_with TOOL...: exits 77 (skip), saying why, unless root and every TOOL is installed.
skip_unless_root_with() {
	local tool
	if [[ "$(id -u)" -ne 0 ]]; then
		echo "skip: needs root for network namespaces"
		exit 77
	fi
	for tool in "$@"; do
		if ! command -v "$tool" >/dev/null; then
			echo "skip: $tool is not installed"
			exit 77
		fi
	done
}

# reserve_wireguard_ports NS: no socket in NS gets 51820-51829 as its ephemeral
# port. kg's hostname lookup holds one for seconds (its DNS server is not
# there); on 51820 (one chance in ~28,000 a lookup) it kept wireguard-go
# from binding its listen port ("Address already in use"). Hosts reserve
# WireGuard's port the same way.
reserve_wireguard_ports() {
	ip netns exec "$1" sysctl -qw net.ipv4.ip_local_reserved_ports=51820-51829
}

# bridge_add NET [ADDR/LEN]: the namespace NET with a bridge br0 that the tests' hosts join (ADDR on it if given).
bridge_add() {
	ip netns add "$1"
	ip -n "$1" link add br0 type bridge
	[[ -z "${2:-}" ]] || ip -n "$1" addr add "$2" dev br0
	ip -n "$1" link set br0 up
	ip -n "$1" link set lo up
}

# bridge_host NET NS VETH ADDR/LEN [GATEWAY]: the namespace NS on NET's bridge through the veth
# VETH (eth0 in NS) with ADDR/LEN, and a default route via GATEWAY if given. The gateway need not
# exist: the route names eth0 for kg's IP discovery but carries no pod traffic around a tunnel.
bridge_host() {
	local net="$1" ns="$2" veth="$3" addr="$4" gateway="${5:-}"
	ip netns add "$ns"
	reserve_wireguard_ports "$ns"
	ip link add "$veth" netns "$net" type veth peer name eth0 netns "$ns"
	ip -n "$net" link set "$veth" master br0 up
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add "$addr" dev eth0
	ip -n "$ns" link set eth0 up
	[[ -z "$gateway" ]] || ip -n "$ns" route add default via "$gateway"
}

# bridge_node NET NS VETH ADDR/LEN GATEWAY|"" [POD_ADDR/LEN]: a host that forwards, as a node does;
# with POD_ADDR, a veth pair pod0/pod1 stands for its pods (pod0 has POD_ADDR).
bridge_node() {
	bridge_host "$1" "$2" "$3" "$4" "$5"
	ip netns exec "$2" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.ip_forward=1
	[[ -n "${6:-}" ]] || return 0
	ip -n "$2" link add pod0 type veth peer name pod1
	ip -n "$2" addr add "$6" dev pod0
	ip -n "$2" link set pod0 up
	ip -n "$2" link set pod1 up
}
