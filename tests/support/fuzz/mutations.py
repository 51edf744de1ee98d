"""Hypothesis strategies that damage seed files the way damaged and hostile files differ from
valid ones: bit flips, truncations, inserted and deleted runs, tokens of the formats' own syntax
(``endobj``, ``<!DOCTYPE``, ``\\bin``, a zip header), splices of another format's bytes, length
and offset fields set to 0, 1 or 0xFFFFFFFF, numbers in text formats set to extremes, and
damage to one member of a zip with the zip rebuilt around it (so it reaches the XML inside).

`mutants(seeds)` draws a seed and one to `MAX_STEPS` mutations; the `Sample` it gives says
how it was made (its repr is the recipe), and shrinks toward fewer, earlier, smaller changes.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, TypeVar

from hypothesis import strategies as st

from attachguard.engines.base import Item

from .seeds import Seed

MAX_STEPS = 4
MAX_MEMBERS = 64  # zips with more members are damaged as bytes only

T = TypeVar("T")

Mutator = Callable[[st.DrawFn, bytes, Sequence[Seed]], tuple[bytes, str]]


@dataclass(frozen=True)
class Sample:
    """A damaged seed: the seed, what was done to it, and the resulting bytes."""

    seed: Seed
    steps: tuple[str, ...]
    data: bytes

    def __repr__(self) -> str:
        steps = "; ".join(self.steps) or "unchanged"
        return f"<{self.seed.origin} as {self.seed.name}, then {steps}: {len(self.data)} bytes>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))  # the recipe, not the bytes (`hex` gives those)

    def hex(self) -> str:
        """The bytes, for a reproducer: ``bytes.fromhex(...)``."""
        return self.data.hex()

    def item(self) -> Item:
        """The sample as the pipeline hands it to an engine routed for the seed's type."""
        return Item(self.seed.name, self.data, self.seed.type)


# -- tokens and fields -------------------------------------------------------------------------

_OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
TOKENS: tuple[bytes, ...] = (
    # XML as Office reads it
    b'<!DOCTYPE x [<!ENTITY e "&#124;">]>', b"<![CDATA[", b"]]>", b"&#124;", b"&e;", b"&amp;",
    b'<?xml version="1.0" encoding="UTF-16"?>', b'<?xml version="1.0" encoding="cp037"?>',
    b'<w:fldChar w:fldCharType="begin"/>', b'<w:fldChar w:fldCharType="separate"/>',
    b'<w:fldChar w:fldCharType="end"/>', b'<w:instrText>DDEAUTO cmd "/c calc"</w:instrText>',
    b'<w:fldSimple w:instr="INCLUDEPICTURE http://x/a.png">', b"</w:fldSimple>",
    b'TargetMode="External"', b'Target="../../../x"', b'Target="\\\\host\\share"',
    b"<f>cmd|' /C calc'!A0</f>", b"<mc:AlternateContent>", b"</", b"/>", b"<", b">", b'"',
    # PDF
    b" obj ", b"endobj", b"stream\n", b"\nendstream", b"xref\n0 1\n0000000000 65535 f \n",
    b"trailer\n<< /Size 99 /Root 1 0 R /Prev 0 >>\n", b"startxref\n0\n%%EOF\n", b"%%EOF",
    b"/Type /ObjStm /N 9 /First 0", b"/XRefStm 0", b"/Length 99999999", b"/Filter /FlateDecode",
    b"/Filter [/ASCIIHexDecode /LZWDecode]", b"/DecodeParms << /Predictor 12 /Columns 9 >>",
    b"/JS (app.alert(1))", b"/S /JavaScript", b"/OpenAction 1 0 R", b"/S /Launch", b"/AA <<",
    b"/EmbeddedFile", b"/Encrypt 1 0 R", b"<<", b">>", b"[", b"]", b"(", b")", b"\\", b"#4A",
    b"1 0 R", b"9999999 0 obj", b"/Kids [2 0 R]", b"/Parent 2 0 R", b"/Names [(a) 1 0 R]",
    # RTF
    b"{", b"}", b"{\\object\\objemb{\\*\\objdata 01050000020000000800000050", b"\\bin99999999 ",
    b"\\bin-1 ", b"\\'", b"\\'zz", b"{\\field{\\*\\fldinst DDEAUTO cmd}}", b"\\objdata ", b"\\u-1?",
    b"{\\*\\", b"\\pict\\wmetafile8 ", b"\\ucN ",
    # text
    b"=cmd|' /C calc'!A0", b"@SUM(1)", b"\r", b"\x00", b",", b"\t", b"\xef\xbb\xbf", b"\xff\xfe",
    b"\xc3", b"\xed\xa0\x80",
    # other formats' headers
    b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06" + bytes(18), b"PK\x07\x08", _OLE_MAGIC,
    b"%PDF-1.7\n", b"\xff\xd8\xff\xe0", b"\xff\xd9", b"\x89PNG\r\n\x1a\n", b"IEND\xaeB`\x82",
    b"MZ\x90\x00", b"\x7fELF", b"#!/bin/sh\n", b"<script>", b"\x00\x00\x00\x18ftypheic",
    b"RIFF\xff\xff\xff\xffWAVE", b"{\\rtf1 ", b"GIF89a",
)  # fmt: skip


def _le(*fields: tuple[int, int, str], step: int = 0) -> tuple[tuple[int, int, str, str], ...]:
    """Little-endian fields: (offset, width, what) with the offset moved by ``step``."""
    return tuple((at + step, width, "little", what) for at, width, what in fields)


def _chunk(what: str) -> tuple[tuple[int, int, str, str], ...]:
    return ((-4, 4, "big", what),)


_DIRECTORY_ENTRY = tuple(
    field
    for entry in range(4)  # the root entry and the three after it in the first sector
    for field in _le(
        (64, 2, "OLE entry name length"), (66, 1, "OLE entry type"), (68, 4, "OLE left sibling"),
        (72, 4, "OLE right sibling"), (76, 4, "OLE child"), (116, 4, "OLE start sector"),
        (120, 4, "OLE stream size"),
        step=128 * entry,
    )
)  # fmt: skip

# Where a format keeps a length, an offset or a count, relative to a signature:
# (signature, only at the start of the file, ((offset, width, byte order, what), ...)).
FIELDS: tuple[tuple[bytes, bool, tuple[tuple[int, int, str, str], ...]], ...] = (
    (b"PK\x03\x04", False, _le((6, 2, "zip local flags"), (8, 2, "zip local method"),
        (18, 4, "zip local compressed size"), (22, 4, "zip local size"),
        (26, 2, "zip local name length"), (28, 2, "zip local extra length"))),
    (b"PK\x01\x02", False, _le((10, 2, "zip central method"),
        (20, 4, "zip central compressed size"), (24, 4, "zip central size"),
        (28, 2, "zip central name length"), (30, 2, "zip central extra length"),
        (32, 2, "zip central comment length"), (42, 4, "zip local header offset"))),
    (b"PK\x05\x06", False, _le((8, 2, "zip entries on disk"), (10, 2, "zip entries"),
        (12, 4, "zip directory size"), (16, 4, "zip directory offset"),
        (20, 2, "zip comment length"))),
    (b"PK\x06\x06", False, _le((32, 8, "zip64 entries"), (40, 8, "zip64 directory size"),
        (48, 8, "zip64 directory offset"))),
    (b"PK\x06\x07", False, _le((8, 8, "zip64 end record offset"))),
    (b"PK\x07\x08", False, _le((8, 4, "data descriptor compressed size"),
        (12, 4, "data descriptor size"))),
    (_OLE_MAGIC, True, _le((30, 2, "OLE sector shift"), (32, 2, "OLE mini sector shift"),
        (44, 4, "OLE FAT sectors"), (48, 4, "OLE first directory sector"),
        (56, 4, "OLE mini stream cutoff"), (60, 4, "OLE first mini FAT sector"),
        (64, 4, "OLE mini FAT sectors"), (68, 4, "OLE first DIFAT sector"),
        (72, 4, "OLE DIFAT sectors"), (76, 4, "OLE first FAT sector"))),
    ("Root Entry".encode("utf-16-le"), False, _DIRECTORY_ENTRY),
    (b"\x85\x00", False, _le((2, 2, "BIFF BOUNDSHEET length"),
        (4, 4, "BIFF sheet offset"))),
    (b"\x09\x08", False, _le((2, 2, "BIFF BOF length"))),
    (b"IHDR", False, (*_chunk("PNG chunk length"), (4, 4, "big", "PNG width"),
        (8, 4, "big", "PNG height"))),
    *((kind, False, _chunk("PNG chunk length"))
      for kind in (b"IDAT", b"IEND", b"tEXt", b"zTXt", b"iTXt", b"iCCP", b"PLTE", b"eXIf")),
    *((b"\xff" + bytes([marker]), False, ((2, 2, "big", "JPEG segment length"),))
      for marker in (0xE0, 0xE1, 0xE2, 0xED, 0xFE, 0xDB, 0xC4, 0xDA)),
    (b"\xff\xc0", False, ((2, 2, "big", "JPEG SOF length"), (5, 2, "big", "JPEG height"),
        (7, 2, "big", "JPEG width"))),
    (b"GIF89a", True, _le((6, 2, "GIF width"), (8, 2, "GIF height"))),
    (b"BM", True, _le((2, 4, "BMP file size"), (10, 4, "BMP pixel offset"),
        (14, 4, "BMP header size"), (18, 4, "BMP width"), (22, 4, "BMP height"))),
    (b"II*\x00", True, _le((4, 4, "TIFF first IFD offset"))),
    (b"RIFF", False, _le((4, 4, "RIFF size"))),
    (b"fmt ", False, _le((4, 4, "WAV fmt size"), (10, 2, "WAV channels"),
        (20, 2, "WAV block align"), (22, 2, "WAV bits per sample"))),
    *((kind, False, _le((4, 4, f"RIFF {kind.decode()} size")))
      for kind in (b"data", b"LIST", b"VP8 ")),
    *((kind, False, _chunk(f"ISO box {kind.decode()} size"))
      for kind in (b"ftyp", b"moov", b"mdat", b"free", b"skip", b"mvhd", b"meta", b"iloc",
                   b"iinf", b"ipco", b"uuid")),
)  # fmt: skip

_NUMBER = re.compile(rb"-?\d+")
_EXTREMES = (b"0", b"1", b"-1", b"4294967295", b"4294967296", b"2147483648",
             b"99999999999999999999", b"000000000000000000001")  # fmt: skip


def fields_in(data: bytes, per_signature: int = 8) -> list[tuple[int, int, str, str]]:
    """Every (position, width, byte order, what) of a known field in ``data``, for up to
    ``per_signature`` places each signature appears."""
    found = []
    for signature, at_start, layout in FIELDS:
        starts = [0] if at_start and data.startswith(signature) else []
        if not at_start:
            at = data.find(signature)
            while at >= 0 and len(starts) < per_signature:
                starts.append(at)
                at = data.find(signature, at + 1)
        for start in starts:
            found += [(start + o, w, order, what) for o, w, order, what in layout
                      if start + o >= 0 and start + o + w <= len(data)]  # fmt: skip
    return found


# -- mutators ----------------------------------------------------------------------------------
# Strategies are built once: building one per draw (st.integers(0, len(data))) cost more than
# the rest of generating an example. Positions and choices are drawn as one big integer taken
# modulo what there is to choose from; it shrinks to 0, the first position or choice.

_ANY = st.integers(0, 2**32)
_BIT = st.integers(0, 7)
_SMALL = st.sampled_from((b"\x00", b"\xff", b"\x7f", b"\x80")) | st.binary(min_size=1, max_size=8)
_INSERTED = st.sampled_from(TOKENS) | st.binary(min_size=1, max_size=16)
_TIMES = st.sampled_from((1, 1, 1, 2, 64))
_SPLICES = ("insert", "overwrite", "append", "prepend")


def _pick(draw: st.DrawFn, choices: Sequence[T]) -> T:
    return choices[draw(_ANY) % len(choices)]


def _at(draw: st.DrawFn, data: bytes) -> int:
    return draw(_ANY) % (len(data) + 1)


def _span(draw: st.DrawFn, data: bytes, most: int = 256) -> tuple[int, int]:
    start = _at(draw, data)
    return start, min(len(data), start + 1 + draw(_ANY) % most)


def flip(draw: st.DrawFn, data: bytes, donors: Sequence[Seed]) -> tuple[bytes, str]:
    if not data:
        return data, "flip: nothing to flip"
    at, bit = draw(_ANY) % len(data), draw(_BIT)
    return data[:at] + bytes([data[at] ^ (1 << bit)]) + data[at + 1 :], f"flip bit {bit} at {at}"


def overwrite(draw: st.DrawFn, data: bytes, donors: Sequence[Seed]) -> tuple[bytes, str]:
    at, new = _at(draw, data), draw(_SMALL)
    return data[:at] + new + data[at + len(new) :], f"overwrite {new!r} at {at}"


def truncate(draw: st.DrawFn, data: bytes, donors: Sequence[Seed]) -> tuple[bytes, str]:
    keep = _at(draw, data)
    if draw(_BIT) == 0:
        return data[keep:], f"drop the first {keep} bytes"
    return data[:keep], f"truncate to {keep} bytes"


def insert(draw: st.DrawFn, data: bytes, donors: Sequence[Seed]) -> tuple[bytes, str]:
    at, new, times = _at(draw, data), draw(_INSERTED), draw(_TIMES)
    return data[:at] + new * times + data[at:], f"insert {new!r} x{times} at {at}"


def delete(draw: st.DrawFn, data: bytes, donors: Sequence[Seed]) -> tuple[bytes, str]:
    start, end = _span(draw, data)
    return data[:start] + data[end:], f"delete [{start}:{end}]"


def duplicate(draw: st.DrawFn, data: bytes, donors: Sequence[Seed]) -> tuple[bytes, str]:
    start, end = _span(draw, data, 1024)
    at = _at(draw, data)
    return data[:at] + data[start:end] + data[at:], f"copy [{start}:{end}] to {at}"


def splice(draw: st.DrawFn, data: bytes, donors: Sequence[Seed]) -> tuple[bytes, str]:
    donor, how = _pick(draw, donors), _pick(draw, _SPLICES)
    if how in ("append", "prepend"):
        joined = data + donor.data if how == "append" else donor.data + data
        return joined, f"{how} {donor.origin}"
    start, end = _span(draw, donor.data, 2048)
    piece, at = donor.data[start:end], _at(draw, data)
    tail = data[at + len(piece) :] if how == "overwrite" else data[at:]
    return data[:at] + piece + tail, f"{how} {donor.origin}[{start}:{end}] at {at}"


def field(draw: st.DrawFn, data: bytes, donors: Sequence[Seed]) -> tuple[bytes, str]:
    found = fields_in(data)
    if not found:
        return flip(draw, data, donors)
    at, width, order, what = _pick(draw, found)
    top = (1 << (8 * width)) - 1
    special = (0, 1, top, top >> 1, (top >> 1) + 1, len(data), len(data) + 1)
    choice = draw(_ANY)
    value = (special[choice % 8] if choice % 8 < len(special) else choice * 2654435761) & top
    raw = value.to_bytes(width, "big" if order == "big" else "little")
    return data[:at] + raw + data[at + width :], f"set {what} at {at} to {value:#x}"


def number(draw: st.DrawFn, data: bytes, donors: Sequence[Seed]) -> tuple[bytes, str]:
    found = list(islice(_NUMBER.finditer(data), 4096))
    if not found:
        return insert(draw, data, donors)
    match, new = _pick(draw, found), _pick(draw, _EXTREMES)
    start, end = match.span()
    return data[:start] + new + data[end:], f"number {match.group()!r} at {start} -> {new!r}"


BYTE_MUTATORS: tuple[Mutator, ...] = (flip, overwrite, truncate, insert, insert, delete,
                                      duplicate, splice, field, field, number)  # fmt: skip


def _read_zip(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes]] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if not infos or len(infos) > MAX_MEMBERS:
                return None
            return [(info, archive.read(info)) for info in infos]
    except Exception:  # damaged already (zipfile raises a dozen types), or encrypted
        return None  # then the whole file is damaged as bytes


def member(draw: st.DrawFn, data: bytes, donors: Sequence[Seed]) -> tuple[bytes, str]:
    """Damage one member of a zip, and rebuild the zip around it (names, order, methods kept)."""
    found = _read_zip(data)
    if found is None:
        return _pick(draw, BYTE_MUTATORS)(draw, data, donors)
    index = draw(_ANY) % len(found)
    info, content = found[index]
    steps = []
    for _ in range(1 + draw(_BIT) % 2):
        content, step = _pick(draw, BYTE_MUTATORS)(draw, content, donors)
        steps.append(step)
    try:
        return _rebuilt(found, index, content), f"in member {info.filename}: {', '.join(steps)}"
    except (ValueError, NotImplementedError, RuntimeError, zipfile.LargeZipFile):
        return _pick(draw, BYTE_MUTATORS)(draw, data, donors)  # cannot be rewritten


def _rebuilt(found: list[tuple[zipfile.ZipInfo, bytes]], index: int, content: bytes) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w") as archive:
        warnings.simplefilter("ignore")  # "Duplicate name": some seeds have two on purpose
        for position, (info, body) in enumerate(found):
            archive.writestr(info, content if position == index else body)
    return out.getvalue()


MUTATORS: tuple[Mutator, ...] = (*BYTE_MUTATORS, member, member)
_STEPS = st.integers(1, MAX_STEPS)


@st.composite
def mutants(draw: st.DrawFn, seeds: Sequence[Seed], donors: Sequence[Seed] = ()) -> Sample:
    """A seed from ``seeds`` damaged by one to `MAX_STEPS` mutations; splices take bytes from
    ``donors`` (every seed when empty: other formats' bytes)."""
    seed = _pick(draw, seeds)
    data, steps = seed.data, []
    for _ in range(draw(_STEPS)):
        data, step = _pick(draw, MUTATORS)(draw, data, donors or seeds)
        steps.append(step)
    return Sample(seed, tuple(steps), data)
