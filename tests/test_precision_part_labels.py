"""Magika's label on the binary parts of Office files is believed only with the structure its
consumer checks: a program's loader header, an archive's or a picture's signature, a text-only
script's text. Real Excel parts came out "coff" (printer settings), "powershell" (a custom
property), "bmp" (an .xlsb's binary index) and "tiff" (an HD Photo picture)."""

from __future__ import annotations

import struct

import pytest

from attachguard.engines.base import Context, Item
from attachguard.engines.filetype import FileTypeEngine
from attachguard.engines.filetype_structure import structure
from attachguard.formats.ooxml_xml import looks_like_xml
from attachguard.policy import Policy
from attachguard.report import FileType


def devmode() -> bytes:
    """The printer settings Excel keeps in xl/printerSettings/printerSettings1.bin: a DEVMODEW
    for Letter paper, no device name (64 zero bytes first), as Excel for Windows writes it."""
    head = bytes(64) + struct.pack("<HHHHI", 0x0401, 0x0600, 0xDC, 0, 0x0380EF53)
    paper = struct.pack("<13h", 1, 1, 0x0AEA, 0x086F, 100, 1, 15, 600, 2, 1, 600, 3, 1)
    form = "Letter".encode("utf-16-le").ljust(64, b"\0")
    tail = struct.pack("<H13I", 0, 0, 0, 0, 1, 0, 1, 2, 0x010A, 0, 0, 0, 0, 0)
    data = head + paper + form + tail
    assert len(data) == 0xDC
    return data


# An Excel custom property part (xl/customProperty1.bin): a GUID in UTF-16, without a mark
_CUSTOM_PROPERTY = "b2cb01fa-f2a4-4eb8-82e9-b1aeff0e418b".encode("utf-16-le")


def test_printer_settings_are_no_program() -> None:
    found = FileTypeEngine().detect(devmode())
    assert found.group != "executable" and found.label != "coff"
    assert structure(devmode(), "coff") == "unknown"


@pytest.mark.parametrize(
    ("data", "label", "believed"),
    [
        (struct.pack("<HHI", 0x014C, 3, 0) + bytes(60), "coff", True),  # x86 object file
        (struct.pack("<HHI", 0x8664, 3, 0) + bytes(60), "coff", True),
        (b"\0\0\xff\xff" + bytes(60), "coff", True),  # an import library's member
        (b"MZ" + bytes(100), "pebin", True),
        (b"\x7fELF\x02" + bytes(60), "elf", True),
        (b"\xca\xfe\xba\xbe" + bytes(60), "javabytecode", True),
        (b"\0asm\x01\0\0\0", "wasm", True),
        (bytes(100), "pebin", False),
        (bytes(100), "elf", False),
        (b"\x01\x02" + bytes(60), "coff", False),
        (_CUSTOM_PROPERTY, "dex", False),
        (b"BM" + bytes(60), "bmp", True),
        (b"\x10\x00\x00\x00" + bytes(60), "bmp", False),  # an .xlsb's binary index
        (b"II*\0" + bytes(60), "tiff", True),
        (b"II\xbc\x01" + bytes(60), "tiff", False),  # HD Photo (JPEG XR), Office's .wdp
        (b"\x89HDF\r\n\x1a\n" + bytes(60), "h5", True),
        (bytes(512) + b"\x89HDF\r\n\x1a\n" + bytes(60), "h5", True),
        (bytes(100), "h5", False),
    ],
)
def test_a_label_needs_its_header(data: bytes, label: str, believed: bool) -> None:
    assert structure(data, label) == (None if believed else "unknown")


def _child(data: bytes, label: str, depth: int = 1) -> Item:
    return Item("xl/customProperty1.bin", data, FileType(label, "", "code"), depth)


def _codes(item: Item, context: Context) -> list[str]:
    return [f.code.name for f in FileTypeEngine().scan(item, context).findings]


def test_a_text_only_script_label_on_binary_data_inside_a_file(policy: Policy) -> None:
    context = policy.context()
    assert _codes(_child(_CUSTOM_PROPERTY, "powershell"), context) == []
    # the same label on text inside a file, or on the upload itself, stays a script
    assert _codes(_child(b"Start-Process calc.exe\r\n", "powershell"), context) == ["SCRIPT"]
    script = "\ufeffStart-Process calc.exe".encode("utf-16-le")
    assert _codes(_child(script, "powershell"), context) == ["SCRIPT"]
    assert "SCRIPT" in _codes(_child(_CUSTOM_PROPERTY, "powershell", depth=0), context)
    # a stray control byte is no evidence: cmd skips an escape in a comment
    batch = b"@echo off\r\nrem \x1b[32m green\r\nstart calc.exe\r\n"
    assert _codes(_child(batch, "batch"), context) == ["SCRIPT"]
    # a page a browser opens is a script whatever its bytes (browsers sniff UTF-16)
    page = "<html><script>x()</script>".encode("utf-16-le")
    assert _codes(_child(page, "html"), context) == ["SCRIPT"]


@pytest.mark.parametrize(
    ("head", "xml"),
    [
        (b"\xff\xfe<\x00?\x00x\x00", True),
        (b"\xfe\xff\x00<\x00?", True),
        (b"\xff\xfe \x00\r\x00\n\x00<\x00", True),
        (b"\xff\xfe", None),  # only the mark so far: look further
        (b"\xff\xfe \x00", None),
        # Power Pivot's data model (xl/model/item.data): binary after a UTF-16 mark
        ("\ufeffSTREAM_STORAGE_SIGNATURE".encode("utf-16-le"), False),
    ],
)
def test_xml_after_a_utf16_mark_starts_with_a_tag(head: bytes, xml: bool | None) -> None:
    assert looks_like_xml(head) is xml
