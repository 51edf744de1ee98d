"""The file inside an OLE package: what Windows' Object Packager keeps in an embedded object's
``\\x01Ole10Native`` stream (or an RTF object's native data) when a file is inserted into an
Office document as an icon (Insert > Object > Create from File, for a file no other program
embeds: a picture, a sound, a text, a PDF without Acrobat).

The layout is not in [MS-OLEDS] (the Packager's native data is the Packager's own); it is read
as the Packager writes it, which every sample made by Office and WPS agrees with:

- in a stream, a 32-bit size of what follows (an RTF object gives its native data's size in
  the object header instead);
- a 16-bit format, 2;
- the label shown under the icon and the file's original path, both ANSI and NUL-ended;
- a 32-bit kind, 0x00030000 for an embedded file (0x00010000 is a link to a file elsewhere);
- the length of the temporary path, that path (NUL-ended: where the Packager writes the file
  before Windows opens it by its extension), and the file's size and bytes;
- since Windows Vista, the temporary path, the label and the original path again in UTF-16,
  each after its length in characters.

Read here rather than with oletools' ``OleNativeStream``, which stops after the file's bytes
(the UTF-16 names, the ones a Unicode Packager uses, go unread) and takes anything it can
decode for a package. This reader is strict: a package read any other way (a link, a command,
another format, a length that disagrees, bytes left over but the two NULs Windows XP's
Packager ends with, a name that is not text) is no packaged file, and its object stays an
OLE_OBJECT."""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

__all__ = ["PackagedFile", "packaged_file"]

_FORMAT = 2
_EMBEDDED_FILE = 0x00030000
_MOST_NAME = 4096  # bytes of one ANSI name; Windows paths are far shorter
_XP_TAIL = 2  # NULs Windows XP's Packager writes after the file (hunt 98: POI's test files)


@dataclass(frozen=True)
class PackagedFile:
    """The packaged file: the labels shown under its icon, the paths it is given (original,
    then temporary; ANSI, then UTF-16 when present), and its bytes."""

    labels: tuple[str, ...]
    paths: tuple[str, ...]
    data: bytes

    @property
    def temporary_name(self) -> str:
        """The name Windows opens the file under: the last part of its temporary path (the
        UTF-16 one when the package has it)."""
        return _last_part(self.paths[-1])


def packaged_file(native: bytes, sized: bool = True) -> PackagedFile | None:
    """The embedded file of a package's native data (``sized``: it starts with its own size, as
    in a ``\\x01Ole10Native`` stream), None when the data is anything else or is not read
    exactly one way."""
    try:
        return _read(native, sized)
    except (struct.error, ValueError, UnicodeDecodeError):
        return None


def _read(native: bytes, sized: bool) -> PackagedFile | None:
    reader = _Reader(native)
    if sized and reader.u32() != len(native) - 4:
        return None
    if reader.u16() != _FORMAT:
        return None
    label, original = reader.ansi(), reader.ansi()
    if reader.u32() != _EMBEDDED_FILE:
        return None
    size = reader.u32()
    temporary = reader.ansi()
    if size != len(temporary.encode("latin-1")) + 1:
        return None
    data = reader.take(reader.u32())
    labels, paths = [label], [original, temporary]
    if len(native) - reader.pos <= _XP_TAIL and not native[reader.pos :].strip(b"\0"):
        reader.pos = len(native)  # Windows XP's Packager ends its data with two NULs
    if not reader.done():  # the UTF-16 temporary path, label and original path
        temporary, label, original = reader.utf16(), reader.utf16(), reader.utf16()
        labels.append(label)
        paths += [original, temporary]
        # beside them, the ANSI names hold a "?" for each character the code page lacks
        ansi = [path.replace("?", "_") for path in paths[:2]]
        if not all(map(_a_name, ansi)):
            return None
    elif not all(map(_a_name, paths)):
        return None
    if not reader.done() or not all(map(_a_name, paths[2:])) or any(map(_control, labels)):
        return None  # a label may be blank
    return PackagedFile(tuple(labels), tuple(paths), data)


def _a_name(name: str) -> bool:
    """A path Windows could write a file under: not empty, no control character, and none of
    the characters Windows refuses in a file name (``:`` would name a stream of another file)
    in its last part."""
    return bool(name) and not _control(name) and not re.search(r'[<>:"|?*]', _last_part(name))


def _control(name: str) -> bool:
    return re.search(r"[\x00-\x1f]", name) is not None


def _last_part(path: str) -> str:
    return re.split(r"[\\/]", path)[-1]


class _Reader:
    """Little-endian fields read in order; ValueError past the end."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, size: int) -> bytes:
        if size < 0 or self.pos + size > len(self.data):
            raise ValueError("past the end of the package")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def u16(self) -> int:
        return int(struct.unpack("<H", self.take(2))[0])

    def u32(self) -> int:
        return int(struct.unpack("<I", self.take(4))[0])

    def ansi(self) -> str:
        """A NUL-ended ANSI string, as Latin-1 (one character a byte: the code page is not
        known, and only the extension, in ASCII, is judged)."""
        end = self.data.find(b"\0", self.pos, self.pos + _MOST_NAME)
        if end < 0:
            raise ValueError("a name without its end")
        text = self.take(end - self.pos).decode("latin-1")
        self.pos += 1
        return text

    def utf16(self) -> str:
        """A UTF-16 string after its length in characters, without a terminator."""
        count = self.u32()
        if count > _MOST_NAME:
            raise ValueError("a name longer than a path")
        return self.take(2 * count).decode("utf-16-le")  # strict: a lone surrogate is damage

    def done(self) -> bool:
        return self.pos == len(self.data)
