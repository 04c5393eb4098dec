"""Outside WhatsApp's 24-hour window the composer sends an approved template, not free text."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from playwright.sync_api import Page, expect

from clientcontact.channels.base import ChannelKind
from clientcontact.db.base import utcnow
from tests.browser.conftest import open_row, run_worker_off_thread, screenshot
from tests.builders import customer_writes
from tests.harness import Api

SID = "HX" + "0123456789abcdef" * 2


def test_a_closed_window_sends_a_template(log_in: Callable[..., Page], api: Api) -> None:
    thread = customer_writes(api, api.alice, channel=ChannelKind.WHATSAPP, name="Omar Haddad",
                             address="+14155550177", text="Is my order ready?",
                             at=utcnow() - timedelta(days=2))
    page = log_in(api.alice)
    open_row(page, "Omar Haddad")
    expect(page).to_have_url(re.compile(f"/conversations/{thread.conversation_id}$"))
    expect(page.locator("#wa-window")).to_contain_text("WhatsApp window closed")
    composer = page.locator("#composer")
    expect(composer.get_by_label("Content SID")).to_be_visible()
    expect(page.get_by_label("Write your message")).to_be_hidden()

    # The server's own check, shown beside the field.
    composer.get_by_label("Content SID").fill("HX123")
    composer.get_by_role("button", name="Send").click()
    expect(composer.locator(".composer-error")).to_contain_text("Content SID must be HX")

    composer.get_by_label("Content SID").fill(SID)
    rows = composer.locator(".template-variable")
    expect(rows).to_have_count(1)
    rows.nth(0).get_by_label("Value").fill("Omar")
    composer.get_by_role("button", name="Add variable").click()
    composer.get_by_role("button", name="Add variable").click()
    expect(rows).to_have_count(3)
    expect(rows.nth(1).get_by_label("Variable")).to_have_value("2")
    rows.nth(1).get_by_label("Value").fill("Friday")
    rows.nth(2).get_by_role("button", name="Remove").click()
    expect(rows).to_have_count(2)
    screenshot(page, "whatsapp-template")
    composer.get_by_role("button", name="Send").click()

    sent = page.locator(".bubble.outgoing", has=page.locator(".template-label"))
    expect(sent).to_have_count(1)
    expect(sent.locator(".template-label")).to_contain_text(f"Template {SID}")
    expect(sent.locator(".template-values")).to_contain_text("Friday")
    expect(sent.locator(".delivery")).to_contain_text("Queued")
    # The picker now offers the template this account has used.
    expect(page.locator(f'#used-templates option[value="{SID}"]')).to_have_count(1)

    run_worker_off_thread(api)
    outbox = api.alice.http.get("/api/v1/dev/outbox").json()
    sent_out = [m for m in outbox if m.get("to") == "+14155550177"]
    assert len(sent_out) == 1
    assert sent_out[0]["template"]["content_sid"] == SID
    assert sent_out[0]["template"]["variables"] == {"1": "Omar", "2": "Friday"}
    expect(sent.locator(".delivery")).to_contain_text(re.compile("Sent|Delivered"))


def test_a_note_is_still_free_text_when_the_window_is_closed(log_in: Callable[..., Page],
                                                           api: Api) -> None:
    customer_writes(api, api.alice, channel=ChannelKind.WHATSAPP, name="Omar Haddad",
                    address="+14155550177", text="Is my order ready?",
                    at=utcnow() - timedelta(days=2))
    page = log_in(api.alice)
    open_row(page, "Omar Haddad")
    page.get_by_label("Internal note").check()
    expect(page.locator("#composer").get_by_label("Content SID")).to_be_hidden()
    page.get_by_label("Write your message").fill("Template approval is pending.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator(".note", has_text="Template approval is pending.")).to_be_visible()
