# SPDX-License-Identifier: Apache-2.0
"""What every handle of the binding shares: close(), the context manager,
the error after close, and a finalizer that is only a safety net."""

from .errors import closed


class Owned:
    """One libkilo object and the function that frees it, freed at most once.
    Kept apart from the Python object that wraps it, so that an owner that
    must go first (a mesh's topologies) can free it whatever order the
    garbage collector finalizes the wrappers in."""

    __slots__ = ("ptr", "free")

    def __init__(self, ptr, free):
        self.ptr = ptr
        self.free = free

    def close(self):
        ptr, self.ptr = self.ptr, None
        if ptr is not None:
            self.free(ptr)


class Handle:
    """Wraps one libkilo object. Subclasses set _free (the C function that
    frees it) and call Handle.__init__ with the pointer."""

    _free = None

    def __init__(self, ptr):
        self._owned = Owned(ptr, type(self)._free)

    @property
    def closed(self):
        return self._owned.ptr is None

    def _handle(self):
        """The pointer, or kilo.ClosedError (EBADF) once closed."""
        if self._owned.ptr is None:
            raise closed(type(self).__name__)
        return self._owned.ptr

    def close(self):
        """Frees the object now. Closing twice is harmless."""
        self._owned.close()

    def __enter__(self):
        self._handle()
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        # Only a safety net: a handle never closed is freed when collected.
        if getattr(self, "_owned", None) is not None:
            self.close()
