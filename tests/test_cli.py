"""The CLI in-process (click's CliRunner) with a real clamd: output, JSON, exit codes, files
scanned in parallel, the verdict cache."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from attachguard.clamav.daemon import PrivateClamd
from attachguard.cli import ConfigError, default_jobs, main, scan_files
from attachguard.policy import default_policy_text
from attachguard.report import UNKNOWN_TYPE, Report, Status
from attachguard.runtime import clamd_for, system_socket

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_clean_files_exit_0(tmp_path: Path, clamd_daemon: PrivateClamd) -> None:
    (tmp_path / "notes.txt").write_text("Order 1234 arrived damaged.\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "more.txt").write_text("Second note, in a folder.\n")
    code, out, _ = run("scan", "--clamd", clamd_daemon.address, str(tmp_path))
    assert code == 0, out
    assert "notes.txt" in out and "more.txt" in out and "APPROVED" in out


def test_any_rejection_exits_1_and_json_has_one_report_per_line(
    tmp_path: Path, clamd_daemon: PrivateClamd
) -> None:
    (tmp_path / "a-notes.txt").write_text("fine\n")
    (tmp_path / "b-eicar.txt").write_bytes(EICAR)
    code, out, _ = run("scan", "--json", "--clamd", clamd_daemon.address, str(tmp_path))
    assert code == 1
    reports = [json.loads(line) for line in out.splitlines()]
    assert [r["status"] for r in reports] == ["APPROVED", "REJECTED"]
    # EICAR is also a tiny DOS program that Magika reads as a script: several findings
    assert "MALWARE" in {f["code"] for f in reports[1]["findings"]}
    assert "EICAR test signature" in reports[1]["reasons"]
    assert all({"file", "status", "findings"} <= set(r) for r in reports)


def test_human_output_names_the_reason(tmp_path: Path, clamd_daemon: PrivateClamd) -> None:
    path = tmp_path / "eicar.txt"
    path.write_bytes(EICAR)
    code, out, _ = run("scan", "--clamd", clamd_daemon.address, str(path))
    assert code == 1
    assert "REJECTED" in out and "EICAR test signature" in out


def test_usage_errors_exit_2(tmp_path: Path, clamd_daemon: PrivateClamd) -> None:
    assert run("scan")[0] == 2  # no path
    assert run("scan", str(tmp_path / "missing.pdf"))[0] == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("allowed_extensions: [.pdf]\ncolour: red\n")
    code, _, err = run("scan", "--policy", str(bad), "--clamd", clamd_daemon.address, str(bad))
    assert code == 2 and "colour: unknown key" in err
    code, _, err = run("scan", "--clamd", str(tmp_path / "no.sock"), str(bad))
    assert code == 2 and "does not answer" in err


def test_policy_show_check_default(tmp_path: Path) -> None:
    code, out, _ = run("policy", "show")
    assert code == 0 and "PDF_JAVASCRIPT: reject" in out and "max_file_size: 20971520" in out
    good = tmp_path / "good.yaml"
    good.write_text("allowed_extensions: [.pdf]\nactions: {PDF_JAVASCRIPT: allow}\n")
    assert run("policy", "check", str(good)) == (0, f"{good}: valid\n", "")
    good.write_text("allowed_extensions: [.pdf]\nactions: {PDF_JAVASCRPT: allow}\n")
    code, _, err = run("policy", "check", str(good))
    assert code == 2 and "unknown finding code 'PDF_JAVASCRPT'" in err
    code, out, _ = run("policy", "default")
    assert code == 0 and out.startswith("# attachguard default policy")


def test_policy_flag_changes_the_verdict(tmp_path: Path, clamd_daemon: PrivateClamd) -> None:
    path = tmp_path / "eicar.txt"
    path.write_bytes(EICAR)
    lenient = tmp_path / "lenient.yaml"
    lenient.write_text(
        "allowed_extensions: [.txt]\n"
        "actions: {MALWARE: allow, SCRIPT: allow, TYPE_MISMATCH: allow}\n"
    )
    args = ("scan", "--json", "--clamd", clamd_daemon.address, "--policy", str(lenient))
    code, out, _ = run(*args, str(path))
    assert code == 0
    findings = json.loads(out)["findings"]
    assert [f["action"] for f in findings if f["code"] == "MALWARE"] == ["allow"]


@pytest.fixture
def private_clamd_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No clamd configured, no system one, no official signatures: a private clamd on the
    test set is what a run gets."""
    monkeypatch.delenv("ATTACHGUARD_CLAMD", raising=False)
    monkeypatch.setattr("attachguard.runtime.SYSTEM_CONFIG", tmp_path / "no-clamd.conf")
    monkeypatch.setattr("attachguard.clamav.daemon.official_database", lambda *a: None)


@pytest.mark.usefixtures("private_clamd_only")
def test_without_clamd_a_private_one_is_started_and_announced(tmp_path: Path) -> None:
    path = tmp_path / "eicar.txt"
    path.write_bytes(EICAR)
    code, out, err = run("scan", str(path))
    assert code == 1, err
    assert "EICAR test signature" in out
    assert "TEST signatures only" in err


@pytest.mark.parametrize("processes", ["1", "2"])
def test_a_policy_without_the_antivirus_starts_no_clamd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, processes: str
) -> None:
    def no_clamd(*_: object) -> None:
        raise AssertionError("a clamd was looked for")

    monkeypatch.setattr("attachguard.runtime.clamd_for", no_clamd)
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        default_policy_text().replace("disabled_engines: []", "disabled_engines: [clamav]")
    )
    files = tmp_path / "files"
    files.mkdir()
    (files / "notes.txt").write_text("Order 1234 arrived damaged.\n")
    (files / "reply.txt").write_text("Thanks, a new one is on its way.\n")
    code, out, err = run(
        "scan", "--json", "--policy", str(policy), "--processes", processes, str(files)
    )
    reports = sorted((r["file"], r["status"]) for r in map(json.loads, out.splitlines()))
    assert (code, reports) == (0, [("notes.txt", "APPROVED"), ("reply.txt", "APPROVED")]), err
    assert "clamav" in json.loads(out.splitlines()[0])["versions"]


def test_system_socket_is_read_from_clamd_conf(tmp_path: Path) -> None:
    conf = tmp_path / "clamd.conf"
    conf.write_text("# comment\nLocalSocket /run/clamav/clamd.ctl\nUser clamav\n")
    assert system_socket(conf) == "/run/clamav/clamd.ctl"
    conf.write_text("TCPSocket 3310\nTCPAddr 10.0.0.5\n")
    assert system_socket(conf) == "tcp:10.0.0.5:3310"
    assert system_socket(tmp_path / "missing.conf") is None


def test_a_command_from_a_missing_extra_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    lazy = {"serve": ("attachguard.not_installed", "serve", "service")}
    monkeypatch.setattr(main, "LAZY", lazy)
    code, out, _ = run("--help")
    assert code == 0 and "needs attachguard[service]" in out
    code, _, err = run("serve")
    assert code == 2 and "pip install 'attachguard[service]'" in err


class SlowScanner:
    """A stand-in for `Scanner.scan_path` that takes longer for earlier files and records how
    many scans ran at once."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self.lock = threading.Lock()

    def scan_path(self, path: Path) -> Report:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.002 * (20 - int(path.stem)))
        with self.lock:
            self.running -= 1
        if path.suffix == ".gone":
            raise FileNotFoundError(2, "No such file or directory")
        return Report(path.name, 0, "", UNKNOWN_TYPE, Status.APPROVED, [], {})

    def close(self) -> None:
        pass


def test_scan_files_keeps_the_order_and_bounds_the_files_in_flight() -> None:
    files = [Path(f"{i}.txt") for i in range(20)]
    scanner = SlowScanner()
    out = list(scan_files(scanner, files, jobs=3))
    assert [path for path, _ in out] == files
    assert [report.file for _, report in out] == [f.name for f in files]
    assert 1 < scanner.most <= 3


def test_a_file_that_cannot_be_read_is_a_usage_error() -> None:
    files = [Path("1.txt"), Path("2.gone"), Path("3.txt")]
    with pytest.raises(ConfigError, match=r"cannot read 2\.gone: No such file") as raised:
        list(scan_files(SlowScanner(), files, jobs=2))
    assert raised.value.exit_code == 2


def test_default_jobs_is_two_per_core() -> None:
    assert default_jobs() == 2 * len(os.sched_getaffinity(0))


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "uploads"
    (folder / "sub").mkdir(parents=True)
    for i in range(8):
        (folder / f"note-{i}.txt").write_text(f"Order {i} arrived damaged.\n" * (i + 1))
    (folder / "sub" / "eicar.txt").write_bytes(EICAR)
    (folder / "sub" / "b.csv").write_text("order,amount\n1234,12.50\n")
    return folder


def test_jobs_give_the_same_reports_in_the_same_order(
    tmp_path: Path, clamd_daemon: PrivateClamd
) -> None:
    folder = _folder(tmp_path)
    runs = {}
    for jobs in ("1", "4"):
        code, out, _ = run(
            "scan", "--json", "--jobs", jobs, "--clamd", clamd_daemon.address, str(folder)
        )
        assert code == 1
        runs[jobs] = [
            (r["file"], r["status"], r["reasons"]) for r in map(json.loads, out.splitlines())
        ]
    assert runs["1"] == runs["4"]
    names = [name for name, _, _ in runs["4"]]
    assert names == sorted(names, key=lambda n: (n in ("b.csv", "eicar.txt"), n))
    assert [name for name, status, _ in runs["4"] if status == "REJECTED"] == ["eicar.txt"]
    assert run("scan", "--jobs", "0", str(folder))[0] == 2


def test_cache_folder_reuses_verdicts(tmp_path: Path, clamd_daemon: PrivateClamd) -> None:
    folder = _folder(tmp_path)
    args = ("scan", "--json", "--clamd", clamd_daemon.address, "--cache", str(tmp_path / "c"))
    first = run(*args, str(folder))
    second = run(*args, str(folder))
    assert first[0] == second[0] == 1
    before = [json.loads(line) for line in first[1].splitlines()]
    after = [json.loads(line) for line in second[1].splitlines()]
    assert not any(r["cached"] for r in before) and all(r["cached"] for r in after)
    keep = ("file", "status", "reasons", "findings", "sha256", "type")
    assert [{k: r[k] for k in keep} for r in before] == [{k: r[k] for k in keep} for r in after]
    # the same bytes under another extension are scanned again, and judged by that name
    renamed = tmp_path / "note-0.exe"
    renamed.write_bytes((folder / "note-0.txt").read_bytes())
    code, out, _ = run(*args, str(renamed))
    report = json.loads(out)
    assert code == 1 and not report["cached"]
    assert [f["code"] for f in report["findings"]] == ["EXTENSION_NOT_ALLOWED"]
    assert len(list((tmp_path / "c").glob("*.json"))) == 11
    code, _, err = run(*args[:-1], str(renamed / "x"), "--cache-entries", "5", str(renamed))
    assert code == 2 and "cache folder" in err


@pytest.mark.integration
@pytest.mark.usefixtures("private_clamd_only")
def test_a_private_clamd_that_dies_is_started_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # killed for memory or crashed, it was never started again: the service rejected every
    # file (ENGINE_ERROR) until someone restarted it
    monkeypatch.setattr("attachguard.runtime.WATCH_SECONDS", 0.1)
    with clamd_for(workdir=tmp_path / "clamd") as source:
        first = int((tmp_path / "clamd" / "clamd.pid").read_text())
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pid = (tmp_path / "clamd" / "clamd.pid").read_text().strip()
            if pid and int(pid) != first and source.client.ping():
                break
            time.sleep(0.05)
        assert source.client.ping() and source.client.instream(EICAR).signature
