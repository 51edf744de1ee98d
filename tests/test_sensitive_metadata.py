"""Card numbers in the text a picture or a recording carries besides its pixels and sound (red
team 94): EXIF and XMP descriptions, a JPEG comment, PNG text chunks, MP4 user data, WAV INFO.
Explorer's Details pane, Photos and media players show them; the OCR never sees them."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, PngImagePlugin

from test_sensitive_formats import Blank, found, scan

VISA = "4111 1111 1111 1111"


def jpeg(**save: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 210, 220)).save(out, "JPEG", **save)
    return out.getvalue()


def jpeg_with_comment(text: str) -> bytes:
    data = jpeg()
    body = text.encode()
    comment = b"\xff\xfe" + struct.pack(">H", len(body) + 2) + body
    return data[:2] + comment + data[2:]


def exif_comment(text: str) -> bytes:
    exif = Image.Exif()
    exif[0x9C9C] = (text + "\0").encode("utf-16-le")  # XPComment, as Explorer writes it
    exif[0x010E] = "Holiday"  # ImageDescription
    return jpeg(exif=exif.tobytes())


def png_text(text: str, compressed: bool) -> bytes:
    info = PngImagePlugin.PngInfo()
    if compressed:
        info.add_text("Comment", text, zip=True)
    else:
        info.add_text("Comment", text)
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "white").save(out, "PNG", pnginfo=info)
    return out.getvalue()


def wav_info(text: str, encoding: str = "utf-8") -> bytes:
    """A WAV file with a LIST/INFO chunk's comment (ICMT)."""
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 8000, 1, 8)
    data = b"data" + struct.pack("<I", 800) + bytes(800)
    comment = text.encode(encoding) + b"\0"
    info = b"INFO" + b"ICMT" + struct.pack("<I", len(comment)) + comment
    listing = b"LIST" + struct.pack("<I", len(info)) + info
    body = b"WAVE" + fmt + data + listing
    return b"RIFF" + struct.pack("<I", len(body)) + body


def mp4_comment(text: str, encoding: str = "utf-8", language: int = 0) -> bytes:
    """An MP4's user data: a ©cmt box in udta in moov (its text in ``encoding``, of a
    ``language`` code: below 0x400 a Macintosh one)."""

    def box(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", 8 + len(body)) + kind + body

    ftyp = box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2mp41")
    coded = text.encode(encoding)
    cmt = box(b"\xa9cmt", struct.pack(">HH", len(coded), language) + coded)
    moov = box(b"moov", box(b"mvhd", bytes(100)) + box(b"udta", cmt))
    return ftyp + moov + box(b"mdat", bytes(64))


CASES = [
    ("jpeg", lambda t: jpeg_with_comment(t)),
    ("jpeg", lambda t: exif_comment(t)),
    ("png", lambda t: png_text(t, compressed=False)),
    ("png", lambda t: png_text(t, compressed=True)),
    ("wav", lambda t: wav_info(t)),
    ("mp4", lambda t: mp4_comment(t)),
]
IDS = ["jpeg-comment", "exif-xpcomment", "png-text", "png-ztxt", "wav-info", "mp4-udta"]


@pytest.mark.parametrize(("label", "build"), CASES, ids=IDS)
def test_a_card_number_in_a_pictures_or_recordings_metadata_is_found(
    label: str, build: object
) -> None:
    data = build(f"Card {VISA} exp 12/27")  # type: ignore[operator]
    result = scan(data, label, Blank())
    assert [(code, where) for code, _, where in found(result)] == [("SENSITIVE_CARD", "metadata")]


@pytest.mark.parametrize(("label", "build"), CASES, ids=IDS)
def test_ordinary_metadata_passes(label: str, build: object) -> None:
    text = "Shot on holiday, 2024-07-14 18:22:05, ISO 100, 1/250 s, ref 4111-2024"
    data = build(text)  # type: ignore[operator]
    assert found(scan(data, label, Blank())) == []


def test_a_compressed_png_chunk_is_read_inflated() -> None:
    data = png_text(f"Card {VISA}", compressed=True)
    assert VISA.encode() not in data  # only inflated is it there
    assert [code for code, _, _ in found(scan(data, "png", Blank()))] == ["SENSITIVE_CARD"]


@pytest.mark.parametrize("label", ["txt", "csv"])
def test_a_utf32_mark_is_also_read_as_excel_reads_it(label: str) -> None:
    # FF FE 00 00: UTF-32 to Python, a UTF-16 mark and a NUL to Excel and Notepad (red team 90)
    data = b"\xff\xfe\x00\x00" + f"\r\nname,card\r\nAnn,{VISA}\r\n".encode("utf-16-le")
    codes = [code for code, _, _ in found(scan(data, label, Blank()))]
    assert codes == ["SENSITIVE_CARD"]


# red team 95: numbers written with characters beside ASCII, in the encodings metadata use
NBSP, NARROW = "4111\u00a01111\u00a01111\u00a01111", "4111\u202f1111\u202f1111\u202f1111"
FULLWIDTH = "".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in VISA)


# red team 109: other scripts' digits, tabs between the groups, XML character references
ARABIC = "".join(chr(0x0660 + int(c)) if c.isdigit() else c for c in "4111 1111 1111 1111")
PERSIAN = "".join(chr(0x06F0 + int(c)) if c.isdigit() else c for c in "4111 1111 1111 1111")
DEVANAGARI = "".join(chr(0x0966 + int(c)) if c.isdigit() else c for c in "4111 1111 1111 1111")
TABS = "4111\t1111\t1111\t1111"


@pytest.mark.parametrize(
    "number",
    [NBSP, NARROW, FULLWIDTH, ARABIC, PERSIAN, DEVANAGARI, TABS],
    ids=["nbsp", "narrow", "fullwidth", "arabic", "persian", "devanagari", "tabs"],
)
@pytest.mark.parametrize(
    ("label", "build"),
    [
        ("jpeg", jpeg_with_comment),  # UTF-8
        ("jpeg", exif_comment),  # UTF-16LE
        ("mp4", mp4_comment),  # UTF-8
        ("wav", lambda t: wav_info(t, "utf-16-le")),
    ],
    ids=["jpeg-comment", "exif-xpcomment", "mp4-udta", "wav-info-utf16"],
)
def test_a_number_written_with_characters_beside_ascii_is_found(
    number: str, label: str, build: object
) -> None:
    data = build(f"Card {number}")  # type: ignore[operator]
    assert [code for code, _, _ in found(scan(data, label, Blank()))] == ["SENSITIVE_CARD"]


def test_a_wav_comment_in_the_systems_code_page_is_found() -> None:
    data = wav_info(f"Card {NBSP}", "cp1252")  # a no-break space is byte A0 there
    assert [code for code, _, _ in found(scan(data, "wav", Blank()))] == ["SENSITIVE_CARD"]


def test_text_in_utf16be_without_a_terminator_is_read() -> None:
    # a big-endian EXIF's UserComment ("UNICODE\0", then the text), the next segment right after
    data = jpeg()
    body = b"Exif\0\0MM\0*" + bytes(8) + b"UNICODE\0" + f"Card {VISA}".encode("utf-16-be")
    app1 = b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
    assert [code for code, _, _ in found(scan(data[:2] + app1 + data[2:], "jpeg", Blank()))] == [
        "SENSITIVE_CARD"
    ]


def compressed_movie(text: str, brand: bytes = b"qt  ") -> bytes:
    """A QuickTime movie whose header is compressed ('cmov': 'dcom' zlib, 'cmvd' the inflated
    size and the stream), holding a ©nam title."""

    def box(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", 8 + len(body)) + kind + body

    title = box(b"\xa9nam", struct.pack(">HH", len(text.encode()), 0) + text.encode())
    movie = box(b"moov", box(b"mvhd", bytes(100)) + box(b"udta", title))
    cmov = box(b"cmov", box(b"dcom", b"zlib") + box(b"cmvd", struct.pack(">I", len(movie))
                + zlib.compress(movie)))  # fmt: skip
    ftyp = box(b"ftyp", brand + bytes(4) + brand)
    return ftyp + box(b"moov", cmov) + box(b"mdat", bytes(64))


def with_chunk(kind: bytes, payload: bytes) -> bytes:
    """A white PNG with one more chunk before its image data."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "white").save(out, "PNG")
    data = out.getvalue()
    at = data.index(b"IDAT") - 4
    chunk = struct.pack(">I", len(payload)) + kind + payload
    return data[:at] + chunk + struct.pack(">I", zlib.crc32(kind + payload)) + data[at:]


def test_a_compressed_text_chunk_pillow_drops_is_read() -> None:
    # red team 112: an iTXt whose language tag or text is not UTF-8 (a Latin-1 no-break
    # space), which Pillow dropped whole; ExifTool shows it
    text = zlib.compress("Card 4111\xa01111\xa01111\xa01111".encode("latin-1"))
    payload = b"Comment\0\x01\x00f\xe9\0\0" + text
    assert [c for c, _, _ in found(scan(with_chunk(b"iTXt", payload), "png", Blank()))] == [
        "SENSITIVE_CARD"
    ]
    plain = b"Comment\0\x01\x00en\0\0" + zlib.compress(b"Taken 2024-07-14 18:22")
    assert found(scan(with_chunk(b"iTXt", plain), "png", Blank())) == []


def jpeg_with_xmp(title: str, encoding: str = "utf-8", mark: str = "") -> bytes:
    """A JPEG with an XMP packet in ``encoding`` (``mark``: the wrapper's byte-order mark)."""
    packet = (
        f'<?xpacket begin="{mark}" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"'
        ' xmpMM:DocumentID="xmp.did:4111111111" xmpMM:InstanceID="111111">'
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>'
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    )
    body = b"http://ns.adobe.com/xap/1.0/\0" + packet.encode(encoding)
    data = jpeg()
    return data[:2] + b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body + data[2:]


@pytest.mark.parametrize(
    "title", ["Card 4111 1111 <![CDATA[1111]]> 1111", "Card 4111 1111 <!-- x -->1111 1111"]
)
def test_xmp_is_read_as_a_viewer_lists_it(title: str) -> None:
    # red team 112: ExifTool shows the number a CDATA section or a comment splits
    assert [c for c, _, _ in found(scan(jpeg_with_xmp(title), "jpeg", Blank()))] == [
        "SENSITIVE_CARD"
    ]


def test_xmp_is_found_under_any_prefix_and_in_compressed_chunks() -> None:
    # red team 113: readers go by the namespace (<m:xmpmeta>, <r:RDF>), and a PNG's XMP is
    # often a compressed iTXt chunk
    title = "Card 4111 1111 <![CDATA[1111]]> 1111"
    renamed = jpeg_with_xmp(title).replace(b"x:xmpmeta", b"m:xmpmeta").replace(b"rdf:", b"r:")
    assert [c for c, _, _ in found(scan(renamed, "jpeg", Blank()))] == ["SENSITIVE_CARD"]
    packet = jpeg_with_xmp(title).split(b"http://ns.adobe.com/xap/1.0/\0", 1)[1]
    packet = packet[: packet.index(b"<?xpacket end")]
    chunk = b"XML:com.adobe.xmp\0\x01\x00\0\0" + zlib.compress(packet)
    assert [c for c, _, _ in found(scan(with_chunk(b"iTXt", chunk), "png", Blank()))] == [
        "SENSITIVE_CARD"
    ]


def test_xmp_attributes_are_not_joined() -> None:
    # two IDs side by side ("4111111111" and "111111") are no 16-digit number
    assert found(scan(jpeg_with_xmp("Holiday"), "jpeg", Blank())) == []


def wave(*chunks: bytes) -> bytes:
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 8000, 1, 8)
    body = b"WAVE" + fmt + b"data" + struct.pack("<I", 800) + bytes(800) + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + b"\0" * (len(body) & 1)


def id3_tag(
    version: int, *frames: tuple[bytes, int, bytes], flags: int = 0, extended: bytes = b""
) -> bytes:
    """An ID3v2 tag of frames (identifier, flags, content as stored; 2.2's have no flags),
    with the header's ``flags`` and an ``extended`` header before the frames."""
    body = extended
    for ident, frame_flags, content in frames:
        size = len(content)
        if version == 2:
            body += ident + size.to_bytes(3, "big") + content
            continue
        raw = (
            bytes((size >> s) & 0x7F for s in (21, 14, 7, 0)) if version == 4 else size.to_bytes(4)
        )
        body += ident + raw + frame_flags.to_bytes(2, "big") + content
    header = bytes((version, 0, flags)) + bytes((len(body) >> s) & 0x7F for s in (21, 14, 7, 0))
    return b"ID3" + header + body


def test_recording_tags_are_read_field_by_field() -> None:
    # red team 112: a value without its NUL ran into the next field's identifier as bytes
    # ("...1111ISFT"), and ID3 frames compressed with zlib were not inflated
    glued = b"INFO" + b"ICMT" + struct.pack("<I", 24) + f"Card {VISA}".encode()
    glued += b"ISFT" + struct.pack("<I", 6) + b"Lavf58"
    comment = b"\x03eng\0" + f"Card {VISA}".encode()
    v23 = (b"COMM", 0x0080, len(comment).to_bytes(4, "big") + zlib.compress(comment))
    v24 = (b"TIT2", 0x0009, bytes(4) + zlib.compress(b"\x03" + f"Card {VISA}".encode()))
    for data in (
        wave(riff_chunk(b"LIST", glued)),
        wave(riff_chunk(b"id3 ", id3_tag(3, v23))),
        wave(riff_chunk(b"id3 ", id3_tag(4, v24))),
        wave() + id3_tag(4, v24),  # after the RIFF data, as taggers append it
    ):
        assert [c for c, _, _ in found(scan(data, "wav", Blank()))] == ["SENSITIVE_CARD"]
    # red team 113: a 2.3 tag unsynchronised as a whole (a 00 after each FF of the frames): a
    # compressed frame holding an FF no longer inflated
    coded = b"\x00eng\0" + f"\xff\xff Card {VISA}".encode("latin-1")
    assert b"\xff" in zlib.compress(coded)[2:-4]  # inside the deflate stream
    unsync = id3_tag(3, (b"COMM", 0x0080, len(coded).to_bytes(4, "big") + zlib.compress(coded)))
    unsync = unsync[:5] + b"\x80" + unsync[6:10] + unsync[10:].replace(b"\xff", b"\xff\x00")
    assert [c for c, _, _ in found(scan(wave(riff_chunk(b"id3 ", unsync)), "wav", Blank()))] == [
        "SENSITIVE_CARD"
    ]
    plain = b"INFO" + b"ICRD" + struct.pack("<I", 10) + b"2024-07-14"
    plain += b"ISFT" + struct.pack("<I", 13) + b"Lavf58.76.100"
    title = (b"TIT2", 0x0080, bytes(4) + zlib.compress(b"\x00Take 4111-2024"))
    assert found(scan(wave(riff_chunk(b"LIST", plain), riff_chunk(b"id3 ", id3_tag(3, title))),
                      "wav", Blank())) == []  # fmt: skip


def movie_with_text(sample: bytes, handler: bytes = b"text") -> bytes:
    """An MP4 whose one track (of ``handler``) has one sample, in 'mdat' after 64 bytes of
    frames, located by its sample table."""

    def box(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", 8 + len(body)) + kind + body

    def full(kind: bytes, body: bytes) -> bytes:
        return box(kind, bytes(4) + body)

    ftyp = box(b"ftyp", b"isom" + bytes(4) + b"isom")

    def moov(offset: int) -> bytes:
        stbl = box(b"stbl", full(b"stsz", struct.pack(">II", 0, 1) + struct.pack(">I", len(sample)))
                   + full(b"stco", struct.pack(">II", 1, offset))
                   + full(b"stsc", struct.pack(">IIII", 1, 1, 1, 1)))  # fmt: skip
        hdlr = full(b"hdlr", bytes(4) + handler + bytes(12) + b"\0")
        mdia = box(b"mdia", hdlr + box(b"minf", stbl))
        return box(b"moov", box(b"mvhd", bytes(100)) + box(b"trak", mdia))

    head = len(ftyp) + len(moov(0)) + 8 + 64
    return ftyp + moov(head) + box(b"mdat", bytes(64) + sample)


def test_a_movies_subtitles_are_read_among_its_frames() -> None:
    # red team 112: a subtitle written with no-break spaces; FFmpeg's decoder and ExifTool -ee
    # show it, and its samples lie in 'mdat', which is otherwise read for ASCII alone
    text = f"Card {NBSP}".encode()
    sample = struct.pack(">H", len(text)) + text
    assert [c for c, _, _ in found(scan(movie_with_text(sample), "mp4", Blank()))] == [
        "SENSITIVE_CARD"
    ]
    frames = movie_with_text(sample, handler=b"vide")  # the same bytes as a video's frame
    assert found(scan(frames, "mp4", Blank())) == []


def exif_glued(description: bytes, artist: bytes) -> bytes:
    """A JPEG whose EXIF description and artist (ASCII tags, counts without a NUL) lie one
    right after the other, as a writer that trusts the counts lays them out."""
    entries, values = b"", b""
    base = 8 + 2 + 12 * 2 + 4  # the header, the count, two entries, the next IFD's offset
    for tag, value in ((0x010E, description), (0x013B, artist)):
        entries += struct.pack(">HHII", tag, 2, len(value), base + len(values))
        values += value
    tiff = b"MM\0*" + struct.pack(">I", 8) + struct.pack(">H", 2) + entries + bytes(4) + values
    body = b"Exif\0\0" + tiff
    data = jpeg()
    return data[:2] + b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body + data[2:]


def test_exif_strings_are_read_by_their_counts() -> None:
    # red team 112: read as bytes, "...1111Alice" is a number run into a word
    glued = exif_glued(f"Card {VISA}".encode(), b"Alice")
    assert [c for c, _, _ in found(scan(glued, "jpeg", Blank()))] == ["SENSITIVE_CARD"]
    assert found(scan(exif_glued(b"Ref 4111-2024", b"Alice"), "jpeg", Blank())) == []


def test_a_compressed_movie_header_is_read_inflated() -> None:
    # red team 112: QuickTime and FFmpeg inflate 'cmov' and show its title; the no-break spaces
    # are read there as in the file's own user data
    found_codes = [c for c, _, _ in found(scan(compressed_movie(f"Card {NBSP}"), "qt", Blank()))]
    assert found_codes == ["SENSITIVE_CARD"]
    assert found(scan(compressed_movie("Holiday 2024, take 3"), "qt", Blank())) == []


def test_the_media_data_is_not_read_for_wide_text() -> None:
    # a JPEG's scans are noise: only ASCII runs are taken there (as everywhere), not UTF-16
    from attachguard.sensitive.metadata import _outside_media

    data = jpeg()
    spans = _outside_media(data)
    assert spans and all(end <= len(data) for _, end in spans)
    assert sum(end - start for start, end in spans) < len(data)


def test_a_heif_pictures_xmp_in_its_media_data_is_read() -> None:
    # HEIF keeps its EXIF and XMP items in mdat, beside the image's coded data
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:title>Card {NBSP}</dc:title></x:xmpmeta>'
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 210, 220)).save(out, "HEIF", xmp=xmp.encode())
    data = out.getvalue()
    assert data[8:12] == b"heic"
    for brand in (b"heic", b"hevx"):  # every major brand libheif reads (red team 112: hevx)
        picture = data[:8] + brand + data[12:]
        codes = [code for code, _, _ in found(scan(picture, "heif", Blank()))]
        assert codes == ["SENSITIVE_CARD"], brand


def test_segment_markers_do_not_join_metadata_into_one_run() -> None:
    # hunt 96: a Photoshop JPEG's 112 extended-XMP segments; read in Windows-1252 with all of
    # 0xA0-0xFF, the markers (FF E1) and lengths joined them, and the text searched doubled
    from attachguard.sensitive.metadata import metadata

    xmp = b"http://ns.adobe.com/xmp/extension/\0" + b"xmp.did:0123456789abcdef " * 2000
    segment = b"\xff\xe1" + struct.pack(">H", len(xmp) + 2) + xmp
    data = jpeg()
    data = data[:2] + segment * 6 + data[2:]
    text = "".join(passage.text for passage in metadata(data))
    assert len(text) <= 6 * len(xmp) + 1000  # each segment once, no second reading


def test_card_words_stand_alone() -> None:
    from attachguard.sensitive.cards import card_words

    text = "gene CC2D2A; account 4111; card 4111; Card#4111; CC: 4111"
    assert [m.group() for m in card_words(text)] == ["card", "Card", "CC"]


@pytest.mark.parametrize(
    "written",
    ["".join(f"&#{ord(c)};" for c in "4111 1111 1111 1111"),
     "".join(f"&#x{ord(c):x};" for c in "4111 1111 1111 1111"),
     "4111&#32;1111&#32;1111&#32;1111"],
    ids=["decimal", "hex", "spaces"],
)  # fmt: skip
def test_xml_character_references_in_metadata_are_read(written: str) -> None:
    """An XMP or iXML viewer shows the number the references spell (red team 109)."""
    data = jpeg_with_comment(f"<x:xmpmeta><dc:description>Card {written}</dc:description>")
    assert [code for code, _, _ in found(scan(data, "jpeg", Blank()))] == ["SENSITIVE_CARD"]
