"""The PDFium text reader's own process (`pdfium_text` starts it): ``python -m
attachguard.sensitive.pdfium_worker BYTES FD``, where BYTES caps its address space and FD is
the pipe it answers on (not stdout, which a library may print to).

Requests on stdin, one at a time: a header (`HEADER`: the PDF's size, how many pages to read,
the seconds it may take) and the PDF. Answers on FD: each page's text as a 4-byte length
and UTF-8 (surrogates passed through), then `END`. A page PDFium cannot read, a file it cannot
open, or the time running out (checked between pages) ends the answer there. The process ends
at the end of its input (its parent gone or done with it), and dies, with nothing written,
when PDFium passes the memory cap.
"""

from __future__ import annotations

import os
import resource
import struct
import sys
import time
from collections.abc import Iterator
from typing import IO, Any

__all__ = ["END", "HEADER"]

HEADER = struct.Struct("<QId")  # PDF bytes, pages to read, seconds
END = 0xFFFFFFFF  # after the last page's text


def main() -> None:
    memory, fd = int(sys.argv[1]), int(sys.argv[2])
    import pypdfium2 as pdfium  # type: ignore[import-untyped]

    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    requests, answers = sys.stdin.buffer, os.fdopen(fd, "wb")
    while (head := _exactly(requests, HEADER.size)) is not None:
        size, pages, seconds = HEADER.unpack(head)
        data = _exactly(requests, size)
        if data is None:
            return
        for text in _texts(pdfium, data, pages, time.monotonic() + seconds):
            raw = text.encode("utf-8", "surrogatepass")
            answers.write(struct.pack("<I", len(raw)) + raw)
            answers.flush()
        answers.write(struct.pack("<I", END))
        answers.flush()


def _texts(pdfium: Any, data: bytes, pages: int, stop: float) -> Iterator[str]:
    """Each page's text, as soon as it is read."""
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return
    try:
        for index in range(min(pages, len(document))):
            if time.monotonic() > stop:
                break
            page = document[index]
            try:
                textpage = page.get_textpage()
                yield textpage.get_text_range()
                textpage.close()
            finally:
                page.close()
    except pdfium.PdfiumError:
        pass
    finally:
        document.close()


def _exactly(stream: IO[bytes], size: int) -> bytes | None:
    """``size`` bytes of ``stream``; None at its end."""
    data = stream.read(size)
    return data if data is not None and len(data) == size else None


if __name__ == "__main__":
    main()
