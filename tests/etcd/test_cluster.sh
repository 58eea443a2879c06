#!/usr/bin/env bash
# The three-member etcd of cluster.sh, alone in its namespace, checked with
# etcdctl: what the end-to-end tests rely on it for. Writes go through each
# member; a killed leader is replaced; with two members down writes time out
# and with them back the cluster catches up; TLS with the right CA answers and
# with the wrong one does not.
# Usage: test_cluster.sh       prints ok/FAIL lines; exits 77 to skip.
set -uo pipefail

here="$(dirname "$(realpath "$0")")"
# shellcheck source=../netns/checks.sh
source "$here/../netns/checks.sh"
# shellcheck source=cluster.sh
source "$here/cluster.sh"
skip_unless_root_with etcd etcdctl openssl jq ip

tmp="$(mktemp -d /tmp/kec.XXXXXX)"
trap 'etcd_cluster_down; rm -rf "$tmp" "$ETCD_STATE"' EXIT
trap 'exit 130' INT TERM
addrs=(192.0.2.241 192.0.2.242 192.0.2.243)

etcd_ctl_member() {
	local i="$1"
	shift
	etcd_ctl_at "$(etcd_client_url "$i")" "$@"
}

puts_through_each() {
	local i
	for i in 1 2 3; do
		etcd_ctl_member "$i" put "k$i" "v$i" >/dev/null || return 1
	done
	for i in 1 2 3; do
		[[ "$(etcd_ctl_member "$i" get --print-value-only --prefix k | tr '\n' ' ')" == "v1 v2 v3 " ]] || return 1
	done
}

# A leader other than $1.
new_leader() {
	local l
	l="$(etcd_leader)" && [[ "$l" != "$1" ]]
}

leader_killed() {
	local old
	old="$(etcd_leader)" || return 1
	etcd_kill "$old"
	eventually 100 new_leader "$old" || return 1
	etcd_ctl put after-leader "$old" >/dev/null || return 1
	killed=("$old")
}

no_quorum() {
	local l t0
	l="$(etcd_leader)" || return 1
	etcd_kill "$l"
	killed+=("$l")
	t0=$EPOCHREALTIME
	! etcd_ctl put during-outage x >/dev/null 2>&1 || return 1
	# Refused only by the timeout, not at once.
	awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a >= 1.5) }'
}

# Member I holds both after-* writes, read from its own copy.
member_caught_up() {
	[[ "$(etcd_ctl_member "$1" get --consistency=s --keys-only --prefix after- | grep -c .)" == 2 ]]
}

catches_up() {
	local i
	for i in "${killed[@]}"; do
		etcd_restart "$i"
	done
	etcd_wait_quorum 20 || return 1
	etcd_ctl put after-outage yes >/dev/null || return 1
	for i in 1 2 3; do
		eventually 50 member_caught_up "$i" || return 1
		[[ -z "$(etcd_ctl_member "$i" get --consistency=s during-outage)" ]] || return 1
	done
}

wrong_ca_refused() {
	! ip netns exec "$etcd_ns" etcdctl --endpoints "$(etcd_client_url 1)" --dial-timeout 1s --command-timeout 2s \
		--cacert "$tmp/other/ca.pem" --cert "$etcd_tls/client.pem" --key "$etcd_tls/client-key.pem" \
		get k1 >/dev/null 2>&1
}

scenario() {
	local tls="$1" label="${1:+TLS: }"
	check "${label}three members come up on three addresses of a namespace" \
		etcd_cluster_up "kec$$-etcd" "" "$tmp/etcd${tls:+-tls}" "$tls" "${addrs[@]}"
	check "${label}a write through each member is read through each" puts_through_each
	check "${label}SIGKILL of the leader: another member leads and writes go on" leader_killed
	check "${label}two members down: no quorum, a write times out" no_quorum
	check "${label}both back: a quorum again, every member has every write" catches_up
	[[ -n "$tls" ]] && check "TLS: a client trusting another CA is refused" wrong_ca_refused
	etcd_cluster_down
}

scenario ""
check "openssl makes a CA, server and client certificates, and a wrong CA" \
	eval 'etcd_make_tls "$tmp/tls" "${addrs[@]}" && etcd_make_tls "$tmp/other"'
scenario "$tmp/tls"
finish
