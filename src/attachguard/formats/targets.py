"""Where a link in a document leads, as Windows and Office read the target: a URL, a network
share (in any of the forms Windows takes for one), a local path, or a name beside the document.
Shared by the readers of Office packages, RTF, PowerPoint 97-2003 and polyglots."""

from __future__ import annotations

import posixpath
import re
from urllib.parse import unquote

from attachguard.formats.runnable import runs_by_name

SCHEME = re.compile(r"[a-z][a-z0-9+.\-]*:")
CONTROLS = "".join(map(chr, range(33)))  # URL readers strip these around a link
# The custom document property naming a VSTO customisation's deployment manifest (OOXML's
# custom.xml, 97-2003's user-defined properties): Word and Excel fetch it and offer to install
# and run its add-in when the document opens, wherever it is (a share, a URL, beside the file).
ASSEMBLY = "_AssemblyLocation"
ASSEMBLY_MESSAGE = (
    "an add-in that Office fetches and offers to install and run when the document opens "
    "(a VSTO customisation, property _AssemblyLocation)"
)
_DRIVE = re.compile(r"[a-z]:")  # one letter: a drive, not a scheme
_DRIVE_HOST = re.compile(r"[a-z][:|]")
_NT_PREFIXES = ("//?/", "//./", "/??/")
# a search-ms crumb's folder, and a saved search file it reads (``subquery=``)
_LOCATION = re.compile(r"(?:location:|subquery=)([^&]*)")
# Windows protocol handlers that start a program with what the link says, abused from
# documents: the support diagnostic tool (CVE-2022-30190, "Follina"), Office's command handler
# (CVE-2021-42292's chain), App Installer (packages from any address), the account set-up host,
# the Help and Support Center (CVE-2010-1885)
PROGRAM_HANDLERS = frozenset(
    {"ms-msdt", "ms-officecmd", "ms-appinstaller", "ms-cxh", "ms-cxh-full", "hcp"}
    | {"shell"}  # Explorer's shell: namespace (shell:AppsFolder\...!App starts an app)
)
# Windows' URL monikers that open a file named in the address and read a page from it: a
# compiled help file (mk:@MSITStore:\\host\s\x.chm::/p.htm, ms-its:, its:), a library's
# resources (res://\\host\s\x.dll/p.png)
_FILE_IN_A_PATH = frozenset({"mk", "ms-its", "its", "res"})
_MAC_FOLDERS = frozenset({"users", "volumes", "applications", "library", "system", "private"})
# Where a connection string's data is: its data source or server, under any of the names the
# drivers take for one (SQL Server's Address, Addr, Network Address; PostgreSQL's Servername,
# MySQL's Host, Teradata's DBCName...), an ODBC file (DBQ, SourceDB), folder (DefaultDir) or DSN
# file (FILEDSN), a database file to attach; also inside a quoted value (Extended
# Properties="DBQ=...")
_DATA_SOURCE = re.compile(
    r"(?:^|[;\"'])\s*(?:Data Source|DBQ|DefaultDir|Server|Server ?Name|Address|Addr|"
    r"Network Address|Host|Host ?Name|DBCName|Location|FILEDSN|SourceDB|AttachDbFilename|"
    r"Initial File Name)\s*=\s*([^;\"]*)",
    re.IGNORECASE,
)


def target_kind(target: str) -> str:
    """Where a link leads: ``remote`` (a URL, a UNC path, file://host), ``local`` (a drive or
    rooted path, file:///, a path that climbs with ``..``), ``mail`` (mailto:) or ``relative``
    (beside the document or below it)."""
    path = _normal_target(target)
    if path.startswith("mailto:"):
        return "mail"
    if _share(path):
        return "remote"
    if path.startswith(("/", "file:")) or _DRIVE.match(path):
        return "local"
    if SCHEME.match(path):
        return "remote"
    # "../" climbs out of the document's folder to anywhere on its drive
    return "local" if ".." in path.split("/") else "relative"


def climbs(target: str) -> bool:
    """Whether a link is a relative path that climbs out of the document's folder
    (``..\\..\\Book2.xlsx``): it is read from wherever the reader saved the document."""
    path = _normal_target(target)
    return not path.startswith("/") and not SCHEME.match(path) and ".." in path.split("/")


def on_a_share(target: str) -> bool:
    """Whether a link leads to a Windows share or device (``\\\\host``, file://host,
    ``\\??\\UNC\\host``), also through a scheme that opens one (``search-ms:`` with a location
    or a saved search, ``ms-word:ofe|u|\\\\host\\x``, a help file's ``mk:@MSITStore:\\\\host``):
    following it, even by a click, sends the reader's Windows credentials to that host. A
    protocol handler that starts a program (`starts_a_program`) counts too: following it is as
    dangerous, and no honest document links to one."""
    return _share(_normal_target(target))


def starts_a_program(target: str) -> bool:
    """Whether a link hands its address to a Windows program that acts on it (`PROGRAM_HANDLERS`:
    ``ms-msdt:``, ``ms-officecmd:``...)."""
    return _normal_target(target).partition(":")[0] in PROGRAM_HANDLERS


def clicked_harm(target: str) -> str | None:
    """What following a link on a click does that no honest document's hyperlink asks for, in
    words: start a Windows program that acts on the address (`starts_a_program`), send the
    reader's Windows credentials to a share (`on_a_share`), or start a program on the reader's
    own computer (`local_program`); None for any other link (the web, mail, a document)."""
    if starts_a_program(target):
        return "a Windows program that acts on its address (a protocol handler)"
    if on_a_share(target):
        return "a network share (following it sends the reader's Windows credentials)"
    if found := local_program(target):
        return f"a program on the reader's own computer (.{found})"
    return None


def local_program(target: str) -> str | None:
    """The extension of the program or script a link opens on the reader's own computer, which
    Windows runs by its name (`runnable.runs_by_name`): ``file:///C:/Windows/System32/calc.exe``,
    ``C:\\Tools\\x.hta``, ``setup.exe`` beside the document, ``..\\x.lnk``; None for any other
    link (one on another machine is a share: `on_a_share`). A click on it, after Office's or
    the viewer's notice, starts the program (a PDF's URI action so is PDF_LAUNCH). The path is
    read up to a NUL (where a C string ends), a query or a fragment, without the slashes after
    it; a page a browser shows (`_BROWSED`) is no program: wkhtmltopdf links a page's anchors to
    its own file, and exported documents link the pages beside them."""
    raw = re.sub(r"[\t\r\n]", "", target).strip(CONTROLS).strip()
    url = bool(SCHEME.match(raw.lower())) and not _DRIVE.match(raw.lower())
    if url:
        # a URL's query and fragment end at its own "?" and "#"; %23 in it is a file name's
        # "#" (review 105: file:///C:/x/a%23.exe runs C:\x\a#.exe)
        raw = re.split(r"[?#]", raw, maxsplit=1)[0]
    path = unquote(raw)
    scheme = SCHEME.match(path.lower())
    if scheme and scheme.group()[:-1] in _FILE_IN_A_PATH:  # a help file: mk:@MSITStore:C:\x.chm
        path = re.sub(r"^[a-z-]+:(?:@msitstore:)?", "", path, flags=re.IGNORECASE)
        path = path.split("::", 1)[0]
    if target_kind(path) not in ("local", "relative"):
        return None
    for prefix in ("\\\\?\\", "\\??\\", "//?/", "/??/"):  # Windows' own namespaces
        path = path.removeprefix(prefix)
    # ("?" is in no Windows file name; "#" is, when a URL escapes it)
    path = re.split(r"[?\0]" if url else r"[?#\0]", path, maxsplit=1)[0]
    path = re.sub(r"(?:[/\\]\.)+$", "", path).rstrip("/\\")  # calc.exe\. is calc.exe
    found = runs_by_name(_without_stream(path))
    return found[1] if found is not None and found[1] not in _NOT_RUN else None


# a file URL's scheme, its slashes and a host naming this computer, which Windows drops
# (file://localhost/C:/x/calc.exe is C:\x\calc.exe; red team 111 found its drive's colon
# read as a stream's)
_FILE_URL = re.compile(r"^file:(?:[/\\]{2}localhost(?=[/\\]))?[/\\]*", re.IGNORECASE)


def _without_stream(path: str) -> str:
    """A path without the NTFS stream it names (``x.exe::$DATA``, ``x.hta:more``): Windows
    opens the file, and by its extension."""
    body = _FILE_URL.sub("", path)
    drive = body[:2] if _DRIVE_HOST.match(body.lower()) else ""
    return drive + body[len(drive) :].split(":", 1)[0]


# What a click on a link to a file opens without running it: a page a browser shows, a server
# page or a certificate its viewer shows (honest documents link their own: a SharePoint
# page's /sites/team/Pages/Home.aspx, a root certificate; a OneNote section runs what it holds
# on a click, and stays a program)
_NOT_RUN = frozenset(
    {"htm", "html", "shtml", "xht", "xhtml", "mht", "mhtml", "svg", "svgz", "asp", "aspx"}
    | {"cer", "crt", "der"}
)


def connection_places(connection: str) -> list[str]:
    """The places a database connection string reads from (``Data Source``, ``DBQ``,
    ``DefaultDir``...), in order, unquoted; empty when it names none."""
    places = [m.group(1).strip().strip("'\"") for m in _DATA_SOURCE.finditer(connection)]
    return [place for place in places if place]


def database_server(place: str) -> bool:
    """Whether a connection string's data source names a database server on another machine
    (``sql01``, ``db.example.com,1433``, ``tcp:host``, ``host\\INSTANCE``) rather than a file
    (a path, a name with a data file's extension) or this computer (``.``, ``(local)``,
    ``localhost``, LocalDB): Word runs a mail merge's query as the document opens, signing in
    to that server with the reader's Windows account when the string says so."""
    name = place.strip().strip("'\"").lower()
    name = re.sub(r"^(?:tcp|np|lpc|admin):", "", name)
    host = re.split(r"[\\,]", name, maxsplit=1)[0].strip()
    if not host or host in _THIS_COMPUTER or host.startswith("(localdb)"):
        return False
    return not ("/" in host or ":" in host or _DATA_FILE.search(host))  # a path, a file


_THIS_COMPUTER = frozenset({".", "(local)", "localhost", "127.0.0.1", "::1"})
_DATA_FILE = re.compile(
    r"\.(?:mdb|accdb|accde|xls|xlsx|xlsm|xlsb|csv|txt|dbf|db|sqlite|odc|udl|dsn|doc|docx|rtf|htm"
    r"|html|mdf|sdf|ldf)$"
)


def _normal_target(target: str) -> str:
    # Unicode blanks around it too (U+3000 before "http://"): whatever a reader trims, a URL
    # padded with them is still meant as one
    path = re.sub(r"[\t\r\n]", "", unquote(target)).strip(CONTROLS).strip()
    return path.replace("\\", "/").lower()


def _unquoted(text: str) -> str:
    """``text`` with its %-escapes undone until none is left (at most a few times): whether
    Explorer undoes a search's escapes once or twice, its folder is found."""
    for _ in range(4):
        plain = unquote(text)
        if plain == text:
            break
        text = plain
    return text


# Schemes wrapped in schemes (mk:@MSITStore:mk:@MSITStore:...) deeper than this are taken for
# a share: no reader unwraps more, and a hostile chain of thousands must not exhaust the stack
_MOST_WRAPPINGS = 16


def _share(path: str, depth: int = 0) -> bool:
    """`on_a_share` for a target as `_normal_target` gives it."""
    if depth > _MOST_WRAPPINGS:
        return True
    scheme, _, rest = path.partition(":")
    if scheme in PROGRAM_HANDLERS:
        return True
    if scheme in ("search-ms", "search"):  # Explorer's search, in a folder it names
        places = [p.strip() for p in _LOCATION.findall(_unquoted(rest).replace("\\", "/"))]
        # a web folder is WebDAV to Explorer: Windows signs in to it as to a share
        return any(_share(p, depth + 1) or p.startswith(("http:", "https:")) for p in places)
    if scheme in _FILE_IN_A_PATH:  # a help file's or a library's page: the file is opened
        rest = rest.removeprefix("@msitstore:")
        return _share(rest[2:] if scheme == "res" and rest.startswith("//") else rest, depth + 1)
    if scheme.startswith("ms-") and "|u|" in rest:  # ms-word:ofe|u|\\host\x.docx
        return _share(rest.split("|u|", 1)[1], depth + 1)
    if path.startswith(_NT_PREFIXES):
        # Windows' own namespaces (\\?\, \\.\, \??\): a drive behind them is local, anything
        # else (UNC\host, GLOBALROOT\Device\Mup\host, a pipe) reaches the network or a device
        # (".." climbs: \\.\C:\..\UNC\host is the share, not the drive)
        return not _DRIVE.match(posixpath.normpath(path[4:]))
    if path.startswith("file:"):
        rest = path[5:]
        if rest.startswith("//"):
            host, _, rest = rest[2:].partition("/")
            # file://C:\Users\... (as ReportLab and others write a local file): a drive in the
            # host's place, which no host name can be (a colon, or the old "C|")
            if host not in ("", "localhost") and not _DRIVE_HOST.fullmatch(host):
                return True
            rest = "/" + rest
        # file:////Users/me/x.key: PowerPoint for Mac's link to a file on the Mac itself;
        # file:////V:/x: the drive path V:\x, as Windows reads it (Word 2016 writes a template
        # on a mapped drive so)
        first = rest[2:].partition("/")[0]
        return (
            rest.startswith("//") and first not in _MAC_FOLDERS and not _DRIVE_HOST.fullmatch(first)
        )
    return path.startswith("//")
