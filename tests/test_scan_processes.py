"""``attachguard scan`` over a folder in worker processes: the same reports, in the same
order, as scanning in one process (a real clamd, the real engines)."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from attachguard import samples
from attachguard.clamav.daemon import PrivateClamd
from attachguard.clamav.signatures import EICAR
from attachguard.cli import PROCESSES_FROM, default_processes, main
from attachguard.scan_processes import BATCH


def folder(tmp_path: Path) -> Path:
    """Text, a photo, a document, a PDF, and one zip with EICAR inside (rejected, with its
    location): more files than the batches a worker takes at once."""
    out = tmp_path / "upload"
    out.mkdir()
    for i in range(2 * BATCH):
        (out / f"{i:02d}-notes.txt").write_text(f"Order {i}: two blue mugs, one broken.\n" * 20)
    (out / "a-photo.jpg").write_bytes(samples.jpeg(samples.photo(160, 120, seed=1)))
    (out / "b-return.docx").write_bytes(samples.docx(["Return form for order 1234."]))
    (out / "c-receipt.pdf").write_bytes(samples.pdf([["Receipt", "Total 12.00"]]))
    with zipfile.ZipFile(out / "d-photos.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("eicar.com", EICAR)
    return out


def scan(path: Path, clamd: PrivateClamd, processes: int) -> tuple[int, list[dict[str, Any]]]:
    args = ["scan", "--json", "--jobs", "2", "--processes", str(processes)]
    result = CliRunner().invoke(main, [*args, "--clamd", clamd.address, str(path)])
    return result.exit_code, [json.loads(line) for line in result.stdout.splitlines()]


def test_worker_processes_give_the_reports_of_one_process(
    tmp_path: Path, clamd_daemon: PrivateClamd
) -> None:
    path = folder(tmp_path)
    code, reports = scan(path, clamd_daemon, processes=2)
    alone_code, alone = scan(path, clamd_daemon, processes=1)
    assert code == alone_code == 1  # the zip
    assert [r["file"] for r in reports] == [p.name for p in sorted(path.iterdir())]
    for report, same in zip(reports, alone, strict=True):
        assert (report["file"], report["status"], report["findings"]) == (
            same["file"],
            same["status"],
            same["findings"],
        )
    [rejected] = [r for r in reports if r["status"] == "REJECTED"]
    assert rejected["file"] == "d-photos.zip"
    assert "EICAR test signature inside eicar.com" in rejected["reasons"]


def test_a_folder_worth_it_gets_a_worker_per_core() -> None:
    assert default_processes(PROCESSES_FROM) == 1  # a worker takes a second to start
    assert default_processes(PROCESSES_FROM + 1) == len(os.sched_getaffinity(0))
