"""What the readers of `attachguard.sensitive` give back: the text of a file, place by place."""

from __future__ import annotations

from dataclasses import dataclass, field

# The right-to-left mark a reader puts at the start of a right-to-left paragraph (Word's
# w:bidi and \rtlpar, PowerPoint's rtl): the bidi reading then reads its digit groups as they
# are drawn, from the right; no reader shows the mark (`normalise` drops it).
RLM = "\u200f"


@dataclass(frozen=True)
class Passage:
    """Text from one place in a file (``where``: "page 2", a part name; None for the whole
    file). ``lenient``: read from a picture, where spacing is the OCR's guess. ``lines``: the
    file's own lines (a text file), so that a finding can name its line."""

    text: str
    where: str | None = None
    lenient: bool = False
    lines: bool = False


@dataclass
class Extract:
    """A reader's answer: the passages, the pictures it found that only OCR can read (as image
        files, with where they are), what it could not read (in words, for the report), and what it
    left unread past one of its limits (``limited``, in words: a SENSITIVE_LIMIT finding each)."""

    passages: list[Passage] = field(default_factory=list)
    pictures: list[tuple[str, bytes]] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)
    limited: list[str] = field(default_factory=list)  # left unread past a limit: SENSITIVE_LIMIT
