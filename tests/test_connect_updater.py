"""The signature updater: cvdupdate mirroring a fake ClamAV mirror (files served from a folder
by a loopback HTTP server) into moto's S3 server, as the scheduled Lambda does."""

from __future__ import annotations

import functools
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from attachguard.clamav.signatures import EICAR
from attachguard.connect import updater
from attachguard.connect.cvd import HEADER_SIZE, build_unsigned
from attachguard.connect.definitions import MANIFEST, STATE, FileEntry, Location, read_manifest
from attachguard.connect.updater import Run, UpdateFailed, UpdaterSettings, update

pytest.importorskip("cvdupdate")

DATABASES = ("main.cvd", "daily.cvd", "bytecode.cvd")


class Mirror(SimpleHTTPRequestHandler):
    """Serves a folder like database.clamav.net (If-Modified-Since answered with 304) and
    records what was asked."""

    seen: list[tuple[str, str | None]]

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Range")))
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[str, Path, list[tuple[str, str | None]]]]:
    folder = tmp_path / "mirror"
    folder.mkdir()
    seen: list[tuple[str, str | None]] = []
    handler = type("Recording", (Mirror,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=folder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", folder, seen
    finally:
        server.shutdown()
        server.server_close()


def publish(folder: Path, name: str, version: int, extra: str = "", age_s: int = 3600) -> None:
    """A database on the fake mirror (an unsigned container, named like the official one),
    with a modification time after any earlier one (HTTP's If-Modified-Since has seconds)."""
    base = name.split(".")[0]
    sigs = f"Eicar-Test-Signature:0:*:{EICAR.hex()}\n{extra}".encode()
    built = int(time.time()) - age_s
    build_unsigned(folder / name, version, {f"{base}.ndb": sigs}, built=built)
    stamp = time.time() + version % 1000  # strictly later for each newer version
    os.utime(folder / name, (stamp, stamp))


@pytest.fixture
def bucket(s3_bucket: tuple[Any, str]) -> tuple[Any, str]:
    s3, name = s3_bucket
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return s3, name


def settings(bucket: str, url: str, workdir: Path) -> UpdaterSettings:
    return UpdaterSettings(Location(bucket, "clamav/"), url, DATABASES, workdir)


def full_downloads(seen: list[tuple[str, str | None]]) -> list[str]:
    """Requests for whole databases (not the 96-byte header checks)."""
    return [path for path, rng in seen if path.split("?")[0].endswith(".cvd") and rng is None]


def test_mirrors_then_keeps_current(
    mirror: tuple[str, Path, list[Any]], bucket: tuple[Any, str], tmp_path: Path
) -> None:
    url, folder, seen = mirror
    s3, name = bucket
    for db, number in zip(DATABASES, (62, 27000, 335), strict=True):
        publish(folder, db, number)
    first = update(s3, settings(name, url, tmp_path / "run1"))
    assert first.errors == 0 and sorted(first.updated) == sorted(DATABASES)
    manifest = read_manifest(s3, Location(name, "clamav/"))
    assert manifest is not None
    assert {n: f.version for n, f in manifest.files.items()} == {
        "main.cvd": 62,
        "daily.cvd": 27000,
        "bytecode.cvd": 335,
    }
    daily = manifest.files["daily.cvd"]
    body = s3.get_object(Bucket=name, Key="clamav/daily.cvd", VersionId=daily.version_id)
    assert body["Body"].read() == (folder / "daily.cvd").read_bytes()
    assert first.summary()["newest_version"] == 27000
    assert 0.9 < first.summary()["age_hours"] < 1.1
    state = json.loads(s3.get_object(Bucket=name, Key=f"clamav/{STATE}")["Body"].read())
    assert state["dbs"]["daily.cvd"]["local version"] == 27000
    versions = zip(DATABASES, (62, 27000, 335), strict=True)
    assert sorted(full_downloads(seen)) == sorted(f"/{db}?version={v}" for db, v in versions)

    # a new Lambda environment (empty /tmp): restored from S3, asks only for headers
    seen.clear()
    second = update(s3, settings(name, url, tmp_path / "run2"))
    assert second.errors == 0 and second.updated == []
    assert full_downloads(seen) == []
    assert all(rng == "bytes=0-95" for _, rng in seen if _.endswith(".cvd"))
    assert read_manifest(s3, Location(name, "clamav/")) == manifest  # not rewritten

    # Talos publishes a new daily: only it is downloaded and published, pinned to its version
    publish(folder, "daily.cvd", 27001, age_s=60)
    seen.clear()
    third = update(s3, settings(name, url, tmp_path / "run2"))
    assert third.updated == ["daily.cvd"]
    assert full_downloads(seen) == ["/daily.cvd?version=27001"]
    newer = read_manifest(s3, Location(name, "clamav/"))
    assert newer is not None
    assert newer.files["daily.cvd"].version == 27001
    assert newer.files["daily.cvd"].version_id != daily.version_id
    assert newer.files["main.cvd"] == manifest.files["main.cvd"]
    old = s3.get_object(Bucket=name, Key="clamav/daily.cvd", VersionId=daily.version_id)
    assert old["Body"].read(HEADER_SIZE).startswith(b"ClamAV-VDB:")  # still readable, pinned


def test_damaged_download_is_not_published(
    mirror: tuple[str, Path, list[Any]], bucket: tuple[Any, str], tmp_path: Path
) -> None:
    url, folder, _ = mirror
    s3, name = bucket
    publish(folder, "daily.cvd", 27000)
    where = Location(name, "clamav/")
    only_daily = replace(settings(name, url, tmp_path / "w"), databases=("daily.cvd",))
    update(s3, only_daily)
    before = read_manifest(s3, where)
    publish(folder, "daily.cvd", 27001)
    data = bytearray((folder / "daily.cvd").read_bytes())
    data[-20] ^= 0xFF  # one flipped byte in the compressed body: the header's MD5 fails
    stamp = (folder / "daily.cvd").stat().st_mtime
    (folder / "daily.cvd").write_bytes(bytes(data))
    os.utime(folder / "daily.cvd", (stamp, stamp))
    run = update(s3, only_daily)
    assert run.refused == ["daily.cvd"] and run.updated == []
    assert read_manifest(s3, where) == before


def test_an_older_database_never_replaces_a_newer_one(
    bucket: tuple[Any, str], tmp_path: Path
) -> None:
    s3, name = bucket
    where = Location(name, "clamav/")
    older = build_unsigned(tmp_path / "daily.cvd", 26999, {"daily.ndb": b"X:0:*:41424344\n"})
    published = FileEntry(size=1, sha256="0" * 64, version=27000)
    run = Run()
    assert updater._publish(s3, where, older, published, run) is None
    assert run.refused == ["daily.cvd"]


def test_handler_reports_and_fails_when_the_mirror_is_down(
    bucket: tuple[Any, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, name = bucket
    monkeypatch.setenv("ATTACHGUARD_DEFINITIONS", f"s3://{name}/clamav/")
    monkeypatch.setenv("ATTACHGUARD_CLAMAV_MIRROR", "http://127.0.0.1:9")  # discard: refused
    monkeypatch.setenv("ATTACHGUARD_UPDATER_WORKDIR", str(tmp_path / "w"))
    monkeypatch.setattr(updater, "_logger", None)
    # a fresh service name: Powertools reuses the handler (and stream) of a logger it has seen
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", f"updater-{uuid.uuid4().hex[:8]}")
    with pytest.raises(UpdateFailed, match="error"):
        updater.handler({}, None)
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    failed = [x for x in lines if x.get("message") == "signature update failed"]
    assert failed and failed[0]["errors"] == 1 and failed[0]["updated"] == []


def test_handler_logs_the_run_and_the_mirror_age(
    mirror: tuple[str, Path, list[Any]],
    bucket: tuple[Any, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, folder, _ = mirror
    _, name = bucket
    publish(folder, "daily.cvd", 27000, age_s=2 * 3600)
    monkeypatch.setenv("ATTACHGUARD_DEFINITIONS", f"s3://{name}/clamav")
    monkeypatch.setenv("ATTACHGUARD_CLAMAV_MIRROR", url + "/")
    monkeypatch.setenv("ATTACHGUARD_CLAMAV_DATABASES", "daily.cvd")
    monkeypatch.setenv("ATTACHGUARD_UPDATER_WORKDIR", str(tmp_path / "w"))
    monkeypatch.setattr(updater, "_logger", None)
    # a fresh service name: Powertools reuses the handler (and stream) of a logger it has seen
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", f"updater-{uuid.uuid4().hex[:8]}")
    summary = updater.handler({}, None)
    assert summary["updated"] == ["daily.cvd"] and summary["newest_version"] == 27000
    out = capsys.readouterr().out
    metric = [json.loads(x) for x in out.splitlines() if '"MirrorAgeHours"' in x]
    [age] = metric[0]["MirrorAgeHours"]  # EMF: a list of values
    assert 1.9 < age < 2.1
    assert f'"{MANIFEST}"' not in out  # the log line is a summary, not the manifest


def test_settings_need_a_mirror_location() -> None:
    with pytest.raises(ValueError, match="ATTACHGUARD_DEFINITIONS"):
        UpdaterSettings.from_env({})
    got = UpdaterSettings.from_env({"ATTACHGUARD_DEFINITIONS": "s3://b/p"})
    assert got.definitions == Location("b", "p/") and got.databases == DATABASES
    assert got.mirror == "https://database.clamav.net"
