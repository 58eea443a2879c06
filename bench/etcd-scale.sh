#!/usr/bin/env bash
# What N agents cost a 3-member etcd (etcd-server 3.4, on loopback, fresh for
# each row): libkilo's leases against Kilo's model (every node rewritten every
# 30 s), each with W watch streams, through bench-etcd-scale (see
# bench/etcd_scale.c for what each column measures). Targets at 5,000 nodes:
# 0 puts/s at steady state, p99 of one change reaching every watcher <= 1 s.
# Kilo's model is measured over STEADY seconds, not the hours it runs: its DB
# size is after STEADY s without a compaction (Kubernetes compacts every 5 min).
# Never part of the test run.
#
# Usage: bench/etcd-scale.sh BENCH-ETCD-SCALE [N [W [STEADY]]]   (default 5000 100 30)
set -uo pipefail

bench="$(realpath "${1:?usage: etcd-scale.sh BENCH-ETCD-SCALE [N [W [STEADY]]]}")"
nodes="${2:-5000}"
watchers="${3:-100}"
steady="${4:-30}"
command -v etcd >/dev/null || { echo "etcd-scale: etcd is not installed (etcd-server)" >&2; exit 1; }

# shellcheck source=../tests/etcd/lib.sh
source "$(dirname "$(realpath "$0")")/../tests/etcd/lib.sh"
trap 'etcd_stop_all; rm -rf "$ETCD_STATE"' EXIT
trap 'exit 1' INT TERM

# loopback_cluster NAME: three members on free loopback ports; prints the store URI.
loopback_cluster() {
	local i initial="" client=() peer=() endpoints=""
	for i in 1 2 3; do
		client[i]="http://127.0.0.1:$(etcd_free_port)"
		peer[i]="http://127.0.0.1:$(etcd_free_port)"
		initial+="${initial:+,}$1-m$i=${peer[i]}"
		endpoints+="${endpoints:+,}${client[i]#http://}"
	done
	for i in 1 2 3; do
		etcd_start_member "$1-m$i" "$ETCD_STATE/$1-m$i" "${client[i]}" "${peer[i]}" "$initial"
	done
	for i in 1 2 3; do
		etcd_wait_healthy "${client[i]}" || return 1
	done
	echo "etcd://$endpoints/bench"
}

rows=0
# row MODEL FLAGS...: one row on a cluster of its own.
row() {
	local store
	rows=$((rows + 1))
	store="$(loopback_cluster "row$rows")" || { echo "etcd-scale: the cluster did not come up" >&2; return 1; }
	"$bench" --store "$store" --model "$1" --nodes "$nodes" --watchers "$watchers" --steady "$steady" "${@:2}" ||
		echo "$*: failed (above)"
	etcd_stop_all
}

echo "# bench/etcd-scale.sh $bench $nodes $watchers $steady"
echo "# $(etcd --version | head -1), 3 members on loopback; N=$nodes nodes, W=$watchers watch streams,"
echo "# steady state over $steady s; p50/p99: one changed record until all W watchers have it (100 changes)"
"$bench" --header
# kg's default ready window (6 s), a longer one for a big mesh, and Kilo.
row leases --ttl 6
row leases --ttl 30
row kilo --period 30
