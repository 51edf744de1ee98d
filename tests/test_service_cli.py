"""`attachguard serve` refuses in one line: a busy port, a data folder another service holds."""

from __future__ import annotations

import fcntl
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from attachguard.service.cli import serve


def test_busy_port_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        args = ["--port", str(port), "--data", str(tmp_path / "d"), "--clamd", "/nowhere.sock"]
        result = CliRunner().invoke(serve, args)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"Error: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


def test_second_service_on_the_data_folder_is_one_line(tmp_path: Path) -> None:
    data = tmp_path / "d"
    data.mkdir()
    with (data / ".lock").open("w") as held:  # what the first service holds while it runs
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = CliRunner().invoke(serve, ["--port", "0", "--data", str(data)])
    assert result.exit_code == 2
    assert result.output.strip() == f"Error: another attachguard service is using {data}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lease-seconds", "1"], "Invalid value for '--lease-seconds': 1.0 is not in the range"),
        (["--sweep-seconds", "0"], "Invalid value for '--sweep-seconds': 0.0 is not in the range"),
        (["--grace-seconds", "-1"], "Invalid value for '--grace-seconds': -1.0 is not in the"),
        (
            ["--lease-seconds", "5", "--sweep-seconds", "6"],
            "Error: --sweep-seconds (6) must not be longer than --lease-seconds (5)",
        ),
    ],
)
def test_lease_and_sweep_are_checked(tmp_path: Path, args: list[str], message: str) -> None:
    """Refused before anything starts (no clamd, no database), naming the option."""
    base = ["--port", "0", "--data", str(tmp_path / "d"), "--clamd", "/nowhere.sock"]
    result = CliRunner().invoke(serve, [*base, *args])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "d").exists()
