#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The reference model checked against matrices worked out by hand.

World: namespaces x and y; pods x/a (node n1, loc1), x/b (n2, loc2), y/a
(n1, loc1); the VPN peer vpn (10.5.0.1); ports 80/tcp, 81/tcp, 53/udp. Pod
a names its port 81 "web", pod b its port 80. Each test lists the cells a
policy DENIES (the rest are allowed), as one works them out from the
Kubernetes documentation.
"""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netpol_model  # noqa: E402

PORTS = ["80/tcp", "81/tcp", "53/udp"]
PODS = ["x/a", "x/b", "y/a"]


def pod(ns, name, node, ip, web):
    ports = [{"name": "web" if p == web else f"p{p}", "containerPort": p, "protocol": "TCP"} for p in (80, 81)]
    ports.append({"name": "dns", "containerPort": 53, "protocol": "UDP"})
    return {"metadata": {"namespace": ns, "name": name, "labels": {"pod": name}},
            "spec": {"nodeName": node, "containers": [{"name": "c", "ports": ports}]},
            "status": {"podIP": ip}}


def world(*policies):
    return {
        "namespaces": [{"metadata": {"name": n, "labels": {"ns": n}}} for n in ("x", "y")],
        "pods": [pod("x", "a", "n1", "10.2.1.2", 81), pod("x", "b", "n2", "10.2.2.2", 80),
                 pod("y", "a", "n1", "10.2.1.3", 81)],
        "nodes": {"n1": "loc1", "n2": "loc2"},
        "hosts": {"n1": "10.2.1.1"},
        "peers": [{"name": "vpn", "allowedIPs": ["10.5.0.1/32"], "labels": {"team": "ops"}}],
        "networkpolicies": list(policies),
        "sources": PODS + ["peer/vpn", "host/n1"],
        "targets": PODS + ["peer/vpn"],
        "ports": PORTS,
    }


def policy(ns, spec, annotations=None):
    meta = {"namespace": ns, "name": "p"}
    if annotations:
        meta["annotations"] = {k: json.dumps(v) for k, v in annotations.items()}
    return {"metadata": meta, "spec": spec}


def cells(sources, targets, ports=PORTS):
    """Cells of distinct endpoints; host/n1 has cells to n1's pods (x/a, y/a) only."""
    return {f"{s}>{t}:{p}" for s in sources for t in targets for p in ports
            if s != t and (s != "host/n1" or t in ("x/a", "y/a"))}


def denied(doc):
    return {line.split()[0] for line in netpol_model.expect(doc) if line.endswith(" 0")}


OTHERS = {t: [s for s in PODS + ["peer/vpn"] if s != t] for t in PODS}


class TestModel(unittest.TestCase):
    def test_no_policy_allows_everything(self):
        self.assertEqual(denied(world()), set())

    def test_default_deny_ingress_isolates_the_namespace_only(self):
        doc = world(policy("x", {"podSelector": {}, "policyTypes": ["Ingress"]}))
        # x's pods: no source but themselves and their own node (x/a on n1).
        self.assertEqual(denied(doc), cells(OTHERS["x/a"], ["x/a"]) | cells(OTHERS["x/b"] + ["host/n1"], ["x/b"]))

    def test_namespace_and_pod_selector_in_one_peer_and_a_port(self):
        doc = world(policy("x", {"podSelector": {"matchLabels": {"pod": "a"}}, "ingress": [
            {"from": [{"namespaceSelector": {"matchLabels": {"ns": "y"}}, "podSelector": {"matchLabels": {"pod": "a"}}}],
             "ports": [{"port": 80}]}]}))
        # Only y/a reaches x/a, and only on 80/tcp; x/b is not selected.
        self.assertEqual(denied(doc), cells(OTHERS["x/a"], ["x/a"]) - {"y/a>x/a:80/tcp"})

    def test_pod_selector_alone_stays_in_the_policy_namespace(self):
        doc = world(policy("x", {"podSelector": {"matchLabels": {"pod": "b"}},
                                 "ingress": [{"from": [{"podSelector": {"matchLabels": {"pod": "a"}}}]}]}))
        # x/a reaches x/b; y/a (also pod=a, other namespace) and the peer do not.
        self.assertEqual(denied(doc), cells(["y/a", "peer/vpn", "host/n1"], ["x/b"]))

    def test_ip_block_with_except(self):
        doc = world(policy("y", {"podSelector": {}, "ingress": [
            {"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.2.2.0/24"]}}]}]}))
        # y/a hears from x/a and the peer (inside 10/8), not from x/b (the except).
        self.assertEqual(denied(doc), cells(["x/b"], ["y/a"]))

    def test_named_port_resolves_on_each_destination(self):
        doc = world(policy("x", {"podSelector": {}, "ingress": [{"ports": [{"port": "web"}]}]}))
        # x/a's "web" is 81, x/b's is 80: every source reaches only that one.
        want = cells(OTHERS["x/a"], ["x/a"], ["80/tcp", "53/udp"]) | cells(OTHERS["x/b"] + ["host/n1"], ["x/b"],
                                                                            ["81/tcp", "53/udp"])
        self.assertEqual(denied(doc), want)

    def test_named_port_on_egress_resolves_on_the_target_pod(self):
        doc = world(policy("y", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": [{"port": "web"}]}]}))
        # y/a reaches x/a on 81 and x/b on 80; the peer, which has no named ports, on nothing.
        want = cells(["y/a"], ["x/a"], ["80/tcp", "53/udp"]) | cells(["y/a"], ["x/b"], ["81/tcp", "53/udp"])
        self.assertEqual(denied(doc), want | cells(["y/a"], ["peer/vpn"]))

    def test_end_port_range_and_protocol(self):
        doc = world(policy("x", {"podSelector": {"matchLabels": {"pod": "b"}}, "ingress": [
            {"ports": [{"protocol": "TCP", "port": 81, "endPort": 90}, {"protocol": "UDP"}]}]}))
        self.assertEqual(denied(doc), cells(OTHERS["x/b"] + ["host/n1"], ["x/b"], ["80/tcp"]))

    def test_location_label_on_namespaces_and_pods(self):
        doc = world(policy("y", {"podSelector": {}, "ingress": [
            {"from": [{"namespaceSelector": {"matchLabels": {"kilo.squat.ai/location": "loc2"}}}]}]}))
        # Only x/b is in loc2; y/a's own node n1 still reaches it.
        self.assertEqual(denied(doc), cells(["x/a", "peer/vpn"], ["y/a"]))
        doc = world(policy("x", {"podSelector": {"matchExpressions": [
            {"key": "kilo.squat.ai/location", "operator": "In", "values": ["loc1"]}]}, "policyTypes": ["Ingress"]}))
        self.assertEqual(denied(doc), cells(OTHERS["x/a"], ["x/a"]))

    def test_match_expressions_operators(self):
        for op, values, selected in (("In", ["a"], ["x/a"]), ("NotIn", ["a"], ["x/b"]), ("Exists", [], ["x/a", "x/b"]),
                                     ("DoesNotExist", [], [])):
            expr = {"key": "pod", "operator": op}
            if values:
                expr["values"] = values
            doc = world(policy("x", {"podSelector": {"matchExpressions": [expr]}, "policyTypes": ["Ingress"]}))
            want = set()
            for t in selected:
                want |= cells(OTHERS[t] + (["host/n1"] if t == "x/b" else []), [t])
            self.assertEqual(denied(doc), want, op)

    def test_default_deny_egress_and_policy_types_omitted(self):
        deny_all = {"podSelector": {"matchLabels": {"pod": "a"}}, "policyTypes": ["Egress"]}
        # x/a reaches nothing but itself; replies to others' flows are not cells.
        self.assertEqual(denied(world(policy("x", deny_all))), cells(["x/a"], ["x/b", "y/a", "peer/vpn"]))
        # Egress rules without policyTypes make the policy Ingress and Egress.
        doc = world(policy("x", {"podSelector": {"matchLabels": {"pod": "a"}},
                                 "egress": [{"to": [{"namespaceSelector": {}}]}]}))
        self.assertEqual(denied(doc), cells(OTHERS["x/a"], ["x/a"]) | cells(["x/a"], ["peer/vpn"]))

    def test_policies_combine_by_union(self):
        only_80 = policy("x", {"podSelector": {}, "ingress": [{"ports": [{"port": 80}]}]})
        only_udp = policy("x", {"podSelector": {}, "ingress": [{"ports": [{"protocol": "UDP", "port": 53}]}]})
        want = cells(OTHERS["x/a"], ["x/a"], ["81/tcp"]) | cells(OTHERS["x/b"] + ["host/n1"], ["x/b"], ["81/tcp"])
        self.assertEqual(denied(world(only_80, only_udp)), want)

    def test_peer_annotations(self):
        by_team = {"matchLabels": {"team": "ops"}}
        doc = world(policy("x", {"podSelector": {}, "policyTypes": ["Ingress"]}, {netpol_model.INGRESS_PEERS: by_team}))
        # The peer reaches x's pods on every port; pods still do not.
        self.assertEqual(denied(doc), cells(["x/b", "y/a"], ["x/a"]) | cells(["x/a", "y/a", "host/n1"], ["x/b"]))
        other = {"matchExpressions": [{"key": "kilo.squat.ai/peer", "operator": "In", "values": ["other"]}]}
        doc = world(policy("x", {"podSelector": {}, "policyTypes": ["Ingress"]}, {netpol_model.INGRESS_PEERS: other}))
        self.assertEqual(denied(doc), cells(OTHERS["x/a"], ["x/a"]) | cells(OTHERS["x/b"] + ["host/n1"], ["x/b"]))
        # egress-peers without Egress in policyTypes changes nothing; with it, only the peer is reached.
        doc = world(policy("y", {"podSelector": {}}, {netpol_model.EGRESS_PEERS: by_team}))
        self.assertEqual(denied(doc), cells(["x/a", "x/b", "peer/vpn"], ["y/a"]))
        doc = world(policy("y", {"podSelector": {}, "policyTypes": ["Egress"]}, {netpol_model.EGRESS_PEERS: by_team}))
        self.assertEqual(denied(doc), cells(["y/a"], ["x/a", "x/b"]))

    def test_the_node_reaches_its_own_isolated_pods_only(self):
        deny = {"podSelector": {}, "policyTypes": ["Ingress"]}
        lines = netpol_model.expect(world(policy("x", deny), policy("y", deny)))
        self.assertEqual({line for line in lines if line.startswith("host/")},
                         {f"host/n1>{t}:{p} 1" for t in ("x/a", "y/a") for p in PORTS})

    def test_diff_names_the_cells(self):
        expected = ["x/a>x/b:80/tcp 1", "x/a>y/a:80/tcp 0", "x/b>y/a:80/tcp 1"]
        observed = ["x/a>x/b:80/tcp x/b", "x/a>y/a:80/tcp y/a", "x/b>y/a:80/tcp - timeout"]
        self.assertEqual(netpol_model.diff(expected, observed),
                         ["x/a>y/a:80/tcp: model says denied, probe reached y/a",
                          "x/b>y/a:80/tcp: model says allowed, probe: - timeout"])


if __name__ == "__main__":
    unittest.main()
