"""The PDFium reader's own process (`pdfium_text` starts it): ``python -m
attachguard.sensitive.pdfium_worker BYTES FD``, where BYTES caps its address space and FD is
the pipe it answers on (not stdout, which a library may print to).

Requests on stdin, one at a time: a header (`HEADER`: the PDF's size, how many pages to read,
the seconds it may take, how many pictures to return at most, the pixels a picture may have,
the characters of text under which a page is read as a scan, and the sides under which a
picture is too small to show a number) and the PDF. Answers on FD: the document's page count
(4 bytes), then each page as it is read: its text (with the appearances of its annotations
drawn into it, when one has its own: `_with_appearances`), its visible text alone when it also
draws invisible text (`_visible_text`), the text of the notes on it (`_notes`) and what its
form fields draw (`_Fields`), each a 4-byte length and UTF-8 (surrogates passed through), then
its pictures (2 bytes: how many; each a kind byte, `PICTURE` or `REASON`, and a 4-byte length:
a PNG file, or why the picture was not read), then `END`.
Pictures are returned for a page with less text than the caption limit or whose text is all
invisible (a searchable scan: the image objects it draws, itself, through forms or through its
annotations' appearances; only the photo-sized ones when they are many pieces of one
picture), the photo-sized ones of a page with more, and the page rendered, whole or the part
of it that only a render shows (`pdfium_drawn`: text that is not what it shows, a picture
composed of many, patterns, soft masks, forms past the pictures' walk, Type 3 text). A
page PDFium cannot read, a file it cannot open (`END` at
once), or the time running out (checked between pages) ends the answer there. The process ends
at the end of its input (its parent gone or done with it), and dies, with nothing written, when
PDFium passes the memory cap.
"""

from __future__ import annotations

import ctypes
import io
import itertools
import os
import resource
import struct
import sys
import time
from collections.abc import Callable, Iterator
from typing import IO, Any, NamedTuple

from attachguard.sensitive import pdfium_drawn as drawing
from attachguard.sensitive.cards import card_words
from attachguard.sensitive.markup import shown_text

__all__ = ["END", "HEADER", "MAX_NOTES", "MAX_REASONS", "PICTURE", "REASON"]

# PDF bytes, pages to read, seconds, pictures at most, pixels a picture may have, caption
# characters, and the long and short sides under which a picture shows no number legibly
HEADER = struct.Struct("<QIdIQIII")
END = 0xFFFFFFFF  # after the last page, or in place of the page count: no document
PICTURE, REASON = 0, 1  # what a page's picture entry holds: an image file, or why not one
MAX_NOTES = 2_000  # annotations read on one page: a reader lists them all
MAX_REASONS = 100  # pictures not read, said on one page
_FORM_DEPTH = drawing.FORM_DEPTH  # levels of forms a page draws its pictures through


class _Wants(NamedTuple):
    pages: int
    stop: float
    pictures: int
    pixels: int
    caption: int
    long_side: int
    short_side: int

    @property
    def sides(self) -> tuple[int, int]:
        return self.long_side, self.short_side


def main() -> None:
    memory, fd = int(sys.argv[1]), int(sys.argv[2])
    import pypdfium2 as pdfium  # type: ignore[import-untyped]

    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    requests, answers = sys.stdin.buffer, os.fdopen(fd, "wb")
    while (head := _exactly(requests, HEADER.size)) is not None:
        size, pages, seconds, *pictures = HEADER.unpack(head)
        data = _exactly(requests, size)
        if data is None:
            return
        wants = _Wants(pages, time.monotonic() + seconds, *pictures)
        for answer in _answers(pdfium, data, wants):
            answers.write(answer)
            answers.flush()
        answers.write(struct.pack("<I", END))
        answers.flush()


def _answers(pdfium: Any, data: bytes, wants: _Wants) -> Iterator[bytes]:
    """The page count, then each page's answer, as soon as it is read."""
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return
    left = _Left(wants.pictures, _TEXT_PAGE_PICTURES)
    fields = _Fields(pdfium, data)
    try:
        yield struct.pack("<I", len(document))
        for index in range(min(wants.pages, len(document))):
            if time.monotonic() > wants.stop:
                break
            yield _page_answer(pdfium, document, index, fields, wants, left)
    except pdfium.PdfiumError:
        pass
    finally:
        fields.close()
        document.close()


class _Left:
    """Pictures still to be read: in the document, and on pages of text."""

    def __init__(self, pictures: int, photos: int) -> None:
        self.pictures, self.photos = pictures, photos


def _page_answer(
    pdfium: Any, document: Any, index: int, fields: _Fields, wants: _Wants, left: _Left
) -> bytes:
    """One page's answer: its text, its visible text when it also draws invisible text, its
    notes, what its fields draw and its pictures, read after what its annotations draw is
    flattened into it (a picture a box or a pen stroke draws is the page's)."""
    page = document[index]
    try:
        text = _page_text(page)
        drawn, hidden = _text_ink(pdfium, page)
        # a page whose text is all invisible over pictures is a searchable scan (OCRmyPDF,
        # Adobe Scan): its OCR layer may lack or misread the number its picture shows
        scan = len(text.strip()) < wants.caption or (hidden and not drawn)
        visible = _visible_text(pdfium, page) if drawn and hidden else ""
        notes = _notes(pdfium, page)
        shown = fields.drawn(index, page)
        seen = _Seen(text, scan, drawing.stamps(pdfium, _annotations(pdfium, page)), None)
        if _drawn_on(pdfium, page):
            own = sum(1 for _ in _images(pdfium, page))
            text, page = _with_appearances(pdfium, document, index, page, text)
            seen = seen._replace(text=text, own=own)
        pictures: list[tuple[int, bytes]] = []
        if left.pictures > 0:  # (none are wanted without OCR: the walk is spared too)
            found = drawing.survey(pdfium, document, page, scan, wants.sides, text)
            seen = seen._replace(drawn=found)
            pictures = _page_pictures(pdfium, page, seen, wants, left)
        return _text(text) + _text(visible) + _text(notes) + _text(shown) + _entries(pictures)
    finally:
        page.close()


def _annotations(pdfium: Any, page: Any) -> Iterator[Any]:
    """Each annotation of a page (`MAX_NOTES` at most), open while the caller looks at it."""
    raw = pdfium.raw
    for index in range(min(raw.FPDFPage_GetAnnotCount(page.raw), MAX_NOTES)):
        annotation = raw.FPDFPage_GetAnnot(page.raw, index)
        if not annotation:
            continue
        try:
            yield annotation
        finally:
            raw.FPDFPage_CloseAnnot(annotation)


def _page_text(page: Any) -> str:
    textpage = page.get_textpage()
    try:
        return str(textpage.get_text_range())
    finally:
        textpage.close()


# text render modes that draw no ink: invisible (an OCR layer over a scan's picture) and
# clipping only
_NO_INK = frozenset({3, 7})  # FPDF_TEXTRENDERMODE_INVISIBLE, FPDF_TEXTRENDERMODE_CLIP


def _text_ink(pdfium: Any, page: Any) -> tuple[bool, bool]:
    """Whether the page draws text that shows, and text that does not (`_NO_INK`), itself or
    through forms; the walk over its text objects stops once it has seen both."""
    raw = pdfium.raw
    drawn = hidden = False
    kinds = (raw.FPDF_PAGEOBJ_TEXT,)
    for text in page.get_objects(filter=kinds, max_depth=_FORM_DEPTH):
        if raw.FPDFTextObj_GetTextRenderMode(text.raw) in _NO_INK:
            hidden = True
        else:
            drawn = True
        if drawn and hidden:
            break
    return drawn, hidden


def _visible_text(pdfium: Any, page: Any) -> str:
    """The page's text without its characters that draw no ink (`_NO_INK`): invisible
    characters between visible digits ("4x1x1x1x...", each x invisible) split the number a
    viewer shows (red team 114)."""
    raw = pdfium.raw
    textpage = page.get_textpage()
    try:
        kept = []
        for index in range(raw.FPDFText_CountChars(textpage.raw)):
            text = raw.FPDFText_GetTextObject(textpage.raw, index)  # none: a space PDFium adds
            if not text or raw.FPDFTextObj_GetTextRenderMode(text) not in _NO_INK:
                kept.append(chr(raw.FPDFText_GetUnicode(textpage.raw, index)))
        return "".join(kept)
    finally:
        textpage.close()


def _notes(pdfium: Any, page: Any) -> str:
    """The text of the notes on a page as a reader's comment list shows them: each
    annotation's ``/Contents``, its rich text (``/RC``, XHTML) and, but for a form field's
    (whose ``/T`` is its name), its author (``/T``)."""
    raw = pdfium.raw
    found = []
    for annotation in _annotations(pdfium, page):
        found.append(_string(raw, annotation, b"Contents"))
        found.append(shown_text(_string(raw, annotation, b"RC")))
        if raw.FPDFAnnot_GetSubtype(annotation) != raw.FPDF_ANNOT_WIDGET:
            found.append(_string(raw, annotation, b"T"))
    return "\n".join(note for note in found if note)


def _string(raw: Any, annotation: Any, key: bytes) -> str:
    """A text string of an annotation's dictionary, or "" when it has none."""
    size = raw.FPDFAnnot_GetStringValue(annotation, key, None, 0)
    if size <= 2:  # UTF-16LE with a terminating NUL
        return ""
    buffer = ctypes.create_string_buffer(size)
    pointer = ctypes.cast(buffer, ctypes.POINTER(raw.FPDF_WCHAR))
    raw.FPDFAnnot_GetStringValue(annotation, key, pointer, size)
    return buffer.raw[: size - 2].decode("utf-16-le", "surrogatepass")


# Annotations whose appearance is not flattened into the page's text: a form field's shows its
# value, which the PDF reader reads field by field (`pdf._field_texts`): flattened, a row of
# four-digit amounts in four fields read as one card number (review 113); what it draws is
# read field by field (`_Fields`). A link with an appearance of its own is drawn (red team
# 113), so is a note's pop-up window that has one (pdf.js draws it open; red team 114).


def _drawn_on(pdfium: Any, page: Any) -> bool:
    """Whether an annotation of the page, not a form field, draws an appearance of its own
    (``/AP``): a box, a highlight, a pen stroke, whose text is not the page's."""
    raw = pdfium.raw
    return any(_draws(raw, annotation, False) for annotation in _annotations(pdfium, page))


def _draws(raw: Any, annotation: Any, field: bool) -> bool:
    """Whether an annotation has an appearance of its own (``/AP``) and is a form field
    (``field``) or is not one."""
    widget = raw.FPDFAnnot_GetSubtype(annotation) == raw.FPDF_ANNOT_WIDGET
    return widget == field and bool(raw.FPDFAnnot_HasKey(annotation, b"AP"))


_POPUP_NAME = ctypes.create_string_buffer("Square\0".encode("utf-16-le"))


def _as_viewers_draw(raw: Any, annotation: Any) -> None:
    """Make PDFium's flattening of this copy in memory draw the annotation as viewers do.
    The Invisible flag hides only annotations of types a viewer does not know (PDF 32000
    12.5.3): PDFium's renderer, pdf.js and Acrobat draw a square, an ink stroke, a link or a
    form field so flagged, where flattening leaves it out; the flag is cleared. Flattening
    also skips a pop-up by its subtype's name, which pdf.js draws open with its appearance:
    the name is replaced (red team 114)."""
    subtype = raw.FPDFAnnot_GetSubtype(annotation)
    flags = raw.FPDFAnnot_GetFlags(annotation)
    if subtype != raw.FPDF_ANNOT_UNKNOWN and flags & raw.FPDF_ANNOT_FLAG_INVISIBLE:
        raw.FPDFAnnot_SetFlags(annotation, flags & ~raw.FPDF_ANNOT_FLAG_INVISIBLE)
    if subtype == raw.FPDF_ANNOT_POPUP:
        name = ctypes.cast(_POPUP_NAME, ctypes.POINTER(raw.FPDF_WCHAR))
        raw.FPDFAnnot_SetStringValue(annotation, b"Subtype", name)


def _with_appearances(
    pdfium: Any, document: Any, index: int, page: Any, text: str
) -> tuple[str, Any]:
    """The page's text with its annotations but form fields drawn into it as a viewer shows
    them (PDFium flattens the appearances a viewer displays, hidden ones left out,
    `_as_viewers_draw`, into the page: a square, a highlight or a pen stroke drawing digits;
    red team 111),
    and the page reloaded (the caller closes it); ``text`` and the page as they were when
    PDFium cannot flatten it. What the fields draw is read apart (`_Fields`)."""
    raw = pdfium.raw
    for number in reversed(range(min(raw.FPDFPage_GetAnnotCount(page.raw), MAX_NOTES))):
        annotation = raw.FPDFPage_GetAnnot(page.raw, number)
        if not annotation:
            continue
        widget = raw.FPDFAnnot_GetSubtype(annotation) == raw.FPDF_ANNOT_WIDGET
        if not widget:
            _as_viewers_draw(raw, annotation)
        raw.FPDFPage_CloseAnnot(annotation)
        if widget:
            raw.FPDFPage_RemoveAnnot(page.raw, number)  # from this copy in memory only
    if raw.FPDFPage_Flatten(page.raw, raw.FLAT_NORMALDISPLAY) != raw.FLATTEN_SUCCESS:
        return text, page
    page.close()
    page = document[index]
    return _page_text(page), page


class _Fields:
    """What the form fields of each page draw, field by field: their appearances (``/AP``)
    flattened, as PDFium and Acrobat show them (`_as_viewers_draw`), in a second copy of the
    document (the first keeps its fields out of the page's text), each field's text read inside its
    own rectangle and apart from the others' (four amounts in four boxes are not one number).
    A field's value is read from the form (`pdf._field_texts`); its appearance may draw
    another text, which a viewer that draws appearances shows (red team 113: an empty /V
    whose appearance draws a card number)."""

    def __init__(self, pdfium: Any, data: bytes) -> None:
        self.pdfium, self.data = pdfium, data
        self.document: Any = None

    def drawn(self, index: int, page: Any) -> str:
        """The texts the page's fields draw, each apart (a blank line between two), or ""."""
        raw = self.pdfium.raw
        if not any(_draws(raw, annotation, True) for annotation in _annotations(self.pdfium, page)):
            return ""
        if self.document is None:
            self.document = self.pdfium.PdfDocument(self.data)
        copy = self.document[index]
        try:
            rects = _fields_alone(raw, copy)
            if raw.FPDFPage_Flatten(copy.raw, raw.FLAT_NORMALDISPLAY) != raw.FLATTEN_SUCCESS:
                return ""
        finally:
            copy.close()
        copy = self.document[index]
        textpage = copy.get_textpage()
        try:
            texts = (textpage.get_text_bounded(*rect).strip() for rect in rects)
            return "\n\n".join(text for text in texts if text)
        finally:
            textpage.close()
            copy.close()

    def close(self) -> None:
        if self.document is not None:
            self.document.close()


def _fields_alone(raw: Any, page: Any) -> list[tuple[float, float, float, float]]:
    """The rectangles (left, bottom, right, top) of the page's form fields, every other
    annotation removed from this copy of the page (their appearances are read with the page's
    text: `_with_appearances`)."""
    rects = []
    for number in reversed(range(min(raw.FPDFPage_GetAnnotCount(page.raw), MAX_NOTES))):
        annotation = raw.FPDFPage_GetAnnot(page.raw, number)
        if not annotation:
            continue
        try:
            widget = raw.FPDFAnnot_GetSubtype(annotation) == raw.FPDF_ANNOT_WIDGET
            rect = raw.FS_RECTF()
            if widget and raw.FPDFAnnot_GetRect(annotation, rect):
                rects.append((rect.left, rect.bottom, rect.right, rect.top))
                _as_viewers_draw(raw, annotation)
        finally:
            raw.FPDFPage_CloseAnnot(annotation)
        if not widget:
            raw.FPDFPage_RemoveAnnot(page.raw, number)
    return rects[::-1]


class _Seen(NamedTuple):
    """What decides which of a page's pictures are read: its text (its annotations' too), whether
    it is read as a scan, where its text boxes and stamps lie (`pdfium_drawn.stamps`), how many
    of its pictures it draws itself when its annotations' appearances were flattened into it
    after them (None: none was), and what a walk of its objects found (`pdfium_drawn.survey`)."""

    text: str
    scan: bool
    stamps: tuple[float, float, float, float] | None
    own: int | None
    drawn: drawing.Drawn = drawing.Drawn()


def _page_pictures(
    pdfium: Any, page: Any, seen: _Seen, wants: _Wants, left: _Left
) -> list[tuple[int, bytes]]:
    """What of a page is read by OCR, counted off what is ``left``: a scan's pictures (a page
    with less text than the caption limit, or whose text is all invisible: a searchable scan;
    only the photo-sized ones when its picture is composed of many images, which its render
    reads), or on a page with more text that names a card the photo-sized ones (a photo of a
    card pasted in a letter; logos and rules are smaller; `_TEXT_PAGE_PICTURES` of them); those
    its annotations draw, of any size, as a stamp's appearance is read (a box or a pen stroke
    drawing a picture: red team 114); and the page rendered, whole or in part, as
    `pdfium_drawn` decides (counted with the scans' pictures)."""
    text, scan = seen.text, seen.scan
    room = left.pictures if scan else min(left.pictures, left.photos)
    # a page of text that names a card ("here is the card I paid with", "Card number:") and
    # may show its number some other way than as text: its photos, its outlines are read
    carded = next(card_words(text), None) is not None
    own = seen.own
    # pictures on pages of text: a few per document (a letter with a photo pasted in; a
    # report's dozens of figures would cost the OCR's whole time)
    keep = _photo_sized if not scan else None
    if scan and seen.drawn.pieces > drawing.ONE_PICTURE:
        keep = _apart  # the pieces of one picture: the render reads them together
    found = _pictures(pdfium, page, wants, room, keep, (0, own)) if scan or carded else []
    if own is not None:
        taken = sum(1 for kind, _ in found if kind == PICTURE)
        found += _pictures(pdfium, page, wants, room - taken, None, (own, None))
    taken = sum(1 for kind, _ in found if kind == PICTURE)
    left.pictures -= taken
    left.photos -= 0 if scan else taken
    render = _render(pdfium, page, seen, wants, carded, taken > 0) if left.pictures > 0 else None
    if render is not None:
        found.append(render)
        left.pictures -= render[0] == PICTURE
    return found


def _render(
    pdfium: Any, page: Any, seen: _Seen, wants: _Wants, carded: bool, pictured: bool
) -> tuple[int, bytes] | None:
    """The page rendered whole when its text cannot be what it shows, else the part of it
    only a render shows with its text boxes and stamps (`pdfium_drawn`); None for neither."""
    if drawing.whole(seen.text, seen.scan, carded, pictured, seen.drawn):
        return _rendered(pdfium, page, wants)
    box = drawing.part(seen.drawn, seen.stamps)
    return None if box is None else _rendered(pdfium, page, wants, box)


def _rendered(
    pdfium: Any, page: Any, wants: _Wants, box: tuple[float, float, float, float] | None = None
) -> tuple[int, bytes]:
    """The page (or its ``box``) rendered as a picture entry, or why not."""
    picture = drawing.rendered(pdfium, page, wants.pixels, box)
    return (REASON, b"the page could not be rendered") if picture is None else (PICTURE, picture)


_PHOTO_SIDES = (400, 100)  # long and short sides of a picture on a page of text read by OCR
_TEXT_PAGE_PICTURES = 3  # pictures read on pages of text in one document, at most


def _pictures(
    pdfium: Any,
    page: Any,
    wants: _Wants,
    left: int,
    keep: Callable[[Any, Any], bool] | None = None,
    among: tuple[int, int | None] = (0, None),
) -> list[tuple[int, bytes]]:
    """The pictures a page draws, itself or through forms (at most ``left``; only those
    ``keep`` keeps; those from the first to the last of ``among``, in the order drawn), as
    image files, and the reasons for those not read (`MAX_REASONS` at most, each said once)."""
    found: list[tuple[int, bytes]] = []
    for image in itertools.islice(_images(pdfium, page), *among):
        if left <= 0:
            break
        if keep is not None and not keep(pdfium, image):
            continue
        picture, reason = _picture(pdfium, image, wants)
        if picture:
            found.append((PICTURE, picture))
            left -= 1
        elif reason and (REASON, reason) not in found and len(found) < MAX_REASONS:
            found.append((REASON, reason))
    return found


def _images(pdfium: Any, page: Any) -> Iterator[Any]:
    """The image objects a page draws, itself or through forms, in the order drawn."""
    kinds = (pdfium.raw.FPDF_PAGEOBJ_IMAGE,)
    return iter(page.get_objects(filter=kinds, max_depth=_FORM_DEPTH))


def _photo_sized(pdfium: Any, image: Any) -> bool:
    try:
        width, height = (int(side) for side in image.get_px_size())
    except (pdfium.PdfiumError, OSError, ValueError):
        return True  # a size that cannot be read: the picture is read, to say why
    return max(width, height) >= _PHOTO_SIDES[0] and min(width, height) >= _PHOTO_SIDES[1]


def _apart(pdfium: Any, image: Any) -> bool:
    """Whether a piece of a composed picture is read apart besides the page's render: a photo,
    or one the render would shrink (`pdfium_drawn.shrunk`)."""
    return _photo_sized(pdfium, image) or drawing.shrunk(pdfium, image)


def _picture(pdfium: Any, image: Any, wants: _Wants) -> tuple[bytes | None, bytes | None]:
    """An image object as a file, or why not: rendered as the page draws it and written as
    PNG (opaque, without its alpha channel: a third of the time to write). A JPEG too: the
    PDF may change how its stored file looks (a /Decode array, a soft mask or a mask, a
    colour space such as a Separation's tint transform: red team 114, faint digits made
    black), which PDFium's API does not tell apart; 50 ms for a page-sized scan. None for
    both: too small to show a number."""
    try:
        width, height = drawing.own_size(image)
        if width * height > wants.pixels:
            return None, f"{width}x{height} pixels, over the limit".encode()
        image.get_bitmap(render=False)  # decoded alone first: rendering hides a failure
        bitmap = _drawn(pdfium, image, width, height)
        width, height = bitmap.size
        if max(width, height) < wants.long_side or min(width, height) < wants.short_side:
            return None, None  # a rule, a dot: not read, not counted
        if bitmap.mode == "RGBA" and bitmap.getchannel("A").getextrema()[0] == _OPAQUE:
            gray = image.get_metadata().colorspace == pdfium.raw.FPDF_COLORSPACE_DEVICEGRAY
            bitmap = bitmap.convert("L" if gray else "RGB")
        out = io.BytesIO()
        bitmap.save(out, "PNG")
        return out.getvalue(), None
    except (pdfium.PdfiumError, OSError, ValueError):
        return None, b"it could not be decoded"


_OPAQUE = 255


def _drawn(pdfium: Any, image: Any, width: int, height: int) -> Any:
    """The image as the page draws it (PIL), at about ``width`` x ``height`` pixels, its own
    size: its matrix scaled for the time of the rendering (as pypdfium2's
    ``scale_to_original`` does with the size the PDF declares)."""
    left, bottom, right, top = image.get_bounds()
    across, up = max(abs(right - left), 1e-3), max(abs(top - bottom), 1e-3)
    if (width < height) != (across < up):  # drawn turned a quarter
        width, height = height, width
    matrix = image.get_matrix()
    image.set_matrix(matrix.scale(*(max(width / across, height / up),) * 2))
    try:
        bitmap = pdfium.raw.FPDFImageObj_GetRenderedBitmap(image.pdf, image.page, image)
    finally:
        image.set_matrix(matrix)
    if not bitmap:
        raise pdfium.PdfiumError("the image could not be rendered")
    return pdfium.PdfBitmap.from_raw(bitmap).to_pil()


def _text(text: str) -> bytes:
    raw = text.encode("utf-8", "surrogatepass")
    return struct.pack("<I", len(raw)) + raw


def _entries(pictures: list[tuple[int, bytes]]) -> bytes:
    out = [struct.pack("<H", len(pictures))]
    out += [struct.pack("<BI", kind, len(data)) + data for kind, data in pictures]
    return b"".join(out)


def _exactly(stream: IO[bytes], size: int) -> bytes | None:
    """``size`` bytes of ``stream``; None at its end."""
    data = stream.read(size)
    return data if data is not None and len(data) == size else None


if __name__ == "__main__":
    main()
