"""The object stores: one contract, run against a local folder and a real S3 API (moto server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from attachguard.storage import BadKey, NotFound, ObjectStore, check_key
from attachguard.storage.local import LocalStore
from attachguard.storage.s3 import S3Store


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    if request.param == "local":
        yield LocalStore(tmp_path / "objects")
    else:
        _client, bucket = request.getfixturevalue("s3_bucket")
        yield S3Store(bucket, prefix="tenant-a")


def test_put_get_copy_delete(store: ObjectStore) -> None:
    key = "staging/connect/x/Attachments/chat/2026/03/14/abc_20260314T09:30_UTC.pdf"
    store.put(key, b"%PDF-1.4 hello")
    assert store.exists(key) and store.get(key) == b"%PDF-1.4 hello" and store.size(key) == 14
    store.copy(key, "final/abc.pdf")
    assert store.get("final/abc.pdf") == b"%PDF-1.4 hello"
    assert sorted(store.keys()) == sorted([key, "final/abc.pdf"])
    assert list(store.keys("final/")) == ["final/abc.pdf"]
    store.delete(key)
    store.delete(key)  # deleting twice is fine: clean-ups are repeated after a crash
    assert not store.exists(key)
    with pytest.raises(NotFound):
        store.get(key)
    with pytest.raises(NotFound):
        store.copy(key, "final/other.pdf")
    with pytest.raises(NotFound):
        store.size(key)


def test_put_replaces(store: ObjectStore) -> None:
    store.put("a/b.txt", b"one")
    store.put("a/b.txt", b"two")
    assert store.get("a/b.txt") == b"two"


@pytest.mark.parametrize(
    "key", ["", "../etc/passwd", "a/../../b", "/etc/passwd", "a//b", ".", "a/./b", "a/.hidden"]
)
def test_hostile_keys_refused(store: ObjectStore, key: str) -> None:
    with pytest.raises(BadKey):
        store.put(key, b"x")
    with pytest.raises(BadKey):
        store.get(key)


def test_check_key_accepts_connect_layout() -> None:
    key = "final/connect/alias/Attachments/chat/2023/07/13/f-1_20230713T23:41_UTC.txt"
    assert check_key(key) == key


def test_local_store_stays_in_its_folder(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "objects")
    (tmp_path / "secret").write_bytes(b"secret")
    (tmp_path / "objects" / "link").symlink_to(tmp_path / "secret")
    with pytest.raises(NotFound):
        store.get("link")
