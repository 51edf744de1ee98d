"""Red-team evasions, third round: every case of `support.evasions_third` through the whole
scanner (every real engine, a real clamd on the test signatures, the default policy), judged as
`test_evasions` judges its corpus: a hostile case is REJECTED with its expected code among the
rejecting findings, a benign look-alike is APPROVED.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from attachguard.clamav.client import ClamdClient
from attachguard.codes import FindingCode
from attachguard.engines.base import Item
from attachguard.engines.office import OfficeEngine
from attachguard.pipeline import Scanner
from attachguard.policy import Policy
from attachguard.report import FileType, Status
from attachguard.scanner import build_scanner
from support.evasions import Case
from support.evasions_third import THIRD_CASES
from support.oletools_data import read_sample
from test_evasions import rejecting

pytestmark = pytest.mark.integration  # a real clamd


@pytest.fixture(scope="module")
def scanner(policy: Policy, clamd_client: ClamdClient) -> Iterator[Scanner]:
    with build_scanner(policy, clamd_client) as scanner:
        yield scanner


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in THIRD_CASES])
def test_evasion(case: Case, scanner: Scanner) -> None:
    report = scanner.scan(case.build(), case.name)
    if not case.hostile:
        assert report.status is Status.APPROVED, report.reasons
        return
    assert report.status is Status.REJECTED
    assert case.expect_code in rejecting(report), report.reasons


def test_cases_are_well_formed() -> None:
    ids = [case.id for case in THIRD_CASES]
    assert len(ids) == len(set(ids))
    known = {code.name for code in FindingCode}
    for case in THIRD_CASES:
        assert (case.expect_code in known) if case.hostile else case.expect_code is None, case.id


def test_every_class_has_hostile_cases_and_benign_look_alikes() -> None:
    classes = {case.cls for case in THIRD_CASES}
    for hostile in (True, False):
        assert classes == {case.cls for case in THIRD_CASES if case.hostile is hostile}


_MACRO_BUTTON = bytes.fromhex("0f00f20f380000000000f30f10000000000000000000000001")


def test_a_real_presentations_action_setting_changed_to_run_a_program_on_hover(
    oletools_data: Path, policy: Policy
) -> None:
    """oletools' sample_with_vba.ppt (PowerPoint's own records) has a button that runs a macro on
    click; edited in place to start a program on mouse-over, the office engine says so (its VBA
    project is reported too, and alone for the original)."""
    data = read_sample(oletools_data, "olevba/sample_with_vba.ppt")
    at = data.index(_MACRO_BUTTON)
    hover = bytes([0x1F]) + _MACRO_BUTTON[1:-1] + bytes([2])  # instance 1, action 2: program
    edited = data[:at] + hover + data[at + len(_MACRO_BUTTON) :]
    item = Item(
        "deck.ppt", edited, FileType("ppt", "application/vnd.ms-powerpoint", "document", True)
    )
    findings = OfficeEngine().scan(item, policy.context()).findings
    assert [(f.code.name, f.label) for f in findings if f.code.name != "VBA_MACRO"] == [
        ("OFFICE_ACTION", "program")
    ]
    original = Item("deck.ppt", data, item.type)  # its macro button: the VBA finding says it
    codes = [f.code.name for f in OfficeEngine().scan(original, policy.context()).findings]
    assert codes == ["VBA_MACRO"]
