#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# public-archive.sh INTERNAL.a OUT.a: the installed libkilo.a. Links every object
# of INTERNAL.a into one and makes each hidden symbol (every internal one: the
# library is compiled with -fvisibility=hidden) local, so that a program linked
# statically sees only the public kilo_* API, as with the shared library.
set -eu
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"${LD:-ld}" -r -o "$tmp/libkilo.o" --whole-archive "$1"
"${OBJCOPY:-objcopy}" --localize-hidden "$tmp/libkilo.o"
rm -f "$2"
"${AR:-ar}" rcs "$2" "$tmp/libkilo.o"
