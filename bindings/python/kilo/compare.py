# SPDX-License-Identifier: Apache-2.0
"""The compare program of the four-language comparison (tests/bindings/README.md),
written with the binding's API: python3 -m kilo.compare MESH.json"""

import sys

import kilo

# The private key whose public key every binding prints: 32 bytes of 0x01.
FIXED_PRIVATE_KEY = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="


def sections(mesh):
    """The comparison's text for mesh, section by section."""
    for name in mesh.nodes:
        with mesh.solve(name) as topology:
            if topology.is_leader:
                yield "# node %s (leader)\n%s" % (name, topology.config())
            else:
                yield "# node %s (not a leader)\n" % name
    with mesh.solve() as topology:
        yield "# graph\n%s" % topology.graph()
    yield "# mesh\n%s\n" % mesh.to_json()
    with kilo.Key.parse(FIXED_PRIVATE_KEY) as private_key:
        yield "# public key\n%s\n" % private_key.public().to_base64()
    try:
        kilo.parse_cidr("10.0.0.0/33")
    except kilo.Error as e:
        yield "# error\n%s\n" % e.message
    else:
        raise RuntimeError("a bad CIDR was taken")


def main(argv):
    if len(argv) != 2:
        print("usage: compare MESH.json", file=sys.stderr)
        return 2
    out = sys.stdout.buffer
    try:
        with kilo.Mesh.load(argv[1]) as mesh:
            for text in sections(mesh):
                out.write(text.encode("utf-8", "surrogateescape"))
    except kilo.Error as e:
        out.flush()
        print("compare: %s" % e.message, file=sys.stderr)
        return 1
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
