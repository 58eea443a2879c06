# SPDX-License-Identifier: Apache-2.0
"""close(), context managers and use after close: an error, never a crash."""

import errno
import gc
import unittest

import kilo
from support import mesh_path


class TestClose(unittest.TestCase):
    def test_mesh_use_after_close_is_an_error(self):
        mesh = kilo.Mesh.load(mesh_path("full-mesh"))
        mesh.close()
        mesh.close()
        for use in (lambda: mesh.nodes, lambda: mesh.peers, mesh.to_json, mesh.solve, lambda: mesh.granularity):
            with self.assertRaises(kilo.ClosedError) as cm:
                use()
            self.assertEqual(cm.exception.errno, errno.EBADF)
            self.assertEqual(cm.exception.message, "Mesh: used after close()")
        self.assertEqual(repr(mesh), "<kilo.Mesh closed>")

    def test_with_block_closes_the_mesh(self):
        with kilo.Mesh.load(mesh_path("full-mesh")) as mesh:
            self.assertFalse(mesh.closed)
        self.assertTrue(mesh.closed)
        with self.assertRaises(kilo.Error):
            mesh.to_json()

    def test_entering_a_closed_mesh_is_an_error(self):
        mesh = kilo.Mesh.load(mesh_path("full-mesh"))
        mesh.close()
        with self.assertRaises(kilo.ClosedError):
            with mesh:
                pass

    def test_closing_the_mesh_closes_its_topologies(self):
        mesh = kilo.Mesh.load(mesh_path("full-mesh"))
        topology = mesh.solve("db-1")
        mesh.close()
        self.assertTrue(topology.closed)
        for use in (topology.config, topology.graph, lambda: topology.peer_config("ci-runner"),
                    lambda: topology.is_leader):
            with self.assertRaises(kilo.ClosedError) as cm:
                use()
            self.assertEqual(cm.exception.message, "Topology: used after close()")

    def test_topology_closes_before_its_mesh(self):
        with kilo.Mesh.load(mesh_path("full-mesh")) as mesh:
            topology = mesh.solve()
            topology.close()
            topology.close()
            self.assertEqual(mesh.nodes[0], "db-1")
            with self.assertRaises(kilo.ClosedError):
                topology.graph()

    def test_mesh_and_topology_collected_together_free_the_topology(self):
        mesh = kilo.Mesh.load(mesh_path("full-mesh"))
        topology = mesh.solve("db-1")
        owned = topology._owned
        mesh.cycle = [mesh, topology]
        del mesh, topology
        gc.collect()
        self.assertIsNone(owned.ptr)

    def test_errors_are_oserrors_with_errno_and_message(self):
        with self.assertRaises(OSError) as cm:
            kilo.Mesh.load(mesh_path("no-such-mesh"))
        self.assertEqual(cm.exception.errno, errno.ENOENT)
        self.assertEqual(cm.exception.strerror, cm.exception.message)
