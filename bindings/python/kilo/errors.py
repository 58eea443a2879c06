# SPDX-License-Identifier: Apache-2.0
"""kilo.Error and its subclasses: an OSError carrying libkilo's errno and message."""

import errno as _errno
import os


class Error(OSError):
    """A libkilo failure. errno is the (positive) errno the library returned;
    message is the library's message, which names the field and the value
    (e.g. 'cidr "10.0.0.0/33": prefix 33 is longer than 32')."""

    @property
    def message(self):
        return self.strerror


class NotFoundError(Error, FileNotFoundError):
    """ENOENT: a file, node, peer or hostname that is not there."""


class PermissionDeniedError(Error, PermissionError):
    """EPERM or EACCES: e.g. a private key file that others may read."""


class InvalidInputError(Error, ValueError):
    """EINVAL: bad input (a document, a key, a CIDR, an option)."""


class ClosedError(Error):
    """EBADF: a method called after close()."""


_BY_ERRNO = {
    _errno.ENOENT: NotFoundError,
    _errno.EPERM: PermissionDeniedError,
    _errno.EACCES: PermissionDeniedError,
    _errno.EINVAL: InvalidInputError,
    _errno.EBADF: ClosedError,
}


def error(code, message):
    """The Error subclass that fits code, carrying message (or strerror when the library gave none)."""
    return _BY_ERRNO.get(code, Error)(code, message or os.strerror(code))


def _raise(code, err):
    raise error(code, err.message.decode("utf-8", "surrogateescape"))


def closed(what):
    return error(_errno.EBADF, "%s: used after close()" % what)
