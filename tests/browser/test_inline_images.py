"""An email's inline images (`cid:` parts) show in its sandboxed body, served from this site
to this account only; remote images stay blocked until asked for."""

from __future__ import annotations

import html
import re
import struct
import zlib
from collections.abc import Callable

import httpx
from playwright.sync_api import Page, expect

from clientcontact.channels.base import ChannelKind
from clientcontact.contacts.models import IdentityKind
from clientcontact.contacts.service import create_contact
from clientcontact.content.sanitize import sanitize_html
from clientcontact.conversations.inbound import IncomingContent, add_incoming, open_conversation
from clientcontact.conversations.models import Attachment
from clientcontact.inboxes.models import Inbox
from tests.browser.conftest import open_row, screenshot
from tests.builders import inbox_id
from tests.harness import Api
from tests.web.helpers import log_in_http


def tiny_png(width: int = 3, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def email_with_inline_logo(api: Api) -> tuple[int, int]:
    """(message id, attachment id) of an email whose body shows cid:logo@x."""
    html = sanitize_html('<p>Our new logo:</p><img src="cid:logo@x" alt="Acme logo">'
                         '<img src="https://tracker.example/pixel.gif" alt="pixel">').html
    with api.session() as session:
        inbox = session.get(Inbox, inbox_id(api, api.alice, ChannelKind.EMAIL))
        assert inbox is not None
        contact = create_contact(session, api.alice.actor, name="Lena Logo",
                                 identities=[(IdentityKind.EMAIL, "lena@example.org")])
        conversation = open_conversation(session, inbox, contact, subject="Branding")
        message = add_incoming(session, conversation, contact, IncomingContent(
            text="Our new logo:", subject="Branding", html=html,
            email_message_id="<logo@mail.example.org>"))
        attachment = Attachment(
            account_id=inbox.account_id, message_id=message.id, filename="logo.png",
            content_type="image/png", size=len(tiny_png()), content_id="logo@x", inline=True,
            storage_key=api.server.runtime.store.put(inbox.account_id, tiny_png()))
        session.add(attachment)
        session.flush()
        return message.id, attachment.id


def test_an_inline_image_shows_in_the_email_body(log_in: Callable[..., Page], api: Api) -> None:
    _, attachment_id = email_with_inline_logo(api)
    page = log_in(api.alice)
    open_row(page, "Lena Logo")
    frame_element = page.locator("iframe.email-frame")
    expect(frame_element).to_have_count(1)
    frame = page.frame_locator("iframe.email-frame")
    logo = frame.locator('img[alt="Acme logo"]')
    expect(logo).to_have_attribute("src", re.compile(f"^/attachments/{attachment_id}\\?exp="))
    logo.evaluate("img => img.complete || new Promise(done => img.onload = img.onerror = done)")
    assert logo.evaluate("img => img.naturalWidth") == 3
    # The tracking pixel is still held back until the agent asks for images.
    assert frame.locator('img[alt="pixel"]').get_attribute("src") is None
    expect(page.get_by_role("link", name="Show images")).to_be_visible()
    screenshot(page, "inline-image")


def test_an_inline_image_is_this_accounts_only(api: Api) -> None:
    """The frame is sandboxed (no login cookie reaches the image), so the body links a signed
    URL; a logged-in agent of another account still gets 404 for it."""
    message_id, attachment_id = email_with_inline_logo(api)
    with httpx.Client(base_url=api.server.base_url) as alice:
        log_in_http(alice, api.alice)
        body = alice.get(f"/messages/{message_id}/body")
        found = re.search(r'src="(/attachments/[^"]+)"', body.text)
        assert found is not None
        url = html.unescape(found.group(1))
        assert url.startswith(f"/attachments/{attachment_id}?")
        images = body.headers["content-security-policy"].split("img-src")[1].split(";")[0]
        assert "'self'" in images and "https:" not in images
        image = alice.get(url)
        assert image.status_code == 200 and image.content == tiny_png()
        assert image.headers["content-type"] == "image/png"
        assert image.headers["x-content-type-options"] == "nosniff"
        assert image.headers["content-disposition"].startswith("inline")
        assert alice.get(f"/attachments/{attachment_id}").status_code == 200
    with httpx.Client(base_url=api.server.base_url) as carol:
        log_in_http(carol, api.carol)
        assert carol.get(url).status_code == 404
        assert carol.get(f"/attachments/{attachment_id}").status_code == 404
        assert carol.get(f"/messages/{message_id}/body").status_code == 404
    with api.anonymous() as frame:  # what the sandboxed frame sends: no cookie
        assert frame.get(url).status_code == 200
        assert frame.get(url.replace("sig=", "sig=0")).status_code == 404
        assert frame.get(f"/attachments/{attachment_id}").status_code == 303


def test_only_images_are_shown_inline(api: Api) -> None:
    _, attachment_id = email_with_inline_logo(api)
    with api.session() as session:
        attachment = session.get(Attachment, attachment_id)
        attachment.content_type = "image/svg+xml"
    with httpx.Client(base_url=api.server.base_url) as alice:
        log_in_http(alice, api.alice)
        served = alice.get(f"/attachments/{attachment_id}")
    assert served.headers["content-disposition"].startswith("attachment")
    assert served.headers["content-type"] == "application/octet-stream"
    assert served.headers["x-content-type-options"] == "nosniff"
