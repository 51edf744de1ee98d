"""A scanner's signatures: the image's files, newer ones from the S3 mirror (moto's server), a
real clamd that loads them at start and RELOADs newer ones between events without stopping
scans, and their version and age in every log line."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from attachguard.clamav.client import ClamdClient, parse_version
from attachguard.clamav.daemon import PrivateClamd
from attachguard.clamav.signatures import EICAR
from attachguard.connect.antivirus import Antivirus
from attachguard.connect.cvd import build_unsigned
from attachguard.connect.definitions import (
    FileEntry,
    Location,
    Manifest,
    database_of,
    write_manifest,
)
from attachguard.connect.handler import ConnectScanner, Outcome, Settings
from attachguard.connect.verdict import SCANNER_NOT_READY
from attachguard.report import Status
from support.clamd import requires_clamd

EICAR_LINE = f"Eicar-Test-Signature:0:*:{EICAR.hex()}\n"
MARKER = b"attachguard signature marker "


def marker_line(version: int) -> str:
    """A body signature that only the database of ``version`` holds."""
    return f"Attachguard.Marker-{version}:0:*:{(MARKER + str(version).encode()).hex()}\n"


def container(folder: Path, name: str, version: int, age_s: int = 3600) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    files = {f"{database_of(name)}.ndb": (EICAR_LINE + marker_line(version)).encode()}
    return build_unsigned(folder / name, version, files, built=int(time.time()) - age_s)


def mirror(s3: Any, where: Location, files: list[Path], *, lie: bool = False) -> Manifest:
    """Upload ``files`` and a manifest that pins them (``lie``: with wrong SHA-256s)."""
    entries = {}
    for path in files:
        data = path.read_bytes()
        answer = s3.put_object(Bucket=where.bucket, Key=where.key(path.name), Body=data)
        digest = hashlib.sha256(b"not these bytes" if lie else data).hexdigest()
        version = int(data[:512].split(b":")[2]) if data.startswith(b"ClamAV-VDB") else 0
        entries[path.name] = FileEntry(
            version_id=answer.get("VersionId"), size=len(data), sha256=digest, version=version
        )
    manifest = Manifest(updated=time.time(), files=entries)
    write_manifest(s3, where, manifest)
    return manifest


@pytest.fixture
def where(s3_bucket: tuple[Any, str]) -> Location:
    s3, name = s3_bucket
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return Location(name, "clamav/")


def definitions(s3: Any, where: Location | None, tmp_path: Path) -> Any:
    from attachguard.connect.definitions import Definitions

    return Definitions(s3, where, tmp_path / "db", tmp_path / "image")


# --- the signature directory ------------------------------------------------------------------


def test_newest_of_image_and_mirror(
    s3_bucket: tuple[Any, str], where: Location, tmp_path: Path
) -> None:
    s3, _ = s3_bucket
    image = tmp_path / "image"
    container(image, "main.cvd", 62)
    container(image, "daily.cld", 27000)  # freshclam's incremental copy
    upload = tmp_path / "upload"
    mirror(
        s3,
        where,
        [
            container(upload, "main.cvd", 62),  # the same: the image's copy is kept
            container(upload, "daily.cvd", 27001),  # newer: replaces daily.cld
            container(upload, "bytecode.cvd", 335),  # missing from the image
        ],
    )
    defs = definitions(s3, where, tmp_path)
    defs.prepare()
    assert [p.name for p in defs.files()] == ["daily.cld", "main.cvd"]
    assert defs.sync() == ["bytecode.cvd", "daily.cvd"]
    assert [p.name for p in defs.files()] == ["bytecode.cvd", "daily.cvd", "main.cvd"]
    assert (defs.directory / "main.cvd").is_symlink()  # linked, not copied
    assert defs.local_version("daily") == 27001
    assert defs.sync() == []  # nothing new: nothing downloaded
    assert not list(defs.directory.glob(".*.part"))


def test_mirror_older_than_image_is_not_used(
    s3_bucket: tuple[Any, str], where: Location, tmp_path: Path
) -> None:
    s3, _ = s3_bucket
    container(tmp_path / "image", "daily.cvd", 27005)
    mirror(s3, where, [container(tmp_path / "upload", "daily.cvd", 27001)])
    defs = definitions(s3, where, tmp_path)
    defs.prepare()
    assert defs.sync() == []
    assert defs.local_version("daily") == 27005


def test_download_that_does_not_match_the_manifest_is_not_used(
    s3_bucket: tuple[Any, str], where: Location, tmp_path: Path
) -> None:
    s3, _ = s3_bucket
    container(tmp_path / "image", "daily.cvd", 27000)
    mirror(s3, where, [container(tmp_path / "upload", "daily.cvd", 27001)], lie=True)
    defs = definitions(s3, where, tmp_path)
    defs.prepare()
    with pytest.raises(ValueError, match="do not match"):
        defs.sync()
    assert defs.local_version("daily") == 27000
    assert not list(defs.directory.glob(".*.part"))


def test_no_mirror_or_no_manifest_yet(
    s3_bucket: tuple[Any, str], where: Location, tmp_path: Path
) -> None:
    s3, _ = s3_bucket
    container(tmp_path / "image", "daily.cvd", 27000)
    assert definitions(s3, where, tmp_path).sync() == []  # the updater has not run yet
    assert definitions(s3, None, tmp_path).sync() == []


def test_version_answer_parsing() -> None:
    loaded = parse_version("ClamAV 1.4.6/27470/Tue Nov 24 09:30:00 2026")
    assert loaded.version == 27470 and loaded.engine == "ClamAV 1.4.6"
    assert loaded.built == time.mktime((2026, 11, 24, 9, 30, 0, 0, 0, -1))
    assert parse_version("ClamAV 1.4.6/30001/Tue Dec  1 03:10:49 2026").built is not None
    bare = parse_version("ClamAV 1.4.6")
    assert bare.version is None and bare.age_hours() is None


# --- a real clamd ------------------------------------------------------------------------------


def logger() -> tuple[Logger, io.StringIO]:
    stream = io.StringIO()
    return Logger(service=f"signatures-{uuid.uuid4().hex[:8]}", stream=stream), stream


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(x) for x in stream.getvalue().splitlines() if x.strip()]


def found(address: str, version: int) -> bool:
    answer = ClamdClient(address).instream(b"chat " + MARKER + str(version).encode() + b" end")
    return answer.signature == f"Attachguard.Marker-{version}.UNOFFICIAL"


@requires_clamd
def test_loads_the_mirror_at_start_and_reloads_between_events(
    s3_bucket: tuple[Any, str], where: Location, tmp_path: Path
) -> None:
    s3, _ = s3_bucket
    container(tmp_path / "image", "daily.cud", 1, age_s=30 * 3600)
    mirror(s3, where, [container(tmp_path / "v2", "daily.cud", 2, age_s=2 * 3600)])
    log, stream = logger()
    av = Antivirus(
        log, daemon_dir=tmp_path / "clamd", definitions=definitions(s3, where, tmp_path), interval=0
    )
    try:
        address = av.client(timeout=60).address
        assert found(address, 2) and not found(address, 1)  # started on the mirror's newer file
        assert av.fields()["signature_version"] == 2
        assert 1.9 < av.fields()["signature_age_hours"] < 2.1

        # the updater publishes version 3; the next event starts a background refresh
        mirror(s3, where, [container(tmp_path / "v3", "daily.cud", 3, age_s=60)])
        thread = av.refresh()
        assert thread is not None
        assert found(address, 2)  # scans go on while clamd loads the new database
        thread.join(60)
        assert found(address, 3) and ClamdClient(address).instream(EICAR).signature
        assert av.fields() == {"signature_version": 3, "signature_age_hours": 0.0}
        loaded = [x for x in lines(stream) if x["message"] == "signatures loaded"]
        assert loaded and loaded[0]["files"] == ["daily.cud"]

        # a damaged database (its manifest entry matches, clamd cannot load it): clamd keeps 3
        broken = tmp_path / "v4" / "daily.cud"
        container(broken.parent, "daily.cud", 4)
        broken.write_bytes(broken.read_bytes()[:600])
        mirror(s3, where, [broken])
        thread = av.refresh()
        assert thread is not None
        thread.join(60)
        assert found(address, 3) and av.fields()["signature_version"] == 3
        [kept] = [x for x in lines(stream) if x["message"].startswith("clamd kept")]
        assert kept["refused"] == ["daily.cud"] and kept["signature_version"] == 3
        synced = av.definitions
        assert synced is not None
        assert av.refresh() is None or not synced.sync()  # not downloaded again
    finally:
        av.stop()


@requires_clamd
def test_a_mirror_file_clamd_cannot_load_falls_back_to_the_image(
    s3_bucket: tuple[Any, str], where: Location, tmp_path: Path
) -> None:
    s3, _ = s3_bucket
    container(tmp_path / "image", "daily.cud", 1)
    broken = container(tmp_path / "bad", "daily.cud", 2)
    broken.write_bytes(broken.read_bytes()[:600])
    mirror(s3, where, [broken])
    log, stream = logger()
    av = Antivirus(log, daemon_dir=tmp_path / "clamd", definitions=definitions(s3, where, tmp_path))
    try:
        address = av.client(timeout=60).address
        assert found(address, 1)  # scanning, on the image's signatures
        assert any("using the image's" in x["message"] for x in lines(stream))
    finally:
        av.stop()


@requires_clamd
def test_every_log_line_carries_the_signature_version_and_age(
    s3_bucket: tuple[Any, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s3, _ = s3_bucket
    container(tmp_path / "image", "daily.cud", 7, age_s=5 * 3600)
    log, stream = logger()
    av = Antivirus(log, daemon_dir=tmp_path / "clamd", definitions=definitions(s3, None, tmp_path))
    connect = ConnectScanner(Settings(), logger=log)
    connect.antivirus = av
    try:
        av.client(timeout=60)
        connect.record(Outcome(Status.APPROVED, [], []), 12.0)
        connect.not_ready(SCANNER_NOT_READY, "file-1", 3.0)
    finally:
        av.stop()
    scan, not_ready = [x for x in lines(stream) if x.get("message") in ("scan", "not ready")]
    for line in (scan, not_ready):
        assert line["signature_version"] == 7 and 4.9 < line["signature_age_hours"] < 5.1
    metrics = [json.loads(x) for x in capsys.readouterr().out.splitlines() if "Signature" in x]
    [age] = metrics[0]["SignatureAgeHours"]
    assert 4.9 < age < 5.1


@pytest.mark.integration
@requires_clamd
def test_private_clamd_reload_reports_its_outcome(tmp_path: Path) -> None:
    db = tmp_path / "db"
    container(db, "daily.cud", 1)
    with PrivateClamd(tmp_path / "clamd", db) as daemon:
        container(db, "daily.cud", 2)
        assert daemon.reload(timeout=30) is True
        (db / "daily.cud").write_bytes(b"ClamAV-VDB:broken")
        assert daemon.reload(timeout=30) is False
        assert found(daemon.address, 2)


@pytest.mark.integration
@requires_clamd
def test_clamd_outlives_the_warm_up_thread_that_started_it(tmp_path: Path) -> None:
    """The container Lambda starts clamd from its warm-up thread, which then ends: clamd must
    go on running (it asks to die with its parent *thread*, so it is started from one that lives
    as long as the process)."""
    container(tmp_path / "db", "daily.cud", 1)
    daemon = PrivateClamd(tmp_path / "clamd", tmp_path / "db")
    warm_up = threading.Thread(target=daemon.start, name="warm-up")
    warm_up.start()
    warm_up.join(60)
    try:
        time.sleep(1.5)  # the SIGTERM came within a second of the thread's end
        assert daemon.running and found(daemon.address, 1)
    finally:
        daemon.stop()


@pytest.mark.integration
@requires_clamd
def test_a_private_clamd_that_died_is_started_again(tmp_path: Path) -> None:
    """Killed for memory or crashed, the private clamd was never started again: the warm
    environment rejected every file (ENGINE_ERROR) for the rest of its life."""
    log, stream = logger()
    av = Antivirus(log, daemon_dir=tmp_path / "clamd")  # on the test signatures
    try:
        client = av.client(timeout=60)
        assert client.ping() and av.refresh() is None  # running, nothing due
        pid = int((tmp_path / "clamd" / "clamd.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while client.ping() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not client.ping()
        # the next events: the first may come while the killed process is not yet reaped
        thread = av.refresh()
        while thread is None and time.monotonic() < deadline:
            time.sleep(0.05)
            thread = av.refresh()
        assert thread is not None
        thread.join(60)
        assert client.ping() and client.instream(EICAR).signature  # the same address scans again
        messages = [x["message"] for x in lines(stream)]
        assert "clamd is not running: starting it again" in messages
        assert "clamd started again" in messages
    finally:
        av.stop()
