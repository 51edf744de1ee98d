"""formats.pdfraw: the raw objects, revisions and reader-dependent structure of PDFs built
here byte by byte (and by pypdf's writer, for what real tools write)."""

from __future__ import annotations

import struct
import time
import zlib
from io import BytesIO

import pytest
from pypdf import PdfWriter

from attachguard.formats import pdfraw
from attachguard.formats.pdfraw import PdfLayout, Problem, names_in, scan_pdf_objects

HEADER = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
PAGES = {
    1: b"<< /Type /Catalog /Pages 2 0 R >>",
    2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
}
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(40, 120)) + b"\n"
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8" + bytes(45) + b"\x80\x00"
    b"\x0e\x1f\xba\x0e\x00\xb4\t\xcd!\xb8\x01L\xcd!This program cannot be run in DOS mode.\r\n"
)


def obj(number: int, body: bytes, generation: int = 0) -> bytes:
    return b"%d %d obj\n%s\nendobj\n" % (number, generation, body)


def stream(info: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (info, len(data), data)


class Pdf:
    """A PDF written revision by revision; each revision's xref lists the offsets given."""

    def __init__(self, header: bytes = HEADER) -> None:
        self.data = bytearray(header)
        self.last_xref: int | None = None
        self.size = 1

    def add(self, number: int, body: bytes, generation: int = 0) -> int:
        offset = len(self.data)
        self.data += obj(number, body, generation)
        return offset

    def xref(self, offsets: dict[int, int], trailer: bytes = b"") -> None:
        start = len(self.data)
        rows = {0: b"0000000000 65535 f \n"} if self.last_xref is None else {}
        rows |= {number: b"%010d 00000 n \n" % offset for number, offset in offsets.items()}
        table, run = b"xref\n", [-2]
        for number in [*sorted(rows), -1]:  # subsections of consecutive numbers
            if number == run[-1] + 1:
                run.append(number)
                continue
            if run[0] >= 0:
                table += b"%d %d\n" % (run[0], len(run)) + b"".join(rows[n] for n in run)
            run = [number]
        self.size = max(self.size, *(n + 1 for n in offsets))
        if self.last_xref is not None:
            trailer += b" /Prev %d" % self.last_xref
        self.data += table + b"trailer\n<< /Size %d /Root 1 0 R%s >>\n" % (self.size, trailer)
        self.data += b"startxref\n%d\n%%%%EOF\n" % start
        self.last_xref = start

    def revision(self, objects: dict[int, bytes]) -> dict[int, int]:
        offsets = {number: self.add(number, body) for number, body in objects.items()}
        self.xref(offsets)
        return offsets

    def bytes(self) -> bytes:
        return bytes(self.data)


def kinds(layout: PdfLayout) -> list[Problem]:
    return [p.kind for p in layout.problems]


def single() -> bytes:
    pdf = Pdf()
    pdf.revision(PAGES)
    return pdf.bytes()


# -- Benign files: no problems -------------------------------------------------------------------


def test_valid_single_revision() -> None:
    data = single()
    layout = scan_pdf_objects(data)
    assert layout.problems == []
    assert (layout.header_offset, layout.complete, layout.encrypted) == (0, True, False)
    assert [(o.number, o.generation, o.body.strip()) for o in layout.objects] == [
        (n, 0, body) for n, body in PAGES.items()
    ]
    assert layout.revisions == [pdfraw.Revision(len(data) - 1, data.index(b"\nxref") + 1)]


def test_valid_incremental_update() -> None:
    pdf = Pdf()
    pdf.revision(PAGES)
    pdf.revision({3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 300] >>", 4: b"(new)"})
    layout = scan_pdf_objects(pdf.bytes())
    assert layout.problems == []
    assert len(layout.revisions) == 2
    assert [layout.revision_of(o) for o in layout.objects] == [0, 0, 0, 1, 1]


def test_identical_object_written_twice_is_not_a_problem() -> None:
    pdf = Pdf()
    offsets = {n: pdf.add(n, body) for n, body in PAGES.items()}
    offsets[3] = pdf.add(3, PAGES[3])
    pdf.xref(offsets)
    assert scan_pdf_objects(pdf.bytes()).problems == []


def test_pypdf_writer_output() -> None:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_attachment("notes.txt", b"endstream\nendobj\n1 0 obj << /JS (x) >> endobj")
    writer.add_metadata({"/Title": "Order (1) 0 obj"})
    out = BytesIO()
    writer.write(out)
    layout = scan_pdf_objects(out.getvalue())
    assert layout.problems == []
    assert len(layout.objects) == 8  # the attachment's text is stream data, not objects
    # the same file updated incrementally (as a signature would be): still none
    update = PdfWriter(BytesIO(out.getvalue()), incremental=True)
    update.add_metadata({"/Author": "support"})
    updated = BytesIO()
    update.write(updated)
    layout = scan_pdf_objects(updated.getvalue())
    assert (layout.problems, len(layout.revisions)) == ([], 2)


def test_few_stray_bytes_after_eof_are_tolerated() -> None:
    layout = scan_pdf_objects(single() + b"\r\n\x00\x00\x1a\n")
    assert layout.problems == []


def test_leading_bytes_within_acrobats_window() -> None:
    pdf = Pdf(b"\n" * 10 + b"garbage line\n" + HEADER)
    pdf.revision(PAGES)
    layout = scan_pdf_objects(pdf.bytes())
    # read, but as a cross-reference readers count from different origins: pdf.js rebuilds it
    assert layout.header_offset == 23
    assert [(p.kind, p.message) for p in layout.problems] == [
        (
            Problem.BROKEN_XREF,
            "23 bytes before the header, offsets counted from the file's first byte",
        )
    ]


# -- Duplicate objects ---------------------------------------------------------------------------


def test_duplicate_in_one_revision_with_different_bodies() -> None:
    pdf = Pdf()
    offsets = {n: pdf.add(n, body) for n, body in PAGES.items()}
    offsets[1] = pdf.add(1, b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript >> >>")
    pdf.xref(offsets)  # points at the second definition, like the scan
    layout = scan_pdf_objects(pdf.bytes())
    assert layout.problems == [
        pdfraw.PdfProblem(
            Problem.DUPLICATE_OBJECT,
            "object 1 0 defined 2 times, differently: twice in one revision",
            offsets[1],
        )
    ]


def test_xref_picks_an_older_definition_than_the_scan() -> None:
    pdf = Pdf()
    first = pdf.revision(PAGES)
    pdf.add(1, b"<< /Type /Catalog /Pages 2 0 R /AA << >> >>")  # appended, not listed
    pdf.xref({2: first[2]})
    layout = scan_pdf_objects(pdf.bytes())
    [problem] = layout.problems
    assert problem.kind is Problem.DUPLICATE_OBJECT
    assert problem.message.endswith(
        f"the cross-reference picks the one at {first[1]}, a repairing reader the last"
    )


def test_objects_appended_after_the_last_eof_redefining_one() -> None:
    data = single() + obj(3, b"<< /Type /Page /Parent 2 0 R /AA << /O 9 0 R >> >>")
    assert kinds(scan_pdf_objects(data)) == [Problem.DUPLICATE_OBJECT]


# -- Cross-reference -----------------------------------------------------------------------------


def test_broken_xref_offsets() -> None:
    pdf = Pdf()
    offsets = {n: pdf.add(n, body) for n, body in PAGES.items()}
    pdf.xref({**offsets, 2: offsets[2] + 7})
    layout = scan_pdf_objects(pdf.bytes())
    assert layout.problems == [
        pdfraw.PdfProblem(
            Problem.BROKEN_XREF,
            f"1 cross-reference entries lead to no such object (object 2 at {offsets[2] + 7})",
        )
    ]


def test_xref_entry_pointing_at_another_object() -> None:
    pdf = Pdf()
    offsets = {n: pdf.add(n, body) for n, body in PAGES.items()}
    pdf.xref({**offsets, 2: offsets[3], 3: offsets[2]})
    assert kinds(scan_pdf_objects(pdf.bytes())) == [Problem.BROKEN_XREF]


def test_startxref_pointing_nowhere() -> None:
    data = single().replace(b"startxref\n", b"startxref\n1")  # 1 prefixed to the offset
    layout = scan_pdf_objects(data)
    assert kinds(layout) == [Problem.BROKEN_XREF]
    assert layout.problems[0].message.startswith("the cross-reference chain points at no")


def test_no_startxref() -> None:
    data = single()
    data = data[: data.rindex(b"startxref")] + b"%%EOF\n"
    assert [p.message for p in scan_pdf_objects(data).problems] == [
        "no startxref at the end of the file"
    ]


def test_prev_loop() -> None:
    pdf = Pdf()
    pdf.revision(PAGES)
    first_xref = pdf.last_xref
    pdf.revision({3: PAGES[3]})
    assert first_xref is not None and pdf.last_xref is not None
    data = pdf.bytes().replace(b"/Prev %d" % first_xref, b"/Prev %d" % pdf.last_xref)
    layout = scan_pdf_objects(data)
    assert [p.message for p in layout.problems] == ["the cross-reference chain loops"]


def test_duplicates_in_a_file_needing_repair() -> None:
    pdf = Pdf()
    pdf.revision(PAGES)
    pdf.revision({3: b"<< /Type /Page /Parent 2 0 R /AA << >> >>"})
    data = pdf.bytes().replace(b"startxref\n", b"startxref\n9")
    problems = scan_pdf_objects(data).problems
    assert [p.kind for p in problems] == [Problem.BROKEN_XREF, Problem.DUPLICATE_OBJECT]
    assert problems[1].message.endswith(
        "the cross-reference is broken, and readers repair it differently"
    )


def test_xref_offsets_relative_to_a_displaced_header() -> None:
    """Acrobat counts offsets from %PDF- when junk precedes it; absolute ones work too."""
    pdf = Pdf()
    pdf.revision(PAGES)
    data = b"x" * 50 + b"\n" + pdf.bytes()
    assert scan_pdf_objects(data).problems == []


# -- Junk ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("junk", [ZIP, EXE])
def test_junk_between_revisions(junk: bytes) -> None:
    pdf = Pdf()
    pdf.revision(PAGES)
    pdf.data += junk
    pdf.revision({3: PAGES[3]})
    layout = scan_pdf_objects(pdf.bytes())
    [problem] = layout.problems
    assert problem.kind is Problem.JUNK_BETWEEN_REVISIONS
    assert problem.offset == pdf.bytes().index(junk[:4])


def test_junk_glued_to_the_next_revision() -> None:
    """ "...run3 0 obj" is one token to a lexer: the object is seen only through the xref."""
    pdf = Pdf()
    pdf.revision(PAGES)
    pdf.data += EXE.rstrip()
    pdf.revision({3: PAGES[3]})
    layout = scan_pdf_objects(pdf.bytes())
    assert kinds(layout) == [Problem.OVERLAPPING_OBJECT, Problem.JUNK_BETWEEN_REVISIONS]


@pytest.mark.parametrize("junk", [ZIP, EXE])
def test_trailing_junk(junk: bytes) -> None:
    data = single()
    layout = scan_pdf_objects(data + junk)
    assert layout.problems == [
        pdfraw.PdfProblem(
            Problem.TRAILING_JUNK,
            f"{len(junk.translate(None, pdfraw._WS))} bytes that are not PDF syntax after the "
            "end of the PDF",
            len(data),
        )
    ]


def test_junk_between_objects() -> None:
    pdf = Pdf()
    offsets = {1: pdf.add(1, PAGES[1])}
    pdf.data += EXE
    offsets |= {n: pdf.add(n, PAGES[n]) for n in (2, 3)}
    pdf.xref(offsets)
    assert kinds(scan_pdf_objects(pdf.bytes())) == [Problem.JUNK_IN_REVISION]


def test_header_beyond_acrobats_window() -> None:
    pdf = Pdf(bytes(2000) + EXE + HEADER)  # NUL is whitespace, but the header is too far
    pdf.revision(PAGES)
    layout = scan_pdf_objects(pdf.bytes())
    assert kinds(layout) == [Problem.MISSING_HEADER]
    assert layout.header_offset == 2000 + len(EXE)


def test_no_header_at_all() -> None:
    layout = scan_pdf_objects(single()[len(HEADER) :])
    assert layout.problems[0].message.endswith("; anywhere")
    assert layout.header_offset is None


# -- Object streams, names -----------------------------------------------------------------------


def object_stream(objects: dict[int, bytes], info: bytes = b"") -> bytes:
    """An object stream holding ``objects``, FlateDecode-compressed."""
    bodies, header, offset = b"", b"", 0
    for number, body in objects.items():
        header += b"%d %d " % (number, offset)
        bodies += body + b"\n"
        offset = len(bodies)
    plain = header + bodies
    extra = b"/Type /ObjStm /N %d /First %d /Filter /FlateDecode %s" % (
        len(objects),
        len(header),
        info,
    )
    return stream(extra, zlib.compress(plain))


def xref_stream(rows: dict[int, tuple[int, int, int]], size: int, predictor: bool = False) -> bytes:
    """A cross-reference stream (W [1 4 2]) with ``rows`` (number: type, field 2, field 3)."""
    numbers = sorted(rows)
    raw = [struct.pack(">BIH", *rows[n]) for n in numbers]
    index = b" ".join(b"%d 1" % n for n in numbers)
    parms = b""
    if predictor:  # PNG "Up": each byte minus the one above it, each row tagged 2
        previous, encoded = bytes(7), b""
        for row in raw:
            encoded += b"\x02" + bytes((a - b) % 256 for a, b in zip(row, previous, strict=True))
            previous = row
        raw, parms = [encoded], b"/DecodeParms << /Predictor 12 /Columns 7 >>"
    info = b"/Type /XRef /Size %d /W [1 4 2] /Index [%s] /Root 1 0 R /Filter /FlateDecode %s" % (
        size,
        index,
        parms,
    )
    return stream(info, zlib.compress(b"".join(raw)))


def with_object_stream(
    contained: dict[int, bytes], predictor: bool = False, slots: list[int] | None = None
) -> bytes:
    """Pages 1-3, object stream 4 holding ``contained``, cross-reference stream 9 (listing
    them at ``slots`` in the object stream, by default where they are)."""
    pdf = Pdf()
    offsets = {n: pdf.add(n, body) for n, body in PAGES.items()}
    offsets[4] = pdf.add(4, object_stream(contained))
    rows = {n: (1, off, 0) for n, off in offsets.items()}
    rows |= {n: (2, 4, i) for n, i in zip(contained, slots or range(len(contained)), strict=True)}
    start = len(pdf.data)
    rows[9] = (1, start, 0)
    pdf.data += obj(9, xref_stream(rows, 10, predictor)) + b"startxref\n%d\n%%%%EOF\n" % start
    return pdf.bytes()


@pytest.mark.parametrize("predictor", [False, True])
def test_escaped_javascript_inside_an_object_stream(predictor: bool) -> None:
    action = b"<< /S /J#61vaScript /JS (app.alert\\(1\\); /Launch) >>"
    layout = scan_pdf_objects(with_object_stream({5: action, 6: b"<< /Type /Annot >>"}, predictor))
    assert layout.problems == []
    inside = {o.number: o for o in layout.objects if o.container == 4}
    assert sorted(inside) == [5, 6]
    assert names_in(inside[5].body) == {"/S", "/JavaScript", "/JS"}  # not /Launch: a string
    assert inside[6].slot == 1


def test_xref_stream_entries_into_the_wrong_object_stream_slots() -> None:
    data = with_object_stream({5: b"<< /A 1 >>", 6: b"<< /B 2 >>"}, slots=[1, 0])
    layout = scan_pdf_objects(data)
    assert [p.message for p in layout.problems] == [
        "2 cross-reference entries lead to no such object (object 5 at 4, object 6 at 4)"
    ]


def test_unreadable_object_stream() -> None:
    pdf = Pdf()
    offsets = {n: pdf.add(n, body) for n, body in PAGES.items()}
    offsets[4] = pdf.add(4, stream(b"/Type /ObjStm /N 1 /First 4 /Filter /LZWDecode", b"\x80"))
    pdf.xref(offsets)
    layout = scan_pdf_objects(pdf.bytes())
    assert kinds(layout) == [Problem.UNREADABLE_OBJECT_STREAM]


def test_encrypted_files_object_streams_are_left_to_pypdf() -> None:
    pdf = Pdf()
    offsets = {n: pdf.add(n, body) for n, body in PAGES.items()}
    offsets[4] = pdf.add(4, stream(b"/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", b"\x8f"))
    offsets[5] = pdf.add(5, b"<< /Filter /Standard /V 2 /R 3 >>")
    pdf.xref(offsets, trailer=b" /Encrypt 5 0 R")
    layout = scan_pdf_objects(pdf.bytes())
    assert (layout.encrypted, layout.problems) == (True, [])


def test_names_in() -> None:
    body = (
        b"<< /J#61vaScript 1 /Launch#20x (/NotAName) % /Comment\n"
        b"/Nested (a (b) \\) /Still) <2F4E6F74> /A#2fB /OpenAction >>"
    )
    assert names_in(body) == {"/JavaScript", "/Launch x", "/Nested", "/A/B", "/OpenAction"}
    assert names_in(b"<< /A (never closed /JS >>") == {"/A", "/JS"}


# -- Streams and odd objects ---------------------------------------------------------------------


def test_stream_with_a_huge_length() -> None:
    pdf = Pdf()
    offsets = {n: pdf.add(n, body) for n, body in PAGES.items()}
    offsets[4] = pdf.add(4, b"<< /Length 99999999999999 >>\nstream\nhello\nendstream")
    pdf.xref(offsets)
    layout = scan_pdf_objects(pdf.bytes())
    assert layout.problems == []
    assert layout.stream_data(layout.objects[3]) == b"hello"


def test_stream_length_skips_what_looks_like_objects_inside() -> None:
    inner = b"endstream\nendobj\n1 0 obj\n<< /OpenAction 5 0 R >>\nendobj\n"
    pdf = Pdf()
    offsets = {n: pdf.add(n, body) for n, body in PAGES.items()}
    offsets[4] = pdf.add(4, stream(b"/Type /EmbeddedFile", inner))
    pdf.xref(offsets)
    layout = scan_pdf_objects(pdf.bytes())
    assert layout.problems == []
    assert len(layout.objects) == 4
    assert layout.stream_data(layout.objects[3]) == inner


def test_indirect_stream_length() -> None:
    inner = b"endstream endobj 1 0 obj << /AA 1 >> endobj"
    pdf = Pdf()
    offsets = {n: pdf.add(n, body) for n, body in PAGES.items()}
    offsets[4] = pdf.add(4, b"<< /Length 5 0 R >>\nstream\n%s\nendstream" % inner)
    offsets[5] = pdf.add(5, b"%d" % len(inner))
    pdf.xref(offsets)
    layout = scan_pdf_objects(pdf.bytes())
    assert layout.problems == []
    assert layout.stream_data(layout.objects[3]) == inner


def test_object_hidden_inside_another_objects_stream() -> None:
    hidden = b"7 0 obj\n<< /S /JavaScript /JS (app.alert(1)) >>\nendobj\n"
    pdf = Pdf()
    offsets = {n: pdf.add(n, body) for n, body in PAGES.items()}
    offsets[4] = pdf.add(4, stream(b"", b"q Q\n" + hidden))
    pdf.xref({**offsets, 7: pdf.bytes().index(hidden)})
    layout = scan_pdf_objects(pdf.bytes())
    assert kinds(layout) == [Problem.OVERLAPPING_OBJECT]
    [seven] = [o for o in layout.objects if o.number == 7]
    assert "/JavaScript" in names_in(seven.body)


def test_string_never_closed() -> None:
    pdf = Pdf()
    offsets = {n: pdf.add(n, body) for n, body in PAGES.items()}
    offsets[4] = pdf.add(4, b"<< /Title (no end >>")
    offsets[5] = pdf.add(5, b"<< /S /Launch >>")
    pdf.xref(offsets)
    layout = scan_pdf_objects(pdf.bytes())
    assert kinds(layout) == [Problem.UNTERMINATED_OBJECT]
    assert [o.number for o in layout.objects] == [1, 2, 3, 4, 5]  # the later one still found


def test_object_without_endobj_ends_at_the_next() -> None:
    pdf = Pdf()
    offsets = {n: pdf.add(n, body) for n, body in PAGES.items()}
    offsets[4] = len(pdf.data)
    pdf.data += b"4 0 obj\n<< /A 1 >>\n"
    offsets[5] = pdf.add(5, b"<< /B 2 >>")
    pdf.xref(offsets)
    layout = scan_pdf_objects(pdf.bytes())
    assert layout.problems == []
    assert layout.objects[3].body.strip() == b"<< /A 1 >>"


# -- Limits --------------------------------------------------------------------------------------


def many_objects(count: int) -> bytes:
    pdf = Pdf()
    offsets = {n: pdf.add(n, body) for n, body in PAGES.items()}
    offsets |= {n: pdf.add(n, b"<< /N %d >>" % n) for n in range(4, count + 1)}
    pdf.xref(offsets)
    return pdf.bytes()


def slowness() -> float:
    """How many times slower than a typical machine plain Python runs here (at least 1): a
    million empty loop turns take CPython 3.11 about 15 ms of CPU. Shared CI runners are often
    several times slower, and a time bound must not fail for that alone."""
    started = time.process_time()
    for _ in range(1_000_000):
        pass
    return max(1.0, (time.process_time() - started) / 0.015)


def cpu_seconds(data: bytes, **limits: int) -> tuple[float, PdfLayout]:
    started = time.process_time()
    layout = scan_pdf_objects(data, **limits)
    return time.process_time() - started, layout


def test_hundred_thousand_tiny_objects_do_not_blow_up() -> None:
    seconds, layout = cpu_seconds(many_objects(100_000))
    assert seconds < 8.0 * slowness()  # a guard against blow-ups, not a benchmark
    assert (len(layout.objects), layout.problems) == (100_000, [])


def test_object_count_is_bounded() -> None:
    layout = scan_pdf_objects(many_objects(100), max_objects=10)
    assert not layout.complete
    assert len(layout.objects) == 10
    assert layout.problems[0] == pdfraw.PdfProblem(
        Problem.OVER_LIMIT, "more than 10 objects; the rest not read"
    )


def test_object_stream_bomb_is_bounded() -> None:
    bomb = zlib.compress(b"5 0 " + bytes(8_000_000), 9)  # eight times the budget below
    pdf = Pdf()
    offsets = {n: pdf.add(n, body) for n, body in PAGES.items()}
    offsets[4] = pdf.add(4, stream(b"/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", bomb))
    pdf.xref(offsets)
    layout = scan_pdf_objects(pdf.bytes(), max_expanded=1_000_000)
    assert kinds(layout) == [Problem.OVER_LIMIT]
    assert layout.problems[0].message == "streams decode to more than 1,000,000 bytes"


def test_many_unclosed_strings_stop_early() -> None:
    """Each unclosed string makes the scan look to the end of the file: the work budget stops
    that from growing with the square of the file's size."""
    pdf = Pdf()
    for number in range(1, 20_001):
        pdf.add(number, b"<< /T (open >>")
    pdf.xref({1: len(HEADER)})
    seconds, layout = cpu_seconds(pdf.bytes())
    assert seconds < 8.0 * slowness()  # a guard against blow-ups, not a benchmark
    assert not layout.complete
    assert Problem.OVER_LIMIT in kinds(layout)


def test_a_stray_byte_between_revisions_is_tolerated() -> None:
    pdf = Pdf()
    pdf.revision(PAGES)
    pdf.data += b"\x1a\r\n"
    pdf.revision({3: PAGES[3]})
    assert scan_pdf_objects(pdf.bytes()).problems == []


@pytest.mark.parametrize(("slot", "problems"), [(0, 0), (1, 1)])
def test_hybrid_file_reads_its_xref_stream(slot: int, problems: int) -> None:
    """A hybrid file's table marks object 5 free; its /XRefStm (read by newer readers) puts
    it in object stream 4. A wrong slot there is seen, so the stream's entries are read."""
    pdf = Pdf()
    offsets = {n: pdf.add(n, body) for n, body in PAGES.items()}
    offsets[4] = pdf.add(4, object_stream({5: b"<< /S /JavaScript >>"}))
    hidden = pdf.add(9, xref_stream({5: (2, 4, slot)}, 10))
    start = len(pdf.data)
    table = b"xref\n0 6\n0000000000 65535 f \n" + b"".join(
        b"%010d 00000 n \n" % offsets[n] for n in (1, 2, 3, 4)
    )
    table += b"0000000000 00000 f \n"  # object 5, free to a reader of the table only
    trailer = b"trailer\n<< /Size 10 /Root 1 0 R /XRefStm %d >>\n" % hidden
    pdf.data += table + trailer + b"startxref\n%d\n%%%%EOF\n" % start
    layout = scan_pdf_objects(pdf.bytes())
    assert [p.kind for p in layout.problems] == [Problem.BROKEN_XREF] * problems
    assert [o.number for o in layout.objects if o.container == 4] == [5]
