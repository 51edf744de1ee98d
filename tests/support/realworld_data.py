"""A real-world benign corpus: files made by real tools, taken from public packages.

Word, Excel and PowerPoint files, PDFs from Acrobat, Illustrator, LibreOffice, scanners and
OCR tools, photos from phones and cameras, video and sound recordings: the test data that
format libraries ship in their PyPI source distributions and that Debian ships in its packages.
Nothing is committed: `realworld_corpus` downloads each archive once with the ordinary client
(``pip download`` for PyPI, ``apt-get download`` for Debian) into a cache directory
(``$ATTACHGUARD_TEST_CACHE``, else ``~/.cache/attachguard-test-data``), checks it against its
pinned SHA-256, extracts only the chosen members (path-safe) and returns them. About 300 MB of
archives; when a registry cannot be reached, `CorpusUnavailable` says which (the test fixture
turns it into a skip). A pinned archive whose hash differs is an error, never a skip.

Every source lists what it takes (globs on member paths, below the archive's top folder) and
what it leaves out with the reason: files a package made broken or hostile on purpose (fuzzer
crashes, truncations, forged headers) are not benign real-world files. Only extensions on the
default policy's allow-list are taken; a file present in two packages is kept once.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Literal

from support.download_cache import cache_dir, locked

__all__ = [
    "ALLOWED",
    "SOURCES",
    "CorpusFile",
    "CorpusUnavailable",
    "Source",
    "cache_dir",
    "realworld_corpus",
]

ALLOWED = frozenset(
    {".csv", ".doc", ".docx", ".heic", ".jfif", ".jpeg", ".jpg", ".mov", ".mp4", ".pdf", ".png"}
    | {".ppt", ".pptx", ".rtf", ".txt", ".wav", ".xls", ".xlsx"}
)
"""The default policy's allowed extensions (Amazon Connect's defaults)."""

Kind = Literal["sdist", "deb"]


class CorpusUnavailable(RuntimeError):
    """A registry could not be reached, or no longer serves a pinned version."""


@dataclass(frozen=True)
class Source:
    """One pinned archive and the members taken from it.

    ``take`` and ``leave`` are globs (``fnmatch``, ``*`` crosses ``/``) on the member path below
    the archive's top folder (``pkg-1.0/`` of an sdist, ``./`` of a .deb); ``leave`` maps a glob
    to the reason the files are not benign real-world files."""

    name: str
    kind: Kind
    package: str
    version: str
    archive: str
    sha256: str
    made_by: str
    take: tuple[str, ...]
    leave: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CorpusFile:
    """A corpus file: ``id`` is ``source/member path``, stable across runs and machines."""

    id: str
    path: Path
    source: str

    @property
    def extension(self) -> str:
        return self.path.suffix.lower()


_TRUNCATED = "truncated on purpose by the package's tests"
_FUZZ = "fuzzer-found crash input"

SOURCES: tuple[Source, ...] = (
    Source(
        "python-docx", "sdist", "python-docx", "1.2.0", "python_docx-1.2.0.tar.gz",
        "7bc9d7b7d8a69c9c02ca09216118c86552704edc23bac179283f2e38f86220ce",
        "Word 2010-2016 for Mac and Windows (test documents), photos and scans",
        ("features/steps/test_files/*", "tests/test_files/*.*", "src/docx/templates/*.docx"),
        {"tests/test_files/snippets/*": "XML fragments, not documents"},
    ),
    Source(
        "python-pptx", "sdist", "python-pptx", "1.0.2", "python_pptx-1.0.2.tar.gz",
        "479a8af0eaf0f0d76b6f00b0887732874ad2e3188230315290cd1f9dd9cc7095",
        "PowerPoint 2010-2016 (presentations with charts, media, OLE objects), a movie clip",
        ("features/steps/test_files/*", "tests/test_files/*.*", "src/pptx/templates/*.pptx"),
        {
            "tests/test_files/snippets/*": "XML fragments, not documents",
            "tests/test_files/dummy.mp4": "a text file named .mp4 on purpose",
        },
    ),
    Source(
        "pypdf", "sdist", "pypdf", "7.1.1", "pypdf-7.1.1.tar.gz",
        "2eff4e2fc5fb22a6d6711e6f1166cdc9ab5765d90cd0d77dfea3f4aa91a27b1d",
        "Acrobat, LibreOffice, pdfTeX, AutoCAD, ImageMagick, Inkscape, ReportLab, qpdf",
        ("resources/*.pdf", "resources/encryption/*.pdf"),
        {
            "resources/outlines-with-invalid-destinations.pdf": "destinations broken on purpose",
            "resources/issue-297.pdf": "hand-written test for an OpenAction with JavaScript",
        },
    ),
    Source(
        "pikepdf", "sdist", "pikepdf", "10.18.0", "pikepdf-10.18.0.tar.gz",
        "cb555ebff93482e8a6eb55881488b469bbb2b5675161c1b93a0510a8642d98d0",
        "US government forms (Acrobat, LiveCycle), Illustrator PDF/A, scanners, OCR output",
        ("tests/resources/*.pdf", "tests/resources/*.png", "docs/images/*.*"),
        {
            "tests/resources/fuzz/*": _FUZZ,
            "tests/resources/badlin1.pdf": "linearization damaged on purpose",
            "tests/resources/content-stream-errors.pdf": "content stream damaged on purpose",
            "tests/resources/cyclic-toc.pdf": "outline made cyclic on purpose",
            "tests/resources/newline-buffer-test.pdf": "hand-made parser edge case",
            "tests/resources/veraPDF*fail*": "made to fail PDF/A validation",
        },
    ),
    Source(
        "ocrmypdf", "sdist", "ocrmypdf", "17.13.0", "ocrmypdf-17.13.0.tar.gz",
        "151c35d810eb628fbc5cb9bbe80b834ecf094737efa0e7a2e9e1fac3c730ed49",
        "scanned pages (Epson, Canon, fax), Illustrator, LibreOffice, LiveCycle, photos",
        ("tests/resources/*.pdf", "tests/resources/*.jpg", "tests/resources/*.png"),
        {
            "tests/resources/invalid.pdf": "a text file named .pdf on purpose",
            "tests/resources/jbig2_baddevicen.pdf": "colour space broken on purpose",
            "tests/resources/enormous.pdf": "page size out of range on purpose",
            "tests/resources/hugemono.pdf": "image sized to exhaust memory on purpose",
            "tests/resources/negzero.pdf": "hand-made negative-zero number edge case",
        },
    ),
    Source(
        "csvkit", "sdist", "csvkit", "2.2.0", "csvkit-2.2.0.tar.gz",
        "147318a8dbaec07c0bbb9291c14b78de5fa32ed3d4a5c2396e52a83c0a30df6b",
        "census and government data exports, Excel and LibreOffice workbooks",
        ("examples/*",),
        {
            "examples/bad*": "malformed CSV on purpose",
            "examples/*garbage*": "malformed CSV on purpose",
            "examples/test_skip_lines*": "hand-made parser edge case",
        },
    ),
    Source(
        "xlsx2csv", "sdist", "xlsx2csv", "0.8.6", "xlsx2csv-0.8.6.tar.gz",
        "618fc502612860de8ab8e3d6195e99ef332fffc68337f6b89e59690aad0d20b5",
        "Excel and LibreOffice workbooks from bug reports, with their CSV exports",
        ("test/*",),
    ),
    Source(
        "pyexcel-xls", "sdist", "pyexcel-xls", "0.7.1", "pyexcel_xls-0.7.1.tar.gz",
        "0e8c598dc840f9216507f1c16975c18b06e36df09acd79bda1a9de2f9cad0761",
        "Excel 97-2003 workbooks",
        ("tests/fixtures/*",),
    ),
    Source(
        "xlrd", "sdist", "xlrd", "1.2.0", "xlrd-1.2.0.tar.gz",
        "546eb36cee8db40c3eaa46c351e67ffee6eeb5fa2650b71bc4c758a29a1b29b2",
        "Excel 97-2016 and OpenOffice workbooks from bug reports",
        ("tests/*.xls", "tests/*.xlsx", "examples/*.xls"),
        {"tests/biff4_no_format_no_window2.xls": "hand-made BIFF4 stream missing records"},
    ),
    Source(
        "filetype", "sdist", "filetype", "1.2.0", "filetype-1.2.0.tar.gz",
        "66b56cd6474bf41d8c54660347d37afcc3f7d1970648de365c102ef77548aadb",
        "Office documents, an iPhone HEIC, a QuickTime movie, an MP4",
        ("tests/fixtures/*",),
    ),
    Source(
        "puremagic", "sdist", "puremagic", "1.30", "puremagic-1.30.tar.gz",
        "f9ff7ac157d54e9cf3bff1addfd97233548e75e685282d84ae11e7ffee1614c9",
        "Office documents, a photo, a recording, a video",
        ("test/resources/*",),
    ),
    Source(
        "mutagen", "sdist", "mutagen", "1.48.1", "mutagen-1.48.1.tar.gz",
        "8f95637ab9f6f305cec6bd1294e197debe207998e3e068596563c74f86b0a173",
        "tagged WAV recordings, MP4 video",
        ("tests/data/*",),
        {"tests/data/truncated-64bit.mp4": _TRUNCATED},
    ),
    Source(
        "pymediainfo", "sdist", "pymediainfo", "7.0.1", "pymediainfo-7.0.1.tar.gz",
        "0d5df59ecc615e24c56f303b8f651579c6accab7265715e5d429186d7ba21514",
        "MP4 videos from encoders and cameras",
        ("tests/data/*",),
        {"tests/data/dummy.mp4": "a text file named .mp4 on purpose"},
    ),
    Source(
        "soundfile", "sdist", "soundfile", "0.14.0", "soundfile-0.14.0.tar.gz",
        "ba1c1a2d618bca5c406647c83b89f07cc8810fa506a50622a6993ba130c1de11",
        "WAV files written by libsndfile",
        ("tests/*.wav",),
    ),
    Source(
        "piexif", "sdist", "piexif", "1.1.3", "piexif-1.1.3.zip",
        "83cb35c606bf3a1ea1a8f0a25cb42cf17e24353fd82e87ae3884e74a302a5f1b",
        "camera JPEGs (Canon, Nikon, Pentax, Ricoh, phones) with EXIF",
        ("tests/images/*",),
    ),
    Source(
        "pillow-heif", "sdist", "pillow-heif", "1.8.1", "pillow_heif-1.8.1.tar.gz",
        "521ebffb8a181d56c3904e5a61f20903edee0d9d3275967b8fb345f866215c06",
        "HEIC from iPhones, Nokia, Xiaomi and a 200 MP camera; PNG test images",
        ("tests/images/*",),
        {
            "tests/images/heif_corrupted/*": "corrupted on purpose",
            "tests/images/heif_truncated/*": _TRUNCATED,
            "tests/images/heif_special/*_mismatch_thumbnail.heic": "forged thumbnail metadata",
            "tests/images/heif_special/broken_thumbnail.heic": "thumbnail broken on purpose",
            "tests/images/heif_special/invalid_metadata_type.heic": "forged metadata type",
            "tests/images/heif_special/unsupported_depth_image.heic": "hand-made depth edge case",
            "tests/images/heif_other/invalid_id.heic": "item ids broken on purpose",
        },
    ),
    Source(
        "oletools", "sdist", "oletools", "0.60.2", "oletools-0.60.2.zip",
        "ad452099f4695ffd8855113f453348200d195ee9fa341a09e197d66ee7e0b2c3",
        "Word 2016, Excel, PowerPoint: clean documents and real DDE, OLE and encryption",
        (
            "tests/test-data/msodde/harmless-clean.doc*",
            "tests/test-data/msodde/RTF-Spec-1.7.rtf",
            "tests/test-data/msodde/dde-test.docx",
            "tests/test-data/msodde/dde-test.xlsx",
            "tests/test-data/oleobj/embedded-simple-2007.docx",
            "tests/test-data/oleobj/embedded-simple-2007.xlsx",
            "tests/test-data/oleobj/embedded-simple-2007.pptx",
            "tests/test-data/oleobj/external_link/sample_with_external_link_to_doc.docx",
            "tests/test-data/oleobj/external_link/sample_with_external_link_to_doc.pptx",
            "tests/test-data/oleobj/external_link/sample_with_external_link_to_doc.xlsx",
            "tests/test-data/encrypted/encrypted.*",
            "tests/test-data/msodde/dde-test-from-office2016.doc",
            "tests/test-data/oleobj/embedded-simple-2007.doc",
            "tests/test-data/oleobj/embedded-simple-2007.ppt",
            "tests/test-data/oleobj/embedded-simple-2007.xls",
            "tests/test-data/oleobj/embedded-unicode.doc",
            "tests/test-data/olevba/sample_with_vba.ppt",
        ),
    ),
    Source(
        "hachoir", "sdist", "hachoir", "3.4.0", "hachoir-3.4.0.tar.gz",
        "7f88018d58ef42b5dcd8ff51f2a6191abf3ade38eee8da11acd93f5a7d9cf8f8",
        "camera JPEGs (GPS, Photoshop EXIF), a Word 97 document, a QuickTime MP4, KDE sounds",
        (
            "tests/files/*.jpg", "tests/files/*.png", "tests/files/*.doc",
            "tests/files/*.mp4", "tests/files/*.mov", "tests/files/*.wav",
        ),
        {
            "tests/files/png_331x90x8_truncated.png": _TRUNCATED,
            # the package keeps only the first bytes of large samples to stay small
            "tests/files/pentax_320x240.mov": "cut to its moov header, no media data",
            "tests/files/ladouce_1h15.wav": "cut to 5 KB of a 565 MB recording",
        },
    ),
    Source(
        "xmp-toolkit", "sdist", "python-xmp-toolkit", "2.1.0",
        "python_xmp_toolkit-2.1.0.tar.gz",
        "ca0aa2c60d418dd2558767db59953ab5954fb5b87dc0b50cecd60566b0b4e2da",
        "Adobe XMP SDK samples carrying XMP packets: JPEG, PNG, PDF, QuickTime movie, WAV",
        ("test/samples/*",),
    ),
    Source(
        "tika-client", "sdist", "tika-client", "1.0.0", "tika_client-1.0.0.tar.gz",
        "899c2fd08c717d8d590d46d76942103ef972fc37d43eadbfd6772a9961351ced",
        "Word 97-2003 and 2007+ documents, an Excel workbook, a photo",
        ("tests/samples/*",),
    ),
    Source(
        "olefile", "sdist", "olefile", "0.47", "olefile-0.47.zip",
        "599383381a0bf3dfbd932ca0ca6515acd174ed48870cbf7fee123d698c192c1c",
        "a Word 97-2003 document, a photo",
        ("tests/images/*",),
    ),
    Source(
        "xlwt", "sdist", "xlwt", "1.3.0", "xlwt-1.3.0.tar.gz",
        "c59912717a9b28f1a3c2a98fd60741014b06b043936dcecbc113eaaada156c88",
        "Excel 97-2003 workbooks written by xlwt (styles, pictures, Unicode)",
        ("tests/*.xls", "examples/*.xls"),
    ),
    Source(
        "thumbor", "sdist", "thumbor", "7.8.0", "thumbor-7.8.0.tar.gz",
        "3211d7b3210864fae09a67a822e69851aa54ac6137d8a35c1a4047881e3c6dfc",
        "Wikimedia Commons photos from cameras (EXIF, ICC, CMYK, up to 8 MB), a small HEIC",
        ("tests/fixtures/images/*.jpg", "tests/fixtures/images/*.heic"),
        {
            "tests/fixtures/images/BlueSquare_truncated.jpg": _TRUNCATED,
            "tests/fixtures/images/image_invalid.jpg": "one byte named .jpg on purpose",
        },
    ),
    Source(
        "wand", "sdist", "wand", "0.7.2", "wand-0.7.2.tar.gz",
        "0387fd08848d00cadd1d885fcb19a17dd4250df2029e5338b6b668b7fed64b5b",
        "photos (HD, CMYK, EXIF orientation), PDFs, PNGs for ImageMagick's tests",
        ("tests/assets/*",),
    ),
    Source(
        "beets", "sdist", "beets", "2.14.1", "beets-2.14.1.tar.gz",
        "b25dc7bf8ed093d8b6e043e88013736902c1082c958b81a598af5db5275539a5",
        "album cover photos, an MP3-in-WAV recording",
        ("test/rsrc/*.jpg", "test/rsrc/*.png", "test/rsrc/*.wav"),
        {"test/rsrc/only-magic-bytes.jpg": "a bare JPEG signature, no picture"},
    ),
    Source(
        "mozjpeg", "sdist", "mozjpeg-lossless-optimization", "1.3.2",
        "mozjpeg_lossless_optimization-1.3.2.tar.gz",
        "4d150f63b19831b22918118de0f85bcf17e167858700cbd6517da888ca6c59a6",
        "a TextEdit (Mac OS X 10.6) RTF licence, libjpeg's plain-text manuals",
        ("mozjpeg/release/*", "mozjpeg/*.txt"),
        {
            "mozjpeg/*CMakeLists.txt": "build scripts, not documents",
            "mozjpeg/jconfig.txt": "a C header template",
        },
    ),
    Source(
        "csv2ofx", "sdist", "csv2ofx", "0.34.2", "csv2ofx-0.34.2.tar.gz",
        "b94fe6bb6ca1d3dc7822173b62ea032081fe36c6ed3cd405492650abaae5b4cb",
        "bank and payment exports (Amazon, Capital One, Mint, N26, Schwab, Stripe, Xero...),"
        " the OFX specification (Acrobat PDF, Word 97 document, Excel workbook)",
        ("data/test/*.csv", "docs/*"),
    ),
    Source(
        "agate-excel", "sdist", "agate-excel", "0.4.2", "agate_excel-0.4.2.tar.gz",
        "eed1dc6239f0e96720d962dc1bdfb4496e19687332c827fd8b1e587a917ea202",
        "Excel and LibreOffice workbooks, public data (COVID-19, Nebraska 1033 programme)",
        ("examples/*",),
    ),
    Source(
        "tablib", "sdist", "tablib", "3.10.0", "tablib-3.10.0.tar.gz",
        "781cfa9a42de8f33c52aff857fd0a04e483de4fd1c53eaaa9a6aeac62bad11de",
        "Excel 97-2003 and 2007+ workbooks",
        ("tests/files/*",),
        {"tests/files/bad_dimensions.xlsx": "dimension record made wrong on purpose"},
    ),
    Source(
        "pyexcel", "sdist", "pyexcel", "0.7.6", "pyexcel-0.7.6.tar.gz",
        "489483d8c7675a4d04d0a55a1b5dd0925771e2660fa68105ca342e492f459d1b",
        "Excel 97-2003 and 2007+ workbooks from examples and bug reports",
        ("examples/*.xls", "examples/*.xlsx", "tests/fixtures/*.xls", "tests/fixtures/*.xlsx"),
    ),
    Source(
        "goexif", "deb", "golang-github-rwcarlsen-goexif-dev", "0.0~git20190401.9e8deec-2",
        "golang-github-rwcarlsen-goexif-dev_0.0~git20190401.9e8deec-2_all.deb",
        "807ff4c29f59ef6624a8e5b3454981ce1a05cefe1f0c4a53bfb005710b0338d7",
        "camera JPEGs with EXIF (lens data, GPS, all eight orientations)",
        ("usr/share/gocode/src/github.com/rwcarlsen/goexif/exif/*.jpg",),
        {
            "*/exif/corrupt/*": "EXIF corrupted on purpose (huge tags, loops)",
            # the other samples keep only their first bytes: EXIF without the picture
            "*/exif/samples/2*": "cut after the EXIF header, no picture data",
            "*/exif/samples/FailedHash-*": "cut after the EXIF header, no picture data",
        },
    ),
    Source(
        "imaging", "deb", "golang-github-disintegration-imaging-dev", "1.6.2-2",
        "golang-github-disintegration-imaging-dev_1.6.2-2_all.deb",
        "f7750767c5fe5f78c31730405746adf862f7faf734266ca1086ec52ea2e24b0a",
        "a photo, JPEGs tagged with each EXIF orientation",
        ("usr/share/gocode/src/github.com/disintegration/imaging/testdata/*.jpg",),
    ),
    Source(
        "jpeg-decoder", "deb", "librust-jpeg-decoder-dev", "0.2.6-1",
        "librust-jpeg-decoder-dev_0.2.6-1_amd64.deb",
        "a93a164c79135f206875ebd35e73670f07e9d0471ccf8a162abef7a558964b9f",
        "baseline, progressive and greyscale photos, a large photo",
        ("usr/share/cargo/registry/jpeg-decoder-0.2.6/benches/*",),
    ),
    Source(
        "rust-csv", "deb", "librust-csv-dev", "1.1.6-1", "librust-csv-dev_1.1.6-1_amd64.deb",
        "65240da8c7a7bc551ccfe039f2f9c9b8924e229e50fddbb4402f5db7eca01d8b",
        "data exports: US census populations, world cities, NFL plays, MBTA transit timetables",
        ("usr/share/cargo/registry/csv-1.1.6/examples/data/*",),
        {
            "*/examples/data/strange.csv": "hand-made parser edge case",
            "*/examples/data/uspop-null.csv": "NUL bytes inserted on purpose",
        },
    ),
    Source(
        "imageio", "deb", "python3-imageio", "2.4.1-5", "python3-imageio_2.4.1-5_all.deb",
        "4467164fe9fc96f24ef2a50133ef71734294116845c3fc28ca5b102e1d6041e8",
        "imageio's standard pictures and two H.264 MP4 clips",
        ("usr/lib/python3/dist-packages/imageio/resources/images/*",),
    ),
    Source(
        "mimetype", "deb", "golang-github-gabriel-vasile-mimetype-dev", "1.4.1+dfsg1-2",
        "golang-github-gabriel-vasile-mimetype-dev_1.4.1+dfsg1-2_all.deb",
        "80de15cc24494d1a06325a11122b17ee10c3e3cc11bf304b47f07e5aaed08152",
        "Office documents, a QuickTime movie, an MP4, text in several encodings",
        ("usr/share/gocode/src/github.com/gabriel-vasile/mimetype/testdata/*",),
        {
            "*/testdata/json.*": "a JSON value named .txt, a detector edge case",
            "*/testdata/not.srt*": "subtitle look-alike made for a detector edge case",
        },
    ),
    Source(
        "forensics", "deb", "forensics-samples-files", "1.1.4-5",
        "forensics-samples-files_1.1.4-5_all.deb",
        "8710c751be1a71a88e343540ea1a5cab1fd349c2bcdf07626a27cfe68689e7c4",
        "Android and iPhone photos and videos, WhatsApp images, Word and PDF documents",
        ("usr/share/forensics-samples/*",),
        {"*/pic1/empty.jpg": "a bare JPEG header with no picture"},
    ),
    Source(
        "pocketsphinx", "deb", "pocketsphinx-testdata", "0.8+5prealpha+1-15",
        "pocketsphinx-testdata_0.8+5prealpha+1-15_all.deb",
        "eaeb7a01d54f20b799d1a81ef110ec544b2cb47ea006614078220737a33019f0",
        "speech recordings",
        ("usr/share/pocketsphinx/*",),
    ),
    Source(
        "scratch", "deb", "scratch", "1.4.0.6~dfsg1-6.1", "scratch_1.4.0.6~dfsg1-6.1_all.deb",
        "36c582eb93110f64f06c4e685c41e933ccba2fa68db12f79b10bfe840b21fc10",
        "recorded sounds, photos and drawings of the Scratch media library",
        ("usr/share/scratch/Media/*",),
    ),
    Source(
        "charset-normalizer", "sdist", "charset-normalizer", "3.5.3",
        "charset_normalizer-3.5.3.tar.gz",
        "a250888753faa289e2997962fbb17c4960cbdb58575533ca6fceee68c224bdff",
        "text in legacy code pages: Big5 Chinese, Windows-1256 Arabic, Cyrillic, Greek, Hebrew",
        ("data/*.txt",),
    ),
    Source(
        "cpython-tests", "deb", "libpython3.11-testsuite", "3.11.2-6+deb12u8",
        "libpython3.11-testsuite_3.11.2-6+deb12u8_all.deb",
        "718afaa9807bcc228d16f7e01436f7fdbfc1268f806091c0b83d57f564633fa3",
        "text in CJK code pages (Big5, GB2312, EUC-KR, Johab, Shift JIS...), a UTF-8 tree drawn"
        " with box characters, mail messages, recorded sounds",
        ("usr/lib/python3.11/test/cjkencodings/*.txt",
         "usr/lib/python3.11/test/exception_hierarchy.txt",
         "usr/lib/python3.11/test/test_email/data/msg_*.txt",
         "usr/lib/python3.11/test/audiodata/*.wav"),
    ),
    Source(
        "scipy", "deb", "python3-scipy", "1.10.1-2", "python3-scipy_1.10.1-2_amd64.deb",
        "75175eb18aa9ef6424c69050a751335fe686c24b65bc1773d0769a74a21c869d",
        "numeric text tables, WAV files in every PCM and float layout",
        ("usr/lib/python3/dist-packages/scipy/spatial/tests/data/*.txt",
         "usr/lib/python3/dist-packages/scipy/io/tests/data/*.wav"),
        {"*/io/tests/data/*incomplete-chunk.wav": _TRUNCATED},
    ),
    Source(
        "parseexcel", "deb", "libspreadsheet-parseexcel-perl", "0.6500-4~deb12u1",
        "libspreadsheet-parseexcel-perl_0.6500-4~deb12u1_all.deb",
        "dbc61d257cd03fec6ec83fce2aa52aa46e5dcce162b5709e0fe54558711c5408",
        "Excel 95 and 97 workbooks (English and Japanese), two keeping a VBA project without"
        " code",
        ("usr/share/doc/libspreadsheet-parseexcel-perl/examples/sample/Excel/*.xls",),
    ),
    Source(
        "gdata", "deb", "r-cran-gdata", "2.18.0.1-1", "r-cran-gdata_2.18.0.1-1_all.deb",
        "d2cbdaa1ea21c5bba32543dd8ee5d22fb7fa27948debc72400389c6f31b81ecd",
        "Excel workbooks, .xls and .xlsx, one saved as \"97-2003 & 5.0/95\" (both streams)",
        ("usr/lib/R/site-library/gdata/xls/*",),
    ),
    Source(
        "readxl", "deb", "r-cran-readxl", "1.4.2-1", "r-cran-readxl_1.4.2-1_amd64.deb",
        "eb705525f906c968022162e8e58993a8b444ae900ff0487389769721bdcb4e67",
        "Excel workbooks, .xls and .xlsx: data sets, a picture, formats, dates",
        ("usr/lib/R/site-library/readxl/extdata/*",),
    ),
    Source(
        "texlive-humanities", "deb", "texlive-humanities-doc", "2022.20230122-4",
        "texlive-humanities-doc_2022.20230122-4_all.deb",
        "b9ff3e33bfad812999000ae009d701d867701afad144433c36a78322f3d88e33",
        "pdfTeX manuals of critical editions: Type 3 fonts whose glyphs are named /AA, /AB...",
        ("usr/share/doc/texlive-doc/latex/ledmac/*.pdf",
         "usr/share/doc/texlive-doc/latex/reledmac/*.pdf"),
    ),
    Source(
        "texlive-recommended", "deb", "texlive-latex-recommended-doc", "2022.20230122-3",
        "texlive-latex-recommended-doc_2022.20230122-3_all.deb",
        "8bea1f81bf50354fa4f3046c2dbb82efba9b8520aca0b2ab12eed18554a66c11",
        "a pdfTeX manual whose form fields show and hide layers (SetOCGState) on mouse-over",
        ("usr/share/doc/texlive-doc/latex/microtype/microtype.pdf",),
    ),
    Source(
        "sound-icons", "deb", "sound-icons", "0.1-8", "sound-icons_0.1-8_all.deb",
        "cbb7defa9cab0c86c9151e72c6c8a99a0ed21d244bc4c7cffdde7a0e4d9fa5b3",
        "short recorded sounds",
        ("usr/share/sounds/sound-icons/*",),
    ),
)  # fmt: skip


def _run(command: list[str], cwd: Path, what: str) -> None:
    try:
        done = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=900, check=False
        )
    except (subprocess.TimeoutExpired, FileNotFoundError) as exc:
        raise CorpusUnavailable(f"cannot download {what}: {exc}") from exc
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise CorpusUnavailable(f"cannot download {what}: {last}")


def _pip(source: Source, cache: Path) -> None:
    # --no-binary names the package only: its build dependencies still come as wheels (pip
    # prepares an sdist's metadata; building setuptools from source took minutes).
    _run(
        [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
            "--no-binary", source.package, f"{source.package}=={source.version}",
            "-d", str(cache),
        ],
        cache, f"{source.package} {source.version} from PyPI",
    )  # fmt: skip


def _apt(source: Source, cache: Path) -> None:
    _run(
        ["apt-get", "download", f"{source.package}={source.version}"],
        cache, f"{source.package} {source.version} from Debian",
    )  # fmt: skip


_DOWNLOAD: dict[Kind, Callable[[Source, Path], None]] = {"sdist": _pip, "deb": _apt}


def _archive(source: Source, cache: Path) -> Path:
    """The pinned archive in ``cache``, downloaded unless there, checked against its hash."""
    path = cache / source.archive
    if not path.is_file():
        _DOWNLOAD[source.kind](source, cache)
        if not path.is_file():
            # apt-get names a file with an epoch "pkg_1%3a2.0"; pip normalises names
            raise CorpusUnavailable(f"{source.name}: the download is not named {source.archive}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != source.sha256:
        path.unlink()  # fetched again next time; a changed pinned archive is an error
        raise ValueError(f"{source.archive}: SHA-256 {digest}, pinned {source.sha256}")
    return path


def _members(archive: Path) -> Iterator[tuple[str, Callable[[], bytes]]]:
    """(path, reader) for each regular file; a .deb's files come from ``dpkg-deb``."""
    if archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    yield info.filename, lambda info=info: zf.read(info)  # type: ignore[misc]
        return
    with _open_tar(archive) as tf:
        for member in tf.getmembers():
            if member.isfile():
                yield member.name, lambda member=member: _read(tf, member)  # type: ignore[misc]


def _open_tar(archive: Path) -> tarfile.TarFile:
    """An sdist's tar, or the file tree of a .deb (read through ``dpkg-deb``)."""
    if archive.suffix != ".deb":
        return tarfile.open(archive)
    tree = subprocess.run(
        ["dpkg-deb", "--fsys-tarfile", str(archive)], capture_output=True, check=True
    ).stdout
    return tarfile.open(fileobj=io.BytesIO(tree))


def _read(tf: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = tf.extractfile(member)
    if handle is None:
        raise tarfile.TarError(f"cannot read {member.name}")
    return handle.read()


def _relative(source: Source, name: str) -> PurePosixPath | None:
    """The member path below the top folder, or None when it is not one to take."""
    parts = PurePosixPath(name).parts
    if source.kind == "deb":
        parts = parts[1:] if parts and parts[0] == "." else parts
    else:
        parts = parts[1:]  # "pkg-1.0/" of an sdist
    if not parts or ".." in parts or parts[0].startswith("/"):
        return None
    rel = PurePosixPath(*parts)
    if rel.suffix.lower() not in ALLOWED:
        return None
    text = rel.as_posix()
    if not any(fnmatchcase(text, glob) for glob in source.take):
        return None
    if any(fnmatchcase(text, glob) for glob in source.leave):
        return None
    return rel


def _extract(source: Source, archive: Path, target: Path) -> None:
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        staging = Path(tmp) / "files"
        staging.mkdir()
        for name, read in _members(archive):
            rel = _relative(source, name)
            if rel is None:
                continue
            out = staging.joinpath(*rel.parts)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(read())
        staging.rename(target)  # atomic: a half-extracted tree is never seen as done


def _files(source: Source, cache: Path) -> Path:
    """The folder of ``source``'s chosen files, extracted once."""
    # the folder is named after the selection too: editing take/leave extracts afresh
    selection = repr((source.take, sorted(source.leave.items()), sorted(ALLOWED))).encode()
    tag = hashlib.sha256(selection).hexdigest()[:8]
    target = cache / "realworld" / f"{source.name}-{source.version}-{tag}"
    if target.is_dir():
        return target
    with locked(cache):
        if not target.is_dir():  # another process may have extracted it meanwhile
            target.parent.mkdir(parents=True, exist_ok=True)
            archive = _archive(source, cache)
            try:
                _extract(source, archive, target)
            except (zipfile.BadZipFile, tarfile.TarError, subprocess.CalledProcessError):
                archive.unlink()  # a broken download: fetch it again next time
                raise
    return target


def realworld_corpus(sources: tuple[Source, ...] = SOURCES) -> list[CorpusFile]:
    """Every corpus file, in a stable order; identical files are kept once (the first).

    Raises `CorpusUnavailable` when a registry cannot be reached."""
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    corpus: list[CorpusFile] = []
    for source in sources:
        root = _files(source, cache)
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            file_id = f"{source.name}/{path.relative_to(root).as_posix()}"
            corpus.append(CorpusFile(file_id, path, source.name))
    return corpus
