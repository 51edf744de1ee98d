"""Markup that runs and loads nothing (`attachguard.formats.inert`): LaTeX's tagged PDFs attach
MathML formulas and a style sheet for lists as associated files (hunts 98 and 101), which a
name or a model's label alone called scripts."""

from __future__ import annotations

import pytest

from attachguard.engines.base import Item
from attachguard.engines.pdf import PdfEngine
from attachguard.formats.inert import mathml, style_sheet_page
from attachguard.policy import Policy
from attachguard.report import FileType
from support import evasions

LATEX_LISTS = (
    b"<style>\nli > span[data-pdf-se-type=Lbl] {\n  font-style: bold;margin-right:.5em;"
    b"display:inline-block;vertical-align:top;}\n</style>\n"
)


@pytest.mark.parametrize(
    ("data", "inert"),
    [(LATEX_LISTS, True),
     (b"<!DOCTYPE html><html><head><title>Lists</title><style>p{color:red}</style></head>"
      b"<body></body></html>", True),
     (LATEX_LISTS + b"<script>run()</script>", False),
     (LATEX_LISTS.replace(b"bold;", b"bold;background:url(//host/x.png);"), False),
     (b"<style>@import '//host/x.css';</style>", False),
     (b"<style>p{behavior:url(x.htc)}</style>", False),
     (b"<style onload=run()>p{}</style>", False),
     (b"<style>p{}</style><meta http-equiv=refresh content='0;url=http://x/'>", False),
     (b"<style>p{}</style><form action=http://x/><input name=p></form>", False),
     (b"<style>p{}</style><p>Pay here</p>", False),
     (b"<style>p{}</style><!--[if IE]><script>x()</script><![endif]-->", False),
     (b"<p>no style</p>", False)],
    ids=["latex", "whole-page", "script", "url", "import", "behavior", "handler", "refresh",
         "form", "text", "conditional-comment", "no-style"],
)  # fmt: skip
def test_a_page_that_only_styles(data: bytes, inert: bool) -> None:
    assert style_sheet_page(data) is inert


@pytest.mark.parametrize(
    ("data", "inert"),
    [(b"<math> <mi>x</mi> </math>", True),
     (b'<math xmlns="http://www.w3.org/1998/Math/MathML"><mi>x</mi></math>', True),
     (b"<svg><script>x()</script></svg>", False),
     (b'<math><mi xmlns="http://www.w3.org/1999/xhtml">x</mi></math>', False),
     (b'<math><mi onclick="x()">x</mi></math>', False),
     (b'<!DOCTYPE math [<!ENTITY a "b">]><math>&a;</math>', False),
     (b"not markup", False)],
    ids=["bare", "namespaced", "svg-root", "xhtml-inside", "handler", "dtd", "text"],
)  # fmt: skip
def test_a_mathml_formula(data: bytes, inert: bool) -> None:
    assert mathml(data) is inert


@pytest.mark.parametrize(
    ("data", "expected"),
    [(LATEX_LISTS, []), (LATEX_LISTS + b"<script>run()</script>", ["SCRIPT"])],
    ids=["style-sheet", "script"],
)  # fmt: skip
def test_an_attached_page_that_only_styles_is_no_script(
    data: bytes, expected: list[str], policy: Policy
) -> None:
    item = Item(
        "a.pdf", evasions.attached("latex-list-css.html", data), FileType("pdf", "", "document")
    )
    found = PdfEngine().scan(item, policy.context()).findings
    assert [f.code.name for f in found if f.code.name != "PDF_EMBEDDED_FILE"] == expected
