"""The whole scanner (every real engine, a real clamd): nested malware is found and located,
clamd going away rejects files, and scanning recovers when it comes back."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pypdf import PdfWriter

from attachguard import samples
from attachguard.clamav.client import ClamdClient
from attachguard.clamav.daemon import PrivateClamd
from attachguard.clamav.signatures import build_test_database
from attachguard.codes import FindingCode
from attachguard.pipeline import Scanner
from attachguard.policy import Policy
from attachguard.report import Status
from attachguard.scanner import build_scanner

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


@pytest.fixture(scope="module")
def scanner(policy: Policy, clamd_client: ClamdClient) -> Iterator[Scanner]:
    with build_scanner(policy, clamd_client) as scanner:
        yield scanner


def with_member(container: bytes, name: str, data: bytes) -> bytes:
    out = io.BytesIO(container)
    with zipfile.ZipFile(out, "a") as archive:
        archive.writestr(name, data)
    return out.getvalue()


def pdf_with_attachment(name: str, data: bytes) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    writer.add_attachment(name, data)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_clean_documents_are_approved(scanner: Scanner) -> None:
    receipt = samples.pdf([["Proof of purchase", "Order 1234", "Total: 59.90 EUR"]])
    letter = samples.docx(["Dear support team,", "the parcel arrived damaged."])
    for name, data in (("receipt.pdf", receipt), ("letter.docx", letter)):
        report = scanner.scan(data, name)
        assert report.status is Status.APPROVED, (name, report.reasons)
        assert "clamav" in report.timings_ms


def test_eicar_inside_a_word_member_is_located(scanner: Scanner) -> None:
    document = with_member(samples.docx(["Contract"]), "word/media/payload.bin", EICAR)
    report = scanner.scan(document, "contract.docx")
    assert report.status is Status.REJECTED
    assert "EICAR test signature inside word/media/payload.bin" in report.reasons


def test_eicar_attached_to_a_pdf_is_located(scanner: Scanner) -> None:
    report = scanner.scan(pdf_with_attachment("invoice.txt", EICAR), "invoice.pdf")
    assert report.status is Status.REJECTED
    locations = {f.location for f in report.findings if f.code is FindingCode.MALWARE}
    assert any(loc and "invoice.txt" in loc for loc in locations), report.findings


def test_eicar_two_containers_deep(scanner: Scanner) -> None:
    inner = with_member(samples.docx(["inner"]), "word/embeddings/evil.bin", EICAR)
    report = scanner.scan(pdf_with_attachment("inner.docx", inner), "outer.pdf")
    assert report.status is Status.REJECTED
    nested = [f for f in report.findings if f.code is FindingCode.MALWARE and f.location]
    assert any("inner.docx" in (f.location or "") for f in nested)


def test_debian_clamav_testfiles(scanner: Scanner) -> None:
    folder = Path("/usr/share/clamav-testfiles")
    if not folder.is_dir():
        pytest.fail("clamav-testfiles is not installed (scripts/setup.sh --test installs it)")
    for name in ("clam.exe", "clam.zip", "clam.pdf", "clam.7z"):
        report = scanner.scan_path(folder / name)
        codes = {f.code for f in report.findings}
        assert report.status is Status.REJECTED and FindingCode.MALWARE in codes, name


def test_concurrent_scans_agree(scanner: Scanner) -> None:
    jobs = [("notes.txt", b"a plain note\n"), ("eicar.txt", EICAR)] * 10
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda job: scanner.scan(job[1], job[0]).status, jobs))
    assert statuses == [Status.APPROVED, Status.REJECTED] * 10


def test_clamd_stopped_mid_run_rejects_then_recovers(policy: Policy, tmp_path: Path) -> None:
    daemon = PrivateClamd(tmp_path, database=build_test_database(tmp_path / "db"))
    daemon.start()
    try:
        with build_scanner(policy, ClamdClient(daemon.address, timeout=10)) as scanner:
            assert scanner.scan(b"hello\n", "notes.txt").status is Status.APPROVED
            daemon.stop()
            down = scanner.scan(b"hello\n", "notes.txt")
            assert down.status is Status.REJECTED
            assert [f.code for f in down.findings] == [FindingCode.ENGINE_ERROR]
            assert down.findings[0].engine == "clamav"
            assert "clamav engine failed" in down.reasons[0]
            daemon.start()
            back = scanner.scan(EICAR, "eicar.txt")
            assert back.status is Status.REJECTED
            assert FindingCode.MALWARE in {f.code for f in back.findings}
            assert scanner.scan(b"hello\n", "notes.txt").status is Status.APPROVED
    finally:
        daemon.stop()
