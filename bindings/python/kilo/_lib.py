# SPDX-License-Identifier: Apache-2.0
"""The C ABI of libkilo as ctypes sees it: the library, the structs the
binding passes, and each function's signature. Nothing here is public."""

import ctypes
import ctypes.util
import errno
import os

from .errors import _raise, error

# The structs mirror include/kilo/*.h field for field; ctypes lays them out as
# the C compiler does. Option structs carry their own size in sz, so a field
# appended by a newer header never shifts these.

KEY_LEN = 32
KEY_B64_LEN = 44
CIDR_STRLEN = 50
ERROR_MESSAGE_MAX = 512


class ErrorStruct(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("message", ctypes.c_char * ERROR_MESSAGE_MAX)]


class KeyStruct(ctypes.Structure):
    _fields_ = [("bytes", ctypes.c_uint8 * KEY_LEN)]


class AddrStruct(ctypes.Structure):
    _fields_ = [("family", ctypes.c_uint8), ("bytes", ctypes.c_uint8 * 16)]


class CidrStruct(ctypes.Structure):
    _fields_ = [("addr", AddrStruct), ("prefix", ctypes.c_uint8)]


class SolveOpts(ctypes.Structure):
    _fields_ = [
        ("sz", ctypes.c_size_t),
        ("hostname", ctypes.c_char_p),
        ("private_key", ctypes.POINTER(KeyStruct)),
        ("port", ctypes.c_uint16),
        ("override_keepalive", ctypes.c_bool),
        ("persistent_keepalive", ctypes.c_uint32),
        ("now", ctypes.c_int64),
        ("override_granularity", ctypes.c_bool),
        ("granularity", ctypes.c_int),
        ("ready_window", ctypes.c_uint32),
        ("remote_ready_grace", ctypes.c_uint32),
    ]


class StoreOpts(ctypes.Structure):
    _fields_ = [
        ("sz", ctypes.c_size_t),
        ("etcd_cacert", ctypes.c_char_p),
        ("etcd_cert", ctypes.c_char_p),
        ("etcd_key", ctypes.c_char_p),
        ("etcd_user", ctypes.c_char_p),
        ("etcd_password_file", ctypes.c_char_p),
        ("ready_window", ctypes.c_uint32),
    ]


class StoreProblem(ctypes.Structure):
    _fields_ = [("path", ctypes.c_char * 256), ("message", ctypes.c_char * ERROR_MESSAGE_MAX)]


class StoreReport(ctypes.Structure):
    _fields_ = [("n_problems", ctypes.c_size_t), ("problems", StoreProblem * 16)]


def _load():
    name = os.environ.get("KILO_LIBRARY") or ctypes.util.find_library("kilo") or "libkilo.so.0"
    return ctypes.CDLL(name)


lib = _load()

_p = ctypes.c_void_p
_pp = ctypes.POINTER(ctypes.c_void_p)
_s = ctypes.c_char_p
_size = ctypes.c_size_t
_err = ctypes.POINTER(ErrorStruct)
_key = ctypes.POINTER(KeyStruct)

# name: (restype, argtypes); every int-returning function returns 0 or -errno.
_SIGNATURES = {
    "kilo_version": (_s, []),
    "kilo_free": (None, [_p]),
    "kilo_cidr_parse": (ctypes.c_int, [_s, ctypes.POINTER(CidrStruct), _err]),
    "kilo_cidr_format": (None, [ctypes.POINTER(CidrStruct), _s]),
    "kilo_key_parse": (ctypes.c_int, [_s, _key, _err]),
    "kilo_key_format": (None, [_key, _s]),
    "kilo_key_equal": (ctypes.c_bool, [_key, _key]),
    "kilo_key_generate": (ctypes.c_int, [_key, _err]),
    "kilo_key_public": (ctypes.c_int, [_key, _key, _err]),
    "kilo_key_wipe": (None, [_key]),
    "kilo_granularity_parse": (ctypes.c_int, [_s, ctypes.POINTER(ctypes.c_int), _err]),
    "kilo_granularity_name": (_s, [ctypes.c_int]),
    "kilo_mesh_from_json": (ctypes.c_int, [_s, _size, _pp, _err]),
    "kilo_mesh_load_file": (ctypes.c_int, [_s, _pp, _err]),
    "kilo_mesh_to_json": (ctypes.c_int, [_p, _pp, _err]),
    "kilo_mesh_free": (None, [_p]),
    "kilo_mesh_node_count": (_size, [_p]),
    "kilo_mesh_peer_count": (_size, [_p]),
    "kilo_mesh_node_name": (_s, [_p, _size]),
    "kilo_mesh_peer_name": (_s, [_p, _size]),
    "kilo_mesh_granularity": (ctypes.c_int, [_p]),
    "kilo_topology_solve": (ctypes.c_int, [_p, ctypes.POINTER(SolveOpts), _pp, _err]),
    "kilo_topology_free": (None, [_p]),
    "kilo_topology_is_leader": (ctypes.c_bool, [_p]),
    "kilo_topology_segment_count": (_size, [_p]),
    "kilo_topology_conf": (ctypes.c_int, [_p, _pp, _err]),
    "kilo_topology_peer_conf": (ctypes.c_int, [_p, _s, _pp, _err]),
    "kilo_topology_dot": (ctypes.c_int, [_p, _pp, _err]),
    "kilo_wg_config_format": (ctypes.c_int, [_p, _pp, _err]),
    "kilo_wg_config_free": (None, [_p]),
    "kilo_store_open": (ctypes.c_int, [_s, _pp, _err]),
    "kilo_store_open_opts": (ctypes.c_int, [_s, ctypes.POINTER(StoreOpts), _pp, _err]),
    "kilo_store_close": (None, [_p]),
    "kilo_store_load": (ctypes.c_int, [_p, _s, _pp, ctypes.POINTER(StoreReport), _err]),
    "kilo_store_put_node": (ctypes.c_int, [_p, _s, _err]),
    "kilo_store_put_peer": (ctypes.c_int, [_p, _s, _err]),
    "kilo_store_delete_node": (ctypes.c_int, [_p, _s, _err]),
    "kilo_store_delete_peer": (ctypes.c_int, [_p, _s, _err]),
    "kilo_store_get_node": (ctypes.c_int, [_p, _s, _pp, _err]),
}

for _name, (_restype, _argtypes) in _SIGNATURES.items():
    _fn = getattr(lib, _name)
    _fn.restype = _restype
    _fn.argtypes = _argtypes


def encode(text, what="text"):
    """A str or bytes as the NUL-terminated bytes C takes; what names it in errors."""
    if isinstance(text, str):
        text = text.encode("utf-8", "surrogateescape")
    elif isinstance(text, (bytes, bytearray)):
        text = bytes(text)
    else:
        raise TypeError("%s: expected str or bytes, not %s" % (what, type(text).__name__))
    if b"\0" in text:
        raise error(errno.EINVAL, "%s: a NUL byte at offset %d" % (what, text.index(b"\0")))
    return text


def unsigned(value, bits, what):
    """value as a C unsigned integer of bits bits, or kilo.Error naming what and value."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("%s: expected int, not %s" % (what, type(value).__name__))
    if not 0 <= value < 1 << bits:
        raise error(errno.EINVAL, "%s %d: not in 0..%d" % (what, value, (1 << bits) - 1))
    return value


def decode(raw):
    """Text from the library; bytes that are not UTF-8 survive a round trip."""
    return raw.decode("utf-8", "surrogateescape")


def call(fn, *args):
    """Calls a fallible function with a fresh kilo_error last; raises kilo.Error on failure."""
    err = ErrorStruct()
    r = fn(*args, ctypes.byref(err))
    if r < 0:
        _raise(-r, err)
    return r


def call_text(fn, *args):
    """Calls a function whose last output is a string the caller frees with kilo_free."""
    out = ctypes.c_void_p()
    call(fn, *args, ctypes.byref(out))
    try:
        return decode(ctypes.string_at(out))
    finally:
        lib.kilo_free(out)


def handle_out(fn, *args):
    """Calls a function that creates a handle; returns the handle (a non-NULL int)."""
    out = ctypes.c_void_p()
    call(fn, *args, ctypes.byref(out))
    return out.value
