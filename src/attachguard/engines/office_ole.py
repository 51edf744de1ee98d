"""Legacy Office files (OLE2 compound files: doc, xls, ppt) and encrypted Office files of every
kind, read as Office reads them.

What the container is comes from the streams each application opens
(`attachguard.formats.ole.classify_ole`), never from the root class id, which Office ignores: a
Windows installer is EXECUTABLE whatever it is named; any other container that is not what its
extension promises is TYPE_MISMATCH, named right ("a Windows installer (MSI) package named .doc").
An encrypted file is ENCRYPTED, unless Excel's built-in default password opens it, which Excel
does without asking: the decrypted file is then a child, scanned like any other.

Excel 4 macro sheets, encryption and links come from the workbook's own records (BOUNDSHEET,
FILEPASS, SUPBOOK, Excel 5.0/95's EXTERNSHEET: `read_workbooks`) whatever the class id says;
VBA from olevba (a project without code: `formats.vba`; in a presentation, every VBA project
stored in a record, found as PowerPoint finds it: `office_ppt`); a sheet's hyperlinks and
formulas, and a web page the workbook republishes to another machine on every save
(`formats.biffsheets`); the fields of a Word document
(`attachguard.formats.docfields`: DDE fields, nested ones too, and AMBIGUOUS for a field whose
type a nested field computes, by the rule .docx and RTF fields get; the text read with tracked
changes shown, accepted and rejected: `formats.wordtext`); embedded objects (Word's ObjectPool,
Excel's MBD storages, PowerPoint's ExOleObjStg records, a bare OLE package) follow
`office_objects`; a presentation's
action settings follow `office_ppt`; a hyperlink base on a network share (the user-defined
property ``_PID_LINKBASE``: `attachguard.formats.oleprops`) is EXTERNAL_LINK, and so are a Word
document's attached template and mail merge sources on another machine
(`attachguard.formats.wordassoc`).

Ambiguous: streams of two applications in one file, two entries of one storage with the same
name, a sheet declared one type whose content is another. A workbook with both a Workbook and a
Book stream is read twice, as the Excel versions that take one or the other read it. Limits:
the declared stream sizes against the byte limit before anything is read, the directory and
record walks of `attachguard.formats.ole`, and Office's own cap on key derivation rounds (a file
may ask for 10,000,000 to stall the scan).
"""

from __future__ import annotations

import contextlib
import io
import struct
from collections.abc import Iterator
from typing import Any

import msoffcrypto
import olefile  # type: ignore[import-untyped]
from msoffcrypto.exceptions import DecryptionError, FileFormatError

from attachguard.codes import (
    AMBIGUOUS,
    ARCHIVE_EXPANSION,
    ARCHIVE_MEMBERS,
    CORRUPT,
    DDE,
    ENCRYPTED,
    EXECUTABLE,
    EXTERNAL_LINK,
    OLE_OBJECT,
    TYPE_MISMATCH,
    VBA_MACRO,
    XLM_MACRO,
    Code,
)
from attachguard.engines.office_objects import (
    compound_object,
    inert,
    office_progid,
    packaged,
    storage_object,
    two_readings,
)
from attachguard.engines.office_ppt import ppt_actions, ppt_storages
from attachguard.engines.office_shared import DAMAGED, Job, open_ole, vba_macros
from attachguard.errors import LimitExceeded
from attachguard.formats.biffsheets import CellLink
from attachguard.formats.cfbwrite import storage_file
from attachguard.formats.docfields import DocField, doc_fields, text_fields
from attachguard.formats.officeart import excel_drawings, hyperlink_texts, linked_in
from attachguard.formats.ole import (
    MAX_ENTRIES,
    LinkKind,
    OleContainer,
    OleKind,
    Workbook,
    classify_ole,
    matches_extension,
    read_workbooks,
)
from attachguard.formats.oleprops import user_defined
from attachguard.formats.targets import (
    ASSEMBLY,
    ASSEMBLY_MESSAGE,
    clicked_harm,
    on_a_share,
    target_kind,
)
from attachguard.formats.wordassoc import associated
from attachguard.formats.wordfields import FieldThreat, ThreatKind, classify_field, place_afar
from attachguard.formats.wordtext import document_readings

# Excel opens a file encrypted with this password without asking: it hides nothing from Excel.
_EXCEL_DEFAULT_PASSWORD = "VelvetSweatshop"  # noqa: S105  (Excel's published default)
# Office itself uses 100,000 rounds; a file may ask for 10,000,000 to stall the scan.
_MAX_SPIN_COUNT = 100_000
_PROTECTED = "password-protected Office document (cannot be scanned)"
_LINKS: dict[LinkKind, tuple[Code, str]] = {
    LinkKind.DDE_OR_OLE: (DDE, "DDE link"),
    LinkKind.EXTERNAL: (EXTERNAL_LINK, "link to an external workbook"),
    LinkKind.ELSEWHERE: (EXTERNAL_LINK, "link to an external workbook or DDE program"),
}
# What a workbook's cells link to (`biffsheets`), judged as a .xlsx's hyperlinks and formulas
_CELL_LINKS = {
    CellLink.SHARE_HYPERLINK: ("hyperlink to a network share or a program", "hyperlink"),
    CellLink.SHARE_FORMULA: (
        "HYPERLINK formula that opens a network share or a program",
        "formula",
    ),
    CellLink.FETCHING_FORMULA: (
        "formula that fetches from another machine when Excel calculates it (WEBSERVICE, IMAGE,"
        " RTD from a server)",
        "formula",
    ),
    # a .xls's web query, as a .xlsx's counts whatever it loads
    CellLink.EXTERNAL_DATA: ("web query that loads data from outside the file", "query"),
    # a .xls's WebPub with auto-republish, as a .xlsx's webPublishItem (`formats.opc`)
    CellLink.WEB_PUBLISHED: (
        "web page Excel writes to another machine whenever the workbook is saved",
        "web publishing",
    ),
}
# Workbook problems that are readers disagreeing rather than damage (see `read_workbooks`).
_TWO_READINGS = (", its content is a ", "which readers take differently")


def scan_compound(job: Job) -> None:
    """Every finding and child of the compound file ``job.item`` (see the module docstring)."""
    ole = open_ole(job.item.data, job.context.limits.max_expanded_bytes)
    try:
        container = classify_ole(ole)
        if not _container(job, ole, container) or _encrypted(job, container):
            return
        _vba(job, ole, container)
        for book in read_workbooks(ole):
            _workbook(job, book)
        if ole.exists("WordDocument"):
            _word_fields(job, ole)
            _associated_files(job, ole)
        _hyperlink_base(job, ole)
        _linked_drawings(job, ole)
        _objects(job, ole, container)
        if OleKind.POWERPOINT in container.kinds and ole.exists("PowerPoint Document"):
            ppt_actions(job, ole.openstream("PowerPoint Document").read())
    finally:
        ole.close()


def _vba(job: Job, ole: Any, container: OleContainer) -> None:
    """VBA_MACRO by olevba. In a presentation, olevba's quick search of the records for a
    project's storage can take drawing data for one and fail on it (Apache POI's 42474-2.ppt):
    with no project in the compound file's own tree, its failure is no damage, since every
    storage the records hold is read whole and its project checked (`_ppt_objects`)."""
    try:
        vba_macros(job, job.item.data, always=_vba_storage(ole))
    except DAMAGED:
        if OleKind.POWERPOINT not in container.kinds or _vba_storage(ole):
            raise


def _vba_storage(ole: Any) -> bool:
    """Whether a storage holds a VBA project's ``VBA/dir`` stream: olevba also wants the
    PROJECT stream beside it, which Office does not need to load the modules."""
    return any(
        len(path) >= 2 and [part.lower() for part in path[-2:]] == ["vba", "dir"]
        for path in ole.listdir(streams=True, storages=False)
    )


def _word_fields(job: Job, ole: Any) -> None:
    """DDE and EXTERNAL_LINK for the fields `wordfields.classify_field` judges dangerous (the
    rule a .docx gets: DDE, DDEAUTO, INCLUDEPICTURE, INCLUDETEXT, IMPORT, LINK), AMBIGUOUS for a
    field whose type a nested field computes, in any stream (as msodde looked: the text of
    fast-saved or damaged files lies anywhere)."""
    dde = computed = False
    threats: dict[tuple[ThreatKind, str], FieldThreat] = {}
    for found in _all_fields(ole):
        dde = dde or found.instruction.lstrip().lower().startswith("dde")
        computed = computed or found.computed
        if threat := classify_field(found.instruction):
            threats.setdefault((threat.kind, threat.field), threat)
    for threat in threats.values():
        job.field_threat(threat)
    if dde and not any(kind is ThreatKind.DDE for kind, _ in threats):
        job.say(DDE, f"DDE field in the {job.kind}")
    if computed:
        message = f"field whose type is computed by a nested field in the {job.kind}"
        job.say(AMBIGUOUS, message, label="field")


def _all_fields(ole: Any) -> Iterator[DocField]:
    """The fields of a Word document's text as its piece table gives it (when it can be read;
    with tracked changes shown, accepted and rejected), then those of every stream read byte
    by byte (`formats.docfields`)."""
    if ole.exists("WordDocument"):
        # no readable piece table: the byte readings below are all there is
        with contextlib.suppress(ValueError, struct.error, OSError):
            for text in document_readings(ole):  # tracked changes shown, accepted, rejected
                yield from text_fields(text)
    for path in ole.listdir(streams=True, storages=False):
        yield from doc_fields(ole.openstream(path).read())


def _linked_drawings(job: Job, ole: Any) -> None:
    """EXTERNAL_LINK for a picture, picture fill or line pattern a Word or Excel drawing reads
    from another machine (`formats.officeart`: Word's table and Data streams, Excel's drawing
    records), as a .ppt's and an RTF's, and for a shape's hyperlink to a network share, as a
    hyperlink there is."""
    streams = {path[0].lower(): path for path in ole.listdir(streams=True) if len(path) == 1}
    drawings = [
        ole.openstream(streams[n]).read() for n in ("0table", "1table", "data") if n in streams
    ]
    drawings += [
        excel_drawings(ole.openstream(streams[name]).read())
        for name in ("workbook", "book")
        if name in streams
    ]
    if any(target_kind(path) == "remote" for data in drawings for path in linked_in(data)):
        message = f"a picture loaded from another machine in the {job.kind}"
        job.say(EXTERNAL_LINK, message, label="linkedPicture")
    # a shape's hyperlink (pihlShape) to a share (a click sends the reader's credentials there)
    # or a program (`clicked_harm`)
    clicked = [text for data in drawings for text in linked_in(data, hyperlink_texts)]
    if harms := [harm for text in clicked if (harm := clicked_harm(text))]:
        message = f"a drawing's hyperlink to {harms[0].partition(' (')[0]} in the {job.kind}"
        job.say(EXTERNAL_LINK, message, label="shapeHyperlink")


def _associated_files(job: Job, ole: Any) -> None:
    """EXTERNAL_LINK for an attached template on another machine (a share, a URL) and for a
    mail merge whose data or header source is on one: Word opens them with the document, as a
    .docx's and an RTF's (`wordassoc`); also when the strings naming them are irregular and hold
    a place on another machine anywhere."""
    found = associated(ole)
    if target_kind(found.template) == "remote":
        job.say(EXTERNAL_LINK, f"remote template in the {job.kind}", label="attachedTemplate")
    if (far := place_afar(found.merge_sources)) is not None:
        message = f"mail merge whose data source is on {far[0]}, in the {job.kind}"
        job.say(EXTERNAL_LINK, message, label="mailMerge")
    if any(target_kind(place) == "remote" for place in found.stray):
        message = f"irregular list of the files the {job.kind} opens, naming another machine"
        job.say(EXTERNAL_LINK, message, label="SttbfAssoc")


def _hyperlink_base(job: Job, ole: Any) -> None:
    """EXTERNAL_LINK for a hyperlink base (the user-defined property ``_PID_LINKBASE``) on a
    network share: Office resolves every relative hyperlink against it, as a .docx's
    ``HyperlinkBase``, so a click on one sends the reader's Windows credentials there; and for
    a VSTO customisation (``_AssemblyLocation``: `targets.ASSEMBLY`), an add-in Office fetches
    and offers to run when the document opens. A
    user-defined section that could not all be read is CORRUPT, one past the reader's limits
    ARCHIVE_MEMBERS: a base could be in what was not read (`oleprops` reports only such
    damage, so an honest file's damaged first section passes)."""
    found = user_defined(ole, "_PID_LINKBASE")
    if any(on_a_share(base) for base in found.texts):
        message = f"hyperlink base on a network share in the {job.kind}"
        job.say(EXTERNAL_LINK, message, label="hyperlinkBase")
    if any(place.strip() for place in user_defined(ole, ASSEMBLY).texts):
        job.say(EXTERNAL_LINK, ASSEMBLY_MESSAGE, label=ASSEMBLY)
    if found.limit:
        message = f"user-defined properties of the {job.kind} past a limit ({found.limit})"
        job.say(ARCHIVE_MEMBERS, f"{message}: a hyperlink base there was not read")
    elif found.damage:
        damage = "; ".join(found.damage)
        message = f"user-defined properties of the {job.kind} not all read ({damage})"
        job.say(CORRUPT, f"{message}: a hyperlink base there was not read")


def _container(job: Job, ole: Any, container: OleContainer) -> bool:
    """AMBIGUOUS, EXECUTABLE, TYPE_MISMATCH for the container itself; False when nothing in
    it is worth reading as an Office document (an installer)."""
    if container.over_limit:
        raise LimitExceeded(ARCHIVE_MEMBERS, f"more than {MAX_ENTRIES:,} directory entries")
    if two_readings(ole, container):
        job.say(AMBIGUOUS, f"{job.kind} whose streams different readers would read differently")
    if OleKind.MSI in container.kinds:
        job.say(EXECUTABLE, "Windows installer (MSI) package")
        return False
    check = matches_extension(container, job.item.extension)
    if not check.ok:
        job.say(TYPE_MISMATCH, check.message)
    return True


def _encrypted(job: Job, container: OleContainer) -> bool:
    """ENCRYPTED, or the content decrypted with Excel's default password as a child; False
    when the file is not encrypted."""
    package = OleKind.ENCRYPTED_PACKAGE in container.kinds
    try:
        office = msoffcrypto.OfficeFile(io.BytesIO(job.item.data))
        if not office.is_encrypted() and not package:
            return False
    except FileFormatError:  # an OLE file that is not Word, Excel or PowerPoint
        if not package:
            return False
        office = None
    except DecryptionError:  # encrypted with a method msoffcrypto does not know
        office = None
    if office is not None and (plain := _decrypt(office)) is not None:
        job.child("content decrypted with Excel's default password", plain)
        return True
    job.say(ENCRYPTED, _PROTECTED)
    return True


def _decrypt(office: Any) -> bytes | None:
    """The file decrypted with Excel's default password; None when that is not its password
    or its key derivation asks for more rounds than Office uses."""
    info = getattr(office, "info", None)
    spins = info.get("spinValue", 0) if isinstance(info, dict) else 0
    if spins > _MAX_SPIN_COUNT:
        return None
    plain = io.BytesIO()
    try:
        office.load_key(password=_EXCEL_DEFAULT_PASSWORD)
        office.decrypt(plain)
    except (DecryptionError, *DAMAGED):
        return None
    return plain.getvalue()


def _workbook(job: Job, book: Workbook) -> None:
    """XLM_MACRO, ENCRYPTED, DDE, EXTERNAL_LINK from one workbook stream's globals, and
    EXTERNAL_LINK for its cells' hyperlinks and formulas to a share or fetching from the web
    (`biffsheets`, as a .xlsx's); a sheet list or sheet that could not be read fails closed."""
    if book.encrypted and not job.said(ENCRYPTED):
        job.say(ENCRYPTED, _PROTECTED)
    if any(sheet.is_macro_sheet for sheet in book.sheets) and not job.said(XLM_MACRO):
        job.say(XLM_MACRO, f"Excel 4 (XLM) macros in the {job.kind}")
    # a workbook linked on the reader's own drive or beside it, as a .xlsx's may be
    for kind in sorted({link.kind for link in book.links if not link.local}):
        code, what = _LINKS[kind]
        job.say(code, f"{what} in the {job.kind}")
    for cell in sorted(book.cells):
        what, label = _CELL_LINKS[cell]
        message = f"{what} in the {job.kind}"
        if not any(f.message == message for f in job.result.findings):  # Workbook and Book
            job.say(EXTERNAL_LINK, message, label=label)
    # Problems name sheets (file content): the finding says only what kind of problem it is.
    if any(marker in p for p in book.problems for marker in _TWO_READINGS):
        job.say(AMBIGUOUS, f"{job.kind} whose sheets different readers would read differently")
    elif book.problems:
        job.say(CORRUPT, f"{job.kind} whose sheets could not all be read")


def _objects(job: Job, ole: Any, container: OleContainer) -> None:
    for path in ole.listdir(streams=False, storages=True):
        # Word keeps embedded objects in ObjectPool/<id>, Excel in MBD<id> storages.
        # storage names compare without case (MS-CFB 2.6.4): Word opens "objectpool" too
        if (path[0].lower() == "objectpool" and len(path) == 2) or (
            len(path) == 1 and path[0].upper().startswith("MBD")
        ):
            _storage(job, ole, path)
    if OleKind.EXCEL in container.kinds and _controls(ole):
        # Excel keeps its ActiveX controls' data in the Ctls stream ([MS-XLS] 2.1.7.4), each
        # named by an OBJ record's FtPictFmla: a control Excel creates as the workbook opens
        job.say(OLE_OBJECT, f"ActiveX control in the {job.kind}", label="Ctls", location="Ctls")
    if ole.exists("\x01Ole10Native"):  # a bare object, as OOXML files keep them
        if (file := packaged(ole, job.context.allowed_extensions)) is not None:
            job.child(file[0], file[1], named=True)
        else:
            storage_object(job, ole, [], "")
    if OleKind.POWERPOINT in container.kinds:
        for index, data in enumerate(_ppt_objects(job)):
            compound_object(job, data, f"object {index + 1}")


def _controls(ole: Any) -> bool:
    """Whether a workbook's compound file holds a Ctls stream with data (names compare without
    case, MS-CFB 2.6.4)."""
    return any(
        len(path) == 1 and path[0].lower() == "ctls" and ole.get_size(path) > 0
        for path in ole.listdir(streams=True, storages=False)
    )


def _storage(job: Job, ole: Any, path: list[str]) -> None:
    """An embedded object's storage, judged as the file Word or Excel activates it as: written
    out as a compound file of its own (an embedded worksheet is then scanned as the workbook it
    is); as an OLE_OBJECT where it cannot be (`cfbwrite.storage_file`)."""
    where = "/".join(path)
    size = sum(ole.get_size(p) for p in ole.listdir() if p[: len(path)] == path)
    if size > job.budget():
        raise LimitExceeded(ARCHIVE_EXPANSION, "embedded objects expand past the byte limit")
    # Word and Excel write the object's class on its storage; LibreOffice leaves it out and
    # names it in \x01CompObj instead (Excel.Sheet.8). A storage with neither, or another
    # program there, is not judged by what its streams look like
    if inert(job, ole, path, where):
        return
    named = ole.getclsid(path) or office_progid(ole, path)
    data = storage_file(ole, path) if named else None
    if data is None:
        storage_object(job, ole, path, where)
    else:
        compound_object(job, data, where)


def _ppt_objects(job: Job) -> list[bytes]:
    """The compound files a presentation embeds (ExOleObjStg records, found where PowerPoint
    reads them and where a record walk does: `office_ppt.ppt_storages`), inflated within the
    byte limit. A VBA project stored the same way gets the VBA check here: olevba's own walk of
    a presentation gives up on a file with a storage it does not expect (``fast_fail``)."""
    out: list[bytes] = []
    for raw in ppt_storages(job):
        if raw[:8] != olefile.MAGIC:
            continue
        if classify_ole(raw).kinds != (OleKind.VBA_PROJECT,):
            out.append(raw)
        elif not job.said(VBA_MACRO):  # said once, whichever reading found the project
            stored = Job(job.item, job.context)
            vba_macros(stored, raw, always=True)
            job.result.findings += [f for f in stored.result.findings if not job.said(f.code)]
    return out
