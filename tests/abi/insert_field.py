#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""usage: insert_field.py HEADER OUTPUT STRUCT DECLARATION

Copies HEADER to OUTPUT with DECLARATION inserted right after the `sz` field of
struct STRUCT: every later field moves, the break the ABI check must catch.
"""
import re
import sys


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    header, output, struct, declaration = sys.argv[1:]
    text = open(header).read()
    pattern = re.compile(r"(struct %s \{\n(\s*)size_t sz;[^\n]*\n)" % re.escape(struct))
    if not pattern.search(text):
        sys.exit(f"{header}: no struct {struct} that starts with size_t sz")
    open(output, "w").write(pattern.sub(lambda m: m.group(1) + m.group(2) + declaration + "\n", text, count=1))


if __name__ == "__main__":
    main()
