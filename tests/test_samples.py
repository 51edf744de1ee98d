"""The generated samples are what they claim to be, and the scanner gives each demo file the
verdict `demo_module.EXPECTED` promises, for the reason the file was built for."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import corpus  # bench/corpus.py (pytest adds bench/ to the path)
import pytest
from magika import Magika
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from attachguard import demo as demo_module
from attachguard.clamav.client import ClamdClient
from attachguard.codes import FindingCode
from attachguard.pipeline import Scanner
from attachguard.policy import Policy

# What Magika must call each demo file: the clean ones are their real type, the bad ones are
# exactly the disguise or content they were built with.
LABELS = {
    "receipt.pdf": "pdf",
    "damaged-product.jpg": "jpeg",
    "order-history.csv": "csv",
    "return-form.docx": "docx",
    "notes.txt": "txt",
    "screenshot.png": "png",
    "invoice.pdf": "pdf",
    "contract.docx": "docx",
    "photo.jpg": "pebin",
    "holiday.jpg": "jpeg",
    "setup.exe": "pebin",
    "bomb.docx": "docx",
}

# Why each harmful demo file must be rejected: at least one of these codes.
REASONS = {
    "eicar.txt": {FindingCode.MALWARE},
    "invoice.pdf": {FindingCode.PDF_JAVASCRIPT, FindingCode.PDF_AUTO_ACTION},
    "contract.docx": {FindingCode.EXTERNAL_LINK},
    "prices.csv": {FindingCode.FORMULA_INJECTION},
    "photo.jpg": {FindingCode.TYPE_MISMATCH, FindingCode.EXECUTABLE},
    "holiday.jpg": {FindingCode.POLYGLOT},
    "setup.exe": {FindingCode.EXTENSION_NOT_ALLOWED},
    "bomb.docx": {FindingCode.ARCHIVE_RATIO},
}

SIZES = (10_000, 250_000)


@pytest.fixture(scope="module")
def demo() -> dict[str, bytes]:
    return demo_module.demo_samples()


@pytest.fixture(scope="module")
def magika() -> Magika:
    return Magika()


def test_every_demo_file_has_an_expected_verdict(demo: dict[str, bytes]) -> None:
    assert set(demo) == set(demo_module.EXPECTED)
    assert set(REASONS) == {n for n, s in demo_module.EXPECTED.items() if s == "REJECTED"}


def test_demo_is_deterministic(demo: dict[str, bytes]) -> None:
    assert demo_module.demo_samples() == demo


@pytest.mark.parametrize("name", sorted(LABELS))
def test_magika_sees_the_intended_type(name: str, demo: dict[str, bytes], magika: Magika) -> None:
    assert magika.identify_bytes(demo[name]).output.label == LABELS[name]


def test_receipt_is_a_readable_one_page_pdf(demo: dict[str, bytes]) -> None:
    reader = PdfReader(io.BytesIO(demo["receipt.pdf"]))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "Proof of purchase" in text and "62.40 EUR" in text
    assert "/OpenAction" not in reader.root_object


def test_invoice_runs_javascript_on_open(demo: dict[str, bytes]) -> None:
    action = PdfReader(io.BytesIO(demo["invoice.pdf"])).root_object["/OpenAction"]
    assert isinstance(action, DictionaryObject)
    assert str(action["/S"]) == "/JavaScript" and "app.alert" in str(action["/JS"])


@pytest.mark.parametrize("name", ["damaged-product.jpg", "screenshot.png", "holiday.jpg"])
def test_images_decode(name: str, demo: dict[str, bytes]) -> None:
    with Image.open(io.BytesIO(demo[name])) as image:
        image.load()
        assert image.width >= 640 and image.height >= 480


def test_product_photo_carries_exif(demo: dict[str, bytes]) -> None:
    with Image.open(io.BytesIO(demo["damaged-product.jpg"])) as image:
        assert image.getexif()[0x010F] == "Pixelphone"


def test_holiday_photo_has_a_zip_after_the_jpeg_end(demo: dict[str, bytes]) -> None:
    data = demo["holiday.jpg"]
    end = data.index(b"\xff\xd9") + 2  # no EOI marker inside this baseline JPEG's scan data
    assert data[end:].startswith(b"PK\x03\x04")
    assert zipfile.ZipFile(io.BytesIO(data)).namelist() == ["holiday/readme.txt"]


def test_contract_points_at_a_remote_template(demo: dict[str, bytes]) -> None:
    with zipfile.ZipFile(io.BytesIO(demo["contract.docx"])) as package:
        rels = package.read("word/_rels/settings.xml.rels").decode()
        assert "attachedTemplate" in package.read("word/settings.xml").decode()
    assert 'TargetMode="External"' in rels and "https://" in rels


def test_return_form_has_no_external_relationship(demo: dict[str, bytes]) -> None:
    with zipfile.ZipFile(io.BytesIO(demo["return-form.docx"])) as package:
        assert all(b"External" not in package.read(n) for n in package.namelist())


def test_bomb_expands_far_past_the_ratio_limit(demo: dict[str, bytes]) -> None:
    with zipfile.ZipFile(io.BytesIO(demo["bomb.docx"])) as package:
        info = package.getinfo("word/document.xml")
    assert info.file_size / info.compress_size > 500


def test_eicar_and_windows_program(demo: dict[str, bytes]) -> None:
    assert len(demo["eicar.txt"]) == 68 and demo["eicar.txt"].startswith(b"X5O!P%@AP")
    assert demo["photo.jpg"].startswith(b"MZ") and demo["setup.exe"] == demo["photo.jpg"]


def test_write_demo_samples(tmp_path: Path, demo: dict[str, bytes]) -> None:
    paths = demo_module.write_demo_samples(tmp_path / "demo")
    assert {p.name: p.read_bytes() for p in paths} == demo


@pytest.mark.parametrize("kind", sorted(corpus.BUILDERS))
def test_corpus_files_are_their_type_and_size(kind: str, magika: Magika) -> None:
    for size in SIZES:
        extension, data = corpus.build(kind, size, seed=3)
        assert abs(len(data) - size) <= 0.10 * size, (kind, size, len(data))
        assert magika.identify_bytes(data).output.label == kind
        if size == SIZES[0]:  # deterministic (built again at the small size: the same code)
            assert corpus.build(kind, size, seed=3)[1] == data
    assert extension == (".jpg" if kind == "jpeg" else f".{kind}")


def test_large_corpus_pdf_and_docx_carry_a_decodable_photo() -> None:
    document = PdfReader(io.BytesIO(corpus.build("pdf", 400_000, seed=1)[1]))
    assert len(document.pages) == 10 and document.pages[0].images[0].image is not None
    with zipfile.ZipFile(io.BytesIO(corpus.build("docx", 400_000, seed=1)[1])) as package:
        Image.open(io.BytesIO(package.read("word/media/image1.jpeg"))).load()


def test_mixed_corpus_sizes_and_names() -> None:
    sizes = corpus.mixed_sizes(60, seed=9)
    assert sizes == corpus.mixed_sizes(60, seed=9)
    assert all(10_000 <= s <= 10_000_000 for _, s in sizes)
    assert {k for k, _ in sizes} <= set(corpus.MIX) and len({k for k, _ in sizes}) >= 5
    small = [(kind, 12_000) for kind, _ in sizes[:4]]
    names = [name for name, _ in corpus.corpus(small, seed=9)]
    assert names[0].startswith("0000-") and len(set(names)) == 4


# --- end to end: the real scanner with a real clamd on the test signature set --------------


@pytest.fixture(scope="module")
def scanner(policy: Policy, clamd_client: ClamdClient) -> Iterator[Scanner]:
    from attachguard.scanner import build_scanner

    with build_scanner(policy, clamd_client) as scanner:
        yield scanner


@pytest.mark.parametrize("name", sorted(demo_module.EXPECTED))
def test_demo_verdicts(name: str, demo: dict[str, bytes], scanner: Scanner) -> None:
    report = scanner.scan(demo[name], name)
    codes = {f.code for f in report.findings}
    assert report.status.value == demo_module.EXPECTED[name], report.reasons
    if name in REASONS:
        assert codes & REASONS[name], codes
    else:
        assert report.findings == [] or all(f.code.kind == "info" for f in report.findings)
