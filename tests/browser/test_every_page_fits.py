"""Every page of the UI fits a phone's width: nothing lays out wider than the window, so a
timestamp, an unread dot or a button is never off to the side where no one scrolls.

An admin with long names, subjects and unbroken strings everywhere visits each page in
`SCREENS` at 360, 390 and 414 px and on a laptop. A page added to the UI gets a line there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from clientcontact.accounts import service as accounts
from clientcontact.accounts.invitations import invite
from clientcontact.accounts.models import Account, Role
from clientcontact.accounts.teams import create_team
from clientcontact.canned.service import save_canned
from clientcontact.channels.base import ChannelKind
from clientcontact.contacts.models import IdentityKind
from clientcontact.contacts.service import create_contact
from clientcontact.conversations.inbound import IncomingContent, add_incoming, open_conversation
from clientcontact.conversations.service import update_conversation
from clientcontact.db.base import utcnow
from clientcontact.inboxes.models import Inbox
from clientcontact.inboxes.service import create_inbox
from tests.browser.conftest import assert_fits_width, screenshot
from tests.builders import customer_writes, inbox_id
from tests.harness import PASSWORD, Api

WIDTHS = [360, 390, 414, 1366]
UNBROKEN = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 3
LONG_NAME = "Maximiliana Wolfeschlegelsteinhausenbergerdorff-Habsburg-Lothringen"
LONG_URL = "https://tracking.example.com/parcels/" + "0123456789abcdef" * 8 + "?utm_source=mail"
WIDE_HTML = (
    f"<p>Hello, my parcel {LONG_URL} never came.</p>"
    "<table width='900' border='1'><tr>" + "<td>Order line with several words</td>" * 6 +
    "</tr></table>"
    f"<pre>curl -X POST {LONG_URL} --data '{UNBROKEN}'</pre>"
    f"<p><code>{UNBROKEN}</code></p>")


@dataclass
class World:
    """The account as a busy team's looks: what each page shows is long somewhere."""
    email: int = 0
    sms: int = 0
    whatsapp: int = 0
    invitation_token: str = ""


def long_content_world(api: Api) -> World:
    world = World()
    long_agent = f"{LONG_NAME} the Second"
    email_inbox = inbox_id(api, api.alice, ChannelKind.EMAIL)
    with api.session() as session:
        account = session.get_one(Account, api.alice.actor.account_id)
        agent = accounts.create_agent(session, email=f"{'m' * 60}@{'example-' * 6}test.org",
                                      name=long_agent, password=PASSWORD)
        accounts.add_member(session, account, agent, Role.AGENT)
        create_team(session, api.alice.actor, "Customer-Success-and-Escalations-" + UNBROKEN[:40],
                    [agent.id])
        create_inbox(session, api.alice.actor, name="Support for " + UNBROKEN[:60],
                     channel=ChannelKind.EMAIL, provider="mock",
                     address=f"{'support-' * 6}team@{'subsidiary-' * 4}example.com")
        save_canned(session, api.alice.actor, short_code="a" + "-very-long-short-code" * 2,
                    content=f"Hi {{{{ contact.first_name }}}}, track it at {LONG_URL}")
        accounts.create_api_token(session, api.alice.actor, "Zapier " + UNBROKEN[:50])
        _, world.invitation_token = invite(session, api.alice.actor, name=LONG_NAME,
                                           email=f"{'x' * 50}@example.org", role=Role.AGENT)
        contact = create_contact(session, api.alice.actor, name=LONG_NAME,
                                 identities=[(IdentityKind.EMAIL,
                                              f"{'maximiliana.' * 4}w@example.org")],
                                 notes=f"Prefers email. {UNBROKEN}")
        inbox = session.get_one(Inbox, email_inbox)
        subject = f"Re: Fwd: {UNBROKEN} order 1234567890 arrived damaged and late again"
        conversation = open_conversation(session, inbox, contact, subject=subject)
        add_incoming(session, conversation, contact, IncomingContent(
            text=f"Hello, {UNBROKEN}\n{LONG_URL}", subject=subject, html=WIDE_HTML,
            full_text=f"Hello\n\nOn Monday someone wrote:\n> {UNBROKEN} {LONG_URL}",
            email_message_id="<long@mail.example.org>"))
        update_conversation(session, api.alice.actor, conversation.id, {
            "assignee_id": agent.id, "priority": "urgent",
            "tags": ["billing", "escalated-" + UNBROKEN[:40]]})
        world.email = conversation.id
    world.sms = customer_writes(api, api.alice, channel=ChannelKind.SMS, name=UNBROKEN[:70],
                                text=f"{UNBROKEN} {LONG_URL}").conversation_id
    world.whatsapp = customer_writes(api, api.alice, channel=ChannelKind.WHATSAPP,
                                     name="Omar " + UNBROKEN[:40], address="+14155550177",
                                     text=UNBROKEN, at=utcnow() - timedelta(days=2)
                                     ).conversation_id
    return world


@dataclass(frozen=True)
class Screen:
    """A page as someone reaches it: its address, what they do there, what they must see."""
    name: str
    path: Callable[[World], str]
    logged_in: bool = True
    act: Callable[[Page], None] | None = None
    must_see: list[str] = field(default_factory=list)  # CSS selectors, each inside the window


def _open(summary: str) -> Callable[[Page], None]:
    return lambda page: page.locator("summary", has_text=summary).first.click()


def _type_slash(page: Page) -> None:
    page.get_by_label("Write your message").fill("Thanks! /a")
    expect(page.locator("#canned-listbox")).to_be_visible()


def _edit_contact(page: Page) -> None:
    """Beside the thread on a wide screen; a phone shows the thread alone."""
    edit = page.get_by_role("button", name="Edit contact")
    if edit.is_visible():
        edit.click()
        expect(page.get_by_label("Notes")).to_be_visible()


def _shortcuts(page: Page) -> None:
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()


SCREENS = [
    Screen("login", lambda w: "/login", logged_in=False, must_see=["button.primary"]),
    Screen("invitation", lambda w: f"/invitations/{w.invitation_token}", logged_in=False,
           must_see=["button.primary"]),
    Screen("inbox", lambda w: "/", must_see=[".conversation-row time", ".unread-dot",
                                             ".views a"]),
    Screen("inbox filters", lambda w: "/", act=_open("Filters"),
           must_see=["#filters select"]),
    Screen("email conversation", lambda w: f"/conversations/{w.email}",
           must_see=["#resolve-button", "#send-button", ".email-subject", ".email-frame"]),
    Screen("quoted text", lambda w: f"/conversations/{w.email}", act=_open("Show quoted text"),
           must_see=[".quoted pre"]),
    Screen("snooze", lambda w: f"/conversations/{w.email}", act=_open("Snooze"),
           must_see=["#snooze-until"]),
    Screen("canned typeahead", lambda w: f"/conversations/{w.email}", act=_type_slash,
           must_see=["#canned-listbox [aria-selected=true]", "#canned-preview"]),
    Screen("contact edit", lambda w: f"/conversations/{w.email}", act=_edit_contact),
    Screen("shortcuts", lambda w: "/", act=_shortcuts, must_see=["#shortcuts dt"]),
    Screen("sms conversation", lambda w: f"/conversations/{w.sms}",
           must_see=[".bubble-meta time", "#sms-counter", "#send-button"]),
    Screen("whatsapp template", lambda w: f"/conversations/{w.whatsapp}",
           must_see=["#template-sid", ".add-variable", "#send-button"]),
    Screen("admin inboxes", lambda w: "/admin/inboxes", must_see=["nav.tabs a"]),
    Screen("admin agents", lambda w: "/admin/agents", must_see=["#invite-email"]),
    Screen("admin teams", lambda w: "/admin/teams", must_see=["#team-name"]),
    Screen("admin tokens", lambda w: "/admin/tokens", must_see=["#token-name"]),
    Screen("admin canned", lambda w: "/admin/canned", must_see=["#canned-code"]),
    Screen("password", lambda w: "/account/password", must_see=["button.primary"]),
    Screen("api docs", lambda w: "/docs", must_see=[".opblock-summary"]),
    Screen("not found", lambda w: "/conversations/999999999"),
]

# What sticks out: an element past the window's right edge that no ancestor clips, and a box
# that scrolls sideways inside the page (a form field scrolling its own text is fine).
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (typeof el.className === "string" && el.className
      ? "." + el.className.trim().split(/\\s+/).join(".") : "");
  const clipped = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== "visible") return true;
    }
    return false;
  };
  const found = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (!el.checkVisibility({visibilityProperty: true})) continue;
    const style = getComputedStyle(el);
    if (style.clip !== "auto") continue; // visually hidden, for screen readers
    if (["auto", "scroll"].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1 &&
        !el.matches("input, textarea, select")) {
      found.push(name(el) + " scrolls sideways (" + el.scrollWidth + " > " + el.clientWidth + ")");
    }
    const right = el.getBoundingClientRect().right;
    if (right > width + 1 && !clipped(el)) found.push(name(el) + " ends at " + Math.round(right));
  }
  return found.slice(0, 10);
}"""


def assert_nothing_sticks_out(page: Page, screen: str) -> None:
    assert_fits_width(page)
    found = page.evaluate(OVERFLOWING)
    assert found == [], f"{screen}: {found}"


def assert_in_view(page: Page, selector: str) -> None:
    """Every match is shown and lies inside the window's width."""
    matches = page.locator(selector)
    expect(matches.first).to_be_visible()
    width = page.viewport_size["width"] if page.viewport_size else 0
    for index in range(matches.count()):
        box = matches.nth(index).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1, (
            f"{selector} #{index} lies at {box} in a {width} px window")


def _email_frame_fits(page: Page) -> None:
    """The email's own page (in its frame) wraps to the frame's width too."""
    element = page.locator(".email-frame").first
    element.scroll_into_view_if_needed()  # the frame loads lazily
    handle = element.element_handle()
    frame = handle.content_frame() if handle else None
    assert frame is not None
    frame.wait_for_url(re.compile(r"/messages/\d+/body$"))
    frame.wait_for_load_state()
    widths = frame.evaluate("() => [document.documentElement.scrollWidth,"
                            " document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"the email is {widths[0]} px wide in a {widths[1]} px frame"


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_the_window(width: int, browser: object, log_in: Callable[..., Page],
                                    api: Api) -> None:
    world = long_content_world(api)
    viewport = {"width": width, "height": 800}
    visitor = browser.new_context(viewport=viewport)  # type: ignore[attr-defined]
    try:
        anonymous = visitor.new_page()
        admin = log_in(api.alice, viewport=viewport)
        for screen in SCREENS:
            page = admin if screen.logged_in else anonymous
            page.goto(api.server.base_url + screen.path(world))
            page.wait_for_load_state()
            if screen.act:
                screen.act(page)
            for selector in screen.must_see:
                assert_in_view(page, selector)
            assert_nothing_sticks_out(page, screen.name)
            if screen.name == "email conversation":
                _email_frame_fits(page)
            screenshot(page, f"fits-{width}-{screen.name.replace(' ', '-')}")
    finally:
        visitor.close()
