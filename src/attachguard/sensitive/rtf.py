"""The text of an RTF document, as Word shows it, and the pictures it draws.

A small tokenizer walks the groups: text, ``\\'hh`` bytes in the document's code page
(``\\ansicpg``, Windows-1252 by default), ``\\uN`` characters with their ``\\ucN`` fallbacks
skipped (counted as Word counts them: `formats.rtfunicode`), and the control words Word turns
into characters (``\\tab``, ``\\emdash``, ``\\_`` a non-breaking hyphen...). Paragraphs,
lines, table cells and rows start a new line.
Hidden text (``\\v``) is read on a line of its own, so that it cannot split a number shown
around it. Tracked changes are read as Word shows them accepted (deleted text, ``\\deleted``,
left out), then as it showed them before (inserted text, ``\\revised``, left out). Document
information Word shows (``\\info``: title, subject, author, comments, company...; user-defined
properties, ``\\*\\userprops``) is read, an item a line. A paragraph in a list (``\\lsN``)
starts with the label Word draws from the list table (`lists`: its level's ``\\leveltext``, with
the numbers counted so far); a line of a paragraph set right-to-left (``\\rtlpar``, wherever in
the paragraph) with a right-to-left mark, so that `sensitive`'s bidi reading reads its digit
groups as Word draws them, from the right. Comments, footnotes, text boxes, headers and footers
are read where they stand and the document once more without them, as the line shows it (Word
draws them away from it: `_ELSEWHERE`). Groups that hold no text a reader sees are skipped:
``{\\*\\...}`` destinations (but comments, ``\\*\\annotation``, shape text boxes,
``\\*\\shpinst``, document information, and the destinations of shown text Word knows:
`_SHOWN_STARRED`), the font, colour and style tables, bookmarks, shape properties (but the text
WordArt and watermarks draw, ``gtextUNICODE``, read on a line of its own), object data (the RTF
engine hands embedded objects to the pipeline); ``\\binN`` data is stepped over. Field results
are read (their instructions, marked ``\\*``, are not: Word shows the result). Pictures
(``\\pict`` with PNG or JPEG data) are returned for OCR; metafiles are not.

Work is linear in the size of the file; nothing nests deeper than `MAX_DEPTH` groups (deeper
groups are read as if flat: Word stops at a few hundred).
"""

from __future__ import annotations

import binascii
import contextlib
import re
from dataclasses import dataclass, field

from attachguard.formats.codepages import codec
from attachguard.formats.rtfunicode import Fallback
from attachguard.sensitive import lists, rtfstyles
from attachguard.sensitive.passages import RLM, Extract, Passage

MAX_DEPTH = 1000
_TOKEN = re.compile(
    rb"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?|\\'([0-9a-fA-F]{2})|\\(.)|([{}])|([^\\{}]+)", re.DOTALL
)
_SKIPPED = frozenset(
    b"fonttbl colortbl rsidtbl generator xmlnstbl "
    b"themedata colorschememapping datastore latentstyles pgdsctbl revtbl filetbl bkmkstart "
    b"bkmkend objdata objclass nonshppict blipuid mmathpr".split()
)
# Document information Word shows (File > Info, Properties; Explorer too), each on a line of
# its own, starred or not (Word writes ``{\*\company ...}``): user-defined properties' names and
# values too.
_INFO = frozenset(
    b"title subject author manager company operator category keywords comment doccomm "
    b"hlinkbase propname staticval".split()
)
# The list table and its overrides: read for the list labels Word draws (`lists`), not shown.
_LIST_TABLES = frozenset(b"listtable listoverridetable".split())
# \levelnfc: a level's number style, in Word's names
_STYLES = {1: "upperRoman", 2: "lowerRoman", 3: "upperLetter", 4: "lowerLetter",
           22: "decimalZero", 23: "bullet", 255: "none"}  # fmt: skip
_FOLLOW = {0: "tab", 1: "space", 2: "nothing"}
# Destinations marked ``\*`` (ignorable by readers that do not know them) that Word shows: a
# comment's text, a shape's text box (Word 2007 and later write text boxes as shapes), and
# document information; and the destinations of shown text Word knows, whose star it ignores
# (``{\*\do ...}``, a drawing object's text box, is one to Word; red team 114): footnotes,
# headers and footers, their separators, drawing objects' and shapes' text, field results.
_SHOWN_STARRED = (
    frozenset(
        b"annotation shpinst userprops do dptxbxtext shptxt fldrslt footnote ftnsep ftnsepc "
        b"aftnsep aftnsepc header headerl headerr headerf footer footerl footerr footerf".split()
    )
    | _INFO
)
# Shape properties whose value Word draws as text: WordArt's and a watermark's
_SHOWN_PROPERTIES = frozenset({"gtextUNICODE"})
# Shown text Word draws away from the line it is anchored in: comments in the margin, footnotes
# at the page's foot, text boxes where they float, headers and footers. Read where they stand
# (a text box may float right after the line's text) and also left out of the line
# (``4111 1111 {\*\annotation a}1111 1111`` is one number on the page: review 138).
_ELSEWHERE = frozenset(
    b"annotation footnote ftnsep ftnsepc aftnsep aftnsepc do dptxbxtext shptxt header headerl "
    b"headerr headerf footer footerl footerr footerf".split()
)
_BREAKS = frozenset(b"par line sect page cell row nestcell nestrow".split())
_CHARS = {
    b"tab": "\t", b"emdash": "\u2014", b"endash": "\u2013", b"emspace": " ", b"enspace": " ",
    b"qmspace": " ", b"bullet": "\u2022", b"lquote": "\u2018", b"rquote": "\u2019",
    b"ldblquote": "\u201c", b"rdblquote": "\u201d",
}  # fmt: skip
_SYMBOLS = {b"~": "\u00a0", b"_": "\u2011", b"-": "", b"\\": "\\", b"{": "{", b"}": "}"}
_PICTURES = {b"pngblip": "png", b"jpegblip": "jpeg"}
_BLANKS = re.compile(rb"\s+")


@dataclass
class _Group:
    skip: bool = False
    hidden: bool = False  # \v: hidden text, read apart from the line it stands in
    vanish: bool | None = None  # the run's own \v or \v0 (None: \plain, or never stated)
    character: int | None = None  # its character style (\csN), `rtfstyles`
    paragraph: int = 0  # its paragraph's style (\sN)
    sheet: bool = False  # inside the style sheet
    deleted: bool = False  # \deleted, \revised: a tracked change's text
    inserted: bool = False
    uc: int = 1
    picture: str | None = None  # "png"/"jpeg" inside a \pict group of that kind
    hex: list[bytes] = field(default_factory=list)
    table: bytes = b""  # inside the list table or its overrides
    level: lists.Level | None = None  # inside a list level's \leveltext: its template
    line: bool = False  # document information: a line of its own
    elsewhere: bool = False  # text Word draws away from its line (`_ELSEWHERE`)
    naming: bool = False  # a shape property's name (\sn)


class _Lists:
    r"""The list table (``\listtable``: each list's levels, by ``\listid``) and its overrides
    (``\listoverridetable``: the ``\lsN`` paragraphs name, by list), and the numbers counted
    so far: a paragraph in a list (``\lsN``, ``\ilvlN``) starts with its label."""

    def __init__(self) -> None:
        self.by_id: dict[int, list[lists.Level]] = {}
        self.overrides: dict[int, int] = {}  # \ls: \listid
        self.current: list[lists.Level] = []  # the list (or override's) being read
        self.list_id = 0
        self.counters = lists.Counters()

    def word(self, table: bytes, group: _Group, name: bytes, value: int) -> None:
        """A control word in the list table (``table``) or its overrides."""
        if table == b"listoverridetable":
            if name == b"listid":
                self.list_id = value
            elif name == b"ls":
                self.overrides[value] = self.list_id
        elif name == b"list":
            self.current = []
        elif name == b"listid":
            self.by_id[value] = self.current
        elif name == b"listlevel":
            self.current.append(lists.Level())
        elif self.current:
            _level(self.current[-1], group, name, value)

    def label(self, ls: int, level: int) -> str:
        levels = self.by_id.get(self.overrides.get(ls, -1))
        if not levels:
            return ""
        level = min(level, len(levels) - 1)
        return lists.label(levels, self.counters.advance(ls, level, levels), "rtf")


def _level(level: lists.Level, group: _Group, name: bytes, value: int) -> None:
    if name == b"leveltext":
        group.level = level
        level.text = ""
    elif name in (b"levelnfc", b"levelnfcn"):
        level.style = _STYLES.get(value, "decimal")
    elif name == b"levelstartat":
        level.start = value
    elif name == b"levelfollow":
        level.suffix = _FOLLOW.get(value, "tab")


class _Reader:
    def __init__(self) -> None:
        self.stack = [_Group()]
        self.out: list[str] = []  # the text as shown, with tracked changes accepted
        self.original: list[str] = []  # and with them rejected
        self.marked: list[str] = []  # and marked up, every change's text shown (review 114)
        self.revised = False  # some text is a tracked change's
        self.aside: list[str] = []  # hidden text, a line per stretch of it
        self.in_aside = False
        self.pictures: list[bytes] = []
        self.codec = "cp1252"
        self.fallback = Fallback()  # what is still to skip after a \uN
        self.starred = False  # the last token was \*
        self.lists = _Lists()
        self.ls = 0  # the paragraph's list (\lsN, 0 for none) and level
        self.ilvl = 0
        self.labelled = False  # the paragraph's label is read
        self.rtl = False  # a right-to-left paragraph (\rtlpar)
        self.line_marked = False  # the line's right-to-left mark is read
        self.paragraph_marked = False  # the paragraph's lines marked for a late \rtlpar
        self.property: str | None = None  # the name of the shown shape's property being read
        self.sheet = rtfstyles.Sheet()  # the style sheet: text it hides or shows
        self.sheet_at = 0  # the depth of the style sheet's group
        self.styled: list[str] = []  # the text as a reader that applies the styles shows it
        self.body: list[str] = []  # as shown, without the text Word draws away from its line
        self.away = False  # some text is drawn away from its line
        self.line_starts = [self._lengths()]  # where the paragraph's lines start, each reading

    @property
    def group(self) -> _Group:
        return self.stack[-1]

    def open(self) -> None:
        self.fallback.brace()
        top = self.group
        inner = _Group(top.skip, top.hidden, top.vanish, top.character, top.paragraph, top.sheet,
                       top.deleted, top.inserted, top.uc, table=top.table,
                       level=top.level, elsewhere=top.elsewhere)  # fmt: skip
        self.stack.append(inner if len(self.stack) < MAX_DEPTH else top)
        if top.sheet and len(self.stack) == self.sheet_at + 1:
            self.sheet.begin()  # a style's definition

    def close(self) -> None:
        self.fallback.brace()
        if len(self.stack) > 1:
            done = self.stack.pop()
            if done.picture and done.hex and done is not self.group:
                self._picture(done.hex)
            if done.line and done is not self.group:
                self._both("\n")
                self._new_paragraph()

    def _picture(self, chunks: list[bytes]) -> None:
        digits = _BLANKS.sub(b"", b"".join(chunks))
        with contextlib.suppress(binascii.Error):  # a picture that does not decode shows nothing
            self.pictures.append(binascii.unhexlify(digits[: len(digits) // 2 * 2]))

    def text(self, chunk: bytes) -> None:
        group = self.group
        if group.picture is not None:
            group.hex.append(chunk)
            return
        if group.naming and self.property is not None:
            self.property += chunk.decode(self.codec, "replace")
            return
        chunk = chunk.replace(b"\r", b"").replace(b"\n", b"")
        chunk = self.fallback.text(chunk)
        if group.level is not None:
            group.level.text += chunk.decode(self.codec, "replace")
        elif not group.skip and chunk:
            self._emit(chunk.decode(self.codec, "replace"))

    def char(self, value: str) -> None:
        if self.fallback.token():
            return
        if self.group.level is not None:
            self.group.level.text += value
        elif not self.group.skip:
            self._emit(value)

    def _emit(self, value: str) -> None:
        """Shown text to the line, after the paragraph's list label; hidden text aside, so
        that it cannot break up a number the reader sees around it ("4111 {\\v 9}1111")."""
        prefix = ""
        if self.rtl and not self.line_marked:
            self.line_marked = True
            prefix = RLM
        if self.ls and not self.labelled:
            self.labelled = True
            prefix += self.lists.label(self.ls, self.ilvl)
        if prefix:
            self._both(prefix)
        group = self.group
        styled = not self._styled_hidden(group)
        if group.hidden:
            if not self.in_aside:
                self.aside.append("\n")
            self.aside.append(value)
            if styled and not group.deleted:
                self.styled.append(value)
        else:
            self._both(value, group.deleted, group.inserted, styled)
        self.in_aside = group.hidden

    def _styled_hidden(self, group: _Group) -> bool:
        """Whether a reader that applies the style sheet's formatting hides the text: the
        run's own ``\v`` or ``\v0`` first, else its styles' (`rtfstyles`)."""
        if group.vanish is not None or not self.sheet.states:
            return group.hidden
        return self.sheet.hidden(group.character, group.paragraph)

    def _both(
        self, value: str, deleted: bool = False, inserted: bool = False, styled: bool = True
    ) -> None:
        """Text to the lines as shown with tracked changes accepted and rejected, a change's
        to one of them, and as marked up (every change shown: text inserted, then deleted,
        is in neither of the others); and, with changes accepted, as styled and as the body
        shows it (without what Word draws away from the line)."""
        if not deleted:
            self.out.append(value)
            if styled:
                self.styled.append(value)
            if self.group.elsewhere:
                self.away = True
            else:
                self.body.append(value)
        if not inserted:
            self.original.append(value)
        self.marked.append(value)
        self.revised = self.revised or deleted or inserted
        if value == "\n":  # a new line: the bidi reading reads line by line
            self.line_starts.append(self._lengths())
            self.line_marked = False

    def _readings(self) -> tuple[list[str], ...]:
        return self.out, self.original, self.marked, self.styled, self.body

    def _lengths(self) -> tuple[int, ...]:
        return tuple(map(len, self._readings()))

    def _new_paragraph(self) -> None:
        self.line_starts = [self._lengths()]
        self.line_marked = self.paragraph_marked = False

    def _mark_paragraph(self) -> None:
        """The right-to-left mark put before each line the paragraph already has, in each
        reading (a late ``\\rtlpar``: Word applies a paragraph's properties to all of it).
        Once a paragraph: a later ``\\ltrpar`` leaves the marks (a reading more, no text less)."""
        self.paragraph_marked = self.line_marked = True
        for pieces, starts in zip(
            self._readings(), zip(*self.line_starts, strict=True), strict=True
        ):
            for start in sorted(set(starts), reverse=True):
                if start < len(pieces):
                    pieces[start] = RLM + pieces[start]
                else:
                    pieces.append(RLM)

    def word(self, name: bytes, arg: bytes | None) -> None:
        group, starred, self.starred = self.group, self.starred, False
        if self.fallback.token():
            return  # a control word is one fallback character, whatever it does
        if group.table and name not in (b"u", b"uc"):
            self.lists.word(group.table, group, name, int(arg or 0))
        elif group.sheet and name not in (b"u", b"uc"):
            self.sheet.word(name, arg)
        elif not self._destination(group, name, starred):
            self._format(group, name, arg)

    def _destination(self, group: _Group, name: bytes, starred: bool) -> bool:
        """Whether the word starts a group read otherwise than as text: skipped, a list
        table, document information, a picture."""
        if name in _ELSEWHERE:
            group.elsewhere = True  # (and read as text: the chain below lets it through)
        if name in _LIST_TABLES:
            group.skip, group.table = True, name
        elif name == b"stylesheet":
            group.skip = group.sheet = True
            self.sheet_at = len(self.stack)
        elif name in (b"sp", b"sn", b"sv"):
            self._shape_property(group, name)
        elif (starred and name not in _SHOWN_STARRED) or name in _SKIPPED:
            group.skip = True
        elif name in _INFO:
            group.line = True
            self._both("\n")
            self._new_paragraph()
        elif name == b"pict":
            group.skip = True
            group.picture = ""
        else:
            return False
        return True

    def _shape_property(self, group: _Group, name: bytes) -> None:
        """A shape property (``{\\sp{\\sn name}{\\sv value}}``) is skipped, but for the text
        WordArt and watermarks draw (``gtextUNICODE``), read on a line of its own."""
        if name == b"sp":
            self.property = None if group.skip else ""  # in a shape that is shown
        elif name == b"sn":
            group.naming = True
        elif self.property is not None and self.property.strip() in _SHOWN_PROPERTIES:
            self.property = None
            group.skip, group.line = False, True
            self.out.append("\n")
            self.styled.append("\n")
            self.body.append("\n")
            self._new_paragraph()
            return
        group.skip = True

    def _format(self, group: _Group, name: bytes, arg: bytes | None) -> None:
        if name in _PICTURES and group.picture is not None:
            group.picture = _PICTURES[name]
        elif name == b"uc" and arg is not None:
            group.uc = max(0, int(arg))
        elif name == b"u" and arg is not None:
            self.char(chr(int(arg) % 65536))
            self.fallback.start(group.uc)
        elif name in (b"v", b"plain"):
            group.hidden = name == b"v" and arg != b"0"
            group.vanish = group.hidden if name == b"v" else None
            group.character = None if name == b"plain" else group.character
        elif name in (b"deleted", b"revised"):  # (\plain leaves them: the text stays a change's)
            setattr(group, "deleted" if name == b"deleted" else "inserted", arg != b"0")
        elif name == b"ansicpg" and arg is not None:
            self.codec = codec(int(arg))
        else:
            self._shown(name, int(arg or 0))

    def _shown(self, name: bytes, arg: int) -> None:
        if name in _BREAKS:
            self.char("\n")
            self.labelled = name not in (b"par", b"sect", b"page")  # a new paragraph
            if name != b"line":
                self._new_paragraph()
        elif name in (b"ls", b"ilvl", b"pard", b"rtlpar", b"ltrpar"):
            self._paragraph(name, arg)
            self.group.paragraph = 0 if name == b"pard" else self.group.paragraph
        elif name in (b"s", b"cs"):  # a style applied to the paragraph, to the run
            setattr(self.group, "paragraph" if name == b"s" else "character", arg)
        elif name in _CHARS:
            self.char(_CHARS[name])

    def _paragraph(self, name: bytes, arg: int) -> None:
        """A paragraph's list (``\\lsN``), level (``\\ilvlN``) and direction (``\\rtlpar``,
        ``\\ltrpar``); ``\\pard`` resets them."""
        if name == b"ls":
            self.ls = arg
        elif name == b"ilvl":
            self.ilvl = min(max(arg, 0), lists.LEVELS - 1)
        elif name in (b"rtlpar", b"ltrpar"):
            self.rtl = name == b"rtlpar"
            if self.rtl and not self.paragraph_marked and self._lengths() != self.line_starts[0]:
                self._mark_paragraph()  # after some of the paragraph's text
        else:
            self.ls = self.ilvl = 0
            self.rtl = False

    def symbol(self, value: bytes) -> None:
        if self.fallback.token():
            return
        if value == b"*":
            self.starred = True
        elif value in _SYMBOLS:
            self.char(_SYMBOLS[value])


def readings(shown: str, others: tuple[str, ...]) -> str:
    """The other readings of a text with tracked changes (rejected, marked up), each on lines
    of its own after the one ``shown``, when it differs."""
    return "".join(f"\n{text}" for text in dict.fromkeys(others) if text != shown)


def read(data: bytes) -> Extract:
    """The document's text as one passage, and its PNG and JPEG pictures."""
    reader = _Reader()
    position = 0
    while match := _TOKEN.match(data, position):
        position = match.end()
        _dispatch(reader, match)
        if match.group(1) == b"bin" and match.group(2):
            position += max(0, int(match.group(2)))  # raw bytes: never read as text
    shown = "".join(reader.out)
    others = ("".join(reader.original), "".join(reader.marked)) if reader.revised else ()
    if reader.sheet.states:  # a reader that applies the style sheet's \v shows it otherwise
        others = (*others, "".join(reader.styled))
    if reader.away:  # the lines as drawn, without what Word draws away from them
        others = (*others, "".join(reader.body))
    text = shown + readings(shown, others) + "".join(reader.aside)
    extract = Extract([Passage(text)] if text.strip() else [])
    extract.pictures = [(f"picture {n}", p) for n, p in enumerate(reader.pictures, 1) if p]
    return extract


def _dispatch(reader: _Reader, match: re.Match[bytes]) -> None:
    word, arg, hexbyte, symbol, brace, text = match.groups()
    if word is not None:
        reader.word(word, arg)
    elif hexbyte is not None:
        if reader.group.picture is not None:
            return
        reader.char(bytes.fromhex(hexbyte.decode()).decode(reader.codec, "replace"))
    elif symbol is not None:
        reader.symbol(symbol)
    elif brace == b"{":
        reader.open()
    elif brace == b"}":
        reader.close()
    else:
        reader.text(text)
