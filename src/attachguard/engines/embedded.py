"""What the document engines share about embedded objects: naming them safely, describing
known OLE classes and the exploits that use them, what a file name makes Windows do with the
file, and handing their payload to the pipeline within the policy's limits."""

from __future__ import annotations

import re

from oletools.common.clsid import KNOWN_CLSIDS

from attachguard.codes import ARCHIVE_EXPANSION, ARCHIVE_MEMBERS, EXECUTABLE, SCRIPT, Code
from attachguard.engines.base import Child, Context, Result, finding

_CVE = re.compile(r"CVE-\d{4}-\d+")


# Extensions Windows runs, mounts or hands to a script host or a browser when the file is
# opened (Outlook's blocked attachment list, plus what later campaigns used: OneNote, disk
# images, search connectors and saved searches, SVG, Remote Desktop connections to the sender's
# host, Excel web and database queries, SYLK, App Installer, theme packs): a file saved under
# such a name does what its name says, whatever its bytes look like to a content sniffer.
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_RUNS = _words("""
    ade adp app appref-ms application appx appxbundle bgi cab chm cmd com cpl diagcab dll exe
    gadget grp hlp img inf ins iso isp jar jnlp library-ms lnk mad maf mag mam maq mar mas mat
    mau mav maw mda mdb mde mdt mdw mdz msc msh msi msix msixbundle msp mst msu ocx one ops pcd
    pif plg prf prg printerexport pst reg scf scr searchconnector-ms settingcontent-ms shb shs
    sys theme udl url vhd vhdx vsmacros vsw webpnp website wsb xbap xll xnk
    accda accde accdr appinstaller asx cer cnt crt der deskthemepack desktop dqy fxp hpj iqy
    its mcf oqy osd rdp rqy search-ms slk themepack
""")
_SCRIPTS = _words("""
    asp aspx bas bat csh hta htc htm html js jse ksh mht mhtml ps1 ps1xml ps2 ps2xml psc1 psc2
    psd1 psm1 py pyc pyo pyw pyz pyzw sct shtml svg svgz vb vbe vbp vbs ws wsc wsf wsh xht xhtml
    msh1 msh2 msh1xml msh2xml mshxml pl psdm1 pssc
""")


def extension(name: str) -> str:
    """The extension Windows opens a file of this name (or path) by, lower-cased and without
    its dot (trailing dots and blanks dropped, as Windows drops them); "" for none."""
    base = re.split(r"[\\/]", name)[-1].rstrip(". \t")
    return base.rsplit(".", 1)[1].lower() if "." in base else ""


def opened_as(name: str) -> tuple[Code, str] | None:
    """EXECUTABLE or SCRIPT, with the extension, for a file whose name makes Windows run it or
    open it in a browser or script host; None for any other name."""
    ext = extension(name)
    if not ext:
        return None
    if ext in _RUNS:
        return EXECUTABLE, ext
    return (SCRIPT, ext) if ext in _SCRIPTS else None


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
