"""Working from the keyboard, and running the account from the admin pages."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from clientcontact.channels.base import ChannelKind
from tests.browser.conftest import open_row, screenshot
from tests.builders import customer_writes
from tests.harness import Api


def test_j_k_enter_r_and_e_work_the_list(log_in: Callable[..., Page], api: Api) -> None:
    customer_writes(api, api.alice, subject="Older question", address="old@example.org",
                    name="Olga Older")
    customer_writes(api, api.alice, subject="Newer question", name="Nina Newer")
    page = log_in(api.alice)
    page.keyboard.press("j")
    expect(page.locator(".conversation-row a").first).to_be_focused()
    page.keyboard.press("j")
    expect(page.locator(".conversation-row a").nth(1)).to_be_focused()
    page.keyboard.press("k")
    page.keyboard.press("Enter")
    expect(page.locator("#conversation-title")).to_have_text("Nina Newer")
    expect(page.locator(".conversation[data-ready]")).to_have_count(1)
    page.keyboard.press("r")
    expect(page.get_by_label("Write your message")).to_be_focused()
    page.keyboard.type("We are on it.")
    page.keyboard.press("Escape")
    page.keyboard.press("e")
    expect(page.locator("#conversation-status")).to_have_text("resolved")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()


def test_an_email_conversation_reads_like_mail(log_in: Callable[..., Page], api: Api) -> None:
    customer_writes(api, api.alice, channel=ChannelKind.SMS, name="Aisha Khan",
                    text="Is the store on Market St open on Sunday?")
    customer_writes(api, api.alice, subject="Order #10482 arrived damaged", name="Maria Garcia",
                    text="Hi, my order arrived today but the lamp shade is cracked.")
    page = log_in(api.alice)
    open_row(page, "Maria Garcia")
    mail = page.locator(".message.email").first
    expect(mail.locator(".email-subject")).to_have_text("Order #10482 arrived damaged")
    expect(mail.locator(".email-meta")).to_contain_text("maria@example.org")
    page.get_by_label("Tags", exact=True).fill("orders, damaged")
    page.get_by_role("button", name="Save tags").click()
    expect(page.locator(".activity", has_text="tagged damaged, orders")).to_be_visible()
    expect(page.locator(".conversation-row", has_text="Maria Garcia")).to_contain_text("orders")
    screenshot(page, "inbox-laptop", publish=True)


def test_an_invited_agent_opens_the_link_and_chooses_a_password(
        log_in: Callable[..., Page], api: Api) -> None:
    page = log_in(api.alice)
    page.get_by_role("link", name="Admin").click()
    page.get_by_role("link", name="Agents").click()
    page.get_by_label("Name").fill("Dan Newhire")
    page.get_by_label("Email").fill("dan@acme.test")
    page.get_by_role("button", name="Invite").click()
    link = page.locator("#invitation-link").inner_text()
    cancel = page.get_by_role("button", name="Cancel the invitation of dan@acme.test")
    expect(cancel).to_be_visible()
    screenshot(page, "admin-agents", publish=True)
    context = page.context.browser.new_context()  # type: ignore[union-attr]
    other = context.new_page()
    other.goto(link.replace(api.settings.public_url, api.server.base_url))
    expect(other.get_by_text("Acme invites dan@acme.test")).to_be_visible()
    other.get_by_label("Your name").fill("Dan Newhire")
    other.get_by_label("Choose a password (at least 10 characters)").fill("dans-own-password")
    other.get_by_label("The password again").fill("dans-own-password")
    other.get_by_role("button", name="Create my login and join").click()
    expect(other.locator(".topbar .me")).to_have_text("Dan Newhire")
    expect(other.get_by_role("link", name="Admin")).to_have_count(0)
    context.close()


def test_an_api_token_is_shown_once_and_can_be_revoked(log_in: Callable[..., Page],
                                                       api: Api) -> None:
    page = log_in(api.alice)
    page.goto(f"{api.server.base_url}/admin/tokens")
    page.get_by_label("What it is for").fill("Zapier")
    page.get_by_role("button", name="Create token").click()
    token = page.locator("#new-token").inner_text()
    assert api.anonymous().get("/api/v1/me", headers={
        "Authorization": f"Bearer {token}"}).status_code == 200
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke Zapier").click()
    expect(page.locator("#new-token")).to_have_count(0)
    expect(page.get_by_role("cell", name=re.compile("^Revoked"))).to_be_visible()
    assert api.anonymous().get("/api/v1/me", headers={
        "Authorization": f"Bearer {token}"}).status_code == 401


def test_a_canned_response_goes_into_the_composer(log_in: Callable[..., Page],
                                                  api: Api) -> None:
    customer_writes(api, api.alice, channel=ChannelKind.SMS, name="Aisha Khan",
                    text="Opening hours?")
    page = log_in(api.alice)
    page.goto(f"{api.server.base_url}/admin/canned")
    page.get_by_label("Short code").fill("hours")
    page.get_by_label("Text").fill("Hi {{ contact.first_name }}, we open at 10 — see you! 😊")
    page.get_by_role("button", name="Add canned response").click()
    expect(page.get_by_role("button", name="Save /hours")).to_be_visible()
    page.goto(f"{api.server.base_url}/")
    open_row(page, "Aisha Khan")
    page.get_by_label("Insert a canned response").select_option(label="/hours")
    expect(page.get_by_label("Write your message")).to_have_value(
        "Hi Aisha, we open at 10 — see you! 😊")
    # "—" and the emoji are outside GSM-7: the message goes as UCS-2.
    expect(page.locator("#sms-counter")).to_contain_text("(UCS-2)")


def test_an_admin_sees_the_urls_to_give_a_provider(log_in: Callable[..., Page],
                                                    api: Api) -> None:
    page = log_in(api.alice)
    page.goto(f"{api.server.base_url}/admin/inboxes")
    page.get_by_label("Name", exact=True).fill("Support WhatsApp")
    page.get_by_label("Channel").select_option("whatsapp")
    expect(page.get_by_label("Auth token")).to_be_hidden()  # the default provider has no keys
    page.get_by_label("Provider").select_option("twilio")
    expect(page.get_by_label("API key")).to_be_hidden()  # only the chosen provider's keys show
    page.get_by_label("Address").fill("+14155550100")
    page.get_by_label("Account SID").fill("AC" + "1" * 32)
    page.get_by_label("Auth token").fill("a-twilio-auth-token")
    page.get_by_role("button", name="Create inbox").click()
    row = page.get_by_role("row", name=re.compile("Support WhatsApp"))
    expect(row).to_contain_text("/api/webhooks/inboxes/")
    expect(row).to_contain_text("Status callback")
    expect(row).to_contain_text("Its own keys (sealed)")
    page.get_by_role("heading", name="Inboxes").scroll_into_view_if_needed()
    screenshot(page, "admin-inboxes", publish=True)


def test_the_contact_can_be_edited_beside_the_thread(log_in: Callable[..., Page],
                                                     api: Api) -> None:
    customer_writes(api, api.alice, subject="Invoice", name="Tom")
    page = log_in(api.alice)
    open_row(page, "Invoice")
    page.get_by_role("button", name="Edit contact").click()
    page.get_by_label("Name").fill("Tom Becker")
    page.get_by_label("Emails, phone numbers").fill("maria@example.org\n+14155550177")
    page.get_by_role("button", name="Save contact").click()
    panel = page.locator("#contact-panel")
    expect(panel).to_contain_text("Tom Becker")
    expect(panel).to_contain_text("+14155550177")
    expect(page.locator(".conversation-row", has_text="Tom Becker")).to_be_visible()
