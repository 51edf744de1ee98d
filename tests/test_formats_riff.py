"""formats.riff: WAV files as recorders write them (finished, streamed, broadcast, RF64)."""

from __future__ import annotations

import struct

from attachguard.formats.riff import walk

PCM = bytes(range(256)) * 20


def chunk(kind: bytes, payload: bytes, size: int | None = None, pad: bool = True) -> bytes:
    declared = len(payload) if size is None else size
    return (
        kind + struct.pack("<I", declared) + payload + (b"\0" if pad and len(payload) & 1 else b"")
    )


def wav(*chunks: bytes, riff_size: int | None = None, form: bytes = b"RIFF") -> bytes:
    body = b"WAVE" + b"".join(chunks)
    return form + struct.pack("<I", len(body) if riff_size is None else riff_size) + body


FMT = chunk(b"fmt ", struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16))


def layout_of(data: bytes) -> list[tuple[bytes, bytes, bool]]:
    layout = walk(data)
    assert layout is not None
    return [(c.kind, data[c.start : c.end], c.exact) for c in layout.chunks]


def test_a_finished_recording() -> None:
    data = wav(FMT, chunk(b"data", PCM), chunk(b"LIST", b"INFOISFT\x08\0\0\0Recorder"))
    layout = walk(data)
    assert layout is not None and layout.end == len(data)
    assert [(k, exact) for k, _, exact in layout_of(data)] == [
        (b"fmt ", True),
        (b"data", True),
        (b"LIST", True),
    ]


def test_streamed_sizes_run_to_the_end() -> None:
    for riff_size, data_size in ((0xFFFFFFFF, 0xFFFFFFFF), (0, 0), (0xFFFFFFFF, 0)):
        data = wav(FMT, chunk(b"data", PCM, size=data_size), riff_size=riff_size)
        (_, audio, exact) = layout_of(data)[-1]
        assert audio == PCM and not exact
        assert walk(data).end == len(data)  # type: ignore[union-attr]


def test_a_lying_riff_size_does_not_hide_the_chunks_after_it() -> None:
    data = wav(FMT, chunk(b"data", PCM), chunk(b"junk", b"MZ" * 50), riff_size=0xFFFFFFFF)
    assert layout_of(data)[-1] == (b"junk", b"MZ" * 50, True)


def test_an_exact_riff_size_ends_the_file() -> None:
    data = wav(FMT, chunk(b"data", PCM))
    layout = walk(data + b"PK\x03\x04 and more")  # bytes that are no chunk
    assert layout is not None and layout.end == len(data)


def test_a_stale_riff_size_short_of_chunks_that_fill_the_file() -> None:
    # tuxtype's pop.wav: the RIFF size left at 36, the data chunk ending at the end of the file;
    # a chunk after the declared end is read as a chunk (its payload searched as any chunk's)
    data = wav(FMT, chunk(b"data", PCM), riff_size=36)
    layout = walk(data)
    assert layout is not None and layout.end == len(data) and layout.chunks[-1].exact
    tail = wav(FMT, chunk(b"data", PCM)) + chunk(b"junk", b"after")
    assert walk(tail) is not None and walk(tail).end == len(tail)  # type: ignore[union-attr]


def test_a_missing_pad_byte_before_a_chunk_is_followed() -> None:
    # Modplug: an odd data chunk, no pad byte, then "smpl": after the pad, "mpl$" fits too
    odd = chunk(b"data", PCM + b"\x80", pad=False) + chunk(b"smpl", b"$" + bytes(35))
    data = wav(FMT, odd)
    assert [c.kind for c in walk(data).chunks] == [b"fmt ", b"data", b"smpl"]  # type: ignore[union-attr]


def test_a_data_size_past_the_end_is_cut() -> None:
    data = wav(FMT, chunk(b"data", PCM, size=len(PCM) * 3), riff_size=0xFFFFFFFF)
    assert layout_of(data)[-1] == (b"data", PCM, False)


def test_odd_chunks_with_and_without_their_pad_byte() -> None:
    padded = wav(FMT, chunk(b"note", b"odd"), chunk(b"data", PCM))
    unpadded = wav(FMT, chunk(b"note", b"odd", pad=False), chunk(b"data", PCM))
    for data in (padded, unpadded):
        assert [k for k, _, _ in layout_of(data)] == [b"fmt ", b"note", b"data"]
        assert walk(data).end == len(data)  # type: ignore[union-attr]


def test_broadcast_wav_chunks() -> None:
    extensible = struct.pack("<HHIIHHHHI", 0xFFFE, 6, 48000, 48000 * 18, 18, 24, 22, 24, 0x3F)
    extensible += b"\x01\x00\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    data = wav(
        chunk(b"JUNK", bytes(28)),
        chunk(b"fmt ", extensible),
        chunk(b"fact", struct.pack("<I", 1000)),
        chunk(b"bext", b"Interview, room 2".ljust(602, b"\0")),
        chunk(b"iXML", b'<?xml version="1.0"?><BWFXML><PROJECT>x</PROJECT></BWFXML>'),
        chunk(b"data", PCM * 3),
        chunk(b"cue ", struct.pack("<I", 0)),
        chunk(b"PAD ", bytes(100)),
    )
    kinds = [k for k, _, _ in layout_of(data)]
    assert kinds == [b"JUNK", b"fmt ", b"fact", b"bext", b"iXML", b"data", b"cue ", b"PAD "]
    assert walk(data).end == len(data)  # type: ignore[union-attr]


def test_rf64_takes_the_data_size_from_ds64() -> None:
    ds64 = chunk(b"ds64", struct.pack("<QQQI", 0, len(PCM), len(PCM) // 2, 0))
    data = wav(ds64, FMT, chunk(b"data", PCM, size=0xFFFFFFFF), chunk(b"LIST", b"INFO"),
               riff_size=0xFFFFFFFF, form=b"RF64")  # fmt: skip
    assert layout_of(data)[2] == (b"data", PCM, True)
    assert layout_of(data)[-1][0] == b"LIST"


def test_the_walk_stops_where_chunks_stop() -> None:
    data = wav(FMT, chunk(b"data", PCM), riff_size=0xFFFFFFFF)
    layout = walk(data + b"\x00\x01\x02\x03garbage")
    assert layout is not None and layout.end == len(data)
    assert walk(b"RIFF\x04\0\0\0AVI ") is None
    assert walk(b"RIFF") is None
