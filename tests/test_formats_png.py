"""formats.png and formats.gif: pictures written by Pillow, then bent by hand."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from attachguard import samples
from attachguard.formats import gif, png


def png_bytes(info: PngInfo | None = None, **options: object) -> bytes:
    out = io.BytesIO()
    samples.photo(64, 48, seed=1).save(out, "PNG", pnginfo=info, **options)
    return out.getvalue()


def chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload))
    )


def test_png_chunks_to_iend() -> None:
    info = PngInfo()
    info.add_text("Software", "Screenshot tool")
    info.add_text("Comment", "a long note " * 20, zip=True)
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta/>", zip=True)
    data = png_bytes(info, icc_profile=bytes(range(256)) * 4)
    layout = png.walk(data)
    assert layout.end == len(data)
    kinds = [c.kind for c in layout.chunks]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
    assert {b"iCCP", b"tEXt", b"zTXt", b"iTXt", b"IDAT"} <= set(kinds)
    assert png.walk(data + b"after").end == len(data)
    assert png.walk(data[:-6]).end is None


def test_inflate_text_chunks() -> None:
    text = b"line of text\n" * 100
    compressed = zlib.compress(text)
    assert png.inflate(b"zTXt", b"Comment\0\0" + compressed, 1 << 20) == (text, True)
    assert png.inflate(b"iCCP", b"icc\0\0" + compressed, 1 << 20) == (text, True)
    itxt = b"Comment\0\x01\x00en\0Kommentar\0" + compressed
    assert png.inflate(b"iTXt", itxt, 1 << 20) == (text, True)
    assert png.inflate(b"iTXt", b"Comment\0\x00\x00en\0\0plain", 1 << 20) is None
    assert png.inflate(b"tEXt", b"Comment\0plain", 1 << 20) is None
    assert png.inflate(b"zTXt", b"Comment\0\0not zlib", 1 << 20) is None
    assert png.inflate(b"zTXt", b"no keyword end", 1 << 20) is None


def test_inflate_stops_at_the_limit() -> None:
    # 8 MiB of zeros in about 8 KB: eight times the limit (50 MiB took 0.15 s to compress)
    bomb = zlib.compress(bytes(8 << 20), 9)
    assert len(bomb) < 100_000
    text, whole = png.inflate(b"zTXt", b"Comment\0\0" + bomb, 1 << 20) or (b"", True)
    assert len(text) == 1 << 20 and not whole
    # zlib's limit 0 means "none": a budget used up to the byte must not open the flood gates
    assert png.inflate(b"zTXt", b"Comment\0\0" + bomb, 0) == (b"\0", False)


def test_private_chunks_are_walked() -> None:
    data = png_bytes()
    bent = data[:33] + chunk(b"prVt", b"x" * 100) + data[33:]
    layout = png.walk(bent)
    private = [c for c in layout.chunks if c.kind == b"prVt"]
    assert [bent[c.start : c.end] for c in private] == [b"x" * 100]
    assert layout.end == len(bent)


def gif_bytes(comment: bytes) -> bytes:
    frames = [Image.new("P", (20, 20), i) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], comment=comment, loop=0)
    return out.getvalue()


def test_gif_blocks_and_extension_data() -> None:
    comment = bytes(range(32, 127)) * 5  # over 255 bytes: split into two sub-blocks
    data = gif_bytes(comment)
    layout = gif.walk(data)
    assert layout.end == len(data)
    by_label = {e.label: e.data for e in layout.extensions}
    assert by_label[0xFE] == comment
    assert by_label[0xFF].startswith(b"NETSCAPE2.0")
    assert gif.walk(data + b"after").end == len(data)
    assert gif.walk(data[:-1]).end is None
    assert gif.walk(b"GIF89a").end is None
