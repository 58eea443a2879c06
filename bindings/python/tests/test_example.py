# SPDX-License-Identifier: Apache-2.0
"""examples/kgctl.py, a small kgctl written with the binding: it prints what
kgctl prints (checked against the real one when KILO_KGCTL names it)."""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

import kilo
from support import MESHES, mesh_document, mesh_path

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "kgctl.py")


def run(*args, stdin=b""):
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(kilo.__file__)))
    return subprocess.run([sys.executable, EXAMPLE, *args], input=stdin, capture_output=True, env=env)


class TestExample(unittest.TestCase):
    def test_genkey_then_pubkey(self):
        private = run("genkey")
        self.assertEqual(private.returncode, 0, private.stderr)
        public = run("pubkey", stdin=private.stdout)
        with kilo.Key.parse(private.stdout.decode().strip()) as key:
            self.assertEqual(public.stdout.decode(), key.public().to_base64() + "\n")

    def test_unknown_node_exits_1_with_the_librarys_message(self):
        bad = run(mesh_path("full-mesh"), "showconf", "node", "nobody")
        self.assertEqual(bad.returncode, 1)
        self.assertIn(b'hostname "nobody"', bad.stderr)

    def test_reads_a_store(self):
        with tempfile.TemporaryDirectory() as folder:
            with kilo.Store.open("file:" + folder) as store:
                for node in mesh_document("full-mesh")["nodes"]:
                    store.put_node(json.dumps(dict(node, lastSeen=int(time.time()))))  # as a live agent's
            graph = run("file:" + folder, "graph")
        self.assertEqual(graph.returncode, 0, graph.stderr)
        self.assertIn(b'"db-1"', graph.stdout)

    @unittest.skipUnless(os.environ.get("KILO_KGCTL"), "KILO_KGCTL names no kgctl to compare with")
    def test_prints_what_kgctl_prints(self):
        for name in sorted(os.listdir(MESHES)):
            document = mesh_document(name[:-len(".json")])
            path = os.path.join(MESHES, name)
            commands = [["graph"]] + [["showconf", "node", n["name"]] for n in document["nodes"]]
            commands += [["showconf", "peer", p["name"]] for p in document.get("peers", [])]
            for command in commands:
                with self.subTest(mesh=name, command=command):
                    kgctl = subprocess.run([os.environ["KILO_KGCTL"], "--mesh", path, *command], capture_output=True)
                    self.assertEqual(kgctl.returncode, 0, kgctl.stderr)
                    self.assertEqual(run(path, *command).stdout, kgctl.stdout)
