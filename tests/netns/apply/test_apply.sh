#!/usr/bin/env bash
# `kgctl apply` is all or nothing, and the wireguard-go it starts is not
# tied to its output. In a namespace of its own, with a real wireguard-go
# and real nftables, every failure that can be made for real (no link holds
# the internal IP, a bad key file, the listen port taken, a route the
# kernel refuses: IPv6 to a link that has it disabled) leaves links, addresses, ip rules, routes, the nftables
# rule set, UAPI sockets and processes exactly as they were, on a fresh
# host and on one that an earlier apply configured. A peer whose endpoint
# is a name that does not resolve is applied without endpoint, and
# `kgctl apply | cat` ends when kgctl does.
#
# Usage: test_apply.sh KGCTL      Prints "N passed, N failed"; exit 77 to skip.
set -uo pipefail

# shellcheck source=../checks.sh
source "$(dirname "$0")/../checks.sh"

kgctl="$(realpath "${1:?usage: test_apply.sh KGCTL}")"
skip_unless_root_with wireguard-go wg nft ip python3 timeout

id=$$
ns="kt-ap$id"
ifname="$(printf 'ktap%05d' $((id % 100000)))"
tmp="$(mktemp -d)"
blocker=""

in_ns() { ip netns exec "$ns" "$@"; }

cleanup() {
	local p
	[[ -n "$blocker" ]] && kill "$blocker" 2>/dev/null
	in_ns ip link del "$ifname" 2>/dev/null
	# Whatever still runs in the namespace is this test's (a wireguard-go kgctl started).
	for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null; done
	ip netns del "$ns" 2>/dev/null
	rm -f "/var/run/wireguard/$ifname.sock"
	rm -rf "$tmp"
}
trap cleanup EXIT

# ---- the host: node a, 192.168.0.1/24 and fd00::1/64 on eth0; node a2 shares its location ----
ip netns add "$ns"
in_ns ip link set lo up
# No duplicate address detection: a link-local address that leaves its tentative state
# between two snapshots would look like a change the apply made.
in_ns sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
in_ns ip link add eth0 type veth peer name eth0p
in_ns ip addr add 192.168.0.1/24 dev eth0
in_ns ip addr add fd00::1/64 dev eth0 nodad
in_ns ip link set eth0 up
in_ns ip link set eth0p up
# A host whose new links have IPv6 off: the WireGuard link refuses IPv6 routes.
in_ns sysctl -qw net.ipv6.conf.default.disable_ipv6=1
(umask 077 && for n in a a2 b; do "$kgctl" genkey >"$tmp/$n.key"; "$kgctl" pubkey <"$tmp/$n.key" >"$tmp/$n.pub"; done)

# mesh [A_INTERNAL_IP] [B_ENDPOINT] [B_SECONDARY_POD_CIDR]
mesh() {
	local b_v6=""
	[[ -n "${3:-}" ]] && b_v6="\"secondaryPodCIDR\": \"$3\","
	cat <<JSON
{"version": 1, "settings": {"granularity": "location", "subnet": "10.4.0.0/16"},
 "nodes": [
  {"name": "a", "location": "l1", "leader": true, "endpoint": "192.0.2.1:51820", "internalIP": "${1:-192.168.0.1/24}",
   "secondaryInternalIP": "fd00::1/64", "podCIDR": "10.2.1.0/24", "publicKey": "$(cat "$tmp/a.pub")"},
  {"name": "a2", "location": "l1", "endpoint": "192.0.2.3:51820", "internalIP": "192.168.0.2/24",
   "podCIDR": "10.2.3.0/24", "publicKey": "$(cat "$tmp/a2.pub")"},
  {"name": "b", "location": "l2", "endpoint": "${2:-192.0.2.2:51820}", "internalIP": "192.168.1.2/24",
   "podCIDR": "10.2.2.0/24", $b_v6 "publicKey": "$(cat "$tmp/b.pub")"}
 ]}
JSON
}

# apply MESH_FILE [KEY_FILE]: kgctl apply for node a; its output in $tmp/out.
apply() {
	in_ns "$kgctl" apply --mesh "$1" --node a --private-key "${2:-$tmp/a.key}" --interface "$ifname" \
		--wg-backend userspace --userspace-wireguard wireguard-go --encapsulate never >"$tmp/out" 2>&1
}

# What an apply may change, in a form that compares as text.
snapshot() {
	in_ns ip -o link show
	in_ns ip -o addr show
	in_ns ip rule show
	in_ns ip -6 rule show
	in_ns ip route show table all
	in_ns ip -6 route show table all
	in_ns nft list ruleset
	ls /var/run/wireguard/ | grep -F "$ifname"
	# wireguard-go's, zombies too, and any other process in the namespace.
	ps -eo pid=,stat=,args= | grep -F "wireguard-go $ifname" | grep -v grep
	ip netns pids "$ns"
	in_ns wg show "$ifname" dump 2>/dev/null | sort
}

# fails_unchanged TEXT MESH_FILE [KEY_FILE]: the apply fails naming TEXT and changes nothing.
fails_unchanged() {
	local text="$1"
	shift
	snapshot >"$tmp/before" 2>&1
	if apply "$@"; then
		echo "    the apply succeeded:"
		sed 's/^/    /' "$tmp/out"
		return 1
	fi
	snapshot >"$tmp/after" 2>&1
	grep -qF -- "$text" "$tmp/out" || { echo "    no \"$text\" in:"; sed 's/^/    /' "$tmp/out"; return 1; }
	diff -u "$tmp/before" "$tmp/after" | sed 's/^/    /'
	cmp -s "$tmp/before" "$tmp/after"
}

mesh 192.168.50.1/24 >"$tmp/no-link.json"
mesh >"$tmp/good.json"
mesh "" "" fd02:2::/64 >"$tmp/bad-route.json"
printf 'not a key\n' >"$tmp/bad.key"
chmod 600 "$tmp/bad.key"

# ---- a fresh host ----
check "no link holds the internal IP: nothing changes" fails_unchanged "no link holds the address 192.168.50.1" \
	"$tmp/no-link.json"
check "a bad key file: nothing changes" fails_unchanged "$tmp/bad.key" "$tmp/good.json" "$tmp/bad.key"

take_port() {
	# Not through in_ns: $! must be python itself (ip netns exec execs it).
	ip netns exec "$ns" python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 51820))
print("bound", flush=True)
time.sleep(120)' >"$tmp/blocker" &
	blocker=$!
	eventually 50 grep -q bound "$tmp/blocker"
}
free_port() { kill "$blocker" && wait "$blocker" 2>/dev/null; blocker=""; }
take_port
check "the listen port in use: the device and wireguard-go it started are gone" fails_unchanged "51820" \
	"$tmp/good.json"
free_port

# The kernel takes a gateway only on a network of one of the host's links.
check "a route the kernel refuses: nothing changes" fails_unchanged "IPv6 is disabled" "$tmp/bad-route.json"

# ---- a host that an earlier apply configured ----
check "a good apply succeeds" eval 'apply "$tmp/good.json" || { sed "s/^/    /" "$tmp/out"; false; }'
check "a route the kernel refuses: the earlier configuration stays" fails_unchanged "IPv6 is disabled" \
	"$tmp/bad-route.json"
check "no link holds the internal IP: the earlier configuration stays" fails_unchanged \
	"no link holds the address 192.168.50.1" "$tmp/no-link.json"
check "a bad key file: the earlier configuration stays" fails_unchanged "$tmp/bad.key" "$tmp/good.json" "$tmp/bad.key"
check "the host still takes the good plan without a change" \
	eval 'apply "$tmp/good.json" && grep -q "nothing changed" "$tmp/out"'

clean_up() { in_ns "$kgctl" apply --clean-up --interface "$ifname" --wg-backend userspace >/dev/null; }
gone() { ! in_ns ip link show "$ifname" >/dev/null 2>&1 && ! ps -eo args= | grep -qxF "wireguard-go $ifname"; }
check "clean-up removes the device and its wireguard-go" eval 'clean_up && eventually 50 gone'

# ---- a name that does not resolve is no reason to fail ----
mesh "" "b.kilo-test.invalid:51820" >"$tmp/dns.json"
dns_applied() {
	apply "$tmp/dns.json" || { sed 's/^/    /' "$tmp/out"; return 1; }
	# b's peer is there, without endpoint ("(none)" in wg show's dump).
	in_ns wg show "$ifname" dump | grep -F "$(cat "$tmp/b.pub")" | cut -f3 | grep -qx '(none)'
}
check "a peer whose endpoint does not resolve is applied without endpoint" dns_applied
check "clean-up" eval 'clean_up && eventually 50 gone'

# ---- wireguard-go does not hold kgctl's output open ----
piped() {
	timeout 20 bash -c 'ip netns exec "$1" "$2" apply --mesh "$3" --node a --private-key "$4" --interface "$5" \
		--wg-backend userspace --userspace-wireguard wireguard-go --encapsulate never | cat >/dev/null' \
		_ "$ns" "$kgctl" "$tmp/good.json" "$tmp/a.key" "$ifname"
}
check "kgctl apply | cat ends when kgctl does, wireguard-go started" piped
check "and wireguard-go runs on" eval 'ps -eo args= | grep -qxF "wireguard-go $ifname"'
# The shell that waits for the output is the one timeout stops, should wireguard-go hold it.
captured() {
	clean_up && eventually 50 gone || return 1
	timeout 20 bash -c 'out="$(ip netns exec "$1" "$2" apply --mesh "$3" --node a --private-key "$4" --interface "$5" \
		--wg-backend userspace --userspace-wireguard wireguard-go --encapsulate never)" && [[ "$out" == *created* ]]' \
		_ "$ns" "$kgctl" "$tmp/good.json" "$tmp/a.key" "$ifname"
}
check "\$(kgctl apply) ends when kgctl does" captured

finish
