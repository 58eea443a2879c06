#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A hostile HTTP client: opens idle TCP connections and holds them.

Usage: hold.py HOST PORT SOURCES PER_SOURCE STATUS SECONDS

Opens PER_SOURCE connections to HOST:PORT from each address of SOURCES
(FIRST-LAST, IPv4, e.g. 127.0.0.2-127.0.0.45), sends nothing on them, and
for SECONDS rewrites STATUS, every tenth of a second, with one line: how
many were opened and how many of them the server has not closed yet.
"""
import ipaddress
import os
import resource
import socket
import sys
import time


def sources(spec):
    first, last = (ipaddress.IPv4Address(a) for a in spec.split("-"))
    return [str(ipaddress.IPv4Address(a)) for a in range(int(first), int(last) + 1)]


def connect(host, port, source):
    """A connected socket, or None when the server does not take it within a second."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(1)
    try:
        s.bind((source, 0))
        s.connect((host, port))
    except OSError:
        s.close()
        return None
    s.setblocking(False)
    return s


def still_open(s):
    """False once the server closed or reset the connection."""
    try:
        return s.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def write_status(path, opened, open_now):
    with open(path + ".new", "w") as f:
        f.write(f"{opened} {open_now}\n")
    os.replace(path + ".new", path)


def main():
    host, port, spec, per_source, status, seconds = sys.argv[1:7]
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    held = []
    for source in sources(spec):
        for _ in range(int(per_source)):
            s = connect(host, int(port), source)
            if not s:
                break
            held.append(s)
    opened = len(held)
    deadline = time.monotonic() + float(seconds)
    while time.monotonic() < deadline:
        closed = [s for s in held if not still_open(s)]
        for s in closed:
            s.close()
            held.remove(s)
        write_status(status, opened, len(held))
        time.sleep(0.1)


if __name__ == "__main__":
    main()
