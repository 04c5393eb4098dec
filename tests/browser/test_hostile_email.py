"""A hostile email runs no script in the agent's browser: sanitized on the way in, then shown
only inside a sandboxed frame under a CSP that forbids scripts."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import Dialog, Page, expect

from clientcontact.channels.base import ChannelKind
from clientcontact.contacts.models import IdentityKind
from clientcontact.contacts.service import create_contact
from clientcontact.content.sanitize import sanitize_html
from clientcontact.conversations.inbound import IncomingContent, add_incoming, open_conversation
from clientcontact.inboxes.models import Inbox
from tests.browser.conftest import open_row, screenshot
from tests.builders import inbox_id
from tests.harness import Api
from tests.web.helpers import log_in_http

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "dompurify-xss"
# Ours: each would set window.__xss if it ever ran, wherever it ran.
OWN_PAYLOADS = [
    "<script>top.__xss = 'script'</script><p>Hello from a script tag</p>",
    "<img src=x onerror=\"top.__xss='onerror'\"><p>Broken image</p>",
    "<svg onload=\"top.__xss='svg'\"></svg><a href=\"javascript:top.__xss='link'\">click me</a>",
    "<iframe srcdoc=\"<script>top.__xss='srcdoc'</script>\"></iframe>",
    "<details open ontoggle=\"top.__xss='toggle'\"><summary>x</summary></details>",
    "<style>@import 'http://evil.example/x.css';</style>"
    "<div style=\"background:url(javascript:top.__xss=1)\">styled</div>",
    "<math><mtext><table><mglyph><style><img src=x onerror=\"top.__xss='mxss'\">",
]


def hostile_payloads() -> list[str]:
    """Our own markers plus the corpus's vectors that would fire a dialog or a handler."""
    payloads = list(OWN_PAYLOADS)
    corpus = CORPUS / "xss_vectors.json"
    if corpus.exists():
        vectors = json.loads(corpus.read_text())
        payloads += [v["payload"] for v in vectors
                     if "alert" in v["payload"] or "onerror" in v["payload"].lower()][:25]
    return payloads


def hostile_email(api: Api, payloads: list[str]) -> int:
    with api.session() as session:
        inbox = session.get(Inbox, inbox_id(api, api.alice, ChannelKind.EMAIL))
        assert inbox is not None
        contact = create_contact(session, api.alice.actor, name="Mallory",
                                 identities=[(IdentityKind.EMAIL, "mallory@evil.example")])
        conversation = open_conversation(session, inbox, contact, subject="Invoice attached")
        for number, payload in enumerate(payloads):
            add_incoming(session, conversation, contact, IncomingContent(
                text=f"hostile payload {number}", subject="Invoice attached",
                html=sanitize_html(payload).html, email_message_id=f"<x{number}@evil.example>"))
        return conversation.id


def test_a_hostile_email_runs_no_script(log_in: Callable[..., Page], api: Api) -> None:
    payloads = hostile_payloads()
    hostile_email(api, payloads)
    page = log_in(api.alice)
    dialogs: list[str] = []

    def refuse(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", refuse)
    open_row(page, "Mallory")
    framed = sum(1 for payload in payloads if sanitize_html(payload).html)  # some clean to ""
    frames = page.locator("iframe.email-frame")
    expect(frames).to_have_count(framed)
    for index in range(framed):
        frame = frames.nth(index)
        frame.scroll_into_view_if_needed()
        assert frame.get_attribute("sandbox") == ""  # no allow-scripts, no allow-same-origin
    for frame in page.main_frame.child_frames:  # a javascript: link would run when clicked
        for link in frame.locator("a[href]").all():
            link.click(timeout=2000, no_wait_after=True)
    page.wait_for_timeout(500)
    screenshot(page, "hostile-email")
    assert dialogs == []
    assert page.evaluate("() => window.__xss") is None
    for frame in page.frames:
        assert frame.evaluate("() => window.__xss === undefined ? null : window.__xss") is None


def test_an_email_body_is_served_with_a_script_free_policy(api: Api) -> None:
    conversation_id = hostile_email(api, OWN_PAYLOADS[:1])
    with httpx.Client(base_url=api.server.base_url) as browser:
        log_in_http(browser, api.alice)
        page = browser.get(f"/conversations/{conversation_id}")
        message_id = page.text.split('src="/messages/')[1].split("/body")[0]
        body = browser.get(f"/messages/{message_id}/body")
    policy = body.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert "<script" not in body.text.lower()
    assert "Hello from a script tag" in body.text

