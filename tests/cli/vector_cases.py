#!/usr/bin/env python3
"""Turns the kgctl_* cases of a Kilo vector file into mesh documents.

Usage: vector_cases.py VECTORS.json OUTDIR

Writes OUTDIR/<n>.json (the mesh document), OUTDIR/<n>.<m>.out (the exact
stdout Kilo's kgctl prints) and, on stdout, one line per check:
name<TAB>mesh<TAB>expected<TAB>kgctl arguments (tab-separated).
"""
import json
import os
import sys


def endpoint(ep):
    if ep is None:
        return None
    if "dns" in ep:
        return ep["dns"]
    ip = ep["ip"]
    return f"[{ip}]:{ep['port']}" if ":" in ip else f"{ip}:{ep['port']}"


def seconds(ns):
    # The mesh document keeps whole seconds; Kilo's nanoseconds are floored.
    return ns // 1_000_000_000


def node(n):
    out = {"name": n["name"], "location": n["location"], "podCIDR": n["subnet"], "publicKey": n["key"],
           "leader": n["leader"], "persistentKeepalive": seconds(n["persistent_keepalive_ns"])}
    if n["endpoint"] is not None:
        out["endpoint"] = endpoint(n["endpoint"])
    if n["internal_ip"] is not None:
        out["internalIP"] = n["internal_ip"]
    if n["allowed_location_ips"]:
        out["allowedLocationIPs"] = n["allowed_location_ips"]
    if n["cni_compatibility_ip"]:
        out["cniCompatibilityIP"] = n["cni_compatibility_ip"]
    if n["discovered_endpoints"]:
        out["discoveredEndpoints"] = {k: endpoint(v) for k, v in n["discovered_endpoints"].items()}
    return out


def peer(p):
    out = {"name": p["name"], "publicKey": p["public_key"], "allowedIPs": p["allowed_ips"]}
    if p["endpoint"] is not None:
        out["endpoint"] = endpoint(p["endpoint"])
    if p["pka_ns"] is not None:
        out["persistentKeepalive"] = seconds(p["pka_ns"])
    if p["psk"] is not None:
        out["presharedKey"] = p["psk"]
    return out


def mesh(inp):
    return {
        "version": 1,
        "settings": {"granularity": inp["granularity"], "subnet": inp["kilo_subnet"], "port": inp["port"],
                     "serviceCIDRs": inp["service_cidrs"] or []},
        "nodes": [node(n) for n in inp["nodes"]],
        "peers": [peer(p) for p in inp["peers"]],
    }


def checks(case):
    """(suffix, expected stdout, kgctl arguments) of every check a case holds."""
    inp, exp, kind = case["input"], case["expected"], case["kind"]
    if kind == "kgctl_showconf_node":
        port = str(inp.get("flags", {}).get("--port", 51820))
        base = ["showconf", "node", inp["node"], "--port", port]
        yield "", exp["stdout"], base
        if "stdout_with_--as-peer" in exp:
            yield " --as-peer", exp["stdout_with_--as-peer"], base + ["--as-peer"]
    elif kind == "kgctl_showconf_peer":
        yield "", exp["stdout"], ["showconf", "peer", inp["peer"]]
    elif kind == "kgctl_showconf_node_as_peer":
        flags = inp["flags"]
        allowed = flags[flags.index("--allowed-ips") + 1]
        base = ["showconf", "node", inp["node"], "--as-peer", "--allowed-ips", allowed]
        yield " -o yaml", exp["yaml_stdout"], base + ["-o", "yaml"]
        yield " -o json", exp["json_stdout_no_trailing_newline"], base + ["-o", "json"]


def main():
    vectors, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    with open(vectors) as f:
        cases = [c for c in json.load(f)["cases"] if c["kind"].startswith("kgctl_")]
    for i, case in enumerate(cases):
        mesh_path = os.path.join(outdir, f"{i}.json")
        with open(mesh_path, "w") as f:
            json.dump(mesh(case["input"]), f, indent=1)
        for j, (suffix, stdout, args) in enumerate(checks(case)):
            expected = os.path.join(outdir, f"{i}.{j}.out")
            with open(expected, "w") as f:
                f.write(stdout)
            print("\t".join([case["name"] + suffix, mesh_path, expected] + args))


if __name__ == "__main__":
    main()
