# SPDX-License-Identifier: Apache-2.0
import errno
import gc
import json
import random
import unittest

import kilo
from support import mesh_document, mesh_path


class TestMesh(unittest.TestCase):
    def test_load_gives_the_documents_nodes_and_peers_in_order(self):
        document = mesh_document("full-mesh")
        with kilo.Mesh.load(mesh_path("full-mesh")) as mesh:
            self.assertEqual(mesh.nodes, [n["name"] for n in document["nodes"]])
            self.assertEqual(mesh.peers, [p["name"] for p in document["peers"]])

    def test_from_json_reads_the_same_mesh_as_load(self):
        with open(mesh_path("three-clouds")) as f:
            text = f.read()
        with kilo.Mesh.from_json(text) as a, kilo.Mesh.load(mesh_path("three-clouds")) as b:
            self.assertEqual(a.to_json(), b.to_json())
            self.assertEqual(a.granularity, "location")

    def test_to_json_round_trips(self):
        with kilo.Mesh.load(mesh_path("dual-stack")) as mesh:
            text = mesh.to_json()
            with kilo.Mesh.from_json(text) as again:
                self.assertEqual(again.to_json(), text)
            self.assertEqual(json.loads(text)["version"], 1)

    def test_load_of_a_missing_file_is_file_not_found_naming_the_path(self):
        with self.assertRaises(FileNotFoundError) as cm:
            kilo.Mesh.load("/nonexistent/mesh.json")
        self.assertIsInstance(cm.exception, kilo.Error)
        self.assertEqual(cm.exception.errno, errno.ENOENT)
        self.assertIn("/nonexistent/mesh.json", cm.exception.message)

    def test_bad_field_is_an_error_naming_field_and_value(self):
        document = mesh_document("full-mesh")
        document["nodes"][1]["podCIDR"] = "10.2.1.0/33"
        with self.assertRaises(kilo.InvalidInputError) as cm:
            kilo.Mesh.from_json(json.dumps(document))
        self.assertEqual(cm.exception.errno, errno.EINVAL)
        self.assertEqual(cm.exception.message, 'nodes[1].podCIDR: "10.2.1.0/33" is not a CIDR')

    def test_malformed_json_is_an_error_not_a_crash(self):
        for text in ("", "{", "[]", '{"version": 2}', "\udcff", b"\xff\xfe"):
            with self.subTest(text=text), self.assertRaises(kilo.Error) as cm:
                kilo.Mesh.from_json(text)
            self.assertEqual(cm.exception.errno, errno.EINVAL)
            self.assertTrue(cm.exception.message)

    def test_damaged_documents_load_or_raise_never_crash(self):
        with open(mesh_path("three-clouds"), "rb") as f:
            document = f.read()
        rng = random.Random(10)
        for _ in range(300):
            damaged = bytearray(document)
            for _ in range(rng.randint(1, 4)):
                damaged[rng.randrange(len(damaged))] = rng.choice(b'{}[]",:0 \\/xe\xff')
            try:
                kilo.Mesh.from_json(bytes(damaged).replace(b"\0", b" ")).close()
            except kilo.Error as e:
                self.assertEqual(e.errno, errno.EINVAL)
                self.assertTrue(e.message)

    def test_nul_byte_is_an_error_naming_its_offset(self):
        with self.assertRaises(kilo.Error) as cm:
            kilo.Mesh.from_json('{"version": 1}\0')
        self.assertEqual(cm.exception.errno, errno.EINVAL)
        self.assertEqual(cm.exception.message, "mesh document: a NUL byte at offset 14")

    def test_wrong_type_is_a_type_error(self):
        with self.assertRaises(TypeError):
            kilo.Mesh.from_json(123)


class TestSolve(unittest.TestCase):
    def setUp(self):
        self.mesh = kilo.Mesh.load(mesh_path("full-mesh"))
        self.addCleanup(self.mesh.close)

    def test_leader_config_has_a_peer_per_other_segment(self):
        with self.mesh.solve("db-1") as topology:
            self.assertTrue(topology.is_leader)
            config = topology.config()
        self.assertTrue(config.startswith("[Interface]\nListenPort = 51821\n"))
        self.assertEqual(config.count("[Peer]"), 3)
        self.assertNotIn("PrivateKey", config)

    def test_private_key_goes_into_the_config(self):
        with kilo.Key.generate() as key, self.mesh.solve("db-1", private_key=key) as topology:
            self.assertIn("PrivateKey = %s\n" % key.to_base64(), topology.config())

    def test_persistent_keepalive_overrides_every_peer(self):
        # But of db-1 and web-1, of one private network, only the one whose key
        # sorts first (web-1) keeps alive toward the other.
        with self.mesh.solve("db-1", persistent_keepalive=25) as topology:
            config = topology.config()
        self.assertEqual(config.count("[Peer]"), 3)
        self.assertEqual(config.count("PersistentKeepalive = 25\n"), 2)
        with self.mesh.solve("web-1", persistent_keepalive=25) as topology:
            config = topology.config()
        self.assertEqual(config.count("PersistentKeepalive = 25\n"), config.count("[Peer]"))

    def test_granularity_overrides_the_meshs(self):
        document = mesh_document("three-clouds")
        with kilo.Mesh.from_json(json.dumps(document)) as mesh:
            with mesh.solve() as by_location, mesh.solve(granularity="full") as by_node:
                locations = {n.get("location") for n in document["nodes"]}
                self.assertEqual(by_location.segment_count, len(locations))
                self.assertEqual(by_node.segment_count, len(document["nodes"]))

    def test_unknown_granularity_is_an_error_naming_it(self):
        with self.assertRaises(kilo.InvalidInputError) as cm:
            self.mesh.solve(granularity="bogus")
        self.assertEqual(cm.exception.message, 'granularity "bogus": not one of location, full, cross')

    def test_unknown_node_is_not_found_naming_it(self):
        with self.assertRaises(kilo.NotFoundError) as cm:
            self.mesh.solve("nobody")
        self.assertEqual(cm.exception.errno, errno.ENOENT)
        self.assertIn('hostname "nobody"', cm.exception.message)

    def test_out_of_range_port_is_an_error_not_a_truncation(self):
        with self.assertRaises(kilo.InvalidInputError) as cm:
            self.mesh.solve("db-1", port=70000)
        self.assertEqual(cm.exception.message, "solve options: port 70000: not in 0..65535")

    def test_peer_config_lists_every_segment(self):
        with self.mesh.solve() as topology:
            config = topology.peer_config("ci-runner")
            segments = topology.segment_count
        self.assertFalse(config.startswith("[Interface]"))
        self.assertEqual(config.count("[Peer]"), segments)

    def test_unknown_peer_is_not_found_naming_it(self):
        with self.mesh.solve() as topology, self.assertRaises(kilo.NotFoundError) as cm:
            topology.peer_config("nobody")
        self.assertIn('peer "nobody"', cm.exception.message)

    def test_graph_is_dot_naming_every_node(self):
        with self.mesh.solve() as topology:
            dot = topology.graph()
        self.assertTrue(dot.startswith("digraph"), dot[:40])
        for name in self.mesh.nodes:
            self.assertIn(name, dot)

    def test_topology_keeps_its_mesh_alive(self):
        topology = kilo.Mesh.load(mesh_path("full-mesh")).solve("db-1")
        gc.collect()
        self.assertIn("[Peer]", topology.config())
        self.assertEqual(topology.mesh.nodes[0], "db-1")
        topology.mesh.close()
