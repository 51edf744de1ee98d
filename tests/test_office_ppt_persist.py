"""A PowerPoint 97-2003 presentation read as PowerPoint reads it, by the offsets of its edit chain
(Current User, user edits, persist directories), and as a walk of its records reads it
(`engines.office_ppt`): what either finds is judged, objects only one of them reaches are
AMBIGUOUS, an edit chain PowerPoint could not follow is CORRUPT; the VBA project kept in a
record is checked whatever olevba's own walk of the presentation makes of the file."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest
from oletools import olevba

from attachguard.engines import office_ppt
from attachguard.engines.base import Item
from attachguard.engines.office import OfficeEngine
from attachguard.policy import Policy
from attachguard.report import FileType
from support.evasions import ole_tree, vba_project
from support.oletools_data import ole_native, read_sample
from support.ppt_build import (
    SHARE,
    UNKNOWN,
    append_edit,
    current_user,
    embedded,
    fast_saved,
    hidden,
    hyperlink,
    hyperlinks,
    object_list,
    presentation,
    record,
    slide,
    storage,
    vba_info,
)
from support.realworld_data import SOURCES, CorpusUnavailable, realworld_corpus

ENGINE = OfficeEngine()
PPT = FileType("ppt", "application/vnd.ms-powerpoint", "document", True)
PROGRAM, MACRO, HYPERLINK, OLE_VERB = 2, 1, 4, 5
HIDDEN = ("AMBIGUOUS", "persist")
VERSION = ("AMBIGUOUS", "version")
SHARE_LINK = ("EXTERNAL_LINK", "share")
PROGRAM_LINK = ("EXTERNAL_LINK", "program")
INFO, CLIENT_DATA = 0x0FF2, 0xF011  # containers of an action setting
OVERRUN = ("AMBIGUOUS", "overrun")


def findings(data: bytes, policy: Policy) -> list[tuple[str, str | None]]:
    """The office engine's findings for ``data`` named deck.ppt: (code, label), sorted."""
    result = ENGINE.scan(Item("deck.ppt", data, PPT), policy.context())
    return sorted((f.code.name, f.label) for f in result.findings)


def package() -> bytes:
    """An OLE Package naming calc.exe (harmless bytes), as an ExOleObjStg holds it."""
    native = ole_native("calc.exe", b"MZ harmless placeholder, not a program")
    return ole_tree({"\x01Ole10Native": native, "\x01CompObj": b""},
                    clsid="0003000C-0000-0000-C000-000000000046")  # fmt: skip


def vba_storage() -> bytes:
    return storage(vba_project('Sub Run()\r\n    MsgBox "hello"\r\nEnd Sub'))


EXTRA = {"Extra": {"x": b"hello"}}  # a nested storage: olevba's PowerPoint walk gives up

# (objects, document records, tree besides) and what the engine says of them when nothing hides
Built = tuple[list[bytes], bytes, "dict[str, Any] | None"]
CASES: dict[str, tuple[Built, list[tuple[str, str | None]]]] = {
    "program-on-hover": (([slide(PROGRAM, True)], b"", None), [("OFFICE_ACTION", "program")]),
    "object-verb-on-click": (([slide(OLE_VERB)], b"", None), [("OFFICE_ACTION", "ole")]),
    "share-link-on-hover": (
        ([slide(HYPERLINK, True, 1)], hyperlinks((1, SHARE)), None), [("EXTERNAL_LINK", "hover")]
    ),
    "package-object": (([slide(), storage(package())], embedded(3), None),
                       [("OLE_OBJECT", "Package")]),
    "vba-with-extra-storage": (([slide(), vba_storage()], vba_info(3), EXTRA),
                               [("VBA_MACRO", None)]),
    "vba-and-macro-on-hover": (([slide(MACRO, True), vba_storage()], vba_info(3), EXTRA),
                               [("VBA_MACRO", None)]),
}  # fmt: skip


@pytest.mark.parametrize("name", CASES)
def test_objects_are_judged_where_nothing_hides_them(name: str, policy: Policy) -> None:
    (objects, document, tree), expected = CASES[name]
    assert findings(presentation(objects, document, tree=tree), policy) == expected


@pytest.mark.parametrize("name", CASES)
def test_objects_hidden_in_an_atom_of_an_unknown_type(name: str, policy: Policy) -> None:
    """PowerPoint finds them by offset; the walk of the records skips the atom."""
    (objects, document, tree), expected = CASES[name]
    data = presentation(objects, document, wrap="atom", tree=tree)
    assert findings(data, policy) == sorted([HIDDEN, *expected])


@pytest.mark.parametrize("name", CASES)
def test_objects_after_a_record_running_past_the_end(name: str, policy: Policy) -> None:
    """A record walk stops at the header; PowerPoint reaches what follows by offset."""
    (objects, document, tree), expected = CASES[name]
    data = presentation(objects, document, wrap="overrun", tree=tree)
    assert findings(data, policy) == sorted([HIDDEN, OVERRUN, *expected])


def test_olevba_alone_misses_the_project_beside_an_extra_storage() -> None:
    """Why the VBA project kept in a record is checked here (the cases above find it)."""
    data = presentation([slide(), vba_storage()], vba_info(3), tree=EXTRA)
    parser = olevba.VBA_Parser(filename="deck.ppt", data=data)
    try:
        assert not parser.detect_vba_macros()
    finally:
        parser.close()


@pytest.mark.parametrize("wrap", ["", "atom"])
@pytest.mark.parametrize("links", [[(1, "https://shop.example/"), (1, SHARE)],
                                   [(1, SHARE), (1, "https://shop.example/")]])  # fmt: skip
def test_a_hyperlink_id_given_twice_is_judged_by_both_targets(
    wrap: str, links: list[tuple[int, str]], policy: Policy
) -> None:
    data = presentation([slide(HYPERLINK, False, 1)], hyperlinks(*links), wrap=wrap)
    expected = [("EXTERNAL_LINK", "share")] + ([HIDDEN] if wrap else [])
    assert findings(data, policy) == sorted(expected)


@pytest.mark.parametrize("clicked", [1, 2])
def test_a_hyperlink_with_two_ids_gives_its_target_to_both(clicked: int, policy: Policy) -> None:
    """Id 1 before the target, id 2 after it: whichever PowerPoint takes, the share is judged."""
    document = object_list(hyperlink([1, 2], SHARE))
    data = presentation([slide(HYPERLINK, False, clicked)], document)
    assert findings(data, policy) == [SHARE_LINK]


@pytest.mark.parametrize(
    ("target", "expected"),
    [("C:\\Windows\\System32\\calc.exe", [PROGRAM_LINK]), ("setup.hta", [PROGRAM_LINK]),
     ("C:\\Users\\me\\notes.pdf", []), ("https://shop.example/setup.exe", [])],
    ids=["program", "script-beside", "document", "web"],
)  # fmt: skip
def test_a_click_that_starts_a_local_program_is_judged(
    target: str, expected: list[tuple[str, str | None]], policy: Policy
) -> None:
    """A hyperlink action to a program starts it on a click, as "run program" does (red team
    106); a document or a web address is a link like any."""
    data = presentation([slide(HYPERLINK, False, 1)], object_list(hyperlink([1], target)))
    assert findings(data, policy) == expected


@pytest.mark.parametrize(
    ("location", "hover", "expected"),
    [(SHARE, False, [SHARE_LINK]), (SHARE, True, [("EXTERNAL_LINK", "hover")]),
     ("257,2,Slide 2", False, []), ("257,2,Slide 2", True, [])],
)  # fmt: skip
def test_a_hyperlink_location_is_judged_as_a_target(
    location: str, hover: bool, expected: list[tuple[str, str | None]], policy: Policy
) -> None:
    """A location is a place in the target (an empty target: in this file, "slide id, index,
    title" as PowerPoint writes it); a share there is judged as if it were opened."""
    document = object_list(hyperlink([1], "", location))
    data = presentation([slide(HYPERLINK, hover, 1)], document)
    assert findings(data, policy) == expected


@pytest.mark.parametrize(
    ("target", "hover", "expected"),
    [("calc.exe", True, [("EXTERNAL_LINK", "hover")]),
     ("docs/page.html", True, [("EXTERNAL_LINK", "hover")]),
     ("www.attacker.example/x", True, [("EXTERNAL_LINK", "hover")]),
     ("mailto:help@example.com", True, []), ("docs/page.html", False, [])],
)  # fmt: skip
def test_a_hover_to_a_relative_target_opens_a_file_outside(
    target: str, hover: bool, expected: list[tuple[str, str | None]], policy: Policy
) -> None:
    """A relative target on mouse-over opens a file beside the deck, or one against the
    hyperlink base, without a click; on a click it passes, as a mail address does on either."""
    data = presentation([slide(HYPERLINK, hover, 1)], object_list(hyperlink([1], target)))
    assert findings(data, policy) == expected


# (objects, document records) with a container of a known type given an atom's version
MISVERSIONED: dict[str, tuple[list[bytes], bytes, list[tuple[str, str | None]]]] = {
    "InteractiveInfo": ([slide(PROGRAM, False, 0, [INFO])], b"", [("OFFICE_ACTION", "program")]),
    "ClientData": ([slide(PROGRAM, False, 0, [CLIENT_DATA])], b"", [("OFFICE_ACTION", "program")]),
    "both": ([slide(PROGRAM, True, 0, [INFO, CLIENT_DATA])], b"", [("OFFICE_ACTION", "program")]),
    "ExHyperlink": ([slide(HYPERLINK, False, 1)],
                    object_list(hyperlink([1], SHARE, container=False)), [SHARE_LINK]),
    "no action": ([slide(0, False, 0, [CLIENT_DATA])], b"", []),
}  # fmt: skip


@pytest.mark.parametrize("wrap", ["", "atom"])
@pytest.mark.parametrize("name", MISVERSIONED)
def test_a_container_type_with_an_atom_version_is_read_and_ambiguous(
    name: str, wrap: str, policy: Policy
) -> None:
    """Read inside by its type (PowerPoint may go by it), AMBIGUOUS as a reader going by the
    version skips it; hidden from the walk in an atom too."""
    objects, document, expected = MISVERSIONED[name]
    data = presentation(objects, document, wrap=wrap)
    hidden = [HIDDEN] if wrap else []
    assert findings(data, policy) == sorted([VERSION, *hidden, *expected])


@pytest.mark.parametrize(
    "objects",
    [[slide()], [slide(3, True)], [slide(HYPERLINK, False, 1)], [slide(), slide(3)]],
)
def test_honest_presentations_pass(objects: list[bytes], policy: Policy) -> None:
    """No action, a jump on hover, a clicked web link; one edit or two (a fast save)."""
    document = hyperlinks((1, "https://shop.example/"))
    assert findings(presentation(objects, document), policy) == []
    stream, first = append_edit(b"", [(b"", record(0x03E8, document, container=True))])
    stream, second = append_edit(stream, [(b"", o) for o in objects], first, 1)
    data = ole_tree({"PowerPoint Document": stream, "Current User": current_user(second)})
    assert findings(data, policy) == []


def test_a_current_user_record_whose_length_runs_past_its_stream_is_read(policy: Policy) -> None:
    """PowerPoint for Mac overstates the CurrentUserAtom's length by 4 bytes (OfficeIMO's
    legacy corpus): PowerPoint reads the 12 bytes it needs, and so is it read here."""
    head = record(0x03E8, record(0x03E9, bytes(40)), container=True)
    stream, edit = append_edit(b"", [(b"", head)])
    user = bytearray(current_user(edit))
    struct.pack_into("<I", user, 4, struct.unpack_from("<I", user, 4)[0] + 4)
    data = ole_tree({"PowerPoint Document": stream, "Current User": bytes(user)})
    assert findings(data, policy) == []
    short = bytes(user[:16])  # the edit's offset cut off: no Current User PowerPoint can read
    assert office_ppt.read_stream(stream, short).problems[0][0].name == "CORRUPT"


# -- zero padding between saves ---------------------------------------------------------------


def padded_saves(
    objects: list[bytes], gap: bytes | None = None, wrap: str = ""
) -> tuple[bytes, bytes, int]:
    """A presentation saved twice as PowerPoint saves one that grows past 4,096 bytes (Apache
    POI's 38256.ppt, 41384.ppt, 54332a.ppt): the first save's records, zeros up to offset
    4,096 (or ``gap``), then the later save's objects (hidden as ``wrap`` says) and its edit.
    (PowerPoint Document, Current User, the gap's length.)"""
    # the outline's text (SlideListWithText: TextHeaderAtom, TextBytesAtom) makes the first
    # save end where no record boundary of eight-byte steps would
    outline = record(0x0FF0, record(0x0F9F, bytes(4)) + record(0x0FA8, b"Title"), container=True)
    head = record(0x03E8, record(0x03E9, bytes(40)) + outline, container=True)
    stream, first = append_edit(b"", [(b"", head), (b"", slide())])
    gap = bytes(4096 - len(stream)) if gap is None else gap
    hidden_objects = hidden(wrap, objects)
    before = [(gap + hidden_objects[0][0], hidden_objects[0][1]), *hidden_objects[1:]]
    stream, second = append_edit(stream, before, first, 2)
    return stream, current_user(second), len(gap)


@pytest.mark.parametrize("gap", [None, bytes(455), bytes(1357)], ids=["to 4096", "455", "1357"])
def test_zero_padding_between_saves_hides_nothing(gap: bytes | None, policy: Policy) -> None:
    """Zeros read as records are empty headers, and a run that is no multiple of eight ends in
    a header made of the last zeros and the next record's first bytes: the walk steps over
    them to the object PowerPoint reads there."""
    stream, user, length = padded_saves([slide(3, True), slide()], gap)
    assert length % 8  # the walk of the old reader ran into the later save
    data = ole_tree({"PowerPoint Document": stream, "Current User": user})
    assert findings(data, policy) == []
    problems = office_ppt.read_stream(stream, user).problems
    assert problems == []
    stream, user, _ = padded_saves([slide(PROGRAM, True)], gap)
    data = ole_tree({"PowerPoint Document": stream, "Current User": user})
    assert findings(data, policy) == [("OFFICE_ACTION", "program")]


def test_bytes_in_the_padding_are_read_as_records(policy: Policy) -> None:
    """Only zeros are stepped over: what else the gap holds is read as records, what they say
    judged (a slide no offset names), and a walk they lead past the later save disagrees with
    PowerPoint as before (a last byte that makes a header running past the end, a header whose
    length covers the later save's object)."""
    cover = struct.pack("<HHI", 0, UNKNOWN, 455 - 96 - 8 + len(slide(PROGRAM, True)))
    cases = {
        "a slide": (bytes(96) + slide(PROGRAM, True) + bytes(63), slide(), []),
        "the last byte": (bytes(454) + b"\x0f", slide(PROGRAM, True), [HIDDEN, OVERRUN]),
        "a header": (bytes(96) + cover + bytes(455 - 96 - 8), slide(PROGRAM, True), [HIDDEN]),
    }
    for gap, named, extra in cases.values():
        stream, user, _ = padded_saves([named], gap)
        data = ole_tree({"PowerPoint Document": stream, "Current User": user})
        assert findings(data, policy) == sorted([*extra, ("OFFICE_ACTION", "program")])


@pytest.mark.parametrize("wrap", ["atom", "overrun"])
def test_zero_padding_before_an_object_hidden_from_the_walk(wrap: str, policy: Policy) -> None:
    """Zeros up to a record no offset names (the header that hides the object) are read as
    records: the object is still out of the walk's reach."""
    stream, user, _ = padded_saves([slide(PROGRAM, True)], wrap=wrap)
    data = ole_tree({"PowerPoint Document": stream, "Current User": user})
    assert HIDDEN in findings(data, policy)
    assert ("OFFICE_ACTION", "program") in findings(data, policy)


# -- edit chains PowerPoint cannot follow -------------------------------------------------------


def _broken() -> dict[str, tuple[bytes, bytes | None, str | None]]:
    """(PowerPoint Document, Current User, the engine's label) by what breaks the chain."""
    head = record(0x03E8, record(0x03E9, bytes(40)), container=True)
    stream, edit = append_edit(b"", [(b"", head), (b"", slide())])
    looped, loop = append_edit(stream, [], edit)
    looped = looped[: loop + 16] + struct.pack("<I", loop) + looped[loop + 20 :]
    past, at = append_edit(b"", [(b"", head)])
    past = past[: at - 4] + struct.pack("<I", 10**6) + past[at:]  # the object's offset
    return {
        "no Current User": (stream, None, None),
        "an edit offset past the end": (stream, current_user(len(stream) + 100), None),
        "an edit offset at another record": (stream, current_user(0), None),
        "edits in a loop": (looped, current_user(loop), "edits"),
        "an object past the end": (past, current_user(at), "edits"),
    }


@pytest.mark.parametrize("name", list(_broken()))
def test_an_edit_chain_powerpoint_cannot_follow_is_corrupt(name: str, policy: Policy) -> None:
    """msoffcrypto, which reads the current edit to tell whether the file is encrypted, fails
    first on some (the engine's CORRUPT, without a label)."""
    stream, user, label = _broken()[name]
    problems = office_ppt.read_stream(stream, user).problems
    assert [(code.name, label) for code, _, label in problems] == [("CORRUPT", "edits")]
    tree = {"PowerPoint Document": stream} | ({} if user is None else {"Current User": user})
    assert findings(ole_tree(tree), policy) == [("CORRUPT", label)]


def test_persist_directory_entries_are_bounded(
    monkeypatch: pytest.MonkeyPatch, policy: Policy
) -> None:
    monkeypatch.setattr(office_ppt, "MAX_OBJECTS", 3)
    assert findings(presentation([slide()] * 4), policy) == [("ARCHIVE_MEMBERS", None)]


# -- real presentations -------------------------------------------------------------------------

REAL = {"filetype": "sample.ppt", "puremagic": "test.ppt", "mimetype": "ppt.ppt"}


@pytest.fixture(scope="module")
def real() -> dict[str, bytes]:
    """Real presentations (LibreOffice's, PowerPoint's) from the corpus, by name."""
    try:
        files = realworld_corpus(tuple(s for s in SOURCES if s.name in REAL))
    except CorpusUnavailable as exc:
        pytest.skip(str(exc))
    wanted = set(REAL.values())
    return {f.path.name: f.path.read_bytes() for f in files if f.path.name in wanted}


@pytest.mark.parametrize("name", REAL.values())
def test_real_presentations_read_alike_and_a_fast_save_hides_nothing(
    real: dict[str, bytes], name: str, policy: Policy
) -> None:
    """Both readings agree on a real file; one more edit with an honest slide passes, one with a
    program on hover is found wherever it hides."""
    data = real[name]
    assert findings(data, policy) == []
    stream, user = office_ppt._streams(data)
    assert office_ppt.read_stream(stream, user).problems == []  # no container as an atom
    assert findings(fast_saved(data, [slide(3, True)]), policy) == []
    assert findings(fast_saved(data, [slide(PROGRAM, True)]), policy) == [
        ("OFFICE_ACTION", "program")
    ]
    for wrap, extra in (("atom", [HIDDEN]), ("overrun", [HIDDEN, OVERRUN])):
        edited = fast_saved(data, [slide(PROGRAM, True)], wrap)
        assert findings(edited, policy) == sorted([("OFFICE_ACTION", "program"), *extra])


@pytest.mark.parametrize(
    "sample", ["olevba/sample_with_vba.ppt", "oleobj/embedded-simple-2007.ppt"]
)
def test_oletools_samples_keep_their_findings_and_reveal_a_hidden_edit(
    oletools_data: Path, sample: str, policy: Policy
) -> None:
    data = read_sample(oletools_data, sample)
    before = findings(data, policy)
    assert before in ([("VBA_MACRO", None)], [])  # the package holds a text file
    hidden = fast_saved(data, [slide(OLE_VERB)], "atom")
    assert findings(hidden, policy) == sorted([*before, HIDDEN, ("OFFICE_ACTION", "ole")])


def test_olevbas_misreading_of_a_presentation_is_no_damage(
    monkeypatch: pytest.MonkeyPatch, policy: Policy
) -> None:
    """olevba's quick search of a presentation's records can take drawing data for a VBA
    storage and fail on it (Apache POI's 42474-2.ppt): the records are read whole here, a
    project among them still found."""
    from attachguard.engines import office_shared

    def fails(*_: object) -> None:
        raise olevba.FileOpenError("not a VBA project")

    monkeypatch.setattr(office_shared, "_vba_project", fails)
    assert findings(presentation([slide()]), policy) == []
    word = ole_tree({"WordDocument": bytes(1024), "1Table": bytes(512)})
    result = ENGINE.scan(Item("a.doc", word, FileType("doc", "", "document")), policy.context())
    assert [f.code.name for f in result.findings] == ["CORRUPT"]  # elsewhere, damage
