"""Red-team evasions (issue 8): every case of `support.evasions` through the whole scanner
(every real engine, a real clamd on the test signatures, the default policy).

A hostile case must be REJECTED with its expected code among the rejecting findings (and no
other code with ``only``; within ``max_findings`` and ``max_seconds`` for bombs); a benign
look-alike must be APPROVED. The cases today's scanner gets wrong are strict xfails naming their
class: a fix turns one into an XPASS, which fails the run until its id leaves `FAILS_TODAY`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from attachguard.clamav.client import ClamdClient
from attachguard.codes import Action, FindingCode
from attachguard.pipeline import Scanner
from attachguard.policy import Policy
from attachguard.report import Report, Status
from attachguard.scanner import build_scanner
from support.evasions import CASES, Case

pytestmark = pytest.mark.integration  # a real clamd

# Codes a fix would add: a file that two readers see differently, and a PowerPoint action that
# starts a program or a macro.
PROPOSED_CODES = frozenset({"AMBIGUOUS", "OFFICE_ACTION"})

FAILS_TODAY: frozenset[str] = frozenset()  # every case passes; a regression fails plainly


def _param(case: Case) -> Any:
    marks = []
    if case.id in FAILS_TODAY:
        marks.append(pytest.mark.xfail(strict=True, reason=f"issue 8: {case.cls}"))
    return pytest.param(case, id=case.id, marks=marks)


@pytest.fixture(scope="module")
def scanner(policy: Policy, clamd_client: ClamdClient) -> Iterator[Scanner]:
    with build_scanner(policy, clamd_client) as scanner:
        yield scanner


def rejecting(report: Report) -> set[str]:
    return {f.code.name for f in report.findings if report.actions[f.code] is Action.REJECT}


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
def test_evasion(case: Case, scanner: Scanner) -> None:
    data = case.build()
    started = time.perf_counter()
    report = scanner.scan(data, case.name)
    seconds = time.perf_counter() - started
    if not case.hostile:
        assert report.status is Status.APPROVED, report.reasons
        return
    assert report.status is Status.REJECTED
    codes = rejecting(report)
    assert case.expect_code in codes, report.reasons
    if case.only:
        assert codes == {case.expect_code}, report.reasons
    if case.max_findings is not None:
        assert len(report.findings) <= case.max_findings, report.reasons[:5]
    if case.max_seconds is not None:
        assert seconds <= case.max_seconds


def test_cases_are_well_formed() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))
    known = {code.name for code in FindingCode} | PROPOSED_CODES
    for case in CASES:
        assert (case.expect_code in known) if case.hostile else case.expect_code is None, case.id
    assert set(ids) >= FAILS_TODAY


def test_every_class_has_hostile_cases_and_benign_look_alikes() -> None:
    classes = {case.cls for case in CASES}
    for hostile in (True, False):
        assert classes == {case.cls for case in CASES if case.hostile is hostile}
