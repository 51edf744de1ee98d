"""File-type engine: what the bytes really are, against the name and the allow-list.

Built on Magika (bundled model, loaded once, lazily; ``identify_bytes`` is safe to call from many
threads: each call builds its own reader and onnxruntime sessions are thread-safe). It is also the
pipeline's `Detector`: `detect` gives every item its content type, which picks the engines.

On the uploaded file (depth 0) it reports EXTENSION_NOT_ALLOWED (including no extension),
TYPE_MISMATCH (content is not what the extension promises; unrecognised binary content under a
binary extension fails closed), EXECUTABLE, SCRIPT (active markup and scripts), ARCHIVE (an
archive the extension does not promise) and EMPTY_FILE. On things found inside a file (depth > 0,
named by their path inside the parent) only EXECUTABLE and SCRIPT apply: Office files legitimately
hold zips, XML and SVG pictures; and SCRIPT not on a web page Word imports into a document as it
opens it (an ``altChunk``: `Item.imported`), which runs no script (what it loads is judged by
`attachguard.formats.htmlchunk`). A file inside that Windows opens by its name (the file in an
OLE package: `Item.named`) is judged as an upload is.

Decisions: RTF is accepted under .doc (Word opens it, and routing follows the content, so the RTF
engine still looks at it); so are a web page (HTML, MHT) under .doc and .xls and an Excel 2003
XML workbook (SpreadsheetML, by its root element) under .xls, which web applications write for
"Export to Word/Excel" and Word and Excel open by extension without running page script (the
webexport engine judges what they hold and load); .mov and .mp4 accept each other's labels,
because Magika tells the two ISO media containers apart only weakly. A text extension (.txt,
.csv) accepts any text that is not a script. Extensions an operator adds beyond the table
accept the labels Magika lists for them.

Magika's model has no HEIF label (a HEIC photo comes out as "mp4" at ~0.5), misses tiny or
truncated programs, and may call a small OOXML file plain "zip": `detect` corrects these from
the file's own structure (ISO ftyp brand, OOXML part names, program headers). Things found
inside files are routed by the same reading, as their consumer reads them (red team 107): a
zip by its entries whatever Magika says but a zip-based format, RTF by Word's ``{\rt``, a PDF
by a header in its first 1,024 bytes (Acrobat's rule).
"""

from __future__ import annotations

import json
import struct
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from importlib import resources
from typing import Any

from attachguard.codes import (
    ARCHIVE,
    EMPTY_FILE,
    EXECUTABLE,
    SCRIPT,
    TYPE_MISMATCH,
    Action,
    declare,
)
from attachguard.engines.base import Context, EngineSpec, Item, Options, Result, finding
from attachguard.engines.filetype_scripts import GUESSED, reads_as_script
from attachguard.engines.filetype_structure import (
    clean_text,
    decisive,
    for_magika,
    is_text,
    markup,
    spreadsheetml,
    structure,
)
from attachguard.formats.inert import mathml
from attachguard.formats.payloads import archives_anywhere
from attachguard.formats.zipscan import find_embedded_zip
from attachguard.report import FileType, Finding

EXTENSION_NOT_ALLOWED = declare(
    "EXTENSION_NOT_ALLOWED",
    "threat",
    Action.REJECT,
    "file extension is not on the allow-list",
    "This file type can't be shared in chat.",
)

# Photo formats are interchangeable: phones and apps save PNG or HEIC under .jpg, and each is
# decoded by the image engine (and moderated) whatever its name says.
_PHOTO, _MEDIA = frozenset({"jpeg", "png", "heif"}), frozenset({"mp4", "qt", "3gp"})
_TEXT = frozenset({"*text"})  # any text content that is not a script
ACCEPTED: dict[str, frozenset[str]] = {
    ".pdf": frozenset({"pdf"}),
    ".jpg": _PHOTO,
    ".jpeg": _PHOTO,
    ".jfif": _PHOTO,
    ".jpe": _PHOTO,
    ".png": _PHOTO,
    ".heic": _PHOTO,
    ".heif": _PHOTO,
    ".mov": _MEDIA,
    ".mp4": _MEDIA,
    ".wav": frozenset({"wav"}),
    # Word and PowerPoint open a file by its content, the OOXML formats under the legacy
    # names too (Excel warns first: .xls stays strict); the office engine reads it whole
    ".doc": frozenset({"doc", "docx", "rtf", "encrypted_office", "html", "mht"}),
    ".docx": frozenset({"docx", "encrypted_office"}),
    ".xls": frozenset({"xls", "encrypted_office", "html", "mht", "xml"}),
    ".xlsx": frozenset({"xlsx", "encrypted_office"}),
    ".ppt": frozenset({"ppt", "pptx", "encrypted_office"}),
    ".pptx": frozenset({"pptx", "encrypted_office"}),
    ".rtf": frozenset({"rtf"}),
    ".csv": _TEXT,
    ".tsv": _TEXT,
    ".txt": _TEXT,
}
"""Extension → the Magika labels its content may have."""
# Web pages Word and Excel open by their extension ("Export to Word/Excel" in web applications
# writes HTML, an MHT archive or, for Excel, an XML workbook): Office runs no page script, so
# the page is no SCRIPT here; the webexport engine judges what it holds and loads
OFFICE_PAGES: dict[str, frozenset[str]] = {
    ".doc": frozenset({"html", "mht"}),
    ".xls": frozenset({"html", "mht"}),
}
# Labels an extension accepts only when the file's structure says the application reads it:
# Excel opens an XML file under .xls as a workbook only when it is SpreadsheetML 2003
_ONLY_IF: dict[tuple[str, str], Callable[[bytes], bool]] = {(".xls", "xml"): spreadsheetml}

# Content that runs when opened: a browser, Windows Script Host or a shell executes it.
SCRIPTS = frozenset(
    {"html", "hta", "mht", "svg", "javascript", "vba", "vbe", "powershell", "batch", "shell"}
    | {"scriptwsf", "internetshortcut", "chm"}
)
CHILD_SCRIPTS = SCRIPTS - {"svg"}  # Office files carry SVG pictures (with a PNG fallback)
# Scripts whose interpreter reads text, and a file without a byte-order mark as 8-bit
# (PowerShell, cmd, a shell, Windows Script Host): the label on wide or binary data inside a
# file, one byte in ten a NUL, is a guess (Excel's customProperty1.bin, a GUID in UTF-16
# without a mark, came out "powershell"). A stray control byte is not evidence: cmd and WSH
# skip an escape or a bell in a comment, and batch files colour text with ESC.
_TEXT_SCRIPTS = frozenset({"powershell", "batch", "shell", "vba", "vbe", "javascript"})
_WIDE = 10  # one byte in this many a NUL: UTF-16 without a mark, or binary
_OPENED_ARCHIVES = frozenset({"zip"})  # containers the zip engine unpacks member by member
# Magika's "archive" labels for data that holds no file a reader could take out: a model, an
# array, a scientific data set. In a document they are a guess on binary data (Google Slides'
# protobuf ppt/metadata part was called ONNX), and no reader opens them there.
_DATA_FORMATS = frozenset({"onnx", "npy", "h5", "cdf"})


def _data_only(data: bytes, label: str) -> bool:
    """A data-format label (`_DATA_FORMATS`) on bytes that hold no archive unzip, 7-Zip or
    WinRAR would find in them (red team 102 wrapped a ZIP in a NumPy header)."""
    return label in _DATA_FORMATS and not find_embedded_zip(data) and not archives_anywhere(data)


PROGRAMS = frozenset({"msi", "lnk", "jar", "apk"})  # executable, whatever Magika's group says
# Groups of formats that are binary by nature (a NUL in every header): Magika's label of such a
# group on bytes without a control character (`clean_text`) is a guess the bytes rule out
_BINARY = frozenset({"archive", "executable"})

NAMES = {
    "pdf": "a PDF document",
    "doc": "a Word document",
    "docx": "a Word document",
    "xls": "an Excel workbook",
    "xlsx": "an Excel workbook",
    "xlsb": "an Excel binary workbook",
    "ppt": "a PowerPoint presentation",
    "pptx": "a PowerPoint presentation",
    "rtf": "an RTF document",
    "csv": "a CSV file",
    "txt": "a text file",
    "jpeg": "a JPEG image",
    "png": "a PNG image",
    "gif": "a GIF image",
    "heif": "a HEIC image",
    "mp4": "an MP4 video",
    "qt": "a QuickTime video",
    "wav": "a WAV audio file",
    "zip": "a ZIP archive",
    "rar": "a RAR archive",
    "sevenzip": "a 7-Zip archive",
    "gzip": "a gzip archive",
    "tar": "a tar archive",
    "cab": "a Windows cabinet archive",
    "iso": "a disk image (ISO)",
    "pebin": "a Windows program (.exe)",
    "elf": "a Linux program",
    "macho": "a macOS program",
    "msi": "a Windows installer (.msi)",
    "lnk": "a Windows shortcut (.lnk)",
    "jar": "a Java program (.jar)",
    "apk": "an Android app (.apk)",
    "html": "an HTML page",
    "hta": "an HTML application (.hta)",
    "mht": "a web archive (MHT)",
    "svg": "an SVG image (can carry scripts)",
    "javascript": "a JavaScript program",
    "vba": "a Visual Basic script",
    "powershell": "a PowerShell script",
    "batch": "a Windows batch script",
    "shell": "a shell script",
    "shebang": "a script that runs as a program (#!)",
    "chm": "a compiled HTML help file",
    "internetshortcut": "an Internet shortcut (.url)",
    "unknown": "unrecognised binary data",
    "encrypted_office": "an encrypted Office document",
    "compound": "an OLE compound file that is not a Word, Excel or PowerPoint document",
    "outlook": "an Outlook message",
}

_MACHO = (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe")


@cache
def _kb() -> dict[str, dict[str, Any]]:
    """Magika's content-type table (MIME type, group, extensions) for labels we assign."""
    text = resources.files("magika").joinpath("config/content_types_kb.min.json").read_text()
    kb: dict[str, dict[str, Any]] = json.loads(text)
    return kb


# Magika's groups whose labels a picture's structure does not overrule (`_jpeg_accounted_for`
# in filetype_structure): a script, a program, an archive or a document that another reader
# may open in the same bytes
_ACTING = frozenset({"code", "executable", "archive", "document"})


def _filetype(label: str, score: float) -> FileType:
    info = _kb().get(label, {})
    mime = info.get("mime_type") or "application/octet-stream"
    return FileType(label, mime, info.get("group") or "unknown", bool(info.get("is_text")), score)


def name_of(label: str) -> str:
    """A label in words, with its article: "a ZIP archive"."""
    if label in NAMES:
        return NAMES[label]
    return f"content of type {(_kb().get(label) or {}).get('description') or label}"


def sniff_program(data: bytes) -> str | None:
    """A program header Magika can miss on tiny or truncated files: PE, ELF, Mach-O, ``#!``."""
    head = data[:64]
    if head[:2] == b"MZ" and len(data) >= 64:
        (pe,) = struct.unpack_from("<I", data, 0x3C)
        # A real DOS header is binary; "MZ" starting a text file is not a program.
        if data[pe : pe + 4] == b"PE\0\0" or b"\0" in head or b"cannot be run in DOS" in data[:512]:
            return "pebin"
    if head[:4] == b"\x7fELF" and head[4:5] in (b"\x01", b"\x02"):
        return "elf"
    if head[:4] in _MACHO:
        return "macho"
    if head.startswith((b"#!/", b"#! /")):
        return "shebang"
    return None


class FileTypeEngine:
    """Magika-based type detection and the extension / content checks (see module docstring)."""

    name = "filetype"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model: Any = None

    def _magika(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = _shared_magika()
        return self._model

    def forget(self) -> None:
        """Drop the model answers remembered so far (`_Remembered`): a benchmark that scans
        the same files again measures the model, not the memory."""
        if self._model is not None:
            self._model._remembered.forget()

    def version(self) -> str:
        import magika

        return f"magika {magika.__version__} ({self._magika().get_model_name()})"

    def detect(self, data: bytes) -> FileType:
        """The content type of ``data``: Magika's answer, corrected from the file's structure
        where the file's own header parses (a program header, an ISO media brand, an OOXML
        package, an OLE compound file's streams, a RIFF/WAVE header, a PDF named by
        Illustrator): the consumer reads that structure, so it wins; Magika is the second
        opinion for everything else. Where the structure wins whatever Magika says (an OLE
        compound file, a WAV: `decisive`), Magika is not asked and the score is 1.0."""
        found = decisive(data)
        if found:
            return _filetype(found, 1.0)
        result = self._magika().identify_bytes(for_magika(data))
        label, score = str(result.output.label), float(result.score)
        program = sniff_program(data)
        if program and result.output.group != "executable":
            return _filetype("shell" if program == "shebang" else program, 1.0)
        found = structure(data, label)
        if found == "jpeg" and result.output.group in _ACTING:
            found = None  # a script at both ends of a photo: the script host reads it too
        if found in (None, "unknown") and result.output.group in _BINARY and clean_text(data):
            found = "txt"  # a table of numbers Magika took for a NumPy archive: text all along
        return _filetype(found, score) if found else _filetype(label, score)

    def scan(self, item: Item, context: Context) -> Result:
        if _guessed_script(item):  # text under a text extension (see filetype_scripts)
            item = replace(item, type=_filetype("txt", item.type.score))
        ext, label = item.extension, item.type.label
        program = sniff_program(item.data)
        content = "shell" if program == "shebang" else program or label  # for the name checks
        findings, disguised = self._active(item, program, content)
        if item.depth > 0 and not item.named:  # a named child is opened as an upload is
            if (
                item.type.group == "archive"
                and label not in PROGRAMS | _OPENED_ARCHIVES
                and not _data_only(item.data, label)
            ):
                # only zip members are unpacked and checked one by one; anything else inside
                # a document would reach the reader unchecked but for antivirus signatures
                what = f"{_bare(name_of(label))} that cannot be inspected"
                findings.append(finding(self.name, ARCHIVE, what))
            return Result(findings)
        allowed = ext in context.allowed_extensions
        if not allowed:
            message = (
                f"'{ext}' files are not allowed"
                if ext
                else "files without an extension are not allowed"
            )
            findings.append(finding(self.name, EXTENSION_NOT_ALLOWED, message))
        if not item.data:
            findings.append(_empty(ext))
            return Result(findings)
        fits = _fits(ext, content) and _ONLY_IF.get((ext, content), bool)(item.data)
        fits = fits or _text_named_text(ext, content, item.data)
        # Excel opens a .csv that starts with an XML declaration as XML (after its warning),
        # whatever Magika calls it: no exporter writes one (an HTML link in a first cell does:
        # xlsx2csv's --hyperlinks)
        fits = fits and not (ext == ".csv" and markup(item.data, "<?xml"))
        if allowed and not fits and not disguised:  # said once is enough
            findings.append(finding(self.name, TYPE_MISMATCH, _mismatch(ext, label, program)))
        archive = item.type.group == "archive" and label not in PROGRAMS
        if archive and not (allowed and _fits(ext, label)):
            what = f"{_bare(name_of(label))}: this kind of archive is not allowed"
            findings.append(finding(self.name, ARCHIVE, what))
        return Result(findings)

    def _active(self, item: Item, program: str | None, content: str) -> tuple[list[Finding], bool]:
        """EXECUTABLE or SCRIPT, and whether the message already says what it is disguised as."""
        ext, label = item.extension, item.type.label
        disguise = f" disguised as a {ext} file" if item.depth == 0 and ext else ""
        if program or item.type.group == "executable" or label in PROGRAMS:
            what, code, shown = _bare(name_of(program or label)), EXECUTABLE, content
        elif _script(item):
            what, code, shown = _bare(name_of(label)), SCRIPT, label
        else:
            return [], False
        disguised = bool(disguise) and not _fits(ext, shown)
        return [finding(self.name, code, what + (disguise if disguised else ""))], disguised


def _script(item: Item) -> bool:
    """Whether ``item`` is a script (`SCRIPTS`); inside a file (`CHILD_SCRIPTS`), not a web
    page Word imports (`Item.imported`), nor a text-only script's label on binary data; never
    a web page under the extension of the Office application that opens it (`OFFICE_PAGES`)."""
    label = item.type.label
    if label in OFFICE_PAGES.get(item.extension, ()):
        return False
    if item.depth == 0:
        return label in SCRIPTS
    if label not in CHILD_SCRIPTS or item.imported:
        return False
    if label == "html" and mathml(item.data):
        return False  # a formula a browser shows (LaTeX's tagged PDFs attach one per formula)
    return label not in _TEXT_SCRIPTS or is_text(item.data) or not _wide(item.data)


def _guessed_script(item: Item) -> bool:
    """Whether Magika's script label on an uploaded text file (.txt, .csv, .tsv) is a guess:
    its text has nothing its language needs (`filetype_scripts.reads_as_script`)."""
    return (
        item.depth == 0
        and ACCEPTED.get(item.extension) is _TEXT
        and item.type.label in GUESSED
        and not reads_as_script(item.type.label, item.data)
    )


def _wide(data: bytes) -> bool:
    head = data[:4096]
    return head.count(0) * _WIDE >= len(head)


_SHARED: list[Any] = []  # the process's one model (`_shared_magika`)
_SHARED_LOCK = threading.Lock()


def _shared_magika() -> Any:
    """One Magika for every scanner of the process: the model is read-only and its sessions
    thread-safe, and loading it costs 0.2 s of CPU (a policy reload, a rescan run or a test
    building a scanner paid it again). Its remembered answers are shared too (`_Remembered`):
    the same input has the same answer whichever scanner asks."""
    with _SHARED_LOCK:
        if not _SHARED:
            _SHARED.append(_one_thread_magika())
        return _SHARED[0]


def _one_thread_magika() -> Any:
    """Magika with its model run on the calling thread. onnxruntime's default pool spins while
    it waits for work: 16 ms of CPU a call instead of 10.6 on 2 cores (docs/benchmarks.md),
    taken from clamd and the other scans; the pipeline's own threads use the cores instead.
    Overrides Magika's session factory (a private method of Magika 1.x, which pyproject asks
    for; without it Magika keeps its default session), and remembers the model's answer for the
    last `_REMEMBERED` inputs (`_Remembered`)."""
    import onnxruntime  # type: ignore[import-untyped]
    from magika import Magika  # heavy (onnxruntime): imported on first use

    class OneThread(Magika):
        _remembered = _Remembered()

        def _init_onnx_session(self) -> Any:
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = options.inter_op_num_threads = 1
            return onnxruntime.InferenceSession(
                self._model_path, sess_options=options, providers=["CPUExecutionProvider"]
            )

        def _get_raw_predictions(self, features: list[tuple[Any, Any]]) -> list[list[float]]:
            return self._remembered.predictions(features, super()._get_raw_predictions)

    return OneThread()


_REMEMBERED = 4096  # model answers kept: about 1.5 MB


class _Remembered:
    """The model's raw predictions by its input (the first and last 1,024 bytes Magika reads,
    padded): the same input always gets the same answer, so a file seen before (a logo or a
    chart workbook repeated in one deck, a file sent again) costs no model call (10-15 ms of
    CPU). Thread-safe; the oldest answers are dropped past `_REMEMBERED`."""

    def __init__(self) -> None:
        self._answers: OrderedDict[bytes, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def forget(self) -> None:
        with self._lock:
            self._answers.clear()

    def predictions(
        self, features: list[tuple[Any, Any]], model: Callable[[list[Any]], list[list[float]]]
    ) -> list[list[float]]:
        keys = [_key(found) for _, found in features]
        with self._lock:
            known = [self._answers.get(key) for key in keys]
        missing = [item for item, answer in zip(features, known, strict=True) if answer is None]
        fresh = iter(model(missing) if missing else [])
        out = [answer if answer is not None else next(fresh) for answer in known]
        with self._lock:
            for key, answer in zip(keys, out, strict=True):
                self._answers[key] = answer
                self._answers.move_to_end(key)
            while len(self._answers) > _REMEMBERED:
                self._answers.popitem(last=False)
        return out


def _key(found: Any) -> bytes:
    """A model input as bytes (values 0-256: the padding token is 256)."""
    return array("H", [*found.beg, 0xFFFF, *found.mid, 0xFFFF, *found.end]).tobytes()


def _empty(ext: str) -> Finding:
    """An empty text file is an empty note (EMPTY_FILE, allowed by default); an empty file
    under any other extension is not what the extension promises (no PDF, document or picture
    has zero bytes)."""
    if ACCEPTED.get(ext) is _TEXT:
        return finding("filetype", EMPTY_FILE, "the file is empty")
    return finding("filetype", TYPE_MISMATCH, f"an empty file is not a valid {ext or 'file'}")


def _mismatch(ext: str, label: str, program: str | None) -> str:
    # the extension's own type named first (.xls: an Excel workbook, not an encrypted one)
    own = ext.lstrip(".")
    expected = sorted(ACCEPTED.get(ext, _natural(ext)) - {"*text"}, key=lambda t: (t != own, t))
    if label == "unknown" and not program and expected:
        return f"content not recognised as {name_of(expected[0])} ({ext})"
    return f"{name_of(program or label)} named {ext}"


def _fits(ext: str, label: str) -> bool:
    """Whether content labelled ``label`` is what ``ext`` promises (unknown ext: cannot say)."""
    accepted = ACCEPTED.get(ext)
    if accepted is None:
        accepted = _natural(ext)
        if not accepted:
            return True
        if all(_kb()[lbl].get("is_text") for lbl in accepted):
            accepted = _TEXT  # .md, .json, ...: Magika's finer text labels are unreliable
    if accepted is _TEXT:
        return label not in SCRIPTS and bool(_kb().get(label, {}).get("is_text"))
    return label in accepted


def _text_named_text(ext: str, label: str, data: bytes) -> bool:
    """Text is text whatever Magika guesses (docs/findings.md): a file under a text extension
    that reads as text (`is_text`: by its byte-order mark, as UTF-8, or a code page without
    control characters) fits unless Magika calls it a script. Its finer labels on prose are
    guesses: a README quoting Adobe's ``%%Copyright:`` lines came out "postscript" (hunt 105);
    Notepad shows such a file as text and nothing reads a .txt another way. Excel opens a .csv
    beginning ``ID;`` as a SYLK sheet by its content, so that one does not fit."""
    if ACCEPTED.get(ext) is not _TEXT or label in SCRIPTS or not is_text(data):
        return False
    return not (ext == ".csv" and data.startswith(b"ID;"))


def _natural(ext: str) -> frozenset[str]:
    """The labels whose usual extensions (per Magika) include ``ext``."""
    bare = ext.lstrip(".")
    return frozenset(lbl for lbl, info in _kb().items() if bare in (info.get("extensions") or ()))


def _bare(text: str) -> str:
    """Drop the leading article for a finding message: "a ZIP archive" → "ZIP archive"."""
    for article in ("a ", "an "):
        if text.startswith(article):
            return text[len(article) :]
    return text


ENGINE = EngineSpec(
    name="filetype",
    summary="true type from the content (Magika) against the extension and the allow-list; "
    "executables, scripts, archives",
    types=("*",),
    codes=(EXTENSION_NOT_ALLOWED, TYPE_MISMATCH, EXECUTABLE, SCRIPT, ARCHIVE, EMPTY_FILE),
    build=lambda options, resources: FileTypeEngine(),
    options=Options,
    order=0,
)
