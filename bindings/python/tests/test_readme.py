# SPDX-License-Identifier: Apache-2.0
"""The program in README.md runs, fits in 15 lines, and ends with the library's error."""

import contextlib
import io
import os
import unittest

from support import MESHES

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "README.md")


class TestReadme(unittest.TestCase):
    def test_program_runs(self):
        with open(README) as f:
            text = f.read()
        program = text.split("```python\n", 1)[1].split("```", 1)[0]
        self.assertLessEqual(program.count("\n"), 15)
        out = io.StringIO()
        cwd = os.getcwd()
        os.chdir(os.path.join(MESHES, "..", ".."))
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(program, "README.md", "exec"), {})
        finally:
            os.chdir(cwd)
        self.assertIn("digraph kilo {", out.getvalue())
        self.assertTrue(out.getvalue().endswith('errno 22: nodes[0].podCIDR: "10.0.0.0/33" is not a CIDR\n'))
