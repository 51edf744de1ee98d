"""The sensitive engine inside the pipeline: routing, pictures unpacked by other engines (an
Office file's media, a PDF's scanned pages), the per-scan cap, the customer text, and that no
output — the report JSON, the CLI's lines — ever holds the full number."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from PIL import Image

import attachguard.pipeline
import attachguard.registry
import attachguard.scanner
from attachguard import samples
from attachguard.clamav.daemon import PrivateClamd
from attachguard.cli import main
from attachguard.engines.base import EngineSpec, Resources
from attachguard.engines.filetype import FileTypeEngine
from attachguard.engines.sensitive import ENGINE, SensitiveEngine, SensitiveOptions
from attachguard.engines.sensitive_read import OcrClock
from attachguard.pipeline import OPTIONAL_SHARE, Scanner
from attachguard.policy import Policy, parse_policy
from attachguard.registry import route
from attachguard.report import FileType, Report
from attachguard.scanner import build_engines
from attachguard.sensitive.ocr import OcrPicture

VISA = "4111111111111111"
VISA_GROUPED = "4111 1111 1111 1111"
CUSTOMER = (
    "This file seems to contain a full card number. For your security, please don't share card "
    "details in chat."
)


@pytest.fixture
def specs(monkeypatch: pytest.MonkeyPatch) -> dict[str, EngineSpec]:
    """The installed engines with this one among them (until pyproject registers it)."""
    specs = attachguard.registry.load_specs()
    if "sensitive" not in specs:
        specs = dict(
            sorted({**specs, "sensitive": ENGINE}.items(), key=lambda kv: (kv[1].order, kv[0]))
        )
        for module in (attachguard.registry, attachguard.pipeline, attachguard.scanner):
            monkeypatch.setattr(module, "load_specs", lambda: specs)
    return specs


class FakeOcr:
    """Reads the text drawn by `card_picture` back from a table (pictures by size)."""

    name = "fake"

    def __init__(self, text: dict[tuple[int, int], list[str]]) -> None:
        self.text = text
        self.seen: list[tuple[int, int]] = []

    def version(self) -> str:
        return "fake OCR 1"

    def read(self, picture: OcrPicture, deadline: float) -> list[str]:
        size = Image.open(io.BytesIO(picture.data)).size
        self.seen.append(size)
        return self.text.get(size, [])


def photo(size: tuple[int, int]) -> bytes:
    return samples.jpeg(samples.photo(*size), exif=False)


BASE = "allowed_extensions: [.txt, .csv, .pdf, .docx, .jpg, .png]\ndisabled_engines: [clamav]\n"


def policy_with(text: str, **sensitive: Any) -> Policy:
    policy = parse_policy(text)
    options = SensitiveOptions.model_validate(sensitive)
    return policy.model_copy(update={"engines": {**policy.engines, "sensitive": options}})


@pytest.fixture
def scanner_for(specs: dict[str, EngineSpec]) -> Iterator[Any]:
    made: list[Scanner] = []

    def make(reader: FakeOcr | None = None, text: str = BASE, **sensitive: Any) -> Scanner:
        policy = policy_with(text, **sensitive)
        engines = build_engines(policy, Resources())
        engines["sensitive"] = SensitiveEngine(policy.options("sensitive"), reader)  # type: ignore[arg-type]
        scanner = Scanner(policy, engines, FileTypeEngine())
        made.append(scanner)
        return scanner

    yield make
    for scanner in made:
        scanner.close()


def codes(report: Report) -> list[str]:
    return sorted(f.code.name for f in report.findings)


def never_shows(report: Report, *numbers: str) -> None:
    shown = json.dumps(report.to_dict())
    for number in numbers:
        assert number not in shown and number.replace(" ", "") not in shown.replace(" ", "")


def test_routed_with_the_other_engines(specs: dict[str, EngineSpec]) -> None:
    for label, others in (("txt", "text"), ("csv", "text"), ("pdf", "pdf"), ("docx", "office"),
                          ("jpeg", "image"), ("doc", "office"), ("rtf", "rtf")):  # fmt: skip
        group = "code" if label == "csv" else "text" if label == "txt" else "document"
        routed = route(specs, FileType(label, "", group, label in ("txt", "csv")))
        assert "sensitive" in routed and others in routed, label


def test_a_text_file_with_a_card_number(scanner_for: Any) -> None:
    report = scanner_for().scan(f"hi, my card is {VISA_GROUPED} exp 12/28\n".encode(), "chat.txt")
    assert report.rejecting_codes == ["SENSITIVE_CARD"]
    assert report.customer_reasons == [CUSTOMER]
    assert report.reasons == ["a payment card number (Visa, ending 1111)"]
    never_shows(report, VISA)


def test_a_receipt_passes(scanner_for: Any) -> None:
    receipt = samples.pdf([["Receipt", "VISA **** **** **** 1111", "Order number: " + VISA,
                            "Total 12.99", "Call +1 (555) 123-4567"]])  # fmt: skip
    report = scanner_for().scan(receipt, "receipt.pdf")
    assert report.approved, report.reasons
    assert report.facts["sensitive"]["found"] == {"card": 0}


def test_a_photo_inside_a_word_document(scanner_for: Any) -> None:
    ocr = FakeOcr({(640, 400): ["VISA", VISA_GROUPED]})
    report = scanner_for(ocr).scan(
        samples.docx(["See the photo"], image=photo((640, 400))), "a.docx"
    )
    assert report.rejecting_codes == ["SENSITIVE_CARD"], report.reasons
    assert report.rejecting[0].location == "word/media/image1.jpeg"
    never_shows(report, VISA)


def test_a_scanned_pdf_page(scanner_for: Any) -> None:
    ocr = FakeOcr({(600, 450): ["Statement", f"Card number {VISA_GROUPED}"]})
    scan = samples.pdf([[]], image=photo((600, 450)))  # a page that is only a picture
    report = scanner_for(ocr, ocr="local").scan(scan, "scan.pdf")
    assert report.rejecting_codes == ["SENSITIVE_CARD"], report.reasons
    assert report.reasons == ["a payment card number (Visa, ending 1111) at page 1"]
    assert ocr.seen == [(600, 450)]  # read once: the PDF engine is not asked for pictures


def test_only_photo_sized_pictures_on_pages_with_text_are_read(scanner_for: Any) -> None:
    # (a page with only a caption is read as a scan: tests/test_sensitive_ocr.py); a page of
    # text has its photo-sized pictures read, a photo of a card pasted in a letter (red team
    # 96), not a logo
    text = ["Here is the card I paid with, as the chat asked, and the receipt that follows."] * 4
    ocr = FakeOcr({(600, 450): [f"Card number {VISA_GROUPED}"]})
    report = scanner_for(ocr, ocr="local").scan(
        samples.pdf([text], image=photo((600, 450))), "a.pdf"
    )
    assert report.rejecting_codes == ["SENSITIVE_CARD"] and ocr.seen == [(600, 450)]
    logo = FakeOcr({(300, 90): [f"Card number {VISA_GROUPED}"]})
    report = scanner_for(logo, ocr="local").scan(
        samples.pdf([text], image=photo((300, 90))), "b.pdf"
    )
    assert report.approved and logo.seen == []
    brand = ["Our new logo, as the brand guide describes it on the pages that follow."] * 4
    unnamed = FakeOcr({(600, 450): [f"Card number {VISA_GROUPED}"]})
    report = scanner_for(unnamed, ocr="local").scan(
        samples.pdf([brand], image=photo((600, 450))), "c.pdf"
    )
    assert report.approved and unnamed.seen == []  # a page naming no card: its photos not read


def test_pictures_past_the_cap(scanner_for: Any) -> None:
    members = [(f"photos/{n}.jpg", photo((200 + n, 150))) for n in range(3)]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members:
            archive.writestr(name, data)
    ocr = FakeOcr({})
    text = "allowed_extensions: [.zip]\ndisabled_engines: [clamav]\nactions: {ARCHIVE: allow}\n"
    report = scanner_for(ocr, text, ocr="local", max_images=2).scan(out.getvalue(), "photos.zip")
    assert "SENSITIVE_LIMIT" in codes(report) and len(ocr.seen) == 2
    assert report.approved  # allowed by default, and listed as not scanned
    assert any("not looked at by sensitive" in n["reason"] for n in report.not_scanned)
    strict = text + "actions: {ARCHIVE: allow, SENSITIVE_LIMIT: reject}\n"
    strict = strict.replace("actions: {ARCHIVE: allow}\n", "")
    assert (
        not scanner_for(FakeOcr({}), strict, ocr="local", max_images=2)
        .scan(out.getvalue(), "photos.zip")
        .approved
    )


def test_without_ocr_nested_files_are_not_capped(scanner_for: Any) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for n in range(4):
            archive.writestr(f"notes/{n}.txt", f"note {n}\n")
    text = "allowed_extensions: [.zip]\ndisabled_engines: [clamav]\nactions: {ARCHIVE: allow}\n"
    report = scanner_for(None, text, max_images=2).scan(out.getvalue(), "notes.zip")
    assert report.approved and "SENSITIVE_LIMIT" not in codes(report)


def test_only_pictures_count_against_the_cap(scanner_for: Any) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for n in range(4):
            archive.writestr(f"notes/{n}.txt", f"note {n}\n")
        archive.writestr("notes/last.txt", f"card {VISA_GROUPED}\n")
    text = "allowed_extensions: [.zip]\ndisabled_engines: [clamav]\nactions: {ARCHIVE: allow}\n"
    report = scanner_for(FakeOcr({}), text, ocr="local", max_images=2).scan(
        out.getvalue(), "notes.zip"
    )
    # five text files, a cap of two pictures: every text file is read, the fifth's card found
    assert "SENSITIVE_LIMIT" not in codes(report)
    assert report.rejecting_codes == ["SENSITIVE_CARD"]


class SlowOcr(FakeOcr):
    """Takes ``seconds`` a picture (less when its deadline comes first), and notes when each
    read began and the deadline it was given."""

    def __init__(self, seconds: float) -> None:
        super().__init__({})
        self.seconds = seconds
        self.calls: list[tuple[float, float]] = []

    def read(self, picture: OcrPicture, deadline: float) -> list[str]:
        self.calls.append((time.monotonic(), deadline))
        time.sleep(max(0.0, min(self.seconds, deadline - time.monotonic())))
        return super().read(picture, deadline)


def test_ocr_keeps_to_the_scans_share_of_time(
    scanner_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # hunt 104: a deck's 17 pictures, each allowed its own OCR time, were read until the scan's
    # last second, and the last pictures' other engines had none left (ENGINE_TIMEOUT): OCR
    # stops for the whole file at its share of the scan's time, the rest is left unread
    # (SENSITIVE_LIMIT, allowed)
    monkeypatch.setattr(OcrClock, "FLOOR", 0.05)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for n in range(8):
            archive.writestr(f"photos/{n}.jpg", photo((200 + n, 150)))
    text = (
        "allowed_extensions: [.zip]\ndisabled_engines: [clamav]\nactions: {ARCHIVE: allow}\n"
        "timeouts: {scan: 2, engine: 2}\n"
    )
    ocr = SlowOcr(0.25)
    scanner = scanner_for(ocr, text, ocr="local", ocr_seconds=60)
    started = time.monotonic()
    report = scanner.scan(out.getvalue(), "a.zip")
    share = started + OPTIONAL_SHARE * 2 + 0.05  # the scan's clock starts a little later
    assert ocr.calls and all(begun < share and deadline <= share for begun, deadline in ocr.calls)
    assert len(ocr.calls) < 8 and report.approved
    assert codes(report) == ["SENSITIVE_LIMIT"]  # pictures left unread; no engine timed out


def test_ocr_time_is_reported(scanner_for: Any) -> None:
    ocr = FakeOcr({(640, 480): ["nothing here"]})
    report = scanner_for(ocr).scan(photo((640, 480)), "photo.jpg")
    assert report.approved
    facts = report.facts["sensitive"]
    assert facts["pictures_read"] == 1 and "ocr_ms" in facts and "sensitive" in report.timings_ms
    assert 0 <= report.timings_ms["sensitive.ocr"] <= report.timings_ms["sensitive"]


def test_the_cli_never_prints_the_number(
    tmp_path: Path, clamd_daemon: PrivateClamd, specs: dict[str, EngineSpec]
) -> None:
    (tmp_path / "chat.txt").write_text(f"card {VISA_GROUPED}\n")
    (tmp_path / "sheet.csv").write_text(f"name,card\nbob,{VISA}\n")
    for extra in ((), ("--json",)):
        result = CliRunner().invoke(
            main, ["scan", *extra, "--clamd", clamd_daemon.address, str(tmp_path)]
        )
        assert result.exit_code == 1, result.output
        assert "1111" in result.output  # the last four, and nothing more
        for number in (VISA, VISA_GROUPED):
            assert number not in result.output and number not in (result.stderr or "")
