"""pypdf held to a decoded-size limit: one configuration, used by every reader of PDFs (the
PDF engine, the sensitive engine's text reader), so that no decoder expands past it. Importing
this module also gives pypdf an LZW decoder that honours its parameters as viewers do
(`pdffilters.install`): every reader of PDFs imports it before reading one."""

from __future__ import annotations

from pypdf import Configuration, get_configuration

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
