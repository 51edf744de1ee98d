"""Pictures: which ones are read, the OCR backends (a fake, Textract and Rekognition against
their real service models through botocore's Stubber, RapidOCR for real when installed), and
how OCR text is searched."""

from __future__ import annotations

import io
import itertools
import sys
import time
from typing import Any

import boto3  # type: ignore[import-untyped]
import pypdf
import pytest
from botocore.stub import ANY, Stubber  # type: ignore[import-untyped]
from PIL import Image, ImageDraw, ImageFont

from attachguard.engines.base import Context, Item, Resources, Result
from attachguard.engines.sensitive import ENGINE, SensitiveEngine, SensitiveOptions
from attachguard.formats import pypdf_limits
from attachguard.moderation import ImageUnreadable
from attachguard.policy import Limits
from attachguard.report import FileType
from attachguard.sensitive import find
from attachguard.sensitive import pdf as sensitive_pdf
from attachguard.sensitive.ocr import (
    OcrLate,
    OcrPicture,
    OcrUnavailable,
    as_text,
    load_ocr,
    readable,
)
from attachguard.sensitive.ocr_aws import AwsOcr
from attachguard.sensitive.ocr_local import LocalOcr, rows, tile_boxes, tiles
from attachguard.sensitive.pdfium_text import PageTexts

VISA = "4111111111111111"
PNG = FileType("png", "image/png", "image")


def picture(size: tuple[int, int] = (800, 500), text: str = "", fmt: str = "PNG") -> bytes:
    image = Image.new("RGB", size, (250, 250, 250))
    if text:
        ImageDraw.Draw(image).text((40, size[1] // 3), text, font=ImageFont.load_default(44),
                                   fill=(20, 20, 20))  # fmt: skip
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


class FakeOcr:
    """Answers with fixed lines and counts its calls."""

    name = "fake"

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.calls = 0

    def version(self) -> str:
        return "fake OCR 1"

    def read(self, picture: OcrPicture, deadline: float) -> list[str]:
        self.calls += 1
        return self.lines


def scan(engine: SensitiveEngine, data: bytes, label: str = "png", seconds: float = 30) -> Result:
    item = Item(f"photo.{label}", data, FileType(label, "", "image"))
    return engine.scan(item, Context(Limits(), deadline=time.monotonic() + seconds))


def codes(result: Result) -> list[str]:
    return [f.code.name for f in result.findings]


# -- which pictures are read -------------------------------------------------------------------


def test_a_picture_of_a_card_is_read() -> None:
    ocr = FakeOcr(["VISA", "4111 1111 1111 1111", "VALID THRU 12/28", "JANE DOE"])
    result = scan(SensitiveEngine(SensitiveOptions(ocr="local"), ocr), picture())
    assert codes(result) == ["SENSITIVE_CARD"] and ocr.calls == 1
    facts = result.facts["sensitive"]
    assert facts["pictures_read"] == 1 and facts["ocr_ms"] >= 0 and facts["ocr"] == "fake"


def test_ocr_spacing_and_lookalike_letters() -> None:
    ocr = FakeOcr(["4111 11111111 1111"])  # the OCR's guess at the spacing
    assert codes(scan(SensitiveEngine(SensitiveOptions(), ocr), picture())) == ["SENSITIVE_CARD"]
    assert as_text(["4lll 1111 1O11 1111", "SOLD", "B2"]) == "4111 1111 1011 1111\nSOLD\nB2"


def test_a_receipt_picture_passes() -> None:
    ocr = FakeOcr(["TOTAL 12.99", "VISA **** **** **** 1111", "AUTH 123456", "2026-03-14"])
    assert scan(SensitiveEngine(SensitiveOptions(), ocr), picture()).findings == []


def test_pictures_too_small_to_show_a_number_are_not_read() -> None:
    ocr = FakeOcr([VISA])
    result = scan(SensitiveEngine(SensitiveOptions(), ocr), picture((64, 64)))
    assert result.findings == [] and ocr.calls == 0
    assert readable(picture((80, 10))) and not readable(picture((79, 40)))
    assert readable(b"not a picture")  # left to the backend, which decodes it or says why


def test_without_a_backend_pictures_are_not_read() -> None:
    engine = ENGINE.build(SensitiveOptions(ocr="none"), Resources())
    assert isinstance(engine, SensitiveEngine)
    result = scan(engine, picture())
    assert result.findings == []
    assert result.facts["sensitive"]["not_read"] == ["pictures are not read (no OCR backend)"]


def test_an_undecodable_picture_is_left_to_the_image_engine() -> None:
    class Broken(FakeOcr):
        def read(self, picture: OcrPicture, deadline: float) -> list[str]:
            raise ImageUnreadable("image could not be decoded (OSError)")

    result = scan(SensitiveEngine(SensitiveOptions(), Broken([])), picture())
    assert (
        result.findings == [] and "could not be decoded" in result.facts["sensitive"]["not_read"][0]
    )


def test_rtf_pictures_are_read_within_the_cap() -> None:
    hex_png = picture().hex().encode()
    rtf = b"{\\rtf1 Hello {\\pict\\pngblip " + hex_png + b"}{\\pict\\pngblip " + hex_png + b"}}"
    ocr = FakeOcr([f"card {VISA}"])
    engine = SensitiveEngine(SensitiveOptions(max_images=1), ocr)
    result = engine.scan(
        Item("a.rtf", rtf, FileType("rtf", "", "document")),
        Context(Limits(), deadline=time.monotonic() + 30),
    )
    assert sorted(codes(result)) == ["SENSITIVE_CARD", "SENSITIVE_LIMIT"] and ocr.calls == 1
    card = next(f for f in result.findings if f.code.name == "SENSITIVE_CARD")
    assert card.location == "picture 1"


def test_office_thumbnails_are_not_read() -> None:
    ocr = FakeOcr([f"card {VISA}"])
    engine = SensitiveEngine(SensitiveOptions(), ocr)
    for name in ("docProps/thumbnail.jpeg", "ppt/embeddings/Sheet1.xlsx/docProps/thumbnail.png"):
        item = Item(name, picture(), PNG, depth=1)
        result = engine.scan(item, Context(Limits(), deadline=time.monotonic() + 30))
        assert result.findings == [] and "an Office thumbnail" in str(result.facts)
    assert ocr.calls == 0
    media = Item("ppt/media/image1.png", picture(), PNG, depth=1)
    result = engine.scan(media, Context(Limits(), deadline=time.monotonic() + 30))
    assert codes(result) == ["SENSITIVE_CARD"] and ocr.calls == 1


class SlowOcr(FakeOcr):
    def read(self, picture: OcrPicture, deadline: float) -> list[str]:
        time.sleep(0.2)
        return super().read(picture, deadline)


def test_a_picture_is_not_started_without_time_to_read_it() -> None:
    ocr = FakeOcr([f"card {VISA}"])
    engine = SensitiveEngine(SensitiveOptions(), ocr)
    # 2 s left, less than the clock's floor: not read, and said so, allowed by default
    result = engine.scan(
        Item("photo.png", picture(), PNG), Context(Limits(), deadline=time.monotonic() + 2)
    )
    assert codes(result) == ["SENSITIVE_LIMIT"] and ocr.calls == 0
    assert "OCR time limit" in result.findings[0].message


def test_the_clock_learns_what_a_picture_costs() -> None:
    slow = SlowOcr([])
    engine = SensitiveEngine(SensitiveOptions(), slow)
    assert engine.clock.needed() == engine.clock.FLOOR
    engine.clock.FLOOR = 0.1
    started = time.monotonic()
    scan(engine, picture())
    took = time.monotonic() - started  # the whole scan: at least what the clock measured
    assert 0.4 <= engine.clock.needed() <= 2 * took  # twice what the picture took
    # with less than that left, the next picture waits for no timeout: it is not read
    result = engine.scan(
        Item("photo.png", picture(), PNG), Context(Limits(), deadline=time.monotonic() + 0.3)
    )
    assert codes(result) == ["SENSITIVE_LIMIT"] and slow.calls == 1


def test_one_slow_picture_does_not_stop_every_later_picture_being_read() -> None:
    # a long screenshot, or a loaded machine, once taught the clock more than an item's whole
    # OCR time: no picture was started again for the engine's life, and every card number in
    # a photo was allowed (SENSITIVE_LIMIT)
    ocr = FakeOcr([f"card {VISA}"])
    engine = SensitiveEngine(SensitiveOptions(ocr_seconds=8), ocr)
    engine.clock.record(30.0)
    assert codes(scan(engine, picture())) == ["SENSITIVE_CARD"] and ocr.calls == 1


class LateOcr(FakeOcr):
    def read(self, picture: OcrPicture, deadline: float) -> list[str]:
        self.calls += 1
        time.sleep(0.3)
        raise OcrLate(self.lines)


def test_a_picture_cut_short_is_searched_and_not_learnt_as_its_cost() -> None:
    late = LateOcr([f"card {VISA}"])
    engine = SensitiveEngine(SensitiveOptions(), late)
    engine.clock.FLOOR = 0.1
    result = scan(engine, picture())
    assert codes(result) == ["SENSITIVE_CARD", "SENSITIVE_LIMIT"]  # what it read is searched
    assert engine.clock.needed() == 0.1  # a cut reading is not what a picture costs


def pdf_drawing(image: bytes, data: bytes, caption: bytes = b"") -> bytes:
    """A one-page PDF that draws one image XObject (``image``: its dictionary's opening,
    without the length), as a scanner writes it, with ``caption`` as text under it."""
    content = b"q 600 0 0 400 0 0 cm /Im1 Do Q\n"
    if caption:
        content += b"BT /F1 10 Tf 20 20 Td (" + caption + b") Tj ET\n"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 600 400] /Contents 5 0 R /Resources "
        b"<< /XObject << /Im1 4 0 R >> /Font << /F1 6 0 R >> >> >>",
        image + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.7\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )


@pytest.mark.parametrize(
    ("caption", "size", "read"),
    [
        (b"", (600, 400), True),
        (b"Scanned with PhoneScan - page 1", (600, 400), True),
        # a page of text naming a card: its photo-sized pictures are read (a photo of a card
        # pasted in a letter, red team 96), not a logo's; a page of text naming none: neither
        (b"Here is the card I paid with. " * 8, (600, 400), True),
        (b"Here is the card I paid with. " * 8, (300, 90), False),
        (b"Terms and conditions " * 12, (600, 400), False),
    ],
)
def test_a_page_with_only_a_caption_is_read_as_a_scan(
    caption: bytes, size: tuple[int, int], read: bool
) -> None:
    photo = picture(size, fmt="JPEG")
    image = (b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB"
             b" /BitsPerComponent 8 /Filter /DCTDecode" % size)  # fmt: skip
    ocr = FakeOcr([f"card {VISA}"])
    item = Item("claim.pdf", pdf_drawing(image, photo, caption), FileType("pdf", "", "d"))
    result = SensitiveEngine(SensitiveOptions(), ocr).scan(
        item, Context(Limits(), deadline=time.monotonic() + 30)
    )
    assert (codes(result), ocr.calls) == ((["SENSITIVE_CARD"], 1) if read else ([], 0))


JBIG2_SCAN = (b"<< /Type /XObject /Subtype /Image /Width 600 /Height 400 /ColorSpace /DeviceGray"
              b" /BitsPerComponent 1 /Filter /JBIG2Decode")  # fmt: skip


def scan_jbig2(ocr: FakeOcr) -> Result:
    item = Item(
        "scan.pdf", pdf_drawing(JBIG2_SCAN, b"\x97JB2 damaged" * 50), FileType("pdf", "", "d")
    )
    return SensitiveEngine(SensitiveOptions(), ocr).scan(
        item, Context(Limits(), deadline=time.monotonic() + 30)
    )


def test_pdfium_decodes_a_scan_in_jbig2_itself() -> None:
    # JBIG2, the bilevel codec of scanners and ocrmypdf: PDFium decodes it (what it makes of
    # damaged data, a blank page, is OCR's to read), without the jbig2dec program pypdf needs
    ocr = FakeOcr([f"card {VISA}"])
    assert (codes(scan_jbig2(ocr)), ocr.calls) == (["SENSITIVE_CARD"], 1)


@pytest.mark.parametrize("decoder", ["installed", "missing"])
def test_a_scan_whose_picture_cannot_be_decoded_is_noted_not_failed(
    decoder: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the page left to pypdf (PDFium could not open the file), which needs jbig2dec for JBIG2
    monkeypatch.setattr(sensitive_pdf, "page_texts", lambda *args: PageTexts([]))
    if decoder == "missing":
        without = pypdf.get_configuration().with_overwrites(jbig2dec_binary=None)
        monkeypatch.setattr(pypdf_limits, "get_configuration", lambda: without)
    ocr = FakeOcr([f"card {VISA}"])
    result = scan_jbig2(ocr)
    assert result.findings == [] and ocr.calls == 0
    why = "its decoder is not installed here" if decoder == "missing" else "could not be decoded"
    assert why in result.facts["sensitive"]["not_read"][0]


def test_local_recognition_reads_card_shaped_boxes_first_and_stops_at_its_deadline() -> None:
    import numpy as np

    local = LocalOcr()
    # boxes 20 px high: a word (ratio 3), a line of print (ratio 40), a card number (ratio 11)
    crops = [np.zeros((20, width, 3), np.uint8) for width in (60, 800, 220) * 4]
    asked: list[list[int]] = []

    def recognize(part: list[Any]) -> Any:
        asked.append([crop.shape[1] for crop in part])
        return type("Out", (), {"txts": [f"w{c.shape[1]}" for c in part],
                                "scores": [1.0] * len(part),
                                "word_results": [("", 1.0, None)] * len(part)})  # fmt: skip

    turns = local._turns
    turns.deadline = float("inf")
    out = turns.recognize(recognize, crops)
    assert asked[0][:4] == [220] * 4 and not turns.cut  # card-shaped boxes first
    assert list(out.txts) == [f"w{c.shape[1]}" for c in crops]  # answers in the boxes' order
    asked.clear()
    turns.deadline = time.monotonic()  # already past: nothing is recognised, and it says so
    out = turns.recognize(recognize, crops)
    assert asked == [] and turns.cut and set(out.txts) == {""}


def test_backends_by_name() -> None:
    assert load_ocr("none") is None
    assert isinstance(load_ocr("local"), LocalOcr)
    rekognition = load_ocr("rekognition")
    assert isinstance(load_ocr("textract"), AwsOcr) and isinstance(rekognition, AwsOcr)
    assert rekognition.name == "rekognition"
    with pytest.raises(ValueError, match="unknown OCR backend"):
        load_ocr("tesseract")


def test_a_configured_backend_that_is_not_installed_fails_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "rapidocr", None)  # import fails
    engine = SensitiveEngine(SensitiveOptions(ocr="local"), LocalOcr())
    with pytest.raises(OcrUnavailable, match=r"attachguard\[ocr\]"):
        scan(engine, picture())
    # text classes do not need OCR
    text = engine.scan(
        Item("a.txt", f"{VISA}\n".encode(), FileType("txt", "", "text", True)),
        Context(Limits(), deadline=time.monotonic() + 30),
    )
    assert codes(text) == ["SENSITIVE_CARD"]


# -- AWS backends (requests checked against the real service models) ---------------------------


def client(service: str) -> Any:
    return boto3.client(
        service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


def test_textract_lines() -> None:
    textract = client("textract")
    backend = AwsOcr("textract", client=textract, base_delay=0.001)
    blocks = [
        {"BlockType": "PAGE"},
        {"BlockType": "LINE", "Text": "4111 1111 1111 1111"},
        {"BlockType": "WORD", "Text": "4111"},
    ]
    with Stubber(textract) as stub:
        stub.add_client_error("detect_document_text", service_error_code="ThrottlingException")
        stub.add_response("detect_document_text", {"Blocks": blocks}, {"Document": {"Bytes": ANY}})
        lines = backend.read(OcrPicture(picture(), "png", 10**8), time.monotonic() + 5)
        stub.assert_no_pending_responses()
    assert lines == ["4111 1111 1111 1111"]
    assert backend.version() == "Amazon Textract DetectDocumentText"


def test_rekognition_lines_and_errors_that_are_not_retried() -> None:
    rekognition = client("rekognition")
    backend = AwsOcr("rekognition", client=rekognition)
    found = [
        {"DetectedText": "4111 1111 1111 1111", "Type": "LINE"},
        {"DetectedText": "4111", "Type": "WORD"},
    ]
    with Stubber(rekognition) as stub:
        stub.add_response("detect_text", {"TextDetections": found}, {"Image": {"Bytes": ANY}})
        stub.add_client_error("detect_text", service_error_code="AccessDeniedException")
        picture_ = OcrPicture(picture(), "png", 10**8)
        assert backend.read(picture_, time.monotonic() + 5) == ["4111 1111 1111 1111"]
        with pytest.raises(Exception, match="AccessDenied"):
            backend.read(picture_, time.monotonic() + 5)


def test_aws_backends_stop_retrying_at_the_deadline() -> None:
    textract = client("textract")
    backend = AwsOcr("textract", client=textract, base_delay=10)
    with Stubber(textract) as stub:
        stub.add_client_error("detect_document_text", service_error_code="ThrottlingException")
        with pytest.raises(Exception, match="Throttling"):
            backend.read(OcrPicture(picture(), "png", 10**8), time.monotonic() + 1)


# -- RapidOCR, for real ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local() -> LocalOcr:
    pytest.importorskip("rapidocr")
    return LocalOcr()


def test_rapidocr_reads_a_card_number_offline(local: LocalOcr) -> None:
    # OCR's time limits are the policy's business, not this test's: on a loaded machine the
    # first read (the models loading) can take longer than the default 8 s
    engine = SensitiveEngine(SensitiveOptions(ocr="local", ocr_seconds=600), local)
    # a card's shape around the line (552 pixels): a third less to detect than 800x500
    shown = scan(engine, picture((640, 400), "Card 4111 1111 1111 1111"), seconds=600)
    assert codes(shown) == ["SENSITIVE_CARD"]
    assert "RapidOCR" in engine.version()
    masked = scan(engine, picture((640, 400), "Card **** **** **** 1111", "JPEG"), "jpeg", 600)
    assert masked.findings == [] and masked.facts["sensitive"]["pictures_read"] == 1


def _spinning(engine: Any) -> list[str]:
    """Each model's onnxruntime session's spinning setting ("default" when not set)."""
    settings = []
    for model in (engine.text_det, engine.text_cls, engine.text_rec):
        options = model.session.session.get_session_options()
        try:
            settings.append(options.get_session_config_entry("session.intra_op.allow_spinning"))
        except RuntimeError:  # onnxruntime: no such entry
            settings.append("default")
    return settings


def test_rapidocr_threads_sleep_between_runs(local: LocalOcr) -> None:
    # onnxruntime's spinning threads took the cores from clamd and the other scans: every
    # model's session is built with them sleeping, the baseline (bench) keeps the default
    from rapidocr.inference_engine.onnxruntime.main import OrtInferSession

    factory = OrtInferSession.__dict__["_init_sess_opts"]
    assert _spinning(local._load()) == ["0", "0", "0"]
    assert _spinning(LocalOcr(spin=True)._load()) == ["default"] * 3
    assert OrtInferSession.__dict__["_init_sess_opts"] is factory  # put back after each load


def test_every_local_ocr_of_a_process_shares_one_loaded_rapidocr(local: LocalOcr) -> None:
    # a scanner built again (a policy reload, a rescan) neither loads the models again nor
    # reads beside the first on the same cores: one engine, one turn at a time
    again = LocalOcr()
    assert again._load() is local._load() and again._turns is local._turns
    other = LocalOcr({"Det.limit_side_len": 640})
    assert other._turns is not local._turns  # other settings: a model of their own


@pytest.mark.parametrize("size", [(40, 8000), (20000, 60), (64, 32767)])
def test_rapidocr_reads_pictures_of_any_shape(local: LocalOcr, size: tuple[int, int]) -> None:
    # a thin banner, a divider or a barcode strip made RapidOCR's scaling fail
    # (ResizeImgError): the engine failed, and the file was rejected (found by bench/fuzz.py)
    engine = SensitiveEngine(SensitiveOptions(ocr="local", ocr_seconds=600), local)
    shown = scan(engine, picture(size), seconds=600)
    assert shown.findings == [] and shown.facts["sensitive"]["pictures_read"] == 1


def test_rapidocr_reads_a_card_number_on_a_thin_strip(local: LocalOcr) -> None:
    engine = SensitiveEngine(SensitiveOptions(ocr="local", ocr_seconds=600), local)
    shown = scan(engine, picture((2400, 110), "Card 4111 1111 1111 1111"), seconds=600)
    assert codes(shown) == ["SENSITIVE_CARD"]


def test_rapidocr_reads_a_card_number_in_a_scrolling_screenshot(local: LocalOcr) -> None:
    # fit whole into 2,048 pixels (and 960 for detection), the text of a 1080x8000 screenshot
    # shrank below what can be read: the number was missed and the picture counted as read
    # (here 1080x5000 with 34-pixel text, which a whole reading misses too: half the tiles)
    image = Image.new("RGB", (1080, 5000), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    draw.text((40, 3500), "Card 4111 1111 1111 1111", font=ImageFont.load_default(34),
              fill=(20, 20, 20))  # fmt: skip
    out = io.BytesIO()
    image.save(out, "PNG")
    engine = SensitiveEngine(SensitiveOptions(ocr="local", ocr_seconds=600), local)
    shown = scan(engine, out.getvalue(), seconds=600)
    assert codes(shown) == ["SENSITIVE_CARD"]
    assert shown.facts["sensitive"]["pictures_read"] == 1


@pytest.mark.parametrize("size", [(1080, 12000), (1080, 20000), (500, 1600), (400, 1300)])
def test_a_tall_picture_is_read_in_overlapping_tiles(size: tuple[int, int]) -> None:
    width, height = size
    boxes = tile_boxes(width, height)
    assert boxes[0][1] == 0 and boxes[-1][3] == height  # from top to bottom
    assert all(box[3] - box[1] == 2 * width for box in boxes)
    assert all(box[0] == 0 and box[2] == width for box in boxes)  # the whole width
    for above, below in itertools.pairwise(boxes):
        assert above[3] - below[1] >= 2 * width // 8  # a line cut by one is whole in the next
    pieces = tiles(Image.new("RGB", size))
    assert [p.size for p in pieces] == [(b[2] - b[0], b[3] - b[1]) for b in boxes]


def test_rapidocr_reads_a_number_line_on_a_wide_strip(local: LocalOcr) -> None:
    # a wide picture cut in tiles cut the number too (a reviewer's 2600x500 strip of a card's
    # number line was approved): wide pictures are read whole
    image = Image.new("RGB", (2600, 500), (250, 250, 250))
    ImageDraw.Draw(image).text((40, 160), "4111 1111 1111 1111",
                               font=ImageFont.load_default(180), fill=(20, 20, 20))  # fmt: skip
    out = io.BytesIO()
    image.save(out, "JPEG")
    engine = SensitiveEngine(SensitiveOptions(ocr="local", ocr_seconds=600), local)
    assert codes(scan(engine, out.getvalue(), "jpeg", seconds=600)) == ["SENSITIVE_CARD"]


@pytest.mark.parametrize(
    "size", [(1080, 2400), (800, 500), (300, 3000), (2400, 110), (12000, 1080), (2600, 500)]
)
def test_other_pictures_are_read_whole(size: tuple[int, int]) -> None:
    # a phone screenshot, a photo, and strips too narrow to hold a number's line in a tile
    image = Image.new("RGB", size)
    assert tiles(image) == [image]


def test_boxes_side_by_side_are_joined_into_rows() -> None:
    def box(x0: float, y0: float, x1: float, y1: float) -> list[tuple[float, float]]:
        return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]

    boxes = [box(100, 100, 200, 140), box(100, 300, 200, 340), box(230, 102, 330, 141),
             box(360, 100, 460, 140), box(900, 100, 1000, 140)]  # fmt: skip
    texts = ["4111", "JOHN", "1111", "1111 1111", "far away"]
    assert rows(boxes, texts) == ["4111 1111 1111 1111"]


def test_rapidocr_reads_a_card_photographed_in_portrait(local: LocalOcr) -> None:
    # a card's shape around the number (446 pixels), read upright and then turned: 560x350
    # costs less than half the CPU of 800x500
    card = picture((560, 350), "4111 1111 1111 1111")
    image = Image.open(io.BytesIO(card)).rotate(90, expand=True)
    out = io.BytesIO()
    image.save(out, "PNG")
    lines = local.read(OcrPicture(out.getvalue(), "png", 10**8), time.monotonic() + 60)
    assert any(h.last4 == "1111" for h in find(as_text(lines), ["card"], lenient=True))
