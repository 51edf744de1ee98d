"""PowerPoint 97-2003 animations that play an embedded object (red team 106): a shape's
AnimationInfoAtom (MS-PPT 2.8.2) with fPlay, on a shape whose ExObjRefAtom names an OLE object,
has PowerPoint send the object its OLE verb when the animation plays (fAutomatic: as the slide
show reaches it), with no click on the object. A .pptx animation's verb command is OFFICE_ACTION,
and so is this one; an animation that only moves the shape, or plays a movie or sound, passes."""

from __future__ import annotations

import pytest

from attachguard.engines.base import Item, Result
from attachguard.engines.office import OfficeEngine
from attachguard.engines.office_shared import OFFICE_ACTION
from attachguard.policy import Policy
from attachguard.report import FileType
from support.evasions_more import _word_doc
from support.ppt_build import (
    AUTOMATIC,
    PLAY,
    animated_slide,
    embedded,
    movie,
    object_list,
    presentation,
    slide,
    storage,
)

ENGINE = OfficeEngine()
MESSAGE = (
    "a PowerPoint action that runs an embedded object by an animation, as the slide show"
    " reaches it, in the PowerPoint presentation"
)


def scan(data: bytes, policy: Policy) -> Result:
    item = Item("deck.ppt", data, FileType("ppt", "application/vnd.ms-powerpoint", "document"))
    return ENGINE.scan(item, policy.context())


def findings(data: bytes, policy: Policy) -> list[tuple[str, str | None, str]]:
    return [(f.code.name, f.label, f.message) for f in scan(data, policy).findings]


def deck(flags: int, objects: tuple[int, ...] = (1,), document: bytes | None = None) -> bytes:
    """A deck whose one slide's shape, naming ``objects``, is animated with ``flags``; its
    document holds an embedded Word document, exObjId 1 (persist id 3), unless ``document``."""
    listed = embedded(3) if document is None else document
    return presentation([animated_slide(flags, objects), storage(_word_doc())], document=listed)


@pytest.mark.parametrize("flags", [AUTOMATIC | PLAY, PLAY, PLAY << 1, AUTOMATIC | PLAY | 0x10])
def test_an_animation_that_plays_an_embedded_object(flags: int, policy: Policy) -> None:
    assert findings(deck(flags), policy) == [("OFFICE_ACTION", "ole", MESSAGE)]


def test_an_animation_of_an_object_the_deck_does_not_list(policy: Policy) -> None:
    # an id no object has: nothing says it is a movie or a sound
    assert findings(deck(AUTOMATIC | PLAY, (7,)), policy) == [("OFFICE_ACTION", "ole", MESSAGE)]


def test_an_id_a_movie_and_an_object_share_counts_as_the_object(policy: Policy) -> None:
    both = object_list(movie(1)) + embedded(3)
    data = deck(AUTOMATIC | PLAY, document=both)
    assert findings(data, policy) == [("OFFICE_ACTION", "ole", MESSAGE)]


def test_the_animation_and_a_click_action_are_both_said(policy: Policy) -> None:
    data = presentation(
        [animated_slide(PLAY), slide(5), storage(_word_doc())], document=embedded(3)
    )
    assert [(f.code, f.label) for f in scan(data, policy).findings] == [
        (OFFICE_ACTION, "ole"),
        (OFFICE_ACTION, "ole"),
    ]


@pytest.mark.parametrize("flags", [0, AUTOMATIC, AUTOMATIC | 0x10 | 0x1000])
def test_an_animation_that_does_not_play_the_object_passes(flags: int, policy: Policy) -> None:
    # the shape flies in, dims, hides: the object is shown, never activated
    assert findings(deck(flags), policy) == []


def test_an_animation_that_plays_a_movie_passes(policy: Policy) -> None:
    data = deck(AUTOMATIC | PLAY, (2,), document=object_list(movie(2)) + embedded(3))
    assert findings(data, policy) == []


def test_a_shape_without_an_object_plays_nothing(policy: Policy) -> None:
    assert findings(deck(AUTOMATIC | PLAY, ()), policy) == []
