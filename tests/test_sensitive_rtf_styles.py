"""RTF text hidden or shown by the style sheet (`rtfstyles`): readers that apply a style's
``\\v`` show the text around a hidden digit as one number; read both ways."""

from __future__ import annotations

from test_sensitive_formats import scan

SHEET = rb"{\stylesheet{\s0 Normal;}{\*\cs15 \v Hidden;}{\*\cs16 \sbasedon15 Child;}}"


def codes(body: bytes, sheet: bytes = SHEET) -> list[str]:
    return [f.code.name for f in scan(rb"{\rtf1\ansi" + sheet + body + rb"\par}", "rtf").findings]


def test_a_digit_a_character_style_hides_does_not_split_the_number() -> None:
    assert codes(rb"\pard Card 4111 1111 {\cs15 9}1111 1111") == ["SENSITIVE_CARD"]
    assert codes(rb"\pard Card 4111 1111 {\cs16 9}1111 1111") == ["SENSITIVE_CARD"]  # based on
    # \plain drops the character style: every reader shows the 9
    assert codes(rb"\pard Card 4111 1111 {\cs15\plain 9}1111 1111") == []


def test_a_style_that_shows_text_its_paragraph_style_hides() -> None:
    sheet = rb"{\stylesheet{\s1 \v Notes;}{\*\cs16 \v0 Shown;}}"
    body = rb"\pard\s1 {\v0 Card 4111 1111 }{\cs16 1111 1111}"
    assert codes(body, sheet) == ["SENSITIVE_CARD"]


def test_honest_hidden_styles_stay_clean() -> None:
    """A hidden-style bookmark note with no card, and a reference number it does not split."""
    assert codes(rb"\pard Order 4111 1111 {\cs15 see note}\par {\cs15 ref 2291}") == []
    assert codes(rb"\pard Invoice 2024-118 {\cs15 internal}total 12.50") == []
