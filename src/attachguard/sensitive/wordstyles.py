"""Hidden text as a .docx's styles make it: ``w:vanish`` in a character style (``w:rStyle``)
or a paragraph style (``w:pStyle``, its run properties), as Word resolves them.

Each style's chain (``w:basedOn``, at most `MAX_CHAIN` styles, a loop ending it) gives the
value its nearest style sets, ``w:val="0"``/``"false"``/``"off"`` setting it off. ``w:vanish``
is a toggle property (ECMA-376 part 1, 17.7.3): a paragraph style's and a character style's
"on" cancel each other (Word draws a bold Heading's run in a bold character style at regular
weight), an "off" changes nothing; the document defaults (``w:docDefaults``) decide when
neither style sets it, and the run's own ``w:vanish`` overrides them all (`_Collector` in
`ooxml`). A paragraph without ``w:pStyle`` has the default paragraph style, a run without
``w:rStyle`` the default character style. A paragraph style's list (``w:numPr``) numbers the
paragraphs that name no list of their own (`Styles.list_of`). Table styles are not read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from attachguard.sensitive import lists, markup

__all__ = ["MAX_CHAIN", "Styles", "vanish", "word_styles"]

MAX_CHAIN = 32  # styles followed up a w:basedOn chain; Word's own are a few deep
_OFF = ("0", "false", "off")


def vanish(value: str | None) -> bool:
    """What a ``w:vanish`` element's ``w:val`` (None: absent) says: hidden or not."""
    return value is None or value.strip().lower() not in _OFF


@dataclass
class _Style:
    based_on: str = ""
    vanish: bool | None = None  # its own run properties' w:vanish; None when it sets none
    list: str | None = None  # its paragraph properties' list (w:numPr's w:numId), if any
    level: int | None = None  # ... and level (w:ilvl)


@dataclass
class Styles:
    """A document's styles by id (paragraph and character styles apart), its defaults."""

    paragraph: dict[str, _Style] = field(default_factory=dict)
    character: dict[str, _Style] = field(default_factory=dict)
    default: bool | None = None  # w:docDefaults' run properties
    default_paragraph: str = ""  # the styles Word applies when a paragraph or run names none
    default_character: str = ""
    _known: dict[tuple[str, str], bool] = field(default_factory=dict, repr=False)

    def hidden(self, paragraph_style: str, character_style: str) -> bool:
        """Whether a run's text is hidden by its paragraph's and its own style."""
        key = (paragraph_style, character_style)
        if key not in self._known:  # (every run asks: each pair is resolved once)
            paragraph = _chain(self.paragraph, paragraph_style or self.default_paragraph)
            character = _chain(self.character, character_style or self.default_character)
            if paragraph is None and character is None:
                self._known[key] = bool(self.default)
            else:
                self._known[key] = (paragraph is True) != (character is True)
        return self._known[key]

    def list_of(self, paragraph_style: str) -> tuple[str, int | None] | None:
        """The list (``w:numId``) and level a paragraph of this style is numbered in when it
        names none itself: the nearest style of its chain that sets one (red team 117: Word
        draws the label of a list set on a paragraph style before each of its paragraphs)."""
        seen: set[str] = set()
        style_id = paragraph_style or self.default_paragraph
        while style_id and style_id not in seen and len(seen) < MAX_CHAIN:
            seen.add(style_id)
            style = self.paragraph.get(style_id)
            if style is None:
                return None
            if style.list is not None:
                return style.list, style.level
            style_id = style.based_on
        return None


def _chain(styles: dict[str, _Style], style_id: str) -> bool | None:
    """The w:vanish the nearest style of the chain from ``style_id`` sets."""
    seen: set[str] = set()
    while style_id and style_id not in seen and len(seen) < MAX_CHAIN:
        seen.add(style_id)
        style = styles.get(style_id)
        if style is None:
            return None
        if style.vanish is not None:
            return style.vanish
        style_id = style.based_on
    return None


class _StylesReader:
    """Expat's handlers for `word_styles` (local names, as `lists` reads numbering)."""

    def __init__(self) -> None:
        self.styles = Styles()
        self.style: _Style | None = None
        self.path: list[str] = []  # local names from the root

    def start(self, name: str, attrs: list[str]) -> None:
        local = name.rpartition(" ")[2]
        pairs = {k.rpartition(" ")[2]: v for k, v in zip(attrs[::2], attrs[1::2], strict=False)}
        self.path.append(local)
        if local == "style" and len(self.path) == 2:
            self.style = self._new(pairs)
        elif self.style is not None and self.path[2:] == ["basedOn"]:
            self.style.based_on = pairs.get("val", "").strip()
        elif self.style is not None and self.path[2:] == ["rPr", "vanish"]:
            self.style.vanish = vanish(pairs.get("val"))
        elif self.style is not None and self.path[2:] == ["pPr", "numPr", "numId"]:
            self.style.list = pairs.get("val", "").strip()
        elif self.style is not None and self.path[2:] == ["pPr", "numPr", "ilvl"]:
            self.style.level = _level(pairs.get("val", ""))
        elif self.path[1:] == ["docDefaults", "rPrDefault", "rPr", "vanish"]:
            self.styles.default = vanish(pairs.get("val"))

    def _new(self, pairs: dict[str, str]) -> _Style | None:
        kind, style_id = pairs.get("type", "paragraph"), pairs.get("styleId", "").strip()
        by_kind = {"paragraph": self.styles.paragraph, "character": self.styles.character}
        if kind not in by_kind or not style_id:
            return None
        if style_id in by_kind[kind]:
            return None  # a second style of the same id: the first is read
        style = by_kind[kind][style_id] = _Style()
        if pairs.get("default", "").strip().lower() in ("1", "true", "on"):
            setattr(self.styles, f"default_{kind}", style_id)
        return style

    def end(self, _name: str) -> None:
        if self.path.pop() == "style" and len(self.path) == 1:
            self.style = None


def _level(value: str) -> int:
    return min(max(lists.integer(value, 0), 0), 8)


def word_styles(data: bytes) -> Styles | None:
    """A .docx's styles part; None for XML that does not parse or declares a DTD."""
    reader = _StylesReader()
    return reader.styles if markup.parses(data, reader.start, reader.end, ordered=True) else None
