#!/usr/bin/env bash
# Three nodes in three network namespaces, one location each, joined by an
# "internet" bridge in a fourth; each configured by `kgctl apply` from one
# mesh document, with wireguard-go. Proves traffic crosses the tunnels (and
# not before they exist), that `wg show dump` agrees with libkilo, that a
# second apply changes nothing and a changed node changes one peer, that a VPN
# peer's preshared key reaches the device, and that clean-up removes the NAT rules.
#
# Usage: test_mesh.sh KGCTL      Prints "N passed, N failed"; exit 77 to skip.
set -uo pipefail

# shellcheck source=../checks.sh
source "$(dirname "$0")/../checks.sh"

kgctl="$(realpath "${1:?usage: test_mesh.sh KGCTL}")"
skip_unless_root_with wireguard-go wg nft ip ping

id=$$
net="kt-m$id-net"
nodes=(a b c)
tmp="$(mktemp -d)"

ns() { echo "kt-m$id-$1"; }
iface() { echo "ktm${id: -5}$1"; }

cleanup() {
	local n
	for n in "${nodes[@]}"; do
		ip netns exec "$(ns "$n")" ip link del "$(iface "$n")" 2>/dev/null
		ip netns del "$(ns "$n")" 2>/dev/null
		rm -f "/var/run/wireguard/$(iface "$n").sock"
	done
	ip netns del "$net" 2>/dev/null
	# wireguard-go exits when its link goes; make sure none of ours is left.
	pkill -f "wireguard-go ktm${id: -5}" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# ---- the network: node i has 192.0.2.i on the bridge and pods 10.2.i.0/24 ----
bridge_add "$net"
i=0
for n in "${nodes[@]}"; do
	i=$((i + 1))
	bridge_node "$net" "$(ns "$n")" "kt$id$n" "192.0.2.$i/24" "" "10.2.$i.1/24"
	(umask 077 && "$kgctl" genkey >"$tmp/$n.key")
	"$kgctl" pubkey <"$tmp/$n.key" >"$tmp/$n.pub"
done

# A VPN peer that uses a preshared key (it has no namespace: only the devices' view of it is checked).
"$kgctl" genkey >"$tmp/laptop.key" && "$kgctl" pubkey <"$tmp/laptop.key" >"$tmp/laptop.pub"
"$kgctl" genkey >"$tmp/laptop.psk"

mesh() {
	local port_c="${1:-51820}"
	cat <<JSON
{"version": 1, "settings": {"granularity": "location", "subnet": "10.4.0.0/16"},
 "nodes": [
  {"name": "a", "location": "a", "endpoint": "192.0.2.1:51820", "podCIDR": "10.2.1.0/24", "publicKey": "$(cat "$tmp/a.pub")"},
  {"name": "b", "location": "b", "endpoint": "192.0.2.2:51820", "podCIDR": "10.2.2.0/24", "publicKey": "$(cat "$tmp/b.pub")"},
  {"name": "c", "location": "c", "endpoint": "192.0.2.3:$port_c", "podCIDR": "10.2.3.0/24", "publicKey": "$(cat "$tmp/c.pub")"}
 ],
 "peers": [
  {"name": "laptop", "publicKey": "$(cat "$tmp/laptop.pub")", "allowedIPs": ["10.5.0.1/32"], "presharedKey": "$(cat "$tmp/laptop.psk")"}
 ]}
JSON
}
mesh >"$tmp/mesh.json"

apply() {
	local n="$1"
	in_ns "$n" "$kgctl" apply --mesh "$tmp/mesh.json" --node "$n" --private-key "$tmp/$n.key" \
		--interface "$(iface "$n")" --wg-backend userspace --userspace-wireguard wireguard-go \
		--encapsulate never >"$tmp/apply-$n.out" 2>&1 || { sed 's/^/    /' "$tmp/apply-$n.out"; return 1; }
}

pings() {
	local from="$1" to="$2"
	in_ns "$from" ping -c 1 -W 2 "10.2.$to.1" >/dev/null 2>&1
}

no_pings_before() { ! pings a 2 && ! pings b 3; }
check "pods do not reach each other before the mesh is up" no_pings_before

for n in "${nodes[@]}"; do
	check "kgctl apply creates and configures node $n" eval 'apply "$n" && grep -q "created" "$tmp/apply-$n.out"'
done

all_pings() {
	local from to
	for from in 1 2 3; do
		for to in 1 2 3; do
			[[ $from == "$to" ]] && continue
			pings "${nodes[$((from - 1))]}" "$to" || { echo "    ${nodes[$((from - 1))]} -> 10.2.$to.1 failed"; return 1; }
		done
	done
}
check "every node reaches every other node's pods through the tunnels" all_pings

# wireguard-go lists peers in a different order every time: compare sorted lines.
dump_agrees() {
	local n="$1" ours theirs
	ours="$(in_ns "$n" "$kgctl" wg show "$(iface "$n")" -o dump --wg-backend userspace | cut -f1-4 | sort)"
	theirs="$(in_ns "$n" wg show "$(iface "$n")" dump | cut -f1-4 | sort)"
	[[ -n "$ours" && "$ours" == "$theirs" ]]
}
check "wg show dump agrees with libkilo" dump_agrees a

# Without it, a peer that uses a preshared key never completes a handshake with the mesh.
peer_psk_on_device() {
	local n="$1"
	[[ "$(in_ns "$n" wg show "$(iface "$n")" preshared-keys | grep -F "$(cat "$tmp/laptop.pub")" | cut -f2)" == \
		"$(cat "$tmp/laptop.psk")" ]]
}
check "every node's device holds the VPN peer's preshared key" eval 'peer_psk_on_device a && peer_psk_on_device b && peer_psk_on_device c'

second_apply_changes_nothing() {
	apply a && grep -q "nothing changed" "$tmp/apply-a.out"
}
check "a second apply changes nothing" second_apply_changes_nothing

one_peer_changes() {
	mesh 51821 >"$tmp/mesh.json"
	apply a && grep -q "1 peers changed" "$tmp/apply-a.out"
}
check "changing one node changes one peer" one_peer_changes

nat_present() {
	local rules
	rules="$(in_ns a nft list table ip kilo)" && [[ "$rules" == *"Kilo: NAT remaining packets"* ]]
}
check "the NAT rules are in nftables" nat_present

clean_up_removes_nat() {
	in_ns a "$kgctl" apply --clean-up --interface "$(iface a)" --wg-backend userspace >/dev/null &&
		! in_ns a nft list table ip kilo >/dev/null 2>&1
}
check "clean-up removes the NAT rules" clean_up_removes_nat

# ---- bad input: one clear line on stderr, exit 1, nothing applied ----
fails_with() {
	local text="$1" out
	shift
	out="$("$@" 2>&1 >/dev/null)"
	local status=$?
	[[ $status -eq 1 && "$out" == "kgctl: "*"$text"* ]] || { echo "    status $status: $out"; return 1; }
}
cp "$tmp/b.key" "$tmp/open.key"
chmod 644 "$tmp/open.key"
check "a private key readable by others is refused" fails_with "chmod 600" \
	in_ns b "$kgctl" apply --mesh "$tmp/mesh.json" --node b --private-key "$tmp/open.key" --interface "$(iface b)"
printf '[Interface]\nPrivateKey = not-a-key\n' >"$tmp/badkey.conf"
check "a wrong key in a configuration names the line" fails_with "line 2" \
	in_ns b "$kgctl" wg setconf "$(iface b)" "$tmp/badkey.conf" --wg-backend userspace
printf '[Peer]\nPublicKey = %s\nEndpoint = 192.0.2.9\n' "$(cat "$tmp/a.pub")" >"$tmp/noport.conf"
check "an endpoint without a port is refused" fails_with "Endpoint" \
	in_ns b "$kgctl" wg setconf "$(iface b)" "$tmp/noport.conf" --wg-backend userspace
check "an interface without a userspace socket is named" fails_with "ktmnone0" \
	in_ns b "$kgctl" wg show ktmnone0 --wg-backend userspace
check "a refused private key left node b's device as it was" dump_agrees b

finish
