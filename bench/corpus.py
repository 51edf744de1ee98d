"""The benchmark corpus: files of a target size per type, in the mix a contact center sees,
deterministic for a given seed (`bench/`)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Sequence

from attachguard.samples import (
    csv_text,
    docx,
    fit_image,
    jpeg,
    mp4,
    order_rows,
    pdf,
    png,
    sentence,
    transcript,
    wav,
    xlsx,
)


def _fit_lines(build: Callable[[int], bytes], size: int, n: int = 50) -> bytes:
    """``build(n)`` grows about linearly with ``n``: extrapolate from a first build, then
    correct until within 3%."""
    data = build(n)
    for _ in range(6):
        if abs(len(data) - size) <= 0.03 * size:
            break
        n = max(1, round(n * size / len(data)))
        data = build(n)
    return data


def _paragraphs(count: int, seed: int, words: int = 25) -> list[str]:
    rng = random.Random(seed)
    return [sentence(rng, words) for _ in range(count)]


def _pdf_of(size: int, seed: int) -> bytes:
    """Small PDFs are pages of text; larger ones are ten pages plus a scanned page (a JPEG),
    as real large PDFs mostly are."""
    if size <= 60_000:
        return _fit_lines(lambda n: pdf([_paragraphs(40, seed + i, 9) for i in range(n)]), size, 5)
    pages = [_paragraphs(40, seed + i, 9) for i in range(10)]
    scan = fit_image(lambda im: jpeg(im, exif=False), size - len(pdf(pages)) - 250, seed, 30.0)
    return pdf(pages, image=scan)


def _docx_of(size: int, seed: int) -> bytes:
    """Small documents are paragraphs of text; larger ones carry a photo in word/media."""
    if size <= 40_000:
        return _fit_lines(lambda n: docx(_paragraphs(n, seed)), size)
    paragraphs = _paragraphs(200, seed)
    filler = size - len(docx(paragraphs)) - 400
    return docx(paragraphs, image=fit_image(jpeg, filler, seed, 30.0))


BUILDERS: dict[str, tuple[str, Callable[[int, int], bytes]]] = {
    "pdf": (".pdf", _pdf_of),
    "jpeg": (".jpg", lambda size, seed: fit_image(jpeg, size, seed, 30.0)),
    "png": (".png", lambda size, seed: fit_image(png, size, seed, 6.0)),
    "docx": (".docx", _docx_of),
    "xlsx": (".xlsx", lambda size, seed: _fit_lines(lambda n: xlsx(order_rows(n, seed)), size)),
    "csv": (".csv", lambda size, seed: _fit_lines(lambda n: csv_text(order_rows(n, seed)), size)),
    "txt": (".txt", lambda size, seed: _fit_lines(lambda n: transcript(n, seed), size)),
    "wav": (".wav", wav),
    "mp4": (".mp4", mp4),
}

# What a contact center's attachments look like, roughly: mostly photos and PDFs.
MIX: dict[str, float] = {
    "jpeg": 0.30, "pdf": 0.20, "png": 0.12, "docx": 0.10, "xlsx": 0.06, "csv": 0.06, "txt": 0.08,
    "wav": 0.03, "mp4": 0.05,
}  # fmt: skip


def build(kind: str, size: int, seed: int = 0) -> tuple[str, bytes]:
    """One ``kind`` file (a key of `BUILDERS`) of about ``size`` bytes: (extension, bytes)."""
    extension, builder = BUILDERS[kind]
    return extension, builder(size, seed)


def mixed_sizes(
    count: int, seed: int = 0, low: int = 10_000, high: int = 10_000_000
) -> list[tuple[str, int]]:
    """``count`` (kind, size) pairs: kinds drawn from `MIX`, sizes log-uniform in [low, high]."""
    rng = random.Random(seed)
    kinds = rng.choices(list(MIX), weights=list(MIX.values()), k=count)
    return [(k, round(math.exp(rng.uniform(math.log(low), math.log(high))))) for k in kinds]


def corpus(sizes: Sequence[tuple[str, int]], seed: int = 0) -> Iterator[tuple[str, bytes]]:
    """One file per (kind, target size), as (file name, bytes); deterministic for ``seed``."""
    for index, (kind, size) in enumerate(sizes):
        extension, data = build(kind, size, seed + index)
        yield f"{index:04d}-{kind}-{size}{extension}", data
