"""OLE packages (Insert > Object > Create from File, shown as an icon) are the file they hold:
double-clicking the icon writes it out under its name and Windows opens it by its extension,
as it would the same file sent on its own. A package read one way only, whose every name has
one extension of a type the policy allows, is handed over as that file and judged as an upload
(its content against its name); any other package stays OLE_OBJECT. The same rule holds in an
OOXML file, a .doc's object pool, a bare object and an RTF object, where an Office document
of the class its RTF class name names is now judged as the same object in a .doc is.

Real packages made by Office and WPS (Apache Tika's test files) were read the same way by this
reader; the layouts built here follow them: ANSI names, then the same names in UTF-16."""

from __future__ import annotations

import struct

import pytest

from attachguard.clamav.client import ClamdClient
from attachguard.codes import FindingCode
from attachguard.engines.base import Child, Item, Result
from attachguard.engines.office_objects import opened_package
from attachguard.engines.rtf import RtfEngine
from attachguard.formats.cfbwrite import Storage, compound_file
from attachguard.formats.olepackage import packaged_file
from attachguard.policy import Policy
from attachguard.report import FileType, Status
from attachguard.scanner import build_scanner
from support.fake_clamd import EICAR, FakeClamd, scanner_for
from support.oletools_data import docx, ole_file, rtf_object

PACKAGE_CLSID = "0003000C-0000-0000-C000-000000000046"
WORD_CLSID = "00020906-0000-0000-C000-000000000046"
EQUATION_CLSID = "0002CE02-0000-0000-C000-000000000046"
ALLOWED = frozenset({".txt", ".pdf", ".jpg", ".docx", ".doc", ".rtf"})
POLICY = "allowed_extensions: [.docx, .doc, .rtf, .txt, .pdf, .jpg]\n"
TEXT = b"Opening hours: 9 to 5.\r\n"
TEMP = "C:\\Users\\me\\AppData\\Local\\Temp\\"


def native(
    label: str,
    data: bytes,
    *,
    original: str | None = None,
    temporary: str | None = None,
    wide: tuple[str, str, str] | None = None,
    kind: int = 0x00030000,
    sized: bool = True,
    extra: bytes = b"",
) -> bytes:
    """A package's native data as the Packager writes it: format 2, the label, original and
    temporary paths in ANSI, the file, then (``wide``) the temporary path, label and original
    path in UTF-16; ``extra`` after everything."""
    original = "C:\\Users\\me\\Desktop\\" + label if original is None else original
    temporary = TEMP + label if temporary is None else temporary
    wide = (temporary, label, original) if wide is None else wide

    def ansi(text: str) -> bytes:
        return text.encode("latin-1") + b"\0"

    def utf16(text: str) -> bytes:
        return struct.pack("<I", len(text)) + text.encode("utf-16-le")

    body = (
        struct.pack("<H", 2) + ansi(label) + ansi(original)
        + struct.pack("<II", kind, len(ansi(temporary))) + ansi(temporary)
        + struct.pack("<I", len(data)) + data + b"".join(map(utf16, wide)) + extra
    )  # fmt: skip
    return struct.pack("<I", len(body)) + body if sized else body


def package_object(stream: bytes) -> bytes:
    """The compound file Office writes for a package (word/embeddings/oleObject1.bin)."""
    return compound_file(Storage({"\x01Ole10Native": stream}, PACKAGE_CLSID))


def with_package(stream: bytes) -> bytes:
    body = '<w:p><w:r><w:object><o:OLEObject r:id="rId1"/></w:object></w:r></w:p>'
    rels = [("oleObject", "embeddings/oleObject1.bin", False)]
    return docx(body, rels, {"word/embeddings/oleObject1.bin": package_object(stream)})


def letter(stream: bytes) -> bytes:
    """A Word 97 document with the package as ``_1024`` in its object pool."""
    obj = Storage({"\x01CompObj": b"", "\x01Ole10Native": stream}, PACKAGE_CLSID)
    streams = {"WordDocument": bytes(1024), "1Table": bytes(512)}
    return compound_file(Storage({**streams, "ObjectPool": Storage({"_1024": obj})}, WORD_CLSID))


def codes_of(data: bytes, name: str) -> tuple[Status, set[str]]:
    with scanner_for(FakeClamd(), POLICY) as scanner:
        report = scanner.scan(data, name)
    return report.status, {f.code.name for f in report.findings}


# -- the reader --------------------------------------------------------------------------------


def test_every_name_is_read_and_the_unicode_temporary_name_is_the_one_opened() -> None:
    wide = (TEMP + "Öffnungszeiten (2).txt", "Öffnungszeiten.txt", "C:\\Daten\\Öffnungszeiten.txt")
    package = packaged_file(native("Offnungszeiten.txt", TEXT, wide=wide))
    assert package is not None
    assert package.data == TEXT
    assert package.labels == ("Offnungszeiten.txt", "Öffnungszeiten.txt")
    assert package.paths == (
        "C:\\Users\\me\\Desktop\\Offnungszeiten.txt",
        TEMP + "Offnungszeiten.txt",
        "C:\\Daten\\Öffnungszeiten.txt",
        TEMP + "Öffnungszeiten (2).txt",
    )
    assert package.temporary_name == "Öffnungszeiten (2).txt"


def test_a_package_without_the_unicode_names_or_its_size_is_read() -> None:
    body = native("a.txt", TEXT, sized=False)
    short = body[: body.index(TEXT) + len(TEXT)]
    package = packaged_file(short, sized=False)
    assert package is not None and package.data == TEXT
    assert (package.labels, package.paths) == (
        ("a.txt",),
        ("C:\\Users\\me\\Desktop\\a.txt", TEMP + "a.txt"),
    )
    assert package.temporary_name == "a.txt"


def test_a_character_the_code_page_lacks_is_a_question_mark_beside_the_unicode_names() -> None:
    # Windows writes "?" in the ANSI names for each character the code page lacks (oletools'
    # embedded-unicode.doc); the Packager opens the UTF-16 name
    name = "Öffnungszeiten-수식.txt"
    ansi = name.replace("수", "?").replace("식", "?")
    wide = (TEMP + name, name, "C:\\" + name)
    package = packaged_file(
        native(ansi, TEXT, original="C:\\" + ansi, temporary=TEMP + ansi, wide=wide)
    )
    assert package is not None and package.temporary_name == name
    assert opened_package(package, ALLOWED) == (name, TEXT)
    alone = native(ansi, TEXT, original="C:\\" + ansi, temporary=TEMP + ansi, sized=False)
    alone = alone[: alone.index(TEXT) + len(TEXT)]  # no UTF-16 names: "?" is no file name
    assert packaged_file(alone, sized=False) is None


def _resized(stream: bytes, delta: int) -> bytes:
    return struct.pack("<I", len(stream) - 4 + delta) + stream[4:]


@pytest.mark.parametrize(
    "stream",
    [
        pytest.param(native("a.txt", TEXT, kind=0x00010000), id="a link to a file"),
        pytest.param(b"\x10\0\0\0\x03\0" + native("a.txt", TEXT)[6:], id="another format"),
        pytest.param(_resized(native("a.txt", TEXT), 1), id="size past the end"),
        pytest.param(_resized(native("a.txt", TEXT), -1), id="size short of the end"),
        pytest.param(native("a.txt", TEXT, extra=b"\0"), id="a byte left over"),
        pytest.param(native("a.txt", TEXT)[:-3], id="cut short"),
        pytest.param(native("a.txt", TEXT, temporary=TEMP + "a\x07.txt"), id="a control byte"),
        pytest.param(native("a.txt", TEXT, temporary=TEMP + "a.exe:b.txt"), id="a stream"),
        pytest.param(native("a.txt", TEXT, original=""), id="no original path"),
    ],
)
def test_a_package_read_any_other_way_is_no_packaged_file(stream: bytes) -> None:
    assert packaged_file(stream) is None


@pytest.mark.parametrize(
    ("tail", "read"), [(b"\0\0", True), (b"\0\0\0", False), (b"\0x", False)],
    ids=["xp-nuls", "three-nuls", "a-byte"],
)  # fmt: skip
def test_windows_xps_two_nuls_after_the_file_are_its_end(tail: bytes, read: bool) -> None:
    """Windows XP's Packager (no UTF-16 names) ends its data with two NULs (hunt 98: a JPEG
    packaged so in POI's WordWithAttachments.docx was an OLE_OBJECT); anything else left over
    still makes no packaged file."""
    package = packaged_file(native("Tryhere.jpg", TEXT, wide=(), extra=tail))  # type: ignore[arg-type]
    assert (package is not None) is read
    if package is not None:
        assert (package.data, package.temporary_name) == (TEXT, "Tryhere.jpg")


def test_a_lone_surrogate_in_a_unicode_name_is_no_packaged_file() -> None:
    stream = native("a.txt", TEXT)
    wide_temp = (TEMP + "a.txt").encode("utf-16-le")
    broken = wide_temp[:-4] + b"\x00\xd8" + wide_temp[-2:]  # "a.t" + U+D800 + "t"
    assert packaged_file(stream.replace(wide_temp, broken)) is None


def test_a_temporary_path_length_that_disagrees_is_no_packaged_file() -> None:
    stream = native("a.txt", TEXT)
    at = stream.index(b"\x00\x00\x03\x00") + 4
    wrong = stream[:at] + struct.pack("<I", struct.unpack_from("<I", stream, at)[0] + 1)
    assert packaged_file(wrong + stream[at + 4 :]) is None


# -- which packages are the file they hold -----------------------------------------------------


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        (native("Opening hours.txt", TEXT), "Opening hours.txt"),
        (native("Click to open", TEXT, temporary=TEMP + "hours.txt",
                original="C:\\hours.txt", wide=(TEMP + "hours.txt", "Click to open",
                                                "C:\\hours.txt")), "hours.txt"),
        (native("a.txt.", TEXT, temporary=TEMP + "a.txt.", original="C:\\a.txt",
                wide=(TEMP + "a.txt. ", "a.txt", "C:\\a.txt")), "a.txt"),
        (native("x" * 200 + ".pdf", TEXT), "x" * 60 + ".pdf"),
        (native("menu.JPG", TEXT), "menu.jpg"),
    ],
)  # fmt: skip
def test_a_package_whose_names_agree_on_an_allowed_type_is_that_file(
    stream: bytes, expected: str
) -> None:
    assert opened_package(packaged_file(stream), ALLOWED) == (expected, TEXT)


@pytest.mark.parametrize(
    "stream",
    [
        pytest.param(native("tool.exe", TEXT), id="a program"),
        pytest.param(native("notes.zip", TEXT), id="a type the policy does not allow"),
        pytest.param(native("notes", TEXT), id="no extension"),
        pytest.param(
            native("a.txt", TEXT, wide=(TEMP + "a.js", "a.txt", "C:\\a.txt")),
            id="the unicode temporary name another type",
        ),
        pytest.param(native("a.txt", TEXT, original="C:\\a.hta"), id="the original another type"),
        pytest.param(
            native(
                "invoice.pdf.exe",
                TEXT,
                temporary=TEMP + "invoice.pdf",
                original="C:\\invoice.pdf",
                wide=(TEMP + "invoice.pdf", "invoice.pdf.exe", "C:\\invoice.pdf"),
            ),
            id="the label another type",
        ),
    ],
)
def test_a_package_whose_names_disagree_or_are_not_allowed_is_no_file(stream: bytes) -> None:
    assert packaged_file(stream) is not None
    assert opened_package(packaged_file(stream), ALLOWED) is None


# -- through the scanner -----------------------------------------------------------------------


@pytest.mark.parametrize(("build", "name"), [(with_package, "hours.docx"), (letter, "hours.doc")])
def test_a_document_with_a_packaged_text_is_approved(build: object, name: str) -> None:
    data = build(native("Opening hours.txt", TEXT))  # type: ignore[operator]
    assert codes_of(data, name) == (Status.APPROVED, set())


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        (native("hours.txt", EICAR), {"MALWARE"}),
        (native("hours.pdf", b"MZ" + bytes(300)), {"EXECUTABLE"}),
        (native("hours.jpg", b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"),
         {"TYPE_MISMATCH"}),
        (native("hours.js", b"WScript.Echo(1)"), {"OLE_OBJECT"}),
        (native("a.txt", TEXT, wide=(TEMP + "a.hta", "a.txt", "C:\\a.txt")), {"OLE_OBJECT"}),
    ],
)  # fmt: skip
def test_a_packaged_file_is_judged_as_an_upload_is(stream: bytes, expected: set[str]) -> None:
    status, found = codes_of(with_package(stream), "hours.docx")
    assert status is Status.REJECTED
    assert expected <= found
    assert "OLE_OBJECT" in found or "OLE_OBJECT" not in expected


def test_a_package_with_more_than_office_writes_beside_it_stays_an_object() -> None:
    obj = compound_file(
        Storage({"\x01Ole10Native": native("a.txt", TEXT), "Payload": b"MZ"}, PACKAGE_CLSID)
    )
    body = '<w:p><w:r><w:object><o:OLEObject r:id="rId1"/></w:object></w:r></w:p>'
    rels = [("oleObject", "embeddings/oleObject1.bin", False)]
    data = docx(body, rels, {"word/embeddings/oleObject1.bin": obj})
    assert codes_of(data, "a.docx")[1] >= {"OLE_OBJECT"}


# -- RTF ---------------------------------------------------------------------------------------

ENGINE = RtfEngine()


def rtf_scan(data: bytes, policy: Policy) -> Result:
    return ENGINE.scan(
        Item("upload.rtf", data, FileType("rtf", "text/rtf", "text", True)), policy.context()
    )


def test_an_rtf_package_of_a_text_is_that_text(policy: Policy) -> None:
    result = rtf_scan(rtf_object("Package", native("hours.txt", TEXT, sized=False)), policy)
    assert result.findings == []
    assert result.children == [Child("object 1/hours.txt", TEXT, named=True)]


@pytest.mark.parametrize("word", [b"\\objautlink", b"\\objlink", b"\\objemb\\objupdate"])
def test_an_rtf_that_links_an_object_keeps_every_object_an_ole_object(
    word: bytes, policy: Policy
) -> None:
    data = rtf_object("Package", native("hours.txt", TEXT, sized=False))
    linking = data.replace(b"\\objemb", word)
    [found] = rtf_scan(linking, policy).findings
    assert (found.code, found.label) == (FindingCode.OLE_OBJECT, "Package")


def test_an_rtf_office_document_of_its_own_class_is_scanned_as_the_document(
    policy: Policy,
) -> None:
    word = ole_file({"WordDocument": bytes(1024), "1Table": bytes(512)}, clsid=WORD_CLSID)
    result = rtf_scan(rtf_object("Word.Document.8", word), policy)
    assert result.findings == []
    assert result.children == [Child("object 1", word)]
    again = rtf_scan(rtf_object("word.document.8", word), policy)  # ProgIDs have no case
    assert again.findings == [] and again.children == [Child("object 1", word)]


@pytest.mark.parametrize(
    ("class_name", "clsid"),
    [
        ("Word.Document.8", EQUATION_CLSID),  # the data names another class
        ("Equation.3", WORD_CLSID),  # the class name names another program
        ("Paint.Picture", WORD_CLSID),
    ],
)
def test_an_rtf_object_whose_class_and_data_disagree_stays_an_object(
    class_name: str, clsid: str, policy: Policy
) -> None:
    word = ole_file({"WordDocument": bytes(1024), "1Table": bytes(512)}, clsid=clsid)
    result = rtf_scan(rtf_object(class_name, word), policy)
    assert [f.code for f in result.findings] == [FindingCode.OLE_OBJECT]
    assert result.children == [Child("object 1", word)]


def test_an_rtf_office_document_of_another_program_beside_it_stays_an_object(
    policy: Policy,
) -> None:
    word = ole_file(
        {"WordDocument": bytes(1024), "1Table": bytes(512), "\x03OCXNAME": b"x\0"},
        clsid=WORD_CLSID,
    )
    result = rtf_scan(rtf_object("Word.Document.8", word), policy)
    assert [f.code for f in result.findings] == [FindingCode.OLE_OBJECT]
    assert result.findings[0].engine == "rtf"


@pytest.mark.parametrize(
    "hide",
    [
        lambda hexdata: hexdata[:64] + "\n{\\*\\zzhidden\n" + hexdata[64:] + "\n}",
        lambda hexdata: hexdata[:64] + "{\\*\\Comment " + hexdata[64:] + "}",
        lambda hexdata: hexdata[:64] + "\\'41" + hexdata[64:],
        lambda hexdata: hexdata[:64] + "\\bin0 " + hexdata[64:],
    ],
    ids=["unknown-group", "comment-group", "escape", "bin"],
)
def test_an_rtf_object_not_written_as_plain_hex_stays_an_object(
    hide: object, policy: Policy
) -> None:
    """Word drops a ``{\\*\\unknown ...}`` group inside ``\\objdata`` where rtfobj keeps its
    hex (red team 91: a package of a text to rtfobj, of a .bat to Word): only data written
    as plain hex is read as the object Word builds."""
    data = rtf_object("Package", native("hours.txt", TEXT, sized=False))
    start = data.index(b"{\\*\\objdata\n") + len(b"{\\*\\objdata\n")
    end = data.index(b"\n}}", start)
    hexdata = data[start:end].decode()
    hidden = data[:start] + hide(hexdata).encode() + data[end:]  # type: ignore[operator]
    found = rtf_scan(hidden, policy).findings
    assert [f.code for f in found][:1] == [FindingCode.OLE_OBJECT]


@pytest.mark.integration  # a real clamd: the whole scanner as shipped
def test_packages_through_the_whole_scanner(policy: Policy, clamd_client: ClamdClient) -> None:
    """The packaged file reaches the real antivirus and every engine: a text is approved, the
    antivirus' test file in a text is MALWARE, a script is OLE_OBJECT."""
    with build_scanner(policy, clamd_client) as scanner:
        clean = scanner.scan(with_package(native("Opening hours.txt", TEXT)), "hours.docx")
        assert clean.status is Status.APPROVED, clean.reasons
        infected = scanner.scan(with_package(native("hours.txt", EICAR)), "hours.docx")
        assert "MALWARE" in {f.code.name for f in infected.findings}
        script = scanner.scan(letter(native("run.vbs", b'WScript.Echo "x"\r\n')), "run.doc")
        assert {"OLE_OBJECT"} <= {f.code.name for f in script.findings}
        assert script.status is Status.REJECTED
