#!/usr/bin/env bash
# member.sh stop NAME [SIGNAL] | start NAME: stops a member that tests/etcd/lib.sh
# started (waiting for it to exit), or starts it again with the same command on
# the same data directory, from a test program run under with-etcd.sh (ETCD_STATE
# names the members' records). Waits for the restarted member to be healthy.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
: "${ETCD_STATE:?member.sh runs under tests/etcd/with-etcd.sh}"
# shellcheck source=tests/etcd/lib.sh
source "$here/lib.sh"

case "${1:-}" in
stop) etcd_stop_member "$2" "${3:-TERM}" ;;
start)
	_etcd_launch "$2"
	etcd_wait_healthy "${KILO_TEST_ETCD:?}" "${KILO_TEST_ETCD_TLS:-}"
	;;
*)
	echo "usage: member.sh stop NAME [SIGNAL] | start NAME" >&2
	exit 2
	;;
esac
