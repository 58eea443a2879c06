#!/usr/bin/env bash
# with-etcd.sh [--tls] CMD...: runs CMD with a fresh etcd member on loopback
# (free ports, its own data directory) and stops the member afterwards, also
# when CMD fails or the script is interrupted. CMD sees
#   KILO_TEST_ETCD         http://127.0.0.1:PORT (https:// with --tls)
#   KILO_TEST_ETCD_MEMBER  the member's name for tests/etcd/member.sh (stop/start it)
#   ETCD_STATE             the members' records, and room for CMD's own files: removed afterwards
#   KILO_TEST_ETCD_TLS     with --tls: the folder of ca.pem, client.pem, client-key.pem
#                          and other-ca.pem (a CA that signed nothing of this member)
# Skips (77) when etcd is not installed. Exits with CMD's status.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

tls=""
if [[ "${1:-}" == "--tls" ]]; then
	tls=1
	shift
fi
if [[ ! -x "${ETCD_BIN:-/usr/bin/etcd}" ]]; then
	echo "skip: etcd is not installed (scripts/setup.sh --test installs etcd-server)"
	exit 77
fi

# shellcheck source=tests/etcd/lib.sh
source "$here/lib.sh"
cleanup() {
	etcd_stop_all
	rm -rf "$ETCD_STATE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

tls_dir=""
if [[ -n "$tls" ]]; then
	tls_dir="$ETCD_STATE/tls"
	etcd_make_tls "$tls_dir"
	etcd_make_tls "$ETCD_STATE/other"
	cp "$ETCD_STATE/other/ca.pem" "$tls_dir/other-ca.pem"
	export KILO_TEST_ETCD_TLS="$tls_dir"
fi
etcd_loopback_single "$tls_dir"
export KILO_TEST_ETCD_MEMBER=single
status=0
"$@" || status=$?
exit "$status"
