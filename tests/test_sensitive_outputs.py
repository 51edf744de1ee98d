"""Nothing prints a full card number: the CLI (table and JSON), the logs, and every answer of
the service about a file that holds one (its verdict, the dashboard's data, metrics, health).
Each output is searched for the number written plain, grouped and with dashes; the last four
digits and the issuer are what may show."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

import pytest
from click.testing import CliRunner

from attachguard import samples
from attachguard.clamav.daemon import PrivateClamd
from attachguard.cli import main
from attachguard.pipeline import Scanner
from support.service import make_client, wait_verdict

MASTERCARD = "5555555555554444"
AMEX = "378282246310005"


def shown(number: str) -> re.Pattern[str]:
    """The number in any spelling: its digits with any spaces, dashes or dots between them."""
    return re.compile(r"[ .-]?".join(number))


def never_shows(texts: Iterable[str]) -> None:
    for text in texts:
        for number in (MASTERCARD, AMEX):
            assert not shown(number).search(text), "a full card number was printed"


def files(root: Path) -> list[Path]:
    root.mkdir()
    statement = samples.pdf([["Statement", f"Card {MASTERCARD[:4]} {MASTERCARD[4:8]} "
                              f"{MASTERCARD[8:12]} {MASTERCARD[12:]}", "Total 12.99"]])  # fmt: skip
    written = {
        "chat.txt": f"my card: {'-'.join(MASTERCARD[i : i + 4] for i in range(0, 16, 4))}\n",
        "cards.csv": f"name,card\nJ. Doe,{AMEX}\n",
    }
    for name, text in written.items():
        (root / name).write_text(text)
    (root / "statement.pdf").write_bytes(statement)
    return sorted(root.iterdir())


def named(root: Path) -> Path:
    """A harmless note whose file name holds the card number."""
    path = root / f"card {MASTERCARD}.txt"
    path.write_text("Photo of the damaged parcel to follow.\n")
    return path


def test_the_cli_and_its_logs(
    tmp_path: Path, clamd_daemon: PrivateClamd, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    paths = [str(path) for path in files(tmp_path / "files")] + [str(named(tmp_path))]
    outputs = []
    for json_flag in ([], ["--json"]):
        result = CliRunner().invoke(
            main, ["scan", "--clamd", clamd_daemon.address, *json_flag, *paths]
        )
        assert result.exit_code == 1, result.output
        outputs += [result.stdout, result.stderr]
    joined = "\n".join(outputs)
    assert "SENSITIVE_CARD" in joined and "ending 4444" in joined and "ending 0005" in joined
    never_shows([*outputs, caplog.text])


def test_the_service(tmp_path: Path, scanner: Scanner, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    answers = []
    with make_client(tmp_path / "data", scanner, log_file_names=True) as client:
        for path in files(tmp_path / "files"):
            answer = client.post(
                "/v1/attachments",
                files={"file": (path.name, path.read_bytes())},
                data={"chat_id": "chat-1", "sender": "customer"},
            )
            assert answer.status_code == 202, answer.text
            verdict = wait_verdict(client, answer.json()["id"])
            assert verdict["status"] == "REJECTED", verdict
            assert any("payment card number" in reason for reason in verdict["reasons"])
            assert any("card number" in reason for reason in verdict["customer_reasons"])
            answers.append(str(verdict))
        path = named(tmp_path)
        answer = client.post("/v1/attachments", files={"file": (path.name, path.read_bytes())})
        assert answer.status_code == 202, answer.text
        answers += [answer.text, str(wait_verdict(client, answer.json()["id"]))]
        for page in ("/v1/stats", "/metrics", "/healthz", "/dashboard"):
            answers.append(client.get(page).text)
    assert any("ending 4444" in answer for answer in answers)
    never_shows([*answers, caplog.text])
