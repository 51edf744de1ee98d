"""Malware engine: ClamAV signatures in every item, through a warm clamd (zINSTREAM).

Finds whatever the loaded signatures find, in the item and in everything clamd itself unpacks
from it (archives, mail, Office and PDF streams, packed executables). Reports:

- MALWARE for a signature or heuristic match (the EICAR test file as "EICAR test signature");
- AV_LIMIT when clamd stopped at one of its limits (``Heuristics.Limits.Exceeded.*``, which
  ``AlertExceedsMax`` turns on) or refused a stream longer than ``StreamMaxLength``;
- ENCRYPTED for ``Heuristics.Encrypted.*`` (needs ``AlertEncrypted``). clamd also says so of
  some PDFs that open without a password (it misreads their /Encrypt); another engine that opened
  the item hands it on decrypted (`attachguard.codes.DECRYPTED`), and the pipeline then drops
  this finding: the decrypted copy is streamed here too.

clamd unreachable (after one retry) or answering ERROR raises `ClamdError`, which the pipeline
turns into ENGINE_ERROR: a failed scan is never reported clean.

Zip members clamd inflates itself are not streamed again when their parent was clean
(`attachguard.clamav.reach`) — only from a clamd shown to alert when it stops at a limit
(``AlertExceedsMax yes``, as attachguard's own clamd.conf sets it). Without that setting (the
Debian default) clamd silently stops unpacking past ``MaxScanSize`` and answers OK for the
whole archive, so a clean parent proves nothing about its members and each is streamed. Which
kind of clamd it is, a probe tells once (`ClamAVEngine.alerts_on_limits`): a zip nested past
any ``MaxRecursion`` a clamd is configured with.

The other way round, what of a zip clamd does not read as unzip does — a member behind a local
header it skips (flag bit 13, zip64 sizes), in a method it lacks, or large enough that its
``MaxFileSize`` may cut it short — this engine streams apart when the zip comes back clean
(`reach.members_clamd_skips`; an Office package's XML parts are no children any other engine
hands on): a match is MALWARE at the member, more than ``limits.max_expanded_bytes`` inflated
is AV_LIMIT.
"""

from __future__ import annotations

import dataclasses
import io
import threading
import zipfile

from attachguard.clamav.client import ClamdClient, ClamdError, ClamdSizeLimitError
from attachguard.clamav.reach import members_clamd_skips, zip_members_clamd_reads
from attachguard.codes import ENCRYPTED, MALWARE, Action, declare
from attachguard.engines.base import (
    Child,
    Context,
    EngineSpec,
    Item,
    Options,
    Resources,
    Result,
    finding,
)
from attachguard.report import Finding

AV_LIMIT = declare(
    "AV_LIMIT",
    "unscannable",
    Action.REJECT,
    "antivirus stopped at one of its own limits",
    "We couldn't fully check this file, so it wasn't shared.",
)

_LIMITS = {
    "MaxFileSize": "a part is larger than the antivirus scans",
    "MaxScanSize": "more content than the antivirus scans in one file",
    "MaxRecursion": "containers nested deeper than the antivirus unpacks",
    "MaxFiles": "more files inside than the antivirus unpacks",
    "MaxScanTime": "the antivirus ran out of time",
}

_ENCRYPTED = {
    "Zip": "encrypted ZIP archive",
    "RAR": "encrypted RAR archive",
    "7Zip": "encrypted 7-Zip archive",
    "PDF": "encrypted PDF",
    "EGG": "encrypted EGG archive",
}


def describe_version(answer: str) -> str:
    """``ClamAV 1.4.6/27470/Tue Nov 24 09:30:00 2026`` → ``ClamAV 1.4.6, signatures 27470
    (Tue Nov 24 09:30:00 2026)``; without a database version clamd has no official
    signatures loaded, and the text says so."""
    engine, _, rest = answer.partition("/")
    number, _, date = rest.partition("/")
    if not number:
        return f"{engine} (no official signatures loaded)"
    return f"{engine}, signatures {number}" + (f" ({date})" if date else "")


def _finding(name: str, signature: str, member: str | None = None) -> Finding:
    """The finding for clamd's answer; ``member``: the zip member streamed apart it was in."""
    return dataclasses.replace(_described(name, signature), location=member)


def _described(name: str, signature: str) -> Finding:
    if signature.startswith("Heuristics.Limits.Exceeded"):
        reason = _LIMITS.get(signature.rsplit(".", 1)[-1], "the antivirus stopped at a limit")
        return finding(name, AV_LIMIT, f"not fully scanned: {reason}", label=signature)
    if signature.startswith("Heuristics.Encrypted"):
        what = _ENCRYPTED.get(signature.rsplit(".", 1)[-1], "encrypted content")
        message = f"{what}: the antivirus cannot look inside"
        return finding(name, ENCRYPTED, message, label=signature)
    if "eicar" in signature.lower():
        message = "EICAR test signature"
    elif signature.startswith("Heuristics."):
        message = f"suspicious content flagged by the antivirus ({signature})"
    else:
        message = f"malware signature {signature}"
    return finding(name, MALWARE, message, label=signature)


_PROBE_DEPTH = 80  # past any MaxRecursion in use (default 17, attachguard's 16)


def _nested_zip(depth: int) -> bytes:
    data = b"attachguard probe: is a limit reported?\n"
    for level in range(depth):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr(f"level{level}.zip" if level else "note.txt", data)
        data = out.getvalue()
    return data


class ClamAVEngine:
    """Scans every item with clamd. Options live in clamd.conf; ``client`` bounds concurrency."""

    name = "clamav"

    def __init__(self, client: ClamdClient) -> None:
        self.client = client
        self._alerts: bool | None = None
        self._probe_lock = threading.Lock()

    def alerts_on_limits(self) -> bool:
        """Whether clamd reports a limit it stopped at (``AlertExceedsMax``), from its answer to
        a zip nested deeper than it unpacks; asked once. False when it answers clean, or cannot
        be asked (then asked again next time)."""
        with self._probe_lock:
            if self._alerts is None:
                try:
                    answer = self.client.instream(_nested_zip(_PROBE_DEPTH))
                except (ClamdError, ClamdSizeLimitError, OSError):
                    return False
                signature = answer.signature or ""
                self._alerts = signature.startswith("Heuristics.Limits.Exceeded")
            return self._alerts

    def version(self) -> str:
        return describe_version(self.client.version())

    def scan(self, item: Item, context: Context) -> Result:
        try:
            answer = self.client.instream(item.data)
        except ClamdSizeLimitError:
            message = "not scanned: larger than the antivirus accepts (clamd StreamMaxLength)"
            return Result([finding(self.name, AV_LIMIT, message)])
        if answer.signature is not None:
            return Result([_finding(self.name, answer.signature)])
        return self._skipped(item, context)

    def _skipped(self, item: Item, context: Context) -> Result:
        """The members of a zip item clamd did not read as unzip does (`reach`: behind a
        local header it skips, in a method it lacks, or larger than it reads in full), each
        streamed apart; the first match is the finding, naming the member."""
        most = context.limits.max_expanded_bytes
        for name, data in members_clamd_skips(item.data, most):
            if data is None:
                message = f"not fully scanned: members inflate past {most:,} bytes"
                return Result([finding(self.name, AV_LIMIT, message, location=name)])
            if not data:
                continue  # nothing inflated (a method no one here reads: the zip engine says)
            try:
                answer = self.client.instream(data)
            except ClamdSizeLimitError:
                message = "not scanned: larger than the antivirus accepts (clamd StreamMaxLength)"
                return Result([finding(self.name, AV_LIMIT, message, location=name)])
            if answer.signature is not None:
                return Result([_finding(self.name, answer.signature, name)])
        return Result()


def _reaches(engine: object, parent: Item, children: list[Child]) -> frozenset[Child]:
    """The zip members clamd read itself inside a clean ``parent`` (`clamav.reach`), when this
    clamd is one that reports its limits; none otherwise."""
    alerts = getattr(engine, "alerts_on_limits", None)  # a ClamAVEngine, or a stand-in's
    if alerts is None or not alerts():
        return frozenset()
    return zip_members_clamd_reads(parent, children)


def _build(options: Options, resources: Resources) -> ClamAVEngine | None:
    return None if resources.clamd is None else ClamAVEngine(resources.clamd)


ENGINE = EngineSpec(
    name="clamav",
    summary="ClamAV signatures in every item, through a warm clamd (INSTREAM)",
    types=("*",),
    codes=(MALWARE, AV_LIMIT, ENCRYPTED),
    build=_build,
    options=Options,
    order=10,
    reaches=_reaches,
)
