"""The malware engine against a real private clamd on the generated test signature set."""

from __future__ import annotations

import hashlib
import io
import random
import re
import shutil
import socket
import subprocess
import threading
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pypdf import PdfWriter

from attachguard import samples
from attachguard.clamav.client import (
    ClamdAnswer,
    ClamdClient,
    ClamdError,
    ClamdSizeLimitError,
    parse_address,
    parse_scan_reply,
)
from attachguard.clamav.daemon import PrivateClamd, official_database
from attachguard.clamav.reach import members_clamd_skips, zip_members_clamd_reads
from attachguard.clamav.signatures import (
    CLAM_EXE_SHA256,
    EICAR,
    TESTFILES,
    build_test_database,
)
from attachguard.codes import FindingCode
from attachguard.engines.base import Child, Context, Item, Result
from attachguard.engines.clamav import ClamAVEngine, describe_version
from attachguard.pipeline import Scanner
from attachguard.policy import Policy, parse_policy
from attachguard.report import UNKNOWN_TYPE, FileType, Status
from attachguard.scanner import build_scanner
from support.clamd import requires_clamd

CLEAN = b"Order 1234: two blue mugs, one broken on arrival. Photo attached.\n" * 50


def zipped(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, data)
    return buf.getvalue()


def scan(engine: ClamAVEngine, data: bytes, policy: Policy, name: str = "upload.bin") -> Result:
    return engine.scan(Item(name, data, UNKNOWN_TYPE), policy.context())


def sample(name: str) -> bytes:
    path = TESTFILES / name
    if not path.is_file():
        pytest.fail(f"{path} missing (apt-get install clamav-testfiles)")
    return path.read_bytes()


# --- no daemon needed -------------------------------------------------------------------------


def test_test_database_is_idempotent(tmp_path: Path) -> None:
    db = build_test_database(tmp_path / "db")
    files = sorted(db.iterdir())
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in files}
    assert set(before) == {"attachguard-test.ndb", "attachguard-test.hdb"}
    assert build_test_database(tmp_path / "db") == db
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in db.iterdir()} == before
    assert EICAR.hex() in before["attachguard-test.ndb"][0].decode()


def test_clam_exe_hash_matches_debian_testfile() -> None:
    assert hashlib.sha256(sample("clam.exe")).hexdigest() == CLAM_EXE_SHA256


def test_parse_address() -> None:
    assert parse_address("/run/clamd.sock")[1] == "/run/clamd.sock"
    assert parse_address("unix:/run/clamd.sock")[1] == "/run/clamd.sock"
    assert parse_address("tcp:10.0.0.5:3310")[1] == ("10.0.0.5", 3310)
    assert parse_address("clamd.internal:3310")[1] == ("clamd.internal", 3310)
    assert parse_address("[::1]:3310")[1] == ("::1", 3310)
    with pytest.raises(ValueError, match="not a clamd address"):
        parse_address("clamd")


def test_parse_scan_reply() -> None:
    assert parse_scan_reply("stream: OK") == ClamdAnswer(None)
    assert parse_scan_reply("stream: Win.Test.EICAR_HDB-1 FOUND").signature == (
        "Win.Test.EICAR_HDB-1"
    )
    with pytest.raises(ClamdSizeLimitError):
        parse_scan_reply("INSTREAM size limit exceeded. ERROR")
    with pytest.raises(ClamdError, match="answered"):
        parse_scan_reply("stream: Can't allocate memory ERROR")
    with pytest.raises(ClamdError, match="unexpected"):
        parse_scan_reply("stream:")


def test_describe_version() -> None:
    official = "ClamAV 1.4.6/27470/Tue Nov 24 09:30:00 2026"
    assert describe_version(official) == "ClamAV 1.4.6, signatures 27470 (Tue Nov 24 09:30:00 2026)"
    assert describe_version("ClamAV 1.4.6") == "ClamAV 1.4.6 (no official signatures loaded)"


def test_unreachable_clamd(tmp_path: Path, policy: Policy) -> None:
    client = ClamdClient(str(tmp_path / "nobody.sock"), timeout=2)
    assert client.ping() is False
    assert ClamdClient("tcp:127.0.0.1:1", timeout=2).ping() is False
    with pytest.raises(ClamdError, match="unreachable"):
        client.instream(CLEAN)
    with pytest.raises(ClamdError):
        client.version()
    with pytest.raises(ClamdError):
        scan(ClamAVEngine(client), EICAR, policy)


def test_official_database_detection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert official_database(tmp_path / "missing") is None
    (tmp_path / "daily.cld").write_bytes(b"")
    assert official_database(tmp_path) is None
    (tmp_path / "main.cvd").write_bytes(b"")
    assert official_database(tmp_path) == tmp_path
    assert PrivateClamd(tmp_path / "w", database=tmp_path).database_kind == "official"

    monkeypatch.setattr("attachguard.clamav.daemon.official_database", lambda *a: None)
    fallback = PrivateClamd(tmp_path / "w2")
    assert fallback.database_kind == "test"
    assert (fallback.database / "attachguard-test.ndb").is_file()


class _FlakyClamd:
    """A stand-in clamd on a Unix socket that hangs up on the first ``drops`` connections
    without answering (as a restarting clamd does), then answers ``stream: OK``.

    Its thread ends before its socket closes (`close`): a thread left in ``accept`` could take
    the number of the closed socket for the next test's, and answer there (a silent clamd
    answered ``stream: OK`` once, in one process running the whole unit subset)."""

    def __init__(self, path: Path, drops: int) -> None:
        self.path, self.drops, self.connections = str(path), drops, 0
        self.server = socket.socket(socket.AF_UNIX)
        self.server.bind(self.path)
        self.server.listen()
        self.server.settimeout(0.05)  # looks at `_stop` between waits
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self.server.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(5)
            with conn:
                self.connections += 1
                if self.connections <= self.drops:
                    continue
                data = b""
                while not data.endswith(b"\0\0\0\0"):  # the zero-length chunk ends the stream
                    data += conn.recv(65536)
                conn.sendall(b"stream: OK\0")


@pytest.mark.parametrize(("drops", "ok"), [(1, True), (2, False)])
def test_one_retry_on_a_dropped_connection(tmp_path: Path, drops: int, ok: bool) -> None:
    fake = _FlakyClamd(tmp_path / "flaky.sock", drops)
    client = ClamdClient(fake.path, timeout=5)
    try:
        if ok:
            assert client.instream(CLEAN) == ClamdAnswer(None)
        else:
            with pytest.raises(ClamdError, match="unreachable"):
                client.instream(CLEAN)
    finally:
        fake.close()
    assert fake.connections == 2


def test_silent_clamd_times_out(tmp_path: Path) -> None:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "silent.sock"))
    server.listen()  # accepts into the backlog and never answers
    try:
        with pytest.raises(ClamdError, match="no answer"):
            ClamdClient(str(tmp_path / "silent.sock"), timeout=0.1).instream(CLEAN)
    finally:
        server.close()


# --- against the session's private clamd ------------------------------------------------------


def test_ping_and_version(clamd_client: ClamdClient, clamd_daemon: PrivateClamd) -> None:
    assert clamd_daemon.database_kind == "test"
    assert clamd_client.ping() is True
    assert clamd_client.version().startswith("ClamAV 1.")
    assert ClamAVEngine(clamd_client).version().endswith("(no official signatures loaded)")


def test_eicar(clamd_client: ClamdClient, policy: Policy) -> None:
    [f] = scan(ClamAVEngine(clamd_client), EICAR, policy, "eicar.txt").findings
    assert f.code is FindingCode.MALWARE
    assert f.message == "EICAR test signature"
    assert f.label is not None and f.label.startswith("Eicar-Test-Signature")
    assert f.engine == "clamav"


@pytest.mark.parametrize("depth", [1, 2])
def test_eicar_nested_in_zips(clamd_client: ClamdClient, policy: Policy, depth: int) -> None:
    data = zipped("eicar.com", EICAR)
    for _ in range(depth - 1):
        data = zipped("inner.zip", data)
    [f] = scan(ClamAVEngine(clamd_client), data, policy, "photos.zip").findings
    assert (f.code, f.message) == (FindingCode.MALWARE, "EICAR test signature")


@pytest.mark.parametrize("name", ["clam.exe", "clam.zip", "clam.pdf", "clam.7z"])
def test_debian_testfiles(clamd_client: ClamdClient, policy: Policy, name: str) -> None:
    [f] = scan(ClamAVEngine(clamd_client), sample(name), policy, name).findings
    assert f.code is FindingCode.MALWARE
    assert f.label == "ClamAV-Test-File.UNOFFICIAL"
    assert f.message == "malware signature ClamAV-Test-File.UNOFFICIAL"


@pytest.mark.parametrize(
    "data", [CLEAN, zipped("order.txt", CLEAN), b""], ids=["text", "zip", "empty"]
)
def test_clean_content_has_no_finding(
    clamd_client: ClamdClient, policy: Policy, data: bytes
) -> None:
    assert scan(ClamAVEngine(clamd_client), data, policy).findings == []


def test_recursion_limit_is_not_a_pass(clamd_client: ClamdClient, policy: Policy) -> None:
    # MaxRecursion is 17: clean text 20 zips deep cannot be fully scanned, so it must not pass
    data = CLEAN
    for level in range(20):
        data = zipped(f"level{level}.zip", data)
    [f] = scan(ClamAVEngine(clamd_client), data, policy).findings
    assert f.code is FindingCode.AV_LIMIT
    assert f.label == "Heuristics.Limits.Exceeded.MaxRecursion"
    assert "nested deeper" in f.message


def test_stream_over_stream_max_length(clamd_client: ClamdClient, policy: Policy) -> None:
    # StreamMaxLength is 100M (MiB); clamd stops reading there and answers ERROR
    [f] = scan(ClamAVEngine(clamd_client), bytes(101 * 1024 * 1024), policy).findings
    assert f.code is FindingCode.AV_LIMIT
    assert "StreamMaxLength" in f.message


@pytest.mark.skipif(shutil.which("zip") is None, reason="needs the zip tool to encrypt")
def test_encrypted_zip(clamd_client: ClamdClient, policy: Policy, tmp_path: Path) -> None:
    (tmp_path / "invoice.txt").write_bytes(CLEAN)
    subprocess.run(
        ["zip", "-q", "-P", "secret", "locked.zip", "invoice.txt"], cwd=tmp_path, check=True
    )
    [f] = scan(ClamAVEngine(clamd_client), (tmp_path / "locked.zip").read_bytes(), policy).findings
    assert f.code is FindingCode.ENCRYPTED
    assert f.label == "Heuristics.Encrypted.Zip"
    assert f.message == "encrypted ZIP archive: the antivirus cannot look inside"


def _pdf(user_password: str | None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    if user_password is not None:
        writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def test_password_protected_pdf(clamd_client: ClamdClient, policy: Policy) -> None:
    [f] = scan(ClamAVEngine(clamd_client), _pdf("customer"), policy, "statement.pdf").findings
    assert (f.code, f.label) == (FindingCode.ENCRYPTED, "Heuristics.Encrypted.PDF")
    assert f.message == "encrypted PDF: the antivirus cannot look inside"


def test_restricted_pdf_opens_without_password(clamd_client: ClamdClient, policy: Policy) -> None:
    # owner-password-only PDFs (no printing/copying) are common and ClamAV can read them
    assert scan(ClamAVEngine(clamd_client), _pdf(""), policy, "invoice.pdf").findings == []


def test_concurrent_scans(clamd_daemon: PrivateClamd, policy: Policy) -> None:
    engine = ClamAVEngine(ClamdClient(clamd_daemon.address, max_concurrent=4))
    cases = [
        (EICAR, "EICAR test signature"),
        (CLEAN, None),
        (zipped("a.com", EICAR), "EICAR test signature"),
        (zipped("b.txt", CLEAN), None),
    ]
    work = [cases[i % len(cases)] for i in range(20)]

    def one(case: tuple[bytes, str | None]) -> list[str]:
        return [f.message for f in scan(engine, case[0], policy).findings]

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(one, work))
    assert results == [[expected] if expected else [] for _, expected in work]


# --- daemon lifecycle -------------------------------------------------------------------------


class _NoFiletype:
    name = "filetype"

    def version(self) -> str:
        return "none"

    def scan(self, item: Item, context: Context) -> Result:
        return Result()


class _Unknown:
    def detect(self, data: bytes) -> FileType:
        return UNKNOWN_TYPE


@requires_clamd
def test_clamd_down_rejects_then_recovers(tmp_path: Path, policy: Policy) -> None:
    daemon = PrivateClamd(tmp_path, database=build_test_database(tmp_path / "db"))
    daemon.start()
    try:
        client = ClamdClient(daemon.address, timeout=10)
        engine = ClamAVEngine(client)
        assert scan(engine, EICAR, policy).findings[0].code is FindingCode.MALWARE

        daemon.stop()
        assert client.ping() is False
        with pytest.raises(ClamdError):
            scan(engine, CLEAN, policy)
        # through the pipeline: a failed engine is a finding that rejects, never a pass
        with Scanner(policy, {"filetype": _NoFiletype(), "clamav": engine}, _Unknown()) as s:
            report = s.scan(CLEAN, "order.txt")
        assert report.status is Status.REJECTED
        assert [f.code for f in report.findings] == [FindingCode.ENGINE_ERROR]

        daemon.start()
        assert client.ping() is True
        assert scan(engine, CLEAN, policy).findings == []
        assert scan(engine, EICAR, policy).findings[0].message == "EICAR test signature"
    finally:
        daemon.stop()
    assert not Path(daemon.address).exists()


@requires_clamd
def test_start_failure_names_the_cause(tmp_path: Path) -> None:
    empty = tmp_path / "empty-db"
    empty.mkdir()
    daemon = PrivateClamd(tmp_path / "w", database=empty)
    with pytest.raises(ClamdError, match="No supported database files"):
        daemon.start(timeout=30)
    assert not daemon.running


# --- what clamd unpacks itself: zip members are not streamed twice -------------------------


def archive(members: dict[str, tuple[int, bytes]], prefix: bytes = b"") -> bytes:
    """A zip of ``name: (compression method, bytes)``, after ``prefix``."""
    buf = io.BytesIO()
    buf.write(prefix)
    with zipfile.ZipFile(buf, "a" if prefix else "w") as zf:
        for name, (method, data) in members.items():
            zf.writestr(name, data, compress_type=method)
    return buf.getvalue()


def test_reach_is_the_stored_and_deflated_members_byte_for_byte() -> None:
    stored, deflated, lzma = (Child(n, CLEAN + n.encode()) for n in ("a.txt", "b.txt", "c.txt"))
    data = archive(
        {
            "a.txt": (zipfile.ZIP_STORED, stored.data),
            "b.txt": (zipfile.ZIP_DEFLATED, deflated.data),
            "c.txt": (zipfile.ZIP_LZMA, lzma.data),  # clamd skips LZMA members silently
        }
    )
    other_bytes, unnamed = Child("b.txt", CLEAN), Child("d.txt", stored.data)
    children = [stored, deflated, lzma, other_bytes, unnamed]
    # the LZMA member, which clamd skips, the engine streams apart (`members_clamd_skips`)
    assert zip_members_clamd_reads(Item("x.zip", data, UNKNOWN_TYPE), children) == {
        stored,
        deflated,
        lzma,
    }
    assert list(members_clamd_skips(data, 10**6)) == [("c.txt", lzma.data)]


@pytest.mark.parametrize(
    "data",
    [
        archive({"a.txt": (zipfile.ZIP_DEFLATED, CLEAN)}, prefix=b"\xff\xd8\xff\xe0" + CLEAN),
        b"PK\x03\x04" + CLEAN,  # a local header, then no directory
        CLEAN,
    ],
    ids=["zip-behind-a-photo", "damaged", "not-a-zip"],
)
def test_nothing_is_reached_in_a_zip_clamd_may_not_recognise(data: bytes) -> None:
    children = [Child("a.txt", CLEAN)]
    assert zip_members_clamd_reads(Item("x.zip", data, UNKNOWN_TYPE), children) == frozenset()


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
@pytest.mark.parametrize("payload", ["eicar", "clam.exe"])
def test_clamd_finds_in_a_zip_what_it_finds_in_a_member_it_reaches(
    clamd_client: ClamdClient, policy: Policy, method: int, payload: str
) -> None:
    # The premise of not streaming reached members again: body and hash signatures both apply
    # to the members clamd inflates, in a plain zip and in an Office package.
    data = EICAR if payload == "eicar" else sample("clam.exe")
    engine = ClamAVEngine(clamd_client)
    other = {"readme.txt": (zipfile.ZIP_STORED, CLEAN)}  # a zip larger than its member
    package = other | {"[Content_Types].xml": (zipfile.ZIP_DEFLATED, b"<Types/>")}
    for members in (
        other | {"payload.bin": (method, data)},
        package | {"word/x.bin": (method, data)},
    ):
        container = archive(members)
        payload_child = Child(list(members)[-1], data)
        reached = zip_members_clamd_reads(Item("x.docx", container, UNKNOWN_TYPE), [payload_child])
        assert reached == {payload_child}
        [f] = scan(engine, container, policy).findings
        assert f.code is FindingCode.MALWARE


def test_a_member_clamd_skips_is_still_streamed(clamd_client: ClamdClient, policy: Policy) -> None:
    # clamd does not inflate LZMA members (no alert either): the zip alone passes clamd, so the
    # engine streams the member apart, and names where it was.
    data = archive({"eicar.com": (zipfile.ZIP_LZMA, EICAR)})
    assert clamd_client.instream(data).signature is None  # clamd's gap
    [found] = scan(ClamAVEngine(clamd_client), data, policy).findings
    assert (found.code, found.location) == (FindingCode.MALWARE, "eicar.com")
    with build_scanner(policy, clamd_client) as scanner:
        report = scanner.scan(data, "photos.zip")
    assert report.status is Status.REJECTED
    [f] = [f for f in report.findings if f.code is FindingCode.MALWARE]
    assert (f.location, f.message) == ("eicar.com", "EICAR test signature")


def test_a_clean_office_file_streams_each_byte_to_clamd_once(
    clamd_client: ClamdClient, policy: Policy
) -> None:
    counted = CountingClient(clamd_client.address)
    photo = samples.jpeg(samples.photo(160, 120, seed=3))
    docx = samples.docx(["Return form for order 1234."], image=photo)
    with build_scanner(policy, counted) as scanner:
        scanner.scan(docx, "return.docx")  # the first scan also asks clamd once what it is
        assert len(counted.streams) == 2
        counted.streams.clear()
        report = scanner.scan(docx, "return.docx")
        assert report.status is Status.APPROVED
        assert counted.streams == [len(docx)]  # not the photo again: clamd inflated it
        infected = archive({"word/media/eicar.com": (zipfile.ZIP_DEFLATED, EICAR)})
        counted.streams.clear()
        report = scanner.scan(infected, "photos.zip")
    # something found in the parent: every member is streamed again, to say where
    assert counted.streams == [len(infected), len(EICAR)]
    assert "EICAR test signature inside word/media/eicar.com" in report.reasons


def set_option(path: Path, option: str, value: str) -> None:
    """Set ``option`` in a written clamd.conf; fails when the shipped file does not set it."""
    text, count = re.subn(rf"(?m)^{option} .*$", f"{option} {value}", path.read_text())
    assert count == 1, f"{option} is not set once in clamd.conf"
    path.write_text(text)


class SmallFileClamd(PrivateClamd):
    """The shipped configuration with ``MaxFileSize`` cut to 1M (Debian's system clamd: 25M)."""

    def write_config(self) -> Path:
        path = super().write_config()
        set_option(path, "MaxFileSize", "1M")
        return path


@requires_clamd
@pytest.mark.integration
def test_a_member_larger_than_its_zip_is_never_taken_as_reached(
    tmp_path: Path, policy: Policy
) -> None:
    # clamd cuts a deflated member larger than MaxFileSize short, without an alert: 2 MB of
    # text ending in EICAR, deflated into a 2 KB zip, passes clamd. A member larger than its
    # parent is therefore streamed again on its own (where the limit is an alert).
    member = b"a" * 2_000_000 + EICAR
    data = archive({"notes.txt": (zipfile.ZIP_DEFLATED, member)})
    item = Item("notes.zip", data, UNKNOWN_TYPE)
    assert zip_members_clamd_reads(item, [Child("notes.txt", member)]) == frozenset()
    with SmallFileClamd(tmp_path, database=build_test_database(tmp_path / "db")) as daemon:
        engine = ClamAVEngine(ClamdClient(daemon.address, timeout=30.0))
        assert scan(engine, data, policy).findings == []  # the gap
        [alone] = scan(engine, member, policy).findings
    assert alone.code.name == "AV_LIMIT"


class SilentLimitsClamd(PrivateClamd):
    """Configured like Debian's system clamd in the one way that matters here: limits are not
    reported (``AlertExceedsMax no``); ``MaxScanSize`` cut to 1M to make the case small."""

    def write_config(self) -> Path:
        path = super().write_config()
        set_option(path, "AlertExceedsMax", "no")
        set_option(path, "MaxScanSize", "1M")
        return path


@requires_clamd
@pytest.mark.integration
def test_members_are_streamed_from_a_clamd_that_stops_at_limits_silently(
    tmp_path: Path, policy: Policy, clamd_client: ClamdClient
) -> None:
    # past MaxScanSize this clamd stops unpacking and answers OK for the whole zip: a clean
    # parent proves nothing about the members after that point, so each is streamed
    rng = random.Random(7)
    filler = {
        f"logs/day{n}.txt": (zipfile.ZIP_DEFLATED, bytes(rng.choices(b"abcdefgh \n", k=300_000)))
        for n in range(5)
    }
    data = archive({**filler, "notes.txt": (zipfile.ZIP_DEFLATED, EICAR)})
    assert ClamAVEngine(clamd_client).alerts_on_limits()  # the shipped clamd.conf
    lenient = parse_policy("allowed_extensions: [.zip]\nactions: {ARCHIVE: allow}\n")
    with SilentLimitsClamd(tmp_path, database=build_test_database(tmp_path / "db")) as daemon:
        client = ClamdClient(daemon.address, timeout=30.0)
        assert client.instream(data).signature is None  # the gap
        assert not ClamAVEngine(client).alerts_on_limits()
        with build_scanner(lenient, client) as scanner:
            report = scanner.scan(data, "export.zip")
    assert report.rejecting_codes == ["MALWARE"]
    assert "EICAR test signature inside notes.txt" in report.reasons


class CountingClient(ClamdClient):
    """A real client that records the length of every stream it sends."""

    def __init__(self, address: str) -> None:
        super().__init__(address, timeout=30.0)
        self.streams: list[int] = []

    def instream(self, data: bytes) -> ClamdAnswer:
        self.streams.append(len(data))
        return super().instream(data)


def masked(data: bytes, name: str) -> bytes:
    """``data`` with flag bit 13 ("masked data") set in ``name``'s local header only."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        at = zf.getinfo(name).header_offset + 6
    flags = int.from_bytes(data[at : at + 2], "little") | 0x2000
    return data[:at] + flags.to_bytes(2, "little") + data[at + 2 :]


def zip64_local(name: str, member: bytes) -> bytes:
    """A zip whose member has a zip64 local header (sizes 0xFFFFFFFF) and a 32-bit directory
    entry, as rubyzip 3 and Python's ``force_zip64`` write it."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", CLEAN)
        with zf.open(zipfile.ZipInfo(name), "w", force_zip64=True) as out:
            out.write(member)
    return buf.getvalue()


@pytest.mark.parametrize("layout", ["masked", "zip64-local-header"])
def test_a_member_whose_local_header_clamd_skips_is_streamed_apart(layout: str) -> None:
    # ClamAV reads a member's local header: bit 13 or 0xFFFFFFFF sizes there make it skip the
    # member without an alert, while unzip, 7-Zip and Python inflate it (red team 115): the
    # engine streams it apart, as unzip inflates it
    member = Child("word/media/image1.png", random.Random(3).randbytes(300))  # no smaller zipped
    plain = archive({"readme.txt": (zipfile.ZIP_STORED, CLEAN), member.where: (8, member.data)})
    assert zip_members_clamd_reads(Item("x.docx", plain, UNKNOWN_TYPE), [member]) == {member}
    assert list(members_clamd_skips(plain, 10**6)) == []
    data = (
        masked(plain, member.where)
        if layout == "masked"
        else zip64_local(member.where, member.data)
    )
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.read(member.where) == member.data  # what unzip and Python give
    assert list(members_clamd_skips(data, 10**6)) == [(member.where, member.data)]
    assert zip_members_clamd_reads(Item("x.docx", data, UNKNOWN_TYPE), [member]) == {member}


def test_eicar_in_a_member_clamd_skips_is_streamed_and_found(
    clamd_client: ClamdClient, policy: Policy
) -> None:
    name = "docs/eicar.com"
    data = masked(archive({"readme.txt": (zipfile.ZIP_STORED, CLEAN), name: (8, EICAR)}), name)
    assert clamd_client.instream(data).signature is None  # clamd's gap
    [found] = scan(ClamAVEngine(clamd_client), data, policy).findings
    assert (found.code, found.location) == (FindingCode.MALWARE, name)  # streamed apart
    with build_scanner(policy, clamd_client) as scanner:
        report = scanner.scan(data, "photos.zip")
    assert report.status is Status.REJECTED
    [f] = [f for f in report.findings if f.code is FindingCode.MALWARE]
    assert f.location == name


def rezipped(data: bytes, layout: str, only: str | None = None) -> bytes:
    """The zip ``data`` written again member by member (deflated), with the local header of
    ``only`` (every member's when None) in ``layout``: bit 13 set ("masked"), or zip64 with
    32-bit directory entries ("zip64-local-header": rubyzip 3, Python's ``force_zip64``, and
    streaming writers that do not know a part's size ahead)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buf, "w") as zf:
        for info in source.infolist():
            chosen = only is None or info.filename == only
            entry = zipfile.ZipInfo(info.filename, info.date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(entry, "w", force_zip64=chosen and layout != "masked") as out:
                out.write(source.read(info))
    out_data = buf.getvalue()
    if layout == "masked":
        for info in zipfile.ZipFile(io.BytesIO(out_data)).infolist():
            if only is None or info.filename == only:
                out_data = masked(out_data, info.filename)
    return out_data


def with_text(package: bytes, part: str, old: bytes, new: bytes) -> bytes:
    """The package with ``old`` replaced by ``new`` in ``part``."""
    with zipfile.ZipFile(io.BytesIO(package)) as source:
        members = [(i.filename, source.read(i)) for i in source.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data.replace(old, new) if name == part else data)
    return buf.getvalue()


OFFICE_PARTS: dict[str, tuple[Callable[[], bytes], str, bytes]] = {
    # a document whose main XML part shows the EICAR string as its text
    "docx": (lambda: samples.docx(["Return form for order 1234."]), "word/document.xml",
             b"Return form for order 1234."),
    "xlsx": (lambda: samples.xlsx([["Order", "Total"], ["1234", 12.5]]),
             "xl/worksheets/sheet1.xml", b"1234"),
}  # fmt: skip


@pytest.mark.parametrize("layout", ["masked", "zip64-local-header"])
@pytest.mark.parametrize("kind", OFFICE_PARTS)
def test_eicar_in_an_office_part_behind_a_local_header_clamd_skips_is_found(
    clamd_client: ClamdClient, policy: Policy, kind: str, layout: str
) -> None:
    # red team 115: an Office package's XML parts are read by the office engine, not handed
    # on as children; behind a local header clamd skips, the EICAR string in a sheet's or a
    # document's text reached no one
    make, part, text = OFFICE_PARTS[kind]
    plain = with_text(make(), part, text, EICAR)
    assert clamd_client.instream(plain).signature is not None  # clamd inflates the plain one
    data = rezipped(plain, layout, part)
    assert clamd_client.instream(data).signature is None  # clamd's gap
    [found] = scan(ClamAVEngine(clamd_client), data, policy).findings
    assert (found.code, found.location) == (FindingCode.MALWARE, part)
    with build_scanner(policy, clamd_client) as scanner:
        report = scanner.scan(data, f"order.{kind}")
    assert report.status is Status.REJECTED
    assert "MALWARE" in report.rejecting_codes
    assert f"EICAR test signature inside {part}" in report.reasons


def test_an_honest_package_written_with_zip64_headers_streams_each_part_once(
    clamd_client: ClamdClient, policy: Policy
) -> None:
    # a streaming writer's zip64 local headers on every part: clamd skips them all, the engine
    # streams each apart, and the picture the office engine extracts is not streamed again
    photo = samples.jpeg(samples.photo(160, 120, seed=3))
    docx = rezipped(
        samples.docx(["Return form for order 1234."], image=photo), "zip64-local-header"
    )
    counted = CountingClient(clamd_client.address)
    with zipfile.ZipFile(io.BytesIO(docx)) as zf:
        parts = sorted(len(zf.read(i)) for i in zf.infolist())
    with build_scanner(policy, counted) as scanner:
        scanner.scan(docx, "return.docx")  # the first scan also asks clamd once what it is
        counted.streams.clear()
        report = scanner.scan(docx, "return.docx")
    assert report.status is Status.APPROVED, report.reasons
    assert counted.streams[0] == len(docx)
    assert sorted(counted.streams[1:]) == parts  # each part once, the photo among them


def test_the_bytes_inflated_apart_are_bounded(clamd_client: ClamdClient) -> None:
    # members streamed apart count against max_expanded_bytes: past it, AV_LIMIT (rejected)
    data = rezipped(archive({"a.txt": (8, CLEAN * 40), "b.txt": (8, CLEAN * 40)}), "masked")
    tight = parse_policy("allowed_extensions: [.zip]\nlimits: {max_expanded_bytes: 200000}\n")
    [found] = scan(ClamAVEngine(clamd_client), data, tight).findings
    assert (found.code.name, found.location) == ("AV_LIMIT", "b.txt")


def embedded(outer: bytes, inner: bytes, name: str, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """``outer`` with ``inner`` added as the member ``name``."""
    buf = io.BytesIO(outer)
    with zipfile.ZipFile(buf, "a") as zf:
        zf.writestr(name, inner, compress_type=method)
    return buf.getvalue()


@pytest.mark.parametrize("part", ["word/document.xml", "customXml/notes.txt"])
@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_package_inside_a_package_has_its_skipped_parts_streamed(
    clamd_client: ClamdClient, policy: Policy, part: str, method: int
) -> None:
    # review 116: the inner .docx counted as read by clamd inside the outer one, so the clamav
    # engine never ran on it, and its parts behind bit-13 headers were taken as streamed apart
    inner = samples.docx(["Return form for order 1234."])
    if part == "word/document.xml":
        inner = with_text(inner, part, b"Return form for order 1234.", EICAR)
    else:
        inner = embedded(inner, b"Notes for the order.\n" + EICAR, part)
    inner = rezipped(inner, "masked", part)
    name = "word/embeddings/Microsoft_Word_Document1.docx"
    data = embedded(samples.docx(["Cover letter."]), inner, name, method)
    with build_scanner(policy, clamd_client) as scanner:
        report = scanner.scan(data, "letter.docx")
    assert "MALWARE" in report.rejecting_codes, report.reasons
    assert f"EICAR test signature inside {name}/{part}" in report.reasons


def with_bad_crc(data: bytes, name: str) -> bytes:
    """``data`` with one bit of ``name``'s CRC-32 flipped, in its local header and directory."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        local = zf.getinfo(name).header_offset + 14
    out = bytearray(data)
    for at in (local, *_central_crcs(data, name)):
        out[at] ^= 0x01
    return bytes(out)


def _central_crcs(data: bytes, name: str) -> list[int]:
    """Where the CRC-32 of ``name``'s central directory entries lies."""
    found, at = [], data.find(b"PK\x01\x02")
    while at != -1:
        length = int.from_bytes(data[at + 28 : at + 30], "little")
        if data[at + 46 : at + 46 + length] == name.encode():
            found.append(at + 16)
        at = data.find(b"PK\x01\x02", at + 4)
    return found


def test_a_skipped_member_with_a_wrong_crc_is_streamed_as_far_as_it_inflates(
    clamd_client: ClamdClient, policy: Policy
) -> None:
    # review 116: zipfile threw away what it inflated when the check failed, and an empty
    # stream went to clamd; unzip and 7-Zip extract the bytes, with a warning
    part = "word/document.xml"
    plain = with_text(samples.docx(["Return form for order 1234."]), part,
                      b"Return form for order 1234.", EICAR)  # fmt: skip
    data = with_bad_crc(rezipped(plain, "masked", part), part)
    [found] = scan(ClamAVEngine(clamd_client), data, policy).findings
    assert (found.code, found.location) == (FindingCode.MALWARE, part)
    [(_, content)] = members_clamd_skips(data, 10**6)
    assert content is not None and content.count(EICAR) == 1
