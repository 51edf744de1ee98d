"""A third-party engine, installed from tests/plugins/ the way a user would: its finding shows
in ``attachguard scan --json``, its options are validated by ``attachguard policy check`` and
its name is in ``/healthz``. It is installed into a folder of its own and only the subprocesses
see it, so the rest of the suite keeps the built-in engines alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from attachguard.clamav.client import ClamdClient
from support.service import spawn_service

PLUGIN = Path(__file__).parent / "plugins" / "attachguard-keyword"
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a process that has the keyword engine installed."""
    site = tmp_path_factory.mktemp("plugin-site")
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
        "--no-index", "--target", str(site), str(PLUGIN),
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def attachguard(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "attachguard.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def test_plugin_finding_in_scan_json(
    plugin_env: dict[str, str], clamd_client: ClamdClient, tmp_path: Path
) -> None:
    note = tmp_path / "note.txt"
    note.write_text("This memo is CONFIDENTIAL.\n")
    clean = tmp_path / "clean.txt"
    clean.write_text("Your parcel ships tomorrow.\n")
    done = attachguard(plugin_env, "scan", "--json", "--clamd", clamd_client.address, str(tmp_path))
    assert done.returncode == 1, done.stderr
    reports = {r["file"]: r for r in map(json.loads, done.stdout.splitlines())}
    assert reports["clean.txt"]["status"] == "APPROVED"
    assert reports["clean.txt"]["versions"]["keyword"] == "keyword 1.0"
    flagged = reports["note.txt"]
    assert flagged["status"] == "REJECTED"
    assert [f["code"] for f in flagged["findings"]] == ["KEYWORD"]
    assert flagged["customer_reasons"] == ["This file contains words that can't be shared in chat."]


def test_plugin_options_are_validated(plugin_env: dict[str, str], tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("allowed_extensions: [.txt]\nengines: {keyword: {words: [secret]}}\n")
    assert attachguard(plugin_env, "policy", "check", str(good)).returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("allowed_extensions: [.txt]\nengines: {keyword: {wordz: [secret]}}\n")
    done = attachguard(plugin_env, "policy", "check", str(bad))
    assert done.returncode == 2
    assert "engines.keyword.wordz: unknown key" in done.stdout + done.stderr
    shown = attachguard(plugin_env, "policy", "show").stdout
    assert "KEYWORD: reject" in shown and "keyword:" in shown


def test_without_the_plugin_its_options_are_an_unknown_engine(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("allowed_extensions: [.txt]\nengines: {keyword: {words: [secret]}}\n")
    done = attachguard(dict(os.environ), "policy", "check", str(policy))
    assert done.returncode == 2
    assert "unknown engine 'keyword'" in done.stdout + done.stderr


def test_plugin_in_healthz(
    plugin_env: dict[str, str], clamd_client: ClamdClient, tmp_path: Path
) -> None:
    with spawn_service(tmp_path / "data", clamd_client.address, plugin_env) as (_, url):
        health = httpx.get(f"{url}/healthz", timeout=10).json()
    assert health["engines"]["keyword"] == "keyword 1.0"
