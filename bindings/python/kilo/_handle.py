# SPDX-License-Identifier: Apache-2.0
"""What every handle of the binding shares: close(), the context manager,
the error after close, and a finalizer that is only a safety net."""

from .errors import closed


class Handle:
    """Owns one libkilo object. Subclasses set _free (the C function that
    frees it) and call Handle.__init__ with the pointer."""

    _free = None

    def __init__(self, ptr):
        self._ptr = ptr

    @property
    def closed(self):
        return self._ptr is None

    def _handle(self):
        """The pointer, or kilo.Error (EBADF) once closed."""
        if self._ptr is None:
            raise closed(type(self).__name__)
        return self._ptr

    def close(self):
        """Frees the object now. Closing twice is harmless."""
        ptr, self._ptr = self._ptr, None
        if ptr is not None:
            type(self)._free(ptr)

    def __enter__(self):
        self._handle()
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        # Only a safety net: a handle never closed is freed when collected.
        if getattr(self, "_ptr", None) is not None:
            self.close()
