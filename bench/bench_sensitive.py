"""Sensitive-data benchmark: recall and false positives per file type, OCR time per picture.

Builds its own labelled set, deterministic for a seed: card-like pictures (clean, and
"photographed": turned, tilted in perspective, blurred, noisy, darker or brighter, JPEG at low
quality, embossed-looking digits), screenshots of chats and payment forms, receipts with masked
numbers (pictures, PDFs, text), statements and spreadsheets with and without full numbers (PDF,
XLSX with numeric cells, CSV, DOCX), and order confirmations (text, PDF, DOCX, screenshots)
full of numbers that are not card numbers (orders, tracking, phones, IMEIs, dates, amounts), and
phones' scrolling screenshots of long chats (1080 pixels wide, 6,000-15,000 high).

Every file goes through the sensitive engine alone (built from its spec, with the OCR backend
asked for), as the pipeline would hand it over; a positive file is found when the engine reports
SENSITIVE_CARD, a negative file is a false positive when it does.

    .venv/bin/python bench/bench_sensitive.py                # every kind, local OCR
    .venv/bin/python bench/bench_sensitive.py --ocr none     # documents only
    .venv/bin/python bench/bench_sensitive.py --only card_photo --count 40 --variant ...

Targets (issue 10): recall >= 95% on documents and screenshots, >= 90% on card photos; false
positives <= 1% on receipts and order confirmations; OCR p50 <= 500 ms a picture on 2 cores.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from common import percentile
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

from attachguard import samples
from attachguard.engines.base import Context, Item
from attachguard.engines.sensitive import ENGINE, SensitiveEngine, SensitiveOptions
from attachguard.policy import Limits
from attachguard.report import FileType
from attachguard.sensitive.cards import luhn

_FONTS = Path("/usr/share/fonts/truetype/dejavu")


def font(size: int, bold: bool = False, mono: bool = False) -> ImageFont.FreeTypeFont:
    """DejaVu where the system has it (Debian's fonts-dejavu-core), else Pillow's own font."""
    name = "DejaVuSansMono" if mono else "DejaVuSans"
    path = _FONTS / f"{name}{'-Bold' if bold else ''}.ttf"
    if path.exists():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


# --- numbers ----------------------------------------------------------------------------------

_PREFIXES = (
    ("Visa", "4", 16), ("Visa", "4", 16), ("Mastercard", "5", 16), ("Mastercard", "2221", 16),
    ("American Express", "37", 15), ("American Express", "34", 15), ("Discover", "6011", 16),
    ("JCB", "3530", 16), ("Diners Club", "36", 14), ("UnionPay", "62", 16),
    ("Maestro", "6759", 16), ("Visa", "4", 19),
)  # fmt: skip


def with_check_digit(body: str) -> str:
    for digit in "0123456789":
        if luhn(body + digit):
            return body + digit
    raise AssertionError("unreachable")


def card_number(rng: random.Random) -> tuple[str, str]:
    """A Luhn-valid number of a real issuer's prefix and length, and the issuer's name."""
    name, prefix, length = rng.choice(_PREFIXES)
    if prefix == "5":
        prefix += str(rng.randint(1, 5))
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return with_check_digit(body), name


def grouped(number: str, sep: str = " ") -> str:
    if len(number) == 15 or len(number) == 14:
        parts = [number[:4], number[4:10], number[10:]]
    else:
        parts = [number[i : i + 4] for i in range(0, len(number), 4)]
    return sep.join(parts)


def imei(rng: random.Random) -> str:
    tac = rng.choice(("35", "86", "01", "99", "49")) + "".join(
        rng.choice("0123456789") for _ in range(6)
    )
    return with_check_digit(tac + "".join(rng.choice("0123456789") for _ in range(6)))


def decoy_16(rng: random.Random) -> str:
    """A Luhn-valid 16-digit number with a card-like prefix: the hardest order number."""
    return with_check_digit("4" + "".join(rng.choice("0123456789") for _ in range(14)))


def masked(rng: random.Random) -> str:
    last4 = f"{rng.randint(0, 9999):04d}"
    return rng.choice(
        (f"**** **** **** {last4}", f"XXXX-XXXX-XXXX-{last4}", f"Visa ending in {last4}",
         f"Card: ************{last4}", f"4111 11** **** {last4}", f"Mastercard •••• {last4}")
    )  # fmt: skip


def noise_lines(rng: random.Random) -> list[str]:
    """The numbers of a receipt or order confirmation that are not card numbers."""
    day = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    return [
        f"Order number: {rng.randint(100, 999)}-{rng.randint(1000000, 9999999)}-"
        f"{rng.randint(1000000, 9999999)}",
        f"Order #{decoy_16(rng)}",
        f"Tracking number: 9400 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)} "
        f"{rng.randint(1000, 9999)} {rng.randint(1000, 9999)} {rng.randint(10, 99)}",
        f"FedEx tracking {rng.randint(10**14, 10**15 - 1)}",
        f"Phone: +1 (555) {rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
        f"Call us on +44 20 7946 {rng.randint(1000, 9999)}",
        f"IMEI: {imei(rng)}",
        f"Date: {day}  Time: {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
        f"Total: ${rng.randint(1, 5000):,}.{rng.randint(0, 99):02d}",
        f"Auth code: {rng.randint(100000, 999999)}  Terminal ID: {rng.randint(10**7, 10**8 - 1)}",
        f"Paid with {masked(rng)}",
        f"Invoice INV-{decoy_16(rng)}",
        f"Reference: {rng.randint(10**12, 10**13 - 1)}",
        f"EAN {with_check_digit('400' + ''.join(rng.choice('0123456789') for _ in range(9)))}",
    ]


# --- pictures ---------------------------------------------------------------------------------

_CARD = (856, 540)  # ISO/IEC 7810 ID-1 at 10 px a millimetre


def card_picture(rng: random.Random, number: str, issuer: str, embossed: bool) -> Image.Image:
    """A payment card: gradient, issuer, chip, the number (printed, or embossed: raised
    digits lit from above), holder and expiry."""
    top = tuple(rng.randint(20, 200) for _ in range(3))
    bottom = tuple(min(255, c + rng.randint(20, 60)) for c in top)
    ramp = np.linspace(0, 1, _CARD[1])[:, None, None]
    pixels = (np.array(top) * (1 - ramp) + np.array(bottom) * ramp).repeat(_CARD[0], axis=1)
    card = Image.fromarray(pixels.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(card)
    light = sum(top) / 3 < 130
    ink = (235, 235, 235) if light else (25, 25, 25)
    draw.text((600, 40), issuer.upper()[:10], font=font(40, bold=True), fill=ink)
    draw.rounded_rectangle((80, 170, 190, 250), 12, fill=(212, 175, 55))
    size = rng.choice((52, 56, 60)) if len(number) <= 16 else 44  # 19 digits are printed smaller
    digits = font(size, bold=embossed, mono=True)
    text = grouped(number)
    if embossed:  # raised plastic: a light edge above-left, a shadow below-right
        draw.text((78, 308), text, font=digits, fill=(250, 250, 250))
        draw.text((82, 312), text, font=digits, fill=(40, 40, 40))
        draw.text((80, 310), text, font=digits, fill=(200, 200, 205))
    else:
        draw.text((80, 310), text, font=digits, fill=ink)
    draw.text((80, 420), f"VALID THRU {rng.randint(1, 12):02d}/{rng.randint(27, 33)}",
              font=font(26), fill=ink)  # fmt: skip
    draw.text(
        (80, 460), rng.choice(("JANE DOE", "JOHN SMITH", "A N OTHER")), font=font(32), fill=ink
    )
    return card


@dataclass(frozen=True)
class Shot:
    """How a card is photographed."""

    angle: float  # degrees
    tilt: float  # perspective, 0..0.25
    blur: float  # Gaussian radius, px
    noise: float  # sigma
    light: float  # brightness factor
    quality: int  # JPEG
    scale: float  # card width / frame width
    frame: int = 1280  # frame width
    glare: bool = False  # a lamp's reflection across the card


def random_shot(rng: random.Random) -> Shot:
    return Shot(
        angle=rng.choice((0, 0, rng.uniform(-25, 25), rng.uniform(-8, 8), 90, 180)),
        tilt=rng.uniform(0, 0.2),
        blur=rng.choice((0, 0.8, 1.5, 2.5)),
        noise=rng.choice((0, 6, 12, 18)),
        light=rng.uniform(0.5, 1.4),
        quality=rng.choice((30, 50, 75, 90)),
        scale=rng.uniform(0.3, 0.85),
        frame=rng.choice((1024, 1280, 1600, 2016)),
        glare=rng.random() < 0.3,
    )


def photograph(card: Image.Image, shot: Shot, rng: random.Random) -> bytes:
    """The card on a table, as a phone would take it (see `Shot`), as a JPEG."""
    width, height = shot.frame, int(shot.frame * 0.75)
    seed = np.random.default_rng(rng.randint(0, 9999))
    table = np.full((height, width, 3), [rng.randint(60, 200) for _ in range(3)], np.float32)
    frame = Image.fromarray(
        np.clip(table + seed.normal(0, 8, table.shape), 0, 255).astype(np.uint8)
    )
    target = int(width * shot.scale)
    picture = card.resize((target, int(target * card.height / card.width)), Image.LANCZOS)
    picture = _tilt(picture, shot.tilt, rng).rotate(shot.angle, expand=True, resample=Image.BICUBIC)
    picture.thumbnail((width, height))
    x = rng.randint(0, max(0, width - picture.width))
    y = rng.randint(0, max(0, height - picture.height))
    frame.paste(picture.convert("RGB"), (x, y), picture.getchannel("A"))
    if shot.glare:
        frame = _glare(frame, rng)
    if shot.blur:
        frame = frame.filter(ImageFilter.GaussianBlur(shot.blur))
    if shot.noise:
        pixels = np.asarray(frame, np.float32) + seed.normal(0, shot.noise, (height, width, 3))
        frame = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    frame = ImageEnhance.Brightness(frame).enhance(shot.light)
    out = io.BytesIO()
    frame.save(out, "JPEG", quality=shot.quality)
    return out.getvalue()


def _glare(frame: Image.Image, rng: random.Random) -> Image.Image:
    width, height = frame.size
    cx, cy = rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.8) * height
    radius = rng.uniform(0.15, 0.35) * width
    ys, xs = np.mgrid[0:height, 0:width]
    light = np.clip(1 - np.hypot(xs - cx, ys - cy) / radius, 0, 1)[..., None] * 0.75
    pixels = np.asarray(frame, np.float32) * (1 - light) + 255 * light
    return Image.fromarray(pixels.astype(np.uint8))


def _tilt(picture: Image.Image, tilt: float, rng: random.Random) -> Image.Image:
    picture = picture.convert("RGBA")
    if not tilt:
        return picture
    w, h = picture.size
    d = tilt * w
    corners = [(rng.uniform(0, d), rng.uniform(0, d / 2)), (w - rng.uniform(0, d), 0),
               (w, h), (0, h - rng.uniform(0, d / 2))]  # fmt: skip
    coeffs = _perspective([(0, 0), (w, 0), (w, h), (0, h)], corners)
    return picture.transform((w, h), Image.PERSPECTIVE, coeffs, Image.BICUBIC)


def _perspective(src: list[tuple[float, float]], dst: list[tuple[float, float]]) -> list[float]:
    rows = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    a = np.array(rows, dtype=float)
    b = np.array([c for point in src for c in point], dtype=float)
    return list(np.linalg.solve(a, b))


def screenshot(lines: list[str], width: int = 900, size: int = 18) -> bytes:
    """A chat or web page: dark text on white, one line a row."""
    height = 60 + len(lines) * (size + 14)
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 40), fill=(36, 88, 160))
    draw.text((16, 10), "Support chat", font=font(18, bold=True), fill=(255, 255, 255))
    for row, line in enumerate(lines):
        draw.text((20, 54 + row * (size + 14)), line, font=font(size), fill=(30, 30, 30))
    return samples.png(image)


def receipt_picture(rng: random.Random, lines: list[str]) -> bytes:
    """A till receipt photographed: narrow, monospaced, slightly turned, JPEG."""
    width, size = 420, 16
    image = Image.new("RGB", (width, 40 + len(lines) * (size + 8)), (248, 246, 240))
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        draw.text(
            (14, 20 + row * (size + 8)), line[:44], font=font(size, mono=True), fill=(20, 20, 20)
        )
    image = image.rotate(rng.uniform(-4, 4), expand=True, fillcolor=(90, 90, 90))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=rng.choice((60, 80, 90)))
    return out.getvalue()


# --- documents --------------------------------------------------------------------------------


def statement_lines(rng: random.Random, number: str | None) -> list[str]:
    card = f"Card number: {grouped(number)}" if number else f"Card: {masked(rng)}"
    lines = ["Monthly statement", card, f"Statement date: 2026-0{rng.randint(1, 9)}-15"]
    for _ in range(rng.randint(6, 14)):
        lines.append(f"2026-03-{rng.randint(1, 28):02d}  {rng.choice(samples.WORDS).title()} "
                     f"store  {rng.randint(1, 400)}.{rng.randint(0, 99):02d}")  # fmt: skip
    return lines


def sheet_rows(rng: random.Random, number: str | None) -> list[list[str | float]]:
    rows: list[list[str | float]] = [["date", "merchant", "amount", "card"]]
    for i in range(rng.randint(5, 30)):
        card: str | float = masked(rng)
        if number and i == 2:
            # Excel stores a 15-digit number exactly, as a number; 16 digits are typed as text
            card = float(number) if len(number) == 15 else number
        rows.append([f"2026-03-{rng.randint(1, 28):02d}", rng.choice(samples.WORDS).title(),
                     rng.randint(100, 40000) / 100, card])  # fmt: skip
    return rows


def order_lines(rng: random.Random) -> list[str]:
    lines = ["Thank you for your order!", *noise_lines(rng)]
    rng.shuffle(lines)
    return lines


def chat_lines(rng: random.Random, number: str | None) -> list[str]:
    ask = "Hi, I was charged twice for my order, can you help?"
    if number:
        said = rng.choice((f"My card is {grouped(number)} exp 12/28",
                           f"card number {grouped(number)}", f"{grouped(number)}",
                           f"Visa {grouped(number, '-')} thanks"))  # fmt: skip
    else:
        said = f"I paid with {masked(rng)} on {rng.randint(1, 28)} March"
    return [ask, "Agent: Sure, could you tell me a bit more?", said, "Agent: Thanks, checking now."]


def long_chat_lines(rng: random.Random, number: str | None) -> list[str]:
    """A long conversation, a blank row after each message, the four lines of `chat_lines`
    somewhere in it: what a phone's scrolling screenshot of a chat shows."""
    lines: list[str] = []
    for _ in range(rng.randint(60, 140)):
        words = " ".join(rng.choice(samples.WORDS) for _ in range(rng.randint(3, 8)))
        lines += [rng.choice(("", "Agent: ")) + words.capitalize(), ""]
    at = 2 * rng.randrange(len(lines) // 2)
    lines[at:at] = [line for said in chat_lines(rng, number) for line in (said, "")]
    return lines


@dataclass(frozen=True)
class Sample:
    kind: str
    label: str  # the detected type the engine is handed
    data: bytes
    positive: bool


def _text(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def build(kind: str, rng: random.Random) -> Sample:
    """One labelled sample of ``kind`` (see `KINDS`)."""
    return KINDS[kind](rng)


def _card_clean(rng: random.Random) -> Sample:
    number, issuer = card_number(rng)
    picture = card_picture(rng, number, issuer, embossed=rng.random() < 0.5)
    return Sample("card_clean", "png", samples.png(picture), True)


def _card_photo(rng: random.Random) -> Sample:
    number, issuer = card_number(rng)
    picture = card_picture(rng, number, issuer, embossed=rng.random() < 0.5)
    return Sample("card_photo", "jpeg", photograph(picture, random_shot(rng), rng), True)


def _screenshot(rng: random.Random) -> Sample:
    positive = rng.random() < 0.5
    number = card_number(rng)[0] if positive else None
    return Sample("screenshot", "png", screenshot(chat_lines(rng, number)), positive)


def _scrolling_screenshot(rng: random.Random) -> Sample:
    positive = rng.random() < 0.5
    number = card_number(rng)[0] if positive else None
    data = screenshot(long_chat_lines(rng, number), width=1080, size=36)
    return Sample("scrolling_screenshot", "png", data, positive)


def _receipt_photo(rng: random.Random) -> Sample:
    return Sample("receipt_photo", "jpeg", receipt_picture(rng, order_lines(rng)), False)


def _receipt_pdf(rng: random.Random) -> Sample:
    return Sample("receipt_pdf", "pdf", samples.pdf([order_lines(rng)]), False)


def _order_text(rng: random.Random) -> Sample:
    return Sample("order_confirmation_txt", "txt", _text(order_lines(rng)), False)


def _order_docx(rng: random.Random) -> Sample:
    return Sample("order_confirmation_docx", "docx", samples.docx(order_lines(rng)), False)


def _order_screenshot(rng: random.Random) -> Sample:
    return Sample("order_confirmation_png", "png", screenshot(order_lines(rng)), False)


def _statement_pdf(rng: random.Random) -> Sample:
    positive = rng.random() < 0.5
    number = card_number(rng)[0] if positive else None
    return Sample("statement_pdf", "pdf", samples.pdf([statement_lines(rng, number)]), positive)


def _statement_docx(rng: random.Random) -> Sample:
    positive = rng.random() < 0.5
    number = card_number(rng)[0] if positive else None
    return Sample("statement_docx", "docx", samples.docx(statement_lines(rng, number)), positive)


def _sheet_xlsx(rng: random.Random) -> Sample:
    positive = rng.random() < 0.5
    number = card_number(rng)[0] if positive else None
    return Sample("spreadsheet_xlsx", "xlsx", samples.xlsx(sheet_rows(rng, number)), positive)


def _sheet_csv(rng: random.Random) -> Sample:
    positive = rng.random() < 0.5
    number = card_number(rng)[0] if positive else None
    rows = sheet_rows(rng, number)
    text = "".join(",".join(_cell(v) for v in row) + "\r\n" for row in rows)
    return Sample("spreadsheet_csv", "csv", text.encode(), positive)


def _cell(value: str | float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


KINDS: dict[str, Callable[[random.Random], Sample]] = {
    "card_clean": _card_clean,
    "card_photo": _card_photo,
    "screenshot": _screenshot,
    "scrolling_screenshot": _scrolling_screenshot,
    "receipt_photo": _receipt_photo,
    "receipt_pdf": _receipt_pdf,
    "order_confirmation_txt": _order_text,
    "order_confirmation_docx": _order_docx,
    "order_confirmation_png": _order_screenshot,
    "statement_pdf": _statement_pdf,
    "statement_docx": _statement_docx,
    "spreadsheet_xlsx": _sheet_xlsx,
    "spreadsheet_csv": _sheet_csv,
}
_PICTURES = frozenset({"png", "jpeg"})
_GROUPS = {"txt": ("text", True), "csv": ("code", True)}


# --- running ----------------------------------------------------------------------------------


def scan(engine: SensitiveEngine, sample: Sample) -> tuple[bool, float, float]:
    """Whether the engine reports a card number, its OCR time (ms, 0 without OCR) and the
    process CPU time of the whole scan (ms: every thread, so OCR's included)."""
    group, is_text = _GROUPS.get(sample.label, ("document", False))
    item = Item(f"sample.{sample.label}", sample.data, FileType(sample.label, "", group, is_text))
    context = Context(Limits(), deadline=time.monotonic() + 60)
    cpu = time.process_time()
    result = engine.scan(item, context)
    cpu = (time.process_time() - cpu) * 1000
    found = any(f.code.name == "SENSITIVE_CARD" for f in result.findings)
    return found, float(result.facts["sensitive"].get("ocr_ms", 0.0)), cpu


def run(
    kinds: list[str], count: int, seed: int, engine: SensitiveEngine, failures: Path | None = None
) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    ocr_times: list[float] = []
    cpu_times: list[float] = []
    for kind in kinds:
        rng = random.Random(f"{seed}-{kind}")
        hits = positives = false = negatives = 0
        for _ in range(count):
            sample = build(kind, rng)
            found, ocr_ms, cpu_ms = scan(engine, sample)
            if failures is not None and found != sample.positive:
                failures.mkdir(parents=True, exist_ok=True)
                what = "missed" if sample.positive else "false"
                (failures / f"{kind}-{positives + negatives}-{what}.{sample.label}").write_bytes(
                    sample.data
                )
            if sample.label in _PICTURES and ocr_ms:
                ocr_times.append(ocr_ms)
                cpu_times.append(cpu_ms)
            if sample.positive:
                positives, hits = positives + 1, hits + found
            else:
                negatives, false = negatives + 1, false + found
        rows[kind] = {
            "positives": positives,
            "recall": round(hits / positives, 3) if positives else None,
            "negatives": negatives,
            "false_positive_rate": round(false / negatives, 3) if negatives else None,
        }
        print(kind, rows[kind], file=sys.stderr)
    rows["ocr_ms"] = {
        "pictures": len(ocr_times),
        "p50": round(percentile(ocr_times, 50), 1),
        "p95": round(percentile(ocr_times, 95), 1),
        "cpu_p50": round(percentile(cpu_times, 50), 1),
        "cpu_p95": round(percentile(cpu_times, 95), 1),
        "load_average": [round(x, 1) for x in os.getloadavg()],
    }
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ocr", default="local", choices=("none", "local"))
    parser.add_argument("--only", nargs="*", choices=sorted(KINDS))
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--params", default="{}", help="RapidOCR settings as JSON (variants)")
    parser.add_argument("--save", type=Path, help="write the samples here (to look at them)")
    parser.add_argument("--failures", type=Path, help="write missed and false samples here")
    args = parser.parse_args()
    options = SensitiveOptions(ocr=args.ocr)
    engine = ENGINE.build(options, None)
    if args.ocr == "local":
        from attachguard.sensitive.ocr_local import LocalOcr

        engine = SensitiveEngine(options, LocalOcr(json.loads(args.params)))
    kinds = args.only or sorted(KINDS)
    if args.save:
        _save(args.save, kinds, args.seed)
    started = time.perf_counter()
    report = run(kinds, args.count, args.seed, engine, args.failures)
    report["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=2))


def _save(folder: Path, kinds: list[str], seed: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for kind in kinds:
        rng = random.Random(f"{seed}-{kind}")
        for n in range(3):
            sample = build(kind, rng)
            (
                folder / f"{kind}-{n}-{'pos' if sample.positive else 'neg'}.{sample.label}"
            ).write_bytes(sample.data)


if __name__ == "__main__":
    main()
