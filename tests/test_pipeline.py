"""The pipeline with stand-in engines: deadlines, failures, children, limits, parallelism.

The real engines are tested in their own files and end to end in test_scan_e2e.py; here the
engines are small fakes so that each pipeline rule can be shown to hold (and to fail without it).
"""

from __future__ import annotations

import io
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from attachguard.codes import Action, FindingCode
from attachguard.engines.base import Child, Context, Engine, Item, Result, finding
from attachguard.pipeline import Scanner
from attachguard.policy import Policy
from attachguard.report import FileType, Status

PDF = FileType("pdf", "application/pdf", "document")
TXT = FileType("txt", "text/plain", "text", is_text=True)


class Detector:
    """Content starting with %PDF is a PDF; everything else is text."""

    def detect(self, data: bytes) -> FileType:
        return PDF if data.startswith(b"%PDF") else TXT


class Fake:
    def __init__(self, name: str, behaviour: Callable[[Item], Result] | None = None) -> None:
        self.name = name
        self.behaviour = behaviour or (lambda item: Result())
        self.seen: list[Item] = []
        self.contexts: list[Context] = []

    def version(self) -> str:
        return f"{self.name} 1.0"

    def alerts_on_limits(self) -> bool:
        """As the clamav engine asks its clamd: this stand-in reports every limit."""
        return True

    def scan(self, item: Item, context: Context) -> Result:
        self.seen.append(item)
        self.contexts.append(context)
        return self.behaviour(item)


def make_scanner(policy: Policy, **behaviours: Callable[[Item], Result]) -> Scanner:
    engines: dict[str, Engine] = {
        name: Fake(name, behaviours.get(name))
        for name in ("filetype", "clamav", "pdf", "polyglot", "text", "sensitive")
    }
    return Scanner(policy, engines, Detector())


def with_changes(policy: Policy, **changes: object) -> Policy:
    return policy.model_copy(update=changes)


def test_clean_file_is_approved_and_every_routed_engine_ran(policy: Policy) -> None:
    scanner = make_scanner(policy)
    report = scanner.scan(b"%PDF-1.7 clean", "receipt.pdf")
    assert report.status is Status.APPROVED
    assert report.findings == []
    assert {"filetype", "clamav", "pdf", "polyglot", "detect", "total"} <= set(report.timings_ms)
    assert report.versions["clamav"] == "clamav 1.0"
    seen = {name for name, e in scanner.engines.items() if isinstance(e, Fake) and e.seen}
    assert seen == {"filetype", "clamav", "pdf", "polyglot", "sensitive"}


def test_a_threat_rejects_and_the_reason_is_its_message(policy: Policy) -> None:
    scanner = make_scanner(
        policy,
        pdf=lambda item: Result(
            [finding("pdf", FindingCode.PDF_JAVASCRIPT, "JavaScript in the PDF")]
        ),
    )
    report = scanner.scan(b"%PDF-1.7", "invoice.pdf")
    assert report.status is Status.REJECTED
    assert report.reasons == ["JavaScript in the PDF"]
    assert report.to_dict()["findings"][0]["action"] == "reject"


def test_policy_can_allow_a_code(policy: Policy) -> None:
    allowing = with_changes(policy, actions={FindingCode.PDF_JAVASCRIPT: Action.ALLOW})
    scanner = make_scanner(
        allowing,
        pdf=lambda item: Result([finding("pdf", FindingCode.PDF_JAVASCRIPT, "JavaScript")]),
    )
    report = scanner.scan(b"%PDF-1.7", "invoice.pdf")
    assert report.status is Status.APPROVED
    assert report.findings[0].code is FindingCode.PDF_JAVASCRIPT


def test_engine_crash_is_a_rejection_with_a_reason(policy: Policy) -> None:
    def crash(item: Item) -> Result:
        raise ConnectionRefusedError("clamd is down")

    report = make_scanner(policy, clamav=crash).scan(b"hello", "notes.txt")
    assert report.status is Status.REJECTED
    assert [f.code for f in report.findings] == [FindingCode.ENGINE_ERROR]
    assert "clamav engine failed" in report.reasons[0]
    assert report.not_scanned and report.not_scanned[0]["location"] == "notes.txt"


def test_hanging_engine_times_out_and_the_verdict_does_not_wait(policy: Policy) -> None:
    release = threading.Event()

    def hang(item: Item) -> Result:
        release.wait(30)
        return Result()

    short = with_changes(policy, timeouts=policy.timeouts.model_copy(update={"engine": 0.5}))
    scanner = make_scanner(short, pdf=hang)
    try:
        started = time.monotonic()
        report = scanner.scan(b"%PDF-1.7", "receipt.pdf")
        waited = time.monotonic() - started
    finally:
        release.set()
    assert report.status is Status.REJECTED
    assert [f.code for f in report.findings] == [FindingCode.ENGINE_TIMEOUT]
    assert report.findings[0].engine == "pdf"
    assert waited < 10  # bounded by the engine timeout, not by the hang (30 s)


def test_overall_deadline_bounds_the_engine_timeout(policy: Policy) -> None:
    release = threading.Event()
    timeouts = policy.timeouts.model_copy(update={"engine": 60.0, "scan": 0.5})
    scanner = make_scanner(
        with_changes(policy, timeouts=timeouts), clamav=lambda i: (release.wait(30), Result())[1]
    )
    try:
        report = scanner.scan(b"hello", "notes.txt")
    finally:
        release.set()
    assert [f.code for f in report.findings] == [FindingCode.ENGINE_TIMEOUT]


def test_engines_of_one_file_run_in_parallel(policy: Policy) -> None:
    # Each engine waits for the other: this passes only if both run at the same time.
    barrier = threading.Barrier(2, timeout=10)

    def meet(item: Item) -> Result:
        barrier.wait()
        return Result()

    report = make_scanner(policy, pdf=meet, clamav=meet).scan(b"%PDF-1.7", "receipt.pdf")
    assert report.status is Status.APPROVED


def test_missing_engine_rejects_unless_disabled_by_policy(policy: Policy) -> None:
    engines: dict[str, Engine] = {name: Fake(name) for name in ("filetype", "text", "sensitive")}
    report = Scanner(policy, engines, Detector()).scan(b"hello", "notes.txt")
    assert report.status is Status.REJECTED
    assert "the clamav engine is not available" in report.reasons

    disabled = with_changes(policy, disabled_engines=["clamav"])
    report = Scanner(disabled, engines, Detector()).scan(b"hello", "notes.txt")
    assert report.status is Status.APPROVED
    assert report.versions["clamav"] == "disabled by policy"


def test_children_are_scanned_and_their_findings_say_where(policy: Policy) -> None:
    def attach(item: Item) -> Result:
        return Result(children=[Child("attachment:payload.txt", b"EVIL")])

    def av(item: Item) -> Result:
        if item.data == b"EVIL":
            return Result([finding("clamav", FindingCode.MALWARE, "EICAR test signature")])
        return Result()

    report = make_scanner(policy, pdf=attach, clamav=av).scan(b"%PDF-1.7", "invoice.pdf")
    assert report.status is Status.REJECTED
    assert report.findings[0].location == "attachment:payload.txt"
    assert report.reasons == ["EICAR test signature inside attachment:payload.txt"]


def test_nested_children_stop_at_the_depth_limit(policy: Policy) -> None:
    # Every PDF holds another PDF: the pipeline must stop at max_depth, with a finding.
    def matryoshka(item: Item) -> Result:
        return Result(children=[Child("inner.pdf", b"%PDF-1.7 inner")])

    report = make_scanner(policy, pdf=matryoshka).scan(b"%PDF-1.7", "doll.pdf")
    depth = policy.limits.max_depth
    assert [f.code for f in report.findings] == [FindingCode.ARCHIVE_DEPTH]
    assert report.findings[0].location == "/".join(["inner.pdf"] * (depth + 1))
    assert report.status is Status.REJECTED


def test_expanded_bytes_are_counted_across_all_children(policy: Policy) -> None:
    limits = policy.limits.model_copy(update={"max_expanded_bytes": 1000})

    def spill(item: Item) -> Result:
        return Result(children=[Child(f"part{i}.txt", b"x" * 400) for i in range(3)])

    report = make_scanner(with_changes(policy, limits=limits), pdf=spill).scan(b"%PDF", "a.pdf")
    assert [f.code for f in report.findings] == [FindingCode.ARCHIVE_EXPANSION]
    assert report.findings[0].location == "part2.txt"


def test_too_large_is_rejected_without_running_engines(policy: Policy, tmp_path: Path) -> None:
    small = with_changes(policy, max_file_size=10)
    scanner = make_scanner(small)
    report = scanner.scan(b"%PDF-1.7 more than ten bytes", "big.pdf")
    assert [f.code for f in report.findings] == [FindingCode.TOO_LARGE]
    assert all(not e.seen for e in scanner.engines.values() if isinstance(e, Fake))

    path = tmp_path / "big.pdf"
    path.write_bytes(b"y" * 5000)
    from_disk = scanner.scan_path(path)
    assert from_disk.status is Status.REJECTED
    assert from_disk.size == 5000
    import hashlib

    assert from_disk.sha256 == hashlib.sha256(b"y" * 5000).hexdigest()


def test_report_json_shape(policy: Policy) -> None:
    report = make_scanner(policy).scan(b"%PDF-1.7", "receipt.pdf")
    data = report.to_dict()
    assert data["schema"] == 1
    assert data["file"] == "receipt.pdf"
    assert data["status"] == "APPROVED"
    assert data["type"] == {
        "label": "pdf",
        "mime": "application/pdf",
        "group": "document",
        "score": 0.0,
    }
    assert set(data) >= {"size", "sha256", "findings", "not_scanned", "timings_ms", "versions"}


@pytest.mark.parametrize(
    ("name", "extension"),
    [("a.pdf", ".pdf"), ("Reçu 2026.PDF", ".pdf"), ("noext", ""), (".bashrc", ""), ("a.b/c", "")],
)
def test_item_extension_is_taken_from_the_last_name_part(name: str, extension: str) -> None:
    assert Item(name, b"", TXT).extension == extension


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        (None, "bad"),
        ("word/media/x.bin", "bad inside word/media/x.bin"),
        ("offset 1829", "bad at offset 1829"),
        ("row 3, column 2", "bad at row 3, column 2"),
        ("attachment:a.pdf/page 2", "bad at page 2 inside attachment:a.pdf"),
    ],
)
def test_reasons_read_as_words(location: str | None, reason: str) -> None:
    from attachguard.report import Finding

    assert Finding("x", FindingCode.CORRUPT, "bad", location=location).describe() == reason


def test_repeated_and_unlocated_duplicate_findings_are_dropped(policy: Policy) -> None:
    # office and zip both extract the same member; clamd also matches the whole container
    def two_extractors(item: Item) -> Result:
        return Result(children=[Child("word/x.bin", b"EVIL"), Child("word/x.bin", b"EVIL")])

    def av(item: Item) -> Result:
        sig = finding("clamav", FindingCode.MALWARE, "EICAR test signature", label="Eicar")
        return Result([sig]) if item.data in {b"EVIL", b"%PDF-1.7 holds EVIL"} else Result()

    scanner = make_scanner(policy, pdf=two_extractors, clamav=av)
    report = scanner.scan(b"%PDF-1.7 holds EVIL", "invoice.pdf")
    assert report.reasons == ["EICAR test signature inside word/x.bin"]


def test_embedded_images_past_the_limit_are_not_moderated(policy: Policy) -> None:
    moderation = policy.options("moderation").model_copy(
        update={"max_embedded_images": 2, "backend": "local"}
    )
    capped = with_changes(
        policy, engines={**policy.engines, "moderation": moderation}, disabled_engines=[]
    )
    png = FileType("png", "image/png", "image")

    class ImageDetector:
        def detect(self, data: bytes) -> FileType:
            return PDF if data.startswith(b"%PDF") else png

    def pictures(item: Item) -> Result:
        return Result(children=[Child(f"image{i}.png", b"PNG") for i in range(4)])

    engines: dict[str, Engine] = {
        name: Fake(name)
        for name in ("filetype", "clamav", "polyglot", "image", "moderation", "sensitive")
    }
    engines["pdf"] = Fake("pdf", pictures)
    report = Scanner(capped, engines, ImageDetector()).scan(b"%PDF-1.7", "photos.pdf")
    moderated = engines["moderation"]
    assert isinstance(moderated, Fake) and len(moderated.seen) == 2
    # one finding for the images past the cap, counting them, with where they are
    assert [(f.code, f.location, f.count, f.more) for f in report.findings] == [
        (FindingCode.MODERATION_LIMIT, "image2.png", 2, ("image3.png",)),
    ]
    assert report.status is Status.REJECTED


def test_a_failing_type_detector_rejects_but_the_antivirus_still_runs(policy: Policy) -> None:
    class Broken:
        def detect(self, data: bytes) -> FileType:
            raise NotImplementedError("zip file version 19.0")

    engines: dict[str, Engine] = {name: Fake(name) for name in ("filetype", "clamav")}
    report = Scanner(policy, engines, Broken()).scan(b"PK\x03\x04", "a.docx")
    assert report.status is Status.REJECTED
    assert [(f.engine, f.code) for f in report.findings] == [("detect", FindingCode.ENGINE_ERROR)]
    assert report.type.label == "unknown"
    clamav = engines["clamav"]
    assert isinstance(clamav, Fake) and len(clamav.seen) == 1


def test_a_callers_deadline_shortens_the_scan(policy: Policy) -> None:
    release = threading.Event()
    scanner = make_scanner(policy, clamav=lambda i: (release.wait(30), Result())[1])
    try:
        report = scanner.scan(b"hello", "notes.txt", deadline=time.monotonic() + 0.3)
    finally:
        release.set()
    assert [f.code for f in report.findings] == [FindingCode.ENGINE_TIMEOUT]


def test_a_signature_is_the_story_and_a_type_guess_about_the_same_bytes_is_not(
    policy: Policy,
) -> None:
    # Magika calls the EICAR string "powershell": with clamd's MALWARE, SCRIPT is moot
    def guess(item: Item) -> Result:
        return Result([finding("filetype", FindingCode.SCRIPT, "PowerShell script")])

    def av(item: Item) -> Result:
        return Result([finding("clamav", FindingCode.MALWARE, "EICAR test signature")])

    report = make_scanner(policy, filetype=guess, clamav=av).scan(b"X5O!P%@AP", "notes.txt")
    assert [f.code for f in report.findings] == [FindingCode.MALWARE]
    # without the signature the type guess stands
    report = make_scanner(policy, filetype=guess).scan(b"X5O!P%@AP", "notes.txt")
    assert [f.code for f in report.rejecting] == [FindingCode.SCRIPT]


def test_repeated_findings_are_counted_once_with_examples(policy: Policy) -> None:
    def members(item: Item) -> Result:
        if item.depth:
            return Result()
        return Result(children=[Child(f"part{i}.bin", b"%%PDF %d" % i) for i in range(50)])

    def av(item: Item) -> Result:
        hit = finding("clamav", FindingCode.MALWARE, "EICAR test signature", label="Eicar")
        return Result([hit]) if item.depth else Result()

    report = make_scanner(policy, pdf=members, clamav=av).scan(b"%PDF-1.7", "many.pdf")
    [found] = report.findings
    assert (found.count, found.location) == (50, "part0.bin")
    assert found.more == ("part1.bin", "part2.bin", "part3.bin")
    assert report.reasons == ["EICAR test signature inside part0.bin (and 49 more like it)"]
    shown = report.to_dict()["findings"][0]
    assert shown["count"] == 50 and shown["more_locations"] == [
        "part1.bin",
        "part2.bin",
        "part3.bin",
    ]


def test_engines_learn_how_deep_the_pipeline_still_opens(policy: Policy) -> None:
    def nest(item: Item) -> Result:
        return Result(children=[Child("inner.pdf", b"%PDF inner")])

    scanner = make_scanner(
        with_changes(policy, limits=policy.limits.model_copy(update={"max_depth": 2})), pdf=nest
    )
    report = scanner.scan(b"%PDF-1.7", "outer.pdf")
    engine = scanner.engines["pdf"]
    assert isinstance(engine, Fake)
    assert [c.depth_left for c in engine.contexts] == [2, 1, 0]
    assert [f.code for f in report.findings] == [FindingCode.ARCHIVE_DEPTH]


def test_an_engine_waiting_for_a_thread_is_not_timed_out(policy: Policy) -> None:
    # one pool thread, two engines of 0.4 s each, an engine timeout of 0.7 s: the second engine
    # waits 0.4 s for the thread and then runs 0.4 s; its timeout counts from its start
    def slow(item: Item) -> Result:
        time.sleep(0.4)
        return Result()

    timeouts = policy.timeouts.model_copy(update={"engine": 0.7, "scan": 10.0})
    engines: dict[str, Engine] = {
        name: Fake(name, slow if name in ("pdf", "polyglot") else None)
        for name in ("filetype", "clamav", "pdf", "polyglot", "sensitive")
    }
    with Scanner(with_changes(policy, timeouts=timeouts), engines, Detector(), workers=1) as busy:
        report = busy.scan(b"%PDF-1.7", "invoice.pdf")
    assert report.status is Status.APPROVED, report.reasons
    # the scan's own deadline still bounds the wait for a thread
    short = policy.timeouts.model_copy(update={"engine": 0.7, "scan": 0.5})
    with Scanner(with_changes(policy, timeouts=short), engines, Detector(), workers=1) as busy:
        report = busy.scan(b"%PDF-1.7", "invoice.pdf")
    assert FindingCode.ENGINE_TIMEOUT in {f.code for f in report.rejecting}


@pytest.mark.parametrize(
    ("size", "text"),
    [(300, "300 bytes"), (512_000, "512 KB"), (20_000_000, "20 MB"), (25_300_000, "25.3 MB")],
)
def test_sizes_are_named_in_the_units_people_read(size: int, text: str) -> None:
    from attachguard.report import size_text

    assert size_text(size) == text


def test_type_detection_runs_under_the_deadline(policy: Policy) -> None:
    # detection reads structure (an OLE directory, a zip): a damaged one must not hold a scan
    released = threading.Event()

    class Stuck:
        def detect(self, data: bytes) -> FileType:
            released.wait(60)  # held until the scan has answered
            return PDF

    timeouts = policy.timeouts.model_copy(update={"engine": 0.3, "scan": 2.0})
    engines: dict[str, Engine] = {n: Fake(n) for n in ("filetype", "clamav")}
    scanner = Scanner(with_changes(policy, timeouts=timeouts), engines, Stuck())
    try:
        report = scanner.scan(b"%PDF-1.7", "invoice.pdf")
    finally:
        released.set()
        scanner.close()
    assert [f.code for f in report.rejecting] == [FindingCode.ENGINE_TIMEOUT]
    assert report.type.label == "unknown"


def _zip(members: dict[str, tuple[int, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, (method, data) in members.items():
            zf.writestr(name, data, compress_type=method)
    return buf.getvalue()


MEMBERS = {"a.txt": (zipfile.ZIP_STORED, b"EVIL order"), "b.txt": (zipfile.ZIP_LZMA, b"notes")}
PACKED = _zip(MEMBERS)


def _unzip(item: Item) -> Result:
    """A stand-in for the zip engine: every member of a zip as a child."""
    if item.data != PACKED:
        return Result()
    return Result(children=[Child(name, data) for name, (_, data) in MEMBERS.items()])


def _clamd_like(item: Item) -> Result:
    """Finds EVIL in any bytes it is given (a stored member's bytes lie in its zip)."""
    if b"EVIL" in item.data:
        sig = finding("clamav", FindingCode.MALWARE, "EICAR test signature", label="Eicar")
        return Result([sig])
    return Result()


def _seen(scanner: Scanner, name: str) -> list[bytes]:
    engine = scanner.engines[name]
    assert isinstance(engine, Fake)
    return [item.data for item in engine.seen]


def test_members_the_antivirus_unpacks_itself_are_not_streamed_after_a_clean_parent(
    policy: Policy,
) -> None:
    scanner = make_scanner(policy, text=_unzip)
    report = scanner.scan(PACKED, "orders.txt")
    assert report.status is Status.APPROVED
    # clamd inflates the stored member itself; the LZMA one it skips, the clamav engine
    # streams apart within its own scan (test_clamav): neither is streamed again as a child
    assert _seen(scanner, "clamav") == [PACKED]
    assert _seen(scanner, "text") == [PACKED, b"EVIL order", b"notes"]  # other engines: all


def test_every_member_is_streamed_again_when_the_antivirus_finds_something(
    policy: Policy,
) -> None:
    scanner = make_scanner(policy, text=_unzip, clamav=_clamd_like)
    report = scanner.scan(PACKED, "orders.txt")
    assert _seen(scanner, "clamav") == [PACKED, b"EVIL order", b"notes"]
    assert report.reasons == ["EICAR test signature inside a.txt"]  # located, as before


def test_every_member_is_streamed_again_when_anything_rejects_the_parent(
    policy: Policy,
) -> None:
    def unzip_and_object(item: Item) -> Result:
        result = _unzip(item)
        if item.data == PACKED:
            result.findings.append(finding("text", FindingCode.OLE_OBJECT, "embedded object"))
        return result

    scanner = make_scanner(policy, text=unzip_and_object)
    report = scanner.scan(PACKED, "orders.txt")
    assert report.status is Status.REJECTED
    assert [f.code for f in report.findings] == [FindingCode.OLE_OBJECT]
    assert _seen(scanner, "clamav") == [PACKED, b"EVIL order", b"notes"]
