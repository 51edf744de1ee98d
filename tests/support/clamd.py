"""clamd fixtures: a private clamd on the generated test signatures, shared by the session.

conftest.py loads these as a plugin (``pytest_plugins``). Tests that need clamd fail when
it is not installed (the test set-up installs it); they never touch the system clamd or
/var/lib/clamav.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from attachguard.clamav.client import ClamdClient
from attachguard.clamav.daemon import PrivateClamd
from attachguard.clamav.signatures import build_test_database

__all__ = ["clamd_client", "clamd_daemon", "requires_clamd"]

_HAVE_CLAMD = bool(shutil.which("clamd") or shutil.which("clamd", path="/usr/sbin:/usr/local/sbin"))
requires_clamd = pytest.mark.skipif(
    not _HAVE_CLAMD, reason="clamd is not installed (apt-get install clamav-daemon)"
)


@pytest.fixture(scope="session")
def clamd_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateClamd]:
    """A started private clamd with the test signature set (EICAR, clam.exe); stopped at the
    end of the session."""
    if not _HAVE_CLAMD:
        # scripts/setup.sh --test installs clamd: a missing one is a broken set-up, not a skip
        pytest.fail("clamd is not installed (apt-get install clamav-daemon)")
    workdir = tmp_path_factory.mktemp("clamd")
    with PrivateClamd(workdir, database=build_test_database(workdir / "testdb")) as daemon:
        yield daemon


@pytest.fixture(scope="session")
def clamd_client(clamd_daemon: PrivateClamd) -> ClamdClient:
    """A client for `clamd_daemon`."""
    return ClamdClient(clamd_daemon.address, timeout=30.0)
