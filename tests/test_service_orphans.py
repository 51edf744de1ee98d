"""Nothing left behind after crashes: a process SIGKILLed at each step of storing an upload, then
recovery and the orphan sweep; objects no row accounts for, on the folder store and on S3."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from attachguard.codes import MALWARE
from attachguard.demo import EICAR
from attachguard.pipeline import Scanner
from attachguard.service.db import APPROVED, IN_PROGRESS, REJECTED, Database
from attachguard.service.lifecycle import Lifecycle, object_keys
from attachguard.service.orphans import Janitor
from attachguard.storage import ObjectStore
from attachguard.storage.local import LocalStore
from attachguard.storage.s3 import S3Store
from support.service import BOUND, make_client

# The child stores one upload and SIGKILLs itself at ``STEP``: before the row, inside the
# store's write (bytes in a temporary, not yet synced), before the rename, or after it all.
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from attachguard.service.db import Database
    from attachguard.service.lifecycle import Lifecycle
    from attachguard.storage.local import LocalStore

    root, step, name = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    data = Path(sys.argv[4]).read_bytes()

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    db = Database(f"sqlite:///{root / 'meta.db'}")
    store = LocalStore(root / "objects")
    if step == "insert":
        db.insert = die
    elif step == "fsync":
        os.fsync = die
    elif step == "replace":
        os.replace = die
    Lifecycle(store, db, scanner=None).accept(data, name, "chat", "customer")
    die()
    """
)
STEPS = ["insert", "fsync", "replace", "stored"]
FILES = {"notes.txt": (b"Thanks, the parcel arrived.\n", APPROVED), "eicar.txt": (EICAR, REJECTED)}


def _killed_upload(root: Path, step: str, name: str, data: bytes) -> None:
    (root / "upload").write_bytes(data)
    argv = [sys.executable, "-c", CHILD, str(root), step, name, str(root / "upload")]
    child = subprocess.run(argv, capture_output=True, timeout=BOUND, check=False)
    assert child.returncode == -9, child.stderr.decode()[-2000:]


def _recover(root: Path, scanner: Scanner) -> tuple[Database, LocalStore]:
    """What the next start does: release leases, settle and scan what is pending, then sweep
    orphans (grace 0: the test does not wait for the default ten minutes)."""
    db, store = Database(f"sqlite:///{root / 'meta.db'}"), LocalStore(root / "objects")
    db.release_all()
    life = Lifecycle(store, db, scanner)
    for id in life.recover():
        life.process(id)
    Janitor(store, db, grace_seconds=0.0).sweep()
    return db, store


@pytest.mark.parametrize("name", list(FILES))
@pytest.mark.parametrize("step", STEPS)
def test_killed_while_storing_leaves_nothing(
    tmp_path: Path, scanner: Scanner, step: str, name: str
) -> None:
    data, verdict = FILES[name]
    _killed_upload(tmp_path, step, name, data)
    leftovers = [p.name for p in (tmp_path / "objects").rglob(".tmp-*")]
    assert bool(leftovers) == (step in {"fsync", "replace"})  # the case the sweep is for
    db, store = _recover(tmp_path, scanner)
    records = db.chat("chat")
    assert len(records) == (0 if step == "insert" else 1)
    for record in records:
        assert record.status != IN_PROGRESS and record.settled
        # killed before the bytes were in place: lost from staging, rejected (fail closed)
        assert record.status == (verdict if step == "stored" else REJECTED)
    approved = [r.final_key for r in records if r.status == APPROVED]
    assert sorted(store.keys()) == approved
    assert not list((tmp_path / "objects").rglob(".tmp-*"))
    db.close()


def _id(digit: str) -> str:
    return f"{digit * 8}-0000-4000-8000-{digit * 12}"


def _orphans(store: ObjectStore, db: Database, when: datetime) -> dict[str, str]:
    """Objects the sweep must remove (by why) and must keep, planted in ``store``."""
    staging, final = object_keys("attachguard", _id("0"), when, ".pdf")
    keys = {"no row (staging)": staging, "no row (final)": final}
    fresh = object_keys("attachguard", _id("1"), datetime.now(UTC), ".pdf")
    keys["keep: younger than the grace period"] = fresh[0]
    keys["keep: not a key the service writes"] = "final/notes/readme.txt"
    life = Lifecycle(store, db, scanner=None)  # type: ignore[arg-type]
    rejected = life.accept(EICAR, "eicar.txt", "chat", "customer")
    life._reject(rejected, MALWARE, "test")
    keys["rejected row"] = rejected.final_key
    for key in keys.values():
        store.put(key, b"%PDF-1.4 left behind")
    return keys


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_sweep_removes_objects_no_row_accounts_for(
    request: pytest.FixtureRequest, tmp_path: Path, kind: str
) -> None:
    store: ObjectStore
    if kind == "local":
        store = LocalStore(tmp_path / "objects")
    else:
        _client, bucket = request.getfixturevalue("s3_bucket")
        store = S3Store(bucket, prefix="tenant-a")
    db = Database(f"sqlite:///{tmp_path / 'meta.db'}")
    keys = _orphans(store, db, datetime.now(UTC) - timedelta(hours=2))
    counted: dict[str, int] = {}
    janitor = Janitor(store, db, grace_seconds=3600, count=lambda k, n: counted.update({k: n}))
    assert janitor.sweep() == 3
    kept = {why for why, key in keys.items() if store.exists(key)}
    assert kept == {w for w in keys if w.startswith("keep")}
    assert counted["staging"] == 1 and counted["final"] == 2
    db.close()


def test_service_sweeps_at_start(tmp_path: Path, scanner: Scanner) -> None:
    data = tmp_path / "data"
    objects = LocalStore(data / "objects")
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    staging, _ = object_keys("attachguard", _id("2"), hour_ago, ".txt")
    objects.put(staging, b"no row")
    temporary = objects.root / "staging" / ".tmp-killed"
    temporary.write_bytes(b"half")
    os.utime(temporary, (time.time() - 3600, time.time() - 3600))
    with make_client(data, scanner, orphan_grace_seconds=60) as client:
        deadline = time.monotonic() + BOUND
        while objects.exists(staging) or temporary.exists():
            assert time.monotonic() < deadline, "the start-up sweep did not run"
            time.sleep(0.05)
        text: Any = client.get("/metrics").text
    assert 'attachguard_orphans_removed_total{kind="staging"} 1' in text
    assert 'attachguard_orphans_removed_total{kind="temporary"} 1' in text
