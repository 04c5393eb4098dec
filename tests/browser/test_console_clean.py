"""The browser console stays clean through a working day: no style or script refused by the
Content-Security-Policy, no missing file, no script error."""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from clientcontact.channels.base import ChannelKind
from tests.browser.conftest import LAPTOP, PHONE, assert_fits_width, run_worker_off_thread
from tests.builders import customer_writes
from tests.harness import PASSWORD, Api


def _watch(page: Page) -> list[str]:
    """Errors and warnings as the console shows them, with the page they came from."""
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(f"{page.url}: {message.text} {message.location.get('url', '')}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
    return problems


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_a_working_day_leaves_the_console_clean(viewport: dict[str, int], browser: object,
                                                api: Api) -> None:
    customer_writes(api, api.alice, channel=ChannelKind.SMS, name="Aisha Khan",
                    text="Is the store open on Sunday?")
    context = browser.new_context(viewport=viewport)  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        problems = _watch(page)
        page.goto(f"{api.server.base_url}/login")
        page.get_by_label("Email").fill(api.alice.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("body")).to_have_attribute("data-live", "connected")

        page.locator(".conversation-row", has_text="Aisha Khan").click()
        expect(page.locator(".conversation[data-ready]")).to_have_count(1)
        # An agent who dragged the text box taller: the browser gives it a style attribute,
        # which htmx must not copy onto the new composer after the reply.
        page.get_by_label("Write your message").evaluate("box => { box.style.height = '9rem'; }")
        page.get_by_label("Write your message").fill("Yes, 10:00 to 16:00.")
        page.get_by_role("button", name="Send").click()
        reply = page.locator(".bubble.outgoing", has_text="10:00 to 16:00")
        expect(reply.locator(".delivery")).to_contain_text("Queued")
        run_worker_off_thread(api)
        expect(reply.locator(".delivery")).to_contain_text("Sent")  # live, over the stream
        customer_writes(api, api.alice, subject="Invoice question", name="Maria Garcia")
        page.get_by_role("radio", name="Internal note").check()
        page.get_by_label("Write your message").fill("Checked the stock: all fine.")
        page.get_by_role("button", name="Add note").click()
        expect(page.locator(".message.note")).to_contain_text("Checked the stock")
        page.get_by_role("button", name="Resolve").click()
        expect(page.locator("#conversation-status")).to_have_text("resolved")

        page.goto(f"{api.server.base_url}/")
        expect(page.locator(".conversation-row", has_text="Maria Garcia")).to_be_visible()
        for tab in ("inboxes", "agents", "teams", "tokens", "canned"):
            page.goto(f"{api.server.base_url}/admin/{tab}")
            expect(page.locator("#admin-main h1")).to_be_visible()
        page.get_by_label("Short code").fill("hours")
        page.get_by_label("Text").fill("We open at 10.")
        page.get_by_role("button", name="Add canned response").click()
        expect(page.get_by_role("button", name="Save /hours")).to_be_visible()
        page.goto(f"{api.server.base_url}/account/password")
        assert_fits_width(page)
        page.goto(f"{api.server.base_url}/docs")
        page.wait_for_selector(".opblock")
        page.goto(f"{api.server.base_url}/api/v1/me")  # an API answer, which names no icon
        page.wait_for_timeout(500)  # the browser asks for /favicon.ico meanwhile
        assert problems == []
    finally:
        context.close()

