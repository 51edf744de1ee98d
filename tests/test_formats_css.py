"""The addresses a style sheet or style attribute loads (formats/css.py): read as a browser's
CSS tokenizer reads them, and as written, for a reader that decodes no escapes."""

from __future__ import annotations

import pytest

from attachguard.formats import css


@pytest.mark.parametrize(
    ("sheet", "targets"),
    [
        ('@import "//h/a.css";', ["//h/a.css"]),
        ("@import url(//h/b.css) print;", ["//h/b.css"]),
        # escapes spell the keyword, the function and the address
        (r"@im\70 ort u\72l(\5c\5c h\5c s);", ["\\\\h\\s"]),
        ("@font-face { src: url('//h/f.woff') format('woff') }", ["//h/f.woff"]),
        ("@media print { a { background: url(//h/p.png) } }", ["//h/p.png"]),
        ("a { fill: url(#g) }", ["#g"]),
        # a comment hides nothing after it; read as written, what is inside counts too (a
        # reader that decodes no escapes may know no comments: stripping them by pattern
        # could hide an address after a "/*" in a string)
        ("/* see \\\\fileserver\\brand */ a { fill: red }", []),
        ("/* @import '//h/no.css'; */", ["//h/no.css"]),
        ("/**/@import/**/'//h/c.css';", ["//h/c.css"]),
        # as written: "\\" is one backslash to CSS, two to a reader that decodes nothing
        (r"a { fill: url('\\h\s\p.png') }", ["\\hsp.png", "\\\\h\\s\\p.png"]),
    ],
)
def test_sheet_targets(sheet: str, targets: list[str]) -> None:
    assert css.style_sheet_targets(sheet) == targets


@pytest.mark.parametrize(
    ("value", "targets"),
    [
        ("fill:url(#g); stroke: url( '//h/x' )", ["#g", "//h/x"]),
        (r"mask: U\52L(\5c\5c h\5c m)", ["\\\\h\\m"]),
        ("url(#a)", ["#a"]),
        ("fill: red", []),
    ],
)
def test_attribute_targets(value: str, targets: list[str]) -> None:
    assert css.style_attribute_targets(value) == targets
    assert css.may_load(value) is bool(targets)
