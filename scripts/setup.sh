#!/usr/bin/env bash
# Installs what libkilo needs to build (and, with --test, to be tested) on
# Debian 12. Installs only missing packages, so a second run is quick.
set -euo pipefail

packages=(meson ninja-build gcc clang pkg-config libjansson-dev libsodium-dev libcmocka-dev libmnl-dev libnftnl-dev libmicrohttpd-dev libcurl4-openssl-dev graphviz python3
	libbpf-dev bpftool libyaml-dev linux-libc-dev)
if [[ "${1:-}" == "--test" ]]; then
	# make builds examples/; wg is the oracle for kgctl pubkey and the devices; the
	# namespace tests run wireguard-go and check nftables and pings; the etcd store's
	# tests start etcd members (certificates made with openssl); the ABI tests compare the
	# library with abi/libkilo.abi (abigail-tools); scdoc builds the man pages and man-db
	# renders them; golang-go builds the Go binding (Rust's cargo and Python come with the machine).
	packages+=(make wireguard-tools wireguard-go nftables iproute2 iputils-ping curl jq containernetworking-plugins
		qemu-system-x86 busybox-static cpio kmod etcd-server etcd-client openssl abigail-tools scdoc man-db
		golang-go)
fi

missing() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
	done
}

install() {
	local -a need
	mapfile -t need < <(missing "$@")
	((${#need[@]})) || return 0
	if [[ "$(id -u)" -ne 0 ]]; then
		echo "setup: run as root to install: ${need[*]}" >&2
		exit 1
	fi
	echo "setup: installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if [[ -z "${KILO_APT_UPDATED:-}" ]]; then
		apt-get update -qq
		export KILO_APT_UPDATED=1
	fi
	# Without --no-install-recommends wireguard-tools pulls in a kernel image.
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

install "${packages[@]}"
if [[ "${1:-}" == "--test" ]]; then
	# clang's sanitizer and libFuzzer runtimes are only a recommendation of clang.
	install "libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev"
fi
