"""PowerPoint 97-2003 media and pictures read from files (red team 92): a movie or sound whose
container names a path (ExVideoContainer's CString: "the UNC or local path to a video file"),
and a picture, picture fill or line pattern whose OfficeArt properties link it to its file
(MS-ODRAW pibName/pibFlags, fillBlipName/fillBlipFlags): PowerPoint loads them as the deck
opens, and one on another machine is EXTERNAL_LINK, as a .pptx's linked media is. A name the
flags do not link only records where the picture came from; a local file stays allowed."""

from __future__ import annotations

import struct

import pytest

from attachguard.engines.base import Item
from attachguard.engines.office import OfficeEngine
from attachguard.policy import Policy
from attachguard.report import FileType
from support.ppt_build import object_list, presentation, record

ENGINE = OfficeEngine()
SHARE = "\\\\attacker.example\\share\\clip.avi"
LOCAL = "C:\\Users\\me\\Videos\\clip.avi"
LINKED = 0x1 | 0x8  # msoblipflagFile | msoblipflagLinkToFile
MESSAGE = "a movie, sound or picture loaded from another machine in the PowerPoint presentation"


def cstring(text: str, instance: int = 0) -> bytes:
    return record(0x0FBA, text.encode("utf-16-le"), instance)


def media_atom(number: int) -> bytes:
    return record(0x1004, struct.pack("<IHH", number, 0, 0))


def movie(kind: int, path: str) -> bytes:
    """An ExMCIMovie (0x1007) or ExAviMovie (0x1006) holding an ExVideoContainer."""
    video = record(0x1005, media_atom(1) + cstring(path), container=True)
    return record(kind, video, container=True)


def sound(path: str) -> bytes:
    return record(0x1010, media_atom(1) + cstring("chime") + cstring(path, 1), container=True)


def properties(props: list[tuple[int, int | bytes]]) -> bytes:
    """An OfficeArtFOPT: simple values, then the complex ones' data in order."""
    fixed = complex_data = b""
    for pid, value in props:
        if isinstance(value, bytes):
            fixed += struct.pack("<HI", pid | 0x8000, len(value))
            complex_data += value
        else:
            fixed += struct.pack("<HI", pid, value)
    return record(0xF00B, fixed + complex_data, instance=len(props))


def shape_slide(props: list[tuple[int, int | bytes]]) -> bytes:
    atom = record(0xF00A, struct.pack("<II", 1025, 0xA00), instance=75)
    shape = record(0xF004, atom + properties(props), container=True)
    drawing = record(0xF002, record(0xF003, shape, container=True), container=True)
    ppdrawing = record(0x040C, drawing, container=True)
    return record(0x03EE, record(0x03EF, bytes(24)) + ppdrawing, container=True)


def name(path: str) -> bytes:
    return (path + "\0").encode("utf-16-le")


def found(data: bytes, policy: Policy) -> list[tuple[str, str]]:
    result = ENGINE.scan(Item("deck.ppt", data, FileType("ppt", "", "document")), policy.context())
    return [(f.code.name, f.message) for f in result.findings]


@pytest.mark.parametrize(
    "deck",
    [
        lambda: presentation([shape_slide([])], document=object_list(movie(0x1007, SHARE))),
        lambda: presentation(
            [shape_slide([])],
            document=object_list(movie(0x1006, "http://attacker.example/clip.avi")),
        ),
        lambda: presentation([shape_slide([])], document=object_list(sound(SHARE))),
        lambda: presentation([shape_slide([(0x0105, name(SHARE)), (0x0106, LINKED)])]),
        lambda: presentation([shape_slide([(0x0187, name(SHARE)), (0x0188, 0x8)])]),
        lambda: presentation([shape_slide([(0x01C6, name(SHARE)), (0x01C7, 0x2)])]),
    ],
    ids=["mci-movie-share", "avi-movie-url", "sound-share", "picture", "fill", "line-pattern"],
)
def test_media_and_pictures_read_from_another_machine_are_external_links(
    deck: object, policy: Policy
) -> None:
    assert ("EXTERNAL_LINK", MESSAGE) in found(deck(), policy)  # type: ignore[operator]


@pytest.mark.parametrize(
    "deck",
    [
        lambda: presentation([shape_slide([])], document=object_list(movie(0x1007, LOCAL))),
        # the picture's name only records where it came from: not linked
        lambda: presentation([shape_slide([(0x0105, name(SHARE)), (0x0106, 0x0)])]),
        lambda: presentation([shape_slide([(0x0105, name(LOCAL)), (0x0106, LINKED)])]),
    ],
    ids=["movie-local", "picture-name-only", "picture-linked-locally"],
)
def test_media_and_pictures_on_the_readers_computer_pass(deck: object, policy: Policy) -> None:
    assert found(deck(), policy) == []  # type: ignore[operator]
