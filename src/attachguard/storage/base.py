"""The `ObjectStore` protocol: the handful of operations the attachment lifecycle needs.

Keys are ``/``-separated relative paths built by the service (never from user input); `check_key`
still refuses anything that could escape a folder, so a bug upstream cannot become a path
traversal.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Protocol

# letters, digits and the few punctuation marks Connect's keys use (the colon is in the time)
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,199}")


class NotFound(KeyError):
    """No object under that key."""


class BadKey(ValueError):
    """A key that is empty, absolute, or has a segment such as ``..``."""


def check_key(key: str) -> str:
    """``key`` unchanged when every segment is a plain name; otherwise `BadKey`."""
    parts = key.split("/")
    if len(key) > 900 or not all(_SEGMENT.fullmatch(p) for p in parts):
        raise BadKey(f"not a valid object key: {key[:100]!r}")
    if any(p.strip(".") == "" for p in parts):
        raise BadKey(f"not a valid object key: {key[:100]!r}")
    return key


class ObjectStore(Protocol):
    """Where attachment bytes live. Implementations are thread-safe."""

    @property
    def bucket(self) -> str:
        """The bucket name FILE_SCANNER events must carry to resolve in this store."""
        ...

    def describe(self) -> str:
        """Where the bytes go, for logs and the health check (no secrets)."""
        ...

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` (replacing any object there), atomically."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; `NotFound` when there are none."""
        ...

    def copy(self, src: str, dst: str) -> None:
        """Copy ``src`` to ``dst``; `NotFound` when ``src`` is missing."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key is not an error."""
        ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int:
        """The object's length in bytes; `NotFound` when there is none."""
        ...

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every key starting with ``prefix``, in no particular order."""
        ...
