# SPDX-License-Identifier: Apache-2.0
"""The compare program (python3 -m kilo.compare), as tests/bindings/compare.sh runs it."""

import os
import subprocess
import sys
import unittest

import kilo
from support import mesh_path


def compare(*args):
    # The child imports the same kilo as this process.
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(kilo.__file__)))
    return subprocess.run([sys.executable, "-m", "kilo.compare", *args], capture_output=True, env=env)


class TestCompare(unittest.TestCase):
    def test_prints_every_section(self):
        run = compare(mesh_path("three-clouds"))
        self.assertEqual(run.returncode, 0, run.stderr)
        out = run.stdout.decode()
        for heading in ("# node aws-eu-1 (leader)\n[Interface]", "# node aws-eu-2 (not a leader)\n", "\n# graph\ndigraph",
                        "\n# mesh\n{", "\n# public key\npOCSkrZRwni5dyxWn1+puxPZBrRqtoyd+dwrRAn4ogk=\n",
                        '\n# error\ncidr "10.0.0.0/33": prefix 33 is longer than 32\n'):
            self.assertIn(heading, out)

    def test_missing_mesh_exits_1_naming_it(self):
        run = compare("/nonexistent.json")
        self.assertEqual(run.returncode, 1)
        self.assertEqual(run.stdout, b"")
        self.assertIn(b"/nonexistent.json", run.stderr)

    def test_usage(self):
        self.assertEqual(compare().returncode, 2)
