"""The demo attachments: what a contact center sees every day (a proof of purchase, a photo of a
damaged product, an order history...) next to harmful or disallowed files, with the verdict each
should get in `EXPECTED`. `attachguard samples DIR` writes them; the chat page replays them.
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

from attachguard.samples import (
    _zip,
    csv_text,
    docx,
    jpeg,
    order_rows,
    pdf,
    photo,
    png,
    screenshot,
    sentence,
    transcript,
)

CLAM_EXE = Path("/usr/share/clamav-testfiles/clam.exe")

# The EICAR test string, assembled at run time so that no antivirus flags this source file.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

_GOOD = ("receipt.pdf", "damaged-product.jpg", "order-history.csv", "return-form.docx")
_BAD = ("eicar.txt", "invoice.pdf", "contract.docx", "prices.csv", "photo.jpg", "holiday.jpg")
EXPECTED: dict[str, str] = {
    **{name: "APPROVED" for name in (*_GOOD, "notes.txt", "screenshot.png")},
    **{name: "REJECTED" for name in (*_BAD, "setup.exe", "bomb.docx")},
}

RECEIPT = [
    "Proof of purchase",
    "Northwind Outfitters - order A4711, 14 March 2026",
    "1 x Electric kettle, stainless steel ........ 49.90 EUR",
    "1 x USB-C cable, 2 m ........................ 12.50 EUR",
    "Total paid by card ending 4242 .............. 62.40 EUR",
    "Thank you for shopping with us.",
]


def windows_program() -> bytes:
    """ClamAV's harmless test program when installed, else a minimal PE header."""
    if CLAM_EXE.is_file():
        return CLAM_EXE.read_bytes()
    pe = bytearray(512)
    pe[0:2], pe[0x3C:0x40] = b"MZ", struct.pack("<I", 0x80)
    pe[0x80:0x86] = b"PE\0\0\x4c\x01"  # PE signature, i386
    return bytes(pe)


def demo_samples() -> dict[str, bytes]:
    """The demo files by name; `EXPECTED` holds the verdict each should get."""
    rng = random.Random(1)
    product = jpeg(photo(800, 600, seed=3))
    form = ["Return form", "Order A4711", "Reason: the kettle arrived with a cracked lid."]
    zipped = _zip([("holiday/readme.txt", b"see you soon\n")])
    return {
        "receipt.pdf": pdf([RECEIPT]),
        "damaged-product.jpg": product,
        "order-history.csv": csv_text(order_rows(40, seed=2)),
        "return-form.docx": docx(form + [sentence(rng, 20) for _ in range(5)]),
        "notes.txt": transcript(12, seed=4),
        "screenshot.png": png(screenshot()),
        "eicar.txt": EICAR,
        "invoice.pdf": pdf([["Invoice 2026-118", "Amount due: 240.00 EUR"]], js="app.alert('hi');"),
        "contract.docx": docx(
            ["Service contract", sentence(rng, 15)],
            template_url="https://templates.example.net/contract.dotm",
        ),
        "prices.csv": b"item,price\r\nKettle,49.90\r\n=cmd|' /C calc'!A0,1\r\n",
        "photo.jpg": windows_program(),
        "holiday.jpg": jpeg(photo(640, 480, seed=5)) + zipped,
        "setup.exe": windows_program(),
        "bomb.docx": docx(["Hello"], padding=20_000_000),
    }


def write_demo_samples(dest: Path) -> list[Path]:
    """Write the demo files into ``dest`` (created if needed); returns their paths."""
    dest.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in demo_samples().items():
        path = dest / name
        path.write_bytes(data)
        paths.append(path)
    return paths
