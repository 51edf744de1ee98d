"""PDF pages whose card number only a render shows (red team 115): the picture of a scan-like
page composed of many images, drawn through forms past the pictures' walk, as a tiling pattern
or a shading, or seen through a soft mask; text painted through a pattern or a soft mask, or in
a Type 3 font whose glyphs draw digits under letters' names. Each hostile page is rendered by
PDFium and read by the real OCR first (the number shows), then scanned: REJECTED,
SENSITIVE_CARD. Honest look-alikes (a scan in strips that shows no number, a Type 3 logo, a
slide with a gradient) stay APPROVED."""

from __future__ import annotations

import io
import struct
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont, ImageOps

from attachguard import sensitive
from attachguard.pipeline import Scanner
from attachguard.policy import parse_policy
from attachguard.report import Report, Status
from attachguard.scanner import build_scanner
from attachguard.sensitive import ocr
from test_sensitive_pdf_panels import document as one_page

pytest.importorskip("rapidocr")

CARD = "4111 1111 1111 1111"
LINE = f"Card {CARD}"
WIDE, HIGH = 500, 60  # points the picture is drawn at
AT = (50, 600)  # where, on a letter page
POLICY = """
allowed_extensions: [.pdf]
disabled_engines: [clamav]
engines:
  sensitive:
    ocr: local
"""


@pytest.fixture(scope="module")
def scanner() -> Iterator[Scanner]:
    with build_scanner(parse_policy(POLICY), None) as scanner:
        yield scanner


def drawing(text: str = LINE, size: tuple[int, int] = (1000, 120)) -> Image.Image:
    """A grey picture of ``text``, dark on white."""
    image = Image.new("L", size, 255)
    ImageDraw.Draw(image).text((20, 20), text, font=ImageFont.load_default(64), fill=0)
    return image


def image(picture: Image.Image, extra: bytes = b"") -> bytes:
    """An image XObject of a grey or RGB picture."""
    data = zlib.compress(picture.tobytes())
    space = b"/DeviceGray" if picture.mode == "L" else b"/DeviceRGB"
    return (
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s "
        b"/BitsPerComponent 8 /Filter /FlateDecode%s /Length %d >>\nstream\n%s\nendstream"
        % (picture.width, picture.height, space, extra, len(data), data)
    )


def document(
    content: bytes, more: list[bytes], resources: bytes = b"", fonts: bytes = b""
) -> bytes:
    """A one-page PDF drawing ``content``, with Helvetica as F1 (and more ``fonts``), more
    objects numbered from 6 and more page ``resources``."""
    return one_page(content=content, more=tuple(more), resources=resources, fonts=fonts)


def pieces(boxes: list[tuple[int, int, int, int]], picture: Image.Image | None = None) -> bytes:
    """A page drawing ``picture`` as one image per box of it (left, top, right, bottom, in its
    pixels), each where it lies in the whole."""
    picture = picture or drawing()
    scale = WIDE / picture.width
    more, names, draws = [], [], []
    for number, (left, top, right, bottom) in enumerate(boxes):
        more.append(image(picture.crop((left, top, right, bottom))))
        names.append(b"/P%d %d 0 R" % (number, 6 + number))
        draws.append(
            b"q %.3f 0 0 %.3f %.3f %.3f cm /P%d Do Q"
            % ((right - left) * scale, (bottom - top) * scale, AT[0] + left * scale,
               AT[1] + (picture.height - bottom) * scale, number)
        )  # fmt: skip
    return document(b" ".join(draws), more, b" /XObject << %s >>" % b" ".join(names))


def strips(count: int = 12, picture: Image.Image | None = None) -> bytes:
    picture = picture or drawing()
    step = picture.height // count
    bottoms = [picture.height if n == count - 1 else (n + 1) * step for n in range(count)]
    return pieces([(0, n * step, picture.width, bottoms[n]) for n in range(count)], picture)


def tiles(columns: int = 8, rows: int = 2) -> bytes:
    w, h = drawing().size
    return pieces(
        [(c * w // columns, r * h // rows, (c + 1) * w // columns, (r + 1) * h // rows)
         for r in range(rows) for c in range(columns)]
    )  # fmt: skip


def digit_images() -> bytes:
    """One small image per digit (each too small to be read), drawn side by side."""
    more: list[bytes] = []
    names: list[bytes] = []
    draws: list[bytes] = []
    drawn: dict[str, int] = {}
    x = AT[0]
    for character in CARD:
        if character == " ":
            x += 12
            continue
        if character not in drawn:
            digit = Image.new("L", (40, 64), 255)
            ImageDraw.Draw(digit).text((4, 0), character, font=ImageFont.load_default(56), fill=0)
            drawn[character] = len(more)
            more.append(image(digit))
            names.append(b"/D%s %d 0 R" % (character.encode(), 6 + drawn[character]))
        draws.append(b"q 25 0 0 40 %d %d cm /D%s Do Q" % (x, AT[1], character.encode()))
        x += 19
    return document(b" ".join(draws), more, b" /XObject << %s >>" % b" ".join(names))


PLACED = b"q %d 0 0 %d %d %d cm /Im Do Q" % (WIDE, HIGH, *AT)


def deep_forms(depth: int = 6) -> bytes:
    """The picture drawn by a form drawn by a form... ``depth`` levels down."""
    more = [image(drawing())]
    inner, resources = PLACED, b"/XObject << /Im 6 0 R >>"
    for level in range(depth):
        more.append(
            b"<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << %s >> "
            b"/Length %d >>\nstream\n%s\nendstream" % (resources, len(inner), inner)
        )
        inner, resources = b"/Fm Do", b"/XObject << /Fm %d 0 R >>" % (7 + level)
    return document(inner, more, b" " + resources)


def tiling(cell: bytes, resources: bytes, more: list[bytes]) -> bytes:
    """A rectangle filled with a coloured tiling pattern whose one cell draws ``cell``."""
    pattern = (
        b"<< /Type /Pattern /PatternType 1 /PaintType 1 /TilingType 1 /BBox [0 0 %d %d] "
        b"/XStep %d /YStep %d /Matrix [1 0 0 1 %d %d] /Resources << %s >> /Length %d >>\n"
        b"stream\n%s\nendstream" % (WIDE, HIGH, WIDE, HIGH, *AT, resources, len(cell), cell)
    )
    number = 6 + len(more)
    content = b"/Pattern cs /P0 scn %d %d %d %d re f" % (*AT, WIDE, HIGH)
    return document(content, [*more, pattern], b" /Pattern << /P0 %d 0 R >>" % number)


def pattern_of_picture() -> bytes:
    cell = b"q %d 0 0 %d 0 0 cm /Im Do Q" % (WIDE, HIGH)
    return tiling(cell, b"/XObject << /Im 6 0 R >>", [image(drawing())])


def pattern_of_text() -> bytes:
    cell = b"BT /F1 24 Tf 5 20 Td (%s) Tj ET" % CARD.encode()
    return tiling(cell, b"/Font << /F1 3 0 R >>", [])


def shading() -> bytes:
    """The picture as a function-based shading: a sampled function of the page's position."""
    picture = drawing()
    samples = zlib.compress(picture.transpose(Image.Transpose.FLIP_TOP_BOTTOM).tobytes())
    function = (
        b"<< /FunctionType 0 /Domain [0 1 0 1] /Range [0 1] /Size [%d %d] /BitsPerSample 8 "
        b"/Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream"
        % (*picture.size, len(samples), samples)
    )
    shade = (
        b"<< /ShadingType 1 /ColorSpace /DeviceGray /Domain [0 1 0 1] "
        b"/Matrix [%d 0 0 %d %d %d] /Function 6 0 R >>" % (WIDE, HIGH, *AT)
    )
    return document(b"/Sh0 sh", [function, shade], b" /Shading << /Sh0 7 0 R >>")


def through_a_soft_mask() -> bytes:
    """A 1x1 red image seen through a soft mask of the picture: the image itself has no
    pixels to show a number."""
    alpha = Image.eval(drawing(), lambda value: 255 - value)
    flat = Image.new("RGB", (1, 1), (200, 0, 0))
    return document(
        PLACED, [image(flat, b" /SMask 7 0 R"), image(alpha)], b" /XObject << /Im 6 0 R >>"
    )


def text_through_a_soft_mask() -> bytes:
    """A black rectangle painted through a luminosity soft mask whose group draws the number
    (white elsewhere): the text is the mask's, not the page's."""
    group = b"1 g 0 0 612 792 re f 0 g BT /F1 24 Tf 55 620 Td (%s) Tj ET" % CARD.encode()
    form = (
        b"<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Group << /S /Transparency "
        b"/CS /DeviceGray >> /Resources << /Font << /F1 3 0 R >> >> /Length %d >>\n"
        b"stream\n%s\nendstream" % (len(group), group)
    )
    state = b"<< /Type /ExtGState /SMask << /Type /Mask /S /Luminosity /G 6 0 R >> >>"
    content = b"q /GS0 gs 0 0 0 rg %d %d %d %d re f Q" % (*AT, WIDE, HIGH)
    return document(content, [form, state], b" /ExtGState << /GS0 7 0 R >>")


LETTER = (
    b"BT /F1 11 Tf 72 740 Td (Dear customer, thank you for your order of last week. Your parcel "
    b"left our warehouse on Monday and should reach you within five working days.) Tj 0 -14 Td "
    b"(We have attached the receipt for your records. Please keep it until the return period "
    b"has ended, and write to us at any time if anything is missing.) Tj ET "
)


def type3(digits: bool, split: bool = False) -> bytes:
    """A letter (no card word in it) with a line in a Type 3 font of glyphs named A-J: they
    draw the digits 0-9 (``digits``) or bars of a logo; ``split``: the number's first half
    drawn as plain text, its second half in the Type 3 font beside it."""
    glyphs, procs = [], []
    for number in range(10):
        if digits:
            path = _digit_path(str(number))
        else:
            path = b"0 0 m 500 0 l 500 %d l 0 %d l h f" % (100 + 60 * number, 100 + 60 * number)
        body = b"600 0 0 0 600 700 d1 " + path
        glyphs.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(body), body))
        procs.append(b"/%c %d 0 R" % (65 + number, 7 + number))
    font = (
        b"<< /Type /Font /Subtype /Type3 /FontBBox [0 0 600 700] "
        b"/FontMatrix [0.001 0 0 0.001 0 0] /FirstChar 65 /LastChar 74 /Widths [%s] "
        b"/Encoding << /Type /Encoding /Differences [65 %s] >> /CharProcs << %s >> >>"
        % (b" ".join([b"600"] * 10), b" ".join(b"/%c" % (65 + n) for n in range(10)),
           b" ".join(procs))
    )  # fmt: skip
    shown = "".join(" " if c == " " else chr(65 + int(c)) for c in CARD)
    line = (
        b"BT /F2 24 Tf 72 600 Td (%s) Tj ET" % shown.encode()
        if digits
        else (b"BT /F2 24 Tf 72 600 Td (ABCDEFGHIJ) Tj ET")
    )
    if split:  # "4111 1111 " in Helvetica, then "BBBB BBBB" drawing "1111 1111"
        line = b"BT /F1 24 Tf 72 600 Td (%s) Tj /F2 24 Tf (%s) Tj ET" % (
            CARD[:10].encode(), shown[10:].encode())  # fmt: skip
    return document(LETTER + line, [font, *glyphs], fonts=b" /F2 6 0 R")


def _digit_path(digit: str) -> bytes:
    """A glyph procedure filling the pixels of ``digit`` drawn by Pillow (600 x 700 units)."""
    cell = Image.new("1", (12, 14), 0)
    ImageDraw.Draw(cell).text((0, -1), digit, font=ImageFont.load_default(14), fill=1)
    squares = [
        b"%d %d 50 50 re" % (x * 50, (13 - y) * 50)
        for y in range(14)
        for x in range(12)
        if cell.getpixel((x, y))
    ]
    return b" ".join(squares) + b" f"


DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # fonts-dejavu-core


def glyph_ids(font: bytes, text: str) -> bytes:
    """The glyph ids (2 bytes each) a TrueType font's Unicode cmap (format 4) gives ``text``."""
    tables = {
        font[12 + 16 * i : 16 + 16 * i]: struct.unpack_from(">I", font, 20 + 16 * i)[0]
        for i in range(struct.unpack_from(">H", font, 4)[0])
    }
    cmap = tables[b"cmap"]
    records = [struct.unpack_from(">HHI", font, cmap + 4 + 8 * i)
               for i in range(struct.unpack_from(">H", font, cmap + 2)[0])]  # fmt: skip
    table = cmap + next(
        offset for platform, encoding, offset in records if (platform, encoding) == (3, 1)
    )
    segments = struct.unpack_from(">H", font, table + 6)[0] // 2
    ends, starts, deltas, offsets = (
        struct.unpack_from(f">{segments}{kind}", font, at)
        for kind, at in (("H", table + 14), ("H", table + 16 + 2 * segments),
                         ("h", table + 16 + 4 * segments), ("H", table + 16 + 6 * segments))
    )  # fmt: skip
    ids = []
    for character in map(ord, text):
        i = next(i for i in range(segments) if starts[i] <= character <= ends[i])
        if offsets[i]:
            at = table + 16 + 6 * segments + 2 * i + offsets[i] + 2 * (character - starts[i])
            character = struct.unpack_from(">H", font, at)[0]
        ids.append((character + deltas[i]) & 0xFFFF)
    return struct.pack(f">{len(ids)}H", *ids)


def unmapped_line() -> bytes:
    """A letter (no card word) with the number in an embedded TrueType font without a ToUnicode
    map (Identity-H: its codes are glyph ids, which PDFium's text gives as control
    characters), far under the share of unmapped characters that renders a page whole."""
    if not DEJAVU.exists():
        pytest.skip("fonts-dejavu-core is not installed")
    font = DEJAVU.read_bytes()
    packed = zlib.compress(font)
    type0 = (
        b"<< /Type /Font /Subtype /Type0 /BaseFont /DejaVuSans /Encoding /Identity-H "
        b"/DescendantFonts [7 0 R] >>"
    )
    cid = (
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /DejaVuSans /CIDSystemInfo << "
        b"/Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 8 0 R "
        b"/CIDToGIDMap /Identity /DW 640 >>"
    )
    descriptor = (
        b"<< /Type /FontDescriptor /FontName /DejaVuSans /Flags 32 /FontBBox [0 -240 1000 940] "
        b"/ItalicAngle 0 /Ascent 930 /Descent -240 /CapHeight 730 /StemV 80 /FontFile2 9 0 R >>"
    )
    file = b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(packed), packed)
    line = b"BT /F2 20 Tf 72 600 Td <%s> Tj ET" % glyph_ids(font, CARD).hex().encode()
    return document(LETTER * 3 + line, [type0, cid, descriptor, file], fonts=b" /F2 6 0 R")


HOSTILE: dict[str, Callable[[], bytes]] = {
    "strips": strips,
    "tiles": tiles,
    "an image a digit": digit_images,
    "forms six deep": deep_forms,
    "a tiling pattern of the picture": pattern_of_picture,
    "a tiling pattern of text": pattern_of_text,
    "a shading": shading,
    "a flat colour through a soft mask": through_a_soft_mask,
    "text through a soft mask": text_through_a_soft_mask,
    "Type 3 glyphs named as letters": lambda: type3(digits=True),
    "half plain, half Type 3 glyphs": lambda: type3(digits=True, split=True),
    "glyphs mapped to no Unicode on a page of text": unmapped_line,
    # the band was cut from the render by page-space bounds (review 115)
    "a pattern on a page whose box is off the origin": lambda: pattern_of_text().replace(
        b"/MediaBox [0 0 612 792]", b"/MediaBox [0 300 612 1092]"
    ),
    "a pattern on a rotated page": lambda: pattern_of_text().replace(
        b"/MediaBox [0 0 612 792]", b"/MediaBox [0 0 612 792] /Rotate 90"
    ),
}


# the hostile pages whose number is a line at 600 points up a letter
ON_LETTERS = {
    HOSTILE[name]
    for name in (
        "Type 3 glyphs named as letters",
        "half plain, half Type 3 glyphs",
        "glyphs mapped to no Unicode on a page of text",
    )
}


@pytest.fixture(scope="module")
def local() -> ocr.OcrBackend:
    from attachguard.sensitive.ocr_local import LocalOcr

    return LocalOcr()


def shown(data: bytes, backend: ocr.OcrBackend, line: int | None = None) -> list[str]:
    """The last four digits of the card numbers PDFium's render of the first page shows, read
    by ``backend``: the render cut to what is drawn on it (a page of white around one line costs
    the OCR's detection six times what the line does), and to the line drawn at ``line`` points
    up a letter page when given (the letter's own lines cost the recognition five times what
    the number's does)."""
    import pypdfium2 as pdfium  # type: ignore[import-untyped]

    document = pdfium.PdfDocument(data)
    try:
        render = document[0].render(scale=2).to_pil().convert("L")
    finally:
        document.close()
    if line is not None:  # 2 pixels a point, the page 792 points high; 24-point glyphs
        render = render.crop((0, 2 * (792 - line - 34), render.width, 2 * (792 - line + 10)))
    drawn = ImageOps.invert(render).getbbox()
    assert drawn is not None, "the page renders blank"
    left, top, right, bottom = drawn
    out = io.BytesIO()
    render.crop((left - 16, top - 16, right + 16, bottom + 16)).save(out, "PNG")
    picture = ocr.OcrPicture(out.getvalue(), "png", 50_000_000)
    lines = backend.read(picture, time.monotonic() + 30)
    return [hit.last4 for hit in sensitive.find(ocr.as_text(lines), ["card"], lenient=True)]


def verdict(report: Report) -> tuple[Status, list[str]]:
    return report.status, [finding.code.name for finding in report.findings]


@pytest.mark.parametrize("make", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_number_only_a_render_shows_is_read(
    scanner: Scanner, local: ocr.OcrBackend, make: Callable[[], bytes]
) -> None:
    data = make()
    line = 600 if make in ON_LETTERS else None
    assert set(shown(data, local, line)) == {"1111"}  # PDFium draws it plainly
    assert verdict(scanner.scan(data, "statement.pdf")) == (Status.REJECTED, ["SENSITIVE_CARD"])


def test_a_scan_in_strips_that_shows_no_number_is_approved(scanner: Scanner) -> None:
    # a scanner that writes a page as bands: read as one render, not twelve strips
    page = drawing("Thank you for your order", (1000, 120))
    report = scanner.scan(strips(12, page), "scan.pdf")
    assert verdict(report) == (Status.APPROVED, [])
    assert report.facts["sensitive"]["pictures_read"] == 1


def test_a_type3_logo_on_a_letter_is_approved(scanner: Scanner) -> None:
    report = scanner.scan(type3(digits=False), "letter.pdf")
    assert verdict(report) == (Status.APPROVED, [])
    assert report.facts["sensitive"]["pictures_read"] == 1  # the logo's line, rendered


def test_a_gradient_on_a_page_of_text_is_not_rendered(scanner: Scanner) -> None:
    # axial and radial shadings draw no digits: a page of text drawing one is read as text
    gradient = (
        b"<< /ShadingType 2 /ColorSpace /DeviceRGB /Coords [0 0 612 0] /Function << "
        b"/FunctionType 2 /Domain [0 1] /C0 [1 1 1] /C1 [0.8 0.8 1] /N 1 >> >>"
    )
    data = document(b"q /Sh0 sh Q " + LETTER * 2, [gradient], b" /Shading << /Sh0 6 0 R >>")
    report = scanner.scan(data, "letter.pdf")
    assert verdict(report) == (Status.APPROVED, [])
    assert "pictures_read" not in report.facts["sensitive"]


def test_only_a_run_of_unmapped_characters_as_long_as_a_number_is_rendered() -> None:
    from attachguard.sensitive.pdfium_drawn import _UNMAPPED_RUN

    bullets = "\uf0b7 Returns within 30 days\n\uf0b7 Free delivery\n" * 20  # a symbol font's
    assert _UNMAPPED_RUN.search(bullets) is None
    assert _UNMAPPED_RUN.search("Total \x17\x14\x14\x14 \x14\x14\x14\x14 \x14\x14\x14\x14 \x14")
    assert _UNMAPPED_RUN.search("\x17\x14\x14\x14 \x14\x14\x14\x14 \x14\x14\x14") is None  # 11


def test_a_scan_drawn_as_one_picture_is_read_as_before(scanner: Scanner) -> None:
    # one image: read at its own pixels, the page not rendered besides
    data = pieces([(0, 0, 1000, 120)])
    report = scanner.scan(data, "scan.pdf")
    assert verdict(report) == (Status.REJECTED, ["SENSITIVE_CARD"])
    assert report.facts["sensitive"]["pictures_read"] == 1


def test_a_picture_drawn_small_among_pieces_is_read_at_its_own_size(scanner: Scanner) -> None:
    # a scan-like page of three logos and a sharp picture of the number drawn 40 points wide: a
    # viewer's zoom shows it, the page's render at 144 dpi cannot; it is read at its own size.
    # The logos lie just under it: the render, cut to the band they span with it, is 154
    # pixels high (0.07 s of OCR; 634 and 0.42 s with the logos 240 points lower)
    logo = image(Image.new("L", (200, 100), 90))
    small = b"q 40 0 0 5 50 600 cm /Im Do Q"
    logos = b" ".join(b"q 100 0 0 50 %d 540 cm /L Do Q" % x for x in (50, 200, 350))
    data = document(
        small + b" " + logos,
        [image(drawing(size=(1000, 90))), logo],  # not photo-sized: 90 pixels high
        b" /XObject << /Im 6 0 R /L 7 0 R >>",
    )
    assert verdict(scanner.scan(data, "scan.pdf")) == (Status.REJECTED, ["SENSITIVE_CARD"])


def test_renders_count_as_pictures_past_the_limit(scanner: Scanner) -> None:
    # a render is a picture: past max_images, SENSITIVE_LIMIT as for any picture
    policy = parse_policy(POLICY + "    max_images: 1\n")
    page = strips(12, drawing("Thank you for your order", (1000, 120)))
    two = page.replace(b"/Kids [4 0 R] /Count 1", b"/Kids [4 0 R 4 0 R] /Count 2")
    with build_scanner(policy, None) as limited:
        report = limited.scan(two, "scan.pdf")
    assert verdict(report) == (Status.APPROVED, ["SENSITIVE_LIMIT"])


def test_a_render_is_cut_to_what_the_page_draws() -> None:
    # the OCR's detection costs by area: a page rendered whole around one line is read as the
    # line with 16 pixels of white around it; a light colour counts as drawn, a blank stays
    from attachguard.sensitive.pdfium_drawn import _drawn_part

    page = Image.new("RGB", (1224, 1584), (255, 255, 255))
    ImageDraw.Draw(page).rectangle((100, 700, 899, 759), fill=(0, 0, 0))
    assert _drawn_part(page).size == (800 + 32, 60 + 32)
    ImageDraw.Draw(page).point((5, 1580), fill=(255, 255, 254))  # near white, near a corner
    cut = _drawn_part(page)
    assert cut.size == (900 + 16, 1584 - 684)  # kept within the render: no black added
    assert cut.getpixel((0, cut.height - 1)) == (255, 255, 255)
    blank = Image.new("RGB", (300, 200), (255, 255, 255))
    assert _drawn_part(blank).size == (300, 200)
