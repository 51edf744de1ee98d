"""Card numbers in media metadata that only a format's own reader brings out (red team 114):
ID3 tags past an extended header, unsynchronised or in version 2.2, in RF64 recordings too;
XMP packets in UTF-16 and UTF-32; EXIF comments in JIS; QuickTime user data in Mac Roman; movie
text tracks in fragments, with compact sample sizes, in compressed movie headers. Each case has
a look-alike of the same structure without a card number, which passes."""

from __future__ import annotations

import struct
import zlib

import pytest
from PIL import Image

from test_sensitive_formats import Blank, found, scan
from test_sensitive_metadata import (
    NBSP,
    VISA,
    id3_tag,
    jpeg,
    jpeg_with_xmp,
    mp4_comment,
    riff_chunk,
    wave,
)

FULLWIDTH_IDEOGRAPHIC = "".join(
    chr(0xFF10 + int(c)) if c.isdigit() else "\u3000" for c in VISA
)  # four groups of fullwidth digits, ideographic spaces between


def codes(data: bytes, label: str) -> list[str]:
    return [code for code, _, _ in found(scan(data, label, Blank()))]


def unsynchronised(content: bytes) -> bytes:
    return content.replace(b"\xff", b"\xff\x00")


def compressed_title(version: int, text: str) -> tuple[bytes, int, bytes]:
    """A TIT2 frame compressed with zlib (its inflated size first, 2.3's and 2.4's way)."""
    content = b"\x03" + text.encode()
    size = len(content).to_bytes(4, "big")
    return (b"TIT2", 0x0080 if version == 3 else 0x0009, size + zlib.compress(content))


# 2.3: a size that leaves out its own 4 bytes, flags, the padding's size; 2.4: a synchsafe size
# of the whole, one byte of flags, no flag set
EXTENDED = {3: struct.pack(">IHI", 6, 0, 16), 4: bytes((0, 0, 0, 6, 1, 0))}


def tags_wav(tag: bytes) -> bytes:
    return wave(riff_chunk(b"id3 ", tag))


def id3_cases(text: str) -> list[bytes]:
    """A tag of each structure mutagen and FFmpeg read and attachguard did not (red team 114)."""
    wide = b"\x01" + f"Card {text}".encode("utf-16")  # FF FE first: unsynchronised too
    extended = [
        id3_tag(v, compressed_title(v, f"Card {text}"), flags=0x40, extended=EXTENDED[v])
        for v in (3, 4)
    ]
    return [
        *(tags_wav(tag) for tag in extended),
        tags_wav(id3_tag(4, (b"TIT2", 0, unsynchronised(wide)), flags=0x80)),
        tags_wav(id3_tag(2, (b"TT2", 0, unsynchronised(wide)), flags=0x80)),
        rf64(riff_chunk(b"id3 ", id3_tag(4, compressed_title(4, f"Card {text}")))),
    ]


IDS = ["v23-extended", "v24-extended", "v24-unsynchronised", "v22-unsynchronised", "rf64"]


def rf64(*chunks: bytes) -> bytes:
    """An RF64 recording: sizes in its ds64 chunk, placeholders in the headers."""
    pcm = bytes(800)
    ds64 = riff_chunk(b"ds64", struct.pack("<QQQI", 0, len(pcm), len(pcm), 0))
    fmt = riff_chunk(b"fmt ", struct.pack("<HHIIHH", 1, 1, 8000, 8000, 1, 8))
    body = b"WAVE" + ds64 + fmt + b"data" + struct.pack("<I", 0xFFFFFFFF) + pcm + b"".join(chunks)
    return b"RF64" + struct.pack("<I", 0xFFFFFFFF) + body


@pytest.mark.parametrize("index", range(5), ids=IDS)
def test_id3_tags_are_read_as_mutagen_reads_them(index: int) -> None:
    assert codes(id3_cases(FULLWIDTH_IDEOGRAPHIC)[index], "wav") == ["SENSITIVE_CARD"]


@pytest.mark.parametrize("index", range(5), ids=IDS)
def test_ordinary_id3_tags_of_the_same_structure_pass(index: int) -> None:
    assert codes(id3_cases("take 4111-2024, 12:30")[index], "wav") == []


WIDE = ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"]


@pytest.mark.parametrize("mark", ["\ufeff", ""], ids=["marked", "unmarked"])
@pytest.mark.parametrize("encoding", WIDE)
def test_xmp_in_utf16_and_utf32_is_read_as_a_viewer_lists_it(encoding: str, mark: str) -> None:
    # ExifTool shows the packet's description whatever its encoding; a CDATA section split the
    # UTF-16 runs, and UTF-32 had none
    title = "Card 4111 1111 <![CDATA[1111]]> 1111"
    assert codes(jpeg_with_xmp(title, encoding, mark), "jpeg") == ["SENSITIVE_CARD"]


@pytest.mark.parametrize("encoding", WIDE)
def test_ordinary_xmp_in_utf16_and_utf32_passes(encoding: str) -> None:
    # its document IDs, 4111111111 and 111111, side by side are no card number
    assert codes(jpeg_with_xmp("Holiday <![CDATA[2024]]>", encoding, "\ufeff"), "jpeg") == []


def jis_comment(text: str, endian: str) -> bytes:
    """A JPEG whose EXIF user comment is ``text`` (fullwidth) in JIS X 0208, two bytes a
    character in the EXIF's byte order (``endian``), as ExifTool reads it."""
    pairs = text.encode("iso2022_jp")[3:-3]  # without the escapes in and out of JIS X 0208
    if endian == "<":
        pairs = bytes(b for at in range(0, len(pairs), 2) for b in pairs[at : at + 2][::-1])
    exif = Image.Exif()
    exif.endian = endian
    exif.get_ifd(0x8769)[0x9286] = b"JIS\0\0\0\0\0" + pairs
    return jpeg(exif=exif.tobytes())


def fullwidth(text: str) -> str:
    return "".join("\u3000" if c == " " else chr(ord(c) + 0xFEE0) for c in text)


@pytest.mark.parametrize("endian", [">", "<"], ids=["big-endian", "little-endian"])
def test_an_exif_comment_in_jis_is_read_as_exiftool_reads_it(endian: str) -> None:
    # ExifTool shows the fullwidth letters and digits; read as Latin-1 they were "#4#1#1#1"
    assert codes(jis_comment(fullwidth(f"Card {VISA}"), endian), "jpeg") == ["SENSITIVE_CARD"]


@pytest.mark.parametrize("endian", [">", "<"], ids=["big-endian", "little-endian"])
def test_an_ordinary_exif_comment_in_jis_passes(endian: str) -> None:
    text = "撮影　" + fullwidth("2024/07/14 18:22, Ref 4111 2024")
    assert codes(jis_comment(text, endian), "jpeg") == []


@pytest.mark.parametrize("separator", ["\u00a0", "\u2013"], ids=["nbsp", "en-dash"])
def test_quicktime_user_data_in_a_mac_language_is_read_in_mac_roman(separator: str) -> None:
    # FFmpeg and ExifTool decode a Mac language's item as Mac Roman: CA a no-break space, D0
    # an en dash; read as bytes the groups were runs too short for a number
    number = VISA.replace(" ", separator)
    assert codes(mp4_comment(f"Card {number}", "mac_roman"), "mp4") == ["SENSITIVE_CARD"]


def test_ordinary_quicktime_user_data_in_mac_roman_passes() -> None:
    text = "Take 3 \u2013 2024\u00a007\u00a014, ref 4111\u00a02024, caf\u00e9"
    assert codes(mp4_comment(text, "mac_roman"), "mp4") == []


def box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def full(kind: bytes, body: bytes, flags: int = 0) -> bytes:
    return box(kind, struct.pack(">I", flags) + body)


FTYP = box(b"ftyp", b"isom" + bytes(4) + b"isomiso6")
STSZ, STZ2 = b"stsz", b"stz2"


# A timed text sample description (3GPP's, FFmpeg's mov_text): its display flags, alignment,
# colour, text box and style, and a font table
TX3G = box(b"tx3g", bytes(6) + struct.pack(">H", 1) + bytes(30)
           + box(b"ftab", struct.pack(">HHB", 1, 1, 5) + b"Serif"))  # fmt: skip


def track(handler: bytes, sizes: bytes, offset: int, samples: int) -> bytes:
    """A track (ID 1) of ``handler`` whose ``samples`` samples (of one second each) lie in
    one chunk at ``offset``, of ``sizes`` (a sample size box)."""
    chunks = 1 if samples else 0
    stbl = box(b"stbl", full(b"stsd", struct.pack(">I", 1) + TX3G)
               + full(b"stts", struct.pack(">I", chunks) + struct.pack(">II", samples, 1000)
                      * chunks) + sizes
               + full(b"stco", struct.pack(">II", chunks, offset))
               + full(b"stsc", struct.pack(">I", chunks) + struct.pack(">III", 1, samples, 1)
                      * chunks))  # fmt: skip
    hdlr = full(b"hdlr", bytes(4) + handler + bytes(12) + b"\0")
    mdhd = full(b"mdhd", struct.pack(">IIIIHH", 0, 0, 1000, 1000 * samples, 0x55C4, 0))
    tkhd = full(b"tkhd", bytes(8) + struct.pack(">I", 1) + bytes(72), flags=3)
    return box(b"trak", tkhd + box(b"mdia", mdhd + hdlr + box(b"minf", stbl)))


def sizes_box(kind: bytes, sample: bytes) -> bytes:
    if kind == STZ2:  # 16 bits each
        return full(STZ2, bytes(3) + b"\x10" + struct.pack(">IH", 1, len(sample)))
    return full(STSZ, struct.pack(">III", 0, 1, len(sample)))


def tabled_movie(sample: bytes, handler: bytes, kind: bytes, compressed: bool) -> bytes:
    """A movie whose track's one sample lies in 'mdat' after 64 bytes of frames, its size in
    ``kind``, 'moov' after it; its header ``compressed`` ('cmov') or not."""
    offset = len(FTYP) + 8 + 64
    movie = box(b"moov", box(b"mvhd", bytes(100)) + track(handler, sizes_box(kind, sample),
                                                          offset, 1))  # fmt: skip
    if compressed:
        inflated = box(b"cmvd", struct.pack(">I", len(movie)) + zlib.compress(movie))
        movie = box(b"moov", box(b"cmov", box(b"dcom", b"zlib") + inflated))
    return FTYP + box(b"mdat", bytes(64) + sample) + movie


def fragmented_movie(sample: bytes, handler: bytes, in_run: bool) -> bytes:
    """A fragmented movie: its track's sample tables empty, the sample in a fragment; its
    size the track fragment header's default (its base the 'moof' box, its data offset the
    run's) or ``in_run``, in the run's table (its base implicit: the 'moof' box)."""
    trex = full(b"trex", struct.pack(">IIIII", 1, 1, 1000, 0, 0))
    moov = box(b"moov", box(b"mvhd", bytes(100)) + track(handler, full(STSZ, bytes(8)), 0, 0)
               + box(b"mvex", trex))  # fmt: skip

    def moof(offset: int) -> bytes:
        if in_run:
            tfhd = full(b"tfhd", struct.pack(">I", 1))
            trun = full(b"trun", struct.pack(">IiI", 1, offset, len(sample)), 0x000201)
        else:
            tfhd = full(b"tfhd", struct.pack(">II", 1, len(sample)), 0x020010)
            trun = full(b"trun", struct.pack(">Ii", 1, offset), 0x000001)
        mfhd = full(b"mfhd", struct.pack(">I", 1))
        return box(b"moof", mfhd + box(b"traf", tfhd + trun))

    frames = box(b"mdat", bytes(64))
    fragment = moof(len(moof(0)) + 8)
    return FTYP + moov + frames + fragment + box(b"mdat", sample)


MOVIES = {
    "stz2": lambda sample, handler: tabled_movie(sample, handler, STZ2, compressed=False),
    "cmov": lambda sample, handler: tabled_movie(sample, handler, STSZ, compressed=True),
    "fragment-default-size": lambda sample, handler: fragmented_movie(sample, handler, False),
    "fragment-run-size": lambda sample, handler: fragmented_movie(sample, handler, True),
}


def subtitle(text: str) -> bytes:
    coded = text.encode()
    return struct.pack(">H", len(coded)) + coded  # a timed text sample: its length, its text


@pytest.mark.parametrize("layout", MOVIES)
def test_a_text_tracks_samples_are_located_as_ffmpeg_locates_them(layout: str) -> None:
    # FFmpeg's subtitle decoder shows the number no-break spaces separate, which an ASCII
    # reading of 'mdat' splits
    data = MOVIES[layout](subtitle(f"Card {NBSP}"), b"text")
    assert codes(data, "mp4") == ["SENSITIVE_CARD"]


@pytest.mark.parametrize("layout", MOVIES)
def test_ordinary_subtitles_and_frames_pass(layout: str) -> None:
    ordinary = subtitle("Chapter 2\u00a0\u2013 12:30, platform\u00a04111")
    assert codes(MOVIES[layout](ordinary, b"text"), "mp4") == []
    # the card's bytes as a video's frame: media data, not text
    assert codes(MOVIES[layout](subtitle(f"Card {NBSP}"), b"vide"), "mp4") == []


def test_a_track_header_cut_short_at_the_end_is_not_a_failure() -> None:
    # review 114: an empty 'tkhd' as the movie's last bytes was read past the end (IndexError)
    sample = subtitle("Chapter 2")
    cut = track(b"text", sizes_box(STSZ, sample), len(FTYP) + 8, 1).replace(
        full(b"tkhd", bytes(8) + struct.pack(">I", 1) + bytes(72), flags=3), b""
    )
    data = FTYP + box(b"mdat", sample) + box(b"moov", cut + box(b"tkhd", b""))
    assert codes(data, "mp4") == []
