"""Power Query in a workbook: the queries Excel keeps in a ``customXml`` DataMashup part, and
whether they fetch content from outside the file.

The part (MS-QDEFF) is XML whose one element, ``DataMashup``, holds base64 text; decoded, it is
a version (4 bytes), the length of the package parts (4 bytes) and the package parts: a zip
whose ``Formulas/Section1.m`` holds the queries in the M language. `queries` returns that text;
`remote_calls` names the M functions in it that read from the web, a SharePoint or OData
service, or a file on another machine (``File.Contents("\\\\host\\share\\x.xlsx")``), which
Excel runs when the query refreshes (on open when its connection says so). Every ``.m`` member
is read (Excel runs ``Formulas/Section1.m``; a decoy listed before it must not hide it). Reading
is bounded: at most `MAX_PART` bytes of part, `MAX_FORMULAS` bytes of M text in all; past
either, `TooLarge` (the caller fails closed: what was not read could hold a call).
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import zipfile

__all__ = ["MASHUP_ROOT", "MAX_FORMULAS", "MAX_PART", "TooLarge", "queries", "remote_calls"]

MASHUP_ROOT = "http://schemas.microsoft.com/DataMashup DataMashup"  # as expat names it
MAX_PART = 16 << 20
MAX_FORMULAS = 4 << 20
_BASE64 = re.compile(r">\s*([A-Za-z0-9+/=\s]{16,})\s*<")
_BOMS = ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"), (b"\xef\xbb\xbf", "utf-8"))
# Functions that fetch whatever their argument names: the web, SharePoint, OData services.
_FETCHERS = re.compile(
    r"\b(Web\.(?:Contents|Page|BrowserContents)|OData\.Feed|SharePoint\.\w+)\s*\("
)
# Functions that read a path: remote only when the path is a URL or a network share.
_PATHS = re.compile(
    r"\b(File\.Contents|Folder\.(?:Files|Contents)|Csv\.Document|Excel\.Workbook|Xml\.Document"
    r"|Json\.Document)\s*\(\s*\"(?:\\\\|//|https?:|ftp:|file://[^/])",
    re.IGNORECASE,
)


class TooLarge(Exception):
    """A DataMashup part, or its M text, larger than this module reads."""


def queries(part: bytes) -> str | None:
    """The M text of a DataMashup part (every ``.m`` member, in order), or None when it holds
    none that can be read; `TooLarge` past the limits."""
    if len(part) > MAX_PART:
        raise TooLarge(f"a Power Query part of {len(part):,} bytes")
    encoding = next((codec for bom, codec in _BOMS if part.startswith(bom)), None)
    if encoding is None:
        encoding = "utf-16-le" if part[1:2] == b"\x00" else "utf-8"
    text = part.decode(encoding, errors="replace")
    found = _BASE64.search(text)
    if found is None:
        return None
    try:
        raw = base64.b64decode("".join(found.group(1).split()))
    except (binascii.Error, ValueError):
        return None
    size = int.from_bytes(raw[4:8], "little")
    try:
        with zipfile.ZipFile(io.BytesIO(raw[8 : 8 + size])) as package:
            return _formulas(package)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return None


def _formulas(package: zipfile.ZipFile) -> str | None:
    texts, left = [], MAX_FORMULAS
    for info in package.infolist():
        if not info.filename.lower().endswith(".m"):
            continue
        with package.open(info) as member:
            data = member.read(left + 1)
        if len(data) > left:
            raise TooLarge(f"Power Query formulas over {MAX_FORMULAS:,} bytes")
        left -= len(data)
        texts.append(data.decode("utf-8", errors="replace"))
    return "\n".join(texts) if texts else None


def remote_calls(formulas: str) -> list[str]:
    """The M functions in ``formulas`` that fetch from outside the file, in order, once each."""
    names = [m.group(1) for m in _FETCHERS.finditer(formulas)]
    names += [m.group(1) for m in _PATHS.finditer(formulas)]
    return list(dict.fromkeys(names))
