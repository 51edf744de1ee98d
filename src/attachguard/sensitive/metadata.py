"""The text a picture or a recording carries besides its pixels and sound.

Explorer, Photos, ExifTool and media players show EXIF and XMP descriptions and comments, a JPEG
comment, PNG text chunks, MP4 and QuickTime user data (compressed movie headers inflated), WAV
INFO. Rather than a reader per format and tag, every run of text in the file's bytes is taken:
printable ASCII anywhere; outside the media data (a JPEG's scans, a PNG's image data, an MP4's
``mdat``, a WAV's ``data``: noise, and most of the bytes; a HEIF picture's ``mdat`` holds its
EXIF and XMP items and is read, a movie's text tracks' samples too) also runs in UTF-8,
UTF-16LE (EXIF's XPComment), UTF-16BE (a big-endian EXIF's UserComment) and Windows-1252 (RIFF
INFO's code page) of the characters a number is written with beside ASCII: Latin-1, the general
punctuation block (no-break, narrow and thin spaces, dashes, invisible joiners), the ideographic
space, the byte-order mark and the fullwidth forms (a red team wrote card numbers with no-break
spaces and fullwidth digits, which an ASCII run split into pieces too short to be one), and
other scripts' digits (Arabic-Indic, Persian, Devanagari) and tabs. And a PNG's compressed text
chunks, inflated; XML's character references decoded where a run holds one (an XMP or iXML
viewer shows what they spell); XMP packets parsed, in UTF-8, UTF-16 or UTF-32."""

from __future__ import annotations

import contextlib
import functools
import html
import io
import re
import struct
from collections.abc import Sequence

from PIL import Image

from attachguard.formats import bmff, id3, jpeg, movietext, png, riff
from attachguard.sensitive.markup import ExpatError, xml_text
from attachguard.sensitive.passages import Passage

__all__ = ["metadata"]

_MIN = 13  # characters: the shortest card number's length
# (a tab too: ExifTool shows tab-separated groups as a number's; red team 109)
_ASCII_RUN = re.compile(rb"[\t\x20-\x7e]{%d,}" % _MIN)
# Digits of other scripts a card number is written with (Arabic-Indic, Persian, Devanagari),
# which the card finder reads as digits (red team 109: an Arabic EXIF comment)
_RUNS = {
    "utf-8": (
        rb"(?:[\t\x20-\x7e]|\xc2[\xa0-\xbf]|\xc3[\x80-\xbf]|\xe2\x80[\x80-\xbf]|\xe2\x81[\x80-\xaf]"
        rb"|\xe3\x80\x80|\xef\xbb\xbf|\xef\xbc[\x81-\xbf]|\xef\xbd[\x80-\x9e]"
        rb"|\xd9[\xa0-\xa9]|\xdb[\xb0-\xb9]|\xe0\xa5[\xa6-\xaf])"
    ),
    "utf-16-le": (
        rb"(?:[\t\x20-\x7e\xa0-\xff]\x00|[\x00-\x6f]\x20|\x00\x30|\xff\xfe|[\x01-\x5e]\xff"
        rb"|[\x60-\x69\xf0-\xf9]\x06|[\x66-\x6f]\x09)"
    ),
    "utf-16-be": (
        rb"(?:\x00[\t\x20-\x7e\xa0-\xff]|\x20[\x00-\x6f]|\x30\x00|\xfe\xff|\xff[\x01-\x5e]"
        rb"|\x06[\x60-\x69\xf0-\xf9]|\x09[\x66-\x6f])"
    ),
    # RIFF INFO and old EXIF strings, in the system's code page: of its letters beyond ASCII
    # only what a number is written with (a no-break space, a soft hyphen, dashes); all of
    # 0xA0-0xFF took a JPEG's segment markers and lengths for text, joining 7 MB of XMP in one
    "cp1252": rb"[\x20-\x7e\x96\x97\xa0\xad]",
}
_WIDE_RUNS = {
    codec: re.compile(rb"%s{%d,}" % (unit, _MIN), re.DOTALL) for codec, unit in _RUNS.items()
}


# HEIF and AVIF pictures keep their EXIF and XMP items in mdat, beside the image's (every
# brand libheif reads: a 'hevx' picture's UTF-16 XPComment was read as video's; red team 112)
_ITEM_BRANDS = bmff.HEIF_BRANDS | {b"avif", b"avis"}


def metadata(data: bytes) -> list[Passage]:
    """The runs of text in ``data`` (see the module docstring), and in its compressed movie
    headers (``cmov``: QuickTime and FFmpeg inflate them and show their titles; red team
    112), a QuickTime movie's user data in Mac Roman (red team 114), as one passage."""
    movies = bmff.compressed_movies(data) if bmff.walk(data) is not None else []
    runs = _runs(data, _outside_media(data, movies))
    for movie in movies:
        runs += _runs(movie, [(0, len(movie))])
    runs += _mac_strings(data, movies)
    inflated = _png_text(data)
    runs += inflated
    runs += _xmp(data)
    runs += _xmp("\n".join(inflated).encode())  # XMP in a compressed chunk (red team 113)
    runs += _wav_tags(data)
    runs += _exif_texts(data)
    # XML's character references, as an XMP or iXML viewer shows them (red team 109)
    runs += [html.unescape(run) for run in runs if "&#" in run]
    return [Passage("\n".join(runs), where="metadata")] if runs else []


def _runs(data: bytes, outside: list[tuple[int, int]]) -> list[str]:
    """The runs of printable ASCII in ``data``, and of the wider characters in the spans
    ``outside`` its media data."""
    runs = [m.group().decode("ascii") for m in _ASCII_RUN.finditer(data)]
    for start, end in outside:
        for codec, pattern in _WIDE_RUNS.items():
            runs += [
                text
                for m in pattern.finditer(data, start, end)
                if not (text := m.group().decode(codec, "replace")).isascii()
                or codec.startswith("utf-16")
            ]
    return runs


def _outside_media(data: bytes, movies: Sequence[bytes] = ()) -> list[tuple[int, int]]:
    """The spans of ``data`` outside its media data, where metadata lies; the whole file when
    its structure is not one of these. ``movies``: its compressed movie headers, inflated."""
    skipped = sorted(_media_spans(data, movies))
    spans, pos = [], 0
    for start, end in skipped:
        if start > pos:
            spans.append((pos, start))
        pos = max(pos, end)
    return [*spans, (pos, len(data))] if pos < len(data) else spans


def _media_spans(data: bytes, movies: Sequence[bytes]) -> list[tuple[int, int]]:
    """The media data of a JPEG, PNG, ISO media file or WAV: scans, image data, ``mdat``
    (less its text tracks' samples, those of ``movies`` too), ``data``."""
    if data.startswith(b"\xff\xd8"):
        walked = jpeg.walk(data)
        end = walked.end if walked is not None and walked.end is not None else len(data)
        return [] if walked is None else [(walked.header_end, end)]
    if data.startswith(b"\x89PNG"):
        return [(c.start, c.end) for c in png.walk(data).chunks if c.kind in (b"IDAT", b"fdAT")]
    if (media := bmff.walk(data)) is not None and data[8:12] not in _ITEM_BRANDS:
        media_data = [(box.payload, box.end) for box in media.boxes if box.kind == b"mdat"]
        return _without(media_data, movietext.text_samples(data, media, movies))
    if (wave := riff.walk(data)) is not None:  # the audio: the first data chunk (polyglot's)
        audio = next((c for c in wave.chunks if c.kind == b"data"), None)
        return [] if audio is None else [(audio.start, audio.end)]
    return []


def _mac_strings(data: bytes, movies: list[bytes]) -> list[str]:
    """A QuickTime movie's user data strings in a Macintosh language, in Mac Roman as FFmpeg
    and ExifTool decode them (`movietext.user_strings`), its compressed movie headers' too."""
    layouts = [(source, bmff.walk(source)) for source in (data, *movies)]
    return [
        text.decode("mac_roman")
        for source, layout in layouts
        if layout is not None
        for text in movietext.user_strings(source, layout)
    ]


# An XMP packet's root, under any prefix (readers go by its namespace: red team 113 wrote
# <m:xmpmeta> and <r:RDF>): x:xmpmeta, or a bare rdf:RDF
_XMP_ROOT = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?)(xmpmeta|RDF)[\s>/]")
_MOST_PACKETS = 16  # XMP packets read in one file (a JPEG has one, a Photoshop file a few)


def _xmp_packets(data: bytes) -> list[str]:
    """The text of the XMP packets in ``data``, found by their root element (``xmpmeta``, or
    ``RDF`` outside one; any prefix) as XMP's packet scanning finds them, as a viewer lists it
    (`markup.xml_text`: CDATA sections joined, comments left out; ExifTool showed a number a
    CDATA section split, red team 112); a packet that does not parse is read as the file's
    bytes are."""
    texts: list[str] = []
    at = 0
    for _ in range(_MOST_PACKETS):
        root = _XMP_ROOT.search(data, at)
        if root is None:
            break
        closing = b"</" + root.group(1) + root.group(2) + b">"
        end = data.find(closing, root.start())
        if end < 0:
            break
        with contextlib.suppress(ExpatError, ValueError):
            texts.append(xml_text(data[root.start() : end + len(closing)]))
        at = end + len(closing)
    return texts


# The encodings an XMP packet may be written in besides UTF-8 (the XMP spec's packet wrapper;
# ExifTool reads them all: red team 114's UTF-32 packets, its UTF-16 ones split by CDATA)
_WIDE_XMP = ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
_PREFIX_UNITS = 64  # characters before a root's name searched for its "<" (its prefix)


def _xmp(data: bytes) -> list[str]:
    """The text of the XMP packets in ``data``, in UTF-8 (or single bytes) and in the wide
    encodings."""
    return _xmp_packets(data) + [text for codec in _WIDE_XMP for text in _wide_xmp(data, codec)]


def _wide_xmp(data: bytes, codec: str) -> list[str]:
    """The XMP packets in ``data`` written in ``codec`` (whatever the byte-order mark says, or
    none), each found by its root's name as encoded, from the root's "<" to its closing name,
    transcoded to UTF-8 and read as `_xmp_packets` reads one. Each name is searched for once
    from where the last packet ended: linear."""
    lt = "<".encode(codec)
    hits = _next_hits(data, {name.encode(codec): -1 for name in ("xmpmeta", "RDF")}, 0)
    texts: list[str] = []
    at = 0
    for _ in range(_MOST_PACKETS):
        if not hits:
            break
        hit, name = min((hit, name) for name, hit in hits.items())
        end = data.find(name + ">".encode(codec), hit + len(lt))
        if end < 0:
            del hits[name]  # nor does a later one close
            continue
        start = data.rfind(lt, max(at, hit - _PREFIX_UNITS * len(lt)), hit)
        at = hit + len(name) if start < 0 else end + len(name) + len(lt)
        if start >= 0:
            texts += _xmp_packets(data[start:at].decode(codec, "replace").encode())
        hits = _next_hits(data, hits, at)
    return texts


def _next_hits(data: bytes, hits: dict[bytes, int], at: int) -> dict[bytes, int]:
    """Where each name is found next from ``at`` (a hit past it kept); those not found left out."""
    found = {name: hit if hit >= at else data.find(name, at) for name, hit in hits.items()}
    return {name: hit for name, hit in found.items() if hit >= 0}


_XP_TAGS = frozenset(range(0x9C9B, 0x9CA0))  # Windows' title, comment, author, keywords, subject
_USER_COMMENT = 0x9286
_EXIF_IFD = 0x8769
_DAMAGED_EXIF = (OSError, ValueError, SyntaxError, TypeError, KeyError, IndexError, struct.error)


def _exif_texts(data: bytes) -> list[str]:
    """A JPEG's, PNG's, WebP's or TIFF's EXIF strings read tag by tag (Pillow), each by its
    count as ExifTool and Explorer show it: a string written without its NUL ran into the next
    tag's value in a run of bytes ("...1111Alice"; red team 112). Windows' XP tags in UTF-16,
    the user comment after its character code."""
    if not data.startswith((b"\xff\xd8", b"\x89PNG", b"RIFF", b"II*\0", b"MM\0*")):
        return []
    try:
        with Image.open(io.BytesIO(data)) as image:
            exif = image.getexif()
            tags = {**dict(exif), **dict(exif.get_ifd(_EXIF_IFD))}
    except (*_DAMAGED_EXIF, Image.DecompressionBombError):
        return []
    big = exif.endian != "<"
    return [text for tag, value in tags.items() if (text := _exif_text(tag, value, big))]


def _exif_text(tag: int, value: object, big: bool) -> str:
    if isinstance(value, str):
        return value.rstrip("\0")
    if not isinstance(value, bytes):
        return ""
    if tag in _XP_TAGS:
        return value.decode("utf-16-le", "replace").rstrip("\0")
    if tag == _USER_COMMENT:
        return _user_comment(value, big).rstrip("\0 ")
    return ""


def _user_comment(value: bytes, big: bool) -> str:
    """EXIF's user comment as ExifTool reads it (``ConvertExifText``) by its character code:
    "UNICODE" in UTF-16 (`_utf16`), "JIS" in JIS X 0208 (`_jis`; red team 114's fullwidth
    number), "ASCII" or none up to its first NUL; any other code is text itself. ``big``: the
    EXIF's byte order."""
    code, text = value[:8], value[8:]
    if re.fullmatch(rb"UNICODE[\0 ]", code):
        return _utf16(text, big)
    if re.fullmatch(rb"JIS[\0 ]{5}", code):
        return _jis(text, big)
    if re.match(rb"(?:ASCII)?(?:\0|[\0 ]+$)", code):
        return _legacy(text.split(b"\0", 1)[0])
    return _legacy(value)


def _utf16(text: bytes, big: bool) -> str:
    """UTF-16 as ExifTool reads a comment: by its byte-order mark; without one in the EXIF's
    byte order, unless the other order looks likelier (more distinct values in the bytes
    taken as high, or as many and those taken as low more often zero): Microsoft Photo writes
    little-endian comments in big-endian EXIF."""
    if text[:2] in (b"\xfe\xff", b"\xff\xfe"):
        return text[2:].decode("utf-16-be" if text[:2] == b"\xfe\xff" else "utf-16-le", "replace")
    high, low = (text[0::2], text[1::2]) if big else (text[1::2], text[0::2])
    if len(set(high)) > len(set(low)) or (
        len(set(high)) == len(set(low)) and low.count(0) > high.count(0)
    ):
        big = not big
    return text.decode("utf-16-be" if big else "utf-16-le", "replace")


def _jis(text: bytes, big: bool) -> str:
    """JIS X 0208 as ExifTool reads a JIS comment: two bytes a character, in the EXIF's byte
    order or, when that leaves more of them unknown, in the other; a value that is no JIS
    character is shown as that code point (ExifTool's way: 00 34 is "4")."""
    pairs = text[: len(text) & ~1]
    swapped = bytearray(len(pairs))
    swapped[0::2], swapped[1::2] = pairs[1::2], pairs[0::2]
    readings = [_jis_reading(order) for order in ((pairs, swapped) if big else (swapped, pairs))]
    return min(readings, key=lambda reading: reading[1])[0]


def _jis_reading(pairs: bytes | bytearray) -> tuple[str, int]:
    """Big-endian JIS X 0208 values, read; and how many were no JIS character."""
    table, chars, unknown = _jis_table(), [], 0
    for at in range(0, len(pairs), 2):
        value = int.from_bytes(pairs[at : at + 2], "big")
        char = table.get(value)
        if char is None:
            unknown += 1
            char = "\ufffd" if 0xD800 <= value < 0xE000 else chr(value)
        chars.append(char)
    return "".join(chars), unknown


@functools.cache
def _jis_table() -> dict[int, str]:
    """JIS X 0208's characters by value (row and cell from 0x21 to 0x7E)."""
    table = {}
    for value in (row << 8 | cell for row in range(0x21, 0x7F) for cell in range(0x21, 0x7F)):
        with contextlib.suppress(UnicodeDecodeError):
            table[value] = (b"\x1b$B" + value.to_bytes(2, "big")).decode("iso2022_jp")
    return table


def _legacy(text: bytes) -> str:
    """Bytes of no declared encoding: UTF-8 when they are, else Latin-1."""
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        return text.decode("latin-1")


_TAG_LIMIT = 8 << 20  # bytes of compressed ID3 frames inflated in one file


def _wav_tags(data: bytes) -> list[str]:
    """A WAV's INFO values and ID3 tag (an ``id3 `` chunk, or after the RIFF data) read field
    by field, by their sizes, as players and ExifTool read them: a value written without its
    NUL ran into the next field's identifier in a run of bytes ("...1111ISFT", "...1111COMM"),
    and an ID3 frame compressed with zlib is inflated (red team 112). RF64 and BW64 too (red
    team 114: an RF64 recording's tags were not read)."""
    wave = riff.walk(data)
    if wave is None:
        return []
    texts: list[str] = []
    for chunk in wave.chunks:
        body = data[chunk.start : chunk.end]
        if chunk.kind == b"LIST" and body[:4] == b"INFO":
            texts += [_info_value(value) for value in _info_values(body)]
        elif chunk.kind in (b"id3 ", b"ID3 ") and body[:3] == b"ID3":
            texts += id3.texts(body, _TAG_LIMIT)
    if data[wave.end : wave.end + 3] == b"ID3":
        texts += id3.texts(data[wave.end :], _TAG_LIMIT)
    return texts


def _info_values(body: bytes) -> list[bytes]:
    """The values of an INFO list (after "INFO": an identifier, a size, the value, a pad
    byte to an even length), each by its size."""
    values, pos = [], 4
    while pos + 8 <= len(body):
        size = int.from_bytes(body[pos + 4 : pos + 8], "little")
        values.append(body[pos + 8 : pos + 8 + size])
        pos += 8 + size + (size & 1)
    return values


def _info_value(value: bytes) -> str:
    """An INFO value: up to its NUL, in UTF-8 when it is, else in the system's code page."""
    value = value.split(b"\0", 1)[0]
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("cp1252", "replace")


_PNG_TEXT_LIMIT = 8 << 20  # bytes of a PNG's compressed text chunks inflated, in all


def _without(spans: list[tuple[int, int]], kept: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` less the parts in ``kept`` (a movie's text samples, read as metadata is: its
    subtitles lie among the frames; red team 112)."""
    out = []
    for start, end in spans:
        for keep_start, keep_end in sorted(k for k in kept if k[0] < end and k[1] > start):
            if keep_start > start:
                out.append((start, keep_start))
            start = max(start, keep_end)
        if start < end:
            out.append((start, end))
    return out


def _png_text(data: bytes) -> list[str]:
    """A PNG's compressed text chunks (zTXt, compressed iTXt), inflated as ExifTool reads
    them, each after its keyword, whatever their language tag (`_png_decoded`: Pillow dropped
    a chunk whose tag or text was not UTF-8 whole; red team 112), up to
    `_PNG_TEXT_LIMIT` bytes in all. Plain ones are read as the file's bytes are."""
    if not data.startswith(b"\x89PNG"):
        return []
    texts, budget = [], _PNG_TEXT_LIMIT
    for chunk in png.walk(data).chunks:
        if chunk.kind not in (b"zTXt", b"iTXt") or budget <= 0:
            continue
        payload = data[chunk.start : chunk.end]
        inflated = png.inflate(chunk.kind, payload, budget)
        if inflated is None:
            continue  # not compressed, or a stream no reader can inflate
        budget -= len(inflated[0])
        keyword = payload.partition(b"\0")[0].decode("latin-1")
        texts.append(f"{keyword}: {_png_decoded(inflated[0], chunk.kind)}")
    return texts


def _png_decoded(text: bytes, kind: bytes) -> str:
    """A text chunk's text: an iTXt's in UTF-8, or in Latin-1 when it is not UTF-8 (as a
    writer that ignored the rule wrote it), a zTXt's in Latin-1."""
    if kind == b"iTXt":
        try:
            return text.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return text.decode("latin-1")
