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
local path (``C:\\...``) written in the call or in the one variable it names, alone or first in
a join with ``&`` (the drive says where the file is; a ``??`` in the call undoes it); the
dynamic lookups ``#shared``, ``#sections`` and ``Expression.Evaluate``, which reach any function
by a name computed at run time and so cannot be judged; any other library name not known to stay
inside the workbook; and text nested past `_MAX_DEPTH` scopes. Names that only shape data
(``Table.*``, ``Text.*``, the parsers ``Csv.Document``, ``Excel.Workbook``..., the workbook's
own ``Excel.CurrentWorkbook``, literal tables) are not reported. A name the queries bind where
it is read (a ``let`` around it, a section member, a parameter of a function it is in) is not
taken for a library one, except in the data-access libraries; a record's field and a field
access (``[Soda.Feed]``) bind none. A path taken from a cell (``Excel.CurrentWorkbook``) is
computed: the cell may hold a formula.

Why a tokeniser of our own: no maintained Python M parser fits (Microsoft's is TypeScript;
``pqtools`` runs it under Node.js; ``pbi-parsers`` is a one-author 0.x full parser whose
behaviour on hostile text would need the same audit), and the judgement needs only the lexical
grammar of the M specification and the scopes its brackets and keywords open. One regex
pass and a stack of scopes, linear in the text, which `queries` caps.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import sys
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
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
# name it refers to; a keyword), ``hash`` (``#shared``, ``#table``...), ``text`` (unescaped),
# ``op``, or ``bad`` (text ending inside a comment, a text or a quoted identifier: the last).
_Token = tuple[str, str]
_NONE: _Token = ("", "")
_QUOTED = r'"[^"]*(?:""[^"]*)*"'
_LEXICON = r"""(?P<space>\s+)
    |(?P<comment>//[^\r\n\u0085\u2028\u2029]*|/\*.*?\*/)
    |(?P<text>{quoted})
    |\#(?P<quoted>{quoted})
    |\#!(?P<verbatim>{quoted})
    |(?P<hash>\#[A-Za-z]+)
    |(?P<name>{ident})
    |(?P<number>0[xX][0-9A-Fa-f]+|(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?)
    |(?P<bad>/\*|["\#])
    |(?P<op>=>|\.\.\.?|<=|>=|<>|\?\?|.)"""
_ESCAPE = re.compile(r"#\(([^()]*)\)")  # "#(cr,lf)", "#(0057)", "#(0001F600)", "#(#)"
_NAMED_ESCAPES = {"cr": "\r", "lf": "\n", "tab": "\t", "#": "#"}
_SKIPPED = frozenset({"space", "comment", "number"})
_PART_CATEGORIES = frozenset({"Pc", "Mn", "Mc", "Cf"})
_KEYWORDS = frozenset(
    {"and", "as", "each", "else", "error", "false", "if", "in", "is", "let", "meta", "not",
     "null", "or", "otherwise", "section", "shared", "then", "true", "try", "type", "catch"}
)  # fmt: skip

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
    "CsvStyle LimitClauseKind Day PercentileMode RankKind TraceLevel WebMethod Culture "
    "ODataOmitValues Geography Geometry Cube Csv Json Xml Html Pdf Parquet Excel Access"
)
_INSIDE = frozenset(_INSIDE_LIBRARIES.split())
_DYNAMIC = frozenset({"#shared", "#sections", "Expression.Evaluate"})
_DYNAMIC_NOTE = "(a lookup by a name made when it runs: cannot be judged, treated as outside)"
_COMPUTED_NOTE = "(of a path computed in the query: treated as outside)"
_UNKNOWN_NOTE = "(not a function known to stay inside the workbook)"
_UNTERMINATED = "M text ending inside a comment or text (cannot be judged: treated as outside)"
_MAX_DEPTH = 1000  # scopes open at once: an honest query nests a few dozen
_TOO_DEEP = f"M text nested over {_MAX_DEPTH:,} deep (not read further: treated as outside)"

_DRIVE = re.compile(r"[A-Za-z]:[\\/]")
_OPEN, _CLOSE, _COMMA, _EQUALS = ("op", "("), ("op", ")"), ("op", ","), ("op", "=")
_JOIN, _COALESCE, _SEMICOLON = ("op", "&"), ("op", "??"), ("op", ";")
_LET, _SHARED, _OPTIONAL = ("name", "let"), ("name", "shared"), ("name", "optional")
_LITERAL_ENDS = frozenset({_COMMA, _SEMICOLON, ("op", "]"), ("name", "in"), ("name", "meta")})
_PARAMETER_BEFORE = frozenset({_OPEN, _COMMA, _OPTIONAL})
_PARAMETER_AFTER = frozenset({_COMMA, _CLOSE, ("name", "as")})
_FUNCTION_AFTER = frozenset({("op", "=>"), ("name", "as")})
_FIELD_BEFORE = frozenset({("op", "["), _COMMA, _OPTIONAL})  # in a record: a field's name
_BRACKETS = {")": "(", "]": "[", "}": "{"}
# Scopes that end where the expression they are in ends: at a "," or ";", a closing bracket,
# or (an "in", a function's body) the keyword of an expression around them.
_BODIES = frozenset({"in", "fn", "if", "try"})


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


@cache
def _token_pattern() -> re.Pattern[str]:
    """The tokeniser. An identifier's characters after the first are M's: letters and digits
    (``\\w``), and the connecting, combining and formatting characters (categories Pc, Mn,
    Mc, Cf; ``\\w`` has none but "_"), all of them, found once (a third of a second) when M
    is first read. The formatting ones are then ignored (`_identifier`)."""
    points = (
        p for p in range(sys.maxunicode + 1) if unicodedata.category(chr(p)) in _PART_CATEGORIES
    )
    runs: list[list[int]] = []
    for point in points:
        if runs and runs[-1][1] == point - 1:
            runs[-1][1] = point
        else:
            runs.append([point, point])
    extra = "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in runs)
    part = rf"[\w{extra}]"
    ident = rf"[^\W\d]{part}*(?:\.[^\W\d]{part}*)*"  # Web.Contents is one identifier
    return re.compile(_LEXICON.format(quoted=_QUOTED, ident=ident), re.VERBOSE | re.DOTALL)


def _tokens(formulas: str) -> Iterator[_Token]:
    """The tokens of M text that matter here: no spaces, comments or numbers. A quoted
    identifier spelled as a keyword (``#"let"``) is kept apart from the keyword."""
    for match in _token_pattern().finditer(formulas):
        kind = match.lastgroup or "op"
        if kind in _SKIPPED:
            continue
        value = match.group(kind)
        if kind in ("text", "quoted", "verbatim"):
            value = "" if kind == "verbatim" else _unescaped(value[1:-1])
            if kind == "quoted" and value in _KEYWORDS:
                value = f'#"{value}"'
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


@dataclass
class _Scope:
    """An open bracket, ``let``, function, ``if`` or ``try``: the names it binds, the library
    names read in it not yet found bound (indexes into `_Reader.found`), and, for a "(", the
    names that are parameters if a function follows and the path call it holds the argument
    of."""

    kind: str
    bound: set[str] = field(default_factory=set)
    pending: list[int] = field(default_factory=list)
    parameters: list[str] | None = None
    call: tuple[int, str] | None = None


class _Reader:
    """One pass over the tokens of one M text. A library name that may be the queries' own is
    judged when the scope it is read in ends, against the names bound there (a ``let``'s, a
    function's parameters) and, at the end, the section's members; a record's fields and a
    field access bind nothing. A path held in a variable is judged at the end, against every
    binding of the name anywhere (a record's fields included)."""

    def __init__(self) -> None:
        self.found: list[tuple[str, str]] = []  # (what, how to judge it: "", "unknown", a name)
        self.paths: dict[str, list[str | None]] = {}  # name -> literal text bound, or None
        self.scopes: list[_Scope] = []
        self.section = _Scope("section")  # its members; the names no scope bound
        self.resolved: set[int] = set()
        self.in_field = False  # the last token was (part of) a field's name
        self.call: tuple[int, str] | None = None  # a path call whose "(" is next

    def read(self, before: _Token, token: _Token, *after: _Token) -> None:
        kind, value = token
        call, self.call = self.call, None
        self.in_field = kind == "name" and self._is_field(before)
        if self.in_field:
            if after[0] == _EQUALS and before[1] in ("[", ","):
                self._bind_path(value, after)
        elif kind == "bad":
            self.found.append((_UNTERMINATED, ""))
        elif kind == "hash" and value in _DYNAMIC:
            self.found.append((f"{value} {_DYNAMIC_NOTE}", ""))
        elif kind == "name" and value in _KEYWORDS:
            self._keyword(value)
        elif kind == "name":
            self._name(before, value, after)
        elif kind == "op":
            self._op(before, value, after[0], call)

    def _is_field(self, before: _Token) -> bool:
        """Whether a name is (part of) a field's name, in a record, a record type or a field
        access: never a reference, never a binding a library name could be taken for."""
        if not self.scopes or self.scopes[-1].kind != "[":
            return False
        return before in _FIELD_BEFORE or (self.in_field and before[0] == "name")

    def _keyword(self, word: str) -> None:
        if word in ("let", "if", "try"):
            self._open(_Scope(word))
        elif word == "in":
            let = self._close({"let"}, keep=True)
            if let is not None:
                let.kind = "in"
        elif word == "then":
            self._close({"if"}, keep=True)
        elif word == "else":
            self._close({"if"}, keep=False)
        elif word in ("otherwise", "catch"):
            self._close({"try"}, keep=False)

    def _op(
        self, before: _Token, op: str, next_token: _Token, call: tuple[int, str] | None
    ) -> None:
        if op in "([{":
            function_type = op == "(" and before == ("name", "function")
            parameters: list[str] | None = None if op != "(" or function_type else []
            self._open(_Scope(op, parameters=parameters, call=call))
        elif op in _BRACKETS:
            self._close_bracket(_BRACKETS[op], next_token)
        elif op == ",":
            self._close(set(), keep=False, through=_BODIES)
        elif op == ";":
            self._close(set(), keep=False, through=_BODIES | {"let"})
        elif op == "??" and self.scopes and self.scopes[-1].call is not None:
            index, name = self.scopes[-1].call  # "C:\" & x ?? "\\host\share": not a drive's
            self.found[index] = (f"{name} {_COMPUTED_NOTE}", "")

    def _open(self, scope: _Scope) -> None:
        """A scope begins; past `_MAX_DEPTH`, the text is reported and its scopes no longer
        followed (nor held: memory and time stay linear)."""
        if len(self.scopes) < _MAX_DEPTH:
            self.scopes.append(scope)
        elif (_TOO_DEEP, "") not in self.found[-1:]:
            self.found.append((_TOO_DEEP, ""))

    def _close(self, kinds: set[str], keep: bool, through: frozenset[str] = _BODIES | {"let"}
               ) -> _Scope | None:  # fmt: skip
        """End the scopes above the innermost of ``kinds`` (only those of ``through``; never a
        bracket); end that one too unless ``keep``. Returns it, or None when there is none."""
        while self.scopes and self.scopes[-1].kind not in kinds:
            if self.scopes[-1].kind not in through:
                return None
            self._end(self.scopes.pop())
        if not self.scopes:
            return None
        if not keep:
            self._end(self.scopes.pop())
            return None
        return self.scopes[-1]

    def _close_bracket(self, opener: str, next_token: _Token) -> None:
        self._close({opener}, keep=True)
        if not self.scopes or self.scopes[-1].kind != opener:
            return  # not M: a bracket closing none
        group = self.scopes.pop()
        if group.parameters is not None and next_token in _FUNCTION_AFTER:
            for name in group.parameters:  # a parameter's value is the caller's
                self.paths.setdefault(name, []).append(None)
            self._open(_Scope("fn", set(group.parameters), group.pending))  # the body's
        else:
            self._end(group)

    def _end(self, scope: _Scope) -> None:
        """A scope ends: the library names read in it that it binds are its own; the rest
        go on to the scope around it."""
        outer = self.scopes[-1] if self.scopes else self.section
        for index in scope.pending:
            if self.found[index][0] in scope.bound:
                self.resolved.add(index)
            else:
                outer.pending.append(index)

    def _name(self, before: _Token, name: str, after: tuple[_Token, ...]) -> None:
        scope = self.scopes[-1] if self.scopes else None
        if after[0] == _EQUALS:
            self._binding(before, name, after, scope)
        parameter = before in _PARAMETER_BEFORE and after[0] in _PARAMETER_AFTER
        if scope and scope.parameters is not None and parameter:
            scope.parameters.append(name)
        if "." in name:
            self._library(name, after, scope or self.section)

    def _binding(
        self, before: _Token, name: str, after: tuple[_Token, ...], scope: _Scope | None
    ) -> None:
        """A name before "=" bound by a section (``shared``, or after ";" outside any scope)
        or a ``let`` (after ``let``, or after "," in one); else a comparison."""
        if before == _SHARED or (before == _SEMICOLON and scope is None):
            self.section.bound.add(name)
        elif scope and scope.kind == "let" and before in (_LET, _COMMA):
            scope.bound.add(name)
        else:
            return
        self._bind_path(name, after)

    def _bind_path(self, name: str, after: tuple[_Token, ...]) -> None:
        literal = after[1][1] if after[1][0] == "text" and after[2] in _LITERAL_ENDS else None
        self.paths.setdefault(name, []).append(literal)

    def _library(self, name: str, after: tuple[_Token, ...], scope: _Scope) -> None:
        library = name.split(".", 1)[0]
        if name in _DYNAMIC:
            self.found.append((f"{name} {_DYNAMIC_NOTE}", ""))
        elif library in _PATHS:
            judged, joined = _path(name, *after)
            if joined:
                self.call = (len(self.found), name)
            self.found.append(judged)
        elif library in _SOURCES:
            self.found.append((name, ""))
        elif library not in _INSIDE:
            scope.pending.append(len(self.found))
            self.found.append((name, "unknown"))

    def calls(self) -> list[str]:
        while self.scopes:
            self._end(self.scopes.pop())
        bound = self.section.bound  # the section's members
        self.resolved.update(i for i in self.section.pending if self.found[i][0] in bound)
        judged = (self._judged(i, what, how) for i, (what, how) in enumerate(self.found))
        return list(dict.fromkeys(what for what in judged if what))

    def _judged(self, index: int, what: str, how: str) -> str | None:
        if not how:
            return what
        if how == "unknown":
            return None if index in self.resolved else f"{what} {_UNKNOWN_NOTE}"
        bound = self.paths.get(how)
        if not bound or None in bound:
            return f"{what} {_COMPUTED_NOTE}"
        return None if all(path is not None and _local(path) for path in bound) else what


def _path(
    name: str, opened: _Token, argument: _Token, closed: _Token
) -> tuple[tuple[str, str], bool]:
    """How to judge a call of a function that reads a path: by the text it is given, or by
    the variable that holds it, alone or first in a join (``"C:\\Data\\" & Name``: the drive
    says where the file is); and whether it is a join (a later ``??`` could replace it)."""
    joined = closed == _JOIN
    if opened != _OPEN or closed not in (_CLOSE, _COMMA, _JOIN):
        return (f"{name} {_COMPUTED_NOTE}", ""), False
    if argument[0] == "text":
        return (("", "") if _local(argument[1]) else (name, "")), joined
    if argument[0] == "name" and argument[1] not in _KEYWORDS:
        return (name, argument[1]), joined
    return (f"{name} {_COMPUTED_NOTE}", ""), False


def _local(path: str) -> bool:
    """A path on a drive of the machine (``C:\\Data\\x.csv``); anything else (a share, a URL,
    a device, a relative path) may be elsewhere."""
    return _DRIVE.match(path) is not None
