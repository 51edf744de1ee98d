"""Polyglot engine: data hidden inside or after an image, a PDF, a video, a WAV or a document.

A file that is two things at once (a picture that is also a ZIP, a PDF with a program after its
end) passes a check that only looks at the front. This engine walks the format's structure as
its reader does (JPEG segments and entropy-coded scans, so an EXIF thumbnail's own end marker is
skipped; PNG chunks to IEND; GIF blocks to the trailer; the last ``%%EOF`` of a PDF; the chain
of top-level boxes of MP4, QuickTime and HEIC; the chunks of a WAV, whatever sizes its headers
claim: formats/jpeg, png, gif, bmff, riff) and reports POLYGLOT, naming what it found and where
with its offset, for:

- anything after the end ("ZIP archive hidden after the end of the JPEG image"; after a WAV,
  but the ID3 tags audio taggers append there, searched as the rest is: `_audio_tags`);
- a program, an archive, a PDF, a script or HTML (formats/payloads) in any part a reader skips:
  every JPEG segment (comments, APPn metadata) and the stray bytes between segments, every PNG
  chunk but the picture data (text inflated), every GIF extension, every box of a media file
  but its media data, every WAV chunk but its audio ("Windows program hidden in the comment
  segment of the JPEG image"). Media data whose size is a placeholder or runs past the end of
  the file is searched too: its size says nothing about what follows the media;
- a ZIP anywhere in an image, what cameras append after it included (zipscan's
  ``find_embedded_zip``: end records, zip64 ones through their locator, and local entries),
  in a searched part of a media file, or whose end record lies in a video's or PDF's last
  64 KiB (zipscan's ``zip_at_end``: a zip64 one through its locator too; whatever counts or
  disk numbers the end records give, as zipfile, 7-Zip and Info-ZIP read past them); "%PDF-"
  in an image's first KiB; anything before "%PDF-" in a PDF but a prologue viewers skip
  (`_harmless_prologue`: a tool's printed lines, a print ticket, an AppleSingle header);
- a disc image laid over the file (formats/payloads ``disc_image``: an ISO 9660 or UDF volume
  descriptor from offset 0x8000, a UDF anchor at sector 256), which 7-Zip opens as a disc
  whatever the extension ("ISO 9660 disc image laid over the JPEG image");
- in a legacy Office file (.doc, .xls, .ppt), a program, an archive, a PDF, a script or HTML
  after its last allocated sector, and a program in its free sectors (formats/oleslack: no
  reader reads either; free sectors may hold stale pieces of the document, so only programs
  count there); in an RTF document, the same after the brace that closes it (formats/rtfend:
  Word stops there). Unrecognisable bytes there are tolerated (old writers leave them).

Not reported: padding (NUL, 0xFF, whitespace) of any length, which carries no file, nor up to
``_SHORT_TAIL`` bytes after it that look like nothing (Word pads thumbnails to four bytes), nor
the slack of the buffer PowerPoint writes an Office package's thumbnail from (`_buffer_slack`:
what is left of its last blocks, searched for payloads like any skipped part); the
thumbnails, ICC profiles, XMP and other pictures that metadata legitimately holds; and what
phone cameras legitimately append to a JPEG: extra JPEG images (Ultra HDR gain maps, multi-picture
files) and a motion-photo MP4, when the main image's metadata declares them (MPF or the XMP
container), and a well-formed Samsung "SEFT" trailer. Those parts are handed back as children,
so the other engines still scan them; the trailers are searched whole here (block names and
directories too), and a motion-photo video's boxes but its media data (Magika may call a video
of an unknown brand "unknown", and then no engine walks it). A structure too broken to walk
is the image engine's business (CORRUPT); this engine then only runs the ZIP check. Compressed
PNG text that expands past 8 MiB (``polyglot_layouts.TEXT_LIMIT``) is ARCHIVE_EXPANSION. A file
Magika calls "zip" is walked as the image or media it starts as. Nor a ZIP that lies whole in
a raw stream a PDF declares (`_declared_in_pdf`: an attached file, its ``/EF`` read as pypdf
reads it; a Hybrid PDF's or an ONLYOFFICE form's source that is judged or inert): the ZIP as
unzip reads it is handed back as a child, since the pdf engine may extract other bytes.

A video or HEIC image whose media a player fetches from outside the file (a QuickTime reference
movie, a data reference to a URL, a share or a path: formats/bmff ``outside_references``) is
EXTERNAL_LINK; a compressed movie header that inflates past 8 MiB, ARCHIVE_EXPANSION.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable

from attachguard.codes import ARCHIVE_EXPANSION, EXTERNAL_LINK, Action, declare
from attachguard.engines import polyglot_layouts as _pl
from attachguard.engines.base import (
    Child,
    Context,
    EngineSpec,
    Item,
    Options,
    Result,
    finding,
)
from attachguard.engines.filetype_scripts import reads_as_script
from attachguard.engines.office_objects import odf_inert
from attachguard.engines.polyglot_layouts import Layout
from attachguard.formats import bmff, id3, jpeg
from attachguard.formats.oleslack import slack
from attachguard.formats.payloads import Region, disc_image, find_payloads
from attachguard.formats.pdfraw import PdfLayout, names_in, outside_strings, scan_pdf_objects
from attachguard.formats.rtfend import rtf_end
from attachguard.formats.zipscan import find_embedded_zip, zip_at_end

POLYGLOT = declare(
    "POLYGLOT",
    "threat",
    Action.REJECT,
    "data hidden inside or after an image, a PDF or a media file",
    "This file has hidden data attached to it, so it wasn't shared.",
)

_PADDING = b"\x00\xff \t\r\n\x0c"
_DECLARES_MORE = (b"MPF\x00", b"Container:Directory", b"GContainer", b"MotionPhoto",
                  b"MicroVideo", b"hdrgm:")  # fmt: skip
_SIGNATURES = (
    (b"PK\x03\x04", "ZIP archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"MZ", "Windows program"),
    (b"\x7fELF", "Linux program"),
    (b"%PDF-", "PDF document"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"GIF8", "GIF image"),
    (b"#!", "script"),
    (b"<?php", "PHP script"),
)
_MARKUP = (b"<html", b"<script", b"<svg", b"<!doctype", b"<?xml", b"<body", b"<iframe")
_GENERIC = frozenset({"zip"})  # labels under which an image or a video may hide (see _format)
_STARTS = (
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"%PDF-", "pdf"),
)
_SHORT_TAIL = 24  # bytes after the end too few to hold a file (see _harmless_tail)
# what a few bytes of tag or server-page script start with: <?= <% <a <!
_SHORT_MARKUP = re.compile(rb"<[?%!/A-Za-z]")
# The parts PowerPoint writes from a buffer (see _buffer_slack): the package thumbnail, media
_BUFFERED = re.compile(r"docprops/thumbnail\.jpeg|(?:ppt|word)/media/[^/]+")
_BLOCK = 1024  # PowerPoint's buffer grows in whole KiB
_SMALL_SLACK = 4096  # bytes of buffer slack always allowed; 2,966 of 21,504 seen (oletools)
_MAX_SLACK = 32 << 10  # bytes of buffer slack at most; 11,035 of a 32 KiB thumbnail seen
_SECTOR = 512  # Panasonic writes MPF images at, and pads the file to, whole sectors
_PICTURES = frozenset({"jpeg", "png", "gif"})
_PREVIEW = b"\xd8\xff\xdb"  # a preview whose first byte the camera wrote wrong (Minolta)
_WHAT = {
    "jpeg": "JPEG image",
    "png": "PNG image",
    "gif": "GIF image",
    "pdf": "PDF",
    "heif": "HEIC image",
    "mp4": "MP4 video",
    "qt": "QuickTime video",
    "3gp": "3GP video",
    "wav": "WAV audio",
}


def pdf_end(data: bytes) -> int | None:
    """Offset just past the last ``%%EOF`` (None when there is none)."""
    at = data.rfind(b"%%EOF")
    return None if at < 0 else at + 5


def _recognised(blob: bytes) -> str | None:
    """What a run of bytes is, in words, when it starts like a known file or holds an archive
    in its first MiB; None for unrecognisable data."""
    for magic, what in _SIGNATURES:
        if blob.startswith(magic):
            return what
    if blob[4:8] == b"ftyp":
        return "video"
    if blob[:64].lstrip().lower().startswith(_MARKUP):
        return "HTML or script markup"
    for magic, what in _SIGNATURES[:3]:
        if magic in blob[: 1 << 20]:
            return what
    return None


def tar_header(data: bytes) -> bool:
    """Whether the file's first 512 bytes are a tar header a tar reader takes: the checksum at
    148 (octal digits) is the sum of the header's bytes with that field as blanks, unsigned or
    signed (POSIX ustar; 7-Zip's tar detection checks it, with no magic needed). 7-Zip and
    tar then list the archive's files behind the picture's first bytes."""
    if len(data) < 512:
        return False
    digits = data[148:156].strip(b" \x00")
    if not digits or any(c < 0x30 or c > 0x37 for c in digits):
        return False
    stored = int(digits, 8)
    header = data[:148] + b" " * 8 + data[156:512]
    signed = sum(c - 256 if c > 127 else c for c in header)
    return stored in (sum(header), signed)


def describe(blob: bytes) -> str:
    """What a run of bytes looks like, in words (never its content)."""
    return _recognised(blob) or f"{len(blob):,} bytes of data"


def zip_inside(data: bytes) -> int | None:
    """Where the ZIP archive unzip opens in ``data`` starts: the one whose end record lies in
    the last 64 KiB and leads to a directory, zip64 ones through their locator and whatever
    their counts say (zipscan's ``zip_at_end``)."""
    span = zip_at_end(data)
    return None if span is None else span[0]


def _skip_padding(data: bytes, pos: int) -> int:
    rest = data[pos:]
    after = pos + len(rest) - len(rest.lstrip(_PADDING))
    # Padding bytes also begin real structures: give back the 0xFF of a JPEG's FF D8, or the
    # zero high bytes of an MP4 box size.
    if after > pos and data[after - 1 : after + 1] == b"\xff\xd8":
        return after - 1
    for back in range(1, min(4, after - pos + 1)):
        if data[after - back + 4 : after - back + 8] == b"ftyp":
            return after - back
    return after


def _harmless_tail(data: bytes, pos: int) -> bool:
    """Whether the data after the end, from ``pos`` (padding skipped), is too short to carry a
    file and looks like none: Word pads docProps/thumbnail.jpeg to a multiple of four bytes
    with 1 to 3 leftover bytes (25 of 47 python-docx test documents), Ghostscript repeats the
    End Of Image marker (2 bytes), LibreOffice copies 17 bytes past a JPEG it carries from a
    .doc or .ppt into OOXML. No program, archive or page fits in ``_SHORT_TAIL`` bytes;
    a short script or tag does, and ``_recognised`` names those."""
    tail = data[pos:]
    return (
        len(tail) <= _SHORT_TAIL
        and _recognised(tail) is None
        and _SHORT_MARKUP.search(tail) is None
    )


def _buffer_slack(item: Item, end: int, pos: int) -> bool:
    """Whether the data after the end of a picture is what PowerPoint leaves after a picture
    it writes into an Office package from a buffer of whole KiB: the package thumbnail
    (docProps/thumbnail.jpeg) and the pictures of a presentation (ppt/media), and Word 2007's
    too (word/media: Apache Tika's testWORD_embeded.docx, a 4,096-byte JPEG with 2,252 bytes of
    slack; Excel's media have shown none, so theirs stays POLYGLOT). The rest of the buffer after
    the image is zeros or leftover memory (130 PowerPoint 2007-2010 files of Open-XML-SDK's
    and others' tests: up to 11,035 bytes of a 32,768-byte thumbnail, 577 of a 3,072-byte
    ppt/media/image1.png, never half the part). Nothing reads those bytes: a picture's readers
    decode it to its end marker. Only those members of a package, a whole number of KiB long,
    with at most ``_SMALL_SLACK`` bytes after the image or, in a larger part, at most half of
    it (a buffer that grew at most twofold) up to ``_MAX_SLACK``; and those bytes are searched
    for programs, archives, PDFs, scripts and HTML like any part a reader skips (`_walked`)."""
    size, slack = len(item.data), len(item.data) - end
    return (
        item.depth > 0
        and _BUFFERED.fullmatch(item.name.lower()) is not None
        and size % _BLOCK == 0
        and slack <= min(max(_SMALL_SLACK, size // 2), _MAX_SLACK)
        and pos < size
    )


def _format(label: str, data: bytes) -> str:
    """The format to walk: the detected label, or for a label that says nothing about images
    (Magika calls a picture with a large appended archive "zip"), the format the content
    starts with."""
    if label not in _GENERIC:
        return label
    for magic, found in _STARTS:
        if data.startswith(magic):
            return found
    if data[8:12] == b"WAVE" and data[:4] in (b"RIFF", b"RF64", b"BW64"):
        return "wav"
    return "mp4" if data[4:8] == b"ftyp" else label


def _ends_only(end: Callable[[bytes], int | None]) -> Callable[[bytes], Layout]:
    return lambda data: Layout(end(data))


_LAYOUTS: dict[str, Callable[[bytes], Layout]] = {
    "jpeg": _pl.jpeg_layout,
    "png": _pl.png_layout,
    "gif": _pl.gif_layout,
    "pdf": _ends_only(pdf_end),
    "heif": _pl.bmff_layout,
    "mp4": _pl.bmff_layout,
    "qt": _pl.bmff_layout,
    "3gp": _pl.bmff_layout,
    "wav": _pl.riff_layout,
}


# Documents whose readers skip room the polyglot walk cannot see: what they are, in words.
_DOCUMENTS = {
    "doc": "Word document",
    "xls": "Excel workbook",
    "ppt": "PowerPoint presentation",
    "rtf": "RTF document",
}
_PROGRAMS = ("Windows program", "Linux program", "possible Windows program")


def _document_slack(data: bytes, label: str) -> list[tuple[Region, str, bool]]:
    """The regions of a document its reader skips: (region, where, programs only)."""
    if label == "rtf":
        end = rtf_end(data)
        return [] if end is None else [(Region(end, len(data)), "after the end", False)]
    found = slack(data)
    if found is None:
        return []
    regions = [(Region(a, b), "in unused sectors", True) for a, b in found.free]
    return [*regions, (Region(found.end, len(data)), "after the end", False)]


def _document_payloads(data: bytes, label: str) -> list[tuple[str, int]]:
    """Payloads in what a document's reader skips (see the module docstring)."""
    regions = [r for r in _document_slack(data, label) if r[0].end > r[0].start]
    hits = find_payloads(data, [region for region, _, _ in regions], zips=True)
    found = []
    for i, hit in sorted(hits.items()):
        _, where, programs_only = regions[i]
        if programs_only and not hit.what.startswith(_PROGRAMS):
            continue
        found.append((f"{hit.what} hidden {where} of the {_DOCUMENTS[label]}", hit.offset))
    return found


def _slack_payload(
    data: bytes, slack: Region, what: str, anything: bool = True
) -> list[tuple[str, int]]:
    """A program, an archive, a PDF, a script or HTML in slack a writer leaves after the end
    (a buffer's rest, see `_buffer_slack`; sector padding, see `_camera_extras`), or in a
    trailer's metadata (``anything`` False: a picture there is no payload), reported as
    anything after the end would be."""
    if anything and (named := _recognised(data[slack.start : slack.end])) is not None:
        return [(f"{named} hidden after the end of the {what}", slack.start)]
    hits = find_payloads(data, [slack], zips=True)
    return [(f"{hit.what} hidden after the end of the {what}", hit.offset) for hit in hits.values()]


def _zip_at_end(data: bytes, what: str, found: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """A ZIP whose end record lies in the last 64 KiB (what unzip opens), unless found already."""
    at = zip_inside(data)
    if at is None or any(offset == at for _, offset in found):
        return []
    return [(f"ZIP archive hidden inside the {what}", at)]


_WS = rb"[\x00\t\n\f\r ]"
_REGULAR = rb"[^\x00\t\n\f\r ()<>\[\]{}/%]"
# the tokens that matter for the shape of a dictionary: a hex string is one token, so that
# what it spells is no syntax (literal strings and comments are blanked before)
_TOKEN = re.compile(
    rb"<<|>>|<[^<>]*>|\[|\]|(?P<ref>\d{1,10})" + _WS + rb"+\d{1,5}" + _WS + rb"+R(?!" + _REGULAR
    + rb")|(?P<name>/" + _REGULAR + rb"*)|" + _REGULAR + rb"+"
)  # fmt: skip
_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


def _ef_values(body: bytes, ef: bool = False) -> tuple[set[int], set[int]]:
    """The objects the ``/EF`` dictionaries in ``body`` name as top-level values, and the
    objects ``/EF`` names by reference (a dictionary given elsewhere), as pypdf reads them
    (`pdf_active._attached_files`: only the values of /EF that are references, not those in an
    array or a nested dictionary); strings, comments and hex strings are no syntax. With
    ``ef``, ``body`` is itself an /EF dictionary."""
    direct: set[int] = set()
    indirect: set[int] = set()
    stack: list[bool] = []  # per open dictionary or array: whether it is an /EF dictionary
    after_ef = ef
    for token in _TOKEN.finditer(outside_strings(body)):
        text = token[0]
        if text in (b"<<", b"["):
            stack.append(after_ef and text == b"<<")
        elif text in (b">>", b"]"):
            del stack[-1:]
        elif token["ref"] is not None and after_ef:
            indirect.add(int(token["ref"]))
        elif token["ref"] is not None and stack and stack[-1]:
            direct.add(int(token["ref"]))
        after_ef = token["name"] is not None and _ESCAPE.sub(_unescape, text) == b"/EF"
    return direct, indirect


def _unescape(match: re.Match[bytes]) -> bytes:
    return bytes.fromhex(match[1].decode())


def _attached(layout: PdfLayout) -> set[int]:
    """The objects the file specifications' ``/EF`` dictionaries name (given there, or by a
    reference to one, every definition of it read): the attached files the pdf engine
    extracts and scans, whatever their stream's dictionary says (its ``/Type`` is optional)."""
    direct: set[int] = set()
    indirect: set[int] = set()
    for obj in layout.objects:
        if b"/E" in obj.body:  # /EF, or spelt with escapes (/E#46)
            found = _ef_values(obj.body)
            direct |= found[0]
            indirect |= found[1]
    for obj in layout.objects:
        if obj.number in indirect:
            direct |= _ef_values(obj.body, ef=True)[0]
    return direct


_ADDITIONAL = re.compile(rb"/AdditionalStreams[\x00\t\n\f\r ]*\[([^\]]{0,4096})\]")
_REFERENCE = re.compile(rb"(\d{1,10})[\x00\t\n\f\r ]+\d{1,5}[\x00\t\n\f\r ]+R")


def _declared_zip(data: bytes, hit: tuple[str, int], children: list[Child]) -> bool:
    return hit[0].startswith("ZIP archive") and _declared_in_pdf(data, hit[1], children)


def _declared_in_pdf(data: bytes, start: int, children: list[Child]) -> bool:
    """Whether the ZIP from ``start`` to its end record lies whole in the data of one stream
    the PDF declares, stored raw (no filter: the bytes are the content; not in an encrypted
    file, where they are not), and the end record unzip reads (the file's last) in one too: an
    attached file (a stream an ``/EF`` names as pypdf reads it, `_attached`, or typed
    ``/EmbeddedFile``: pypdf's and fpdf2's attachments), the editable source LibreOffice's
    "Hybrid PDF" names in its trailer's ``/AdditionalStreams`` (LibreOffice opens it instead),
    or an ONLYOFFICE form's (``/Type /MetaOForm``); a source only when its own engines judge it
    or it runs and loads nothing (`_handed_on`). Then the ZIP as unzip reads it (from
    ``start`` up to the file's last end record) is handed on as a child, the stream a source
    is in too: what unzip sees is scanned whatever the pdf engine extracts (review 104: pypdf
    takes an attachment's length from the cross-reference table, which may cut it short)."""
    end = dict(find_embedded_zip(data)).get(start)
    if end is None:
        eocd = data.find(b"PK\x05\x06", start)
        if eocd < 0 or eocd + 22 > len(data):
            return False
        end = _record_end(data, eocd)
    layout = scan_pdf_objects(data)
    if layout.encrypted:
        return False  # the stream's bytes are not its content: what unzip sees is unscanned
    last = data.rfind(b"PK\x05\x06")
    holders = [
        _declared(data, layout, at, at_end, children)
        for at, at_end in ((start, end), (last, last + 22))
    ]
    if not all(holders):
        return False
    archive = data[start : max(end, _record_end(data, last))]
    if all(child.data != archive for child in children):
        children.append(
            Child(f"ZIP archive at offset {start} of the PDF, as unzip reads it", archive)
        )
    return True


def _record_end(data: bytes, at: int) -> int:
    """Where the end record at ``at`` ends with its comment (at most the end of ``data``)."""
    return min(len(data), at + 22 + int.from_bytes(data[at + 20 : at + 22], "little"))


def _declared(data: bytes, layout: PdfLayout, start: int, end: int, children: list[Child]) -> bool:
    """Whether ``start`` to ``end`` lies in a declared raw stream (see `_declared_in_pdf`),
    a source's stream handed on once."""
    holder = next(
        (o for o in layout.objects if o.stream and o.stream[0] <= start and end <= o.stream[1]),
        None,
    )
    if holder is None or holder.stream is None or holder.container is not None:
        return False
    names = names_in(holder.body)
    if "/Filter" in names or "/DecodeParms" in names:
        return False
    source = data[holder.stream[0] : holder.stream[1]]
    if holder.number in _additional(data, layout):
        # LibreOffice opens it instead of the PDF, whatever its dictionary says
        where = f"the PDF's additional stream (object {holder.number}, its editable source)"
    elif "/MetaOForm" in names:  # ONLYOFFICE's form: its editable source
        where = f"the PDF form's source (object {holder.number}, ONLYOFFICE's)"
    else:
        return "/EmbeddedFile" in names or holder.number in _attached(layout)
    if not _handed_on(source):
        return False
    if all(child.where != where for child in children):
        children.append(Child(where, source))
    return True


_TRAILER = re.compile(rb"trailer(.{0,65536}?)startxref", re.DOTALL)


def _additional(data: bytes, layout: PdfLayout) -> set[int]:
    """The objects a trailer's ``/AdditionalStreams`` names (a classic trailer, or a
    cross-reference stream's dictionary), its strings left out."""
    trailers = [m[1] for m in _TRAILER.finditer(data)]
    trailers += [o.body for o in layout.objects if "/XRef" in names_in(o.body)]
    named = b"".join(m[1] for t in trailers for m in _ADDITIONAL.finditer(outside_strings(t)))
    return {int(m[1]) for m in _REFERENCE.finditer(named)}


_RELS = re.compile(rb"""Type[\x00\t\n\f\r ]*=[\x00\t\n\f\r ]*["'][^"']*/officeDocument["']""")
# where OpenDocument keeps macros and dialogs, and the lists of its libraries
_ODF_CODE = ("basic/", "scripts/", "dialogs/")
_ODF_LIBRARIES = frozenset({"script-lc.xml", "script-lb.xml", "dialog-lc.xml", "dialog-lb.xml"})
_RELS_MAX = 1 << 20  # bytes of _rels/.rels read


def _handed_on(source: bytes) -> bool:
    """Whether a PDF's editable source may be handed on as a child rather than be hidden: an
    Office Open XML package (`_ooxml`: its own engines judge it, macros and links included),
    or else an OpenDocument one that runs nothing and loads nothing from elsewhere
    (`office_objects.odf_inert`: the zip engine judges only its code)."""
    try:
        with zipfile.ZipFile(io.BytesIO(source)) as archive:
            if _ooxml(archive):
                return True
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError,
            RuntimeError):  # fmt: skip
        return False
    return odf_inert(source)


def _ooxml(archive: zipfile.ZipFile) -> bool:
    """Whether a package is Office Open XML and nothing of OpenDocument: a content types part,
    a package relationship to an office document, and no ``mimetype``, manifest or macro
    folder (review 104: a [Content_Types].xml added to an OpenDocument text with a Basic
    library passed it unjudged; LibreOffice opens it by its manifest)."""
    names = {name.lower(): name for name in archive.namelist()}
    if "[content_types].xml" not in names or "_rels/.rels" not in names:
        return False
    if "mimetype" in names or "meta-inf/manifest.xml" in names:
        return False
    if any(name.startswith(_ODF_CODE) or name in _ODF_LIBRARIES for name in names):
        return False
    with archive.open(names["_rels/.rels"]) as rels:
        return _RELS.search(rels.read(_RELS_MAX)) is not None


class PolyglotEngine:
    """Finds data hidden after (or inside) images, PDFs, videos and WAVs; see the module doc."""

    name = "polyglot"

    def __init__(self) -> None:
        pass

    def version(self) -> str:
        return "attachguard polyglot 1"

    def scan(self, item: Item, context: Context) -> Result:
        data, label = item.data, _format(item.type.label, item.data)
        if label in _DOCUMENTS:
            hidden = _document_payloads(data, label)
            return Result(
                [finding(self.name, POLYGLOT, m, location=f"offset {at}") for m, at in hidden]
            )
        what = _WHAT.get(label)
        if what is None:
            return Result()
        found: list[tuple[str, int]] = []  # (message, offset)
        children: list[Child] = []
        if label == "pdf":
            begin = data.find(b"%PDF-")
            prefix = data[:begin] if begin > 0 else b""
            if prefix.strip(_PADDING + b"\xef\xbb\xbf") and not _harmless_prologue(prefix):
                found.append((f"{describe(prefix)} hidden before the start of the PDF", 0))
        elif (at := data.find(b"%PDF-", 0, 1024)) >= 0:
            found.append((f"PDF document hidden inside the {what}", at))
        if tar_header(data):
            found.append((f"tar archive laid over the start of the {what}", 0))
        if disc := disc_image(data):
            found.append((f"{disc.what} laid over the {what}", disc.offset))
        layout = _LAYOUTS[label](data)
        reported = {offset for _, offset in found}
        found += [
            hit for hit in self._walked(item, label, layout, children) if hit[1] not in reported
        ]
        findings = [
            finding(self.name, POLYGLOT, message, location=f"offset {offset}")
            for message, offset in found
        ]
        findings += [
            finding(self.name, code, message, location=f"offset {offset}")
            for code, message, offset in layout.notes
        ]
        return Result(findings, children)

    def _walked(
        self, item: Item, label: str, layout: Layout, children: list[Child]
    ) -> list[tuple[str, int]]:
        """What the walk of the format shows: data after its end (reported whole, past what
        cameras declare), payloads in its parts, ZIP archives inside it: anywhere but in data
        reported whole, so in what cameras append too (unzip finds an archive by its end
        record wherever it lies)."""
        data, what, end = item.data, _WHAT[label], layout.end
        pos = len(data) if end is None else _skip_padding(data, end)
        slack: list[tuple[Region, bool]] = []
        if label == "jpeg" and end is not None and pos < len(data):
            pos = _camera_extras(data, end, pos, children, slack)
        tail, whole = _tail(item, label, layout, pos)
        found = list(tail)
        for region, anything in slack:
            found += _slack_payload(data, region, what, anything)
        inside = _pl.hidden_inside(data, layout, what, pos if whole else len(data))
        # what lies after the end is named once: by the tail's finding, when it has one
        found += [hit for hit in inside if not (tail and hit[1] >= pos)]
        if not whole and not layout.whole:
            found += _zip_at_end(data, what, found)
        if label == "pdf" and any(message.startswith("ZIP") for message, _ in found):
            found = [hit for hit in found if not _declared_zip(data, hit, children)]
        return _once(found)


def _tail(item: Item, label: str, layout: Layout, pos: int) -> tuple[list[tuple[str, int]], bool]:
    """What lies after the end, from ``pos`` (past what cameras declare), and whether it was
    reported whole: a buffer's slack is searched, a harmless tail tolerated, anything else
    reported whole."""
    data, what, end = item.data, _WHAT[label], layout.end
    if label in _PICTURES and end is not None and _buffer_slack(item, end, pos):
        return _slack_payload(data, Region(pos, len(data)), what), False
    if pos < len(data) and not _harmless_tail(data, pos):
        if label == "wav" and _audio_tags(data[pos:]):
            # what a tag's frames hold is searched as a buffer's slack is (red team 108)
            return _slack_payload(data, Region(pos, len(data)), what, anything=False), False
        return [(f"{describe(data[pos:])} hidden after the end of the {what}", pos)], True
    return [], False


# A prologue viewers skip (they look for "%PDF-" in the first 1,024 bytes) that is no file: a
# few lines of text a tool printed (hunt 101: Ghostscript's banner captured with its output, a
# print shop's job ticket), or an AppleSingle header whose data fork is the PDF
_PROLOGUE = 1024
_PROLOGUE_TEXT = re.compile(rb"[\t\n\r\x20-\x7e]*")
_APPLE_SINGLE = b"\x00\x05\x16\x00"


def _harmless_prologue(prefix: bytes) -> bool:
    """Whether the bytes before a PDF's header are a prologue no reader takes for a file: under
    1,024 bytes, and printable ASCII text without markup: comment lines only, or none with a
    script's evidence (`filetype_scripts.reads_as_script`); or an AppleSingle header (its
    entries' table, the data fork entry pointing at the header)."""
    if len(prefix) >= _PROLOGUE:
        return False
    if prefix.startswith(_APPLE_SINGLE):
        return _apple_single_fork(prefix) == len(prefix)
    if not _PROLOGUE_TEXT.fullmatch(prefix) or b"<" in prefix or _recognised(prefix):
        return False
    lines = [line.strip() for line in prefix.splitlines() if line.strip()]
    if any(line[:1] in (b"=", b"+", b"-", b"@") for line in lines):
        return False  # a spreadsheet's formula (review 105: a CSV's DDE line before a PDF)
    if all(line.startswith(b"%") for line in lines):
        return True  # comments, as a PDF's and a print job's header lines are (%%SK_...: ...)
    return not any(reads_as_script(label, prefix) for label in _PROLOGUE_SCRIPTS)


_PROLOGUE_SCRIPTS = ("batch", "powershell", "shell", "javascript", "vba")


# AppleSingle's entries that only describe the file (its real name, a comment, dates, Finder,
# Macintosh, ProDOS, MS-DOS and AFP information), each at most this long
_APPLE_METADATA = frozenset({3, 4, 8, 9, 10, 11, 12, 13, 14, 15})
_APPLE_ENTRY_MAX = 256


def _apple_single_fork(header: bytes) -> int | None:
    """Where an AppleSingle header's data fork (entry 1) starts; None without one, or when
    another entry is no short description of the file (review 105: a "resource fork" before
    the PDF held a program)."""
    if len(header) < 26:
        return None
    fork = None
    count = int.from_bytes(header[24:26], "big")
    for at in range(26, 26 + 12 * count, 12):
        if at + 12 > len(header):
            return None
        entry, offset, length = struct.unpack_from(">III", header, at)
        if entry == 1:
            fork = offset
        elif length and (entry not in _APPLE_METADATA or length > _APPLE_ENTRY_MAX):
            return None  # (an empty resource fork, as the Mac writes it, holds nothing)
    return fork


def _audio_tags(tail: bytes) -> bool:
    """Whether what follows a WAV's RIFF data is only the tags audio taggers append there, as
    they do to an MP3 (Mp3tag, foobar2000; hunt 100's recording): an ID3v2 tag whose header's
    size covers it, then or alone an ID3v1 tag (128 bytes from "TAG"; 227 more before it from
    "TAG+", the enhanced tag). Players read them as tags; what they hold is still searched
    for payloads and archives as the rest of the file is."""
    if tail[:3] == b"ID3" and len(tail) >= 10 and not any(b & 0x80 for b in tail[6:10]):
        footer = 10 if tail[5] & 0x10 else 0
        size = 10 + id3.synchsafe(tail[6:10]) + footer
        if size > len(tail) or (footer and tail[size - 10 : size - 7] != b"3DI"):
            return False  # a tag cut short, one claiming what follows it, a footer that is none
        if not _plain_frames(tail[: size - footer]):
            return False
        tail = tail[size:]
    if tail[:4] == b"TAG+" and len(tail) == 227 + 128:
        tail = tail[227:]
    return not tail or (len(tail) == 128 and tail[:3] == b"TAG")


def _plain_frames(tag: bytes) -> bool:
    """Whether an ID3v2.3 or 2.4 tag's frames hold their content as it is, so that a search of
    its bytes sees it (review 105: a zlib-compressed frame hid a ZIP): no unsynchronisation or
    extended header, no frame compressed or encrypted; padding after the frames."""
    version, flags = tag[3], tag[5]
    if version not in id3.CODED or flags & 0xC0:
        return False
    found, end = id3.frames(tag)
    if any(frame.flags & id3.CODED[version] for frame in found):
        return False
    return end <= len(tag) and not tag[end:].strip(b"\x00")


def _once(found: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """The findings, one per offset: the first kept (two searches may find one ZIP)."""
    kept: dict[int, str] = {}
    for message, offset in found:
        kept.setdefault(offset, message)
    return [(message, offset) for offset, message in kept.items()]


class _Declared:
    """What the main JPEG's metadata says follows it: MPF or XMP containers, the offsets of
    MPF's other images, and a maker note's preview image (`jpeg.exif_points_at`)."""

    def __init__(self, data: bytes, end: int) -> None:
        walked = jpeg.walk(data)
        self.data, self.walked = data, walked
        header = data[: walked.header_end if walked else 0]
        self.more = any(tag in header for tag in _DECLARES_MORE)
        self.mpf = (
            [] if walked is None else [a for a, _ in jpeg.mpf_parts(data, walked) if a >= end]
        )

    def preview_at(self, offset: int) -> bool:
        return self.walked is not None and jpeg.exif_points_at(self.data, self.walked, offset)


def _part_at(found: _Declared, pos: int, stop: int) -> tuple[str, bytes, int] | None:
    """The part a camera declares at ``pos`` (what, bytes, where it ends), else None: an
    image MPF or XMP declares, or a maker note's preview (its first byte possibly wrong, as
    Minolta writes it and ExifTool repairs it: "\\xd8\\xff\\xdb" follows), or a video XMP
    declares."""
    data = found.data
    if data.startswith(b"\xff\xd8\xff", pos) and (
        found.more or pos in found.mpf or found.preview_at(pos)
    ):
        part_end = jpeg.jpeg_end(data, pos, stop)
        return None if part_end is None else ("extra image", data[pos:part_end], part_end)
    for start in (pos - 1, pos):  # the wrong first byte, a zero, may have been skipped as padding
        if data.startswith(_PREVIEW, start + 1) and found.preview_at(start):
            repaired = b"\xff" + data[start + 1 : stop]
            size = jpeg.jpeg_end(repaired)
            return None if size is None else ("preview image", repaired[:size], start + size)
    if found.more and data[pos + 4 : pos + 8] == b"ftyp":
        part_end = bmff.bmff_end(data, pos, stop)
        return None if part_end is None else ("motion-photo video", data[pos:part_end], part_end)
    return None


def _video_parts(data: bytes, pos: int, part: tuple[str, bytes, int]) -> list[Region]:
    """The parts a player skips of a motion-photo video at ``pos`` (every box but its media
    data, formats/bmff), searched from here: the child is a video by its boxes whatever its
    brand, but Magika may call it "unknown" (a red team's "xvid" brand), and then no engine
    walks it as one."""
    if part[0] != "motion-photo video":
        return []
    return [
        Region(pos + p.region.start, pos + p.region.end) for p in _pl.bmff_layout(part[1]).parts
    ]


# bytes a camera leaves before a part its metadata places: before a maker note's preview,
# Minolta's Z5 3 and Olympus' u1020 20 (hunt 104: leftovers, 1f 0f 0f 0f ... 2f 1f 0f 0f,
# neither zeros nor 0xFF); before an MPF image, which follows sector padding (`_sector_slack`)
_FILLER, _MPF_FILLER = 64, 16
_FILLER_TEXT = re.compile(rb"[\x20-\x7e]{8}")  # a run of text, as a command or a tag needs


def _declared_after(found: _Declared, pos: int, stop: int) -> int | None:
    """Where, a few bytes after ``pos``, a part begins that the metadata places at that very
    offset (a maker note's preview, an MPF image) and that reads as one; None otherwise, and
    when the bytes before it carry text or look like a file (`_camera_filler`)."""
    for at in range(pos + 1, min(pos + _FILLER, stop) + 1):
        placed = found.preview_at(at) or (at in found.mpf and at - pos <= _MPF_FILLER)
        if placed and _part_at(found, at, stop) is not None:
            return at if _camera_filler(found.data[pos:at]) else None
    return None


def _camera_filler(filler: bytes) -> bool:
    """Whether the bytes a camera left before a part it declares look like nothing: no run of
    eight printable characters, no tag, nothing that starts like a file. Cameras leave binary
    leftovers; a script or a command needs text, and the bytes are searched for payloads too."""
    return (
        _FILLER_TEXT.search(filler) is None
        and _SHORT_MARKUP.search(filler) is None
        and _recognised(filler) is None
    )


def _sector_slack(found: _Declared, pos: int, stop: int) -> int | None:
    """Where sector padding that starts at ``pos`` ends, in a multi-picture file: what is
    left of a 512-byte sector before an MPF image at its declared offset or before the end
    (Panasonic's LX7: 448 bytes of leftover image rows before its second image, 426 after
    it). None for anything else."""
    target = next((a for a in found.mpf if a >= pos), stop)
    if found.mpf and target % _SECTOR == 0 and 0 < target - pos < _SECTOR:
        return target
    return None


def _camera_extras(
    data: bytes, end: int, pos: int, children: list[Child], slack: list[tuple[Region, bool]]
) -> int:
    """Past what cameras and photo tools append after the main image (see module doc):
    declared parts, sector padding (added to ``slack`` to search: True, for anything at all,
    as after the end), then the trailers read
    from the end (formats/jpeg ``trailers``). Returns where the unexplained data starts
    (``len(data)`` when everything is accounted for)."""
    stop, blocks = jpeg.trailers(data, end)
    found = _Declared(data, end)
    while pos < stop:
        part = _part_at(found, pos, stop)
        if part is not None:
            children.append(Child(f"{part[0]} at offset {pos}", part[1]))
            slack += [(region, False) for region in _video_parts(data, pos, part)]
            pos = _skip_padding(data, part[2])
        elif (sector_end := _sector_slack(found, pos, stop)) is not None:
            slack.append((Region(pos, sector_end), True))
            pos = sector_end
        elif (declared := _declared_after(found, pos, stop)) is not None:
            slack.append((Region(pos, declared), True))  # a camera's filler before its part
            pos = declared
        else:
            return pos
    for i, (start, block_end) in enumerate(blocks, 1):
        # depth maps, previews and videos are scanned as files too
        if block_end - start >= 4096:
            children.append(Child(f"camera trailer part {i}", data[start:block_end]))
    if stop < len(data):
        # the whole chain is searched like a segment, not only its blocks' data: a 10-byte
        # footer makes any bytes a block (a red team wrapped an archive in one), and a block's
        # name or a directory's spare room holds anything (another put a ZIP in a name)
        slack.append((Region(stop, len(data)), False))
    return len(data)


ENGINE = EngineSpec(
    name="polyglot",
    summary="data hidden inside or after an image, a PDF, a media file or a legacy document",
    # "zip": Magika's label for a picture with a large archive appended (see _format)
    types=("pdf", "jpeg", "png", "gif", "heif", "mp4", "qt", "3gp", "wav", "zip", *_DOCUMENTS),
    codes=(POLYGLOT, ARCHIVE_EXPANSION, EXTERNAL_LINK),
    build=lambda options, resources: PolyglotEngine(),
    options=Options,
    order=40,
)
