"""Builders of realistic attachments, with no downloads: photos, PDFs, Word and Excel files,
CSV, chat transcripts, WAV and MP4, deterministic for a given seed.

Used by the demo (`attachguard.demo`), the benchmark corpus (`bench/corpus.py`) and the tests.
"""

from __future__ import annotations

import io
import math
import random
import struct
import zipfile
import zlib
from collections.abc import Callable, Sequence
from xml.sax.saxutils import escape

import numpy as np
from PIL import Image, ImageDraw

_VOCABULARY = (
    "order delivery parcel refund invoice receipt customer product damaged box arrived late "
    "thank you please return label address tracking number warranty support agent replacement "
    "size colour blue kettle lamp chair table jacket shoes charger cable screen cracked scratch "
    "monday friday week payment card store online account email phone photo attached the a of "
    "and to is was in for on with it we my your this that have been not can will would could"
)
WORDS = tuple(_VOCABULARY.split())

_ZIP_DATE = (2026, 3, 14, 9, 30, 0)
_NS_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG = "http://schemas.openxmlformats.org/package/2006"
_NS_SHEET = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_OFFICE = "application/vnd.openxmlformats-officedocument."
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def sentence(rng: random.Random, words: int = 12) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


# --- images -------------------------------------------------------------------------------


def photo(width: int, height: int, seed: int = 0, noise: float = 12.0) -> Image.Image:
    """A photo-like RGB picture: soft colour gradients, a few blobs, sensor noise (its
    strength sets how well the picture compresses)."""
    rng = np.random.default_rng(seed)
    xs = np.linspace(0, math.pi, width, dtype=np.float32)[None, :]
    ys = np.linspace(0, math.pi, height, dtype=np.float32)[:, None]
    img = np.empty((height, width, 3), dtype=np.float32)
    for channel in range(3):
        a, b, p = rng.uniform(1, 4, 3).astype(np.float32)
        img[..., channel] = 128 + 60 * np.sin(a * xs + p) * np.cos(b * ys)
    for _ in range(4):  # blobs: only their bounding box is touched
        cx, cy, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.05, 0.3)
        x0, x1 = int(max(0, cx - r) * width), int(min(1, cx + r) * width)
        y0, y1 = int(max(0, cy - r) * height), int(min(1, cy + r) * height)
        gx = (np.arange(x0, x1, dtype=np.float32)[None, :] / width - cx) ** 2
        gy = (np.arange(y0, y1, dtype=np.float32)[:, None] / height - cy) ** 2
        box = img[y0:y1, x0:x1]
        mask = (gx + gy) < r * r
        box[mask] = box[mask] * 0.5 + rng.uniform(0, 128, 3).astype(np.float32)
    img += rng.standard_normal(img.shape, dtype=np.float32) * noise
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


def jpeg(image: Image.Image, quality: int = 88, exif: bool = True) -> bytes:
    out = io.BytesIO()
    extra = {}
    if exif:
        tags = Image.Exif()
        tags[0x010F] = "Pixelphone"  # Make
        tags[0x0110] = "PX-7"  # Model
        tags[0x0132] = "2026:03:14 09:30:00"  # DateTime
        extra["exif"] = tags.tobytes()
    image.save(out, "JPEG", quality=quality, **extra)
    return out.getvalue()


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def screenshot(width: int = 800, height: int = 500) -> Image.Image:
    """A flat app screenshot: title bar, panels, lines of text."""
    image = Image.new("RGB", (width, height), (246, 247, 249))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 44), fill=(35, 47, 62))
    draw.text((16, 14), "My orders - Order 4711-2026", fill=(255, 255, 255))
    rng = random.Random(7)
    for row in range(8):
        top = 64 + row * 52
        draw.rectangle(
            (16, top, width - 16, top + 40), fill=(255, 255, 255), outline=(210, 214, 220)
        )
        draw.text((28, top + 13), sentence(rng, 8), fill=(40, 40, 40))
    return image


def fit_image(encode: Callable[[Image.Image], bytes], size: int, seed: int, noise: float) -> bytes:
    """An encoded photo of about ``size`` bytes (within 4%): bytes per pixel measured on a small
    picture, then corrected on the real one (it barely depends on the size)."""
    sample = photo(320, 240, seed, noise)
    per_pixel = len(encode(sample)) / (320 * 240)
    pixels = size / per_pixel
    data = b""
    for _ in range(5):
        height = max(8, round(math.sqrt(pixels * 3 / 4)))
        data = encode(photo(max(8, round(height * 4 / 3)), height, seed, noise))
        if abs(len(data) - size) <= 0.04 * size:
            break
        pixels *= size / len(data)
    return data


# --- PDF ----------------------------------------------------------------------------------


def _pdf_text(line: str) -> bytes:
    escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return f"({escaped}) Tj T*".encode("latin-1", "replace")


def _stream(data: bytes, extra: bytes = b"", compress: bool = True) -> bytes:
    if compress:
        data = zlib.compress(data, 6)
        extra += b" /Filter /FlateDecode"
    return b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(data), extra, data)


def pdf(pages: Sequence[Sequence[str]], image: bytes | None = None, js: str | None = None) -> bytes:
    """A PDF with one page per list of text lines (Helvetica), an optional JPEG drawn on the
    first page, and optional JavaScript that runs on open (an OpenAction)."""
    objects: list[bytes] = []
    kids: list[int] = []
    first_page = 4
    if image is not None:
        width, height = Image.open(io.BytesIO(image)).size
        extra = b" /Type /XObject /Subtype /Image /Width %d /Height %d" % (width, height)
        extra += b" /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode"
        objects.append(b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(image), extra, image))
        first_page += 1
    for index, lines in enumerate(pages):
        number = first_page + 2 * index
        kids.append(number)
        body = b"BT /F1 11 Tf 15 TL 72 740 Td " + b" ".join(_pdf_text(t) for t in lines) + b" ET"
        xobject = b""
        if image is not None and index == 0:
            body += b" q 300 0 0 225 72 100 cm /Im1 Do Q"
            xobject = b" /XObject << /Im1 4 0 R >>"
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R"
            b" /Resources << /Font << /F1 3 0 R >>%s >> >>" % (number + 1, xobject)
        )
        objects.append(_stream(body))
    action = b""
    if js is not None:
        action = b" /OpenAction << /S /JavaScript /JS %s >>" % _pdf_text(js)[:-6]
    head = [
        b"<< /Type /Catalog /Pages 2 0 R%s >>" % action,
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % k for k in kids), len(kids)),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(head + objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(offsets) + 1,
        xref,
    )
    return bytes(out)


# --- Office Open XML ----------------------------------------------------------------------


def _zip(members: Sequence[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, _ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED if name.endswith(".jpeg") else method
            archive.writestr(info, data)
    return out.getvalue()


def _rels(*rels: tuple[str, str, str, bool]) -> bytes:
    items = "".join(
        f'<Relationship Id="{rid}" Type="{_NS_R}/{kind}" Target="{target}"'
        + (' TargetMode="External"/>' if external else "/>")
        for rid, kind, target, external in rels
    )
    return f'{_XML}<Relationships xmlns="{_NS_PKG}/relationships">{items}</Relationships>'.encode()


def _package(parts: dict[str, bytes], types: dict[str, str]) -> bytes:
    """An Office Open XML package: content types, the root relationship to the first part (the
    main document), then ``parts``; ``types`` gives each XML part's content type."""
    overrides = "".join(
        f'<Override PartName="/{part}" ContentType="{_OFFICE}{kind}+xml"/>'
        for part, kind in types.items()
    )
    content_types = (
        f'{_XML}<Types xmlns="{_NS_PKG}/content-types"><Default Extension="rels" ContentType='
        '"application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
        'ContentType="application/xml"/><Default Extension="jpeg" ContentType="image/jpeg"/>'
        f"{overrides}</Types>"
    )
    main = ("rId1", "officeDocument", next(iter(parts)), False)
    head = [("[Content_Types].xml", content_types.encode()), ("_rels/.rels", _rels(main))]
    return _zip(head + list(parts.items()))


def docx(
    paragraphs: Sequence[str],
    image: bytes | None = None,
    template_url: str | None = None,
    padding: int = 0,
) -> bytes:
    """A Word document: paragraphs of text, an optional JPEG in word/media, an optional remote
    template (an external attachedTemplate relationship), and optionally ``padding`` spaces in
    document.xml (they compress about 1000:1, which makes a zip bomb)."""
    body = "".join(
        f'<w:p><w:r><w:t xml:space="preserve">{escape(p)}</w:t></w:r></w:p>' for p in paragraphs
    )
    namespaces = f'xmlns:w="{_NS_W}" xmlns:r="{_NS_R}"'
    template = '<w:attachedTemplate r:id="rId1"/>' if template_url else ""
    rels = [("rId1", "settings", "settings.xml", False)]
    parts = {
        "word/document.xml": f"{_XML}<w:document {namespaces}><w:body>{body}{' ' * padding}"
        "<w:sectPr/></w:body></w:document>",
        "word/settings.xml": f"{_XML}<w:settings {namespaces}>{template}<w:defaultTabStop w:val="
        '"720"/></w:settings>',
    }
    files = {name: text.encode() for name, text in parts.items()}
    if template_url:
        remote = ("rId1", "attachedTemplate", escape(template_url), True)
        files["word/_rels/settings.xml.rels"] = _rels(remote)
    if image is not None:
        rels.append(("rId2", "image", "media/image1.jpeg", False))
        files["word/media/image1.jpeg"] = image
    files["word/_rels/document.xml.rels"] = _rels(*rels)
    kinds = {"word/document.xml": "document.main", "word/settings.xml": "settings"}
    return _package(files, {part: f"wordprocessingml.{kind}" for part, kind in kinds.items()})


def xlsx(rows: Sequence[Sequence[str | float]]) -> bytes:
    """An Excel workbook with one sheet of ``rows`` (inline strings and numbers)."""
    cells = "".join(
        f'<row r="{r}">'
        + "".join(
            f'<c t="inlineStr"><is><t>{escape(v)}</t></is></c>'
            if isinstance(v, str)
            else f"<c><v>{v}</v></c>"
            for v in row
        )
        + "</row>"
        for r, row in enumerate(rows, start=1)
    )
    main = f'xmlns="{_NS_SHEET}" xmlns:r="{_NS_R}"'
    files = {
        "xl/workbook.xml": f'{_XML}<workbook {main}><sheets><sheet name="Orders" sheetId="1" '
        'r:id="rId1"/></sheets></workbook>'.encode(),
        "xl/_rels/workbook.xml.rels": _rels(("rId1", "worksheet", "worksheets/sheet1.xml", False)),
        "xl/worksheets/sheet1.xml": f"{_XML}<worksheet {main}><sheetData>{cells}</sheetData>"
        "</worksheet>".encode(),
    }
    kinds = {"xl/workbook.xml": "sheet.main", "xl/worksheets/sheet1.xml": "worksheet"}
    return _package(files, {part: f"spreadsheetml.{kind}" for part, kind in kinds.items()})


# --- text, audio, video -------------------------------------------------------------------


def order_rows(count: int, seed: int = 0) -> list[list[str | float]]:
    rng = random.Random(seed)
    items = ("Kettle", "Desk lamp", "Office chair", "Rain jacket", "Running shoes", "USB-C cable")
    rows: list[list[str | float]] = [["date", "order", "item", "quantity", "price"]]
    for i in range(count):
        day = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        price = rng.randint(500, 25000) / 100
        rows.append([day, f"A{1000 + i}", rng.choice(items), rng.randint(1, 4), price])
    return rows


def csv_text(rows: Sequence[Sequence[str | float]]) -> bytes:
    return "".join(",".join(str(v) for v in row) + "\r\n" for row in rows).encode()


def transcript(lines: int, seed: int = 0) -> bytes:
    """Chat notes: timestamped lines of plain words."""
    rng = random.Random(seed)
    who = ("Customer", "Agent")
    return "".join(
        f"[{9 + i // 60 % 9:02d}:{i % 60:02d}] {who[i % 2]}: {sentence(rng, rng.randint(6, 18))}\n"
        for i in range(lines)
    ).encode()


def wav(size: int, seed: int = 0, rate: int = 16000) -> bytes:
    """A mono 16-bit PCM WAV of exactly ``size`` bytes (a tone with background noise)."""
    frames = max(1, (size - 44) // 2)
    t = np.arange(frames, dtype=np.float32) / rate
    noise = np.random.default_rng(seed).normal(0, 600, frames)
    pcm = (6000 * np.sin(2 * math.pi * 440 * t) + noise).astype("<i2").tobytes()
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(pcm), b"WAVE", b"fmt ", 16, 1, 1, rate, rate * 2,
        2, 16, b"data", len(pcm),
    )  # fmt: skip
    return header + pcm


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4(size: int, seed: int = 0) -> bytes:
    """An ISO-BMFF (MP4) file of exactly ``size`` bytes: ftyp, a movie header, and random media
    data (as a phone camera writes it: ftyp, mdat, then moov). Not playable; a type is a type."""
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41")
    mvhd = _box(b"mvhd", bytes(4) + struct.pack(">IIII", 0, 0, 1000, 10000) + bytes(80))
    moov = _box(b"moov", mvhd)
    media = max(0, size - len(ftyp) - len(moov) - 8)
    mdat = _box(b"mdat", np.random.default_rng(seed).bytes(media))
    return ftyp + mdat + moov
