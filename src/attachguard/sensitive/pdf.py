"""The text of a PDF: every page's text layer (PDFium or pypdf; PDFium's with what the page's
annotations draw flattened into it) and the notes on it (comments, typewriter boxes, sticky
notes: ``/Contents`` of its annotations, their rich text and authors), what its form fields show
(`_shown`), the titles of its bookmarks, its document information (title, subject, keywords...),
the viewer's panels (`_panels`: page labels, layers, attachments' descriptions, XMP), and the
pictures of the pages that have no text layer, only a caption of under `_CAPTION` characters
(scans, and scanner apps' stamped pages) or only invisible text (searchable scans: their OCR
layer), for OCR; a page's visible text alone besides its text, when it draws invisible text
too; on a page with more text that names a card,
its photo-sized pictures (a photo of a card pasted in a letter; three per PDF), and the page
itself rendered, whole or in part, where its text layer and its pictures read one by one do not
say what it shows (`pdfium_drawn`: text mostly of characters no font maps to Unicode, or a run
of them as long as a card number, outlines, Type 3 glyphs, a scan's picture composed of many
images, patterns, soft masks, forms past the pictures' walk), and the appearance of its text
boxes and stamps: PDFium's, `pdfium_worker`. Not read: text whose ToUnicode map gives digits
the codes of other characters on a page of text in a font that is not Type 3 (`pdfium_drawn`),
and the visual order of characters a page draws out of order (pypdf gives content-stream
order; PDFium mostly the order on the page).

Pages are read in order, at most ``max_pages`` of them, and no later than `_TEXT_SHARE` of the
time left: the pages past either limit are counted, not read. PDFium reads them first
(`pdfium_text`, in a process of its own under a memory cap): the page count, each page's text
and notes, and a scan's pictures. pypdf reads a page PDFium did not (out of time or memory, or
unreadable to it; 30-70 ms a page here), given up at the same time limit (even on a page
PDFium was killed on: it took over 60 s on a form drawn 100 times that pypdf read in 3 s). The
pages pypdf read because PDFium was out of time are counted (`PdfExtract.without_pdfium`): the
two give characters drawn out of order in different orders, so their text depends on the
moment. A page whose text cannot be extracted is noted. The page count is PDFium's when the
page tree's own count agrees with it; else the larger of PDFium's and pypdf's (the pdf engine
rejects a tree whose counts differ from its pages as AMBIGUOUS). pypdf counting pages reads
every object the pages lie among: 6 s for a manual of 67,000 objects, which the agreement
spares.

On a page read as a scan, the pictures it draws itself are returned as image files, at most
``max_pictures`` for the whole PDF (renders of pages counted with them), none too small to
show a number: rendered as the page draws it by PDFium (JBIG2 included; a JPEG too, whose
/Decode, mask or colour space may change how it looks) and written as PNG, or for a page PDFium
did not read decoded by pypdf (a JPEG as stored when nothing changes how it looks:
`_plain_jpeg`); a picture over
``limits.max_image_pixels``, or one that cannot be decoded (in pypdf: JBIG2 without its
decoder), is noted and not read. Pictures on pages with more text
are not read here (when image moderation is on, the PDF engine hands every picture to the
pipeline, and OCR reads them there). pypdf's decoders are held to ``limits.max_expanded_bytes``.
A PDF that needs a password, or that pypdf cannot open, is noted and not read: the PDF engine
reports it.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from io import BytesIO
from typing import TYPE_CHECKING

from pypdf import PasswordType, PdfReader, apply_configuration
from pypdf.errors import DependencyError, DeprecationError, PyPdfError
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    StreamObject,
)

from attachguard.formats.pypdf_limits import limited
from attachguard.sensitive import ocr
from attachguard.sensitive.markup import ExpatError, shown_text, xml_text
from attachguard.sensitive.passages import Extract, Passage
from attachguard.sensitive.pdfium_text import Page, Pictures, page_texts

if TYPE_CHECKING:
    from pypdf import PageObject

    from attachguard.policy import Limits

# What pypdf raises on damaged input besides its own errors.
_DAMAGED = (PyPdfError, ValueError, TypeError, KeyError, IndexError, AttributeError,
            AssertionError, OSError, RecursionError, ZeroDivisionError,
            NotImplementedError, DeprecationError)  # fmt: skip
# (DeprecationError: a deprecated filter abbreviation, /A85; a plain Exception in pypdf)
_CAPTION = 200  # characters of text a page may have and still be read as a scan
_TEXT_SHARE = 0.6  # of the time left: the rest is for OCR and the findings
_PDFIUM_SHARE = (
    0.5  # of the text's time: PDFium's at most, so that pypdf has the rest for what it left
)


@dataclass
class PdfExtract(Extract):
    """`Extract`, and how many pages pypdf read (or tried) because PDFium was out of time: an
    idle scan would have read them with PDFium, whose text can differ (characters drawn out of
    order: "4111 1111 1111 1111" by PDFium, "11114111 1111 1111" by pypdf)."""

    without_pdfium: int = 0


class _OutOfTime(Exception):
    """pypdf's text extraction went past the time for the text."""


@dataclass(frozen=True)
class PdfBudget:
    """How much of a PDF is read: pages, pictures of pages without text, and by when."""

    max_pages: int
    max_pictures: int
    deadline: float


def read(data: bytes, limits: Limits, budget: PdfBudget) -> tuple[PdfExtract, int]:
    """The passages (one per page with text, "page N"; "form fields") and the pictures of the
    pages without text, and how many pages were left unread (over ``max_pages`` or out of
    time; 0 when every page was read)."""
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)  # its warnings quote the file
    with apply_configuration(limited(limits.max_expanded_bytes)):
        return _read(data, limits, budget)


def _read(data: bytes, limits: Limits, budget: PdfBudget) -> tuple[PdfExtract, int]:
    extract = PdfExtract()
    try:
        reader = PdfReader(BytesIO(data), strict=False)
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            extract.unread.append("the PDF needs a password")
            return extract, 0
    except _DAMAGED:
        extract.unread.append("the PDF could not be opened")
        return extract, 0
    stop = time.monotonic() + _TEXT_SHARE * max(0.0, budget.deadline - time.monotonic())
    # PDFium first, with half the time: pypdf reads what it did not in the rest
    now = time.monotonic()
    sides = (ocr.MIN_WIDTH, ocr.MIN_HEIGHT)
    wants = Pictures(budget.max_pictures, limits.max_image_pixels, _CAPTION, sides)
    pdfium = page_texts(
        data, budget.max_pages, now + _PDFIUM_SHARE * (stop - now), limits.max_expanded_bytes, wants
    )
    try:
        count = _page_count(reader, pdfium.count)
    except _DAMAGED:
        extract.unread.append("the PDF could not be opened")
        return extract, 0
    pages = min(count, budget.max_pages)
    for number in range(1, pages + 1):
        if number <= len(pdfium.pages):
            _from_pdfium(pdfium.pages[number - 1], number, extract, budget.max_pictures)
            continue
        try:
            _page(reader, number, extract, limits, budget.max_pictures, stop)
        except _OutOfTime:
            extract.unread.append(f"pages from {number} on (out of time)")
            return extract, count - number + 1
        if pdfium.late:
            extract.without_pdfium += 1
        _annotations(reader, number, extract)
    _form_fields(reader, extract)
    _outline(reader, extract)
    _information(reader, extract)
    _panels(reader, extract)
    return extract, max(0, count - budget.max_pages)


def _page_count(reader: PdfReader, counted: int | None) -> int:
    """PDFium's page count when the page tree's own /Count agrees with it, as in any honest
    file; else (or without PDFium's) pypdf's, from every page its tree reaches, and the larger
    of the two: every page either reader sees is read. pypdf's count reads every object the
    tree's pages lie among (6 s for a manual of 67,000 objects), which the agreement spares."""
    if counted is not None:
        try:
            tree = reader.root_object.get("/Pages")
            tree = tree.get_object() if tree is not None else None
            declared = tree.get("/Count") if isinstance(tree, DictionaryObject) else None
        except _DAMAGED:
            declared = None
        if declared == counted:
            return counted
        try:
            return max(counted, len(reader.pages))
        except _DAMAGED:
            return counted
    return len(reader.pages)


def _from_pdfium(page: Page, number: int, extract: Extract, most: int) -> None:
    """A page PDFium read: its text (and its visible text alone, when it draws invisible text
    too), its notes, what its form fields draw, and the pictures of a page read as a scan."""
    if page.text.strip():
        extract.passages.append(Passage(page.text, f"page {number}"))
    if page.visible.strip():
        extract.passages.append(Passage(page.visible, f"page {number} (visible text)"))
    if page.notes.strip():
        extract.passages.append(Passage(page.notes, f"page {number} (notes)"))
    if page.fields.strip():
        extract.passages.append(Passage(page.fields, f"page {number} (form fields as drawn)"))
    for picture in page.pictures:
        if isinstance(picture, str):
            extract.unread.append(f"a picture on page {number} ({picture})")
        elif len(extract.pictures) < most:
            extract.pictures.append((f"page {number}", picture))


def _page(
    reader: PdfReader, number: int, extract: Extract, limits: Limits, most: int, stop: float
) -> None:
    """One page's text by pypdf, and its pictures when it has little text; `_OutOfTime` past
    ``stop``."""
    if time.monotonic() > stop:
        raise _OutOfTime
    try:
        page = reader.pages[number - 1]
        text = _pypdf_text(page, stop)
    except _DAMAGED:
        extract.unread.append(f"page {number} (its text could not be extracted)")
        return
    if text.strip():
        extract.passages.append(Passage(text, f"page {number}"))
    # a page with little text is read as a scan: phone scanner apps stamp a caption ("Scanned
    # with ...") on the picture of each page, and a photo pasted with a line of text is common
    if len(text.strip()) < _CAPTION and len(extract.pictures) < most:
        for data in _pictures(page, number, limits, extract)[: most - len(extract.pictures)]:
            extract.pictures.append((f"page {number}", data))


def _pypdf_text(page: PageObject, stop: float) -> str:
    """pypdf's text of a page, given up at ``stop`` (`_OutOfTime`): it has no time limit of
    its own (a 41 KB page drawing a 20,000-operator form 5,000 times took 28 CPU-minutes). Its
    visitor sees every operator, those of forms too; pypdf catches what a form's operator
    raises and goes on with the page's next operator, where the visitor raises again."""
    late = False

    def visit(*_: object) -> None:
        nonlocal late
        if time.monotonic() > stop:
            late = True
            raise _OutOfTime

    text = page.extract_text(visitor_operand_before=visit)
    if late:  # raised in a form the page's last operator drew: pypdf returned what it had
        raise _OutOfTime
    return text


def _pictures(page: PageObject, number: int, limits: Limits, extract: Extract) -> list[bytes]:
    """The pictures a page draws directly, as image files."""
    try:
        resources = page.get("/Resources")
        resources = resources.get_object() if resources is not None else None
        xobjects = resources.get("/XObject") if isinstance(resources, DictionaryObject) else None
        xobjects = xobjects.get_object() if xobjects is not None else None
        found = list(xobjects.values()) if isinstance(xobjects, DictionaryObject) else []
    except _DAMAGED:
        extract.unread.append(f"pictures of page {number} (damaged)")
        return []
    out = []
    for ref in found:
        picture = _picture(ref.get_object(), limits)
        if isinstance(picture, str):
            extract.unread.append(f"a picture on page {number} ({picture})")
        elif picture is not None:
            out.append(picture)
    return out


def _picture(image: object, limits: Limits) -> bytes | str | None:
    """One image XObject as an image file; a reason in words when it cannot be read; None for
    an XObject that is not a picture."""
    if not isinstance(image, StreamObject) or image.get("/Subtype") != "/Image":
        return None
    width, height = image.get("/Width"), image.get("/Height")
    if not (isinstance(width, int) and isinstance(height, int)) or width * height <= 0:
        return "no size"
    if width * height > limits.max_image_pixels:
        return f"{width}x{height} pixels, over the limit"
    try:
        if _plain_jpeg(image):
            return bytes(image._data)  # the JPEG file itself; no public accessor for raw bytes
        out = BytesIO()
        image.decode_as_image().save(out, "PNG")
    except DependencyError:  # JBIG2 needs the jbig2dec program (scripts/setup.sh installs it)
        return "its decoder is not installed here"
    except (*_DAMAGED, MemoryError):
        return "it could not be decoded"
    return out.getvalue()


_PLAIN_SPACES = frozenset({"/DeviceGray", "/DeviceRGB", "/DeviceCMYK"})


def _plain_jpeg(image: StreamObject) -> bool:
    """Whether an image is a JPEG the page draws as its file looks: no /Decode, no soft mask or
    mask, a device or ICC-based colour space (a Separation's tint transform made faint
    digits black: red team 114). Any other is decoded as the page draws it."""
    filters = image.get("/Filter")
    if filters != "/DCTDecode" and filters != ArrayObject([NameObject("/DCTDecode")]):
        return False
    if any(key in image for key in ("/Decode", "/SMask", "/Mask")):
        return False
    space = _resolved(image.get("/ColorSpace"))
    if isinstance(space, ArrayObject) and space:
        return bool(space[0] == "/ICCBased")
    return space in _PLAIN_SPACES


def _form_fields(reader: PdfReader, extract: Extract) -> None:
    try:
        named = _field_texts(reader, extract)
    except _DAMAGED:
        extract.unread.append("form fields (damaged)")
        return
    if named:
        extract.passages.append(Passage(_fields_text(named), "form fields"))


def _field_texts(reader: PdfReader, extract: Extract) -> list[tuple[str, str]]:
    """Each form field's shown texts, "name" and text, in the form's order: what a viewer
    shows of a field of any kind (`_shown`), the field's own and its widgets' (a value kept on
    a widget, pdf.js reads), read from the field tree (``/Fields`` and their ``/Kids``). pypdf's
    text fields alone left out choices, buttons' captions and values kept as streams (red
    team 111). A field that cannot be read is noted and the others read (review 113: one
    field's value holding itself had hidden every field)."""
    form = _resolved(reader.root_object.get("/AcroForm"))
    fields = _resolved(form.get("/Fields")) if isinstance(form, DictionaryObject) else None
    pending = [(ref, "") for ref in reversed(fields)] if isinstance(fields, ArrayObject) else []
    seen: set[int] = set()
    named: list[tuple[str, str]] = []
    while pending and len(named) < _MAX_SIDE_TEXTS:
        ref, parent = pending.pop()
        node = _once(ref, seen)
        if node is None:
            continue
        name = ".".join(part for part in (parent, _text_of(node, "/T")) if part)
        try:
            named += [(name, text) for text in dict.fromkeys(_shown(node)) if text.strip()]
        except _DAMAGED:
            extract.unread.append("a form field (damaged)")
        kids = _resolved(node.get("/Kids"))
        if isinstance(kids, ArrayObject):
            pending += [(kid, name) for kid in reversed(kids)]
    return named


_FIELD_TEXTS = ("/V", "/DV", "/RV", "/TU")  # value, default, rich value (XHTML), tooltip
_CAPTIONS = ("/CA", "/RC", "/AC")  # a button's caption: normal, rolled over, pressed


def _shown(node: DictionaryObject) -> list[str]:
    """What a viewer shows of one field or widget: its value (a text string, a stream of
    text, a list box's selected strings), its default value, its rich value, its tooltip, a
    choice's options (each string, or the shown one of an export and shown pair) and a
    button's captions."""
    texts = [_as_text(node.get(key)) for key in _FIELD_TEXTS]
    options = _resolved(node.get("/Opt"))
    if isinstance(options, ArrayObject):
        for option in list(options)[:_MAX_SIDE_TEXTS]:
            option = _resolved(option)
            pair = isinstance(option, ArrayObject) and len(option) == 2
            texts.append(_as_text(option[1] if pair else option))  # type: ignore[index]
    looks = _resolved(node.get("/MK"))
    if isinstance(looks, DictionaryObject):
        texts += [_as_text(looks.get(key)) for key in _CAPTIONS]
    return texts


def _as_text(value: object, nested: bool = False) -> str:
    """A value as text: a text string (not a name: a check box's /Yes), the strings of an
    array (a list box's selection: one level, no array in an array), a stream's text, rich
    text (XHTML) as shown; "" for anything else."""
    value = _resolved(value)
    if isinstance(value, StreamObject):
        data = value.get_data()
        unicode = data[:2] in (b"\xfe\xff", b"\xff\xfe")  # else PDFDocEncoding, Latin-1 here
        value = data.decode("utf-16", "replace") if unicode else data.decode("latin-1")
    if isinstance(value, ArrayObject):
        items = [] if nested else list(value)[:_MAX_SIDE_TEXTS]
        return "\n".join(_as_text(item, nested=True) for item in items)
    if not isinstance(value, str) or isinstance(value, NameObject):
        return ""
    return shown_text(value) if value.lstrip().startswith("<") else value


def _resolved(value: object) -> object:
    return value.get_object() if isinstance(value, IndirectObject) else value


def _once(ref: object, seen: set[int]) -> DictionaryObject | None:
    """The dictionary ``ref`` leads to, or None when it is none or was seen (a loop)."""
    if isinstance(ref, IndirectObject):
        if ref.idnum in seen:
            return None
        seen.add(ref.idnum)
    node = _resolved(ref)
    return node if isinstance(node, DictionaryObject) else None


_BOX = re.compile(r"\d{1,6}")  # a field holding a few digits: a box of a number split over many


def _fields_text(named: list[tuple[str, str]]) -> str:
    """Form fields as lines "name: value"; consecutive fields of a few digits each (a card
    number split over four fields of four, or a box a digit, as authorisation forms lay it
    out) on one line after the first one's name, as a reader sees them side by side
    ("card1: 4111; 1111; 1111; 1111")."""
    lines: list[str] = []
    run: list[tuple[str, str]] = []
    for name, value in [*named, ("", "")]:
        if _BOX.fullmatch(value.strip()):
            run.append((name, value.strip()))
            continue
        if run:
            label = run[0][0].rstrip("0123456789_ ")  # "card1" labels the run as "card"
            lines.append(f"{label}: " + "; ".join(digits for _, digits in run))
            run = []
        if value:
            lines.append(f"{name}: {value}")
    return "\n".join(lines)


_MAX_SIDE_TEXTS = 2_000  # annotations on one page, or outline entries: a reader lists them all


def _annotations(reader: PdfReader, number: int, extract: Extract) -> None:
    """The notes on a page (a comment, a typewriter box, a sticky note): their text is drawn
    on the page or shown in the reader's comment list."""
    try:
        annots = reader.pages[number - 1].get("/Annots")
        annots = annots.get_object() if annots is not None else None
        entries = list(annots)[:_MAX_SIDE_TEXTS] if isinstance(annots, ArrayObject) else []
        texts = [text for ref in entries for text in _note(ref.get_object())]
    except _DAMAGED:
        extract.unread.append(f"notes of page {number} (damaged)")
        return
    shown = "\n".join(text for text in texts if text)
    if shown.strip():
        extract.passages.append(Passage(shown, f"page {number} (notes)"))


def _note(annotation: object) -> list[str]:
    """An annotation's texts in a reader's comment list: its ``/Contents``, its rich text
    (``/RC``) and, but for a form field's (whose ``/T`` is its name), its author (``/T``);
    `pdfium_worker` reads the same of the pages PDFium reads."""
    if not isinstance(annotation, DictionaryObject):
        return []
    author = _text_of(annotation, "/T") if annotation.get("/Subtype") != "/Widget" else ""
    return [_text_of(annotation, "/Contents"), _as_text(annotation.get("/RC")), author]


def _outline(reader: PdfReader, extract: Extract) -> None:
    """The bookmarks' titles (the reader's side panel), from the outline tree itself: pypdf's
    ``outline`` also resolves every entry's destination (1 s for a large manual)."""
    titles: list[str] = []
    seen: set[int] = set()
    try:
        outlines = reader.root_object.get("/Outlines")
        outlines = outlines.get_object() if outlines is not None else None
        pending = [outlines.get("/First")] if isinstance(outlines, DictionaryObject) else []
        while pending and len(titles) < _MAX_SIDE_TEXTS:
            ref = pending.pop()
            if isinstance(ref, IndirectObject):
                if ref.idnum in seen:
                    continue  # a loop in the tree
                seen.add(ref.idnum)
            entry = ref.get_object() if ref is not None else None
            if isinstance(entry, DictionaryObject):
                titles.append(_text_of(entry, "/Title"))
                pending += [entry.get("/Next"), entry.get("/First")]  # children first
    except _DAMAGED:
        extract.unread.append("bookmarks (damaged)")
        return
    shown = "\n".join(title for title in titles if title)
    if shown.strip():
        extract.passages.append(Passage(shown, "bookmarks"))


def _information(reader: PdfReader, extract: Extract) -> None:
    """The document information (title, subject, keywords, author...: the reader's
    Properties window, and the title bar)."""
    try:
        info = reader.metadata
        keys = list(info)[:_MAX_SIDE_TEXTS] if info is not None else []
        values = [_text_of(info, key) for key in keys]
    except _DAMAGED:
        extract.unread.append("document information (damaged)")
        return
    shown = "\n".join(value for value in values if value)
    if shown.strip():
        extract.passages.append(Passage(shown, "document properties"))


def _panels(reader: PdfReader, extract: Extract) -> None:
    """What a viewer shows of a PDF around its pages (red team 111: Firefox's pdf.js showed a
    card number from each): the page labels in the page-number box, the layers' names, the
    attachments' descriptions, and the XMP metadata (the tab's title is its dc:title)."""
    panels = {
        "page labels": _page_labels,
        "layers": _layers,
        "attachments' descriptions": _attachment_notes,
        "XMP metadata": _xmp,
    }
    for where, read in panels.items():
        try:
            texts = read(reader.root_object)
        except (*_DAMAGED, ExpatError):
            extract.unread.append(f"{where} (damaged)")
            continue
        shown = "\n".join(text for text in texts[:_MAX_SIDE_TEXTS] if text.strip())
        if shown:
            extract.passages.append(Passage(shown, where))


def _page_labels(root: DictionaryObject) -> list[str]:
    """The prefixes (``/P``) of the page labels' number tree."""
    return [_text_of(value, "/P") for value in _tree_values(root.get("/PageLabels"), "/Nums")]


def _layers(root: DictionaryObject) -> list[str]:
    """The optional content groups' names, and the labels of the layer panel's groups (the
    strings of the default configuration's ``/Order``)."""
    properties = _resolved(root.get("/OCProperties"))
    if not isinstance(properties, DictionaryObject):
        return []
    groups = _resolved(properties.get("/OCGs"))
    names = (
        [_text_of(_resolved(g), "/Name") for g in groups] if isinstance(groups, ArrayObject) else []
    )
    default = _resolved(properties.get("/D"))
    order = _resolved(default.get("/Order")) if isinstance(default, DictionaryObject) else None
    return names + _strings(order)


def _strings(value: object) -> list[str]:
    """The text strings of nested arrays (`_DEPTH` levels), each array read once and
    `_MAX_SIDE_TEXTS` items at most in all (review 113: arrays sharing arrays by reference
    multiplied the walk past any time)."""
    found: list[str] = []
    pending, seen, items = [(value, 0)], set(), 0
    while pending and items < _MAX_SIDE_TEXTS:
        item, depth = pending.pop()
        items += 1
        if isinstance(item, IndirectObject):
            if item.idnum in seen:
                continue
            seen.add(item.idnum)
        item = _resolved(item)
        if isinstance(item, ArrayObject) and depth < _DEPTH:
            pending += [(inner, depth + 1) for inner in reversed(item[:_MAX_SIDE_TEXTS])]
        elif isinstance(item, str) and not isinstance(item, NameObject):
            found.append(item)
    return found


def _attachment_notes(root: DictionaryObject) -> list[str]:
    """The descriptions (``/Desc``) of the files attached to the document."""
    names = _resolved(root.get("/Names"))
    files = names.get("/EmbeddedFiles") if isinstance(names, DictionaryObject) else None
    return [_text_of(_resolved(spec), "/Desc") for spec in _tree_values(files, "/Names")]


def _xmp(root: DictionaryObject) -> list[str]:
    """The text of the document's XMP metadata (`markup.xml_text`); XML that expat refuses (a
    DOCTYPE, an HTML entity such as ``&nbsp;``, a bare ``&``) read as leniently as pdf.js's
    parser reads it (`_Lenient`): red team 114, its dc:title the tab's title."""
    stream = _resolved(root.get("/Metadata"))
    if not isinstance(stream, StreamObject):
        return []
    data = stream.get_data()
    try:
        return [xml_text(data)]
    except ExpatError:
        lenient = _Lenient()
        lenient.feed(data.decode("utf-8", "replace"))
        lenient.close()
        return ["".join(lenient.out)]


class _Lenient(HTMLParser):
    """XML read without refusing anything: each element's text and its attributes' values on
    lines of their own (as `markup.xml_text` gives them, so that two values never read as one
    number), references decoded (HTML's named ones too), a declaration skipped (no entity it
    declares is expanded), CDATA sections joined in."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.extend(f"\n{value}\n" for value in ("", *(value or "" for _, value in attrs)))

    def handle_endtag(self, tag: str) -> None:
        self.out.append("\n")

    def handle_data(self, data: str) -> None:
        self.out.append(data)

    def unknown_decl(self, data: str) -> None:
        if data.startswith("CDATA["):
            self.out.append(data[len("CDATA[") :])


_DEPTH = 8  # levels of a number or name tree, or of nested arrays, read


def _tree_values(tree: object, key: str) -> list[object]:
    """The values of a number tree (``/Nums``) or name tree (``/Names``): each node's pairs,
    and its ``/Kids``' (`_DEPTH` levels, `_MAX_SIDE_TEXTS` values at most)."""
    values: list[object] = []
    pending = [(tree, 0)]
    seen: set[int] = set()
    while pending and len(values) < _MAX_SIDE_TEXTS:
        ref, depth = pending.pop()
        node = _once(ref, seen)
        if node is None or depth > _DEPTH:
            continue
        pairs = _resolved(node.get(key))
        if isinstance(pairs, ArrayObject):
            values += list(pairs)[1::2]
        kids = _resolved(node.get("/Kids"))
        if isinstance(kids, ArrayObject):
            pending += [(kid, depth + 1) for kid in reversed(kids)]
    return values


def _text_of(entry: object, key: str) -> str:
    """A text string of a dictionary (decoded by pypdf), or "" when it has none."""
    if not isinstance(entry, DictionaryObject):
        return ""
    value = entry.get(key)
    value = value.get_object() if value is not None else None
    return value if isinstance(value, str) else ""
