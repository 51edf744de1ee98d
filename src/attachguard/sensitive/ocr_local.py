"""A local OCR backend: RapidOCR (PP-OCR models on ONNX Runtime), offline.

The ``rapidocr`` package ships its detection, orientation and recognition models inside the
wheel, so nothing is downloaded at run time; it is the optional extra ``attachguard[ocr]``.
Loaded once, on first use; calls are serialised (RapidOCR keeps per-call settings on the shared
object), each using ONNX Runtime's threads; a call waits for its turn only until its deadline.

Recognition, not detection, is what a picture costs: one model run per few text boxes, so a
scanned page of dense print (hundreds of lines) took 23 s where a card photo takes 1-2 s. It is
therefore run in slices, boxes shaped like a printed card number first (`_likeness`), and
stopped at the deadline: what was read by then is searched, and the picture is reported as not
read in full (`OcrLate`), never left to time the whole scan out.

Pictures are decoded within the pixel limit (`moderation.imaging`, EXIF orientation applied) and
fit into `FIT` pixels a side; a tall one (a scrolling screenshot) keeps up to `FIT` pixels on
its shorter side and is read in overlapping tiles (`tiles`). When most text boxes stand upright (a
card photographed in portrait), the picture is read a second time turned a quarter. Boxes side
by side on one row are also joined (`rows`). Text detection works on the picture scaled so its
longer side is at most `DETECT_SIDE`: RapidOCR's default enlarges every picture to 736 pixels on
its shorter side, 1.8 s of CPU against 1.25 s for an 800x500 card picture, reading the same; 640
pixels saves a third again but misses small and turned cards (docs/benchmarks.md).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from PIL import Image, ImageStat

from attachguard.moderation import ImageUnreadable, imaging
from attachguard.sensitive.ocr import OcrLate, OcrPicture, OcrUnavailable

FIT = 2048
DETECT_SIDE = 960
_THREADS = min(4, os.cpu_count() or 1)
SLICE = 6  # text boxes recognised between two looks at the clock (RapidOCR's own batch)
_MARGIN = 0.5  # seconds kept before the deadline for the search and the report
# A printed card number's box: 16-19 characters of a roughly 0.6-height width, with spaces.
_CARD_SHAPE = 11.0
# The longest side a picture may have against its shortest. RapidOCR scales a picture's longer
# side to 2,000 pixels and rounds each side to a multiple of 32: a shorter side under 16 pixels
# after that becomes 0 and the call fails (ResizeImgError). A thin banner, a divider line, a
# barcode strip or a 40x8000 image did, which failed the engine and rejected the file.
_ASPECT = 20
# Tall pictures (`tiles`): read in tiles when over _LONG times as tall as wide and at least
# _TILE_SHORT pixels wide (a narrower strip is read whole: a tile could not hold a number's
# line), at most _MOST_TILES of them, overlapping by one _OVERLAP-th.
_LONG = 3
_TILE_SHORT = 400
_MOST_TILES = 16
_OVERLAP = 8


_SESSIONS = threading.Lock()  # one load at a time swaps RapidOCR's session options


@contextlib.contextmanager
def _calm_sessions(spin: bool) -> Iterator[None]:
    """RapidOCR's onnxruntime sessions built, while in the block, with threads that sleep
    between runs instead of spinning (unless ``spin``). onnxruntime's default pool spins while
    it waits for work: beside clamd, another scan or another OCR call, the spinning threads
    take the cores the others need (docs/benchmarks.md, "OCR threads"). RapidOCR has no setting
    for it: its session-options factory (a static method of RapidOCR 3.x, which pyproject asks
    for) is wrapped for the load, as filetype.py does Magika's."""
    from rapidocr.inference_engine.onnxruntime import main as ort

    with _SESSIONS:
        made = ort.OrtInferSession.__dict__.get("_init_sess_opts")
        if not isinstance(made, staticmethod):  # another RapidOCR: its own sessions
            yield
            return

        def calm(cfg: Any) -> Any:
            options = made.__func__(cfg)
            if not spin:
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            return options

        setattr(ort.OrtInferSession, "_init_sess_opts", staticmethod(calm))  # noqa: B010
        try:
            yield
        finally:
            setattr(ort.OrtInferSession, "_init_sess_opts", made)  # noqa: B010


class _Turns:
    """One loaded RapidOCR of the process for one set of settings, shared by every `LocalOcr`
    asking for them (a scanner built again on a policy reload, a rescan run, a test: the models
    cost 0.2 s of CPU to load, and two copies would read in parallel on the same cores), and
    whose turn it is: calls are serialised, and the call holding the lock sets its deadline."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.engine: Any = None
        self.deadline = float("inf")  # of the call holding the lock
        self.cut = False  # whether that call's recognition stopped at its deadline

    def recognize(self, recognize: Callable[[list[Any]], Any], crops: list[Any]) -> Any:
        """RapidOCR's recognition over ``crops`` in slices, likeliest card numbers first,
        until the call's deadline; boxes left unread come back empty (RapidOCR drops them)."""
        from rapidocr.ch_ppocr_rec.typings import TextRecOutput

        order = sorted(range(len(crops)), key=lambda i: _likeness(crops[i]))
        texts, scores = [""] * len(crops), [0.0] * len(crops)
        words: list[Any] = [("", 0.0, None)] * len(crops)
        last = 0.0  # what the previous slice took: the next one is not started without it
        for start in range(0, len(order), SLICE):
            began = time.monotonic()
            if began + 1.5 * last > self.deadline - _MARGIN:
                self.cut = True
                break
            part = order[start : start + SLICE]
            out = recognize([crops[i] for i in part])
            last = time.monotonic() - began
            for j, i in enumerate(part):
                texts[i], scores[i], words[i] = out.txts[j], out.scores[j], out.word_results[j]
        # (RapidOCR annotates its tuples as of one element: they hold one per box)
        txts: Any = tuple(texts)
        return TextRecOutput(imgs=crops, txts=txts, scores=scores, word_results=tuple(words))


_TURNS: dict[str, _Turns] = {}  # by settings; guarded by _SESSIONS


class LocalOcr:
    """RapidOCR, loaded lazily and shared (`_Turns`); ``params`` override RapidOCR's settings
    (bench), and ``spin`` keeps onnxruntime's spinning threads (bench: the baseline)."""

    name = "local"

    def __init__(self, params: dict[str, Any] | None = None, spin: bool = False) -> None:
        self._spin = spin  # onnxruntime's default: its threads spin between runs (`_calm_sessions`)
        self._params = {
            "Global.log_level": "critical",
            "Det.limit_type": "max",
            "Det.limit_side_len": DETECT_SIDE,
            "EngineConfig.onnxruntime.intra_op_num_threads": _THREADS,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            **(params or {}),
        }
        with _SESSIONS:
            self._turns = _TURNS.setdefault(repr((sorted(self._params.items()), spin)), _Turns())
        self._engine: Any = None

    def _load(self) -> Any:
        if self._engine is None:
            try:
                from rapidocr import RapidOCR
            except ImportError as exc:
                raise OcrUnavailable(
                    "the local OCR backend needs RapidOCR: pip install 'attachguard[ocr]'"
                ) from exc
            turns = self._turns
            with _calm_sessions(self._spin):
                if turns.engine is None:
                    engine: Any = RapidOCR(params=self._params)
                    for model in ("_load_det_model", "_load_cls_model", "_load_rec_model"):
                        getattr(engine, model, lambda: None)()  # else loaded unwrapped, later
                    recognize = engine.recognize_txt
                    engine.recognize_txt = lambda crops: turns.recognize(recognize, crops)
                    turns.engine = engine
            self._engine = turns.engine
        return self._engine

    def version(self) -> str:
        return _version()

    def read(self, picture: OcrPicture, deadline: float) -> list[str]:
        """The picture's lines, tile by tile for a long one (`tiles`); `OcrLate` with the
        lines read so far when its deadline comes first."""
        lines: list[str] = []
        for view in views(picture, _fit(imaging.size_of(picture.data))):
            if not _long(*view.size):
                view.thumbnail((FIT, FIT))  # read whole, as any picture not tall (`tiles`)
            for tile in tiles(padded(view)):
                found, boxes = self._pass(tile, deadline, lines)
                lines += found
                if _mostly_upright(boxes):
                    # A card photographed in portrait: the detector boxes each group of
                    # digits apart and the number comes in pieces; turned a quarter, it reads
                    # as one line (the orientation model rights a half turn, never a quarter).
                    turned = tile.transpose(Image.Transpose.ROTATE_90)
                    lines += self._pass(turned, deadline, lines)[0]
        return lines

    def _pass(
        self, image: Image.Image, deadline: float, before: list[str]
    ) -> tuple[list[str], list[Box]]:
        turns = self._turns
        if not turns.lock.acquire(timeout=max(0.0, deadline - _MARGIN - time.monotonic())):
            raise OcrLate(before)
        try:
            turns.deadline, turns.cut = deadline, False
            result = self._load()(image)
            cut = turns.cut
        finally:
            turns.lock.release()
        texts = [str(t) for t in (result.txts or ())]
        boxes = [] if result.boxes is None else [[tuple(p) for p in b] for b in result.boxes]
        lines = texts + rows(boxes, texts)
        if cut:
            raise OcrLate(before + lines)
        return lines, boxes


@functools.cache
def _version() -> str:
    """RapidOCR's release, looked up once: every report names it (0.2 ms a scan otherwise)."""
    try:
        release = importlib.metadata.version("rapidocr")
    except importlib.metadata.PackageNotFoundError:
        return "RapidOCR not installed"
    return f"RapidOCR {release} (PP-OCR, ONNX Runtime)"


Box = list[tuple[float, float]]


Extent = tuple[float, float, float, float]


def rows(boxes: list[Box], texts: list[str]) -> list[str]:
    """Texts that the detector boxed apart but that sit side by side on one row, a small gap
    apart, joined left to right (a card number whose groups are spaced wide can come as
    several boxes); only rows of two boxes or more."""
    found = sorted(
        (_extent(box), text) for box, text in zip(boxes, texts, strict=False) if text.strip()
    )  # left to right
    chains: list[list[tuple[Extent, str]]] = []
    for extent, text in found:
        chain = next((c for c in chains if _beside(c[-1][0], extent)), None)
        if chain is None:
            chains.append([(extent, text)])
        else:
            chain.append((extent, text))
    return [" ".join(text for _, text in chain) for chain in chains if len(chain) > 1]


def _likeness(crop: Any) -> float:
    """How far a text box's shape is from a printed card number's (0: just that shape), from
    the crop's width and height: short words and long lines of print come last."""
    height, width = crop.shape[:2]
    return abs(math.log(max(width, 1) / max(height, 1) / _CARD_SHAPE))


def _mostly_upright(boxes: list[Box]) -> bool:
    """Whether more detected boxes stand upright (text running up or down) than lie flat."""
    upright = flat_ = 0
    for box in boxes:
        left, top, right, bottom = _extent(box)
        upright += bottom - top > 1.5 * (right - left)
        flat_ += right - left > 1.5 * (bottom - top)
    return upright > flat_


def _extent(box: Box) -> Extent:
    """Left, top, right, bottom of a detected box (a quadrilateral)."""
    xs, ys = [p[0] for p in box], [p[1] for p in box]
    return min(xs), min(ys), max(xs), max(ys)


def _beside(
    left: tuple[float, float, float, float], right: tuple[float, float, float, float]
) -> bool:
    """Whether ``right`` continues ``left``'s row: overlapping mostly in height, starting
    after it within one and a half heights."""
    height = max(left[3] - left[1], right[3] - right[1], 1.0)
    overlap = min(left[3], right[3]) - max(left[1], right[1])
    gap = right[0] - left[2]
    return overlap >= 0.6 * height and -0.2 * height <= gap <= 1.5 * height


def _fit(size: tuple[int, int] | None) -> int:
    """How many pixels the picture's longer side is decoded to: `FIT`, but a long picture
    (`tiles`) keeps up to `FIT` pixels on its shorter side, within `_MOST_TILES` tiles. (The
    size is the header's, before EXIF orientation: a turned picture may be a tall one.)"""
    if size is None or not _long(*sorted(size)):
        return FIT
    short, long = sorted(size)
    tile = 2 * short  # a tile's long side against the picture's short side, before scaling
    most = tile + (_MOST_TILES - 1) * (tile - tile // _OVERLAP)
    return max(FIT, math.ceil(long * min(1.0, FIT / short, most / long)))


def _long(width: int, height: int) -> bool:
    """Whether a picture is tall enough to be read in tiles."""
    return height > _LONG * width and width >= _TILE_SHORT


def tiles(image: Image.Image) -> list[Image.Image]:
    """A tall picture (over `_LONG` times as tall as it is wide, and at least `_TILE_SHORT`
    pixels wide) in overlapping tiles twice as tall as wide (`tile_boxes`); any other picture
    whole.

    Fit whole into `FIT` pixels, and again into `DETECT_SIDE` by the detector, a scrolling
    screenshot's (1080x12000) text shrank below what can be read, and a card number in it was
    missed. Each tile is read at the scale of a phone screenshot. A wide picture is read whole:
    its lines run along the cuts, and a number longer than the overlap (a strip showing only a
    card's number line) would be whole in no tile."""
    if not _long(*image.size):
        return [image]
    return [image.crop(box) for box in tile_boxes(*image.size)]


def tile_boxes(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """The tiles of a tall picture, as boxes (left, top, right, bottom), from its top to its
    bottom, overlapping by an eighth of a tile (its lines run across the cuts: a line's height
    must fit in the overlap)."""
    tile = min(2 * width, height)
    step = tile - tile // _OVERLAP
    out = []
    for start in range(0, max(1, height - tile + step), step):
        end = min(height, start + tile)
        out.append((0, max(0, end - tile), width, end))  # the last tile ends at the bottom
    return out


def padded(image: Image.Image) -> Image.Image:
    """The picture on a white canvas widened (or heightened) to at most `_ASPECT` times as
    long as it is short, the picture at its top left: what it shows is unchanged, and every
    side survives RapidOCR's scaling."""
    width, height = image.size
    least = math.ceil(max(width, height) / _ASPECT)
    if min(width, height) >= least:
        return image
    size = (max(width, least), max(height, least))
    canvas = Image.new("RGB", size, (255, 255, 255))
    canvas.paste(image, (0, 0))
    return canvas


def views(picture: OcrPicture, fit: int) -> list[Image.Image]:
    """The picture as viewers may show it, each read: in RGB, transparency laid on white (dark
    text on a transparent screenshot would vanish on black) and, when it has any, on black too
    (white text on a transparent sticker vanishes on white: a dark-themed chat shows it); an
    animation's second frame as well (an animated PNG whose still image is not part of the
    animation shows that frame first, and a red team's still image was a decoy)."""
    image = imaging.open_image(picture.data, picture.max_pixels, fit)
    shown = [flat(image)]
    if _light_on_transparent(image):
        shown.append(flat(image, (0, 0, 0)))
    if imaging.frames(picture.data) > 1:
        # a second frame that cannot be decoded costs only its own reading (a camera's MPF
        # naming a second image an editor removed)
        with contextlib.suppress(ImageUnreadable):
            shown.append(flat(imaging.open_image(picture.data, picture.max_pixels, fit, 1)))
    return shown


_OPAQUE = 128  # alpha below which a pixel shows the background more than itself
_LIGHT = 200  # mean brightness of a picture's opaque pixels above which white hides them


def _light_on_transparent(image: Image.Image) -> bool:
    """Whether a picture has transparent parts and what it draws is light: laid on white it
    would vanish (a sticker's white text), so it is read on black too. Dark drawing on a
    transparent background (a screenshot, a logo) reads on white alone: one reading less."""
    if image.mode != "RGBA":
        return False
    alpha = image.getchannel("A")
    lowest = alpha.getextrema()[0]
    if not isinstance(lowest, (int, float)) or lowest >= _OPAQUE:
        return False
    opaque = alpha.point(lambda value: 255 if value >= _OPAQUE else 0)
    mean = ImageStat.Stat(image.convert("L"), mask=opaque).mean[0]
    return bool(mean > _LIGHT)


def flat(image: Image.Image, background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """The picture in RGB, transparency laid on ``background`` (white by default)."""
    if image.mode != "RGBA":
        return image.convert("RGB")
    out = Image.new("RGB", image.size, background)
    out.paste(image, mask=image.getchannel("A"))
    return out
