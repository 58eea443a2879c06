# SPDX-License-Identifier: Apache-2.0
"""Meshes and their topologies."""

import ctypes
import os

from . import _lib
from ._handle import Handle
from ._lib import lib


def _granularity(name):
    value = ctypes.c_int()
    _lib.call(lib.kilo_granularity_parse, _lib.encode(name, "granularity"), ctypes.byref(value))
    return value.value


class Mesh(Handle):
    """A mesh document: nodes, peers and settings."""

    _free = lib.kilo_mesh_free

    def __init__(self, ptr):
        super().__init__(ptr)
        # The topologies still open (their Owned, not the wrappers): freed before the mesh.
        self._topologies = set()

    @classmethod
    def load(cls, path):
        """Reads the mesh document at path (str, bytes or os.PathLike)."""
        return cls(_lib.handle_out(lib.kilo_mesh_load_file, _lib.encode(os.fspath(path), "mesh path")))

    @classmethod
    def from_json(cls, text):
        """Reads a mesh document from its JSON text (str or bytes)."""
        data = _lib.encode(text, "mesh document")
        return cls(_lib.handle_out(lib.kilo_mesh_from_json, data, len(data)))

    def _names(self, count, name):
        ptr = self._handle()
        return [_lib.decode(name(ptr, i)) for i in range(count(ptr))]

    @property
    def nodes(self):
        """The node names, in the document's order."""
        return self._names(lib.kilo_mesh_node_count, lib.kilo_mesh_node_name)

    @property
    def peers(self):
        """The peer names, in the document's order."""
        return self._names(lib.kilo_mesh_peer_count, lib.kilo_mesh_peer_name)

    @property
    def granularity(self):
        """"location", "full" or "cross"."""
        return _lib.decode(lib.kilo_granularity_name(lib.kilo_mesh_granularity(self._handle())))

    def to_json(self):
        """The mesh as a (pretty-printed) mesh document."""
        return _lib.call_text(lib.kilo_mesh_to_json, self._handle())

    def solve(self, node=None, granularity=None, *, private_key=None, port=0, persistent_keepalive=None,
              now=0, ready_window=0, remote_ready_grace=0):
        """Solves the mesh for node (a hostname of the mesh; None: the view
        from outside). granularity ("location", "full", "cross") overrides
        the mesh's; private_key (a kilo.Key) goes into config(); port 0 and
        persistent_keepalive None keep the mesh's; now (Unix seconds, 0: no
        liveness check), ready_window and remote_ready_grace (seconds) as in
        struct kilo_solve_opts. The topology keeps the mesh alive."""
        opts = _lib.SolveOpts(sz=ctypes.sizeof(_lib.SolveOpts),
                              port=_lib.unsigned(port, 16, "solve options: port"),
                              now=_lib.unsigned(now, 63, "solve options: now"),
                              ready_window=_lib.unsigned(ready_window, 32, "solve options: ready_window"),
                              remote_ready_grace=_lib.unsigned(remote_ready_grace, 32,
                                                               "solve options: remote_ready_grace"))
        if node is not None:
            opts.hostname = _lib.encode(node, "solve options: node")
        if private_key is not None:
            opts.private_key = ctypes.pointer(private_key._key())
        if persistent_keepalive is not None:
            opts.override_keepalive = True
            opts.persistent_keepalive = _lib.unsigned(persistent_keepalive, 32, "solve options: persistent_keepalive")
        if granularity is not None:
            opts.override_granularity = True
            opts.granularity = _granularity(granularity)
        return Topology(_lib.handle_out(lib.kilo_topology_solve, self._handle(), ctypes.byref(opts)), self)

    def close(self):
        """Frees the mesh, closing first the topologies solved from it (the C
        API needs the mesh to outlive them)."""
        for owned in self._topologies:
            owned.close()
        self._topologies.clear()
        super().close()

    def __repr__(self):
        if self.closed:
            return "<kilo.Mesh closed>"
        return "<kilo.Mesh %d nodes, %d peers>" % (lib.kilo_mesh_node_count(self._handle()),
                                                   lib.kilo_mesh_peer_count(self._handle()))


def _config_text(fn, *args):
    """A kilo_wg_config made by fn, formatted as Kilo prints it, then freed (its keys wiped)."""
    config = _lib.handle_out(fn, *args)
    try:
        return _lib.call_text(lib.kilo_wg_config_format, config)
    finally:
        lib.kilo_wg_config_free(config)


class Topology(Handle):
    """A mesh solved for one node (or from outside). It holds a reference to
    its mesh, which it needs; closing the mesh closes it too."""

    _free = lib.kilo_topology_free

    def __init__(self, ptr, mesh):
        super().__init__(ptr)
        self.mesh = mesh
        mesh._topologies.add(self._owned)

    def close(self):
        super().close()
        self.mesh._topologies.discard(self._owned)

    @property
    def is_leader(self):
        """Whether the node leads its segment (only leaders run tunnels)."""
        return bool(lib.kilo_topology_is_leader(self._handle()))

    @property
    def segment_count(self):
        return lib.kilo_topology_segment_count(self._handle())

    def config(self):
        """The node's WireGuard configuration, as Kilo prints it."""
        return _config_text(lib.kilo_topology_conf, self._handle())

    def peer_config(self, name):
        """The WireGuard configuration of the mesh peer name (`kgctl showconf peer`)."""
        return _config_text(lib.kilo_topology_peer_conf, self._handle(), _lib.encode(name, "peer"))

    def graph(self):
        """The topology as GraphViz DOT (`kgctl graph`)."""
        return _lib.call_text(lib.kilo_topology_dot, self._handle())

    def __repr__(self):
        if self.closed:
            return "<kilo.Topology closed>"
        return "<kilo.Topology %d segments%s>" % (self.segment_count, ", leader" if self.is_leader else "")
