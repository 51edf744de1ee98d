"""Stream filters read as viewers read them (`formats.pdffilters`). LZW's ``/EarlyChange`` and
predictors are honoured, in pdfraw's own reading of object streams and in pypdf's: pypdf 7
ignores both, so an object stream written with ``/EarlyChange 0`` could end early for pypdf and
go on for PDFium, pdf.js and Acrobat (the red team's JavaScript on page open, Launch actions and
links to shares hidden there were approved). Readers also give a filter chain its parameters
differently (a lone dictionary for an array of filters, pdf.js's ``/DP``): every reading is
judged, and an attachment is scanned as each reader decodes it."""

from __future__ import annotations

import zlib
from collections.abc import Callable

import pypdf.filters
import pytest
from pypdf._codecs._codecs import LzwCodec
from pypdf.generic import DictionaryObject, NameObject, NumberObject

from attachguard.formats import pdffilters
from attachguard.formats.pdffilters import OverLimit, decode_chain, lzw, predicted
from attachguard.report import Status
from support import evasions
from support.fake_clamd import EICAR, FakeClamd, scanner_for

# -- an encoder for the tests (MSB first, 9-12 bits, as ISO 32000-1 7.4.4 writes) --------------


class _Codes:
    """Packs codes at the width the decoder reads them with: its table grows by one entry per
    code after the first since a clear, and widens when that size plus ``early`` reaches the next
    power of two."""

    def __init__(self, early: int) -> None:
        self.early, self.out, self.bits, self.count = early, bytearray(), 0, 0
        self.width, self.size, self.first = 9, 258, True

    def put(self, code: int) -> None:
        self.bits = (self.bits << self.width) | code
        self.count += self.width
        while self.count >= 8:
            self.count -= 8
            self.out.append((self.bits >> self.count) & 0xFF)
        self.bits &= (1 << self.count) - 1
        if code == 256:
            self.width, self.size, self.first = 9, 258, True
            return
        if not self.first:
            self.size += 1
        self.first = False
        if self.size + self.early >= 1 << self.width and self.width < 12:
            self.width += 1

    def done(self) -> bytes:
        if self.count:
            self.out.append((self.bits << (8 - self.count)) & 0xFF)
        return bytes(self.out)


def encode(data: bytes, early: int = 1) -> bytes:
    codes = _Codes(early)
    codes.put(256)
    table = {bytes([i]): i for i in range(256)}
    word = b""
    for byte in data:
        longer = word + bytes([byte])
        if longer in table:
            word = longer
            continue
        codes.put(table[word])
        table[longer] = len(table) + 2
        word = bytes([byte])
        if len(table) + 2 >= 4094:
            codes.put(table[word])
            codes.put(256)
            table, word = {bytes([i]): i for i in range(256)}, b""
    if word:
        codes.put(table[word])
    codes.put(257)
    return codes.done()


def ends_early_for_pypdf(data: bytes, at: int) -> bytes:
    """``data`` as literal codes with ``/EarlyChange 0`` widths, where the first ``at`` bytes
    are what a reader widening one code early (pypdf) reads before it takes the next 10 bits as
    an end-of-data code: at that point a 0x80 byte (9 bits: 010000000) is followed by a code
    starting with a 1 bit, and both readers then clear their tables. A viewer reads three bytes
    0x80 there (0x80 0x80 0x80), then the rest."""
    codes = _Codes(early=0)
    codes.put(256)
    for byte in data[:at]:
        codes.put(byte)
    assert codes.size + 1 >= 512 > codes.size, "the split must fall where the widths differ"
    codes.put(0x80)
    codes.put(codes.size)  # the entry being made: 0x80 0x80, a code of 512 or more
    codes.put(256)
    for byte in data[at:]:
        codes.put(byte)
        if codes.size > 4000:
            codes.put(256)
    codes.put(257)
    return codes.done()


TEXT = b"Your order 4711 has shipped; thank you for shopping with us.\n" * 200


@pytest.mark.parametrize("early", [0, 1])
@pytest.mark.parametrize(
    "data",
    [b"", b"a", TEXT, bytes(range(256)) * 40, b"ab" * 5000],
    ids=["empty", "one", "text", "bytes", "kwkwk"],
)
def test_lzw_reads_what_was_written(data: bytes, early: int) -> None:
    assert lzw(encode(data, early), early) == data


def test_lzw_reads_pypdfs_own_encoding() -> None:
    data = bytes(range(256)) * 80 + TEXT
    assert lzw(LzwCodec().encode(data)) == data


def test_lzw_without_an_end_code_is_read_as_far_as_it_goes() -> None:
    whole = encode(TEXT)
    assert TEXT.startswith(lzw(whole[: len(whole) // 2]))
    assert len(lzw(whole[: len(whole) // 2])) > 1000


def test_a_code_past_the_table_is_damage() -> None:
    codes = _Codes(1)
    for code in (256, 65, 300):  # the table holds 258 entries after "A": 300 is unknown
        codes.put(code)
    with pytest.raises(ValueError, match="past its table"):
        lzw(codes.done())


def test_lzw_stops_at_the_limit() -> None:
    with pytest.raises(OverLimit):
        lzw(encode(bytes(100_000)), limit=10_000)


# -- predictors, checked against pypdf's Flate reading of the same rows ------------------------


def _png_rows(rows: list[bytes], pixel: int) -> bytes:
    """``rows`` written with PNG filters 0-4 in turn."""
    out, above = bytearray(), bytes(len(rows[0]))
    guesses: list[Callable[[int, int, int], int]] = [
        lambda a, b, c: 0,
        lambda a, b, c: a,
        lambda a, b, c: b,
        lambda a, b, c: (a + b) // 2,
        lambda a, b, c: pdffilters._paeth(a, b, c),
    ]
    for index, row in enumerate(rows):
        kind = index % 5
        out.append(kind)
        for i, value in enumerate(row):
            left, corner = (row[i - pixel], above[i - pixel]) if i >= pixel else (0, 0)
            out.append((value - guesses[kind](left, above[i], corner)) & 0xFF)
        above = row
    return bytes(out)


def parms(**values: int) -> DictionaryObject:
    return DictionaryObject({NameObject(f"/{k}"): NumberObject(v) for k, v in values.items()})


def test_png_predictor_agrees_with_pypdf() -> None:
    rows = [bytes((x * 7 + y * 13 + (x * y) % 5) & 0xFF for x in range(30)) for y in range(12)]
    given = parms(Predictor=12, Colors=3, Columns=10, BitsPerComponent=8)
    written = _png_rows(rows, 3)
    assert predicted(written, given) == b"".join(rows)
    assert pypdf.filters.FlateDecode.decode(zlib.compress(written), given) == b"".join(rows)


def test_tiff_predictor() -> None:
    rows = [bytes([10, 20, 30, 40]), bytes([5, 5, 5, 5])]
    written = bytes([10, 20, 20, 20, 5, 5, 0, 0])  # each pixel (2 bytes) less the one before
    assert predicted(written, parms(Predictor=2, Colors=2, Columns=2)) == b"".join(rows)


def test_a_chain_of_filters_is_read_in_order() -> None:
    data = encode(TEXT, 0).hex().encode() + b">"
    info = DictionaryObject(
        {
            NameObject("/Filter"): pypdf.generic.ArrayObject(
                [NameObject("/ASCIIHexDecode"), NameObject("/LZWDecode")]
            ),
            NameObject("/DecodeParms"): pypdf.generic.ArrayObject(
                [pypdf.generic.NullObject(), parms(EarlyChange=0)]
            ),
        }
    )
    assert decode_chain(info, data, 10**6) == TEXT
    with pytest.raises(OverLimit):
        decode_chain(info, data, 1000)
    info[NameObject("/Filter")] = NameObject("/JBIG2Decode")
    with pytest.raises(ValueError, match="not read"):
        decode_chain(info, data, 10**6)


def test_pypdf_reads_lzw_parameters_once_installed() -> None:
    import attachguard.formats.pypdf_limits  # noqa: F401  (installs it, as every PDF reader does)

    assert pypdf.filters.LZWDecode.decode(encode(TEXT, 0), parms(EarlyChange=0)) == TEXT
    rows = [bytes(range(i, i + 16)) for i in range(8)]
    predicted_rows = encode(_png_rows(rows, 1), 1)
    assert pypdf.filters.LZWDecode.decode(
        predicted_rows, parms(Predictor=15, Columns=16)
    ) == b"".join(rows)


# -- PDFs whose objects pypdf's own LZW reading would not see -----------------------------------

PAD = b"(" + b"Order 4711 shipped. " * 30 + b")"  # the split point falls inside this string


def hidden_pdf(
    inner: list[tuple[int, bytes]],
    catalog: bytes = b"",
    page: bytes = b"",
    filters: bytes = b"/Filter /LZWDecode /DecodeParms << /EarlyChange 0 >>",
    extra: tuple[tuple[int, bytes], ...] = (),
) -> bytes:
    """A PDF whose object stream 6 (LZW, ``/EarlyChange 0``) holds a padding string, then
    ``inner``: pypdf's reading of it ends inside the padding. A cross-reference stream lists
    each object where it is."""
    objects = [(20, PAD), *inner]
    header_size = 60
    bodies, pairs = b"", []
    for number, body in objects:
        pairs.append((number, len(bodies)))
        bodies += body + b"\n"
    # the viewer reads three bytes 0x80 at the split: objects after it move by three
    split = 254
    header = (
        b" ".join(b"%d %d" % (n, o if header_size + o < split else o + 3) for n, o in pairs).ljust(
            header_size - 1
        )
        + b"\n"
    )
    plain = header + bodies
    stream = ends_early_for_pypdf(plain, split)
    assert lzw(stream, 0) == plain[:split] + b"\x80\x80\x80" + plain[split:]
    return objstm_pdf([n for n, _ in objects], header_size, filters, stream, catalog, page, extra)


def objstm_pdf(
    numbers: list[int],
    first: int,
    filters: bytes,
    stream: bytes,
    catalog: bytes = b"",
    page: bytes = b"",
    extra: tuple[tuple[int, bytes], ...] = (),
) -> bytes:
    """A one-page PDF (and the objects ``extra``) whose object stream 6 (``filters``, data
    ``stream``, objects from ``first``) holds the objects ``numbers`` in that order, all listed
    by a cross-reference stream."""
    content = b"BT /F1 12 Tf 72 720 Td (Your order has shipped.) Tj ET"
    top = [
        (1, b"<< /Type /Catalog /Pages 2 0 R" + catalog + b" >>"),
        (2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
        (3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R%s >>" % page),
        (4, b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content)),
        *extra,
        (6, b"<< /Type /ObjStm /N %d /First %d /Length %d %s >>\nstream\n%s\nendstream"
            % (len(numbers), first, len(stream), filters, stream)),
    ]  # fmt: skip
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number, body in top:
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    slots = {number: index for index, number in enumerate(numbers)}
    size = max([*slots, *offsets]) + 2
    offsets[size - 1] = len(out)
    rows = evasions.xref_stream_rows(size, offsets, slots)
    packed = zlib.compress(rows)
    out += b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Filter /FlateDecode " % (
        size - 1,
        size,
    )
    out += b"/Length %d >>\nstream\n%s\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % (
        len(packed),
        packed,
        offsets[size - 1],
    )
    return bytes(out)


JS = b"<< /S /JavaScript /JS (app.alert\\('opened'\\);) >>"
LINK = b"<< /Type /Annot /Subtype /Link /Rect [0 0 612 792] /A %s >>"
LAUNCH = LINK % b"<< /S /Launch /F (cmd.exe) >>"
SHARE = LINK % b"<< /S /GoToR /F (\\\\\\\\host\\\\s\\\\x.pdf) /D [0 /Fit] >>"
WEB = LINK % b"<< /S /URI /URI (https://example.com/o/4711) >>"


@pytest.mark.parametrize(
    ("pdf", "expected"),
    [
        (
            hidden_pdf([(8, b"<< /O 7 0 R >>"), (7, JS)], page=b" /AA 8 0 R"),
            {"PDF_AUTO_ACTION", "PDF_JAVASCRIPT"},
        ),
        (hidden_pdf([(8, LAUNCH)], page=b" /Annots [8 0 R]"), {"PDF_LAUNCH"}),
        (hidden_pdf([(8, SHARE)], page=b" /Annots [8 0 R]"), {"EXTERNAL_LINK"}),
        (hidden_pdf([(8, WEB)], page=b" /Annots [8 0 R]"), set()),
    ],
    ids=["javascript on page open", "launch", "link to a share", "a web link"],
)
def test_objects_in_an_early_change_0_object_stream_are_judged(
    pdf: bytes, expected: set[str]
) -> None:
    with scanner_for(FakeClamd(), "allowed_extensions: [.pdf]\n") as scanner:
        report = scanner.scan(pdf, "receipt.pdf")
    assert {f.code.name for f in report.findings} == expected
    assert report.status is (Status.REJECTED if expected else Status.APPROVED)


def classic_pdf(objects: dict[int, bytes]) -> bytes:
    """A PDF of ``objects`` (1 being the catalog) and a cross-reference table."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = {}
    for number, body in sorted(objects.items()):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    size = max(objects) + 1
    table = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        out += (
            b"%010d 00000 n \n" % offsets[number] if number in offsets else b"0000000000 00000 f \n"
        )
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, table)
    return bytes(out)


def codes_of(pdf: bytes) -> set[str]:
    """The codes of a PDF's findings through every local engine, the antivirus a fake."""
    with scanner_for(FakeClamd(), "allowed_extensions: [.pdf]\n") as scanner:
        return {f.code.name for f in scanner.scan(pdf, "receipt.pdf").findings}


def attachment_pdf(stream: bytes, more: dict[int, bytes] | None = None) -> bytes:
    """A PDF whose one attached file, details.txt, is object 7 (``stream``, whole)."""
    return classic_pdf(
        {
            1: b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles 5 0 R >> >>",
            2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
            5: b"<< /Names [(details.txt) 6 0 R] >>",
            6: b"<< /Type /Filespec /F (details.txt) /UF (details.txt) /EF << /F 7 0 R >> >>",
            7: stream,
            **(more or {}),
        }
    )


def test_an_attachment_pypdf_would_cut_short_is_scanned_whole() -> None:
    payload = b"Invoice details follow. " * 12 + EICAR  # the EICAR string past pypdf's end
    stream = ends_early_for_pypdf(payload, 254)
    pdf = attachment_pdf(
        b"<< /Type /EmbeddedFile /Length %d /Filter /LZWDecode"
        b" /DecodeParms << /EarlyChange 0 >> >>\nstream\n%s\nendstream" % (len(stream), stream)
    )
    assert "MALWARE" in codes_of(pdf)


# -- parameters readers give a filter chain differently -----------------------------------------


def objstm_data(objects: list[tuple[int, bytes]], separator: bytes = b" ") -> tuple[bytes, int]:
    """An object stream's decoded data and its /First: the header pairs, then the bodies."""
    bodies, pairs = b"", []
    for number, body in objects:
        pairs.append(b"%d%s%d" % (number, separator, len(bodies)))
        bodies += body + b"\n"
    header = separator.join(pairs) + b"\n"
    return header + bodies, len(header)


def tiff_encoded(data: bytes, columns: int) -> bytes:
    """``data`` written with the TIFF predictor (one 8-bit component, rows of ``columns``)."""
    out = bytearray(data)
    for start in range(0, len(out), columns):
        for i in range(min(start + columns, len(out)) - 1, start, -1):
            out[i] = (out[i] - out[i - 1]) & 0xFF
    return bytes(out)


def test_a_chain_given_a_lone_dictionary_is_read_both_ways() -> None:
    # pypdf gives the dictionary to the first filter; PDFium and pdf.js give an array of
    # filters parameters only from an array
    plain = TEXT[:600]
    info = DictionaryObject(
        {
            NameObject("/Filter"): pypdf.generic.ArrayObject([NameObject("/FlateDecode")]),
            NameObject("/DecodeParms"): parms(Predictor=2, Columns=20),
        }
    )
    found = pdffilters.readings(info, zlib.compress(plain), 10**6)
    assert len(found) == 2 and plain in found and found[0] != plain  # pypdf's first
    assert pdffilters.readers_differ(info)
    info[NameObject("/Filter")] = NameObject("/FlateDecode")
    assert not pdffilters.readers_differ(info)


def test_the_abbreviation_dp_is_read_as_pdfjs_reads_it() -> None:
    plain = TEXT[:600]
    info = DictionaryObject(
        {
            NameObject("/Filter"): NameObject("/FlateDecode"),
            NameObject("/DP"): parms(Predictor=2, Columns=20),
        }
    )
    found = pdffilters.readings(info, zlib.compress(tiff_encoded(plain, 20)), 10**6)
    assert found[1:] == [plain]  # pdf.js; pypdf and PDFium ignore /DP


@pytest.mark.parametrize(
    ("filters", "encode"),
    [
        (b"/Filter [/FlateDecode] /DecodeParms << /Predictor 2 /Columns 16 >>", lambda d: d),
        (b"/Filter /FlateDecode /DP << /Predictor 2 /Columns 16 >>", lambda d: tiff_encoded(d, 16)),
    ],
    ids=["chain with a lone dictionary (PDFium, pdf.js)", "DP (pdf.js)"],
)
def test_objects_another_reader_decodes_are_judged(
    filters: bytes, encode: Callable[[bytes], bytes]
) -> None:
    plain, first = objstm_data([(20, PAD), (8, LAUNCH)])
    pdf = objstm_pdf(
        [20, 8], first, filters, zlib.compress(encode(plain)), page=b" /Annots [8 0 R]"
    )
    assert "PDF_LAUNCH" in codes_of(pdf)


def test_an_object_stream_header_separated_by_nul_bytes_is_read() -> None:
    # NUL is white space in PDF: viewers read this header
    plain, first = objstm_data([(20, PAD), (8, LAUNCH)], separator=b"\x00")
    pdf = objstm_pdf(
        [20, 8], first, b"/Filter /FlateDecode", zlib.compress(plain), page=b" /Annots [8 0 R]"
    )
    assert "PDF_LAUNCH" in codes_of(pdf)


def test_an_attachment_another_reader_decodes_is_scanned_as_it_decodes_it() -> None:
    payload = b"Invoice details follow.\n" * 4 + EICAR
    data = zlib.compress(tiff_encoded(payload, 16))
    pdf = attachment_pdf(
        b"<< /Type /EmbeddedFile /Length %d /Filter /FlateDecode"
        b" /DP << /Predictor 2 /Columns 16 >> >>\nstream\n%s\nendstream" % (len(data), data)
    )
    assert "MALWARE" in codes_of(pdf)


@pytest.mark.parametrize("value", [b"0.0", b"0.9", b"9 0 R"])
def test_early_change_given_as_a_real_or_a_reference(value: bytes) -> None:
    # PDFium's GetIntegerFor truncates a real and follows a reference: early change 0
    payload = b"Invoice details follow. " * 12 + EICAR
    stream = ends_early_for_pypdf(payload, 254)
    pdf = attachment_pdf(
        b"<< /Type /EmbeddedFile /Length %d /Filter /LZWDecode /DecodeParms"
        b" << /EarlyChange %s >> >>\nstream\n%s\nendstream" % (len(stream), value, stream),
        {9: b"0"},
    )
    assert "MALWARE" in codes_of(pdf)


def test_a_parameter_that_is_no_number_cannot_be_read() -> None:
    lzw_parms = DictionaryObject({NameObject("/EarlyChange"): NameObject("/Zero")})
    with pytest.raises(ValueError, match="not a number"):
        pdffilters._int(lzw_parms, "/EarlyChange", 1)


def test_png_predictor_counts_whole_bytes_per_pixel() -> None:
    # 3 components of 4 bits: PDFium and pdf.js take 2 bytes a pixel (rounded up), not 1
    row = bytes([0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC])
    written = bytes([1, row[0], row[1]]) + bytes((row[i] - row[i - 2]) & 0xFF for i in range(2, 6))
    given = parms(Predictor=11, Colors=3, BitsPerComponent=4, Columns=4)
    assert predicted(written, given) == row


@pytest.mark.parametrize(
    "filters",
    [b"/Filter /LZWDecode /DP 21 0 R", b"/Filter /LZWDecode /DecodeParms 21 0 R",
     b"/Filter [/LZWDecode] /DecodeParms [21 0 R]"],
)  # fmt: skip
def test_parameters_given_by_reference_are_followed(filters: bytes) -> None:
    # a review's object streams: /DP 21 0 R (pdf.js and MuPDF follow it) hid a Launch action
    pdf = hidden_pdf([(8, LAUNCH)], page=b" /Annots [8 0 R]", filters=filters,
                     extra=((21, b"<< /EarlyChange 0 >>"),))  # fmt: skip
    assert "PDF_LAUNCH" in codes_of(pdf)


@pytest.mark.parametrize(
    "parms", [b"/DecodeParms 9 0 R", b"/DecodeParms [null]", b"/DecodeParms []"]
)
def test_an_attachment_is_read_through_its_whole_chain_whatever_its_parameters(
    parms: bytes,
) -> None:
    # pypdf stops at the shorter of a chain and its parameters: it scanned hex text, where
    # Poppler and MuPDF extract the file
    data = zlib.compress(EICAR.hex().encode() + b">")
    pdf = attachment_pdf(
        b"<< /Type /EmbeddedFile /Length %d /Filter [/FlateDecode /ASCIIHexDecode] %s >>"
        b"\nstream\n%s\nendstream" % (len(data), parms, data),
        {9: b"null"},
    )
    assert "MALWARE" in codes_of(pdf)


# -- predictors over pixels of fewer than 8 bits: pypdf's arithmetic against the viewers' ------


def one_bit_rows(plain: bytes, columns: int = 8) -> bytes:
    """``plain`` as rows of ``columns`` one-bit pixels (one byte a row), each row written with
    the PNG Sub filter: each byte less the one before it, as a viewer (one whole byte a pixel)
    undoes it; pypdf (no byte a pixel) adds each byte to itself instead."""
    row = (columns + 7) // 8
    out, previous = bytearray(), 0
    for start in range(0, len(plain), row):
        out.append(1)
        for value in plain[start : start + row]:
            out.append((value - previous) & 0xFF)
            previous = value
        previous = 0
    return bytes(out)


ONE_BIT = parms(Predictor=12, Colors=1, BitsPerComponent=1, Columns=8)


def test_a_one_bit_predictor_is_undone_as_viewers_undo_it() -> None:
    import attachguard.formats.pypdf_limits  # noqa: F401  (installs it, as every PDF reader does)

    plain = b"(hidden) /S /JavaScript"
    written = zlib.compress(one_bit_rows(plain))
    assert predicted(one_bit_rows(plain), ONE_BIT) == plain
    assert pdffilters._PYPDF_FLATE(written, ONE_BIT) != plain  # pypdf's own arithmetic
    assert pypdf.filters.FlateDecode.decode(written, ONE_BIT) == plain  # once installed
    assert pdffilters.flate(written, ONE_BIT) == plain


@pytest.mark.parametrize(
    ("values", "alike"),
    [
        ({"Predictor": 12, "Colors": 3, "BitsPerComponent": 8, "Columns": 10}, True),
        ({"Predictor": 12, "Colors": 1, "BitsPerComponent": 16, "Columns": 4}, True),
        ({"Predictor": 12, "Colors": 1, "BitsPerComponent": 1, "Columns": 8}, False),
        ({"Predictor": 12, "Colors": 3, "BitsPerComponent": 4, "Columns": 2}, False),
        ({"Predictor": 2, "Colors": 1, "BitsPerComponent": 16, "Columns": 4}, False),
        ({"Predictor": 1, "Colors": 1, "BitsPerComponent": 1, "Columns": 8}, True),
    ],
)
def test_pypdf_is_trusted_only_where_its_arithmetic_agrees(
    values: dict[str, int], alike: bool
) -> None:
    assert pdffilters._pypdf_predicts_alike(parms(**values)) is alike


def test_javascript_in_a_one_bit_predicted_object_stream_is_found() -> None:
    js = b"<< /S /JavaScript /JS (app.alert(1)) >>"
    data, first = objstm_data([(20, js)])
    stream = zlib.compress(one_bit_rows(data))
    filters = (
        b"/Filter /FlateDecode"
        b" /DecodeParms << /Predictor 12 /Colors 1 /BitsPerComponent 1 /Columns 8 >>"
    )
    pdf = objstm_pdf([20], first, filters, stream, catalog=b"/OpenAction 20 0 R")
    assert {"PDF_JAVASCRIPT", "PDF_AUTO_ACTION"} <= codes_of(pdf)


def test_an_attachment_behind_a_one_bit_predictor_is_scanned_as_viewers_decode_it() -> None:
    stream = zlib.compress(one_bit_rows(b"notes " + EICAR))
    pdf = attachment_pdf(
        b"<< /Type /EmbeddedFile /Length %d /Filter /FlateDecode /DecodeParms"
        b" << /Predictor 12 /Colors 1 /BitsPerComponent 1 /Columns 8 >> >>\nstream\n%s\n"
        b"endstream" % (len(stream), stream)
    )
    assert "MALWARE" in codes_of(pdf)
