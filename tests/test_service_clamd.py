"""The service's private clamd dies with it: SIGKILL the service and its clamd is gone within
seconds; a clamd a killed run left on the data folder is stopped by the next start."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from attachguard.clamav.daemon import PrivateClamd, stop_stale
from support.service import spawn_service

# services that start their own private clamd (a real engine: integration)
pytestmark = [
    pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc (Linux)"),
    pytest.mark.integration,
]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing


def _wait_gone(pid: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(pid)


def test_sigkilled_service_takes_its_clamd_along(tmp_path: Path) -> None:
    data = tmp_path / "d"
    env = {"ATTACHGUARD_CLAMD": ""}
    with spawn_service(data, None, env) as (process, _url):
        pid = int((data / "clamd" / "clamd.pid").read_text().strip())
        assert _alive(pid)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert _wait_gone(pid), "clamd outlived its service"


def test_stale_clamd_of_the_data_folder_is_stopped(tmp_path: Path) -> None:
    """A clamd started without the parent-death signal (an older release), orphaned."""
    daemon = PrivateClamd(tmp_path / "clamd")
    daemon.write_config()
    command = ["clamd", f"--config-file={daemon.config}"]
    stale = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pidfile = tmp_path / "clamd" / "clamd.pid"
    deadline = time.monotonic() + 60
    while not pidfile.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stop_stale(pidfile, tmp_path / "other.conf") is None  # not our config: left alone
    assert _alive(stale.pid)
    with daemon:  # start-up finds it by its pid file and stops it
        assert stale.wait(10) is not None
        assert daemon.running


def test_recycled_pid_is_left_alone(tmp_path: Path) -> None:
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        (tmp_path / "clamd.pid").write_text(f"{sleeper.pid}\n")
        assert stop_stale(tmp_path / "clamd.pid", tmp_path / "clamd.conf") is None
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()
