#!/usr/bin/env bash
# Installs what is needed, builds kg and kgctl, then runs the mesh for real:
# six nodes in three locations (one behind NAT) in network namespaces, a kg
# agent on each, pods attached by the CNI plugins and a VPN client. Prints who
# reaches whom, the graph and `kgctl status`, and tears it all down
# (scripts/cluster-demo.sh). Needs root.
#
# Usage: run-example.sh            build the cluster, print, tear it down
#        run-example.sh --keep     keep it running until Ctrl-C
#        run-example.sh --dual-stack
#                                  IPv6 beside IPv4 everywhere (with or without --keep)
#        run-example.sh --offline [MESH]
#                                  no root, no network: solve a mesh document
#                                  (default examples/meshes/three-clouds.json) and
#                                  print every node's and peer's configuration
#                                  and the graph
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"

build="${KILO_BUILD_DIR:-$repo/build-example}"
kgctl="$build/cli/kgctl/kgctl"
kg="$build/cli/kg/kg"

build() {
	[[ -d "$build" ]] || meson setup "$build" >/dev/null
	ninja -C "$build" "$@" >/dev/null
}

offline() {
	local mesh="${1:-$repo/examples/meshes/three-clouds.json}"
	local svg="${KILO_SVG:-${TMPDIR:-/tmp}/kilo-$(basename "$mesh" .json).svg}"
	local node peer

	"$repo/scripts/setup.sh"
	build cli/kgctl/kgctl

	names() {
		python3 -c 'import json, sys
for item in json.load(open(sys.argv[1])).get(sys.argv[2]) or []:
    print(item["name"])' "$mesh" "$1"
	}

	while read -r node; do
		echo "### kgctl showconf node $node"
		"$kgctl" showconf node "$node" --mesh "$mesh" 2>&1
		echo
	done < <(names nodes)

	while read -r peer; do
		echo "### kgctl showconf peer $peer"
		"$kgctl" showconf peer "$peer" --mesh "$mesh"
		echo
	done < <(names peers)

	echo "### kgctl graph"
	"$kgctl" graph --mesh "$mesh"

	"$kgctl" graph --mesh "$mesh" -o svg >"$svg"
	echo "### the graph as SVG: $svg"
}

case "${1:-}" in
--offline)
	offline "${2:-}"
	;;
"" | --keep | --dual-stack)
	if [[ "$(id -u)" -ne 0 ]]; then
		echo "run-example: the cluster needs root (network namespaces); without root: $0 --offline" >&2
		exit 1
	fi
	"$repo/scripts/setup.sh" --test
	build cli/kgctl/kgctl cli/kg/kg
	exec "$repo/scripts/cluster-demo.sh" "$kgctl" "$kg" "$@"
	;;
*)
	echo "usage: $0 [--keep] [--dual-stack] | --offline [MESH]" >&2
	exit 2
	;;
esac
