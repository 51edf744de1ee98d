"""Whether text that Magika labels a script reads as one: what its interpreter needs.

Magika labels text by its look, and real text files get script labels: prose in UTF-16
without a byte-order mark came out "powershell", a list of file names "batch", a ``data:``
URL and a CSV with backslash-escaped quotes "javascript", a CSV cell holding a link "html"
(all in honest test data of Apache Tika and markitdown), a table of numbers with ``#``
comments "shell" (scipy). Under a text extension (.txt, .csv, .tsv), which Windows opens in
Notepad or Excel whatever it holds, such a label is taken only when the text, read whole,
has something a script of that language uses to do anything: a PowerShell variable, cmdlet,
.NET call, alias or switch; a batch command, variable, label or switched line at a line's
start (carets dropped, as cmd drops them); a shell command (or a program by its path),
variable or pipe into a shell; a JavaScript function, declaration, call statement or host
object; a VBA procedure, declaration or object call; an HTML document's, script's or active
element's tag, an event handler or a script address; in PowerShell and batch, a program
named by its file (``setup.exe``). Prose and tables rarely have one (a line of prose starting
"Set" or "If" does, and stays SCRIPT, as before); a script built to have none would still
need someone to rename it or feed it to an interpreter (Notepad runs nothing). Other labels
(an HTA, an MHT archive, SVG, a WSF script, an Internet shortcut, CHM) are structured formats
and stay what Magika says.
"""

from __future__ import annotations

import re

from attachguard.engines.text import decode

_CMDLET_VERBS = (
    "Add|Clear|Compress|Connect|ConvertFrom|ConvertTo|Copy|Disable|Enable|Enter|Exit|Expand|"
    "Export|Find|ForEach|Format|Get|Group|Import|Install|Invoke|Join|Measure|Mount|Move|New|"
    "Out|Pop|Push|Read|Register|Remove|Rename|Resolve|Restart|Resume|Save|Select|Send|Set|"
    "Show|Sort|Split|Start|Stop|Suspend|Tee|Test|Unblock|Uninstall|Update|Use|Wait|Where|Write"
)
_BATCH_COMMANDS = (
    "echo|set|setlocal|endlocal|goto|call|if|for|rem|start|exit|pause|cd|chdir|pushd|popd|"
    "del|erase|copy|xcopy|robocopy|move|mkdir|md|rmdir|rd|ren|rename|reg|cmd|powershell|pwsh|"
    "mshta|rundll32|regsvr32|certutil|bitsadmin|wscript|cscript|schtasks|sc|net|netsh|taskkill|"
    "timeout|title|color|cls|attrib|type|shift|choice|msiexec|curl|wget|ping|whoami|assoc|ftype|"
    "wmic|forfiles|explorer|msbuild|installutil|regasm|regsvcs|cmstp|odbcconf|pcalua|at|"
    "vssadmin|bcdedit|wevtutil|icacls|takeown|cacls|nltest|tasklist|systeminfo|tar|expand|"
    "extrac32|esentutl|replace|mklink|runas|hh|control|conhost|finger|ftp|tftp|nslookup"
)
# A program named by its file (setup.exe, C:\\Windows\\System32\\calc.exe): a batch or
# PowerShell line runs it
# a program named by its file (not ".com": a web or mail address holds one far more often than
# a script names a DOS program, hunt 100; nor a name in an address: after "@" or "/", before
# "/", ":" or "@")
_PROGRAM = (
    r"(?<![\w.@/-])[\w.-]+\.(?:exe|bat|cmd|ps1|vbs|vbe|js|jse|wsf|hta|msi|dll|scr|cpl)\b(?![/:@])"
)
_SHELL_COMMANDS = (
    "export|echo|if|then|fi|for|do|done|case|esac|while|until|sudo|curl|wget|chmod|chown|rm|cd|"
    "cat|grep|sed|awk|source|alias|exec|eval|nohup|apt|apt-get|yum|dnf|pip|python|python3|"
    "bash|sh|zsh|base64|nc|ncat|openssl|mkfifo|crontab|systemctl|kill|tar|unzip|mv|cp|ln"
)
# What runs in a page: a script element, a frame or object, an event handler, a script address
_ACTIVE = (
    r"<\s*(?:script|iframe|frame|frameset|object|embed|applet)(?=[\s/>])|\son[a-z]+\s*=|"
    r"(?:java|vb)script\s*:"
)
_EVIDENCE = {
    "powershell": (
        r"\$[A-Za-z_]\w*(?::\w+)?\s*=(?!=)|\$(?:env:|_\b|PSScriptRoot|PSHOME)|\$\(|"
        r"\[[A-Za-z_][\w.]*\]::|"
        r"\b(?:iex|iwr|irm|saps|icm|gci|gcm|sal)\b|"
        r"(?<![\w-])-(?:EncodedCommand|enc|ExecutionPolicy|ep|NoProfile|nop|WindowStyle|"
        r"NonInteractive)\b|\bfunction\s+[\w-]+\s*[({]|\bparam\s*\(|\|\s*[%?]\s*\{|" + _PROGRAM
    ),
    "batch": (
        rf"^[ \t]*@?(?:{_BATCH_COMMANDS})(?:[ \t.:/\\]|$)|%[\w~:.-]+%|%%~?\w|%~\w|%\d|"
        rf"^[ \t]*:{{1,2}}[A-Za-z_]\w*[ \t]*$|^[ \t]*\S+[ \t]+/[A-Za-z?]\b|{_PROGRAM}"
    ),
    "shell": (
        rf"^[ \t]*(?:{_SHELL_COMMANDS})(?:[ \t;]|$)|\$\{{?[A-Za-z_]\w*\}}?|"
        r"\|\s*(?:ba|z)?sh\b|&&|\$\(|^[ \t]*(?:sudo[ \t]+)?/(?:usr/|opt/|tmp/)?s?bin/\w|"
        r"^[ \t]*/tmp/"
    ),
    "javascript": (
        r"\bfunction\b\s*[\w$]*\s*\(|=>|\b(?:var|let|const)\s+[\w$]+\s*=|"
        r"\b(?:document|window|WScript|ActiveXObject|GetObject|eval|require|console|navigator|"
        r"location|XMLHttpRequest|fetch|atob|btoa|setTimeout|setInterval|String)\s*[.(]|"
        r"\bnew\s+[A-Z][\w$]*\s*\(|(?<![\w$.])[\w$.]+\s*\([^()\n]*\)\s*;"
    ),
    # a tag's name ends where HTML ends it (JATS's <meta-name> is none); a document type is
    # HTML's (hunt 101: a JATS article in XML under .txt)
    "html": (
        r"<\s*(?:!doctype\s+html|html|head|body|script|iframe|frame|frameset|object|embed|applet|"
        r"meta|form|svg|style|link|base|img|video|audio|math|template|input|button|textarea)"
        r"(?=[\s/>])|" + _ACTIVE
    ),
}
_EVIDENCE["vba"] = _EVIDENCE["vbe"] = (
    r"\b(?:Sub|Function)\s+\w+\s*\(|\bEnd\s+(?:Sub|Function)\b|\bDim\s+\w+|"
    r"\b(?:CreateObject|GetObject|MsgBox|Shell|Execute|ExecuteGlobal)\b|\bSet\s+\w+\s*=|"
    r"#@~\^|\bWScript\."
)
# Each alternative starts at a character it needs ("$", "<", a word's start), so that a search
# is linear: a long base64 line is not re-read from each of its characters
_FLAGS = re.IGNORECASE | re.MULTILINE
_PATTERNS = {label: re.compile(pattern, _FLAGS) for label, pattern in _EVIDENCE.items()}
_ACTIVE_PATTERN = re.compile(_ACTIVE, _FLAGS)
GUESSED = frozenset(_PATTERNS)
"""The labels taken under a text extension only with evidence."""


# A cmdlet's name: Verb-Noun, its verb one of PowerShell's (found as any hyphenated word, then
# its verb looked up: an alternation of the verbs at every word took 7 s on 20 MB of prose)
_HYPHENATED = re.compile(r"\b([A-Za-z]{2,12})-[A-Za-z]{2,}\b")
_VERBS = frozenset(_CMDLET_VERBS.lower().split("|"))


def reads_as_script(label: str, data: bytes) -> bool:
    """Whether ``data``, labelled ``label`` (one of `GUESSED`), has its language's evidence
    (see the module docstring) anywhere in the text as Notepad or Excel decodes it (a red team
    put the script after 70,000 characters of comments)."""
    text = decode(data)
    if label == "html" and _xml_root(text) not in (None, "html"):
        return _ACTIVE_PATTERN.search(text) is not None  # XML of another vocabulary: active only
    if label == "batch":
        text = text.replace("^", "")  # cmd drops a caret before reading the line: ^p^o^w^e^r
    if label == "powershell" and any(
        m.group(1).lower() in _VERBS for m in _HYPHENATED.finditer(text)
    ):
        return True
    return _PATTERNS[label].search(text) is not None


_ROOT = re.compile(
    r"^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*<([\w.:-]+)", re.S
)


def _xml_root(text: str) -> str | None:
    """The local name of an XML document's root element (lower-cased) when the text starts as
    XML (its declaration, or a document type that is not HTML's); None for anything else."""
    head = text.lstrip()[:64].lower()
    if not head.startswith(("<?xml", "<!doctype")) or re.match(r"<!doctype\s+html", head):
        return None
    found = _ROOT.match(text[:65536])
    return found.group(1).rpartition(":")[2].lower() if found else None
