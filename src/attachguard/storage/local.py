"""`LocalStore`: objects as files under one folder (the embedded default of `attachguard serve`).

Writes go to a temporary file in the same folder, are fsync'd and renamed into place, so a crash
never leaves a half-written object under a real key.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from attachguard.storage.base import NotFound, check_key


class LocalStore:
    """Objects under ``root``; ``bucket`` is the name FILE_SCANNER events use for it."""

    def __init__(self, root: Path, bucket: str = "attachguard-local") -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._bucket = bucket

    @property
    def bucket(self) -> str:
        return self._bucket

    def describe(self) -> str:
        return f"folder {self.root}"

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        # check_key already refuses "..": this guards against symlinks planted in the folder
        if not path.is_relative_to(self.root):
            raise NotFound(key)
        return path

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise NotFound(key) from exc

    def copy(self, src: str, dst: str) -> None:
        source, target = self._path(src), self._path(dst)
        if not source.is_file():
            raise NotFound(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        os.close(fd)
        try:
            shutil.copyfile(source, tmp)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise NotFound(key) from exc

    def remove_temporaries(self, older_than: float) -> int:
        """Delete ``.tmp-*`` files last written before ``older_than`` (a `time.time` value):
        what a process killed inside `put` or `copy` leaves. The number removed."""
        removed = 0
        for dirpath, _dirs, files in os.walk(self.root):
            for name in files:
                path = Path(dirpath, name)
                with contextlib.suppress(FileNotFoundError):
                    if name.startswith(".tmp-") and path.lstat().st_mtime < older_than:
                        path.unlink()
                        removed += 1
        return removed

    def keys(self, prefix: str = "") -> Iterator[str]:
        for dirpath, _dirs, files in os.walk(self.root):
            for name in files:
                if name.startswith(".tmp-"):
                    continue
                key = Path(dirpath, name).relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield key
