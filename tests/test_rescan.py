"""Rescans of approved files kept in a folder or under an S3 prefix: what is done with a file now
rejected (deleted, quarantined, only reported; kept when only a failed scan rejected it, revoked
when the bytes did even beside a failed engine), bounded runs that resume from the marker they
print, and the two commands (`attachguard rescan`, `attachguard connect rescan`) with a real
clamd and moto's S3."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from attachguard.clamav.client import ClamdAnswer, ClamdError
from attachguard.clamav.daemon import PrivateClamd
from attachguard.cli import main
from attachguard.codes import lookup
from attachguard.connect.rescan import rescan_prefix
from attachguard.demo import EICAR
from attachguard.engines.base import Context, Item, Result
from attachguard.engines.clamav import ClamAVEngine
from attachguard.pipeline import Scanner
from attachguard.policy import parse_policy
from attachguard.report import UNKNOWN_TYPE, Finding, Report
from attachguard.rescan import outcome_of, rescan_folder
from attachguard.scanner import build_scanner

PAYLOAD = b"stage-two-dropper"
PREFIX = "connect/shop/Attachments/chat/2026/11/30/"


def note(n: int) -> bytes:
    return f"Order {n} arrived, thank you! The box was a little damaged.\n".encode() * 10


class UpdatedClamd:
    """A clamd on new signatures: it finds ``PAYLOAD``; ``down`` fails every stream."""

    def __init__(self) -> None:
        self.down = False
        self.streams = 0
        self._lock = threading.Lock()

    def version(self) -> str:
        return "ClamAV 1.4.6/27471/Wed Nov 25 09:30:00 2026"

    def instream(self, data: bytes) -> ClamdAnswer:
        with self._lock:
            self.streams += 1
        if self.down:
            raise ClamdError("clamd went away")
        return ClamdAnswer("Win.Dropper.Test-1" if PAYLOAD in data else None)


class Failing:
    """An engine that fails on every file (its error is momentary, not about the bytes)."""

    name = "sensitive"  # routed to text files

    def version(self) -> str:
        return "1"

    def scan(self, item: Item, context: Context) -> Result:
        raise RuntimeError("briefly away")


@pytest.fixture
def clamd() -> UpdatedClamd:
    return UpdatedClamd()


@pytest.fixture
def scanner(clamd: UpdatedClamd) -> Scanner:
    policy = parse_policy("allowed_extensions: [.txt]\nmax_file_size: 100KB\n")
    return build_scanner(policy, None, extra={"clamav": ClamAVEngine(clamd)})  # type: ignore[arg-type]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "approved"
    (root / "2026-11-30").mkdir(parents=True)
    for n in range(4):
        (root / "2026-11-30" / f"{n}.txt").write_bytes(note(n) + (PAYLOAD if n == 2 else b""))
    (root / "big.txt").write_bytes(b"x" * 200_000)
    return root


def test_folder_delete(folder: Path, scanner: Scanner) -> None:
    results = list(rescan_folder(folder, scanner))
    done = {r.where: (r.done, r.codes) for r in results}
    assert done == {
        "2026-11-30/0.txt": ("kept", []),
        "2026-11-30/1.txt": ("kept", []),
        "2026-11-30/2.txt": ("deleted", ["MALWARE"]),
        "2026-11-30/3.txt": ("kept", []),
        "big.txt": ("skipped", []),
    }
    assert not (folder / "2026-11-30" / "2.txt").exists()
    assert (folder / "big.txt").exists()  # the size limit is not the signatures' business


def test_folder_quarantine_and_report(folder: Path, scanner: Scanner, tmp_path: Path) -> None:
    report = [r for r in rescan_folder(folder, scanner, action="report") if r.revoked]
    assert [(r.where, r.done) for r in report] == [("2026-11-30/2.txt", "rejected")]
    assert (folder / "2026-11-30" / "2.txt").exists()  # only reported
    kept = tmp_path / "quarantine"
    moved = [r for r in rescan_folder(folder, scanner, action="quarantine", quarantine=kept)]
    assert [r.where for r in moved if r.done == "quarantined"] == ["2026-11-30/2.txt"]
    assert (kept / "2026-11-30" / "2.txt").read_bytes() == note(2) + PAYLOAD
    assert not (folder / "2026-11-30" / "2.txt").exists()
    with pytest.raises(ValueError, match="inside"):
        list(rescan_folder(folder, scanner, action="quarantine", quarantine=folder / "q"))


def test_a_failed_scan_deletes_nothing(folder: Path, scanner: Scanner, clamd: UpdatedClamd) -> None:
    clamd.down = True
    results = list(rescan_folder(folder, scanner))
    assert {r.done for r in results if r.where != "big.txt"} == {"undecided"}
    assert len(list(folder.rglob("*.txt"))) == 5


def test_malware_beside_a_failed_engine_is_revoked(
    folder: Path, clamd: UpdatedClamd, tmp_path: Path
) -> None:
    """One engine failing does not outweigh what the new signatures found: the file the
    signatures call malware is revoked; the others, rejected only by the failure, are kept."""
    policy = parse_policy("allowed_extensions: [.txt]\nmax_file_size: 100KB\n")
    extra = {"clamav": ClamAVEngine(clamd), "sensitive": Failing()}  # type: ignore[arg-type]
    scanner = build_scanner(policy, None, extra=extra)  # type: ignore[arg-type]
    results = {r.where: (r.done, r.codes) for r in rescan_folder(folder, scanner)}
    assert results["2026-11-30/2.txt"] == ("deleted", ["ENGINE_ERROR", "MALWARE"])
    assert results["2026-11-30/1.txt"] == ("undecided", ["ENGINE_ERROR"])
    assert not (folder / "2026-11-30" / "2.txt").exists()
    assert (folder / "2026-11-30" / "1.txt").exists()


def _report(*found: tuple[str, str | None]) -> Report:
    policy = parse_policy("allowed_extensions: [.txt]\n")
    findings = [Finding("x", lookup(code), code, label=label) for code, label in found]
    return Report(
        file="a.txt", size=1, sha256="0" * 64, type=UNKNOWN_TYPE,
        status=policy.decide(findings), findings=findings,
        actions={f.code: policy.action(f.code) for f in findings},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("found", "done"),
    [
        ([], "kept"),
        ([("ENGINE_ERROR", None)], "undecided"),
        ([("ENGINE_TIMEOUT", None), ("ENGINE_ERROR", None)], "undecided"),
        ([("AV_LIMIT", "Heuristics.Limits.Exceeded.MaxScanTime")], "undecided"),
        ([("MALWARE", "Win.Test-1"), ("ENGINE_ERROR", None)], "deleted"),
        ([("ENGINE_TIMEOUT", None), ("MALWARE", "Win.Test-1")], "deleted"),
        ([("AV_LIMIT", "Heuristics.Limits.Exceeded.MaxScanTime"), ("MALWARE", "W")], "deleted"),
        ([("AV_LIMIT", "Heuristics.Limits.Exceeded.MaxFileSize")], "deleted"),  # the bytes' size
    ],
)
def test_undecided_only_when_every_rejecting_finding_is_momentary(
    found: list[tuple[str, str | None]], done: str
) -> None:
    report = _report(*found)
    assert outcome_of(report, "delete") == done
    assert outcome_of(report, "quarantine") == done.replace("deleted", "quarantined")


def test_folder_runs_are_bounded_and_resume(folder: Path, scanner: Scanner) -> None:
    first = list(rescan_folder(folder, scanner, action="report", max_files=2))
    rest = list(rescan_folder(folder, scanner, action="report", start_after=first[-1].where))
    assert [r.where for r in first + rest] == sorted(
        p.relative_to(folder).as_posix() for p in folder.rglob("*.txt")
    )


@pytest.fixture
def bucket(s3_bucket: tuple[Any, str]) -> tuple[Any, str]:
    s3, name = s3_bucket
    for n in range(5):
        body = note(n) + (PAYLOAD if n in (1, 3) else b"")
        s3.put_object(Bucket=name, Key=f"{PREFIX}{n}_20261130T10:0{n}_UTC.txt", Body=body)
    s3.put_object(Bucket=name, Key="elsewhere/x.txt", Body=note(9) + PAYLOAD)
    return s3, name


def keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    answer = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for item in answer.get("Contents", [])]


def test_s3_prefix_bounded_resumable_and_deleted(bucket: tuple[Any, str], scanner: Scanner) -> None:
    s3, name = bucket
    seen: list[str] = []
    marker: str | None = None
    runs = 0
    while True:
        run = rescan_prefix(s3, name, PREFIX, scanner, max_files=2, start_after=marker)
        seen += [r.where for r in run.results]
        runs += 1
        marker = run.marker
        if marker is None:
            break
        assert run.marker == run.results[-1].where
    assert runs == 3 and seen == sorted(seen) and len(seen) == 5
    left = keys(s3, name)
    assert f"{PREFIX}1_20261130T10:01_UTC.txt" not in left
    assert f"{PREFIX}3_20261130T10:03_UTC.txt" not in left
    assert len(left) == 4 and "elsewhere/x.txt" in left  # outside the prefix: untouched


def test_s3_quarantine(bucket: tuple[Any, str], scanner: Scanner) -> None:
    s3, name = bucket
    run = rescan_prefix(
        s3, name, PREFIX, scanner, action="quarantine", quarantine_prefix="quarantine/"
    )
    assert run.marker is None and run.revoked == 2
    assert keys(s3, name, "quarantine/") == [
        f"quarantine/{PREFIX}1_20261130T10:01_UTC.txt",
        f"quarantine/{PREFIX}3_20261130T10:03_UTC.txt",
    ]
    assert len(keys(s3, name, PREFIX)) == 3
    with pytest.raises(ValueError, match="inside"):
        rescan_prefix(s3, name, PREFIX, scanner, action="quarantine", quarantine_prefix=PREFIX)


def test_s3_malware_beside_a_failed_engine_is_revoked(
    bucket: tuple[Any, str], clamd: UpdatedClamd
) -> None:
    s3, name = bucket
    policy = parse_policy("allowed_extensions: [.txt]\nmax_file_size: 100KB\n")
    extra = {"clamav": ClamAVEngine(clamd), "sensitive": Failing()}  # type: ignore[arg-type]
    scanner = build_scanner(policy, None, extra=extra)  # type: ignore[arg-type]
    run = rescan_prefix(s3, name, PREFIX, scanner)
    assert [r.done for r in run.results] == [
        "undecided",
        "deleted",
        "undecided",
        "deleted",
        "undecided",
    ]
    assert len(keys(s3, name, PREFIX)) == 3


def test_rescan_command_on_a_folder(
    folder: Path, tmp_path: Path, clamd_daemon: PrivateClamd
) -> None:
    """A real clamd: the test signatures find EICAR in a file approved "before" them."""
    (folder / "2026-11-30" / "eicar.txt").write_bytes(EICAR)
    (folder / "big.txt").unlink()  # not text to the default policy's type check
    args = ["rescan", str(folder), "--clamd", clamd_daemon.address]
    result = CliRunner().invoke(main, [*args, "--action", "report", "--max-files", "2"])
    lines = [json.loads(x) for x in result.output.splitlines()]
    assert result.exit_code == 0, result.output
    assert lines[-1] == {"rescanned": 2, "rejected": 0, "next": "2026-11-30/1.txt"}
    result = CliRunner().invoke(main, [*args, "--start-after", lines[-1]["next"]])
    assert result.exit_code == 1, result.output
    lines = [json.loads(x) for x in result.output.splitlines()]
    gone = [x for x in lines[:-1] if x["done"] == "deleted"]
    assert gone == [{"where": "2026-11-30/eicar.txt", "status": "REJECTED",
                     "codes": ["MALWARE"], "done": "deleted"}]  # fmt: skip
    assert lines[-1]["next"] is None and not (folder / "2026-11-30" / "eicar.txt").exists()
    assert CliRunner().invoke(main, ["rescan"]).exit_code == 2


def test_connect_rescan_command(
    s3_bucket: tuple[Any, str], clamd_daemon: PrivateClamd, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3, name = s3_bucket
    s3.put_object(Bucket=name, Key=f"{PREFIX}a_20261130T10:00_UTC.txt", Body=note(1))
    s3.put_object(Bucket=name, Key=f"{PREFIX}b_20261130T10:01_UTC.txt", Body=EICAR)
    s3.put_object(Bucket=name, Key=f"{PREFIX}c_20261130T10:02_UTC.txt", Body=note(2))
    monkeypatch.setenv("ATTACHGUARD_CLAMD", clamd_daemon.address)
    for var in ("ATTACHGUARD_POLICY", "ATTACHGUARD_MODERATION"):
        monkeypatch.delenv(var, raising=False)
    args = ["connect", "rescan", "--bucket", name, "--prefix", PREFIX, "--moderation", "none"]
    first = CliRunner().invoke(main, [*args, "--max-files", "2"])
    assert first.exit_code == 1, first.output
    lines = [json.loads(x) for x in first.output.splitlines()]
    assert [x["done"] for x in lines[:-1]] == ["kept", "deleted"]
    assert lines[-1] == {"rescanned": 2, "rejected": 1, "next": f"{PREFIX}b_20261130T10:01_UTC.txt"}
    rest = CliRunner().invoke(main, [*args, "--start-after", lines[-1]["next"]])
    assert rest.exit_code == 0, rest.output
    assert json.loads(rest.output.splitlines()[-1]) == {"rescanned": 1, "rejected": 0, "next": None}
    assert len(keys(s3, name, PREFIX)) == 2
    bad = CliRunner().invoke(main, [*args, "--action", "quarantine"])
    assert bad.exit_code == 2 and "quarantine" in bad.output


def test_bad_s3_targets_are_errors_not_tracebacks(
    clamd_daemon: PrivateClamd, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_bucket = CliRunner().invoke(main, ["rescan", "s3://", "--clamd", clamd_daemon.address])
    assert no_bucket.exit_code == 2 and "give s3://BUCKET/PREFIX" in no_bucket.output
    empty = CliRunner().invoke(main, ["connect", "rescan", "--bucket", " ", "--prefix", "x"])
    assert empty.exit_code == 2 and "--bucket" in empty.output
    # an S3 endpoint nothing listens on: one line that names it, exit status 2
    unreachable = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_DEFAULT_REGION": "us-east-1",
                   "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}  # fmt: skip
    for var, value in unreachable.items():
        monkeypatch.setenv(var, value)
    monkeypatch.setenv("ATTACHGUARD_CLAMD", clamd_daemon.address)
    folder_cli = ["rescan", "s3://attachments/connect/", "--clamd", clamd_daemon.address]
    connect_cli = ["connect", "rescan", "--bucket", "attachments", "--prefix", "connect/"]
    for args in (folder_cli, connect_cli):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, result.output
        assert "S3 at s3://attachments/connect/" in result.output
        assert isinstance(result.exception, SystemExit)  # a clean exit, not a traceback
