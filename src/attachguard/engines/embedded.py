"""What the document engines share about embedded objects: naming them safely, describing
known OLE classes and the exploits that use them, what a file name makes Windows do with the
file, and handing their payload to the pipeline within the policy's limits."""

from __future__ import annotations

import re

from oletools.common.clsid import KNOWN_CLSIDS

from attachguard.codes import ARCHIVE_EXPANSION, ARCHIVE_MEMBERS, EXECUTABLE, SCRIPT, Code
from attachguard.engines.base import Child, Context, Result, finding
from attachguard.formats.runnable import runs_by_name

_CVE = re.compile(r"CVE-\d{4}-\d+")


def opened_as(name: str) -> tuple[Code, str] | None:
    """EXECUTABLE or SCRIPT, with the extension, for a file whose name makes Windows run it or
    open it in a browser or script host; None for any other name."""
    found = runs_by_name(name)
    if found is None:
        return None
    return (EXECUTABLE if found[0] == "program" else SCRIPT), found[1]


def safe_name(name: str, limit: int = 80) -> str:
    """A file name taken from inside a document, cut down to harmless characters."""
    base = re.split(r"[\\/]", name.strip())[-1]
    return re.sub(r"[^\w.\- ]", "_", base)[:limit].strip() or "unnamed"


def describe_clsid(clsid: str) -> tuple[str | None, list[str]]:
    """The known name of an OLE class id and the CVEs it is known for (oletools' list)."""
    desc: str | None = KNOWN_CLSIDS.get(clsid.upper()) if clsid else None
    return desc, sorted(set(_CVE.findall(desc or "")))


def object_message(what: str, label: str | None, cves: list[str], kind: str) -> str:
    """``embedded object (Package) in the Word document``, naming known exploits."""
    text = f"{what} ({label})" if label else what
    if cves:
        text += f", used by known exploits ({', '.join(cves)})"
    return f"{text} in the {kind}"


def add_child(result: Result, child: Child, context: Context, engine: str) -> bool:
    """Hand ``child`` to the pipeline unless that passes a limit (then say so, once)."""
    limits = context.limits
    code = why = None
    if len(result.children) >= limits.max_members:
        code, why = ARCHIVE_MEMBERS, f"more than {limits.max_members} embedded items"
    elif sum(len(c.data) for c in result.children) + len(child.data) > limits.max_expanded_bytes:
        code, why = ARCHIVE_EXPANSION, "embedded content passes the byte limit"
    if code is None:
        result.children.append(child)
        return True
    if not any(f.code is code for f in result.findings):
        result.findings.append(finding(engine, code, f"not all embedded content scanned: {why}"))
    return False
