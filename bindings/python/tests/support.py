# SPDX-License-Identifier: Apache-2.0
"""What the tests share: the repository's example meshes."""

import json
import os

MESHES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "examples", "meshes")


def mesh_path(name):
    """The path of examples/meshes/NAME.json."""
    return os.path.join(MESHES, name + ".json")


def mesh_document(name):
    """examples/meshes/NAME.json as a dict, for tests that change a field."""
    with open(mesh_path(name)) as f:
        return json.load(f)
