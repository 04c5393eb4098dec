"""Stories of an agent working in the inbox, in a real browser, with nothing reloaded."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Locator, Page, expect

from clientcontact.channels.base import ChannelKind
from tests.browser.conftest import PHONE, open_row, run_worker_off_thread, screenshot
from tests.builders import customer_writes
from tests.fakes.twilio_api import FakeTwilio
from tests.harness import Api
from tests.ingest.stories import email, mail, route
from tests.signing import load_fixture
from tests.webhooks.providers import TWILIO_SID, TWILIO_TOKEN, message, post_twilio, twilio_inbox

TWILIO_WEBHOOK = "/api/webhooks/sms/twilio"
FIXTURE_SID = "SMa1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"  # the reply every status fixture is about


def send(page: Page, text: str) -> Locator:
    """Send a reply from the open conversation; it shows at once, queued for the worker."""
    page.get_by_label("Write your message").fill(text)
    page.get_by_role("button", name="Send").click()
    reply = page.locator(".bubble.outgoing", has_text=text)
    expect(reply.locator(".delivery")).to_contain_text("Queued")
    return reply


def test_logging_in_with_a_wrong_password_says_so(browser: object, api: Api) -> None:
    context = browser.new_context()  # type: ignore[attr-defined]
    page: Page = context.new_page()
    page.goto(f"{api.server.base_url}/")
    expect(page).to_have_url(re.compile(r"/login$"))
    page.get_by_label("Email").fill(api.alice.email)
    page.get_by_label("Password").fill("not my password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert").filter(has_text="Wrong email or password")).to_be_visible()
    screenshot(page, "login", publish=True)
    context.close()


def test_a_customer_message_appears_live_in_the_open_inbox(log_in: Callable[..., Page],
                                                          api: Api) -> None:
    page = log_in(api.alice)
    expect(page.get_by_text("No conversations here.")).to_be_visible()
    customer_writes(api, api.alice, channel=ChannelKind.SMS, name="Aisha Khan",
                    address="+14155550123", text="Is the store open on Sunday?")
    row = page.locator(".conversation-row", has_text="Aisha Khan")
    expect(row).to_be_visible()
    expect(row).to_contain_text("Is the store open on Sunday?")
    expect(row).to_have_class(re.compile("unread"))
    expect(page.locator(".views a", has_text="All")).to_contain_text("1")


def test_a_reply_ticks_to_sent_when_the_worker_sends_it(log_in: Callable[..., Page],
                                                       api: Api) -> None:
    thread = customer_writes(api, api.alice, channel=ChannelKind.SMS, name="Aisha Khan",
                             address="+14155550123", text="Is the store open on Sunday?")
    page = log_in(api.alice)
    open_row(page, "Aisha Khan")
    expect(page).to_have_url(re.compile(f"/conversations/{thread.conversation_id}"))
    page.get_by_label("Write your message").fill("Yes, 10:00 to 16:00.")
    expect(page.locator("#sms-counter")).to_have_text("20 characters · 1 segment (GSM-7)")
    reply = send(page, "Yes, 10:00 to 16:00.")
    expect(page.get_by_label("Write your message")).to_have_value("")
    run_worker_off_thread(api)
    expect(reply.locator(".delivery")).to_contain_text("Sent")
    screenshot(page, "conversation-sms", publish=True)


def test_a_failed_send_shows_the_reason_and_retry_queues_it_again(
        log_in: Callable[..., Page], api: Api) -> None:
    customer_writes(api, api.alice, channel=ChannelKind.SMS, name="Broken Number",
                    address="+15005550001", text="hello?")
    page = log_in(api.alice)
    open_row(page, "Broken Number")
    reply = send(page, "Thanks for writing!")
    run_worker_off_thread(api)
    expect(reply.locator(".delivery")).to_contain_text("Failed")
    expect(reply).to_contain_text("not a valid phone number")
    screenshot(page, "failed-send")
    reply.get_by_role("button", name="Retry").click()
    expect(reply.locator(".delivery")).to_contain_text("Queued")
    run_worker_off_thread(api)
    expect(reply.locator(".delivery")).to_contain_text("Failed")


def test_a_note_stands_apart_from_replies(log_in: Callable[..., Page], api: Api) -> None:
    customer_writes(api, api.alice, subject="Invoice for October", text="Please resend it.")
    page = log_in(api.alice)
    open_row(page, "Invoice for October")
    page.get_by_label("Internal note").check()
    expect(page.get_by_role("button", name="Add note")).to_be_visible()
    page.get_by_label("Write your message").fill("Finance says the VAT number is missing.")
    page.get_by_role("button", name="Add note").click()
    note = page.locator(".message.note", has_text="VAT number is missing")
    expect(note).to_contain_text("Internal note")
    expect(note.locator(".delivery")).to_have_count(0)


def test_assigning_to_a_teammate_puts_it_in_their_mine_view(
        log_in: Callable[..., Page], api: Api) -> None:
    customer_writes(api, api.alice, subject="Damaged lamp", text="The shade is cracked.")
    bob = log_in(api.bob)
    bob.get_by_role("link", name=re.compile("^Mine")).click()
    expect(bob.get_by_text("No conversations here.")).to_be_visible()
    alice = log_in(api.alice)
    open_row(alice, "Damaged lamp")
    alice.get_by_label("Assignee").select_option(label=api.bob.name)
    expect(alice.locator(".activity", has_text=f"assigned to {api.bob.name}")).to_be_visible()
    expect(bob.locator(".conversation-row", has_text="Damaged lamp")).to_be_visible()
    expect(bob.locator(".views a", has_text="Mine")).to_contain_text("1")
    expect(bob).to_have_title(re.compile(r"^\(1\) "))


def test_resolving_moves_it_out_of_the_open_list(log_in: Callable[..., Page], api: Api) -> None:
    customer_writes(api, api.alice, subject="Where is my parcel", text="Tracking is stuck.")
    page = log_in(api.alice)
    open_row(page, "Where is my parcel")
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("#conversation-status")).to_have_text("resolved")
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()
    expect(page.locator(".conversation-row", has_text="Where is my parcel")).to_have_count(0)
    page.get_by_role("button", name="Reopen").click()
    expect(page.locator("#conversation-status")).to_have_text("open")


def test_on_a_phone_the_list_and_the_conversation_take_turns(
        log_in: Callable[..., Page], api: Api) -> None:
    customer_writes(api, api.alice, channel=ChannelKind.WHATSAPP, name="Lucas Silva",
                    address="+5511955550199", text="When will my backpack ship?")
    page = log_in(api.alice, viewport=PHONE)
    screenshot(page, "inbox-phone", publish=True)
    open_row(page, "Lucas Silva")
    expect(page.locator("#wa-window")).to_contain_text("WhatsApp window open")
    expect(page.locator("#list-pane")).to_be_hidden()
    screenshot(page, "conversation-phone", publish=True)


def test_a_text_through_the_twilio_webhook_appears_live(log_in: Callable[..., Page],
                                                        api: Api) -> None:
    """The whole way in: a signed Twilio request, stored raw, handled by the worker, pushed."""
    twilio_inbox(api)
    page = log_in(api.alice)
    assert post_twilio(api, TWILIO_WEBHOOK, "sms_inbound__plain").status_code == 200
    run_worker_off_thread(api)
    row = page.locator(".conversation-row", has_text="Hi, is my order #1042 shipping today?")
    expect(row).to_be_visible()
    expect(row.locator(".channel")).to_have_text("SMS")


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    """Twilio's REST API on loopback, accepting the credentials `twilio_inbox` seals."""
    fake = FakeTwilio(account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN).start()
    yield fake
    fake.stop()


def test_a_reply_ticks_to_delivered_after_twilios_status_callback(
        log_in: Callable[..., Page], api: Api, twilio: FakeTwilio) -> None:
    """Out through the Twilio SDK, back through a signed status callback, all without reload."""
    inbox = twilio_inbox(api, api_base_url=twilio.url)
    assert post_twilio(api, TWILIO_WEBHOOK, "sms_inbound__plain").status_code == 200
    run_worker_off_thread(api)
    page = log_in(api.alice)
    open_row(page, "Hi, is my order #1042 shipping today?")
    reply = send(page, "Yes, it leaves at 3 pm.")
    run_worker_off_thread(api)
    expect(reply.locator(".delivery")).to_contain_text("Sent")
    [sent] = twilio.sent
    assert sent["Body"] == ["Yes, it leaves at 3 pm."]
    assert sent["StatusCallback"] == [api.settings.public_url + inbox.status_path]
    reply_id = int((reply.get_attribute("id") or "").removeprefix("message-"))
    sid = message(api, reply_id).external_id
    assert sid
    callback = load_fixture("twilio", "status__delivered").body.replace(
        FIXTURE_SID.encode(), sid.encode())
    assert post_twilio(api, inbox.status_path, "status__delivered",
                       body=callback).status_code == 200
    run_worker_off_thread(api)  # a no-op where callbacks apply at once
    expect(reply.locator(".delivery")).to_contain_text("Delivered")


def test_a_customer_email_reply_reopens_a_resolved_conversation(log_in: Callable[..., Page],
                                                                api: Api) -> None:
    customer_writes(api, api.alice, subject="Broken lamp", text="The shade is cracked.",
                    email_message_id="<lamp-1@mail.example.org>")
    page = log_in(api.alice)
    open_row(page, "Broken lamp")
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("#conversation-status")).to_have_text("resolved")
    route(api, email(mail(subject="Re: Broken lamp", text="It is still broken, sorry!",
                          in_reply_to="<lamp-1@mail.example.org>",
                          references=["<lamp-1@mail.example.org>"])))
    expect(page.locator("#thread").get_by_text("It is still broken, sorry!")).to_be_visible()
    expect(page.locator("#conversation-status")).to_have_text("open")
    # and it is back in the agent's open list
    expect(page.locator(".conversation-row", has_text="Broken lamp")).to_be_visible()


def test_an_agent_removed_from_the_account_is_sent_to_the_login_page(
        log_in: Callable[..., Page], api: Api) -> None:
    page = log_in(api.bob)
    answer = api.alice.http.delete(f"/api/v1/agents/{api.bob.agent_id}")
    assert answer.status_code == 204
    expect(page).to_have_url(re.compile(r"/login$"), timeout=5_000)
