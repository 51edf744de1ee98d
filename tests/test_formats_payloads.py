"""formats.payloads: programs, archives, documents, scripts and markup inside metadata bytes."""

from __future__ import annotations

import io
import random
import struct
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from attachguard.formats.payloads import (
    Payload,
    Region,
    archives_anywhere,
    disc_image,
    find_payload,
    find_payloads,
)

CLAM_EXE = Path("/usr/share/clamav-testfiles/clam.exe")


def pe() -> bytes:
    """A DOS header pointing at a PE signature: every reader takes it for a Windows program."""
    dos = bytearray(64)
    dos[:2] = b"MZ"
    struct.pack_into("<I", dos, 0x3C, 64)
    return bytes(dos) + b"PE\0\0" + bytes(20)


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.txt", "hidden " * 40)
    return out.getvalue()


PREFIX = b"Exif\0\0II*\0" + bytes(50)  # a metadata identifier, then anything


@pytest.mark.parametrize(
    ("payload", "what"),
    [
        (pe(), "Windows program"),
        (b"\x7fELF\x02\x01\x01" + bytes(60), "Linux program"),
        (b"Rar!\x1a\x07\x01\x00", "RAR archive"),
        (b"7z\xbc\xaf\x27\x1c\x00\x04", "7-Zip archive"),
        (b"MSCF\0\0\0\0" + bytes(30), "cabinet archive"),
        (b"%PDF-1.7\n1 0 obj", "PDF document"),
        (b"<html><body>hi", "HTML or script markup"),
        (b"<SCRIPT src=x>", "HTML or script markup"),
        (b"<iframe/src=x>", "HTML or script markup"),
        (b"<!DOCTYPE html>", "HTML or script markup"),
        (b"{\\rtf1\\ansi{\\object}}", "RTF document"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
            "OLE compound file (Office 97-2003 document)",
        ),
        (b"<?php system($_GET[1]); ?>", "HTML or script markup"),
        # what mshta runs as it parses a picture as a page: no <script> or <html> needed
        (b'<hta:application windowstate="minimize"/>', "HTML or script markup"),
        (b'<img src="x" onerror="new ActiveXObject(1)">', "HTML or script markup"),
        (b"<frameset onload=run()>", "HTML or script markup"),
        (b"<IMG SRC=x\nOnError=run()>", "HTML or script markup"),
        (b"<svg/onload=run()>", "HTML or script markup"),
        # review 102: a ">" in a quoted value, long attributes, a long tag name
        (b'<img alt=">" src=x onerror=run()>', "HTML or script markup"),
        (b"<img " + b"title=x " * 100 + b"onerror=run()>", "HTML or script markup"),
        (b"<" + b"x" * 60 + b" onload=run()>", "HTML or script markup"),
    ],
)
def test_payloads_are_found_anywhere(payload: bytes, what: str) -> None:
    data = PREFIX + payload + b"rest"
    assert find_payload(data) == Payload(len(PREFIX), what)
    assert find_payload(data, len(PREFIX) + 1) is None or what == "HTML or script markup"


@pytest.mark.skipif(not CLAM_EXE.exists(), reason="clamav-testfiles not installed")
def test_a_real_program() -> None:
    assert find_payload(PREFIX + CLAM_EXE.read_bytes()) == Payload(len(PREFIX), "Windows program")


def test_look_alikes_are_not_payloads() -> None:
    xmp = (
        b'http://ns.adobe.com/xap/1.0/\0<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description photoshop:Headline='
        b'"My &lt;html&gt; page"/></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    )
    for benign in (
        xmp,
        b"MZ" + bytes(200),  # no PE header where e_lfanew points
        b"\x7fELF\x09\x09",  # no valid class
        b"%PDF-x",
        b"<htmlfoo>",
        b"a #!/bin/sh in the middle",
        b"\xff\xd8\xff\xe0 a thumbnail \x89PNG\r\n\x1a\n GIF89a",
        b'<svg width="10" height="10">',  # a tag, but no event handler
        b'<p class="x" data-onclick="run()">',  # no attribute named on...
        b'<rdf:Description ns:OnlineStatus="1" ns:Mode="on"/>',  # a prefixed name
        b"if a < b and then on the other=3",  # no tag
        b"<a href=x>link</a> onload=3",  # outside the tag
    ):
        assert find_payload(benign) is None, benign


def test_a_script_only_at_the_start() -> None:
    assert find_payload(b"#!/bin/sh\nid\n") == Payload(0, "script")
    assert find_payload(b"x#!/bin/sh\nid\n") is None
    assert find_payload(b"note #! /usr/bin/env python", 5) == Payload(5, "script")


def test_random_bytes_hold_nothing() -> None:
    data = random.Random(5).randbytes(4 << 20)
    assert find_payload(data) is None


def test_a_flood_of_fake_program_headers_is_reported_not_looped_over() -> None:
    data = (b"MZ" + bytes(62)) * 100_000  # e_lfanew 0: never a PE, 100,000 candidates
    started = time.perf_counter()
    found = find_payload(data)
    assert found is not None and found.what.startswith("possible Windows program")
    assert time.perf_counter() - started < 10
    assert find_payload((b"MZ" + bytes(62)) * 100) is None


def test_find_payloads_names_the_region() -> None:
    first, second = b"A" * 100 + pe() + b"B" * 100, b"C" * 8 + b"<script>x</script>"
    data = b"A" * 100 + first + b"\xff\xfe\x00\x20" + second  # as two JPEG segments
    regions = [
        Region(0, 100),
        Region(100, 100 + len(first)),
        Region(len(data) - len(second), len(data)),
    ]
    hits = find_payloads(data, regions)
    script = len(data) - len(second) + 8
    assert hits == {1: Payload(200, "Windows program"), 2: Payload(script, "HTML or script markup")}
    assert find_payloads(data, regions, limit=1) == {1: Payload(200, "Windows program")}


def test_find_payloads_zips_and_decoded_content() -> None:
    archive = zip_bytes()
    data = b"head" + archive + b"tail"
    assert find_payloads(data, [Region(4, 4 + len(archive))]) == {}
    assert find_payloads(data, [Region(4, 4 + len(archive))], zips=True) == {
        0: Payload(4, "ZIP archive")
    }
    decoded = [Region(50, 60, b"plain text"), Region(70, 80, b"x" + pe())]
    assert find_payloads(data, decoded) == {1: Payload(70, "Windows program")}


def test_many_tiny_regions_cost_one_search() -> None:
    data = bytes(800_000)
    regions = [Region(i, i + 2) for i in range(0, len(data), 4)]  # 200,000 two-byte regions
    started = time.perf_counter()
    assert find_payloads(data, regions) == {}
    assert time.perf_counter() - started < 20  # a loose bound: about 2 s on a loaded machine


# -- archives 7-Zip opens anywhere, found by headers that check out (red team 95) -------------


def seven_zip_header(good: bool = True) -> bytes:
    tail = struct.pack("<QQI", 1234, 56, 0xDEADBEEF)  # next header's offset, size, CRC
    crc = zlib.crc32(tail) ^ (0 if good else 1)
    return b"7z\xbc\xaf\x27\x1c\x00\x04" + struct.pack("<I", crc) + tail


def rar5_header(good: bool = True) -> bytes:
    header = bytes([6, 1, 0, 0, 0, 0, 0])  # its size (a vint), type 1 (main), flags...
    crc = zlib.crc32(header) ^ (0 if good else 1)
    return b"Rar!\x1a\x07\x01\x00" + struct.pack("<I", crc) + header


def rar4_header(good: bool = True) -> bytes:
    main = bytes([0x73]) + struct.pack("<HH", 0, 13) + bytes(6)
    crc = (zlib.crc32(main) & 0xFFFF) ^ (0 if good else 1)
    return b"Rar!\x1a\x07\x00" + struct.pack("<H", crc) + main


def cabinet_header(version: bytes = b"\x03\x01") -> bytes:
    """A cabinet's header: its size, its file list's place, a version, one folder, one file."""
    sizes = struct.pack("<IIII", 100, 0, 44, 0)
    return b"MSCF\0\0\0\0" + sizes + version + struct.pack("<HHHHH", 1, 1, 0, 0, 0)


@pytest.mark.parametrize(
    ("good", "bad", "what"),
    [
        (seven_zip_header(), seven_zip_header(False), "7-Zip archive"),
        (rar5_header(), rar5_header(False), "RAR archive"),
        (rar4_header(), rar4_header(False), "RAR archive"),
        (cabinet_header(b"\x02\x01"), cabinet_header(b"\x03\x02"), "cabinet archive"),
    ],
    ids=["7z", "rar5", "rar4", "cab"],
)
def test_archives_are_found_anywhere_by_headers_that_check_out(
    good: bytes, bad: bytes, what: str
) -> None:
    noise = random.Random(5).randbytes(50_000)
    assert archives_anywhere(noise[:20_000] + good + noise) == [Payload(20_000, what)]
    assert archives_anywhere(noise[:20_000] + bad + noise) == []


def test_a_signature_cut_by_the_end_and_decoys_before_a_real_archive() -> None:
    assert archives_anywhere(b"\x00" * 100 + b"Rar!\x1a\x07") == []  # no IndexError
    decoys = b"7z\xbc\xaf\x27\x1c\x00\x04" * 12_000  # fake signatures, then a real header
    assert archives_anywhere(decoys + seven_zip_header()) == [Payload(len(decoys), "7-Zip archive")]


# -- disc images laid over a file ------------------------------------------------------------
def volume_descriptor(identifier: bytes, kind: int = 1) -> bytes:
    return bytes([kind]) + identifier + b"\x01" + bytes(2041)


def udf_anchor(location: int = 256) -> bytes:
    tag = bytearray(struct.pack("<HHBBHHHI", 2, 2, 0, 0, 1, 0, 496, location))
    tag[4] = (sum(tag) - tag[4]) & 0xFF
    return bytes(tag) + bytes(496)


@pytest.mark.parametrize(
    ("at", "descriptor", "what"),
    [
        (0x8000, volume_descriptor(b"CD001"), "ISO 9660 disc image"),
        (0x8800, volume_descriptor(b"CD001", 0xFF), "ISO 9660 disc image"),  # after a boot record
        (0x8000, volume_descriptor(b"BEA01", 0), "UDF disc image"),
        (0x9000, volume_descriptor(b"NSR03", 0), "UDF disc image"),
        (256 * 2048, udf_anchor(), "UDF disc image"),
        (256 * 512, udf_anchor(), "UDF disc image"),
    ],
)
def test_a_disc_image_laid_over_a_file(at: int, descriptor: bytes, what: str) -> None:
    # 7-Zip opens a picture as a disc when "CD001" sits at 0x8001 (its Iso handler's
    # signature) or a UDF anchor at sector 256 (IsArc_Udf), whatever the extension
    picture = random.Random(3).randbytes(at + 4096)
    data = picture[:at] + descriptor + picture[at + len(descriptor) :]
    assert disc_image(data) == Payload(at, what)


def test_no_disc_image_without_its_descriptors_at_their_offsets() -> None:
    picture = random.Random(3).randbytes(600_000)
    assert disc_image(picture) is None
    assert disc_image(bytes(0x8000) + b"\x01CD00" + bytes(3000)) is None
    moved = bytes(0x8010) + volume_descriptor(b"CD001")  # not at a sector's start
    assert disc_image(moved) is None
    for anchor in (udf_anchor(257), udf_anchor()[:4] + b"\x00" + udf_anchor()[5:]):
        assert disc_image(bytes(256 * 2048) + anchor) is None  # wrong location, checksum


def _nsis(flags: int, header: int, archive: int) -> bytes:
    return (
        struct.pack("<I", flags)
        + b"\xef\xbe\xad\xdeNullsoftInst"
        + struct.pack("<II", header, archive)
    )


@pytest.mark.parametrize(
    ("block", "found"),
    [(_nsis(0, 3884, 692), True), (_nsis(0x1F, 3884, 692), False), (_nsis(0, 0, 692), False),
     (_nsis(0, 3884, 0), False)],
    ids=["installer", "flags-out-of-range", "no-header", "no-data"],
)  # fmt: skip
def test_an_nsis_installer_block_anywhere(block: bytes, found: bool) -> None:
    """7-Zip lists and extracts the program an NSIS block holds inside a picture or a
    recording (red team 109)."""
    data = bytes(range(256)) * 4 + block + bytes(600)
    hits = [p.what for p in archives_anywhere(data)]
    assert (hits == ["NSIS installer"]) is found
