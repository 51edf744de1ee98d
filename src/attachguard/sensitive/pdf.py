"""The text of a PDF: every page's text layer (pypdf), the values of its form fields, and the
pictures of the pages that have no text layer (scans), for OCR.

Pages are read in order, at most ``max_pages`` of them, and no later than `_TEXT_SHARE` of the
time left (text extraction costs 30-70 ms a page with pypdf here): the pages past either limit
are counted, not read. A page whose text cannot be extracted is noted. On a page with no text,
the pictures it draws directly (image XObjects) are returned as image files, at most
``max_pictures`` for the whole PDF: a JPEG as stored, anything else decoded by pypdf and written
as PNG; a picture over ``limits.max_image_pixels``, or one pypdf cannot decode (JBIG2 without
its decoder), is noted and not read. Pictures on pages that have text are not read here (when
image moderation is on, the PDF engine hands every picture to the pipeline, and OCR reads them
there). pypdf's decoders are held to ``limits.max_expanded_bytes``. A PDF that needs a password,
or that pypdf cannot open, is noted and not read: the PDF engine reports it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from io import BytesIO
from typing import TYPE_CHECKING

from pypdf import PasswordType, PdfReader, apply_configuration, get_configuration
from pypdf.errors import DependencyError, PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, StreamObject

from attachguard.sensitive.passages import Extract, Passage

if TYPE_CHECKING:
    from pypdf import Configuration, PageObject

    from attachguard.policy import Limits

_OUTPUT_LIMITS = (
    "zlib_maximum_output_length",
    "lzw_maximum_output_length",
    "run_length_maximum_output_length",
    "brotli_maximum_output_length",
    "jbig2_maximum_output_length",
)
# What pypdf raises on damaged input besides its own errors.
_DAMAGED = (PyPdfError, ValueError, TypeError, KeyError, IndexError, AttributeError,
            AssertionError, OSError, RecursionError, ZeroDivisionError,
            NotImplementedError)  # fmt: skip
_TEXT_SHARE = 0.6  # of the time left: the rest is for OCR and the findings


@dataclass(frozen=True)
class PdfBudget:
    """How much of a PDF is read: pages, pictures of pages without text, and by when."""

    max_pages: int
    max_pictures: int
    deadline: float


def read(data: bytes, limits: Limits, budget: PdfBudget) -> tuple[Extract, int]:
    """The passages (one per page with text, "page N"; "form fields") and the pictures of the
    pages without text, and how many pages were left unread (over ``max_pages`` or out of
    time; 0 when every page was read)."""
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)  # its warnings quote the file
    with apply_configuration(_limited(limits.max_expanded_bytes)):
        return _read(data, limits, budget)


def _limited(limit: int) -> Configuration:
    current = get_configuration()
    limit = max(limit, 1)
    return current.with_overwrites(
        **{key: min(limit, getattr(current, key) or limit) for key in _OUTPUT_LIMITS}
    )


def _read(data: bytes, limits: Limits, budget: PdfBudget) -> tuple[Extract, int]:
    extract = Extract()
    try:
        reader = PdfReader(BytesIO(data), strict=False)
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            extract.unread.append("the PDF needs a password")
            return extract, 0
        count = len(reader.pages)
    except _DAMAGED:
        extract.unread.append("the PDF could not be opened")
        return extract, 0
    stop = time.monotonic() + _TEXT_SHARE * max(0.0, budget.deadline - time.monotonic())
    for number in range(1, min(count, budget.max_pages) + 1):
        if time.monotonic() > stop:
            extract.unread.append(f"pages from {number} on (out of time)")
            return extract, count - number + 1
        _page(reader, number, extract, limits, budget.max_pictures)
    _form_fields(reader, extract)
    return extract, max(0, count - budget.max_pages)


def _page(reader: PdfReader, number: int, extract: Extract, limits: Limits, most: int) -> None:
    try:
        page = reader.pages[number - 1]
        text = page.extract_text()
    except _DAMAGED:
        extract.unread.append(f"page {number} (its text could not be extracted)")
        return
    if text.strip():
        extract.passages.append(Passage(text, f"page {number}"))
    elif len(extract.pictures) < most:
        for data in _pictures(page, number, limits, extract)[: most - len(extract.pictures)]:
            extract.pictures.append((f"page {number}", data))


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
    filters = image.get("/Filter")
    try:
        if filters == "/DCTDecode" or filters == ArrayObject([NameObject("/DCTDecode")]):
            return bytes(image._data)  # the JPEG file itself; no public accessor for raw bytes
        out = BytesIO()
        image.decode_as_image().save(out, "PNG")
    except DependencyError:  # JBIG2 needs the jbig2dec program (scripts/setup.sh installs it)
        return "its decoder is not installed here"
    except (*_DAMAGED, MemoryError):
        return "it could not be decoded"
    return out.getvalue()


def _form_fields(reader: PdfReader, extract: Extract) -> None:
    try:
        fields = reader.get_form_text_fields() or {}
    except _DAMAGED:
        extract.unread.append("form fields (damaged)")
        return
    values = [str(v) for v in fields.values() if v]
    if values:
        extract.passages.append(Passage("\n".join(values), "form fields"))
