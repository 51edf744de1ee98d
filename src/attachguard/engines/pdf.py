"""PDF active content: JavaScript, automatic and Launch actions, XFA forms, RichMedia and 3D
content, and attached files, which are extracted for a scan of their own.

Every object the cross-reference table lists is examined, referenced or not (payloads hide in
objects nothing points to, and in object streams), and so is any ``N G obj`` found in the raw
bytes but missing from the table. Names are compared after pypdf has decoded ``#xx`` escapes,
so ``/J#61vaScript`` is ``/JavaScript``. An /OpenAction that only jumps to a page is harmless;
any other, and any /AA, is reported. A PDF that opens with the empty password is scanned like
any other; one that needs a password is reported ENCRYPTED.

When an active engine wants pictures (image moderation), the pictures drawn in the PDF (image
XObjects, as many as it will look at) are returned as children too, so that they are moderated.

Limits: attached files count against ``limits.max_members`` and their decoded bytes against
``limits.max_expanded_bytes``; pypdf's own decoders are held to the same byte limit. Old
revisions superseded by an incremental update are not examined (viewers ignore them).
"""

from __future__ import annotations

import logging
import re
import zlib
from dataclasses import dataclass, field
from io import BytesIO
from typing import TYPE_CHECKING, Any

import pypdf
from pypdf import Configuration, PasswordType, PdfReader, apply_configuration, get_configuration
from pypdf.errors import DependencyError, LimitReachedError, PyPdfError
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    PdfObject,
    StreamObject,
    read_object,
)

from attachguard.codes import (
    ARCHIVE_EXPANSION,
    ARCHIVE_MEMBERS,
    CORRUPT,
    ENCRYPTED,
    IMAGE_BOMB,
    Action,
    Code,
    declare,
)
from attachguard.engines.base import Child, Context, EngineSpec, Item, Options, Result, finding
from attachguard.errors import LimitExceeded
from attachguard.report import Finding

if TYPE_CHECKING:
    from attachguard.policy import Limits

NAME = "pdf"
_ACTIVE = (
    "This PDF contains active content, such as scripts or automatic actions, and can't be shared."
)

PDF_JAVASCRIPT = declare("PDF_JAVASCRIPT", "threat", Action.REJECT, "PDF with JavaScript", _ACTIVE)
PDF_AUTO_ACTION = declare(
    "PDF_AUTO_ACTION",
    "threat",
    Action.REJECT,
    "PDF action that runs on open or on events",
    _ACTIVE,
)
PDF_LAUNCH = declare(
    "PDF_LAUNCH", "threat", Action.REJECT, "PDF Launch action (starts a program)", _ACTIVE
)
PDF_EMBEDDED_FILE = declare(
    "PDF_EMBEDDED_FILE",
    "info",
    Action.ALLOW,
    "PDF carries an attached file (scanned too)",
    "This PDF has another file attached to it, which can't be shared in chat.",
)
PDF_XFA = declare("PDF_XFA", "threat", Action.REJECT, "PDF with an XFA form", _ACTIVE)
PDF_RICHMEDIA = declare(
    "PDF_RICHMEDIA", "threat", Action.REJECT, "PDF with RichMedia (Flash/3D) content", _ACTIVE
)
_MAX_PER_CODE = 10  # enough to explain a verdict; a PDF with 5,000 scripts needs no 5,000 lines
_OBJECT_HEADER = re.compile(
    rb"(?<![0-9])([0-9]{1,10})[\x00\t\n\f\r ]+([0-9]{1,5})[\x00\t\n\f\r ]+"
    rb"obj(?![A-Za-z0-9])[\x00\t\n\f\r ]*"
)
_RICH_SUBTYPES = ("/RichMedia", "/3D")
_OUTPUT_LIMITS = (
    "zlib_maximum_output_length",
    "lzw_maximum_output_length",
    "run_length_maximum_output_length",
    "brotli_maximum_output_length",
    "jbig2_maximum_output_length",
)
# Besides its own errors, pypdf raises these on malformed structure (an integer where a
# dictionary belongs, an index past the end of an array, nesting without end): a damaged file.
_DAMAGED = (
    PyPdfError,
    ValueError,
    LookupError,
    TypeError,
    AttributeError,
    ArithmeticError,
    RecursionError,
    zlib.error,
    NotImplementedError,  # a filter or an encryption method pypdf does not know
    DependencyError,  # ... or cannot use here
)


def _over_budget() -> LimitExceeded:
    """An attached file decodes to more bytes than the scan may still unpack."""
    return LimitExceeded(ARCHIVE_EXPANSION, "attached file expands past the byte limit")


@dataclass
class _Seen:
    """What one scan found: findings (one per code and place) and the attached files."""

    findings: dict[tuple[Code, str | None], Finding] = field(default_factory=dict)
    streams: dict[int, StreamObject] = field(default_factory=dict)  # /Type /EmbeddedFile
    images: dict[int, StreamObject] = field(default_factory=dict)  # /Subtype /Image
    refs: dict[int, tuple[IndirectObject, str]] = field(default_factory=dict)  # from /EF

    def add(self, code: Code, message: str, location: str | None = None) -> None:
        if sum(1 for c, _ in self.findings if c is code) < _MAX_PER_CODE:
            self.findings.setdefault(
                (code, location), finding(NAME, code, message, location=location)
            )


def _resolved(value: Any) -> Any:
    return value.get_object() if isinstance(value, IndirectObject) else value


def _limited(limit: int) -> Configuration:
    """pypdf's configuration with no decoder output above ``limit`` (pypdf reads 0 as none)."""
    current = get_configuration()
    limit = max(limit, 1)
    return current.with_overwrites(
        **{key: min(limit, getattr(current, key) or limit) for key in _OUTPUT_LIMITS}
    )


def _label(value: Any, fallback: str) -> str:
    """An attachment's name made safe to show: it is a label, never a path."""
    value = _resolved(value)
    if isinstance(value, ByteStringObject):
        value = bytes(value).decode("latin-1")
    if not isinstance(value, str):
        return fallback
    clean = "".join(c if c.isprintable() and c not in "/\\" else "_" for c in value).strip()
    return clean[:100] or fallback


def _runs_something(action: Any) -> bool:
    """Whether an /OpenAction does more than show a page (a destination or a lone /GoTo)."""
    action = _resolved(action)
    if isinstance(action, DictionaryObject):
        return _resolved(action.get("/S")) != "/GoTo" or "/Next" in action
    return False  # an explicit destination (array) or a named one (name or string)


def _check(node: DictionaryObject, where: str, seen: _Seen) -> None:
    kind = _resolved(node.get("/S"))
    if "/JS" in node or "/JavaScript" in node or kind == "/JavaScript":
        seen.add(PDF_JAVASCRIPT, "JavaScript in the PDF", where)
    if kind == "/Launch":
        seen.add(PDF_LAUNCH, "PDF action that starts a program", where)
    if "/AA" in node:
        seen.add(PDF_AUTO_ACTION, "PDF action that runs on page or form events", where)
    if "/OpenAction" in node and _runs_something(node.get("/OpenAction")):
        seen.add(PDF_AUTO_ACTION, "PDF action that runs when it is opened", where)
    if "/XFA" in node:
        seen.add(PDF_XFA, "XFA form in the PDF (can hold scripts)", where)
    if _resolved(node.get("/Subtype")) in _RICH_SUBTYPES or "/RichMediaContent" in node:
        seen.add(PDF_RICHMEDIA, "RichMedia or 3D content in the PDF", where)
    files = _resolved(node.get("/EF"))
    if isinstance(files, DictionaryObject):
        name = node.get("/UF", node.get("/F"))
        for ref in files.values():
            if isinstance(ref, IndirectObject):
                seen.refs.setdefault(ref.idnum, (ref, _label(name, f"object {ref.idnum}")))


def _inspect(obj: PdfObject | None, num: int | None, where: str, seen: _Seen) -> None:
    """Check one object and the direct objects inside it; indirect ones get their own turn."""
    if (
        num is not None
        and isinstance(obj, StreamObject)
        and _resolved(obj.get("/Type")) == "/EmbeddedFile"
    ):
        seen.streams.setdefault(num, obj)
    if (
        num is not None
        and isinstance(obj, StreamObject)
        and _resolved(obj.get("/Subtype")) == "/Image"
        and not _resolved(obj.get("/ImageMask"))  # a stencil mask shows nothing by itself
    ):
        seen.images.setdefault(num, obj)
    stack: list[Any] = [obj]
    while stack:
        node = stack.pop()
        if isinstance(node, DictionaryObject):
            _check(node, where, seen)
            stack.extend(node.values())  # dict.values: raw, references are not followed
        elif isinstance(node, ArrayObject):
            stack.extend(node)


def _places(reader: PdfReader) -> tuple[dict[int, str], int]:
    """Object numbers a support lead can find ("page 2", "catalog"), and the page count."""
    places: dict[int, str] = {}
    root = reader.trailer.get("/Root")
    if isinstance(root, IndirectObject):
        places[root.idnum] = "catalog"
    for number, page in enumerate(reader.pages, 1):
        if page.indirect_reference is not None:
            places.setdefault(page.indirect_reference.idnum, f"page {number}")
        annots = _resolved(page.get("/Annots"))
        for ref in annots if isinstance(annots, ArrayObject) else ():
            if isinstance(ref, IndirectObject):
                places.setdefault(ref.idnum, f"page {number}")
    return places, len(reader.pages)


def _walk(reader: PdfReader, data: bytes, places: dict[int, str], seen: _Seen) -> None:
    known = {(num, gen) for gen, table in reader.xref.items() for num in table}
    known |= {(num, 0) for num in reader.xref_objStm}
    for num, gen in sorted(known):
        where = places.get(num, f"object {num}")
        try:
            _inspect(reader.get_object(IndirectObject(num, gen, reader)), num, where, seen)
        except LimitReachedError:
            seen.add(ARCHIVE_EXPANSION, "PDF content expands past the byte limit", where)
        except _DAMAGED:
            seen.add(CORRUPT, "part of the PDF could not be read", where)
    _inspect(reader.trailer, None, "trailer", seen)
    # Objects the cross-reference table leaves out: no viewer should reach them, but a repairing
    # viewer may, and hiding them is itself the trick.
    raw = BytesIO(data)
    for match in _OBJECT_HEADER.finditer(data):
        num, gen = int(match[1]), int(match[2])
        if (num, gen) in known:
            continue
        raw.seek(match.end())
        try:
            _inspect(read_object(raw, reader), num, f"hidden object {num}", seen)
        except _DAMAGED:
            continue  # bytes that only look like an object header


def _decode(stream: StreamObject, budget: int) -> bytes:
    """The decoded bytes of an attached file; `LimitExceeded` past ``budget`` bytes."""
    filters = _resolved(stream.get("/Filter"))
    if isinstance(filters, ArrayObject) and len(filters) == 1:
        filters = _resolved(filters[0])
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
        with apply_configuration(_limited(budget + 1)):
            out = stream.get_data()
    except LimitReachedError as exc:
        raise _over_budget() from exc
    if len(out) > budget:
        raise _over_budget()
    return out


def _extract(seen: _Seen, limits: Limits) -> list[Child]:
    """Attached files as children, within the member and byte limits."""
    children: list[Child] = []
    used = count = 0
    for num in sorted(set(seen.streams) | set(seen.refs)):
        ref, name = seen.refs.get(num, (None, f"object {num}"))
        where = f"attachment:{name}"
        try:
            stream = seen.streams[num] if num in seen.streams else _resolved(ref)
        except _DAMAGED:
            seen.add(CORRUPT, "attached file could not be read", where)
            continue
        if not isinstance(stream, StreamObject):
            continue
        count += 1
        if count > limits.max_members:
            seen.add(
                ARCHIVE_MEMBERS,
                f"more than {limits.max_members:,} files attached to the PDF; the rest not scanned",
            )
            break
        seen.add(PDF_EMBEDDED_FILE, "file attached to the PDF", where)
        try:
            content = _decode(stream, limits.max_expanded_bytes - used)
        except LimitExceeded:
            seen.add(
                ARCHIVE_EXPANSION,
                f"attached files expand past {limits.max_expanded_bytes:,} bytes; not scanned",
                where,
            )
            break
        except _DAMAGED:
            seen.add(CORRUPT, "attached file could not be read", where)
            continue
        used += len(content)
        children.append(Child(where=where, data=content))
    return children


def _pictures(seen: _Seen, limits: Limits, most: int) -> list[Child]:
    """The pictures drawn in the PDF, at most ``most`` of them, as image files for image
    moderation: a JPEG as stored, anything else decoded by pypdf (under the byte limit) and
    written as PNG. The context asks for one more than moderation looks at, so that the
    pipeline can say that not all were seen."""
    children: list[Child] = []
    for num in sorted(seen.images)[:most]:
        image = seen.images[num]
        where = f"picture in object {num}"
        width, height = _resolved(image.get("/Width")), _resolved(image.get("/Height"))
        if not (isinstance(width, int) and isinstance(height, int)) or width * height <= 0:
            seen.add(CORRUPT, "picture in the PDF could not be read", where)
            continue
        if width * height > limits.max_image_pixels:
            message = f"picture of {width}x{height} pixels, more than allowed; not moderated"
            seen.add(IMAGE_BOMB, message, where)
            continue
        filters = _resolved(image.get("/Filter"))
        try:
            if filters == "/DCTDecode" or filters == ArrayObject([NameObject("/DCTDecode")]):
                data = image._data  # the JPEG file itself; no public accessor for raw bytes
            else:
                out = BytesIO()
                image.decode_as_image().save(out, "PNG")
                data = out.getvalue()
        except (*_DAMAGED, LimitReachedError, OSError, NotImplementedError, DependencyError):
            seen.add(CORRUPT, "picture in the PDF could not be read", where)
            continue
        children.append(Child(where=where, data=data))
    return children


def _only(code: Code, message: str) -> Result:
    return Result([finding(NAME, code, message)])


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
        with apply_configuration(_limited(limits.max_expanded_bytes)):
            return self._scan(item.data, limits, pictures)

    def _scan(self, data: bytes, limits: Limits, pictures: int) -> Result:
        try:
            reader = PdfReader(BytesIO(data), strict=False)
            if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
                return _only(ENCRYPTED, "password-protected PDF (cannot be scanned)")
            places, pages = _places(reader)
        except (NotImplementedError, DependencyError):
            message = "PDF uses encryption or compression that cannot be read"
            return _only(CORRUPT, message)
        except LimitReachedError:
            return _only(ARCHIVE_EXPANSION, "PDF content expands past the byte limit")
        except _DAMAGED:
            return _only(CORRUPT, "damaged PDF that could not be read")
        seen = _Seen()
        _walk(reader, data, places, seen)
        children = _extract(seen, limits)
        if pictures:
            children += _pictures(seen, limits, pictures)
        return Result(list(seen.findings.values()), children, {"pages": pages})


ENGINE = EngineSpec(
    name=NAME,
    summary="PDF JavaScript, automatic and Launch actions, XFA, RichMedia, attached files "
    "(scanned too), encryption",
    types=("pdf",),
    codes=(
        PDF_JAVASCRIPT,
        PDF_AUTO_ACTION,
        PDF_LAUNCH,
        PDF_EMBEDDED_FILE,
        PDF_XFA,
        PDF_RICHMEDIA,
        ENCRYPTED,
        CORRUPT,
        IMAGE_BOMB,
        ARCHIVE_MEMBERS,
        ARCHIVE_EXPANSION,
    ),
    build=lambda options, resources: PdfEngine(),
    options=Options,
    order=30,
)
