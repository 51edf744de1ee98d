"""Embedded objects in Office files: which are content to scan, and which are OLE_OBJECT.

The rule (issue 9). An embedded object is content, handed to the pipeline whole and reported
only for what the pipeline then finds in it, when it is an Office document: an OOXML package
(a chart's workbook, an embedded .xlsx or .docx) or a compound file holding one application's
document (``WordDocument``, ``Workbook``/``Book``, ``PowerPoint Document``, or an encrypted
package) whose class id is empty or one of Office's own document classes. Embedding a worksheet
in a letter is routine, and its macros, DDE and links are found when it is scanned.

A chart LibreOffice writes into a .doc or .ppt (`libreoffice_chart`) is content too: its
OpenDocument chart package is handed over, when it holds a chart's parts and nothing else. So
is an Office 2007+ document by its ``Package`` stream (`office_package`) and an embedded
Acrobat document's PDF (`acrobat_document`): each is scanned as the file its program opens.

So is the file in an OLE package (`packaged`: Insert > Object > Create from File, shown as an
icon) when the package embeds it (no link, no command), is read one way only
(`attachguard.formats.olepackage`), and every name it carries has one extension, of a type the
policy allows: double-clicking the icon writes the file out under that name and Windows opens
it by its extension, as it would the same file sent on its own. The file is handed over as such
(`Child.named`): judged as an upload is, its content against its name.

Everything else is OLE_OBJECT, with its payload handed to the pipeline as well:

- other OLE packages (``\\x01Ole10Native``): a program, a script, a shortcut, an archive, a
  link or a command, which runs when the reader double-clicks the icon;
- ActiveX controls (``\\x03OCXNAME``);
- any object whose class id oletools lists with an exploit (Equation Editor, monikers, MSCOMCTL),
  whatever its streams look like: Office hands the object to the class the id names;
- objects of any other server (Paint, Visio, MathType, unknown classes): activating one starts
  a program we cannot vouch for;
- in a legacy (OLE) file, an embedded object whose storage cannot be written out as a file of
  its own (`cfbwrite.storage_file`: two entries a reader cannot tell apart); the others are
  judged by the rules above, as the file Word or Excel activates them as;
- a document whose ``\x01Ole`` stream marks it linked (MS-OLEDS OLEStream flag 1): Office
  updates it from the source its moniker names, a URL in CVE-2017-0199, rather than showing
  the copy inside.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Collection
from typing import Any

import olefile  # type: ignore[import-untyped]
from oletools import oleobj

from attachguard.codes import OLE_OBJECT
from attachguard.engines.embedded import describe_clsid, object_message, safe_name
from attachguard.engines.office_shared import Job, open_ole
from attachguard.formats.inert import parses
from attachguard.formats.ole import OleContainer, OleKind, classify_ole
from attachguard.formats.olepackage import PackagedFile, packaged_file
from attachguard.formats.payloads import find_payload
from attachguard.formats.runnable import extension
from attachguard.formats.targets import on_a_share

# Office's own document classes: Word.Document.6/.8/.12 and macro-enabled, Word.Picture.8,
# Excel.Sheet.5/.8/.12, Excel.Chart.5/.8, the macro-enabled and binary sheets, PowerPoint.Show.7
# and .8, PowerPoint.Slide.8; and Microsoft Graph's chart (MSGraph.Chart.8), the chart of every
# Word and PowerPoint 97-2003 file: its data is a workbook stream, read as one.
_OFFICE_CLASSES = frozenset(
    {
        "00020900-0000-0000-C000-000000000046",
        "00020906-0000-0000-C000-000000000046",
        "00020907-0000-0000-C000-000000000046",
        "F4754C9B-64F5-4B40-8AF4-679732AC0607",
        "18A06B6B-2F3F-4E2B-A611-52BE631B2D22",
        "00020810-0000-0000-C000-000000000046",
        "00020811-0000-0000-C000-000000000046",
        "00020820-0000-0000-C000-000000000046",
        "00020821-0000-0000-C000-000000000046",
        "00020830-0000-0000-C000-000000000046",
        "00020832-0000-0000-C000-000000000046",
        "00020833-0000-0000-C000-000000000046",
        "EA7BAE70-FB3B-11CD-A903-00AA00510EA3",
        "64818D10-4F9B-11CF-86EA-00AA00B929E8",
        "64818D11-4F9B-11CF-86EA-00AA00B929E8",
        "00020803-0000-0000-C000-000000000046",
        "",  # no class: nothing can be activated
    }
)
# The ProgIDs of those classes a \x01CompObj stream may name for a storage without a class
_OFFICE_PROGIDS = frozenset({
    "Word.Document.6", "Word.Document.8", "Word.Document.12", "Word.Picture.8",
    "Excel.Sheet.5", "Excel.Sheet.8", "Excel.Sheet.12", "Excel.Chart.5", "Excel.Chart.8",
    "PowerPoint.Show.8", "PowerPoint.Slide.8", "MSGraph.Chart.8",
})  # fmt: skip
_DOCUMENTS = frozenset({OleKind.WORD, OleKind.EXCEL, OleKind.POWERPOINT, OleKind.ENCRYPTED_PACKAGE})
_PACKAGE = "\x01ole10native"
_OLE_STREAM = "\x01Ole"
_LINKED = 0x1  # OLEStream.Flags: a linked object, not an embedded one
_CONTROL = "\x03ocxname"
_EMPTY_WHEN_BLANK = frozenset({_CONTROL, "contents"})
# Office's classes for its OOXML documents (Excel.Sheet.12 and its macro-enabled and binary
# forms, Word.Document.12 and macro-enabled, PowerPoint.Show.12 and .Slide.12), and the streams
# Office writes beside such a document's Package stream
_OOXML_CLASSES = frozenset(
    {
        "00020830-0000-0000-C000-000000000046",
        "00020832-0000-0000-C000-000000000046",
        "00020833-0000-0000-C000-000000000046",
        "F4754C9B-64F5-4B40-8AF4-679732AC0607",
        "18A06B6B-2F3F-4E2B-A611-52BE631B2D22",
        "CF4F55F4-8F87-4D47-80BB-5808164BB3F8",
        "048EB43E-2059-422F-95E0-557DA96038AF",
    }
)
_PACKAGE_STREAMS = frozenset(
    {"package", "\x01compobj", "\x01ole", "\x03objinfo", "\x05summaryinformation",
     "\x05documentsummaryinformation"}
)  # fmt: skip
# Acrobat's document class (AcroExch.Document) and the streams beside its PDF
_ACROBAT = "B801CA65-A1FC-11D0-85AD-444553540000"
_FOXIT = "14E8BBD8-1D1C-4D56-A4DA-D20B75EB814E"
_FOXIT_PREFIX = re.compile(rb"%DocumentOle:[^%\r\n]{0,1024}%DocumentOle:(?=%PDF-)")
_ACROBAT_STREAMS = frozenset({"contents", "\x01compobj", "\x01ole", "\x03objinfo", "\x03eprint"})
# LibreOffice's class for a chart it writes into an Office file (LibreOffice.ChartDocument.1),
# the streams it writes beside the chart package, and what a chart package holds
_LIBREOFFICE_CHART = "0DD0A57F-CF3B-4FD2-BDA4-9442719B2A73"
_LIBREOFFICE_FORMULA = "D2D59CD1-0A6A-4D36-AE20-47817077D57C"  # opendocument.MathDocument.1
_CHART_STREAMS = frozenset({"\x01compobj", "\x01ole", "package_stream", "properties_stream"})
_CHART_PARTS = frozenset(
    {"mimetype", "content.xml", "styles.xml", "meta.xml", "settings.xml", "META-INF/manifest.xml"}
)
_CHART_FOLDERS = ("Pictures/", "ObjectReplacements/", "Thumbnails/")
_CHART = b"application/vnd.oasis.opendocument.chart"
_FORMULA = b"application/vnd.oasis.opendocument.formula"
_XLINK = "http://www.w3.org/1999/xlink"
_PRESENTATION = "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0"
# An event bound to something: OpenDocument's listener, OpenOffice.org 1.x's ``script:event``
# (a macro) and ``presentation:event`` (a click); a presentation's names, in both versions
_EVENTS = frozenset({"event-listener", "event"})
_PRESENTATIONS = frozenset({_PRESENTATION, "http://openoffice.org/2000/presentation"})
# The classes above by the ProgIDs an RTF object names them with (lower-cased: Windows looks
# ProgIDs up without case): Word activates an RTF object by its class name
CLASS_OF_PROGID = {
    "word.document.6": "00020900-0000-0000-C000-000000000046",
    "word.document.8": "00020906-0000-0000-C000-000000000046",
    "word.picture.8": "00020907-0000-0000-C000-000000000046",
    "word.document.12": "F4754C9B-64F5-4B40-8AF4-679732AC0607",
    "excel.sheet.5": "00020810-0000-0000-C000-000000000046",
    "excel.chart.5": "00020811-0000-0000-C000-000000000046",
    "excel.sheet.8": "00020820-0000-0000-C000-000000000046",
    "excel.chart.8": "00020821-0000-0000-C000-000000000046",
    "excel.sheet.12": "00020830-0000-0000-C000-000000000046",
    "powerpoint.show.7": "EA7BAE70-FB3B-11CD-A903-00AA00510EA3",
    "powerpoint.show.8": "64818D10-4F9B-11CF-86EA-00AA00B929E8",
    "powerpoint.slide.8": "64818D11-4F9B-11CF-86EA-00AA00B929E8",
    "powerpoint.show.12": "CF4F55F4-8F87-4D47-80BB-5808164BB3F8",
    "powerpoint.slide.12": "048EB43E-2059-422F-95E0-557DA96038AF",
    "msgraph.chart.8": "00020803-0000-0000-C000-000000000046",
    "acroexch.document": "B801CA65-A1FC-11D0-85AD-444553540000",
    "acroexch.document.7": "B801CA65-A1FC-11D0-85AD-444553540000",
    "acroexch.document.11": "B801CA65-A1FC-11D0-85AD-444553540000",
    "acroexch.document.dc": "B801CA65-A1FC-11D0-85AD-444553540000",
    "libreoffice.chartdocument.1": "0DD0A57F-CF3B-4FD2-BDA4-9442719B2A73",
}
# think-cell's class (TCLayout.ActiveDocument.1: think-cell puts one on the slide master of every
# deck edited where the add-in is installed), its streams (a chart's layout in XML, its parts)
# and what Office writes beside them
_THINK_CELL = "3EAB3858-A0E0-4A3B-A405-F4D525E85265"
_THINK_CELL_STREAM = re.compile(r"think-cell(?:xml|child\d{1,6})")
_THINK_CELL_BESIDE = frozenset({"\x01compobj", "\x03objinfo"})
# The Packager's class (Package) and the streams Office writes beside a package's native data
_PACKAGER = "0003000C-0000-0000-C000-000000000046"
_PACKAGER_STREAMS = frozenset({_PACKAGE, "\x01compobj", "\x01ole", "\x03objinfo", "\x03eprint"})


def two_readings(ole: Any, container: OleContainer) -> bool:
    """Whether readers could disagree about the compound file (duplicate entries, streams of
    two applications). olefile also notes the defects it tolerates (a wrong class id in the
    header): those are facts about a readable file, not two readings."""
    tolerated = {str(message) for _, message in getattr(ole, "parsing_issues", ())}
    return any(problem not in tolerated for problem in container.problems)


def _names(ole: Any, storage: list[str] | None = None) -> set[str]:
    """The lower-cased names of the entries under ``storage`` (the root by default), without
    the empty ``\x03OCXNAME`` and ``contents`` streams LibreOffice adds to every object it
    carries into an OOXML file: an empty control name names no control."""
    where = storage or []
    names = set()
    for path in ole.listdir(streams=True, storages=True):
        if len(path) <= len(where) or path[: len(where)] != where:
            continue
        name = path[len(where)].lower()
        inner = [*where, path[len(where)]]
        if len(path) == len(where) + 1 and name in _EMPTY_WHEN_BLANK and not ole.get_size(inner):
            continue
        names.add(name)
    return names


def is_document(ole: Any, container: OleContainer) -> bool:
    """Whether a compound file is an Office document and nothing else (see the module
    docstring): one application's streams, an Office class or none, no known exploit, no
    ActiveX control, nothing that reads differently to different readers."""
    _, cves = describe_clsid(container.clsid)
    names = _names(ole) | {
        path.rsplit("/", 1)[-1].lower() for path in container.streams if "/" in path
    }
    return (
        len(container.kinds) == 1
        and container.kind in _DOCUMENTS
        and container.clsid in _OFFICE_CLASSES
        and not cves
        and _CONTROL not in names
        and not two_readings(ole, container)
        and not linked(ole)
    )


def office_progid(ole: Any, storage: list[str]) -> str | None:
    """The Office document class (`_OFFICE_PROGIDS`) an object's ``\x01CompObj`` stream names
    (MS-OLEDS 2.3.8: header, user type, clipboard format, then the ProgID), None for any other
    or when the stream cannot be read."""
    path = [*storage, "\x01CompObj"]
    if not ole.exists("/".join(path)):
        return None
    data = ole.openstream(path).read(4096)
    try:
        pos = _skip_string(data, 28)  # the header, then the user type
        marker = int.from_bytes(data[pos : pos + 4], "little")
        pos = pos + 8 if marker in (0xFFFFFFFF, 0xFFFFFFFE) else _skip_string(data, pos)
        size = int.from_bytes(data[pos : pos + 4], "little")
        if not 0 < size <= 64 or pos + 4 + size > len(data):
            return None
        progid = data[pos + 4 : pos + 4 + size].rstrip(b"\0").decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None
    return progid if progid in _OFFICE_PROGIDS else None


def _skip_string(data: bytes, pos: int) -> int:
    """Past the length-prefixed string at ``pos`` (ValueError when it runs past the end)."""
    size = int.from_bytes(data[pos : pos + 4], "little")
    if pos + 4 > len(data) or pos + 4 + size > len(data):
        raise ValueError("a string past the end of \x01CompObj")
    return pos + 4 + size


def linked(ole: Any, storage: list[str] | None = None) -> bool:
    """Whether the object in ``storage`` (the root by default) is linked to a source outside
    the file: its ``\x01Ole`` stream's flags say so (version, then flags, little-endian)."""
    path = [*(storage or []), _OLE_STREAM]
    if not ole.exists("/".join(path)):
        return False
    head = ole.openstream(path).read(8)
    # too short to say: taken as linked (an object that may update from elsewhere)
    return len(head) < 8 or bool(int.from_bytes(head[4:8], "little") & _LINKED)


def compound_object(job: Job, data: bytes, where: str) -> None:
    """An embedded compound file (an OOXML embedding, a PowerPoint 97 object): an Office
    document is handed over whole; anything else is OLE_OBJECT (`storage_object`)."""
    ole = open_ole(data, job.budget())
    try:
        if inert(job, ole, [], where):
            return
        container = classify_ole(ole)
        if two_readings(ole, container):  # which stream a reader takes is not known
            storage_object(job, ole, [], where)
        elif is_document(ole, container):
            job.child(where, data)
        elif (package := office_package(ole)) is not None:
            job.child(f"{where}/Package", package)
        elif (pdf := acrobat_document(ole)) is not None:
            job.child(f"{where}/CONTENTS", pdf)
        elif (chart := libreoffice_chart(ole)) is not None:
            job.child(f"{where}/chart", chart)
        elif (layout := think_cell(ole)) is not None:
            for name, stream in layout:
                job.child(f"{where}/{name}", stream)
        elif (file := packaged(ole, job.context.allowed_extensions)) is not None:
            job.child(f"{where}/{file[0]}", file[1], named=True)
        else:
            storage_object(job, ole, [], where)
    finally:
        ole.close()


def inert(job: Job, ole: Any, storage: list[str], where: str) -> bool:
    """Whether the object in ``storage`` ([]: the root) has no class and holds nothing but
    presentation pictures (``\x02OlePres*`` streams), or nothing at all: no server Office could
    activate, no data for one (LibreOffice leaves such a storage, an empty picture in it, for
    an object it dropped). Its pictures are handed over as content."""
    if ole.getclsid(storage) if storage else ole.root.clsid:
        return False
    depth = len(storage)
    inside = [p for p in ole.listdir(streams=True, storages=True) if p[:depth] == storage]
    inside = [p for p in inside if len(p) > depth]
    if any(
        len(p) != depth + 1
        or not p[-1].lower().startswith("\x02olepres")
        or ole.get_type(p) != olefile.STGTY_STREAM
        for p in inside
    ):
        return False
    pictures = [(path, presentation_data(bytes(ole.openstream(path).read()))) for path in inside]
    if any(data is None for _, data in pictures):
        return False  # bytes a presentation stream does not account for: not only a picture
    for path, data in pictures:
        if data:
            job.child(f"{where}/{safe_name(path[-1])}", data)
    return True


_TRAILER = 18  # bytes a presentation stream may end with after its data (Reserved2)
_NAME = re.compile(rb"[\x20-\x7e]{0,64}\x00?")  # a clipboard format's name
_MAX_DEVICE = 1024  # bytes of a DVTARGETDEVICE: four offsets, names, a DEVMODE


def presentation_data(stream: bytes) -> bytes | None:
    """The picture an OLE presentation stream holds (MS-OLEDS 2.3.4 OLEPresentationStream:
    its clipboard format, target device, aspect, index, flags, size, then the data), or None
    when its fields do not account for its bytes (a review hid a program after the header of
    an empty one)."""
    try:
        marker = int.from_bytes(stream[:4], "little")
        pos = 8 if marker in (0xFFFFFFFF, 0xFFFFFFFE) else 4 + marker  # a format id, or a name
        name = b"" if marker in (0xFFFFFFFF, 0xFFFFFFFE) else stream[4:pos]
        device = int.from_bytes(stream[pos : pos + 4], "little")
        # a format's name is a short ANSI string; a target device, a printer's names and
        # DEVMODE: neither holds more (a review hid a program in each)
        if not (_NAME.fullmatch(name) and 4 <= device <= _MAX_DEVICE):
            return None
        if find_payload(stream, pos, pos + device) is not None:
            return None
        pos += device + 24  # the device, then aspect, index, flags, reserved, width, height
        size = int.from_bytes(stream[pos : pos + 4], "little")
        data = stream[pos + 4 : pos + 4 + size]
    except (ValueError, IndexError):
        return None
    left = len(stream) - (pos + 4 + size)
    return data if len(stream) >= pos + 4 and len(data) == size and 0 <= left <= _TRAILER else None


def _content(
    ole: Any, classes: Collection[str], stream: str, allowed: frozenset[str]
) -> bytes | None:
    """The ``stream`` of an object whose class is one of ``classes``, not linked, holding
    nothing beside it but ``allowed`` streams and presentation pictures (``\x02OlePres``);
    None for any other object."""
    if (ole.root.clsid or "").upper() not in classes or linked(ole):
        return None
    names = _names(ole)
    if stream.lower() not in names or any(
        not (name in allowed or name.startswith("\x02olepres")) for name in names
    ):
        return None
    return bytes(ole.openstream(stream).read())


def office_package(ole: Any) -> bytes | None:
    """The OOXML document of an Office 2007+ object (what Office writes for an embedded .xlsx,
    .docx or .pptx, in a .ppt, a .doc or an OOXML file's ``oleObject*.bin``): its class is one
    of Office's OOXML document classes and the document is its ``Package`` stream, which Office
    opens as that document. None for anything else, or when the storage holds more than Office
    writes beside the package, or is linked."""
    package = _content(ole, _OOXML_CLASSES, "Package", _PACKAGE_STREAMS)
    return package if package is not None and _an_ooxml_package(package) else None


def _an_ooxml_package(package: bytes) -> bool:
    """Whether ``package`` is a zip that Office could open as a document: it holds the content
    types part. Another zip (a program and a shortcut in it) is no document of this class."""
    if package[:4] != b"PK\x03\x04":
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(package)) as archive:
            return any(n.lower() == "[content_types].xml" for n in archive.namelist())
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return False


def acrobat_document(ole: Any) -> bytes | None:
    """The PDF of an embedded Acrobat document (Insert > Object > Adobe Acrobat Document, in
    Word, Excel or PowerPoint): Acrobat's class, and the PDF in its ``CONTENTS`` stream, which
    Acrobat opens as the PDF it is; it is scanned as one, as an attached PDF is; and Foxit
    Reader's (its ``Contents`` stream: the source's path between two ``%DocumentOle:``
    markers, then the PDF, handed over without them). None for
    anything else, when the storage holds more than Acrobat and Office write beside the PDF
    (a picture for printing, ``\x03EPRINT``), or is linked."""
    pdf = _content(ole, {_ACROBAT}, "CONTENTS", _ACROBAT_STREAMS)
    if pdf is not None and b"%PDF-" in pdf[:1024]:
        return pdf
    # Foxit's (FoxitReader.Document): the PDF after the source's path between two markers
    foxit = _content(ole, {_FOXIT}, "Contents", _ACROBAT_STREAMS)
    marked = _FOXIT_PREFIX.match(foxit) if foxit is not None else None
    return foxit[marked.end() :] if foxit is not None and marked is not None else None


def libreoffice_chart(ole: Any) -> bytes | None:
    """The chart package of a LibreOffice chart object (what LibreOffice writes for a chart in
    a .doc or .ppt), or the formula package of a LibreOffice Math object, as they are written
    alike; None for anything else. Its class is LibreOffice's own, which Office has
    no server for (it shows the picture kept beside it); LibreOffice opens it as the OpenDocument
    chart in ``package_stream``, which holds no macros. It is that chart only when the storage
    holds nothing else than LibreOffice writes, is not linked, and the package is a chart and
    nothing else: no script, no Basic library, no other document's parts."""
    package = _content(ole, {_LIBREOFFICE_CHART}, "package_stream", _CHART_STREAMS)
    if package is not None and _object_package(package, _CHART, _CHART_FOLDERS):
        return package
    # LibreOffice Math's formula object, written the same way (hunt 98: POI's equation.doc)
    package = _content(ole, {_LIBREOFFICE_FORMULA}, "package_stream", _CHART_STREAMS)
    formula = package is not None and _object_package(package, _FORMULA, ("Configurations2/",))
    return package if formula else None


def think_cell(ole: Any) -> list[tuple[str, bytes]] | None:
    """The streams of a think-cell object (a chart's layout in XML, and its parts), when the
    storage holds nothing else than think-cell and Office write, nothing is linked, and its
    XML parses without a DTD; None for anything else. Activating it reaches think-cell's
    add-in, where installed (else PowerPoint shows the picture kept beside it), and runs no
    program of the file's: its streams are content, scanned as such."""
    if (ole.root.clsid or "").upper() != _THINK_CELL or linked(ole):
        return None
    paths = ole.listdir(streams=True, storages=True)
    names = [path[0].lower() for path in paths]
    if any(len(path) != 1 for path in paths) or "think-cellxml" not in names:
        return None
    if not all(
        _THINK_CELL_STREAM.fullmatch(name) or name in _THINK_CELL_BESIDE
        for name in names
        if not name.startswith("\x02olepres")
    ):
        return None
    streams = [(path[0], bytes(ole.openstream(path).read())) for path in paths]
    if not all(parses(data) for name, data in streams if name.lower().endswith("xml")):
        return None
    return [(safe_name(name), data) for name, data in streams if name.lower().startswith("think")]


def packaged(ole: Any, allowed: Collection[str]) -> tuple[str, bytes] | None:
    """The file in an OLE package (the Packager's class, not linked, nothing beside its native
    data but what Office writes) as (name, bytes), when it may be opened as the file it is
    (`opened_package`); None for any other object."""
    native = _content(ole, {_PACKAGER}, _PACKAGE, _PACKAGER_STREAMS)
    return None if native is None else opened_package(packaged_file(native), allowed)


def opened_package(
    package: PackagedFile | None, allowed: Collection[str]
) -> tuple[str, bytes] | None:
    """A packaged file as (the name Windows opens it under, its bytes), when every name the
    package gives it (its label too, when the label has an extension) has one extension and
    the policy allows that extension; None otherwise. The name keeps its extension whole."""
    if package is None:
        return None
    extensions = {extension(path) for path in package.paths}
    extensions |= {extension(label) for label in package.labels} - {""}  # shown, not opened
    if len(extensions) != 1 or f".{(ext := extensions.pop())}" not in allowed:
        return None
    stem = package.temporary_name.rstrip(". \t").rsplit(".", 1)[0]
    return f"{safe_name(stem, 60)}.{ext}", package.data


def _object_package(package: bytes, kind: bytes, folders: tuple[str, ...]) -> bool:
    """Whether ``package`` is an OpenDocument object of ``kind`` (its ``mimetype`` says so)
    whose members are only such an object's: its XML parts and manifest, and what lies in
    ``folders`` (a chart's pictures, replacement images and thumbnail); no SVG picture (it may
    run script or load more), and no XML part linking outside or binding a script
    (`_self_contained`)."""
    try:
        with zipfile.ZipFile(io.BytesIO(package)) as archive:
            names = archive.namelist()
            found = archive.read("mimetype") if "mimetype" in names else b""
            if found != kind or not all(n in _CHART_PARTS or n.startswith(folders) for n in names):
                return False
            if any(name.lower().endswith((".svg", ".svgz")) for name in names):
                return False
            parts = [archive.read(name) for name in names if name.endswith(".xml")]
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError, NotImplementedError):
        return False
    return all(_self_contained(part) for part in parts)


# What in an OpenDocument package holds code LibreOffice may run: Basic libraries, scripts,
# dialogs (their folders and library lists)
_CODE_FOLDERS = ("basic/", "scripts/", "dialogs/")
_CODE_NAMES = ("script-lc.xml", "script-lb.xml", "dialog-lc.xml", "dialog-lb.xml")


def odf_code(package: bytes) -> bool | None:
    """Whether an OpenDocument package (a document, not only a chart) holds code LibreOffice may
    run: a Basic library, script or dialog among its members, a script or macro bound to an
    event in its XML (a script's event listener, an ``office:script``, a presentation's click
    that starts a program or activates an object) or a link that runs one
    (``vnd.sun.star.script:``, ``macro:``, also named in the bytes of a part whose XML does not
    parse: `_code_named`); None when it cannot be told (a damaged zip, XML that does not parse
    or holds a DTD and names no code). Hyperlinks to the web are content, as in any
    document."""
    facts = _odf_facts(package)
    if facts is None:
        return None
    codes = [code for code, _ in facts]
    return True if True in codes else None if None in codes else False


def odf_runs_nothing(package: bytes) -> bool:
    """Whether an OpenDocument package is known to hold no code (`odf_code`)."""
    return odf_code(package) is False


def odf_inert(package: bytes) -> bool:
    """Whether an OpenDocument package runs nothing (`odf_code`) and loads nothing from outside
    itself: every address of a linked picture, object, section or table inside it, no DDE
    source, and no hyperlink (a text's, a drawing's, a click's) to a network share."""
    facts = _odf_facts(package)
    return facts is not None and all(code is False and not outside for code, outside in facts)


def _odf_facts(package: bytes) -> list[tuple[bool | None, bool]] | None:
    """For each XML part of an OpenDocument package, read once: whether it holds code (None:
    cannot be told) and whether it loads from outside (`_part_facts`); a code member (Basic,
    scripts, dialogs) is one part holding code; None for a damaged zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(package)) as archive:
            names = archive.namelist()
            if any(n.lower().startswith(_CODE_FOLDERS) or n.lower() in _CODE_NAMES for n in names):
                return [(True, False)]
            return [_part_facts(archive.read(n)) for n in names if n.endswith(".xml")]
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError, NotImplementedError):
        return None


# Elements whose address is followed on a click (a hyperlink: allowed but to a share)
_CLICKED = frozenset({"a", "event-listener"})
# An address that names the package itself: empty, and ".." (an embedded chart's reference
# to the document holding it), as LibreOffice writes them (hunt 99's Hybrid PDFs)
_ITSELF = frozenset({"", ".", "..", "../"})


def _part_facts(xml: bytes) -> tuple[bool | None, bool]:
    """Whether one XML part holds code (`odf_code`; None when it does not parse) and whether
    it loads from outside the package (`odf_inert`). An empty part (LibreOffice leaves its
    keyboard settings so) holds nothing. An empty ``office:scripts``, which LibreOffice writes
    into every document, holds no code; a presentation's click that shows a page or a slide is
    a hyperlink."""
    if not xml.strip():
        return False, False
    found = {"code": False, "outside": False}

    def start(name: str, attrs: dict[str, str]) -> None:
        namespace, _, local = name.rpartition(" ")
        action = next((v for k, v in attrs.items() if k.endswith(" action")), "").strip().lower()
        event = local in _EVENTS
        if (event and namespace not in _PRESENTATIONS) or local == "script":
            found["code"] = True
        if event and action in ("execute", "verb"):
            found["code"] = True  # starts a program, activates an object
        href = attrs.get(f"{_XLINK} href", "").strip()
        if href.lower().startswith(("vnd.sun.star.script:", "macro:", "vnd.sun.star.basic:")):
            found["code"] = True
        if any(key.rpartition(" ")[2] == "dde-application" for key in attrs):
            found["outside"] = True  # a DDE source: another program's data
        if href in _ITSELF or _inside_package(href):
            return
        if local not in _CLICKED or on_a_share(href):
            found["outside"] = True

    parsed = parses(xml, start)
    if not parsed:
        return (True if found["code"] or _code_named(xml) else None), True
    return found["code"], found["outside"]


# What binds code in OpenDocument XML, read in the bytes of a part that does not parse: an event
# listener, an ``office:script`` (not the empty ``office:scripts`` every document has), a
# script or macro address
_CODE_BYTES = re.compile(
    rb"<[\w.-]*:?(?:event-listener|event|script)[\s/>]|vnd\.sun\.star\.(?:script|basic):|macro:",
    re.IGNORECASE,
)


def _code_named(xml: bytes) -> bool:
    """Whether a part whose XML does not parse names code in its bytes (`_CODE_BYTES`; UTF-16
    read with its NULs dropped): what LibreOffice repairs of it could bind a macro, so the part
    counts as holding code rather than as unknown (a listener after the damage hid it)."""
    return any(_CODE_BYTES.search(text) for text in (xml, xml.replace(b"\x00", b"")))


def _self_contained(xml: bytes) -> bool:
    """Whether an OpenDocument part links to nothing outside its package (every ``xlink:href``
    a path inside it) and binds no script or macro to an event (``office:event-listeners``,
    ``office:scripts``); parsed with expat, no DTD."""
    found = {"outside": False}

    def start(name: str, attrs: dict[str, str]) -> None:
        if name.rpartition(" ")[2] in ("event-listeners", "scripts", "event-listener"):
            found["outside"] = True
        href = attrs.get(f"{_XLINK} href")
        if href is not None and not _inside_package(href):
            found["outside"] = True

    return parses(xml, start) and not found["outside"]


def _inside_package(href: str) -> bool:
    """A path inside the package (``Pictures/1.png``, ``./Object 1``), no scheme, no share,
    no climbing out."""
    path = href.strip().replace("\\", "/")
    return (
        bool(path) and ":" not in path and not path.startswith("/") and ".." not in path.split("/")
    )


def storage_object(job: Job, ole: Any, storage: list[str], where: str) -> None:
    """An OLE_OBJECT finding for the object in ``storage`` of ``ole`` ([]: the root); its
    payload becomes children: the file inside an OLE package, else the object's data streams
    (names starting with a control character are OLE bookkeeping, not content)."""
    clsid = (ole.getclsid(storage) if storage else ole.root.clsid) or ""
    label, cves = describe_clsid(clsid)
    streams = [p for p in ole.listdir() if len(p) == len(storage) + 1 and p[:-1] == storage]
    names = _names(ole, storage)
    if _PACKAGE in names:
        label = "Package"
    what = "ActiveX control" if _CONTROL in names else "embedded object"
    if linked(ole, storage):
        what = "object linked to a source outside the file"
    message = object_message(what, label, cves, job.kind)
    job.say(OLE_OBJECT, message, label=label, location=where or None)
    for path in streams:
        payload = _payload(ole, path)
        if payload is None:
            continue
        name, data = payload
        if not job.child(f"{where}/{name}" if where else name, data):
            return


def _payload(ole: Any, path: list[str]) -> tuple[str, bytes] | None:
    """A stream's content as (name, bytes): the packaged file of an OLE package (None for a
    package that only links to a file), the stream itself for a data stream, None for OLE's
    own bookkeeping."""
    if path[-1].lower() == _PACKAGE:
        package = oleobj.OleNativeStream(ole.openstream(path).read())
        if package.is_link or not package.data:
            return None
        return safe_name(package.filename or "package"), bytes(package.data)
    if path[-1][:1] >= " ":
        return safe_name(path[-1]), ole.openstream(path).read()
    return None
