"""Nested fields' results written as instruction text, as Word 2010 writes a TC entry
(``{TC "{SEQ Appendix}-{SEQ Figure}"}``, the Open XML SDK's complex2010.docx and complex0.docx):
they belong to the field still reading its instruction, and are not instruction text outside
any field. Instruction text in a result outside any instruction, or in a nested field that
makes up a field's type, stays ambiguous."""

from __future__ import annotations

import pytest

from attachguard.engines.base import Item, Result
from attachguard.engines.office import OfficeEngine
from attachguard.formats.wordfields import NESTED, FieldInstruction, field_instructions
from attachguard.policy import Policy
from attachguard.report import FileType
from support.oletools_data import docx

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
BEGIN = '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
SEPARATE = '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
END = '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
OUTSIDE = "field instruction text outside any field"
COMPUTED = "field whose type is computed by a nested field"
ENGINE = OfficeEngine()


def instr(text: str) -> str:
    return f'<w:r><w:instrText xml:space="preserve">{text}</w:instrText></w:r>'


def text(words: str) -> str:
    return f"<w:r><w:t>{words}</w:t></w:r>"


def nested(instruction: str, result: str) -> str:
    """A complex field in another field's instruction: its result is instruction text, as Word
    writes it there."""
    return BEGIN + instr(instruction) + SEPARATE + instr(result) + END


def simple(instruction: str, result: str) -> str:
    return f'<w:fldSimple w:instr="{instruction}">{instr(result)}</w:fldSimple>'


def document(body: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W}"><w:body><w:p>{body}'
        "</w:p></w:body></w:document>"
    ).encode()


def found(body: str) -> list[tuple[str, str | None]]:
    return [(f.text, f.ambiguity) for f in field_instructions(document(body))]


def scan_codes(body: str, policy: Policy) -> list[str]:
    data = docx(f"<w:p>{body}</w:p>")
    result: Result = ENGINE.scan(
        Item("report.docx", data, FileType("docx", "", "document")), policy.context()
    )
    return sorted(f.code.name for f in result.findings)


# Word 2010's table-of-contents entry numbered by two sequences (complex2010.docx)
TC_COMPLEX = (
    BEGIN
    + instr('tc "')
    + nested("seq Appendix \\* Alphabetic", "A")
    + instr("-")
    + nested("seq Figure", "1")
    + instr('"')
    + END
)
# The same written with simple fields (complex0.docx)
TC_SIMPLE = (
    BEGIN
    + instr('tc "')
    + simple("seq Appendix \\* Alphabetic", "A")
    + instr("-")
    + simple("seq Figure", "1")
    + instr('"')
    + END
)


@pytest.mark.parametrize("body", [TC_COMPLEX, TC_SIMPLE], ids=["complex", "simple"])
def test_nested_results_written_as_instruction_text_belong_to_the_outer_field(
    body: str, policy: Policy
) -> None:
    assert found(body) == [
        (f'tc "{NESTED}-{NESTED}"', None),
        ("seq Appendix \\* Alphabetic", None),
        ("seq Figure", None),
    ]
    assert scan_codes(body, policy) == []


def test_result_of_a_field_in_a_nested_result_belongs_to_the_field_reading_its_instruction() -> (
    None
):
    # {TC "{QUOTE {SEQ Figure}}"}: the SEQ sits in QUOTE's result, inside TC's instruction
    inner = BEGIN + instr("QUOTE x") + SEPARATE + nested("seq Figure", "1") + END
    body = BEGIN + instr('tc "') + inner + instr('"') + END
    assert [(f.text, f.depth, f.ambiguity) for f in field_instructions(document(body))] == [
        (f'tc "{NESTED}"', 0, None),
        ("QUOTE x", 1, None),
        ("seq Figure", 2, None),
    ]


def test_instruction_text_in_a_result_outside_any_instruction_stays_ambiguous(
    policy: Policy,
) -> None:
    body = BEGIN + instr("PAGE") + SEPARATE + instr("DDEAUTO cmd") + END
    assert found(body) == [("PAGE", None), ("DDEAUTO cmd", OUTSIDE)]
    assert scan_codes(body, policy) == ["AMBIGUOUS", "DDE"]


def test_nested_result_in_a_field_type_stays_ambiguous(policy: Policy) -> None:
    """{DDE{QUOTE x}AUTO cmd}: readers that join every w:instrText read DDEAUTO there."""
    body = BEGIN + instr("DDE") + nested("QUOTE x", "AUTO") + instr(" cmd") + END
    assert found(body) == [
        (f"DDE{NESTED} cmd", COMPUTED),
        ("QUOTE x", None),
        ("AUTO", OUTSIDE),
    ]
    assert scan_codes(body, policy) == ["AMBIGUOUS", "AMBIGUOUS"]


def test_nested_result_naming_a_share_is_a_computed_target(policy: Policy) -> None:
    body = (
        BEGIN
        + instr("INCLUDEPICTURE ")
        + nested('QUOTE "x"', "\\\\attacker.example\\s\\a.png")
        + END
    )
    assert found(body) == [(f"INCLUDEPICTURE {NESTED}", None), ('QUOTE "x"', None)]
    assert scan_codes(body, policy) == ["EXTERNAL_LINK"]


def test_a_field_in_a_nested_result_is_still_reported(policy: Policy) -> None:
    dde = BEGIN + instr("DDEAUTO cmd") + END
    inner = BEGIN + instr("seq Figure") + SEPARATE + dde + END
    body = BEGIN + instr('tc "') + inner + instr('"') + END
    assert field_instructions(document(body))[-1] == FieldInstruction("DDEAUTO cmd", 3, 2)
    assert scan_codes(body, policy) == ["DDE"]


def test_ordinary_text_beside_the_nested_result_changes_nothing(policy: Policy) -> None:
    inner = BEGIN + instr("seq Figure") + SEPARATE + text("1") + END
    body = BEGIN + instr('tc "') + inner + instr('"') + SEPARATE + text("x") + END
    assert found(body) == [(f'tc "{NESTED}"', None), ("seq Figure", None)]
    assert scan_codes(body, policy) == []
