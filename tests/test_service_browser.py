"""The chat test page in headless Chromium (Debian's chromium driven by Playwright; no browser
download): the customer sends a receipt and an EICAR file; the agent sees APPROVED (with a
download) and REJECTED (with the reason in words). Then the dashboard shows both."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from attachguard.demo import EICAR, demo_samples
from attachguard.pipeline import Scanner
from attachguard.service.app import create_app
from attachguard.service.settings import Settings
from support.service import live_server

CHROMIUM = os.environ.get("ATTACHGUARD_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = Path("/tmp/attachguard-chat.png")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


def test_chat_page_scenario(browser: object, tmp_path: Path, scanner: Scanner) -> None:
    from playwright.sync_api import expect

    files = tmp_path / "files"
    files.mkdir()
    (files / "receipt.pdf").write_bytes(demo_samples()["receipt.pdf"])
    (files / "eicar.txt").write_bytes(EICAR)
    app = create_app(Settings(data_dir=tmp_path / "data", log_file_names=True), scanner=scanner)
    with live_server(app) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(base + "/")
        customer = page.locator('.pane[data-role="customer"]')
        agent = page.locator('.pane[data-role="agent"]')
        customer.locator("input[name=text]").fill("Hi, here is my proof of purchase.")
        customer.locator("button[type=submit]").click()
        customer.locator("input[type=file]").set_input_files(str(files / "receipt.pdf"))
        approved = agent.locator("li.attachment[data-status=APPROVED]")
        approved.wait_for(timeout=60_000)
        assert "receipt.pdf" in approved.inner_text()
        # the other party can open it (the link may render just after the status)
        expect(approved.locator("a.download")).to_have_count(1, timeout=30_000)
        customer.locator("input[type=file]").set_input_files(str(files / "eicar.txt"))
        rejected = agent.locator("li.attachment[data-status=REJECTED]")
        rejected.wait_for(timeout=60_000)
        text = rejected.inner_text()
        assert "Rejected" in text and "eicar.txt" in text
        assert (
            "antivirus" in text.lower()
            or "eicar" in rejected.locator(".reasons").inner_text().lower()
        )
        assert rejected.locator("a.download").count() == 0
        assert "proof of purchase" in agent.inner_text()
        page.screenshot(path=str(SCREENSHOT))

        page.locator("#replay").click()  # the seed scenario, from the demo files
        agent.locator("li.attachment").nth(3).wait_for(timeout=60_000)
        # (the page's CSP forbids eval, so waits use locators, not wait_for_function)
        waiting = agent.locator("li.attachment[data-status=IN_PROGRESS]")
        expect(waiting).to_have_count(0, timeout=60_000)
        expect(agent.locator("li.attachment[data-status=APPROVED]")).to_have_count(2)
        expect(agent.locator("li.attachment[data-status=REJECTED]")).to_have_count(2)

        page.goto(base + "/dashboard")
        expect(page.locator("#n-rejected")).to_have_text("2", timeout=30_000)
        expect(page.locator("#n-approved")).to_have_text("2")
        expect(page.locator("#recent tr")).to_have_count(4)
        assert "receipt.pdf" in page.locator("#recent").inner_text()
        page.screenshot(path="/tmp/attachguard-dashboard.png", full_page=True)
        assert errors == []
