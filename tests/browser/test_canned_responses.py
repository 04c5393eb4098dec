"""Canned responses in a real browser: "/" in the composer offers them as one types, filled in
for this conversation; the admin page refuses a placeholder it cannot fill and asks before
deleting."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Dialog, Page, expect

from clientcontact.canned.service import list_canned, save_canned
from clientcontact.channels.base import ChannelKind
from tests.browser.conftest import LAPTOP, PHONE, assert_fits_width, open_row, screenshot
from tests.builders import customer_writes
from tests.harness import Api

SIZES = pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])


def _answers(api: Api) -> None:
    with api.session() as session:
        for code, content in (
                ("hours", "Hi {{ contact.first_name }}, we open at 10 — see you! 😊"),
                ("refund", "Your refund is on its way, {{ contact.name }}."),
                ("shipping", "It ships within two days."),
                ("thanks", "Thanks for writing, {{ contact.first_name }}!")):
            save_canned(session, api.alice.actor, short_code=code, content=content)


@SIZES
def test_slash_offers_canned_responses_by_keyboard(viewport: dict[str, int],
                                                   log_in: Callable[..., Page], api: Api) -> None:
    _answers(api)
    customer_writes(api, api.alice, channel=ChannelKind.SMS, name="Aisha Khan",
                    text="When do you open, and where is my refund?")
    page = log_in(api.alice, viewport=viewport)
    open_row(page, "Aisha Khan")
    text = page.get_by_label("Write your message")
    listbox = page.get_by_role("listbox", name="Canned responses")

    text.press_sequentially("Sure! /")
    expect(listbox).to_be_visible()
    expect(page.get_by_role("combobox", name="Write your message")).to_have_attribute(
        "aria-expanded", "true")
    expect(listbox.get_by_role("option")).to_have_count(4)
    text.press_sequentially("h")  # the codes with an h, the one that starts with it first
    options = listbox.get_by_role("option")
    expect(options).to_have_count(3)
    expect(options.nth(0)).to_contain_text("/hours")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    expect(options.nth(1)).to_contain_text("/shipping")
    expect(options.nth(2)).to_contain_text("/thanks")
    preview = page.locator("#canned-preview")
    expect(preview).to_have_text("Hi Aisha, we open at 10 — see you! 😊")
    text.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(preview).to_have_text("It ships within two days.")
    text.press("ArrowUp")
    text.press("ArrowUp")  # round to the last
    expect(options.nth(2)).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("combobox", name="Write your message")).to_have_attribute(
        "aria-activedescendant", options.nth(2).get_attribute("id") or "?")
    if viewport is PHONE:
        assert_fits_width(page)
    screenshot(page, f"canned-typeahead-{'phone' if viewport is PHONE else 'laptop'}")
    text.press("Enter")
    expect(text).to_have_value("Sure! Thanks for writing, Aisha!")
    expect(listbox).to_be_hidden()
    expect(page.get_by_role("textbox", name="Write your message")).to_be_focused()

    # Escape closes the list and leaves what was typed; the next "/" opens it again.
    text.press_sequentially(" /re")
    expect(listbox.get_by_role("option")).to_have_count(1)
    text.press("Escape")
    expect(listbox).to_be_hidden()
    expect(text).to_be_focused()
    text.press_sequentially("f")
    expect(listbox).to_be_hidden()
    text.press_sequentially(" /ho")
    expect(listbox.get_by_role("option", name="/hours")).to_be_visible()
    text.press("Tab")
    expect(text).to_have_value(
        "Sure! Thanks for writing, Aisha! /ref Hi Aisha, we open at 10 — see you! 😊")
    expect(page.locator("#sms-counter")).to_contain_text("(UCS-2)")  # counted as it went in


def test_a_slash_inside_a_word_is_just_a_slash(log_in: Callable[..., Page], api: Api) -> None:
    _answers(api)
    customer_writes(api, api.alice, name="Maria Garcia")
    page = log_in(api.alice)
    open_row(page, "Maria Garcia")
    text = page.get_by_label("Write your message")
    text.press_sequentially("Open 10/16 and/or ")
    expect(page.get_by_role("listbox", name="Canned responses")).to_be_hidden()
    text.press("Enter")  # a new line, nothing chosen
    expect(text).to_have_value("Open 10/16 and/or \n")


@SIZES
def test_an_unknown_placeholder_is_refused_with_the_known_ones(
        viewport: dict[str, int], log_in: Callable[..., Page], api: Api) -> None:
    page = log_in(api.alice, viewport=viewport)
    page.goto(f"{api.server.base_url}/admin/canned")
    page.get_by_label("Short code").fill("hello")
    page.get_by_label("Text").fill("Hi {{ contact.frist_name }}!")
    page.get_by_role("button", name="Add canned response").click()
    error = page.locator("#admin-main .form-error")
    expect(error).to_have_text(
        "unknown placeholder {{ contact.frist_name }}: the known placeholders are "
        "{{ contact.name }}, {{ contact.first_name }}, {{ agent.name }}, {{ agent.first_name }}")
    expect(page.get_by_label("Text")).to_have_value("Hi {{ contact.frist_name }}!")  # kept
    if viewport is PHONE:
        assert_fits_width(page)
    page.get_by_label("Text").fill("Hi {{ contact.first_name }}!")
    expect(error).to_be_hidden()  # being corrected
    page.get_by_role("button", name="Add canned response").click()
    expect(page.get_by_role("button", name="Save /hello")).to_be_visible()


@SIZES
def test_deleting_a_canned_response_asks_first(viewport: dict[str, int],
                                               log_in: Callable[..., Page], api: Api) -> None:
    _answers(api)
    page = log_in(api.alice, viewport=viewport)
    page.goto(f"{api.server.base_url}/admin/canned")
    asked: list[str] = []

    def answer(dialog: Dialog, accept: bool) -> None:
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    page.get_by_role("button", name="Delete /hours").click()
    expect(page.get_by_role("button", name="Save /hours")).to_be_visible()
    assert asked == ["Delete the canned response /hours? Agents can no longer insert it; "
                     "replies already sent keep their text."]
    page.once("dialog", lambda dialog: answer(dialog, True))
    page.get_by_role("button", name="Delete /hours").click()
    expect(page.get_by_role("button", name="Save /hours")).to_have_count(0)
    with api.session() as session:
        assert [c.short_code for c in list_canned(session, api.alice.actor)] == [
            "refund", "shipping", "thanks"]
    if viewport is PHONE:
        assert_fits_width(page)
