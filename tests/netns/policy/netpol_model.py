#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The reference model of the network policy truth table (test_policy.sh).

Written from Kubernetes' NetworkPolicy documentation, independent of
libkilo, so that the probes are compared with what the API promises rather
than with what the library computes. Beyond Kubernetes, as issue 12 adds:

- a pod's labels and its namespace's labels (as seen for that pod) carry
  kilo.squat.ai/location=<the location of the pod's node>, and a namespace's
  kubernetes.io/metadata.name=<its name>;
- VPN peers have labels kilo.squat.ai/peer=<name> and the Peer's own; the
  annotations kilo.squat.ai/ingress-peers and kilo.squat.ai/egress-peers of
  a NetworkPolicy (a label selector as JSON) each add a rule to that
  direction, from (to) the selected peers, every port, without changing
  policyTypes; ipBlock matches peers' and pods' addresses alike;
- the node itself always reaches its own pods; a pod always reaches itself.

Usage:
  netpol_model.py expect WORLD.json
      One line per cell, "CELL 1" (allowed) or "CELL 0", a CELL being
      SOURCE>TARGET:PORT/PROTO (pods NS/NAME, peers peer/NAME, nodes
      host/NODE, ports 80/tcp).
      WORLD.json: {"pods": [...], "namespaces": [...], "networkpolicies": [...]
      (objects as `kgctl get -o json` prints them, or a List of them),
      "nodes": {NODE: LOCATION}, "peers": [{"name", "allowedIPs", "labels"}],
      "hosts": {NODE: ADDRESS}, "sources": [...], "targets": [...],
      "ports": ["80/tcp", ...]}; a source host/NODE has cells to its own
      node's pods only (the node itself, as kubelet's probes come).
  netpol_model.py diff EXPECTED OBSERVED [WHO]
      EXPECTED as `expect` prints (or kgctl policy explain's answers in that
      form, WHO naming them; default "model"); OBSERVED lines "CELL ANSWER",
      the answer the target's name (it was reached) or "- REASON". Prints
      every cell of EXPECTED that differs; exits 1 if one does.
"""
import ipaddress
import json
import sys

LOCATION = "kilo.squat.ai/location"
PEER = "kilo.squat.ai/peer"
NS_NAME = "kubernetes.io/metadata.name"
INGRESS_PEERS = "kilo.squat.ai/ingress-peers"
EGRESS_PEERS = "kilo.squat.ai/egress-peers"


def items(objects):
    """A List's items, or the array itself, or one object as a list."""
    if isinstance(objects, dict):
        return objects.get("items", [objects]) if objects.get("kind", "").endswith("List") else [objects]
    return objects or []


def matches(selector, labels):
    """A LabelSelector against a label map; {} selects everything."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In":
            ok = key in labels and labels[key] in values
        elif op == "NotIn":
            ok = key not in labels or labels[key] not in values
        elif op == "Exists":
            ok = key in labels
        elif op == "DoesNotExist":
            ok = key not in labels
        else:
            raise ValueError(f"unknown operator {op}")
        if not ok:
            return False
    return True


class Endpoint:
    """A source or target: a pod, a VPN peer, or a node (the host)."""

    def __init__(self, kind, name, ip, labels, ns="", ns_labels=None, ports=(), node=""):
        self.kind, self.name, self.ip, self.labels = kind, name, ip, labels
        self.ns, self.ns_labels, self.ports, self.node = ns, ns_labels or {}, list(ports), node


class World:
    def __init__(self, doc):
        self.endpoints = {}
        namespaces = {n["metadata"]["name"]: n for n in items(doc.get("namespaces"))}
        nodes = doc.get("nodes", {})
        for pod in items(doc.get("pods")):
            meta, spec = pod["metadata"], pod.get("spec", {})
            ns = meta.get("namespace", "default")
            node = spec.get("nodeName", "")
            location = nodes.get(node)
            labels = dict(meta.get("labels") or {})
            ns_labels = dict((namespaces.get(ns, {}).get("metadata", {}).get("labels")) or {})
            ns_labels[NS_NAME] = ns
            if location:
                labels[LOCATION] = location
                ns_labels[LOCATION] = location
            ports = [p for c in spec.get("containers", []) for p in c.get("ports", [])]
            ip = pod.get("status", {}).get("podIP")
            name = f"{ns}/{meta['name']}"
            self.endpoints[name] = Endpoint("pod", name, ip, labels, ns, ns_labels, ports, node)
        for peer in doc.get("peers", []):
            labels = dict(peer.get("labels") or peer.get("metadata", {}).get("labels") or {})
            labels[PEER] = peer["name"]
            ip = str(ipaddress.ip_network(peer["allowedIPs"][0], strict=False).network_address)
            name = f"peer/{peer['name']}"
            self.endpoints[name] = Endpoint("peer", name, ip, labels)
        for node, ip in doc.get("hosts", {}).items():
            self.endpoints[f"host/{node}"] = Endpoint("host", f"host/{node}", ip, {}, node=node)
        self.policies = items(doc.get("networkpolicies"))

    def selecting(self, pod, direction):
        """The policies that select the pod for the direction (Ingress, Egress)."""
        for policy in self.policies:
            meta, spec = policy["metadata"], policy["spec"]
            if meta.get("namespace", "default") != pod.ns or not matches(spec.get("podSelector") or {}, pod.labels):
                continue
            types = spec.get("policyTypes")
            if types is None:
                types = ["Ingress"] + (["Egress"] if spec.get("egress") else [])
            if direction in types:
                yield policy


def peer_matches(entry, policy_ns, other):
    """One entry of from/to against the endpoint on the other side."""
    if "ipBlock" in entry:
        block = entry["ipBlock"]
        ip = ipaddress.ip_address(other.ip)
        return ip in ipaddress.ip_network(block["cidr"], strict=False) and not any(
            ip in ipaddress.ip_network(e, strict=False) for e in block.get("except") or [])
    if other.kind != "pod":
        return False
    if "namespaceSelector" in entry:
        if not matches(entry["namespaceSelector"] or {}, other.ns_labels):
            return False
    elif other.ns != policy_ns:
        return False
    return "podSelector" not in entry or matches(entry["podSelector"] or {}, other.labels)


def port_matches(ports, port, proto, target):
    """A rule's ports against the destination's port; named ports resolve on the destination pod."""
    if not ports:
        return True
    for entry in ports:
        if entry.get("protocol", "TCP").lower() != proto:
            continue
        want = entry.get("port")
        if want is None:
            return True
        if isinstance(want, str) and not want.isdigit():
            if any(p.get("name") == want and p.get("protocol", "TCP").lower() == proto and p["containerPort"] == port
                   for p in target.ports):
                return True
            continue
        low = int(want)
        if low <= port <= entry.get("endPort", low):
            return True
    return False


def rule_allows(policy, direction, other, port, proto, target):
    """Whether one policy's rules for the direction allow the endpoint on the other side."""
    spec, meta = policy["spec"], policy["metadata"]
    ns = meta.get("namespace", "default")
    key, peers_key = ("from", INGRESS_PEERS) if direction == "Ingress" else ("to", EGRESS_PEERS)
    for rule in spec.get(direction.lower()) or []:
        entries = rule.get(key) or []
        if (not entries or any(peer_matches(e, ns, other) for e in entries)) and port_matches(
                rule.get("ports"), port, proto, target):
            return True
    selector = (meta.get("annotations") or {}).get(peers_key)
    return selector is not None and other.kind == "peer" and matches(json.loads(selector), other.labels)


def direction_allows(world, pod, direction, other, port, proto, target):
    policies = list(world.selecting(pod, direction))
    return not policies or any(rule_allows(p, direction, other, port, proto, target) for p in policies)


def allowed(world, src, dst, port, proto):
    if src is dst:
        return True
    if dst.kind == "pod" and src.kind == "host" and src.node == dst.node:
        return True
    if src.kind == "pod" and not direction_allows(world, src, "Egress", dst, port, proto, dst):
        return False
    return dst.kind != "pod" or direction_allows(world, dst, "Ingress", src, port, proto, dst)


def expect(doc):
    world = World(doc)
    lines = []
    for s in doc["sources"]:
        for t in doc["targets"]:
            if world.endpoints[s].kind == "host" and world.endpoints[s].node != world.endpoints[t].node:
                continue
            for p in doc["ports"]:
                port, proto = p.split("/")
                ok = allowed(world, world.endpoints[s], world.endpoints[t], int(port), proto.lower())
                lines.append(f"{s}>{t}:{p} {int(ok)}")
    return lines


def diff(expected_lines, observed_lines, who="model"):
    """The cells where the probes disagree with the model, as lines to print."""
    observed = {}
    for line in observed_lines:
        cell, _, answer = line.strip().partition(" ")
        if cell:
            observed[cell] = answer
    out = []
    for line in expected_lines:
        cell, _, want = line.strip().partition(" ")
        if not cell:
            continue
        target = cell.split(">")[1].rsplit(":", 1)[0]
        answer = observed.get(cell)
        if want not in ("0", "1"):
            out.append(f"{cell}: {who} gave no answer")
        elif answer is None:
            out.append(f"{cell}: not probed")
        elif want == "1" and answer != target:
            out.append(f"{cell}: {who} says allowed, probe: {answer}")
        elif want == "0" and not answer.startswith("-"):
            out.append(f"{cell}: {who} says denied, probe reached {answer}")
    return out


def main(argv):
    if len(argv) == 3 and argv[1] == "expect":
        with open(argv[2]) as f:
            print("\n".join(expect(json.load(f))))
        return 0
    if len(argv) in (4, 5) and argv[1] == "diff":
        with open(argv[2]) as e, open(argv[3]) as o:
            bad = diff(e.readlines(), o.readlines(), *argv[4:])
        for line in bad:
            print(f"    {line}")
        return 1 if bad else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
