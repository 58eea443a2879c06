#!/usr/bin/env bash
# Builds libkilo and kgctl, then solves examples/meshes/three-clouds.json:
# the WireGuard configuration of every node and VPN peer, and the graph.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"

"$repo/scripts/setup.sh"

build="${KILO_BUILD_DIR:-$repo/build-example}"
mesh="${1:-$repo/examples/meshes/three-clouds.json}"
svg="${KILO_SVG:-${TMPDIR:-/tmp}/kilo-$(basename "$mesh" .json).svg}"

[[ -d "$build" ]] || meson setup "$build" >/dev/null
ninja -C "$build" cli/kgctl/kgctl >/dev/null
kgctl="$build/cli/kgctl/kgctl"

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

"$kgctl" graph --mesh "$mesh" -o svg > "$svg"
echo "### the graph as SVG: $svg"
