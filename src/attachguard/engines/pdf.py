"""PDF active content: JavaScript, automatic and Launch actions, XFA forms, RichMedia and 3D
content, and attached files, which are extracted for a scan of their own.

Two readings are checked. pypdf's follows the cross-reference, as Acrobat does: every object it
lists is examined, referenced or not (payloads hide in objects nothing points to, and in object
streams), with the places a support lead can find ("page 2"). Then every object body any other
reader may take (`pdf_bodies`, from `formats.pdfraw`'s scan of the bytes in file order, the
reading a repairing viewer falls back to): both definitions of a duplicate, older revisions'
definitions (Acrobat shows a signed revision on request), objects the cross-reference leaves
out, those in any object stream, and, where a reader would look there, objects inside stream
data. Names are compared with ``#xx`` escapes decoded, so ``/J#61vaScript`` is ``/JavaScript``.
An /OpenAction or /AA whose actions only change what is shown (a page, a layer) is harmless;
any other is reported. Glyph names in fonts are names, not actions (`pdf_glyphs`).
A PDF that opens with the empty password is scanned like any other; one that needs a password
is reported ENCRYPTED. An encrypted PDF that opens without one (an owner password only: "print
only") is also handed on decrypted, as the child ``decrypted content``, for every engine to scan
(the ``decrypted`` fact names it): clamd decrypts such files itself but skips streams that have no
filter, and misreads some /Encrypt layouts (MuPDF's, in the trailer; TCPDF's AES-256 keys
order) as needing a password.

Ambiguous structure (duplicates, a cross-reference that needs repair, overlapping objects) is
not rejected by itself when every reading is clean; bytes between revisions or objects that are
no PDF syntax are POLYGLOT when they hold a program, an archive or a script (`pdf_layout`).

When an active engine wants pictures (image moderation), the pictures drawn in the PDF (image
XObjects in pypdf's reading, as many as it will look at) are returned as children too.

Limits: attached files count against ``limits.max_members`` and their decoded bytes against
``limits.max_expanded_bytes``; pypdf's own decoders, and the object streams the raw scan
unpacks, are held to the same byte limit.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from functools import partial
from io import BytesIO
from typing import TYPE_CHECKING, NamedTuple

import pypdf
from pypdf import PasswordType, PdfReader, apply_configuration
from pypdf._encryption import AlgV4, AlgV5
from pypdf.errors import DependencyError, LimitReachedError
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    PdfObject,
    StreamObject,
)

from attachguard.codes import (
    AMBIGUOUS,
    ARCHIVE_EXPANSION,
    ARCHIVE_MEMBERS,
    CORRUPT,
    DECRYPTED,
    ENCRYPTED,
    EXECUTABLE,
    EXTERNAL_LINK,
    IMAGE_BOMB,
    SCRIPT,
    Code,
)
from attachguard.engines.base import Child, Context, EngineSpec, Item, Options, Result, finding
from attachguard.engines.embedded import opened_as
from attachguard.engines.pdf_active import (
    DAMAGED,
    NAME,
    PDF_AUTO_ACTION,
    PDF_EMBEDDED_FILE,
    PDF_JAVASCRIPT,
    PDF_LAUNCH,
    PDF_RICHMEDIA,
    PDF_XFA,
    Seen,
    inspect,
    resolved,
    vouched_table,
)
from attachguard.engines.pdf_bodies import (
    XrefView,
    check_bodies,
    glyph_census,
    read_at,
    refused_filter,
)
from attachguard.engines.pdf_glyphs import Census
from attachguard.engines.pdf_layout import check_layout, page_counts_disagree
from attachguard.engines.polyglot import POLYGLOT
from attachguard.errors import LimitExceeded
from attachguard.formats import pdffilters
from attachguard.formats.inert import style_sheet_page
from attachguard.formats.pdfraw import PdfLayout, RawObject, scan_pdf_objects
from attachguard.formats.pypdf_limits import limited

if TYPE_CHECKING:
    from attachguard.policy import Limits


class _Attachment(NamedTuple):
    """An attached file: where it is, how to load it, and whether it is another definition
    of an object (not the one pypdf read)."""

    where: str
    load: Callable[[], PdfObject | None]
    again: bool = False
    names: tuple[str, ...] = ()  # every name the file is given (`pdf_active.file_names`)


class _Walked(NamedTuple):
    """What pypdf's reading listed, and the places a support lead can find."""

    listed: frozenset[tuple[int, int]]
    places: dict[int, str]


_COUNTS = (
    "PDF whose page tree declares other page counts than it holds (readers show different pages)"
)


def _over_budget() -> LimitExceeded:
    """An attached file decodes to more bytes than the scan may still unpack."""
    return LimitExceeded(ARCHIVE_EXPANSION, "attached file expands past the byte limit")


def _places(reader: PdfReader) -> tuple[dict[int, str], int]:
    """Object numbers a support lead can find ("page 2", "catalog"), and the page count."""
    places: dict[int, str] = {}
    root = reader.trailer.get("/Root")
    if isinstance(root, IndirectObject):
        places[root.idnum] = "catalog"
    for number, page in enumerate(reader.pages, 1):
        if page.indirect_reference is not None:
            places.setdefault(page.indirect_reference.idnum, f"page {number}")
        annots = resolved(page.get("/Annots"))
        for ref in annots if isinstance(annots, ArrayObject) else ():
            if isinstance(ref, IndirectObject):
                places.setdefault(ref.idnum, f"page {number}")
    return places, len(reader.pages)


def _walk(
    reader: PdfReader, places: dict[int, str], census: Census, seen: Seen
) -> frozenset[tuple[int, int]]:
    """Check every object pypdf's cross-reference lists (but glyph tables, `pdf_glyphs`);
    returns what it listed."""
    known = {(num, gen) for gen, table in reader.xref.items() for num in table}
    known |= {(num, 0) for num in reader.xref_objStm}
    # object 0 heads the free list: no reference may name it, no reader reads it (ConTeXt's
    # cross-reference streams list it as compressed); an object stream's bodies are read raw
    known = {key for key in known if key[0] != 0}
    for num, gen in sorted(known):
        where = places.get(num, f"object {num}")
        try:
            obj = reader.get_object(IndirectObject(num, gen, reader))
            if not vouched_table(obj, (num, gen), census):
                inspect(obj, num, where, seen)
        except LimitReachedError:
            seen.add(ARCHIVE_EXPANSION, "PDF content expands past the byte limit", where)
        except DAMAGED:
            seen.add(CORRUPT, "part of the PDF could not be read", where)
    inspect(reader.trailer, None, "trailer", seen)
    return frozenset(known)


def _raw_reading(
    reader: PdfReader, raw: tuple[PdfLayout, Census], walked: _Walked, limits: Limits, seen: Seen
) -> tuple[list[tuple[RawObject, tuple[str, ...]]], list[str]]:
    """Every body other readers may take (`pdf_bodies`) and the raw structure (`pdf_layout`):
    the attached files pypdf's reading left out, and the problems that only made readers
    differ."""
    layout, census = raw
    view = XrefView.of(reader, walked.listed, layout)
    budget = limits.max_expanded_bytes
    hidden = check_bodies(reader, (layout, census), view, walked.places, seen, budget)
    return hidden, check_layout(layout, seen)


def _decoded(stream: StreamObject, budget: int) -> list[bytes]:
    """The decoded bytes of an attached file, as each reader decodes it: pypdf's reading, and
    the others where readers give its filters different parameters (`pdffilters.readings`:
    a viewer saves what it decodes); `LimitExceeded` past ``budget`` bytes."""
    first = _decode(stream, budget)
    if "/Filter" not in stream:
        return [first]
    # pypdf's own reading (get_data) stops at the shorter of a chain and its parameters; the
    # readers' full chains are read too, and a failing one is only that reader seeing nothing
    try:
        with apply_configuration(limited(budget + 1)):
            found = pdffilters.readings(stream, stream._data, budget)
    except (pdffilters.OverLimit, LimitReachedError) as exc:
        raise _over_budget() from exc
    except DAMAGED:
        found = []
    readings = [first, *(data for data in found if data and data != first)]
    if sum(map(len, readings)) > budget:
        raise _over_budget()
    return readings


def _decode(stream: StreamObject, budget: int) -> bytes:
    """The decoded bytes of an attached file; `LimitExceeded` past ``budget`` bytes."""
    filters = resolved(stream.get("/Filter"))
    if isinstance(filters, ArrayObject) and len(filters) == 1:
        filters = resolved(filters[0])
    if filters == "/FlateDecode" and "/DecodeParms" not in stream:
        # pypdf bounds its inflate too, but when the output stops exactly at its limit it may
        # return it cut short instead of failing; asking for one byte more than the budget tells
        # a complete file from a truncated bomb. pypdf has no public accessor for raw bytes.
        inflater = zlib.decompressobj()
        try:
            out = inflater.decompress(stream._data, budget + 1)
        except zlib.error:
            out = None  # let pypdf's tolerant decoder try, under the same limit
        if out is not None:
            if len(out) > budget:
                raise _over_budget()
            return out
    try:
        with apply_configuration(limited(budget + 1)):
            out = stream.get_data()
    except LimitReachedError as exc:
        raise _over_budget() from exc
    if len(out) > budget:
        raise _over_budget()
    return out


def _attachments(
    seen: Seen, reader: PdfReader, hidden: list[tuple[RawObject, tuple[str, ...]]]
) -> list[_Attachment]:
    """Every attached file: pypdf's, then other definitions' (see `pdf_bodies`), each shown
    under its first name."""
    found: list[_Attachment] = []
    for num in sorted(set(seen.streams) | set(seen.refs)):
        ref, names = seen.refs.get(num, (None, ()))
        stream = seen.streams.get(num)
        where = f"attachment:{names[0] if names else f'object {num}'}"
        found.append(_Attachment(where, partial(resolved, stream or ref), names=names))
    for obj, names in hidden:
        shown = names[0] if names else f"object {obj.number}"
        where = f"attachment:{shown} (another definition, at offset {obj.offset})"
        found.append(_Attachment(where, partial(read_at, reader, obj), True, names))
    return found


def _named(attachment: _Attachment, seen: Seen, readings: list[bytes]) -> None:
    """EXECUTABLE or SCRIPT for an attached file with a name that makes Windows run it or open
    it in a browser: a reader saves it under that name and Windows opens it by its extension,
    so the name decides what it does (an SVG or a .reg file is text to a content sniffer). Every
    name the file is given counts: readers differ in which one they use. A page that only
    styles (``readings``: the file as each reader decodes it, `style_sheet_page`) is no script:
    LaTeX's tagged PDFs attach one (hunt 101)."""
    for name in attachment.names:
        if found := opened_as(name):
            code, ext = found
            if ext in _PAGES and readings and all(map(style_sheet_page, readings)):
                continue
            message = f"file attached to the PDF under a name Windows opens as '.{ext}'"
            seen.add(code, message, attachment.where)
            return


_PAGES = frozenset({"htm", "html", "xht", "xhtml"})


def _loaded(attachment: _Attachment, seen: Seen) -> StreamObject | None:
    """An attached file's stream; None for what is no stream, or cannot be read (CORRUPT)."""
    try:
        stream = attachment.load()
    except DAMAGED:
        seen.add(CORRUPT, "attached file could not be read", attachment.where)
        return None
    return stream if isinstance(stream, StreamObject) else None


def _announced(attachment: _Attachment, stream: StreamObject, seen: Seen) -> bool:
    """PDF_EMBEDDED_FILE for an attached file (what its names say: `_named`, once read); whether it
    can be read as a viewer reads it: not when a filter of its own is not read here as viewers
    read it (`pdf_bodies.refused_filter`), for what pypdf decodes then is not the file a viewer
    saves (a fax-coded attachment pypdf hands back as a TIFF picture)."""
    seen.add(PDF_EMBEDDED_FILE, "file attached to the PDF", attachment.where)
    if (refused := refused_filter(stream, "attached file")) is not None:
        seen.add(*refused, attachment.where)
        _named(attachment, seen, [])
        return False
    return True


def _extract(attachments: list[_Attachment], seen: Seen, limits: Limits) -> list[Child]:
    """Attached files as children, within the member and byte limits (another definition
    of a file with the same content as one already extracted adds nothing)."""
    children: list[Child] = []
    contents: set[bytes] = set()
    used = count = 0
    for attachment in attachments:
        where, _, again, _ = attachment
        if (stream := _loaded(attachment, seen)) is None:
            continue
        count += 1
        if count > limits.max_members:
            seen.add(
                ARCHIVE_MEMBERS,
                f"more than {limits.max_members:,} files attached to the PDF; the rest not scanned",
            )
            break
        if not _announced(attachment, stream, seen):
            continue
        try:
            contents_read = _decoded(stream, limits.max_expanded_bytes - used)
        except LimitExceeded:
            _named(attachment, seen, [])
            seen.add(
                ARCHIVE_EXPANSION,
                f"attached files expand past {limits.max_expanded_bytes:,} bytes; not scanned",
                where,
            )
            break
        except DAMAGED:
            _named(attachment, seen, [])
            seen.add(CORRUPT, "attached file could not be read", where)
            continue
        _named(attachment, seen, contents_read)
        for index, content in enumerate(contents_read):
            if index and not content:
                continue
            if not ((again or index) and content in contents):
                contents.add(content)
                used += len(content)
                shown = f"{where} (as another reader decodes it)" if index else where
                children.append(Child(where=shown, data=content))
    return children


def _sources(reader: PdfReader, seen: Seen, budget: int) -> list[Child]:
    """A LibreOffice "Hybrid PDF"'s source documents coded with a filter, decoded and handed on
    as children: the trailer's ``/AdditionalStreams`` (a media type, then a stream, in turn),
    which LibreOffice opens instead of the PDF, inflated and decrypted (review 104: an
    OpenDocument source with a macro, compressed, was never scanned). One stored raw is a ZIP
    in the PDF's bytes, which the polyglot engine hands on as unzip finds it."""
    streams = resolved(reader.trailer.get("/AdditionalStreams"))
    if not isinstance(streams, ArrayObject):
        return []
    children: list[Child] = []
    for value in list.__iter__(streams):
        stream = resolved(value)
        if not isinstance(stream, StreamObject) or "/Filter" not in stream:
            continue
        where = "LibreOffice source document"
        if (refused := refused_filter(stream, where)) is not None:
            seen.add(*refused, where)
            continue
        try:
            data = _decode(stream, budget - sum(len(child.data) for child in children))
        except LimitExceeded:
            seen.add(ARCHIVE_EXPANSION, f"{where} expands past the byte limit; not scanned")
            break
        except DAMAGED:
            seen.add(CORRUPT, f"{where} could not be read", where)
            continue
        children.append(Child(where=where, data=data))
    return children


def _pictures(seen: Seen, limits: Limits, most: int) -> list[Child]:
    """The pictures drawn in the PDF, at most ``most`` of them, as image files for image
    moderation: a JPEG as stored, anything else decoded by pypdf (under the byte limit) and
    written as PNG. The context asks for one more than moderation looks at, so that the
    pipeline can say that not all were seen."""
    children: list[Child] = []
    for num in sorted(seen.images)[:most]:
        image = seen.images[num]
        where = f"picture in object {num}"
        width, height = resolved(image.get("/Width")), resolved(image.get("/Height"))
        if not (isinstance(width, int) and isinstance(height, int)) or width * height <= 0:
            seen.add(CORRUPT, "picture in the PDF could not be read", where)
            continue
        if width * height > limits.max_image_pixels:
            message = f"picture of {width}x{height} pixels, more than allowed; not moderated"
            seen.add(IMAGE_BOMB, message, where)
            continue
        filters = resolved(image.get("/Filter"))
        try:
            if filters == "/DCTDecode" or filters == ArrayObject([NameObject("/DCTDecode")]):
                data = image._data  # the JPEG file itself; no public accessor for raw bytes
            else:
                out = BytesIO()
                image.decode_as_image().save(out, "PNG")
                data = out.getvalue()
        except (*DAMAGED, LimitReachedError, OSError, NotImplementedError, DependencyError):
            seen.add(CORRUPT, "picture in the PDF could not be read", where)
            continue
        children.append(Child(where=where, data=data))
    return children


_DECRYPTED = "decrypted content"  # where the decrypted rewrite is, as a child
_PACKAGING = ("/ObjStm", "/XRef")  # streams that only carry other objects or the xref


def _xref(offsets: dict[int, tuple[int, int]]) -> bytes:
    """A cross-reference table of ``offsets`` (number → offset, generation), one subsection per
    run of numbers: a file that uses object 9,999,999 does not get ten million entries."""
    runs: list[list[int]] = [[0]]
    for num in sorted(offsets):
        if num == runs[-1][-1] + 1:
            runs[-1].append(num)
        else:
            runs.append([num])
    out = [b"xref\n"]
    for run in runs:
        out.append(b"%d %d\n" % (run[0], len(run)))
        for num in run:
            offset, gen = offsets.get(num, (0, 65535))
            out.append(b"%010d %05d %s \n" % (offset, gen, b"f" if num == 0 else b"n"))
    return b"".join(out)


def _decrypted(reader: PdfReader, listed: frozenset[tuple[int, int]], budget: int) -> bytes:
    """The PDF as pypdf decrypted it (with the empty password), without /Encrypt: every object
    its cross-reference lists, referenced or not, under its own number (so every reference
    holds), the members of object streams written out and the streams that only carried them
    left out. `LimitExceeded` past ``budget`` bytes; reading an object raises what it raises
    (DAMAGED, LimitReachedError)."""
    encrypt = reader.trailer.raw_get("/Encrypt")
    skip = encrypt.idnum if isinstance(encrypt, IndirectObject) else None
    out = BytesIO(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    out.seek(0, 2)
    offsets: dict[int, tuple[int, int]] = {}
    for num, gen in sorted(listed):
        obj = reader.get_object(IndirectObject(num, gen, reader))
        obj = NullObject() if obj is None else obj  # a free or missing object is null
        packaging = isinstance(obj, DictionaryObject) and obj.get("/Type") in _PACKAGING
        if num in offsets or num == skip or packaging:
            continue
        offsets[num] = (out.tell(), gen)
        out.write(b"%d %d obj\n" % (num, gen))
        obj.write_to_stream(out)  # a stream's /Length becomes its decrypted length
        out.write(b"\nendobj\n")
        if out.tell() > budget:
            raise LimitExceeded(ARCHIVE_EXPANSION, "decrypted PDF past the byte limit")
    start = out.tell()
    out.write(_xref(offsets))
    trailer = DictionaryObject({NameObject("/Size"): NumberObject(max(offsets, default=0) + 1)})
    for key in ("/Root", "/Info"):
        if key in reader.trailer:
            trailer[NameObject(key)] = reader.trailer.raw_get(key)
    out.write(b"trailer\n")
    trailer.write_to_stream(out)
    out.write(b"\nstartxref\n%d\n%%%%EOF\n" % start)
    return out.getvalue()


def _unreadable(data: bytes, limits: Limits) -> Result:
    """ENCRYPTED for a PDF encrypted by a method pypdf cannot open (public-key security, for
    its recipients' certificates; an unknown handler), as it is: a viewer asks for the
    certificate (hunt 104: pyhanko's files were called damaged); CORRUPT for compression it
    cannot read."""
    if scan_pdf_objects(data, max_expanded=limits.max_expanded_bytes).encrypted:
        message = "PDF encrypted for its recipients' certificates or by an unknown method "
        return _only(ENCRYPTED, message + "(cannot be scanned)")
    return _only(CORRUPT, "PDF uses compression that cannot be read")


def _encryption_read_apart(reader: PdfReader, newest: bool) -> tuple[Code, str] | None:
    """A finding when readers would decrypt the PDF differently, so that what pypdf reads is
    not what a viewer shows: pypdf takes /Encrypt from any trailer (it merges every revision's),
    pdf.js and MuPDF from the newest only (``newest``), and a red team put it in an older one,
    turning links to shares and an attached program into noise for pypdf alone (AMBIGUOUS); or
    attached files are encrypted with a filter of their own (/EFF, Acrobat's "encrypt only
    file attachments"), which pypdf does not apply: it reads their ciphertext (ENCRYPTED)."""
    if reader.is_encrypted and not newest:
        message = "PDF encrypted for some readers only (/Encrypt in an older trailer)"
        return AMBIGUOUS, message
    encrypt = reader.trailer.get("/Encrypt") if reader.is_encrypted else None
    encrypt = encrypt.get_object() if encrypt is not None else None
    if (
        isinstance(encrypt, DictionaryObject)
        and "/EFF" in encrypt
        and encrypt.get("/EFF") != encrypt.get("/StmF", NameObject("/Identity"))
    ):
        return ENCRYPTED, "PDF whose attached files are encrypted apart from the document"
    return None


def _readable(reader: PdfReader, walked: _Walked, limits: Limits, seen: Seen) -> list[Child]:
    """An encrypted PDF that opened with the empty password, decrypted (`_decrypted`), as a
    child; none when it cannot be written (an antivirus that could not decrypt it is then
    left as it said: ENCRYPTED), a finding past the byte limit."""
    try:
        return [Child(_DECRYPTED, _decrypted(reader, walked.listed, limits.max_expanded_bytes))]
    except LimitExceeded:
        seen.add(ARCHIVE_EXPANSION, "decrypted PDF expands past the byte limit; not scanned")
    except (*DAMAGED, LimitReachedError):
        pass  # the object that fails was reported by the walk (CORRUPT, ARCHIVE_EXPANSION)
    return []


def _reaches(engine: object, parent: Item, children: list[Child]) -> frozenset[Child]:
    """The decrypted rewrite of a PDF this engine read (decrypted) itself: not read again when
    it found nothing there."""
    return frozenset(child for child in children if child.where == _DECRYPTED)


def _check_pages(reader: PdfReader, seen: Seen) -> None:
    """AMBIGUOUS when the page tree declares other counts than it holds."""
    try:
        disagree = page_counts_disagree(reader)
    except DAMAGED:
        disagree = True  # a tree that cannot be walked shows no reader its pages for sure
    if disagree:
        seen.add(AMBIGUOUS, _COUNTS)


def _only(code: Code, message: str) -> Result:
    return Result([finding(NAME, code, message)])


def _asks_for_a_password(reader: PdfReader) -> bool:
    """Whether a reader asks for a password before it shows the PDF: the empty string is not
    its user password. Readers try the empty string as the user password only; pypdf tries
    the owner password first, so a file whose owner password alone is empty (a user password
    set: r5-user-password.pdf) opens in pypdf and asks in Acrobat. The user password is checked
    as the standard security handler defines it (pypdf's own algorithms; no public call)."""
    kind = reader.decrypt("")
    if kind != PasswordType.OWNER_PASSWORD:
        return kind == PasswordType.NOT_DECRYPTED
    found = reader._encryption
    if found is None:
        return True
    values = found.values
    if found.R <= 4:
        key = AlgV4.verify_user_password(
            b"",
            found.R,
            found.Length,
            values.O,
            values.U,
            found.P,
            found.id1_entry,
            found.EncryptMetadata,
        )
    else:
        key = AlgV5.verify_user_password(found.R, b"", values.U, values.UE)
    return not key


class PdfEngine:
    """Finds active content in PDFs and extracts attached files (see the module docstring)."""

    name = NAME

    def __init__(self) -> None:
        # pypdf's warnings about damaged files quote names and values from the file, and logs
        # must never hold file contents; pypdf has nothing to say at CRITICAL.
        logging.getLogger("pypdf").setLevel(logging.CRITICAL)

    def version(self) -> str:
        return f"pypdf {pypdf.__version__}"

    def scan(self, item: Item, context: Context) -> Result:
        limits = context.limits
        # Pictures are extracted only when an engine wants them (moderation): decoding costs.
        pictures = context.wants.get("pictures", 0)
        # pypdf's configuration is a context variable: this holds for this thread's scan only.
        # The decrypted rewrite only where the pipeline opens children (else it is too deep).
        unpack = context.depth_left > 0
        with apply_configuration(limited(limits.max_expanded_bytes)):
            return self._scan(item.data, limits, pictures, unpack)

    def _scan(self, data: bytes, limits: Limits, pictures: int, unpack: bool) -> Result:
        try:
            reader = PdfReader(BytesIO(data), strict=False)
            if reader.is_encrypted and _asks_for_a_password(reader):
                return _only(ENCRYPTED, "password-protected PDF (cannot be scanned)")
            places, pages = _places(reader)
        except (NotImplementedError, DependencyError):
            return _unreadable(data, limits)
        except LimitReachedError:
            return _only(ARCHIVE_EXPANSION, "PDF content expands past the byte limit")
        except DAMAGED:
            return _only(CORRUPT, "damaged PDF that could not be read")
        seen = Seen()
        layout = scan_pdf_objects(data, max_expanded=limits.max_expanded_bytes)
        if (disagreement := _encryption_read_apart(reader, layout.encrypted)) is not None:
            return _only(*disagreement)
        census = glyph_census(reader, layout)
        listed = _walk(reader, places, census, seen)
        walked = _Walked(listed, places)
        hidden, structure = _raw_reading(reader, (layout, census), walked, limits, seen)
        children = _extract(_attachments(seen, reader, hidden), seen, limits)
        used = sum(len(child.data) for child in children)
        children += _sources(reader, seen, limits.max_expanded_bytes - used)
        if pictures:
            children += _pictures(seen, limits, pictures)
        facts: dict[str, object] = {"pages": pages}
        if reader.is_encrypted and unpack and (readable := _readable(reader, walked, limits, seen)):
            children += readable
            facts[DECRYPTED] = _DECRYPTED
        _check_pages(reader, seen)
        if structure:
            facts["pdf_structure"] = structure
        return Result(list(seen.findings.values()), children, facts)


ENGINE = EngineSpec(
    name=NAME,
    summary="PDF JavaScript, automatic and Launch actions, XFA, RichMedia, attached files "
    "(scanned too), encryption; every object body any reader may take, data hidden between "
    "revisions",
    types=("pdf",),
    codes=(
        PDF_JAVASCRIPT,
        PDF_AUTO_ACTION,
        PDF_LAUNCH,
        PDF_EMBEDDED_FILE,
        PDF_XFA,
        PDF_RICHMEDIA,
        EXTERNAL_LINK,
        EXECUTABLE,
        SCRIPT,
        POLYGLOT,
        AMBIGUOUS,
        ENCRYPTED,
        CORRUPT,
        IMAGE_BOMB,
        ARCHIVE_MEMBERS,
        ARCHIVE_EXPANSION,
    ),
    build=lambda options, resources: PdfEngine(),
    options=Options,
    order=30,
    reaches=_reaches,
)
