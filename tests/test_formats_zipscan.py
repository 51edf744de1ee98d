"""formats.zipscan: zips built with zipfile and Info-ZIP (benign), then bent by hand (hostile)."""

from __future__ import annotations

import io
import random
import shutil
import struct
import subprocess
import time
import unicodedata
import warnings
import zipfile
import zlib
from pathlib import Path

import pytest

from attachguard.formats.zipscan import (
    ProblemKind,
    ZipLayout,
    ZipProblem,
    find_embedded_zip,
    inspect_zip,
    zip_at_end,
)

K = ProblemKind
XML = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
OFFICE = {
    "[Content_Types].xml": XML + b'<Types xmlns="http://schemas.openxmlformats.org/package/'
    b'2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>',
    "_rels/.rels": XML + b'<Relationships xmlns="http://schemas.openxmlformats.org/package/'
    b'2006/relationships"><Relationship Id="rId1" Target="word/document.xml"/></Relationships>',
    "word/document.xml": XML + b"<w:document><w:body><w:p/></w:body></w:document>" * 20,
}
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(200)
JPEG += b"\xff\xd9"


# -- building zips -----------------------------------------------------------------------------
def build(
    members: dict[str, bytes] | list[tuple[str, bytes]],
    method: int = zipfile.ZIP_DEFLATED,
    comment: bytes = b"",
) -> bytes:
    out = io.BytesIO()
    items = members.items() if isinstance(members, dict) else members
    with zipfile.ZipFile(out, "w", method) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        for name, data in items:
            archive.writestr(name, data)
        archive.comment = comment
    return out.getvalue()


class Unseekable:
    """A write-only stream: zipfile then streams, with data descriptors after each member."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def write(self, data: bytes) -> int:
        self.buffer += data
        return len(data)

    def tell(self) -> int:
        return len(self.buffer)

    def flush(self) -> None:
        pass


def streamed(members: dict[str, bytes], force_zip64: bool = False) -> bytes:
    out = Unseekable()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:  # type: ignore[call-overload]
        for name, data in members.items():
            with archive.open(name, "w", force_zip64=force_zip64) as member:
                member.write(data)
    return bytes(out.buffer)


def local_header(
    name: bytes, data: bytes, *, flags: int = 0, crc: int | None = None, size: int | None = None
) -> bytes:
    crc = zlib.crc32(data) if crc is None else crc
    size = len(data) if size is None else size
    fixed = (b"PK\x03\x04", 20, flags, 0, 0, 0x21, crc, size, size, len(name), 0)
    return struct.pack("<4s5H3L2H", *fixed) + name


def central_header(name: bytes, data: bytes, offset: int, *, flags: int = 0) -> bytes:
    fixed = (b"PK\x01\x02", 20, 20, flags, 0, 0, 0x21, zlib.crc32(data), len(data), len(data),
             len(name), 0, 0, 0, 0, 0, offset)  # fmt: skip
    return struct.pack("<4s6H3L5H2L", *fixed) + name


def end_record(count: int, size: int, offset: int, comment: bytes = b"") -> bytes:
    fixed = (b"PK\x05\x06", 0, 0, count, count, size, offset, len(comment))
    return struct.pack("<4s4H2LH", *fixed) + comment


def assemble(
    *pieces: bytes | tuple[bytes, bytes],
    hide: tuple[bytes, ...] = (),
    extra: tuple[tuple[bytes, bytes, int], ...] = (),
    comment: bytes = b"",
) -> bytes:
    """Stored members (name, data) and raw bytes in file order; the directory lists every member
    but those in ``hide``, then each (name, data, offset) of ``extra``."""
    body, directory, count = b"", b"", 0
    for piece in pieces:
        if isinstance(piece, bytes):
            body += piece
            continue
        name, data = piece
        if name not in hide:
            directory += central_header(name, data, len(body))
            count += 1
        body += local_header(name, data) + data
    for name, data, offset in extra:
        directory += central_header(name, data, offset)
        count += 1
    return body + directory + end_record(count, len(directory), len(body), comment)


def to_zip64_end(data: bytes) -> bytes:
    """The archive with its end record replaced by zip64 records and a saturated classic one,
    as writers do for archives past 65,535 members or 4 GiB."""
    at = data.rindex(b"PK\x05\x06")
    _, _, _, _, count, size, offset, _ = struct.unpack_from("<4s4H2LH", data, at)
    record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, size, offset)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, offset + size, 1)  # archive-relative
    classic = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, size, 0xFFFFFFFF, 0)
    return data[:at] + record + locator + classic


def patch(data: bytes, signature: bytes, index: int, field: int, value: bytes) -> bytes:
    """Overwrite bytes at ``field`` in the ``index``-th record starting with ``signature``."""
    at = -1
    for _ in range(index + 1):
        at = data.index(signature, at + 1)
    return data[: at + field] + value + data[at + field + len(value) :]


def remove_entry(data: bytes, name: bytes) -> bytes:
    """The archive with ``name``'s directory entry cut out (its local entry stays)."""
    at = data.index(b"PK\x01\x02")
    while data[at + 46 : at + 46 + len(name)] != name:
        at = data.index(b"PK\x01\x02", at + 4)
    length = 46 + sum(struct.unpack_from("<3H", data, at + 28))
    out = data[:at] + data[at + length :]
    end = out.rindex(b"PK\x05\x06")
    _, _, _, here, count, size, offset, comment = struct.unpack_from("<4s4H2LH", out, end)
    fixed = (b"PK\x05\x06", 0, 0, here - 1, count - 1, size - length, offset, comment)
    return out[:end] + struct.pack("<4s4H2LH", *fixed) + out[end + 22 :]


def inspect(data: bytes, max_members: int = 1000, max_expanded: int = 10**9) -> ZipLayout:
    return inspect_zip(data, max_members=max_members, max_expanded=max_expanded)


def problems(data: bytes, **limits: int) -> list[ZipProblem]:
    return inspect(data, **limits).problems


def only(data: bytes, kind: ProblemKind, **limits: int) -> list[ZipProblem]:
    found = problems(data, **limits)
    assert found, "expected a problem"
    assert {p.kind for p in found} == {kind}, found
    return found


def kinds(data: bytes, **limits: int) -> set[ProblemKind]:
    return {p.kind for p in problems(data, **limits)}


PLAIN = build({"a.txt": b"alpha " * 50, "b.txt": b"beta " * 50, "c.txt": b"gamma"})


# -- benign shapes -----------------------------------------------------------------------------
@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_zipfile_archive_is_clean_and_members_match_zipfile(method: int) -> None:
    data = build({"a.txt": b"hello " * 100, "dir/b.bin": bytes(range(256))}, method)
    layout = inspect(data)
    assert layout.problems == []
    infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    assert [m.name for m in layout.members] == [i.filename for i in infos]
    for member, info in zip(layout.members, infos, strict=True):
        assert (member.header_offset, member.crc, member.method) == (
            info.header_offset,
            info.CRC,
            info.compress_type,
        )
        assert (member.compressed_size, member.uncompressed_size) == (
            info.compress_size,
            info.file_size,
        )
        assert member.data is not None
        start, end = member.data
        stored = zipfile.ZipFile(io.BytesIO(data)).read(info)
        assert method != zipfile.ZIP_STORED or data[start:end] == stored


def test_office_package_is_clean() -> None:
    assert problems(build(OFFICE)) == []


def test_comment_directories_and_empty_archives_are_clean() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.mkdir("folder")
        archive.mkdir("folder/inner")
        archive.writestr("folder/inner/x.txt", b"x")
        archive.comment = b"made by a tool; PK is fine here"
    assert problems(out.getvalue()) == []
    assert problems(build({})) == []
    assert inspect(build({}, comment=b"only a comment")).members == []


def test_data_descriptors_are_not_gaps() -> None:
    data = streamed(OFFICE)
    assert all(m.flags & 0x8 for m in inspect(data).members)
    assert data.count(b"PK\x07\x08") == len(OFFICE)
    assert problems(data) == []


def test_zip64_data_descriptors_are_not_gaps() -> None:
    data = streamed({"a.txt": b"a" * 100, "b.txt": b""}, force_zip64=True)
    assert problems(data) == []


def test_descriptor_without_signature_is_not_a_gap() -> None:
    payload = b"streamed by an old writer"
    descriptor = struct.pack("<3L", zlib.crc32(payload), len(payload), len(payload))
    entry = local_header(b"a.txt", payload, flags=0x8, crc=0, size=0) + payload + descriptor
    directory = central_header(b"a.txt", payload, 0, flags=0x8)
    assert problems(entry + directory + end_record(1, len(directory), len(entry))) == []


def test_descriptor_that_disagrees_is_a_gap() -> None:
    payload = b"streamed"
    wrong = b"PK\x07\x08" + struct.pack("<3L", 1, len(payload), len(payload))
    entry = local_header(b"a.txt", payload, flags=0x8, crc=0, size=0) + payload + wrong
    directory = central_header(b"a.txt", payload, 0, flags=0x8)
    found = only(entry + directory + end_record(1, len(directory), len(entry)), K.GAP_DATA)
    assert found[0].location == f"offset {len(entry) - len(wrong)}"


def test_zip64_local_headers_are_clean() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in OFFICE.items():
            with archive.open(name, "w", force_zip64=True) as member:
                member.write(data)
    data = out.getvalue()
    assert b"\xff\xff\xff\xff" in data[:64]  # the local header defers to its zip64 field
    assert problems(data) == []


def test_zip64_end_record_is_read() -> None:
    data = to_zip64_end(build(OFFICE))
    assert len(zipfile.ZipFile(io.BytesIO(data)).infolist()) == 3  # zipfile agrees
    layout = inspect(data)
    assert layout.problems == []
    assert [m.name for m in layout.members] == list(OFFICE)
    moved = to_zip64_end(b"MZ stub" + build(OFFICE))
    assert [p.kind for p in problems(moved)] == [K.PREPENDED_DATA]


@pytest.mark.skipif(shutil.which("zip") is None, reason="Info-ZIP zip is not installed")
def test_info_zip_archives_are_clean(tmp_path: Path) -> None:
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "a.txt").write_bytes(b"hello\n" * 30)
    (tmp_path / "d" / "sub" / "b.bin").write_bytes(bytes(range(256)) * 4)

    def run(*args: str, stdin: bytes | None = None) -> bytes:
        done = subprocess.run(
            ["zip", "-q", *args], cwd=tmp_path, input=stdin, capture_output=True, check=True
        )
        return done.stdout

    run("-r", "plain.zip", "d")
    run("-r", "-fz", "zip64.zip", "d")  # zip64 end records and extra fields
    run("-r", "-z", "comment.zip", "d", stdin=b"an archive comment\n.\n")
    shapes = {name: (tmp_path / name).read_bytes() for name in ("plain.zip", "zip64.zip")}
    shapes["comment.zip"] = (tmp_path / "comment.zip").read_bytes()
    shapes["piped"] = run("-r", "-", "d")  # to a pipe: data descriptors
    shapes["stdin"] = run("-", "-", stdin=b"from standard input\n")  # zip64 descriptors
    for name, data in shapes.items():
        assert problems(data) == [], name
        assert inspect(data).members, name


# -- duplicate names ---------------------------------------------------------------------------
def test_exact_duplicate_name() -> None:
    data = build([("word/document.xml", b"<a/>"), ("word/document.xml", b"<b/>")])
    found = only(data, K.DUPLICATE_NAME)
    assert found[0].message == "two members are both named word/document.xml"
    assert found[0].location == "word/document.xml"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("word/document.xml", "Word/DOCUMENT.xml"),
        ("[Content_Types].xml", "[content_types].XML"),
        ("docs/caf\u00e9.txt", unicodedata.normalize("NFD", "docs/caf\u00e9.txt")),
        ("word/document.xml", "word/%64ocument.xml"),
    ],
)
def test_names_one_file_to_windows_and_office(first: str, second: str) -> None:
    found = only(build([(first, b"1"), (second, b"2")]), K.DUPLICATE_NAME)
    assert "letter case" in found[0].message
    assert found[0].location == second


def test_slash_direction_duplicate_is_also_unsafe() -> None:
    found = problems(assemble((b"a/b.txt", b"1"), (b"a\\b.txt", b"2")))
    assert {p.kind for p in found} == {K.DUPLICATE_NAME, K.UNSAFE_NAME}


def test_similar_but_distinct_names_are_not_duplicates() -> None:
    members = {"a.txt": b"1", "a.txt.bak": b"2", "doc/": b"", "doc/x": b"3", "A-b.txt": b"4"}
    assert problems(build(members)) == []


def test_repeated_problems_are_capped() -> None:
    found = problems(build([("same.txt", b"x")] * 30))
    assert len(found) == 11
    assert found[-1].message == "more problems like these were left out"
    assert {p.kind for p in found} == {K.DUPLICATE_NAME}


# -- overlaps ----------------------------------------------------------------------------------
def test_member_hiding_inside_another() -> None:
    inner = local_header(b"inner.exe", b"MZ payload") + b"MZ payload"
    outer = local_header(b"outer.txt", inner) + inner
    inner_at = len(local_header(b"outer.txt", inner))
    directory = central_header(b"outer.txt", inner, 0)
    directory += central_header(b"inner.exe", b"MZ payload", inner_at)
    data = outer + directory + end_record(2, len(directory), len(outer))
    found = only(data, K.OVERLAP)
    assert found[0].location == "inner.exe"
    assert "outer.txt" in found[0].message


def test_two_entries_share_one_local_header() -> None:
    data = assemble((b"a.txt", b"same"), extra=((b"a.txt", b"same", 0),))
    assert kinds(data) == {K.OVERLAP, K.DUPLICATE_NAME}


def test_member_running_into_the_directory() -> None:
    data = bytearray(assemble((b"a.txt", b"12345678")))
    central = data.index(b"PK\x01\x02")
    data[central + 20 : central + 28] = struct.pack("<2L", 20, 20)  # declared 20 bytes, not 8
    assert K.OVERLAP in kinds(bytes(data))


def test_stored_zip_inside_a_zip_is_clean() -> None:
    data = build({"inner.zip": PLAIN, "readme.txt": b"see inner.zip"}, zipfile.ZIP_STORED)
    assert problems(data) == []
    assert len(inspect(data).members) == 2


# -- local entries missing from the directory --------------------------------------------------
def test_local_entry_left_out_of_the_directory() -> None:
    full = build({"a.txt": b"alpha", "hidden.exe": b"MZ" * 40, "b.txt": b"beta"})
    data = remove_entry(full, b"hidden.exe")
    assert [i.filename for i in zipfile.ZipFile(io.BytesIO(data)).infolist()] == ["a.txt", "b.txt"]
    found = problems(data)
    assert {p.kind for p in found} == {K.ORPHAN_LOCAL, K.GAP_DATA}
    orphan = next(p for p in found if p.kind is K.ORPHAN_LOCAL)
    assert "hidden.exe" in orphan.message
    hidden_at = full.index(b"PK\x03\x04", 1)
    assert orphan.location == f"offset {hidden_at}"


def test_local_entry_in_the_comment() -> None:
    hidden = local_header(b"run.bat", b"calc") + b"calc"
    data = assemble((b"a.txt", b"alpha"), comment=hidden)
    found = only(data, K.ORPHAN_LOCAL)
    assert "run.bat" in found[0].message


def test_comment_with_a_signature_but_no_entry_is_clean() -> None:
    data = assemble((b"a.txt", b"alpha"), comment=b"see PK\x03\x04\x00\x00\xff\xff not a header")
    assert problems(data) == []


# -- gaps --------------------------------------------------------------------------------------
def test_bytes_between_members() -> None:
    data = assemble((b"a.txt", b"alpha"), b"\x00smuggled\x00", (b"b.txt", b"beta"))
    found = only(data, K.GAP_DATA)
    assert found[0].message == "10 bytes of unexplained data between a.txt and b.txt"
    smuggled_at = data.index(b"\x00smuggled")
    assert found[0].location == f"offset {smuggled_at}"


def test_bytes_before_the_directory() -> None:
    data = assemble((b"a.txt", b"alpha"), b"tail junk")
    found = only(data, K.GAP_DATA)
    assert "between the last member and the central directory" in found[0].message


# -- unsafe names ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "why"),
    [
        (b"../evil.exe", "climbs out"),
        (b"docs/../../evil.exe", "climbs out"),
        (b"/etc/cron.d/job", "absolute path"),
        (b"C:evil.exe", "absolute path"),
        (b"\\\\server\\share\\x", "absolute path"),
        (b"report.pdf\x00.exe", "control character"),
        (b"line\nbreak.txt", "control character"),
        (b"dir\\file.txt", "backslashes"),
    ],
)
def test_unsafe_names(name: bytes, why: str) -> None:
    found = [p for p in problems(assemble((name, b"x"))) if p.kind is K.UNSAFE_NAME]
    assert any(why in p.message for p in found), found
    assert found[0].location == name.decode()


def test_safe_names_that_look_odd() -> None:
    names = [b"..hidden", b"a..b/c..d.txt", b"dir/.../x", b"dir/", b"caf\xc3\xa9 menu.txt"]
    assert problems(assemble(*((name, b"x") for name in names))) == []


# -- local header against the directory --------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "value", "what"),
    [
        (30, b"b.txt", "name"),
        (8, b"\x08\x00", "compression method"),
        (14, b"\x00\x00\x00\x00", "CRC"),
        (18, b"\x01\x00\x00\x00", "packed size"),
        (22, b"\x01\x00\x00\x00", "size"),
        (6, b"\x01\x00", "encryption"),
    ],
)
def test_local_header_disagrees(field: int, value: bytes, what: str) -> None:
    data = patch(build({"a.txt": b"alpha"}, zipfile.ZIP_STORED), b"PK\x03\x04", 0, field, value)
    found = only(data, K.HEADER_MISMATCH)
    assert found[0].message.endswith(f"about its {what}: unzip tools may extract different content")
    assert found[0].location == "a.txt"


def test_descriptor_flag_in_the_directory_only_does_not_excuse_the_local_sizes() -> None:
    """A stored member whose local header (no descriptor flag) covers only its first bytes,
    the directory (flag set) the rest too: a streaming reader such as Java's ZipInputStream
    takes the local size and finds a second entry hidden in the member's data."""
    hidden = local_header(b"../Startup/update.bat", b"echo x") + b"echo x"
    payload = b"<p:sld/>"
    whole = payload + hidden
    entry = local_header(b"ppt/slide1.xml", payload, crc=zlib.crc32(whole)) + whole
    directory = central_header(b"ppt/slide1.xml", whole, 0, flags=0x8)
    found = only(entry + directory + end_record(1, len(directory), len(entry)), K.HEADER_MISMATCH)
    assert "packed size, size" in found[0].message
    assert found[0].location == "ppt/slide1.xml"


def test_descriptor_flag_in_the_local_header_only_keeps_zero_sizes_clean() -> None:
    payload = b"streamed by a writer that set the flag in its local header"
    descriptor = b"PK\x07\x08" + struct.pack("<3L", zlib.crc32(payload), len(payload), len(payload))
    entry = local_header(b"a.txt", payload, flags=0x8, crc=0, size=0) + payload + descriptor
    directory = central_header(b"a.txt", payload, 0)
    assert problems(entry + directory + end_record(1, len(directory), len(entry))) == []


def test_local_zip64_sizes_that_disagree() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive, archive.open("a.txt", "w", force_zip64=True) as f:
        f.write(b"alpha")
    data = out.getvalue()
    field = data.index(b"\x01\x00\x10\x00") + 4  # the local zip64 field: size, packed size
    data = data[:field] + struct.pack("<Q", 999) + data[field + 8 :]
    assert "size" in only(data, K.HEADER_MISMATCH)[0].message


# -- before and after the archive --------------------------------------------------------------
def test_prepended_data_with_offsets_from_the_archive_start() -> None:
    data = b"MZ\x90\x00 self-extractor stub" + PLAIN
    found = only(data, K.PREPENDED_DATA)
    assert found[0].location == "offset 0"
    assert found[0].message.startswith("24 bytes before the archive begins")
    assert inspect(data).members[0].header_offset == 24


def test_prepended_data_with_offsets_from_the_file_start() -> None:
    out = io.BytesIO(JPEG)
    with zipfile.ZipFile(out, "a") as archive:  # appends, with absolute offsets
        archive.writestr("x.txt", b"payload")
    data = out.getvalue()
    assert struct.unpack_from("<L", data, data.index(b"PK\x05\x06") + 16)[0] > len(JPEG)
    only(data, K.PREPENDED_DATA)


def test_trailing_data() -> None:
    found = only(PLAIN + b"appended", K.TRAILING_DATA)
    assert found[0].location == f"offset {len(PLAIN)}"
    assert found[0].message == "8 bytes after the end of the archive"


@pytest.mark.parametrize("tail", [b"\n", b"\r\n", b"\r\n\0 \t"])
def test_a_line_break_after_the_end_record_is_no_trailing_data(tail: bytes) -> None:
    # precision 90: files that went through a text transfer (POI's stress005.docx)
    assert problems(PLAIN + tail) == []


@pytest.mark.parametrize("tail", [b"\nx", b"\n" * 17, b"\n<script>"])
def test_anything_more_after_the_end_record_is_trailing_data(tail: bytes) -> None:
    assert K.TRAILING_DATA in kinds(PLAIN + tail)


def test_declared_comment_is_not_trailing_data() -> None:
    assert problems(build(OFFICE, comment=b"x" * 1000)) == []


# -- end records -------------------------------------------------------------------------------
def test_second_archive_in_the_comment() -> None:
    first = build({"invoice.pdf": b"%PDF-1.7 harmless"})
    second = build({"invoice.pdf": b"MZ evil"})
    data = first[:-2] + struct.pack("<H", len(second)) + second  # second is first's comment
    layout = inspect(data)
    assert zipfile.ZipFile(io.BytesIO(data)).read("invoice.pdf") == b"MZ evil"
    assert {p.kind for p in layout.problems} >= {K.MULTIPLE_END_RECORDS, K.PREPENDED_DATA}
    first_end = first.rindex(b"PK\x05\x06")
    end = next(p for p in layout.problems if p.kind is K.MULTIPLE_END_RECORDS)
    assert end.location == f"offset {first_end}"


def test_two_archives_concatenated() -> None:
    first = build({"a.txt": b"first"})
    found = kinds(first + PLAIN)
    assert found == {K.MULTIPLE_END_RECORDS, K.PREPENDED_DATA, K.ORPHAN_LOCAL}


def test_zip64_and_classic_end_records_disagree() -> None:
    data = to_zip64_end(PLAIN)
    at = data.rindex(b"PK\x05\x06")
    data = data[: at + 8] + struct.pack("<2H", 2, 2) + data[at + 12 :]  # classic says 2
    assert [p.kind for p in problems(data)] == [K.MULTIPLE_END_RECORDS]


# -- limits ------------------------------------------------------------------------------------
def test_declared_expansion_over_the_limit() -> None:
    data = build({"a.txt": b"a" * 600, "b.txt": b"b" * 400})
    found = only(data, K.EXPANSION, max_expanded=999)
    assert found[0].message == "archive declares 1,000 unpacked bytes, over the 999 byte limit"
    assert problems(data, max_expanded=1000) == []


def test_member_count_over_the_limit() -> None:
    data = build({f"{n}.txt": b"x" for n in range(5)})
    assert only(data, K.MEMBERS, max_members=4)[0].message == (
        "archive holds 5 members, more than 4"
    )
    assert problems(data, max_members=5) == []


def test_count_is_checked_before_the_directory_is_read() -> None:
    huge = end_record(0, 0, 0)[:8] + struct.pack("<2H2LH", 60000, 60000, 46 * 60000, 0, 0)
    layout = inspect(b"\x00" * 100 + huge, max_members=100)
    assert layout.members == []
    assert [p.kind for p in layout.problems] == [K.MEMBERS]  # not CORRUPT: never read
    wide = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, 10**12, 10**12, 0, 0)
    wide += struct.pack("<4sLQL", b"PK\x06\x07", 0, 0, 1)
    wide += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0, 0xFFFFFFFF, 0)
    assert [p.kind for p in problems(wide, max_members=100)] == [K.MEMBERS]


def test_directory_longer_than_its_count() -> None:
    data = bytearray(build({f"{n}.txt": b"x" for n in range(8)}))
    end = data.rindex(b"PK\x05\x06")
    data[end + 8 : end + 12] = struct.pack("<2H", 2, 2)
    assert [p.kind for p in problems(bytes(data), max_members=5)] == [K.MEMBERS]


# -- damage ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"just some text", "no end-of-archive record"),
        (PLAIN[:-4], "cut short"),
        (PLAIN[:-2] + b"\x10\x00", "comment runs past the end"),
        (PLAIN[:-6] + b"\xff\xff\x00\x00\x00\x00", "not where the end record says"),
        (patch(PLAIN, b"PK\x05\x06", 0, 8, b"\x02\x00\x02\x00"), "announces 2 members"),
        (patch(PLAIN, b"PK\x05\x06", 0, 4, b"\x01\x00"), "several disks"),
        (patch(PLAIN, b"PK\x01\x02", 0, 0, b"XX"), "damaged central directory"),
        (patch(PLAIN, b"PK\x01\x02", 0, 6, b"\x40"), "needs zip version 6.4"),
    ],
)
def test_damaged_archive_structure(data: bytes, message: str) -> None:
    found = problems(data)
    assert [p.kind for p in found] == [K.CORRUPT], found
    assert message in found[0].message


def test_missing_local_header_and_overlong_member() -> None:
    data = patch(PLAIN, b"PK\x01\x02", 1, 42, struct.pack("<L", 7))  # b.txt points at junk
    found = [p for p in problems(data) if p.kind is K.CORRUPT]
    assert [(p.location, p.message) for p in found] == [
        ("b.txt", "b.txt has no local header at offset 7")
    ]
    data = patch(PLAIN, b"PK\x01\x02", 2, 20, struct.pack("<L", 10**6))
    assert "c.txt runs past the end of the file" in [p.message for p in problems(data)]


def test_name_flagged_utf8_that_is_not() -> None:
    entry = assemble((b"caf\xe9.txt", b"x"))
    data = patch(entry, b"PK\x01\x02", 0, 8, b"\x00\x08")
    assert [p.message for p in problems(data)] == ["a member name is not valid UTF-8"]


# -- bounded work ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "pattern",
    [
        b"PK\x05\x06",
        b"PK\x03\x04",
        b"PK\x03\x04\x14\x00\x00\x00\x00\x00" + bytes(16) + b"\xff\x0f\x00\x00" + b"A" * 6,
        b"PK\x05\x06" + bytes(8) + b"\x2e\x00\x00\x00" + bytes(6),
        b"PK\x06\x06",  # zip64 end records, each read once
        b"PK\x06\x06" + bytes(8) + b"PK\x06\x07" + bytes(16) + b"PK\x05\x06" + bytes(18),
    ],
)
def test_hostile_signature_floods_stay_linear(pattern: bytes) -> None:
    flood = pattern * (100_000 // len(pattern))
    began = time.perf_counter()
    find_embedded_zip(flood)
    layout = inspect(assemble((b"a.txt", b"alpha"), flood, (b"b.txt", b"beta")))
    assert time.perf_counter() - began < 10  # a guard against blow-ups, not a benchmark
    assert K.GAP_DATA in {p.kind for p in layout.problems}
    assert len(layout.problems) <= 40  # capped per kind


def test_many_end_records_pointing_at_one_long_entry_stay_cheap() -> None:
    entry = central_header(b"n" * 65_000, b"", 0)
    ends = end_record(1, len(entry), 0) * 5_000  # offsets from the file start: all hit entry
    began = time.perf_counter()
    assert find_embedded_zip(entry + ends) == []
    assert time.perf_counter() - began < 10  # a guard against blow-ups, not a benchmark


def test_damaged_archives_never_raise_and_clean_ones_read_as_zipfile_reads_them() -> None:
    seeds = [PLAIN, streamed(OFFICE), to_zip64_end(build(OFFICE)), build({}, comment=b"c" * 40)]
    rng = random.Random(7)
    for _ in range(400):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(data))
            if rng.random() < 0.7:
                data[at] = rng.randrange(256)
            else:
                del data[at : at + rng.randint(1, 15)]  # seeds are longer than 3 cuts
        layout = inspect(bytes(data))
        find_embedded_zip(bytes(data))
        if not layout.problems:
            infos = zipfile.ZipFile(io.BytesIO(bytes(data))).infolist()
            assert [m.name for m in layout.members] == [i.filename for i in infos]


# -- zips inside other files -------------------------------------------------------------------
def test_zip_appended_to_an_image() -> None:
    assert find_embedded_zip(JPEG + PLAIN) == [(len(JPEG), len(JPEG) + len(PLAIN))]


def test_zip_appended_with_offsets_from_the_file_start() -> None:
    out = io.BytesIO(JPEG)
    with zipfile.ZipFile(out, "a") as archive:
        archive.writestr("x.txt", b"payload")
    data = out.getvalue()
    assert find_embedded_zip(data) == [(len(JPEG), len(data))]


def test_zip_inside_a_pdf() -> None:
    head = b"%PDF-1.7\n1 0 obj\n<< /Length 9999 >>\nstream\n"
    tail = b"\nendstream\nendobj\ntrailer\n<< >>\n%%EOF\n"
    assert find_embedded_zip(head + PLAIN + tail) == [(len(head), len(head) + len(PLAIN))]


def test_zip_without_an_end_record() -> None:
    cut = PLAIN[: PLAIN.index(b"PK\x01\x02")]
    spans = find_embedded_zip(JPEG + cut)
    assert spans == [(len(JPEG), len(JPEG) + len(cut))]
    streamed_cut = streamed({"a.txt": b"alpha", "b.txt": b"beta"})
    streamed_cut = streamed_cut[: streamed_cut.index(b"PK\x01\x02")]
    assert find_embedded_zip(JPEG + streamed_cut) == [(len(JPEG), len(JPEG) + len(streamed_cut))]


def test_nested_zips_are_both_found() -> None:
    data = build({"inner.zip": PLAIN}, zipfile.ZIP_STORED)
    inner = data.index(PLAIN)
    assert find_embedded_zip(data) == [(0, len(data)), (inner, inner + len(PLAIN))]


def test_no_zip_in_plain_files() -> None:
    assert find_embedded_zip(JPEG) == []
    assert find_embedded_zip(b"PK\x03\x04 is how a zip starts; PK\x05\x06 how it ends") == []
    assert find_embedded_zip(JPEG + build({})) == []  # an empty zip carries nothing
    assert find_embedded_zip(bytes(range(256)) * 64) == []


def odd_zip(base: int, *, relative: bool = False, saturated: bool = False) -> bytes:
    """A zip to sit at offset ``base`` (offsets from the file's start, or from its own with
    ``relative``) as a red team built one that unzip and 7-Zip open: local headers that say
    version 6.4 (no zip tool writes it; the directory says 2.0), and a zip64 end record with 16
    bytes of extensible data (APPNOTE 4.3.14), so that it is 60 bytes long, not 44."""
    origin = 0 if relative else base
    body, directory = b"", b""
    for name, data in ((b"Invoice.hta", b"<html>page</html>"), (b"readme.txt", b"text")):
        local = bytearray(local_header(name, data))
        local[4:6] = struct.pack("<H", 0x40)
        directory += central_header(name, data, origin + len(body))
        body += bytes(local) + data
    record_at = origin + len(body) + len(directory)
    record = struct.pack(
        "<4sQ2H2L4Q", b"PK\x06\x06", 44 + 16, 45, 45, 0, 0, 2, 2, len(directory), origin + len(body)
    )
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, record_at, 1)
    count, size, offset = (2, len(directory), origin + len(body))
    if saturated:
        count, size, offset = 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF
    classic = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, size, offset, 0)
    return body + directory + record + bytes(16) + locator + classic


@pytest.mark.parametrize(("relative", "saturated"), [(False, False), (False, True), (True, False)])
def test_zip_found_through_a_zip64_record_with_extensible_data(
    relative: bool, saturated: bool
) -> None:
    # unzip and 7-Zip find the zip64 record through its locator's offset, whatever its size and
    # whatever version the local headers claim; zipfile expects 44 bytes right before the
    # locator and fails, so an archive reader built on it would miss this one
    hidden = odd_zip(len(JPEG), relative=relative, saturated=saturated)
    assert find_embedded_zip(JPEG + hidden) == [(len(JPEG), len(JPEG) + len(hidden))]
    if relative:  # its place in a region searched on its own (a media box) is found too
        assert find_embedded_zip(b"free" + hidden) == [(4, 4 + len(hidden))]


@pytest.mark.skipif(shutil.which("unzip") is None, reason="Info-ZIP unzip is not installed")
def test_unzip_opens_the_zip64_archive_found(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(JPEG + odd_zip(len(JPEG)))
    done = subprocess.run(["unzip", "-l", str(path)], capture_output=True, check=False)
    assert b"Invoice.hta" in done.stdout


def test_a_zip64_locator_leading_nowhere_is_no_archive() -> None:
    """Only the local entries are found then (as 7-Zip reads them front to back, whatever
    version they claim), up to the directory: the end records lead to no archive."""
    hidden = bytearray(odd_zip(len(JPEG), saturated=True))
    record = hidden.index(b"PK\x06\x06")
    hidden[record : record + 4] = b"PK\x06\x00"  # no zip64 record at the offset, or before
    entries = (len(JPEG), len(JPEG) + hidden.index(b"PK\x01\x02"))
    assert find_embedded_zip(JPEG + bytes(hidden)) == [entries]
    broken = bytearray(odd_zip(len(JPEG)))
    broken[broken.index(b"PK\x01\x02") + 1] = ord("X")  # a directory that does not check out
    assert find_embedded_zip(JPEG + bytes(broken)) == [entries]
    assert zip_at_end(JPEG + bytes(hidden)) is None
    assert zip_at_end(JPEG + bytes(broken)) is None
