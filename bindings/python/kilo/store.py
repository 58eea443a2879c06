# SPDX-License-Identifier: Apache-2.0
"""Stores: where the nodes and peers of a mesh live ("file:DIR", "etcd://...")."""

import ctypes

from . import _lib
from ._handle import Handle
from ._lib import lib
from .mesh import Mesh


class Store(Handle):
    """An open store. load() reads its nodes and peers into a new Mesh."""

    _free = lib.kilo_store_close

    def __init__(self, ptr):
        super().__init__(ptr)
        self.problems = []

    @classmethod
    def open(cls, uri, *, etcd_cacert=None, etcd_cert=None, etcd_key=None, etcd_user=None,
             etcd_password_file=None, ready_window=0):
        """Opens the store at uri ("file:DIR", or "etcd://HOST:PORT[/CLUSTER]",
        "etcds://" for TLS); the etcd_* options override the URI's parameters.
        ready_window: seconds a node's heartbeat (lastSeen) keeps it in the
        meshes load() gives (kg's --ready-window; 0: the library's 6)."""
        opts = _lib.StoreOpts(sz=ctypes.sizeof(_lib.StoreOpts),
                              ready_window=_lib.unsigned(ready_window, 32, "store options: ready_window"))
        for field, value in (("etcd_cacert", etcd_cacert), ("etcd_cert", etcd_cert), ("etcd_key", etcd_key),
                             ("etcd_user", etcd_user), ("etcd_password_file", etcd_password_file)):
            if value is not None:
                setattr(opts, field, _lib.encode(value, "store options: " + field))
        return cls(_lib.handle_out(lib.kilo_store_open_opts, _lib.encode(uri, "store URI"), ctypes.byref(opts)))

    def load(self, settings=None):
        """Every node and peer as a new Mesh, with settings (a mesh document
        holding only "settings"; None: the defaults). Objects the store could
        not read are left out and listed in self.problems as (path, message)."""
        report = _lib.StoreReport()
        out = ctypes.c_void_p()
        _lib.call(lib.kilo_store_load, self._handle(), None if settings is None else _lib.encode(settings, "settings"),
                  ctypes.byref(out), ctypes.byref(report))
        self.problems = [(_lib.decode(p.path), _lib.decode(p.message))
                         for p in report.problems[:min(report.n_problems, len(report.problems))]]
        return Mesh(out.value)

    def put_node(self, node_json):
        """Writes a node (a mesh document node object, JSON) atomically."""
        _lib.call(lib.kilo_store_put_node, self._handle(), _lib.encode(node_json, "node"))

    def put_peer(self, peer_json):
        """Writes a peer (a mesh document peer object, JSON) atomically."""
        _lib.call(lib.kilo_store_put_peer, self._handle(), _lib.encode(peer_json, "peer"))

    def get_node(self, name):
        """The node named name as a mesh document node object (JSON)."""
        return _lib.call_text(lib.kilo_store_get_node, self._handle(), _lib.encode(name, "name"))

    def delete_node(self, name):
        _lib.call(lib.kilo_store_delete_node, self._handle(), _lib.encode(name, "name"))

    def delete_peer(self, name):
        _lib.call(lib.kilo_store_delete_peer, self._handle(), _lib.encode(name, "name"))

    def __repr__(self):
        return "<kilo.Store%s>" % (" closed" if self.closed else "")
