"""How many bytes a PDF's streams decode to, counted within a limit: the check made before the
file is given to a reader that inflates streams with no limit of its own (PDFium, whose text
layer `sensitive.pdf` reads).

Every stream the raw scan finds (`pdfraw`: every definition, object and cross-reference
streams included, and streams only the cross-reference reaches) is decoded through the filters
PDFium decodes, and the output counted, not kept: FlateDecode, LZWDecode, RunLengthDecode,
ASCIIHexDecode and ASCII85Decode, in order, up to the first other filter (a picture codec:
PDFium hands such data on still encoded, and decodes it only to draw it). FlateDecode data is
read from the stream's start past its end when zlib asks for more, so that a reader taking
another /Length cannot decode more than was counted. The answer is None, and the file is not
known to be safe, when the total passes the limit or when anything is not read here: an
encrypted file, a filter that is not a name, data a filter rejects, a limit of the raw scan, a
``stream`` keyword outside every stream found, or an inline image (``BI`` ... ``ID``) with a
filter other than ASCIIHex or ASCII85 in a stream that is not an image XObject (PDFium decodes
inline pictures to find their end).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from io import BytesIO
from typing import Any, cast

from pypdf import apply_configuration
from pypdf.errors import PyPdfError
from pypdf.filters import ASCII85Decode, ASCIIHexDecode, LZWDecode, RunLengthDecode
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, read_object

from attachguard.formats.pdfraw import RawObject, scan_pdf_objects
from attachguard.formats.pypdf_limits import limited

__all__ = ["decoded_size"]

_CHUNK = 1 << 22  # bytes of output inflated at a time, counted and dropped
_FLATE = ("/FlateDecode", "/Fl")
_OTHERS: dict[str, Any] = {
    "/LZWDecode": LZWDecode,
    "/LZW": LZWDecode,
    "/RunLengthDecode": RunLengthDecode,
    "/RL": RunLengthDecode,
    "/ASCIIHexDecode": ASCIIHexDecode,
    "/AHx": ASCIIHexDecode,
    "/ASCII85Decode": ASCII85Decode,
    "/A85": ASCII85Decode,
}
_DECODERS = {*_FLATE, *_OTHERS}
_WS = rb"[\x00\t\n\f\r ]*"
_DELIMITERS = frozenset(b"\x00\t\n\f\r ()<>[]{}%/")
_KEYWORD = re.compile(rb"stream(?=[\x00\t\n\f\r ()<>\[\]{}%/]|\Z)")  # a word of its own
_D = rb"[\x00\t\n\f\r ()<>\[\]{}%/]"
# An inline image: "BI", its dictionary, "ID"; a filter other than ASCII hex or base-85 in it
_INLINE = re.compile(_D + rb"BI" + _D + rb"(.{0,4096}?)" + _D + rb"ID" + _D, re.DOTALL)
_INLINE_KEEPS = {b"/AHx", b"/A85", b"/ASCIIHexDecode", b"/ASCII85Decode"}
_INLINE_FILTER = re.compile(rb"/F(?:ilter)?[\x00\t\n\f\r ]*(\[[^\]]*\]|/[A-Za-z0-9]+)")
_OVERLAP = 4200  # bytes of one piece of output searched again with the next
_PLAIN_FILTER = re.compile(
    rb"/Filter" + _WS + rb"(/[A-Za-z0-9]+|\[" + _WS + rb"((?:/[A-Za-z0-9]+" + _WS + rb")*)\])"
)
_IMAGE = re.compile(rb"/Subtype[\x00\t\n\f\r ]*/Image(?![A-Za-z0-9])")
_ERRORS = (PyPdfError, ValueError, LookupError, TypeError, AttributeError, RecursionError,
           ArithmeticError, NotImplementedError, zlib.error)  # fmt: skip


class _Unknown(Exception):
    """The stream cannot be counted here, or its count passes the limit."""


class _Detached:
    """What pypdf's parser needs of a reader to parse one object on its own."""

    strict = True


def decoded_size(data: bytes, limit: int) -> int | None:
    """The bytes the streams of ``data`` decode to, added up; None when that passes ``limit``
    or cannot be told (see the module docstring)."""
    layout = scan_pdf_objects(data, max_expanded=limit)
    if not layout.complete or layout.encrypted:
        return None
    streams = [obj for obj in layout.objects if obj.stream is not None]
    if not _keywords_found(data, streams):
        return None
    view = memoryview(data)
    total = 0
    try:
        for obj in streams:
            total += _stream_size(view, obj, limit - total)
    except _Unknown:
        return None
    return total


def _keywords_found(data: bytes, streams: list[RawObject]) -> bool:
    """Whether every ``stream`` keyword lies in a stream found (its data or just before)."""
    spans = sorted(cast(tuple[int, int], obj.stream) for obj in streams)
    index = 0
    for match in _KEYWORD.finditer(data):
        start = match.start()
        if start and data[start - 1] not in _DELIMITERS:
            continue  # "endstream", or a longer word
        while index < len(spans) and spans[index][1] < start:
            index += 1
        if index == len(spans):
            return False
        span_start = spans[index][0]
        if start < span_start and data[match.end() : span_start].strip(b" \r\n"):
            return False
    return True


def _inline_filtered(text: bytes | memoryview) -> bool:
    """Whether ``text`` draws an inline image whose data PDFium would have to decode."""
    for match in _INLINE.finditer(text):
        if b"#" in match[1]:
            return True  # a name spelt with escapes
        for value in _INLINE_FILTER.findall(match[1]):
            if set(re.findall(rb"/[A-Za-z0-9]+", value)) - _INLINE_KEEPS:
                return True
    return False


def _filters(body: bytes) -> tuple[list[str], bool]:
    """A stream's filters in order, and whether it is an image XObject."""
    plain = b"#" not in body and b"(" not in body and body.count(b"<<") == 1
    if plain and body.count(b"/Filter") <= 1:
        match = _PLAIN_FILTER.search(body)
        image = _IMAGE.search(body) is not None
        if match is None:
            if b"/Filter" in body:
                raise _Unknown
            return [], image
        names = match[2] if match[2] is not None else match[1]
        return [name.decode() for name in re.findall(rb"/[A-Za-z0-9]+", names)], image
    try:
        info = read_object(BytesIO(body.strip()), cast(Any, _Detached()))
    except _ERRORS as exc:
        raise _Unknown from exc
    if not isinstance(info, DictionaryObject):
        raise _Unknown
    value = info.get("/Filter")
    values = list(value) if isinstance(value, ArrayObject) else [] if value is None else [value]
    if not all(isinstance(v, NameObject) for v in values):
        raise _Unknown
    return [str(v) for v in values], info.get("/Subtype") == "/Image"


def _stream_size(view: memoryview, obj: RawObject, left: int) -> int:
    start, end = cast(tuple[int, int], obj.stream)
    filters, image = _filters(obj.body)
    filters = [name for name in filters if name != "/Crypt"]  # PDFium skips it
    # PDFium stops at any other filter: it hands the data on as a picture's, still encoded
    read = next((i for i, name in enumerate(filters) if name not in _DECODERS), len(filters))
    filters = filters[:read]
    if not filters or end <= start:
        if not image and _inline_filtered(view[start:end]):
            raise _Unknown
        return 0
    if filters[0] in _FLATE and len(filters) == 1:
        return _inflated_size(view, start, end, left, image)
    out = bytes(view[start:end])
    for name in filters:
        out = _decoded(name, out, left)
    if not image and _inline_filtered(out):
        raise _Unknown
    return len(out)


def _decoded(name: str, data: bytes, left: int) -> bytes:
    """One filter's output, within ``left`` bytes."""
    if name in _FLATE:  # a zlib stream inside another filter's output
        try:
            out = zlib.decompressobj().decompress(data, left + 1)
        except zlib.error as exc:
            raise _Unknown from exc
        if len(out) > left:
            raise _Unknown
        return out
    try:
        with apply_configuration(limited(left + 1)):
            out = _OTHERS[name].decode(data)
    except _ERRORS as exc:
        raise _Unknown from exc
    out = out.encode("latin-1") if isinstance(out, str) else out
    if len(out) > left:
        raise _Unknown
    return out


def _inflated_size(view: memoryview, start: int, end: int, left: int, image: bool) -> int:
    """The bytes a zlib stream at ``start`` inflates to; past ``end`` when it asks for more."""
    inflater = zlib.decompressobj()
    size, tail = 0, b""
    try:
        for piece in _pieces(view, start, end):
            data: bytes | memoryview = piece
            while data and not inflater.eof:
                out = inflater.decompress(data, _CHUNK)
                size += len(out)
                if size > left:
                    raise _Unknown
                if not image and _inline_filtered(tail + out):
                    raise _Unknown
                tail, data = out[-_OVERLAP:], inflater.unconsumed_tail
            if inflater.eof:
                break
    except zlib.error as exc:
        raise _Unknown from exc
    return size


def _pieces(view: memoryview, start: int, end: int) -> Iterator[memoryview]:
    yield view[start:end]
    for offset in range(end, len(view), _CHUNK):
        yield view[offset : offset + _CHUNK]
