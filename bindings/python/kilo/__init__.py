# SPDX-License-Identifier: Apache-2.0
"""libkilo for Python: load a mesh, solve it, render WireGuard configurations
and the graph, handle keys and read stores. Standard library only (ctypes);
the library is found through $KILO_LIBRARY, else ctypes.util.find_library("kilo"),
else libkilo.so.0."""

import ctypes as _ctypes

from . import _lib
from .errors import ClosedError, Error, InvalidInputError, NotFoundError, PermissionDeniedError
from .key import Key
from .mesh import Mesh, Topology
from .store import Store


def version():
    """The version of the libkilo this runs with ("MAJOR.MINOR.PATCH")."""
    return _lib.decode(_lib.lib.kilo_version())


def parse_cidr(text):
    """Checks "ip/prefix" as the library does and returns it as Go prints it
    (host bits kept); kilo.Error naming the text if it is not a CIDR."""
    cidr = _lib.CidrStruct()
    _lib.call(_lib.lib.kilo_cidr_parse, _lib.encode(text, "cidr"), _ctypes.byref(cidr))
    out = _ctypes.create_string_buffer(_lib.CIDR_STRLEN)
    _lib.lib.kilo_cidr_format(_ctypes.byref(cidr), out)
    return _lib.decode(out.value)


__all__ = ["ClosedError", "Error", "InvalidInputError", "Key", "Mesh", "NotFoundError", "PermissionDeniedError",
           "Store", "Topology", "parse_cidr", "version"]
