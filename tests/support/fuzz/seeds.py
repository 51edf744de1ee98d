"""Seed files for the fuzz harness: small valid files of every format an engine reads, each
with the type it is (the label the file-type engine gives such a file; routing follows it).

Pure random bytes reach no parser past its magic number; damaged copies of real structures
reach the code that reads lengths, offsets, tables and nested parts. The seeds come from
`attachguard.samples` (what customers send), small hand-built files (zips with data descriptors
and nested zips, RTF with objects and fields, CSV with formulas, images in every decoded
format), and the red-team corpus (`support.evasions`: Word fields, OLE trees, BIFF workbooks,
PDF updates and object streams, polyglots), which holds the structures attackers bend.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from PIL import Image

from attachguard import samples
from attachguard.report import UNKNOWN_TYPE, FileType

MAX_SEED = 64 * 1024  # bigger seeds cost time per example and reach no further code

# Red-team cases used as seeds: one or two of each structure. Ids the corpus no longer has are
# skipped (the corpus is edited by others); `seeds` checks that most are still there.
EVASION_SEEDS = (
    "word-dde-split-runs", "word-dde-nested", "word-includepicture-fldsimple",
    "word-page-in-sdt", "word-ref-toc-fields", "rels-oleobject-unc", "rels-pptx-video-http",
    "rels-xlsx-linked-picture", "ppt-program-click", "ppt-ole-hover", "xlsx-dde-pipe-entity",
    "xlsx-dde-cdata", "xlsx-ddelink-outside-xl", "ole-msi-named-doc", "ole-unknown-clsid-doc",
    "xls-xlm-root-clsid-word", "xls-worksheets-only", "pdf-duplicate-second-hostile",
    "pdf-object-stream-listed", "pdf-object-stream-unlisted", "pdf-name-escape-launch",
    "pdf-broken-xref", "pdf-incremental-update", "pdf-zip-between-revisions",
    "zip-duplicate-second-hostile", "zip-orphan-local-entry", "zip-overlapping-members",
    "zip-streamed-with-descriptors", "zip-stored-unicode-names", "jpeg-zip-after-junk-before-end",
    "jpeg-com-program", "png-text-chunks", "png-declares-huge-image", "mp4-free-box-program",
    "mov-skip-box-zip", "wav-lying-size-program", "wav-list-info", "rtf-bin-object",
    "rtf-bin-picture", "xlsx-default-password", "xlsm-renamed-xlsx", "docx-encrypted-named-xlsx",
)  # fmt: skip


# What each seed is, as the file-type engine labels it: (MIME type, group, is text). Magika is
# not asked here: it takes 50-150 ms a file on this machine, and a mis-detected seed (a minimal
# OLE file reads as thumbsdb) would starve the engine it was built for.
_OOXML = "application/vnd.openxmlformats-officedocument."
_TYPES = {
    "docx": (_OOXML + "wordprocessingml.document", "document", False),
    "xlsx": (_OOXML + "spreadsheetml.sheet", "document", False),
    "pptx": (_OOXML + "presentationml.presentation", "document", False),
    "doc": ("application/msword", "document", False),
    "xls": ("application/vnd.ms-excel", "document", False),
    "pdf": ("application/pdf", "document", False),
    "zip": ("application/zip", "archive", False),
    "csv": ("text/csv", "code", True),
    "txt": ("text/plain", "text", True),
    "rtf": ("text/rtf", "text", True),
    "jpeg": ("image/jpeg", "image", False),
    "png": ("image/png", "image", False),
    "gif": ("image/gif", "image", False),
    "webp": ("image/webp", "image", False),
    "bmp": ("image/bmp", "image", False),
    "tiff": ("image/tiff", "image", False),
    "heif": ("image/heif", "image", False),
    "wav": ("audio/x-wav", "audio", False),
    "mp4": ("video/mp4", "video", False),
    "qt": ("video/quicktime", "video", False),
}
# By extension, for the evasion cases and files from a directory.
_BY_EXTENSION = {"jpg": "jpeg", "heic": "heif", "mov": "qt", "docm": "docx", "xlsm": "xlsx"}


def file_type(label: str) -> FileType:
    """The `FileType` of ``label`` (unknown for a label outside the table)."""
    if label not in _TYPES:
        return UNKNOWN_TYPE
    mime, group, is_text = _TYPES[label]
    return FileType(label, mime, group, is_text, 1.0)


def _label(name: str, data: bytes) -> str:
    ext = name.rpartition(".")[2].lower()
    if data[:8] == bytes.fromhex("D0CF11E0A1B11AE1"):
        return "xls" if ext.startswith("xl") else "doc"  # encrypted OOXML is a compound file
    return _BY_EXTENSION.get(ext, ext)


@dataclass(frozen=True)
class Seed:
    """One valid file: where it comes from, the name it is uploaded as, its bytes."""

    origin: str
    name: str
    data: bytes

    def __repr__(self) -> str:
        return f"Seed({self.origin!r}, {len(self.data)} bytes)"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))  # hypothesis prints the seeds a strategy got: not their bytes

    @property
    def type(self) -> FileType:
        """What the seed is (by its magic and extension; see `file_type`)."""
        return file_type(_label(self.name, self.data))


def _image(fmt: str, seed: int = 1) -> bytes:
    out = io.BytesIO()
    _photo(seed).save(out, fmt)
    return out.getvalue()


@cache
def _photo(seed: int) -> Image.Image:
    return samples.photo(64, 48, seed)


def _images() -> Iterator[Seed]:
    from attachguard.pillow import register_heif

    register_heif()
    for fmt, ext in (("JPEG", "jpg"), ("PNG", "png"), ("GIF", "gif"), ("WEBP", "webp"),
                     ("BMP", "bmp"), ("TIFF", "tiff"), ("HEIF", "heic")):  # fmt: skip
        yield Seed(f"image {fmt}", f"photo.{ext}", _image(fmt))


def _zip(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return out.getvalue()


class _Stream(io.RawIOBase):
    """A write-only stream that cannot seek: zipfile then writes data descriptors, as a
    streaming zipper (a browser download, a phone's share sheet) does."""

    def __init__(self) -> None:
        self.out = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.out += data
        return len(data)


def _streamed(members: list[tuple[str, bytes]]) -> bytes:
    stream = _Stream()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            with archive.open(name, "w") as member:
                member.write(data)
    return bytes(stream.out)


def restored(data: bytes) -> bytes:
    """The same zip with every member stored: byte damage then reaches the XML inside."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    return _zip(members, zipfile.ZIP_STORED)


def _documents() -> Iterator[Seed]:
    photo = _image("JPEG", 2)
    docx = samples.docx(["Your order 4711 has shipped.", "Thanks!"], image=photo)
    xlsx = samples.xlsx(samples.order_rows(6))
    yield Seed("samples.docx", "letter.docx", docx)
    yield Seed("samples.docx stored", "letter.docx", restored(docx))
    yield Seed("samples.xlsx", "orders.xlsx", xlsx)
    yield Seed("samples.xlsx stored", "orders.xlsx", restored(xlsx))
    yield Seed("samples.pdf", "invoice.pdf", samples.pdf([["Invoice 4711", "Total 12.00"]], photo))
    yield Seed("samples.pdf js", "invoice.pdf", samples.pdf([["Hi"], ["Two"]], js="app.alert(1)"))


def _archives() -> Iterator[Seed]:
    notes = samples.transcript(6)
    inner = _zip([("notes.txt", notes)])
    members = [("notes.txt", notes), ("photo.jpg", _image("JPEG", 3)), ("inner.zip", inner)]
    yield Seed("zip", "files.zip", _zip(members))
    yield Seed("zip stored", "files.zip", _zip(members, zipfile.ZIP_STORED))
    yield Seed("zip streamed", "files.zip", _streamed(members))


_RTF_FIELD = (
    b"{\\rtf1\\ansi{\\fonttbl{\\f0 Arial;}}\\f0 Your order has shipped.\\par "
    b'{\\field{\\*\\fldinst HYPERLINK "https://example.com/orders/4711"}{\\fldrslt track it}}'
    b"\\par{\\pict\\pngblip\\picw10\\pich10 89504e470d0a1a0a}\\u8364?\\'e9\\par}"
)


def _text() -> Iterator[Seed]:
    from support.oletools_data import ole_native, rtf_object

    rows = samples.order_rows(8)
    yield Seed("samples.csv_text", "orders.csv", samples.csv_text(rows))
    formulas: list[list[str | float]] = [
        *rows[:3],
        ["=SUM(D2:D4)", '=HYPERLINK("https://example.com")', "-2", "+1", "@x"],
    ]
    yield Seed("csv formulas", "orders.csv", samples.csv_text(formulas))
    yield Seed("samples.transcript", "notes.txt", samples.transcript(10))
    yield Seed("rtf field", "letter.rtf", _RTF_FIELD)
    package = rtf_object("Package", ole_native("notes.txt", b"hello"))
    yield Seed("rtf object", "letter.rtf", package)


def _media() -> Iterator[Seed]:
    yield Seed("samples.wav", "call.wav", samples.wav(4000))
    yield Seed("samples.mp4", "clip.mp4", samples.mp4(3000))


def _evasions() -> Iterator[Seed]:
    from support.evasions import CASES

    wanted = set(EVASION_SEEDS)
    found = [case for case in CASES if case.id in wanted]
    if len(found) < len(wanted) // 2:  # the corpus was reorganised: pick new seeds
        raise LookupError(f"only {len(found)} of the evasion seeds exist; update EVASION_SEEDS")
    for case in found:
        yield Seed(f"evasion {case.id}", case.name, case.build())


@cache
def seeds() -> tuple[Seed, ...]:
    """Every seed, at most `MAX_SEED` bytes each."""
    found = [*_documents(), *_archives(), *_text(), *_images(), *_media(), *_evasions()]
    return tuple(seed for seed in found if len(seed.data) <= MAX_SEED)


def from_directory(path: Path) -> list[Seed]:
    """More seeds for the long run: every non-empty file under ``path`` up to `MAX_SEED` bytes
    (real documents reach code the hand-built ones do not), typed by their extension."""
    files = sorted(p for p in path.rglob("*") if p.is_file() and 0 < p.stat().st_size <= MAX_SEED)
    return [Seed(f"file {p}", p.name, p.read_bytes()) for p in files]


def members(seed: Seed, suffixes: tuple[str, ...] = (".xml", ".rels")) -> Iterator[Seed]:
    """The XML parts of an OOXML seed, each as a seed of its own (for the XML readers)."""
    try:
        with zipfile.ZipFile(io.BytesIO(seed.data)) as archive:
            for info in archive.infolist():
                if info.filename.lower().endswith(suffixes) and info.file_size <= MAX_SEED:
                    origin = f"{seed.origin}:{info.filename}"
                    yield Seed(origin, info.filename, archive.read(info))
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError):
        return  # not a readable zip (an encrypted package, a damaged evasion case)
