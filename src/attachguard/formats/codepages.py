"""Python's codec for a Windows code page number, as Office and RTF write one (an Excel
CODEPAGE record, a property set's PID_CODEPAGE, RTF's ``\\ansicpgN``): ``cpNNN`` where Python
has it, else the codec Windows maps the number to (Mac Office's 10000 is Mac Roman, 28591 is
Latin-1, 65001 UTF-8; Excel writes 367 for ASCII and 32768/32769 for Mac Roman and Windows-1252).
Shared by every reader of legacy Office and RTF text, so that they decode alike."""

from __future__ import annotations

import codecs

__all__ = ["codec"]

# Windows code pages whose Python codec is not called cpNNN (as .NET's Encoding names them)
_NAMED = {
    367: "ascii", 1200: "utf-16-le", 1201: "utf-16-be", 20127: "ascii", 20866: "koi8_r",
    21866: "koi8_u", 32768: "mac_roman", 32769: "cp1252",
    65000: "utf-7", 65001: "utf-8", 10000: "mac_roman", 10001: "shift_jis", 10002: "big5",
    10003: "euc_kr", 10004: "mac_arabic", 10006: "mac_greek", 10007: "mac_cyrillic",
    10008: "gb2312", 10010: "mac_romanian", 10017: "mac_cyrillic", 10029: "mac_latin2",
    10079: "mac_iceland", 10081: "mac_turkish", 10082: "mac_croatian", 20932: "euc_jp",
    20936: "gb2312", 28591: "latin_1", 28603: "iso8859_13", 28605: "iso8859_15",
    50220: "iso2022_jp", 50221: "iso2022_jp_ext", 50222: "iso2022_jp", 50225: "iso2022_kr",
    51932: "euc_jp", 51936: "gb2312", 51949: "euc_kr", 52936: "hz", 54936: "gb18030",
    **{28590 + n: f"iso8859_{n}" for n in range(2, 10)},
}  # fmt: skip


def codec(code_page: int, unknown: str = "cp1252") -> str:
    """The codec of ``code_page``; ``unknown`` for a number Python has no codec for."""
    name = _NAMED.get(code_page, f"cp{code_page}")
    try:
        return codecs.lookup(name).name
    except LookupError:
        return unknown
