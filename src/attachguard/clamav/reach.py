"""What clamd unpacks by itself: the children it already scanned inside their parent.

The pipeline streams every child an engine extracts to clamd so that a match names its
location. For a zip member that is wasted work when the parent was clean: clamd inflates a
zip's (or an Office package's) stored and deflated members itself, recursively, and applies
every signature, hash signatures included, to each of them as it would to a stream. Measured
on the real-world corpus (docs/benchmarks.md): a .pptx with chart workbooks was streamed
once whole and once more part by part.

Only what clamd provably reads the same way is left out: a member of a file that begins with
a local file header (clamd's zip magic; a zip behind other bytes is streamed from where it
starts by the polyglot engine), named in the central directory, stored or deflated (clamd
skips methods it lacks, LZMA among them, without an alert), with the size and CRC-32 of the
directory entry (the zip engine checks those against what it inflated), and no larger than
its parent. That last rule closes a gap: clamd cuts a deflated member larger than its
``MaxFileSize`` short and scans the start without an alert (ClamAV 1.4; Debian's system
clamd has 25M), while a parent larger than ``MaxFileSize`` is flagged — so a clean parent
proves its size is within the limit, and so is any member no larger. Everything else —
decoded, decrypted or repaired content, members read another way, members larger than their
zip, byte ranges clamd does not unpack — is streamed as before.
"""

from __future__ import annotations

import io
import zipfile
import zlib

from attachguard.engines.base import Child, Item

_ZIP_MAGIC = b"PK\x03\x04"
_CLAMD_INFLATES = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})


def zip_members_clamd_reads(parent: Item, children: list[Child]) -> frozenset[Child]:
    """The ``children`` that are members clamd inflates itself from ``parent`` (see the module
    docstring); empty when ``parent`` is not a zip clamd recognises or cannot be read."""
    if not children or not parent.data.startswith(_ZIP_MAGIC):
        return frozenset()
    try:
        with zipfile.ZipFile(io.BytesIO(parent.data)) as archive:
            entries = {info.filename: info for info in archive.infolist()}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return frozenset()
    most = len(parent.data)  # see the module docstring: clamd's MaxFileSize
    return frozenset(
        child
        for child in children
        if len(child.data) <= most and _same(entries.get(child.where), child)
    )


def _same(info: zipfile.ZipInfo | None, child: Child) -> bool:
    """Whether ``child`` is, byte for byte, the member ``info`` describes, inflated by a method
    clamd has."""
    return (
        info is not None
        and info.compress_type in _CLAMD_INFLATES
        and not info.flag_bits & 0x1  # encrypted: clamd cannot read it (nor can anyone)
        and info.file_size == len(child.data)
        and zlib.crc32(child.data) == info.CRC
    )
