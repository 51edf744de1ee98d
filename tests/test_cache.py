"""The verdict cache: hits and misses across extension, policy, engine version, signatures and
code; what is never stored; the in-memory and folder stores. clamd is a fake client behind the
real clamav engine (its VERSION answer is what a signature update changes)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from attachguard import cache
from attachguard.cache import CachedScanner, LruCache, cache_key, extension_of
from attachguard.cache_folder import FolderCache
from attachguard.clamav.client import ClamdAnswer
from attachguard.engines.base import Context, Item, Result, finding
from attachguard.engines.clamav import ClamAVEngine
from attachguard.policy import Policy, parse_policy
from attachguard.report import Status
from attachguard.scanner import build_scanner
from support.fake_clamd import EICAR, SIGNATURES, FakeClamd

NOTE = b"Order 1234 arrived with a cracked screen; photo to follow.\n" * 20


class Broken:
    """A clamav engine stand-in that fails, as one does when clamd goes away mid-scan."""

    name = "clamav"

    def __init__(self, label: str | None = None) -> None:
        self.label = label

    def version(self) -> str:
        return "ClamAV 1.4.6/27470/Tue Nov 24 09:30:00 2026"

    def scan(self, item: Item, context: Context) -> Result:
        if self.label is None:
            raise ConnectionError("clamd went away")
        from attachguard.engines.clamav import AV_LIMIT

        return Result([finding("clamav", AV_LIMIT, "the antivirus stopped", label=self.label)])


TEXT_POLICY = "allowed_extensions: [.txt, .csv, .pdf]\n"


@pytest.fixture
def clamd() -> FakeClamd:
    return FakeClamd()


def cached(
    clamd: object, store: LruCache | FolderCache | None = None, text: str = TEXT_POLICY
) -> CachedScanner:
    policy: Policy = parse_policy(text)
    scanner = build_scanner(policy, None, extra={"clamav": ClamAVEngine(clamd)})  # type: ignore[arg-type]
    return CachedScanner(scanner, store if store is not None else LruCache())


@pytest.fixture
def scanner(clamd: FakeClamd) -> Iterator[CachedScanner]:
    with cached(clamd) as s:
        yield s


def test_a_repeated_file_is_decided_from_the_cache(
    scanner: CachedScanner, clamd: FakeClamd
) -> None:
    first = scanner.scan(NOTE, "note.txt")
    again = scanner.scan(NOTE, "note.txt")
    assert first.approved and not first.cached
    assert again.cached and clamd.streams == 1
    assert again.to_dict()["cached"] is True and first.to_dict()["cached"] is False
    for field in ("status", "size", "sha256", "type", "findings", "actions", "versions", "facts"):
        assert getattr(again, field) == getattr(first, field), field
    assert set(again.timings_ms) == {"cache", "total"}


def test_a_cached_rejection_keeps_its_reasons(scanner: CachedScanner, clamd: FakeClamd) -> None:
    first = scanner.scan(EICAR + NOTE, "virus.txt")
    again = scanner.scan(EICAR + NOTE, "virus.txt")
    assert again.cached and clamd.streams == 1
    assert again.status is Status.REJECTED and "MALWARE" in again.rejecting_codes
    assert again.reasons == first.reasons and again.customer_reasons == first.customer_reasons


def test_the_report_carries_the_new_uploads_name(scanner: CachedScanner) -> None:
    scanner.scan(NOTE, "first-name.txt")
    again = scanner.scan(NOTE, "Another Name.TXT")  # same extension, as the engines read it
    assert again.cached and again.file == "Another Name.TXT"


def test_the_same_bytes_under_another_extension_miss(
    scanner: CachedScanner, clamd: FakeClamd
) -> None:
    assert scanner.scan(NOTE, "note.txt").approved
    as_exe = scanner.scan(NOTE, "note.exe")
    assert not as_exe.cached and as_exe.rejecting_codes == ["EXTENSION_NOT_ALLOWED"]
    as_pdf = scanner.scan(NOTE, "note.pdf")
    assert not as_pdf.cached and as_pdf.rejecting_codes == ["TYPE_MISMATCH"]
    # and the rejection under .exe is not served to the same bytes under .txt
    assert scanner.scan(NOTE, "again.txt").approved
    assert clamd.streams == 3


def test_extension_as_the_engines_read_it() -> None:
    assert extension_of("Photo.JPG") == ".jpg"
    assert extension_of("archive.tar.GZ") == ".gz"
    assert extension_of(".profile") == "" and extension_of("README") == ""


def test_a_policy_change_misses(clamd: FakeClamd) -> None:
    store = LruCache()
    with cached(clamd, store) as strict:
        assert strict.scan(NOTE, "note.csv").approved
    lenient = TEXT_POLICY + "actions: {MALWARE: allow}\n"
    with cached(clamd, store, lenient) as other:
        assert not other.scan(NOTE, "note.csv").cached
    with cached(clamd, store) as same_again:
        assert same_again.scan(NOTE, "note.csv").cached
    assert clamd.streams == 2


def test_a_signature_update_misses(scanner: CachedScanner, clamd: FakeClamd) -> None:
    scanner.scan(NOTE, "note.txt")
    clamd.answer = "ClamAV 1.4.6/27471/Wed Nov 25 09:30:00 2026"
    fresh = scanner.scan(NOTE, "note.txt")
    assert not fresh.cached and "signatures 27471" in fresh.versions["clamav"]
    assert scanner.scan(NOTE, "note.txt").cached


def test_an_engine_update_misses(scanner: CachedScanner, clamd: FakeClamd) -> None:
    scanner.scan(NOTE, "note.txt")
    clamd.answer = "ClamAV 1.5.0/27470/Tue Nov 24 09:30:00 2026"
    assert not scanner.scan(NOTE, "note.txt").cached


def test_a_code_change_misses(scanner: CachedScanner, monkeypatch: pytest.MonkeyPatch) -> None:
    scanner.scan(NOTE, "note.txt")
    monkeypatch.setattr(cache, "code_digest", lambda: "attachguard with a fixed engine")
    assert not scanner.scan(NOTE, "note.txt").cached


def test_the_key_covers_every_input() -> None:
    base = ("a" * 64, ".pdf", "policy", {"clamav": SIGNATURES, "pdf": "pypdf 7"})
    key = cache_key(*base)
    assert key == cache_key("a" * 64, ".pdf", "policy", {"pdf": "pypdf 7", "clamav": SIGNATURES})
    changed = [
        ("b" * 64, *base[1:]),
        (base[0], ".txt", *base[2:]),
        (*base[:2], "other policy", base[3]),
        (*base[:3], {**base[3], "pdf": "pypdf 8"}),
        (*base[:3], {**base[3], "moderation": "nudenet 3"}),
    ]
    assert all(cache_key(*c) != key for c in changed)


def test_a_failed_scan_is_not_stored(clamd: FakeClamd) -> None:
    policy = parse_policy(TEXT_POLICY)
    for engine, code in (
        (Broken(), "ENGINE_ERROR"),
        (Broken("Heuristics.Limits.Exceeded.MaxScanTime"), "AV_LIMIT"),
    ):
        store = LruCache()
        with CachedScanner(build_scanner(policy, None, extra={"clamav": engine}), store) as s:
            report = s.scan(NOTE, "note.txt")
            assert code in report.rejecting_codes
            assert len(store) == 0 and not s.scan(NOTE, "note.txt").cached


class LateOcr:
    """OCR whose first call found its lock busy until the deadline (a loaded machine)."""

    name = "fake"

    def __init__(self) -> None:
        self.calls = 0

    def version(self) -> str:
        return "fake OCR 1"

    def read(self, picture: object, deadline: float) -> list[str]:
        from attachguard.sensitive.ocr import OcrLate

        self.calls += 1
        if self.calls == 1:
            raise OcrLate([])
        return ["Card 4111 1111 1111 1111"]


def test_a_picture_left_unread_for_time_is_not_stored(clamd: FakeClamd) -> None:
    """SENSITIVE_LIMIT is allowed, but "out of time" depends on the moment: an idle rescan
    must read the card a loaded one could not."""
    from attachguard import samples
    from attachguard.engines.sensitive import SensitiveEngine, SensitiveOptions

    ocr = LateOcr()
    policy = parse_policy("allowed_extensions: [.jpg]\n")
    extra: dict[str, Any] = {
        "clamav": ClamAVEngine(clamd),  # type: ignore[arg-type]
        "sensitive": SensitiveEngine(SensitiveOptions(), ocr),
    }
    store = LruCache()
    with CachedScanner(build_scanner(policy, None, extra=extra), store) as s:
        photo = samples.jpeg(samples.photo(800, 500), exif=False)
        first = s.scan(photo, "card.jpg")
        assert first.approved and [f.code.name for f in first.findings] == ["SENSITIVE_LIMIT"]
        assert len(store) == 0
        again = s.scan(photo, "card.jpg")
        assert not again.cached and again.rejecting_codes == ["SENSITIVE_CARD"]


def test_a_size_limit_of_the_antivirus_is_stored() -> None:
    """Only clamd's scan-time limit depends on the moment; its size limits depend on the
    bytes, and a rejection for them is as good next time."""
    policy = parse_policy(TEXT_POLICY)
    engine = Broken("Heuristics.Limits.Exceeded.MaxFileSize")
    with CachedScanner(build_scanner(policy, None, extra={"clamav": engine}), LruCache()) as s:
        assert "AV_LIMIT" in s.scan(NOTE, "note.txt").rejecting_codes
        assert s.scan(NOTE, "note.txt").cached


def test_a_version_change_during_the_scan_is_not_stored(clamd: FakeClamd) -> None:
    class Reloading(FakeClamd):
        def instream(self, data: bytes) -> ClamdAnswer:
            self.answer = self.answer.replace("27470", "27471")  # a RELOAD lands mid-scan
            return super().instream(data)

    reloading = Reloading()
    store = LruCache()
    with cached(reloading, store) as s:
        s.scan(NOTE, "note.txt")
        assert len(store) == 0


def test_a_file_over_the_size_limit_bypasses_the_cache(clamd: FakeClamd, tmp_path: Path) -> None:
    store = LruCache()
    with cached(clamd, store, TEXT_POLICY + "max_file_size: 100\n") as s:
        assert s.scan(NOTE, "note.txt").rejecting_codes == ["TOO_LARGE"]
        path = tmp_path / "note.txt"
        path.write_bytes(NOTE)
        assert s.scan_path(path).rejecting_codes == ["TOO_LARGE"]
        assert len(store) == 0


def test_scan_path_goes_through_the_cache(scanner: CachedScanner, tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_bytes(NOTE)
    assert not scanner.scan_path(path).cached
    again = scanner.scan_path(path)
    assert again.cached and again.file == "note.txt"


def test_a_hit_on_a_large_file_runs_no_engine(scanner: CachedScanner, clamd: FakeClamd) -> None:
    """A hit costs a SHA-256 of the bytes and a lookup, nothing else; its time is measured by
    bench/bench_verdict_cache.py (docs/benchmarks.md), not asserted here."""
    data = NOTE * 1000  # 1.2 MB
    scanner.scan(data, "note.txt")
    again = scanner.scan(data, "note.txt")
    assert again.cached and clamd.streams == 1
    assert set(again.timings_ms) == {"cache", "total"}


def test_lru_cache_drops_the_least_recently_used() -> None:
    lru = LruCache(max_entries=2)
    lru.put("a", "1")
    lru.put("b", "2")
    assert lru.get("a") == "1"  # a is now the most recent
    lru.put("c", "3")
    assert (lru.get("a"), lru.get("b"), lru.get("c")) == ("1", None, "3")
    with pytest.raises(ValueError, match="at least 1"):
        LruCache(0)


def test_folder_cache_survives_the_process(clamd: FakeClamd, tmp_path: Path) -> None:
    with cached(clamd, FolderCache(tmp_path / "verdicts")) as s:
        s.scan(NOTE, "note.txt")
    with cached(clamd, FolderCache(tmp_path / "verdicts")) as s:
        assert s.scan(NOTE, "note.txt").cached
    [entry] = (tmp_path / "verdicts").iterdir()
    assert entry.name.endswith(".json") and json.loads(entry.read_text())["extension"] == ".txt"
    assert oct((tmp_path / "verdicts").stat().st_mode & 0o777) == "0o700"
    assert NOTE.decode()[:20] not in entry.read_text()  # the report never holds content


def test_folder_cache_keeps_the_most_recently_used(tmp_path: Path) -> None:
    store = FolderCache(tmp_path, max_entries=10)
    keys = [f"{i:064x}" for i in range(10)]
    for n, key in enumerate(keys):
        store.put(key, f'"{n}"')
        os.utime(tmp_path / f"{key}.json", ns=(n * 10**9, n * 10**9))
    assert store.get(keys[0]) == '"0"'  # a hit makes it the most recent
    store.put("f" * 64, '"new"')  # 11 > 10: prune to 9, oldest first
    assert len(store) == 9
    assert store.get(keys[0]) == '"0"' and store.get("f" * 64) == '"new"'
    assert store.get(keys[1]) is None and store.get(keys[2]) is None
    assert not list(tmp_path.glob(".tmp-*"))


def test_folder_cache_misses_on_a_damaged_or_foreign_entry(
    clamd: FakeClamd, tmp_path: Path
) -> None:
    store = FolderCache(tmp_path)
    with cached(clamd, store) as s:
        s.scan(NOTE, "note.txt")
        [entry] = tmp_path.glob("*.json")
        entry.write_text("{not json")
        assert not s.scan(NOTE, "note.txt").cached  # rescanned, and stored again
        assert s.scan(NOTE, "note.txt").cached
        # an entry copied under another file's key is not served for that file
        other = s.scan(b"another note\n" * 40, "other.txt")
        text = entry.read_text()
        for path in tmp_path.glob("*.json"):
            path.write_text(text)
        again = s.scan(b"another note\n" * 40, "other.txt")
        assert not again.cached and again.sha256 == other.sha256


def test_folder_cache_rejects_a_key_that_is_not_one(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a cache key"):
        FolderCache(tmp_path).get("../../etc/passwd")


def test_an_unwritable_folder_costs_a_rescan_not_an_error(
    clamd: FakeClamd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FolderCache(tmp_path)

    def full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "_write", full)
    with cached(clamd, store) as s:
        assert s.scan(NOTE, "note.txt").approved
        assert not s.scan(NOTE, "note.txt").cached


def test_a_folder_others_may_write_to_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # as /tmp is: anyone could plant an entry that approves a file
    with pytest.raises(PermissionError, match="other users may write to it"):
        FolderCache(shared)
    shared.chmod(0o755)
    assert len(FolderCache(shared)) == 0


def test_the_cli_names_the_unsafe_cache_folder(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from attachguard.cli import main

    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o775)
    note = tmp_path / "note.txt"
    note.write_bytes(NOTE)
    result = CliRunner().invoke(main, ["scan", "--cache", str(shared), str(note)])
    assert result.exit_code == 2, result.output
    assert f"cannot use {shared} as a cache folder: other users may write to it" in result.output
