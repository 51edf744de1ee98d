"""A tiny signature set for tests and demos, for machines without the official ClamAV database.

It is NOT protection against real malware. It holds two signatures:

- ``Eicar-Test-Signature`` (``attachguard-test.ndb``): a *body* signature on the 68-byte EICAR
  string, so EICAR is found anywhere in a file and inside anything ClamAV unpacks (zip, 7z,
  mail, PDF streams, Office files...);
- ``ClamAV-Test-File`` (``attachguard-test.hdb``): the SHA-256 hash of ``clam.exe``, the payload
  of every sample in Debian's clamav-testfiles (ClamAV's own unit tests use the same hash).
  ClamAV hashes every file it extracts or unpacks, so the nested copies in ``clam.zip``,
  ``clam.7z``, ``clam.pdf``, ``clam-upx.exe``... are found too.

ClamAV appends ``.UNOFFICIAL`` to these names because the files are not signed by Cisco-Talos.
Both lines are derived here with the standard library, which is quicker than running sigtool;
``sigtool --sha256 clam.exe`` and ``sigtool --hex-dump`` print the same hash and hex.
"""

from __future__ import annotations

import os
from pathlib import Path

# Assembled from two halves so that this source file does not itself trip antivirus scanners.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

EICAR_SIGNATURE = "Eicar-Test-Signature"
CLAM_EXE_SIGNATURE = "ClamAV-Test-File"

# sha256 and size of /usr/share/clamav-testfiles/clam.exe (a harmless 544-byte PE file).
CLAM_EXE_SHA256 = "71e7b604d18aefd839e51a39c88df8383bb4c071dc31f87f00a2b5df580d4495"
CLAM_EXE_SIZE = 544

TESTFILES = Path("/usr/share/clamav-testfiles")


def _write_if_changed(path: Path, text: str) -> None:
    """Atomic and idempotent: an unchanged database is not touched, so a running clamd's
    SelfCheck sees no change and does not reload."""
    if path.is_file() and path.read_text("ascii") == text:
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, "ascii")
    os.replace(tmp, path)


def build_test_database(dest_dir: Path) -> Path:
    """Write the test signature set into ``dest_dir`` (created if needed) and return it.

    Safe to call again and from several processes; takes well under a millisecond.
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    # .ndb: Name:TargetType:Offset:HexSignature; target 0 = any file type, offset * = anywhere
    _write_if_changed(dest_dir / "attachguard-test.ndb", f"{EICAR_SIGNATURE}:0:*:{EICAR.hex()}\n")
    # .hdb: Hash:FileSize:Name (clamd picks SHA-256 from the 64-digit length)
    _write_if_changed(
        dest_dir / "attachguard-test.hdb",
        f"{CLAM_EXE_SHA256}:{CLAM_EXE_SIZE}:{CLAM_EXE_SIGNATURE}\n",
    )
    return dest_dir
