"""What of a PDF page `pdfium_worker` reads as it is drawn: the page, or the part of it that
needs it, rendered by PDFium for OCR, where neither its text layer nor its pictures read one
by one say what a viewer shows.

One walk of the page's objects, through forms `DEEP` levels down (`survey`), finds what the
reading leaves out:

- a scan-like page's picture composed of more than `ONE_PICTURE` images (strips, tiles, an
  image a digit; red team 115): each piece read apart shows no number, the render does (a
  piece that is a photo, or that the render would shrink, `shrunk`, is still read apart);
- on a scan-like page, an image with too few pixels of its own to show a number drawn at a
  size that could show one (a flat colour seen through a soft mask of the picture);
- anything drawn through forms deeper than `FORM_DEPTH`, where the pictures are looked for;
- a page painting through a tiling pattern (its cell may draw a picture or text, which the
  text layer does not hold), or through a soft mask (the shape shown may be text or a picture
  of the mask's group); PDFium tells neither apart from other objects but by the fill colour
  it gives a coloured tiling pattern and by the transparency of an opaque object;
- a scan-like page drawing a shading (a function-based or mesh shading can draw a picture;
  on a page of text, where axial and radial gradients are common and PDFium does not say a
  shading's type, it is left: those draw no digits);
- text in a Type 3 font (its glyphs are drawings any name or code can be given), on any page;
- a run of `_RUN` characters no font maps to Unicode (glyph ids, private use; spaces between
  them allowed) on a page of text: a card number in a font without a ToUnicode map, which the
  share of such characters (`whole`) misses among a letter's text (`unmapped_runs`).

Those parts are rendered together, as one picture (the band across the page from the lowest to
the highest of the objects drawing them, a little margin kept: digits drawn beside them as
plain text are read with them), with the appearance of the page's text boxes and stamps
(`stamps`); the page is rendered whole when its text cannot be what it shows (`whole`: mostly
unmapped characters, outlines on a scan-like page naming a card, glyphs named apart from what
they draw). A render is cut to what it draws, a little of the page's white kept (`_drawn_part`:
the OCR's detection costs by area). Renders are pictures like any other: `max_pictures` for the
document bounds them (past it, SENSITIVE_LIMIT), so does the OCR's time. Honest text documents
and invoices trigger none of it (on the 223 real-world PDFs, 15 pictures more, on test scans
and two Type 3 manuals: docs/benchmarks.md); a slide of little text drawing a shading costs one
render (0.1 to 1.3 s of OCR here, before renders were cut to what they draw); a picture a page
draws once, or twice (a scan's background and its text layer), is read as before. Without OCR
(no pictures wanted) the walk is not made.

Not read: a font whose ToUnicode map gives digits' glyphs the codes of letters (PDFium's API
tells neither the map nor the codes drawn; only a render compared with the text layer would,
an OCR per page of text), and a shading pattern's fill (PDFium gives it a white fill colour,
as any white shape).
"""

from __future__ import annotations

import ctypes
import io
import itertools
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

from PIL import Image, ImageChops

__all__ = ["DEEP", "FORM_DEPTH", "ONE_PICTURE", "Drawn", "own_size", "part", "rendered",
           "shrunk", "stamps", "survey", "unmapped_runs", "whole"]  # fmt: skip

Box = tuple[float, float, float, float]  # left, bottom, right, top, in points

FORM_DEPTH = 4  # levels of forms a page draws its pictures through (`pdfium_worker`)
DEEP = 32  # levels of forms walked for what is drawn past FORM_DEPTH
ONE_PICTURE = 2  # images a scan-like page may draw and be read image by image
_MOST_OBJECTS = 100_000  # objects walked on one page; past them, the page is rendered whole
_TILING = (191, 191, 191)  # the fill colour PDFium gives an object a coloured tiling pattern paints
_OPAQUE = 255


class Drawn(NamedTuple):
    """What one walk of a page's objects found: its images within `FORM_DEPTH`, where it
    draws what only a render shows (``apart``), whether it draws paths, and text whose glyphs
    its text layer need not name (``disguised``: Type 3, ``/ActualText``)."""

    pieces: int = 0
    apart: Box | None = None
    paths: bool = False
    disguised: bool = False


def survey(
    pdfium: Any, document: Any, page: Any, scan: bool, sides: tuple[int, int], text: str = ""
) -> Drawn:
    """One walk of the page's objects, `DEEP` levels of forms down (module docstring; ``sides``:
    the long and short sides in pixels under which a picture shows no number; ``text``: the
    page's text, for its runs of unmapped characters); a page of more than `_MOST_OBJECTS`
    objects is taken as drawing apart everywhere."""
    raw = pdfium.raw
    pieces, paths, disguised = 0, False, False
    images: list[Box] = []
    apart: list[Box | None] = [unmapped_runs(pdfium, page, text)]
    top: Any = None
    walked = 0
    for thing in itertools.islice(page.get_objects(max_depth=DEEP), _MOST_OBJECTS + 1):
        walked += 1
        if thing.level == 0:
            top = thing  # what is drawn inside a form lies within the form's own bounds
        kind = raw.FPDFPageObj_GetType(thing.raw)
        if kind == raw.FPDF_PAGEOBJ_IMAGE and thing.level <= FORM_DEPTH:
            pieces += 1
            images.append(_bounds(top))
            if scan and _blown_up(pdfium, thing, sides):
                apart.append(_bounds(top))
        paths = paths or kind == raw.FPDF_PAGEOBJ_PATH
        glyphs = _glyphs(raw, thing) if kind == raw.FPDF_PAGEOBJ_TEXT else None
        disguised = disguised or glyphs is not None
        if glyphs == _TYPE3 or _apart(raw, document, thing, kind, scan):
            apart.append(_bounds(top))
    if walked > _MOST_OBJECTS:
        width, height = page.get_size()
        apart.append((0.0, 0.0, width, height))
    if scan and pieces > ONE_PICTURE:
        apart += images
    return Drawn(pieces, _union(apart), paths, disguised)


def _blown_up(pdfium: Any, image: Any, sides: tuple[int, int]) -> bool:
    """Whether an image has too few pixels of its own to show a number but is drawn at a size
    that could show one (at `_RENDER_SCALE`): its soft mask or its mask may have more pixels
    than it (a 1x1 flat colour seen through a mask drawing digits; red team 115), which
    PDFium's API does not tell."""
    try:
        width, height = own_size(image)
        left, bottom, right, top = image.get_bounds()
    except (pdfium.PdfiumError, OSError, ValueError):
        return True  # a size that cannot be read: the page shows what it is
    drawn = sorted((abs(right - left) * _RENDER_SCALE, abs(top - bottom) * _RENDER_SCALE))
    small = max(width, height) < sides[0] or min(width, height) < sides[1]
    return small and drawn[1] >= sides[0] and drawn[0] >= sides[1]


def own_size(image: Any) -> tuple[int, int]:
    """An image's size in pixels: a JPEG's from its own header (which PDFium decodes it by,
    whatever the PDF declares), anything else's as declared."""
    if image.get_filters() == ["DCTDecode"]:
        from PIL import Image  # the bitmaps' library (`to_pil`); its header read only

        with Image.open(io.BytesIO(bytes(image.get_data(decode_simple=False)))) as jpeg:
            width, height = jpeg.size
            return int(width), int(height)
    width, height = image.get_px_size()
    return int(width), int(height)


_SHRUNK = 3  # times fewer pixels a side a render gives a picture than it has: read apart too


def shrunk(pdfium: Any, image: Any) -> bool:
    """Whether a page's render (at `_RENDER_SCALE`) would show an image on under a third of
    its own pixels a side: a picture of a number drawn small, which a viewer's zoom shows and
    which is read at its own size, apart from the page."""
    try:
        width, height = own_size(image)
        left, bottom, right, top = image.get_bounds()
    except (pdfium.PdfiumError, OSError, ValueError):
        return True  # a size that cannot be read: read apart, to say why
    drawn = max(abs(right - left), abs(top - bottom)) * _RENDER_SCALE
    return bool(max(width, height) > _SHRUNK * drawn)


def _apart(raw: Any, document: Any, thing: Any, kind: int, scan: bool) -> bool:
    """Whether an object draws what only a render shows: drawn past `FORM_DEPTH`, painted
    through a tiling pattern or a soft mask, or, on a scan-like page, a shading."""
    if kind == raw.FPDF_PAGEOBJ_FORM:
        return False  # what a form draws is its objects'
    if thing.level > FORM_DEPTH or (scan and kind == raw.FPDF_PAGEOBJ_SHADING):
        return True
    red, green, blue, alpha = (ctypes.c_uint() for _ in range(4))
    filled = raw.FPDFPageObj_GetFillColor(thing.raw, red, green, blue, alpha)
    if filled and (red.value, green.value, blue.value) == _TILING:
        pattern = raw.FPDFPageObj_GetRenderedFillPattern(document.raw, thing.raw)
        if pattern:
            raw.FPDFBitmap_Destroy(pattern)
            return True
    # transparent but opaque: a soft mask (or a blend mode) in its graphics state
    opaque = not filled or alpha.value == _OPAQUE
    if kind == raw.FPDF_PAGEOBJ_PATH and raw.FPDFPageObj_GetStrokeColor(
        thing.raw, red, green, blue, alpha
    ):
        opaque = opaque and alpha.value == _OPAQUE
    return opaque and bool(raw.FPDFPageObj_HasTransparency(thing.raw))


_TYPE3, _ACTUAL = "Type 3", "ActualText"


def _glyphs(raw: Any, text: Any) -> str | None:
    """Why a text object's glyphs need not be what the text layer names: in a Type 3 font
    (PDFium calls it embedded with no font file), or marked with an ``/ActualText`` (which
    the text layer gives instead of the glyphs drawn); None when they are. Red team 111 drew
    a card number so, under "hello world" and as glyphs named A-J. An ActualText alone does
    not make a page of text rendered: LaTeX and Word write one over ligatures and symbols
    (two real-world manuals had one on 36 and 62 pages)."""
    font = raw.FPDFTextObj_GetFont(text.raw)
    size = ctypes.c_size_t(0)  # (read after the call that sets it)
    if (
        font
        and raw.FPDFFont_GetIsEmbedded(font)
        and raw.FPDFFont_GetFontData(font, None, 0, ctypes.byref(size))
        and not size.value
    ):
        return _TYPE3
    for index in range(raw.FPDFPageObj_CountMarks(text.raw)):
        mark = raw.FPDFPageObj_GetMark(text.raw, index)
        if raw.FPDFPageObjMark_GetParamValueType(mark, b"ActualText") != 0:
            return _ACTUAL  # FPDF_OBJECT_UNKNOWN: no such entry
    return None


def _bounds(thing: Any) -> Box:
    left, bottom, right, top = thing.get_bounds()
    return float(left), float(bottom), float(right), float(top)


def _union(boxes: Sequence[Box | None]) -> Box | None:
    found = [box for box in boxes if box is not None]
    if not found:
        return None
    return (min(b[0] for b in found), min(b[1] for b in found),
            max(b[2] for b in found), max(b[3] for b in found))  # fmt: skip


def whole(text: str, scan: bool, carded: bool, pictured: bool, drawn: Drawn) -> bool:
    """Whether the page is rendered whole: its text cannot be what it shows (mostly
    characters no font maps to Unicode: glyph ids, private use), a scan-like page naming a
    card draws no picture but paths (text turned into outlines), or a scan-like page or one
    naming a card draws glyphs its text need not name. Naming a card keeps the cost to the
    pages that may show one: on 168 PDFs of 40 generators, reading every page of text's
    photos and every short page of paths tripled the OCR's time (54 s to 154 s)."""
    outlined = scan and carded and not pictured and drawn.paths
    return _unmapped(text) or outlined or ((scan or carded) and drawn.disguised)


def part(drawn: Drawn, boxes: Box | None) -> Box | None:
    """What of the page is rendered when it is not rendered whole: where it draws apart, and
    its text boxes and stamps (``boxes``)."""
    return _union([drawn.apart, boxes])


_STAMPS = frozenset({3, 13})  # FPDF_ANNOT_FREETEXT, FPDF_ANNOT_STAMP


def stamps(pdfium: Any, annotations: Any) -> Box | None:
    """Where the page's text boxes and stamps lie (``annotations``: the page's, each open
    while looked at): what they show is their appearance, which the page's text leaves out
    and their ``/Contents`` need not say (a stamp reading "Approved" that draws a card
    number); None for none."""
    raw = pdfium.raw
    boxes: list[Box | None] = []
    for annotation in annotations:
        rect = raw.FS_RECTF()
        if raw.FPDFAnnot_GetSubtype(annotation) in _STAMPS and raw.FPDFAnnot_GetRect(
            annotation, rect
        ):
            boxes.append((rect.left, rect.bottom, rect.right, rect.top))
    return _union(boxes)


_ODD = "\x00-\x08\x0b\x0c\x0e-\x1f\ue000-\uf8ff\ufffd"  # unmapped: glyph ids, private use
_RUN = 13  # unmapped characters in a row: as many as a card number's digits
_UNMAPPED_RUN = re.compile(f"(?:[{_ODD}][ \t]?){{{_RUN},}}")


def unmapped_runs(pdfium: Any, page: Any, text: str) -> Box | None:
    """Where the page draws runs of `_RUN` unmapped characters or more, when its ``text`` has
    one (looked for again character by character: the text leaves out characters the page
    draws, such as a space whose glyph maps to nothing); None for none. Symbol fonts' bullets
    (private use) stand one a line, never in such a run."""
    if _UNMAPPED_RUN.search(text) is None:
        return None
    raw = pdfium.raw
    textpage = page.get_textpage()
    try:
        count = raw.FPDFText_CountChars(textpage.raw)
        drawn = "".join(
            chr(raw.FPDFText_GetUnicode(textpage.raw, i) & 0x1FFFFF) for i in range(count)
        )
        boxes: list[Box | None] = []
        left, right, bottom, top = (ctypes.c_double() for _ in range(4))
        for run in _UNMAPPED_RUN.finditer(drawn):
            for index in range(*run.span()):
                if raw.FPDFText_GetCharBox(textpage.raw, index, left, right, bottom, top):
                    boxes.append((left.value, bottom.value, right.value, top.value))
        return _union(boxes)
    finally:
        textpage.close()


_UNMAPPED_SHARE = 0.3  # of a page's visible characters, unmapped: its text is not what it shows
_UNMAPPED_LEAST = 8


def _unmapped(text: str) -> bool:
    """Whether most of a page's text is characters no font maps to Unicode."""
    visible = [c for c in text if not c.isspace()]
    odd = sum(1 for c in visible if c < " " or "\ue000" <= c <= "\uf8ff" or c == "\ufffd")
    return odd >= _UNMAPPED_LEAST and odd >= _UNMAPPED_SHARE * len(visible)


_RENDER_SCALE = 2.0  # 144 dpi: digits of 10 points come out about 20 pixels tall
_MARGIN = 6.0  # points kept around a part rendered
_WHITE_KEPT = 16  # pixels of the page's white kept around what a render draws


def _plain_space(page: Any) -> bool:
    """Whether the page's user space is the rendered page's: not rotated, its crop box at the
    origin (a MediaBox [0 300 612 1092] or /Rotate 90 put a box elsewhere on the render)."""
    left, bottom, *_ = page.get_cropbox()
    return page.get_rotation() % 360 == 0 and (left, bottom) == (0, 0)


def rendered(pdfium: Any, page: Any, pixels: int, box: Box | None = None) -> bytes | None:
    """The page (or the band of it across its width that holds ``box``) rendered as a picture
    (PNG) of ``pixels`` at most, or None when PDFium cannot render it. A band, not the box: a
    number runs along a line, and the digits of it drawn beside the part that only a render
    shows (as text, in another font) are read with it."""
    width, height = page.get_size()
    crop = (0.0, 0.0, 0.0, 0.0)
    if box is not None and not _plain_space(page):
        box = None  # the box is in page space, the crop in the rendered page's: the whole page
    if box is not None:  # what lies below and above the box, a little margin kept
        bottom, top = (max(0.0, side - _MARGIN) for side in (box[1], height - box[3]))
        crop = (0.0, bottom, 0.0, top) if bottom + top < height else crop
    area = max(1.0, (width - crop[0] - crop[2]) * (height - crop[1] - crop[3]))
    scale = min(_RENDER_SCALE, (pixels / area) ** 0.5)
    try:
        bitmap = page.render(scale=scale, crop=crop).to_pil()
    except (pdfium.PdfiumError, OSError, ValueError):
        return None
    out = io.BytesIO()
    _drawn_part(bitmap).save(out, "PNG")
    return out.getvalue()


def _drawn_part(bitmap: Image.Image) -> Image.Image:
    """The render cut to what is drawn on it, `_WHITE_KEPT` pixels of the page's white kept
    around: the OCR's text detection costs by the picture's area, and the white of a page
    rendered whole around a line (or a band's white beside it) cost it up to five times what
    the drawing does. Only pure white is cut (PDFium renders on it; any colour drawn, however
    light, is kept); a blank render stays whole."""
    rgb = bitmap.convert("RGB")
    drawn = ImageChops.invert(rgb).getbbox()
    if drawn is None:
        return rgb
    left, top, right, bottom = drawn  # kept within the render: a crop past it adds black
    width, height = rgb.size
    kept = _WHITE_KEPT
    return rgb.crop((max(0, left - kept), max(0, top - kept),
                     min(width, right + kept), min(height, bottom + kept)))  # fmt: skip
