# SPDX-License-Identifier: Apache-2.0
import errno
import json
import os
import tempfile
import time
import unittest

import kilo
from support import mesh_document


class TestFileStore(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.document = mesh_document("full-mesh")

    def fill(self, store):
        for node in self.document["nodes"]:
            store.put_node(json.dumps(node))
        for peer in self.document["peers"]:
            store.put_peer(json.dumps(peer))

    def test_load_reads_what_was_put(self):
        with kilo.Store.open("file:" + self.dir.name) as store:
            self.fill(store)
            with store.load() as mesh:
                self.assertEqual(sorted(mesh.nodes), sorted(n["name"] for n in self.document["nodes"]))
                self.assertEqual(mesh.peers, ["ci-runner"])
            self.assertEqual(store.problems, [])
            self.assertEqual(json.loads(store.get_node("db-1"))["name"], "db-1")

    def test_load_of_an_empty_store_is_an_empty_mesh(self):
        with kilo.Store.open("file:" + self.dir.name) as store, store.load() as mesh:
            self.assertEqual((mesh.nodes, mesh.peers), ([], []))

    def test_load_of_a_missing_directory_is_not_found_naming_it(self):
        missing = os.path.join(self.dir.name, "none")
        with kilo.Store.open("file:" + missing) as store, self.assertRaises(FileNotFoundError) as cm:
            store.load()
        self.assertIn(missing, cm.exception.message)

    def test_settings_apply_to_the_loaded_mesh(self):
        settings = json.dumps({"version": 1, "settings": {"granularity": "full"}})
        with kilo.Store.open("file:" + self.dir.name) as store, store.load(settings) as mesh:
            self.assertEqual(mesh.granularity, "full")

    def test_corrupt_object_is_left_out_and_reported(self):
        with kilo.Store.open("file:" + self.dir.name) as store:
            self.fill(store)
            with open(os.path.join(self.dir.name, "nodes", "broken.json"), "w") as f:
                f.write("{")
            with store.load() as mesh:
                self.assertNotIn("broken", mesh.nodes)
                self.assertEqual(len(mesh.nodes), len(self.document["nodes"]))
            self.assertEqual(len(store.problems), 1)
            self.assertIn("broken.json", store.problems[0][0])

    def test_ready_window_decides_which_nodes_a_solve_keeps(self):
        now = int(time.time())
        settings = json.dumps({"version": 1, "settings": self.document["settings"]})  # one segment per node
        with kilo.Store.open("file:" + self.dir.name, ready_window=3600) as store:
            for i, node in enumerate(self.document["nodes"]):
                store.put_node(json.dumps(dict(node, lastSeen=now - 600 * i)))  # 0, 10 and 20 minutes ago
            with store.load(settings) as mesh, mesh.solve() as topology:
                self.assertEqual(topology.segment_count, 3)
        with kilo.Store.open("file:" + self.dir.name, ready_window=300) as store:
            with store.load(settings) as mesh, mesh.solve() as topology:
                self.assertEqual(topology.segment_count, 1)

    def test_out_of_range_ready_window_is_an_error(self):
        with self.assertRaises(kilo.InvalidInputError) as cm:
            kilo.Store.open("file:" + self.dir.name, ready_window=-1)
        self.assertEqual(cm.exception.message, "store options: ready_window -1: not in 0..4294967295")

    def test_deleted_node_is_gone(self):
        with kilo.Store.open("file:" + self.dir.name) as store:
            self.fill(store)
            store.delete_node("db-1")
            with store.load() as mesh:
                self.assertNotIn("db-1", mesh.nodes)
            with self.assertRaises(kilo.NotFoundError):
                store.get_node("db-1")

    def test_bad_node_is_an_error_naming_the_field(self):
        node = dict(self.document["nodes"][0], podCIDR="10.2.1.0/33")
        with kilo.Store.open("file:" + self.dir.name) as store, self.assertRaises(kilo.InvalidInputError) as cm:
            store.put_node(json.dumps(node))
        self.assertIn('"10.2.1.0/33"', cm.exception.message)

    def test_bad_uri_is_an_error_naming_it(self):
        with self.assertRaises(kilo.InvalidInputError) as cm:
            kilo.Store.open("bogus:x")
        self.assertEqual(cm.exception.errno, errno.EINVAL)
        self.assertIn('"bogus:x"', cm.exception.message)

    def test_etcd_options_are_checked(self):
        with self.assertRaises(kilo.Error) as cm:
            kilo.Store.open("etcd://[::1")
        self.assertIn('"[::1"', cm.exception.message)

    def test_use_after_close_is_an_error(self):
        store = kilo.Store.open("file:" + self.dir.name)
        store.close()
        with self.assertRaises(kilo.ClosedError):
            store.load()
        with self.assertRaises(kilo.ClosedError):
            store.put_node("{}")
