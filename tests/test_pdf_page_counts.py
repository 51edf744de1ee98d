"""A page tree whose declared counts (/Count) differ from the pages below it: PDFium, pdf.js
and Acrobat number pages by the counts, pypdf by the pages, so they show different pages. The
pdf engine rejects it as AMBIGUOUS; the sensitive engine takes PDFium's pages when the tree's
own count agrees with them, and pypdf's too when it does not, without reading every object of
an honest file for the count."""

from __future__ import annotations

import io
import time

import pytest
from pypdf import PdfReader

from attachguard.codes import FindingCode
from attachguard.engines.base import Item
from attachguard.engines.pdf import PdfEngine
from attachguard.engines.pdf_layout import page_counts_disagree
from attachguard.policy import Limits, Policy, parse_policy
from attachguard.report import FileType, Status
from attachguard.scanner import build_scanner
from attachguard.sensitive import pdf as sensitive_pdf
from support import evasions

VISA = "4111111111111111"
FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def content(text: str) -> bytes:
    drawn = b"BT /F1 11 Tf 72 700 Td (%s) Tj ET" % text.encode()
    return b"<< /Length %d >>\nstream\n%s\nendstream" % (len(drawn), drawn)


def page(parent: int, contents: int) -> bytes:
    return (
        b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
        b"/Resources << /Font << /F1 3 0 R >> >> >>" % (parent, contents)
    )


def two_pages(root_count: int, middle_count: int | None = None) -> bytes:
    """A catalog, a tree of two pages ("Statement", then the card), the root declaring
    ``root_count`` pages; with ``middle_count``, the pages hang from a node of their own
    that declares that many."""
    if middle_count is None:
        tree = [b"<< /Type /Pages /Kids [4 0 R 6 0 R] /Count %d >>" % root_count]
        parent = 2
    else:
        tree = [b"<< /Type /Pages /Kids [8 0 R] /Count %d >>" % root_count]
        parent = 8
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        *tree,
        FONT,
        page(parent, 5),
        content("Statement"),
        page(parent, 7),
        content(f"card {VISA}"),
    ]
    if middle_count is not None:
        objects.append(
            b"<< /Type /Pages /Parent 2 0 R /Kids [4 0 R 6 0 R] /Count %d >>" % middle_count
        )
    return evasions.pdf(list(enumerate(objects, 1)))


def pdf_codes(data: bytes, policy: Policy) -> list[str]:
    item = Item("statement.pdf", data, FileType("pdf", "application/pdf", "document"))
    return [f.code.name for f in PdfEngine().scan(item, policy.context()).findings]


@pytest.mark.parametrize(
    ("root", "middle", "agree"),
    [
        (2, None, True),
        (2, 2, True),  # an honest tree of two levels
        (1, None, False),  # PDFium and pdf.js show one page, pypdf two
        (3, None, False),
        (2, 1, False),  # a node below the root miscounts: PDFium finds page 2 elsewhere
        (1, 1, False),
    ],
)
def test_a_page_tree_whose_counts_differ_from_its_pages_is_ambiguous(
    root: int, middle: int | None, agree: bool, policy: Policy
) -> None:
    found = pdf_codes(two_pages(root, middle), policy)
    assert found == ([] if agree else ["AMBIGUOUS"])


def test_a_page_tree_that_loops_is_rejected(policy: Policy) -> None:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R 5 0 R] /Count 2 >>",
        FONT,
        page(2, 6),
        b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>",
        content("Statement"),
    ]
    data = evasions.pdf(list(enumerate(objects, 1)))
    assert pdf_codes(data, policy) == ["CORRUPT"]  # pypdf cannot list its pages
    assert page_counts_disagree(PdfReader(io.BytesIO(data), strict=False))


def test_the_card_on_a_page_only_pypdf_shows_is_rejected() -> None:
    # the root's /Count agrees with PDFium (1 page): the sensitive engine reads that page
    # only, and the pdf engine rejects the file for its readers' disagreement
    data = two_pages(1)
    extract, unread = sensitive_pdf.read(
        data, Limits(), sensitive_pdf.PdfBudget(500, 20, time.monotonic() + 30)
    )
    assert ([p.text for p in extract.passages], unread) == (["Statement"], 0)
    policy = parse_policy("allowed_extensions: [.pdf]\ndisabled_engines: [clamav]\n")
    with build_scanner(policy, None) as scanner:
        report = scanner.scan(data, "statement.pdf")
    assert report.status is Status.REJECTED
    assert FindingCode.AMBIGUOUS in {f.code for f in report.rejecting}


@pytest.mark.parametrize("root", [3, 2])
def test_pages_are_those_either_reader_sees(root: int) -> None:
    # a root /Count PDFium takes but the tree does not hold (3): pypdf's pages are read too
    extract, _ = sensitive_pdf.read(
        two_pages(root), Limits(), sensitive_pdf.PdfBudget(500, 20, time.monotonic() + 30)
    )
    assert [p.text for p in extract.passages][:2] == ["Statement", f"card {VISA}"]
