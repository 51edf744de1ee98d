"""The addresses a style sheet or style attribute loads (formats/css.py): read as a browser's
CSS tokenizer reads them, and as written, for a reader that decodes no escapes."""

from __future__ import annotations

import pytest
import tinycss2

from attachguard.codes import ARCHIVE_EXPANSION
from attachguard.errors import LimitExceeded
from attachguard.formats import css
from attachguard.formats.targets import on_a_share


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


# var() puts a fallback or a custom property's value where it stands: each string of a
# declaration with a loading function or var(), and of a custom property, is read, at any depth
@pytest.mark.parametrize(
    ("value", "targets"),
    [
        ('background-image: image-set(var(--none, "file://h/s/x.png") 1x)', ["file://h/s/x.png"]),
        ('--a: var(--b, "//h/x"); background-image: image-set(var(--a) 1x)', ["//h/x"]),
        ('--a: var(--b, var(--c, ("//h/y")))', ["//h/y"]),
        ('mask: cross-fade(var(--m, "//h/m") 50%, url(#n))', ["//h/m", "#n"]),
        # strings no loading context reaches: a font's name, generated text
        ('font-family: "Arial"; content: "//h/not-loaded"', []),
    ],
)
def test_var_fallbacks(value: str, targets: list[str]) -> None:
    assert css.style_attribute_targets(value) == targets
    sheet = f"@media screen {{ rect {{ {value} }} }}"
    assert css.style_sheet_targets(sheet) == targets


def test_strings_beside_a_loading_function() -> None:
    sheet = '@font-face { font-family: "F"; src: local("F"), url(#f) format("woff") }'
    assert css.style_sheet_targets(sheet) == ["#f"]  # url()'s neighbours load nothing
    sheet = '@font-face { font-family: "F"; src: image("#f"), url(//h/f) format("woff") }'
    assert css.style_sheet_targets(sheet) == ["#f", "//h/f", "woff"]  # words are no shares
    assert css.style_sheet_targets('a[title="//h/x"] { fill: image(url(#g)) }') == ["#g"]


@pytest.mark.parametrize("depth", [1000, 20_000])
def test_deep_nesting_is_read_to_the_bottom(depth: int) -> None:
    value = f"fill:{'(' * depth}url(\\\\h\\s\\x.png){')' * depth}"
    assert "\\\\h\\s\\x.png" in css.style_attribute_targets(value)
    assert "\\\\h\\s\\x.png" in css.style_sheet_targets(f"rect{{{value}}}")


# The rules of a big sheet: 1.15 million characters, past `MAX_TOKENIZED` (1 million), which is
# all the tests below need; each reads the whole sheet, so its size is their time.
BIG_SHEET_RULES = 30_000


def _class_rules(count: int) -> str:
    return "".join(f".c{n}{{fill:#{n % 4096:03x};stroke:url(#g{n})}}\n" for n in range(count))


def test_a_big_sheet_without_escapes_is_read_as_written() -> None:
    sheet = _class_rules(BIG_SHEET_RULES) + "<!-- a{fill:url(//h/s/x.png)} -->"
    assert len(sheet) > css.MAX_TOKENIZED
    targets = css.style_sheet_targets(sheet)
    assert targets[0] == "#g0"
    assert targets[-2:] == [f"#g{BIG_SHEET_RULES - 1}", "//h/s/x.png"]


@pytest.mark.parametrize(
    "tail",
    [r"a{fill:u\72l(\5c\5c h\5c s)}", '--u:"//h/x"', 'a{b:image("//h/x")}', "@import '//h/x';"],
)
def test_a_big_sheet_that_needs_the_tokenizer_is_not_read(tail: str) -> None:
    with pytest.raises(LimitExceeded) as raised:
        css.style_sheet_targets(_class_rules(BIG_SHEET_RULES) + tail)
    assert raised.value.code is ARCHIVE_EXPANSION
    assert "over 1,000,000" in str(raised.value)


# what only the tokenizer reads is what makes it run: without it, the literal reading holds
# every address the tokenizer would find
@pytest.mark.parametrize(
    "sheet",
    [
        "a{fill:url( //h/x )}",
        "a{fill:URL('//h/x')}",
        'a{fill:url("//h/x)y")}',
        "/* url(//h/c) */ a{content:'//h/t'}",
        "<!-- a{fill:url(#g)} -->",
        "a{fill:url('#a') '//h/x'}",
        "a{background:url(#i)}b{src:url(#f) format('//h/x')}",
    ],
)
def test_the_literal_reading_holds_the_tokenized_one(sheet: str) -> None:
    tokenized = css._addresses(tinycss2.parse_component_value_list(sheet, skip_comments=True))
    literal = css.style_sheet_targets(sheet)
    assert not css._NEEDS_TOKENS.search(sheet)
    assert any(map(on_a_share, tokenized)) <= any(map(on_a_share, literal))  # comments count
