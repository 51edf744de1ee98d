r"""An RTF style sheet's hidden text: which paragraph (``\sN``) and character (``\*\csN``)
styles state ``\v`` (hidden) or ``\v0`` (shown), through their ``\sbasedon`` chains.

Readers differ on what a style stated in the style sheet does to text that names it without
repeating its formatting: the specification asks writers to repeat it, Word shows the text with
the formatting it states itself (a report on Word: "Word recognizes the selected style, but
font size, bold, etc are not applied"), LibreOffice applies the style's properties but a few
it resets (bold, size, fonts, spacing: ``getDefaultSPRM``; not ``\v``). So `rtf` reads the text
as its own formatting shows it, then, when the style sheet hides or shows text, as a reader
that applies the styles shows it (`hidden`): the character style's statement, else the
paragraph style's; a run's own ``\v`` or ``\v0`` wins over both, and ``\plain`` drops the
run's own and its character style.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_STYLES = frozenset((b"s", b"cs", b"ds", b"ts"))
MOST_BASES = 32  # \sbasedon links followed (a loop ends there)


@dataclass
class _Style:
    hidden: bool | None = None  # \v, \v0; None: the style states neither
    based: int | None = None


@dataclass
class Sheet:
    """The style sheet as read (`word`, for each control word inside it), by style number:
    Word numbers paragraph and character styles apart (\\s1, \\cs15)."""

    styles: dict[int, _Style] = field(default_factory=dict)
    current: _Style | None = None
    states: bool = False  # some style states \v or \v0: the text is read with styles too

    def begin(self) -> None:
        """A style's group: paragraph style 0 unless it names another."""
        self.current = self.styles.setdefault(0, _Style())

    def word(self, name: bytes, arg: bytes | None) -> None:
        if name in _STYLES:
            self.current = self.styles.setdefault(_number(arg), _Style())
        elif self.current is None:
            return
        elif name == b"v":
            self.current.hidden = arg != b"0"
            self.states = True
        elif name == b"sbasedon":
            self.current.based = _number(arg)

    def hidden(self, character: int | None, paragraph: int) -> bool:
        """Whether a run's text is hidden by its styles (its own ``\\v`` decides first: the
        caller's): its character style's statement, else its paragraph style's."""
        stated = self._stated(character) if character is not None else None
        return bool(self._stated(paragraph) if stated is None else stated)

    def _stated(self, number: int) -> bool | None:
        seen: set[int] = set()
        style = self.styles.get(number)
        while style is not None and number not in seen and len(seen) < MOST_BASES:
            if style.hidden is not None:
                return style.hidden
            seen.add(number)
            if style.based is None:
                return None
            number = style.based
            style = self.styles.get(number)
        return None


def _number(arg: bytes | None) -> int:
    try:
        return int(arg or 0)
    except ValueError:
        return 0
