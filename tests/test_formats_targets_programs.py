"""`targets.local_program` and `clicked_harm`: a link that starts a program on the reader's own
computer, in the spellings Windows resolves (red teams 106 and 108), and the local documents
honest files link to, which it does not run."""

from __future__ import annotations

import pytest

from attachguard.formats.targets import clicked_harm, local_program


@pytest.mark.parametrize(
    ("target", "expected"),
    [("file:///C:/Windows/System32/calc.exe", "exe"),
     ("file:///C|/Windows/System32/calc.exe", "exe"),
     ("file://localhost/C:/Windows/System32/calc.exe", "exe"),  # red team 111
     ("FILE://LocalHost\\C:\\Tools\\calc.exe", "exe"), ("file:/C:/Tools/x.hta", "hta"),
     ("file://localhost/C:/Users/me/report.pdf", None),
     ("C:\\Windows\\System32\\mshta.exe", "exe"),
     ("\\\\?\\C:\\Windows\\System32\\calc.exe", "exe"),  # Windows' own namespaces
     ("\\??\\C:\\Windows\\System32\\calc.exe", "exe"),
     ("C:\\Tools\\calc.exe::$DATA", "exe"),  # an NTFS stream of the file
     ("C:\\Tools\\calc.exe\\.", "exe"),  # a trailing "." component Windows drops
     ("C:\\Tools\\calc.exe. ", "exe"),
     ("setup.hta", "hta"), ("..\\..\\AppData\\x.lnk", "lnk"), ("calc.exe#top", "exe"),
     ("C:calc.exe", "exe"), ("mk:@MSITStore:C:\\Help\\guide.chm::/a.htm", "chm"),
     ("file:///C:/Users/me/report.html", None), ("/sites/team/Pages/Home.aspx", None),
     ("C:\\certs\\RootCA.cer", None), ("Notes\\Section.one", "one"),
     ("file:///C:/Users/Public/a%23.exe", "exe"),  # %23 is a file name's "#" (review 105)
     ("file:///C:/Users/Public/x.cer%23.exe", "exe"),
     ("C:\\Reports\\q1.xlsx", None), ("notes.pdf", None),
     ("https://example.com/setup.exe", None), ("mailto:help@example.com", None)],
)  # fmt: skip
def test_a_local_program(target: str, expected: str | None) -> None:
    assert local_program(target) == expected


@pytest.mark.parametrize(
    "target",
    ["shell:System\\calc.exe", "shell:AppsFolder\\Microsoft.WindowsCalculator!App",
     "ms-msdt:/id PCWDiagnostic", "\\\\attacker.example\\s\\x.docx", "C:\\x\\calc.exe"],
)  # fmt: skip
def test_a_click_that_does_harm(target: str) -> None:
    assert clicked_harm(target) is not None


@pytest.mark.parametrize(
    "target", ["https://example.com/", "report.docx", "#_Toc1", "mailto:a@example.com"]
)
def test_a_click_like_any(target: str) -> None:
    assert clicked_harm(target) is None
