"""What a file's name makes Windows do with it when it is opened: run it, mount it, or hand it
to a script host or a browser. Shared by the engines that judge embedded files by name and the
readers of links (a hyperlink to a program on the reader's own computer starts it)."""

from __future__ import annotations

import re
from typing import Literal


# Extensions Windows runs, mounts or hands to a script host or a browser when the file is
# opened (Outlook's blocked attachment list, plus what later campaigns used: OneNote, disk
# images, search connectors and saved searches, SVG, Remote Desktop connections to the sender's
# host, Excel web and database queries, SYLK, App Installer, theme packs): a file saved under
# such a name does what its name says, whatever its bytes look like to a content sniffer.
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


RUNS = _words("""
    ade adp app appref-ms application appx appxbundle bgi cab chm cmd com cpl diagcab dll exe
    gadget grp hlp img inf ins iso isp jar jnlp library-ms lnk mad maf mag mam maq mar mas mat
    mau mav maw mda mdb mde mdt mdw mdz msc msh msi msix msixbundle msp mst msu ocx one ops pcd
    pif plg prf prg printerexport pst reg scf scr searchconnector-ms settingcontent-ms shb shs
    sys theme udl url vhd vhdx vsmacros vsw webpnp website wsb xbap xll xnk
    accda accde accdr appinstaller asx cer cnt crt der deskthemepack desktop dqy fxp hpj iqy
    its mcf oqy osd rdp rqy search-ms slk themepack
""")
SCRIPTS = _words("""
    asp aspx bas bat csh hta htc htm html js jse ksh mht mhtml ps1 ps1xml ps2 ps2xml psc1 psc2
    psd1 psm1 py pyc pyo pyw pyz pyzw sct shtml svg svgz vb vbe vbp vbs ws wsc wsf wsh xht xhtml
    msh1 msh2 msh1xml msh2xml mshxml pl psdm1 pssc
""")


def extension(name: str) -> str:
    """The extension Windows opens a file of this name (or path) by, lower-cased and without
    its dot (trailing dots and blanks dropped, as Windows drops them); "" for none."""
    base = re.split(r"[\\/]", name)[-1].rstrip(". \t")
    return base.rsplit(".", 1)[1].lower() if "." in base else ""


def runs_by_name(name: str) -> tuple[Literal["program", "script"], str] | None:
    """("program", ext) or ("script", ext) for a file whose name makes Windows run it or open it
    in a browser or script host (`RUNS`, `SCRIPTS`); None for any other name."""
    ext = extension(name)
    if ext in RUNS:
        return "program", ext
    return ("script", ext) if ext in SCRIPTS else None
