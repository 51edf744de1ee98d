"""formats.zipscan on zips hidden in other files whose records no zip tool writes (red team
104): end records whose counts or disk numbers say nothing zipfile, 7-Zip or Info-ZIP act on,
local headers that claim an unknown version or no name. Each is found as those readers find
it; random bytes and empty archives still hold none."""

from __future__ import annotations

import io
import random
import struct
import time
import zipfile
import zlib

import pytest

from attachguard.formats.zipscan import find_embedded_zip, zip_at_end

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(200)
JPEG += b"\xff\xd9"
HTA = b"<html><script>var shown = 'a page that would run';</script></html>"


def entries(
    members: list[tuple[bytes, bytes]], *, version: int = 20, named: bool = True
) -> tuple[bytes, bytes]:
    """Local entries (stored) and their directory, offsets from the first entry."""
    body, directory = b"", b""
    for name, data in members:
        crc, local_name = zlib.crc32(data), name if named else b""
        local = struct.pack(
            "<4s5H3L2H", b"PK\x03\x04", version, 0, 0, 0, 0x21, crc, len(data), len(data),
            len(local_name), 0,
        )  # fmt: skip
        directory += struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0x21, crc, len(data), len(data),
            len(name), 0, 0, 0, 0, 0, len(body),
        ) + name  # fmt: skip
        body += local + local_name + data
    return body, directory


def classic(
    members: list[tuple[bytes, bytes]],
    *,
    counts: tuple[int, int] | None = None,
    disks: tuple[int, int] = (0, 0),
    version: int = 20,
    named: bool = True,
) -> bytes:
    """A zip with a classic end record: ``counts`` (here, in all), ``disks`` as given."""
    body, directory = entries(members, version=version, named=named)
    here, total = counts or (len(members), len(members))
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", *disks, here, total, len(directory), len(body), 0)
    return body + directory + end


def zip64(members: list[tuple[bytes, bytes]], *, counts: tuple[int, int] | None = None) -> bytes:
    """A zip whose zip64 end record holds the counts (here, in all), the classic one saturated."""
    body, directory = entries(members, version=0xFF)
    here, total = counts or (len(members), len(members))
    record = len(body) + len(directory)
    return (
        body
        + directory
        + struct.pack(
            "<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, here, total, len(directory), len(body)
        )
        + struct.pack("<4sLQL", b"PK\x06\x07", 0, record, 1)
        + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 2**32 - 1, 2**32 - 1, 0)
    )


MEMBERS = [(b"invoice.hta", HTA)]
CLASSIC = {
    "here-0": {"counts": (0, 1)},
    "both-0": {"counts": (0, 0)},
    "here-2": {"counts": (2, 1)},
    "disks-1": {"disks": (1, 1)},
    "version-255": {"counts": (0, 1), "version": 0xFF},
    "no-local-name": {"counts": (0, 0), "named": False},
}


@pytest.mark.parametrize("odd", CLASSIC.values(), ids=CLASSIC.keys())
def test_an_end_record_is_found_whatever_its_counts_and_disks_say(odd: dict[str, object]) -> None:
    hidden = classic(MEMBERS, **odd)  # type: ignore[arg-type]
    data = JPEG + hidden
    # zipfile reads the directory by its size and offset: the counts and disks are not read
    assert zipfile.ZipFile(io.BytesIO(data)).namelist() == ["invoice.hta"]
    assert find_embedded_zip(data) == [(len(JPEG), len(data))]
    assert zip_at_end(data) == (len(JPEG), len(data))


@pytest.mark.parametrize("counts", [(0, 1), (0, 0), (1, 0)], ids=["here-0", "both-0", "total-0"])
def test_a_zip64_end_record_is_found_whatever_its_counts_say(counts: tuple[int, int]) -> None:
    hidden = zip64(MEMBERS, counts=counts)
    media = b"\0\0\0\x10mdat" + random.Random(3).randbytes(4096)
    data = media + hidden
    assert find_embedded_zip(data) == [(len(media), len(data))]
    assert zip_at_end(data) == (len(media), len(data))


@pytest.mark.parametrize(
    ("version", "named"), [(0xFF, True), (20, False)], ids=["version-255", "no-name"]
)
def test_local_entries_alone_are_found_whatever_version_they_claim(
    version: int, named: bool
) -> None:
    """7-Zip lists a run of local entries with no directory after it (an entry without a name
    under the archive's own name): no reader checks the version a local header claims."""
    body, _ = entries(MEMBERS, version=version, named=named)
    assert find_embedded_zip(JPEG + body + bytes(8)) == [(len(JPEG), len(JPEG) + len(body))]


def test_the_end_record_unzip_reads_is_one_in_the_last_64_kib() -> None:
    hidden = classic(MEMBERS, counts=(0, 0))
    span = (len(JPEG), len(JPEG) + len(hidden))
    assert zip_at_end(JPEG + hidden + bytes(100)) == span
    assert zip_at_end(JPEG + hidden + bytes(70_000)) is None  # readers search no further back
    assert find_embedded_zip(JPEG + hidden + bytes(70_000)) == [span]


def test_no_archive_where_the_directory_does_not_check_out() -> None:
    empty = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0, 0, 0, 0, 0)
    assert find_embedded_zip(JPEG + empty) == []  # an empty archive carries nothing
    assert zip_at_end(JPEG + empty) is None
    lying = struct.pack("<4s4H2LH", b"PK\x05\x06", 3, 3, 7, 9, 46, 0, 0)
    assert find_embedded_zip(JPEG + lying) == []  # no directory entry where it says
    noise = random.Random(104).randbytes(1 << 20)
    assert find_embedded_zip(noise) == []
    assert zip_at_end(noise) is None


def test_end_records_on_other_disks_stay_cheap() -> None:
    """Without the one-disk test that came first, each end record still costs one look."""
    flood = (b"PK\x05\x06\x01\x00\x01\x00" + bytes(4) + b"\x2e\x00\x00\x00" + bytes(6)) * 20_000
    began = time.perf_counter()
    assert find_embedded_zip(flood) == []
    assert zip_at_end(flood) is None
    assert time.perf_counter() - began < 10  # a guard against blow-ups, not a benchmark
