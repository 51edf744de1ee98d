"""Sensitive data: full payment card numbers (and, when the policy asks, IBANs and US social
security numbers) in every attachment.

Where it looks: plain text; CSV and TSV, each cell after its column's header; HTML and SVG as
written and as a browser shows them; e-mail messages with their parts decoded; DOCX, XLSX and
PPTX text (paragraphs, tables, headers and footers, notes, comments, text boxes, fields,
alternative text, sheet names, print headers, shared strings, inline strings and numeric
cells); RTF text, comments and text boxes; PDF text layers, notes, form fields, bookmarks and
document information; legacy .doc, .xls and .ppt text; and pictures, through
OCR: JPEG, PNG, HEIC and the other image types, sent as such or unpacked from a document by
another engine (an Office file's media), the pages of a PDF that have no text layer (scans) and
the pictures an RTF draws. How a number is recognised is in `attachguard.sensitive` (`cards`,
`iban`, `ssn`); how each format is read, in its reader there.

Never shown: the number. Findings, facts and messages name the class, the issuer or country and
the last four characters ("a payment card number (Visa, ending 4242)"); nothing else of it
leaves the engine.

Options (``engines.sensitive``): which classes are looked for, each with its action and the
number of distinct numbers that makes a finding; the OCR backend (``auto``, the default: ``local``
where the ``attachguard[ocr]`` extra is installed, else ``none``; ``none``, ``local``,
``textract``, ``rekognition``); how many pictures one scan reads when OCR is on (a cost cap,
applied by the pipeline), how many PDF pages, and how long OCR may take on one item
(``ocr_seconds``; boxes shaped like a card number are read first). Past a cap, or when pages
or pictures are left for lack of time, SENSITIVE_LIMIT, which is allowed by default (see its
declaration); so are PDF pages read without PDFium because it was busy or out of time (their
text can differ from an idle scan's). Office thumbnails are not read (a picture of the
document's own text).
Pictures too small to show a number legibly are not read. A damaged or encrypted file is not
read here: its own engine reports it. An OCR backend that is configured but cannot run (its
package missing) is an engine error, which rejects.

Facts (top-level file): distinct numbers found per class, the OCR backend, ``ocr_ms`` (time
spent in OCR), pictures read, what could not be read.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from attachguard.codes import Action, Code, declare
from attachguard.engines.base import (
    Cap,
    Context,
    EngineSpec,
    Item,
    Options,
    Resources,
    Result,
    finding,
)
from attachguard.engines.sensitive_read import (
    IMAGES,
    LEGACY,
    MEDIA,
    PACKAGES,
    TEXT,
    Budget,
    OcrClock,
    Reading,
    read,
)
from attachguard.engines.sensitive_tally import tally
from attachguard.report import Finding
from attachguard.sensitive import Kind
from attachguard.sensitive.ocr import OcrBackend, load_ocr, local_installed, resolve
from attachguard.sensitive.pdf import PdfExtract

NAME = "sensitive"

SENSITIVE_CARD = declare(
    "SENSITIVE_CARD",
    "threat",
    Action.REJECT,
    "holds a full payment card number",
    "This file seems to contain a full card number. For your security, please don't share card "
    "details in chat.",
)
SENSITIVE_IBAN = declare(
    "SENSITIVE_IBAN",
    "threat",
    Action.REJECT,
    "holds an international bank account number (IBAN)",
    "This file seems to contain a full bank account number. For your security, please don't "
    "share bank details in chat.",
)
SENSITIVE_SSN = declare(
    "SENSITIVE_SSN",
    "threat",
    Action.REJECT,
    "holds a US social security number",
    "This file seems to contain a social security number. For your security, please don't share "
    "it in chat.",
)
# Allowed by default, unlike the other unscannable codes: this is a check on what the customer
# shares about themselves, not on what could attack the reader, and rejecting every long manual
# or 30-photo damage report would be a rejection no one could defend. The report still lists
# what was not read (``not_scanned``); a policy may reject it.
SENSITIVE_LIMIT = declare(
    "SENSITIVE_LIMIT",
    "unscannable",
    Action.ALLOW,
    "more pictures, files or pages than the policy reads for sensitive numbers",
    "This file holds more pages or pictures than we can check, so it wasn't shared.",
    # often "out of time" (OCR cut short under load, PDF pages left): an idle rescan could
    # find the number it missed
    transient=True,
)
CODES: dict[Kind, Code] = {"card": SENSITIVE_CARD, "iban": SENSITIVE_IBAN, "ssn": SENSITIVE_SSN}


class ClassRule(Options):
    """What a class of numbers does: ``reject`` (or ``allow``: counted in the report's facts,
    no finding) once ``min_count`` distinct numbers of it are in one item."""

    action: Action = Action.REJECT
    min_count: int = Field(1, ge=1)


def _default_classes() -> dict[Kind, ClassRule]:
    return {"card": ClassRule()}


class SensitiveOptions(Options):
    """``engines.sensitive`` (see the module docstring and docs/policy.md)."""

    classes: dict[Kind, ClassRule] = Field(default_factory=_default_classes)
    ocr: Literal["auto", "none", "local", "textract", "rekognition"] = "auto"
    max_images: int = Field(20, ge=0)
    max_pages: int = Field(500, ge=1)
    # A card photo reads in 1-2 s; a scanned page of dense print took 23 s. Boxes shaped like
    # a card number are read first, so a page cut short has most likely shown its numbers.
    ocr_seconds: float = Field(8.0, gt=0)


class SensitiveEngine:
    """Finds sensitive numbers (see the module docstring). ``ocr``: the backend that reads
    pictures (None: pictures are not read), shared by every scan."""

    name = NAME

    def __init__(self, options: SensitiveOptions, ocr: OcrBackend | None = None) -> None:
        self.options = options
        self.ocr = ocr
        self.clock = OcrClock()

    def version(self) -> str:
        if self.ocr:
            reader = self.ocr.version()
        elif self.options.ocr == "auto" and not local_installed():
            reader = "no OCR: pictures are not read; install attachguard[ocr] to read them"
        else:
            reader = "no OCR"
        return f"attachguard sensitive 1 ({reader})"

    def scan(self, item: Item, context: Context) -> Result:
        options = self.options
        budget = Budget(options.max_pages, options.max_images, options.ocr_seconds)
        reading = read(item, context, budget, self.ocr, self.clock)
        findings, counts = tally(reading.extract.passages, options.classes, CODES, NAME)
        findings += _limits(reading, options.max_images)
        facts: dict[str, object] = {"found": counts, "ocr": self.ocr.name if self.ocr else "none"}
        if reading.ocr_ms:
            facts.update(ocr_ms=round(reading.ocr_ms, 1), pictures_read=reading.pictures_read)
        unread = reading.extract.unread + reading.skipped
        if unread:
            facts["not_read"] = sorted(set(unread))[:10]
        timings = {"ocr": reading.ocr_ms} if reading.ocr_ms else {}
        return Result(findings, facts={NAME: facts}, timings_ms=timings)


def _limits(reading: Reading, max_pictures: int) -> list[Finding]:
    out = []
    if reading.pages_over:
        pages = reading.pages_over
        message = f"{pages:,} pages not read for sensitive numbers (page or time limit)"
        out.append(finding(NAME, SENSITIVE_LIMIT, message))
    if reading.pictures_over:
        message = f"pictures past the first {max_pictures:,} not read for sensitive numbers"
        out.append(finding(NAME, SENSITIVE_LIMIT, message))
    if reading.pictures_late:
        late = reading.pictures_late
        message = f"{late:,} picture(s) not read in full for sensitive numbers (OCR time limit)"
        out.append(finding(NAME, SENSITIVE_LIMIT, message))
    for what in dict.fromkeys(reading.extract.limited):
        out.append(finding(NAME, SENSITIVE_LIMIT, f"{what}: not read for sensitive numbers"))
    # read, but not as an idle scan reads them: a verdict of the moment, not to be cached
    if isinstance(reading.extract, PdfExtract) and reading.extract.without_pdfium:
        pages = reading.extract.without_pdfium
        message = f"{pages:,} page(s) read without PDFium (out of time): text order may differ"
        out.append(finding(NAME, SENSITIVE_LIMIT, message))
    return out


def _cap(options: SensitiveOptions) -> int:
    """Nested pictures read in one scan: ``max_images`` when pictures cost an OCR call; without
    OCR nothing read is costly, so no number of them is reported."""
    return options.max_images if resolve(options.ocr) != "none" else 1_000_000


def _build(options: SensitiveOptions, resources: Resources) -> SensitiveEngine:
    return SensitiveEngine(options, load_ocr(options.ocr))


ENGINE = EngineSpec(
    name=NAME,
    summary="full payment card numbers (optionally IBANs, US social security numbers) in text, "
    "documents and, through OCR, pictures",
    types=(*TEXT, "pdf", *PACKAGES, "rtf", *LEGACY, *IMAGES, *MEDIA),
    codes=(SENSITIVE_CARD, SENSITIVE_IBAN, SENSITIVE_SSN, SENSITIVE_LIMIT),
    build=_build,
    options=SensitiveOptions,
    # Only pictures cost an OCR call; nested text, documents and PDFs are read at no such cost.
    cap=Cap(_cap, SENSITIVE_LIMIT, "embedded pictures", labels=IMAGES),
    order=80,
)
