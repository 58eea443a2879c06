#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A small `kgctl` over a mesh document or a store, with the Python binding:

    kgctl.py MESH graph                   the graph as DOT (kgctl graph)
    kgctl.py MESH showconf node NAME      a node's WireGuard configuration
    kgctl.py MESH showconf peer NAME      a peer's WireGuard configuration
    kgctl.py genkey | kgctl.py pubkey     like `wg genkey`, `wg pubkey`

MESH is a mesh document (a .json file) or a store URI (file:DIR, etcd://...)."""

import sys

import kilo

# kgctl's --port default (Kilo's), whatever port the mesh's settings give.
KGCTL_PORT = 51820


def open_mesh(source):
    if source.endswith(".json"):
        return kilo.Mesh.load(source)
    with kilo.Store.open(source) as store:
        return store.load()


def run(args):
    if args == ["genkey"]:
        with kilo.Key.generate() as key:
            return key.to_base64() + "\n"
    if args == ["pubkey"]:
        with kilo.Key.parse(sys.stdin.read().strip()) as key:
            return key.public().to_base64() + "\n"
    if len(args) == 2 and args[1] == "graph":
        with open_mesh(args[0]) as mesh, mesh.solve() as topology:
            return topology.graph() + "\n"  # kgctl ends the DOT with a blank line
    if len(args) == 4 and args[1:3] == ["showconf", "node"]:
        with open_mesh(args[0]) as mesh, mesh.solve(args[3], port=KGCTL_PORT) as topology:
            if not topology.is_leader:
                print("node %s does not lead its location: it has no WireGuard configuration" % args[3],
                      file=sys.stderr)
                return ""
            return topology.config()
    if len(args) == 4 and args[1:3] == ["showconf", "peer"]:
        with open_mesh(args[0]) as mesh, mesh.solve(port=KGCTL_PORT) as topology:
            return topology.peer_config(args[3])
    raise SystemExit(__doc__)


if __name__ == "__main__":
    try:
        sys.stdout.write(run(sys.argv[1:]))
    except kilo.Error as e:
        sys.exit("kgctl.py: %s" % e.message)
