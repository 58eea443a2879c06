#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks the exported symbols against lib/libkilo.map and the public headers.

usage: symbols.py MAP HEADERS-DIR LIBKILO.SO LIBKILO.A

- the map lists every symbol by name (no glob), sorted, once, and hides the rest;
- every kilo_ function a public header declares is in the map, and the map lists
  nothing that no header declares;
- the shared library exports exactly the map's symbols, each under its node's
  version (a listed function without KILO_EXPORT is not exported);
- the installed libkilo.a defines as global only the map's symbols (every
  internal one is local), so that linking it statically takes none of the
  caller's names.
Prints one line per problem; exits 1 if there is any.
"""
import pathlib
import re
import subprocess
import sys

PUBLIC_PREFIX = "kilo_"


def strip_comments(text):
    return re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)


def parse_map(path, problems):
    """Returns {symbol: version node} from a version script."""
    text = strip_comments(path.read_text())
    symbols = {}
    hidden = 0
    for node, body in re.findall(r"([\w.]+)\s*\{(.*?)\}\s*[\w.]*\s*;", text, flags=re.S):
        for scope, names in re.findall(r"(global|local)\s*:([^:]*?)(?=\b(?:global|local)\s*:|$)", body, flags=re.S):
            entries = [e.strip() for e in names.split(";") if e.strip()]
            if scope == "local":
                if entries != ["*"]:
                    problems.append(f"{path.name}: {node}: local must be '*;', not {entries}")
                hidden += 1
                continue
            for name in entries:
                if not re.fullmatch(r"kilo_\w+", name):
                    problems.append(f"{path.name}: {node}: '{name}' is not a symbol name (no globs: list each symbol)")
                elif name in symbols:
                    problems.append(f"{path.name}: {name} is listed twice ({symbols[name]} and {node})")
                else:
                    symbols[name] = node
            if entries != sorted(entries):
                wrong = next(a for a, b in zip(entries, sorted(entries)) if a != b)
                problems.append(f"{path.name}: {node}: not sorted, first out of place: {wrong}")
    if hidden != 1:
        problems.append(f"{path.name}: one node must hide everything else with 'local: *;' (found {hidden})")
    if not symbols:
        problems.append(f"{path.name}: no symbols found")
    return symbols


def header_functions(directory):
    """Returns {function: header} for every kilo_ function the public headers declare."""
    functions = {}
    for header in sorted(pathlib.Path(directory).glob("*.h")):
        text = strip_comments(header.read_text())
        text = re.sub(r"^\s*#.*?(?<!\\)$", " ", text, flags=re.M | re.S)
        text = re.sub(r"\(\s*\*\s*kilo_\w+\s*\)", " ", text)  # '(*name)(' declares a pointer type
        for name in re.findall(r"\b(kilo_\w+)\s*\(", text):
            functions.setdefault(name, header.name)
    return functions


def nm(*args):
    return subprocess.run(["nm", *args], check=True, capture_output=True, text=True).stdout.splitlines()


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    map_path, headers, shared, static = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    problems = []

    listed = parse_map(map_path, problems)
    declared = header_functions(headers)
    for name, header in sorted(declared.items()):
        if name not in listed:
            problems.append(f"{header}: {name} is declared but {map_path.name} does not list it")
    for name in sorted(set(listed) - set(declared)):
        problems.append(f"{map_path.name}: {name} is listed but no public header declares it")

    exported = {}
    for line in nm("-D", "--defined-only", shared):
        name, _, version = line.split()[-1].partition("@")
        if not re.fullmatch(r"LIBKILO_[\d.]+", version.lstrip("@")):
            continue  # the version nodes' own symbols
        exported[name] = version.lstrip("@")
    for name, node in sorted(listed.items()):
        if name not in exported:
            problems.append(f"{shared}: does not export {name} (not defined, or not KILO_EXPORT)")
        elif exported[name] != node:
            problems.append(f"{shared}: exports {name} as {exported[name]}, the map says {node}")
    for name in sorted(set(exported) - set(listed)):
        problems.append(f"{shared}: exports {name}, which the map does not list")

    for line in nm("-g", "--defined-only", static):
        fields = line.split()
        if len(fields) != 3:
            continue  # member names and blank lines
        name = fields[2]
        if name.startswith("__"):
            continue  # the compiler's and sanitizers' own
        if name not in listed:
            problems.append(f"{static}: global {name} is not in the map: an internal symbol must be hidden "
                            f"(not KILO_EXPORT), or static")
        if not name.startswith(PUBLIC_PREFIX):
            problems.append(f"{static}: global {name} has not the prefix {PUBLIC_PREFIX}")

    for problem in problems:
        print(problem)
    print(f"{len(listed)} symbols in the map, {len(declared)} declared, {len(exported)} exported; "
          f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
