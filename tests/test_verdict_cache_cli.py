"""``attachguard scan --cache DIR`` with a real clamd: a repeated file is decided from the cache,
and a change of policy, of an engine's version or of the signatures misses it (the CLI run
in-process; the versions changed where the engines read them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from attachguard.clamav.client import ClamdClient
from attachguard.clamav.daemon import PrivateClamd
from attachguard.cli import main
from attachguard.engines.filetype import FileTypeEngine
from attachguard.policy import default_policy_text


def cached(*args: str) -> list[bool]:
    result = CliRunner().invoke(main, ["scan", "--json", *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line)["cached"] for line in result.stdout.splitlines()]


@pytest.fixture
def scan(tmp_path: Path, clamd_daemon: PrivateClamd) -> list[str]:
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "returns.txt").write_text("Our return policy: 30 days.\n" * 20)
    (tmp_path / "files" / "orders.csv").write_text("order,item\n1234,kettle\n")
    cache = tmp_path / "cache"
    args = ["--clamd", clamd_daemon.address, "--cache", str(cache), str(tmp_path / "files")]
    assert cached(*args) == [False, False]
    assert cached(*args) == [True, True]
    return args


def test_a_policy_change_misses(scan: list[str], tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(default_policy_text().replace("max_file_size:", "max_file_size: 19MB #"))
    assert cached("--policy", str(policy), *scan) == [False, False]
    assert cached("--policy", str(policy), *scan) == [True, True]
    assert cached(*scan) == [True, True]  # the first policy's verdicts are still there


def test_a_signature_update_misses(scan: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = ClamdClient.version

    def updated(self: ClamdClient) -> str:
        engine, _, _ = loaded(self).partition("/")
        return f"{engine}/27471/Wed Nov 25 09:30:00 2026"

    monkeypatch.setattr(ClamdClient, "version", updated)
    assert cached(*scan) == [False, False]
    assert cached(*scan) == [True, True]


def test_an_engine_update_misses(scan: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FileTypeEngine, "version", lambda self: "magika 9.9.9 (standard_v9)")
    assert cached(*scan) == [False, False]
