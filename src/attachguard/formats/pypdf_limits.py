"""pypdf held to a decoded-size limit: one configuration, used by every reader of PDFs (the
PDF engine, the sensitive engine's text reader), so that no decoder expands past it. Importing
this module also gives pypdf an LZW decoder that honours its parameters as viewers do
(`pdffilters.install`) and objects that are references read as MuPDF reads them
(`_cache_indirect_object`): every reader of PDFs imports it before reading one."""

from __future__ import annotations

from typing import Any

from pypdf import Configuration, PdfReader, get_configuration
from pypdf.generic import IndirectObject, NullObject, PdfObject

from attachguard.formats import pdffilters

pdffilters.install()

__all__ = ["limited"]

_OUTPUT_LIMITS = (
    "zlib_maximum_output_length",
    "lzw_maximum_output_length",
    "run_length_maximum_output_length",
    "brotli_maximum_output_length",
    "jbig2_maximum_output_length",
)


def limited(limit: int) -> Configuration:
    """pypdf's configuration with no decoder output above ``limit`` (pypdf reads 0 as none);
    use it as ``with pypdf.apply_configuration(limited(n)):``."""
    current = get_configuration()
    limit = max(limit, 1)
    return current.with_overwrites(
        **{key: min(limit, getattr(current, key) or limit) for key in _OUTPUT_LIMITS}
    )


_pypdf_cache = PdfReader.cache_indirect_object
_pypdf_get = PdfReader.get_object
_MOST_CHAIN = 10  # references to references followed (MuPDF's pdf_resolve_indirect_chain)


def _cache_indirect_object(
    reader: PdfReader, generation: int, idnum: int, obj: PdfObject | None
) -> Any:
    """pypdf's cache of an object it read; an object that is itself a reference (macOS
    Preview's incremental saves write ``47 0 obj 46 0 R endobj``; hunt 103) is the object it
    leads to (`_target`), cached under both numbers and left naming its own. pypdf set the
    reference's read-only reference and raised: the PDF engine called such a file CORRUPT."""
    if not isinstance(obj, IndirectObject):
        return _pypdf_cache(reader, generation, idnum, obj)
    target = _target(obj, idnum, generation)
    reader.resolved_objects[(generation, idnum)] = target
    return target


def _get_object(reader: PdfReader, indirect_reference: int | IndirectObject) -> Any:
    """pypdf's object, never a reference: pypdf returns what it read, not what it cached, and
    a reference where an object is expected read as no action at all."""
    obj = _pypdf_get(reader, indirect_reference)
    if not isinstance(obj, IndirectObject):
        return obj
    if isinstance(indirect_reference, IndirectObject):
        idnum, generation = indirect_reference.idnum, indirect_reference.generation
    else:
        idnum, generation = indirect_reference, 0
    return _target(obj, idnum, generation)


def _target(obj: PdfObject | None, idnum: int, generation: int) -> PdfObject:
    """What a chain of references leads to, as MuPDF follows one; null past `_MOST_CHAIN`
    references or back to the object itself."""
    for _ in range(_MOST_CHAIN):
        if not isinstance(obj, IndirectObject) or (obj.idnum, obj.generation) == (
            idnum,
            generation,
        ):
            break
        obj = obj.get_object()
    return NullObject() if obj is None or isinstance(obj, IndirectObject) else obj


PdfReader.cache_indirect_object = _cache_indirect_object  # type: ignore[method-assign,assignment]
PdfReader.get_object = _get_object  # type: ignore[method-assign,assignment]
