"""Page and slide number fields read as the number the viewer draws (red team 117): a Word
section that starts its pages at 4111 shows "4111" for a header's PAGE field whatever result
the file stores; a presentation whose first slide is 4111 numbers its slides from there."""

from __future__ import annotations

import pytest

from attachguard.formats.opc import read_package
from attachguard.sensitive import pagenumbers
from test_sensitive_formats import OFFICE, A, P, R, cards, package, scan, word

COMPLEX = (
    '<w:p><w:r><w:t xml:space="preserve">Card: </w:t></w:r><w:r><w:fldChar w:fldCharType="begin"/>'
    '</w:r><w:r><w:instrText xml:space="preserve"> {field} \\* MERGEFORMAT </w:instrText></w:r>'
    '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r><w:r>'
    '<w:fldChar w:fldCharType="end"/></w:r><w:r><w:t xml:space="preserve"> 1111 1111 1111</w:t>'
    "</w:r></w:p>"
)
SIMPLE = (
    '<w:p><w:r><w:t xml:space="preserve">Card: </w:t></w:r><w:fldSimple w:instr=" {field} ">'
    '<w:r><w:t>1</w:t></w:r></w:fldSimple><w:r><w:t xml:space="preserve"> 1111 1111 1111</w:t>'
    "</w:r></w:p>"
)


def section(start: str) -> str:
    numbering = f'<w:pgNumType w:start="{start}"/>' if start else ""
    return f'<w:sectPr><w:headerReference w:type="default" r:id="rId1"/>{numbering}</w:sectPr>'


@pytest.mark.parametrize("header", [COMPLEX, SIMPLE], ids=["field characters", "simple"])
def test_a_page_field_shows_its_sections_first_page(header: str) -> None:
    page = header.format(field="PAGE")
    assert cards(scan(word(section("4111"), page), "docx")) == ["word/header1.xml"]
    # pages numbered from 1, or another field: the stored result stands
    assert cards(scan(word(section(""), page), "docx")) == []
    assert cards(scan(word(section("4111"), header.format(field="NUMPAGES")), "docx")) == []
    assert cards(scan(word(section("4111"), header.format(field="PAGEREF x")), "docx")) == []


def test_the_body_shows_the_first_sections_number() -> None:
    body = COMPLEX.format(field="PAGE") + section("4111").replace(' r:id="rId1"', ' r:id="x"')
    assert cards(scan(word(body), "docx")) == ["word/document.xml"]


def test_a_tracked_changes_former_section_sets_nothing() -> None:
    former = (
        '<w:sectPr><w:headerReference w:type="default" r:id="rId1"/><w:sectPrChange w:id="1">'
        '<w:sectPr><w:pgNumType w:start="4111"/></w:sectPr></w:sectPrChange></w:sectPr>'
    )
    assert pagenumbers.numbers(read_package(word(former, "<w:p/>"))) == {}


def deck(first: str, *slides: str) -> bytes:
    ids = "".join(f'<p:sldId id="{256 + n}" r:id="rId{n}"/>' for n in range(1, len(slides) + 1))
    numbered = f' firstSlideNum="{first}"' if first else ""
    presentation = (
        f'<p:presentation xmlns:p="{P}" xmlns:r="{R}"{numbered}><p:sldIdLst>{ids}'
        "</p:sldIdLst></p:presentation>"
    )
    parts = {"ppt/presentation.xml": (f"{OFFICE}presentationml.presentation.main+xml",
                                      presentation.encode())}  # fmt: skip
    for n, inner in enumerate(slides, 1):
        slide = (
            f'<p:sld xmlns:p="{P}" xmlns:a="{A}"><p:cSld><p:spTree><p:sp><p:txBody>{inner}'
            "</p:txBody></p:sp></p:spTree></p:cSld></p:sld>"
        )
        parts[f"ppt/slides/slide{n}.xml"] = (f"{OFFICE}presentationml.slide+xml", slide.encode())
    rels = {
        "": [("officeDocument", "ppt/presentation.xml")],
        "ppt/presentation.xml": [
            ("slide", f"slides/slide{n}.xml") for n in range(1, len(slides) + 1)
        ],
    }
    return package(parts, rels)


NUMBERED = (
    '<a:p><a:fld id="{{B6F15528-21DE-4FAA-801E-634DDDAF4B2B}}" type="slidenum"><a:t>1</a:t>'
    "</a:fld><a:r><a:t> 1111 1111 1111</a:t></a:r></a:p>"
)


def test_a_slide_number_counts_from_the_first_slides() -> None:
    assert cards(scan(deck("4111", NUMBERED), "pptx")) == ["ppt/slides/slide1.xml"]
    # the second slide of a deck numbered from 4110 is 4111; the first is 4110
    intro = "<a:p><a:r><a:t>Agenda</a:t></a:r></a:p>"
    assert cards(scan(deck("4110", intro, NUMBERED), "pptx")) == ["ppt/slides/slide2.xml"]
    assert cards(scan(deck("4110", NUMBERED, intro), "pptx")) == []
    assert cards(scan(deck("", NUMBERED), "pptx")) == []  # numbered from 1: as stored


def test_a_page_number_spelt_out_keeps_its_stored_result() -> None:
    """Review 117: PAGE \\* roman draws MMMMCXI on page 4111, no digits."""
    roman = COMPLEX.format(field="PAGE \\* roman")
    assert cards(scan(word(section("4111"), roman), "docx")) == []
    arabic = COMPLEX.format(field="PAGE \\* Arabic")
    assert cards(scan(word(section("4111"), arabic), "docx")) == ["word/header1.xml"]


def test_the_stored_result_is_still_read() -> None:
    """Review 117: a previewer shows a field's stored result; it is read apart, whole."""
    stored = COMPLEX.format(field="PAGE").replace(
        "<w:t>1</w:t>", "<w:t>4111 1111 </w:t></w:r><w:r><w:t>1111 1111</w:t>"
    )
    assert cards(scan(word(section("2"), stored), "docx")) == ["word/header1.xml"]


def test_a_section_shows_the_header_it_carries_on() -> None:
    """Review 117: a later section without a header of its own shows the one before's."""
    first = '<w:p><w:pPr><w:sectPr><w:headerReference w:type="default" r:id="rId1"/>'
    first += "</w:sectPr></w:pPr></w:p>"
    later = '<w:sectPr><w:pgNumType w:start="4111"/></w:sectPr>'
    page = COMPLEX.format(field="PAGE")
    assert cards(scan(word(first + later, page), "docx")) == ["word/header1.xml"]


def test_the_main_part_is_read_for_numbers_only_within_the_limits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A main part over the byte limit is not inflated to find page numbers either."""
    from attachguard.policy import Limits
    from attachguard.sensitive import ooxml

    asked: list[object] = []

    def numbers(package: object) -> dict[str, int]:
        asked.append(package)
        return {}

    monkeypatch.setattr(pagenumbers, "numbers", numbers)
    document = word(section("4111") + "<w:p/>" * 2000, COMPLEX.format(field="PAGE"))
    extract = ooxml.read(document, Limits(max_expanded_bytes=5000))
    assert asked == [] and any("word/document.xml" in unread for unread in extract.unread)
    ooxml.read(document, Limits())
    assert len(asked) == 1
