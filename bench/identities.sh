#!/usr/bin/env bash
# What identities cost (bench/identities.c): N label sets allocated, found,
# listed and released by one process, and P processes racing for the same N
# new ones, on a fresh file store (tmpfs or disk: the directory of mktemp)
# and on a fresh one-member etcd on loopback. Never part of the test run.
#
# Usage: bench/identities.sh BENCH-IDENTITIES [N [P]]   (default 1000 4)
set -uo pipefail

bench="$(realpath "${1:?usage: identities.sh BENCH-IDENTITIES [N [P]]}")"
n="${2:-1000}"
p="${3:-4}"

# shellcheck source=../tests/etcd/lib.sh
source "$(dirname "$(realpath "$0")")/../tests/etcd/lib.sh"
dir="$(mktemp -d /tmp/kilo-bench-identities.XXXXXX)"
trap 'etcd_stop_all; rm -rf "$ETCD_STATE" "$dir"' EXIT
trap 'exit 1' INT TERM

echo "# bench/identities.sh $bench $n $p"
"$bench" --header
"$bench" "file:$dir/store" "$n" "$p"
if command -v etcd >/dev/null; then
	client="http://127.0.0.1:$(etcd_free_port)"
	peer="http://127.0.0.1:$(etcd_free_port)"
	etcd_start_member bench "$ETCD_STATE/bench" "$client" "$peer" "bench=$peer"
	if etcd_wait_healthy "$client"; then
		"$bench" "etcd://${client#http://}/bench" "$n" "$p"
	else
		echo "identities: etcd did not come up" >&2
	fi
else
	echo "# etcd is not installed: no etcd rows"
fi
