#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The headers against the rule of docs/design.md, "API conventions": every
public function that returns an int and can fail takes an optional
struct kilo_error * as its last parameter, and test_errors has a row that
gives it a bad input. Prints what breaks the rule; exits 1 if anything does.

Usage: check_errors.py INCLUDE_DIR TEST_ERRORS [--list]
  --list: print the fallible functions, one per line, and nothing else.
"""
import pathlib
import re
import subprocess
import sys

# They return a value, not a status: there is nothing to explain.
NOT_FALLIBLE = {
    "kilo_agent_fd",
    "kilo_agent_timeout_ms",
    "kilo_connect_fd",
    "kilo_connect_timeout_ms",
    "kilo_store_fd",
}

# Fallible, but a bad input reaches them only on a host they change or with
# a running agent: the namespace tests (suite netns) check their messages.
NEEDS_HOST = {
    "kilo_agent_step": "a running agent (tests/netns/agent)",
    "kilo_connect_step": "a running kgctl connect (tests/netns/connect)",
    "kilo_net_open": "fails only when the kernel refuses a socket",
    "kilo_net_link_set": "root in a namespace (tests/netns/net)",
    "kilo_net_addresses_sync": "root in a namespace (tests/netns/net)",
    "kilo_net_routes_sync": "root in a namespace (tests/netns/net)",
    "kilo_net_routes_list": "fails only when netlink does",
    "kilo_net_rules_sync": "root in a namespace (tests/netns/net)",
    "kilo_net_rules_list": "fails only when netlink does",
    "kilo_net_nat_apply": "root in a namespace (tests/netns/net)",
    "kilo_net_nat_remove": "root in a namespace (tests/netns/net)",
    "kilo_net_ipip_create": "root in a namespace (tests/netns/net)",
    "kilo_net_link_delete": "root in a namespace (tests/netns/net)",
    "kilo_net_mtu_auto": "measures the host's own links (tests/netns/connect checks both programs' --mtu auto)",
    "kilo_store_changed": "a store whose folder goes away under a watch (test_store)",
    "kilo_store_describe": "an etcd store that does not answer (suite etcd)",
    "kilo_apply_clean_up": "root in a namespace: it removes what libkilo owns on the host (tests/netns/apply)",
}

DECLARATION = re.compile(r"KILO_EXPORT\s+([^;{]*?)\b(kilo_\w+)\s*\(([^;]*?)\)\s*;", re.S)


def declarations(include_dir):
    for header in sorted(pathlib.Path(include_dir).glob("*.h")):
        text = re.sub(r"/\*.*?\*/", "", header.read_text(), flags=re.S)
        for m in DECLARATION.finditer(text):
            ret, name, args = (" ".join(g.split()) for g in m.groups())
            yield header.name, ret, name, args


def main():
    include_dir, test_errors = sys.argv[1], sys.argv[2]
    fallible = [(h, n, a) for h, ret, n, a in declarations(include_dir) if ret == "int" and n not in NOT_FALLIBLE]
    if "--list" in sys.argv[3:]:
        print("\n".join(n for _, n, _ in fallible))
        return 0
    rows = set(subprocess.run([test_errors, "--list"], check=True, capture_output=True, text=True).stdout.split())
    problems = []
    for header, name, args in fallible:
        if not args.endswith("struct kilo_error *err"):
            problems.append(f"{header}: {name} returns an error but takes no struct kilo_error *err last")
        if name not in rows and name not in NEEDS_HOST:
            problems.append(f"{header}: {name} has no row in test_errors.c")
    names = {n for _, n, _ in fallible}
    for name in sorted((rows | set(NEEDS_HOST)) - names):
        problems.append(f"{name}: in test_errors.c or NEEDS_HOST but not a fallible public function")
    for p in problems:
        print(p)
    print(f"{len(fallible)} fallible public functions, {len(rows)} rows, {len(NEEDS_HOST)} checked on a host; "
          f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
