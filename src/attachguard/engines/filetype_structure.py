"""How a file's own structure names it, where Magika guesses: the readers `FileTypeEngine.detect`
trusts over Magika's label (an ISO media brand, an OOXML package's main part, an OLE compound
file's streams, a RIFF/WAVE header, a PDF saved by Illustrator, an RTF header, an archive's
signature, plain text).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable

from attachguard.engines.zip_members import DAMAGED
from attachguard.engines.zip_package import main_label
from attachguard.formats import bmff, jpeg
from attachguard.formats.ole import OleKind, OleUnreadable, classify_ole
from attachguard.policy import Limits

_VIDEO_BRANDS = {b"isom", b"mp41", b"mp42", b"avc1", b"M4V ", b"M4A ", b"mmp4", b"dash", b"f4v "}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OOXML_PARTS = {
    "word/document.xml": "docx",
    "xl/workbook.xml": "xlsx",
    "xl/workbook.bin": "xlsb",
    "ppt/presentation.xml": "pptx",
}
# Elsewhere (``workbook.xml``, ``word/document2.xml``), the main part is found as Office finds
# it, its structural parts read within these limits: a declared ratio bomb is not inflated.
_PACKAGE_LIMITS = Limits()


def _sniff_container(data: bytes) -> str | None:
    """The label an ISO media (ftyp) or OOXML file's own structure declares."""
    if data[4:8] == b"ftyp" and len(data) >= 12:
        brand = data[8:12]
        if brand in bmff.HEIF_BRANDS:
            return "heif"
        if brand == b"qt  ":
            return "qt"
        if brand in _VIDEO_BRANDS or brand[:3] in (b"iso", b"3gp", b"3g2"):
            return "mp4"
        return None
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
                if "[Content_Types].xml" not in names:
                    # a zip all the same, whatever the model made of it (an OpenDocument chart
                    # came out "unknown" or "odt" by its members' times): the zip engine reads it
                    return "zip"
                found = next((lbl for part, lbl in _OOXML_PARTS.items() if part in names), None)
                return found or main_label(archive, _PACKAGE_LIMITS)
        except DAMAGED:
            return None  # the zip engine reports what is wrong with it
    return None


# Magika's labels for formats built on a zip: it keeps these (a Java archive, an OpenDocument
# file: each engine reads its own); any other label on a file that starts with a zip entry and
# whose zip parses is a guess from the first members' bytes (red team 107: an .xlsm whose
# members are stored, a long text comment after them, came out "txt")
_ZIP_LABELS = frozenset(
    {"zip", "jar", "apk", "docx", "epub", "odp", "ods", "odt", "pptx", "xlsb", "xlsx", "xpi"}
    | {"npz", "nupkg", "pytorch"}
)


_OOXML_LABELS = frozenset({"docx", "xlsx", "xlsb", "pptx"})


def _media_or_package(data: bytes, label: str) -> str | None:
    """An ISO media brand or an OOXML package where Magika saw a video, a zip or nothing; a
    zip (an OOXML package by its parts) where it saw anything but a zip-based format: every
    zip reader and Office open it by its entries."""
    if data[:4] == b"PK\x03\x04" and label not in _ZIP_LABELS:
        return _sniff_container(data)
    if data[:4] == b"PK\x03\x04" and label in _OOXML_LABELS:
        # Office opens a package by its main part, not by what its bytes look like (hunt 101:
        # ONLYOFFICE's Word form source came out "pptx" at 0.52)
        found = _sniff_container(data)
        return found if found in _OOXML_LABELS and found != label else None
    if label not in {"mp4", "qt", "3gp", "heif", "zip", "unknown"}:
        return None
    found = _sniff_container(data)
    media = found in {"mp4", "qt", "heif"}
    # Magika keeps its own video label unless the brand says HEIF (its blind spot); a zip
    # stays a zip whatever an ftyp header in front of it claims.
    if found and (
        (media and label != "zip" and (found == "heif" or label == "unknown"))
        or (not media and label in {"zip", "unknown"})
    ):
        return found
    return None


# What an OLE compound file is, by its streams (formats.ole), as the label the engines route on.
_OLE_LABELS = {
    OleKind.WORD: "doc",
    OleKind.EXCEL: "xls",
    OleKind.POWERPOINT: "ppt",
    OleKind.MSI: "msi",
    OleKind.OUTLOOK: "outlook",
    OleKind.ENCRYPTED_PACKAGE: "encrypted_office",
}


def _ole(data: bytes, label: str) -> str | None:
    """An OLE compound file's real kind, read from its streams (Magika guesses from bytes
    near the start and calls an MSI with a Word class id "thumbsdb"); an OLE file of no known
    kind is "compound" (never routed as a Word/Excel/PowerPoint document)."""
    if data[:8] != _OLE_MAGIC:
        return None
    try:
        kind = classify_ole(data).kind
    except OleUnreadable:
        return None  # not readable as OLE: Magika's label stands, the engines say why
    return _OLE_LABELS.get(kind, "compound")


def _wave(data: bytes, label: str) -> str | None:
    """A RIFF/WAVE file whose header and ``fmt `` chunk parse is a WAV, whatever its sample
    format (Magika calls WAVE_FORMAT_EXTENSIBLE, 24-bit or multichannel audio text or BMP)."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos = 12
    while pos + 8 <= min(len(data), 1 << 20):
        chunk, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        if chunk == b"fmt ":
            return "wav" if size >= 16 and pos + 8 + 16 <= len(data) else None
        pos += 8 + size + (size & 1)
    return None


def _illustrator(data: bytes, label: str) -> str | None:
    """Illustrator saves .ai files as PDFs (with its private data inside): Magika's "ai" is a
    PDF when the file starts as one, and every PDF reader opens it."""
    return "pdf" if label == "ai" and b"%PDF-" in data[:1024] else None


def _rtf(data: bytes, label: str) -> str | None:
    """Word opens a file that begins ``{\\rt`` as RTF whatever follows (``{\\rtf1``, and the
    ``{\\rt1`` or ``{\\rtxa`` of exploit documents: Word checks those four bytes, as oletools
    does; Magika called an RTF letter with an archive after its end "txt", and red team 107's
    ``{\\rt1`` text "txt"): so does the RTF engine."""
    return "rtf" if label != "rtf" and data.startswith(b"{\\rt") else None


# Labels a PDF with bytes before its header gets from Magika (text, junk, nothing): Acrobat
# looks for ``%PDF-`` in the first 1,024 bytes and reads the file from there (red team 107: an
# attached statement.pdf with a kilobyte of padding first came out "txt" and "unknown"); a
# format of its own (a picture holding ``%PDF-`` in its metadata) keeps its label and is the
# polyglot engine's
_BEFORE_A_PDF = frozenset({"unknown", "txt", "csv", "tsv", "xml", "html", "json", "ini"})
_PDF_OBJECT = re.compile(rb"\d+[\x00\t\n\f\r ]+\d+[\x00\t\n\f\r ]+obj\b")


def _pdf_after_junk(data: bytes, label: str) -> str | None:
    """A PDF whose header is in the first 1,024 bytes but not at the start, as Acrobat reads
    one: its header, then an object (text that merely quotes a header has none)."""
    start = data.find(b"%PDF-", 0, 1024)
    if start <= 0 or not (label in _BEFORE_A_PDF or _unfounded(data, label)):
        return None
    return "pdf" if _PDF_OBJECT.search(data, start, start + (1 << 16)) else None


def _unfounded(data: bytes, label: str) -> bool:
    """Whether Magika's label names a format whose own signature the data lacks (an "iso" for
    a kilobyte of NULs: `_archive_without_signature` and its kin)."""
    guesses = (_archive_without_signature, _program_without_header, _picture_without_signature)
    return any(guess(data, label) == "unknown" for guess in guesses)


# Where an archive format's own signature sits: (offset, bytes), any one of them. Magika names
# some small binary blobs after an archive (a printer's DEVMODE settings inside an .xlsx came
# out "iso"); an archive label without its signature is not believed.
_ARCHIVE_MAGIC: dict[str, tuple[tuple[int, bytes], ...]] = {
    "iso": ((0x8001, b"CD001"), (0x8801, b"CD001"), (0x9001, b"CD001")),
    "rar": ((0, b"Rar!\x1a\x07"),),
    "sevenzip": ((0, b"7z\xbc\xaf\x27\x1c"),),
    "gzip": ((0, b"\x1f\x8b"),),
    "bzip": ((0, b"BZh"),),
    "xz": ((0, b"\xfd7zXZ\x00"),),
    "zst": ((0, b"\x28\xb5\x2f\xfd"),),
    "cab": ((0, b"MSCF"),),
    "tar": ((257, b"ustar"),),
    "ar": ((0, b"!<arch>\n"),),
    "deb": ((0, b"!<arch>\n"),),
    "rpm": ((0, b"\xed\xab\xee\xdb"),),
    "lz4": ((0, b"\x04\x22\x4d\x18"),),
    "xar": ((0, b"xar!"),),
    "squashfs": ((0, b"hsqs"), (0, b"sqsh")),
    "arj": ((0, b"\x60\xea"),),
    "lha": ((2, b"-lh"), (2, b"-lz")),
    "ace": ((7, b"**ACE**"),),
    # HDF5 (at 0 or after a user block of 512 bytes times a power of two), NumPy, netCDF,
    # lzip, bzip3, Microsoft's compress.exe, Doom's WAD
    "h5": tuple((at, b"\x89HDF\r\n\x1a\n") for at in (0, 512, 1024, 2048, 4096, 8192)),
    "npy": ((0, b"\x93NUMPY"),),
    "cdf": ((0, b"CDF\x01"), (0, b"CDF\x02"), (0, b"CDF\x05"), (0, b"\x89HDF\r\n\x1a\n")),
    "lz": ((0, b"LZIP"),),
    "bzip3": ((0, b"BZ3v1"),),
    "mscompress": ((0, b"SZDD\x88\xf0\x27\x33"), (0, b"KWAJ\x88\xf0\x27\xd1")),
    "wad": ((0, b"IWAD"), (0, b"PWAD"), (0, b"WAD2"), (0, b"WAD3")),
}


def _archive_without_signature(data: bytes, label: str) -> str | None:
    """ "unknown" for an archive label whose format signature is missing (see the table)."""
    places = _ARCHIVE_MAGIC.get(label)
    if places is None or any(data[at : at + len(magic)] == magic for at, magic in places):
        return None
    return "unknown"


# The header each kind of program starts with, as its loader checks it (Windows' PE loader,
# ld.so, dyld, a Java or Android VM, a browser's WebAssembly or Flash runtime). Magika's label
# for such a program on bytes without it is a guess: Excel's printer settings (a DEVMODE, all
# zeros up front) came out "coff". A label without an entry here keeps its answer.
_MZ, _ELF = ((0, b"MZ"),), ((0, b"\x7fELF"),)
_MACH_O = tuple((0, magic) for magic in (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf",
                b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe"))  # fmt: skip
_PROGRAM_MAGIC: dict[str, tuple[tuple[int, bytes], ...]] = {
    **dict.fromkeys(("pebin", "exe", "dll", "sys", "scr", "cpl", "ocx", "ax", "rll"), _MZ),
    **dict.fromkeys(("elf", "so", "ko"), _ELF),
    **dict.fromkeys(("macho", "dylib"), _MACH_O),
    "dex": ((0, b"dex\n"),),
    "dey": ((0, b"dey\n"),),
    "odex": ((0, b"dey\n"), (0, b"dex\n")),
    "javabytecode": ((0, b"\xca\xfe\xba\xbe"),),
    "pythonbytecode": ((2, b"\r\n"),),
    "wasm": ((0, b"\x00asm"),),
    "swf": ((0, b"FWS"), (0, b"CWS"), (0, b"ZWS")),
    "crx": ((0, b"Cr24"),),
    # a shortcut's header size and class id (MS-SHLLINK 2.1); Excel's printer settings (a
    # DEVMODE: a printer's name in UTF-16) came out "lnk" one time in a hundred
    "lnk": ((0, b"L\x00\x00\x00\x01\x14\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00F"),),
}
# Machines a COFF object file is built for (IMAGE_FILE_MACHINE_*, PE format): x86, x64, ARM,
# ARM64 (and EC), Itanium, MIPS, PowerPC, SH, RISC-V, LoongArch, EFI byte code, Alpha, M32R
_COFF_MACHINES = frozenset({
    0x014C, 0x8664, 0x01C0, 0x01C2, 0x01C4, 0xAA64, 0xA641, 0x0200, 0x0162, 0x0166, 0x0168,
    0x0169, 0x0266, 0x0366, 0x0466, 0x01F0, 0x01F1, 0x01A2, 0x01A3, 0x01A6, 0x01A8, 0x5032,
    0x5064, 0x5128, 0x6232, 0x6264, 0x0EBC, 0x0184, 0x0284, 0x9041, 0x01D3, 0xC0EE,
})  # fmt: skip


# The signature a picture decoder checks first; Magika named an .xlsb's binary index "bmp" and
# an HD Photo (JPEG XR, "II\xbc") "tiff": a picture label without its signature is not believed
_PICTURE_MAGIC: dict[str, tuple[tuple[int, bytes], ...]] = {
    "bmp": ((0, b"BM"),),
    "tiff": ((0, b"II*\x00"), (0, b"MM\x00*"), (0, b"II+\x00"), (0, b"MM\x00+")),
    "gif": ((0, b"GIF87a"), (0, b"GIF89a")),
    "png": ((0, b"\x89PNG\r\n\x1a\n"),),
    "jpeg": ((0, b"\xff\xd8\xff"),),
    "webp": ((8, b"WEBP"),),
}


def _picture_without_signature(data: bytes, label: str) -> str | None:
    """ "unknown" for a picture label whose signature is missing (see the table)."""
    places = _PICTURE_MAGIC.get(label)
    if places is None or any(data[at : at + len(magic)] == magic for at, magic in places):
        return None
    return "unknown"


def _jpeg_accounted_for(data: bytes, label: str) -> str | None:
    """ "jpeg" for a file that is a JPEG to its last byte: it walks to its end marker (its
    thumbnail's skipped), then only padding or trailers ExifTool reads (AFCP, FotoStation,
    Photo Mechanic, Samsung) follow. Magika, reading a tiny picture's head and tail, called one
    with an AFCP trailer "hlp" (hunt 117: TYPE_MISMATCH on an honest .jpg). A picture with any
    other data after its end keeps Magika's label (the polyglot engine judges that data), and
    so does one Magika reads as a script, a program, an archive or a document (`detect`)."""
    if label == "jpeg" or not data.startswith(b"\xff\xd8\xff"):
        return None
    end = jpeg.jpeg_end(data)
    if end is None:
        return None
    start, _ = jpeg.trailers(data, end)
    return "jpeg" if not data[end:start].strip(b"\x00\xff \t\r\n") else None


def _program_without_header(data: bytes, label: str) -> str | None:
    """ "unknown" for a program label whose loader's header is missing (see the table; a COFF
    object file names a known machine, or is an import library's: machine 0, then 0xFFFF)."""
    if label == "coff":
        machine, second = data[0:2], data[2:4]
        known = int.from_bytes(machine, "little") in _COFF_MACHINES
        return None if known or (machine == b"\0\0" and second == b"\xff\xff") else "unknown"
    places = _PROGRAM_MAGIC.get(label)
    if places is None or any(data[at : at + len(magic)] == magic for at, magic in places):
        return None
    return "unknown"


_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
)
_WIDE_BOMS = tuple(bom for bom, enc in _BOMS if enc.startswith(("utf-16", "utf-32")))
_CONTROL = frozenset(range(32)) - {9, 10, 12, 13}


def _as_text(data: bytes) -> str | None:
    """``data`` as text when it is text: a byte-order mark's encoding, else UTF-8; None when it
    does not decode or holds control characters (binary)."""
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), "utf-8")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    text = text.removeprefix("\ufeff")
    return None if any(ord(ch) in _CONTROL for ch in text[:65536]) else text


def clean_text(data: bytes) -> bool:
    """Whether no byte of ``data`` is a control character but a blank: text in UTF-8 or in a
    code page that keeps ASCII as it is (Big5, GBK, EUC-KR, Shift JIS, Windows-1251 or -1256:
    their other bytes are all over 0x7F). Binary formats hold control bytes: a NUL in every
    archive's and program's header, and about one byte in eight of compressed data."""
    return len(data.translate(None, _CONTROL_BYTES)) == len(data)


_CONTROL_BYTES = bytes(sorted(_CONTROL))


def is_text(data: bytes) -> bool:
    """Whether ``data`` reads as text: by its byte-order mark, as UTF-8, or in a code page that
    keeps ASCII as it is (`clean_text`)."""
    return _as_text(data) is not None or clean_text(data)


def _plain_text(data: bytes, label: str) -> str | None:
    """Short or unusual text that Magika cannot place ("unknown" at a low score: a one-line
    note; text in a legacy code page, which Notepad and Excel read by the system's) is text
    when every byte decodes as text, or no byte is a control character (`clean_text`)."""
    if label != "unknown" or not data:
        return None
    return "txt" if is_text(data) else None


def _xml_workbook(data: bytes, label: str) -> str | None:
    """An Excel XML workbook is XML, whatever Magika makes of it (after a long comment: text):
    Excel opens it by its content, under .csv too, and Windows a .xml by its mso-application
    instruction, so the engine that reads its formulas must see it."""
    return "xml" if label != "xml" and markup(data) and spreadsheetml(data) else None


_STRUCTURE: tuple[Callable[[bytes, str], str | None], ...] = (
    _xml_workbook,
    _ole,
    _wave,
    _illustrator,
    _rtf,
    _pdf_after_junk,
    _media_or_package,
    _archive_without_signature,
    _program_without_header,
    _picture_without_signature,
    _jpeg_accounted_for,
    _plain_text,
)


def decisive(data: bytes) -> str | None:
    """The label of a file whose structure decides its type whatever Magika says: an OLE
    compound file whose streams classify it, a RIFF/WAVE file whose header parses. `structure`
    gives these first, so Magika's answer could not change the type: it is not asked (a
    model call costs 10-13 ms of CPU; batching saves nothing, the work is per sample)."""
    return _ole(data, "") or _wave(data, "")


def structure(data: bytes, label: str) -> str | None:
    """The label the file's own structure declares, if one of the readers above parses it."""
    for read in _STRUCTURE:
        found = read(data, label)
        if found:
            return found
    return None


def for_magika(data: bytes) -> bytes:
    """What Magika is shown: UTF-16/32 text with a byte-order mark re-encoded as UTF-8 (its
    model reads UTF-8; big-endian UTF-16 text came out "unknown" or a script), else the bytes."""
    if not data.startswith(
        tuple(bom for bom, enc in _BOMS if enc.startswith(("utf-16", "utf-32")))
    ):
        return data
    text = _as_text(data)
    return text.encode("utf-8") if text is not None else data


SPREADSHEET_NS = "urn:schemas-microsoft-com:office:spreadsheet"
# What may come before an XML document's root element: blanks, the XML declaration, processing
# instructions (Excel's <?mso-application progid="Excel.Sheet"?>) and comments
_BLANKS = re.compile(r"\s+")
_WORKBOOK_ROOT = re.compile(r"<(?:([\w.\-]+):)?Workbook[\s>/]")


def markup(data: bytes, start: str = "<") -> bool:
    """Whether text starts, after any byte-order mark and blanks, with ``start`` (without
    case)."""
    for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data[2:512].decode(codec, "ignore").lstrip().lower().startswith(start)
    head = data[:512].removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    return head.startswith(start.encode())


def _prolog_end(text: str) -> int:
    """Where an XML document's prolog ends (blanks, processing instructions and comments, each
    found by its end marker, in linear time), -1 when ``text`` ends inside one."""
    pos = 0
    while True:
        blank = _BLANKS.match(text, pos)
        pos = blank.end() if blank else pos
        for start, end in (("<?", "?>"), ("<!--", "-->")):
            if text.startswith(start, pos):
                close = text.find(end, pos + len(start))
                if close < 0:
                    return -1
                pos = close + len(end)
                break
        else:
            return pos


def spreadsheetml(data: bytes) -> bool:
    """Whether ``data`` is an Excel 2003 XML workbook (SpreadsheetML): its root element, the
    first after the prolog, is ``Workbook`` in the spreadsheet namespace, declared on it (as a
    default namespace or for the root's prefix). Excel opens such a file under .xls, and reads
    the prolog whole: a long comment does not hide the root (the first 64 KB are read, then
    the rest when the prolog runs on)."""
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), None)
    if encoding is None and data[:2] in (b"<\x00", b"\x00<"):  # UTF-16 without a mark
        encoding = "utf-16-le" if data[:1] == b"<" else "utf-16-be"
    for head in (data[:65536], data):
        text = head.decode(encoding or "utf-8", "replace").removeprefix("\ufeff")
        end = _prolog_end(text)
        if len(head) == len(data) or 0 <= end < len(text) - 1024:  # the root's tag is in it
            break
    root = _WORKBOOK_ROOT.match(text, end) if end >= 0 else None
    if root is None:
        return False
    tag = text[root.start() : text.find(">", root.start()) + 1 or len(text)]
    declared = "xmlns:" + root.group(1) if root.group(1) else "xmlns"
    return bool(re.search(declared + r"\s*=\s*[\"']" + re.escape(SPREADSHEET_NS) + "[\"']", tag))
