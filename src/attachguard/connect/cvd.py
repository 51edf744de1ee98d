"""The header of a ClamAV database container (``.cvd``, ``.cld``, unsigned ``.cud``).

A container starts with a 512-byte ASCII header of colon-separated fields::

    ClamAV-VDB:<build time>:<version>:<signatures>:<functionality level>:<MD5>:<digital
    signature>:<builder>:<build time, seconds since the epoch>

followed by a gzipped tar of the signature files (``.cvd``/``.cud``) or a plain tar (``.cld``,
what freshclam writes after applying incremental updates). `read_header` parses the header;
`verify` also checks a ``.cvd``/``.cud`` body against the header's MD5, which catches a
truncated or damaged download. It does not check Talos's digital signature: clamd does, when it
loads the file, and keeps the previous database when that fails.

`build_unsigned` writes an unsigned container (what ``sigtool --build=daily.cud --unsigned``
writes), which clamd loads without a digital signature and reports in ``VERSION``: the tests
and benchmarks use it to stand in for the official databases.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

from attachguard.errors import AttachguardError

HEADER_SIZE = 512
CONTAINERS = (".cvd", ".cld", ".cud")  # the names that carry a header
_COMPRESSED = (".cvd", ".cud")  # the header's MD5 covers their body
_CHUNK = 1024 * 1024


class CvdError(AttachguardError):
    """Not a ClamAV database container, or one whose body does not match its header."""


@dataclass(frozen=True)
class CvdHeader:
    """The fields of a container header that say how current it is."""

    version: int
    signatures: int
    level: int
    md5: str
    built: int  # seconds since the epoch


def read_header(data: bytes) -> CvdHeader:
    """The header at the start of ``data`` (at least its first 512 bytes)."""
    fields = data[:HEADER_SIZE].decode("ascii", "replace").rstrip(" \0\n").split(":")
    if len(fields) < 9 or fields[0] != "ClamAV-VDB":
        raise CvdError("not a ClamAV database container (no ClamAV-VDB header)")
    try:
        return CvdHeader(
            version=int(fields[2]),
            signatures=int(fields[3]),
            level=int(fields[4]),
            md5=fields[5].lower(),
            built=int(fields[8]),
        )
    except ValueError as exc:
        raise CvdError(f"damaged ClamAV database header: {exc}") from exc


def header_of(path: Path) -> CvdHeader | None:
    """The header of the container at ``path``; None when it has none (another signature
    file, e.g. ``.ndb``), is unreadable or damaged."""
    if path.suffix not in CONTAINERS:
        return None
    try:
        with path.open("rb") as file:
            return read_header(file.read(HEADER_SIZE))
    except (OSError, CvdError):
        return None


def verify(path: Path) -> CvdHeader | None:
    """The header of ``path`` after checking a ``.cvd``/``.cud`` body against its MD5; None for
    files that are not containers. Raises `CvdError` for a damaged container."""
    if path.suffix not in CONTAINERS:
        return None
    with path.open("rb") as file:
        header = read_header(file.read(HEADER_SIZE))
        if path.suffix not in _COMPRESSED:
            return header
        digest = hashlib.md5(usedforsecurity=False)  # the format's own checksum
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != header.md5:
        raise CvdError(f"{path.name}: the body does not match the header's MD5 (damaged)")
    return header


def build_unsigned(
    path: Path, version: int, files: dict[str, bytes], built: int | None = None
) -> Path:
    """Write an unsigned container at ``path`` (named ``<database>.cud``) holding ``files``
    (signature files named after the database, e.g. ``daily.ndb``) and the ``.info`` index
    clamd checks them against; returns ``path``."""
    built = int(time.time()) if built is None else built
    stamp = time.strftime("%d %b %Y %H-%M +0000", time.gmtime(built))
    base = path.name.rsplit(".", 1)[0]
    signatures = sum(data.count(b"\n") for data in files.values())
    head = f"ClamAV-VDB:{stamp}:{version}:{signatures}:216:{{md5}}:X:attachguard:{built}"
    # clamd checks the index's header line against the container's (all but MD5 and dsig)
    index = [head.format(md5="X")]
    index += [
        f"{name}:{len(data)}:{hashlib.sha256(data).hexdigest()}" for name, data in files.items()
    ]
    members = {"COPYING": b"attachguard test signatures\n", f"{base}.info": _lines(index)}
    members.update(files)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), built
            tar.addfile(info, io.BytesIO(data))
    body = gzip.compress(raw.getvalue(), mtime=built)
    md5 = hashlib.md5(body, usedforsecurity=False).hexdigest()
    path.write_bytes(head.format(md5=md5).encode("ascii").ljust(HEADER_SIZE, b" ") + body)
    return path


def _lines(lines: list[str]) -> bytes:
    return "".join(f"{line}\n" for line in lines).encode("ascii")
