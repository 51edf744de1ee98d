"""The chat test page in headless Chromium (Debian's chromium driven by Playwright; no browser
download): the customer sends a receipt and an EICAR file; the agent sees APPROVED (with a
download) and REJECTED (with the reason in words). Then the dashboard shows both. The customer
reads plain sentences only; the agent also reads where in the file the problem is. A verdict
that reaches the page before the upload's own answer stays on the page.

Every wait is on something the page shows (Playwright waits for the element or attribute), with
a generous bound: a verdict takes well under a second on a quiet machine and a few seconds while
a benchmark shares its two cores; the bound is only there so that a broken page fails at all.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from attachguard.demo import EICAR, demo_samples
from attachguard.pipeline import Scanner
from attachguard.samples import docx
from attachguard.service.app import create_app
from attachguard.service.settings import Settings
from support.service import BOUND, live_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page, Route

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
BOUND_MS = BOUND * 1000  # Playwright counts milliseconds
DECIDED = "li.attachment:not([data-status=IN_PROGRESS])"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


def open_chat(browser: Browser, base: str, errors: list[str]) -> tuple[Page, Locator, Locator]:
    """The chat page, and its customer and agent panes; script errors go to ``errors``."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(base + "/")
    return (
        page,
        page.locator('.pane[data-role="customer"]'),
        page.locator('.pane[data-role="agent"]'),
    )


def verdict(pane: Locator, name: str) -> Locator:
    """``name``'s attachment in ``pane`` once it is decided (waits for it)."""
    item = pane.locator(DECIDED, has_text=name)
    item.wait_for(timeout=BOUND_MS)
    return item


def expect_status(item: Locator, status: str) -> None:
    """``item`` shows ``status``; on failure the message carries what the page says instead."""
    shown = item.get_attribute("data-status")
    assert shown == status, f"{status} expected, the page shows {shown}: {item.inner_text()}"


def test_chat_page_scenario(browser: Browser, tmp_path: Path, scanner: Scanner) -> None:
    from playwright.sync_api import expect

    files = tmp_path / "files"
    files.mkdir()
    (files / "receipt.pdf").write_bytes(demo_samples()["receipt.pdf"])
    (files / "eicar.txt").write_bytes(EICAR)
    app = create_app(Settings(data_dir=tmp_path / "data", log_file_names=True), scanner=scanner)
    errors: list[str] = []
    with live_server(app) as base:
        page, customer, agent = open_chat(browser, base, errors)
        customer.locator("input[name=text]").fill("Hi, here is my proof of purchase.")
        customer.locator("button[type=submit]").click()
        customer.locator("input[type=file]").set_input_files(str(files / "receipt.pdf"))
        approved = verdict(agent, "receipt.pdf")
        expect_status(approved, "APPROVED")
        # the other party can open it (the link renders once the content has been fetched)
        expect(approved.locator("a.download")).to_have_count(1, timeout=BOUND_MS)
        customer.locator("input[type=file]").set_input_files(str(files / "eicar.txt"))
        rejected = verdict(agent, "eicar.txt")
        expect_status(rejected, "REJECTED")
        assert "Rejected" in rejected.inner_text()
        assert "eicar" in rejected.locator(".details").inner_text().lower()
        assert "virus" in rejected.locator(".reasons").inner_text().lower()
        assert rejected.locator("a.download").count() == 0
        assert "proof of purchase" in agent.inner_text()
        page.screenshot(path=str(SCREENSHOT))

        page.locator("#replay").click()  # the seed scenario, from the demo files
        agent.locator("li.attachment").nth(3).wait_for(timeout=BOUND_MS)
        # (the page's CSP forbids eval, so waits use locators, not wait_for_function)
        waiting = agent.locator("li.attachment[data-status=IN_PROGRESS]")
        expect(waiting).to_have_count(0, timeout=BOUND_MS)
        expect(agent.locator("li.attachment[data-status=APPROVED]")).to_have_count(2)
        expect(agent.locator("li.attachment[data-status=REJECTED]")).to_have_count(2)

        page.goto(base + "/dashboard")
        expect(page.locator("#n-rejected")).to_have_text("2", timeout=BOUND_MS)
        expect(page.locator("#n-approved")).to_have_text("2")
        expect(page.locator("#recent tr")).to_have_count(4)
        assert "receipt.pdf" in page.locator("#recent").inner_text()
        page.screenshot(path="/tmp/attachguard-dashboard.png", full_page=True)
    assert errors == []


# What a customer must never read: places inside the file (part paths, offsets), where a
# finding sits ("inside ..."), signature names.
TECHNICAL = re.compile(r"word/|_rels|\.rels|\binside\b|offset|eicar|signature|0x[0-9a-f]", re.I)


def test_customer_reads_plain_reasons_and_the_agent_both(
    browser: Browser, tmp_path: Path, scanner: Scanner
) -> None:
    files = tmp_path / "files"
    files.mkdir()
    demo = demo_samples()
    sent = {
        "claim.docx": docx(["Photo of the damage"], image=EICAR),  # EICAR in word/media
        "contract.docx": demo["contract.docx"],  # a remote template, in word/_rels
        "holiday.jpg": demo["holiday.jpg"],  # a zip after the JPEG, at an offset
    }
    for name, data in sent.items():
        (files / name).write_bytes(data)
    app = create_app(Settings(data_dir=tmp_path / "data"), scanner=scanner)
    errors: list[str] = []
    with live_server(app) as base:
        page, customer, agent = open_chat(browser, base, errors)
        customer.locator("input[type=file]").set_input_files([str(files / n) for n in sent])
        for name in sent:
            for pane in (customer, agent):
                expect_status(verdict(pane, name), "REJECTED")
        told = customer.inner_text()
        assert TECHNICAL.search(told) is None, told
        assert "known virus" in told and "loads content from the internet" in told
        assert "hidden data" in told
        assert customer.locator(".details").count() == 0
        claim = verdict(agent, "claim.docx")
        assert "known virus" in claim.locator(".reasons").inner_text()
        assert "inside word/media/" in claim.locator(".details").inner_text()
        assert "offset" in verdict(agent, "holiday.jpg").locator(".details").inner_text()
        page.screenshot(path="/tmp/attachguard-chat-reasons.png")
    assert errors == []


class HeldAnswer:
    """The app, with the first upload's answer held back until ``release`` is set: the page
    then gets the verdict from the event stream before the upload's own IN_PROGRESS answer, as
    it does by itself now and then when a fast scan finishes on a busy machine."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.release = threading.Event()
        self.held = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        upload = scope["type"] == "http" and scope["path"] == "/v1/attachments"
        if self.held or not upload:
            await self.app(scope, receive, send)
            return
        self.held = True

        async def held(message: Message) -> None:
            if message["type"] == "http.response.start":
                await anyio.to_thread.run_sync(self.release.wait, BOUND)
            await send(message)

        await self.app(scope, receive, held)


def test_a_late_upload_answer_keeps_the_verdict(
    browser: Browser, tmp_path: Path, scanner: Scanner
) -> None:
    from playwright.sync_api import expect

    files = tmp_path / "files"
    files.mkdir()
    (files / "receipt.pdf").write_bytes(demo_samples()["receipt.pdf"])
    (files / "notes.txt").write_bytes(b"The kettle's lid is cracked.\n")
    app = HeldAnswer(create_app(Settings(data_dir=tmp_path / "data"), scanner=scanner))
    errors: list[str] = []
    with live_server(app) as base:
        page, customer, agent = open_chat(browser, base, errors)
        # the page sends one file after the other: notes.txt goes once receipt.pdf's answer
        # has been read, so notes.txt on the page means that answer has been applied
        customer.locator("input[type=file]").set_input_files(
            [str(files / "receipt.pdf"), str(files / "notes.txt")]
        )
        for pane in (customer, agent):
            expect_status(verdict(pane, "receipt.pdf"), "APPROVED")  # from the event stream
        app.release.set()
        for pane in (customer, agent):
            expect_status(verdict(pane, "notes.txt"), "APPROVED")
            expect(pane.locator("li.attachment")).to_have_count(2)
            expect_status(pane.locator("li.attachment", has_text="receipt.pdf"), "APPROVED")
        page.close()
    assert errors == []


@pytest.mark.parametrize(
    ("path", "title"),
    [("/docs", ".swagger-ui .info .title"), ("/redoc", "h1")],
)
def test_api_docs_render_offline(
    browser: Browser, tmp_path: Path, scanner: Scanner, path: str, title: str
) -> None:
    """The network is off but for the service: Swagger UI and ReDoc still render the API."""
    app = create_app(Settings(data_dir=tmp_path / "data"), scanner=scanner)
    outside: list[str] = []
    with live_server(app) as base:
        context = browser.new_context()

        def offline(route: Route) -> None:
            if route.request.url.startswith(base):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort("internetdisconnected")

        context.route("**/*", offline)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(base + path)
        heading = page.locator(title, has_text="attachguard").first
        heading.wait_for(timeout=BOUND_MS)
        page.wait_for_load_state("networkidle")  # late requests (logos, fonts) too
        context.close()
    assert not errors, errors
    assert not outside, outside


def test_chat_id_in_the_url(browser: Browser, tmp_path: Path, scanner: Scanner) -> None:
    """A reload keeps the chat (its id is in the fragment); a new tab on "/" starts another."""
    app = create_app(Settings(data_dir=tmp_path / "data"), scanner=scanner)
    errors: list[str] = []
    with live_server(app) as base:
        page, _customer, _agent = open_chat(browser, base, errors)
        label = page.locator("#chat-label")
        chat = label.inner_text()
        assert chat.startswith("chat-") and page.url.endswith("#" + chat)
        page.reload()
        assert label.inner_text() == chat
        other, _c, _a = open_chat(browser, base, errors)
        assert other.locator("#chat-label").inner_text() not in {"", chat}
        joined = browser.new_page()
        joined.goto(f"{base}/#{chat}")
        assert joined.locator("#chat-label").inner_text() == chat
        for p in (page, other, joined):
            p.close()
    assert not errors, errors
