"""The real Office and RTF samples that oletools tests itself with, for the office and rtf engines.

They ship in the oletools *source* distribution on PyPI (``tests/test-data/``), not in the
wheel. ``oletools_data`` downloads that sdist once with pip into a cache directory
(``$ATTACHGUARD_TEST_CACHE``, else ``~/.cache/attachguard-test-data``), extracts the test data
next to it and returns its path; without a registry the tests that need it are skipped.

Samples that antivirus products flag are stored in zip files encrypted with the password
``infected-test``; `read_sample` unwraps them.
"""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import tarfile
import tempfile
import uuid
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from support.download_cache import cache_dir, locked

__all__ = [
    "OLETOOLS_VERSION",
    "docx",
    "ole1_object",
    "ole_file",
    "ole_native",
    "oletools_data",
    "read_sample",
    "rels_xml",
    "rtf_object",
    "xlsx",
]

OLETOOLS_VERSION = "0.60.2"
_PREFIX = f"oletools-{OLETOOLS_VERSION}/tests/test-data/"
_ZIP_PASSWORD = b"infected-test"


def _download(cache: Path) -> Path:
    """The sdist archive in ``cache``, downloaded with pip unless already there."""
    for found in sorted(cache.glob(f"oletools-{OLETOOLS_VERSION}.*")):
        if found.name.endswith((".zip", ".tar.gz")):
            return found
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
        f"oletools=={OLETOOLS_VERSION}", "-d", str(cache),
    ]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    except subprocess.TimeoutExpired:
        pytest.skip("pip took too long to download the oletools sdist (test data)")
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"cannot download the oletools {OLETOOLS_VERSION} sdist with pip: {last}")
    return _download(cache)


def _extract(archive: Path, target: Path) -> None:
    """Only ``tests/test-data/`` from the archive, never outside ``target``."""
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        staging = Path(tmp) / "test-data"
        if archive.name.endswith(".zip"):
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    rel = PurePosixPath(info.filename[len(_PREFIX) :])
                    if not info.filename.startswith(_PREFIX) or info.is_dir() or ".." in rel.parts:
                        continue
                    out = staging.joinpath(*rel.parts)
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(zf.read(info))
        else:
            with tarfile.open(archive) as tf:
                members = [m for m in tf.getmembers() if m.name.startswith(_PREFIX)]
                tf.extractall(tmp, members=members, filter="data")
                Path(tmp, _PREFIX).rename(staging)
        if not staging.is_dir():
            raise zipfile.BadZipFile(f"no {_PREFIX} in {archive.name}")
        staging.rename(target)  # atomic: a half-extracted tree is never seen as done


@pytest.fixture(scope="session")
def oletools_data() -> Path:
    """The ``tests/test-data`` directory of the oletools sdist (downloaded once, cached)."""
    target = cache_dir() / f"oletools-{OLETOOLS_VERSION}-test-data"
    if target.is_dir():
        return target
    with locked(cache_dir()) as cache:
        if not target.is_dir():  # another process may have fetched it meanwhile
            archive = _download(cache)
            try:
                _extract(archive, target)
            except (zipfile.BadZipFile, tarfile.TarError, FileNotFoundError):
                archive.unlink()  # a broken download: fetch it again next time
                raise
    return target


def read_sample(root: Path, relative: str) -> bytes:
    """A sample's bytes; ``x.doc.zip`` holds ``x.doc``, possibly encrypted with the password."""
    path = root / relative
    if path.suffix != ".zip":
        return path.read_bytes()
    with zipfile.ZipFile(path) as zf:
        info = zf.infolist()[0]
        return zf.read(info, pwd=_ZIP_PASSWORD if info.flag_bits & 1 else None)


# -- Samples built here: OLE2 compound files, OLE packages, OOXML packages, RTF -------------

_FREE, _END, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
_SECTOR = 512
_OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"


def ole_file(streams: dict[str, bytes], clsid: str = "") -> bytes:
    """A minimal OLE2 compound file (version 3) with ``streams`` in its root storage and the
    root class id ``clsid``. Streams are padded to 4096 bytes, so that they live in regular
    sectors (no mini stream); the parsers in use ignore bytes past a structure's end."""
    datas = [data.ljust(4096, b"\0") for data in streams.values()]
    n_dir = (len(streams) + 1 + 3) // 4
    first_data = 1 + n_dir
    entries = [_dir_entry("Root Entry", 5, child=1 if streams else _NOSTREAM, clsid=clsid)]
    fat = [_FATSECT, *range(2, 1 + n_dir), _END]
    sector = first_data
    for index, (name, data) in enumerate(zip(streams, datas, strict=True)):
        count = len(data) // _SECTOR
        right = index + 2 if index + 1 < len(streams) else _NOSTREAM
        entries.append(_dir_entry(name, 2, right=right, start=sector, size=len(data)))
        fat += [*range(sector + 1, sector + count), _END]
        sector += count
    if len(fat) > _SECTOR // 4:
        raise ValueError("too much data for a one-sector FAT")
    directory = b"".join(entries).ljust(n_dir * _SECTOR, b"\0")
    fat_sector = struct.pack(f"<{_SECTOR // 4}I", *fat, *[_FREE] * (_SECTOR // 4 - len(fat)))
    header = (
        _OLE_MAGIC
        + bytes(16)
        + struct.pack(
            "<HHHHH6xIIIIIIIII", 0x3E, 3, 0xFFFE, 9, 6, 0, 1, 1, 0, 4096, _END, 0, _END, 0
        )
        + struct.pack("<109I", 0, *[_FREE] * 108)
    )
    return header + fat_sector + directory + b"".join(datas)


def _dir_entry(
    name: str, kind: int, *, right: int = _NOSTREAM, child: int = _NOSTREAM, clsid: str = "",
    start: int = _END, size: int = 0,
) -> bytes:  # fmt: skip
    encoded = name.encode("utf-16-le") + b"\0\0"
    raw_clsid = uuid.UUID(clsid).bytes_le if clsid else bytes(16)
    return struct.pack(
        "<64sHBBIII16sIQQIQ", encoded, len(encoded), kind, 1, _NOSTREAM, right, child, raw_clsid,
        0, 0, 0, start, size,
    )  # fmt: skip


def ole_native(filename: str, data: bytes, *, with_size: bool = True) -> bytes:
    """An OLE package (the ``\\x01Ole10Native`` stream, or without its size field as in RTF)
    holding the file ``filename`` with content ``data``."""
    name = filename.encode() + b"\0"
    path = b"C:\\Users\\me\\" + name
    body = (
        struct.pack("<H", 2) + name + path + struct.pack("<II", 0x00030000, len(path)) + path
        + struct.pack("<I", len(data)) + data
    )  # fmt: skip
    return struct.pack("<I", len(body)) + body if with_size else body


def ole1_object(class_name: str, data: bytes) -> bytes:
    """An OLE 1.0 embedded object, which is what an RTF ``\\objdata`` holds."""

    def counted(text: bytes) -> bytes:
        return struct.pack("<I", len(text)) + text

    header = struct.pack("<II", 0x00000501, 2) + counted(class_name.encode() + b"\0")
    return header + counted(b"") + counted(b"") + struct.pack("<I", len(data)) + data


def rels_xml(rels: list[tuple[str, str, bool]]) -> bytes:
    """A relationships part; each relationship is (type, target, external); a type without a
    scheme is one of the officeDocument relationship types."""
    items = "".join(
        f'<Relationship Id="rId{i}" Type="{kind if "://" in kind else REL + kind}" '
        f'Target="{target}"{" TargetMode=" + chr(34) + "External" + chr(34) if ext else ""}/>'
        for i, (kind, target, ext) in enumerate(rels, start=1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f"{items}</Relationships>"
    ).encode()


_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_OOXML = "application/vnd.openxmlformats-officedocument."


def _package(main: str, content_type: str, parts: dict[str, bytes]) -> bytes:
    types = (
        f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{_TYPES}">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package'
        '.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Default Extension="bin" ContentType="{_OOXML}oleObject"/>'
        f'<Override PartName="/{main}" ContentType="{_OOXML}{content_type}"/></Types>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", types)
        zf.writestr("_rels/.rels", rels_xml([("officeDocument", main, False)]))
        for name, data in parts.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def docx(
    body: str = "<w:p><w:r><w:t>Your order has shipped.</w:t></w:r></w:p>",
    rels: list[tuple[str, str, bool]] | None = None,
    parts: dict[str, bytes] | None = None,
) -> bytes:
    """A small Word document: ``body`` (WordprocessingML), document relationships, more parts."""
    spaces = (
        f'xmlns:w="{_W}" xmlns:r="{REL[:-1]}" xmlns:o="urn:schemas-microsoft-com:office:office"'
    )
    document = f'<?xml version="1.0"?><w:document {spaces}><w:body>{body}</w:body></w:document>'
    return _package(
        "word/document.xml",
        "wordprocessingml.document.main+xml",
        {
            "word/document.xml": document.encode(),
            "word/_rels/document.xml.rels": rels_xml(rels or []),
            **(parts or {}),
        },
    )


def xlsx(
    rels: list[tuple[str, str, bool]] | None = None, parts: dict[str, bytes] | None = None
) -> bytes:
    """A small Excel workbook with one sheet holding a number and a formula."""
    workbook = (
        f'<?xml version="1.0"?><workbook xmlns="{_S}" xmlns:r="{REL[:-1]}"><sheets>'
        '<sheet name="Orders" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    sheet = (
        f'<?xml version="1.0"?><worksheet xmlns="{_S}"><sheetData><row r="1">'
        '<c r="A1"><v>42</v></c><c r="B1"><f>A1*2</f><v>84</v></c></row></sheetData></worksheet>'
    )
    return _package(
        "xl/workbook.xml",
        "spreadsheetml.sheet.main+xml",
        {
            "xl/workbook.xml": workbook.encode(),
            "xl/_rels/workbook.xml.rels": rels_xml(
                [("worksheet", "worksheets/sheet1.xml", False), *(rels or [])]
            ),
            "xl/worksheets/sheet1.xml": sheet.encode(),
            **(parts or {}),
        },
    )


def rtf_object(class_name: str, data: bytes, *, text: str = "See the attached file.") -> bytes:
    """An RTF document with one embedded object: an OLE 1.0 object of ``class_name`` holding
    ``data``, in hex as Word writes it (broken into lines)."""
    hexdata = ole1_object(class_name, data).hex()
    lines = "\n".join(hexdata[i : i + 128] for i in range(0, len(hexdata), 128))
    return (
        "{\\rtf1\\ansi{\\fonttbl{\\f0 Arial;}}\\f0 " + text + "\\par\n"
        "{\\object\\objemb{\\*\\objclass " + class_name + "}\\objw1000\\objh500"
        "{\\*\\objdata\n" + lines + "\n}}\\par}"
    ).encode()
