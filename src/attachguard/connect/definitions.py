"""ClamAV signatures mirrored in S3: the layout the updater writes, and the scanner's copy.

Layout under ``s3://<bucket>/<prefix>`` (written by `attachguard.connect.updater`)::

    manifest.json          what a scanner should load: per file its S3 VersionId, size,
                           SHA-256 and, for containers, database version and build time
    main.cvd, daily.cvd,   the files themselves (the bucket is versioned: the manifest pins
    bytecode.cvd           each file's version, so a scanner never mixes two updates)
    cvdupdate/state.json   the updater's own state (what it last downloaded, its cool-down)

The manifest is written last, so a scanner only ever sees complete updates.

`Definitions` keeps a scanner's signature directory (in /tmp) current: it starts from the
files baked into the image (linked, not copied), then, per database (``main``, ``daily``...),
downloads the mirror's file when it is newer than what the directory holds. A download is
checked against the manifest's size and SHA-256 before it replaces anything.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from attachguard.connect import s3util
from attachguard.connect.cvd import header_of

MANIFEST = "manifest.json"
STATE = "cvdupdate/state.json"
_MANIFEST_LIMIT = 1024 * 1024
_SYNCED = ".attachguard-synced.json"  # clamd loads only known extensions: .json is ignored
# The extensions clamd loads from a database directory (the signature formats it reads).
SIGNATURE_FILES = frozenset(
    {".cvd", ".cld", ".cud", ".cdb", ".cat", ".cbc", ".cfg", ".crb", ".fp", ".ftm", ".gdb"}
    | {".hdb", ".hdu", ".hsb", ".hsu", ".idb", ".ign", ".ign2", ".info", ".ldb", ".ldu"}
    | {".mdb", ".mdu", ".msb", ".msu", ".ndb", ".ndu", ".pdb", ".sfp", ".wdb", ".yar", ".yara"}
)


class FileEntry(BaseModel):
    """One mirrored file: where its bytes are and how current they are."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    version_id: str | None = None  # the S3 object version (None when the bucket is unversioned)
    size: int = Field(ge=0)
    sha256: str = Field(pattern="^[0-9a-f]{64}$")
    version: int = 0  # the database version (containers only)
    built: int | None = None  # build time, seconds since the epoch (containers only)
    signatures: int = 0


class Manifest(BaseModel):
    """The mirror's index: ``files`` by name, ``updated`` when it was written (epoch s)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    updated: float
    files: dict[str, FileEntry]

    def newest(self) -> FileEntry | None:
        """The database that says how current the mirror is: ``daily`` (updated several times
        a day), else the most recently built container."""
        built = {n: f for n, f in self.files.items() if f.built is not None}
        daily = [f for n, f in built.items() if database_of(n) == "daily"]
        return daily[0] if daily else max(built.values(), key=lambda f: f.built or 0, default=None)


@dataclass(frozen=True)
class Location:
    """``s3://bucket/prefix/``: where the mirror lives."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, url: str) -> Location:
        if not url.startswith("s3://"):
            raise ValueError(f"not an s3:// location: {url!r}")
        bucket, _, prefix = url[5:].partition("/")
        if not bucket:
            raise ValueError(f"no bucket in {url!r}")
        return cls(bucket, prefix.strip("/") + "/" if prefix.strip("/") else "")

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def read_manifest(s3: Any, where: Location) -> Manifest | None:
    """The mirror's manifest; None when there is none yet (the updater has not run)."""
    try:
        data = s3util.read(s3, where.bucket, where.key(MANIFEST), _MANIFEST_LIMIT)
    except Exception as exc:
        if s3util.missing(exc):
            return None
        raise
    return Manifest.model_validate_json(data)


def write_manifest(s3: Any, where: Location, manifest: Manifest) -> None:
    body = manifest.model_dump_json(indent=1).encode()
    s3util.retry(
        lambda: s3.put_object(
            Bucket=where.bucket,
            Key=where.key(MANIFEST),
            Body=body,
            ContentType="application/json",
            CacheControl="no-cache",
        )
    )


def database_of(name: str) -> str:
    """``daily.cvd`` → ``daily``: the database a file belongs to."""
    return name.split(".", 1)[0]


class Definitions:
    """The signature directory of one private clamd, fed from the image and the S3 mirror.

    ``s3`` is a boto3 client or a function that makes one; ``where`` the mirror (None: the
    image's files only); ``image`` the signature directory baked into the image (may be
    missing). Not thread-safe: one caller at a time."""

    def __init__(
        self,
        s3: Any | Callable[[], Any],
        where: Location | None,
        directory: Path,
        image: Path | None,
    ) -> None:
        self._s3 = s3
        self.where = where
        self.directory = directory
        self.image = image
        self.manifest: Manifest | None = None  # the last one read
        self.refused: set[str] = set()  # SHA-256 of files clamd could not load: not again

    def client(self) -> Any:
        return self._s3() if callable(self._s3) else self._s3

    def prepare(self) -> None:
        """Create the directory and link every image signature file not already in it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.image is None or not self.image.is_dir():
            return
        have = {database_of(p.name) for p in self.files()}
        for source in sorted(self.image.iterdir()):
            if source.suffix in SIGNATURE_FILES and database_of(source.name) not in have:
                (self.directory / source.name).symlink_to(source.resolve())

    def files(self) -> list[Path]:
        """The signature files clamd would load from the directory."""
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.iterdir() if p.suffix in SIGNATURE_FILES)

    def sync(self) -> list[str]:
        """Download what the mirror has that is newer than the directory's files; the names
        that changed (empty without a mirror, when it has no manifest yet or nothing new)."""
        if self.where is None:
            return []
        where = self.where
        self.manifest = read_manifest(self.client(), where)
        if self.manifest is None:
            return []
        synced = self._synced()
        changed = []
        for name, entry in sorted(self.manifest.files.items()):
            if self._current(name, entry, synced):
                continue
            target = self.directory / name
            s3util.download(
                self.client(),
                where.bucket,
                where.key(name),
                target,
                entry.size,
                entry.sha256,
                entry.version_id,
            )
            for other in self.files():  # e.g. the image's daily.cld, replaced by daily.cvd
                if other != target and database_of(other.name) == database_of(name):
                    other.unlink()
            synced[name] = entry.sha256
            changed.append(name)
        if changed:
            self._record(synced)
        return changed

    def _current(self, name: str, entry: FileEntry, synced: dict[str, str]) -> bool:
        if entry.sha256 in self.refused:
            return True  # keep what is here
        if synced.get(name) == entry.sha256 and (self.directory / name).exists():
            return True
        if entry.version <= 0:
            return False  # not a container: the SHA-256 decides
        return self.local_version(database_of(name)) >= entry.version

    def refuse_downloaded(self) -> list[str]:
        """Mark every file downloaded from the mirror as unloadable (clamd refused them): they
        are not downloaded again in this environment. Their names."""
        synced = self._synced()
        self.refused.update(synced.values())
        return sorted(synced)

    def reset(self) -> None:
        """Back to the image's files alone (after clamd could not start on the mirror's)."""
        self.refuse_downloaded()
        for path in self.files():
            path.unlink()
        (self.directory / _SYNCED).unlink(missing_ok=True)
        self.prepare()

    def local_version(self, database: str) -> int:
        """The version of ``database`` in the directory (0 when it has none)."""
        headers = [header_of(p) for p in self.files() if database_of(p.name) == database]
        return max((h.version for h in headers if h is not None), default=0)

    def _synced(self) -> dict[str, str]:
        try:
            data = json.loads((self.directory / _SYNCED).read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _record(self, synced: dict[str, str]) -> None:
        path = self.directory / _SYNCED
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(synced), "utf-8")
        os.replace(tmp, path)


def age_hours(built: float | None, now: float | None = None) -> float | None:
    """Hours since ``built`` (seconds since the epoch)."""
    if built is None:
        return None
    return max(0.0, ((time.time() if now is None else now) - built) / 3600)
