"""The office engine on documents built here and on oletools' own real samples."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import olefile  # type: ignore[import-untyped]
import pytest
from msoffcrypto.method.ecma376_agile import ECMA376Agile

from attachguard.codes import Code, FindingCode
from attachguard.engines.base import Child, Item, Result
from attachguard.engines.embedded import add_child
from attachguard.engines.office import OfficeEngine
from attachguard.pipeline import Scanner
from attachguard.policy import Limits, Policy
from attachguard.report import FileType, Finding
from support import oletools_data as testdata
from support.oletools_data import (
    docx,
    ole_file,
    ole_native,
    read_sample,
    xlsx,
)

EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
PACKAGE_CLSID = "0003000C-0000-0000-C000-000000000046"
EQUATION_CLSID = "0002CE02-0000-0000-C000-000000000046"
ENGINE = OfficeEngine()
oletools_data = testdata.oletools_data  # the session fixture, used by name below


def scan(data: bytes, label: str, policy: Policy, name: str = "upload") -> Result:
    return ENGINE.scan(
        Item(f"{name}.{label}", data, FileType(label, "", "document")), policy.context()
    )


def codes(result: Result) -> list[Code]:
    return [f.code for f in result.findings]


def package_object(name: str = "eicar.com", data: bytes = EICAR) -> bytes:
    """An embedded OLE object as Word stores it in word/embeddings: a package holding a file."""
    return ole_file({"\x01Ole10Native": ole_native(name, data)}, clsid=PACKAGE_CLSID)


def with_embedding(obj: bytes) -> bytes:
    body = '<w:p><w:r><w:object><o:OLEObject r:id="rId1"/></w:object></w:r></w:p>'
    rels = [("oleObject", "embeddings/oleObject1.bin", False)]
    return docx(body, rels, {"word/embeddings/oleObject1.bin": obj})


# -- documents built here ----------------------------------------------------------------------


def test_clean_documents_have_no_findings(policy: Policy) -> None:
    # an ordinary hyperlink points outside the file too, but needs a click: not a finding
    document = docx(rels=[("hyperlink", "https://shop.example/orders/1", True)])
    for data, label in ((document, "docx"), (xlsx(), "xlsx")):
        result = scan(data, label, policy)
        assert result.findings == [] and result.children == []


def test_linked_external_object(policy: Policy) -> None:
    rels = [("oleObject", "\\\\attacker.example\\share\\x.doc", True)]
    result = scan(docx(rels=rels), "docx", policy)
    assert [(f.code, f.label) for f in result.findings] == [
        (FindingCode.EXTERNAL_LINK, "oleObject")
    ]


def test_embedded_package_is_found_and_its_file_returned(policy: Policy) -> None:
    result = scan(with_embedding(package_object()), "docx", policy)
    [found] = result.findings
    assert found.code is FindingCode.OLE_OBJECT
    assert found.message == "embedded object (Package) in the Word document"
    assert found.location == "word/embeddings/oleObject1.bin"
    assert result.children == [Child("word/embeddings/oleObject1.bin/eicar.com", EICAR)]


def test_bare_embedded_object(policy: Policy) -> None:
    """An object file on its own, as a zip member holds it (a "compound" file: no Office
    document), or uploaded under a Word name (which it does not match)."""
    member = ENGINE.scan(
        Item("word/embeddings/oleObject1.bin", package_object(), FileType("compound", "", "")),
        policy.context(),
    )
    assert [(f.code, f.location) for f in member.findings] == [(FindingCode.OLE_OBJECT, None)]
    assert member.children == [Child("eicar.com", EICAR)]
    uploaded = scan(package_object(), "doc", policy)
    assert codes(uploaded) == [FindingCode.TYPE_MISMATCH, FindingCode.OLE_OBJECT]


def test_object_of_an_exploited_class_names_the_cve(policy: Policy) -> None:
    equation = ole_file({"Equation Native": b"\x1c\x00" + b"A" * 40}, clsid=EQUATION_CLSID)
    [found] = scan(with_embedding(equation), "docx", policy).findings
    assert found.code is FindingCode.OLE_OBJECT
    assert "CVE-2017-11882" in found.message


def test_dde_field(policy: Policy) -> None:
    command = "c:\\\\windows\\\\system32\\\\cmd.exe &quot;/k calc&quot;"
    field = f'<w:p><w:fldSimple w:instr="DDEAUTO {command}"/></w:p>'
    [found] = scan(docx(field), "docx", policy).findings
    assert found.code is FindingCode.DDE
    assert "cmd" not in found.message


def test_other_fields_are_not_dde(policy: Policy) -> None:
    field = '<w:p><w:fldSimple w:instr=" PAGE \\* MERGEFORMAT "/></w:p>'
    assert scan(docx(field), "docx", policy).findings == []


def test_excel4_macro_sheet(policy: Policy) -> None:
    macro = "http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet"
    sheet = b'<xm:macrosheet xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"/>'
    data = xlsx([(macro, "macrosheets/sheet1.xml", False)], {"xl/macrosheets/sheet1.xml": sheet})
    assert codes(scan(data, "xlsx", policy)) == [FindingCode.XLM_MACRO]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"PK\x03\x04 not really a zip",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600,
        docx()[:300],
    ],
    ids=["empty", "fake-zip", "fake-ole", "truncated"],
)
def test_damaged(data: bytes, policy: Policy) -> None:
    result = scan(data, "docx", policy)
    assert codes(result) == [FindingCode.CORRUPT]
    assert result.findings[0].message == "damaged Word document"


def _with_parts(count: int) -> bytes:
    """A Word document of ``count`` zip entries."""
    base = len(zipfile.ZipFile(io.BytesIO(docx())).infolist())
    return docx(parts={f"customXml/item{n}.xml": b"<x/>" for n in range(count - base)})


def test_limits_are_checked_before_reading(policy: Policy) -> None:
    """A package's parts are counted against ten times ``max_members``: they are the pieces
    of one document (a deck of 260 slides with notes has 1,079)."""
    small = policy.model_copy(update={"limits": Limits(max_members=3)})
    [found] = scan(_with_parts(31), "docx", small).findings
    assert found.code == FindingCode.ARCHIVE_MEMBERS
    assert found.message == "Word document not fully analysed: more than 30 parts"
    assert codes(scan(_with_parts(30), "docx", small)) == []
    tiny = policy.model_copy(update={"limits": Limits(max_expanded_bytes=500)})
    assert codes(scan(docx(), "docx", tiny)) == [FindingCode.ARCHIVE_EXPANSION]
    ole = package_object()
    assert codes(scan(ole, "doc", tiny)) == [FindingCode.ARCHIVE_EXPANSION]


def test_children_are_capped(policy: Policy) -> None:
    limits = Limits(max_members=2, max_expanded_bytes=10)
    capped = policy.model_copy(update={"limits": limits}).context()
    result = Result()
    assert add_child(result, Child("a", b"12345"), capped, "office")
    assert not add_child(result, Child("b", b"123456"), capped, "office")
    assert add_child(result, Child("c", b"12345"), capped, "office")
    assert not add_child(result, Child("d", b""), capped, "office")
    assert [c.where for c in result.children] == ["a", "c"]
    assert codes(result) == [FindingCode.ARCHIVE_EXPANSION, FindingCode.ARCHIVE_MEMBERS]


def test_the_pipeline_scans_the_embedded_file(policy: Policy) -> None:
    """The payload goes back through the pipeline, and what is found there says where."""

    class Detector:
        def detect(self, data: bytes) -> FileType:
            label = "docx" if data[:2] == b"PK" else "txt"
            return FileType(label, "", "document" if label == "docx" else "text", label == "txt")

    class Signatures:  # stands in for clamd, which these tests do not need
        name = "clamav"

        def version(self) -> str:
            return "test"

        def scan(self, item: Item, policy: Policy) -> Result:
            hit = EICAR in item.data
            found = [Finding("clamav", FindingCode.MALWARE, "EICAR test signature")] if hit else []
            return Result(found)

    class Nothing:
        def __init__(self, name: str) -> None:
            self.name = name

        def version(self) -> str:
            return "test"

        def scan(self, item: Item, policy: Policy) -> Result:
            return Result()

    engines = {"office": ENGINE, "clamav": Signatures(), "filetype": Nothing("filetype")}
    engines |= {"zip": Nothing("zip"), "text": Nothing("text")}
    with Scanner(policy, engines, Detector(), workers=2) as scanner:  # type: ignore[arg-type]
        report = scanner.scan(with_embedding(package_object()), "order.docx")
    assert not report.approved
    assert "EICAR test signature inside word/embeddings/oleObject1.bin/eicar.com" in report.reasons


# -- oletools' samples ------------------------------------------------------------------------

_LABELS = {"doc": "doc", "dot": "doc", "xls": "xls", "xlt": "xls", "xla": "xls", "ppt": "ppt"}
_LABELS |= {"pps": "ppt", "pot": "ppt", "xlsb": "xlsb"}


def label_of(path: str) -> str:
    ext = path.removesuffix(".zip").rsplit(".", 1)[-1]
    if ext in _LABELS:
        return _LABELS[ext]
    return {"d": "docx", "x": "xlsx", "p": "pptx"}[ext[0]]


def scan_sample(root: Path, path: str, policy: Policy) -> Result:
    return scan(read_sample(root, path), label_of(path), policy, Path(path).stem)


def _each(template: str, variants: str) -> list[str]:
    return [template.format(v) for v in variants.split()]


EMBEDDED = _each(
    "oleobj/embedded-simple-2007.{}",
    "doc dot docx docm dotx dotm xls xla xlt xlsx xlsm xlsb xltx xltm xlam "
    "ppt pps pot pptx pptm ppsx ppsm potx potm",
)
EXTERNAL = _each(
    "oleobj/external_link/sample_with_external_link_to_doc.{}",
    "docx docm dotx dotm xlsx xlsm xlsb pptx pptm ppsx ppsm potx potm",
)
ENCRYPTED = [
    "basic/encrypted.docx",
    *_each("encrypted/encrypted.{}", "doc docm docx ppt pptm pptx xls xlsb xlsm xlsx"),
]
XLM = _each("excel4-macros/excel4_sample_macro{}", ".xls .xlt .xlsm .xlsb .xltm _excel5_format.xls")
DDE = _each(
    "msodde/dde-test{}",
    ".docx .docm .xlsx .xlsm .xlsb -from-office2016.doc -from-office2003.doc.zip "
    "-from-office2013-utf_16le-korean.doc.zip",
)


@pytest.mark.parametrize("path", EMBEDDED)
def test_sample_embedded_package(path: str, oletools_data: Path, policy: Policy) -> None:
    """Office's package of a text file (Insert > Object > Create from File) is that text file,
    opened by its name: handed over to be judged as an upload, not an OLE_OBJECT."""
    result = scan_sample(oletools_data, path, policy)
    assert codes(result) == []
    [child] = result.children
    assert child.where.endswith("/simple-text-file.txt") and child.named
    assert child.data.startswith(b"This is ") and b"simple" in child.data


@pytest.mark.parametrize("path", EMBEDDED[:1])
def test_sample_embedded_package_of_a_type_not_allowed(
    path: str, oletools_data: Path, policy: Policy
) -> None:
    """The same package where the policy does not allow text files stays an OLE_OBJECT."""
    strict = policy.model_copy(update={"allowed_extensions": [".doc"]})
    result = scan_sample(oletools_data, path, strict)
    assert codes(result) == [FindingCode.OLE_OBJECT]
    assert result.findings[0].label == "Package"
    [child] = result.children
    assert child.where.endswith("/simple-text-file.txt") and not child.named


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("oleobj/sample_with_calc_embedded.doc", b"MZ"),
        ("oleobj/sample_with_lnk_file.doc", b"L\0\0\0"),
        ("oleobj/sample_with_lnk_file.ppt", b"L\0\0\0"),
        ("oleobj/sample_with_lnk_to_calc.doc", None),  # a link to a file: nothing inside
    ],
)
def test_sample_packages_with_programs(
    path: str,
    payload: bytes | None,
    oletools_data: Path,
    policy: Policy,
) -> None:
    result = scan_sample(oletools_data, path, policy)
    assert codes(result) == [FindingCode.OLE_OBJECT]
    assert [c.data[: len(payload or b"")] for c in result.children] == (
        [payload] if payload else []
    )


@pytest.mark.parametrize("path", EXTERNAL)
def test_sample_external_link(path: str, oletools_data: Path, policy: Policy) -> None:
    result = scan_sample(oletools_data, path, policy)
    # a workbook also says so in its external-link part (an OLE link to the document)
    assert set(codes(result)) == {FindingCode.EXTERNAL_LINK}
    assert not any("githubusercontent" in f.message for f in result.findings)


@pytest.mark.parametrize("path", ENCRYPTED)
def test_sample_encrypted(path: str, oletools_data: Path, policy: Policy) -> None:
    result = scan_sample(oletools_data, path, policy)
    assert codes(result) == [FindingCode.ENCRYPTED]
    assert result.findings[0].message == "password-protected Office document (cannot be scanned)"
    assert result.children == []


@pytest.mark.parametrize(
    ("path", "inside"),
    [
        ("encrypted/autostart-encrypt-standardpassword.xls", FindingCode.VBA_MACRO),
        ("encrypted/autostart-encrypt-standardpassword.xlsm", FindingCode.VBA_MACRO),
        ("encrypted/autostart-encrypt-standardpassword.xlsb", FindingCode.VBA_MACRO),
        ("encrypted/dde-test-encrypt-standardpassword.xls", FindingCode.DDE),
        ("encrypted/dde-test-encrypt-standardpassword.xlsx", FindingCode.DDE),
        ("encrypted/dde-test-encrypt-standardpassword.xlsm", FindingCode.DDE),
    ],
)
def test_sample_excel_default_password_is_decrypted(
    path: str,
    inside: Code,
    oletools_data: Path,
    policy: Policy,
) -> None:
    result = scan_sample(oletools_data, path, policy)
    assert result.findings == []
    [child] = result.children
    assert child.where == "content decrypted with Excel's default password"
    label = "xls" if child.data[:2] == b"\xd0\xcf" else label_of(path)
    assert inside in codes(scan(child.data, label, policy))


def test_sample_expensive_key_derivation_is_not_attempted(
    oletools_data: Path, policy: Policy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file may ask for up to 10 million hashing rounds per password: too many to try one."""
    path = tmp_path / "slow.xlsx"
    path.write_bytes(read_sample(oletools_data, "encrypted/encrypted.xlsx"))
    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        info = ole.openstream("EncryptionInfo").read()
        assert b'spinCount="100000"' in info
        ole.write_stream("EncryptionInfo", info.replace(b'"100000"', b'"999999"'))

    class Forbidden(BaseException):
        pass

    def refuse(*args: object) -> None:
        raise Forbidden

    monkeypatch.setattr(ECMA376Agile, "makekey_from_password", refuse)
    assert codes(scan(path.read_bytes(), "xlsx", policy)) == [FindingCode.ENCRYPTED]


def test_unknown_encryption_method(policy: Policy) -> None:
    extensible = struct.pack("<HHI", 4, 3, 0x40)  # "extensible" encryption: msoffcrypto refuses
    data = ole_file({"EncryptionInfo": extensible, "EncryptedPackage": bytes(64)})
    assert codes(scan(data, "docx", policy)) == [FindingCode.ENCRYPTED]


@pytest.mark.parametrize("path", XLM)
def test_sample_excel4_macros(path: str, oletools_data: Path, policy: Policy) -> None:
    result = scan_sample(oletools_data, path, policy)
    assert codes(result) == [FindingCode.XLM_MACRO]
    assert result.findings[0].message == "Excel 4 (XLM) macros in the Excel workbook"


@pytest.mark.parametrize("path", DDE)
def test_sample_dde(path: str, oletools_data: Path, policy: Policy) -> None:
    # the Word samples hold three DDE fields each
    assert set(codes(scan_sample(oletools_data, path, policy))) == {FindingCode.DDE}


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "oleform/oleform-PR314.docm",
            "macro-enabled Word document (the macros run automatically and use suspicious "
            "commands)",
        ),
        (
            "olevba/sample_with_vba.ppt",
            "macro-enabled PowerPoint presentation (the macros run automatically)",
        ),
    ],
)
def test_sample_vba_macros(path: str, message: str, oletools_data: Path, policy: Policy) -> None:
    result = scan_sample(oletools_data, path, policy)
    assert [(f.code, f.message) for f in result.findings] == [(FindingCode.VBA_MACRO, message)]


@pytest.mark.parametrize(
    "path",
    ["msodde/harmless-clean.doc", "msodde/harmless-clean.docx", "msodde/harmless-clean.docm"],
)
def test_sample_clean(path: str, oletools_data: Path, policy: Policy) -> None:
    result = scan_sample(oletools_data, path, policy)
    assert result.findings == [] and result.children == []


def test_member_inflating_past_its_declared_size_is_damaged(policy: Policy) -> None:
    """The limits are checked on declared sizes; zipfile never inflates a member past its
    declared size, so a zip that lies about it is damaged, not a bomb."""
    data = docx("<w:p><w:r><w:t>" + "A" * 50_000 + "</w:t></w:r></w:p>")
    name = b"word/document.xml"
    # the central directory record of that member: its uncompressed size is at offset 24
    record = next(
        i
        for i in range(len(data))
        if data.startswith(b"PK\x01\x02", i) and data[i + 46 :].startswith(name)
    )
    lying = data[: record + 24] + (100).to_bytes(4, "little") + data[record + 28 :]
    with zipfile.ZipFile(io.BytesIO(lying)) as zf:
        assert zf.getinfo("word/document.xml").file_size == 100
    assert set(codes(scan(lying, "docx", policy))) == {FindingCode.CORRUPT}


def _xlsx_with_formula(formula: str) -> bytes:
    from attachguard import samples

    source = zipfile.ZipFile(io.BytesIO(samples.xlsx([["total", 1]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.startswith("xl/worksheets/"):
                cell = f"<c><f>{formula}</f><v>0</v></c>".encode()
                data = data.replace(b"<c><v>1</v></c>", cell)
                assert cell in data
            target.writestr(info, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("formula", "dde"),
    [
        ("cmd|&apos;/C calc&apos;!A0", True),
        ("SUM(1+1)*cmd|' /C calc'!A0", True),
        ("SUM(A1:A3)", False),
        ('IF(B2&gt;0,"yes|no","")', False),
    ],
)
def test_cell_formulas_that_run_commands(policy: Policy, formula: str, dde: bool) -> None:
    from attachguard.engines.base import Item
    from attachguard.engines.office import OfficeEngine
    from attachguard.report import FileType

    kind = FileType("xlsx", "application/vnd.ms-excel", "document")
    findings = OfficeEngine().scan(
        Item("p.xlsx", _xlsx_with_formula(formula), kind), policy.context()
    )
    assert [f.code.name for f in findings.findings] == (["DDE"] if dde else [])


# -- think-cell's layout objects (precision 90) -------------------------------------------------

THINK_CELL = "3EAB3858-A0E0-4A3B-A405-F4D525E85265"
LAYOUT = b'<?xml version="1.0" encoding="UTF-8"?><root reqver="23045"><version val="25146"/></root>'


def object_file(streams: dict[str, bytes], clsid: str = THINK_CELL) -> bytes:
    """An embedded object: a compound file of ``streams`` with class ``clsid``."""
    from attachguard.formats.cfbwrite import Storage, compound_file

    return compound_file(Storage(streams, clsid))


def test_a_think_cell_layout_is_content(policy: Policy) -> None:
    """think-cell puts a layout object on the slide master of every deck edited where it is
    installed (ShapeCrawler's and Aspose's decks): its streams are data, scanned as such."""
    child = b"\x01\x00\x00\x00l\x00\x00\x00" + b"\xff" * 64
    obj = object_file(
        {"think-cellXML": LAYOUT, "think-cellChild0": LAYOUT, "think-cellChild1": child}
    )
    result = scan(with_embedding(obj), "docx", policy)
    assert result.findings == []
    assert {c.where.rsplit("/", 1)[1] for c in result.children} >= {
        "think-cellXML", "think-cellChild0", "think-cellChild1"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("streams", "clsid"),
    [
        ({"think-cellXML": LAYOUT, "Payload": b"MZ"}, THINK_CELL),  # more than think-cell writes
        ({"think-cellXML": b'<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>'}, THINK_CELL),
        ({"think-cellXML": LAYOUT, "\x01Ole": b"\x01\x00\x00\x02\x01\x00\x00\x00"}, THINK_CELL),
        ({"think-cellXML": LAYOUT}, EQUATION_CLSID),
        ({"think-cellChild0": LAYOUT}, THINK_CELL),  # no layout
    ],
    ids=["extra-stream", "dtd", "linked", "other-class", "no-layout"],
)
def test_anything_else_in_a_think_cell_object_keeps_it_an_object(
    streams: dict[str, bytes], clsid: str, policy: Policy
) -> None:
    result = scan(with_embedding(object_file(streams, clsid)), "docx", policy)
    assert FindingCode.OLE_OBJECT in codes(result)


# -- a PDF inserted through Foxit Reader (precision 90) -----------------------------------------

FOXIT = "14E8BBD8-1D1C-4D56-A4DA-D20B75EB814E"
SMALL_PDF = b"%PDF-1.7\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def test_a_pdf_inserted_through_foxit_is_scanned_as_the_pdf(policy: Policy) -> None:
    contents = b"%DocumentOle:C:\\Docs\\terms.pdf%DocumentOle:" + SMALL_PDF
    obj = object_file({"Contents": contents, "\x01Ole": b"\x01\x00\x00\x02" + bytes(16)}, FOXIT)
    result = scan(with_embedding(obj), "docx", policy)
    assert result.findings == []
    assert [c.data for c in result.children] == [SMALL_PDF]


@pytest.mark.parametrize(
    "contents",
    [
        b"%DocumentOle:x%DocumentOle:MZ" + SMALL_PDF,  # not a PDF right after the markers
        b"junk%DocumentOle:x%DocumentOle:" + SMALL_PDF,
        SMALL_PDF,  # no markers: not what Foxit writes
    ],
)
def test_anything_else_in_a_foxit_object_keeps_it_an_object(
    contents: bytes, policy: Policy
) -> None:
    result = scan(with_embedding(object_file({"Contents": contents}, FOXIT)), "docx", policy)
    assert FindingCode.OLE_OBJECT in codes(result)
