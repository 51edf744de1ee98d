"""A PDF's page text by PDFium (pypdfium2): about 15 times faster than pypdf's text
extraction (0.7 s against 11 s of CPU on the 150 real-world PDFs), and it maps glyphs to text
through the same ToUnicode maps and encodings.

PDFium inflates streams with no limit of its own, so a file is given to it only when every
stream it could decode is known to stay within the byte limit (`formats.pdfstreams`); anything
else is left to pypdf, whose decoders are held to the limit. PDFium is not thread-safe: one
document is read at a time, under a lock (ctypes releases the GIL meanwhile).
"""

from __future__ import annotations

import threading
import time

import pypdfium2 as pdfium  # type: ignore[import-untyped]

from attachguard.formats.pdfstreams import decoded_size

__all__ = ["page_texts"]

_LOCK = threading.Lock()


def page_texts(data: bytes, pages: int, stop: float, limit: int) -> list[str]:
    """The text of the first ``pages`` pages, in order, as many as are read before ``stop``
    (`time.monotonic`); [] when the streams are not known to decode within ``limit`` bytes, or
    PDFium cannot open the file. A page PDFium cannot read ends the list there."""
    if pages <= 0 or decoded_size(data, limit) is None:
        return []
    texts: list[str] = []
    with _LOCK:
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError:
            return []
        try:
            for index in range(min(pages, len(document))):
                if time.monotonic() > stop:
                    break
                page = document[index]
                try:
                    textpage = page.get_textpage()
                    texts.append(textpage.get_text_range())
                    textpage.close()
                finally:
                    page.close()
        except pdfium.PdfiumError:
            pass
        finally:
            document.close()
    return texts
