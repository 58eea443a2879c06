# SPDX-License-Identifier: Apache-2.0
"""WireGuard keys: generate, derive the public key, parse and format base64."""

import ctypes

from . import _lib
from ._lib import lib
from .errors import closed


class Key:
    """A Curve25519 key. A private key (generated, or parsed without
    public=True) never shows in repr() and is wiped (kilo_key_wipe) on
    close(), at the end of a with block, or, as a safety net, when collected;
    its base64 text only comes from an explicit to_base64()."""

    def __init__(self, raw, private):
        self._raw = raw
        self.private = private

    @classmethod
    def generate(cls):
        """A new clamped private key, like `wg genkey`."""
        raw = _lib.KeyStruct()
        _lib.call(lib.kilo_key_generate, ctypes.byref(raw))
        return cls(raw, True)

    @classmethod
    def parse(cls, text, *, public=False):
        """Decodes 44 characters of base64 as `wg` takes them. The key counts
        as private (hidden, wiped) unless public=True."""
        raw = _lib.KeyStruct()
        _lib.call(lib.kilo_key_parse, _lib.encode(text, "key"), ctypes.byref(raw))
        return cls(raw, not public)

    def _key(self):
        if self._raw is None:
            raise closed("Key")
        return self._raw

    def public(self):
        """The public key of this private key, like `wg pubkey`."""
        raw = _lib.KeyStruct()
        _lib.call(lib.kilo_key_public, ctypes.byref(self._key()), ctypes.byref(raw))
        return Key(raw, False)

    def to_base64(self):
        """The key as base64 (for a private key: the secret itself)."""
        out = ctypes.create_string_buffer(_lib.KEY_B64_LEN + 1)
        lib.kilo_key_format(ctypes.byref(self._key()), out)
        return out.value.decode("ascii")

    def close(self):
        """Wipes the key. Closing twice is harmless."""
        raw, self._raw = self._raw, None
        if raw is not None:
            lib.kilo_key_wipe(ctypes.byref(raw))

    @property
    def closed(self):
        return self._raw is None

    def __enter__(self):
        self._key()
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_raw", None) is not None:
            self.close()

    def __eq__(self, other):
        if not isinstance(other, Key):
            return NotImplemented
        return lib.kilo_key_equal(ctypes.byref(self._key()), ctypes.byref(other._key()))

    __hash__ = None

    def __repr__(self):
        if self._raw is None:
            return "<kilo.Key closed>"
        if self.private:
            return "<kilo.Key private>"
        return "<kilo.Key public %s>" % self.to_base64()
