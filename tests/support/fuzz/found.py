"""Inputs the fuzz harness found, shrunk, and rebuilt from their seeds by what was done to them.

`KNOWN` are exceptions that escape an entry point without being documented: tests/test_fuzz.py
runs them as explicit examples before the drawn inputs, so CI reports each one (an `Escape`
warning) until it is fixed, and guards against its return after. `SLOW` are inputs over the
time bound: they would fail CI today, so only bench/fuzz.py (``--known``) replays them.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from .mutations import Sample
from .seeds import Seed, members, seeds


def _seed(origin: str) -> Seed:
    return next(seed for seed in seeds() if seed.origin == origin)


def _part(origin: str, name: str) -> Seed:
    return next(part for part in members(_seed(origin)) if part.name == name)


def _changed(seed: Seed, step: str, change: Callable[[bytes], bytes]) -> Sample:
    return Sample(seed, (step,), change(seed.data))


def _mini_sector_shift() -> Sample:
    # olefile computes 2 ** shift and seeks by it: OverflowError, not one of its defects
    def change(data: bytes) -> bytes:
        return data[:32] + struct.pack("<H", 0xA00) + data[34:]

    seed = _seed("evasion xls-worksheets-only")
    return _changed(seed, "set OLE mini sector shift at 32 to 0xa00", change)


def _unknown_encoding() -> Sample:
    # expat raises LookupError for an encoding name it does not know (UTF-8 -> TTF-8)
    def change(data: bytes) -> bytes:
        return data.replace(b'encoding="UTF-8"', b'encoding="TTF-8"', 1)

    seed = _part("samples.docx", "word/document.xml")
    return _changed(seed, "XML encoding UTF-8 -> TTF-8", change)


def _abbreviated_filter() -> Sample:
    # pypdf raises DeprecationError (an Exception, not a PyPdfError) for /Fl on a stream
    def change(data: bytes) -> bytes:
        return data.replace(b"/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode",
                            b"/Type /ObjStm /N 1 /First 4 /Filter /Fl", 1)  # fmt: skip

    seed = _seed("evasion pdf-object-stream-listed")
    return _changed(seed, "object stream filter /FlateDecode -> /Fl", change)


def _object_stream_type() -> Sample:
    # pypdf asserts that an object stream's /Type is /ObjStm (AssertionError, not a PyPdfError);
    # it escaped the pdf engine until that caught it: kept so that it does not come back
    def change(data: bytes) -> bytes:
        return data.replace(b"/Type /ObjStm", b"/Type .ObjStm", 1)

    seed = _seed("evasion pdf-object-stream-listed")
    return _changed(seed, "object stream /Type /ObjStm -> /Type .ObjStm", change)


def _root_cycle() -> Sample:
    # the root entry typed as a storage whose child is itself: classify_ole walks it
    # MAX_ENTRIES levels deep, building ever longer paths (quadratic: 15-37 s here)
    from support.oletools_data import ole_file

    data = bytearray(ole_file({"Workbook": b"x"}))
    data[1024 + 66] = 1  # the root entry (the directory's first, at 1024): a storage
    struct.pack_into("<I", data, 1024 + 76, 0)  # its child: entry 0, itself
    seed = Seed("oletools_data.ole_file", "orders.xls", bytes(data))
    return Sample(seed, ("root entry type 1 (storage), child 0 (itself)",), seed.data)


def _inflate_error() -> Sample:
    # a damaged deflate stream in a workbook's part: zlib.error, which the sensitive engine's
    # package reader did not catch (the office and zip engines did)
    def change(data: bytes) -> bytes:
        return data[:598] + b"\x00" + data[599:1445] + b"\xff" + data[1446:]

    seed = _seed("evasion xlsx-ddelink-outside-xl")
    return _changed(seed, "overwrite b'\\x00' at 598; overwrite b'\\xff' at 1445", change)


def _thin_picture() -> Sample:
    # a JPEG declaring 64x32767 pixels: RapidOCR's scaling rounded its short side to nothing
    # (ResizeImgError), which failed the sensitive engine; a thin banner did the same
    def change(data: bytes) -> bytes:
        return data[:163] + struct.pack(">H", 0x7FFF) + data[165:]

    return _changed(_seed("image JPEG"), "set JPEG height at 163 to 0x7fff", change)


# target name -> builders of inputs that make it raise what it does not document
KNOWN: dict[str, tuple[Callable[[], Sample], ...]] = {
    "engine office": (_mini_sector_shift,),
    "ole.read_workbooks": (_mini_sector_shift,),
    "wordfields.field_instructions": (_unknown_encoding,),
    "engine pdf": (_abbreviated_filter, _object_stream_type),
    "engine sensitive": (_inflate_error, _thin_picture),
}
# target name -> builders of inputs that take it over the time bound
SLOW: dict[str, tuple[Callable[[], Sample], ...]] = {
    "ole.classify_ole": (_root_cycle,),
    "pipeline": (_root_cycle,),  # the file-type detector classifies OLE files, untimed
}


def known(target: str) -> list[Sample]:
    """The escaping inputs known for ``target``."""
    return [build() for build in KNOWN.get(target, ())]
