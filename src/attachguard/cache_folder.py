"""Verdicts on disk, for ``attachguard scan --cache DIR``: one small JSON file per key.

Each entry is written to a temporary file in the same folder and renamed over its name, so a
reader never sees half an entry, and several processes may share a folder. A hit touches the
file: the modification time is the last use, and when the folder holds more than
``max_entries`` the least recently used are removed (down to 90% of the bound, so that pruning,
which lists the folder, happens once per tenth of the bound rather than on every write).
A store problem (full disk, no permission, an entry that is not JSON) is a miss, never an error.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
import threading
import time
from pathlib import Path

__all__ = ["FolderCache"]

_KEY = re.compile(r"[0-9a-f]{64}")
_SUFFIX = ".json"
_TEMP = ".tmp-"
_STALE_TEMP = 3600.0  # seconds after which a temporary file is a crashed writer's leftover
_KEEP = 0.9  # of max_entries, after pruning


def _check_private(folder: Path) -> None:
    """An entry approves the bytes it names: a folder others can write to is refused."""
    found = folder.stat()
    if found.st_uid != os.geteuid():
        raise PermissionError(errno.EPERM, "owned by another user; use a folder of your own")
    if found.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise PermissionError(
            errno.EPERM, "other users may write to it, and an entry approves a file; chmod go-w"
        )


class FolderCache:
    """A `attachguard.cache.VerdictStore` in ``folder`` (created, mode 0700: whoever can write
    here can approve files), bounded to about ``max_entries`` files; thread-safe.

    Raises `PermissionError` for a folder another user owns or may write to."""

    def __init__(self, folder: Path, max_entries: int = 10_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.folder = Path(folder)
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        _check_private(self.folder)
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._count = sum(1 for _ in self._entries())

    def __len__(self) -> int:
        return sum(1 for _ in self._entries())

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise ValueError(f"not a cache key: {key!r}")
        return self.folder / f"{key}{_SUFFIX}"

    def _entries(self) -> list[os.DirEntry[str]]:
        with os.scandir(self.folder) as found:
            return [e for e in found if e.name.endswith(_SUFFIX) and not e.name.startswith(".")]

    def get(self, key: str) -> str | None:
        path = self._path(key)
        try:
            text = path.read_text("utf-8")
            os.utime(path)  # the last use, for pruning
        except (OSError, UnicodeDecodeError):
            return None
        return text

    def put(self, key: str, entry: str) -> None:
        path = self._path(key)
        try:
            self._write(path, entry)
        except OSError:
            return  # a full disk or a read-only folder costs the next scan, not this one
        with self._lock:
            self._count += 1
            if self._count > self.max_entries:
                self._prune()

    def _write(self, path: Path, entry: str) -> None:
        fd, temp = tempfile.mkstemp(dir=self.folder, prefix=_TEMP, suffix=_SUFFIX)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(entry)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def _prune(self) -> None:
        """Remove the least recently used entries down to `_KEEP` of the bound, and temporary
        files left by a writer that died."""
        aged = []
        for entry in self._entries():
            try:
                aged.append((entry.stat().st_mtime_ns, entry.path))
            except OSError:
                continue  # removed by another process meanwhile
        aged.sort()
        excess = max(0, len(aged) - max(1, int(self.max_entries * _KEEP)))
        for _, path in aged[:excess]:
            Path(path).unlink(missing_ok=True)
        self._count = len(aged) - excess
        self._remove_stale_temps()

    def _remove_stale_temps(self) -> None:
        limit = time.time() - _STALE_TEMP
        for path in self.folder.glob(f"{_TEMP}*"):
            try:
                if path.stat().st_mtime < limit:
                    path.unlink()
            except OSError:
                continue
