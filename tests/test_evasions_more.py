"""Red-team evasions, second round: every case of `support.evasions_more` through the whole
scanner (every real engine, a real clamd on the test signatures, the default policy), judged as
`test_evasions` judges its corpus: a hostile case is REJECTED with its expected code among the
rejecting findings, a benign look-alike is APPROVED.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from attachguard.clamav.client import ClamdClient
from attachguard.codes import FindingCode
from attachguard.pipeline import Scanner
from attachguard.policy import Policy
from attachguard.report import Status
from attachguard.scanner import build_scanner
from support.evasions import Case
from support.evasions_more import MORE_CASES
from test_evasions import rejecting

pytestmark = pytest.mark.integration  # a real clamd


@pytest.fixture(scope="module")
def scanner(policy: Policy, clamd_client: ClamdClient) -> Iterator[Scanner]:
    with build_scanner(policy, clamd_client) as scanner:
        yield scanner


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in MORE_CASES])
def test_evasion(case: Case, scanner: Scanner) -> None:
    report = scanner.scan(case.build(), case.name)
    if not case.hostile:
        assert report.status is Status.APPROVED, report.reasons
        return
    assert report.status is Status.REJECTED
    assert case.expect_code in rejecting(report), report.reasons


def test_cases_are_well_formed() -> None:
    ids = [case.id for case in MORE_CASES]
    assert len(ids) == len(set(ids))
    known = {code.name for code in FindingCode}
    for case in MORE_CASES:
        assert (case.expect_code in known) if case.hostile else case.expect_code is None, case.id


def test_every_class_has_hostile_cases_and_benign_look_alikes() -> None:
    classes = {case.cls for case in MORE_CASES}
    for hostile in (True, False):
        assert classes == {case.cls for case in MORE_CASES if case.hostile is hostile}
