"""Power Query in a workbook: the queries Excel keeps in a ``customXml`` DataMashup part, and
whether they fetch content from outside the file.

The part (MS-QDEFF) is XML whose one element, ``DataMashup``, holds base64 text; decoded, it is
a version (4 bytes), the length of the package parts (4 bytes) and the package parts: a zip
whose ``Formulas/Section1.m`` holds the queries in the M language. `queries` returns that text;
every ``.m`` member is read (Excel runs ``Formulas/Section1.m``; a decoy listed before it must
not hide it). Reading is bounded: at most `MAX_PART` bytes of part, `MAX_FORMULAS` characters
of M text in all; past either, `TooLarge` (the caller fails closed: what was not read could
hold a call).

`remote_calls` reads the M text as Power Query reads it, token by token (comments, text with
``""`` and ``#(...)`` escapes, ``#"..."`` quoted identifiers, which name the same identifier as
the plain spelling), and names what the queries reach outside the workbook when Excel refreshes
them (on open when the connection says so): any reference to a function of M's data-access
libraries (``Web.*``, ``Sql.*``, ``Odbc.*``, ``SharePoint.*``...), called or not, since a
function value can be called under another name; ``File.*`` and ``Folder.*`` unless given a
local path (``C:\\...``) written in the call or in the one variable it names; the dynamic
lookups ``#shared``, ``#sections`` and ``Expression.Evaluate``, which reach any function by a
name computed at run time and so cannot be judged; and any other library name not known to
stay inside the workbook. Names that only shape data (``Table.*``, ``Text.*``, the parsers
``Csv.Document``, ``Excel.Workbook``..., the workbook's own ``Excel.CurrentWorkbook``, literal
tables) are not reported. A name bound in the queries themselves (``let``, a record field, a
parameter) is not taken for a library one, except in the data-access libraries.

Why a tokeniser of our own: no maintained Python M parser fits (Microsoft's is TypeScript;
``pqtools`` runs it under Node.js; ``pbi-parsers`` is a one-author 0.x full parser whose
behaviour on hostile text would need the same audit), and the judgement needs only the lexical
grammar of the M specification. One regex pass, linear in the text, which `queries` caps.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from itertools import chain, islice, tee

__all__ = ["MASHUP_ROOT", "MAX_FORMULAS", "MAX_PART", "TooLarge", "queries", "remote_calls"]

MASHUP_ROOT = "http://schemas.microsoft.com/DataMashup DataMashup"  # as expat names it
MAX_PART = 16 << 20
MAX_FORMULAS = 4 << 20
_BASE64 = re.compile(r">\s*([A-Za-z0-9+/=\s]{16,})\s*<")
_BOMS = ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"), (b"\xef\xbb\xbf", "utf-8"))


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
        left -= len(data) + 1  # and the line that joins it to the next
        texts.append(data.decode("utf-8", errors="replace"))
    return "\n".join(texts) if texts else None


# M's lexical grammar. A token is (kind, value): ``name`` (an identifier, quoted or not, as the
# name it refers to), ``hash`` (``#shared``, ``#table``...), ``text`` (unescaped), ``op``, or
# ``bad`` (text ending inside a comment, a text or a quoted identifier: the last token).
_Token = tuple[str, str]
_NONE: _Token = ("", "")
_FORMAT = (
    r"\u00ad\u0600-\u0605\u061c\u06dd\u070f\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff"
)
_IDENT = rf"[^\W\d][\w{_FORMAT}]*(?:\.[^\W\d][\w{_FORMAT}]*)*"  # Web.Contents is one identifier
_QUOTED = r'"[^"]*(?:""[^"]*)*"'
_TOKEN = re.compile(
    rf"""(?P<space>\s+)
    |(?P<comment>//[^\r\n\u0085\u2028\u2029]*|/\*.*?\*/)
    |(?P<text>{_QUOTED})
    |\#(?P<quoted>{_QUOTED})
    |\#!(?P<verbatim>{_QUOTED})
    |(?P<hash>\#[A-Za-z]+)
    |(?P<name>{_IDENT})
    |(?P<number>0[xX][0-9A-Fa-f]+|(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?)
    |(?P<bad>/\*|["\#])
    |(?P<op>=>|\.\.\.?|<=|>=|<>|\?\?|.)""",
    re.VERBOSE | re.DOTALL,
)
_ESCAPE = re.compile(r"#\(([^()]*)\)")  # "#(cr,lf)", "#(0057)", "#(0001F600)", "#(#)"
_NAMED_ESCAPES = {"cr": "\r", "lf": "\n", "tab": "\t", "#": "#"}
_SKIPPED = frozenset({"space", "comment", "number"})

# Libraries whose every function reads from outside the workbook: the web, services, databases,
# drivers, scripts (M's "Accessing data" functions, less the parsers of what they read).
_SOURCE_LIBRARIES = (
    "Web WebAction SharePoint OData Sql Odbc OleDb AdoDotNet ActiveDirectory "
    "AdobeAnalytics AnalysisServices AzureStorage AzureDataExplorer Kusto Cdm DB2 Essbase "
    "Exchange GoogleAnalytics Hdfs HdInsight Informix MySQL Oracle PostgreSQL Salesforce "
    "SapBusinessWarehouse SapHana Snowflake Sybase Teradata Python R Extension"
)
_SOURCES = frozenset(_SOURCE_LIBRARIES.split())
_PATHS = frozenset({"File", "Folder"})  # read a path: outside unless a local one
# Libraries that only compute on values: M's standard library, its enumerations and type
# names, the parsers of binary or text (Csv.Document, Access.Database...), and Excel's own
# workbook.
_INSIDE_LIBRARIES = (
    "Table List Record Text Number Date DateTime DateTimeZone Duration Time Logical Binary "
    "BinaryFormat BinaryEncoding BinaryOccurrence BufferMode Byte ByteOrder Int8 Int16 Int32 "
    "Int64 Single Double Decimal Currency Percentage Character Guid Any None Null Type "
    "Function Value Expression Error Diagnostics Lines Uri Combiner Splitter Comparer "
    "Replacer Occurrence Order Precision RoundingMode JoinKind JoinAlgorithm JoinSide "
    "MissingField QuoteStyle ExtraValues GroupKind RelativePosition TextEncoding Compression "
    "CsvStyle LimitClauseKind Day PercentileMode RankKind TraceLevel WebMethod "
    "ODataOmitValues Geography Geometry Cube Csv Json Xml Html Pdf Parquet Excel Access"
)
_INSIDE = frozenset(_INSIDE_LIBRARIES.split())
_DYNAMIC = frozenset({"#shared", "#sections", "Expression.Evaluate"})
_DYNAMIC_NOTE = "(a lookup by a name made when it runs: cannot be judged, treated as outside)"
_COMPUTED_NOTE = "(of a path computed in the query: treated as outside)"
_UNKNOWN_NOTE = "(not a function known to stay inside the workbook)"
_UNTERMINATED = "M text ending inside a comment or text (cannot be judged: treated as outside)"

_DRIVE = re.compile(r"[A-Za-z]:[\\/]")
_OPEN, _CLOSE, _COMMA, _EQUALS = ("op", "("), ("op", ")"), ("op", ","), ("op", "=")
# Where a name followed by "=" is bound: a let, a record (or record type), a section member
_BINDS = frozenset({("name", "let"), ("name", "shared"), ("op", ";"), _COMMA, ("op", "[")})
_LITERAL_ENDS = frozenset({_COMMA, ("op", ";"), ("op", "]"), ("name", "in"), ("name", "meta")})
_PARAMETER_BEFORE = frozenset({_OPEN, _COMMA, ("name", "optional")})
_PARAMETER_AFTER = frozenset({_COMMA, _CLOSE, ("name", "as")})
_FUNCTION_AFTER = frozenset({("op", "=>"), ("name", "as")})


def remote_calls(formulas: str) -> list[str]:
    """What the M text ``formulas`` reaches outside the workbook, in order, once each: the
    library functions it names (``Web.Contents``), each with a note when it is reported because
    it cannot be judged (a dynamic lookup, a computed path, an unknown library)."""
    if len(formulas) > MAX_FORMULAS:
        raise TooLarge(f"Power Query formulas over {MAX_FORMULAS:,} characters")
    reader = _Reader()
    for window in _windows(_tokens(formulas)):
        reader.read(*window)
    return reader.calls()


def _tokens(formulas: str) -> Iterator[_Token]:
    """The tokens of M text that matter here: no spaces, comments or numbers."""
    for match in _TOKEN.finditer(formulas):
        kind = match.lastgroup or "op"
        if kind in _SKIPPED:
            continue
        value = match.group(kind)
        if kind in ("text", "quoted", "verbatim"):
            value = "" if kind == "verbatim" else _unescaped(value[1:-1])
            kind = "name" if kind == "quoted" else "text"
        yield kind, _identifier(value) if kind == "name" else value
        if kind == "bad":
            return


def _unescaped(body: str) -> str:
    """The characters of a text or quoted identifier: ``""`` is ``"``, ``#(0057)`` is W."""
    return _ESCAPE.sub(_escape, body.replace('""', '"'))


def _escape(match: re.Match[str]) -> str:
    chars = [_escaped_char(item) for item in match.group(1).split(",")]
    return match.group(0) if None in chars else "".join(c for c in chars if c)


def _escaped_char(item: str) -> str | None:
    if item in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[item]
    if len(item) in (4, 8) and all(c in "0123456789abcdefABCDEF" for c in item):
        point = int(item, 16)
        return chr(point) if point < 0x110000 else None
    return None


def _identifier(name: str) -> str:
    """The name an identifier refers to: M, like C#, ignores formatting characters in it."""
    if name.isascii():
        return name
    return "".join(c for c in name if unicodedata.category(c) != "Cf")


def _windows(tokens: Iterator[_Token]) -> Iterator[tuple[_Token, ...]]:
    """Each token with the one before it and the three after it, in constant memory."""
    padded = chain([_NONE], tokens, [_NONE] * 3)
    return zip(
        *(islice(copy, skip, None) for skip, copy in enumerate(tee(padded, 5))), strict=False
    )


class _Reader:
    """One pass over the tokens of one M text. A path held in a variable, and a library name
    that may be the queries' own, are judged at the end, against every binding of the name."""

    def __init__(self) -> None:
        self.found: list[tuple[str, str]] = []  # (what, how to judge it: "", "unknown", a name)
        self.bindings: dict[str, list[str | None]] = {}  # name -> literal text bound, or None
        self.groups: list[list[str]] = []  # names in each open parenthesis: parameters?

    def read(self, before: _Token, token: _Token, *after: _Token) -> None:
        kind, value = token
        if kind == "bad":
            self.found.append((_UNTERMINATED, ""))
        elif kind == "hash" and value in _DYNAMIC:
            self.found.append((f"{value} {_DYNAMIC_NOTE}", ""))
        elif kind == "name":
            self._name(before, value, after)
        elif token == _OPEN:
            self.groups.append([])
        elif token == _CLOSE and self.groups:
            parameters = self.groups.pop()
            if after[0] in _FUNCTION_AFTER:
                for name in parameters:
                    self.bindings.setdefault(name, []).append(None)

    def _name(self, before: _Token, name: str, after: tuple[_Token, ...]) -> None:
        if after[0] == _EQUALS and before in _BINDS:
            literal = after[1][1] if after[1][0] == "text" and after[2] in _LITERAL_ENDS else None
            self.bindings.setdefault(name, []).append(literal)
        elif before == ("op", "[") and after[0] == ("op", "]"):
            self.bindings.setdefault(name, []).append(None)  # a field: [Customer.Name]
        if self.groups and before in _PARAMETER_BEFORE and after[0] in _PARAMETER_AFTER:
            self.groups[-1].append(name)
        if "." in name:
            self._library(name, after)

    def _library(self, name: str, after: tuple[_Token, ...]) -> None:
        library = name.split(".", 1)[0]
        if name in _DYNAMIC:
            self.found.append((f"{name} {_DYNAMIC_NOTE}", ""))
        elif library in _PATHS:
            self.found.append(_path(name, *after))
        elif library in _SOURCES:
            self.found.append((name, ""))
        elif library not in _INSIDE:
            self.found.append((name, "unknown"))

    def calls(self) -> list[str]:
        judged = (self._judged(what, how) for what, how in self.found)
        return list(dict.fromkeys(what for what in judged if what))

    def _judged(self, what: str, how: str) -> str | None:
        if not how:
            return what
        bound = self.bindings.get(what if how == "unknown" else how)
        if how == "unknown":
            return None if bound else f"{what} {_UNKNOWN_NOTE}"
        if not bound or None in bound:
            return f"{what} {_COMPUTED_NOTE}"
        return None if all(path is not None and _local(path) for path in bound) else what


def _path(name: str, opened: _Token, argument: _Token, closed: _Token) -> tuple[str, str]:
    """How to judge a call of a function that reads a path: by the text it is given, or by
    the variable that holds it."""
    if opened != _OPEN or closed not in (_CLOSE, _COMMA):
        return f"{name} {_COMPUTED_NOTE}", ""
    if argument[0] == "text":
        return ("", "") if _local(argument[1]) else (name, "")
    if argument[0] == "name":
        return name, argument[1]
    return f"{name} {_COMPUTED_NOTE}", ""


def _local(path: str) -> bool:
    """A path on a drive of the machine (``C:\\Data\\x.csv``); anything else (a share, a URL,
    a device, a relative path) may be elsewhere."""
    return _DRIVE.match(path) is not None
