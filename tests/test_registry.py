"""The engine registry: declarations, entry points, derived routing and the public API."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import attachguard
from attachguard.codes import Code, CodeError, FindingCode, declare
from attachguard.engines.base import EngineSpec
from attachguard.registry import _builtin_specs, load_specs, route
from attachguard.report import FileType

ROOT = Path(__file__).resolve().parents[1]

# The routing table as it was written by hand before the engines declared their types (and
# the sensitive engine, which came after, and the polyglot engine's legacy documents).
ROUTES_BEFORE = {
    "pdf": ("pdf", "polyglot", "sensitive"),
    "doc": ("office", "polyglot", "sensitive"),
    "xls": ("office", "polyglot", "sensitive"),
    "ppt": ("office", "polyglot", "sensitive"),
    "docx": ("office", "zip", "sensitive"),
    "xlsx": ("office", "zip", "sensitive"),
    "pptx": ("office", "zip", "sensitive"),
    "xlsb": ("office", "zip"),
    "odt": ("zip",),
    "zip": ("zip", "polyglot"),  # a picture or video that Magika calls a zip is walked as one
    "rtf": ("rtf", "polyglot", "sensitive"),
    "jpeg": ("image", "polyglot", "moderation", "sensitive"),
    "png": ("image", "polyglot", "moderation", "sensitive"),
    "webp": ("image", "moderation", "sensitive"),
    "heif": ("image", "polyglot", "moderation", "sensitive"),
    "mp4": ("polyglot", "sensitive"),  # the text in its metadata (red team 94)
    "wav": ("polyglot", "sensitive"),
}


def test_pyproject_entry_points_are_the_builtin_engines() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    points = project["entry-points"]["attachguard.engines"]
    assert set(points) == {spec.name for spec in _builtin_specs()}
    for name, target in points.items():
        module, _, attr = target.partition(":")
        assert attr == "ENGINE" and module == f"attachguard.engines.{name}"


@pytest.mark.parametrize(("label", "engines"), sorted(ROUTES_BEFORE.items()))
def test_routing_derived_from_declarations_matches_the_old_table(
    label: str, engines: tuple[str, ...]
) -> None:
    routed = route(load_specs(), FileType(label, "", "document"))
    assert routed[:2] == ("filetype", "clamav")
    assert set(routed[2:]) == set(engines)


def test_text_fallbacks() -> None:
    specs = load_specs()
    assert route(specs, FileType("markdown", "", "text", is_text=True))[2:] == ("text", "sensitive")
    # code (HTML among it) also goes to webexport, which reads only pages named .doc or .xls
    code = FileType("python", "", "code", is_text=True)
    assert route(specs, code)[2:] == ("webexport", "text", "sensitive")
    assert route(specs, FileType("unknown", "", "unknown"))[2:] == ()


def test_every_engine_declares_what_it_emits() -> None:
    for spec in load_specs().values():
        assert isinstance(spec, EngineSpec) and spec.summary and spec.types
        assert all(isinstance(code, Code) for code in spec.codes), spec.name
        assert FindingCode[spec.codes[0].name] is spec.codes[0] if spec.codes else True


def test_a_code_cannot_be_declared_twice_with_another_meaning() -> None:
    with pytest.raises(CodeError, match="declared twice"):
        declare("MALWARE", "info", FindingCode.MALWARE.default, "something else", "x")
    with pytest.raises(CodeError, match="unknown finding code"):
        FindingCode["NO_SUCH_CODE"]


def test_customer_texts_are_plain() -> None:
    for code in FindingCode:
        text = code.customer
        assert text and text[0].isupper() and text.endswith("."), code.name
        for technical in ("/", "offset", "object", "0x", "signature", "OLE", "DDE", "XLM"):
            assert technical not in text, f"{code.name}: {text!r}"


def test_public_api() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import attachguard; print(sorted(attachguard.__all__))"],
        capture_output=True,
        text=True,
        check=True,
    )
    names = eval(done.stdout)  # noqa: S307  (our own subprocess's repr of a list of names)
    assert {"Scanner", "build_scanner", "Report", "Finding", "Policy", "load_policy"} <= set(names)
    for name in attachguard.__all__:
        assert getattr(attachguard, name) is not None
    assert attachguard.__version__ == _metadata_version()
    assert (ROOT / "src/attachguard/py.typed").exists()


def _metadata_version() -> str:
    from importlib.metadata import version

    return version("attachguard")
