"""PDF stream filters decoded as viewers decode them, where pypdf does not.

pypdf's LZWDecode ignores its parameters (7.1: "decode_parms is unused here"): it always widens
its codes one code early (``/EarlyChange 1``, the default) and never applies a predictor.
PDFium, pdf.js and Acrobat honour both (ISO 32000-1, 7.4.4, table 8). A stream written with
``/EarlyChange 0`` can thus be made to reach an end-of-data code early for pypdf and go on for a
viewer: an object stream whose hidden objects (JavaScript on page open, a Launch action, a link
to a share) a viewer reads and pypdf never sees, or an embedded file pypdf extracts cut short.

pypdf's FlateDecode undoes a PNG or TIFF predictor with its own pixel arithmetic: a row's bytes
divided by the columns, rounded down, which is 0 for a pixel of fewer than 8 bits (1 bit, 8
columns), where PDFium, pdf.js and MuPDF take one whole byte. A red team hid JavaScript, a
Launch action and links to shares in an object stream so predicted, and a program in an
attachment: pypdf read harmless strings and noise, every viewer the payload. `flate` undoes
such predictors as the viewers do.

`lzw` decodes as ISO 32000 says, with `predicted` applying a TIFF or PNG predictor as both LZW
and Flate take one; `decode_chain` reads a stream's whole filter chain (ASCIIHex, ASCII85,
RunLength by pypdf, whose readings of those agree with viewers'; ASCII85 by pypdf where
every reader takes its bytes alike, `ascii85`; Flate by pypdf and `flate`;
LZW here). `install` gives pypdf these LZW and Flate decoders, so that every reading through
pypdf (the PDF engine's object graph, embedded files, the sensitive engine's page text) sees
what a viewer sees.

About fifty lines of the specification, written here because no maintained Python PDF library
that attachguard could use instead reads LZW's parameters (pdfminer.six does, but would be a
second PDF parser for one filter).
"""

from __future__ import annotations

from typing import Any

import pypdf.errors
import pypdf.filters
from pypdf import get_configuration
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, NullObject

__all__ = [
    "OverLimit",
    "ascii85",
    "decode_chain",
    "flate",
    "foreign_filter",
    "install",
    "lzw",
    "predicted",
    "readers_differ",
    "readings",
]

_CLEAR, _END, _MAX_WIDTH = 256, 257, 12


class OverLimit(ValueError):
    """Decoding would produce more than the limit given."""


def lzw(data: bytes, early_change: int = 1, limit: int | None = None) -> bytes:
    """``data`` LZW-decoded, codes 9 to 12 bits wide, most significant bit first; the width
    grows when the table's next entry plus ``early_change`` reaches the next power of two. Data
    that ends without an end-of-data code is taken as far as it goes, as viewers take it; a code
    past the table is a damaged stream (ValueError)."""
    out = bytearray()
    table: list[bytes] = [bytes([i]) for i in range(256)] + [b"", b""]
    width, previous = 9, b""
    bits = count = pos = 0
    early = 1 if early_change else 0
    while True:
        while count < width:
            if pos >= len(data):
                return bytes(out)
            bits = (bits << 8) | data[pos]
            pos += 1
            count += 8
        count -= width
        code = (bits >> count) & ((1 << width) - 1)
        bits &= (1 << count) - 1
        if code == _CLEAR:
            del table[_END + 1 :]
            width, previous = 9, b""
            continue
        if code == _END:
            return bytes(out)
        entry = _entry(table, code, previous)
        if previous and len(table) < 1 << _MAX_WIDTH:
            table.append(previous + entry[:1])
        out += entry
        if limit is not None and len(out) > limit:
            raise OverLimit(f"LZW data decodes to more than {limit:,} bytes")
        previous = entry
        if len(table) + early >= 1 << width and width < _MAX_WIDTH:
            width += 1


def _entry(table: list[bytes], code: int, previous: bytes) -> bytes:
    """What ``code`` stands for: a table entry, or the one about to be added (the previous
    entry and its own first byte)."""
    if code < len(table):
        return table[code]
    if code == len(table) and previous:
        return previous + previous[:1]
    raise ValueError(f"LZW code {code} past its table of {len(table)}")


def predicted(data: bytes, parms: Any) -> bytes:
    """``data`` with the predictor of the decode parameters ``parms`` undone: none (1), TIFF 2
    (8 bits per component) or PNG (10 to 15: each row's own filter type byte)."""
    if not isinstance(parms, DictionaryObject):
        return data
    predictor = _int(parms, "/Predictor", 1)
    if predictor == 1:
        return data
    colors = _int(parms, "/Colors", 1)
    bpc = _int(parms, "/BitsPerComponent", 8)
    columns = _int(parms, "/Columns", 1)
    pixel = max(1, (colors * bpc + 7) // 8)  # whole bytes, as PDFium and pdf.js count them
    row = (colors * bpc * columns + 7) // 8
    if predictor == 2:
        if bpc != 8:
            raise ValueError(f"TIFF predictor on {bpc} bits per component")
        return _tiff(data, row, pixel)
    if 10 <= predictor <= 15:
        return _png(data, row, pixel)
    raise ValueError(f"predictor {predictor}")


def decode_chain(info: DictionaryObject, raw: bytes, limit: int) -> bytes:
    """A stream's data through every filter of its ``/Filter`` chain, each with the parameters
    pypdf gives it (`_PYPDF`); ValueError for a filter not read here, OverLimit past ``limit``
    bytes."""
    return _through(_names(info), _PYPDF(info), raw, limit)


def readings(info: DictionaryObject, raw: bytes, limit: int) -> list[bytes]:
    """A stream's data as each reader decodes it, the distinct ones, pypdf's first (b"" when
    pypdf cannot decode it): readers give a chain its parameters differently (`_READERS`). A
    reading that fails is one reader seeing nothing; when every reading fails, the first
    failure is raised."""
    names = _names(info)
    found: list[bytes] = []
    failures: list[Exception] = []
    tried: list[list[Any]] = []
    for reader in _READERS:
        parms = reader(info)
        if any(_same(parms, other) for other in tried):
            continue
        tried.append(parms)
        try:
            data = _through(names, parms, raw, limit)
        except OverLimit:
            raise
        except (
            ValueError,
            ArithmeticError,
            LookupError,
            TypeError,
            pypdf.errors.PyPdfError,
        ) as exc:
            failures.append(exc)
            if reader is not _pypdf:
                continue
            data = b""  # pypdf reads nothing here: its place is kept
        if data not in found:
            found.append(data)
    if failures and not any(found):
        raise failures[0]
    return found


def foreign_filter(info: DictionaryObject) -> str | None:
    """The first filter of a stream's chain that is not read here as viewers read it, None when
    every one is (`_DATA_FILTERS`): a picture filter (CCITTFaxDecode, JBIG2Decode, DCTDecode,
    JPXDecode), a /Crypt filter, a name no reader knows, a filter given by a reference that
    cannot be followed. A viewer decodes a fax for any stream, where pypdf hands back the coded
    data in a TIFF header: a red team's object stream and attachment so encoded showed their
    JavaScript to pdf.js and MuPDF and noise to pypdf. A stream read as data (an object stream,
    an attached file) with such a filter cannot be read as the viewers read it; a picture can."""
    try:
        filters = _resolved(info.get("/Filter"))
        items = list.__iter__(filters) if isinstance(filters, ArrayObject) else [filters]
        names = [_resolved(item) for item in items if item is not None]
    except ValueError:
        return "a filter given by reference"
    for name in names:
        if not isinstance(name, NullObject) and str(name) not in _DATA_FILTERS:
            return str(name) if isinstance(name, NameObject) else "a filter that is not a name"
    return None


def readers_differ(info: DictionaryObject) -> bool:
    """Whether readers give a stream's filters different parameters (`_READERS`)."""
    first, *others = (reader(info) for reader in _READERS)
    return not all(_same(first, other) for other in others)


def _through(names: list[str], parms: list[Any], raw: bytes, limit: int) -> bytes:
    data = raw
    for name, given in zip(names, parms, strict=True):
        parm = _resolved(given)
        if name in ("/LZWDecode", "/LZW"):
            early = _int(parm, "/EarlyChange", 1) if isinstance(parm, DictionaryObject) else 1
            data = predicted(lzw(data, early, limit), parm)
        elif name in _BY_PYPDF:
            data = _BY_PYPDF[name](data, parm if isinstance(parm, DictionaryObject) else None)
        else:
            raise ValueError(f"filter {name} not read")
        if len(data) > limit:
            raise OverLimit(f"stream decodes to more than {limit:,} bytes")
    return data


def install() -> None:
    """pypdf's LZWDecode honours its parameters, and its FlateDecode counts a predictor's
    pixels as viewers do, from now on (see the module docstring)."""
    pypdf.filters.LZWDecode.decode = staticmethod(_pypdf_lzw)  # type: ignore[method-assign]
    pypdf.filters.FlateDecode.decode = staticmethod(flate)  # type: ignore[method-assign]
    pypdf.filters.ASCII85Decode.decode = staticmethod(ascii85)  # type: ignore[method-assign]


def ascii85(data: bytes | str, decode_parms: Any = None, **kwargs: Any) -> bytes:
    """ASCII85 data decoded by pypdf, unless it holds a byte that readers read differently
    (ValueError): pdf.js skips only space, tab, CR and LF and takes any other byte for a digit
    (a NUL, a form feed), PDFium stops at a NUL, pypdf and MuPDF skip every PDF blank. One NUL
    shifted every later group for pypdf alone, and pdf.js extracted an attachment pypdf read as
    noise. No writer puts such bytes in ASCII85 data."""
    text = data.encode() if isinstance(data, str) else data
    body = text.lstrip(b" \t\r\n")
    body = body[2:] if body.startswith(b"<~") else body
    if body.split(b"~", 1)[0].translate(None, _ASCII85_SHARED):
        raise ValueError("ASCII85 data with bytes readers read differently")
    return _PYPDF_ASCII85(data, decode_parms, **kwargs)


def flate(data: bytes, decode_parms: Any = None, **kwargs: Any) -> bytes:
    """Flate data decoded, its predictor undone as PDFium, pdf.js and MuPDF undo it: by pypdf
    where pypdf's arithmetic agrees with theirs, else by `predicted`. pypdf takes a pixel's
    bytes as a row's bytes divided by the columns, rounded down (0 for a pixel of fewer than 8
    bits: each byte is then added to itself), and adds a TIFF predictor's 16-bit samples byte by
    byte; the viewers take whole bytes per pixel, at least one."""
    parms = decode_parms if isinstance(decode_parms, DictionaryObject) else None
    if parms is None or _pypdf_predicts_alike(parms):
        return _PYPDF_FLATE(data, decode_parms, **kwargs)
    return predicted(pypdf.filters.decompress(data), parms)


def _pypdf_predicts_alike(parms: DictionaryObject) -> bool:
    """Whether pypdf undoes the predictor of ``parms`` as the viewers do (none, or the same
    bytes per pixel and, for TIFF, 8 bits per component)."""
    try:
        predictor = _int(parms, "/Predictor", 1)
        colors = _int(parms, "/Colors", 1)
        bpc = _int(parms, "/BitsPerComponent", 8)
        columns = max(1, _int(parms, "/Columns", 1))
    except ValueError:
        return True  # parameters no reader takes: pypdf's own error, as before
    if predictor == 1:
        return True
    theirs = max(1, (colors * bpc + 7) // 8)
    pypdfs = (columns * colors * bpc + 7) // 8 // columns
    return pypdfs == theirs and (predictor != 2 or bpc == 8)


def _pypdf_lzw(data: bytes, decode_parms: Any = None, **kwargs: Any) -> bytes:
    """pypdf's LZWDecode.decode, as ISO 32000 reads it, held to pypdf's configured limit."""
    configured = get_configuration().lzw_maximum_output_length
    early = 1
    if isinstance(decode_parms, DictionaryObject):
        early = _int(decode_parms, "/EarlyChange", 1)
    try:
        return predicted(lzw(data, early, configured or None), decode_parms)
    except OverLimit as exc:
        raise pypdf.errors.LimitReachedError(str(exc)) from exc


_PYPDF_FLATE = pypdf.filters.FlateDecode.decode
_PYPDF_ASCII85 = pypdf.filters.ASCII85Decode.decode
# what every reader takes alike in ASCII85 data: its digits, "z", and four blanks
_ASCII85_SHARED = bytes(range(0x21, 0x76)) + b"z \t\r\n"
_BY_PYPDF = {
    "/FlateDecode": flate,
    "/Fl": flate,
    "/ASCIIHexDecode": pypdf.filters.ASCIIHexDecode.decode,
    "/AHx": pypdf.filters.ASCIIHexDecode.decode,
    "/ASCII85Decode": ascii85,
    "/A85": ascii85,
    "/RunLengthDecode": pypdf.filters.RunLengthDecode.decode,
    "/RL": pypdf.filters.RunLengthDecode.decode,
}
# The filters read here as viewers read them (`_through`): every other one (`foreign_filter`)
_DATA_FILTERS = frozenset({*_BY_PYPDF, "/LZWDecode", "/LZW"})


def _names(info: DictionaryObject) -> list[str]:
    filters = info.get("/Filter")
    names = list(filters) if isinstance(filters, ArrayObject) else [filters] if filters else []
    if not all(isinstance(n, NameObject) for n in names):
        raise ValueError("a filter that is not a name")
    return [str(n) for n in names]


def _given(info: DictionaryObject, parms: Any, array_only: bool) -> list[Any]:
    """Each filter's parameters from ``parms``: an array's items in order; a dictionary for a
    filter given by its name, and for the first of an array of filters unless ``array_only``
    (PDFium and pdf.js give an array of filters parameters only from an array)."""
    names = _names(info)
    if isinstance(parms, ArrayObject):
        given = list(parms)
    elif isinstance(parms, DictionaryObject) and not (
        array_only and isinstance(info.get("/Filter"), ArrayObject)
    ):
        given = [parms]
    else:
        given = []
    return (given + [None] * len(names))[: len(names)]


def _pypdf(info: DictionaryObject) -> list[Any]:
    return _given(info, _resolved(info.get("/DecodeParms")), array_only=False)


def _pdfium(info: DictionaryObject) -> list[Any]:
    return _given(info, _resolved(info.get("/DecodeParms")), array_only=True)


def _pdfjs(info: DictionaryObject) -> list[Any]:  # dict.get("DP", "DecodeParms")
    parms = info.get("/DP") if "/DP" in info else info.get("/DecodeParms")
    return _given(info, _resolved(parms), array_only=True)


_PYPDF = _pypdf
# How each reader gives a filter chain its parameters: pypdf (a lone dictionary goes to the
# first filter), PDFium (FPDF GetDecoderArray: from an array only, for a chain), pdf.js
# (Parser.filter: /DP before /DecodeParms, from an array only for a chain).
_READERS = (_pypdf, _pdfium, _pdfjs)


def _same(first: list[Any], second: list[Any]) -> bool:
    return len(first) == len(second) and all(a is b for a, b in zip(first, second, strict=True))


def _int(parms: DictionaryObject, key: str, default: int) -> int:
    """A number parameter as PDFium reads one (GetIntegerFor): a reference followed, a real
    truncated; anything else is a stream that cannot be read (ValueError), not the default."""
    value = _resolved(parms.get(key, default))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{key} is not a number")  # noqa: TRY004  (damage, as every error here)
    return int(value)


def _resolved(value: Any) -> Any:
    """``value``, a reference followed where the reader that parsed it can (pypdf's objects);
    ValueError where it cannot (a body parsed alone): which object it names is not known."""
    if not isinstance(value, IndirectObject):
        return value
    try:
        return value.get_object()
    except Exception as exc:  # pypdf raises anything for a reference without a file
        raise ValueError("a parameter given by reference") from exc


def _tiff(data: bytes, row: int, pixel: int) -> bytes:
    out = bytearray(data)
    for start in range(0, len(out), row):
        for i in range(start + pixel, min(start + row, len(out))):
            out[i] = (out[i] + out[i - pixel]) & 0xFF
    return bytes(out)


def _png(data: bytes, row: int, pixel: int) -> bytes:
    out = bytearray()
    above = bytearray(row)
    for start in range(0, len(data), row + 1):
        kind, line = data[start], bytearray(data[start + 1 : start + 1 + row])
        if kind not in _PNG:
            raise ValueError(f"PNG predictor row type {kind}")
        guess = _PNG[kind]
        for i in range(len(line)):
            left, corner = (line[i - pixel], above[i - pixel]) if i >= pixel else (0, 0)
            line[i] = (line[i] + guess(left, above[i], corner)) & 0xFF
        out += line
        above = line.ljust(row, b"\0")
    return bytes(out)


def _paeth(left: int, up: int, corner: int) -> int:
    estimate = left + up - corner
    a, b, c = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
    return left if a <= b and a <= c else up if b <= c else corner


_PNG = {
    0: lambda left, up, corner: 0,
    1: lambda left, up, corner: left,
    2: lambda left, up, corner: up,
    3: lambda left, up, corner: (left + up) // 2,
    4: _paeth,
}
